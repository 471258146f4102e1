//! Verification verdicts on signatures made by real tools (pyHanko, openssl;
//! samples/make-samples.py): integrity, modification after signing,
//! certificate validity at signing time, key usage, chain exactness.

use crate::common;

use std::collections::HashMap;
use std::sync::OnceLock;

use common::*;

type Row = HashMap<String, String>;

fn sample_rows() -> &'static (Vec<Row>, tempfile::TempDir) {
    static ROWS: OnceLock<(Vec<Row>, tempfile::TempDir)> = OnceLock::new();
    ROWS.get_or_init(|| {
        let root = root();
        let (out, dir) = scan(
            &[&root.join("samples/share")],
            &["--rules", root.join("samples/rules").to_str().unwrap()],
        );
        assert_eq!(code(&out), 2, "{}", text(&out.stderr));
        check_report(&report_dir(&dir));
        (read_csv(&report_dir(&dir).join("signatures.csv")), dir)
    })
}

fn one(suffix: &str) -> &'static Row {
    let rows = rows_for(&sample_rows().0, suffix);
    assert_eq!(rows.len(), 1, "{suffix}");
    rows[0]
}

fn verdict(r: &Row) -> (&str, &str, &str) {
    (
        r["integrity"].as_str(),
        r["modified_after_signing"].as_str(),
        r["cert_valid_at_signing"].as_str(),
    )
}

#[test]
fn a_valid_signature_is_valid() {
    let r = one("Công văn 56-SYT.pdf");
    assert_eq!(verdict(r), ("valid", "false", "true"));
    assert!(r["notes"].contains("signature covers the entire file"), "{}", r["notes"]);
}

#[test]
fn one_flipped_byte_in_the_signed_range_is_invalid() {
    let r = one("Công văn 78 (sửa 1 byte).pdf");
    assert_eq!(r["integrity"], "invalid");
    assert!(r["notes"].contains("does not match messageDigest"), "{}", r["notes"]);
    assert_eq!(r["ca_class"], "government", "the chain is fine; the document is not");
}

#[test]
fn content_appended_after_signing_is_a_modification() {
    let r = one("Quyết định 77 (sửa sau khi ký).pdf");
    assert_eq!(verdict(r), ("valid", "true", "true"), "the signed revision itself is intact");
    assert!(
        r["notes"].contains("MODIFIED AFTER SIGNING: signature covers revision 2 of 3"),
        "{}",
        r["notes"]
    );
    assert!(r["notes"].contains("Page"), "{}", r["notes"]);
}

#[test]
fn a_later_signature_is_not_a_modification_of_the_earlier_one() {
    let rows = rows_for(&sample_rows().0, "Tờ trình (ký 2 lần).pdf");
    let first = rows.iter().find(|r| r["member"] == "Signature1").unwrap();
    let second = rows.iter().find(|r| r["member"] == "Signature2").unwrap();
    assert_eq!(verdict(first), ("valid", "false", "true"));
    assert!(
        first["notes"].contains("later update(s) add only")
            && first["notes"].contains("signatures"),
        "{}",
        first["notes"]
    );
    assert_eq!(verdict(second), ("valid", "false", "true"));
    assert!(second["notes"].contains("covers the entire file"));
}

#[test]
fn algorithms_rsa_pss_ecdsa_p384_and_sha1_verify() {
    for suffix in [
        "Hợp đồng (RSA-PSS).pdf",
        "Biên bản (ECDSA P-384).pdf",
        "Quyết định cũ (SHA-1).pdf",
        "Quyết định 45-QĐ-UBND.pdf",
    ] {
        assert_eq!(one(suffix)["integrity"], "valid", "{suffix}: {}", one(suffix)["notes"]);
    }
    let inspect = run(bin()
        .arg("inspect")
        .arg(root().join("samples/share/Sở Xây dựng/Hợp đồng (RSA-PSS).pdf")));
    assert!(
        text(&inspect.stdout).contains("signature algorithm: RSA-PSS"),
        "{}",
        text(&inspect.stdout)
    );
    let inspect = run(bin()
        .arg("inspect")
        .arg(root().join("samples/share/Sở Xây dựng/Quyết định cũ (SHA-1).pdf")));
    assert!(text(&inspect.stdout).contains("Hash algorithm: SHA-1"), "{}", text(&inspect.stdout));
}

