//! The configuration file (`scan --config FILE`, `config check [FILE]`):
//! problems with their places, like `rules check`; the command line wins
//! over the file; a configured scan reports what the same scan typed does.

use crate::common;

use std::path::Path;

use common::*;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn mistakes_are_reported_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.toml",
        "sources = [\"share\", \"imaps://mail.example/INBOX\"]\nlang = \"fr\"\njobs = 0\nexclude \
         = [\"a[\"]\nfail_under = 120\n\n[[imap.accounts]]\nurl = \
         \"imaps://u:secret@mail.example/\"\npassword_file = \"p\"\n",
    );
    let out = run(bin().args(["config", "check"]).arg(&file));
    assert_eq!(code(&out), 1);
    let err = text(&out.stderr);
    let at = |place: &str| format!("{}:{place}", file.display());
    assert!(
        err.contains(&format!("{}: imaps://mail.example/INBOX: the user is missing", at("1:21"))),
        "{err}"
    );
    assert!(err.contains(&format!("{}: unknown language \"fr\"", at("2:8"))), "{err}");
    assert!(err.contains(&format!("{}: jobs must be at least 1", at("3:8"))), "{err}");
    assert!(err.contains(&at("4:12: ")), "the glob: {err}");
    assert!(
        err.contains(&format!(
            "{}: fail_under 120: must be a percentage between 0 and 100",
            at("5:14")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}: imaps://***@mail.example/: never put the password in the URL",
            at("8:7")
        )),
        "{err}"
    );
    assert!(!err.contains("secret"), "a password written in a URL is never repeated: {err}");
    assert!(err.contains("sigaudit: 6 problem(s) in the configuration"), "{err}");

    // TOML itself: an unknown key (a typo) and a value of the wrong type, at their places.
    let typo = write(dir.path(), "typo.toml", "out = \"r\"\nfail_udner = 80\n");
    let out = run(bin().args(["config", "check"]).arg(&typo));
    assert_eq!(code(&out), 1);
    assert!(
        text(&out.stderr).contains(&format!("{}:2:1: unknown field `fail_udner`", typo.display())),
        "{}",
        text(&out.stderr)
    );
    let typed = write(dir.path(), "typed.toml", "[limits]\nmax_depth = \"deep\"\n");
    let out = run(bin().args(["config", "check"]).arg(&typed));
    assert!(
        text(&out.stderr).contains(&format!("{}:2:13: invalid type", typed.display())),
        "{}",
        text(&out.stderr)
    );
    // A scan with a broken configuration stops before it starts, the same way.
    let out = run(bin().arg("scan").arg("--config").arg(&typo));
    assert_eq!(code(&out), 1);
    assert!(
        text(&out.stderr).contains(":2:1: unknown field `fail_udner`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_says_what_is_missing_on_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    // Relative paths are read from the file's folder.
    let file = write(
        dir.path(),
        "sigaudit.toml",
        "sources = [\"unmounted-share\"]\nrules = \"no-rules\"\nanchors = \
         [\"no-anchors\"]\n\n[[imap.accounts]]\nurl = \
         \"imaps://van-thu@mail.example/INBOX\"\npassword_file = \"van-thu.password\"\n",
    );
    let out = run(bin().args(["config", "check"]).arg(&file));
    assert_eq!(code(&out), 1);
    let err = text(&out.stderr);
    let d = dir.path().display();
    assert!(
        err.contains(&format!("{}:2:9: {d}/no-rules: no such folder", file.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}:3:12: {d}/no-anchors: no such folder", file.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}:7:17: {d}/van-thu.password: cannot be read", file.display())),
        "{err}"
    );
    // Fixed: valid; the unmounted share is a note (at scan time, an errors.csv row).
    std::fs::create_dir(dir.path().join("no-anchors")).unwrap();
    std::fs::write(dir.path().join("van-thu.password"), "pw\n").unwrap();
    let fixed = std::fs::read_to_string(&file).unwrap().replace("rules = \"no-rules\"\n", "");
    std::fs::write(&file, fixed).unwrap();
    let out = run(bin().args(["config", "check"]).arg(&file));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("unmounted-share: no such file or folder (not mounted?)"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("2 source(s), 1 IMAP account(s) with their own password"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn the_packaged_example_is_valid() {
    let out = run(bin().args(["config", "check"]).arg(root().join("packaging/sigaudit.toml")));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no sources yet"), "{}", text(&out.stderr));
}

#[test]
fn a_configured_scan_equals_the_typed_one_and_the_command_line_wins() {
    let dir = tempfile::tempdir().unwrap();
    let share = root().join("samples/share");
    let file = write(
        dir.path(),
        "sigaudit.toml",
        &format!(
            "sources = [\"{}\"]\nrules = \"{}\"\nout = \"monthly\"\ndb = \"history.db\"\nlabel = \
             \"from the file\"\nlang = \"en\"\nquiet = true\n",
            share.display(),
            root().join("samples/rules").display()
        ),
    );
    let out = run(bin().arg("scan").arg("--config").arg(&file));
    assert!(matches!(code(&out), 0 | 2), "{}", text(&out.stderr));
    assert!(text(&out.stdout).is_empty(), "quiet = true: {}", text(&out.stdout));
    let monthly = dir.path().join("monthly");
    check_report(&monthly);
    let html = std::fs::read_to_string(monthly.join("index.html")).unwrap();
    assert!(html.contains("lang=\"en\""), "lang = \"en\"");
    let typed = dir.path().join("typed");
    let t = run(bin()
        .arg("scan")
        .arg(&share)
        .arg("--rules")
        .arg(root().join("samples/rules"))
        .arg("--no-db")
        .arg("--out")
        .arg(&typed));
    assert!(matches!(code(&t), 0 | 2));
    let csv = |d: &Path, f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    assert_eq!(csv(&monthly, "signatures.csv"), csv(&typed, "signatures.csv"));
    assert_eq!(csv(&monthly, "errors.csv"), csv(&typed, "errors.csv"));

    // Options typed on the command line win over the file; the rest still comes from it.
    let other = dir.path().join("other");
    let out = run(bin()
        .arg("scan")
        .arg("--config")
        .arg(&file)
        .arg("--label")
        .arg("typed")
        .arg("--out")
        .arg(&other)
        .arg("--lang")
        .arg("vi"));
    assert!(matches!(code(&out), 0 | 2), "{}", text(&out.stderr));
    assert!(
        other.join("signatures.csv").exists()
            && std::fs::read_to_string(other.join("index.html")).unwrap().contains("lang=\"vi\"")
    );
    let list = run(bin().args(["report", "--list", "--db"]).arg(dir.path().join("history.db")));
    let list = text(&list.stdout);
    assert!(list.contains("from the file") && list.contains("typed"), "{list}");
    // `report --config`: the reports rebuilt from the history the file names, in its language.
    let rebuilt = dir.path().join("rebuilt");
    let out = run(bin().args(["report", "--config"]).arg(&file).arg("--out").arg(&rebuilt));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(csv(&rebuilt, "signatures.csv"), csv(&monthly, "signatures.csv"));
    assert!(std::fs::read_to_string(rebuilt.join("index.html")).unwrap().contains("lang=\"en\""));
    let out = run(bin().arg("report"));
    assert_eq!(code(&out), 1, "no history named anywhere");
    // Sources typed replace the file's.
    let one = share.join("Sở Y tế");
    let out = run(bin()
        .arg("scan")
        .arg("--config")
        .arg(&file)
        .arg("--no-db")
        .arg("--out")
        .arg(dir.path().join("one"))
        .arg(&one));
    assert!(matches!(code(&out), 0 | 2), "{}", text(&out.stderr));
    let rows = read_csv(&dir.path().join("one/signatures.csv"));
    assert!(!rows.is_empty() && rows.len() < read_csv(&monthly.join("signatures.csv")).len());
    assert!(rows.iter().all(|r| r["file"].contains("Sở Y tế")), "{rows:?}");
}

#[test]
fn without_sources_anywhere_a_scan_is_a_usage_error() {
    let out = run(bin().arg("scan"));
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).contains("no SOURCE to scan"), "{}", text(&out.stderr));
}
