//! Certificate facts the scanner needs, decoded once and owned, so that
//! findings, chains and reports never hold borrows into file buffers.
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files      what they hold
//! 0      names tls  distinguished names as people read them; TLS client settings
//! ```

pub(crate) mod names;
pub(crate) mod tls;

use ::time::OffsetDateTime;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate, X509Name};

use crate::asn1::ber::{Tlv, oid_string, tag};

pub(crate) use names::{Name, fold};

/// Why a certificate or a name could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CertError {
    #[error("not a readable X.509 certificate: {0}")]
    Unreadable(String),
    #[error("not a readable X.509 certificate: {0}")]
    Encoding(#[from] crate::asn1::ber::BerError),
    #[error("{0}")]
    BadName(String),
}

/// A parsed certificate. Cheap to clone behind an `Arc`.
#[derive(Debug, Clone)]
pub struct Cert {
    pub der: Vec<u8>,
    pub sha256: [u8; 32],
    pub subject: Name,
    pub issuer: Name,
    /// Raw DER of the subject and issuer names (exact matching first).
    pub subject_raw: Vec<u8>,
    pub issuer_raw: Vec<u8>,
    /// Serial number as written (big-endian two's complement octets).
    pub serial: Vec<u8>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub ski: Option<Vec<u8>>,
    pub aki: Option<Vec<u8>>,
    pub is_ca: bool,
    /// 1, 2 or 3 (v1 certificates carry no extensions: trust anchors only).
    pub version: u32,
    /// basicConstraints, when present: (cA, pathLenConstraint).
    pub basic_constraints: Option<(bool, Option<u32>)>,
    /// Key usage bits that matter for signing, when the extension is present.
    pub key_usage: Option<KeyUsageFacts>,
    /// What makes the certificate unusable under RFC 5280 §4.2: a critical
    /// extension sigaudit cannot process, an extension present twice.
    pub defects: Vec<String>,
    /// nameConstraints, when present.
    pub name_constraints: Option<NameConstraints>,
    /// subjectAltName entries.
    pub alt_names: Vec<AltName>,
    /// Extended key usage OIDs (dotted), when the extension is present.
    pub ext_key_usage: Option<Vec<String>>,
    pub emails: Vec<String>,
    /// Raw SubjectPublicKeyInfo DER.
    pub spki: Vec<u8>,
    /// What the issuer signed: raw TBSCertificate DER.
    pub tbs: Vec<u8>,
    /// Signature algorithm OID (dotted) and its raw parameters, if any.
    pub sig_alg: String,
    pub sig_alg_params: Option<Vec<u8>>,
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUsageFacts {
    pub digital_signature: bool,
    pub non_repudiation: bool,
    pub key_cert_sign: bool,
    /// Every bit, as in the extension (bit 0 = digitalSignature).
    pub bits: u16,
}

impl KeyUsageFacts {
    const NAMES: [&'static str; 9] = [
        "digitalSignature",
        "nonRepudiation",
        "keyEncipherment",
        "dataEncipherment",
        "keyAgreement",
        "keyCertSign",
        "cRLSign",
        "encipherOnly",
        "decipherOnly",
    ];

    /// The bits set, by their RFC 5280 names (`none` when empty).
    pub fn names(&self) -> String {
        let set: Vec<&str> = Self::NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.bits & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect();
        if set.is_empty() { "none".into() } else { set.join(", ") }
    }
}

/// A name of a subjectAltName entry or a nameConstraints subtree base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AltName {
    Email(String),
    Dns(String),
    /// An address (4 or 16 octets), or for a constraint address + mask (8 or 32).
    Ip(Vec<u8>),
    /// A directory name as RFC 5280 compares it (see [`Name::compare_key`]).
    Directory(Vec<(String, String)>),
    /// URI, otherName, X.400, EDI party or registeredID: not checked by
    /// name constraints here, so a constraint of this form cannot be met.
    Other(&'static str),
}

/// nameConstraints: permitted (None when absent) and excluded subtrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameConstraints {
    pub permitted: Option<Vec<AltName>>,
    pub excluded: Vec<AltName>,
}

