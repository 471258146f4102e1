//! PEM (RFC 7468) and the lenient base64 that mail and file formats carry:
//! the one reader for every `-----BEGIN ...-----` block sigaudit meets.

use base64::Engine as _;

use super::ber::BerError;

/// Base64 with white space anywhere and the padding possibly missing.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, BerError> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let unpadded = clean.trim_end_matches('=');
    let padded = format!("{unpadded}{}", "=".repeat((4 - unpadded.len() % 4) % 4));
    base64::engine::general_purpose::STANDARD
        .decode(padded)
        .map_err(|e| BerError::Base64(e.to_string()))
}

/// Every PEM block of `bytes`: its label (`CERTIFICATE`, `PKCS7`, `CMS`,
/// ...) and its decoded content, or why it could not be read.
pub fn blocks(bytes: &[u8]) -> Vec<Result<(String, Vec<u8>), BerError>> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find("-----BEGIN ") {
        let after_begin = &rest[start + 11..];
        let Some(label_end) = after_begin.find("-----") else { break };
        let label = after_begin[..label_end].to_owned();
        let body = &after_begin[label_end + 5..];
        let end_line = format!("-----END {label}-----");
        let Some(end) = body.find(&end_line) else {
            out.push(Err(BerError::PemWithoutEnd(label)));
            break;
        };
        out.push(decode_base64(&body[..end]).map(|der| (label.clone(), der)));
        rest = &body[end + end_line.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn blocks_with_any_label_and_loose_base64() {
        let text = b"junk\n\
            -----BEGIN CERTIFICATE-----\nAQID\nBA\n-----END CERTIFICATE-----\n\
            -----BEGIN PKCS7-----\nBQY=\n-----END PKCS7-----\n\
            -----BEGIN X-----\nAAAA";
        let got = super::blocks(text);
        assert_eq!(got[0], Ok(("CERTIFICATE".into(), vec![1, 2, 3, 4])));
        assert_eq!(got[1], Ok(("PKCS7".into(), vec![5, 6])));
        assert!(got[2].as_ref().is_err_and(|e| e.to_string().contains("without its END line")));
    }
}
