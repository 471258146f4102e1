//! Signatures out of a CMS SignedData: one per SignerInfo, verified.

use std::sync::Arc;

use crate::asn1::{ber, oids};

use time::OffsetDateTime;

use super::signed_data::{SignedData, SignerId, SignerInfo};
use super::verify::{Content, Prepared};
use crate::cert::Cert;
use crate::model::note::{IntegrityReason, Note};
use crate::model::signature::{
    Format, Integrity, Kind, Signature, SignerKey, TimeSource, Timestamp,
};

/// One Signature per SignerInfo of a parsed SignedData, each verified
/// against `content`. Certificates that fail to parse are noted, not
/// fatal: the others still classify.
pub(crate) fn from_signed_data(
    sd: &SignedData<'_>,
    format: Format,
    member: &str,
    content: Content<'_>,
) -> Vec<Signature> {
    let mut certs = Vec::new();
    let mut cert_notes = Vec::new();
    for (i, der) in sd.certificates.iter().enumerate() {
        match Cert::from_der(der) {
            Ok(c) => certs.push(Arc::new(c)),
            Err(e) => {
                cert_notes.push(Note::EmbeddedCertUnreadable { index: i + 1, why: e.to_string() })
            }
        }
    }
    let kind = if sd.is_timestamp_token() { Kind::DocTimestamp } else { Kind::Signer };
    let many = sd.signer_infos.len() > 1;
    sd.signer_infos
        .iter()
        .enumerate()
        .map(|(i, si)| {
            let member = match (many, member.is_empty()) {
                (false, _) => member.to_owned(),
                (true, true) => format!("signer {}", i + 1),
                (true, false) => format!("{member} / signer {}", i + 1),
            };
            let mut sig = Signature::new(format, kind, member);
            sig.certs = certs.clone();
            sig.notes = cert_notes.clone();
            sig.signer = find_signer(&si.sid, &certs);
            sig.crls = sd.crls.iter().map(|c| c.to_vec()).chain(si.archived_crls()).collect();
            sig.ocsp = sd.ocsp.iter().cloned().chain(si.archived_ocsp()).collect();
            if sig.signer.is_none() {
                sig.signer_key = Some(signer_key(&si.sid));
            }
            sig.signer_ref = describe_sid(&si.sid);
            sig.digest_algorithm = Some(oids::algorithm_name(&si.digest_algorithm).to_owned());
            sig.signature_algorithm =
                Some(oids::algorithm_name(&si.signature_algorithm).to_owned());
            sig.signed_at = signing_time(si, sd, kind);
            if kind == Kind::Signer {
                sig.timestamp = signature_timestamp(si);
                if let Some(Timestamp::Unusable(e)) = &sig.timestamp {
                    sig.note(Note::TimestampUnusable(e.clone()));
                }
            }
            match (&sig.signer, kind) {
                (Some(signer), Kind::Signer | Kind::UsageRights) => {
                    let v = crate::formats::cms::verify::verify_signer(sd, si, signer, content);
                    sig.set_integrity(v.integrity, v.reason);
                }
                (Some(_), Kind::DocTimestamp) => match content {
                    Content::Bytes(parts) => {
                        match crate::formats::cms::verify::verify_timestamp_token(sd, parts) {
                            Ok(_) => sig.set_integrity(
                                Integrity::Valid,
                                IntegrityReason::TimestampVerified,
                            ),
                            Err(e) => sig.set_integrity(
                                Integrity::Invalid,
                                IntegrityReason::Container(e.to_string()),
                            ),
                        }
                    }
                    Content::Missing(why) => sig.set_integrity(
                        Integrity::Unknown,
                        IntegrityReason::Container(why.to_owned()),
                    ),
                },
                // No certificate: everything but the signature value is
                // checked now; the value once the certificate is found.
                (None, Kind::Signer | Kind::UsageRights) => {
                    match crate::formats::cms::verify::prepare(sd, si, content) {
                        Prepared::Settled(v) => sig.set_integrity(v.integrity, v.reason),
                        Prepared::NeedsKey { check, if_verified } => {
                            let why = match if_verified.integrity {
                                Integrity::Valid => "the content matches its signed digest; the \
                                                     signature value needs the signer's \
                                                     certificate, which is not embedded"
                                    .to_owned(),
                                _ => format!(
                                    "{}; the signature value needs the signer's certificate, \
                                     which is not embedded",
                                    if_verified.reason
                                ),
                            };
                            sig.set_integrity(Integrity::Unknown, IntegrityReason::Unchecked(why));
                            sig.key_check = Some(check);
                        }
                    }
                }
                (None, Kind::DocTimestamp) => {}
            }
            let counter = si.countersignature_count();
            if counter > 0 {
                sig.note(Note::CounterSignatures(counter));
            }
            sig
        })
        .collect()
}

/// The signature timestamp (unsigned attribute), checked against this
/// signature value.
fn signature_timestamp(si: &SignerInfo<'_>) -> Option<Timestamp> {
    let token = si.unsigned_attr(&oids::SIGNATURE_TIMESTAMP).into_iter().next()?;
    Some(
        SignedData::parse(token.raw)
            .map_err(crate::formats::FormatError::from)
            .and_then(|t| crate::formats::cms::verify::verify_timestamp_token(&t, &[&si.signature]))
            .map_or_else(|e| Timestamp::Unusable(e.to_string()), Timestamp::Verified),
    )
}

fn signing_time(
    si: &SignerInfo<'_>,
    sd: &SignedData<'_>,
    kind: Kind,
) -> Option<(OffsetDateTime, TimeSource)> {
    if kind == Kind::DocTimestamp {
        return super::signed_data::tst_gen_time(sd).map(|t| (t, TimeSource::Timestamp));
    }
    si.signing_time()
        .map(|t| (t, TimeSource::SigningTime))
        .or_else(|| si.timestamp_time().map(|t| (t, TimeSource::Timestamp)))
}

/// The certificate a SignerInfo names, by issuer and serial or by key id.
pub(crate) fn find_signer(sid: &SignerId<'_>, certs: &[Arc<Cert>]) -> Option<Arc<Cert>> {
    let key = signer_key(sid);
    certs.iter().find(|c| key.matches(c)).cloned()
}

/// The SignerIdentifier as owned model data.
pub(crate) fn signer_key(sid: &SignerId<'_>) -> SignerKey {
    match sid {
        SignerId::IssuerSerial { issuer, serial } => {
            SignerKey::IssuerSerial { issuer: issuer.to_vec(), serial: serial.to_vec() }
        }
        SignerId::KeyId(id) => SignerKey::KeyId(id.to_vec()),
    }
}

fn describe_sid(sid: &SignerId<'_>) -> String {
    match sid {
        SignerId::IssuerSerial { serial, .. } => format!("serial {}", ber::hex(serial)),
        SignerId::KeyId([]) => "identified by an empty key id".into(),
        SignerId::KeyId(id) => format!("key id {}", ber::hex(id)),
    }
}
