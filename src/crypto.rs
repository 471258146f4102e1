//! Public-key signature verification, pure Rust (RustCrypto).
//!
//! One entry point serves certificate links, CMS signer signatures and XML
//! SignatureValues: a signature algorithm (plus, for CMS, the digest
//! algorithm), the signer's SubjectPublicKeyInfo, the message or its digest,
//! and the signature.

use rsa::{BoxedUint, Pkcs1v15Sign};
use sha2::Digest;
use signature::hazmat::PrehashVerifier;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey as ParsedKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::asn1::ber::{Tlv, oid_string, tag};

mod brainpool512;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum VerifyError {
    #[error("unsupported algorithm {0}")]
    Unsupported(String),
    #[error("unusable public key: {0}")]
    BadKey(String),
    #[error("signature does not verify")]
    Mismatch,
}

impl VerifyError {
    /// A mismatch is evidence against the signature; the others only mean
    /// it could not be checked.
    pub(crate) fn is_mismatch(&self) -> bool {
        matches!(self, VerifyError::Mismatch)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
    /// SHAKE256 with 512 bits of output, as CMS uses it with Ed448 (RFC 8419).
    Shake256,
}

impl Hash {
    pub(crate) fn from_oid(dotted: &str) -> Option<Hash> {
        Some(match dotted {
            "1.3.14.3.2.26" => Hash::Sha1,
            "2.16.840.1.101.3.4.2.4" => Hash::Sha224,
            "2.16.840.1.101.3.4.2.1" => Hash::Sha256,
            "2.16.840.1.101.3.4.2.2" => Hash::Sha384,
            "2.16.840.1.101.3.4.2.3" => Hash::Sha512,
            "2.16.840.1.101.3.4.2.7" => Hash::Sha3_224,
            "2.16.840.1.101.3.4.2.8" => Hash::Sha3_256,
            "2.16.840.1.101.3.4.2.9" => Hash::Sha3_384,
            "2.16.840.1.101.3.4.2.10" => Hash::Sha3_512,
            // id-shake256, and id-shake256-len (RFC 8702), whose length
            // with Ed448 can only be 512 bits (RFC 8419).
            "2.16.840.1.101.3.4.2.12" | "2.16.840.1.101.3.4.2.18" => Hash::Shake256,
            _ => return None,
        })
    }

