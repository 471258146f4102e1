//! sigaudit: which CA signs a province's documents.
//!
//! The data flows one way: source (files, mailboxes, IMAP) -> item (bytes
//! and where they were found) -> the format's parser and verifier ->
//! signature -> chain and classification -> finding -> tables ->
//! reports and history. The modules are layered the same way: a module
//! may use only modules of a lower layer (`tests/all/layers.rs` fails on any
//! import against this order, so the compiler's module graph and this
//! table cannot drift apart). Inside a module, a folder of several files
//! orders them the same way, in a table at the top of its `mod.rs`, held
//! by the same test; README's layout table is checked against this one.
//!
//! ```text
//! layer  modules                         what they are
//! 0      asn1 sys                        one BER/DER reader, object identifiers, PEM; what differs
//!                                        between Unix and Windows
//! 1      crypto uri messages budget      signature verification; percent-coding; errors.csv rows;
//!                                        per-unit time and memory
//! 2      cert                            certificate facts, decoded once
//! 3      model                           plain data: signature, extraction, finding, verdicts,
//!                                        scan result
//! 4      rules verdict                   the TOML rules: CA catalogue and pins, agency map;
//!                                        verdicts from typed evidence
//! 5      source                          crawl, read without touching, IMAP: items
//! 6      formats                         pdf, cms, mail, msg, xml, zip: each parses and verifies
//!                                        its format
//! 7      trust                           anchors, chain building, RFC 5280 rules, validity at
//!                                        signing
//! 8      classify agency                 a CA's class; an agency for a place or a signer
//! 9      aggregate                       per agency, signer, month
//! 10     history                         the scan history (Store, SQLite), read from the model
//! 11     report                          CSV, JSON, HTML, the report folder
//! 12     scan                            the pipeline, in parallel (owns the Cache trait)
//! 13     session inspect fetch progress  a scan's life with its history; one file for people;
//!                                        anchors download; the progress bar
//! 14     config                          the configuration file (TOML), checked with file:line:col
//! 15     cli                             flags and the configuration file lowered into options
//! 16     app                             a command's life: signals, workers, history, exit codes
//!                                        (main.rs only dispatches)
//! ```

#![warn(unreachable_pub)]
// Functions that fit a review (issue 27): over 100 lines is a warning,
// -D warnings in CI; the few from before carry an #[expect] to be split.
#![warn(clippy::too_many_lines)]

mod agency;
mod aggregate;
mod app;
mod asn1;
mod budget;
mod cert;
mod classify;
mod cli;
mod config;
mod crypto;
mod fetch;
mod formats;
mod history;
mod inspect;
mod messages;
mod model;
mod progress;
mod report;
mod rules;
mod scan;
mod session;
mod source;
mod sys;
mod trust;
mod uri;
mod verdict;

/// This build's version, as runs and reports record it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

// The library's API: every module above is private, and this list is all
// that `src/main.rs`, the integration tests (`tests/all`) and the fuzz
// targets (`fuzz/`) may use. Anything else is the crate's own business, so
// the compiler reports what nothing uses, and an internal change is not an
// API change. Add here only what one of those three needs.

// The program (src/main.rs).
pub use app::main;
pub use budget::Counting;

// A scan driven from code: the pipeline, its options and its cache.
pub use budget::UnitBudget;
pub use formats::Limits;
pub use history::stored::VERSION as STORED_VERSION;
pub use model::extraction::Extraction;
pub use model::result::{Dependency, ScanResult};
pub use model::verdict::Attribution;
pub use rules::{CaClass, CaEntry, Catalogue, Pin, PinRole, Rules};
pub use scan::{Cache, Progress, ScanOptions, run as run_scan};
pub use session::cache_key;
pub use source::read::ReadLimits;
pub use trust::AnchorStore;

// Pieces the tests compare with other tools (OpenSSL, xmllint, pdfsig,
// x509-limbo) one by one.
pub use asn1::ber::{Tlv, hex, oid_string};
pub use asn1::pem::blocks as pem_blocks;
pub use cert::{Cert, certificates_in};
pub use classify::classify;
pub use formats::cms::signed_data::{SignedData, SignerId};
pub use formats::pdf::extract as extract_pdf;
pub use formats::pdf::raw::scan as scan_pdf_bytes;
pub use formats::xml::c14n::{Method as C14nMethod, Options as C14nOptions, canonicalize};
pub use formats::xml::tree::Doc as XmlDoc;
pub use model::verdict::ChainStatus;
pub use trust::rfc5280::signer_problems;
pub use trust::validity::valid_at_signing;

// The fuzz targets' bodies (fuzz/fuzz_targets), replayed by the tests.
pub use formats::fuzz;
