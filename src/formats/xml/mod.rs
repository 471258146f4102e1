//! XML signatures (XMLDSig, XAdES): every top-level ds:Signature of an XML
//! document (enveloped or enveloping, any prefix), its certificates, signer
//! (XAdES SigningCertificate when present) and signing time, and core
//! validation: each Reference digest after its transforms, and the
//! SignatureValue over the canonical SignedInfo. What cannot be checked is
//! `unknown` with the reason, never `valid`. OOXML and ODF packages resolve
//! their part references through a [`Parts`] lookup.
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files     what they hold
//! 0      tree      the hostile-input-proof XML tree
//! 1      c14n      canonical XML (inclusive, exclusive, 1.1)
//! 1      coverage  what each reference covers, against what a reader takes
//! ```

use std::sync::Arc;

use base64::Engine;
use time::OffsetDateTime;

pub(crate) mod c14n;
pub(crate) mod coverage;
pub(crate) mod tree;

use self::c14n::{Method, Options};
use self::tree::{Child, Doc, XmlError};
use super::{DocKind, Env, Extraction, FileFormat, FormatError};
use crate::cert::Cert;
use crate::crypto::{Algorithm, Hash, Scheme, VerifyError, verify_message};
use crate::messages::Stage;
use crate::model::note::{DotNetReading, IntegrityReason, Note};
use crate::model::signature::{Format, Integrity, Kind, Signature, TimeSource};

pub(crate) const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
/// XML Signature 1.1 (ECKeyValue).
const DSIG11: &str = "http://www.w3.org/2009/xmldsig11#";
const XADES: [&str; 3] = [
    "http://uri.etsi.org/01903/v1.3.2#",
    "http://uri.etsi.org/01903/v1.1.1#",
    "http://uri.etsi.org/01903/v1.4.1#",
];
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const XPATH: &str = "http://www.w3.org/TR/1999/REC-xpath-19991116";
const XPATH_FILTER2: &str = "http://www.w3.org/2002/06/xmldsig-filter2";
const BASE64: &str = "http://www.w3.org/2000/09/xmldsig#base64";
const RELATIONSHIP_TRANSFORM: &str =
    "http://schemas.openxmlformats.org/package/2006/RelationshipTransform";
const OPC_REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const OPC_DSIG_NS: &str = "http://schemas.openxmlformats.org/package/2006/digital-signature";

/// Does this text open like an XML document? After a byte-order mark,
/// any XML declaration, processing instructions, comments and a DOCTYPE
/// (a signed file may begin with any of them), an element must start.
/// When the head ends inside one of those, it is taken for XML: the
/// parser decides.
pub(crate) fn looks_like_xml(head: &[u8]) -> bool {
    let mut rest = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let mut prolog = false;
    loop {
        rest = &rest[rest.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(rest.len())..];
        let end = if rest.starts_with(b"<?") {
            memchr::memmem::find(rest, b"?>").map(|e| e + 2)
        } else if rest.starts_with(b"<!--") {
            memchr::memmem::find(&rest[4..], b"-->").map(|e| e + 7)
        } else if rest.starts_with(b"<!DOCTYPE") {
            doctype_end(rest)
        } else {
            return rest.first() == Some(&b'<')
                && rest.get(1).is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_' || b >= 0x80);
        };
        match end {
            Some(e) => (rest, prolog) = (&rest[e..], true),
            None => return prolog || rest.len() > 4,
        }
    }
}

/// The end of a DOCTYPE declaration, past its internal subset in `[...]`.
fn doctype_end(text: &[u8]) -> Option<usize> {
    let mut in_subset = false;
    let mut quote = None;
    for (i, &b) in text.iter().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'[') => in_subset = true,
            (None, b']') => in_subset = false,
            (None, b'>') if !in_subset => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// UTF-16 text (a byte-order mark, or `<` beside a NUL) as UTF-8, which
/// the parser and the canonical form use; None when it is not UTF-16.
pub(crate) fn utf16_as_utf8(bytes: &[u8]) -> Option<Vec<u8>> {
    let (little, body) = match bytes {
        [0xff, 0xfe, rest @ ..] => (true, rest),
        [0xfe, 0xff, rest @ ..] => (false, rest),
        [b'<', 0, ..] => (true, bytes),
        [0, b'<', ..] => (false, bytes),
        _ => return None,
    };
    let units = body.chunks_exact(2).map(|c| {
        if little { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) }
    });
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
            .into_bytes(),
    )
}

/// Signatures read per document (real ones carry a few).
pub(crate) const MAX_SIGNATURES: usize = 100;

/// Marker of a signed XML document, for the cheap test.
pub(crate) const MARKER: &[u8] = b"http://www.w3.org/2000/09/xmldsig#";

/// XML documents, registered in formats/mod.rs.
pub(super) const FORMAT: FileFormat = FileFormat {
    name: "xml",
    extensions: &["xml"],
    sniff: |head, _| {
        (looks_like_xml(head) || utf16_as_utf8(head).is_some_and(|text| looks_like_xml(&text)))
            .then_some(DocKind::Xml)
    },
    sniff_late: super::never,
    container: false,
    marker: Some(|bytes| memchr::memmem::find(bytes, MARKER).is_some()),
    extract: extract_file,
    yields: &[Format::Xml],
    fuzz_target: "xml_package",
};

/// An XML file: UTF-16 read as UTF-8, the cheap test, then its signatures.
fn extract_file(_: DocKind, bytes: &[u8], _: &str, depth: usize, env: &Env<'_>) -> Extraction {
    let utf8 = utf16_as_utf8(bytes);
    let bytes = utf8.as_deref().unwrap_or(bytes);
    // The cheap test: no XMLDSig namespace, no signature.
    if memchr::memmem::find(bytes, MARKER).is_none() {
        return Extraction::default();
    }
    // A top-level file's references may name the files beside it
    // (detached XAdES); inside a container, its own members do.
    let beside = env.beside.filter(|_| depth == 0).map(super::Beside);
    extract(bytes, Format::Xml, beside.as_ref().map(|b| b as &dyn Parts))
}