/// Extensions that may be critical: RFC 5280 path validation processes
/// them, or (CRL distribution points, authority information access) real
/// Vietnamese CA certificates mark them critical and they only tell where
/// to fetch revocation data or issuers, or (qcStatements, RFC 3739, which
/// EU qualified certificates mark critical) they only state facts that
/// sigaudit reports and does not require.
const PROCESSED_EXTENSIONS: [&str; 12] = [
    "2.5.29.15",         // keyUsage
    "2.5.29.19",         // basicConstraints
    "2.5.29.37",         // extKeyUsage
    "2.5.29.17",         // subjectAltName
    "2.5.29.30",         // nameConstraints
    "2.5.29.32",         // certificatePolicies (any policy is acceptable)
    "2.5.29.33",         // policyMappings
    "2.5.29.36",         // policyConstraints
    "2.5.29.54",         // inhibitAnyPolicy
    "2.5.29.31",         // cRLDistributionPoints
    "1.3.6.1.5.5.7.1.1", // authorityInfoAccess
    "1.3.6.1.5.5.7.1.3", // qcStatements
];

/// An extension's name for notes: `authorityKeyIdentifier (2.5.29.35)`.
fn extension_name(oid: &str) -> String {
    let name = match oid {
        "2.5.29.14" => "subjectKeyIdentifier",
        "2.5.29.35" => "authorityKeyIdentifier",
        "2.5.29.18" => "issuerAltName",
        "2.5.29.9" => "subjectDirectoryAttributes",
        "2.5.29.46" => "freshestCRL",
        "1.3.6.1.5.5.7.1.11" => "subjectInfoAccess",
        "1.3.6.1.5.5.7.1.3" => "qcStatements",
        _ if PROCESSED_EXTENSIONS.contains(&oid) => return format!("{oid} (unreadable)"),
        _ => return oid.to_owned(),
    };
    format!("{name} ({oid})")
}

fn alt_name(gn: &GeneralName<'_>) -> AltName {
    match gn {
        GeneralName::RFC822Name(m) => AltName::Email((*m).to_owned()),
        GeneralName::DNSName(d) => AltName::Dns((*d).to_owned()),
        GeneralName::IPAddress(ip) => AltName::Ip(ip.to_vec()),
        GeneralName::DirectoryName(n) => AltName::Directory(decode_name(n).compare_key()),
        GeneralName::URI(_) => AltName::Other("URI"),
        GeneralName::OtherName(..) => AltName::Other("otherName"),
        GeneralName::X400Address(_) => AltName::Other("x400Address"),
        GeneralName::EDIPartyName(_) => AltName::Other("ediPartyName"),
        GeneralName::RegisteredID(_) => AltName::Other("registeredID"),
        GeneralName::Invalid(..) => AltName::Other("an unreadable name"),
    }
}

