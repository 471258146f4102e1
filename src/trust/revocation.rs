//! Revocation from embedded data only (no network): the CRLs a signature
//! carries (CMS `crls`, Adobe's revocationInfoArchival attribute) are
//! checked against the signer's issuer, and a certificate revoked before
//! the signing time was not valid when it signed.

use time::OffsetDateTime;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::asn1::ber::{Tlv, oid_string, tag};
use crate::cert::Cert;
use crate::crypto::{Algorithm, verify_message};
use crate::model::rfc3339;

/// What the embedded revocation data say of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Revocation {
    /// No CRL from the certificate's issuer came with the signature.
    NotChecked,
    /// The issuer's CRL or OCSP response (issued at `issued`) does not list it.
    Good { issued: OffsetDateTime, source: Source },
    /// Listed as revoked at `at`, for `reason` when the CRL gives one.
    Revoked { at: OffsetDateTime, reason: Option<String> },
}

/// Where a revocation verdict came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Crl,
    Ocsp,
}

impl Revocation {
    /// The note a finding carries, judged at the signing time `when`.
    pub(crate) fn note(&self, cert: &Cert, when: Option<OffsetDateTime>) -> String {
        match self {
            Revocation::NotChecked => "revocation not checked: no CRL or OCSP response from the \
                                       issuer came with the signature"
                .into(),
            Revocation::Good { issued, source: Source::Crl } => {
                format!("not revoked according to the issuer's CRL of {}", rfc3339(*issued))
            }
            Revocation::Good { issued, source: Source::Ocsp } => format!(
                "not revoked according to an OCSP response of {} signed for the issuer",
                rfc3339(*issued)
            ),
            Revocation::Revoked { at, reason } => {
                let reason = reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                let before = when.is_none_or(|w| *at <= w);
                let when = if before {
                    "before it signed: not valid at signing"
                } else {
                    "after it signed"
                };
                format!(
                    "certificate \"{}\" was revoked on {}{reason}, {when}",
                    cert.cn(),
                    rfc3339(*at)
                )
            }
        }
    }

    /// Revoked at or before `when`.
    pub(crate) fn revoked_by(&self, when: OffsetDateTime) -> bool {
        matches!(self, Revocation::Revoked { at, .. } if *at <= when)
    }
}

/// Checks `cert` against every CRL in `crls` and OCSP response in `ocsp`
/// that `issuer` (or its delegated OCSP responder) signed: data whose
/// signature does not verify is ignored (anybody can write a list).
pub(crate) fn check(cert: &Cert, issuer: &Cert, crls: &[&[u8]], ocsp: &[&[u8]]) -> Revocation {
    // A good answer issued no earlier than `issued` is already held.
    let newer_good = |held: &Revocation, issued| match held {
        Revocation::Good { issued: earlier, .. } => *earlier >= issued,
        _ => false,
    };
    let mut verdict = Revocation::NotChecked;
    for der in ocsp {
        match ocsp_status(der, cert, issuer) {
            Some(r @ Revocation::Revoked { .. }) => return r,
            Some(Revocation::Good { issued, source }) if !newer_good(&verdict, issued) => {
                verdict = Revocation::Good { issued, source };
            }
            _ => {}
        }
    }
    for der in crls {
        let Ok((_, crl)) = CertificateRevocationList::from_der(der) else { continue };
        if crl.tbs_cert_list.issuer.as_raw() != issuer.subject_raw.as_slice()
            || !signed_by(der, issuer)
        {
            continue;
        }
        let Ok(issued) = OffsetDateTime::from_unix_timestamp(crl.last_update().timestamp()) else {
            continue;
        };
        if let Some(entry) =
            crl.iter_revoked_certificates().find(|e| strip(e.raw_serial()) == strip(&cert.serial))
        {
            let Ok(at) = OffsetDateTime::from_unix_timestamp(entry.revocation_date.timestamp())
            else {
                continue;
            };
            let reason = entry.reason_code().map(|(_, r)| format!("{r}"));
            return Revocation::Revoked { at, reason };
        }
        if !matches!(verdict, Revocation::Good { issued: earlier, .. } if earlier >= issued) {
            verdict = Revocation::Good { issued, source: Source::Crl };
        }
    }
    verdict
}

fn strip(serial: &[u8]) -> &[u8] {
    let zeros = serial.iter().take_while(|&&b| b == 0).count().min(serial.len().saturating_sub(1));
    &serial[zeros..]
}

/// What a file of revocation data holds (the anchor folder may have them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataKind {
    Crl,
    OcspResponse,
}

/// A DER CRL, or a DER OCSP response (its first field an ENUMERATED status).
pub(crate) fn recognise(der: &[u8]) -> Option<DataKind> {
    if CertificateRevocationList::from_der(der).is_ok() {
        return Some(DataKind::Crl);
    }
    let response = Tlv::parse(der).ok()?;
    let status = response.children().next()?.ok()?;
    (response.tag == tag::SEQUENCE && status.tag == tag::ENUMERATED)
        .then_some(DataKind::OcspResponse)
}

/// CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signature BIT STRING }
fn signed_by(der: &[u8], issuer: &Cert) -> bool {
    Tlv::parse(der).ok().is_some_and(|list| signed_sequence_verifies(&list, &issuer.spki))
}

