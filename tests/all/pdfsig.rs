//! Our integrity verdicts against poppler's pdfsig (Debian's poppler-utils,
//! installed by scripts/test) on every signature of every corpus PDF.
//! Where the two differ, the table below says why pdfsig is wrong there (or
//! cannot tell); any other difference fails the test. Issue 23: on files
//! with signature dictionaries that no field references, our row counts
//! are pdfsig's (tests/fixtures/make-leftover-signature-fixtures.py).

use crate::common;

use std::collections::HashMap;

use common::*;

/// (file, field) -> (what pdfsig says, what we say, why they differ).
const DIFFERENCES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "dss_BadEncodedCMS.pdf",
        "Test Signature",
        "",
        "valid",
        "pdfsig cannot decode BER (indefinite-length) CMS and shows the field as unsigned; the \
         signature verifies",
    ),
    (
        "dss_encrypted.pdf",
        "Signature1",
        "unknown",
        "valid",
        "pdfsig does not validate inside an encrypted document; /Contents and the byte ranges are \
         never encrypted, and the signature verifies",
    ),
    (
        "dss_TeleSec_PKS_eIDAS_QES_CA_1-baseline-b.pdf",
        "Signature3",
        "unknown",
        "valid",
        "pdfsig (NSS) knows neither brainpool curves nor BSI plain-ECDSA (r‖s, \
         0.4.0.127.0.7.1.1.4.1.3): 'Unknown Validation Failure'; the signature on brainpoolP256r1 \
         verifies (bp256; pyca/cryptography agrees), issue 15",
    ),
    (
        "pyhanko_ed448-shake256-nolen.pdf",
        "Sig1",
        "unknown",
        "valid",
        "pdfsig (NSS) does not verify Ed448 with SHAKE256 ('Unknown Validation Failure'); pyHanko \
         and ed448-goldilocks do (issue 15)",
    ),
    (
        "pyhanko_sig-with-ski-sid.pdf",
        "Sig1",
        "unknown",
        "valid",
        "pdfsig (NSS) does not find a signer named by subject key identifier; we do, and the \
         signature verifies",
    ),
    (
        "endesive_pdf-adobe-webcapture-x509.rsa_sha1.pdf",
        "Alice-1-1096825554",
        "timestamp",
        "valid",
        "pdfsig does not verify adbe.x509.rsa_sha1 ('not yet verified'); the PKCS#1 signature \
         over the SHA-1 of the byte ranges verifies with /Cert",
    ),
    (
        "dss_pdf-with-empty-sig.pdf",
        "Signature1",
        "unknown",
        "",
        "an all-zero /Contents is an unsigned placeholder, not a signature (MANIFEST: 0 \
         signatures)",
    ),
    (
        "dss_signature-referenced-from-multiple-fields.pdf",
        "signature-test2",
        "valid",
        "",
        "two fields share one signature value: one signature, reported once under the first field \
         (MANIFEST: 1)",
    ),
    (
        "dss_pdf-spoofing-attack.pdf",
        "Sig2",
        "",
        "",
        "pdfsig cannot decode the copied value in the final revision's field Sig2; the raw scan \
         finds the original signature of field Sig1 in revision 2: valid over its own revision, \
         modified_after_signing=true because the final document no longer refers to it",
    ),
];

/// pdfsig's blocks: field name -> verdict ("valid", "invalid", "unknown",
/// "" when it gives none, "timestamp" for unverified document timestamps).
pub(crate) fn pdfsig(file: &std::path::Path) -> HashMap<String, String> {
    let out = std::process::Command::new("pdfsig")
        .arg("-nocert")
        .arg(file)
        .output()
        .expect("pdfsig is installed (poppler-utils)");
    let mut map = HashMap::new();
    let mut field: Option<String> = None;
    for line in text(&out.stdout).lines() {
        let line = line.trim();
        if let Some(f) = line.strip_prefix("- Signature Field Name: ") {
            field = Some(f.to_owned());
            map.insert(f.to_owned(), String::new());
        } else if let (Some(v), Some(f)) = (line.strip_prefix("- Signature Validation: "), &field) {
            let verdict = match v {
                "Signature is Valid." => "valid",
                "Digest Mismatch." | "Signature is Invalid." => "invalid",
                "Signature has not yet been verified." => "timestamp",
                _ => "unknown",
            };
            map.insert(f.clone(), verdict.to_owned());
        }
    }
    map
}

#[test]
fn integrity_agrees_with_pdfsig_on_the_corpus() {
    let Some(dir) =
        shared_or_skip("pdfsig::integrity_agrees_with_pdfsig_on_the_corpus", "corpus/pdf")
    else {
        return;
    };
    let (_, report) = scan(&[&dir], &[]);
    let rows = read_csv(&report_dir(&report).join("signatures.csv"));
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let ours: HashMap<&str, &str> = rows_for(&rows, &format!("/{name}"))
            .iter()
            .map(|r| (r["member"].as_str(), r["integrity"].as_str()))
            .collect();
        for (field, theirs) in pdfsig(path) {
            let mine = ours.get(field.as_str()).copied().unwrap_or("");
            if theirs == "timestamp" && mine.is_empty() {
                continue; // a document timestamp: not a signer row, as docs/report-format.md says
            }
            compared += 1;
            let explained = DIFFERENCES
                .iter()
                .any(|(f, fld, t, m, _)| *f == name && *fld == field && *t == theirs && *m == mine);
            if theirs != mine && !explained {
                disagreements
                    .push(format!("{name} [{field}]: pdfsig {theirs:?}, sigaudit {mine:?}"));
            }
        }
    }
    assert!(compared >= 50, "only {compared} signatures compared");
    assert!(
        disagreements.is_empty(),
        "unexplained differences from pdfsig:\n{}",
        disagreements.join("\n")
    );
}

