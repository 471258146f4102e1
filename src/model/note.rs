//! Notes and integrity reasons: the facts about a signature that the
//! `notes` column and `inspect` show, as typed values. Code recognises
//! them by variant, never by their words; the words are written only when
//! a finding or `inspect` renders them (their `Display`).

use std::fmt;

/// One note about a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The integrity verdict when it is not `valid`, rendered with the
    /// signature's integrity and reason. `Signature::set_integrity` (below
    /// this file, in signature.rs) keeps exactly one, where the latest verdict was given.
    Integrity,
    /// What a PDF signature's revision covers. `later_updates_benign`: it
    /// says the signed revision is intact and later updates only add
    /// signatures or LTV data, a claim withdrawn if a later update turns
    /// out to have taken the signature out.
    Coverage { text: String, later_updates_benign: bool },
    /// The final PDF no longer refers to this signature.
    TakenOutByLaterUpdate,
    /// Found by the raw byte scan, not through the PDF objects.
    FoundByRawScan(RawScanReason),
    /// On a PDF signature: this many signature dictionaries of the same
    /// save that no field references and that do not verify, which are not
    /// rows (issue 23: signing software leaves them).
    LeftoverSignatureDictionaries(usize),
    /// A PDF signature dictionary that no form field references, still a
    /// row: it verifies (or could not be checked), or `invalid` and no
    /// signature a field references represents the file.
    NoFieldReferences { invalid: bool },
    /// `/Contents` holds non-zero bytes after the CMS structure.
    ContentsPadding(usize),
    /// A `/SubFilter` sigaudit does not know (None: there is none).
    UnknownSubFilter(Option<String>),
    /// The signing time is the PDF's `/M`, not a signed attribute.
    SigningTimeFromM,
    /// An `adbe.x509.rsa_sha1` signature.
    X509RsaSha1,
    /// A certificate of the CMS `certificates` set could not be read.
    EmbeddedCertUnreadable { index: usize, why: String },
    /// The signature's RFC 3161 timestamp could not be used.
    TimestampUnusable(String),
    /// Counter-signatures on this signer (not signers themselves).
    CounterSignatures(usize),
    /// What the signed content of a CMS file is (attached, detached over a file, missing).
    Content(String),
    /// Bytes after the CMS structure of a file.
    TrailingBytes(usize),
    /// An XML KeyInfo certificate could not be read (None: not base64).
    KeyInfoCertUnreadable(Option<String>),
    /// Entities declared in a DTD, never expanded (no XXE).
    UnexpandedEntities(Vec<String>),
    /// An OOXML signature part that the package's signature origin does not link.
    SignaturePartNotLinked,
    /// Why the certificates were not valid when the document was signed,
    /// or why the signer's key may not sign documents.
    Certificate(String),
    /// The signer's certificate was not embedded; the anchor folder has it.
    SignerFromAnchors,
    /// The role of an e-invoice signature (Circular 78/2021, Decree
    /// 123/2020) and the element that holds it (`DSCKS/NBan`).
    EInvoiceRole { element: &'static str, role: &'static str },
    /// Where .NET's SignedXml and xmlsec1 read a reference differently,
    /// sigaudit read it as .NET does (the software that signs and checks
    /// e-invoices is .NET).
    DotNet(DotNetReading),
    /// multipart/signed with more than the two parts RFC 1847 allows:
    /// these parts (their paths) come after the signature and are not signed.
    SmimeUnsignedParts(Vec<String>),
    /// An S/MIME signed part (multipart/signed or opaque) that is not the
    /// message itself but part `path` under unsigned parts: what a reader
    /// sees outside it is unsigned (the MIME-wrapping attacks of "Johnny,
    /// You Are Fired!", USENIX Security 2019, M1-M4).
    SmimeNestedSignedPart(String),
    /// What an XML signature's references cover (issue 24).
    XmlCoverage(XmlCoverage),
    /// A note read back from the history, as it was written.
    Stored(String),
}

/// What an XML signature covers, from its references resolved in the
/// document (src/formats/xml/coverage.rs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlCoverage {
    /// A reference covers the whole document (`""`, `#xpointer(/)`);
    /// `internal` more references cover parts of the signature itself
    /// (signing time, XAdES SignedProperties), `parts` package parts.
    WholeDocument { internal: usize, parts: usize },
    /// The references cover these elements (`DLHDon (Id=x)`).
    Elements { elements: Vec<String>, internal: usize, parts: usize },
    /// An e-invoice signature that does not cover its holder's data
    /// element (`data`, e.g. `DLHDon (Id=x)` of an `invoice`): only
    /// `covered`; the rest is unsigned.
    Partial { covered: Vec<String>, data: String, holder: &'static str },
}

