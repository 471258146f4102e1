//! Extractors: from an item's bytes to the signatures inside, per format.
//! Each extractor is lenient (real files are messy) and reports what it
//! could not read as problems, never by failing the whole item.

pub mod cms;
pub mod fuzz;
pub mod mail;
pub mod msg;
pub mod pdf;
pub mod xml;
pub mod zip;

/// Why part of a signed format could not be read or checked: the formats
/// layer's one error type. Its words end up in notes and errors.csv.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The bytes are not a readable encoding.
    #[error("{0}")]
    Encoding(#[from] crate::asn1::ber::BerError),
    /// Not a readable CMS SignedData.
    #[error("{0}")]
    Cms(#[from] cms::signed_data::CmsError),
    /// A structure breaks the format's rules.
    #[error("{0}")]
    Malformed(String),
    /// Something sigaudit cannot check (a transform, an algorithm, a reference outside the file).
    #[error("{0}")]
    Unsupported(String),
    /// A check that was made and failed (an imprint, a signature).
    #[error("{0}")]
    Mismatch(String),
}

impl From<String> for FormatError {
    fn from(why: String) -> FormatError {
        FormatError::Malformed(why)
    }
}

impl From<&str> for FormatError {
    fn from(why: &str) -> FormatError {
        FormatError::Malformed(why.to_owned())
    }
}

use std::cell::Cell;

use crate::asn1::oids;
use crate::messages::Stage;
use crate::model::extraction::{Extraction, join_member};
use crate::model::signature::Format;

/// What a file looks like, decided from its first bytes (and name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Pdf,
    Cms(CmsEncoding),
    /// One RFC 5322 message (.eml, a Maildir file).
    Mail,
    /// An mbox mailbox: many messages behind `From ` lines.
    Mbox,
    /// An Outlook .msg (OLE compound file).
    Msg,
    /// A TNEF `winmail.dat` attachment.
    Tnef,
    /// A ZIP archive (also .docx/.odt and other packages).
    Zip,
    /// An XML document (signed ones carry XMLDSig).
    Xml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmsEncoding {
    /// BER or DER bytes.
    Binary,
    /// `-----BEGIN PKCS7-----` (or CMS) armour.
    Pem,
    /// Bare base64 of the DER, as Italian e-invoice tools write it.
    Base64,
}

/// Marker every signed PDF carries uncompressed: `/ByteRange` offsets must
/// point at raw file bytes, so the signature dictionary is never inside an
/// object stream.
pub const PDF_SIGNED_MARKER: &[u8] = b"/ByteRange";

/// Further markers, looked for only when the first is absent: a signature
/// dictionary cut before its /ByteRange (truncated download) still has a
/// /SubFilter or a CMS value (hex `30...`) in /Contents.
const PDF_DAMAGED_SIGNATURE_MARKERS: [&[u8]; 3] = [b"/SubFilter", b"/Contents <30", b"/Contents<30"];

/// Could this PDF hold a signature? The cheap test that lets unsigned
/// PDFs skip parsing.
/// One pass over the bytes for all the markers (an unsigned PDF has none:
/// a pass per marker read it four times). Measured on a PDF-heavy tree,
/// the automaton with its start-byte prefilter beat both four `memmem`
/// passes and the SIMD multi-literal searcher (all markers share the `/`).
pub fn pdf_may_be_signed(bytes: &[u8]) -> bool {
    static MARKERS: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
        let all = std::iter::once(PDF_SIGNED_MARKER).chain(PDF_DAMAGED_SIGNATURE_MARKERS);
        aho_corasick::AhoCorasick::builder().match_kind(aho_corasick::MatchKind::LeftmostFirst).build(all).expect("fixed PDF signature markers")
    });
    MARKERS.is_match(bytes)
}

/// Extensions of the formats sigaudit reads (signed files and containers).
const SIGNABLE_EXTENSIONS: [&str; 21] =
    ["pdf", "p7s", "p7m", "p7b", "csig", "sig", "xml", "eml", "mbox", "msg", "docx", "xlsx", "pptx", "odt", "ods", "odp", "zip", "asice", "asics", "sce", "scs"];

