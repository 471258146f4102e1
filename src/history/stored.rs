//! The stored form of what was extracted from one file: enough to classify
//! its signatures again (under other rules) without reading the file. It
//! round-trips exactly, so an incremental scan reports what a full one does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::HistoryError;
use crate::cert::Cert;
use crate::messages::Stage;
use crate::model::extraction::{Extraction, Problem};
use crate::model::signature::{Format, Integrity, Kind, Signature, TimeSource, Timestamp};

/// Bumped whenever the shape below or what extraction concludes changes:
/// older entries are re-read.
pub const VERSION: u32 = 5;

#[derive(Serialize, Deserialize)]
struct StoredExtraction {
    signatures: Vec<StoredSignature>,
    problems: Vec<StoredProblem>,
}

#[derive(Serialize, Deserialize)]
struct StoredProblem {
    member: String,
    stage: Stage,
    error: String,
}

#[derive(Serialize, Deserialize)]
struct StoredSignature {
    format: Format,
    kind: Kind,
    member: String,
    /// SHA-256 (hex) of each certificate; the DER is stored once apart.
    certs: Vec<String>,
    /// Index into `certs`, or the signer's SHA-256 when it came apart from them.
    signer: Option<SignerRef>,
    signer_ref: String,
    /// Absent in entries stored before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signer_key: Option<crate::model::signature::SignerKey>,
    /// The signature value's check left for a signer not embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_check: Option<crate::model::signature::KeyCheck>,
    signed_at: Option<(i128, TimeSource)>,
    subfilter: Option<String>,
    digest_algorithm: Option<String>,
    signature_algorithm: Option<String>,
    integrity: Integrity,
    integrity_reason: String,
    timestamp: Option<StoredTimestamp>,
    covers_whole_file: Option<bool>,
    modified_after_signing: Option<bool>,
    cert_valid_at_signing: Option<bool>,
    mail_from: Option<String>,
    notes: Vec<String>,
    /// CRLs that came with the signature (hex DER): revocation is judged again on reuse.
    crls: Vec<String>,
    /// OCSP responses (hex DER), likewise.
    ocsp: Vec<String>,
}

#[derive(Serialize, Deserialize)]
enum SignerRef {
    Index(usize),
    Sha256(String),
}

/// The certificates stored entries refer to, by SHA-256 (hex): each is
/// stored once, and decoded once per run, however many documents carry it.
#[derive(Default)]
pub(crate) struct CertCache {
    der: HashMap<String, Vec<u8>>,
    decoded: Mutex<HashMap<String, Arc<Cert>>>,
}

impl CertCache {
    pub(crate) fn new(der: HashMap<String, Vec<u8>>) -> CertCache {
        CertCache { der, decoded: Mutex::default() }
    }

    fn get(&self, sha: &str) -> Result<Arc<Cert>, HistoryError> {
        if let Some(c) = self.decoded.lock().ok().and_then(|m| m.get(sha).cloned()) {
            return Ok(c);
        }
        let der = self
            .der
            .get(sha)
            .ok_or_else(|| HistoryError::Damaged(format!("stored certificate {sha} is missing")))?;
        let cert = Arc::new(
            Cert::from_der(der)
                .map_err(|e| HistoryError::Damaged(format!("stored certificate {sha}: {e}")))?,
        );
        if let Ok(mut m) = self.decoded.lock() {
            m.insert(sha.to_owned(), cert.clone());
        }
        Ok(cert)
    }
}

/// A timestamp as stored: the JSON shape it always had (`{"Ok": nanos}`
/// or `{"Err": why}`), so histories stay readable.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum StoredTimestamp {
    #[serde(rename = "Ok")]
    Verified(i128),
    #[serde(rename = "Err")]
    Unusable(String),
}

fn nanos(t: OffsetDateTime) -> i128 {
    t.unix_timestamp_nanos()
}

fn at(n: i128) -> Result<OffsetDateTime, HistoryError> {
    OffsetDateTime::from_unix_timestamp_nanos(n).map_err(|e| HistoryError::Damaged(e.to_string()))
}

/// JSON of an extraction (None when nothing was found: most files), and
/// the certificates it refers to, as (SHA-256 hex, DER).
pub(crate) fn encode(e: &Extraction) -> (Option<String>, Vec<(String, Vec<u8>)>) {
    if e.signatures.is_empty() && e.problems.is_empty() {
        return (None, Vec::new());
    }
    let mut certs: Vec<(String, Vec<u8>)> = Vec::new();
    for c in e.signatures.iter().flat_map(|s| s.certs.iter().chain(s.signer.iter())) {
        let sha = c.sha256_hex();
        if !certs.iter().any(|(s, _)| *s == sha) {
            certs.push((sha, c.der.clone()));
        }
    }
    let stored = StoredExtraction {
        signatures: e.signatures.iter().map(store_signature).collect(),
        problems: e
            .problems
            .iter()
            .map(|p| StoredProblem {
                member: p.member.clone(),
                stage: p.stage,
                error: p.error.clone(),
            })
            .collect(),
    };
    (serde_json::to_string(&stored).ok(), certs)
}

