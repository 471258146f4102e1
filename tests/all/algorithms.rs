//! Issue 15: every signature algorithm in use, verified, and each verdict
//! the same as an independent tool's. The fixtures are made by OpenSSL 3
//! and xmlsec1 (tests/fixtures/make-algorithm-fixtures.sh): DSA, ECDSA on
//! P-521 and brainpoolP256r1/P384r1/P512r1, RSA-PSS, RSA with SHA3-256, XMLDSig
//! DSA; and by pyHanko (tests/fixtures/make-pdf-ed25519.py): Ed25519 and
//! Ed448 (SHAKE256) PDF signatures. Each has a tampered twin (`sua-*`).

use crate::common;

use std::process::Command;

use common::*;

/// Scans `dir` (no history) and returns its signatures.csv rows.
fn signature_rows(
    dir: &std::path::Path,
    extra: &[&str],
) -> Vec<std::collections::HashMap<String, String>> {
    let (out, report) = scan(&[dir], extra);
    assert!([0, 2].contains(&code(&out)), "{}", text(&out.stderr));
    read_csv(&report_dir(&report).join("signatures.csv"))
}

/// The independent tool's verdict on one fixture: true when it verifies.
fn reference_verdict(path: &std::path::Path) -> bool {
    let status = if path.extension().is_some_and(|e| e == "xml") {
        Command::new("xmlsec1").args(["--verify", "--insecure"]).arg(path).output()
    } else if path.extension().is_some_and(|e| e == "pdf") {
        let out = Command::new("python3")
            .arg(root().join("tests/fixtures/pyhanko-validate.py"))
            .arg(path)
            .output()
            .expect("python3");
        assert!(out.status.success(), "pyHanko (installed by scripts/test): {}", text(&out.stderr));
        return text(&out.stdout).contains(r#""verdict": "valid""#);
    } else {
        Command::new("openssl")
            .args(["cms", "-verify", "-noverify", "-inform", "DER", "-out", "/dev/null", "-in"])
            .arg(path)
            .output()
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
        assert_eq!(
            reference, !tampered,
            "{name}: the reference tool's verdict is the fixture's premise"
        );
        let want = if tampered { "invalid" } else { "valid" };
        assert_eq!(ours[0]["integrity"], want, "{name}: {}", ours[0]["notes"]);
        files += 1;
    }
    assert_eq!(files, 20);
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
        std::fs::write(unpacked.path().join("sig.p7s"), unzip_member(&dir.join(file), signature))
            .unwrap();
        std::fs::write(unpacked.path().join("data"), unzip_member(&dir.join(file), data)).unwrap();
        let reference = openssl_verifies_detached(
            &unpacked.path().join("sig.p7s"),
            &unpacked.path().join("data"),
        );
        assert_eq!(reference, !file.starts_with("sua-"), "{file}: the fixture's premise");
        let ours = rows_for(&rows, &format!("/{file}"));
        assert_eq!(ours.len(), 1, "{file}: {ours:?}");
        assert_eq!(ours[0]["member"], signature);
        assert_eq!(
            ours[0]["integrity"],
            if reference { "valid" } else { "invalid" },
            "{file}: {}",
            ours[0]["notes"]
        );
    }
    // ASiC-E: the signature covers the manifest (valid in both containers, says
    // openssl); the manifest's digest of each data object, recomputed with
    // `openssl dgst`, decides (one object changed in the sua- twin).
    for (file, changed) in [("bo-ho-so.asice", false), ("sua-bo-ho-so.asice", true)] {
        let unzip = |name: &str| unzip_member(&dir.join(file), name);
        let manifest = text(&unzip("META-INF/ASiCManifest.xml"));
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("m.xml"), manifest.as_bytes()).unwrap();
        std::fs::write(t.path().join("m.p7s"), unzip("META-INF/signature001.p7s")).unwrap();
        assert!(
            openssl_verifies_detached(&t.path().join("m.p7s"), &t.path().join("m.xml")),
            "{file}: the manifest's signature verifies"
        );
        std::fs::write(t.path().join("a.txt"), unzip("Phụ lục.txt")).unwrap();
        let digest = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "openssl dgst -sha256 -binary '{}' | base64",
                t.path().join("a.txt").display()
            ))
            .output()
            .unwrap();
        assert_eq!(!manifest.contains(text(&digest.stdout).trim()), changed, "{file}: the premise");
        let ours = rows_for(&rows, &format!("/{file}"));
        assert_eq!(ours.len(), 1, "{file}: {ours:?}");
        assert_eq!(ours[0]["member"], "META-INF/signature001.p7s");
        assert_eq!(
            ours[0]["integrity"],
            if changed { "invalid" } else { "valid" },
            "{file}: {}",
            ours[0]["notes"]
        );
    }
}

