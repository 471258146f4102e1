//! Where bytes come from: the crawl of directories and files given as
//! SOURCE arguments, and reading them without touching them.
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files           what they hold
//! 0      dir imap read   folders as handles; IMAP mailboxes; reading without touching
//! 1      walk            the crawl
//! ```

pub(crate) mod dir;
pub(crate) mod imap;
pub(crate) mod read;
pub(crate) mod walk;

pub(crate) use dir::{Medium, medium};
pub(crate) use read::{ReadLimits, open_noatime};
pub(crate) use walk::{Input, WalkOptions, WalkSink, walk_parallel};

/// Why a source could not be read: the source layer's one error type.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The server sent nothing for the whole timeout while sigaudit waited.
    #[error("the server stopped answering ({what}: nothing received for {secs} s, --imap-timeout)")]
    Stalled { what: &'static str, secs: u64 },
    /// The server kept answering past a bound: the mailbox's time budget, or
    /// more responses than it has messages.
    #[error("{0}")]
    OverBudget(String),
    /// The server answered with an error, or the connection failed.
    #[error("{0}")]
    Refused(String),
    /// A SOURCE argument that is not a usable IMAP URL.
    #[error("{0}")]
    BadUrl(String),
}

impl From<String> for SourceError {
    fn from(e: String) -> SourceError {
        SourceError::Refused(e)
    }
}
