//! PDF-specific integrity: is /ByteRange well formed and does it cover
//! what it should, and what happened to the file after signing.
//!
//! Coverage follows pyHanko's vocabulary: a signature covers the *entire
//! file*, or the *entire revision* it was made in (later incremental
//! updates follow), or only a contiguous block (suspicious). Later updates
//! that only add signatures, document timestamps or DSS (LTV) data do not
//! count as modification; anything else does.

use std::collections::HashMap;

use lopdf::Document;

use super::changes;
use crate::formats::FormatError;
use crate::verdict::Updates;

/// The two signed byte ranges of a well-formed /ByteRange.
#[derive(Debug)]
pub(crate) struct SignedRanges<'a> {
    pub parts: [&'a [u8]; 2],
    /// Where the signed bytes end (start of anything unsigned after).
    pub end: usize,
}

/// Checks /ByteRange against the file and the signature value: it must
/// start at 0, stay inside the file, and leave out exactly the /Contents
/// hex string holding `contents`.
pub(crate) fn signed_ranges<'a>(
    bytes: &'a [u8],
    br: &[i64],
    contents: &[u8],
) -> Result<SignedRanges<'a>, FormatError> {
    if br.is_empty() {
        return Err("/ByteRange is missing or unreadable (not an array of numbers)".into());
    }
    let [a, b, c, d] = <[i64; 4]>::try_from(br)
        .map_err(|_| format!("/ByteRange has {} numbers, not 4", br.len()))?;
    if br.iter().any(|&n| n == i64::MAX || n == i64::MIN) {
        return Err("/ByteRange holds a number beyond 64 bits: it cannot describe any file".into());
    }
    if a != 0 {
        return Err(format!(
            "/ByteRange starts at byte {a}, not at the start of the file: the beginning is \
             unsigned"
        )
        .into());
    }
    if b < 0 || d < 0 || c < b {
        return Err(format!("/ByteRange [{a} {b} {c} {d}] is not two ordered ranges").into());
    }
    let (b, c, d) = (b as usize, c as usize, d as usize);
    let end = c.checked_add(d).ok_or("/ByteRange overflows")?;
    if end > bytes.len() {
        return Err(format!(
            "/ByteRange points past the end of the file ({end} > {} bytes)",
            bytes.len()
        )
        .into());
    }
    let gap = &bytes[b..c];
    let hex = gap.strip_prefix(b"<").and_then(|g| g.strip_suffix(b">"));
    match hex.and_then(crate::formats::pdf::raw::decode_hex) {
        Some(value) if value == contents => {}
        Some(_) => {
            return Err("the unsigned gap of /ByteRange holds another signature value than this \
                        one"
            .into());
        }
        None => {
            return Err("the unsigned gap of /ByteRange holds more than the /Contents hex string \
                        (unsigned data could hide there)"
                .into());
        }
    }
    Ok(SignedRanges { parts: [&bytes[..b], &bytes[c..end]], end })
}

/// What follows the signed bytes: the evidence `crate::verdict` judges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AfterSigning {
    pub updates: Updates,
    /// Form fields (fully qualified names) whose value changed, for the
    /// FieldMDP locks of a signature.
    pub fields_changed: Vec<String>,
    /// Signature fields with an area on the page that later updates
    /// created (none unless the updates are `Allowed`).
    pub new_visible_signature_fields: Vec<String>,
}

impl AfterSigning {
    /// Updates no permission has to weigh: nothing after the signature,
    /// or something that is not an allowed change.
    fn only(updates: Updates) -> AfterSigning {
        AfterSigning {
            updates,
            fields_changed: Vec::new(),
            new_visible_signature_fields: Vec::new(),
        }
    }
}

/// Ends (exclusive) of the revisions: just after each `%%EOF` and its EOL.
pub(crate) fn revision_ends(bytes: &[u8]) -> Vec<usize> {
    memchr::memmem::find_iter(bytes, b"%%EOF")
        .map(|p| {
            let mut e = p + 5;
            while e < bytes.len() && (bytes[e] == b'\r' || bytes[e] == b'\n') && e < p + 7 {
                e += 1;
            }
            e
        })
        .collect()
}

