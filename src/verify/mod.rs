//! Verification: does each signature hold? Integrity of what was signed
//! (CMS digest and signature value), PDF coverage and later changes, and
//! the signer's certificate at signing time. Containers pass the signed
//! bytes in; mail, XML and Office signatures plug into the same code.

pub mod cms;
pub mod pdf;
pub mod validity;
