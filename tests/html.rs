//! The HTML reports in a real browser (headless Chromium from Debian's
//! packages, installed by scripts/test): what came from a scanned file is
//! shown as text, never run; spreadsheet cells never run as formulas.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn chromium_dom(page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium is installed (scripts/test installs Debian's chromium)");
    assert!(out.status.success(), "chromium failed: {}", text(&out.stderr));
    text(&out.stdout)
}

fn hostile_report() -> tempfile::TempDir {
    let dir = root().join("tests/fixtures/hostile");
    let (out, report) = scan(&[&dir], &[]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    check_report(&report_dir(&report));
    report
}

#[test]
fn names_from_scanned_files_are_text_in_the_browser() {
    let report = hostile_report();
    let page = report_dir(&report).join("agencies/unassigned/report.html");
    let raw = std::fs::read_to_string(&page).unwrap();
    assert!(!raw.contains("<script>document.title"), "unescaped script in the HTML");
    assert!(!raw.contains("<img src=x"), "unescaped file name in the HTML");
    let dom = chromium_dom(&page);
    assert!(!dom.contains("<title>PWNED</title>"), "a script from a certificate ran:\n{dom}");
    assert!(dom.contains("&lt;script&gt;document.title='PWNED'&lt;/script&gt;"), "the CN is shown as text:\n{dom}");
    assert!(dom.contains("&lt;img src=x onerror=document.title='PWNED'&gt;.p7m"), "the file name is shown as text");
    let index = chromium_dom(&report_dir(&report).join("index.html"));
    assert!(index.contains("Rà soát sử dụng chữ ký số chuyên dùng công vụ"), "the overview renders in Vietnamese");
    assert!(!index.contains("PWNED</title>"));
}

#[test]
fn formulas_from_certificates_stay_text_in_csv() {
    let report = hostile_report();
    let rows = read_csv(&report_dir(&report).join("signatures.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["signer_org"], "'=HYPERLINK(\"http://evil.example\",\"x\")");
    let signers = read_csv(&report_dir(&report).join("signers.csv"));
    assert!(signers[0]["signer_org"].starts_with("'="));
}
