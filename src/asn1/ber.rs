//! A small BER/DER reader that keeps every element's original bytes.
//!
//! Real-world CMS is BER as often as DER (indefinite lengths from streaming
//! signers, constructed OCTET STRINGs), and integrity checks need the exact
//! bytes that were signed. Strict DER crates either reject BER or re-encode
//! (re-sorting SET OF), so this reader only *locates* elements: it never
//! rebuilds them unless asked for a DER copy with [`Tlv::to_der`].

use std::borrow::Cow;

/// Nesting deeper than this is treated as hostile input.
pub(crate) const MAX_DEPTH: usize = 48;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BerError {
    #[error("input ends inside an element (at byte {0})")]
    Truncated(usize),
    #[error("length field too long at byte {0}")]
    BadLength(usize),
    #[error("indefinite length on a primitive element at byte {0}")]
    IndefinitePrimitive(usize),
    #[error("elements nested more than {MAX_DEPTH} deep")]
    TooDeep,
    #[error("expected {expected}, found tag 0x{found:02x} at byte {at}")]
    UnexpectedTag { expected: &'static str, found: u8, at: usize },
    #[error("missing element: {0}")]
    Missing(&'static str),
    #[error("base64 text does not decode: {0}")]
    Base64(String),
    #[error("PEM block {0} without its END line")]
    PemWithoutEnd(String),
}

/// Tag classes and universal tag numbers the CMS code needs.
pub(crate) mod tag {
    pub(crate) const INTEGER: u8 = 0x02;
    pub(crate) const BIT_STRING: u8 = 0x03;
    pub(crate) const OCTET_STRING: u8 = 0x04;
    pub(crate) const NULL: u8 = 0x05;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const ENUMERATED: u8 = 0x0a;
    pub(crate) const UTC_TIME: u8 = 0x17;
    pub(crate) const GENERALIZED_TIME: u8 = 0x18;
    pub(crate) const SEQUENCE: u8 = 0x30;
    pub(crate) const SET: u8 = 0x31;
    /// Bit 6 of the identifier octet: constructed encoding.
    pub(crate) const CONSTRUCTED: u8 = 0x20;
    /// `[n]` context-specific constructed.
    pub(crate) const fn context(n: u8) -> u8 {
        0xa0 | n
    }
    /// `[n]` context-specific primitive (IMPLICIT over a primitive type).
    pub(crate) const fn context_primitive(n: u8) -> u8 {
        0x80 | n
    }
}

/// One element: its identifier octet, where it sits, and its content.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    /// The first identifier octet (high tag numbers keep 0x1f here).
    pub tag: u8,
    /// The whole encoding: identifier, length, content and, for an
    /// indefinite length, the end-of-contents octets.
    pub raw: &'a [u8],
    /// The content octets only (children for a constructed element).
    pub body: &'a [u8],
    /// Offset of `raw` within the buffer given to [`Tlv::parse`].
    pub offset: usize,
    pub indefinite: bool,
}

impl<'a> Tlv<'a> {
    /// Reads one element from the start of `input`. Bytes after it are ignored:
    /// callers use `raw.len()` to know how much was consumed (trailing padding
    /// after a PDF's `/Contents` CMS is normal).
    pub fn parse(input: &'a [u8]) -> Result<Tlv<'a>, BerError> {
        parse_at(input, 0, 0)
    }

    pub fn is_constructed(&self) -> bool {
        self.tag & tag::CONSTRUCTED != 0
    }

    /// The children of a constructed element, in order.
    pub fn children(&self) -> Children<'a> {
        Children {
            rest: self.body,
            base: self.offset
                + (self.raw.len() - self.body.len() - if self.indefinite { 2 } else { 0 }),
            depth: 1,
        }
    }

    /// Checks the tag, for readable errors on unexpected structures.
    pub fn expect(self, want: u8, name: &'static str) -> Result<Tlv<'a>, BerError> {
        if self.tag == want {
            Ok(self)
        } else {
            Err(BerError::UnexpectedTag { expected: name, found: self.tag, at: self.offset })
        }
    }

    /// The value of a (possibly constructed, BER-segmented) string type:
    /// segments of a constructed OCTET STRING are joined.
    pub fn string_bytes(&self) -> Result<Cow<'a, [u8]>, BerError> {
        if !self.is_constructed() {
            return Ok(Cow::Borrowed(self.body));
        }
        let mut out = Vec::with_capacity(self.body.len());
        join_segments(self, &mut out, 0)?;
        Ok(Cow::Owned(out))
    }

    /// The element re-encoded as DER lengths (definite, minimal) with
    /// constructed strings flattened. Element order is kept as is: DER's
    /// SET OF ordering is not imposed, because signatures are made over the
    /// order the signer wrote.
    pub fn to_der(&self) -> Result<Vec<u8>, BerError> {
        if !self.indefinite && !has_ber_inside(self, 0)? {
            return Ok(self.raw.to_vec());
        }
        let mut out = Vec::with_capacity(self.raw.len());
        write_der(self, &mut out, 0)?;
        Ok(out)
    }
}

/// Iterator over the children of a constructed element.
pub struct Children<'a> {
    rest: &'a [u8],
    base: usize,
    depth: usize,
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<Tlv<'a>, BerError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match parse_at(self.rest, self.base, self.depth) {
            Ok(t) => {
                self.rest = &self.rest[t.raw.len()..];
                self.base += t.raw.len();
                Some(Ok(t))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

impl<'a> Children<'a> {
    /// The next child, or an error naming what was expected.
    pub fn need(&mut self, name: &'static str) -> Result<Tlv<'a>, BerError> {
        self.next().unwrap_or(Err(BerError::Missing(name)))
    }

    /// The next child if it carries `tag`; otherwise nothing is consumed.
    pub fn optional(&mut self, want: u8) -> Result<Option<Tlv<'a>>, BerError> {
        match self.rest.first() {
            Some(&t) if t == want => self.next().transpose(),
            _ => Ok(None),
        }
    }
}

fn parse_at(input: &[u8], base: usize, depth: usize) -> Result<Tlv<'_>, BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep);
    }
    let first = *input.first().ok_or(BerError::Truncated(base))?;
    let mut pos = 1;
    if first & 0x1f == 0x1f {
        // High tag number: base-128 continuation octets.
        loop {
            let b = *input.get(pos).ok_or(BerError::Truncated(base + pos))?;
            pos += 1;
            if b & 0x80 == 0 {
                break;
            }
            if pos > 6 {
                return Err(BerError::BadLength(base + pos));
            }
        }
    }
    let len_byte = *input.get(pos).ok_or(BerError::Truncated(base + pos))?;
    pos += 1;
    if len_byte == 0x80 {
        if first & tag::CONSTRUCTED == 0 {
            return Err(BerError::IndefinitePrimitive(base));
        }
        // Indefinite: children until the end-of-contents octets 00 00.
        let start = pos;
        loop {
            if input.len() < pos + 2 {
                return Err(BerError::Truncated(base + input.len()));
            }
            if input[pos] == 0 && input[pos + 1] == 0 {
                let body = &input[start..pos];
                return Ok(Tlv {
                    tag: first,
                    raw: &input[..pos + 2],
                    body,
                    offset: base,
                    indefinite: true,
                });
            }
            let child = parse_at(&input[pos..], base + pos, depth + 1)?;
            pos += child.raw.len();
        }
    }
    let len = if len_byte & 0x80 == 0 {
        len_byte as usize
    } else {
        let n = (len_byte & 0x7f) as usize;
        if n > 8 {
            return Err(BerError::BadLength(base + pos));
        }
        let bytes = input.get(pos..pos + n).ok_or(BerError::Truncated(base + pos))?;
        pos += n;
        bytes
            .iter()
            .try_fold(0usize, |acc, &b| acc.checked_mul(256).map(|v| v + b as usize))
            .ok_or(BerError::BadLength(base + pos))?
    };
    let end = pos.checked_add(len).ok_or(BerError::BadLength(base + pos))?;
    if end > input.len() {
        return Err(BerError::Truncated(base + input.len()));
    }
    Ok(Tlv {
        tag: first,
        raw: &input[..end],
        body: &input[pos..end],
        offset: base,
        indefinite: false,
    })
}

