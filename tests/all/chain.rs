//! RFC 5280 path validation on chains made for the purpose
//! (tests/fixtures/make-chain-fixtures.py, openssl): each row of the table
//! in issue 10 gives the verdict a careful auditor expects.

use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::*;

/// Scans one fixture, with the real CA certificates as anchors when given.
fn scan_fixture(name: &str, real_anchors: Option<&Path>) -> HashMap<String, String> {
    let file = root().join("tests/fixtures/chain").join(name);
    let rules = root().join("samples/rules");
    let mut extra = vec!["--rules", rules.to_str().unwrap()];
    if let Some(anchors) = real_anchors {
        extra.extend(["--anchors", anchors.to_str().unwrap()]);
    }
    let (out, dir) = scan(&[&file], &extra);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    check_report(&report_dir(&dir));
    let mut rows = read_csv(&report_dir(&dir).join("signatures.csv"));
    assert_eq!(rows.len(), 1, "{name}");
    let row = rows.remove(0);
    assert_eq!(row["integrity"], "valid", "{name}: the CMS signature itself is good");
    row
}

fn verdict(r: &HashMap<String, String>) -> (&str, &str, &str) {
    (r["ca_class"].as_str(), r["classified_by"].as_str(), r["chain"].as_str())
}

#[test]
fn an_end_entity_certificate_cannot_issue_a_government_signer() {
    let r = scan_fixture("ee-mints-signer.p7m", None);
    assert_eq!(verdict(&r), ("untrusted", "chain", "broken"));
    assert!(r["notes"].contains("is not a CA certificate"), "{}", r["notes"]);
    assert_eq!(r["ca_id"], "");
}

#[test]
fn an_exceeded_path_length_breaks_the_chain() {
    let r = scan_fixture("pathlen-exceeded.p7m", None);
    assert_eq!(verdict(&r), ("untrusted", "chain", "broken"));
    assert!(r["notes"].contains("pathLenConstraint allows 0"), "{}", r["notes"]);
}

#[test]
fn an_unknown_critical_extension_makes_the_signer_certificate_invalid() {
    let r = scan_fixture("unknown-critical.p7m", None);
    assert_eq!(
        verdict(&r),
        ("government", "chain", "verified"),
        "who issued it is still who issued it"
    );
    assert_eq!(r["cert_valid_at_signing"], "false");
    assert!(
        r["notes"].contains("critical extension sigaudit cannot process: 1.3.6.1.4.1.55555.1"),
        "{}",
        r["notes"]
    );
}

#[test]
fn key_encipherment_only_is_not_valid_for_signing() {
    let r = scan_fixture("keyencipherment-only.p7m", None);
    assert_eq!(verdict(&r), ("government", "chain", "verified"));
    assert_eq!(r["cert_valid_at_signing"], "false");
    assert!(
        r["notes"].contains(
            "key usage (keyEncipherment) has neither digitalSignature nor nonRepudiation"
        ),
        "{}",
        r["notes"]
    );
}

#[test]
fn a_link_to_the_real_government_ca_that_does_not_verify_is_broken() {
    let Some(anchors) = shared_or_skip(
        "chain::a_link_to_the_real_government_ca_that_does_not_verify_is_broken",
        "ca-certs",
    ) else {
        return;
    };
    for (name, why) in [
        ("real-g2-unknown-alg.p7m", "unsupported algorithm"),
        ("real-g2-ec-mismatch.p7m", "with a RSA key"),
    ] {
        let r = scan_fixture(name, Some(&anchors));
        assert_eq!(verdict(&r), ("untrusted", "chain", "broken"), "{name}");
        assert!(
            r["notes"].contains("vgca-g2-nha-nuoc") && r["notes"].contains(why),
            "{name}: {}",
            r["notes"]
        );
        // Without the issuer's certificate the name is all there is: dn, incomplete.
        let r = scan_fixture(name, None);
        assert_eq!(verdict(&r), ("government", "dn", "incomplete"), "{name}");
    }
}

#[test]
fn a_chain_deeper_than_eight_is_incomplete_and_says_so() {
    let r = scan_fixture("too-deep.p7m", None);
    assert_eq!(verdict(&r), ("untrusted", "chain", "incomplete"));
    assert!(r["notes"].contains("chain longer than 8 certificates"), "{}", r["notes"]);
}

// Issue 23: CA generations, forgeries and intermediates learned from the
// scan (tests/fixtures/make-generation-fixtures.py, openssl, under the
// samples' TEST PKI pinned in samples/rules).

fn generations(
    names: &[&str],
    rules: &Path,
    extra: &[&str],
) -> (tempfile::TempDir, Vec<HashMap<String, String>>) {
    let files: Vec<PathBuf> =
        names.iter().map(|n| root().join("tests/fixtures/generations").join(n)).collect();
    let sources: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let mut args = vec!["--rules", rules.to_str().unwrap(), "--no-db"];
    args.extend(extra);
    let (out, dir) = scan(&sources, &args);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    check_report(&report_dir(&dir));
    let rows = read_csv(&report_dir(&dir).join("signatures.csv"));
    assert_eq!(rows.len(), names.len());
    assert!(
        rows.iter().all(|r| r["integrity"] == "valid"),
        "the CMS signatures themselves are good"
    );
    (dir, rows)
}

