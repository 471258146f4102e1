//! CMS / PKCS#7 files: `.p7s` (detached), `.p7m` (attached), DER or BER,
//! PEM-armoured or bare base64; nested `.p7m` inside `.p7m` unwrapped.
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files        what they hold
//! 0      signed_data  SignedData (RFC 5652), read leniently
//! 1      verify       one SignerInfo's integrity: digest, signature value
//! 2      signers      signatures out of a SignedData, one per SignerInfo
//! ```

use std::borrow::Cow;

pub(crate) mod signed_data;
pub(crate) mod signers;
pub(crate) mod verify;

pub(crate) use signers::{find_signer, from_signed_data};
pub(crate) use verify::Content;

use super::{CmsEncoding, DocKind, Env, Extraction, FileFormat, FormatError};
use crate::asn1::oids;
use crate::formats::cms::signed_data::{CmsError, SignedData};
use crate::messages::Stage;
use crate::model::note::Note;
use crate::model::signature::{Format, Signature};

/// The data a detached signature signs, as the caller found it (the file
/// beside `x.pdf.p7s` is `x.pdf`).
pub(crate) enum Detached {
    Found { name: String, bytes: Vec<u8> },
    NotFound(String),
}

/// CMS files, registered in formats/mod.rs.
pub(super) const FORMAT: FileFormat = FileFormat {
    name: "cms",
    extensions: &["p7s", "p7m", "p7b", "csig", "sig"],
    sniff: sniff_binary,
    sniff_late: sniff_text,
    container: false,
    marker: None,
    extract: extract_file,
    yields: &[Format::Cms],
    fuzz_target: "cms_file",
};

/// DER or BER signed-data, recognised before any other format: an
/// attached `.p7m` carries its PDF's header in its first bytes.
fn sniff_binary(head: &[u8], _: &str) -> Option<DocKind> {
    looks_like_signed_data(head).then_some(DocKind::Cms(CmsEncoding::Binary))
}

/// Signed-data as text (PEM armour, bare base64) or only named as CMS:
/// tried after every other format's test.
fn sniff_text(head: &[u8], lower_name: &str) -> Option<DocKind> {
    let text_start =
        head.iter().position(|b| !b.is_ascii_whitespace()).map_or(&[][..], |p| &head[p..]);
    for armour in [
        &b"-----BEGIN PKCS7-----"[..],
        b"-----BEGIN CMS-----",
        b"-----BEGIN PKCS #7 SIGNED DATA-----",
    ] {
        if memchr::memmem::find(&head[..head.len().min(4096)], armour).is_some() {
            return Some(DocKind::Cms(CmsEncoding::Pem));
        }
    }
    if [".p7m", ".p7s", ".csig"].iter().any(|e| lower_name.ends_with(e))
        && head.first() != Some(&b'M')
    {
        // Named as CMS but not recognisable: parse anyway, so a damaged
        // signature file becomes an error row rather than disappearing.
        return Some(DocKind::Cms(CmsEncoding::Binary));
    }
    if text_start.starts_with(b"MI") {
        let sample: Vec<u8> =
            text_start.iter().copied().filter(|b| !b.is_ascii_whitespace()).take(64).collect();
        if let Ok(decoded) = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &sample[..sample.len() / 4 * 4],
        ) && looks_like_signed_data(&decoded)
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

/// A CMS file: a top-level detached signature finds its data beside it;
/// one inside a container cannot.
fn extract_file(kind: DocKind, bytes: &[u8], _: &str, depth: usize, env: &Env<'_>) -> Extraction {
    // Only CMS kinds reach this extractor (DocKind::format).
    let DocKind::Cms(encoding) = kind else { return Extraction::default() };
    let missing = || {
        Detached::NotFound(
            "detached signature inside a container: its signed data is not identified".into(),
        )
    };
    extract(bytes, encoding, if depth == 0 { env.detached.unwrap_or(&missing) } else { &missing })
}

/// Nested signed-data deeper than this is not unwrapped.
const MAX_NESTING: usize = 4;

pub(crate) fn extract(
    bytes: &[u8],
    encoding: CmsEncoding,
    detached: &dyn Fn() -> Detached,
) -> Extraction {
    let mut out = Extraction::default();
    let der: Cow<'_, [u8]> = match encoding {
        CmsEncoding::Binary => Cow::Borrowed(bytes),
        CmsEncoding::Pem | CmsEncoding::Base64 => match decode_text(bytes) {
            Ok(d) => Cow::Owned(d),
            Err(e) => {
                out.problem("", Stage::Cms, e);
                return out;
            }
        },
    };
    unwrap(&der, "", 0, detached, &mut out);
    out
}