impl Cert {
    #[expect(clippy::too_many_lines, reason = "113 lines, from before the limit")]
    pub fn from_der(der: &[u8]) -> Result<Cert, CertError> {
        let (rest, x) =
            X509Certificate::from_der(der).map_err(|e| CertError::Unreadable(e.to_string()))?;
        let used = &der[..der.len() - rest.len()];
        let (sig_alg, sig_alg_params, signature) = outer_signature(used)?;
        let tbs = &x.tbs_certificate;
        let mut ski = None;
        let mut aki = None;
        let mut is_ca = false;
        let mut basic_constraints = None;
        let mut defects = Vec::new();
        let mut name_constraints = None;
        let mut alt_names = Vec::new();
        let mut key_usage = None;
        let mut ext_key_usage = None;
        let mut emails: Vec<String> =
            tbs.subject().iter_email().filter_map(|a| a.as_str().ok()).map(str::to_owned).collect();
        let mut seen = std::collections::HashSet::new();
        for ext in tbs.extensions() {
            let oid = ext.oid.to_id_string();
            if ext.critical
                && (!PROCESSED_EXTENSIONS.contains(&oid.as_str())
                    || ext.parsed_extension().error().is_some())
            {
                defects.push(format!(
                    "a critical extension sigaudit cannot process: {}",
                    extension_name(&oid)
                ));
            }
            if !seen.insert(oid.clone()) {
                defects.push(format!("the extension {} twice", extension_name(&oid)));
            }
            match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    aki = a.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                ParsedExtension::BasicConstraints(bc) => {
                    is_ca = bc.ca;
                    basic_constraints = Some((bc.ca, bc.path_len_constraint));
                }
                ParsedExtension::NameConstraints(nc) => {
                    let bases = |s: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| {
                        s.as_ref().map(|v| v.iter().map(|t| alt_name(&t.base)).collect::<Vec<_>>())
                    };
                    name_constraints = Some(NameConstraints {
                        permitted: bases(&nc.permitted_subtrees),
                        excluded: bases(&nc.excluded_subtrees).unwrap_or_default(),
                    });
                }
                ParsedExtension::KeyUsage(ku) => {
                    key_usage = Some(KeyUsageFacts {
                        digital_signature: ku.digital_signature(),
                        non_repudiation: ku.non_repudiation(),
                        key_cert_sign: ku.key_cert_sign(),
                        bits: ku.flags,
                    })
                }
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    let mut oids: Vec<String> =
                        eku.other.iter().map(|o| o.to_id_string()).collect();
                    for (set, oid) in [
                        (eku.any, "2.5.29.37.0"),
                        (eku.server_auth, "1.3.6.1.5.5.7.3.1"),
                        (eku.client_auth, "1.3.6.1.5.5.7.3.2"),
                        (eku.code_signing, "1.3.6.1.5.5.7.3.3"),
                        (eku.email_protection, "1.3.6.1.5.5.7.3.4"),
                        (eku.time_stamping, "1.3.6.1.5.5.7.3.8"),
                        (eku.ocsp_signing, "1.3.6.1.5.5.7.3.9"),
                    ] {
                        if set {
                            oids.push(oid.to_owned());
                        }
                    }
                    ext_key_usage = Some(oids);
                }
                ParsedExtension::SubjectAlternativeName(san) => {
                    for gn in &san.general_names {
                        if let GeneralName::RFC822Name(m) = gn {
                            emails.push((*m).to_owned());
                        }
                        alt_names.push(alt_name(gn));
                    }
                }
                _ => {}
            }
        }
        Ok(Cert {
            der: used.to_vec(),
            sha256: Sha256::digest(used).into(),
            subject: decode_name(tbs.subject()),
            issuer: decode_name(tbs.issuer()),
            subject_raw: tbs.subject().as_raw().to_vec(),
            issuer_raw: tbs.issuer().as_raw().to_vec(),
            serial: tbs.raw_serial().to_vec(),
            not_before: tbs.validity().not_before.to_datetime(),
            not_after: tbs.validity().not_after.to_datetime(),
            ski,
            aki,
            is_ca,
            version: x.version().0 + 1,
            basic_constraints,
            key_usage,
            defects,
            name_constraints,
            alt_names,
            ext_key_usage,
            emails,
            spki: tbs.subject_pki.raw.to_vec(),
            tbs: tbs.as_ref().to_vec(),
            sig_alg,
            sig_alg_params,
            signature,
        })
    }

    pub fn sha256_hex(&self) -> String {
        crate::asn1::ber::hex(&self.sha256)
    }

    /// Serial as lower-case hex without leading zero octets.
    pub fn serial_hex(&self) -> String {
        let trimmed: &[u8] = match self.serial.iter().position(|&b| b != 0) {
            Some(p) => &self.serial[p..],
            None => &[0],
        };
        crate::asn1::ber::hex(trimmed)
    }

    /// Subject and issuer names are the same (a root or a self-issued leaf).
    pub fn is_self_issued(&self) -> bool {
        self.subject_raw == self.issuer_raw || self.subject.folded_key() == self.issuer.folded_key()
    }

    pub fn cn(&self) -> String {
        self.subject.cn_or_dn()
    }

    /// Organisation values, joined: the agency signals used for attribution.
    pub fn org(&self) -> String {
        self.subject.values("O").join("; ")
    }

    /// RFC 5280 method 1 key identifier: SHA-1 of the subjectPublicKey
    /// bits, for certificates without a subjectKeyIdentifier extension.
    pub fn computed_key_id(&self) -> Vec<u8> {
        let bits = Tlv::parse(&self.spki)
            .ok()
            .and_then(|spki| spki.children().nth(1))
            .and_then(Result::ok)
            .map(|b| b.body.get(1..).unwrap_or_default().to_vec())
            .unwrap_or_default();
        sha1::Sha1::digest(&bits).to_vec()
    }

    /// Validity is written to the second: a time within the last second
    /// of notAfter is still inside it (RFC 5280 §4.1.2.5).
    pub fn valid_at(&self, t: OffsetDateTime) -> bool {
        let t = t.replace_nanosecond(0).unwrap_or(t);
        self.not_before <= t && t <= self.not_after
    }
}

