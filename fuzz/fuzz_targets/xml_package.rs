#![no_main]
//! XML signatures and ZIP packages from arbitrary bytes: the XML tree,
//! C14N, XMLDSig core validation, and OOXML/ODF/ZIP handling through the
//! generic dispatcher. Seeds: tests/fixtures/xml and tests/fixtures/office.
use libfuzzer_sys::fuzz_target;
use sigaudit::formats;
use sigaudit::model::signature::Format;

fuzz_target!(|data: &[u8]| {
    let _ = formats::xml::extract(data, Format::Xml, None);
    let env = formats::Env::new(formats::Limits { max_unpacked_bytes: 64 << 20, ..formats::Limits::default() }, None);
    let _ = formats::extract_bytes(data, "f.docx", "", 0, &env);
});