impl XmlCoverage {
    /// The signature leaves part of what its format defines as the
    /// document unsigned: `modified_after_signing=true`, as a PDF
    /// signature that covers only part of the file.
    pub fn partial(&self) -> bool {
        matches!(self, XmlCoverage::Partial { .. })
    }
}

impl fmt::Display for XmlCoverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extra = |internal: usize, parts: usize| {
            let mut out = String::new();
            if parts > 0 {
                out.push_str(&format!(
                    ", {parts} package part{}",
                    if parts > 1 { "s" } else { "" }
                ));
            }
            if internal > 0 {
                out.push_str(&format!(
                    ", {internal} element{} of the signature itself (signing time, signed \
                     properties)",
                    if internal > 1 { "s" } else { "" }
                ));
            }
            out
        };
        match self {
            XmlCoverage::WholeDocument { internal, parts } => {
                write!(f, "covers the whole document{}", extra(*internal, *parts))
            }
            XmlCoverage::Elements { elements, internal, parts } if elements.is_empty() => {
                let what = extra(*internal, *parts);
                match what.strip_prefix(", ") {
                    Some(w) => write!(f, "covers {w}"),
                    None => f.write_str("covers nothing that resolves in this document"),
                }
            }
            XmlCoverage::Elements { elements, internal, parts } => {
                write!(
                    f,
                    "covers element{} {}{}",
                    if elements.len() > 1 { "s" } else { "" },
                    elements.join(", "),
                    extra(*internal, *parts)
                )
            }
            XmlCoverage::Partial { covered, data, holder } if covered.is_empty() => {
                write!(
                    f,
                    "MODIFIED AFTER SIGNING: covers nothing of the {holder}'s {data}: the \
                     {holder} is unsigned"
                )
            }
            XmlCoverage::Partial { covered, data, holder } => {
                write!(
                    f,
                    "MODIFIED AFTER SIGNING: covers only {}, not the {holder}'s {data}: the rest \
                     of the {holder} is unsigned",
                    covered.join(", ")
                )
            }
        }
    }
}

/// A reading of an XML signature where .NET's SignedXml and xmlsec1 differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DotNetReading {
    /// A reference to an element inside its own signature, under the
    /// enveloped-signature transform, whose digest is that element's.
    OwnElementDigested(String),
    /// The same, whose digest is that of nothing (xmlsec1's reading).
    OwnElementEmpty(String),
    /// Verified only without the whitespace-only text (XmlDocument with
    /// PreserveWhitespace=false).
    WithoutBlankText,
    /// The referenced Id is resolved by `Id`; other elements carry the
    /// value as `id`/`ID`, which .NET ignores.
    IdShadowed { uri: String, others: usize },
    /// Canonicalisations or transforms .NET's SignedXml does not accept
    /// (unknown to it, or outside its safe lists): the e-invoice software
    /// cannot check the signature; sigaudit checks it as xmlsec1 does.
    Refused(Vec<String>),
}

/// How a signature came to be found by the raw byte scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawScanReason {
    /// The PDF objects could not be read.
    StructureUnreadable(String),
    /// The objects are encrypted and could not be decrypted.
    Encrypted,
    /// The objects are fine but do not reach it (earlier revision, orphaned).
    Unreachable,
    /// The file has more objects than are loaded (to bound memory): only
    /// the raw scan ran.
    TooManyObjects { objects: usize, max: usize },
}

