//! Extractors: from an item's bytes to the signatures inside, per format.
//! Each extractor is lenient (real files are messy) and reports what it
//! could not read as problems, never by failing the whole item.
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files         what they hold
//! 0      cms xml       CMS SignedData files; XML signatures
//! 1      mail pdf zip  MIME and S/MIME, mbox; PDF (its CMS values); ZIP and packages (their XML
//!                      and CMS)
//! 2      msg           Outlook .msg and TNEF (their messages)
//! 3      fuzz          the fuzz targets' bodies, over every format
//! ```

pub(crate) mod cms;
pub mod fuzz;
pub(crate) mod mail;
pub(crate) mod msg;
pub(crate) mod pdf;
pub(crate) mod xml;
pub(crate) mod zip;

/// Why part of a signed format could not be read or checked: the formats
/// layer's one error type. Its words end up in notes and errors.csv.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FormatError {
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

use crate::messages::Stage;
use crate::model::extraction::{Extraction, join_member};
use crate::model::signature::Format;

/// One file format sigaudit reads, as its module registers it (a
/// `pub(super) const` there, one line of `registry!` here): its name,
/// extensions, recognition, container-ness, extractor, the signature
/// formats it yields and the fuzz target that reaches it. Every field is
/// required, so a new format missing one does not compile; a registration
/// left out of the list is dead code (clippy `-D warnings`); the tests
/// below check the fuzz target and that every [`Format`] has a producer.
pub(crate) struct FileFormat {
    /// What tests and messages call it.
    #[cfg_attr(not(test), expect(dead_code, reason = "the registry's own tests"))]
    pub name: &'static str,
    /// File-name extensions, lower case: an empty file so named is a row.
    pub extensions: &'static [&'static str],
    /// Recognition by content (or name), tried in the registry's order;
    /// arguments: the file's first bytes and its lower-case name.
    pub sniff: Sniff,
    /// A weaker recognition (text armour, a name alone), tried for every
    /// format only after every `sniff` said no.
    pub sniff_late: Sniff,
    /// Holds other files (members, attachments, messages): not opened
    /// deeper than `--max-depth`.
    pub container: bool,
    /// Without this marker a file of the format holds no signature: a
    /// large file is streamed through it instead of being read whole.
    pub marker: Option<fn(&[u8]) -> bool>,
    /// Every signature of `bytes` (and of the files inside).
    pub extract: Extract,
    /// The signature formats it yields itself (its members yield theirs).
    #[cfg_attr(not(test), expect(dead_code, reason = "the registry's own tests"))]
    pub yields: &'static [Format],
    /// The fuzz target (`fuzz/fuzz_targets/<name>.rs`, [`fuzz::TARGETS`])
    /// whose inputs reach this format's parser.
    #[cfg_attr(not(test), expect(dead_code, reason = "the registry's own tests"))]
    pub fuzz_target: &'static str,
}

/// A format's recognition: `(head, lower-case file name)`.
pub(crate) type Sniff = fn(&[u8], &str) -> Option<DocKind>;