/// Classifies everything after `end` by comparing the signed revision's
/// objects with the final document's.
pub(crate) fn after_signing(
    bytes: &[u8],
    end: usize,
    final_doc: Option<&Document>,
) -> AfterSigning {
    let trailing = &bytes[end.min(bytes.len())..];
    if trailing.iter().all(|b| b.is_ascii_whitespace() || *b == 0) {
        return AfterSigning::only(Updates::EntireFile);
    }
    let ends = revision_ends(bytes);
    let revision = ends.iter().position(|&e| {
        e == end || (e > end && bytes[end..e].iter().all(|b| b.is_ascii_whitespace()))
    });
    let Some(revision) = revision else {
        return AfterSigning::only(Updates::NotWholeRevision { end, unsigned: bytes.len() - end });
    };
    let later = ends.len() - revision - 1;
    let (number, of) = (revision + 1, ends.len());
    // An update must end with its trailer and %%EOF: bytes after the last
    // one are an update a reader may still apply (a page added, a field
    // overwritten) that no revision accounts for.
    let last_end = ends.last().copied().unwrap_or(end).max(end);
    let unterminated =
        bytes[last_end..].iter().filter(|b| !b.is_ascii_whitespace() && **b != 0).count();
    if unterminated > 0 {
        return AfterSigning::only(Updates::Unterminated {
            revision: number,
            of,
            bytes: bytes.len() - last_end,
        });
    }
    let anomalies = update_anomalies(bytes, &ends, revision);
    if !anomalies.is_empty() {
        return AfterSigning::only(Updates::Malformed { revision: number, of, anomalies });
    }
    let Some(final_doc) = final_doc else {
        return AfterSigning::only(Updates::Unanalysed { revision: number, of });
    };
    let signed_doc = match Document::load_mem(&bytes[..end]) {
        Ok(d) => d,
        Err(e) => {
            return AfterSigning::only(Updates::SignedRevisionUnreadable {
                revision: number,
                error: e.to_string(),
            });
        }
    };
    let changes = changes::classify(&signed_doc, final_doc);
    if changes.other.is_empty() && changes.certification_added {
        return AfterSigning::only(Updates::CertificationAdded { revision: number, of });
    }
    if changes.other.is_empty() {
        AfterSigning {
            updates: Updates::Allowed {
                revision: number,
                of,
                later,
                what: changes.allowed.into_iter().collect(),
                level: changes.level,
            },
            fields_changed: changes.fields_changed.into_iter().collect(),
            new_visible_signature_fields: changes
                .new_visible_signature_fields
                .into_iter()
                .collect(),
        }
    } else {
        let shown: Vec<_> = changes.other.iter().take(4).cloned().collect();
        let more = changes.other.len() - shown.len();
        AfterSigning::only(Updates::Changed { revision: number, of, shown, more })
    }
}

/// What the raw bytes of each update after revision `signed` (0-based)
/// hold that the object structure hides: an xref section that lists an
/// object twice, an object body no xref of its update lists (or an update
/// with bodies and no xref at all), an object defined twice in one update.
/// Readers resolve these differently (poppler keeps the first entry of a
/// section and rebuilds a missing xref from the bodies; lopdf keeps the
/// last entry), so what one shows as signed another shows changed.
pub(crate) fn update_anomalies(bytes: &[u8], ends: &[usize], signed: usize) -> Vec<String> {
    let mut out = Vec::new();
    for k in signed + 1..ends.len() {
        let segment = &bytes[ends[k - 1]..ends[k]];
        let update = k + 1;
        let headers = object_headers(segment);
        let mut seen: HashMap<(u32, u16), usize> = HashMap::new();
        for h in &headers {
            *seen.entry((h.number, h.generation)).or_default() += 1;
        }
        let mut twice: Vec<_> =
            seen.iter().filter(|(_, n)| **n > 1).map(|((n, g), _)| format!("{n} {g}")).collect();
        twice.sort();
        if !twice.is_empty() {
            out.push(format!("update {update} defines object {} more than once", twice.join(", ")));
        }
        let mut listed = XrefListing::default();
        for at in xref_keywords(segment) {
            listed.table(&segment[at + 4..]);
        }
        for h in headers.iter().filter(|h| h.xref_stream) {
            listed.stream_index(&segment[h.at..h.end]);
        }
        let mut dup: Vec<_> = listed.twice.iter().map(|n| n.to_string()).collect();
        dup.sort();
        dup.dedup();
        if !dup.is_empty() {
            out.push(format!(
                "the cross-reference section of update {update} lists object {} more than once",
                dup.join(", ")
            ));
        }
        let bodies: Vec<u32> =
            headers.iter().filter(|h| !h.xref_stream).map(|h| h.number).collect();
        if !listed.found && !bodies.is_empty() {
            out.push(format!(
                "update {update} adds object bodies ({}) without a cross-reference section",
                numbers(&bodies)
            ));
            continue;
        }
        let unlisted: Vec<u32> = bodies.iter().copied().filter(|n| !listed.has(*n)).collect();
        if !unlisted.is_empty() {
            out.push(format!(
                "update {update} holds bodies of objects its cross-reference section does not \
                 list ({})",
                numbers(&unlisted)
            ));
        }
    }
    out
}