/// XAdES over files (xmlsec1, tests/fixtures/make-container-fixtures.sh):
/// in an ASiC-E container its references name the members; as a detached
/// file its references name the files beside it. xmlsec1, run where the
/// files are, is the reference; each has a twin with its appendix changed.
#[test]
fn xades_over_files_is_verified_in_asic_e_and_beside_the_signed_files() {
    let dir = root().join("tests/fixtures/containers");
    let rows = signature_rows(&dir, &["--no-db"]);
    let xmlsec_in = |folder: &std::path::Path, signature: &str| {
        Command::new("xmlsec1")
            .current_dir(folder)
            .args([
                "--verify",
                "--insecure",
                "--id-attr:Id",
                "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
                signature,
            ])
            .output()
            .unwrap()
            .status
            .success()
    };
    for (file, changed) in [("ho-so-xades.asice", false), ("sua-ho-so-xades.asice", true)] {
        let t = tempfile::tempdir().unwrap();
        assert!(
            Command::new("unzip")
                .arg("-q")
                .arg(dir.join(file))
                .arg("-d")
                .arg(t.path())
                .status()
                .unwrap()
                .success()
        );
        assert_eq!(
            xmlsec_in(t.path(), "META-INF/signatures001.xml"),
            !changed,
            "{file}: the fixture's premise"
        );
        let ours = rows_for(&rows, &format!("/{file}"));
        assert_eq!(ours.len(), 1, "{file}: {ours:?}");
        assert!(
            ours[0]["member"].starts_with("META-INF/signatures001.xml"),
            "{:?}",
            ours[0]["member"]
        );
        assert_eq!(
            ours[0]["integrity"],
            if changed { "invalid" } else { "valid" },
            "{file}: {}",
            ours[0]["notes"]
        );
    }
    for (folder, changed) in [("xades-ben-canh", false), ("sua-xades-ben-canh", true)] {
        assert_eq!(
            xmlsec_in(&dir.join(folder), "chu-ky.xml"),
            !changed,
            "{folder}: the fixture's premise"
        );
        let ours = rows_for(&rows, &format!("/{folder}/chu-ky.xml"));
        assert_eq!(ours.len(), 1, "{folder}: {ours:?}");
        assert_eq!(ours[0]["format"], "xml");
        assert_eq!(
            ours[0]["integrity"],
            if changed { "invalid" } else { "valid" },
            "{folder}: {}",
            ours[0]["notes"]
        );
        if changed {
            assert!(
                ours[0]["notes"].contains("Ph%E1%BB%A5%20l%E1%BB%A5c.txt"),
                "the changed file is named: {}",
                ours[0]["notes"]
            );
        }
    }
}

/// One member of a ZIP archive, unpacked by Info-ZIP's `unzip`.
fn unzip_member(archive: &std::path::Path, name: &str) -> Vec<u8> {
    Command::new("unzip").arg("-p").arg(archive).arg(name).output().unwrap().stdout
}

/// OpenSSL's verdict on a detached CMS signature over `content` (the
/// signature only: `-noverify` leaves the chain out).
fn openssl_verifies_detached(signature: &std::path::Path, content: &std::path::Path) -> bool {
    Command::new("openssl")
        .args([
            "cms",
            "-verify",
            "-noverify",
            "-binary",
            "-inform",
            "DER",
            "-out",
            "/dev/null",
            "-in",
        ])
        .arg(signature)
        .arg("-content")
        .arg(content)
        .output()
        .unwrap()
        .status
        .success()
}

