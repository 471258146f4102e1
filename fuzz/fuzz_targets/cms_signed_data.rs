#![no_main]
//! The BER reader and SignedData parser, then signature verification.
//! The body is sigaudit::fuzz::cms_signed_data, which tests/all/robustness.rs
//! also runs over this target's corpus (fuzz/corpus/cms_signed_data).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sigaudit::fuzz::cms_signed_data(data));