    pub(crate) fn digest(self, data: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(data: &[&[u8]]) -> Vec<u8> {
            let mut h = D::new();
            for d in data {
                h.update(d);
            }
            h.finalize().to_vec()
        }
        match self {
            Hash::Sha1 => run::<sha1::Sha1>(data),
            Hash::Sha224 => run::<sha2::Sha224>(data),
            Hash::Sha256 => run::<sha2::Sha256>(data),
            Hash::Sha384 => run::<sha2::Sha384>(data),
            Hash::Sha512 => run::<sha2::Sha512>(data),
            Hash::Sha3_224 => run::<sha3::Sha3_224>(data),
            Hash::Sha3_256 => run::<sha3::Sha3_256>(data),
            Hash::Sha3_384 => run::<sha3::Sha3_384>(data),
            Hash::Sha3_512 => run::<sha3::Sha3_512>(data),
            Hash::Shake256 => {
                use ed448_goldilocks::shake::{ExtendableOutput, Update, XofReader};
                let mut h = ed448_goldilocks::shake::Shake256::default();
                for d in data {
                    h.update(d);
                }
                let mut out = vec![0u8; 64];
                h.finalize_xof().read(&mut out);
                out
            }
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Hash::Sha1 => "SHA-1",
            Hash::Sha224 => "SHA-224",
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
            Hash::Sha3_224 => "SHA3-224",
            Hash::Sha3_256 => "SHA3-256",
            Hash::Sha3_384 => "SHA3-384",
            Hash::Sha3_512 => "SHA3-512",
            Hash::Shake256 => "SHAKE256",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    RsaPkcs1,
    RsaPss,
    Ecdsa,
    /// FIPS 186 DSA (1024/160 to 3072/256).
    Dsa,
    /// RFC 8032 pure Ed25519: it signs the message itself, never a digest
    /// (the `hash` beside it is what CMS digests the content with).
    Ed25519,
    /// RFC 8032 pure Ed448, likewise (CMS digests with SHAKE256).
    Ed448,
}

/// A resolved signature algorithm: scheme and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Algorithm {
    pub scheme: Scheme,
    pub hash: Hash,
}

impl Algorithm {
    /// From a signature algorithm OID and its parameters. `digest_hint` is
    /// the CMS digestAlgorithm, needed when the signature algorithm names
    /// only the key type (`rsaEncryption`, `ecPublicKey`).
    pub(crate) fn resolve(
        sig_alg: &str,
        params: Option<&[u8]>,
        digest_hint: Option<&str>,
    ) -> Result<Algorithm, VerifyError> {
        let hint = || {
            digest_hint.and_then(Hash::from_oid).ok_or_else(|| {
                VerifyError::Unsupported(format!("{sig_alg} without a usable digest algorithm"))
            })
        };
        let (scheme, hash) = match sig_alg {
            "1.2.840.113549.1.1.1" => (Scheme::RsaPkcs1, hint()?),
            "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => (Scheme::RsaPkcs1, Hash::Sha1),
            "1.2.840.113549.1.1.14" => (Scheme::RsaPkcs1, Hash::Sha224),
            "1.2.840.113549.1.1.11" => (Scheme::RsaPkcs1, Hash::Sha256),
            "1.2.840.113549.1.1.12" => (Scheme::RsaPkcs1, Hash::Sha384),
            "1.2.840.113549.1.1.13" => (Scheme::RsaPkcs1, Hash::Sha512),
            "1.2.840.113549.1.1.10" => (Scheme::RsaPss, pss_hash(params)?),
            "1.2.840.10045.2.1" => (Scheme::Ecdsa, hint()?),
            "1.2.840.10045.4.1" => (Scheme::Ecdsa, Hash::Sha1),
            "1.2.840.10045.4.3.1" => (Scheme::Ecdsa, Hash::Sha224),
            "1.2.840.10045.4.3.2" => (Scheme::Ecdsa, Hash::Sha256),
            "1.2.840.10045.4.3.3" => (Scheme::Ecdsa, Hash::Sha384),
            "1.2.840.10045.4.3.4" => (Scheme::Ecdsa, Hash::Sha512),
            // BSI plain-ECDSA (r||s), used by German signature cards.
            "0.4.0.127.0.7.1.1.4.1.1" => (Scheme::Ecdsa, Hash::Sha1),
            "0.4.0.127.0.7.1.1.4.1.3" => (Scheme::Ecdsa, Hash::Sha256),
            "0.4.0.127.0.7.1.1.4.1.4" => (Scheme::Ecdsa, Hash::Sha384),
            "0.4.0.127.0.7.1.1.4.1.5" => (Scheme::Ecdsa, Hash::Sha512),
            "2.16.840.1.101.3.4.3.10" => (Scheme::Ecdsa, Hash::Sha3_256),
            "2.16.840.1.101.3.4.3.11" => (Scheme::Ecdsa, Hash::Sha3_384),
            "2.16.840.1.101.3.4.3.12" => (Scheme::Ecdsa, Hash::Sha3_512),
            "2.16.840.1.101.3.4.3.14" => (Scheme::RsaPkcs1, Hash::Sha3_256),
            "2.16.840.1.101.3.4.3.15" => (Scheme::RsaPkcs1, Hash::Sha3_384),
            "2.16.840.1.101.3.4.3.16" => (Scheme::RsaPkcs1, Hash::Sha3_512),
            "1.2.840.10040.4.1" => (Scheme::Dsa, hint()?),
            "1.2.840.10040.4.3" => (Scheme::Dsa, Hash::Sha1),
            "2.16.840.1.101.3.4.3.1" => (Scheme::Dsa, Hash::Sha224),
            "2.16.840.1.101.3.4.3.2" => (Scheme::Dsa, Hash::Sha256),
            "2.16.840.1.101.3.4.3.3" => (Scheme::Dsa, Hash::Sha384),
            "2.16.840.1.101.3.4.3.4" => (Scheme::Dsa, Hash::Sha512),
            "1.3.101.112" => (Scheme::Ed25519, Hash::Sha512),
            "1.3.101.113" => (Scheme::Ed448, Hash::Shake256),
            // Broken digests: never verified, and said so.
            "1.2.840.113549.1.1.4" | "1.2.840.113549.1.1.2" => {
                return Err(VerifyError::Unsupported(format!(
                    "{}: a broken algorithm, not verified",
                    crate::asn1::oids::algorithm_name(sig_alg)
                )));
            }
            other => {
                return Err(VerifyError::Unsupported(
                    crate::asn1::oids::algorithm_name(other).to_owned(),
                ));
            }
        };
        Ok(Algorithm { scheme, hash })
    }
}

/// RSASSA-PSS-params: `[0] hashAlgorithm` (default SHA-1).
fn pss_hash(params: Option<&[u8]>) -> Result<Hash, VerifyError> {
    let Some(params) = params else { return Ok(Hash::Sha1) };
    let bad = |_| VerifyError::Unsupported("malformed RSA-PSS parameters".into());
    let seq = Tlv::parse(params).map_err(bad)?;
    for field in seq.children() {
        let field = field.map_err(bad)?;
        if field.tag == tag::context(0) {
            let alg = field.children().need("hashAlgorithm").map_err(bad)?;
            let oid = alg.children().need("algorithm").map_err(bad)?;
            let dotted = oid_string(oid.body);
            return Hash::from_oid(&dotted)
                .ok_or(VerifyError::Unsupported(format!("RSA-PSS with {dotted}")));
        }
    }
    Ok(Hash::Sha1)
}

/// Verifies `signature` over a message whose digest (with `alg.hash`) is
/// `digest`, with the key in `spki_der`.
pub(crate) fn verify_prehashed(
    alg: Algorithm,
    spki_der: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let (_, spki) =
        SubjectPublicKeyInfo::from_der(spki_der).map_err(|e| VerifyError::BadKey(e.to_string()))?;
    let key = spki.parsed().map_err(|e| VerifyError::BadKey(e.to_string()))?;
    match (alg.scheme, key) {
        (Scheme::RsaPkcs1 | Scheme::RsaPss, ParsedKey::RSA(_)) if alg.hash == Hash::Shake256 => {
            Err(VerifyError::Unsupported("RSA with SHAKE256".into()))
        }
        (Scheme::RsaPkcs1 | Scheme::RsaPss, ParsedKey::RSA(rsa_key)) => {
            let key = rsa_public_key(rsa_key.modulus, rsa_key.exponent)?;
            if alg.scheme == Scheme::RsaPss {
                return verify_pss(&key, alg.hash, digest, signature);
            }
            let with_null = pkcs1_padding(alg.hash);
            if key.verify(with_null.clone(), digest, signature).is_ok() {
                return Ok(());
            }
            // Some signers omit the NULL in DigestInfo (RFC 4055 style).
            let without_null = Pkcs1v15Sign {
                hash_len: with_null.hash_len,
                prefix: digest_info_prefix(alg.hash, false).into(),
            };
            key.verify(without_null, digest, signature).map_err(|_| VerifyError::Mismatch)
        }
        (Scheme::Ecdsa, ParsedKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string())
                .ok_or_else(|| VerifyError::BadKey("EC key without named curve".into()))?;
            verify_ecdsa(&curve, point.data(), digest, signature)
        }
        (Scheme::Dsa, ParsedKey::DSA(y)) => verify_dsa(
            spki.algorithm.parameters.as_ref().map(|p| p.as_bytes()),
            y,
            digest,
            signature,
        ),
        (Scheme::Ed25519 | Scheme::Ed448, _) => Err(VerifyError::Unsupported(format!(
            "{:?} over a digest (it signs the message itself)",
            alg.scheme
        ))),
        (scheme, other) => Err(VerifyError::BadKey(format!(
            "{scheme:?} signature with a {} key",
            key_kind(&other)
        ))),
    }
}

/// Verifies `signature` over `message` (hashed first, except for EdDSA,
/// which signs the message itself).
pub(crate) fn verify_message(
    alg: Algorithm,
    spki_der: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    match alg.scheme {
        Scheme::Ed25519 => return verify_ed25519(spki_der, message, signature),
        Scheme::Ed448 => return verify_ed448(spki_der, message, signature),
        _ => {}
    }
    verify_prehashed(alg, spki_der, &alg.hash.digest(&[message]), signature)
}

fn verify_ed25519(spki_der: &[u8], message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    let (_, spki) =
        SubjectPublicKeyInfo::from_der(spki_der).map_err(|e| VerifyError::BadKey(e.to_string()))?;
    if spki.algorithm.algorithm.to_id_string() != "1.3.101.112" {
        return Err(VerifyError::BadKey("Ed25519 signature with another kind of key".into()));
    }
    let key: &[u8; 32] = spki
        .subject_public_key
        .data
        .as_ref()
        .try_into()
        .map_err(|_| VerifyError::BadKey("Ed25519 key not 32 bytes".into()))?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(key)
        .map_err(|e| VerifyError::BadKey(e.to_string()))?;
    let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| VerifyError::Mismatch)?;
    key.verify_strict(message, &sig).map_err(|_| VerifyError::Mismatch)
}

