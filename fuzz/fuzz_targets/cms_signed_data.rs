#![no_main]
//! CMS SignedData from arbitrary bytes (BER/DER reader, SignerInfo model,
//! certificate parsing and signer lookup).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sd) = sigaudit::signature::cms::SignedData::parse(data) {
        let _ = sigaudit::signature::from_signed_data(&sd, sigaudit::signature::Format::Cms, "", sigaudit::signature::Content::Bytes(&[data]));
    }
    let _ = sigaudit::asn1::ber::Tlv::parse(data).and_then(|t| t.to_der());
});
