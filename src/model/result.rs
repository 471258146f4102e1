//! What a scan found, as the aggregation, the history and the reports read it.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::finding::{AgencyRef, Finding};
use super::signature::Kind;
use crate::messages::ErrorRow;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileTally {
    pub scanned: usize,
    pub signed: usize,
}

/// What the scan learnt about one file.
#[derive(Debug, Clone)]
pub struct FileRecord {
    pub agency: AgencyRef,
    pub signatures: usize,
}

/// Signatures that are not a person's (SPEC.md: shown by `inspect`,
/// counted in summary.json, never signer rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotSigners {
    pub doc_timestamps: usize,
    /// Adobe usage-rights signatures (/Perms /UR3).
    pub usage_rights: usize,
}

impl NotSigners {
    /// Counts a signature of `kind` if it is not a signer's; whether it was.
    pub fn count(&mut self, kind: Kind) -> bool {
        match kind {
            Kind::Signer => return false,
            Kind::DocTimestamp => self.doc_timestamps += 1,
            Kind::UsageRights => self.usage_rights += 1,
        }
        true
    }
}

impl std::ops::AddAssign for FileTally {
    fn add_assign(&mut self, other: FileTally) {
        self.scanned += other.scanned;
        self.signed += other.signed;
    }
}

impl std::ops::AddAssign for NotSigners {
    fn add_assign(&mut self, other: NotSigners) {
        self.doc_timestamps += other.doc_timestamps;
        self.usage_rights += other.usage_rights;
    }
}

#[derive(Debug, Clone)]
pub struct ScanResult {
    /// Files scanned and files with signatures, per agency.
    pub files: BTreeMap<AgencyRef, FileTally>,
    pub findings: Vec<Finding>,
    /// Each error with the agency its file belongs to.
    pub errors: Vec<(ErrorRow, AgencyRef)>,
    pub not_signers: NotSigners,
    pub started: OffsetDateTime,
    pub finished: OffsetDateTime,
    pub sources: Vec<String>,
    /// Agencies whose places could not be read (a SOURCE missing or
    /// unmounted): their audit is incomplete, their figure not shown.
    pub incomplete: Vec<AgencyRef>,
}

/// Another file an entry depends on, as it was when the entry was made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dependency {
    pub path: String,
    pub size: u64,
    pub mtime_ns: i128,
}