/// Parts of the package an XML signature lives in (OOXML, ODF): the bytes
/// of a part by its name.
pub(crate) trait Parts {
    fn part(&self, name: &str) -> Result<Vec<u8>, FormatError>;
}

/// Every top-level signature of `bytes` (counter-signatures nested inside
/// another signature are not signers of the document).
pub(crate) fn extract(bytes: &[u8], format: Format, parts: Option<&dyn Parts>) -> Extraction {
    let mut out = Extraction::default();
    let doc = match Doc::parse(bytes) {
        Ok(d) => d,
        Err(_) if let Some(over) = crate::budget::over_budget() => {
            out.over_budget("", over);
            return out;
        }
        Err(e) => {
            out.problem(
                "",
                if matches!(e, XmlError::Limit(_)) { Stage::Limit } else { Stage::Xml },
                e.to_string(),
            );
            return out;
        }
    };
    let all = doc.find_all(DSIG, "Signature");
    let is_signature = |n: usize| doc.node(n).ns == DSIG && doc.node(n).local == "Signature";
    let top: Vec<usize> =
        all.iter().copied().filter(|&s| !doc.ancestors(s).any(is_signature)).collect();
    if top.len() > MAX_SIGNATURES {
        // Each enveloped signature canonicalises the whole document: work
        // grows with the square of their number.
        out.problem(
            "",
            Stage::Limit,
            format!(
                "{} signatures in one document: only the first {MAX_SIGNATURES} are read",
                top.len()
            ),
        );
    }
    // The document as .NET's XmlDocument loads it by default, made when a
    // signature first needs it.
    let mut lean: Option<Option<Doc>> = None;
    let top: Vec<usize> = top.into_iter().take(MAX_SIGNATURES).collect();
    let covered = coverage::Covered::of(&doc, &top, parts.is_some());
    for sig in top {
        if crate::budget::over() {
            break;
        }
        let role = einvoice_role(&doc, sig);
        let member = element_path(&doc, sig, role.map(|(_, r)| r));
        let mut found = signature_of(&doc, sig, format, &member, parts);
        // .NET signing software loads the invoice with PreserveWhitespace =
        // false and digests it without its whitespace-only text, then may
        // save it indented: the file as written no longer matches, the
        // document as .NET reads it does. Only a full verification counts:
        // a reading that leaves a reference unchecked proves nothing.
        if format == Format::Xml
            && let Ok(s) = &found
            && s.integrity == Integrity::Invalid
            && matches!(
                s.integrity_reason,
                IntegrityReason::XmlReferenceChanged(_) | IntegrityReason::XmlSignatureMismatch
            )
            && let Some(lean) = lean.get_or_insert_with(|| doc.without_blank_text())
            && let Ok(mut s) = signature_of(lean, sig, format, &member, parts)
            && s.integrity == Integrity::Valid
        {
            s.note(Note::DotNet(DotNetReading::WithoutBlankText));
            found = Ok(s);
        }
        match found {
            Ok(mut s) => {
                // What the signature covers, judged against what a reader
                // of the document takes (issue 24): a wrapping attempt is
                // invalid whatever the digests say; an e-invoice signature
                // that leaves its data element unsigned is modified after
                // signing, as a PDF signature over part of the file.
                let judged = coverage::judge(&doc, sig, parts.is_some(), &covered);
                let v = crate::verdict::xml_integrity_and_coverage(&crate::verdict::XmlEvidence {
                    checked: s.integrity,
                    checked_reason: &s.integrity_reason,
                    coverage: &judged.coverage,
                    wrapping: judged.wrapping.as_deref(),
                });
                if (v.integrity, &v.reason) != (s.integrity, &s.integrity_reason) {
                    s.set_integrity(v.integrity, v.reason);
                }
                if v.modified.is_some() {
                    s.modified_after_signing = v.modified;
                }
                for (i, n) in v.notes.into_iter().enumerate() {
                    s.notes.insert(i, n);
                }
                if let Some((element, role)) = role {
                    s.notes.insert(0, Note::EInvoiceRole { element, role });
                    let refused = dotnet_refused(&doc, sig);
                    if !refused.is_empty() {
                        s.note(Note::DotNet(DotNetReading::Refused(refused)));
                    }
                }
                out.signatures.push(s)
            }
            Err(e) => out.problem(member, Stage::Signer, e),
        }
    }
    out
}

/// The role of an e-invoice signature (Circular 78/2021, Decree 123/2020;
/// the XML formats of Decision 1450/QĐ-TCT): the element under `DSCKS`
/// that holds it, in an invoice (`HDon`), a message (`TDiep`), a
/// declaration, notice or list (`TKhai`, `TBao`, `BKe`, `BTHDLieu`), or the
/// taxpayer's signature of a whole message (`TDiep/CKSNNT`). Returns where
/// it sits (`DSCKS/NBan`) and the role.
fn einvoice_role(doc: &Doc, sig: usize) -> Option<(&'static str, &'static str)> {
    for a in doc.ancestors(sig) {
        let under_dscks = doc.node(a).parent.is_some_and(|p| doc.node(p).local == "DSCKS");
        let found = match (under_dscks, doc.node(a).local.as_str()) {
            (true, "NBan") => ("DSCKS/NBan", "seller"),
            (true, "NMua") => ("DSCKS/NMua", "buyer"),
            (true, "CQT") => ("DSCKS/CQT", "tax authority"),
            // Thủ trưởng cơ quan thuế: the tax office's head, who signs its
            // notices (TBao) beside the office itself.
            (true, "TTCQT") => ("DSCKS/TTCQT", "tax authority head"),
            (true, "CCKSKhac") => ("DSCKS/CCKSKhac", "other"),
            (true, "NNT") => ("DSCKS/NNT", "taxpayer"),
            (false, "CKSNNT") => ("CKSNNT", "taxpayer"),
            (true, _) => return None,
            (false, _) => continue,
        };
        return Some(found);
    }
    None
}

/// The canonicalisation and transform methods .NET's SignedXml checks a
/// signature with (SignedXml.SafeCanonicalizationMethods and
/// DefaultSafeTransformMethods in dotnet/runtime): C14N 1.1 is unknown to
/// it, XPath and XSLT are known but refused.
const DOTNET_C14N: [&str; 4] = [
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
    EXC_C14N,
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
];
const DOTNET_TRANSFORMS: [&str; 4] = [
    ENVELOPED,
    BASE64,
    "urn:mpeg:mpeg21:2003:01-REL-R-NS:licenseTransform",
    "http://www.w3.org/2002/07/decrypt#XML",
];

