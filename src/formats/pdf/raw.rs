//! The raw byte scan for PDF signatures: every `/ByteRange` in the file,
//! with the `/Contents` hex string it brackets. It finds signatures that
//! the object structure no longer reaches (older revisions, damaged files,
//! public-key encrypted files), because the signature value itself is
//! always written in clear, uncompressed bytes.

use memchr::memmem;

/// A signature dictionary as found in the bytes (or read from objects).
#[derive(Debug, Clone, Default)]
pub struct SigDict {
    pub contents: Vec<u8>,
    pub byte_range: Vec<i64>,
    pub sub_filter: Option<String>,
    pub dict_type: Option<String>,
    /// `/M`, raw PDF date text.
    pub m: Option<String>,
    /// `/Cert` strings (adbe.x509.rsa_sha1).
    pub cert: Vec<Vec<u8>>,
    /// Fully qualified field name, when known.
    pub field: String,
    /// Byte offset of the dictionary, when found by the raw scan.
    pub offset: Option<usize>,
    /// A certification signature's DocMDP permission level (`/P` 1, 2 or 3).
    pub docmdp: Option<i64>,
    /// The form fields this signature locks (FieldMDP).
    pub field_lock: Option<FieldLock>,
    /// An Adobe usage-rights signature (`/TransformMethod /UR3`, referenced
    /// from the catalog's `/Perms`): the application that enabled the form.
    pub usage_rights: bool,
}

/// A FieldMDP transform (ISO 32000-1 12.8.2.4): which fields may no
/// longer change once the signature is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldLock {
    All,
    Include(Vec<String>),
    Exclude(Vec<String>),
}

impl FieldLock {
    /// Whether the field `name` (fully qualified) is locked: named
    /// itself, or a descendant of a named field.
    pub fn locks(&self, name: &str) -> bool {
        let named = |fields: &[String]| {
            fields.iter().any(|f| name == f || name.starts_with(&format!("{f}.")))
        };
        match self {
            FieldLock::All => true,
            FieldLock::Include(fields) => named(fields),
            FieldLock::Exclude(fields) => !named(fields),
        }
    }
}

/// What the byte scan found.
#[derive(Debug, Default)]
pub struct RawScan {
    pub dicts: Vec<SigDict>,
    /// Signature dictionaries whose `/Contents` value could not be read
    /// (truncated or damaged file).
    pub unreadable: usize,
    /// More `/ByteRange` markers than [`MAX_MARKERS`]: the rest were not read.
    pub skipped_markers: usize,
}

/// A hostile file can hold millions of markers; real ones hold dozens.
pub(crate) const MAX_MARKERS: usize = 4096;

/// Every distinct signature dictionary found by scanning the bytes. Linear
/// in the file size: each marker's object region ends at the next
/// `endobj` or the next marker, whichever comes first.
pub fn scan(bytes: &[u8]) -> RawScan {
    let markers: Vec<usize> = memmem::find_iter(bytes, b"/ByteRange").collect();
    let endobjs: Vec<usize> = memmem::find_iter(bytes, b"endobj").collect();
    let mut out: Vec<SigDict> = Vec::new();
    let mut unreadable = 0;
    for (i, &pos) in markers.iter().take(MAX_MARKERS).enumerate() {
        // An unreadable array still marks a signature dictionary: it is
        // reported (integrity invalid, with the reason), never dropped.
        let byte_range = parse_int_array(&bytes[pos + 10..]).unwrap_or_default();
        let next_endobj = endobjs.get(endobjs.partition_point(|&e| e < pos)).copied();
        let next_marker = markers.get(i + 1).copied();
        // The dictionary starts before its /Contents value, which may come
        // before /ByteRange and be far larger than the search window.
        let gap_start = gap(&byte_range).map(|(s, _)| s).filter(|&s| s < pos);
        let (start, end) = object_region(
            bytes,
            gap_start.unwrap_or(pos),
            pos,
            [next_endobj, next_marker].into_iter().flatten().min(),
        );
        let region = &bytes[start..end];
        let contents =
            contents_from_range(bytes, &byte_range).or_else(|| hex_after_key(region, b"/Contents"));
        let Some(contents) = contents else {
            unreadable += usize::from(key_positions(region, b"/Contents").next().is_some());
            continue;
        };
        if out.iter().any(|d| d.contents == contents) {
            continue;
        }
        out.push(SigDict {
            contents,
            byte_range,
            sub_filter: name_after_key(region, b"/SubFilter"),
            dict_type: name_after_key(region, b"/Type"),
            m: literal_after_key(region, b"/M").map(|b| String::from_utf8_lossy(&b).into_owned()),
            cert: cert_strings(region),
            field: object_number(bytes, start)
                .and_then(|n| field_name_of(bytes, n))
                .unwrap_or_default(),
            offset: Some(start),
            docmdp: None,
            field_lock: None,
            usage_rights: key_positions(region, b"/TransformMethod").any(|p| {
                matches!(
                    name_after_key(&region[p..], b"/TransformMethod").as_deref(),
                    Some("UR3" | "UR")
                )
            }),
        });
    }
    if out.is_empty() && unreadable == 0 && cut_inside_signature(bytes) {
        unreadable = 1;
    }
    RawScan { dicts: out, unreadable, skipped_markers: markers.len().saturating_sub(MAX_MARKERS) }
}

