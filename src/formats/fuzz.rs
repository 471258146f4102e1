//! The fuzz targets' bodies (fuzz/fuzz_targets/*.rs), here so that
//! tests/all/robustness.rs replays every committed corpus (fuzz/corpus/TARGET)
//! through exactly what was fuzzed. Each takes arbitrary bytes and must
//! neither panic nor hang, whatever they are.

use super::{DocKind, Env, Limits, cms, extract_bytes, mail, pdf, sniff, xml};
use crate::model::signature::Format;

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// The targets by name, as cargo-fuzz and the corpus folders call them.
pub const TARGETS: [(&str, Target); 5] = [
    ("cms_file", cms_file),
    ("cms_signed_data", cms_signed_data),
    ("mail", mail),
    ("pdf_extract", pdf_extract),
    ("xml_package", xml_package),
];

/// A smaller unpack budget than a scan's: a fuzzer wants many runs a second.
fn env() -> Env<'static> {
    Env::new(Limits { max_unpacked_bytes: 64 << 20, ..Limits::default() }, None)
}

/// CMS files as found on disk: sniffing, PEM / base64 decoding, nesting.
pub fn cms_file(data: &[u8]) {
    if let Some(DocKind::Cms(enc)) = sniff(data, "f.p7m") {
        let _ = cms::extract(data, enc, &|| cms::Detached::Found {
            name: "data".into(),
            bytes: data.to_vec(),
        });
    }
}

/// The BER reader and SignedData parser, then signature verification.
pub fn cms_signed_data(data: &[u8]) {
    if let Ok(sd) = cms::signed_data::SignedData::parse(data) {
        let _ = cms::from_signed_data(&sd, Format::Cms, "", cms::Content::Bytes(&[data]));
    }
    let _ = crate::asn1::ber::Tlv::parse(data).and_then(|t| t.to_der());
}

/// Mail from arbitrary bytes: MIME parsing, S/MIME, mbox splitting, and
/// the containers mail carries (ZIP, .msg, TNEF) through the dispatcher.
pub fn mail(data: &[u8]) {
    let env = env();
    let _ = mail::extract_message(data, 0, &env);
    let _ = mail::extract_mbox(std::io::Cursor::new(data), 0, &env);
    let _ = extract_bytes(data, "f.eml", "", 0, &env);
}

/// PDF signature extraction: lopdf's structure, the raw byte scan, CMS.
pub fn pdf_extract(data: &[u8]) {
    let _ = pdf::extract(data);
}

/// XML signatures and ZIP packages: the XML tree, C14N, XMLDSig core
/// validation, and OOXML/ODF/ZIP handling through the dispatcher.
pub fn xml_package(data: &[u8]) {
    let _ = xml::extract(data, Format::Xml, None);
    let _ = extract_bytes(data, "f.docx", "", 0, &env());
}

/// Every parser on the same bytes, as the robustness tests feed mutated
/// real files: CMS or PDF by content, the generic dispatcher (mail, mbox,
/// ZIP, .msg, TNEF), a message, CMS with and without its data, SignedData.
pub fn every_parser(data: &[u8]) {
    let head = &data[..data.len().min(8192)];
    let missing = || cms::Detached::NotFound("no data file in this test".into());
    match sniff(head, "x.pdf") {
        Some(DocKind::Cms(enc)) => drop(cms::extract(data, enc, &missing)),
        _ => drop(pdf::extract(data)),
    }
    let env = Env::new(Limits::default(), None);
    drop(extract_bytes(data, "x", "", 0, &env));
    drop(mail::extract_message(data, 0, &env));
    drop(mail::extract_mbox(std::io::Cursor::new(data), 0, &env));
    let found = || cms::Detached::Found { name: "data".into(), bytes: data.to_vec() };
    drop(cms::extract(data, super::CmsEncoding::Binary, &found));
    drop(cms::signed_data::SignedData::parse(data));
}