/// The methods of a signature that .NET's SignedXml does not accept.
fn dotnet_refused(doc: &Doc, sig: usize) -> Vec<String> {
    let Some(signed_info) = doc.child(sig, DSIG, "SignedInfo") else { return Vec::new() };
    let c14n = doc
        .child(signed_info, DSIG, "CanonicalizationMethod")
        .and_then(|c| doc.attr(c, "Algorithm"))
        .filter(|a| !DOTNET_C14N.contains(a));
    let transforms = doc
        .children(signed_info, DSIG, "Reference")
        .into_iter()
        .filter_map(|r| doc.child(r, DSIG, "Transforms"))
        .flat_map(|ts| doc.children(ts, DSIG, "Transform"))
        .filter_map(|t| doc.attr(t, "Algorithm"))
        .filter(|a| !DOTNET_C14N.contains(a) && !DOTNET_TRANSFORMS.contains(a));
    let mut refused: Vec<String> = Vec::new();
    for a in c14n.into_iter().chain(transforms) {
        if !refused.iter().any(|r| r == a) {
            refused.push(a.to_owned());
        }
    }
    refused
}

/// `HDon/DSCKS/NBan/Signature`, then in parentheses the e-invoice role and
/// the Id when there are: `HDon/DSCKS/NBan/Signature (seller, Id=s1)`. The
/// path stays whole so filters on it keep working; the role is a word to
/// filter on.
fn element_path(doc: &Doc, id: usize, role: Option<&str>) -> String {
    let mut names = Vec::new();
    let mut cur = Some(id);
    while let Some(c) = cur {
        names.push(doc.node(c).local.clone());
        cur = doc.node(c).parent;
    }
    names.reverse();
    let path = names.join("/");
    let id = doc.attr(id, "Id").map(|i| format!("Id={i}"));
    match [role.map(str::to_owned), id].into_iter().flatten().collect::<Vec<_>>() {
        extra if extra.is_empty() => path,
        extra => format!("{path} ({})", extra.join(", ")),
    }
}

fn b64(text: &str) -> Option<Vec<u8>> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean).ok()
}

fn signature_of(
    doc: &Doc,
    sig: usize,
    format: Format,
    member: &str,
    parts: Option<&dyn Parts>,
) -> Result<Signature, FormatError> {
    let signed_info =
        doc.child(sig, DSIG, "SignedInfo").ok_or("ds:Signature without SignedInfo")?;
    let mut certs: Vec<Arc<Cert>> = Vec::new();
    let mut cert_notes = Vec::new();
    if let Some(key_info) = doc.child(sig, DSIG, "KeyInfo") {
        for x509 in doc.children(key_info, DSIG, "X509Data") {
            for c in doc.children(x509, DSIG, "X509Certificate") {
                certs.extend(embedded_cert(doc, c, &mut cert_notes));
            }
        }
    }
    let (crls, ocsp) = unsigned_values(doc, sig, &mut certs, &mut cert_notes);
    let method = doc
        .child(signed_info, DSIG, "SignatureMethod")
        .and_then(|m| doc.attr(m, "Algorithm"))
        .unwrap_or("")
        .to_owned();
    let signer = signing_certificate(doc, sig, &certs).or_else(|| leaf(&certs));
    if signer.is_none() && method.contains("hmac") {
        return Err("HMAC signature: a shared secret, no certificate and no signer identity".into());
    }
    let mut s = Signature::new(format, Kind::Signer, member.to_owned());
    // Without a certificate, still a signature (docs/report-format.md: chain=no-certificate):
    // a key given in KeyValue still lets its integrity be judged.
    let key_value = if signer.is_none() { key_value(doc, sig) } else { None };
    s.signer_ref = match &key_value {
        Some((kind, _)) => format!("known only by the {kind} key in its KeyValue"),
        None => "named by no certificate or key".into(),
    };
    s.signer = signer.clone();
    s.certs = certs;
    s.crls = crls;
    s.ocsp = ocsp;
    s.notes = cert_notes;
    s.signature_algorithm = Some(method.rsplit(['#', '/']).next().unwrap_or(&method).to_owned());
    if let Some(t) = signing_time(doc, sig) {
        s.signed_at = Some((t, TimeSource::SigningTime));
    }
    let spki = signer.as_ref().map(|c| c.spki.clone()).or_else(|| key_value.map(|(_, spki)| spki));
    let mut readings = Vec::new();
    let (integrity, reason, hash) = match spki {
        Some(spki) => verify(doc, sig, signed_info, &method, &spki, parts, &mut readings),
        None => (
            Integrity::Unknown,
            IntegrityReason::Unchecked(
                "no certificate and no key to check the signature with".into(),
            ),
            None,
        ),
    };
    s.notes.extend(readings.into_iter().map(Note::DotNet));
    s.digest_algorithm = hash.map(|h| h.name().to_owned());
    s.set_integrity(integrity, reason);
    if !doc.unresolved_entities.is_empty() {
        s.note(Note::UnexpandedEntities(doc.unresolved_entities.clone()));
    }
    Ok(s)
}

/// A base64 certificate element (KeyInfo's X509Certificate, XAdES's
/// EncapsulatedX509Certificate), or a note saying why it is unreadable.
fn embedded_cert(doc: &Doc, element: usize, notes: &mut Vec<Note>) -> Option<Arc<Cert>> {
    match b64(&doc.text(element)).map(|der| Cert::from_der(&der)) {
        Some(Ok(cert)) => Some(Arc::new(cert)),
        Some(Err(e)) => {
            notes.push(Note::KeyInfoCertUnreadable(Some(e.to_string())));
            None
        }
        None => {
            notes.push(Note::KeyInfoCertUnreadable(None));
            None
        }
    }
}

