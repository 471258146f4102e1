//! Who vouches for a signer: certificate chains and their cryptographic links.

pub mod anchors;
pub mod chain;
pub mod revocation;
pub mod rfc5280;
pub mod validity;

pub use anchors::AnchorStore;
