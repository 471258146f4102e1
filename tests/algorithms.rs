//! Issue 15: every signature algorithm in use, verified, and each verdict
//! the same as an independent tool's. The fixtures are made by OpenSSL 3
//! and xmlsec1 (tests/fixtures/make-algorithm-fixtures.sh): DSA, ECDSA on
//! P-521 and brainpoolP256r1/P384r1, RSA-PSS, RSA with SHA3-256, XMLDSig
//! DSA; and by pyHanko (tests/fixtures/make-pdf-ed25519.py): Ed25519 and
//! Ed448 (SHAKE256) PDF signatures. Each has a tampered twin (`sua-*`).

mod common;

use std::process::Command;

use common::*;

/// Scans `dir` (no history) and returns its signatures.csv rows.
fn signature_rows(dir: &std::path::Path, extra: &[&str]) -> Vec<std::collections::HashMap<String, String>> {
    let (out, report) = scan(&[dir], extra);
    assert!([0, 2].contains(&code(&out)), "{}", text(&out.stderr));
    read_csv(&report_dir(&report).join("signatures.csv"))
}

/// The independent tool's verdict on one fixture: true when it verifies.
fn reference_verdict(path: &std::path::Path) -> bool {
    let status = if path.extension().is_some_and(|e| e == "xml") {
        Command::new("xmlsec1").args(["--verify", "--insecure"]).arg(path).output()
    } else if path.extension().is_some_and(|e| e == "pdf") {
        let out = Command::new("python3").arg(root().join("tests/fixtures/pyhanko-validate.py")).arg(path).output().expect("python3");
        assert!(out.status.success(), "pyHanko (installed by scripts/test): {}", text(&out.stderr));
        return text(&out.stdout).contains(r#""verdict": "valid""#);
    } else {
        Command::new("openssl").args(["cms", "-verify", "-noverify", "-inform", "DER", "-out", "/dev/null", "-in"]).arg(path).output()
    };
    status.expect("openssl and xmlsec1 are installed by scripts/test").status.success()
}

#[test]
fn every_algorithm_verifies_and_agrees_with_openssl_xmlsec1_and_pyhanko() {
    let dir = root().join("tests/fixtures/algorithms");
    let rows = signature_rows(&dir, &["--no-db"]);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let ours = rows_for(&rows, &format!("/{name}"));
        assert_eq!(ours.len(), 1, "{name}: {ours:?}");
        let reference = reference_verdict(&path);
        let tampered = name.starts_with("sua-");
        assert_eq!(reference, !tampered, "{name}: the reference tool's verdict is the fixture's premise");
        let want = if tampered { "invalid" } else { "valid" };
        assert_eq!(ours[0]["integrity"], want, "{name}: {}", ours[0]["notes"]);
        files += 1;
    }
    assert_eq!(files, 18);
}