fn join_segments(t: &Tlv<'_>, out: &mut Vec<u8>, depth: usize) -> Result<(), BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep);
    }
    if !t.is_constructed() {
        out.extend_from_slice(t.body);
        return Ok(());
    }
    for child in t.children() {
        join_segments(&child?, out, depth + 1)?;
    }
    Ok(())
}

fn is_string_type(tag: u8) -> bool {
    // Universal string types that BER may split into constructed segments.
    matches!(tag & !tag::CONSTRUCTED, 0x03 | 0x04 | 0x0c | 0x12..=0x1e) && tag & 0xc0 == 0
}

fn has_ber_inside(t: &Tlv<'_>, depth: usize) -> Result<bool, BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep);
    }
    if t.indefinite || (t.is_constructed() && is_string_type(t.tag)) {
        return Ok(true);
    }
    if !t.is_constructed() {
        return Ok(false);
    }
    for child in t.children() {
        if has_ber_inside(&child?, depth + 1)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn write_der(t: &Tlv<'_>, out: &mut Vec<u8>, depth: usize) -> Result<(), BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::TooDeep);
    }
    let id_len = identifier_len(t.raw);
    if t.is_constructed() && is_string_type(t.tag) {
        let joined = t.string_bytes()?;
        out.push(t.tag & !tag::CONSTRUCTED);
        push_len(out, joined.len());
        out.extend_from_slice(&joined);
        return Ok(());
    }
    if !t.is_constructed() {
        out.extend_from_slice(&t.raw[..id_len]);
        push_len(out, t.body.len());
        out.extend_from_slice(t.body);
        return Ok(());
    }
    let mut content = Vec::with_capacity(t.body.len());
    for child in t.children() {
        write_der(&child?, &mut content, depth + 1)?;
    }
    out.extend_from_slice(&t.raw[..id_len]);
    push_len(out, content.len());
    out.extend_from_slice(&content);
    Ok(())
}

