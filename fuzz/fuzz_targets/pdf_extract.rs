#![no_main]
//! PDF signature extraction: lopdf's structure, the raw byte scan, CMS.
//! The body is sigaudit::fuzz::pdf_extract, which tests/all/robustness.rs
//! also runs over this target's corpus (fuzz/corpus/pdf_extract).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sigaudit::fuzz::pdf_extract(data));