impl fmt::Display for Note {
    /// Every note but [`Note::Integrity`], which needs its signature.
    #[expect(clippy::too_many_lines, reason = "138 lines, from before the limit")]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Integrity => f.write_str("integrity"),
            Note::Coverage { text, .. }
            | Note::Content(text)
            | Note::Certificate(text)
            | Note::Stored(text) => f.write_str(text),
            Note::TakenOutByLaterUpdate => f.write_str(
                "MODIFIED AFTER SIGNING: a later update took this signature out of the document \
                 (the final document no longer refers to it)",
            ),
            Note::FoundByRawScan(RawScanReason::StructureUnreadable(e)) => {
                write!(f, "PDF object structure unreadable ({e}): signature found by raw byte scan")
            }
            Note::FoundByRawScan(RawScanReason::TooManyObjects { objects, max }) => {
                write!(
                    f,
                    "PDF of at least {objects} objects, more than the {max} loaded (memory \
                     bound): signature found by raw byte scan"
                )
            }
            Note::FoundByRawScan(RawScanReason::Encrypted) => f.write_str(
                "PDF objects are encrypted and could not be decrypted: signature found by raw \
                 byte scan",
            ),
            Note::FoundByRawScan(RawScanReason::Unreachable) => f.write_str(
                "signature not reachable through the PDF object structure (earlier revision or \
                 orphaned): found by raw byte scan",
            ),
            Note::LeftoverSignatureDictionaries(1) => f.write_str(
                "1 signature dictionary that no field uses and that does not verify (left by the \
                 signing software)",
            ),
            Note::LeftoverSignatureDictionaries(n) => write!(
                f,
                "{n} signature dictionaries that no field uses and that do not verify (left by \
                 the signing software)"
            ),
            Note::NoFieldReferences { invalid: false } => f.write_str(
                "no form field references this signature dictionary: PDF readers (Adobe, pdfsig, \
                 pyHanko) do not show this signature",
            ),
            Note::NoFieldReferences { invalid: true } => f.write_str(
                "no form field references this signature dictionary and it does not verify (as \
                 signing software leaves them): a row because no signature a field references \
                 represents this file",
            ),
            Note::ContentsPadding(n) => {
                write!(f, "/Contents padded with {n} non-zero bytes after the CMS (ignored)")
            }
            Note::UnknownSubFilter(None) => {
                f.write_str("no /SubFilter found for this signature; /Contents read as CMS")
            }
            Note::UnknownSubFilter(Some(name)) => {
                write!(f, "unknown SubFilter /{name}; /Contents read as CMS")
            }
            Note::SigningTimeFromM => {
                f.write_str("signing time from /M (claimed by the PDF, not signed)")
            }
            Note::X509RsaSha1 => {
                f.write_str("adbe.x509.rsa_sha1: PKCS#1 signature, certificates from /Cert")
            }
            Note::EmbeddedCertUnreadable { index, why } => {
                write!(f, "embedded certificate #{index} unreadable: {why}")
            }
            Note::TimestampUnusable(why) => write!(f, "signature timestamp not usable: {why}"),
            Note::CounterSignatures(n) => {
                write!(f, "{n} counter-signature(s) attached (not counted as signers)")
            }
            Note::TrailingBytes(n) => write!(f, "{n} bytes after the CMS structure ignored"),
            Note::KeyInfoCertUnreadable(Some(why)) => write!(
                f,
                "an embedded certificate (KeyInfo, XAdES CertificateValues) is unreadable: {why}"
            ),
            Note::KeyInfoCertUnreadable(None) => f.write_str(
                "an embedded certificate (KeyInfo, XAdES CertificateValues) is not base64",
            ),
            Note::UnexpandedEntities(names) => write!(
                f,
                "the document uses entities that are not expanded ({}): possible XXE, never \
                 resolved",
                names.join(", ")
            ),
            Note::EInvoiceRole { element, role } => {
                write!(f, "e-invoice role: {role} ({element}, Circular 78/2021)")
            }
            Note::DotNet(DotNetReading::OwnElementDigested(uri)) => write!(
                f,
                "reference \"{uri}\" is an element inside this signature, under the \
                 enveloped-signature transform: .NET's SignedXml digests the element and it \
                 matches; xmlsec1 takes the element out with its signature, digests nothing and \
                 says the digest differs; sigaudit follows .NET, which signs and checks e-invoices"
            ),
            Note::DotNet(DotNetReading::OwnElementEmpty(uri)) => write!(
                f,
                "reference \"{uri}\" is an element inside this signature, under the \
                 enveloped-signature transform, and its digest is that of nothing: xmlsec1 reads \
                 it so and accepts it; .NET's SignedXml digests the element and rejects it; \
                 sigaudit follows .NET, which signs and checks e-invoices"
            ),
            Note::DotNet(DotNetReading::WithoutBlankText) => f.write_str(
                "verified as .NET's XmlDocument reads the file (PreserveWhitespace=false: \
                 whitespace-only text left out), the form .NET signing software digests; xmlsec1 \
                 keeps that whitespace and says the digest differs; sigaudit follows .NET, which \
                 signs and checks e-invoices",
            ),
            Note::DotNet(DotNetReading::IdShadowed { uri, others }) => write!(
                f,
                "reference \"{uri}\": besides the element whose Id it names, {others} other \
                 element(s) carry the value as id/ID; .NET's SignedXml takes the Id one (sigaudit \
                 follows .NET), a program looking the value up as id/ID would find another element"
            ),
            Note::DotNet(DotNetReading::Refused(uris)) => write!(
                f,
                ".NET's SignedXml does not accept {} (not among its canonicalisations and safe \
                 transforms), so e-invoice software cannot check this signature; xmlsec1 can, and \
                 sigaudit checks it as xmlsec1 does",
                uris.join(", ")
            ),
            Note::SignerFromAnchors => {
                f.write_str("the signer's certificate is not embedded: found in the anchor folder")
            }
            Note::SmimeUnsignedParts(paths) => write!(
                f,
                "multipart/signed with more than the two parts RFC 1847 allows: part(s) {} after \
                 the signature are not signed",
                paths.join(", ")
            ),
            Note::SmimeNestedSignedPart(path) => write!(
                f,
                "the signed part is part {path} of the message, under unsigned parts: the \
                 message's visible text outside it is unsigned"
            ),
            Note::XmlCoverage(c) => c.fmt(f),
            Note::SignaturePartNotLinked => f.write_str(
                "this signature part is not linked from the package's digital-signature origin: \
                 Office does not show it",
            ),
        }
    }
}

