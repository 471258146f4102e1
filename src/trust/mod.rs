//! Who vouches for a signer: certificate chains and their cryptographic links.
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files       what they hold
//! 0      rfc5280     RFC 5280 rules for one link (issuer to subject), verify_link
//! 1      revocation  revocation data carried in the file (CRLs, OCSP)
//! 2      anchors     the anchor store: pinned and folder certificates
//! 3      chain       chain building with backtracking
//! 4      validity    validity at signing time
//! ```

pub(crate) mod anchors;
pub(crate) mod chain;
pub(crate) mod revocation;
pub(crate) mod rfc5280;
pub(crate) mod validity;

pub use anchors::AnchorStore;
