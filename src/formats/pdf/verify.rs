//! PDF-specific integrity: is /ByteRange well formed and does it cover
//! what it should, and what happened to the file after signing.
//!
//! Coverage follows pyHanko's vocabulary: a signature covers the *entire
//! file*, or the *entire revision* it was made in (later incremental
//! updates follow), or only a contiguous block (suspicious). Later updates
//! that only add signatures, document timestamps or DSS (LTV) data do not
//! count as modification; anything else does.

use lopdf::Document;

use super::changes::{self, Level};
use crate::formats::FormatError;

/// The two signed byte ranges of a well-formed /ByteRange.
#[derive(Debug)]
pub struct SignedRanges<'a> {
    pub parts: [&'a [u8]; 2],
    /// Where the signed bytes end (start of anything unsigned after).
    pub end: usize,
}

/// Checks /ByteRange against the file and the signature value: it must
/// start at 0, stay inside the file, and leave out exactly the /Contents
/// hex string holding `contents`.
pub fn signed_ranges<'a>(bytes: &'a [u8], br: &[i64], contents: &[u8]) -> Result<SignedRanges<'a>, FormatError> {
    if br.is_empty() {
        return Err("/ByteRange is missing or unreadable (not an array of numbers)".into());
    }
    let [a, b, c, d] = <[i64; 4]>::try_from(br).map_err(|_| format!("/ByteRange has {} numbers, not 4", br.len()))?;
    if br.iter().any(|&n| n == i64::MAX || n == i64::MIN) {
        return Err("/ByteRange holds a number beyond 64 bits: it cannot describe any file".into());
    }
    if a != 0 {
        return Err(format!("/ByteRange starts at byte {a}, not at the start of the file: the beginning is unsigned").into());
    }
    if b < 0 || d < 0 || c < b {
        return Err(format!("/ByteRange [{a} {b} {c} {d}] is not two ordered ranges").into());
    }
    let (b, c, d) = (b as usize, c as usize, d as usize);
    let end = c.checked_add(d).ok_or("/ByteRange overflows")?;
    if end > bytes.len() {
        return Err(format!("/ByteRange points past the end of the file ({end} > {} bytes)", bytes.len()).into());
    }
    let gap = &bytes[b..c];
    let hex = gap.strip_prefix(b"<").and_then(|g| g.strip_suffix(b">"));
    match hex.and_then(crate::formats::pdf::raw::decode_hex) {
        Some(value) if value == contents => {}
        Some(_) => return Err("the unsigned gap of /ByteRange holds another signature value than this one".into()),
        None => return Err("the unsigned gap of /ByteRange holds more than the /Contents hex string (unsigned data could hide there)".into()),
    }
    Ok(SignedRanges { parts: [&bytes[..b], &bytes[c..end]], end })
}

/// What follows the signed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterSigning {
    /// None when it could not be determined.
    pub modified: Option<bool>,
    pub note: String,
    /// What the later updates do that is allowed ("signatures", "DSS (LTV)
    /// data", "form field values (Name)", ...) and the DocMDP level that
    /// takes, for the permission of a certification.
    pub allowed: Vec<String>,
    pub level: Option<Level>,
    /// Form fields (fully qualified names) whose value changed, for the
    /// FieldMDP locks of a signature.
    pub fields_changed: Vec<String>,
}

impl AfterSigning {
    /// A verdict no DocMDP permission has to weigh: nothing after the
    /// signature, or something that is not an allowed change.
    fn only(modified: Option<bool>, note: String) -> AfterSigning {
        AfterSigning { modified, note, allowed: Vec::new(), level: None, fields_changed: Vec::new() }
    }
}

