//! Real-world CMS and PDF quirks (fixtures in tests/fixtures/messy, made by
//! pyHanko and openssl under the samples' TEST PKI, then edited): unknown
//! SubFilter, random padding after the CMS, certificates in odd order, and
//! folders excluded from a scan.

use crate::common;

use common::*;

fn rows(extra: &[&str]) -> Vec<std::collections::HashMap<String, String>> {
    let dir = root().join("tests/fixtures/messy");
    let rules = root().join("samples/rules");
    let mut args = vec!["--rules", rules.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (out, report) = scan(&[&dir], &args);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    check_report(&report_dir(&report));
    read_csv(&report_dir(&report).join("signatures.csv"))
}

fn government(r: &std::collections::HashMap<String, String>) -> bool {
    (r["ca_class"].as_str(), r["chain"].as_str(), r["ca_id"].as_str())
        == ("government", "verified", "test-vgca-g2-nha-nuoc")
}

#[test]
fn unknown_subfilter_still_gives_a_row_with_the_reason() {
    let all = rows(&[]);
    let r = rows_for(&all, "unknown-subfilter.pdf");
    assert_eq!(r.len(), 1);
    assert!(government(r[0]));
    assert!(r[0]["notes"].contains("unknown SubFilter /VN.Gov.CA.Signature"), "{}", r[0]["notes"]);
}

#[test]
fn random_padding_after_the_cms_is_ignored_and_noted() {
    let all = rows(&[]);
    let r = rows_for(&all, "random-padding.pdf");
    assert_eq!(r.len(), 1);
    assert!(government(r[0]));
    assert!(r[0]["notes"].contains("non-zero bytes after the CMS"), "{}", r[0]["notes"]);
}

#[test]
fn certificates_in_odd_order_still_chain() {
    let all = rows(&[]);
    let r = rows_for(&all, "odd-cert-order.p7s");
    assert_eq!(r.len(), 1);
    assert!(government(r[0]), "{:?}", r[0]);
    assert_eq!(r[0]["signer_cn"], "Lê Văn Minh");
}

#[test]
fn exclude_globs_skip_files() {
    let all = rows(&["--exclude", "*.pdf"]);
    assert_eq!(all.len(), 1);
    assert!(all[0]["file"].ends_with("odd-cert-order.p7s"));
}
