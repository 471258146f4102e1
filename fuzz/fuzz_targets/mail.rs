#![no_main]
//! Mail from arbitrary bytes: MIME parsing, S/MIME, mbox splitting, and the
//! containers mail carries (ZIP, .msg, TNEF) through the generic dispatcher.
use libfuzzer_sys::fuzz_target;
use sigaudit::extract;

fuzz_target!(|data: &[u8]| {
    let env = extract::Env::new(extract::Limits { max_unpacked_bytes: 64 << 20, ..extract::Limits::default() }, None);
    let _ = extract::mail::extract_message(data, 0, &env);
    let _ = extract::mail::extract_mbox(std::io::Cursor::new(data), 0, &env);
    let _ = extract::extract_bytes(data, "f.eml", "", 0, &env);
});
