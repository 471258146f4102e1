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
pub(crate) struct FileRecord {
    pub agency: AgencyRef,
    pub signatures: usize,
}

/// Signatures that are not a person's (docs/report-format.md: shown by `inspect`,
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
    /// CA certificates found in scanned files that completed other files'
    /// chains or are pinned certificates the anchor folder lacks.
    pub learned: Vec<LearnedCa>,
    /// Issuing CAs the rules do not know (or know by name with another
    /// key), most signatures first: what a province should add.
    pub unknown_cas: Vec<UnknownCa>,
}

/// An issuing CA the rules do not know: no pin and no pattern names it,
/// or it takes a catalogued CA's name with a key the rules do not hold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnknownCa {
    /// The issuer's distinguished name, as the signer certificates give it.
    pub issuer: String,
    /// The authority key identifier (hex), empty when the certificates carry none.
    pub key_identifier: String,
    /// The catalogue's CA whose name it takes, if any.
    pub named_ca: String,
    /// That CA's class (what the name claims), if any.
    pub class_by_name: Option<super::verdict::CaClass>,
    pub signatures: usize,
    pub example_signer: String,
    pub example_file: String,
}

impl UnknownCa {
    /// It names a Government CA with a key the rules do not hold.
    pub fn names_government(&self) -> bool {
        self.class_by_name == Some(super::verdict::CaClass::Government)
    }
}

/// A CA certificate found in a scanned file that verifies up to a pinned
/// certificate (or is one): the scan used it as an intermediate for every
/// other file, as a browser caches intermediates.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LearnedCa {
    pub sha256: String,
    pub subject: String,
    /// The catalogue's CA it chains to (or is).
    pub ca_id: String,
    /// Its own SHA-256 is a pin: the anchor folder may keep it.
    pub pinned: bool,
    /// The first file (in path order) it was found in.
    pub found_in: String,
    /// Signatures of other files whose chain it completed.
    pub completed: usize,
    /// The certificate (DER), for `--save-anchors`.
    #[serde(skip)]
    pub der: Vec<u8>,
}

/// Another file an entry depends on, as it was when the entry was made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dependency {
    pub path: String,
    pub size: u64,
    pub mtime_ns: i128,
}
