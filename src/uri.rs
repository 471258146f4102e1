//! Percent-encoding of URIs: IMAP message URLs (RFC 5092) and the part
//! references of XML signatures in packages.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// `%XX` escapes decoded; anything malformed is kept as written.
pub(crate) fn percent_decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// What may stand unescaped in a URL path segment or user name (RFC 3986
/// unreserved and sub-delims, `:` and `@`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b'=')
    .remove(b':');

/// Escapes what may not stand in a URL path segment or user name.
pub(crate) fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_malformed_escapes() {
        assert_eq!(percent_decode("S%E1%BB%9F%20Y%20t%E1%BA%BF"), "Sở Y tế");
        assert_eq!(percent_decode("50%"), "50%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode(&percent_encode("vanthu@syt/Hộp thư")), "vanthu@syt/Hộp thư");
    }
}
