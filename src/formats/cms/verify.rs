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
use crate::model::signature::{Integrity, KeyCheck};
use time::OffsetDateTime;

use crate::formats::FormatError;
use crate::model::note::IntegrityReason;

/// What was signed, as the container knows it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Content<'a> {
    /// The bytes, possibly in several pieces (a PDF's two byte ranges).
    Bytes(&'a [&'a [u8]]),
    /// Not available, with the reason (a detached .p7s without its file).
    Missing(&'a str),
}

#[derive(Debug, Clone)]
pub(crate) struct Verdict {
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
pub(crate) fn verify_signer(
    sd: &SignedData<'_>,
    si: &SignerInfo<'_>,
    signer: &Cert,
    content: Content<'_>,
) -> Verdict {
    match prepare(sd, si, content) {
        Prepared::Settled(v) => v,
        Prepared::NeedsKey { check, if_verified } => finish(&check, &signer.spki, if_verified),
    }
}

/// A SignerInfo checked as far as it can be without the signer's key.
pub(crate) enum Prepared {
    /// The verdict does not depend on the key (an unsupported algorithm,
    /// content that does not match its messageDigest, ...).
    Settled(Verdict),
    /// The signature value is left to check; `if_verified` holds if it does.
    NeedsKey { check: KeyCheck, if_verified: Verdict },
}

/// Everything but the signature value: the algorithms, the content's digest
/// against messageDigest, the content type.
#[expect(clippy::too_many_lines, reason = "102 lines, from before the limit")]
pub(crate) fn prepare(sd: &SignedData<'_>, si: &SignerInfo<'_>, content: Content<'_>) -> Prepared {
    let Some(digest_hash) = Hash::from_oid(&si.digest_algorithm) else {
        let name = oids::algorithm_name(&si.digest_algorithm);
        return Prepared::Settled(Verdict::new(
            Integrity::Unknown,
            IntegrityReason::DigestUnsupported(name.to_string()),
            None,
        ));
    };
    let alg = match Algorithm::resolve(
        &si.signature_algorithm,
        si.signature_algorithm_params,
        Some(&si.digest_algorithm),
    ) {
        Ok(a) => a,
        Err(e) => {
            return Prepared::Settled(Verdict::new(
                Integrity::Unknown,
                IntegrityReason::Unchecked(e.to_string()),
                Some(digest_hash),
            ));
        }
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
    let check = |message: Vec<u8>, prehashed: bool, sorted: Option<Vec<u8>>| KeyCheck {
        signature_algorithm: si.signature_algorithm.clone(),
        algorithm_params: si.signature_algorithm_params.map(<[u8]>::to_vec),
        digest_algorithm: si.digest_algorithm.clone(),
        message,
        prehashed,
        sorted,
        signature: si.signature.to_vec(),
        if_verified: (Integrity::Unknown, String::new()),
    };
    let needs_key = |check: KeyCheck, if_verified: Verdict| {
        let check = KeyCheck {
            if_verified: (if_verified.integrity, if_verified.reason.to_string()),
            ..check
        };
        Prepared::NeedsKey { check, if_verified }
    };
    let Some(attrs) = si.signed_attrs else {
        // No signed attributes: the signature is over the content itself.
        let Content::Bytes(parts) = content else {
            return Prepared::Settled(missing(content, digest_hash));
        };
        let digest = alg.hash.digest(parts);
        let valid = Verdict::new(
            Integrity::Valid,
            IntegrityReason::SignatureOverContent { digest: alg.hash.name() },
            Some(alg.hash),
        );
        return needs_key(check(digest, true, None), valid);
    };
    // The signature covers the signed attributes, re-tagged as SET OF, in
    // the order and encoding the signer wrote (never re-sorted).
    let mut signed = match attrs.to_der() {
        Ok(d) => d,
        Err(e) => {
            return Prepared::Settled(Verdict::new(
                Integrity::Invalid,
                IntegrityReason::SignedAttrsUnreadable(e.to_string()),
                Some(digest_hash),
            ));
        }
    };
    signed[0] = tag::SET;
    // RFC 5652 signs the DER encoding; a file whose attributes are not in
    // DER (SET OF) order may have been signed over the sorted form.
    let sorted = der_sorted_set(&signed).filter(|s| *s != signed);
    let content_type_ok = si
        .signed_attr(&oids::CONTENT_TYPE)
        .first()
        .is_none_or(|t| crate::asn1::ber::oid_string(t.body) == sd.econtent_type);
    let Some(message_digest) = si.signed_attr(&oids::MESSAGE_DIGEST).into_iter().next() else {
        return Prepared::Settled(Verdict::new(
            Integrity::Invalid,
            IntegrityReason::NoMessageDigest,
            Some(digest_hash),
        ));
    };
    let Content::Bytes(parts) = content else {
        // Without the content only the signature value can be checked.
        return needs_key(check(signed, false, sorted), missing(content, digest_hash));
    };
    if digest_hash.digest(parts) != message_digest.body {
        return Prepared::Settled(Verdict::new(
            Integrity::Invalid,
            IntegrityReason::DigestMismatch { digest: digest_hash.name() },
            Some(digest_hash),
        ));
    }
    let if_verified = if content_type_ok {
        Verdict::new(
            Integrity::Valid,
            IntegrityReason::DigestAndSignature { digest: digest_hash.name() },
            Some(digest_hash),
        )
    } else {
        Verdict::new(Integrity::Invalid, IntegrityReason::ContentTypeDiffers, Some(digest_hash))
    };
    needs_key(check(signed, false, sorted), if_verified)
}

/// The signature value checked with the signer's public key `spki`: the
/// verdict is `if_verified` when it holds.
pub(crate) fn finish(check: &KeyCheck, spki: &[u8], if_verified: Verdict) -> Verdict {
    let hash = if_verified.hash.unwrap_or(Hash::Sha256);
    let alg = match Algorithm::resolve(
        &check.signature_algorithm,
        check.algorithm_params.as_deref(),
        Some(&check.digest_algorithm),
    ) {
        Ok(a) => a,
        Err(e) => {
            return Verdict::new(
                Integrity::Unknown,
                IntegrityReason::Unchecked(e.to_string()),
                Some(hash),
            );
        }
    };
    let result = if check.prehashed {
        verify_prehashed(alg, spki, &check.message, &check.signature)
    } else {
        match verify_message(alg, spki, &check.message, &check.signature) {
            Err(VerifyError::Mismatch)
                if check.sorted.as_ref().is_some_and(|sorted| {
                    verify_message(alg, spki, sorted, &check.signature).is_ok()
                }) =>
            {
                Ok(())
            }
            other => other,
        }
    };
    match result {
        Ok(()) => if_verified,
        Err(e) => signature_failed(e, alg.hash),
    }
}

/// `finish` for a check kept with a signature (its expected verdict stored as text).
pub(crate) fn finish_kept(check: &KeyCheck, spki: &[u8]) -> Verdict {
    let hash = Hash::from_oid(&check.digest_algorithm);
    let (integrity, reason) = check.if_verified.clone();
    finish(check, spki, Verdict::new(integrity, IntegrityReason::Stored(reason), hash))
}

/// A SET re-encoded with its elements in DER order (X.690 11.6: ascending
/// encodings, the shorter padded with zero octets at its end).
fn der_sorted_set(set: &[u8]) -> Option<Vec<u8>> {
    let t = Tlv::parse(set).ok()?;
    let mut items: Vec<&[u8]> =
        t.children().map(|c| c.map(|c| c.raw)).collect::<Result<_, _>>().ok()?;
    items.sort_by(|a, b| {
        let n = a.len().max(b.len());
        a.iter()
            .copied()
            .chain(std::iter::repeat(0))
            .take(n)
            .cmp(b.iter().copied().chain(std::iter::repeat(0)).take(n))
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
        VerifyError::Mismatch => {
            Verdict::new(Integrity::Invalid, IntegrityReason::SignatureMismatch, Some(hash))
        }
        other => Verdict::new(
            Integrity::Unknown,
            IntegrityReason::SignatureUnchecked(other.to_string()),
            Some(hash),
        ),
    }
}

/// An RFC 3161 timestamp token over `stamped` (a signature value, or a
/// PDF's byte ranges for a document timestamp): its imprint and its own
/// signature. Returns genTime when both hold.
pub(crate) fn verify_timestamp_token(
    token: &SignedData<'_>,
    stamped: &[&[u8]],
) -> Result<OffsetDateTime, FormatError> {
    let info = token.econtent.as_ref().ok_or("timestamp token without TSTInfo")?;
    let tst = Tlv::parse(info).map_err(|e| format!("TSTInfo unreadable: {e}"))?;
    let mut fields = tst.children();
    let _version = fields.next();
    let _policy = fields.next();
    let imprint = fields.next().and_then(Result::ok).ok_or("TSTInfo without messageImprint")?;
    let mut imp = imprint.children();
    let alg = imp
        .next()
        .and_then(Result::ok)
        .and_then(|a| a.children().next())
        .and_then(Result::ok)
        .ok_or("messageImprint without algorithm")?;
    let dotted = crate::asn1::ber::oid_string(alg.body);
    let hash = Hash::from_oid(&dotted)
        .ok_or_else(|| format!("timestamp imprint algorithm {dotted} not supported"))?;
    let value = imp.next().and_then(Result::ok).ok_or("messageImprint without hash")?;
    if hash.digest(stamped) != value.body {
        return Err("the timestamp's imprint does not match what it claims to timestamp".into());
    }
    let si = token.signer_infos.first().ok_or("timestamp token without a signer")?;
    let certs: Vec<std::sync::Arc<Cert>> = token
        .certificates
        .iter()
        .filter_map(|c| Cert::from_der(c).ok().map(std::sync::Arc::new))
        .collect();
    let tsa = crate::formats::cms::find_signer(&si.sid, &certs)
        .ok_or("timestamp authority certificate not embedded")?;
    let v = verify_signer(token, si, &tsa, Content::Missing("no detached content"));
    if v.integrity != Integrity::Valid {
        return Err(format!("timestamp token: {}", v.reason).into());
    }
    tst_gen_time(token).ok_or_else(|| "TSTInfo without genTime".into())
}