#[test]
fn a_certificate_expired_at_signing_time_is_reported() {
    let r = one("Tờ trình (chứng thư hết hạn).pdf");
    assert_eq!(verdict(r), ("valid", "false", "false"));
    assert!(r["notes"].contains("was expired at signing time"), "{}", r["notes"]);
}

#[test]
fn a_key_not_meant_for_signing_is_noted() {
    let r = one("Thông báo (khóa không dùng để ký).pdf");
    assert!(r["notes"].contains("neither digitalSignature nor nonRepudiation"), "{}", r["notes"]);
}

#[test]
fn a_missing_intermediate_leaves_the_chain_incomplete() {
    let r = one("Công văn 9 (thiếu CA trung gian).pdf");
    assert_eq!(
        (r["ca_class"].as_str(), r["classified_by"].as_str(), r["chain"].as_str()),
        ("government", "dn", "incomplete")
    );
    assert_eq!(r["integrity"], "valid");
}

#[test]
fn a_forged_chain_is_broken() {
    let r = one("Kết quả thi (giả mạo).pdf");
    assert_eq!((r["ca_class"].as_str(), r["chain"].as_str()), ("untrusted", "broken"));
}

#[test]
fn detached_cms_is_checked_against_the_file_beside_it() {
    assert_eq!(one("Hợp đồng mua sắm.pdf.p7s")["integrity"], "valid");
    let r = one("Báo cáo tài chính 2024.csv.p7s");
    assert_eq!(r["integrity"], "unknown");
    assert!(r["notes"].contains("not beside the signature"), "{}", r["notes"]);
    assert_eq!(one("Dự toán 2025.csv.p7m")["integrity"], "valid");
    assert_eq!(one("Hóa đơn 123.xml.p7m")["integrity"], "valid");
}

#[test]
fn samples_show_every_verdict() {
    let rows = &sample_rows().0;
    for (col, values) in [
        ("integrity", &["valid", "invalid", "unknown"][..]),
        ("modified_after_signing", &["true", "false"][..]),
        ("cert_valid_at_signing", &["true", "false"][..]),
        ("chain", &["verified", "incomplete", "broken"][..]),
    ] {
        for v in values {
            assert!(rows.iter().any(|r| r[col] == *v), "no sample with {col}={v}");
        }
    }
}

#[test]
fn a_tampered_cms_file_is_invalid() {
    // The attached content of a real .p7m edited after signing: same length,
    // so the structure still parses.
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes =
        std::fs::read(root().join("samples/share/Sở Tài chính/Dự toán 2025.csv.p7m")).unwrap();
    let at = bytes.windows(9).position(|w| w == b"120000000").unwrap();
    bytes[at] = b'9';
    std::fs::write(tmp.path().join("sửa.p7m"), &bytes).unwrap();
    let (out, dir) =
        scan(&[tmp.path()], &["--rules", root().join("samples/rules").to_str().unwrap()]);
    assert_eq!(code(&out), 0);
    let rows = read_csv(&report_dir(&dir).join("signatures.csv"));
    assert_eq!(rows[0]["integrity"], "invalid", "{}", rows[0]["notes"]);
    let agencies = read_csv(&report_dir(&dir).join("agencies.csv"));
    assert_eq!(
        agencies.iter().map(|a| a["invalid_signatures"].parse::<usize>().unwrap()).sum::<usize>(),
        1
    );
}

fn corpus_rows() -> &'static Vec<Row> {
    static ROWS: OnceLock<(Vec<Row>, tempfile::TempDir)> = OnceLock::new();
    &ROWS
        .get_or_init(|| {
            let (_, dir) = scan(&[&shared_dir().join("corpus/pdf")], &[]);
            (read_csv(&report_dir(&dir).join("signatures.csv")), dir)
        })
        .0
}

fn corpus(file: &str, member: &str) -> &'static Row {
    corpus_rows()
        .iter()
        .find(|r| r["file"].ends_with(file) && r["member"] == member)
        .unwrap_or_else(|| panic!("{file} [{member}]"))
}