/// SEQUENCE { tbs, signatureAlgorithm, signature BIT STRING, ... }: the
/// signature over `tbs` verifies with `spki`.
fn signed_sequence_verifies(signed: &Tlv<'_>, spki: &[u8]) -> bool {
    let check = || -> Option<bool> {
        let mut f = signed.children();
        let tbs = f.next()?.ok()?;
        let alg = f.next()?.ok()?;
        let value = f.next()?.ok()?;
        let mut a = alg.children();
        let oid = oid_string(a.next()?.ok()?.body);
        let params = a.next().and_then(Result::ok).map(|p| p.raw);
        let alg = Algorithm::resolve(&oid, params, None).ok()?;
        Some(verify_message(alg, spki, tbs.raw, value.body.get(1..)?).is_ok())
    };
    check().unwrap_or(false)
}

/// The status an OCSP response (RFC 6960) gives `cert`, when the response
/// is signed by `issuer` or by a responder certificate it carries that
/// `issuer` issued for OCSP signing, and names `cert` by issuer key hash
/// and serial. None: not about this certificate, or not trustworthy.
fn ocsp_status(der: &[u8], cert: &Cert, issuer: &Cert) -> Option<Revocation> {
    // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT SEQUENCE {
    // responseType, response OCTET STRING } }
    let response = Tlv::parse(der).ok()?;
    let mut f = response.children();
    if f.next()?.ok()?.body != [0] {
        return None; // not "successful"
    }
    let bytes = f.next()?.ok()?.children().next()?.ok()?;
    let mut b = bytes.children();
    if !crate::asn1::oids::is(b.next()?.ok()?.body, &crate::asn1::oids::OCSP_BASIC) {
        return None;
    }
    let basic_der = b.next()?.ok()?.string_bytes().ok()?;
    let basic = Tlv::parse(&basic_der).ok()?;
    // BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature, certs [0]
    // EXPLICIT SEQUENCE OF Certificate OPTIONAL }
    let signer_ok = signed_sequence_verifies(&basic, &issuer.spki)
        || basic
            .children()
            .flatten()
            .filter(|c| c.tag == tag::context(0))
            .flat_map(|c| {
                c.children()
                    .flatten()
                    .flat_map(|s| s.children().flatten().collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            })
            .any(|responder| {
                Cert::from_der(responder.raw).is_ok_and(|r| {
                    r.issuer_raw == issuer.subject_raw
                        && r.ext_key_usage
                            .as_ref()
                            .is_some_and(|eku| eku.iter().any(|e| e == "1.3.6.1.5.5.7.3.9"))
                        && crate::trust::rfc5280::verify_link(&r, issuer).is_ok()
                        && signed_sequence_verifies(&basic, &r.spki)
                })
            });
    if !signer_ok {
        return None;
    }
    let data = basic.children().next()?.ok()?;
    let key = public_key_bits(&issuer.spki)?;
    for field in data.children().flatten().filter(|t| t.tag == tag::SEQUENCE) {
        // responses: SEQUENCE OF SingleResponse
        for single in field.children().flatten() {
            let mut s = single.children();
            let Some(Ok(cert_id)) = s.next() else { continue };
            let mut id = cert_id.children().flatten();
            let (alg, _name_hash, issuer_key_hash, serial) =
                (id.next()?, id.next()?, id.next()?, id.next()?);
            let alg_oid = oid_string(alg.children().next()?.ok()?.body);
            let expected = crate::crypto::Hash::from_oid(&alg_oid)?.digest(&[key]);
            if issuer_key_hash.body != expected.as_slice()
                || strip(serial.body) != strip(&cert.serial)
            {
                continue;
            }
            let status = s.next()?.ok()?;
            let this_update = s.next()?.ok()?;
            let issued = crate::formats::cms::signed_data::parse_time(&this_update)?;
            return Some(match status.tag {
                t if t == tag::context_primitive(0) => {
                    Revocation::Good { issued, source: Source::Ocsp }
                }
                t if t == tag::context(1) => {
                    let mut r = status.children().flatten();
                    let at = crate::formats::cms::signed_data::parse_time(&r.next()?)?;
                    let reason = r
                        .next()
                        .and_then(|x| x.children().next()?.ok())
                        .and_then(|e| e.body.first().copied())
                        .map(reason_name);
                    Revocation::Revoked { at, reason }
                }
                _ => return None, // unknown
            });
        }
    }
    None
}

/// The subjectPublicKey bits of a SubjectPublicKeyInfo (what OCSP's
/// issuerKeyHash hashes).
fn public_key_bits(spki: &[u8]) -> Option<&[u8]> {
    let info = Tlv::parse(spki).ok()?;
    let key = info.children().nth(1)?.ok()?;
    key.body.get(1..)
}

/// CRLReason (RFC 5280 5.3.1), as the CRL path writes it.
fn reason_name(code: u8) -> String {
    let name = match code {
        0 => "Unspecified",
        1 => "KeyCompromise",
        2 => "CACompromise",
        3 => "AffiliationChanged",
        4 => "Superseded",
        5 => "CessationOfOperation",
        6 => "CertificateHold",
        8 => "RemoveFromCRL",
        9 => "PrivilegeWithdrawn",
        10 => "AACompromise",
        _ => return format!("reason {code}"),
    };
    name.to_owned()
}
