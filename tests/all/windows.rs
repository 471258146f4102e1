//! The Windows build (x86_64-pc-windows-gnu, cross-compiled with mingw-w64
//! by scripts/test) run under Wine: it scans samples/share as the Linux
//! binary does, `inspect` and `rules check` run, Vietnamese folder names
//! work, and it leaves the scanned files' access times alone.
//!
//! Debian's Wine 8 has no bcryptprimitives.dll (Rust's std imports
//! ProcessPrng from it): scripts/wine-stub/build makes a stand-in that
//! forwards to advapi32's RtlGenRandom, placed beside the .exe.

use crate::common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::*;

/// Where scripts/test builds the Windows binary.
fn windows_target() -> PathBuf {
    root().join("target/windows")
}

/// The folder holding sigaudit.exe and the stub DLL, prepared once per
/// run; None (with the reason) when the build or Wine is missing.
fn prepared() -> Result<&'static Path, String> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::var_os("SIGAUDIT_WINDOWS_EXE").map_or_else(
            || windows_target().join("x86_64-pc-windows-gnu/release/sigaudit.exe"),
            PathBuf::from,
        );
        if !exe.is_file() {
            return Err(format!(
                "no Windows build at {} (scripts/test builds it: cargo build --release --target \
                 x86_64-pc-windows-gnu)",
                exe.display()
            ));
        }
        if Command::new("wine").arg("--version").output().is_err() {
            return Err("no wine (apt-get install wine wine64)".into());
        }
        let dir = windows_target().join("wine-run");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&exe, dir.join("sigaudit.exe")).unwrap();
        let stub = Command::new(root().join("scripts/wine-stub/build"))
            .arg(&dir)
            .output()
            .map_err(|e| format!("scripts/wine-stub/build: {e}"))?;
        if !stub.status.success() {
            return Err(format!(
                "scripts/wine-stub/build (needs gcc-mingw-w64-x86-64): {}",
                text(&stub.stderr)
            ));
        }
        Ok(dir)
    })
    .as_ref()
    .map(PathBuf::as_path)
    .map_err(Clone::clone)
}

/// `wine sigaudit.exe ARGS` in `cwd`, with its own Wine prefix (made on
/// first use) and no anchors folder of the user's.
fn wine(args: &[&OsStr], cwd: &Path) -> Output {
    let dir = prepared().unwrap();
    let mut cmd = Command::new("wine");
    cmd.arg(dir.join("sigaudit.exe"))
        .args(args)
        .current_dir(cwd)
        .env("WINEPREFIX", windows_target().join("wineprefix"))
        .env("WINEDEBUG", "-all")
        // No Mono or Gecko install prompts: a console program needs neither.
        .env("WINEDLLOVERRIDES", "mscoree=;mshtml=")
        .env("SIGAUDIT_ANCHORS", r"Z:\nonexistent\sigaudit-test-anchors")
        // Wine turns the Unix command line into UTF-16 by the locale.
        .env("LANG", "C.UTF-8")
        .env_remove("DISPLAY");
    cmd.output().expect("wine runs")
}