fn unwrap(
    bytes: &[u8],
    member: &str,
    depth: usize,
    detached: &dyn Fn() -> Detached,
    out: &mut Extraction,
) {
    let sd = match SignedData::parse(bytes) {
        Ok(sd) => sd,
        Err(e) => {
            return out.problem(member, Stage::Cms, format!("not a readable CMS signed-data: {e}"));
        }
    };
    let trailing = &bytes[sd.consumed.min(bytes.len())..];
    let data = if sd.econtent.is_none() { Some(detached()) } else { None };
    let parts: [&[u8]; 1] = match &data {
        Some(Detached::Found { bytes, .. }) => [bytes.as_slice()],
        _ => [&[]],
    };
    let (content, about) = match &data {
        None => (
            Content::Bytes(&[]),
            format!("attached content ({} bytes)", sd.econtent.as_ref().map_or(0, |c| c.len())),
        ),
        Some(Detached::Found { name, .. }) => {
            (Content::Bytes(&parts), format!("detached signature over {name}"))
        }
        Some(Detached::NotFound(why)) => {
            (Content::Missing(why), format!("detached signature: {why}"))
        }
    };
    let mut sigs = from_signed_data(&sd, Format::Cms, member, content);
    for s in &mut sigs {
        s.note(Note::Content(about.clone()));
        if trailing.iter().any(|&b| b != 0) {
            s.note(Note::TrailingBytes(trailing.len()));
        }
    }
    out.signatures.extend(sigs);
    // A signed .p7m whose content is itself signed-data (double signing).
    if let Some(content) = &sd.econtent
        && super::sniff(content, "") == Some(DocKind::Cms(CmsEncoding::Binary))
    {
        let inner = if member.is_empty() { "inner".to_owned() } else { format!("{member}/inner") };
        if depth + 1 >= MAX_NESTING {
            out.problem(
                inner,
                Stage::Limit,
                format!("signed-data nested more than {MAX_NESTING} deep: not unwrapped"),
            );
        } else {
            unwrap(content, &inner, depth + 1, detached, out);
        }
    }
}

/// PEM armour or bare base64 to DER.
fn decode_text(bytes: &[u8]) -> Result<Vec<u8>, FormatError> {
    match crate::asn1::pem::blocks(bytes).into_iter().next() {
        Some(block) => Ok(block.map(|(_, der)| der)?),
        None => Ok(crate::asn1::pem::decode_base64(&String::from_utf8_lossy(bytes))?),
    }
}

/// What a CMS blob embedded in a container yields.
pub(crate) struct Embedded {
    pub signatures: Vec<Signature>,
    /// Bytes the CMS took (the rest of the blob is padding).
    pub consumed: usize,
    /// Encapsulated content, when attached.
    pub econtent: Option<Vec<u8>>,
}

/// CMS bytes embedded in another container (PDF /Contents, mail part),
/// verified against the `content` the container says was signed.
pub(crate) fn signatures_in(
    blob: &[u8],
    format: Format,
    member: &str,
    content: Content<'_>,
) -> Result<Embedded, CmsError> {
    let sd = SignedData::parse(blob)?;
    Ok(Embedded {
        signatures: from_signed_data(&sd, format, member, content),
        consumed: sd.consumed,
        econtent: sd.econtent.as_ref().map(|c| c.to_vec()),
    })
}
