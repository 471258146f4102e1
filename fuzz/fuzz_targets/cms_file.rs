#![no_main]
//! CMS files as found on disk: sniffing, PEM / base64 decoding, nesting.
use libfuzzer_sys::fuzz_target;
use sigaudit::extract::{self, DocKind};

fuzz_target!(|data: &[u8]| {
    if let Some(DocKind::Cms(enc)) = extract::sniff(data, "f.p7m") {
        let _ = extract::cms_file::extract(data, enc, &|| extract::cms_file::Detached::Found { name: "data".into(), bytes: data.to_vec() });
    }
});