/// Is `name` named as a format sigaudit reads? An empty file so named is a
/// row, whatever its format: nothing in it can be checked.
pub fn named_as_signable(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| SIGNABLE_EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

/// Recognises a document by content first, then by extension.
pub fn sniff(head: &[u8], file_name: &str) -> Option<DocKind> {
    let lower = file_name.to_ascii_lowercase();
    // CMS first: an attached .p7m carries its PDF's header in its first bytes.
    if looks_like_signed_data(head) {
        return Some(DocKind::Cms(CmsEncoding::Binary));
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Some(DocKind::Zip);
    }
    if head.starts_with(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) {
        return Some(DocKind::Msg);
    }
    if head.starts_with(&msg::TNEF_SIGNATURE) {
        return Some(DocKind::Tnef);
    }
    if mail::looks_like_mbox(head) {
        return Some(DocKind::Mbox);
    }
    if mail::looks_like_message(head) {
        return Some(DocKind::Mail);
    }
    if xml::looks_like_xml(head) || xml::utf16_as_utf8(head).is_some_and(|text| xml::looks_like_xml(&text)) {
        return Some(DocKind::Xml);
    }
    if memchr::memmem::find(&head[..head.len().min(1024)], b"%PDF-").is_some() || lower.ends_with(".pdf") {
        return Some(DocKind::Pdf);
    }
    let text_start = head.iter().position(|b| !b.is_ascii_whitespace()).map_or(&[][..], |p| &head[p..]);
    for armour in [&b"-----BEGIN PKCS7-----"[..], b"-----BEGIN CMS-----", b"-----BEGIN PKCS #7 SIGNED DATA-----"] {
        if memchr::memmem::find(&head[..head.len().min(4096)], armour).is_some() {
            return Some(DocKind::Cms(CmsEncoding::Pem));
        }
    }
    if [".p7m", ".p7s", ".csig"].iter().any(|e| lower.ends_with(e)) && head.first() != Some(&b'M') {
        // Named as CMS but not recognisable: parse anyway, so a damaged
        // signature file becomes an error row rather than disappearing.
        return Some(DocKind::Cms(CmsEncoding::Binary));
    }
    if text_start.starts_with(b"MI") {
        let sample: Vec<u8> = text_start.iter().copied().filter(|b| !b.is_ascii_whitespace()).take(64).collect();
        if let Ok(decoded) = base64::Engine::decode(&base64::engine::general_purpose::STANDARD_NO_PAD, &sample[..sample.len() / 4 * 4])
            && looks_like_signed_data(&decoded)
        {
            return Some(DocKind::Cms(CmsEncoding::Base64));
        }
    }
    None
}

/// A SEQUENCE whose first element is the signed-data OID.
fn looks_like_signed_data(head: &[u8]) -> bool {
    let mut oid = vec![0x06, oids::SIGNED_DATA.as_bytes().len() as u8];
    oid.extend_from_slice(oids::SIGNED_DATA.as_bytes());
    head.first() == Some(&0x30) && memchr::memmem::find(&head[..head.len().min(24)], &oid).is_some()
}

/// Bounds on what one top-level file may unfold into (archives inside
/// mail inside archives...): hostile input must not exhaust the machine.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Containers nested deeper than this are not opened.
    pub max_depth: usize,
    /// Bytes that decoding and decompression may produce per top-level file.
    pub max_unpacked_bytes: u64,
    /// Members read from one archive.
    pub max_members: usize,
    /// Largest compression ratio accepted for one archive member.
    pub max_ratio: u64,
    /// Time and memory of one unit: a file, or a message of a mailbox.
    pub unit: crate::budget::UnitBudget,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 8, max_unpacked_bytes: 1 << 30, max_members: 10_000, max_ratio: 200, unit: crate::budget::UnitBudget::default() }
    }
}

/// The state of one top-level file's unfolding.
pub struct Env<'a> {
    pub limits: Limits,
    /// Bytes still allowed to be unpacked for this top-level file.
    pub budget: Cell<u64>,
    /// Finds the data of a detached signature given as the top-level file.
    pub detached: Option<&'a dyn Fn() -> cms::Detached>,
    /// Reads a file beside the top-level file by its relative name (what
    /// a detached XML signature's references name).
    pub beside: Option<&'a ReadBeside<'a>>,
}

/// Reads a file beside the top-level file, by its name relative to it.
pub type ReadBeside<'a> = dyn Fn(&str) -> Result<Vec<u8>, FormatError> + 'a;

/// The files beside a top-level XML signature, as the parts its
/// references name.
struct Beside<'a>(&'a ReadBeside<'a>);

impl xml::Parts for Beside<'_> {
    fn part(&self, name: &str) -> Result<Vec<u8>, FormatError> {
        (self.0)(name)
    }
}

