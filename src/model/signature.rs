//! What was found: one signature with its certificates and signed facts,
//! whatever container it came from. Extractors produce these; the
//! classifier and the reports consume them.

use std::sync::Arc;

use time::OffsetDateTime;

use super::note::{IntegrityReason, Note};
use crate::cert::Cert;

/// One line per signature format makes its variant, its stored name (the
/// reports' and the history's `format` column, serde's name) and its place
/// in [`Format::ALL`], so no list can forget it. formats/mod.rs tests that
/// a registered file format yields each one.
macro_rules! signature_formats {
    ($($variant:ident => $name:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum Format {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl Format {
            /// Every format, in declaration order.
            pub const ALL: &[Format] = &[$(Format::$variant,)*];

            /// The stored name (reports, history).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Format::$variant => $name,)*
                }
            }
        }
    };
}

signature_formats! {
    Pdf => "pdf",
    Cms => "cms",
    Smime => "smime",
    Xml => "xml",
    Ooxml => "ooxml",
    Odf => "odf",
}

impl Format {
    /// The format a stored name names (what [`Format::as_str`] wrote).
    pub fn from_stored(name: &str) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.as_str() == name)
    }
}

/// What checking a CMS signature value needs besides the signer's key,
/// worked out from the file: kept when the certificate is not embedded, so
/// one found later (in the anchor folder) still settles the integrity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyCheck {
    /// The signature algorithm (OID, DER parameters) and the digest algorithm (OID).
    pub signature_algorithm: String,
    pub algorithm_params: Option<Vec<u8>>,
    pub digest_algorithm: String,
    /// What the signature value signs: the signed attributes (DER SET), or
    /// the content's digest when `prehashed` (no signed attributes).
    pub message: Vec<u8>,
    pub prehashed: bool,
    /// The signed attributes in DER order, where the file's order differs
    /// (some signers signed the sorted form).
    pub sorted: Option<Vec<u8>>,
    pub signature: Vec<u8>,
    /// The verdict if the signature value verifies (everything else was
    /// checked): its integrity and reason.
    pub if_verified: (Integrity, String),
}

/// A signer's signature, or one that is not a person's: a document
/// timestamp, an Adobe usage-rights signature (the application that
/// enabled a form). Those are shown by `inspect`, counted in summary.json,
/// never signer rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    Signer,
    DocTimestamp,
    UsageRights,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Integrity {
    Valid,
    Invalid,
    Unknown,
}

impl Integrity {
    pub fn as_str(self) -> &'static str {
        match self {
            Integrity::Valid => "valid",
            Integrity::Invalid => "invalid",
            Integrity::Unknown => "unknown",
        }
    }
}

/// Where `signed_at` came from: they are not equally trustworthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TimeSource {
    /// The CMS signing-time attribute: claimed by the signer, signed.
    SigningTime,
    /// An RFC 3161 timestamp token's genTime: vouched for by a TSA.
    Timestamp,
    /// The PDF signature dictionary's /M: claimed, not signed.
    PdfM,
}

#[derive(Debug, Clone)]
pub struct Signature {
    pub format: Format,
    pub kind: Kind,
    /// Where inside the file: PDF field name, archive member, mail part.
    pub member: String,
    /// Every certificate that came with the signature.
    pub certs: Vec<Arc<Cert>>,
    /// The signer's certificate, when it could be identified.
    pub signer: Option<Arc<Cert>>,
    /// How the signer was named when its certificate is missing.
    pub signer_ref: String,
    /// How the signature names its certificate (CMS), for a signer not embedded.
    pub signer_key: Option<SignerKey>,
    /// For a signer not embedded: the last step of the integrity check,
    /// which needs its public key (a certificate the anchor folder has).
    pub key_check: Option<KeyCheck>,
    pub signed_at: Option<(OffsetDateTime, TimeSource)>,
    pub subfilter: Option<String>,
    pub digest_algorithm: Option<String>,
    pub signature_algorithm: Option<String>,
    pub integrity: Integrity,
    /// What the integrity verdict rests on, in a sentence.
    pub integrity_reason: IntegrityReason,
    /// genTime of the signature's RFC 3161 timestamp when its imprint and
    /// signature verified, or why not.
    pub timestamp: Option<Timestamp>,
    /// PDF: does the signature cover the whole file (pdfsig's "total document signed")?
    pub covers_whole_file: Option<bool>,
    pub modified_after_signing: Option<bool>,
    pub cert_valid_at_signing: Option<bool>,
    /// The sender of the message the signature travelled in (mail only).
    pub mail_from: Option<String>,
    /// CRLs that came with the signature (DER), for revocation at signing time.
    pub crls: Vec<Vec<u8>>,
    /// OCSP responses (OCSPResponse DER) that came with it.
    pub ocsp: Vec<Vec<u8>>,
    pub notes: Vec<Note>,
}