pub(crate) fn decode(json: Option<&str>, certs: &CertCache) -> Result<Extraction, HistoryError> {
    let Some(json) = json else { return Ok(Extraction::default()) };
    let stored: StoredExtraction =
        serde_json::from_str(json).map_err(|e| HistoryError::Damaged(e.to_string()))?;
    Ok(Extraction {
        signatures: stored
            .signatures
            .into_iter()
            .map(|s| load_signature(s, certs))
            .collect::<Result<_, _>>()?,
        problems: stored
            .problems
            .into_iter()
            .map(|p| Problem { member: p.member, stage: p.stage, error: p.error })
            .collect(),
        ..Extraction::default()
    })
}

fn store_signature(s: &Signature) -> StoredSignature {
    let signer = s.signer.as_ref().map(|signer| {
        match s.certs.iter().position(|c| c.sha256 == signer.sha256) {
            Some(i) => SignerRef::Index(i),
            None => SignerRef::Sha256(signer.sha256_hex()),
        }
    });
    StoredSignature {
        format: s.format,
        kind: s.kind,
        member: s.member.clone(),
        certs: s.certs.iter().map(|c| c.sha256_hex()).collect(),
        signer,
        signer_ref: s.signer_ref.clone(),
        signer_key: s.signer_key.clone(),
        key_check: s.key_check.clone(),
        signed_at: s.signed_at.map(|(t, src)| (nanos(t), src)),
        subfilter: s.subfilter.clone(),
        digest_algorithm: s.digest_algorithm.clone(),
        signature_algorithm: s.signature_algorithm.clone(),
        integrity: s.integrity,
        integrity_reason: s.integrity_reason.to_string(),
        timestamp: s.timestamp.as_ref().map(|t| match t {
            Timestamp::Verified(t) => StoredTimestamp::Verified(nanos(*t)),
            Timestamp::Unusable(why) => StoredTimestamp::Unusable(why.clone()),
        }),
        covers_whole_file: s.covers_whole_file,
        modified_after_signing: s.modified_after_signing,
        cert_valid_at_signing: s.cert_valid_at_signing,
        mail_from: s.mail_from.clone(),
        notes: s.rendered_notes(),
        crls: s.crls.iter().map(|c| crate::asn1::ber::hex(c)).collect(),
        ocsp: s.ocsp.iter().map(|c| crate::asn1::ber::hex(c)).collect(),
    }
}

fn load_signature(s: StoredSignature, cache: &CertCache) -> Result<Signature, HistoryError> {
    let certs: Vec<Arc<Cert>> = s.certs.iter().map(|c| cache.get(c)).collect::<Result<_, _>>()?;
    let signer = match s.signer {
        None => None,
        Some(SignerRef::Index(i)) => Some(
            certs
                .get(i)
                .cloned()
                .ok_or_else(|| HistoryError::Damaged("stored signer index out of range".into()))?,
        ),
        Some(SignerRef::Sha256(d)) => Some(cache.get(&d)?),
    };
    Ok(Signature {
        format: s.format,
        kind: s.kind,
        member: s.member,
        certs,
        signer,
        signer_ref: s.signer_ref,
        signer_key: s.signer_key,
        key_check: s.key_check,
        signed_at: s.signed_at.map(|(n, src)| at(n).map(|t| (t, src))).transpose()?,
        subfilter: s.subfilter,
        digest_algorithm: s.digest_algorithm,
        signature_algorithm: s.signature_algorithm,
        integrity: s.integrity,
        integrity_reason: crate::model::note::IntegrityReason::Stored(s.integrity_reason),
        timestamp: s.timestamp.map(|t| match t {
            StoredTimestamp::Verified(n) => {
                at(n).map_or_else(|e| Timestamp::Unusable(e.to_string()), Timestamp::Verified)
            }
            StoredTimestamp::Unusable(why) => Timestamp::Unusable(why),
        }),
        covers_whole_file: s.covers_whole_file,
        modified_after_signing: s.modified_after_signing,
        cert_valid_at_signing: s.cert_valid_at_signing,
        mail_from: s.mail_from,
        notes: s.notes.into_iter().map(crate::model::note::Note::Stored).collect(),
        crls: s
            .crls
            .iter()
            .map(|h| crate::asn1::ber::unhex(h))
            .collect::<Option<_>>()
            .ok_or_else(|| HistoryError::Damaged("a stored CRL is not hex".into()))?,
        ocsp: s
            .ocsp
            .iter()
            .map(|h| crate::asn1::ber::unhex(h))
            .collect::<Option<_>>()
            .ok_or_else(|| HistoryError::Damaged("a stored OCSP response is not hex".into()))?,
    })
}
