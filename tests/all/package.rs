//! scripts/package's Debian package, installed as dpkg installs it: into a
//! scratch root with its own dpkg database (`dpkg --root`), so the test
//! needs no container and leaves the machine alone. Maintainer scripts run
//! without chroot (`--force-script-chrootless`, with DPKG_ROOT set, which
//! the postinst honours); `--force-depends` because the scratch root has
//! no libc6 record (the binary runs on this machine's libc, the one the
//! package's Depends line is computed from). Then what an administrator
//! does: `sigaudit config check`, configure, run the service's ExecStart.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds the .deb from the binary under test and installs it in `root`.
fn install(root: &Path, out: &Path) -> PathBuf {
    let made = run(Command::new(root_dir().join("scripts/package"))
        .arg("--bin")
        .arg(env!("CARGO_BIN_EXE_sigaudit"))
        .arg("--out")
        .arg(out));
    assert_eq!(code(&made), 0, "{}{}", text(&made.stdout), text(&made.stderr));
    let said = text(&made.stdout);
    assert!(
        said.contains("no Windows zip") || said.contains(".zip"),
        "the Windows part is said either way: {said}"
    );
    // Where the Windows build exists (scripts/test makes it before the
    // tests), the zip holds what an agency needs: the .exe, both READMEs
    // and the double-clickable .cmd.
    let exe = root_dir().join("target/windows/x86_64-pc-windows-gnu/release/sigaudit.exe");
    if exe.exists() {
        let zip = std::fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "zip"))
            .expect("a Windows zip beside the .deb");
        let listing = text(&run(Command::new("unzip").arg("-l").arg(&zip)).stdout);
        for part in ["sigaudit.exe", "README.md", "README.vi.md", "sigaudit-scan.cmd"] {
            assert!(listing.contains(part), "{part} not in the zip:\n{listing}");
        }
    } else {
        common::skip(
            "package::the Windows zip's contents",
            "no Windows build in target/windows (scripts/test makes it)",
        );
    }
    let deb = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("a .deb");
    for d in ["var/lib/dpkg/info", "var/lib/dpkg/updates"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    dpkg_install(root, &deb, &[]);
    deb
}

fn dpkg_install(root: &Path, deb: &Path, extra: &[&str]) {
    let mut cmd = Command::new("dpkg");
    cmd.arg(format!("--root={}", root.display()))
        .args(["--force-script-chrootless", "--force-depends", "--force-not-root"])
        .args(extra)
        .arg("-i")
        .arg(deb);
    let out = run(&mut cmd);
    assert_eq!(code(&out), 0, "{}{}", text(&out.stdout), text(&out.stderr));
}

fn root_dir() -> PathBuf {
    root()
}

/// The service's command line, with the package's absolute paths moved
/// into the scratch root.
fn exec_start(root: &Path) -> Vec<String> {
    let unit =
        std::fs::read_to_string(root.join("usr/lib/systemd/system/sigaudit.service")).unwrap();
    let line =
        unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("ExecStart in the service");
    assert_eq!(line, "/usr/bin/sigaudit scan --config /etc/sigaudit/sigaudit.toml");
    line.split_whitespace()
        .map(|w| {
            w.strip_prefix('/')
                .map_or_else(|| w.to_owned(), |abs| root.join(abs).display().to_string())
        })
        .collect()
}