/// Signature algorithm (dotted OID), its raw parameters, and the value.
type OuterSignature = (String, Option<Vec<u8>>, Vec<u8>);

/// signatureAlgorithm and signatureValue of a Certificate, read from the
/// outer SEQUENCE so the parameters keep their exact encoding (RSA-PSS).
fn outer_signature(der: &[u8]) -> Result<OuterSignature, CertError> {
    let cert = Tlv::parse(der)?;
    let mut parts = cert.children();
    parts.need("tbsCertificate")?;
    let alg = parts.need("signatureAlgorithm")?.expect(tag::SEQUENCE, "AlgorithmIdentifier")?;
    let mut a = alg.children();
    let oid = oid_string(a.need("algorithm")?.body);
    let params = a.next().transpose()?.filter(|p| p.tag != tag::NULL).map(|p| p.raw.to_vec());
    let bits =
        parts.need("signatureValue")?.expect(tag::BIT_STRING, "signatureValue BIT STRING")?;
    let value = bits
        .body
        .get(1..)
        .ok_or_else(|| CertError::Unreadable("empty signature BIT STRING".into()))?
        .to_vec();
    Ok((oid, params, value))
}

/// The folded comparison key of a DER Name (e.g. the issuer in a CMS
/// SignerIdentifier).
pub(crate) fn names_key(der: &[u8]) -> Option<Vec<(String, String)>> {
    X509Name::from_der(der).ok().map(|(_, n)| decode_name(&n).folded_key())
}

fn decode_name(name: &X509Name<'_>) -> Name {
    let attrs = name
        .iter_attributes()
        .map(|a| names::NameAttr {
            label: names::label_for_oid(&a.attr_type().to_id_string()),
            value: names::decode_directory_string(a.attr_value().tag().0, a.attr_value().data),
        })
        .collect();
    Name { attrs }
}

/// Certificates in a file: DER, PEM (`CERTIFICATE` blocks, any number),
/// or a certs-only PKCS#7 bundle (`.p7b`/`.p7c`, DER or PEM `PKCS7`/`CMS`).
pub fn certificates_in(bytes: &[u8]) -> Vec<Result<Cert, CertError>> {
    if bytes.first() == Some(&0x30) {
        if let Some(bundle) = bundle_certificates(bytes) {
            return bundle.into_iter().map(Cert::from_der).collect();
        }
        return vec![Cert::from_der(bytes)];
    }
    let mut out = Vec::new();
    for block in crate::asn1::pem::blocks(bytes) {
        match block {
            Ok((label, der)) if label == "CERTIFICATE" || label == "X509 CERTIFICATE" => {
                out.push(Cert::from_der(&der))
            }
            Ok((label, der))
                if matches!(label.as_str(), "PKCS7" | "CMS" | "PKCS #7 SIGNED DATA") =>
            {
                match bundle_certificates(&der) {
                    Some(certs) => out.extend(certs.into_iter().map(Cert::from_der)),
                    None => out.push(Err(CertError::Unreadable(format!(
                        "PEM block {label} is not a PKCS#7 bundle of certificates"
                    )))),
                }
            }
            Ok(_) => {}
            Err(e) => out.push(Err(CertError::from(e))),
        }
    }
    out
}

/// The certificates of a PKCS#7 / CMS SignedData (ContentInfo, then
/// `certificates [0]`), as their DER; None when `der` is not one.
fn bundle_certificates(der: &[u8]) -> Option<Vec<&[u8]>> {
    let info = Tlv::parse(der).ok()?;
    let mut parts = info.children();
    let oid = parts.next()?.ok()?;
    if oid.tag != tag::OID || oid.body != crate::asn1::oids::SIGNED_DATA.as_bytes() {
        return None;
    }
    let signed_data = parts.next()?.ok()?.children().next()?.ok()?;
    let mut fields = signed_data.children();
    for _ in 0..3 {
        fields.next()?.ok()?; // version, digestAlgorithms, encapContentInfo
    }
    match fields.next() {
        Some(Ok(set)) if set.tag == tag::context(0) => {
            set.children().map(|c| c.ok().map(|c| c.raw)).collect()
        }
        _ => Some(Vec::new()),
    }
}