/// `path` as Windows sees it under Wine (drive Z: is /).
fn z(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

fn ready(test: &str) -> bool {
    match prepared() {
        Ok(_) => true,
        Err(why) => {
            skip(test, &why);
            false
        }
    }
}

/// Rows of a report CSV as sorted lines, with `\` in the path columns
/// made `/`: the Windows paths are the Linux ones with the other separator.
fn normalised_rows(csv: &Path, path_columns: &[&str]) -> Vec<String> {
    let rows = read_csv(csv);
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut cols: Vec<(&String, String)> = r
                .iter()
                .map(|(k, v)| {
                    (
                        k,
                        if path_columns.contains(&k.as_str()) {
                            v.replace('\\', "/")
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect();
            cols.sort();
            cols.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" | ")
        })
        .collect();
    lines.sort();
    lines
}

fn scan_both(source_unix: &str, extra: &[&str]) -> (Output, Output, tempfile::TempDir) {
    let root = root();
    let tmp = tempfile::tempdir().unwrap();
    let linux = run(bin()
        .current_dir(&root)
        .arg("scan")
        .arg(source_unix)
        .arg("--out")
        .arg(tmp.path().join("linux"))
        .args(extra));
    let mut args: Vec<&OsStr> = vec![OsStr::new("scan")];
    let source_win = source_unix.replace('/', "\\");
    let extra_win: Vec<String> = extra.iter().map(|a| a.replace('/', "\\")).collect();
    let out_win = z(&tmp.path().join("windows"));
    args.push(OsStr::new(&source_win));
    args.extend([OsStr::new("--out"), OsStr::new(&out_win)]);
    args.extend(extra_win.iter().map(OsStr::new));
    let windows = wine(&args, &root);
    (linux, windows, tmp)
}

#[test]
fn windows_build_scans_samples_like_linux() {
    if !ready("windows_build_scans_samples_like_linux") {
        return;
    }
    let (linux, windows, tmp) = scan_both("samples/share", &["--rules", "samples/rules"]);
    assert_eq!(code(&linux), 2, "{}", text(&linux.stderr));
    assert_eq!(
        code(&windows),
        2,
        "the same exit code (malformed samples)\nstdout {}\nstderr {}",
        text(&windows.stdout),
        text(&windows.stderr)
    );
    let (l, w) = (tmp.path().join("linux"), tmp.path().join("windows"));
    check_report(&w);
    let (lsig, wsig) = (
        normalised_rows(&l.join("signatures.csv"), &["file", "found_in"]),
        normalised_rows(&w.join("signatures.csv"), &["file", "found_in"]),
    );
    assert!(lsig.len() > 30, "the samples hold many signatures: {}", lsig.len());
    assert_eq!(lsig, wsig, "signatures.csv differs between the Linux and the Windows build");
    // Same files with errors (the messages may quote the system's words).
    let files = |dir: &Path| -> BTreeSet<String> {
        read_csv(&dir.join("errors.csv")).iter().map(|r| r["file"].replace('\\', "/")).collect()
    };
    assert_eq!(files(&l), files(&w));
    for name in ["agencies.csv", "signers.csv", "unknown-cas.csv"] {
        assert_eq!(
            normalised_rows(&l.join(name), &["example_file"]),
            normalised_rows(&w.join(name), &["example_file"]),
            "{name}"
        );
    }
    // The HTML report opens from its folder: every local link of
    // index.html names a file the Windows run wrote.
    let html = std::fs::read_to_string(w.join("index.html")).unwrap();
    let mut local = 0;
    for href in html.split("href=\"").skip(1).filter_map(|s| s.split('"').next()) {
        if href.starts_with('#') || href.contains("://") || href.starts_with("mailto:") {
            continue;
        }
        let target = href.split('#').next().unwrap();
        let decoded = percent_decode(target);
        assert!(
            w.join(&decoded).is_file(),
            "index.html links to {href}, which the Windows report lacks"
        );
        local += 1;
    }
    assert!(local > 0, "index.html links to the agencies' pages");
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap().replace("&amp;", "&")
}

#[test]
fn windows_build_scans_a_vietnamese_named_folder() {
    if !ready("windows_build_scans_a_vietnamese_named_folder") {
        return;
    }
    // The folder itself is the SOURCE: its name goes through the command
    // line (UTF-16 on Windows) and back into the report.
    let (linux, windows, tmp) = scan_both("samples/share/Sở Y tế", &["--rules", "samples/rules"]);
    assert_eq!(code(&linux), code(&windows), "{}", text(&windows.stderr));
    let w = tmp.path().join("windows");
    let rows = read_csv(&w.join("signatures.csv"));
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r["file"].starts_with("samples\\share\\Sở Y tế\\")),
        "{:?}",
        rows.iter().map(|r| &r["file"]).collect::<Vec<_>>()
    );
    assert!(
        rows.iter().any(|r| r["file"].ends_with("\\2025\\Kế hoạch tiêm chủng.pdf")
            && r["ca_class"] == "government")
    );
    assert_eq!(
        normalised_rows(&tmp.path().join("linux/signatures.csv"), &["file", "found_in"]),
        normalised_rows(&w.join("signatures.csv"), &["file", "found_in"])
    );
}