fn row<'a>(rows: &'a [HashMap<String, String>], name: &str) -> &'a HashMap<String, String> {
    rows_for(rows, name).first().copied().unwrap_or_else(|| panic!("no row for {name}"))
}

fn summary(dir: &tempfile::TempDir) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(report_dir(dir).join("summary.json")).unwrap())
        .unwrap()
}

#[test]
fn a_generation_of_a_commercial_ca_the_rules_lack_is_commercial_and_no_forgery() {
    // The pinned generation is in the anchors (samples/rules/anchors): its
    // key refuses the leaf, but the leaf names another key.
    let (dir, rows) = generations(&["ca-gen2-leaf-only.p7m"], &root().join("samples/rules"), &[]);
    let r = row(&rows, "ca-gen2-leaf-only.p7m");
    assert_eq!(
        (verdict(r), r["ca_id"].as_str()),
        (("commercial", "dn", "unknown-key"), "test-vnpt-ca")
    );
    assert!(!r["notes"].contains("FORGERY"), "{}", r["notes"]);
    assert!(r["notes"].contains("a generation of that CA the rules lack"), "{}", r["notes"]);
    let unknown = read_csv(&report_dir(&dir).join("unknown-cas.csv"));
    assert_eq!(unknown.len(), 1);
    assert_eq!(
        (
            unknown[0]["named_ca"].as_str(),
            unknown[0]["class_by_name"].as_str(),
            unknown[0]["signatures"].as_str()
        ),
        ("test-vnpt-ca", "commercial", "1")
    );
    let aki = openssl_ext(
        &root().join("tests/fixtures/generations/ca-gen2-leaf-only.p7m"),
        "authorityKeyIdentifier",
    );
    assert_eq!(
        unknown[0]["key_identifier"], aki,
        "the key identifier a province must add, as OpenSSL reads it"
    );
    assert!(r["notes"].contains(&aki), "{}", r["notes"]);
}

#[test]
fn a_government_name_with_a_key_the_rules_lack_is_never_government_and_the_first_page_says_so() {
    let (dir, rows) = generations(&["gov-unknown-key.p7m"], &root().join("samples/rules"), &[]);
    let r = row(&rows, "gov-unknown-key.p7m");
    assert_eq!((verdict(r), r["ca_id"].as_str()), (("untrusted", "dn", "unknown-key"), ""));
    assert!(!r["notes"].contains("FORGERY"), "{}", r["notes"]);
    let aki = openssl_ext(
        &root().join("tests/fixtures/generations/gov-unknown-key.p7m"),
        "authorityKeyIdentifier",
    );
    let index = std::fs::read_to_string(report_dir(&dir).join("index.html")).unwrap();
    let warning = index
        .split("id=\"government-unknown-key\"")
        .nth(1)
        .expect("the first page warns")
        .split("</p>")
        .next()
        .unwrap();
    assert!(warning.contains("<b>1</b>") && warning.contains(&aki), "{warning}");
    assert_eq!(summary(&dir)["government_name_unknown_key"], 1);
    assert_eq!(summary(&dir)["totals"]["government"], 0);
}

#[test]
fn a_certificate_copying_a_pinned_name_and_key_identifier_with_another_key_is_a_forgery() {
    let (_dir, rows) = generations(&["forged-ski-copy.p7m"], &root().join("samples/rules"), &[]);
    let r = row(&rows, "forged-ski-copy.p7m");
    assert_eq!((verdict(r), r["ca_id"].as_str()), (("untrusted", "chain", "broken"), ""));
    assert!(
        r["notes"].contains("FORGERY") && r["notes"].contains("test-vnpt-ca"),
        "{}",
        r["notes"]
    );
}

#[test]
fn an_intermediate_carried_by_one_file_verifies_another_files_leaf() {
    let names = [
        "ca-gen2-leaf-only.p7m",
        "ca-gen2-with-intermediate.p7m",
        "gov-unknown-key.p7m",
        "gov-unknown-key-intermediate.p7m",
    ];
    let (dir, rows) = generations(&names, &root().join("samples/rules"), &[]);
    for (leaf_only, carrier, class) in
        [(names[0], names[1], "commercial"), (names[2], names[3], "government")]
    {
        let r = row(&rows, leaf_only);
        assert_eq!(verdict(r), (class, "chain", "verified"), "{leaf_only}: {}", r["notes"]);
        assert!(
            r["notes"].contains("taken from another scanned file") && r["notes"].contains(carrier),
            "{}",
            r["notes"]
        );
        assert_eq!(verdict(row(&rows, carrier)), (class, "chain", "verified"));
    }
    let learned = summary(&dir)["learned_cas"].as_array().unwrap().clone();
    assert_eq!(learned.len(), 2, "{learned:?}");
    assert!(learned.iter().all(|l| l["completed"] == 1 && l["pinned"] == false), "{learned:?}");
    assert_eq!(
        read_csv(&report_dir(&dir).join("unknown-cas.csv")).len(),
        0,
        "nothing left unknown"
    );
}