/// A detached signature inside a ZIP is checked against the member beside
/// it, an ASiC-S container's `META-INF/signature.p7s` against its data
/// object, an ASiC-E's against its manifest and the manifest's digests
/// (tests/fixtures/make-container-fixtures.sh); `openssl cms -verify` and
/// `openssl dgst` on the unpacked members give the reference verdicts.
#[test]
fn detached_signatures_in_archives_and_asic_s_are_verified_against_their_member() {
    let dir = root().join("tests/fixtures/containers");
    let rows = signature_rows(&dir, &["--no-db"]);
    for (file, signature, data) in [
        ("ho-so.zip", "Hồ sơ/Công văn.pdf.p7s", "Hồ sơ/Công văn.pdf"),
        ("sua-ho-so.zip", "Hồ sơ/Công văn.pdf.p7s", "Hồ sơ/Công văn.pdf"),
        ("to-trinh.asics", "META-INF/signature.p7s", "Tờ trình.pdf"),
        ("sua-to-trinh.asics", "META-INF/signature.p7s", "Tờ trình.pdf"),
    ] {
        let unpacked = tempfile::tempdir().unwrap();
        let member = |name: &str, to: &str| {
            let bytes = Command::new("unzip").arg("-p").arg(dir.join(file)).arg(name).output().unwrap().stdout;
            std::fs::write(unpacked.path().join(to), bytes).unwrap();
        };
        member(signature, "sig.p7s");
        member(data, "data");
        let reference = Command::new("openssl")
            .args(["cms", "-verify", "-noverify", "-binary", "-inform", "DER", "-out", "/dev/null", "-in"])
            .arg(unpacked.path().join("sig.p7s"))
            .arg("-content")
            .arg(unpacked.path().join("data"))
            .output()
            .unwrap()
            .status
            .success();
        assert_eq!(reference, !file.starts_with("sua-"), "{file}: the fixture's premise");
        let ours = rows_for(&rows, &format!("/{file}"));
        assert_eq!(ours.len(), 1, "{file}: {ours:?}");
        assert_eq!(ours[0]["member"], signature);
        assert_eq!(ours[0]["integrity"], if reference { "valid" } else { "invalid" }, "{file}: {}", ours[0]["notes"]);
    }
    // ASiC-E: the signature covers the manifest (valid in both containers, says
    // openssl); the manifest's digest of each data object, recomputed with
    // `openssl dgst`, decides (one object changed in the sua- twin).
    for (file, changed) in [("bo-ho-so.asice", false), ("sua-bo-ho-so.asice", true)] {
        let unzip = |name: &str| Command::new("unzip").arg("-p").arg(dir.join(file)).arg(name).output().unwrap().stdout;
        let manifest = text(&unzip("META-INF/ASiCManifest.xml"));
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("m.xml"), manifest.as_bytes()).unwrap();
        std::fs::write(t.path().join("m.p7s"), unzip("META-INF/signature001.p7s")).unwrap();
        let signed = Command::new("openssl")
            .args(["cms", "-verify", "-noverify", "-binary", "-inform", "DER", "-out", "/dev/null", "-in"])
            .arg(t.path().join("m.p7s"))
            .arg("-content")
            .arg(t.path().join("m.xml"))
            .output()
            .unwrap();
        assert!(signed.status.success(), "{file}: the manifest's signature verifies");
        std::fs::write(t.path().join("a.txt"), unzip("Phụ lục.txt")).unwrap();
        let digest = Command::new("sh").arg("-c").arg(format!("openssl dgst -sha256 -binary '{}' | base64", t.path().join("a.txt").display())).output().unwrap();
        assert_eq!(!manifest.contains(text(&digest.stdout).trim()), changed, "{file}: the premise");
        let ours = rows_for(&rows, &format!("/{file}"));
        assert_eq!(ours.len(), 1, "{file}: {ours:?}");
        assert_eq!(ours[0]["member"], "META-INF/signature001.p7s");
        assert_eq!(ours[0]["integrity"], if changed { "invalid" } else { "valid" }, "{file}: {}", ours[0]["notes"]);
    }
}