/// A format's extractor: `(kind, bytes, file name, depth, env)`.
pub(crate) type Extract = fn(DocKind, &[u8], &str, usize, &Env<'_>) -> Extraction;

/// For formats recognised by one test only.
fn never(_: &[u8], _: &str) -> Option<DocKind> {
    None
}

/// The registration list: one line per format makes its [`DocKind`]
/// variant, its place in [`REGISTRY`] (the order `sniff` tries them) and
/// the exhaustive match of [`DocKind::format`].
macro_rules! registry {
    ($($(#[$doc:meta])* $kind:ident $(($payload:ty))? => $format:path,)*) => {
        /// What a file is, decided from its first bytes (and name).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum DocKind {
            $($(#[$doc])* $kind $(($payload))?,)*
        }

        /// Every format sigaudit reads, in the order their `sniff` is tried.
        pub(crate) const REGISTRY: &[&FileFormat] = &[$(&$format,)*];

        impl DocKind {
            /// This kind's registration.
            pub(crate) fn format(self) -> &'static FileFormat {
                match self {
                    $(DocKind::$kind { .. } => &$format,)*
                }
            }
        }
    };
}

registry! {
    /// A CMS SignedData (`.p7s`, `.p7m`). First: an attached `.p7m`
    /// carries its PDF's header in its first bytes.
    Cms(CmsEncoding) => cms::FORMAT,
    /// A ZIP archive (also .docx/.odt and other packages).
    Zip => zip::FORMAT,
    /// An Outlook .msg (OLE compound file).
    Msg => msg::MSG,
    /// A TNEF `winmail.dat` attachment.
    Tnef => msg::TNEF,
    /// An mbox mailbox: many messages behind `From ` lines.
    Mbox => mail::MBOX,
    /// One RFC 5322 message (.eml, a Maildir file).
    Mail => mail::MAIL,
    /// An XML document (signed ones carry XMLDSig).
    Xml => xml::FORMAT,
    /// A PDF (also one named .pdf that does not look like one).
    Pdf => pdf::FORMAT,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmsEncoding {
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
pub(crate) const PDF_SIGNED_MARKER: &[u8] = b"/ByteRange";

/// Further markers, looked for only when the first is absent: a signature
/// dictionary cut before its /ByteRange (truncated download) still has a
/// /SubFilter or a CMS value (hex `30...`) in /Contents.
const PDF_DAMAGED_SIGNATURE_MARKERS: [&[u8]; 3] =
    [b"/SubFilter", b"/Contents <30", b"/Contents<30"];

/// Could this PDF hold a signature? The cheap test that lets unsigned
/// PDFs skip parsing.
/// One pass over the bytes for all the markers (an unsigned PDF has none:
/// a pass per marker read it four times). Measured on a PDF-heavy tree,
/// the automaton with its start-byte prefilter beat both four `memmem`
/// passes and the SIMD multi-literal searcher (all markers share the `/`).
pub(crate) fn pdf_may_be_signed(bytes: &[u8]) -> bool {
    static MARKERS: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| {
            let all = std::iter::once(PDF_SIGNED_MARKER).chain(PDF_DAMAGED_SIGNATURE_MARKERS);
            aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .build(all)
                .expect("fixed PDF signature markers")
        });
    MARKERS.is_match(bytes)
}

/// Is `name` named as a format sigaudit reads? An empty file so named is a
/// row, whatever its format: nothing in it can be checked.
pub(crate) fn named_as_signable(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| {
        REGISTRY.iter().flat_map(|f| f.extensions).any(|e| ext.eq_ignore_ascii_case(e))
    })
}

/// Recognises a document by content first, then by extension: every
/// format's `sniff` in the registry's order, then every `sniff_late`.
pub(crate) fn sniff(head: &[u8], file_name: &str) -> Option<DocKind> {
    let lower = file_name.to_ascii_lowercase();
    REGISTRY
        .iter()
        .find_map(|f| (f.sniff)(head, &lower))
        .or_else(|| REGISTRY.iter().find_map(|f| (f.sniff_late)(head, &lower)))
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
        Limits {
            max_depth: 8,
            max_unpacked_bytes: 1 << 30,
            max_members: 10_000,
            max_ratio: 200,
            unit: crate::budget::UnitBudget::default(),
        }
    }
}

/// The state of one top-level file's unfolding.
pub(crate) struct Env<'a> {
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
pub(crate) type ReadBeside<'a> = dyn Fn(&str) -> Result<Vec<u8>, FormatError> + 'a;

/// The files beside a top-level XML signature, as the parts its
/// references name.
struct Beside<'a>(&'a ReadBeside<'a>);

impl xml::Parts for Beside<'_> {
    fn part(&self, name: &str) -> Result<Vec<u8>, FormatError> {
        (self.0)(name)
    }
}

impl<'a> Env<'a> {
    pub(crate) fn new(limits: Limits, detached: Option<&'a dyn Fn() -> cms::Detached>) -> Env<'a> {
        Env { limits, budget: Cell::new(limits.max_unpacked_bytes), detached, beside: None }
    }

    /// Takes `n` bytes from the unpacking budget; false when exhausted.
    pub(crate) fn spend(&self, n: u64) -> bool {
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
pub(crate) fn extract_bytes(
    bytes: &[u8],
    name: &str,
    member: &str,
    depth: usize,
    env: &Env<'_>,
) -> Extraction {
    let mut out = Extraction::default();
    let Some(kind) = sniff(&bytes[..bytes.len().min(8192)], name) else { return out };
    if kind.format().container && depth >= env.limits.max_depth {
        out.problem(
            member,
            Stage::Limit,
            format!("nested more than {} containers deep: not opened", env.limits.max_depth),
        );
        return out;
    }
    // Each member, attachment and message is its own unit of work: a
    // parser bug that panics on it costs that unit a row, not its siblings.
    let inner = guarded("", || (kind.format().extract)(kind, bytes, name, depth, env));
    out.absorb(member, inner);
    out
}

/// Runs one unit of extraction; a panic becomes a problem row of that unit.
pub(crate) fn guarded(member: &str, unit: impl FnOnce() -> Extraction) -> Extraction {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(unit)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let mut out = Extraction::default();
        out.problem(
            member,
            Stage::Read,
            format!(
                "internal error while reading this part (a parser panicked: {why}): please report \
                 it; the other parts are unaffected"
            ),
        );
        out
    })
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

    /// Every registration is whole: names and extensions unique, and its
    /// fuzz target real (the body in [`fuzz::TARGETS`], a `[[bin]]` of
    /// fuzz/Cargo.toml with its file, a committed corpus).
    #[test]
    fn every_registered_format_is_complete() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap();
        let target_is_built = |t: &str| {
            assert!(
                manifest.contains(&format!("name = \"{t}\"\npath = \"fuzz_targets/{t}.rs\"")),
                "fuzz/Cargo.toml has no [[bin]] {t}"
            );
            assert!(
                root.join("fuzz/fuzz_targets").join(format!("{t}.rs")).is_file(),
                "no fuzz/fuzz_targets/{t}.rs"
            );
            assert!(root.join("fuzz/corpus").join(t).is_dir(), "no fuzz/corpus/{t}");
        };
        let mut names = std::collections::HashSet::new();
        let mut extensions = std::collections::HashSet::new();
        for f in REGISTRY {
            assert!(names.insert(f.name), "{} registered twice", f.name);
            for e in f.extensions {
                assert!(extensions.insert(*e), ".{e} claimed twice");
                assert_eq!(*e, e.to_ascii_lowercase());
            }
            assert!(
                fuzz::TARGETS.iter().any(|(t, _)| *t == f.fuzz_target),
                "{}: no fuzz target {}",
                f.name,
                f.fuzz_target
            );
        }
        for (t, _) in fuzz::TARGETS {
            target_is_built(t);
        }
    }

    /// Every signature format has a stored name that reads back (history,
    /// summary.json through serde) and a registered file format yielding it.
    #[test]
    fn every_signature_format_is_stored_and_produced() {
        for &f in Format::ALL {
            assert_eq!(Format::from_stored(f.as_str()), Some(f));
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{}\"", f.as_str()));
            assert!(
                REGISTRY.iter().any(|r| r.yields.contains(&f)),
                "no registered file format yields {f:?}"
            );
        }
        assert_eq!(Format::from_stored("PDF"), None);
    }

    /// The registry kept every extension and the order of the tests: a
    /// name test of one format never wins over another's content.
    #[test]
    fn the_registry_recognises_what_the_lists_did() {
        for ext in [
            "pdf", "p7s", "p7m", "p7b", "csig", "sig", "xml", "eml", "mbox", "msg", "docx", "xlsx",
            "pptx", "odt", "ods", "odp", "zip", "asice", "asics", "sce", "scs",
        ] {
            assert!(named_as_signable(&format!("x.{}", ext.to_ascii_uppercase())), "{ext}");
        }
        assert!(!named_as_signable("winmail.dat") && !named_as_signable("pdf"));
        // The name .pdf (a content test) before PEM armour (a late test).
        assert_eq!(sniff(b"-----BEGIN PKCS7-----\nMIIB", "x.pdf"), Some(DocKind::Pdf));
        // Binary signed-data before a PDF header inside it (an attached .p7m).
        let der =
            [0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0];
        assert_eq!(
            sniff(&[&der[..], b"%PDF-1.7"].concat(), "x.pdf.p7m"),
            Some(DocKind::Cms(CmsEncoding::Binary))
        );
        assert_eq!(sniff(b"garbage", "x.P7S"), Some(DocKind::Cms(CmsEncoding::Binary)));
        assert_eq!(sniff(b"PK\x03\x04", "x.pdf"), Some(DocKind::Zip));
        for kind in [DocKind::Mail, DocKind::Mbox, DocKind::Msg, DocKind::Tnef, DocKind::Zip] {
            assert!(kind.format().container, "{kind:?}");
        }
        for kind in [DocKind::Pdf, DocKind::Xml, DocKind::Cms(CmsEncoding::Pem)] {
            assert!(!kind.format().container, "{kind:?}");
        }
    }

    #[test]
    fn sniffs_by_content_not_name() {
        assert_eq!(sniff(b"%PDF-1.7\n", "x.bin"), Some(DocKind::Pdf));
        assert_eq!(sniff(b"garbage", "broken.pdf"), Some(DocKind::Pdf));
        let der =
            [0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0];
        assert_eq!(sniff(&der, "noext"), Some(DocKind::Cms(CmsEncoding::Binary)));
        let b64 = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            [der.as_slice(), &[0u8; 40]].concat(),
        );
        assert_eq!(sniff(b64.as_bytes(), "invoice.txt"), Some(DocKind::Cms(CmsEncoding::Base64)));
        assert_eq!(
            sniff(b"\n-----BEGIN PKCS7-----\nMIIB", "a"),
            Some(DocKind::Cms(CmsEncoding::Pem))
        );
        assert_eq!(sniff(b"MIT License", "LICENSE"), None);
        assert_eq!(sniff(b"hello", "a.txt"), None);
    }
}