#[test]
fn the_deb_installs_checks_its_configuration_and_runs_the_services_scan() {
    if !have("dpkg-deb") || !have("dpkg") {
        // scripts/test runs on Debian, where dpkg is always present.
        panic!("dpkg and dpkg-deb are needed to build and install the package");
    }
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let deb = install(&root, &work.path().join("out"));

    // dpkg knows the package and its conffile.
    let q = run(Command::new("dpkg-query").arg(format!("--root={}", root.display())).args([
        "-W",
        "-f=${Status}|${Conffiles}",
        "sigaudit",
    ]));
    let q = text(&q.stdout);
    assert!(q.starts_with("install ok installed|"), "{q}");
    assert!(q.contains("/etc/sigaudit/sigaudit.toml "), "the configuration is a conffile: {q}");

    // Man pages and completions, generated from the command line's definition.
    for page in [
        "sigaudit.1.gz",
        "sigaudit-scan.1.gz",
        "sigaudit-config-check.1.gz",
        "sigaudit-report.1.gz",
    ] {
        let p = root.join("usr/share/man/man1").join(page);
        let out = run(Command::new("gzip").arg("-dc").arg(&p));
        let roff = text(&out.stdout);
        assert!(roff.contains(".TH sigaudit"), "{page}: {roff:.200}");
        if page == "sigaudit-scan.1.gz" {
            assert!(roff.contains("config"), "scan's page documents --config");
        }
    }
    assert!(
        !root.join("usr/share/man/man1/sigaudit-help.1.gz").exists(),
        "no page for clap's help subcommand"
    );
    let bash = root.join("usr/share/bash-completion/completions/sigaudit");
    let loaded = run(Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p sigaudit", bash.display())));
    assert_eq!(code(&loaded), 0, "{}", text(&loaded.stderr));
    assert!(text(&loaded.stdout).contains("sigaudit"), "{}", text(&loaded.stdout));
    assert!(std::fs::read_to_string(&bash).unwrap().contains("--config"));
    assert!(
        std::fs::read_to_string(root.join("usr/share/zsh/vendor-completions/_sigaudit"))
            .unwrap()
            .contains("--config")
    );
    assert!(
        std::fs::read_to_string(root.join("usr/share/fish/vendor_completions.d/sigaudit.fish"))
            .unwrap()
            .contains("config")
    );

    // The units as systemd reads them: no misspelled key or section (the
    // scratch root has no systemd of its own, so only its targets are missing).
    if have("systemd-analyze") {
        let verify = run(Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(format!("--root={}", root.display()))
            .args(["sigaudit.service", "sigaudit.timer"]));
        let said = format!("{}{}", text(&verify.stdout), text(&verify.stderr));
        let problems: Vec<&str> =
            said.lines().filter(|l| !l.contains("sysinit.target not found")).collect();
        assert!(problems.is_empty(), "{said}");
    }
    // Installed disabled: nothing runs until the administrator enables the timer.
    assert!(!root.join("etc/systemd/system/timers.target.wants/sigaudit.timer").exists());
    if have("systemctl") {
        let enabled = run(Command::new("systemctl")
            .arg(format!("--root={}", root.display()))
            .args(["is-enabled", "sigaudit.timer"]));
        assert_eq!(text(&enabled.stdout).trim(), "disabled", "{}", text(&enabled.stderr));
    }

    // The configuration as installed is valid and says that it names nothing yet;
    // the service's scan refuses to run on it (exit 1).
    let sigaudit = root.join("usr/bin/sigaudit");
    let config = root.join("etc/sigaudit/sigaudit.toml");
    let checked = run(Command::new(&sigaudit).args(["config", "check"]).arg(&config));
    assert_eq!(code(&checked), 0, "{}", text(&checked.stderr));
    assert!(text(&checked.stderr).contains("no sources yet"), "{}", text(&checked.stderr));
    let argv = exec_start(&root);
    let unconfigured = run(Command::new(&argv[0]).args(&argv[1..]));
    assert_eq!(code(&unconfigured), 1);
    assert!(
        text(&unconfigured.stderr).contains("no SOURCE to scan"),
        "{}",
        text(&unconfigured.stderr)
    );

    // The administrator names the share (here samples/share, reports in the scratch root).
    let state = root.join("var/lib/sigaudit");
    let edited = std::fs::read_to_string(&config)
        .unwrap()
        .replace(
            "sources = [\n",
            &format!("sources = [\n  \"{}\",\n", root_dir().join("samples/share").display()),
        )
        .replace("\"/var/lib/sigaudit/", &format!("\"{}/", state.display()))
        .replace(
            "# rules = \"rules\"",
            &format!("rules = \"{}\"", root_dir().join("samples/rules").display()),
        );
    std::fs::write(&config, &edited).unwrap();
    let checked = run(Command::new(&sigaudit).args(["config", "check"]).arg(&config));
    assert_eq!(code(&checked), 0, "{}", text(&checked.stderr));
    assert!(
        text(&checked.stdout).contains("config ok:")
            && text(&checked.stdout).contains("1 source(s)"),
        "{}",
        text(&checked.stdout)
    );

    // One run of the timer's command: exit 0, or 2 (some inputs unreadable,
    // which the unit counts as success: samples/share holds broken files).
    let ran = run(Command::new(&argv[0]).args(&argv[1..]));
    assert!(matches!(code(&ran), 0 | 2), "{}{}", text(&ran.stdout), text(&ran.stderr));
    let unit =
        std::fs::read_to_string(root.join("usr/lib/systemd/system/sigaudit.service")).unwrap();
    assert!(unit.contains("SuccessExitStatus=2"));
    check_report(&state.join("report"));
    assert!(state.join("sigaudit.db").exists(), "the history the configuration names");
    // The same signatures as the same scan typed on a command line.
    let typed = run(bin()
        .arg("scan")
        .arg(root_dir().join("samples/share"))
        .arg("--rules")
        .arg(root_dir().join("samples/rules"))
        .arg("--no-db")
        .arg("--out")
        .arg(work.path().join("typed")));
    assert!(matches!(code(&typed), 0 | 2));
    let rows = |d: &Path| std::fs::read_to_string(d.join("signatures.csv")).unwrap();
    assert_eq!(rows(&state.join("report")), rows(&work.path().join("typed")));
    let runs = run(Command::new(&sigaudit)
        .args(["report", "--list", "--db"])
        .arg(state.join("sigaudit.db")));
    assert!(
        text(&runs.stdout).contains("monthly audit"),
        "the configuration's label: {}",
        text(&runs.stdout)
    );

    // An upgrade keeps the administrator's configuration (a conffile).
    dpkg_install(&root, &deb, &["--force-confold"]);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);
}
