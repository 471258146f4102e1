//! Issue 15 / docs/report-format.md: an Adobe usage-rights signature (/Perms /UR3: the
//! application that enabled the form, not a person) is not a signer row;
//! `inspect` shows it and summary.json counts it. Fixture by
//! tests/fixtures/make-usage-rights-fixtures.py (pyHanko), with a person's
//! approval signature on top.

use crate::common;

use common::*;

#[test]
fn a_usage_rights_signature_is_counted_and_shown_but_is_no_signer_row() {
    let file = root().join("tests/fixtures/usage-rights/ur3-then-signed.pdf");
    let (_, report) =
        scan(&[&file], &["--no-db", "--rules", root().join("samples/rules").to_str().unwrap()]);
    let dir = report_dir(&report);
    check_report(&dir);
    let rows = read_csv(&dir.join("signatures.csv"));
    assert_eq!(rows.len(), 1, "only the person's signature is a row: {rows:?}");
    assert_eq!(rows[0]["member"], "Approval");
    assert_eq!(
        rows[0]["modified_after_signing"], "false",
        "a signature after the usage rights is no modification of them: {}",
        rows[0]["notes"]
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["usage_rights"], 1, "{summary}");
    assert_eq!(summary["doc_timestamps"], 0, "{summary}");
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("/UR3") && html.contains(": 1."), "the report says how many");

    let out = run(bin().arg("inspect").arg(&file).arg("--rules").arg(root().join("samples/rules")));
    let listing = text(&out.stdout);
    let usage = listing
        .split("\n\n")
        .find(|b| b.starts_with("Usage rights (Adobe /UR3"))
        .unwrap_or_else(|| panic!("{listing}"));
    assert!(usage.contains("Granted by: Bùi Văn Tự Ký"), "{usage}");
    assert!(
        usage.contains("Signature Validation: valid"),
        "its own integrity is still checked: {usage}"
    );
    assert!(listing.contains("Signature #2 — Approval"), "{listing}");
}
