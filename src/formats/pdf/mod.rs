//! PDF signatures: every signature dictionary in every revision.
//!
//! Two passes that complement each other: the object structure (lopdf:
//! field names, object streams, xref streams, encrypted files) and the raw
//! byte scan (older revisions, damaged files). Results are merged by the
//! signature value, so one value referenced twice counts once.
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files        what they hold
//! 0      changes raw  what later updates change; the raw byte scan
//! 1      verify       /ByteRange and what it covers
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use lopdf::{Dictionary, Document, Object, ObjectId};
use time::OffsetDateTime;

pub(crate) mod changes;
pub(crate) mod raw;
pub(crate) mod verify;

use self::raw::{FieldLock, SigDict};
use self::verify::{SignedRanges, signed_ranges};
use super::cms::signatures_in;
use super::{DocKind, Env, Extraction, FileFormat, FormatError};
use crate::asn1::ber::{self, Tlv};
use crate::cert::Cert;
use crate::crypto::{Algorithm, Hash, Scheme, VerifyError, verify_prehashed};
use crate::formats::cms::Content;
use crate::messages::Stage;
use crate::model::note::{IntegrityReason, Note, RawScanReason};
use crate::model::signature::{Format, Integrity, Kind, Signature, TimeSource};

/// Parent chains longer than this are treated as cycles (E3).
const MAX_FIELD_DEPTH: usize = 32;

/// PDFs with more objects than this are not loaded as objects (lopdf holds
/// every object in memory: a million took 875 MiB); the raw byte scan still
/// finds their signatures.
pub(crate) const MAX_OBJECTS: usize = 250_000;

/// A cheap lower bound on the objects of a file: "N G obj" headers counted
/// in the bytes, and the largest /Size an xref section declares.
fn objects_at_least(bytes: &[u8]) -> usize {
    let headers = memchr::memmem::find_iter(bytes, b" obj").count();
    let declared = memchr::memmem::find_iter(bytes, b"/Size")
        .filter_map(|at| raw::declared_size(&bytes[at..]))
        .max()
        .unwrap_or(0);
    headers.max(usize::try_from(declared).unwrap_or(usize::MAX))
}

/// PDF files, registered in formats/mod.rs: last of the content tests (a
/// PDF header may sit anywhere in the first KiB).
pub(super) const FORMAT: FileFormat = FileFormat {
    name: "pdf",
    extensions: &["pdf"],
    sniff: |head, lower_name| {
        (has_header(head) || lower_name.ends_with(".pdf")).then_some(DocKind::Pdf)
    },
    sniff_late: super::never,
    container: false,
    marker: Some(super::pdf_may_be_signed),
    extract: extract_file,
    yields: &[Format::Pdf],
    fuzz_target: "pdf_extract",
};

/// `%PDF-` in the first KiB, where readers look for it.
fn has_header(head: &[u8]) -> bool {
    memchr::memmem::find(&head[..head.len().min(1024)], b"%PDF-").is_some()
}

/// A PDF file: the cheap test first (almost every PDF of a share is
/// unsigned), then its signatures.
fn extract_file(_: DocKind, bytes: &[u8], name: &str, _: usize, _: &Env<'_>) -> Extraction {
    let mut out = Extraction::default();
    if !super::pdf_may_be_signed(bytes) {
        if name.to_ascii_lowercase().ends_with(".pdf") && !has_header(bytes) {
            out.problem(
                "",
                Stage::Pdf,
                "named .pdf but not a PDF: no %PDF- header and no signature",
            );
        }
        return out;
    }
    extract(bytes)
}