/// What XAdES-X-L keeps in the unsigned signature properties: the chain's
/// certificates (CertificateValues, added to `certs`) and the revocation
/// data (RevocationValues: DER CRLs, DER OCSP responses).
fn unsigned_values(
    doc: &Doc,
    sig: usize,
    certs: &mut Vec<Arc<Cert>>,
    notes: &mut Vec<Note>,
) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut crls, mut ocsp) = (Vec::new(), Vec::new());
    for ns in XADES {
        for props in doc.descendants(sig, ns, "UnsignedSignatureProperties") {
            for c in doc.descendants(props, ns, "EncapsulatedX509Certificate") {
                if let Some(cert) = embedded_cert(doc, c, notes)
                    && !certs.iter().any(|k| k.sha256 == cert.sha256)
                {
                    certs.push(cert);
                }
            }
            crls.extend(
                doc.descendants(props, ns, "EncapsulatedCRLValue")
                    .into_iter()
                    .filter_map(|c| b64(&doc.text(c))),
            );
            ocsp.extend(
                doc.descendants(props, ns, "EncapsulatedOCSPValue")
                    .into_iter()
                    .filter_map(|c| b64(&doc.text(c))),
            );
        }
    }
    (crls, ocsp)
}

/// A public key given in KeyInfo/KeyValue (RSA, ECDSA, DSA) as a DER
/// SubjectPublicKeyInfo, with its kind. Nobody vouches for whose key it is:
/// it can only say the document is unchanged since that key signed it.
fn key_value(doc: &Doc, sig: usize) -> Option<(&'static str, Vec<u8>)> {
    use crate::asn1::ber::{push_len, tag};
    fn tlv(t: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![t];
        push_len(&mut out, body.len());
        out.extend_from_slice(body);
        out
    }
    fn integer(magnitude: &[u8]) -> Vec<u8> {
        let trimmed: Vec<u8> = magnitude.iter().skip_while(|&&b| b == 0).copied().collect();
        let body = if trimmed.first().is_none_or(|&b| b >= 0x80) {
            [&[0u8][..], &trimmed].concat()
        } else {
            trimmed
        };
        tlv(tag::INTEGER, &body)
    }
    fn oid(dotted: &str) -> Option<Vec<u8>> {
        let oid = der::asn1::ObjectIdentifier::new(dotted).ok()?;
        Some(tlv(tag::OID, oid.as_bytes()))
    }
    let spki = |alg: Vec<u8>, key: &[u8]| {
        tlv(
            tag::SEQUENCE,
            &[tlv(tag::SEQUENCE, &alg), tlv(tag::BIT_STRING, &[&[0u8][..], key].concat())].concat(),
        )
    };
    let key_info = doc.child(sig, DSIG, "KeyInfo")?;
    let value = doc.child(key_info, DSIG, "KeyValue")?;
    let field = |parent: usize, ns: &str, name: &str| {
        doc.child(parent, ns, name).and_then(|n| b64(&doc.text(n)))
    };
    if let Some(rsa) = doc.child(value, DSIG, "RSAKeyValue") {
        let key = tlv(
            tag::SEQUENCE,
            &[integer(&field(rsa, DSIG, "Modulus")?), integer(&field(rsa, DSIG, "Exponent")?)]
                .concat(),
        );
        return Some((
            "RSA",
            spki([oid("1.2.840.113549.1.1.1")?, vec![tag::NULL, 0]].concat(), &key),
        ));
    }
    if let Some(dsa) = doc.child(value, DSIG, "DSAKeyValue") {
        let params = tlv(
            tag::SEQUENCE,
            &[
                integer(&field(dsa, DSIG, "P")?),
                integer(&field(dsa, DSIG, "Q")?),
                integer(&field(dsa, DSIG, "G")?),
            ]
            .concat(),
        );
        return Some((
            "DSA",
            spki([oid("1.2.840.10040.4.1")?, params].concat(), &integer(&field(dsa, DSIG, "Y")?)),
        ));
    }
    let ec = doc.child(value, DSIG11, "ECKeyValue")?;
    let curve = doc
        .child(ec, DSIG11, "NamedCurve")
        .and_then(|c| doc.attr(c, "URI"))?
        .strip_prefix("urn:oid:")?;
    Some((
        "ECDSA",
        spki([oid("1.2.840.10045.2.1")?, oid(curve)?].concat(), &field(ec, DSIG11, "PublicKey")?),
    ))
}

/// The certificate named by XAdES SigningCertificate(V2) by its digest.
fn signing_certificate(doc: &Doc, sig: usize, certs: &[Arc<Cert>]) -> Option<Arc<Cert>> {
    for ns in XADES {
        for sc in doc.descendants(sig, ns, "SigningCertificate").into_iter().chain(doc.descendants(
            sig,
            ns,
            "SigningCertificateV2",
        )) {
            for digest in doc.descendants(sc, ns, "CertDigest") {
                let alg = doc
                    .child(digest, DSIG, "DigestMethod")
                    .and_then(|m| doc.attr(m, "Algorithm"))
                    .and_then(digest_hash)?;
                let value =
                    doc.child(digest, DSIG, "DigestValue").and_then(|v| b64(&doc.text(v)))?;
                if let Some(c) = certs.iter().find(|c| alg.digest(&[&c.der]) == value) {
                    return Some(c.clone());
                }
            }
        }
    }
    None
}

/// The certificate that issued no other one (the end of the chain).
fn leaf(certs: &[Arc<Cert>]) -> Option<Arc<Cert>> {
    certs
        .iter()
        .find(|c| !certs.iter().any(|o| o.sha256 != c.sha256 && o.issuer_raw == c.subject_raw))
        .or(certs.first())
        .cloned()
}

fn signing_time(doc: &Doc, sig: usize) -> Option<OffsetDateTime> {
    let t = XADES.iter().flat_map(|ns| doc.descendants(sig, ns, "SigningTime")).next()?;
    parse_datetime(doc.text(t).trim())
}

/// xs:dateTime; a missing zone is taken as UTC.
fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .or_else(|| OffsetDateTime::parse(&format!("{s}Z"), &Rfc3339).ok())
}

