#![no_main]
//! XML signatures and ZIP packages from arbitrary bytes: the XML tree,
//! C14N, XMLDSig core validation, and OOXML/ODF/ZIP handling.
//! The body is sigaudit::fuzz::xml_package, which tests/all/robustness.rs
//! also runs over this target's corpus (fuzz/corpus/xml_package).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sigaudit::fuzz::xml_package(data));
