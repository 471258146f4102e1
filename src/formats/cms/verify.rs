//! Integrity of one CMS SignerInfo: the signed content's digest against the
//! messageDigest attribute, and the signature value against the signer's
//! key, over the signed attributes exactly as they were written.
//!
//! Every container (PDF, .p7s/.p7m, S/MIME) hands the signed bytes in as
//! slices; nothing here knows where they came from.

use crate::asn1::ber::{Tlv, tag};
use crate::asn1::oids;
use crate::cert::Cert;
use crate::crypto::{Algorithm, Hash, VerifyError, verify_message, verify_prehashed};
use crate::formats::cms::signed_data::{SignedData, SignerInfo, tst_gen_time};
use crate::model::signature::Integrity;
use time::OffsetDateTime;

use crate::formats::FormatError;
use crate::model::note::IntegrityReason;

/// What was signed, as the container knows it.
#[derive(Debug, Clone, Copy)]
pub enum Content<'a> {
    /// The bytes, possibly in several pieces (a PDF's two byte ranges).
    Bytes(&'a [&'a [u8]]),
    /// Not available, with the reason (a detached .p7s without its file).
    Missing(&'a str),
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub integrity: Integrity,
    /// Why, in a sentence (always set: valid ones say what was checked).
    pub reason: IntegrityReason,
    pub hash: Option<Hash>,
}

impl Verdict {
    fn new(integrity: Integrity, reason: IntegrityReason, hash: Option<Hash>) -> Verdict {
        Verdict { integrity, reason, hash }
    }
}

/// Verifies `si` (from `sd`) made by `signer` over `content`.
pub fn verify_signer(sd: &SignedData<'_>, si: &SignerInfo<'_>, signer: &Cert, content: Content<'_>) -> Verdict {
    let Some(digest_hash) = Hash::from_oid(&si.digest_algorithm) else {
        let name = oids::algorithm_name(&si.digest_algorithm);
        return Verdict::new(Integrity::Unknown, IntegrityReason::DigestUnsupported(name.to_string()), None);
    };
    let alg = match Algorithm::resolve(&si.signature_algorithm, si.signature_algorithm_params, Some(&si.digest_algorithm)) {
        Ok(a) => a,
        Err(e) => return Verdict::new(Integrity::Unknown, IntegrityReason::Unchecked(e.to_string()), Some(digest_hash)),
    };
    // Attached content wins over what the container passed (a PDF signature
    // carrying encapsulated content signs that content).
    let attached;
    let content = match (&sd.econtent, content) {
        // An empty eContent (pyHanko writes one) means detached.
        (Some(c), _) if !c.is_empty() => {
            attached = [c.as_ref()];
            Content::Bytes(&attached)
        }
        (_, c) => c,
    };
    let Some(attrs) = si.signed_attrs else {
        // No signed attributes: the signature is over the content itself.
        let Content::Bytes(parts) = content else {
            return missing(content, digest_hash);
        };
        let digest = alg.hash.digest(parts);
        return match verify_prehashed(alg, &signer.spki, &digest, &si.signature) {
            Ok(()) => Verdict::new(Integrity::Valid, IntegrityReason::SignatureOverContent { digest: alg.hash.name() }, Some(alg.hash)),
            Err(e) => signature_failed(e, alg.hash),
        };
    };
    // The signature covers the signed attributes, re-tagged as SET OF, in
    // the order and encoding the signer wrote (never re-sorted).
    let mut signed = match attrs.to_der() {
        Ok(d) => d,
        Err(e) => return Verdict::new(Integrity::Invalid, IntegrityReason::SignedAttrsUnreadable(e.to_string()), Some(digest_hash)),
    };
    signed[0] = tag::SET;
    let mut signature_check = verify_message(alg, &signer.spki, &signed, &si.signature);
    if signature_check == Err(VerifyError::Mismatch) {
        // RFC 5652 signs the DER encoding; a file whose attributes are not
        // in DER (SET OF) order may have been signed over the sorted form.
        if let Some(sorted) = der_sorted_set(&signed)
            && sorted != signed
            && verify_message(alg, &signer.spki, &sorted, &si.signature).is_ok()
        {
            signature_check = Ok(());
        }
    }
    let content_type_ok = si.signed_attr(&oids::CONTENT_TYPE).first().is_none_or(|t| crate::asn1::ber::oid_string(t.body) == sd.econtent_type);
    let Some(message_digest) = si.signed_attr(&oids::MESSAGE_DIGEST).into_iter().next() else {
        return Verdict::new(Integrity::Invalid, IntegrityReason::NoMessageDigest, Some(digest_hash));
    };
    let Content::Bytes(parts) = content else {
        return match signature_check {
            Err(e) => signature_failed(e, alg.hash),
            Ok(()) => missing(content, digest_hash),
        };
    };
    let digest = digest_hash.digest(parts);
    if digest != message_digest.body {
        return Verdict::new(Integrity::Invalid, IntegrityReason::DigestMismatch { digest: digest_hash.name() }, Some(digest_hash));
    }
    if let Err(e) = signature_check {
        return signature_failed(e, alg.hash);
    }
    if !content_type_ok {
        return Verdict::new(Integrity::Invalid, IntegrityReason::ContentTypeDiffers, Some(digest_hash));
    }
    Verdict::new(Integrity::Valid, IntegrityReason::DigestAndSignature { digest: digest_hash.name() }, Some(digest_hash))
}