/// The digest of an XMLDSig DigestMethod URI.
pub(crate) fn digest_hash(uri: &str) -> Option<Hash> {
    Some(match uri {
        "http://www.w3.org/2000/09/xmldsig#sha1" => Hash::Sha1,
        "http://www.w3.org/2001/04/xmldsig-more#sha224" => Hash::Sha224,
        "http://www.w3.org/2001/04/xmlenc#sha256" => Hash::Sha256,
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => Hash::Sha384,
        "http://www.w3.org/2001/04/xmlenc#sha512" => Hash::Sha512,
        "http://www.w3.org/2007/05/xmldsig-more#sha3-224" => Hash::Sha3_224,
        "http://www.w3.org/2007/05/xmldsig-more#sha3-256" => Hash::Sha3_256,
        "http://www.w3.org/2007/05/xmldsig-more#sha3-384" => Hash::Sha3_384,
        "http://www.w3.org/2007/05/xmldsig-more#sha3-512" => Hash::Sha3_512,
        _ => return None,
    })
}

/// The SignatureMethod's algorithm. RSA-PSS written with parameters
/// (RFC 6931 / RFC 9231 `#rsa-pss`) takes its hash from the
/// RSAPSSParams' DigestMethod (SHA-256 when absent).
fn signature_algorithm(doc: &Doc, method_el: Option<usize>, uri: &str) -> Option<Algorithm> {
    if matches!(
        uri,
        "http://www.w3.org/2007/05/xmldsig-more#rsa-pss"
            | "http://www.w3.org/2021/04/xmldsig-more#rsa-pss"
    ) {
        let params_hash = method_el
            .and_then(|m| doc.descendants(m, DSIG, "DigestMethod").first().copied())
            .and_then(|d| doc.attr(d, "Algorithm"))
            .map(digest_hash);
        return Some(Algorithm {
            scheme: Scheme::RsaPss,
            hash: params_hash.unwrap_or(Some(Hash::Sha256))?,
        });
    }
    let (scheme, hash) = match uri {
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => (Scheme::RsaPkcs1, Hash::Sha1),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224" => (Scheme::RsaPkcs1, Hash::Sha224),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => (Scheme::RsaPkcs1, Hash::Sha256),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => (Scheme::RsaPkcs1, Hash::Sha384),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => (Scheme::RsaPkcs1, Hash::Sha512),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1" => (Scheme::Ecdsa, Hash::Sha1),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224" => (Scheme::Ecdsa, Hash::Sha224),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" => (Scheme::Ecdsa, Hash::Sha256),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" => (Scheme::Ecdsa, Hash::Sha384),
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512" => (Scheme::Ecdsa, Hash::Sha512),
        "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1" => (Scheme::RsaPss, Hash::Sha256),
        "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1" => (Scheme::RsaPss, Hash::Sha384),
        "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1" => (Scheme::RsaPss, Hash::Sha512),
        "http://www.w3.org/2007/05/xmldsig-more#sha3-256-rsa-MGF1" => {
            (Scheme::RsaPss, Hash::Sha3_256)
        }
        "http://www.w3.org/2007/05/xmldsig-more#sha3-384-rsa-MGF1" => {
            (Scheme::RsaPss, Hash::Sha3_384)
        }
        "http://www.w3.org/2007/05/xmldsig-more#sha3-512-rsa-MGF1" => {
            (Scheme::RsaPss, Hash::Sha3_512)
        }
        "http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-256" => (Scheme::Ecdsa, Hash::Sha3_256),
        "http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-384" => (Scheme::Ecdsa, Hash::Sha3_384),
        "http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-512" => (Scheme::Ecdsa, Hash::Sha3_512),
        "http://www.w3.org/2000/09/xmldsig#dsa-sha1" => (Scheme::Dsa, Hash::Sha1),
        "http://www.w3.org/2009/xmldsig11#dsa-sha256" => (Scheme::Dsa, Hash::Sha256),
        "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519" => (Scheme::Ed25519, Hash::Sha512),
        _ => return None,
    };
    Some(Algorithm { scheme, hash })
}

/// C14N options of a CanonicalizationMethod or Transform element.
fn c14n_options(doc: &Doc, el: usize) -> Option<Options> {
    let uri = doc.attr(el, "Algorithm")?;
    let prefixes = doc
        .child(el, EXC_C14N, "InclusiveNamespaces")
        .and_then(|n| doc.attr(n, "PrefixList"))
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    Options::from_uri(uri, prefixes)
}

