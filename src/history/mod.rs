//! Scan history: every run, every file seen and every finding, kept in an
//! embedded SQLite database (`--db`). It serves three things: incremental
//! rescans (files whose size and mtime did not change are not read again;
//! their stored extraction is classified anew), reports rebuilt without
//! the sources (`sigaudit report --db`), and trends across audits.
//!
//! Everything goes through [`Store`], so another backend (PostgreSQL for a
//! province-wide, many-host deployment) is one more implementation.
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files                          what they hold
//! 0      compare copy lock rows stored  audit over audit; history copy; the scan lock; rows both
//!                                       stores read; stored extractions
//! 1      postgres province sqlite       the PostgreSQL store; the province's report; the SQLite
//!                                       store
//! 2      database                       where the history lives: opens the store a `--db` names
//! ```

pub(crate) mod compare;
pub(crate) mod copy;
pub(crate) mod database;
pub(crate) mod lock;
pub(crate) mod postgres;
pub(crate) mod province;
pub(crate) mod rows;
pub(crate) mod sqlite;
pub(crate) mod stored;

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::model::result::ScanResult;

pub(crate) use database::{Database, DbLock, this_host};
pub(crate) use sqlite::SqliteStore;

pub(crate) type RunId = i64;

/// A file's entry in the incremental cache.
#[derive(Debug)]
pub(crate) struct CachedFile {
    pub size: u64,
    pub mtime_ns: i128,
    /// JSON of the extraction (see [`stored`]); None when nothing was found.
    pub extraction: Option<String>,
    /// Other files (and folders) that must be unchanged too.
    pub deps: Vec<Dependency>,
    /// Made under this run's cache key (tool version and limits): only
    /// then may it stand in for reading the file.
    pub usable: bool,
    /// Met by this run's walk: entries never met are files deleted since.
    pub seen: std::sync::atomic::AtomicBool,
}

pub(crate) use crate::model::result::Dependency;

/// A file read in this run, to be remembered.
#[derive(Debug, Clone)]
pub(crate) struct SavedFile {
    /// Absolute path: the cache key.
    pub path: String,
    pub size: u64,
    pub mtime_ns: i128,
    /// SHA-256 of the content when the whole file was read (signed files).
    pub sha256: Option<String>,
    pub extraction: Option<String>,
    pub deps: Vec<Dependency>,
    /// The certificates the extraction refers to: (SHA-256 hex, DER).
    pub certs: Vec<(String, Vec<u8>)>,
}

/// One past run, as listed by `sigaudit report --db` and the trends.
#[derive(Debug, Clone)]
pub(crate) struct RunInfo {
    pub id: RunId,
    pub started: OffsetDateTime,
    pub finished: Option<OffsetDateTime>,
    pub sources: Vec<String>,
    pub rules_digest: String,
    pub files: u64,
    pub signatures: u64,
    pub files_read: u64,
    pub files_removed: u64,
    /// What `scan --label` named the run ("" without).
    pub label: String,
    /// The host that ran it (`--host-label`; "" in a history older than hosts).
    pub host: String,
}

/// What a run did beyond its findings.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunStats {
    /// Files actually read (the rest came from the cache).
    pub files_read: u64,
    /// Files of the cache under the scanned folders that are gone.
    pub files_removed: u64,
}

/// Government / commercial / other signatures of one agency at one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuditPoint {
    pub run: RunId,
    pub finished: OffsetDateTime,
    pub agency_id: String,
    pub government: usize,
    pub commercial: usize,
    pub other: usize,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum HistoryError {
    #[error("{0}")]
    Db(#[from] rusqlite::Error),
    #[error("{0}")]
    Pg(postgres::PgError),
    #[error(
        "the database was written by a newer sigaudit (schema {found}, this one knows {known}): \
         upgrade sigaudit"
    )]
    TooNew { found: i64, known: i64 },
    #[error("run {0} is not in the database")]
    NoSuchRun(RunId),
    #[error("the database holds no completed scan yet")]
    NoRuns,
    #[error("stored data is damaged: {0}")]
    Damaged(String),
    /// Another run holds the database, or its lock file cannot be used.
    #[error("{0}")]
    Locked(String),
}

pub(crate) type Result<T> = std::result::Result<T, HistoryError>;

/// The history interface the scan and the reports use.
pub(crate) trait Store {
    /// Records that a run started; it stays incomplete until [`Store::finish_run`].
    fn begin_run(&mut self, sources: &[String], rules_digest: &str, label: &str) -> Result<RunId>;
    /// Removes a run (a trial run) and everything stored for it but the file cache.
    fn delete_run(&mut self, run: RunId) -> Result<()>;
    /// Every cache entry; `usable` where made under `cache_key` (tool
    /// version and limits). All paths serve to notice deletions.
    fn cached_files(&self, cache_key: &str) -> Result<HashMap<String, CachedFile>>;
    /// How many files run `run` stored in the incremental cache.
    fn files_of_run(&self, run: RunId) -> Result<u64>;
    /// Every certificate the cache refers to: SHA-256 (hex) to DER.
    fn cached_certs(&self) -> Result<HashMap<String, Vec<u8>>>;
    fn save_files(&mut self, run: RunId, cache_key: &str, files: &[SavedFile]) -> Result<()>;
    /// Keeps certificates (SHA-256 hex, DER) the findings refer to.
    fn save_certs(&mut self, certs: &[(String, Vec<u8>)]) -> Result<()>;
    /// Stores the run's findings and errors, forgets the files `gone`
    /// since, and marks the run complete: all in one transaction.
    fn finish_run(
        &mut self,
        run: RunId,
        result: &ScanResult,
        stats: RunStats,
        gone: &[String],
    ) -> Result<()>;
    /// Completed runs, oldest first.
    fn runs(&self) -> Result<Vec<RunInfo>>;
    /// A completed run as the scan produced it.
    fn load_run(&self, run: RunId) -> Result<ScanResult>;
    /// What a comparison needs of a run's signatures.
    fn load_signings(&self, run: RunId) -> Result<Vec<compare::Signing>>;
    /// Per agency, the classes of the signatures of every completed run.
    fn audit_points(&self) -> Result<Vec<AuditPoint>>;
}