/// A SET re-encoded with its elements in DER order (X.690 11.6: ascending
/// encodings, the shorter padded with zero octets at its end).
fn der_sorted_set(set: &[u8]) -> Option<Vec<u8>> {
    let t = Tlv::parse(set).ok()?;
    let mut items: Vec<&[u8]> = t.children().map(|c| c.map(|c| c.raw)).collect::<Result<_, _>>().ok()?;
    items.sort_by(|a, b| {
        let n = a.len().max(b.len());
        a.iter().copied().chain(std::iter::repeat(0)).take(n).cmp(b.iter().copied().chain(std::iter::repeat(0)).take(n))
    });
    let body: Vec<u8> = items.concat();
    let mut out = vec![tag::SET];
    crate::asn1::ber::push_len(&mut out, body.len());
    out.extend(body);
    Some(out)
}

fn missing(content: Content<'_>, hash: Hash) -> Verdict {
    let why = match content {
        Content::Missing(why) => why,
        Content::Bytes(_) => "content not available",
    };
    Verdict::new(Integrity::Unknown, IntegrityReason::ContentMissing(why.to_owned()), Some(hash))
}

fn signature_failed(e: VerifyError, hash: Hash) -> Verdict {
    match e {
        VerifyError::Mismatch => Verdict::new(Integrity::Invalid, IntegrityReason::SignatureMismatch, Some(hash)),
        other => Verdict::new(Integrity::Unknown, IntegrityReason::SignatureUnchecked(other.to_string()), Some(hash)),
    }
}

/// An RFC 3161 timestamp token over `stamped` (a signature value, or a
/// PDF's byte ranges for a document timestamp): its imprint and its own
/// signature. Returns genTime when both hold.
pub fn verify_timestamp_token(token: &SignedData<'_>, stamped: &[&[u8]]) -> Result<OffsetDateTime, FormatError> {
    let info = token.econtent.as_ref().ok_or("timestamp token without TSTInfo")?;
    let tst = Tlv::parse(info).map_err(|e| format!("TSTInfo unreadable: {e}"))?;
    let mut fields = tst.children();
    let _version = fields.next();
    let _policy = fields.next();
    let imprint = fields.next().and_then(Result::ok).ok_or("TSTInfo without messageImprint")?;
    let mut imp = imprint.children();
    let alg = imp.next().and_then(Result::ok).and_then(|a| a.children().next()).and_then(Result::ok).ok_or("messageImprint without algorithm")?;
    let dotted = crate::asn1::ber::oid_string(alg.body);
    let hash = Hash::from_oid(&dotted).ok_or_else(|| format!("timestamp imprint algorithm {dotted} not supported"))?;
    let value = imp.next().and_then(Result::ok).ok_or("messageImprint without hash")?;
    if hash.digest(stamped) != value.body {
        return Err("the timestamp's imprint does not match what it claims to timestamp".into());
    }
    let si = token.signer_infos.first().ok_or("timestamp token without a signer")?;
    let certs: Vec<std::sync::Arc<Cert>> = token.certificates.iter().filter_map(|c| Cert::from_der(c).ok().map(std::sync::Arc::new)).collect();
    let tsa = crate::formats::cms::find_signer(&si.sid, &certs).ok_or("timestamp authority certificate not embedded")?;
    let v = verify_signer(token, si, &tsa, Content::Missing("no detached content"));
    if v.integrity != Integrity::Valid {
        return Err(format!("timestamp token: {}", v.reason).into());
    }
    tst_gen_time(token).ok_or_else(|| "TSTInfo without genTime".into())
}
