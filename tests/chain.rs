//! RFC 5280 path validation on chains made for the purpose
//! (tests/fixtures/make-chain-fixtures.py, openssl): each row of the table
//! in issue 10 gives the verdict a careful auditor expects.

mod common;

use std::collections::HashMap;

use common::*;

fn scan_fixture(name: &str, real_anchors: bool) -> HashMap<String, String> {
    let file = root().join("tests/fixtures/chain").join(name);
    let rules = root().join("samples/rules");
    let anchors = shared().join("ca-certs");
    let mut extra = vec!["--rules", rules.to_str().unwrap()];
    if real_anchors {
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
    let r = scan_fixture("ee-mints-signer.p7m", false);
    assert_eq!(verdict(&r), ("untrusted", "chain", "broken"));
    assert!(r["notes"].contains("is not a CA certificate"), "{}", r["notes"]);
    assert_eq!(r["ca_id"], "");
}

#[test]
fn an_exceeded_path_length_breaks_the_chain() {
    let r = scan_fixture("pathlen-exceeded.p7m", false);
    assert_eq!(verdict(&r), ("untrusted", "chain", "broken"));
    assert!(r["notes"].contains("pathLenConstraint allows 0"), "{}", r["notes"]);
}

#[test]
fn an_unknown_critical_extension_makes_the_signer_certificate_invalid() {
    let r = scan_fixture("unknown-critical.p7m", false);
    assert_eq!(verdict(&r), ("government", "chain", "verified"), "who issued it is still who issued it");
    assert_eq!(r["cert_valid_at_signing"], "false");
    assert!(r["notes"].contains("critical extension sigaudit cannot process: 1.3.6.1.4.1.55555.1"), "{}", r["notes"]);
}

#[test]
fn key_encipherment_only_is_not_valid_for_signing() {
    let r = scan_fixture("keyencipherment-only.p7m", false);
    assert_eq!(verdict(&r), ("government", "chain", "verified"));
    assert_eq!(r["cert_valid_at_signing"], "false");
    assert!(r["notes"].contains("key usage (keyEncipherment) has neither digitalSignature nor nonRepudiation"), "{}", r["notes"]);
}

#[test]
fn a_link_to_the_real_government_ca_that_does_not_verify_is_broken() {
    for (name, why) in [("real-g2-unknown-alg.p7m", "unsupported algorithm"), ("real-g2-ec-mismatch.p7m", "with a RSA key")] {
        let r = scan_fixture(name, true);
        assert_eq!(verdict(&r), ("untrusted", "chain", "broken"), "{name}");
        assert!(r["notes"].contains("vgca-g2-nha-nuoc") && r["notes"].contains(why), "{name}: {}", r["notes"]);
        // Without the issuer's certificate the name is all there is: dn, incomplete.
        let r = scan_fixture(name, false);
        assert_eq!(verdict(&r), ("government", "dn", "incomplete"), "{name}");
    }
}

#[test]
fn a_chain_deeper_than_eight_is_incomplete_and_says_so() {
    let r = scan_fixture("too-deep.p7m", false);
    assert_eq!(verdict(&r), ("untrusted", "chain", "incomplete"));
    assert!(r["notes"].contains("chain longer than 8 certificates"), "{}", r["notes"]);
}