/// Revocation from the CRL a signature carries, judged at the signing time
/// (tests/fixtures/make-revocation-fixtures.sh: OpenSSL's `ca`). OpenSSL's
/// own check (`-crl_check`, at the current time) confirms which signers the
/// CRL revokes; we say whether that was before or after they signed.
#[test]
fn a_signer_revoked_before_signing_was_not_valid_at_signing() {
    let dir = root().join("tests/fixtures/revocation");
    let rows = signature_rows(&dir, &["--no-db", "--anchors", dir.to_str().unwrap()]);
    for (file, revoked, valid_at_signing, note) in [
        ("con-hieu-luc.p7m", false, "true", "not revoked according to the issuer's CRL of "),
        ("thu-hoi-sau.p7m", true, "true", "(KeyCompromise), after it signed"),
        ("thu-hoi-truoc.p7m", true, "false", "(KeyCompromise), before it signed: not valid at signing"),
    ] {
        let openssl = Command::new("openssl")
            .args(["cms", "-verify", "-crl_check", "-inform", "DER", "-out", "/dev/null", "-CAfile"])
            .arg(dir.join("ca.pem"))
            .arg("-in")
            .arg(dir.join(file))
            .output()
            .unwrap();
        assert_eq!(text(&openssl.stderr).contains("certificate revoked"), revoked, "{file}: the fixture's premise: {}", text(&openssl.stderr));
        let ours = rows_for(&rows, &format!("/{file}"));
        assert_eq!(ours.len(), 1, "{file}: {ours:?}");
        assert_eq!(ours[0]["integrity"], "valid");
        assert_eq!(ours[0]["cert_valid_at_signing"], valid_at_signing, "{file}: {}", ours[0]["notes"]);
        assert!(ours[0]["notes"].contains(note), "{file}: {}", ours[0]["notes"]);
    }
    // The same signers with the CA's OCSP response instead of its CRL;
    // `openssl ocsp -resp_text` reads each response's status.
    for (name, revoked, valid_at_signing, note) in [
        ("con-hieu-luc", false, "true", "not revoked according to an OCSP response of "),
        ("thu-hoi-sau", true, "true", "(KeyCompromise), after it signed"),
        ("thu-hoi-truoc", true, "false", "(KeyCompromise), before it signed: not valid at signing"),
    ] {
        let openssl = Command::new("openssl").args(["ocsp", "-noverify", "-resp_text", "-respin"]).arg(dir.join(format!("{name}.ocsp"))).output().unwrap();
        assert_eq!(text(&openssl.stdout).contains("Cert Status: revoked"), revoked, "{name}: {}", text(&openssl.stdout));
        let ours = rows_for(&rows, &format!("/{name}-ocsp.p7m"));
        assert_eq!(ours.len(), 1, "{name}: {ours:?}");
        assert_eq!(ours[0]["cert_valid_at_signing"], valid_at_signing, "{name}: {}", ours[0]["notes"]);
        assert!(ours[0]["notes"].contains(note), "{name}: {}", ours[0]["notes"]);
    }
    // pyHanko's LTV signature: the same CRL in the PDF's /DSS (and the signature's archival attribute).
    let ltv = rows_for(&rows, "/con-hieu-luc-ltv.pdf");
    assert_eq!(ltv.len(), 1, "{ltv:?}");
    assert!(reference_verdict(&dir.join("con-hieu-luc-ltv.pdf")), "pyHanko validates it");
    assert_eq!((ltv[0]["integrity"].as_str(), ltv[0]["cert_valid_at_signing"].as_str()), ("valid", "true"));
    assert!(ltv[0]["notes"].contains("not revoked according to the issuer's CRL of "), "{}", ltv[0]["notes"]);
}

/// Certification signatures (DocMDP) followed by an approval signature,
/// made by pyHanko (tests/fixtures/make-certification-fixtures.py): with
/// /P 2 that is allowed; with /P 1 it breaks the certification. pyHanko's
/// DocMDP verdict (`docmdp_ok`) is the reference.
#[test]
fn a_certification_with_p1_is_broken_by_a_later_signature() {
    let dir = root().join("tests/fixtures/certification");
    let rows = signature_rows(&dir, &["--no-db"]);
    for (file, broken) in [("p1-then-signed.pdf", true), ("p2-then-signed.pdf", false)] {
        let reference = Command::new("python3").arg(root().join("tests/fixtures/pyhanko-validate.py")).arg(dir.join(file)).output().unwrap();
        let line =
            text(&reference.stdout).lines().find(|l| l.contains(r#""field": "Certification""#)).map(str::to_owned).unwrap_or_else(|| panic!("{file}: {}", text(&reference.stderr)));
        assert!(line.contains(&format!(r#""docmdp_ok": {}"#, !broken)), "{file}: pyHanko says {line}");
        let cert = rows_for(&rows, &format!("/{file}")).into_iter().find(|r| r["member"] == "Certification").unwrap_or_else(|| panic!("{file}: {rows:?}"));
        assert_eq!(cert["integrity"], "valid");
        assert_eq!(cert["modified_after_signing"], if broken { "true" } else { "false" }, "{file}: {}", cert["notes"]);
        if broken {
            assert!(cert["notes"].contains("DocMDP permission (/P 1) allows no change"), "{}", cert["notes"]);
        }
    }
}