impl<'a> Env<'a> {
    pub fn new(limits: Limits, detached: Option<&'a dyn Fn() -> cms::Detached>) -> Env<'a> {
        Env { limits, budget: Cell::new(limits.max_unpacked_bytes), detached, beside: None }
    }

    /// Takes `n` bytes from the unpacking budget; false when exhausted.
    pub fn spend(&self, n: u64) -> bool {
        let left = self.budget.get();
        if n > left {
            self.budget.set(0);
            return false;
        }
        self.budget.set(left - n);
        true
    }
}

/// Extracts every signature from `bytes`, opening containers recursively.
/// `name` helps recognise the format; `member` is where the bytes sit in
/// the top-level file; `depth` is the container nesting so far.
pub fn extract_bytes(bytes: &[u8], name: &str, member: &str, depth: usize, env: &Env<'_>) -> Extraction {
    let mut out = Extraction::default();
    let Some(kind) = sniff(&bytes[..bytes.len().min(8192)], name) else { return out };
    let opens_container = matches!(kind, DocKind::Mail | DocKind::Mbox | DocKind::Msg | DocKind::Tnef | DocKind::Zip);
    if opens_container && depth >= env.limits.max_depth {
        out.problem(member, Stage::Limit, format!("nested more than {} containers deep: not opened", env.limits.max_depth));
        return out;
    }
    // Each member, attachment and message is its own unit of work: a
    // parser bug that panics on it costs that unit a row, not its siblings.
    let inner = guarded("", || extract_kind(kind, bytes, name, depth, env));
    out.absorb(member, inner);
    out
}

/// Runs one unit of extraction; a panic becomes a problem row of that unit.
pub fn guarded(member: &str, unit: impl FnOnce() -> Extraction) -> Extraction {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(unit)).unwrap_or_else(|panic| {
        let why = panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
        let mut out = Extraction::default();
        out.problem(member, Stage::Read, format!("internal error while reading this part (a parser panicked: {why}): please report it; the other parts are unaffected"));
        out
    })
}

fn extract_kind(kind: DocKind, bytes: &[u8], name: &str, depth: usize, env: &Env<'_>) -> Extraction {
    let mut out = Extraction::default();
    let inner = match kind {
        DocKind::Pdf if !pdf_may_be_signed(bytes) => {
            if name.to_ascii_lowercase().ends_with(".pdf") && memchr::memmem::find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_none() {
                out.problem("", Stage::Pdf, "named .pdf but not a PDF: no %PDF- header and no signature");
            }
            return out;
        }
        DocKind::Pdf => pdf::extract(bytes),
        DocKind::Cms(enc) => {
            let missing = || cms::Detached::NotFound("detached signature inside a container: its signed data is not identified".into());
            cms::extract(bytes, enc, if depth == 0 { env.detached.unwrap_or(&missing) } else { &missing })
        }
        DocKind::Mail => mail::extract_message(bytes, depth, env),
        DocKind::Mbox => mail::extract_mbox(std::io::Cursor::new(bytes), depth, env),
        DocKind::Msg => msg::extract_msg(bytes, depth, env),
        DocKind::Tnef => msg::extract_tnef(bytes, depth, env),
        DocKind::Zip => zip::extract(bytes, depth, env),
        DocKind::Xml => {
            let utf8 = xml::utf16_as_utf8(bytes);
            let bytes = utf8.as_deref().unwrap_or(bytes);
            // The cheap test: no XMLDSig namespace, no signature.
            if memchr::memmem::find(bytes, xml::MARKER).is_none() {
                return out;
            }
            // A top-level file's references may name the files beside it
            // (detached XAdES); inside a container, its own members do.
            let beside = env.beside.filter(|_| depth == 0).map(Beside);
            xml::extract(bytes, Format::Xml, beside.as_ref().map(|b| b as &dyn xml::Parts))
        }
    };
    out.absorb("", inner);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_unit_becomes_a_problem_of_that_unit() {
        let out = guarded("message 3", || panic!("index out of range"));
        assert!(out.signatures.is_empty());
        assert_eq!(out.problems.len(), 1);
        assert_eq!(out.problems[0].member, "message 3");
        assert!(out.problems[0].error.contains("index out of range"), "{}", out.problems[0].error);
    }

    #[test]
    fn sniffs_by_content_not_name() {
        assert_eq!(sniff(b"%PDF-1.7\n", "x.bin"), Some(DocKind::Pdf));
        assert_eq!(sniff(b"garbage", "broken.pdf"), Some(DocKind::Pdf));
        let der = [0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0];
        assert_eq!(sniff(&der, "noext"), Some(DocKind::Cms(CmsEncoding::Binary)));
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [der.as_slice(), &[0u8; 40]].concat());
        assert_eq!(sniff(b64.as_bytes(), "invoice.txt"), Some(DocKind::Cms(CmsEncoding::Base64)));
        assert_eq!(sniff(b"\n-----BEGIN PKCS7-----\nMIIB", "a"), Some(DocKind::Cms(CmsEncoding::Pem)));
        assert_eq!(sniff(b"MIT License", "LICENSE"), None);
        assert_eq!(sniff(b"hello", "a.txt"), None);
    }
}
