#![no_main]
//! CMS files as found on disk: sniffing, PEM / base64 decoding, nesting.
//! The body is sigaudit::fuzz::cms_file, which tests/all/robustness.rs
//! also runs over this target's corpus (fuzz/corpus/cms_file).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sigaudit::fuzz::cms_file(data));
