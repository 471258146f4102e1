#![no_main]
//! Mail from arbitrary bytes: MIME parsing, S/MIME, mbox splitting, and the
//! containers mail carries (ZIP, .msg, TNEF) through the generic dispatcher.
use libfuzzer_sys::fuzz_target;
use sigaudit::formats;

fuzz_target!(|data: &[u8]| {
    let env = formats::Env::new(formats::Limits { max_unpacked_bytes: 64 << 20, ..formats::Limits::default() }, None);
    let _ = formats::mail::extract_message(data, 0, &env);
    let _ = formats::mail::extract_mbox(std::io::Cursor::new(data), 0, &env);
    let _ = formats::extract_bytes(data, "f.eml", "", 0, &env);
});
