//! CMS / PKCS#7 files: `.p7s` (detached), `.p7m` (attached), DER or BER,
//! PEM-armoured or bare base64; nested `.p7m` inside `.p7m` unwrapped.

use std::borrow::Cow;

pub mod signed_data;
pub mod signers;
pub mod verify;

pub use signers::{find_signer, from_signed_data};
pub use verify::Content;

use super::{CmsEncoding, Extraction, FormatError};
use crate::formats::cms::signed_data::{CmsError, SignedData};
use crate::messages::Stage;
use crate::model::note::Note;
use crate::model::signature::{Format, Signature};

/// The data a detached signature signs, as the caller found it (the file
/// beside `x.pdf.p7s` is `x.pdf`).
pub enum Detached {
    Found { name: String, bytes: Vec<u8> },
    NotFound(String),
}

/// Nested signed-data deeper than this is not unwrapped.
const MAX_NESTING: usize = 4;

pub fn extract(bytes: &[u8], encoding: CmsEncoding, detached: &dyn Fn() -> Detached) -> Extraction {
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

fn unwrap(bytes: &[u8], member: &str, depth: usize, detached: &dyn Fn() -> Detached, out: &mut Extraction) {
    let sd = match SignedData::parse(bytes) {
        Ok(sd) => sd,
        Err(e) => return out.problem(member, Stage::Cms, format!("not a readable CMS signed-data: {e}")),
    };
    let trailing = &bytes[sd.consumed.min(bytes.len())..];
    let data = if sd.econtent.is_none() { Some(detached()) } else { None };
    let parts: [&[u8]; 1] = match &data {
        Some(Detached::Found { bytes, .. }) => [bytes.as_slice()],
        _ => [&[]],
    };
    let (content, about) = match &data {
        None => (Content::Bytes(&[]), format!("attached content ({} bytes)", sd.econtent.as_ref().map_or(0, |c| c.len()))),
        Some(Detached::Found { name, .. }) => (Content::Bytes(&parts), format!("detached signature over {name}")),
        Some(Detached::NotFound(why)) => (Content::Missing(why), format!("detached signature: {why}")),
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
        && super::sniff(content, "") == Some(super::DocKind::Cms(CmsEncoding::Binary))
    {
        let inner = if member.is_empty() { "inner".to_owned() } else { format!("{member}/inner") };
        if depth + 1 >= MAX_NESTING {
            out.problem(inner, Stage::Limit, format!("signed-data nested more than {MAX_NESTING} deep: not unwrapped"));
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
pub struct Embedded {
    pub signatures: Vec<Signature>,
    /// Bytes the CMS took (the rest of the blob is padding).
    pub consumed: usize,
    /// Encapsulated content, when attached.
    pub econtent: Option<Vec<u8>>,
}

/// CMS bytes embedded in another container (PDF /Contents, mail part),
/// verified against the `content` the container says was signed.
pub fn signatures_in(blob: &[u8], format: Format, member: &str, content: Content<'_>) -> Result<Embedded, CmsError> {
    let sd = SignedData::parse(blob)?;
    Ok(Embedded { signatures: from_signed_data(&sd, format, member, content), consumed: sd.consumed, econtent: sd.econtent.as_ref().map(|c| c.to_vec()) })
}
