#![no_main]
//! PDF extraction from arbitrary bytes: lopdf structure pass, raw byte
//! scan, CMS in /Contents.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sigaudit::formats::pdf::extract(data);
});
