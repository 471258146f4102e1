#![no_main]
//! CMS files as found on disk: sniffing, PEM / base64 decoding, nesting.
use libfuzzer_sys::fuzz_target;
use sigaudit::formats::{self, DocKind};

fuzz_target!(|data: &[u8]| {
    if let Some(DocKind::Cms(enc)) = formats::sniff(data, "f.p7m") {
        let _ = formats::cms::extract(data, enc, &|| formats::cms::Detached::Found { name: "data".into(), bytes: data.to_vec() });
    }
});