/// Core validation. Returns the verdict, its reason and the digest used.
/// `readings` gets where a reference was read as .NET reads it and xmlsec1
/// would not.
#[expect(clippy::too_many_lines, reason = "103 lines, from before the limit")]
fn verify(
    doc: &Doc,
    sig: usize,
    signed_info: usize,
    method: &str,
    spki: &[u8],
    parts: Option<&dyn Parts>,
    readings: &mut Vec<DotNetReading>,
) -> (Integrity, IntegrityReason, Option<Hash>) {
    let Some(alg) =
        signature_algorithm(doc, doc.child(signed_info, DSIG, "SignatureMethod"), method)
    else {
        return (
            Integrity::Unknown,
            IntegrityReason::XmlMethodUnsupported(method.to_owned()),
            None,
        );
    };
    let Some(c14n_el) = doc.child(signed_info, DSIG, "CanonicalizationMethod") else {
        return (Integrity::Invalid, IntegrityReason::XmlNoCanonicalization, Some(alg.hash));
    };
    let Some(opts) = c14n_options(doc, c14n_el) else {
        let uri = doc.attr(c14n_el, "Algorithm").unwrap_or("");
        return (
            Integrity::Unknown,
            IntegrityReason::XmlCanonicalizationUnsupported(uri.to_owned()),
            Some(alg.hash),
        );
    };
    let mut unknown = Vec::new();
    let mut checked = 0;
    let mut legacy_rels = 0;
    let mut refs = doc.children(signed_info, DSIG, "Reference");
    // OOXML: the package parts are listed in a Manifest inside a ds:Object.
    if parts.is_some() {
        for object in doc.children(sig, DSIG, "Object") {
            for manifest in doc.children(object, DSIG, "Manifest") {
                refs.extend(doc.children(manifest, DSIG, "Reference"));
            }
        }
    }
    for r in refs {
        let uri = doc.attr(r, "URI").unwrap_or("").to_owned();
        if let Some(id) = same_document_id(&uri)
            && doc.id_count(id) > 1
        {
            return (
                Integrity::Invalid,
                IntegrityReason::XmlDuplicateId { elements: doc.id_count(id), uri },
                Some(alg.hash),
            );
        }
        if let Some(id) = same_document_id(&uri)
            && doc.id_shadowed(id) > 0
        {
            readings
                .push(DotNetReading::IdShadowed { uri: uri.clone(), others: doc.id_shadowed(id) });
        }
        let mut outcome = reference(doc, sig, r, parts, RelsForm::Standard);
        if own_element_under_enveloped(doc, sig, r).is_some() {
            // .NET (Reference.LoadXml) sets the enveloped transform's
            // signature position among the Signature elements *below the
            // reference's target*: none here, so nothing is removed and the
            // element is digested. xmlsec1 removes the whole signature from
            // the node-set, the element with it, and digests nothing.
            match outcome {
                Ok(true) => readings.push(DotNetReading::OwnElementDigested(uri.clone())),
                Ok(false) if digest_of_nothing(doc, r) => {
                    readings.push(DotNetReading::OwnElementEmpty(uri.clone()))
                }
                _ => {}
            }
        }
        if outcome == Ok(false)
            && uses_relationship_transform(doc, r)
            && reference(doc, sig, r, parts, RelsForm::LegacyXmlsec) == Ok(true)
        {
            legacy_rels += 1;
            outcome = Ok(true);
        }
        match outcome {
            Ok(true) => checked += 1,
            // With entities left unexpanded our canonical form is not the
            // signer's: a mismatch proves nothing either way.
            Ok(false) if !doc.unresolved_entities.is_empty() => unknown.push(format!(
                "\"{uri}\": digest differs, but the document's entities are not expanded"
            )),
            Ok(false) => {
                return (
                    Integrity::Invalid,
                    IntegrityReason::XmlReferenceChanged(uri),
                    Some(alg.hash),
                );
            }
            Err(why) => unknown.push(format!("\"{uri}\": {why}")),
        }
    }
    if !doc.unresolved_entities.is_empty() {
        unknown.push("entities are not expanded, so canonical forms are unknown".into());
    }
    let canonical = c14n::canonicalize(doc, Some(signed_info), &[], &opts);
    let Some(value) = doc.child(sig, DSIG, "SignatureValue").and_then(|v| b64(&doc.text(v))) else {
        return (Integrity::Invalid, IntegrityReason::XmlNoSignatureValue, Some(alg.hash));
    };
    match verify_message(alg, spki, &canonical, &value) {
        Ok(()) if unknown.is_empty() => (
            Integrity::Valid,
            IntegrityReason::XmlVerified { references: checked, legacy_rels },
            Some(alg.hash),
        ),
        Ok(()) => (
            Integrity::Unknown,
            IntegrityReason::XmlPartly { checked, not_checked: unknown },
            Some(alg.hash),
        ),
        Err(VerifyError::Mismatch) => {
            (Integrity::Invalid, IntegrityReason::XmlSignatureMismatch, Some(alg.hash))
        }
        Err(e) => (Integrity::Unknown, IntegrityReason::Unchecked(e.to_string()), Some(alg.hash)),
    }
}

/// What a reference points at, on its way through the transforms.
enum Data {
    /// A node-set: a subtree (or the whole document) minus excluded subtrees.
    Nodes { apex: Option<usize>, exclude: Vec<usize>, comments: bool },
    /// Octets of a package part.
    Octets(Vec<u8>),
}

/// The Id a same-document reference names: `#id` or `#xpointer(id('id'))`.
fn same_document_id(uri: &str) -> Option<&str> {
    let frag = uri.strip_prefix('#').filter(|f| *f != "xpointer(/)")?;
    Some(frag.strip_prefix("xpointer(id('").and_then(|f| f.strip_suffix("'))")).unwrap_or(frag))
}

/// The element a same-document reference of `sig` names when it lies
/// inside `sig` itself (a ds:Object with the signing time, as Viettel's
/// invoicing software writes) and the reference has the enveloped-signature
/// transform: where .NET and xmlsec1 part ways.
fn own_element_under_enveloped(doc: &Doc, sig: usize, r: usize) -> Option<usize> {
    let el = doc.by_id(same_document_id(doc.attr(r, "URI")?)?)?;
    let enveloped = doc.child(r, DSIG, "Transforms").is_some_and(|ts| {
        doc.children(ts, DSIG, "Transform")
            .iter()
            .any(|&t| doc.attr(t, "Algorithm") == Some(ENVELOPED))
    });
    (enveloped && doc.ancestors(el).any(|a| a == sig)).then_some(el)
}

/// Is the reference's DigestValue the digest of no octets at all (what
/// xmlsec1 computes for an element removed with its signature)?
fn digest_of_nothing(doc: &Doc, r: usize) -> bool {
    let hash = doc
        .child(r, DSIG, "DigestMethod")
        .and_then(|m| doc.attr(m, "Algorithm"))
        .and_then(digest_hash);
    let value = doc.child(r, DSIG, "DigestValue").and_then(|v| b64(&doc.text(v)));
    matches!((hash, value), (Some(h), Some(v)) if h.digest(&[b""]) == v)
}

