#![no_main]
//! Mail from arbitrary bytes: MIME parsing, S/MIME, mbox splitting, and the
//! containers mail carries (ZIP, .msg, TNEF) through the generic dispatcher.
//! The body is sigaudit::fuzz::mail, which tests/all/robustness.rs
//! also runs over this target's corpus (fuzz/corpus/mail).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sigaudit::fuzz::mail(data));
