//! Revocation from embedded data only (no network): the CRLs a signature
//! carries (CMS `crls`, Adobe's revocationInfoArchival attribute) are
//! checked against the signer's issuer, and a certificate revoked before
//! the signing time was not valid when it signed.

use time::OffsetDateTime;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::asn1::ber::{Tlv, oid_string};
use crate::cert::Cert;
use crate::crypto::{Algorithm, verify_message};
use crate::model::rfc3339;

/// What the embedded revocation data say of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// No CRL from the certificate's issuer came with the signature.
    NotChecked,
    /// The issuer's CRL (issued at `issued`) does not list it.
    Good { issued: OffsetDateTime },
    /// Listed as revoked at `at`, for `reason` when the CRL gives one.
    Revoked { at: OffsetDateTime, reason: Option<String> },
}

impl Revocation {
    /// The note a finding carries, judged at the signing time `when`.
    pub fn note(&self, cert: &Cert, when: Option<OffsetDateTime>) -> String {
        match self {
            Revocation::NotChecked => "revocation not checked: no CRL from the issuer came with the signature".into(),
            Revocation::Good { issued } => format!("not revoked according to the issuer's CRL of {}", rfc3339(*issued)),
            Revocation::Revoked { at, reason } => {
                let reason = reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                let before = when.is_none_or(|w| *at <= w);
                let when = if before { "before it signed: not valid at signing" } else { "after it signed" };
                format!("certificate \"{}\" was revoked on {}{reason}, {when}", cert.cn(), rfc3339(*at))
            }
        }
    }

    /// Revoked at or before `when`.
    pub fn revoked_by(&self, when: OffsetDateTime) -> bool {
        matches!(self, Revocation::Revoked { at, .. } if *at <= when)
    }
}

/// Checks `cert` against every CRL in `crls` that `issuer` issued and
/// signed (a CRL whose signature does not verify with the issuer's key is
/// ignored: anybody can write a list).
pub fn check(cert: &Cert, issuer: &Cert, crls: &[Vec<u8>]) -> Revocation {
    let mut verdict = Revocation::NotChecked;
    for der in crls {
        let Ok((_, crl)) = CertificateRevocationList::from_der(der) else { continue };
        if crl.tbs_cert_list.issuer.as_raw() != issuer.subject_raw.as_slice() || !signed_by(der, issuer) {
            continue;
        }
        let Ok(issued) = OffsetDateTime::from_unix_timestamp(crl.last_update().timestamp()) else { continue };
        if let Some(entry) = crl.iter_revoked_certificates().find(|e| strip(e.raw_serial()) == strip(&cert.serial)) {
            let Ok(at) = OffsetDateTime::from_unix_timestamp(entry.revocation_date.timestamp()) else { continue };
            let reason = entry.reason_code().map(|(_, r)| format!("{r}"));
            return Revocation::Revoked { at, reason };
        }
        if !matches!(verdict, Revocation::Good { issued: earlier } if earlier >= issued) {
            verdict = Revocation::Good { issued };
        }
    }
    verdict
}

fn strip(serial: &[u8]) -> &[u8] {
    let zeros = serial.iter().take_while(|&&b| b == 0).count().min(serial.len().saturating_sub(1));
    &serial[zeros..]
}

/// CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signature BIT STRING }
fn signed_by(der: &[u8], issuer: &Cert) -> bool {
    let check = || -> Option<bool> {
        let list = Tlv::parse(der).ok()?;
        let mut f = list.children();
        let tbs = f.next()?.ok()?;
        let alg = f.next()?.ok()?;
        let value = f.next()?.ok()?;
        let mut a = alg.children();
        let oid = oid_string(a.next()?.ok()?.body);
        let params = a.next().and_then(Result::ok).map(|p| p.raw);
        let alg = Algorithm::resolve(&oid, params, None).ok()?;
        Some(verify_message(alg, &issuer.spki, tbs.raw, value.body.get(1..)?).is_ok())
    };
    check().unwrap_or(false)
}
