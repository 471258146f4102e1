//! What was found: one signature with its certificates and signed facts,
//! whatever container it came from.

pub mod ber;
pub mod cms;
pub mod oids;