/// Ends (exclusive) of the revisions: just after each `%%EOF` and its EOL.
pub fn revision_ends(bytes: &[u8]) -> Vec<usize> {
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
pub fn after_signing(bytes: &[u8], end: usize, final_doc: Option<&Document>) -> AfterSigning {
    let trailing = &bytes[end.min(bytes.len())..];
    if trailing.iter().all(|b| b.is_ascii_whitespace() || *b == 0) {
        return AfterSigning::only(Some(false), "signature covers the entire file".into());
    }
    let ends = revision_ends(bytes);
    let revision = ends.iter().position(|&e| e == end || (e > end && bytes[end..e].iter().all(|b| b.is_ascii_whitespace())));
    let Some(revision) = revision else {
        return AfterSigning::only(
            Some(true),
            format!("signature covers a contiguous block up to byte {end} that is not a whole revision; {} bytes after it are unsigned", bytes.len() - end),
        );
    };
    let later = ends.len() - revision - 1;
    // An update must end with its trailer and %%EOF: bytes after the last
    // one are an update a reader may still apply (a page added, a field
    // overwritten) that no revision accounts for.
    let last_end = ends.last().copied().unwrap_or(end).max(end);
    let unterminated = bytes[last_end..].iter().filter(|b| !b.is_ascii_whitespace() && **b != 0).count();
    if unterminated > 0 {
        return AfterSigning::only(
            Some(true),
            format!(
                "MODIFIED AFTER SIGNING: signature covers revision {} of {}; {} bytes after the last %%EOF are an update without a proper trailer",
                revision + 1,
                ends.len(),
                bytes.len() - last_end
            ),
        );
    }
    let Some(final_doc) = final_doc else {
        return AfterSigning::only(
            None,
            format!("signature covers revision {} of {}; the later updates could not be analysed (PDF structure unreadable)", revision + 1, ends.len()),
        );
    };
    let signed_doc = match Document::load_mem(&bytes[..end]) {
        Ok(d) => d,
        Err(e) => {
            return AfterSigning::only(None, format!("signature covers revision {}; the signed revision does not load on its own ({e})", revision + 1));
        }
    };
    let changes = changes::classify(&signed_doc, final_doc);
    if changes.other.is_empty() {
        let what = if changes.allowed.is_empty() { "change no object".to_owned() } else { format!("add only {}", changes.allowed.iter().cloned().collect::<Vec<_>>().join(", ")) };
        AfterSigning {
            modified: Some(false),
            note: format!("signature covers the entire revision {} of {}; the {later} later update(s) {what}", revision + 1, ends.len()),
            allowed: changes.allowed.into_iter().collect(),
            level: changes.level,
            fields_changed: changes.fields_changed.into_iter().collect(),
        }
    } else {
        let shown: Vec<_> = changes.other.iter().take(4).cloned().collect();
        AfterSigning::only(
            Some(true),
            format!(
                "MODIFIED AFTER SIGNING: signature covers revision {} of {}; later updates change {}{}",
                revision + 1,
                ends.len(),
                shown.join(", "),
                if changes.other.len() > shown.len() { format!(" and {} more", changes.other.len() - shown.len()) } else { String::new() }
            ),
        )
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
        assert!(signed_ranges(file, &[1, 18, 25, 12], &[0x0a, 0x0b]).unwrap_err().to_string().contains("not at the start"));
        assert!(signed_ranges(file, &[0, 19, 25, 100], &[0x0a, 0x0b]).unwrap_err().to_string().contains("past the end"));
        assert!(signed_ranges(file, &[0, 18, 25, 11], &[0x0a, 0x0b]).unwrap_err().to_string().contains("more than the /Contents"));
        assert!(signed_ranges(file, &br, &[0x0c]).unwrap_err().to_string().contains("another signature value"));
        assert!(signed_ranges(file, &[0, 19, 25], &[0x0a]).is_err());
    }

    #[test]
    fn revision_ends_follow_eof_markers() {
        let f = b"a%%EOF\r\nb%%EOF\n";
        assert_eq!(revision_ends(f), vec![8, 15]);
        let after = after_signing(f, 8, None);
        assert_eq!(after.modified, None, "{after:?}");
        assert_eq!(after_signing(f, 15, None).modified, Some(false));
        assert_eq!(after_signing(f, 4, None).modified, Some(true));
    }

    #[test]
    fn an_update_without_its_own_eof_is_a_modification() {
        let signed = b"%PDF-1.7\n1 0 obj null endobj\n%%EOF\n";
        let mut file = signed.to_vec();
        file.extend_from_slice(b"4 0 obj << /Type /Page >> endobj\n");
        let a = after_signing(&file, signed.len(), None);
        assert_eq!(a.modified, Some(true), "{}", a.note);
        assert!(a.note.contains("without a proper trailer"), "{}", a.note);
        // Whitespace and NUL padding after %%EOF is no update.
        let mut padded = signed.to_vec();
        padded.extend_from_slice(b"\r\n\0\0 ");
        assert_eq!(after_signing(&padded, signed.len(), None).modified, Some(false));
    }
}
