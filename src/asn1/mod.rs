//! ASN.1 as sigaudit reads it: one BER/DER reader that keeps the original
//! bytes (signatures are verified over them), object identifiers, and PEM.

pub mod ber;
pub mod oids;
pub mod pem;