#[test]
fn windows_build_inspects_and_checks_rules() {
    if !ready("windows_build_inspects_and_checks_rules") {
        return;
    }
    let root = root();
    let file = "samples/share/Sở Y tế/2025/Kế hoạch tiêm chủng.pdf";
    let linux = run(bin().current_dir(&root).args(["inspect", file, "--rules", "samples/rules"]));
    let windows = wine(
        &[
            OsStr::new("inspect"),
            OsStr::new(&file.replace('/', "\\")),
            OsStr::new("--rules"),
            OsStr::new(r"samples\rules"),
        ],
        &root,
    );
    assert_eq!(code(&windows), code(&linux), "{}", text(&windows.stderr));
    assert!(text(&linux.stdout).contains("government"), "{}", text(&linux.stdout));
    assert_eq!(text(&windows.stdout).replace('\\', "/").replace("\r\n", "\n"), text(&linux.stdout));

    let linux = run(bin().current_dir(&root).args(["rules", "check", "samples/rules"]));
    let windows =
        wine(&[OsStr::new("rules"), OsStr::new("check"), OsStr::new(r"samples\rules")], &root);
    assert_eq!(code(&linux), 0, "{}", text(&linux.stderr));
    assert_eq!(code(&windows), 0, "{}", text(&windows.stderr));
    assert_eq!(text(&windows.stdout).replace('\\', "/").replace("\r\n", "\n"), text(&linux.stdout));

    // A mistake is reported at its file:line:column, with Windows' path.
    let bad = tempfile::tempdir().unwrap();
    let agencies = bad.path().join("agencies.toml");
    std::fs::write(&agencies, "x = 1\n[[agency]\n").unwrap();
    let linux = run(bin().args(["rules", "check"]).arg(bad.path()));
    let windows =
        wine(&[OsStr::new("rules"), OsStr::new("check"), OsStr::new(&z(bad.path()))], &root);
    assert_ne!(code(&linux), 0);
    assert_eq!(code(&windows), code(&linux), "{}", text(&windows.stdout));
    let where_linux = text(&linux.stderr) + &text(&linux.stdout);
    let where_windows = text(&windows.stderr) + &text(&windows.stdout);
    assert!(where_linux.contains("agencies.toml:2:10:"), "{where_linux}");
    assert!(where_windows.contains(&format!("{}:2:10:", z(&agencies))), "{where_windows}");
}

/// Scanning changes no time of a file. On Windows the handle is told not
/// to update the access time (`SetFileTime` with 0xFFFFFFFF, as Linux's
/// `O_NOATIME`); Wine accepts the call but cannot stop Linux from updating
/// it on read (it opens without `O_NOATIME`), so under Wine this checks
/// that the call sets nothing: the write time stays and the access time is
/// the old one or that of the read, never a time the call made up.
#[test]
fn windows_build_changes_no_file_time() {
    if !ready("windows_build_changes_no_file_time") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let share = tmp.path().join("Sở Y tế");
    std::fs::create_dir_all(&share).unwrap();
    let file = share.join("Kế hoạch.pdf");
    std::fs::copy(root().join("samples/share/Sở Y tế/2025/Kế hoạch tiêm chủng.pdf"), &file)
        .unwrap();
    // An access time older than the modification time: relatime would update it on a read.
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(946_684_800);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_times(std::fs::FileTimes::new().set_accessed(old))
        .unwrap();
    let before = std::fs::metadata(&file).unwrap();
    let out = tmp.path().join("out");
    let windows = wine(
        &[OsStr::new("scan"), OsStr::new(&z(&share)), OsStr::new("--out"), OsStr::new(&z(&out))],
        &root(),
    );
    assert!(code(&windows) < 3, "{}", text(&windows.stderr));
    assert_eq!(
        read_csv(&out.join("signatures.csv")).len(),
        1,
        "the file was read and its signature found"
    );
    let after = std::fs::metadata(&file).unwrap();
    let (was, is) = (before.accessed().unwrap(), after.accessed().unwrap());
    let scanned = std::time::SystemTime::now();
    assert!(
        is == was || (is > scanned - std::time::Duration::from_secs(600) && is <= scanned),
        "the scan set the access time to {is:?}"
    );
    assert_eq!(before.modified().unwrap(), after.modified().unwrap());
}