fn identifier_len(raw: &[u8]) -> usize {
    if raw[0] & 0x1f != 0x1f {
        return 1;
    }
    1 + raw[1..].iter().position(|b| b & 0x80 == 0).map_or(raw.len() - 1, |p| p + 1)
}

/// Appends a DER length field.
pub(crate) fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Dotted form of an OBJECT IDENTIFIER's content octets (for messages).
pub fn oid_string(body: &[u8]) -> String {
    der::asn1::ObjectIdentifier::from_bytes(body)
        .map(|o| o.to_string())
        .unwrap_or_else(|_| format!("invalid-oid:{}", hex(body)))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex digits back into bytes; None for anything else (an odd length, a
/// sign, a non-ASCII character: slicing by two bytes never splits one).
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    (text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| {
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
                .collect()
        })
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_sequence_and_trailing_padding() {
        let data = [0x30, 0x03, 0x02, 0x01, 0x05, 0x00, 0x00, 0x00];
        let t = Tlv::parse(&data).unwrap();
        assert_eq!(t.raw.len(), 5);
        let kids: Vec<_> = t.children().map(|c| c.unwrap().body.to_vec()).collect();
        assert_eq!(kids, vec![vec![5]]);
    }

    #[test]
    fn indefinite_with_segmented_octet_string_normalises() {
        // SEQUENCE (indef) { OCTET STRING (constructed, indef) { "ab", "c" } }
        let data = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x00,
            0x00, 0xff,
        ];
        let t = Tlv::parse(&data).unwrap();
        assert!(t.indefinite);
        assert_eq!(t.raw.len(), 15);
        let inner = t.children().next().unwrap().unwrap();
        assert_eq!(&*inner.string_bytes().unwrap(), b"abc");
        assert_eq!(t.to_der().unwrap(), vec![0x30, 0x05, 0x04, 0x03, b'a', b'b', b'c']);
    }

    #[test]
    fn truncation_and_depth_are_errors_not_panics() {
        assert!(matches!(Tlv::parse(&[0x30, 0x05, 0x02]), Err(BerError::Truncated(_))));
        assert!(Tlv::parse(&[0x04, 0x80, 0, 0]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
        assert!(matches!(Tlv::parse(&deep), Err(BerError::TooDeep) | Err(BerError::Truncated(_))));
        assert!(Tlv::parse(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
    }

    #[test]
    fn long_lengths_round_trip() {
        let mut out = Vec::new();
        push_len(&mut out, 300);
        assert_eq!(out, vec![0x82, 0x01, 0x2c]);
        let mut data = vec![0x04, 0x82, 0x01, 0x2c];
        data.extend(std::iter::repeat_n(7, 300));
        let t = Tlv::parse(&data).unwrap();
        assert_eq!(t.body.len(), 300);
        assert_eq!(t.to_der().unwrap(), data);
    }
}
