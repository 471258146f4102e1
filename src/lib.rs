//! sigaudit: which CA signs a province's documents.
//!
//! The data flows one way: source (files, mailboxes, IMAP) -> item (bytes
//! and where they were found) -> the format's parser and verifier ->
//! signature -> chain and classification -> finding -> tables ->
//! reports and history. The modules are layered the same way: a module
//! may use only modules of a lower layer (`tests/layers.rs` fails on any
//! import against this order, so the compiler's module graph and this
//! table cannot drift apart).
//!
//! ```text
//! layer  modules                        what they are
//! 0      asn1 sys                       one BER/DER reader, object identifiers, PEM; what differs between Unix and Windows
//! 1      crypto uri messages budget     signature verification; percent-coding; errors.csv rows; per-unit time and memory
//! 2      cert                           certificate facts, decoded once
//! 3      model                          plain data: signature, extraction, finding, verdicts, scan result
//! 4      rules                          the TOML rules: CA catalogue and pins, agency map
//! 5      source                         crawl, read without touching, IMAP: items
//! 6      formats                        pdf, cms, mail, msg, xml, zip: each parses and verifies its format
//! 7      trust                          anchors, chain building, RFC 5280 rules, validity at signing
//! 8      classify agency                a CA's class; an agency for a place or a signer
//! 9      aggregate                      per agency, signer, month
//! 10     history                        the scan history (Store, SQLite), read from the model
//! 11     report                         CSV, JSON, HTML, the report folder
//! 12     scan                           the pipeline, in parallel (owns the Cache trait)
//! 13     session inspect fetch progress a scan's life with its history; one file for people; anchors download; the progress bar
//! 14     cli                            flags into options (main.rs only dispatches)
//! ```

pub mod agency;
pub mod aggregate;
pub mod asn1;
pub mod budget;
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
pub mod progress;
pub mod report;
pub mod rules;
pub mod scan;
pub mod session;
pub mod source;
pub mod sys;
pub mod trust;
pub mod uri;

/// This build's version, as runs and reports record it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