impl Signature {
    pub fn new(format: Format, kind: Kind, member: String) -> Signature {
        Signature {
            format,
            kind,
            member,
            certs: Vec::new(),
            signer: None,
            signer_ref: String::new(),
            signer_key: None,
            key_check: None,
            crls: Vec::new(),
            ocsp: Vec::new(),
            signed_at: None,
            subfilter: None,
            digest_algorithm: None,
            signature_algorithm: None,
            integrity: Integrity::Unknown,
            integrity_reason: IntegrityReason::NotVerified,
            timestamp: None,
            covers_whole_file: None,
            modified_after_signing: None,
            cert_valid_at_signing: None,
            mail_from: None,
            notes: Vec::new(),
        }
    }
}

/// How a CMS SignerInfo names its signer's certificate, kept so that a
/// certificate not embedded can be looked for elsewhere (the anchor folder).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SignerKey {
    /// The issuer's name (DER) and the serial number.
    IssuerSerial { issuer: Vec<u8>, serial: Vec<u8> },
    /// The subject key identifier.
    KeyId(Vec<u8>),
}

impl SignerKey {
    /// Is `cert` the certificate this key names?
    pub fn matches(&self, cert: &Cert) -> bool {
        let strip = |s: &[u8]| -> Vec<u8> { s.iter().skip_while(|&&b| b == 0).copied().collect() };
        // Same name, another string encoding (PrintableString vs UTF8String).
        let same_name_encoded_otherwise = |cert: &Cert, issuer: &[u8]| {
            crate::cert::names_key(issuer).is_some_and(|key| cert.issuer.folded_key() == key)
        };
        match self {
            SignerKey::IssuerSerial { issuer, serial } => {
                strip(&cert.serial) == strip(serial)
                    && (cert.issuer_raw == *issuer || same_name_encoded_otherwise(cert, issuer))
            }
            SignerKey::KeyId(id) => {
                cert.ski.as_deref() == Some(id.as_slice()) || cert.computed_key_id() == *id
            }
        }
    }
}

/// The RFC 3161 timestamp over a signature value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timestamp {
    /// Its imprint and token signature verified: the signature existed then.
    Verified(OffsetDateTime),
    /// Present but not usable, and why.
    Unusable(String),
}

impl Signature {
    /// The time to judge the signer's certificate at: a verified timestamp,
    /// else the claimed signing time.
    pub fn judged_at(&self) -> Option<OffsetDateTime> {
        match &self.timestamp {
            Some(Timestamp::Verified(t)) => Some(*t),
            _ => self.signed_at.map(|(t, _)| t),
        }
    }

    /// Records an integrity verdict; anything but valid is explained in the
    /// notes, at the place of the latest verdict (a later, better-informed
    /// verdict replaces the earlier one).
    pub fn set_integrity(&mut self, integrity: Integrity, reason: IntegrityReason) {
        self.notes.retain(|n| *n != Note::Integrity);
        if integrity != Integrity::Valid {
            self.notes.push(Note::Integrity);
        }
        self.integrity = integrity;
        self.integrity_reason = reason;
    }

    /// Adds a fact to the notes.
    pub fn note(&mut self, note: Note) {
        self.notes.push(note);
    }

    /// The notes as the reports write them.
    pub fn rendered_notes(&self) -> Vec<String> {
        self.notes
            .iter()
            .map(|n| match n {
                Note::Integrity => {
                    format!("integrity {}: {}", self.integrity.as_str(), self.integrity_reason)
                }
                other => other.to_string(),
            })
            .collect()
    }
}