fn verify_ed448(spki_der: &[u8], message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    let (_, spki) =
        SubjectPublicKeyInfo::from_der(spki_der).map_err(|e| VerifyError::BadKey(e.to_string()))?;
    if spki.algorithm.algorithm.to_id_string() != "1.3.101.113" {
        return Err(VerifyError::BadKey("Ed448 signature with another kind of key".into()));
    }
    let bytes: &[u8; 57] = spki
        .subject_public_key
        .data
        .as_ref()
        .try_into()
        .map_err(|_| VerifyError::BadKey("Ed448 key not 57 bytes".into()))?;
    let key = ed448_goldilocks::VerifyingKey::from_bytes(bytes)
        .map_err(|e| VerifyError::BadKey(format!("{e:?}")))?;
    let sig =
        ed448_goldilocks::Signature::from_slice(signature).map_err(|_| VerifyError::Mismatch)?;
    key.verify_raw(&sig, message).map_err(|_| VerifyError::Mismatch)
}

/// DSA: the domain parameters (Dss-Parms: p, q, g) come from the key's
/// algorithm; `y` is the key's INTEGER; the signature is DER (r, s) as in
/// CMS, or r‖s as in XMLDSig.
fn verify_dsa(
    params: Option<&[u8]>,
    y: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let bad = |why: &str| VerifyError::BadKey(format!("DSA key: {why}"));
    let int = |body: &[u8]| {
        let body: Vec<u8> = body.iter().skip_while(|&&b| b == 0).copied().collect();
        BoxedUint::from_be_slice(&body, (body.len().max(1) * 8) as u32).map_err(|_| bad("integer"))
    };
    // The parser hands over the parameters' SEQUENCE body: wrap it again.
    let body = params.ok_or_else(|| bad("no domain parameters"))?;
    let mut params = vec![tag::SEQUENCE];
    crate::asn1::ber::push_len(&mut params, body.len());
    params.extend_from_slice(body);
    let seq = Tlv::parse(&params).map_err(|_| bad("parameters"))?;
    let mut fields = seq.children();
    let mut next =
        || fields.need("p, q, g").map_err(|_| bad("parameters")).and_then(|f| int(f.body));
    let components = dsa::Components::from_components(next()?, next()?, next()?)
        .map_err(|_| bad("unsupported sizes"))?;
    // `y` arrives as the INTEGER's encoding or, from some parsers, its body.
    let y = match Tlv::parse(y) {
        Ok(t) if t.tag == tag::INTEGER => int(t.body)?,
        _ => int(y)?,
    };
    let key = dsa::VerifyingKey::from_components(components, y).map_err(|_| bad("invalid"))?;
    let (r, s) = match Tlv::parse(signature) {
        Ok(seq) if seq.tag == tag::SEQUENCE => {
            let mut f = seq.children();
            let mut next = || {
                f.need("r, s")
                    .map_err(|_| VerifyError::Mismatch)
                    .and_then(|t| int(t.body).map_err(|_| VerifyError::Mismatch))
            };
            (next()?, next()?)
        }
        _ => {
            let half = signature.len() / 2;
            (int(&signature[..half])?, int(&signature[half..])?)
        }
    };
    let sig = dsa::Signature::from_components(r, s).ok_or(VerifyError::Mismatch)?;
    key.verify_prehash(digest, &sig).map_err(|_| VerifyError::Mismatch)
}

