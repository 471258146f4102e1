//! The public X.509 path-validation suite x509-limbo (C2SP), compiled in
//! `../shared/x509-limbo/limbo.json`: every case that is about RFC 5280
//! path validation runs through sigaudit's own chain building and
//! classification, as a signer certificate would. The trusted
//! certificates become pins of a CA of class `government`; a case
//! succeeds when the signer is classified government on a verified chain,
//! every certificate is valid at the case's time, and the signer's own
//! certificate may sign (RFC 5280 rules for an end-entity certificate).
//!
//! Cases that test something else are listed with the reason they do not
//! apply; the counts are printed (run with `--nocapture`).

use std::sync::Arc;

use sigaudit::AnchorStore;
use sigaudit::signer_problems;
use sigaudit::valid_at_signing;
use sigaudit::{CaClass, CaEntry, Catalogue, Pin, PinRole};
use sigaudit::{Cert, certificates_in};
use sigaudit::{ChainStatus, classify};

use crate::common;

/// Why a case does not apply to signer-certificate path validation.
fn not_applicable(case: &serde_json::Value) -> Option<&'static str> {
    let id = case["id"].as_str().unwrap();
    let features: Vec<&str> = case["features"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f.as_str()).collect())
        .unwrap_or_default();
    let family = id.split("::").next().unwrap();
    if features.contains(&"has-crl") {
        return Some("revocation lists: sigaudit does not check revocation in path validation");
    }
    if features.contains(&"has-policy-constraints") {
        return Some(
            "certificate policy processing: sigaudit accepts any policy (the class comes from the \
             pinned CA, not from policy OIDs)",
        );
    }
    if features.contains(&"max-chain-depth") {
        return Some("a validator-chosen maximum depth: sigaudit's is fixed at 8 certificates");
    }
    if features.iter().any(|f| f.starts_with("pedantic-")) {
        return Some(
            "pedantic profile checks (serial numbers, web PKI key and EKU policy) beyond RFC 5280 \
             path validation",
        );
    }
    if features.contains(&"rfc5280-incompatible-with-webpki") {
        return Some(
            "criticality of nameConstraints is the issuing CA's duty; sigaudit applies the \
             constraints either way",
        );
    }
    if family == "webpki"
        && !matches!(
            id,
            "webpki::cryptographydotio-chain"
                | "webpki::cryptographydotio-chain-missing-intermediate"
        )
    {
        return Some(
            "the CA/Browser Forum web PKI profile (host names, common names, key sizes, curves, \
             serverAuth EKU): not document-signing path validation",
        );
    }
    if HOST_NAME_CASES.contains(&id) {
        return Some(
            "the verdict rests on matching a server's host name or on the syntax of DNS/IP names, \
             which a document signer is not checked for",
        );
    }
    if matches!(
        id,
        "rfc5280::aki::leaf-missing-aki"
            | "rfc5280::aki::intermediate-missing-aki"
            | "rfc5280::ski::root-missing-ski"
            | "rfc5280::ski::intermediate-missing-ski"
    ) {
        return Some(
            "the CA's duty to include key identifiers (RFC 5280 §4.2.1.1-2), not a path \
             validation step (§6); older real signer certificates lack them",
        );
    }
    if matches!(id, "rfc5280::ca-as-leaf" | "pathlen::validation-ignores-pathlen-in-leaf") {
        return Some(
            "the leaf is a CA certificate whose key usage is only keyCertSign: fine as the \
             suite's TLS leaf, but a document signer's key must allow digitalSignature or \
             nonRepudiation",
        );
    }
    if id == "rfc5280::ee-critical-aia-invalid" {
        return Some(
            "real Vietnamese CA certificates mark authorityInfoAccess (and CRL distribution \
             points) critical; sigaudit accepts them",
        );
    }
    if id == "rfc5280::root-non-critical-basic-constraints" {
        return Some(
            "marking basicConstraints critical is the CA's duty (RFC 5280 §4.2.1.9); sigaudit, \
             like OpenSSL, reads it either way",
        );
    }
    None
}

/// Cases about the expected peer name rather than the path.
const HOST_NAME_CASES: [&str; 6] = [
    "rfc5280::san::malformed",
    "rfc5280::san::underscore-dns",
    "rfc5280::san::ip-in-dns",
    "rfc5280::san::noncritical-with-empty-subject",
    "rfc5280::ca-as-leaf-wrong-san",
    "rfc5280::nc::permitted-dn-match-subject-san-mismatch",
];

