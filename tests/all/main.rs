//! The integration tests, one binary (as ripgrep's tests/tests.rs): each
//! module is an area and runs the real `sigaudit` binary on real files.
//! One binary links the crate once: 27 binaries linked it 27 times.
//! A new area is a file here and a `mod` line below.

mod common;

mod algorithms;
mod attribution;
mod cache;
mod chain;
mod config;
mod corpus;
mod difference_analysis;
mod differential;
mod history;
mod hostile;
mod html;
mod imap;
mod integrity;
mod io_ops;
mod layers;
mod limbo;
mod mail;
mod malformed;
mod messy;
mod package;
mod pdf_attacks;
mod pdfsig;
mod postgres;
mod pyhanko;
mod robustness;
mod rules_cli;
mod safety;
mod samples;
mod usage_rights;
mod vgca;
mod windows;
mod xml;