/// `N G` of the `N G obj` header that ends at `after_obj`.
fn object_number(bytes: &[u8], after_obj: usize) -> Option<(u32, u16)> {
    let head = &bytes[after_obj.saturating_sub(40)..after_obj.saturating_sub(3)];
    let text = std::str::from_utf8(head).ok()?;
    let mut nums = text.split_ascii_whitespace().rev();
    let generation = nums.next()?.parse().ok()?;
    let number = nums.next()?.trim_start_matches(|c: char| !c.is_ascii_digit()).parse().ok()?;
    Some((number, generation))
}

/// The /T of the field whose /V is object `n`, read from the bytes (for
/// damaged files the object parser could not load).
fn field_name_of(bytes: &[u8], (n, g): (u32, u16)) -> Option<String> {
    let needle = format!("/V {n} {g} R");
    for pos in memmem::find_iter(bytes, needle.as_bytes()) {
        if bytes.get(pos + needle.len()).is_some_and(|b| b.is_ascii_digit()) {
            continue;
        }
        let lo = pos.saturating_sub(2048);
        let start = memmem::rfind(&bytes[lo..pos], b"obj").map_or(lo, |p| lo + p + 3);
        let end = memmem::find(&bytes[pos..(pos + 2048).min(bytes.len())], b"endobj")
            .map_or((pos + 2048).min(bytes.len()), |p| pos + p);
        if let Some(t) = literal_after_key(&bytes[start..end], b"/T") {
            return Some(crate::formats::pdf::pdf_text(&t));
        }
    }
    None
}

/// A file that ends inside a signature value: `/Contents <30...` (a CMS
/// value) with no closing `>`. Writers that put /ByteRange after /Contents
/// lose it when the file is cut there.
fn cut_inside_signature(bytes: &[u8]) -> bool {
    let Some(p) = memmem::rfind(bytes, b"/Contents") else { return false };
    let tail = skip_ws(&bytes[p + 9..]);
    let Some(hex) = tail.strip_prefix(b"<") else { return false };
    hex.starts_with(b"30") && hex.iter().all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace())
}

/// The dictionary's object: from the `obj` keyword preceding `first`
/// (within a bounded window) to `limit`, or a bounded window after `pos`.
fn object_region(bytes: &[u8], first: usize, pos: usize, limit: Option<usize>) -> (usize, usize) {
    const BEFORE: usize = 16 << 10;
    const AFTER: usize = 4 << 20;
    let lo = first.saturating_sub(BEFORE);
    let start = memmem::rfind(&bytes[lo..first], b"obj").map_or(lo, |p| lo + p + 3);
    let end = limit.unwrap_or(bytes.len()).min(pos + AFTER).min(bytes.len());
    (start, end)
}

/// Start and end of the gap between the two ranges of a /ByteRange.
fn gap(br: &[i64]) -> Option<(usize, usize)> {
    if br.len() != 4 {
        return None;
    }
    Some((usize::try_from(br[0].checked_add(br[1])?).ok()?, usize::try_from(br[2]).ok()?))
}

/// The gap between the two byte ranges is exactly the `<hex>` string.
fn contents_from_range(bytes: &[u8], br: &[i64]) -> Option<Vec<u8>> {
    let (gap_start, gap_end) = gap(br)?;
    let trimmed = bytes.get(gap_start..gap_end)?.strip_prefix(b"<")?.strip_suffix(b">")?;
    decode_hex(trimmed)
}

