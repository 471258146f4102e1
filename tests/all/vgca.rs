//! The real Government CA certificates (../shared/ca-certs) against
//! forgeries that copy their names and key identifiers. Fixtures made by
//! tests/fixtures/make-fixtures.py with openssl.

use crate::common;

use common::*;

/// Scans one fixture, with the real CA certificates as anchors when given.
fn scan_fixture(
    name: &str,
    anchors: Option<&std::path::Path>,
) -> std::collections::HashMap<String, String> {
    let file = root().join("tests/fixtures/vgca").join(name);
    let mut extra = vec![];
    if let Some(anchor_dir) = anchors {
        extra = vec!["--anchors", anchor_dir.to_str().unwrap()];
    }
    let (out, dir) = scan(&[&file], &extra);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    check_report(&report_dir(&dir));
    let mut rows = read_csv(&report_dir(&dir).join("signatures.csv"));
    assert_eq!(rows.len(), 1, "{name}");
    rows.remove(0)
}

fn verdict(r: &std::collections::HashMap<String, String>) -> (&str, &str, &str, &str) {
    (r["ca_class"].as_str(), r["classified_by"].as_str(), r["chain"].as_str(), r["ca_id"].as_str())
}

#[test]
fn copy_of_the_g2_issuing_ca_name_and_key_id_is_untrusted() {
    let Some(real) =
        shared_or_skip("vgca::copy_of_the_g2_issuing_ca_name_and_key_id_is_untrusted", "ca-certs")
    else {
        return;
    };
    // Only the leaf embedded; the real intermediate comes from the anchors.
    let r = scan_fixture("forged-g2-leaf-only.p7s", Some(&real));
    assert_eq!(verdict(&r), ("untrusted", "chain", "broken", ""));
    assert!(r["notes"].contains("FORGERY"), "{}", r["notes"]);
    assert_eq!(r["issuer_cn"], "CA phục vụ các cơ quan Nhà nước G2", "the claim is still reported");
}

#[test]
fn forger_attaching_the_real_g2_certificates_is_untrusted() {
    let Some(real) =
        shared_or_skip("vgca::forger_attaching_the_real_g2_certificates_is_untrusted", "ca-certs")
    else {
        return;
    };
    // No anchors needed: the embedded real intermediate is recognised by its pin
    // and its key refuses the forged leaf.
    for anchors in [None, Some(real.as_path())] {
        let r = scan_fixture("forged-g2-real-intermediate.p7s", anchors);
        assert_eq!(verdict(&r), ("untrusted", "chain", "broken", ""), "anchors={anchors:?}");
        assert!(
            r["notes"].contains(
                "FORGERY: names pinned CA CA phục vụ các cơ quan Nhà nước G2 (vgca-g2-nha-nuoc)"
            ),
            "{}",
            r["notes"]
        );
    }
}

#[test]
fn fake_chain_copying_g2_names_is_untrusted() {
    let Some(real) = shared_or_skip("vgca::fake_chain_copying_g2_names_is_untrusted", "ca-certs")
    else {
        return;
    };
    for anchors in [None, Some(real.as_path())] {
        let r = scan_fixture("forged-g2-fake-chain.p7s", anchors);
        assert_eq!(verdict(&r), ("untrusted", "chain", "broken", ""), "anchors={anchors:?}");
        assert_eq!(r["root_cn"], "");
    }
}

#[test]
fn real_g2_intermediate_is_recognised_as_that_ca() {
    let Some(real) =
        shared_or_skip("vgca::real_g2_intermediate_is_recognised_as_that_ca", "ca-certs")
    else {
        return;
    };
    let r = scan_fixture("real-g2-intermediate-signer.p7s", Some(&real));
    assert_eq!(verdict(&r), ("government", "chain", "verified", "vgca-g2-nha-nuoc"));
    assert_eq!(r["ca_name"], "CA phục vụ các cơ quan Nhà nước G2");
    assert_eq!(r["root_cn"], "RootCA chuyên dùng Chính phủ G2");
    let inspect = run(bin()
        .arg("inspect")
        .arg(root().join("tests/fixtures/vgca/forged-g2-real-intermediate.p7s")));
    assert!(text(&inspect.stdout).contains("vgca-g2-nha-nuoc"), "{}", text(&inspect.stdout));
}

#[test]
fn real_g1_leaf_chains_to_the_g1_issuing_ca() {
    // The leaf embeds its real issuer; the G1 root's CN comes from the pins.
    let r = scan_fixture("real-g1-leaf.p7s", None);
    assert_eq!(verdict(&r), ("government", "chain", "verified", "vgca-g1-chinh-phu"));
    assert_eq!(r["root_cn"], "Co quan chung thuc so chuyen dung Chinh phu (RootCA)");
    assert_eq!(r["signer_cn"], "VGCA License Key Generator");
}

#[test]
fn without_the_issuer_certificate_the_class_rests_on_the_dn() {
    // The same forged leaf with no anchors: only names speak, and the
    // report says so (dn / incomplete) and how to verify.
    let r = scan_fixture("forged-g2-leaf-only.p7s", None);
    assert_eq!(verdict(&r), ("government", "dn", "incomplete", "vgca-g2-nha-nuoc"));
    assert!(r["notes"].contains("fetch-anchors"), "{}", r["notes"]);
}