fn pem_cert(pem: &str) -> Option<Arc<Cert>> {
    certificates_in(pem.as_bytes()).into_iter().next()?.ok().map(Arc::new)
}

/// sigaudit's verdict for one case: Ok(()) when the signer is valid.
fn verdict(case: &serde_json::Value) -> Result<(), String> {
    let certs = |key: &str| -> Vec<Arc<Cert>> {
        case[key].as_array().unwrap().iter().filter_map(|p| pem_cert(p.as_str().unwrap())).collect()
    };
    let Some(leaf) = pem_cert(case["peer_certificate"].as_str().unwrap()) else {
        return Err("signer certificate unreadable".into());
    };
    let trusted = certs("trusted_certs");
    let intermediates = certs("untrusted_intermediates");
    let mut anchors = AnchorStore::default();
    let pins = trusted
        .iter()
        .map(|c| {
            anchors.add(c.clone());
            Pin {
                subject: c.subject.clone(),
                issuer: None,
                sha256: c.sha256,
                ski: c.ski.clone(),
                aki: None,
                not_before: None,
                not_after: None,
                role: PinRole::Root,
                download: None,
                source: "x509-limbo".into(),
            }
        })
        .collect();
    let catalogue = Catalogue::from_cas(vec![CaEntry {
        id: "limbo-trusted".into(),
        name: "x509-limbo trusted certificates".into(),
        class: CaClass::Government,
        operator: String::new(),
        website: String::new(),
        note: String::new(),
        pins,
        issuer_patterns: Vec::new(),
        other_downloads: Vec::new(),
    }]);
    let class = classify(leaf.clone(), &intermediates, &anchors, &catalogue);
    if class.class != CaClass::Government || class.chain != ChainStatus::Verified {
        return Err(format!("{:?}/{:?}: {}", class.class, class.chain, class.notes.join("; ")));
    }
    let at = time::OffsetDateTime::parse(
        case["validation_time"].as_str().unwrap_or("2024-01-01T00:00:00Z"),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    if let (false, why) = valid_at_signing(&class.path, at) {
        return Err(why.unwrap_or_default());
    }
    let problems = signer_problems(&leaf);
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    // The case's extended key usage policy (what its relying party asks).
    let wanted: Vec<&str> =
        case["extended_key_usage"].as_array().unwrap().iter().filter_map(|e| e.as_str()).collect();
    if let Some(ekus) = &leaf.ext_key_usage {
        if ekus.is_empty() {
            return Err("empty extended key usage".into());
        }
        for want in wanted {
            let oid = match want {
                "serverAuth" => "1.3.6.1.5.5.7.3.1",
                "clientAuth" => "1.3.6.1.5.5.7.3.2",
                other => other,
            };
            if !ekus.iter().any(|e| e == oid) {
                return Err(format!("extended key usage lacks {want}"));
            }
        }
    }
    Ok(())
}

#[test]
fn x509_limbo_path_validation_cases() {
    let Some(path) =
        common::shared_or_skip("limbo::x509_limbo_path_validation_cases", "x509-limbo/limbo.json")
    else {
        return;
    };
    let suite: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("x509-limbo suite in ../shared"))
            .unwrap();
    let cases = suite["testcases"].as_array().unwrap();
    let (mut run, mut passed, mut skipped) =
        (0, 0, std::collections::BTreeMap::<&str, usize>::new());
    let mut wrong = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        if let Some(reason) = not_applicable(case) {
            *skipped.entry(reason).or_default() += 1;
            continue;
        }
        run += 1;
        let expected_ok = case["expected_result"] == "SUCCESS";
        let got = verdict(case);
        if got.is_ok() == expected_ok {
            passed += 1;
        } else {
            wrong.push(format!("{id}: expected {}, got {got:?}", case["expected_result"]));
        }
    }
    println!(
        "x509-limbo: {} cases, {run} run, {passed} passed, {} skipped",
        cases.len(),
        skipped.values().sum::<usize>()
    );
    for (reason, n) in &skipped {
        println!("  skipped {n:3}: {reason}");
    }
    assert!(
        wrong.is_empty(),
        "{} of {run} applicable cases disagree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(run >= 100, "most of the suite applies: {run} run");
}