fn key_kind(k: &ParsedKey<'_>) -> &'static str {
    match k {
        ParsedKey::RSA(_) => "RSA",
        ParsedKey::EC(_) => "EC",
        ParsedKey::DSA(_) => "DSA",
        ParsedKey::GostR3410(_) | ParsedKey::GostR3410_2012(_) => "GOST",
        ParsedKey::Unknown(_) => "unknown",
    }
}

fn rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Result<rsa::PublicKey, VerifyError> {
    let strip = |b: &[u8]| -> Vec<u8> { b.iter().skip_while(|&&x| x == 0).copied().collect() };
    let (n, e) = (strip(modulus), strip(exponent));
    let bits = |v: &[u8]| (v.len().max(1) * 8) as u32;
    let n = BoxedUint::from_be_slice(&n, bits(&n))
        .map_err(|e| VerifyError::BadKey(format!("{e:?}")))?;
    let e = BoxedUint::from_be_slice(&e, bits(&e))
        .map_err(|e| VerifyError::BadKey(format!("{e:?}")))?;
    // Legacy documents carry 512/768-bit keys: verify them, the report flags them.
    rsa::PublicKey::new_with_size_limits(n, e, 512..=16384)
        .map_err(|e| VerifyError::BadKey(e.to_string()))
}

fn pkcs1_padding(hash: Hash) -> Pkcs1v15Sign {
    match hash {
        Hash::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
        Hash::Sha224 => Pkcs1v15Sign::new::<sha2::Sha224>(),
        Hash::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
        Hash::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
        Hash::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
        Hash::Sha3_224 => Pkcs1v15Sign::new::<sha3::Sha3_224>(),
        Hash::Sha3_256 => Pkcs1v15Sign::new::<sha3::Sha3_256>(),
        Hash::Sha3_384 => Pkcs1v15Sign::new::<sha3::Sha3_384>(),
        Hash::Sha3_512 | Hash::Shake256 => Pkcs1v15Sign::new::<sha3::Sha3_512>(),
    }
}

/// DigestInfo prefix, optionally without the NULL parameters.
fn digest_info_prefix(hash: Hash, with_null: bool) -> Vec<u8> {
    let oid: &[u8] = match hash {
        Hash::Sha1 => &[0x2b, 0x0e, 0x03, 0x02, 0x1a],
        Hash::Sha224 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04],
        Hash::Sha256 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
        Hash::Sha384 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02],
        Hash::Sha512 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03],
        Hash::Sha3_224 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x07],
        Hash::Sha3_256 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x08],
        Hash::Sha3_384 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x09],
        Hash::Sha3_512 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x0a],
        Hash::Shake256 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x0c],
    };
    let hash_len = hash.digest(&[]).len();
    let mut alg = vec![0x06, oid.len() as u8];
    alg.extend_from_slice(oid);
    if with_null {
        alg.extend_from_slice(&[0x05, 0x00]);
    }
    let mut out = vec![0x30, (alg.len() + 2 + 2 + hash_len) as u8, 0x30, alg.len() as u8];
    out.extend(alg);
    out.extend([0x04, hash_len as u8]);
    out
}

