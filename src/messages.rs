//! Non-fatal problems: every input that could not be read or parsed
//! becomes one of these, and one row of errors.csv. Nothing is skipped
//! silently, and nothing here stops a scan.

use serde::{Deserialize, Serialize};

/// The step at which an input failed, for the `stage` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Listing a directory or following a link.
    Walk,
    /// The file name itself (not valid UTF-8).
    Path,
    /// Opening or reading the file.
    Read,
    /// PDF structure.
    Pdf,
    /// CMS / PKCS#7 structure.
    Cms,
    /// MIME messages and mailboxes.
    Mail,
    /// XML documents (XMLDSig, XAdES, packages).
    Xml,
    /// ZIP archives, Outlook .msg and TNEF containers.
    Archive,
    /// An IMAP server.
    Imap,
    /// A signature whose signer certificate cannot be identified.
    Signer,
    /// Size or nesting limits.
    Limit,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Walk => "walk",
            Stage::Path => "path",
            Stage::Read => "read",
            Stage::Pdf => "pdf",
            Stage::Cms => "cms",
            Stage::Mail => "mail",
            Stage::Xml => "xml",
            Stage::Archive => "archive",
            Stage::Imap => "imap",
            Stage::Signer => "signer",
            Stage::Limit => "limit",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ErrorRow {
    pub file: String,
    pub member: String,
    pub stage: Stage,
    pub error: String,
}

impl ErrorRow {
    pub fn new(
        file: impl Into<String>,
        member: impl Into<String>,
        stage: Stage,
        error: impl Into<String>,
    ) -> ErrorRow {
        ErrorRow { file: file.into(), member: member.into(), stage, error: error.into() }
    }
}
