//! Who vouches for a signer: certificate chains and their cryptographic links.

pub mod crypto;