#[test]
fn byte_ranges_that_do_not_bracket_the_contents_are_invalid() {
    if shared_or_skip(
        "integrity::byte_ranges_that_do_not_bracket_the_contents_are_invalid",
        "corpus/pdf",
    )
    .is_none()
    {
        return;
    }
    // The second /ByteRange overlaps the first signature's gap.
    let r = corpus("dss_pdf-byterange-overlap.pdf", "Signature2");
    assert_eq!(r["integrity"], "invalid");
    assert!(r["notes"].contains("more than the /Contents hex string"), "{}", r["notes"]);
    // The second /ByteRange edited to point at the first signature's value.
    let r = corpus("dss_hello_signed_INCSAVE_signed_EDITED.pdf", "Signature2");
    assert!(r["notes"].contains("another signature value"), "{}", r["notes"]);
    // A /ByteRange reaching past the end of the file.
    let r = corpus("dss_pades_infinite_loop.pdf", "CSGN_Signature: D:20191031184401");
    assert!(r["notes"].contains("past the end of the file"), "{}", r["notes"]);
    assert_eq!(r["integrity"], "invalid");
}

#[test]
fn legacy_subfilters_and_sha512_verify() {
    if shared_or_skip("integrity::legacy_subfilters_and_sha512_verify", "corpus/pdf").is_none() {
        return;
    }
    // adbe.pkcs7.sha1 (the signed content is the SHA-1 of the byte ranges).
    assert_eq!(corpus("dss_pkcs7_sha1.pdf", "Signature1")["integrity"], "valid");
    // adbe.x509.rsa_sha1 (a bare PKCS#1 value, certificate in /Cert).
    let webcapture = "endesive_pdf-adobe-webcapture-x509.rsa_sha1.pdf";
    assert_eq!(corpus(webcapture, "Alice-1-1096825554")["integrity"], "valid");
    // SHA-512 with RSA.
    assert_eq!(corpus("dss_Signature-P-BG_BOR-1.pdf", "Signature1")["integrity"], "valid");
    // BER CMS that pdfsig cannot read.
    assert_eq!(corpus("dss_BadEncodedCMS.pdf", "Test Signature")["integrity"], "valid");
    // Ed448 with SHAKE256 (issue 15; pyHanko agrees, tests/all/pyhanko.rs).
    assert_eq!(corpus("pyhanko_ed448-shake256-nolen.pdf", "Sig1")["integrity"], "valid");
}

#[test]
fn ltv_updates_after_a_signature_are_not_modifications() {
    if shared_or_skip(
        "integrity::ltv_updates_after_a_signature_are_not_modifications",
        "corpus/pdf",
    )
    .is_none()
    {
        return;
    }
    // Signature, then document timestamps and DSS (LTV) data in later revisions.
    let r = corpus("dss_Signature-P-SK-6.pdf", "Signature1");
    assert_eq!((r["integrity"].as_str(), r["modified_after_signing"].as_str()), ("valid", "false"));
    assert!(
        r["notes"].contains("covers the entire revision 3 of 6")
            && r["notes"].contains("DSS (LTV) data"),
        "{}",
        r["notes"]
    );
}

#[test]
fn signature_timestamps_are_verified_and_used_for_validity() {
    let Some(pdfs) = shared_or_skip(
        "integrity::signature_timestamps_are_verified_and_used_for_validity",
        "corpus/pdf",
    ) else {
        return;
    };
    let out = run(bin().arg("inspect").arg(pdfs.join("dss_Signature-P-SK-6.pdf")));
    let text = text(&out.stdout);
    assert!(
        text.contains(
            "Signature timestamp: 2013-04-03T08:07:27Z (imprint and token signature verified)"
        ),
        "{text}"
    );
    assert!(text.contains("Certificate valid at signing time: yes"), "{text}");
    // A document timestamp's own imprint over the byte ranges.
    assert!(
        text.contains(
            "Signature Validation: valid (timestamp imprint and token signature verified)"
        ),
        "{text}"
    );
}

#[test]
fn encrypted_pdfs_are_verified_from_their_clear_signature_bytes() {
    if shared_or_skip(
        "integrity::encrypted_pdfs_are_verified_from_their_clear_signature_bytes",
        "corpus/pdf",
    )
    .is_none()
    {
        return;
    }
    // Public-key encryption: no password, yet /Contents and the byte ranges are clear.
    let r = corpus("pyhanko_signed-encrypted-pubkey-with-catalog-ref.pdf", "signature 1");
    assert_eq!((r["integrity"].as_str(), r["modified_after_signing"].as_str()), ("valid", "false"));
    assert!(r["notes"].contains("could not be decrypted"), "{}", r["notes"]);
    // `/Encrypt null` in a later trailer (a spoofing trick) is not encryption:
    // the later update that dropped the signature is a modification.
    let r = corpus("dss_pdf-spoofing-attack.pdf", "Sig1");
    assert_eq!(r["modified_after_signing"], "true", "{}", r["notes"]);
}