pub(crate) fn parse_int_array(after: &[u8]) -> Option<Vec<i64>> {
    let text = &after[..after.len().min(200)];
    let open = text.iter().position(|&b| !b.is_ascii_whitespace())?;
    if text[open] != b'[' {
        return None;
    }
    let close = text[open..].iter().position(|&b| b == b']')? + open;
    let inner = std::str::from_utf8(&text[open + 1..close]).ok()?;
    inner.split_ascii_whitespace().map(parse_int_saturating).collect()
}

/// A PDF integer; one beyond 64 bits becomes i64::MAX (or MIN) so that
/// the signature is still reported, with a /ByteRange that cannot fit.
fn parse_int_saturating(token: &str) -> Option<i64> {
    if let Ok(n) = token.parse() {
        return Some(n);
    }
    let (negative, digits) = match token.as_bytes().first()? {
        b'-' => (true, &token[1..]),
        b'+' => (false, &token[1..]),
        _ => (false, token),
    };
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(if negative {
        i64::MIN
    } else {
        i64::MAX
    })
}

pub(crate) fn decode_hex(text: &[u8]) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(digits.len() / 2 + 1);
    for pair in digits.chunks(2) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = pair.get(1).map_or(Some(0), |&b| (b as char).to_digit(16))?;
        out.push((hi * 16 + lo) as u8);
    }
    Some(out)
}

fn key_positions<'a>(region: &'a [u8], key: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    // A key must not be a prefix of a longer name (/Contents vs /ContentsX).
    memmem::find_iter(region, key)
        .filter(move |&p| region.get(p + key.len()).is_none_or(|&b| !b.is_ascii_alphanumeric()))
}

fn hex_after_key(region: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    for p in key_positions(region, key) {
        let rest = skip_ws(&region[p + key.len()..]);
        if let Some(body) = rest.strip_prefix(b"<") {
            if body.first() == Some(&b'<') {
                continue;
            }
            let end = body.iter().position(|&b| b == b'>')?;
            return decode_hex(&body[..end]);
        }
    }
    None
}

fn name_after_key(region: &[u8], key: &[u8]) -> Option<String> {
    let p = key_positions(region, key).next()?;
    let rest = skip_ws(&region[p + key.len()..]).strip_prefix(b"/")?;
    let end = rest
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b"/<>[]()".contains(&b))
        .unwrap_or(rest.len());
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

fn literal_after_key(region: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    let p = key_positions(region, key).next()?;
    let rest = skip_ws(&region[p + key.len()..]);
    match rest.first()? {
        b'(' => parse_literal(rest).map(|(s, _)| s),
        b'<' => {
            let end = rest.iter().position(|&b| b == b'>')?;
            decode_hex(&rest[1..end])
        }
        _ => None,
    }
}

/// `/Cert` is a string or an array of strings.
fn cert_strings(region: &[u8]) -> Vec<Vec<u8>> {
    let Some(p) = key_positions(region, b"/Cert").next() else { return Vec::new() };
    let mut rest = skip_ws(&region[p + 5..]);
    let array = rest.first() == Some(&b'[');
    if array {
        rest = &rest[1..];
    }
    let mut out = Vec::new();
    loop {
        rest = skip_ws(rest);
        match rest.first() {
            Some(b'<') => {
                let Some(end) = rest.iter().position(|&b| b == b'>') else { break };
                out.extend(decode_hex(&rest[1..end]));
                rest = &rest[end + 1..];
            }
            Some(b'(') => {
                let Some((s, used)) = parse_literal(rest) else { break };
                out.push(s);
                rest = &rest[used..];
            }
            _ => break,
        }
        if !array {
            break;
        }
    }
    out
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    &b[n..]
}

