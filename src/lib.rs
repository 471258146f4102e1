//! sigaudit: which CA signs a province's documents.
//!
//! The data flows one way, and the modules follow it:
//!
//! ```text
//! source   (crawl, read without touching)          -> files
//! extract  (pdf, pdf_raw, cms_file)                -> signature::Signature
//! trust + classify (chains, pins, rules)           -> classify::Classification
//! agency + finding                                 -> finding::Finding
//! aggregate                                        -> per agency / signer / month
//! report   (CSV, JSON, HTML)
//! ```
//!
//! `rules` holds the data that drives classification and attribution;
//! `messages` the non-fatal problems that become errors.csv rows; `scan`
//! runs the pipeline in parallel; `cli` turns flags into its options.

pub mod agency;
pub mod asn1;
pub mod aggregate;
pub mod cert;
pub mod classify;
pub mod cli;
pub mod crypto;
pub mod fetch;
pub mod formats;
pub mod history;
pub mod inspect;
pub mod messages;
pub mod model;
pub mod report;
pub mod rules;
pub mod scan;
pub mod session;
pub mod source;
pub mod trust;
pub mod uri;

/// This build's version, as runs and reports record it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