fn numbers(n: &[u32]) -> String {
    let mut n = n.to_vec();
    n.sort_unstable();
    n.dedup();
    let shown: Vec<String> = n.iter().take(8).map(u32::to_string).collect();
    if n.len() > shown.len() {
        format!("{} and {} more", shown.join(", "), n.len() - shown.len())
    } else {
        shown.join(", ")
    }
}

/// An `N G obj` header at the start of a line, where its object ends.
struct Header {
    number: u32,
    generation: u16,
    at: usize,
    end: usize,
    /// A cross-reference stream (`/Type /XRef`): it is the xref, not a body.
    xref_stream: bool,
}

/// The object headers of an update, skipping each object's body (a
/// stream's data may hold anything).
fn object_headers(segment: &[u8]) -> Vec<Header> {
    const MAX_HEADERS: usize = 100_000;
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < MAX_HEADERS {
        let Some(p) = memchr::memmem::find(&segment[i..], b"obj").map(|p| p + i) else { break };
        let Some((number, generation, at)) = header_before(segment, p) else {
            i = p + 3;
            continue;
        };
        let end =
            memchr::memmem::find(&segment[p..], b"endobj").map_or(segment.len(), |e| p + e + 6);
        let body = &segment[p + 3..end];
        let head = &body[..body.len().min(4096)];
        let xref_stream = memchr::memmem::find(head, b"/XRef").is_some()
            && memchr::memmem::find(head, b"/Type").is_some();
        out.push(Header { number, generation, at, end, xref_stream });
        i = end;
    }
    out
}