#[test]
fn a_forged_intermediate_in_one_file_never_breaks_another_files_genuine_chain() {
    // The forger's CA (pinned name and key id, another key) is met in one
    // file; it verifies up to no pin, so it is not learned: the genuine
    // leaf whose issuer is nowhere stays classified by its key identifier
    // (had the forger's certificate served as its issuer, the chain would
    // be broken).
    let rules = rules_without_anchors();
    let (dir, rows) =
        generations(&["forged-ski-copy.p7m", "pinned-leaf-only.p7m"], rules.path(), &[]);
    assert_eq!(verdict(row(&rows, "pinned-leaf-only.p7m")), ("commercial", "dn", "incomplete"));
    assert_eq!(summary(&dir)["learned_cas"].as_array().unwrap().len(), 0);
}

#[test]
fn a_forgers_ca_carried_by_one_file_shows_what_a_leaf_only_file_of_the_same_forger_is() {
    // Without anchors, the forger's leaf alone names the pinned key by its
    // AKI (copied) and nothing contradicts it: classed by that key. The
    // forger's CA, carried by another file, verifies this leaf's signature:
    // it is its issuer, and its chain (to no pin) is the leaf's.
    let rules = rules_without_anchors();
    let (_, alone) = generations(&["forged-leaf-only.p7m"], rules.path(), &[]);
    assert_eq!(verdict(&alone[0]), ("commercial", "dn", "incomplete"));
    let (_, rows) =
        generations(&["forged-ski-copy.p7m", "forged-leaf-only.p7m"], rules.path(), &[]);
    let r = row(&rows, "forged-leaf-only.p7m");
    assert_eq!(
        (r["ca_class"].as_str(), r["classified_by"].as_str(), r["ca_id"].as_str()),
        ("untrusted", "chain", ""),
        "{}",
        r["notes"]
    );
    assert!(
        r["notes"].contains("taken from another scanned file")
            && r["notes"].contains("forged-ski-copy.p7m"),
        "{}",
        r["notes"]
    );
}

/// The samples' TEST catalogue without their anchors folder.
fn rules_without_anchors() -> tempfile::TempDir {
    let rules = tempfile::tempdir().unwrap();
    std::fs::create_dir(rules.path().join("ca.d")).unwrap();
    std::fs::copy(
        root().join("samples/rules/ca.d/test-pki.toml"),
        rules.path().join("ca.d/test-pki.toml"),
    )
    .unwrap();
    rules
}

#[test]
fn a_pinned_certificate_found_in_a_scanned_file_is_learned_and_can_be_kept() {
    // Rules without the anchors folder: the pinned CA is only in a file.
    let rules = rules_without_anchors();
    let (_, alone) = generations(&["pinned-leaf-only.p7m"], rules.path(), &[]);
    assert_eq!(verdict(&alone[0]), ("commercial", "dn", "incomplete"));
    let keep = tempfile::tempdir().unwrap();
    let files = ["pinned-carried.p7m", "pinned-leaf-only.p7m"]
        .map(|n| root().join("tests/fixtures/generations").join(n));
    let report = keep.path().join("report");
    let out = run(bin()
        .env("SIGAUDIT_ANCHORS", keep.path().join("anchors"))
        .args(["scan", "--no-db", "--save-anchors", "--rules"])
        .arg(rules.path())
        .args(&files)
        .arg("--out")
        .arg(&report));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let rows = read_csv(&report.join("signatures.csv"));
    assert_eq!(verdict(row(&rows, "pinned-leaf-only.p7m")), ("commercial", "chain", "verified"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["learned_cas"][0]["pinned"], true);
    let saved: Vec<_> = std::fs::read_dir(keep.path().join("anchors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    // The next scan of the leaf alone verifies through the kept anchor.
    let again = keep.path().join("again");
    let out = run(bin()
        .env("SIGAUDIT_ANCHORS", keep.path().join("anchors"))
        .args(["scan", "--no-db", "--rules"])
        .arg(rules.path())
        .arg(&files[1])
        .arg("--out")
        .arg(&again));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(
        verdict(&read_csv(&again.join("signatures.csv"))[0]),
        ("commercial", "chain", "verified")
    );
}

/// An extension of the signer certificate of a CMS file, as OpenSSL
/// prints it (hex without colons, lowercase).
fn openssl_ext(p7m: &Path, ext: &str) -> String {
    let certs = std::process::Command::new("openssl")
        .args(["pkcs7", "-inform", "DER", "-print_certs", "-in"])
        .arg(p7m)
        .output()
        .unwrap();
    let first = text(&certs.stdout);
    let pem = &first
        [first.find("-----BEGIN").unwrap()..first.find("-----END CERTIFICATE-----").unwrap() + 25];
    let mut child = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-ext", ext])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(pem.as_bytes()).unwrap();
    let out = text(&child.wait_with_output().unwrap().stdout);
    out.lines().nth(1).unwrap().trim().trim_start_matches("keyid:").replace(':', "").to_lowercase()
}