fn verify_pss(
    key: &rsa::PublicKey,
    hash: Hash,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    fn run<D: Digest + sha2::digest::FixedOutputReset + 'static>(
        key: &rsa::PublicKey,
        digest: &[u8],
        signature: &[u8],
    ) -> bool {
        let pss = rsa::Pss::<D> { blinded: false, digest: D::new(), salt_len: None };
        key.verify(pss, digest, signature).is_ok()
    }
    let ok = match hash {
        Hash::Sha1 => run::<sha1::Sha1>(key, digest, signature),
        Hash::Sha224 => run::<sha2::Sha224>(key, digest, signature),
        Hash::Sha256 => run::<sha2::Sha256>(key, digest, signature),
        Hash::Sha384 => run::<sha2::Sha384>(key, digest, signature),
        Hash::Sha512 => run::<sha2::Sha512>(key, digest, signature),
        Hash::Sha3_224 => run::<sha3::Sha3_224>(key, digest, signature),
        Hash::Sha3_256 => run::<sha3::Sha3_256>(key, digest, signature),
        Hash::Sha3_384 => run::<sha3::Sha3_384>(key, digest, signature),
        Hash::Sha3_512 | Hash::Shake256 => run::<sha3::Sha3_512>(key, digest, signature),
    };
    if ok { Ok(()) } else { Err(VerifyError::Mismatch) }
}