#[expect(clippy::too_many_lines, reason = "130 lines, from before the limit")]
pub fn extract(bytes: &[u8]) -> Extraction {
    let mut out = Extraction::default();
    let objects = objects_at_least(bytes);
    let (doc, structure_error) = match objects {
        n if n > MAX_OBJECTS => (None, None),
        _ => match Document::load_mem(bytes) {
            Ok(doc) => (Some(doc), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    let too_many = objects > MAX_OBJECTS;
    let mut dicts = doc.as_ref().map(from_structure).unwrap_or_default();
    // Objects of an encrypted file that could not be decrypted (public-key
    // encryption) cannot be compared between revisions.
    // (`/Encrypt null`, a spoofing trick, is not encryption.)
    let comparable = doc.as_ref().filter(|d| {
        matches!(d.trailer.get(b"Encrypt"), Err(_) | Ok(Object::Null))
            || d.encryption_state.is_some()
    });
    let structural: HashSet<Vec<u8>> = dicts.iter().map(|d| d.contents.clone()).collect();
    let raw = raw::scan(bytes);
    let mut raw_only = 0;
    if raw.skipped_markers > 0 {
        out.problem(
            "",
            Stage::Limit,
            format!(
                "{} more /ByteRange markers than the {} read: file looks crafted",
                raw.skipped_markers,
                raw::MAX_MARKERS
            ),
        );
    }
    if raw.unreadable > 0 {
        out.problem(
            "",
            Stage::Pdf,
            format!(
                "{} signature dictionar{} without a readable /Contents value (truncated or \
                 damaged file)",
                raw.unreadable,
                if raw.unreadable == 1 { "y" } else { "ies" }
            ),
        );
    }
    // Dictionaries a field of some revision names in the bytes ("/V n g R"),
    // which the final objects may no longer show.
    let mut named_in_bytes: HashSet<Vec<u8>> = HashSet::new();
    for d in raw.dicts {
        if let Some(known) = dicts.iter_mut().find(|k| k.contents == d.contents) {
            // Fill what the structure pass could not read (e.g. encrypted /M).
            known.offset = d.offset;
            if !d.field.is_empty() {
                named_in_bytes.insert(d.contents);
            }
            continue;
        }
        raw_only += 1;
        dicts.push(d);
    }
    let mut unnamed = 0;
    let mut found = Vec::new();
    for d in dicts {
        if crate::budget::over() {
            break;
        }
        let from_raw = !structural.contains(&d.contents);
        let member = if d.field.is_empty() {
            unnamed += 1;
            format!("signature {unnamed}")
        } else {
            d.field.clone()
        };
        let mut own = Extraction::default();
        // The final document parses but no longer refers to this
        // signature: a later update took it out (or hid it).
        let taken_out = from_raw && comparable.is_some();
        let mut sigs = signatures_of(bytes, comparable, &d, &member, taken_out, &mut own);
        for s in &mut sigs {
            if from_raw {
                s.note(Note::FoundByRawScan(match (&structure_error, comparable) {
                    _ if too_many => RawScanReason::TooManyObjects { objects, max: MAX_OBJECTS },
                    (Some(e), _) => RawScanReason::StructureUnreadable(e.clone()),
                    (None, None) => RawScanReason::Encrypted,
                    (None, Some(_)) => RawScanReason::Unreachable,
                }));
            }
        }
        // Whether no field references it can only be told when the final
        // objects were read (and decrypted) and hold the dictionary; one
        // only the raw scan found is an earlier revision's, whose fields
        // may sit in object streams the byte search cannot read.
        let unreferenced = comparable.is_some()
            && !from_raw
            && d.field.is_empty()
            && !d.usage_rights
            && !named_in_bytes.contains(&d.contents);
        let at = d.offset.or_else(|| gap_start(&d.byte_range));
        found.push(Found {
            sigs,
            problems: own.problems,
            unreferenced,
            at,
            end: range_end(&d.byte_range),
        });
    }
    settle_unreferenced(&mut found);
    for f in found {
        out.signatures.extend(f.sigs);
        out.problems.extend(f.problems);
    }
    // The document security store's CRLs and OCSP responses (PAdES LTV) serve every signature.
    let (crls, ocsp) = doc
        .as_ref()
        .map(|d| (dss_streams(d, b"CRLs"), dss_streams(d, b"OCSPs")))
        .unwrap_or_default();
    for s in &mut out.signatures {
        s.crls.extend(crls.iter().cloned());
        s.ocsp.extend(ocsp.iter().cloned());
    }
    if too_many && out.signatures.is_empty() && out.problems.is_empty() {
        out.problem(
            "",
            Stage::Limit,
            format!(
                "at least {objects} PDF objects, more than the {MAX_OBJECTS} loaded, and no \
                 signature value found in the bytes"
            ),
        );
    }
    if out.signatures.is_empty()
        && out.problems.is_empty()
        && let Some(e) = structure_error
        && raw_only == 0
        && raw.unreadable == 0
        && memchr::memmem::find(bytes, super::PDF_SIGNED_MARKER).is_some()
    {
        out.problem(
            "",
            Stage::Pdf,
            format!("PDF structure unreadable ({e}) and no signature value found in the bytes"),
        );
    }
    out
}

/// What one signature dictionary gave: its rows and errors.csv rows.
struct Found {
    sigs: Vec<Signature>,
    problems: Vec<crate::model::extraction::Problem>,
    /// No form field (of the final objects, or named in the bytes) and no
    /// `/Perms` references the dictionary.
    unreferenced: bool,
    /// Where the dictionary is in the file.
    at: Option<usize>,
    /// Where its signed bytes end (the end of its revision).
    end: Option<usize>,
}

impl Found {
    /// A dictionary no field references whose signature does not verify:
    /// every row `invalid`, or no CMS at all (only errors.csv rows). An
    /// all-zero placeholder gives neither and is not counted; a signature
    /// that could not be checked (`unknown`) may still be one.
    fn leftover(&self) -> bool {
        self.unreferenced
            && if self.sigs.is_empty() {
                !self.problems.is_empty()
            } else {
                self.sigs.iter().all(|s| s.integrity == Integrity::Invalid)
            }
    }
}

fn gap_start(br: &[i64]) -> Option<usize> {
    let [a, b, ..] = br else { return None };
    usize::try_from(a.checked_add(*b)?).ok()
}

fn range_end(br: &[i64]) -> Option<usize> {
    let [_, _, c, d] = br else { return None };
    usize::try_from(c.checked_add(*d)?).ok()
}

/// Issue 23: signing software (Vietnamese e-invoice tools among it) leaves
/// beside the real signature signature dictionaries that no field
/// references, each with a /ByteRange over the final file and a /Contents
/// that does not verify. pdfsig, pyHanko and Adobe show only the field's
/// signature; as rows they would be `invalid` signatures nobody made, so
/// they become a note on the real signature of the same save: the first
/// signer row whose signed bytes (its revision) include the dictionary,
/// else the file's last one. A file with no signature a field references
/// keeps them as rows (with a note): nothing else would represent its
/// signing, and a signature is never dropped silently. A dictionary no
/// field references that verifies (or could not be checked) stays a row
/// with a note: a hidden signature is worth seeing.
fn settle_unreferenced(found: &mut [Found]) {
    let real: Vec<usize> = (0..found.len())
        .filter(|&i| !found[i].unreferenced && found[i].sigs.iter().any(|s| s.kind == Kind::Signer))
        .collect();
    let leftovers: Vec<usize> = (0..found.len()).filter(|&i| found[i].leftover()).collect();
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for &l in &leftovers {
        let at = found[l].at;
        let covering = real
            .iter()
            .copied()
            .filter(|&r| matches!((at, found[r].end), (Some(a), Some(e)) if a < e))
            .min_by_key(|&r| found[r].end);
        let Some(target) = covering.or_else(|| real.iter().copied().max_by_key(|&r| found[r].end))
        else {
            for s in &mut found[l].sigs {
                s.note(Note::NoFieldReferences { invalid: true });
            }
            continue;
        };
        *counts.entry(target).or_default() += 1;
        found[l].sigs.clear();
        found[l].problems.clear();
    }
    for (target, n) in counts {
        for s in found[target].sigs.iter_mut().filter(|s| s.kind == Kind::Signer) {
            s.note(Note::LeftoverSignatureDictionaries(n));
        }
    }
    for f in found.iter_mut().filter(|f| f.unreferenced && !f.leftover()) {
        for s in &mut f.sigs {
            s.note(Note::NoFieldReferences { invalid: false });
        }
    }
}

/// Signature dictionaries reached through the objects, with field names.
fn from_structure(doc: &Document) -> Vec<SigDict> {
    // Field name of each signature value, via /FT /Sig fields and widgets
    // (AcroForm or page annotations alike: both are objects here).
    let mut field_of: HashMap<ObjectId, String> = HashMap::new();
    let mut inline: Vec<(String, &Dictionary)> = Vec::new();
    for (_, obj) in doc.objects.iter() {
        let Some(dict) = dict_of(obj) else { continue };
        if !is_sig_field(doc, dict) {
            continue;
        }
        match dict.get(b"V") {
            Ok(Object::Reference(id)) => {
                field_of.entry(*id).or_insert_with(|| qualified_name(doc, dict));
            }
            Ok(Object::Dictionary(v)) => inline.push((qualified_name(doc, dict), v)),
            _ => {}
        }
    }
    // Usage-rights signatures hang from the catalog's /Perms (/UR3, or
    // /UR of PDF 1.5).
    let perms = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"Perms").ok())
        .map(|p| deref(doc, p))
        .and_then(|p| p.as_dict().ok());
    let usage_rights: Vec<ObjectId> = perms
        .map(|p| {
            [b"UR3".as_slice(), b"UR"]
                .iter()
                .filter_map(|k| p.get(k).ok()?.as_reference().ok())
                .collect()
        })
        .unwrap_or_default();
    let mut out: Vec<SigDict> = Vec::new();
    let push = |d: SigDict, out: &mut Vec<SigDict>| {
        if let Some(prev) = out.iter_mut().find(|p| p.contents == d.contents) {
            if prev.field.is_empty() {
                prev.field = d.field;
            }
        } else {
            out.push(d);
        }
    };
    for (id, obj) in doc.objects.iter() {
        let Some(dict) = dict_of(obj) else { continue };
        if let Some(mut d) = sig_dict(doc, dict) {
            d.field = field_of.get(id).cloned().unwrap_or_default();
            d.usage_rights |= usage_rights.contains(id);
            push(d, &mut out);
        }
    }
    for (name, dict) in inline {
        if let Some(mut d) = sig_dict(doc, dict) {
            d.field = name;
            push(d, &mut out);
        }
    }
    out
}

/// The dictionary of a dictionary or stream object.
pub(crate) fn dict_of(obj: &Object) -> Option<&Dictionary> {
    match obj {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        _ => None,
    }
}

/// The streams of the catalog's `/DSS` array `key` (ETSI EN 319 142-1:
/// `/CRLs` of DER CertificateLists, `/OCSPs` of DER OCSPResponses),
/// decoded. At most 64, each at most 16 MiB: revocation data, not a place
/// to hide a bomb.
fn dss_streams(doc: &Document, key: &[u8]) -> Vec<Vec<u8>> {
    let Some(Object::Dictionary(dss)) =
        doc.catalog().ok().and_then(|c| c.get(b"DSS").ok()).map(|o| deref(doc, o))
    else {
        return Vec::new();
    };
    let Some(Object::Array(streams)) = dss.get(key).ok().map(|o| deref(doc, o)) else {
        return Vec::new();
    };
    streams
        .iter()
        .take(64)
        .filter_map(|c| match deref(doc, c) {
            Object::Stream(stream) => {
                stream.decompressed_content().ok().or_else(|| Some(stream.content.clone()))
            }
            _ => None,
        })
        .filter(|c| c.len() <= 16 << 20)
        .collect()
}

/// A signature dictionary: /Type /Sig or /DocTimeStamp, or (for writers
/// that omit /Type) a /ByteRange with /Contents.
fn sig_dict(doc: &Document, dict: &Dictionary) -> Option<SigDict> {
    let dict_type = name(doc, dict, b"Type");
    let has_range = dict.has(b"ByteRange");
    let is_sig = matches!(dict_type.as_deref(), Some("Sig" | "DocTimeStamp"))
        || (has_range && dict.has(b"Contents"));
    if !is_sig {
        return None;
    }
    let contents = match deref(doc, dict.get(b"Contents").ok()?) {
        Object::String(bytes, _) => bytes.clone(),
        _ => return None,
    };
    let byte_range = match deref(doc, dict.get(b"ByteRange").ok().unwrap_or(&Object::Null)) {
        Object::Array(a) => a.iter().filter_map(|o| deref(doc, o).as_i64().ok()).collect(),
        _ => Vec::new(),
    };
    let cert = match dict.get(b"Cert").map(|o| deref(doc, o)) {
        Ok(Object::String(s, _)) => vec![s.clone()],
        Ok(Object::Array(a)) => a
            .iter()
            .filter_map(|o| match deref(doc, o) {
                Object::String(s, _) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let m = match dict.get(b"M").map(|o| deref(doc, o)) {
        Ok(Object::String(s, _)) => Some(String::from_utf8_lossy(s).into_owned()),
        _ => None,
    };
    let usage_rights =
        signature_references(doc, dict).any(|(method, _)| method == "UR3" || method == "UR");
    Some(SigDict {
        contents,
        byte_range,
        sub_filter: name(doc, dict, b"SubFilter"),
        dict_type,
        m,
        cert,
        field: String::new(),
        offset: None,
        docmdp: docmdp(doc, dict),
        field_lock: field_lock(doc, dict),
        usage_rights,
    })
}

/// Each signature reference dictionary of `/Reference`, with its
/// `/TransformMethod` (DocMDP, FieldMDP, UR3, ...).
fn signature_references<'a>(
    doc: &'a Document,
    dict: &'a lopdf::Dictionary,
) -> impl Iterator<Item = (String, &'a lopdf::Dictionary)> + 'a {
    let refs = match dict.get(b"Reference").map(|r| deref(doc, r)) {
        Ok(Object::Array(refs)) => refs.as_slice(),
        _ => &[],
    };
    refs.iter()
        .filter_map(|r| deref(doc, r).as_dict().ok())
        .filter_map(|r| Some((name(doc, r, b"TransformMethod")?, r)))
}

/// The DocMDP permission of a certification signature: a `/Reference`
/// entry with `/TransformMethod /DocMDP`, `/P` in its `/TransformParams`
/// (2 when absent, ISO 32000-1 12.8.2.2).
fn docmdp(doc: &Document, dict: &lopdf::Dictionary) -> Option<i64> {
    signature_references(doc, dict).find_map(|(method, r)| {
        (method == "DocMDP").then(|| {
            let params = r
                .get(b"TransformParams")
                .ok()
                .map(|p| deref(doc, p))
                .and_then(|p| p.as_dict().ok());
            params
                .and_then(|p| p.get(b"P").ok())
                .and_then(|p| deref(doc, p).as_i64().ok())
                .unwrap_or(2)
        })
    })
}

/// The FieldMDP lock of a signature: a `/Reference` entry with
/// `/TransformMethod /FieldMDP`, `/Action` and `/Fields` in its params.
fn field_lock(doc: &Document, dict: &lopdf::Dictionary) -> Option<FieldLock> {
    signature_references(doc, dict).find_map(|(method, r)| {
        if method != "FieldMDP" {
            return None;
        }
        let params = deref(doc, r.get(b"TransformParams").ok()?).as_dict().ok()?;
        let fields: Vec<String> = match params.get(b"Fields").map(|f| deref(doc, f)) {
            Ok(Object::Array(names)) => names
                .iter()
                .filter_map(|n| match deref(doc, n) {
                    Object::String(s, _) => Some(pdf_text(s)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        match name(doc, params, b"Action").as_deref() {
            Some("All") => Some(FieldLock::All),
            Some("Include") => Some(FieldLock::Include(fields)),
            Some("Exclude") => Some(FieldLock::Exclude(fields)),
            _ => None,
        }
    })
}

pub(crate) fn deref<'a>(doc: &'a Document, obj: &'a Object) -> &'a Object {
    match obj {
        Object::Reference(id) => doc.get_object(*id).unwrap_or(&Object::Null),
        other => other,
    }
}

/// A name value (following a reference), as text.
pub(crate) fn name(doc: &Document, dict: &Dictionary, key: &[u8]) -> Option<String> {
    match deref(doc, dict.get(key).ok()?) {
        Object::Name(n) => Some(String::from_utf8_lossy(n).into_owned()),
        _ => None,
    }
}

/// /FT /Sig on the dictionary or inherited through /Parent.
pub(crate) fn is_sig_field(doc: &Document, dict: &Dictionary) -> bool {
    let mut current = dict;
    for _ in 0..MAX_FIELD_DEPTH {
        if let Some(ft) = name(doc, current, b"FT") {
            return ft == "Sig";
        }
        match current.get(b"Parent").map(|p| deref(doc, p)) {
            Ok(Object::Dictionary(parent)) => current = parent,
            _ => return false,
        }
    }
    false
}

/// The fully qualified field name: /T of the field and its parents.
pub(crate) fn qualified_name(doc: &Document, dict: &Dictionary) -> String {
    let mut parts = Vec::new();
    let mut current = dict;
    for _ in 0..MAX_FIELD_DEPTH {
        if let Ok(Object::String(t, _)) = current.get(b"T").map(|o| deref(doc, o)) {
            parts.push(pdf_text(t));
        }
        match current.get(b"Parent").map(|p| deref(doc, p)) {
            Ok(Object::Dictionary(parent)) => current = parent,
            _ => break,
        }
    }
    parts.reverse();
    parts.join(".")
}

/// PDF text strings: UTF-16BE with a BOM, UTF-8 with a BOM, else
/// PDFDocEncoding (Latin-1 is close enough for field names).
pub(crate) fn pdf_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> =
            rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// Turns one signature dictionary into verified signature rows (or a problem).
fn signatures_of(
    bytes: &[u8],
    doc: Option<&Document>,
    d: &SigDict,
    member: &str,
    taken_out: bool,
    out: &mut Extraction,
) -> Vec<Signature> {
    if d.contents.iter().all(|&b| b == 0) {
        // An empty placeholder: the field was never signed.
        return Vec::new();
    }
    let sub_filter = d.sub_filter.clone().unwrap_or_default();
    let claimed = d.m.as_deref().and_then(parse_pdf_date);
    let ranges = signed_ranges(bytes, &d.byte_range, &d.contents);
    let content = match &ranges {
        Ok(r) => Content::Bytes(&r.parts),
        Err(_) => Content::Missing("the /ByteRange is not usable"),
    };
    let mut sigs = if sub_filter == "adbe.x509.rsa_sha1" {
        match x509_rsa_sha1(d, member, content) {
            Ok(s) => vec![s],
            Err(e) => {
                out.problem(member, Stage::Pdf, e);
                return Vec::new();
            }
        }
    } else {
        match signatures_in(&d.contents, Format::Pdf, member, content) {
            Ok(super::cms::Embedded { signatures: mut sigs, consumed, econtent }) => {
                let padding = &d.contents[consumed.min(d.contents.len())..];
                if padding.iter().any(|&b| b != 0) {
                    for s in &mut sigs {
                        s.note(Note::ContentsPadding(padding.len()));
                    }
                }
                if sub_filter == "adbe.pkcs7.sha1" {
                    check_sha1_content(&mut sigs, econtent.as_deref(), &ranges);
                }
                sigs
            }
            Err(e) => {
                let what = if sub_filter.is_empty() {
                    "signature".to_owned()
                } else {
                    format!("{sub_filter} signature")
                };
                out.problem(
                    member,
                    Stage::Cms,
                    format!("{what}: /Contents is not a CMS signature: {e}"),
                );
                return Vec::new();
            }
        }
    };
    let known = matches!(
        sub_filter.as_str(),
        "adbe.pkcs7.detached"
            | "adbe.pkcs7.sha1"
            | "ETSI.CAdES.detached"
            | "ETSI.RFC3161"
            | "adbe.x509.rsa_sha1"
    );
    let after = ranges.as_ref().ok().map(|r| (r.end, verify::after_signing(bytes, r.end, doc)));
    for s in &mut sigs {
        if d.dict_type.as_deref() == Some("DocTimeStamp") || sub_filter == "ETSI.RFC3161" {
            s.kind = Kind::DocTimestamp;
        } else if d.usage_rights {
            s.kind = Kind::UsageRights;
        }
        s.subfilter = d.sub_filter.clone();
        if !known {
            s.note(Note::UnknownSubFilter((!sub_filter.is_empty()).then(|| sub_filter.to_owned())));
        }
        if let (None, Some(t)) = (s.signed_at, claimed) {
            s.signed_at = Some((t, TimeSource::PdfM));
            s.note(Note::SigningTimeFromM);
        }
        match (&ranges, &after) {
            (Err(e), _) => {
                s.set_integrity(Integrity::Invalid, IntegrityReason::Container(e.to_string()))
            }
            (Ok(_), Some((end, a))) => {
                let covers_whole_file =
                    bytes[*end..].iter().all(|b| b.is_ascii_whitespace() || *b == 0);
                s.covers_whole_file = Some(covers_whole_file);
                // A signature that locks fields (FieldMDP) is broken by a
                // later change to one of them.
                let locked: Vec<String> = d
                    .field_lock
                    .as_ref()
                    .map(|lock| {
                        a.fields_changed.iter().filter(|f| lock.locks(f)).cloned().collect()
                    })
                    .unwrap_or_default();
                let verdict = crate::verdict::pdf_modification(&crate::verdict::PdfEvidence {
                    updates: &a.updates,
                    covers_whole_file,
                    docmdp: d.docmdp,
                    locked_fields_changed: &locked,
                    new_visible_signature_fields: &a.new_visible_signature_fields,
                    taken_out,
                });
                s.modified_after_signing = verdict.modified;
                s.notes.extend(verdict.notes);
            }
            (Ok(_), None) => {}
        }
    }
    sigs
}

/// adbe.pkcs7.sha1 signs the SHA-1 of the byte ranges as encapsulated content.
fn check_sha1_content(
    sigs: &mut [Signature],
    econtent: Option<&[u8]>,
    ranges: &Result<SignedRanges<'_>, FormatError>,
) {
    let Ok(r) = ranges else { return };
    let expected = Hash::Sha1.digest(&r.parts);
    if econtent != Some(expected.as_slice()) {
        for s in sigs.iter_mut().filter(|s| s.integrity == Integrity::Valid) {
            s.set_integrity(Integrity::Invalid, IntegrityReason::Sha1ContentMismatch);
        }
    }
}

/// adbe.x509.rsa_sha1: /Contents is a bare PKCS#1 value (in an OCTET
/// STRING) over the SHA-1 of the byte ranges; certificates are in /Cert.
fn x509_rsa_sha1(
    d: &SigDict,
    member: &str,
    content: Content<'_>,
) -> Result<Signature, FormatError> {
    let certs: Vec<Arc<Cert>> =
        d.cert.iter().filter_map(|c| Cert::from_der(c).ok().map(Arc::new)).collect();
    let signer = certs
        .first()
        .cloned()
        .ok_or("adbe.x509.rsa_sha1 signature without a readable /Cert certificate")?;
    let mut s = Signature::new(Format::Pdf, Kind::Signer, member.to_owned());
    s.signer = Some(signer.clone());
    s.certs = certs;
    s.digest_algorithm = Some("SHA-1".into());
    s.signature_algorithm = Some("RSA".into());
    s.note(Note::X509RsaSha1);
    let value = match Tlv::parse(&d.contents) {
        Ok(t) if t.tag == ber::tag::OCTET_STRING => t.body.to_vec(),
        _ => d.contents.clone(),
    };
    match content {
        Content::Bytes(parts) => {
            let alg = Algorithm { scheme: Scheme::RsaPkcs1, hash: Hash::Sha1 };
            match verify_prehashed(alg, &signer.spki, &Hash::Sha1.digest(parts), &value) {
                Ok(()) => s.set_integrity(Integrity::Valid, IntegrityReason::RsaSha1Verified),
                Err(VerifyError::Mismatch) => {
                    s.set_integrity(Integrity::Invalid, IntegrityReason::RsaSha1Mismatch)
                }
                Err(e) => {
                    s.set_integrity(Integrity::Unknown, IntegrityReason::Unchecked(e.to_string()))
                }
            }
        }
        Content::Missing(_) => {}
    }
    Ok(s)
}

/// `D:YYYYMMDDHHmmSSOHH'mm'` with every part after the year optional.
pub(crate) fn parse_pdf_date(text: &str) -> Option<OffsetDateTime> {
    let s = text.trim().strip_prefix("D:").unwrap_or(text.trim());
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    let part = |r: std::ops::Range<usize>, default: u32| -> Option<u32> {
        digits.get(r).map_or(Some(default), |v| v.parse().ok())
    };
    let year = digits.get(0..4)?.parse::<i32>().ok()?;
    let (month, day) = (part(4..6, 1)?, part(6..8, 1)?);
    let (hour, minute, second) = (part(8..10, 0)?, part(10..12, 0)?, part(12..14, 0)?);
    let tz = &s[digits.len()..];
    let offset = match tz.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let nums: Vec<i8> = tz[1..]
                .split(|c: char| !c.is_ascii_digit())
                .filter(|p| !p.is_empty())
                .filter_map(|p| p.parse().ok())
                .collect();
            let (h, m) = (*nums.first().unwrap_or(&0), *nums.get(1).unwrap_or(&0));
            let k = if sign == '-' { -1 } else { 1 };
            time::UtcOffset::from_hms(k * h, k * m, 0).ok()?
        }
        _ => time::UtcOffset::UTC,
    };
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month as u8).ok()?, day as u8)
            .ok()?;
    let t = time::Time::from_hms(hour as u8, minute as u8, second as u8).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, t).assume_offset(offset).to_offset(time::UtcOffset::UTC),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `local`, at an offset of `offset_minutes`, written as
    /// `D:YYYYMMDDHHmmSS+HH'mm'`.
    fn pdf_date_text(local: OffsetDateTime, offset_minutes: i32) -> String {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        format!(
            "D:{:04}{:02}{:02}{:02}{:02}{:02}{sign}{:02}'{:02}'",
            local.year(),
            local.month() as u8,
            local.day(),
            local.hour(),
            local.minute(),
            local.second(),
            offset_minutes.abs() / 60,
            offset_minutes.abs() % 60
        )
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_a_pdf_date_or_none(text in proptest::prelude::any::<String>()) {
            let _ = parse_pdf_date(&text);
        }

        /// `D:YYYYMMDDHHmmSS+HH'mm'` for any second of 1900..2099 reads back as that instant.
        #[test]
        fn pdf_dates_round_trip(
            secs in -2_208_988_800i64..4_102_444_800,
            offset_minutes in -720i32..=840
        ) {
            let utc = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let offset = time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
            let text = pdf_date_text(utc.to_offset(offset), offset_minutes);
            proptest::prop_assert_eq!(parse_pdf_date(&text), Some(utc));
        }
    }

    #[test]
    fn pdf_dates() {
        let t = parse_pdf_date("D:20240615103000+07'00'").unwrap();
        assert_eq!((t.year(), t.hour(), t.minute()), (2024, 3, 30));
        assert_eq!(parse_pdf_date("D:2023").unwrap().month(), time::Month::January);
        assert!(parse_pdf_date("D:20241340").is_none());
        assert!(parse_pdf_date("garbage").is_none());
    }

    fn found(
        member: &str,
        kind: Kind,
        integrity: Integrity,
        unreferenced: bool,
        at: usize,
        end: usize,
    ) -> Found {
        let mut s = Signature::new(Format::Pdf, kind, member.to_owned());
        s.set_integrity(integrity, IntegrityReason::NotVerified);
        Found { sigs: vec![s], problems: Vec::new(), unreferenced, at: Some(at), end: Some(end) }
    }

    fn notes(f: &Found) -> Vec<String> {
        f.sigs
            .iter()
            .flat_map(|s| s.notes.iter().filter(|n| **n != Note::Integrity).map(|n| n.to_string()))
            .collect()
    }

    #[test]
    fn leftovers_become_a_note_on_the_signature_of_their_revision() {
        let mut f = vec![
            found("Signature1", Kind::Signer, Integrity::Valid, false, 100, 1000),
            found("Signature2", Kind::Signer, Integrity::Valid, false, 1100, 2000),
            // Two in the first signature's revision, one after every signature.
            found("signature 1", Kind::Signer, Integrity::Invalid, true, 500, 2000),
            found("signature 2", Kind::Signer, Integrity::Invalid, true, 600, 2000),
            found("signature 3", Kind::Signer, Integrity::Invalid, true, 2100, 2500),
            // Not a leftover: it could not be checked, so it may verify.
            found("signature 4", Kind::Signer, Integrity::Unknown, true, 2200, 2500),
        ];
        settle_unreferenced(&mut f);
        assert_eq!(
            notes(&f[0]),
            vec![
                "2 signature dictionaries that no field uses and that do not verify (left by the \
                 signing software)"
                    .to_owned()
            ]
        );
        assert_eq!(
            notes(&f[1]),
            vec![
                "1 signature dictionary that no field uses and that does not verify (left by the \
                 signing software)"
                    .to_owned()
            ]
        );
        assert!(f[2..5].iter().all(|l| l.sigs.is_empty()));
        assert_eq!(notes(&f[5]), vec![Note::NoFieldReferences { invalid: false }.to_string()]);
    }

    #[test]
    fn leftovers_stay_rows_when_no_field_signature_represents_the_file() {
        // A document timestamp is not a signer row: the note could not be seen on it.
        let mut f = vec![
            found("Timestamp", Kind::DocTimestamp, Integrity::Valid, false, 100, 1000),
            found("signature 1", Kind::Signer, Integrity::Invalid, true, 200, 1000),
        ];
        settle_unreferenced(&mut f);
        assert_eq!(notes(&f[1]), vec![Note::NoFieldReferences { invalid: true }.to_string()]);
        assert!(notes(&f[0]).is_empty());
    }

    #[test]
    fn text_strings() {
        assert_eq!(pdf_text(&[0xfe, 0xff, 0x00, b'C', 0x01, 0xa1]), "Cơ");
        assert_eq!(pdf_text(b"Signature1"), "Signature1");
    }
}