/// A PDF literal string `( ... )` with escapes and balanced parentheses;
/// returns the bytes and how much input was used.
pub(crate) fn parse_literal(input: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        match c {
            b'(' => {
                if depth > 0 {
                    out.push(c);
                }
                depth += 1;
            }
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some((out, i + 1));
                }
                out.push(c);
            }
            b'\\' => {
                i += 1;
                let e = *input.get(i)?;
                match e {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'0'..=b'7' => {
                        let mut v = 0u32;
                        let mut n = 0;
                        while n < 3 && i < input.len() && (b'0'..=b'7').contains(&input[i]) {
                            v = v * 8 + (input[i] - b'0') as u32;
                            i += 1;
                            n += 1;
                        }
                        out.push(v as u8);
                        continue;
                    }
                    b'\r' | b'\n' => {}
                    other => out.push(other),
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    None
}

/// The number a trailer's `/Size` declares, from bytes that start with
/// `/Size` (at most 12 digits: a bound, not a PDF limit).
pub(super) fn declared_size(at_size: &[u8]) -> Option<u64> {
    let digits: Vec<u8> = at_size
        .get(b"/Size".len()..)?
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .take(12)
        .copied()
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bytes` as hex digits, upper or lower case, with white space before
    /// every `gap`-th byte.
    fn hex_text(bytes: &[u8], upper: bool, gap: usize) -> String {
        let mut text = String::new();
        for (i, b) in bytes.iter().enumerate() {
            if i % gap == 0 {
                text.push_str(" \n");
            }
            text.push_str(&if upper { format!("{b:02X}") } else { format!("{b:02x}") });
        }
        text
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_hex_or_none(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)
        ) {
            let _ = decode_hex(&bytes);
        }

        /// Bytes written as hex, in either case and with white space
        /// anywhere, read back as the same bytes.
        #[test]
        fn hex_round_trips(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100),
            upper in proptest::prelude::any::<bool>(),
            gap in 1usize..9
        ) {
            let text = hex_text(&bytes, upper, gap);
            proptest::prop_assert_eq!(decode_hex(text.as_bytes()), Some(bytes));
        }
    }

    #[test]
    fn finds_contents_through_byte_range_gap() {
        let mut pdf = b"%PDF-1.7\n1 0 obj\n<</Type/Sig/SubFilter/adbe.pkcs7.detached/M(D:20240101)\
            /ByteRange [0 AAAA BBBB 10]/Contents "
            .to_vec();
        let gap_start = pdf.len();
        pdf.extend_from_slice(b"<3082000100>");
        let gap_end = pdf.len();
        pdf.extend_from_slice(b">>\nendobj\n%%EOF\n");
        let text = String::from_utf8(pdf)
            .unwrap()
            .replace("AAAA", &format!("{gap_start:4}"))
            .replace("BBBB", &format!("{gap_end:4}"));
        let found = scan(text.as_bytes()).dicts;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].contents, vec![0x30, 0x82, 0x00, 0x01, 0x00]);
        assert_eq!(found[0].sub_filter.as_deref(), Some("adbe.pkcs7.detached"));
        assert_eq!(found[0].dict_type.as_deref(), Some("Sig"));
        assert_eq!(found[0].m.as_deref(), Some("D:20240101"));
    }

    #[test]
    fn tampered_byte_range_falls_back_to_nearby_contents() {
        let pdf = b"1 0 obj <</ByteRange [0 5 999999 3] /Contents <ABCD> /Cert [<01><02>]>> endobj";
        let found = scan(pdf).dicts;
        assert_eq!(found[0].contents, vec![0xab, 0xcd]);
        assert_eq!(found[0].cert, vec![vec![1], vec![2]]);
        assert!(!found[0].usage_rights);
    }

    #[test]
    fn a_usage_rights_reference_marks_the_dictionary() {
        let pdf = b"9 0 obj <</Type/Sig/ByteRange [0 5 999999 3] /Contents <ABCD> \
            /Reference [<</Type/SigRef/TransformMethod /UR3/TransformParams<</V/2.2>>>>]>> endobj";
        assert!(scan(pdf).dicts[0].usage_rights);
        let docmdp = b"9 0 obj <</Type/Sig/ByteRange [0 5 999999 3] /Contents <ABCD> \
            /Reference [<</TransformMethod/DocMDP>>]>> endobj";
        assert!(!scan(docmdp).dicts[0].usage_rights);
    }

    #[test]
    fn literal_strings_and_garbage() {
        assert_eq!(parse_literal(br"(a\(b\)c\101(d))x").unwrap(), (b"a(b)cA(d)".to_vec(), 16));
        assert!(parse_literal(b"(unterminated").is_none());
        assert!(scan(b"/ByteRange /ByteRange [1 2").dicts.is_empty());
        assert_eq!(scan(b"obj <</ByteRange [0 10 20 30] /Contents <0102").unreadable, 1);
        assert_eq!(scan(b"obj <</Contents <308203").unreadable, 1);
        assert_eq!(scan(b"obj <</Contents 5 0 R>>").unreadable, 0);
        assert_eq!(decode_hex(b"a 1 b"), Some(vec![0xa1, 0xb0]));
        assert_eq!(decode_hex(b"zz"), None);
    }
}