/// OpenSSL's own revocation check of a CMS file (`cms -verify -crl_check`,
/// at the current time), with the CA and any CRLs in `ca_file`.
fn openssl_says_revoked(ca_file: &std::path::Path, signed: &std::path::Path) -> bool {
    let out = Command::new("openssl")
        .args(["cms", "-verify", "-crl_check", "-inform", "DER", "-out", "/dev/null", "-CAfile"])
        .arg(ca_file)
        .arg("-in")
        .arg(signed)
        .output()
        .unwrap();
    text(&out.stderr).contains("certificate revoked")
}

/// Signatures that carry no revocation data are checked against the CRLs
/// of the anchor folder (tests/fixtures/revocation-anchors: OpenSSL's CA
/// and CRL, DER). `openssl cms -verify -crl_check` confirms the
/// premise.
#[test]
fn the_anchor_folders_crl_serves_signatures_that_carry_none() {
    let dir = root().join("tests/fixtures/revocation-anchors");
    let anchors = dir.join("anchors");
    let rows = signature_rows(&dir, &["--no-db", "--anchors", anchors.to_str().unwrap()]);
    let bare = signature_rows(&dir, &["--no-db"]);
    // OpenSSL reads CRLs for `cms -verify` from the CA file, as PEM.
    let crl_pem = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-in"])
        .arg(anchors.join("ca.crl"))
        .output()
        .unwrap();
    let ca_and_crl = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        ca_and_crl.path(),
        [std::fs::read(anchors.join("ca.pem")).unwrap(), crl_pem.stdout].concat(),
    )
    .unwrap();
    for (file, revoked, valid_at_signing) in
        [("con-hieu-luc.p7m", false, "true"), ("thu-hoi-truoc.p7m", true, "false")]
    {
        assert_eq!(
            openssl_says_revoked(ca_and_crl.path(), &dir.join(file)),
            revoked,
            "{file}: the fixture's premise"
        );
        let ours = rows_for(&rows, &format!("/{file}"));
        assert_eq!(ours.len(), 1, "{file}: {ours:?}");
        assert_eq!(
            ours[0]["cert_valid_at_signing"], valid_at_signing,
            "{file}: {}",
            ours[0]["notes"]
        );
        assert!(
            ours[0]["notes"].contains(if revoked {
                "before it signed"
            } else {
                "not revoked according to the issuer's CRL"
            }),
            "{file}: {}",
            ours[0]["notes"]
        );
        // Without the folder nothing tells.
        let without = rows_for(&bare, &format!("/{file}"));
        assert!(
            !without[0]["notes"].contains("revoked")
                && without[0]["cert_valid_at_signing"] == "true",
            "{file}: {}",
            without[0]["notes"]
        );
    }
}

