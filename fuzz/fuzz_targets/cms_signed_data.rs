#![no_main]
//! CMS SignedData from arbitrary bytes (BER/DER reader, SignerInfo model,
//! certificate parsing and signer lookup).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sd) = sigaudit::formats::cms::signed_data::SignedData::parse(data) {
        let _ = sigaudit::formats::cms::from_signed_data(&sd, sigaudit::model::signature::Format::Cms, "", sigaudit::formats::cms::Content::Bytes(&[data]));
    }
    let _ = sigaudit::asn1::ber::Tlv::parse(data).and_then(|t| t.to_der());
});
