//! PDF-specific integrity: is /ByteRange well formed and does it cover
//! what it should, and what happened to the file after signing.
//!
//! Coverage follows pyHanko's vocabulary: a signature covers the *entire
//! file*, or the *entire revision* it was made in (later incremental
//! updates follow), or only a contiguous block (suspicious). Later updates
//! that only add signatures, document timestamps or DSS (LTV) data do not
//! count as modification; anything else does.

use std::collections::{BTreeSet, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

use crate::formats::FormatError;

use crate::formats::pdf::{dict_of, is_sig_field, name};

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
    /// What the later updates add that signing tools may add ("signatures",
    /// "DSS (LTV) data", ...), for the DocMDP permission of a certification.
    pub added: Vec<String>,
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
        return AfterSigning { added: Vec::new(), modified: Some(false), note: "signature covers the entire file".into() };
    }
    let ends = revision_ends(bytes);
    let revision = ends.iter().position(|&e| e == end || (e > end && bytes[end..e].iter().all(|b| b.is_ascii_whitespace())));
    let Some(revision) = revision else {
        return AfterSigning {
            added: Vec::new(),
            modified: Some(true),
            note: format!("signature covers a contiguous block up to byte {end} that is not a whole revision; {} bytes after it are unsigned", bytes.len() - end),
        };
    };
    let later = ends.len() - revision - 1;
    // An update must end with its trailer and %%EOF: bytes after the last
    // one are an update a reader may still apply (a page added, a field
    // overwritten) that no revision accounts for.
    let last_end = ends.last().copied().unwrap_or(end).max(end);
    let unterminated = bytes[last_end..].iter().filter(|b| !b.is_ascii_whitespace() && **b != 0).count();
    if unterminated > 0 {
        return AfterSigning {
            added: Vec::new(),
            modified: Some(true),
            note: format!(
                "MODIFIED AFTER SIGNING: signature covers revision {} of {}; {} bytes after the last %%EOF are an update without a proper trailer",
                revision + 1,
                ends.len(),
                bytes.len() - last_end
            ),
        };
    }
    let Some(final_doc) = final_doc else {
        return AfterSigning {
            added: Vec::new(),
            modified: None,
            note: format!("signature covers revision {} of {}; the later updates could not be analysed (PDF structure unreadable)", revision + 1, ends.len()),
        };
    };
    let signed_doc = match Document::load_mem(&bytes[..end]) {
        Ok(d) => d,
        Err(e) => {
            return AfterSigning {
                added: Vec::new(),
                modified: None,
                note: format!("signature covers revision {}; the signed revision does not load on its own ({e})", revision + 1),
            };
        }
    };
    let changes = classify_changes(&signed_doc, final_doc);
    if changes.other.is_empty() {
        let what = if changes.benign.is_empty() { "change no object".to_owned() } else { format!("add only {}", changes.benign.iter().cloned().collect::<Vec<_>>().join(", ")) };
        AfterSigning {
            modified: Some(false),
            note: format!("signature covers the entire revision {} of {}; the {later} later update(s) {what}", revision + 1, ends.len()),
            added: changes.benign.into_iter().collect(),
        }
    } else {
        let shown: Vec<_> = changes.other.iter().take(4).cloned().collect();
        AfterSigning {
            added: Vec::new(),
            modified: Some(true),
            note: format!(
                "MODIFIED AFTER SIGNING: signature covers revision {} of {}; later updates change {}{}",
                revision + 1,
                ends.len(),
                shown.join(", "),
                if changes.other.len() > shown.len() { format!(" and {} more", changes.other.len() - shown.len()) } else { String::new() }
            ),
        }
    }
}

#[derive(Default)]
struct Changes {
    benign: BTreeSet<String>,
    other: Vec<String>,
}

/// Objects added or changed between the signed revision and the final
/// document, sorted into what signing / LTV updates write and the rest.
fn classify_changes(old: &Document, new: &Document) -> Changes {
    let allowed = AllowedRefs::collect(new);
    let mut changes = Changes::default();
    for (id, obj) in &new.objects {
        if old.objects.get(id) == Some(obj) {
            continue;
        }
        match benign_kind(new, *id, obj, old.objects.get(id), &allowed) {
            Some(kind) => {
                changes.benign.insert(kind.to_owned());
            }
            None => changes.other.push(format!("object {} {} ({})", id.0, id.1, describe(new, obj))),
        }
    }
    for id in old.objects.keys() {
        if !new.objects.contains_key(id) {
            changes.other.push(format!("object {} {} (removed)", id.0, id.1));
        }
    }
    changes
}

/// Objects that signing tools legitimately touch, found from the final
/// document: DSS contents, signature widgets' appearances and the form's
/// default resources, Annots and Fields arrays; and which objects the
/// document still uses at all (a changed object nothing refers to cannot
/// change what the document shows).
#[derive(Default)]
struct AllowedRefs {
    dss: HashSet<ObjectId>,
    appearance: HashSet<ObjectId>,
    arrays: HashSet<ObjectId>,
    in_use: HashSet<ObjectId>,
}

/// Keys that writing tools stamp on dictionaries without meaning anything
/// for the content (iText's version marker).
const TOOL_MARKER_KEYS: [&[u8]; 1] = [b"ITXT"];