#[test]
fn documented_differences_hold() {
    // Each explained difference is still what we say (no silent drift).
    let Some(dir) = shared_or_skip("pdfsig::documented_differences_hold", "corpus/pdf") else {
        return;
    };
    let (_, report) = scan(&[&dir], &[]);
    let rows = read_csv(&report_dir(&report).join("signatures.csv"));
    for (file, field, _, mine, why) in DIFFERENCES {
        let r = rows_for(&rows, &format!("/{file}"));
        if *file == "dss_pdf-with-empty-sig.pdf" {
            assert!(r.is_empty(), "{file}: {why}");
        } else if *file == "dss_signature-referenced-from-multiple-fields.pdf" {
            assert_eq!(r.len(), 1, "{file}: {why}");
        } else if mine.is_empty() {
            let raw =
                r.iter().find(|r| r["member"] == "Sig1").unwrap_or_else(|| panic!("{file}: {why}"));
            assert_eq!(
                (raw["integrity"].as_str(), raw["modified_after_signing"].as_str()),
                ("valid", "true"),
                "{file}: {why}"
            );
        } else {
            let row = r
                .iter()
                .find(|r| r["member"] == *field)
                .unwrap_or_else(|| panic!("{file} [{field}] missing"));
            assert_eq!(row["integrity"], *mine, "{file}: {why}");
        }
    }
}

/// Signature dictionaries (`/Type /Sig`) in a file's bytes, referenced or not.
fn sig_dictionaries(file: &std::path::Path) -> usize {
    let bytes = std::fs::read(file).unwrap();
    bytes.windows(11).filter(|w| w == b"/Type /Sig\n").count()
}

#[test]
fn leftover_signature_dictionaries_are_no_rows_so_counts_equal_pdfsigs() {
    let dir = root().join("tests/fixtures/leftover-signatures");
    let (_, report) =
        scan(&[&dir], &["--no-db", "--rules", root().join("samples/rules").to_str().unwrap()]);
    let rows = read_csv(&report_dir(&report).join("signatures.csv"));
    let errors = read_csv(&report_dir(&report).join("errors.csv"));
    assert!(errors.is_empty(), "{errors:?}");

    // One real signature and three dictionaries no field uses, which do not verify.
    let file = dir.join("three-leftovers.pdf");
    assert_eq!(sig_dictionaries(&file), 4, "the fixture holds the three leftovers");
    let theirs = pdfsig(&file);
    let ours = rows_for(&rows, "/three-leftovers.pdf");
    assert_eq!(
        (ours.len(), theirs.len()),
        (1, 1),
        "one row, as pdfsig shows one signature: {ours:?}"
    );
    assert_eq!(
        (ours[0]["member"].as_str(), ours[0]["integrity"].as_str()),
        ("Signature1", "valid")
    );
    assert_eq!(theirs["Signature1"], "valid");
    assert!(
        ours[0]["notes"].contains(
            "3 signature dictionaries that no field uses and that do not verify (left by the \
             signing software)"
        ),
        "{}",
        ours[0]["notes"]
    );

    // A dictionary no field uses that verifies: a row pdfsig does not show, with a note.
    let file = dir.join("hidden-valid.pdf");
    assert_eq!(sig_dictionaries(&file), 2);
    let theirs = pdfsig(&file);
    let ours = rows_for(&rows, "/hidden-valid.pdf");
    assert_eq!((ours.len(), theirs.len()), (2, 1), "{ours:?}");
    let hidden = ours.iter().find(|r| !theirs.contains_key(&r["member"])).unwrap();
    assert_eq!(hidden["integrity"], "valid");
    assert!(
        hidden["notes"].contains("no form field references this signature dictionary: PDF readers"),
        "{}",
        hidden["notes"]
    );
    let real = ours.iter().find(|r| r["member"] == "Signature1").unwrap();
    assert_eq!((real["integrity"].as_str(), theirs["Signature1"].as_str()), ("valid", "valid"));
    assert!(!real["notes"].contains("no field"), "{}", real["notes"]);

    // Leftovers and no field at all: pdfsig shows nothing; they stay rows
    // (nothing else represents the file), each saying why.
    let file = dir.join("only-leftovers.pdf");
    assert_eq!(sig_dictionaries(&file), 3);
    assert!(pdfsig(&file).is_empty());
    let ours = rows_for(&rows, "/only-leftovers.pdf");
    assert_eq!(ours.len(), 3, "{ours:?}");
    for r in ours {
        assert_eq!(r["integrity"], "invalid");
        assert!(
            r["notes"].contains(
                "no form field references this signature dictionary and it does not verify"
            ),
            "{}",
            r["notes"]
        );
    }
}
