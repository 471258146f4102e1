//! ASN.1 as sigaudit reads it: one BER/DER reader that keeps the original
//! bytes (signatures are verified over them), object identifiers, and PEM.
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files     what they hold
//! 0      ber oids  the BER/DER reader keeping original bytes; object identifiers
//! 1      pem       PEM and lenient base64, decoded into BER
//! ```

pub(crate) mod ber;
pub(crate) mod oids;
pub(crate) mod pem;