/// Ok(true): digest matches; Ok(false): it does not; Err: cannot check.
fn reference(
    doc: &Doc,
    sig: usize,
    r: usize,
    parts: Option<&dyn Parts>,
    rels_form: RelsForm,
) -> Result<bool, FormatError> {
    let uri = doc.attr(r, "URI").unwrap_or("");
    let hash_uri =
        doc.child(r, DSIG, "DigestMethod").and_then(|m| doc.attr(m, "Algorithm")).unwrap_or("");
    let hash = digest_hash(hash_uri)
        .ok_or_else(|| FormatError::Unsupported(format!("digest {hash_uri} not supported")))?;
    let expected = doc
        .child(r, DSIG, "DigestValue")
        .and_then(|v| b64(&doc.text(v)))
        .ok_or("DigestValue missing or not base64")?;
    let mut data = if uri.is_empty() {
        Data::Nodes { apex: None, exclude: Vec::new(), comments: false }
    } else if uri == "#xpointer(/)" {
        Data::Nodes { apex: None, exclude: Vec::new(), comments: true }
    } else if let Some(id) = same_document_id(uri) {
        let frag = &uri[1..];
        let el = doc.by_id(id).ok_or_else(|| format!("no element with Id {id}"))?;
        Data::Nodes { apex: Some(el), exclude: Vec::new(), comments: frag.starts_with("xpointer") }
    } else {
        let parts = parts.ok_or_else(|| {
            FormatError::Unsupported(
                "an external reference (not in this document): not resolvable from here".into(),
            )
        })?;
        let name = uri.split('?').next().unwrap_or(uri).trim_start_matches('/');
        let name = crate::uri::percent_decode(name);
        Data::Octets(parts.part(&name)?)
    };
    if let Some(transforms) = doc.child(r, DSIG, "Transforms") {
        for t in doc.children(transforms, DSIG, "Transform") {
            let alg = doc.attr(t, "Algorithm").unwrap_or("");
            if alg == ENVELOPED {
                if let Data::Nodes { exclude, .. } = &mut data {
                    exclude.push(sig);
                }
            } else if let Some(signatures) = xpath_signature_exclusion(doc, t, alg) {
                if let Data::Nodes { exclude, .. } = &mut data {
                    exclude.extend(signatures);
                } else {
                    return Err(FormatError::Unsupported("XPath transform on octets".into()));
                }
            } else if let Some(o) = c14n_options(doc, t) {
                data = Data::Octets(canonical(doc, data, Some(o))?);
            } else if alg == BASE64 {
                let octets = match data {
                    Data::Octets(o) => o,
                    Data::Nodes { apex, .. } => text_of(doc, apex).into_bytes(),
                };
                data = Data::Octets(
                    b64(&String::from_utf8_lossy(&octets))
                        .ok_or("base64 transform input is not base64")?,
                );
            } else if alg == RELATIONSHIP_TRANSFORM {
                let Data::Octets(rels) = &data else {
                    return Err("RelationshipTransform on a node-set".into());
                };
                data = Data::Octets(relationship_transform(doc, t, rels, rels_form)?);
            } else {
                return Err(FormatError::Unsupported(format!("transform {alg} not supported")));
            }
        }
    }
    let octets = match data {
        Data::Octets(o) => o,
        nodes => canonical(doc, nodes, None)?,
    };
    Ok(hash.digest(&[&octets]) == expected)
}

/// The elements removed by the XPath transforms that XAdES signers write
/// instead of the enveloped transform: XPath 1.0
/// `not(ancestor-or-self::ds:Signature)` and XPath Filter 2.0 subtracting
/// `/descendant::ds:Signature` (ds bound to XMLDSig where the expression
/// is written) or `/descendant::*[name()='ds:Signature']` (by the name in
/// the document). None for any other expression: no general XPath here.
fn xpath_signature_exclusion(doc: &Doc, transform: usize, alg: &str) -> Option<Vec<usize>> {
    let (ns, filter) = match alg {
        XPATH => (DSIG, None),
        XPATH_FILTER2 => (XPATH_FILTER2, Some("subtract")),
        _ => return None,
    };
    let xpath = doc.child(transform, ns, "XPath")?;
    if filter.is_some() && doc.attr(xpath, "Filter") != filter {
        return None;
    }
    let expr: String = doc.text(xpath).chars().filter(|c| !c.is_whitespace()).collect();
    let is_prefix = |p: &&str| {
        !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
    };
    let by_binding = match filter {
        None => {
            expr.strip_prefix("not(ancestor-or-self::").and_then(|e| e.strip_suffix(":Signature)"))
        }
        Some(_) => expr.strip_prefix("/descendant::").and_then(|e| e.strip_suffix(":Signature")),
    };
    if let Some(prefix) = by_binding.filter(is_prefix) {
        let bound = doc.in_scope(xpath).get(prefix) == Some(DSIG);
        return bound.then(|| doc.find_all(DSIG, "Signature"));
    }
    let by_name = filter.and(
        expr.strip_prefix("/descendant::*[name()='").and_then(|e| e.strip_suffix(":Signature']")),
    );
    let prefix = by_name.filter(is_prefix)?;
    Some(
        (0..doc.nodes.len())
            .filter(|&i| doc.nodes[i].prefix == prefix && doc.nodes[i].local == "Signature")
            .collect(),
    )
}

/// Node-set to octets (C14N 1.0 by default); octets that are XML (a
/// package part) are parsed first.
fn canonical(doc: &Doc, data: Data, opts: Option<Options>) -> Result<Vec<u8>, FormatError> {
    match data {
        Data::Nodes { apex, exclude, comments } => {
            // A same-document reference without XPointer (`""`, `#id`)
            // selects no comment nodes (XMLDSig 4.4.3.3): a "WithComments"
            // canonicalisation of that node-set has none to keep. A node-set
            // left at the end of the transforms becomes octets by Canonical
            // XML 1.0 without comments (XMLDSig 4.4.3.2), even an XPointer's
            // that holds comments: .NET (TransformChain.TransformToOctetStream,
            // CanonicalXml without comments) and xmlsec1 both drop them.
            let o = match opts {
                Some(o) => Options { comments: o.comments && comments, ..o },
                None => Options { method: Method::Inclusive, comments: false },
            };
            Ok(c14n::canonicalize(doc, apex, &exclude, &o))
        }
        Data::Octets(bytes) => {
            let part = Doc::parse(&bytes).map_err(|e| format!("part is not XML: {e}"))?;
            if !part.unresolved_entities.is_empty() {
                return Err(FormatError::Unsupported(
                    "part uses entities that are not expanded".into(),
                ));
            }
            let o = opts.unwrap_or(Options { method: Method::Inclusive, comments: false });
            Ok(c14n::canonicalize(&part, None, &[], &o))
        }
    }
}

fn text_of(doc: &Doc, apex: Option<usize>) -> String {
    let root = apex.unwrap_or(doc.root);
    let mut out = doc.text(root);
    for d in doc.child_ids(root) {
        out.push_str(&text_of(doc, Some(d)));
    }
    out
}