/// Revocation from the CRL a signature carries, judged at the signing time
/// (tests/fixtures/make-revocation-fixtures.sh: OpenSSL's `ca`). OpenSSL's
/// own check (`-crl_check`, at the current time) confirms which signers the
/// CRL revokes; we say whether that was before or after they signed.
#[test]
fn a_signer_revoked_before_signing_was_not_valid_at_signing() {
    let dir = root().join("tests/fixtures/revocation");
    let rows =
        signature_rows(&dir, &["--no-db", "--anchors", dir.join("anchors").to_str().unwrap()]);
    for (file, revoked, valid_at_signing, note) in [
        ("con-hieu-luc.p7m", false, "true", "not revoked according to the issuer's CRL of "),
        ("thu-hoi-sau.p7m", true, "true", "(KeyCompromise), after it signed"),
        (
            "thu-hoi-truoc.p7m",
            true,
            "false",
            "(KeyCompromise), before it signed: not valid at signing",
        ),
    ] {
        assert_eq!(
            openssl_says_revoked(&dir.join("anchors/ca.pem"), &dir.join(file)),
            revoked,
            "{file}: the fixture's premise"
        );
        let ours = rows_for(&rows, &format!("/{file}"));
        assert_eq!(ours.len(), 1, "{file}: {ours:?}");
        assert_eq!(ours[0]["integrity"], "valid");
        assert_eq!(
            ours[0]["cert_valid_at_signing"], valid_at_signing,
            "{file}: {}",
            ours[0]["notes"]
        );
        assert!(ours[0]["notes"].contains(note), "{file}: {}", ours[0]["notes"]);
    }
    // The same signers with the CA's OCSP response instead of its CRL;
    // `openssl ocsp -resp_text` reads each response's status.
    for (name, revoked, valid_at_signing, note) in [
        ("con-hieu-luc", false, "true", "not revoked according to an OCSP response of "),
        ("thu-hoi-sau", true, "true", "(KeyCompromise), after it signed"),
        ("thu-hoi-truoc", true, "false", "(KeyCompromise), before it signed: not valid at signing"),
    ] {
        let openssl = Command::new("openssl")
            .args(["ocsp", "-noverify", "-resp_text", "-respin"])
            .arg(dir.join(format!("{name}.ocsp")))
            .output()
            .unwrap();
        assert_eq!(
            text(&openssl.stdout).contains("Cert Status: revoked"),
            revoked,
            "{name}: {}",
            text(&openssl.stdout)
        );
        let ours = rows_for(&rows, &format!("/{name}-ocsp.p7m"));
        assert_eq!(ours.len(), 1, "{name}: {ours:?}");
        assert_eq!(
            ours[0]["cert_valid_at_signing"], valid_at_signing,
            "{name}: {}",
            ours[0]["notes"]
        );
        assert!(ours[0]["notes"].contains(note), "{name}: {}", ours[0]["notes"]);
    }
    // XAdES (signxml) with the CRL or the OCSP response in its
    // RevocationValues and the CA in CertificateValues; xmlsec1 verifies
    // each signature.
    for (name, valid_at_signing, note) in [
        ("con-hieu-luc", "true", "not revoked according to"),
        ("thu-hoi-truoc", "false", "(KeyCompromise), before it signed: not valid at signing"),
    ] {
        for kind in ["crl", "ocsp"] {
            let file = format!("{name}-xades-{kind}.xml");
            let xmlsec = Command::new("xmlsec1")
                .args(["--verify", "--id-attr:Id", "SignedProperties", "--trusted-pem"])
                .arg(dir.join("anchors/ca.pem"))
                .arg(dir.join(&file))
                .output()
                .unwrap();
            assert!(xmlsec.status.success(), "{file}: xmlsec1: {}", text(&xmlsec.stderr));
            let ours = rows_for(&rows, &format!("/{file}"));
            assert_eq!(ours.len(), 1, "{file}: {ours:?}");
            assert_eq!(
                (ours[0]["format"].as_str(), ours[0]["integrity"].as_str()),
                ("xml", "valid"),
                "{file}: {}",
                ours[0]["notes"]
            );
            assert_eq!(
                ours[0]["cert_valid_at_signing"], valid_at_signing,
                "{file}: {}",
                ours[0]["notes"]
            );
            assert!(ours[0]["notes"].contains(note), "{file}: {}", ours[0]["notes"]);
        }
    }
    // pyHanko's LTV signature: the same CRL in the PDF's /DSS (and the signature's archival
    // attribute).
    let ltv = rows_for(&rows, "/con-hieu-luc-ltv.pdf");
    assert_eq!(ltv.len(), 1, "{ltv:?}");
    assert!(reference_verdict(&dir.join("con-hieu-luc-ltv.pdf")), "pyHanko validates it");
    assert_eq!(
        (ltv[0]["integrity"].as_str(), ltv[0]["cert_valid_at_signing"].as_str()),
        ("valid", "true")
    );
    assert!(
        ltv[0]["notes"].contains("not revoked according to the issuer's CRL of "),
        "{}",
        ltv[0]["notes"]
    );
}