/// Why a signature's integrity is what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegrityReason {
    /// Nothing checked it (yet).
    NotVerified,
    /// `<digest>` digest of the content and the signature over the signed attributes.
    DigestAndSignature { digest: &'static str },
    /// A signature straight over the content (no signed attributes).
    SignatureOverContent { digest: &'static str },
    /// The content's digest differs from messageDigest.
    DigestMismatch { digest: &'static str },
    /// The signature value does not verify with the signer's key.
    SignatureMismatch,
    /// The digest algorithm is not supported.
    DigestUnsupported(String),
    /// The signature could not be checked (unsupported algorithm, unusable key).
    SignatureUnchecked(String),
    /// An algorithm or key problem before anything was checked.
    Unchecked(String),
    /// The signed attributes cannot be read.
    SignedAttrsUnreadable(String),
    /// No messageDigest among the signed attributes.
    NoMessageDigest,
    /// The content-type attribute is not the encapsulated content type.
    ContentTypeDiffers,
    /// The signed content is not available, and why.
    ContentMissing(String),
    /// What the container says is wrong with it (a /ByteRange, a timestamp token).
    Container(String),
    /// A document timestamp's imprint and token signature verified.
    TimestampVerified,
    /// adbe.pkcs7.sha1: the signed SHA-1 is not the byte ranges'.
    Sha1ContentMismatch,
    /// adbe.x509.rsa_sha1 verified.
    RsaSha1Verified,
    /// adbe.x509.rsa_sha1: the PKCS#1 signature does not verify.
    RsaSha1Mismatch,
    /// XML: the signature method is not supported.
    XmlMethodUnsupported(String),
    /// XML: SignedInfo has no CanonicalizationMethod.
    XmlNoCanonicalization,
    /// XML: the canonicalization method is not supported.
    XmlCanonicalizationUnsupported(String),
    /// XML: a reference's digest differs.
    XmlReferenceChanged(String),
    /// A same-document reference names an Id that more than one element
    /// carries: which one was signed is ambiguous (signature wrapping).
    XmlDuplicateId { uri: String, elements: usize },
    /// XML: no usable SignatureValue.
    XmlNoSignatureValue,
    /// XML: the references verify, but what they cover is not what a
    /// reader of the document takes (signature wrapping), and where.
    XmlWrapping(String),
    /// multipart/signed whose SignedData carries its own content
    /// (eContent) that is not the displayed first part: the signature
    /// covers content no reader sees (eContent confusion, "Johnny, You Are
    /// Fired!" C1). OpenSSL verifies the eContent and fails it too.
    SmimeEContentDiffers,
    /// XML: SignatureValue and every reference verified; `legacy_rels`
    /// relationship parts in LibreOffice's legacy xmlsec form.
    XmlVerified { references: usize, legacy_rels: usize },
    /// XML: SignatureValue verified, some references could not be checked.
    XmlPartly { checked: usize, not_checked: Vec<String> },
    /// XML: the SignatureValue does not verify.
    XmlSignatureMismatch,
    /// A reason read back from the history, as it was written.
    Stored(String),
}

impl fmt::Display for IntegrityReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntegrityReason::NotVerified => f.write_str("not verified"),
            IntegrityReason::DigestAndSignature { digest } => {
                write!(f, "{digest} digest and signature verified")
            }
            IntegrityReason::SignatureOverContent { digest } => {
                write!(f, "{digest} signature over the content verified (no signed attributes)")
            }
            IntegrityReason::DigestMismatch { digest } => write!(
                f,
                "{digest} digest of the signed data does not match messageDigest: the content was \
                 changed"
            ),
            IntegrityReason::SignatureMismatch => {
                f.write_str("the signature value does not verify with the signer certificate's key")
            }
            IntegrityReason::DigestUnsupported(name) if matches!(name.as_str(), "MD5" | "MD2") => {
                write!(
                    f,
                    "digest algorithm {name} is broken (collisions can be made): not verified"
                )
            }
            IntegrityReason::DigestUnsupported(name) => {
                write!(f, "digest algorithm {name} is not supported: not verified")
            }
            IntegrityReason::SignatureUnchecked(why) => write!(f, "{why}: signature not verified"),
            IntegrityReason::Unchecked(why) => write!(f, "{why}: not verified"),
            IntegrityReason::SignedAttrsUnreadable(why) => {
                write!(f, "signed attributes unreadable: {why}")
            }
            IntegrityReason::NoMessageDigest => {
                f.write_str("signed attributes lack the messageDigest attribute")
            }
            IntegrityReason::ContentTypeDiffers => {
                f.write_str("content-type attribute differs from the encapsulated content type")
            }
            IntegrityReason::ContentMissing(why) => {
                write!(f, "{why}: the digest cannot be checked")
            }
            IntegrityReason::Container(why) | IntegrityReason::Stored(why) => f.write_str(why),
            IntegrityReason::TimestampVerified => {
                f.write_str("timestamp imprint and token signature verified")
            }
            IntegrityReason::Sha1ContentMismatch => f.write_str(
                "adbe.pkcs7.sha1: the signed SHA-1 is not the SHA-1 of the signed byte ranges",
            ),
            IntegrityReason::RsaSha1Verified => {
                f.write_str("SHA-1 digest and PKCS#1 signature verified")
            }
            IntegrityReason::RsaSha1Mismatch => {
                f.write_str("the PKCS#1 signature does not verify over the signed byte ranges")
            }
            IntegrityReason::XmlMethodUnsupported(m) => {
                write!(f, "signature method {m} is not supported: not verified")
            }
            IntegrityReason::XmlNoCanonicalization => {
                f.write_str("SignedInfo without CanonicalizationMethod")
            }
            IntegrityReason::XmlCanonicalizationUnsupported(uri) => {
                write!(f, "canonicalization {uri} is not supported: not verified")
            }
            IntegrityReason::XmlReferenceChanged(uri) => write!(
                f,
                "the digest of reference \"{uri}\" does not match: the signed content was changed"
            ),
            IntegrityReason::XmlDuplicateId { uri, elements } => {
                write!(
                    f,
                    "reference \"{uri}\" names an Id that {elements} elements carry: which one \
                     was signed is ambiguous (a signature-wrapping attempt), refused"
                )
            }
            IntegrityReason::SmimeEContentDiffers => f.write_str(
                "multipart/signed whose signature carries its own content (eContent) that differs \
                 from the displayed first part: the signature covers hidden content, not what a \
                 reader sees (eContent confusion)",
            ),
            IntegrityReason::XmlNoSignatureValue => {
                f.write_str("SignatureValue missing or not base64")
            }
            IntegrityReason::XmlWrapping(place) => write!(f, "signature-wrapping attempt: {place}"),
            IntegrityReason::XmlVerified { references, legacy_rels: 0 } => {
                write!(f, "SignatureValue and {references} reference digest(s) verified")
            }
            IntegrityReason::XmlVerified { references, legacy_rels } => write!(
                f,
                "SignatureValue and {references} reference digest(s) verified; {legacy_rels} \
                 relationship part(s) in the legacy xmlsec form LibreOffice writes (text nodes as \
                 <text/>)"
            ),
            IntegrityReason::XmlPartly { checked, not_checked } => write!(
                f,
                "SignatureValue verified, {checked} reference(s) verified, but not: {}",
                not_checked.join("; ")
            ),
            IntegrityReason::XmlSignatureMismatch => {
                f.write_str("the SignatureValue does not verify with the signer certificate's key")
            }
        }
    }
}