impl AllowedRefs {
    fn collect(doc: &Document) -> AllowedRefs {
        let mut a = AllowedRefs::default();
        reach_obj(doc, &Object::Dictionary(doc.trailer.clone()), &mut a.in_use, usize::MAX);
        if let Ok(cat) = doc.catalog()
            && let Ok(form) = cat.get(b"AcroForm").and_then(|f| doc.dereference(f)).map(|(_, o)| o)
            && let Ok(form) = form.as_dict()
        {
            if let Ok(Object::Reference(id)) = form.get(b"Fields") {
                a.arrays.insert(*id);
            }
            if let Ok(dr) = form.get(b"DR") {
                reach_obj(doc, dr, &mut a.appearance, 6);
            }
        }
        for (id, obj) in &doc.objects {
            let Some(dict) = dict_of(obj) else { continue };
            if name(doc, dict, b"Type").as_deref() == Some("DSS") || (dict.has(b"VRI") || dict.has(b"Certs") || dict.has(b"OCSPs") || dict.has(b"CRLs")) {
                reach(doc, *id, &mut a.dss, 5);
            }
            if is_sig_field(doc, dict)
                && let Ok(ap) = dict.get(b"AP")
            {
                reach_obj(doc, ap, &mut a.appearance, 6);
            }
            if let Ok(Object::Reference(id)) = dict.get(b"Annots") {
                a.arrays.insert(*id);
            }
        }
        a
    }
}

/// Marks `id` and what it refers to, up to `depth` references away.
fn reach(doc: &Document, id: ObjectId, seen: &mut HashSet<ObjectId>, depth: usize) {
    reach_obj(doc, &Object::Reference(id), seen, depth);
}

/// Iterative (a hostile file can nest deeper than the stack), bounded in
/// depth and in the number of objects visited.
fn reach_obj(doc: &Document, start: &Object, seen: &mut HashSet<ObjectId>, depth: usize) {
    const MAX_OBJECTS: usize = 2_000_000;
    let mut stack: Vec<(&Object, usize)> = vec![(start, depth)];
    while let Some((obj, left)) = stack.pop() {
        match obj {
            Object::Reference(id) => {
                if left == 0 || seen.len() >= MAX_OBJECTS || !seen.insert(*id) {
                    continue;
                }
                if let Ok(target) = doc.get_object(*id) {
                    stack.push((target, left - 1));
                }
            }
            Object::Array(items) => stack.extend(items.iter().map(|o| (o, left))),
            Object::Dictionary(d) => stack.extend(d.iter().map(|(_, v)| (v, left))),
            Object::Stream(st) => stack.extend(st.dict.iter().map(|(_, v)| (v, left))),
            _ => {}
        }
    }
}

/// Keys whose change a signing or LTV update may make in a dictionary.
fn only_keys_changed(old: Option<&Object>, new: &Dictionary, allowed: &[&[u8]]) -> bool {
    let Some(old) = old.and_then(dict_of) else { return false };
    let keys: BTreeSet<&[u8]> = old.iter().map(|(k, _)| k.as_slice()).chain(new.iter().map(|(k, _)| k.as_slice())).collect();
    keys.into_iter().all(|k| allowed.contains(&k) || old.get(k).ok() == new.get(k).ok())
}

fn benign_kind(doc: &Document, id: ObjectId, obj: &Object, old: Option<&Object>, allowed: &AllowedRefs) -> Option<&'static str> {
    if !allowed.in_use.contains(&id) {
        return Some("unreferenced objects");
    }
    if allowed.dss.contains(&id) {
        return Some("DSS (LTV) data");
    }
    if allowed.appearance.contains(&id) {
        return Some("signature appearances");
    }
    if allowed.arrays.contains(&id) {
        return Some("signature fields");
    }
    let dict = dict_of(obj)?;
    let ty = name(doc, dict, b"Type");
    match ty.as_deref() {
        Some("Sig") => return Some("signatures"),
        Some("DocTimeStamp") => return Some("document timestamps"),
        Some("XRef" | "ObjStm") => return Some("cross-reference data"),
        Some("DSS" | "VRI") => return Some("DSS (LTV) data"),
        Some("Metadata") => return Some("metadata"),
        _ => {}
    }
    if dict.has(b"ByteRange") && dict.has(b"Contents") {
        return Some("signatures");
    }
    if is_sig_field(doc, dict) {
        return Some("signature fields");
    }
    if ty.as_deref() == Some("Catalog") && only_keys_changed(old, dict, &[b"AcroForm", b"DSS", b"Perms", b"Extensions", b"Version", b"Metadata"]) {
        return Some("document catalog entries for signatures");
    }
    if dict.has(b"Fields") && only_keys_changed(old, dict, &[b"Fields", b"SigFlags", b"DA", b"DR", b"NeedAppearances"]) {
        return Some("signature fields");
    }
    if ty.as_deref() == Some("Page") && only_keys_changed(old, dict, &[b"Annots"]) {
        return Some("signature widgets on pages");
    }
    if doc.trailer.get(b"Info").ok() == Some(&Object::Reference(id)) {
        return Some("document information (producer, dates)");
    }
    if only_keys_changed(old, dict, &TOOL_MARKER_KEYS) {
        return Some("writer markers");
    }
    None
}

fn describe(doc: &Document, obj: &Object) -> String {
    match dict_of(obj) {
        Some(d) => match (name(doc, d, b"Type"), name(doc, d, b"Subtype")) {
            (Some(t), Some(s)) => format!("{t} {s}"),
            (Some(t), None) => t,
            (None, Some(s)) => s,
            (None, None) if matches!(obj, Object::Stream(_)) => "stream, e.g. page content".into(),
            (None, None) => "dictionary".into(),
        },
        None => "value".into(),
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