/// A UNC share as agencies name theirs: `\\may-chu\tai-lieu\Sở Y tế`. Wine
/// serves `\\server\share` from `dosdevices/unc/server/share` in its
/// prefix, here a link to samples/share: the path goes through the UNC
/// forms of Windows' path handling (prefix, parent, join) as on a real share.
#[test]
fn windows_build_scans_a_unc_share() {
    if !ready("windows_build_scans_a_unc_share") {
        return;
    }
    let unc = windows_target().join("wineprefix/dosdevices/unc/may-chu");
    std::fs::create_dir_all(&unc).unwrap();
    let link = unc.join("tai-lieu");
    if std::fs::read_link(&link).ok() != Some(root().join("samples/share")) {
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(root().join("samples/share"), &link).unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let windows = wine(
        &[
            OsStr::new("scan"),
            OsStr::new(r"\\may-chu\tai-lieu\Sở Y tế"),
            OsStr::new("--rules"),
            OsStr::new(r"samples\rules"),
            OsStr::new("--out"),
            OsStr::new(&z(&out)),
        ],
        &root(),
    );
    let (linux, ltmp) = scan(
        &[&root().join("samples/share/Sở Y tế")],
        &["--rules", root().join("samples/rules").to_str().unwrap()],
    );
    assert_eq!(code(&windows), code(&linux), "{}", text(&windows.stderr));
    let rows = read_csv(&out.join("signatures.csv"));
    assert!(
        rows.iter().all(|r| r["file"].starts_with(r"\\may-chu\tai-lieu\Sở Y tế\")),
        "{:?}",
        rows.iter().map(|r| &r["file"]).collect::<Vec<_>>()
    );
    // The same rows as Linux's, the share's name in place of the folder's.
    let unix_prefix = root().join("samples/share").display().to_string();
    let strip = |rows: Vec<String>, prefix: &str| -> Vec<String> {
        let mut rows: Vec<String> = rows.into_iter().map(|r| r.replace(prefix, "SHARE")).collect();
        rows.sort();
        rows
    };
    assert_eq!(
        strip(
            normalised_rows(&report_dir(&ltmp).join("signatures.csv"), &["file", "found_in"]),
            &unix_prefix
        ),
        strip(
            normalised_rows(&out.join("signatures.csv"), &["file", "found_in"]),
            "//may-chu/tai-lieu"
        )
    );
}

/// scripts/windows/sigaudit-scan.cmd, the clerk's double-click, run by
/// Wine's cmd.exe as a scheduled task would (SIGAUDIT_BATCH: no dialog, no
/// browser, no pause): the folder and the options after it reach the scan.
#[test]
fn windows_scan_cmd_scans_the_folder_given() {
    if !ready("windows_scan_cmd_scans_the_folder_given") {
        return;
    }
    let dir = prepared().unwrap();
    std::fs::copy(root().join("scripts/windows/sigaudit-scan.cmd"), dir.join("sigaudit-scan.cmd"))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("báo cáo");
    let output = Command::new("wine")
        .args([OsStr::new("cmd"), OsStr::new("/c"), OsStr::new(&z(&dir.join("sigaudit-scan.cmd")))])
        .args([r"samples\share\Sở Y tế", "--rules", r"samples\rules"])
        .current_dir(root())
        .env("WINEPREFIX", windows_target().join("wineprefix"))
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree=;mshtml=")
        .env("SIGAUDIT_ANCHORS", r"Z:\nonexistent\sigaudit-test-anchors")
        .env("LANG", "C.UTF-8")
        .env("SIGAUDIT_BATCH", "1")
        .env("SIGAUDIT_OUT", z(&out))
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    // 2: a sample in that folder is malformed on purpose (errors.csv), as on Linux.
    assert_eq!(code(&output), 2, "{}\n{}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).contains("errors.csv"), "{}", text(&output.stdout));
    let rows = read_csv(&out.join("signatures.csv"));
    assert!(
        rows.len() > 5 && rows.iter().all(|r| r["file"].starts_with(r"samples\share\Sở Y tế\")),
        "{rows:?}"
    );
    assert!(out.join("index.html").is_file());
}