/// How a RelationshipTransform output is formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RelsForm {
    /// As ECMA-376 specifies it.
    Standard,
    /// As xmlsec before 1.3.8 wrote it, and LibreOffice with it signs:
    /// every text or comment child of Relationships becomes an empty
    /// `<text/>` / `<comment/>` element ahead of the relationships.
    /// xmlsec keeps this form as an option to verify those files.
    LegacyXmlsec,
}

fn uses_relationship_transform(doc: &Doc, r: usize) -> bool {
    doc.child(r, DSIG, "Transforms").is_some_and(|ts| {
        doc.children(ts, DSIG, "Transform")
            .iter()
            .any(|&t| doc.attr(t, "Algorithm") == Some(RELATIONSHIP_TRANSFORM))
    })
}

/// OPC RelationshipTransform (ECMA-376 Part 2, 13.2.4.24): keep the
/// Relationship elements named by SourceId / SourceType, in Id order, with
/// TargetMode made explicit; the result goes on to C14N.
fn relationship_transform(
    doc: &Doc,
    transform: usize,
    rels: &[u8],
    form: RelsForm,
) -> Result<Vec<u8>, FormatError> {
    let ids: Vec<&str> = doc
        .children(transform, OPC_DSIG_NS, "RelationshipReference")
        .iter()
        .filter_map(|&r| doc.attr(r, "SourceId"))
        .collect();
    let types: Vec<&str> = doc
        .children(transform, OPC_DSIG_NS, "RelationshipsGroupReference")
        .iter()
        .filter_map(|&r| doc.attr(r, "SourceType"))
        .collect();
    let part = Doc::parse(rels).map_err(|e| format!(".rels part is not XML: {e}"))?;
    let mut kept: Vec<(String, String, String, String)> = part
        .children(part.root, OPC_REL_NS, "Relationship")
        .into_iter()
        .filter(|&r| {
            part.attr(r, "Id").is_some_and(|i| ids.contains(&i))
                || part.attr(r, "Type").is_some_and(|t| types.contains(&t))
        })
        .map(|r| {
            let a = |k: &str| part.attr(r, k).unwrap_or("").to_owned();
            let mode = part.attr(r, "TargetMode").unwrap_or("Internal").to_owned();
            (a("Id"), a("Target"), mode, a("Type"))
        })
        .collect();
    kept.sort();
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
    let mut xml = format!("<Relationships xmlns=\"{OPC_REL_NS}\">");
    if form == RelsForm::LegacyXmlsec {
        for c in &part.node(part.root).children {
            match c {
                Child::Text(_) => xml.push_str("<text></text>"),
                Child::Comment(_) => xml.push_str("<comment></comment>"),
                _ => {}
            }
        }
    }
    for (id, target, mode, ty) in kept {
        xml.push_str(&format!(
            "<Relationship Id=\"{}\" Target=\"{}\" TargetMode=\"{}\" Type=\"{}\"></Relationship>",
            esc(&id),
            esc(&target),
            esc(&mode),
            esc(&ty)
        ));
    }
    xml.push_str("</Relationships>");
    Ok(xml.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 23: roles as the formats of Decision 1450/QĐ-TCT place them,
    /// including those met in real messages (a notice signed by the tax
    /// office's head and the office, a message signed by the taxpayer).
    #[test]
    fn einvoice_roles_by_the_element_that_holds_the_signature() {
        let xml = concat!(
            r#"<TDiep xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><DLieu><TBao><DSCKS>"#,
            r#"<TTCQT><ds:Signature/></TTCQT><CQT><ds:Signature/></CQT>"#,
            r#"<Khac><ds:Signature/></Khac></DSCKS></TBao>"#,
            "\n            ",
            r#"<TKhai><DSCKS><NNT><ds:Signature/></NNT></DSCKS></TKhai>"#,
            r#"<HDon><DSCKS><CCKSKhac><X><ds:Signature/></X></CCKSKhac></DSCKS>"#,
            r#"<NBan><ds:Signature/></NBan></HDon></DLieu>"#,
            r#"<CKSNNT><ds:Signature/></CKSNNT></TDiep>"#
        );
        let doc = Doc::parse(xml.as_bytes()).unwrap();
        let roles: Vec<_> =
            doc.find_all(DSIG, "Signature").into_iter().map(|s| einvoice_role(&doc, s)).collect();
        assert_eq!(
            roles,
            vec![
                Some(("DSCKS/TTCQT", "tax authority head")),
                Some(("DSCKS/CQT", "tax authority")),
                None,
                Some(("DSCKS/NNT", "taxpayer")),
                Some(("DSCKS/CCKSKhac", "other")),
                // NBan outside DSCKS is the seller's details, not a signature slot.
                None,
                Some(("CKSNNT", "taxpayer")),
            ]
        );
        let sig = doc.find_all(DSIG, "Signature")[0];
        assert_eq!(
            element_path(&doc, sig, Some("tax authority head")),
            "TDiep/DLieu/TBao/DSCKS/TTCQT/Signature (tax authority head)"
        );
    }

    #[test]
    fn xml_is_recognised_after_whatever_may_open_it() {
        for text in [
            "<a/>",
            "\u{feff}<?xml version=\"1.0\"?>\n<a/>",
            "<!-- bản lưu -->\n<HDon/>",
            "<!DOCTYPE HDon>\n<HDon/>",
            "<!DOCTYPE a [<!ENTITY x \"]>\">]><!-- c --><?pi x?><a/>",
            "  <?xml version=\"1.0\"?><!-- unterminated comment in the head",
            "<Đơn/>",
        ] {
            assert!(looks_like_xml(text.as_bytes()), "{text}");
        }
        for text in ["MIT License", "", "<", "<1a>", "{\"json\": 1}", "<!-- -->"] {
            assert!(!looks_like_xml(text.as_bytes()), "{text}");
        }
        let utf16: Vec<u8> =
            "\u{feff}<!-- c --><a/>".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(utf16_as_utf8(&utf16).unwrap(), "<!-- c --><a/>".as_bytes());
        assert!(utf16_as_utf8(b"<a/>").is_none());
    }
}