fn verify_ecdsa(
    curve: &str,
    point: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    macro_rules! check {
        ($curve:ty) => {{
            let key = ecdsa::VerifyingKey::<$curve>::from_sec1_bytes(point)
                .map_err(|e| VerifyError::BadKey(e.to_string()))?;
            let sig = ecdsa::Signature::<$curve>::from_der(signature)
                .or_else(|_| ecdsa::Signature::<$curve>::from_slice(signature))
                .map_err(|_| VerifyError::Mismatch)?;
            key.verify_prehash(digest, &sig).map_err(|_| VerifyError::Mismatch)
        }};
    }
    match curve {
        "1.2.840.10045.3.1.7" => check!(p256::NistP256),
        "1.3.132.0.34" => check!(p384::NistP384),
        "1.3.132.0.35" => check!(p521::NistP521),
        "1.3.36.3.3.2.8.1.1.7" => check!(bp256::BrainpoolP256r1),
        "1.3.36.3.3.2.8.1.1.11" => check!(bp384::BrainpoolP384r1),
        "1.3.36.3.3.2.8.1.1.13" => {
            let (r, s) = ecdsa_r_s(signature, 64).ok_or(VerifyError::Mismatch)?;
            brainpool512::verify(point, digest, &r, &s).map_err(|e| match e {
                brainpool512::Failure::BadKey => {
                    VerifyError::BadKey("not a brainpoolP512r1 point".into())
                }
                brainpool512::Failure::Mismatch => VerifyError::Mismatch,
            })
        }
        other => Err(VerifyError::Unsupported(format!("ECDSA on curve {other}"))),
    }
}

/// An ECDSA signature's (r, s): DER `SEQUENCE { INTEGER, INTEGER }`, or
/// the plain r‖s of `size`-byte halves (BSI TR-03111).
fn ecdsa_r_s(signature: &[u8], size: usize) -> Option<(Vec<u8>, Vec<u8>)> {
    if signature.len() == 2 * size && signature.first() != Some(&tag::SEQUENCE) {
        return Some((signature[..size].to_vec(), signature[size..].to_vec()));
    }
    let seq = Tlv::parse(signature).ok().filter(|t| t.tag == tag::SEQUENCE)?;
    let mut ints = seq.children();
    let (r, s) = (ints.next()?.ok()?, ints.next()?.ok()?);
    (r.tag == tag::INTEGER && s.tag == tag::INTEGER && ints.next().is_none())
        .then(|| (r.body.to_vec(), s.body.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_info_prefix_matches_the_crate() {
        for h in [
            Hash::Sha1,
            Hash::Sha256,
            Hash::Sha384,
            Hash::Sha512,
            Hash::Sha224,
            Hash::Sha3_224,
            Hash::Sha3_256,
            Hash::Sha3_384,
            Hash::Sha3_512,
        ] {
            assert_eq!(&*pkcs1_padding(h).prefix, digest_info_prefix(h, true).as_slice(), "{h:?}");
        }
    }

    #[test]
    fn resolves_algorithms() {
        assert_eq!(
            Algorithm::resolve("1.2.840.113549.1.1.11", None, None).unwrap().hash,
            Hash::Sha256
        );
        let a = Algorithm::resolve("1.2.840.113549.1.1.1", None, Some("2.16.840.1.101.3.4.2.3"))
            .unwrap();
        assert_eq!((a.scheme, a.hash), (Scheme::RsaPkcs1, Hash::Sha512));
        assert_eq!(Algorithm::resolve("1.3.101.113", None, None).unwrap().scheme, Scheme::Ed448);
        assert!(
            Algorithm::resolve("1.2.840.113549.1.1.4", None, None)
                .unwrap_err()
                .to_string()
                .contains("broken"),
            "MD5 with RSA"
        );
        assert!(Algorithm::resolve("1.2.840.113549.1.1.1", None, None).is_err());
    }
}