/// Per agency: files scanned, files signed, and government / commercial /
/// other signatures of a scan (what `run_agencies` stores and the audit
/// trend shows).
pub(crate) fn agency_totals(
    result: &ScanResult,
) -> std::collections::BTreeMap<crate::agency::AgencyRef, [usize; 5]> {
    let mut per_agency: std::collections::BTreeMap<crate::agency::AgencyRef, [usize; 5]> =
        std::collections::BTreeMap::new();
    for (agency, tally) in &result.files {
        let row = per_agency.entry(agency.clone()).or_default();
        row[0] += tally.scanned;
        row[1] += tally.signed;
    }
    for f in &result.findings {
        let slot = match f.ca_class {
            crate::rules::CaClass::Government => 2,
            crate::rules::CaClass::Commercial => 3,
            _ => 4,
        };
        per_agency
            .entry(crate::agency::AgencyRef {
                id: f.agency_id.clone(),
                name: f.agency_name.clone(),
            })
            .or_default()[slot] += 1;
    }
    per_agency
}

/// The latest completed run, or `id` when given.
pub(crate) fn pick_run(store: &dyn Store, id: Option<RunId>) -> Result<RunInfo> {
    let runs = store.runs()?;
    match id {
        Some(id) => runs.into_iter().find(|r| r.id == id).ok_or(HistoryError::NoSuchRun(id)),
        None => runs.into_iter().last().ok_or(HistoryError::NoRuns),
    }
}

use crate::model::finding::Finding;
use compare::{ChangeRow, compare};

/// What the reports show from the history.
#[derive(Debug, Clone, Default)]
pub(crate) struct HistoryView {
    /// Completed runs up to the reported one, oldest first.
    pub runs: Vec<RunInfo>,
    /// Per agency and run: classes of signatures.
    pub audits: Vec<AuditPoint>,
    /// The run compared against, and what changed since.
    pub previous: Option<RunInfo>,
    pub changes: Vec<ChangeRow>,
    /// A province's report: each host's latest audit (empty for one host's).
    pub hosts: Vec<province::HostAudit>,
}

/// The history as reports see it when run `id` is the one reported.
pub(crate) fn view(
    store: &dyn Store,
    id: RunId,
    current: &ScanResult,
    compare_with: Option<RunId>,
) -> Result<HistoryView> {
    let runs: Vec<RunInfo> = store.runs()?.into_iter().filter(|r| r.id <= id).collect();
    let audits = store.audit_points()?.into_iter().filter(|a| a.run <= id).collect();
    let previous = match compare_with {
        Some(other) => Some(pick_run(store, Some(other))?),
        None => runs.iter().rev().find(|r| r.id < id).cloned(),
    };
    let changes = match &previous {
        Some(p) => compare(&store.load_signings(p.id)?, &current.findings),
        None => Vec::new(),
    };
    Ok(HistoryView { runs, audits, previous, changes, hosts: Vec::new() })
}

/// Attributes a stored run's findings again under `map` (the current
/// rules), as a rescan would: by the signer certificate (kept in the
/// history), else `external`, else the place where each was found.
pub(crate) fn reattribute(
    findings: &mut [Finding],
    certs: &HashMap<String, Vec<u8>>,
    map: &crate::rules::AgencyMap,
) {
    let mut decoded: HashMap<&str, Option<crate::cert::Cert>> = HashMap::new();
    for f in findings {
        let place = (f.found_in != crate::rules::UNASSIGNED_ID).then(|| {
            match map.agencies.iter().find(|a| a.id == f.found_in) {
                Some(a) => crate::agency::AgencyRef { id: a.id.clone(), name: a.name.clone() },
                // A place the current map no longer has keeps the name it was stored with.
                None => crate::agency::AgencyRef {
                    id: f.found_in.clone(),
                    name: if f.agency_id == f.found_in {
                        f.agency_name.clone()
                    } else {
                        f.found_in.clone()
                    },
                },
            }
        });
        let cert = decoded.entry(f.signer_sha256.as_str()).or_insert_with(|| {
            certs.get(&f.signer_sha256).and_then(|der| crate::cert::Cert::from_der(der).ok())
        });
        let who = map.attribute(cert.as_ref().map(|c| (c, map.by_cert(c))), place.as_ref());
        f.agency_id = who.agency.id;
        f.agency_name = who.agency.name;
        f.attributed_by = who.by;
    }
}
