//! Object identifiers, as content octets, so they compare against raw BER.
//! Written in dotted form beside each for the reader.

use der::asn1::ObjectIdentifier as Oid;

macro_rules! oids {
    ($($name:ident = $dotted:literal;)*) => {
        $(pub(crate) const $name: Oid = Oid::new_unwrap($dotted);)*
    };
}

oids! {
    SIGNED_DATA = "1.2.840.113549.1.7.2";
    TST_INFO = "1.2.840.113549.1.9.16.1.4";
    CONTENT_TYPE = "1.2.840.113549.1.9.3";
    MESSAGE_DIGEST = "1.2.840.113549.1.9.4";
    SIGNING_TIME = "1.2.840.113549.1.9.5";
    COUNTER_SIGNATURE = "1.2.840.113549.1.9.6";
    SIGNATURE_TIMESTAMP = "1.2.840.113549.1.9.16.2.14";
    // Adobe's signed attribute carrying CRLs and OCSP responses (PDF signatures).
    ADBE_REVOCATION_INFO_ARCHIVAL = "1.2.840.113583.1.1.8";
    // RFC 5940: an OCSP response among a SignedData's revocation data.
    RI_OCSP_RESPONSE = "1.3.6.1.5.5.7.16.2";
    OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1";
}

/// True when the OBJECT IDENTIFIER content octets `body` are `oid`.
pub(crate) fn is(body: &[u8], oid: &Oid) -> bool {
    body == oid.as_bytes()
}

/// A readable name for digest and signature algorithms, for notes and inspect.
pub(crate) fn algorithm_name(dotted: &str) -> &str {
    match dotted {
        "1.3.14.3.2.26" => "SHA-1",
        "2.16.840.1.101.3.4.2.1" => "SHA-256",
        "2.16.840.1.101.3.4.2.2" => "SHA-384",
        "2.16.840.1.101.3.4.2.3" => "SHA-512",
        "2.16.840.1.101.3.4.2.4" => "SHA-224",
        "1.2.840.113549.2.5" => "MD5",
        "1.2.840.113549.2.2" => "MD2",
        "2.16.840.1.101.3.4.2.7" => "SHA3-224",
        "2.16.840.1.101.3.4.2.8" => "SHA3-256",
        "2.16.840.1.101.3.4.2.9" => "SHA3-384",
        "2.16.840.1.101.3.4.2.10" => "SHA3-512",
        "2.16.840.1.101.3.4.2.11" => "SHAKE128",
        "1.2.840.113549.1.1.2" => "MD2 with RSA",
        "1.2.840.10040.4.1" => "DSA",
        "1.2.840.10040.4.3" => "DSA with SHA-1",
        "2.16.840.1.101.3.4.3.2" => "DSA with SHA-256",
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.113549.1.1.4" => "MD5 with RSA",
        "1.2.840.113549.1.1.5" => "SHA-1 with RSA",
        "1.2.840.113549.1.1.10" => "RSA-PSS",
        "1.2.840.113549.1.1.11" => "SHA-256 with RSA",
        "1.2.840.113549.1.1.12" => "SHA-384 with RSA",
        "1.2.840.113549.1.1.13" => "SHA-512 with RSA",
        "1.2.840.113549.1.1.14" => "SHA-224 with RSA",
        "1.2.840.10045.2.1" => "ECDSA",
        "1.2.840.10045.4.1" => "ECDSA with SHA-1",
        "1.2.840.10045.4.3.2" => "ECDSA with SHA-256",
        "1.2.840.10045.4.3.3" => "ECDSA with SHA-384",
        "1.2.840.10045.4.3.4" => "ECDSA with SHA-512",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "2.16.840.1.101.3.4.2.12" => "SHAKE256",
        other => other,
    }
}