/// `N G ` before the `obj` at `p`, at a line start (or the segment's).
fn header_before(segment: &[u8], p: usize) -> Option<(u32, u16, usize)> {
    if segment.get(p + 3).is_some_and(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let mut j = p;
    let mut fields = Vec::new();
    for _ in 0..2 {
        let ws_end = j;
        while j > 0 && (segment[j - 1] == b' ' || segment[j - 1] == b'\t') {
            j -= 1;
        }
        if j == ws_end {
            return None;
        }
        let digits_end = j;
        while j > 0 && segment[j - 1].is_ascii_digit() && digits_end - j < 10 {
            j -= 1;
        }
        if j == digits_end {
            return None;
        }
        fields.push(std::str::from_utf8(&segment[j..digits_end]).ok()?.parse::<u64>().ok()?);
    }
    if j > 0 && !matches!(segment[j - 1], b'\n' | b'\r') {
        return None;
    }
    Some((u32::try_from(fields[1]).ok()?, u16::try_from(fields[0]).ok()?, j))
}

/// Offsets of the `xref` keyword of classic cross-reference tables
/// (at a line start: not the one in `startxref`).
fn xref_keywords(segment: &[u8]) -> Vec<usize> {
    memchr::memmem::find_iter(segment, b"xref")
        .filter(|&p| p == 0 || matches!(segment[p - 1], b'\n' | b'\r'))
        .collect()
}

/// What the cross-reference sections of one update list.
#[derive(Default)]
struct XrefListing {
    found: bool,
    /// Object numbers an in-use entry (or an xref stream's /Index) lists,
    /// as sorted, merged `start..end` ranges.
    ranges: Vec<(u64, u64)>,
    twice: Vec<u64>,
}

impl XrefListing {
    fn has(&self, n: u32) -> bool {
        let n = u64::from(n);
        let i = self.ranges.partition_point(|&(start, _)| start <= n);
        i > 0 && n < self.ranges[i - 1].1
    }

    /// Adds what one section lists; an object two of its entries (or
    /// two of its /Index ranges) list is noted. A classic table and the
    /// xref stream of a hybrid file may overlap (free entries): those are
    /// separate sections.
    fn add_section(&mut self, section: &[(u64, u64)]) {
        let mut sorted = section.to_vec();
        sorted.sort_unstable();
        let mut reached = 0u64;
        for (i, &(start, count)) in sorted.iter().enumerate() {
            let end = start.saturating_add(count);
            if i > 0 && start < reached {
                self.twice.extend((start..end.min(reached)).take(8));
            }
            reached = reached.max(end);
        }
        // Kept sorted and merged as (start, end): a table of single
        // entries becomes a few ranges, looked up by binary search.
        self.ranges.extend(section.iter().map(|&(s, c)| (s, s.saturating_add(c))));
        self.ranges.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.ranges.len());
        for &(s, e) in &self.ranges {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.ranges = merged;
    }

    /// A classic table: subsections `start count` and their entries
    /// (`offset generation n|f`). Free entries list nothing.
    fn table(&mut self, after: &[u8]) {
        self.found = true;
        let text = &after[..after.len().min(1 << 20)];
        let mut tokens =
            text.split(|b| b.is_ascii_whitespace()).filter(|t| !t.is_empty()).peekable();
        let number = |t: &[u8]| std::str::from_utf8(t).ok().and_then(|s| s.parse::<u64>().ok());
        let mut section = Vec::new();
        'subsections: while let Some(t) = tokens.next() {
            let (Some(start), Some(count)) = (number(t), tokens.peek().and_then(|c| number(c)))
            else {
                break;
            };
            tokens.next();
            for i in 0..count.min(1 << 20) {
                let (Some(_), Some(_), Some(kind)) = (tokens.next(), tokens.next(), tokens.next())
                else {
                    break 'subsections;
                };
                if kind == b"n" {
                    section.push((start + i, 1));
                }
            }
        }
        self.add_section(&section);
    }

    /// An xref stream's `/Index [start count ...]` (default `[0 /Size]`).
    fn stream_index(&mut self, object: &[u8]) {
        self.found = true;
        let head = &object[..object.len().min(4096)];
        let ints = |key: &[u8]| -> Option<Vec<i64>> {
            let p = memchr::memmem::find(head, key)?;
            super::raw::parse_int_array(&head[p + key.len()..])
        };
        match ints(b"/Index") {
            Some(index) => {
                let section: Vec<(u64, u64)> = index
                    .chunks_exact(2)
                    .filter_map(|pair| {
                        Some((u64::try_from(pair[0]).ok()?, u64::try_from(pair[1]).ok()?))
                    })
                    .collect();
                self.add_section(&section);
            }
            None => {
                let size = memchr::memmem::find(head, b"/Size")
                    .and_then(|p| super::raw::declared_size(&head[p..]));
                self.add_section(&[(0, size.unwrap_or(u64::MAX))]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_range_rules() {
        let file = b"%PDF-1.7 /Contents <0A0B> rest%%EOF\n";
        let gap_start: i64 = 19;
        let gap_end: i64 = 25;
        let br = [0, gap_start, gap_end, file.len() as i64 - gap_end];
        let ok = signed_ranges(file, &br, &[0x0a, 0x0b]).unwrap();
        assert_eq!(ok.end, file.len());
        assert_eq!(ok.parts[0], &file[..19]);
        assert!(
            signed_ranges(file, &[1, 18, 25, 12], &[0x0a, 0x0b])
                .unwrap_err()
                .to_string()
                .contains("not at the start")
        );
        assert!(
            signed_ranges(file, &[0, 19, 25, 100], &[0x0a, 0x0b])
                .unwrap_err()
                .to_string()
                .contains("past the end")
        );
        assert!(
            signed_ranges(file, &[0, 18, 25, 11], &[0x0a, 0x0b])
                .unwrap_err()
                .to_string()
                .contains("more than the /Contents")
        );
        assert!(
            signed_ranges(file, &br, &[0x0c])
                .unwrap_err()
                .to_string()
                .contains("another signature value")
        );
        assert!(signed_ranges(file, &[0, 19, 25], &[0x0a]).is_err());
    }

    #[test]
    fn revision_ends_follow_eof_markers() {
        let f = b"a%%EOF\r\nb%%EOF\n";
        assert_eq!(revision_ends(f), vec![8, 15]);
        assert_eq!(after_signing(f, 8, None).updates, Updates::Unanalysed { revision: 1, of: 2 });
        assert_eq!(after_signing(f, 15, None).updates, Updates::EntireFile);
        assert_eq!(
            after_signing(f, 4, None).updates,
            Updates::NotWholeRevision { end: 4, unsigned: 11 }
        );
    }

    #[test]
    fn an_update_without_its_own_eof_is_a_modification() {
        let signed = b"%PDF-1.7\n1 0 obj null endobj\n%%EOF\n";
        let mut file = signed.to_vec();
        file.extend_from_slice(b"4 0 obj << /Type /Page >> endobj\n");
        let a = after_signing(&file, signed.len(), None);
        assert_eq!(a.updates, Updates::Unterminated { revision: 1, of: 1, bytes: 33 });
        // Whitespace and NUL padding after %%EOF is no update.
        let mut padded = signed.to_vec();
        padded.extend_from_slice(b"\r\n\0\0 ");
        assert_eq!(after_signing(&padded, signed.len(), None).updates, Updates::EntireFile);
    }

    /// One signed revision and one update, as raw bytes.
    fn with_update(update: &str) -> (Vec<u8>, Vec<usize>) {
        let signed = "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\nxref\n0 2\n0000000000 \
                      65535 f\r\n0000000009 00000 n\r\ntrailer\n<< /Size 2 \
                      >>\nstartxref\n45\n%%EOF\n";
        let file = format!("{signed}{update}").into_bytes();
        let ends = revision_ends(&file);
        (file, ends)
    }

    #[test]
    fn raw_update_anomalies_are_named() {
        let anomalies = |update: &str| {
            let (file, ends) = with_update(update);
            update_anomalies(&file, &ends, 0)
        };
        // An honest update: one body, listed once.
        assert!(
            anomalies(
                "2 0 obj\n<< >>\nendobj\nxref\n2 1\n0000000100 00000 n\r\ntrailer\n<< /Size 3 \
                 /Prev 45 >>\nstartxref\n130\n%%EOF\n"
            )
            .is_empty()
        );
        // An xref stream update (the stream is the xref, its /Index lists the body).
        assert!(
            anomalies(
                "2 0 obj\n<< >>\nendobj\n3 0 obj\n<< /Type /XRef /Index [2 2] /Size 4 /W [1 2 1] \
                 >>\nstream\nxx endobj obj\nendstream\nendobj\nstartxref\n130\n%%EOF\n"
            )
            .is_empty()
        );
        assert_eq!(
            anomalies(
                "2 0 obj\n<< >>\nendobj\nxref\n2 1\n0000000100 00000 n\r\n2 1\n0000000009 00000 \
                 n\r\ntrailer\n<< /Size 3 >>\nstartxref\n130\n%%EOF\n"
            ),
            vec!["the cross-reference section of update 2 lists object 2 more than once"]
        );
        assert_eq!(
            anomalies(
                "1 0 obj\n<< /Type /Catalog /Evil true >>\nendobj\ntrailer\n<< /Size 2 \
                 >>\nstartxref\n120\n%%EOF\n"
            ),
            vec!["update 2 adds object bodies (1) without a cross-reference section"]
        );
        assert_eq!(
            anomalies(
                "1 0 obj\n<< >>\nendobj\n1 0 obj\n<< /Evil true >>\nendobj\nxref\n1 1\n0000000100 \
                 00000 n\r\ntrailer\n<< /Size 2 >>\nstartxref\n130\n%%EOF\n"
            ),
            vec!["update 2 defines object 1 0 more than once"]
        );
        assert_eq!(
            anomalies(
                "2 0 obj\n<< >>\nendobj\n5 0 obj\n<< >>\nendobj\nxref\n2 1\n0000000100 00000 \
                 n\r\ntrailer\n<< /Size 3 >>\nstartxref\n130\n%%EOF\n"
            ),
            vec!["update 2 holds bodies of objects its cross-reference section does not list (5)"]
        );
    }
}
