//! One scan's use of the history (the application layer, above both the
//! scan and the history): lock the database, open a run, serve the
//! incremental cache (the scan's [`Cache`]), store what is read as it is read (so a killed
//! scan keeps its progress), then store the run and notice deletions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::sync::atomic::Ordering;
use std::sync::{Mutex, OnceLock};

use crate::history::compare::compare;
use crate::history::{
    AuditPoint, CachedFile, Database, DbLock, Dependency, HistoryError, HistoryView, Result, RunId,
    RunInfo, RunStats, SavedFile, Store, stored,
};
use crate::model::extraction::Extraction;
use crate::model::result::ScanResult;
use crate::scan::{Cache, Visited, stamp_of};

/// What a stored extraction depends on besides the file: this build, the
/// stored format, and every bound on reading and unpacking (a file cut
/// short by a smaller bound must be read again under a larger one).
///
/// Built from named fields: a field added to a bound is a compile error
/// here, not a silent change. The text is the one earlier versions made
/// from the options' `Debug` text, so histories written by them keep their
/// cache (tests/cache.rs `the_cache_key_names_every_bound` holds it).
pub fn cache_key(limits: &crate::source::ReadLimits, unpack: &crate::formats::Limits) -> String {
    let crate::source::ReadLimits { max_file_bytes, sniff_bytes } = *limits;
    let crate::formats::Limits { max_depth, max_unpacked_bytes, max_members, max_ratio, unit } =
        *unpack;
    let crate::budget::UnitBudget { time, memory } = unit;
    format!(
        "sigaudit {} stored {} ReadLimits {{ max_file_bytes: {max_file_bytes}, sniff_bytes: \
         {sniff_bytes} }} Limits {{ max_depth: {max_depth}, max_unpacked_bytes: \
         {max_unpacked_bytes}, max_members: {max_members}, max_ratio: {max_ratio}, unit: \
         UnitBudget {{ time: {time:?}, memory: {memory} }} }}",
        crate::VERSION,
        stored::VERSION
    )
}

/// Opens a connection to the history, once per thread that needs one. The
/// session knows the backend only through this and [`Store`].
pub(crate) type Connect = Arc<dyn Fn() -> Result<Box<dyn Store + Send>> + Send + Sync>;

pub(crate) struct Session {
    connect: Connect,
    store: Box<dyn Store + Send>,
    run: RunId,
    cache_key: String,
    /// What `scan --label` names this run.
    label: String,
    /// The incremental cache, read while the rules load and the walk starts.
    loading: Option<JoinHandle<Result<StoredFiles>>>,
    /// Records the run and stores what it reads; ends with its id.
    writer: Option<JoinHandle<Result<RunId>>>,
    /// The past runs, read while the scan runs.
    past: Option<JoinHandle<Result<Past>>>,
    /// Whose runs these are (`--host-label`).
    host: String,
    _lock: DbLock,
}

/// What the reports need from earlier runs: the runs, their per-agency
/// totals, and the findings of the latest one (to compare with).
struct Past {
    runs: Vec<RunInfo>,
    audits: Vec<AuditPoint>,
    previous_signings: Vec<crate::history::compare::Signing>,
}

fn load_files(connect: &Connect, cache_key: &str, full: bool) -> Result<StoredFiles> {
    let store = connect()?;
    let mut entries = store.cached_files(cache_key)?;
    if full {
        // Kept to notice deletions; never served.
        entries.values_mut().for_each(|e| e.usable = false);
    }
    let certs = stored::CertCache::new(if full { HashMap::new() } else { store.cached_certs()? });
    Ok(StoredFiles { entries, certs })
}

/// Did the same host make both runs? A history older than host labels
/// (an SQLite file's first runs) was made by this one.
pub(crate) fn same_host(a: &str, b: &str) -> bool {
    a == b || a.is_empty() || b.is_empty()
}

/// This host's past runs: a province's database holds every host's, and a
/// host's own report compares with its own audits.
fn read_past(connect: &Connect, host: &str) -> Result<Past> {
    let store = connect()?;
    let runs: Vec<RunInfo> =
        store.runs()?.into_iter().filter(|r| same_host(&r.host, host)).collect();
    let audits =
        store.audit_points()?.into_iter().filter(|a| runs.iter().any(|r| r.id == a.run)).collect();
    let previous_signings = match runs.last() {
        Some(p) => store.load_signings(p.id)?,
        None => Vec::new(),
    };
    Ok(Past { runs, audits, previous_signings })
}

impl Session {
    /// Locks `db` for `host` scanning `sources` (waiting up to `wait`) and
    /// starts reading, in the background, what the run needs from the
    /// history: the incremental cache (kept only to notice deletions with
    /// `full`) and the past runs.
    pub(crate) fn open(
        db: &Database,
        host: &str,
        sources: &[String],
        wait: Duration,
        cache_key: String,
        full: bool,
    ) -> anyhow::Result<Session> {
        use anyhow::Context;
        if let Some(dir) =
            db.sqlite_path().and_then(Path::parent).filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
        }
        let lock = db.lock(host, sources, wait)?;
        let connect: Connect = {
            let (db, host) = (db.clone(), host.to_owned());
            Arc::new(move || db.open(&host))
        };
        // The first connection creates or upgrades the schema.
        let store = connect().with_context(|| db.describe())?;
        let loading = {
            let (connect, key) = (connect.clone(), cache_key.clone());
            Some(std::thread::spawn(move || load_files(&connect, &key, full)))
        };
        let past = {
            let (connect, host) = (connect.clone(), host.to_owned());
            Some(std::thread::spawn(move || read_past(&connect, &host)))
        };
        Ok(Session {
            connect,
            store,
            run: 0,
            cache_key,
            label: String::new(),
            loading,
            writer: None,
            past,
            host: host.to_owned(),
            _lock: lock,
        })
    }

    /// Starts the run and returns the incremental cache with the channel
    /// that stores what this run reads. The run is recorded, and what is
    /// read stored in batches, by a writer thread: nothing here waits for
    /// the database.
    pub(crate) fn cache(
        &mut self,
        sources: &[String],
        rules_digest: &str,
        label: &str,
    ) -> Result<FileCache> {
        let loading = self
            .loading
            .take()
            .ok_or_else(|| HistoryError::Damaged("the file cache was already handed out".into()))?;
        let (save, rx) = std::sync::mpsc::channel();
        self.label = label.to_owned();
        let (connect, key, sources, digest, label) = (
            self.connect.clone(),
            self.cache_key.clone(),
            sources.to_vec(),
            rules_digest.to_owned(),
            self.label.clone(),
        );
        self.writer = Some(std::thread::spawn(move || {
            let mut store = connect()?;
            let run = store.begin_run(&sources, &digest, &label)?;
            write_batches(store.as_mut(), run, &key, rx)?;
            Ok(run)
        }));
        Ok(FileCache::new(loading, save))
    }

    /// Ends an interrupted scan: what was read is stored (the writer commits
    /// it), the run stays incomplete so that the next one finishes the job,
    /// and nothing is taken for deleted. Returns the files stored by this run.
    pub(crate) fn interrupted(mut self, cache: FileCache) -> Result<u64> {
        drop(cache.finish());
        let writer = self
            .writer
            .take()
            .ok_or_else(|| HistoryError::Damaged("the run was never started".into()))?;
        let run = writer
            .join()
            .unwrap_or_else(|_| Err(HistoryError::Damaged("the history writer panicked".into())))?;
        self.store.files_of_run(run)
    }

    /// Ends the scan's use of the history: notes the files gone from the
    /// scanned `roots`, and returns the run still to store and what the
    /// reports need from earlier runs. Storing the run and writing the
    /// reports then go side by side.
    pub(crate) fn end_scan(
        mut self,
        cache: FileCache,
        visited: &Visited,
        roots: &[PathBuf],
    ) -> Result<(PendingRun, PastRuns)> {
        // The writer ends when the scan's sender is gone.
        let stored = cache.finish()?;
        let writer = self
            .writer
            .take()
            .ok_or_else(|| HistoryError::Damaged("the run was never started".into()))?;
        self.run = writer
            .join()
            .unwrap_or_else(|_| Err(HistoryError::Damaged("the history writer panicked".into())))?;
        let cwd = std::env::current_dir().unwrap_or_default();
        // A root that is missing (a share not mounted) says nothing about its files.
        let roots: Vec<String> = roots
            .iter()
            .filter(|r| r.exists())
            .map(|r| cwd.join(r).components().collect::<PathBuf>().to_string_lossy().into_owned())
            .collect();
        let under_roots = |p: &str| {
            roots.iter().any(|r| {
                p == r
                    || p.strip_prefix(r.as_str())
                        .is_some_and(|rest| rest.starts_with('/') || r.ends_with('/'))
            }) || visited.complete_mailboxes.iter().any(|m| p.starts_with(m.as_str()))
        };
        let unseen = stored
            .entries
            .iter()
            .filter(|(_, e)| !e.seen.load(std::sync::atomic::Ordering::Relaxed));
        let gone: Vec<String> =
            unseen.map(|(path, _)| path).filter(|p| under_roots(p)).cloned().collect();
        let stats = RunStats { files_read: visited.files_read, files_removed: gone.len() as u64 };
        let reading = self
            .past
            .take()
            .ok_or_else(|| HistoryError::Damaged("the past runs were already handed out".into()))?;
        let past = PastRuns {
            run: self.run,
            label: self.label.clone(),
            host: self.host.clone(),
            stats,
            reading,
        };
        Ok((PendingRun { session: self, stats, gone, stored }, past))
    }
}

/// The earlier runs, being read, and this run's place after them.
pub(crate) struct PastRuns {
    run: RunId,
    label: String,
    host: String,
    stats: RunStats,
    reading: JoinHandle<Result<Past>>,
}

impl PastRuns {
    /// What the reports show from the history, this run included (from
    /// memory: it may not be stored yet).
    pub(crate) fn view(self, result: &ScanResult) -> Result<HistoryView> {
        let Past { mut runs, mut audits, previous_signings } =
            self.reading.join().unwrap_or_else(|_| {
                Err(HistoryError::Damaged("reading the past runs panicked".into()))
            })?;
        let previous = runs.last().cloned();
        let changes = if previous.is_some() {
            compare(&previous_signings, &result.findings)
        } else {
            Vec::new()
        };
        runs.push(RunInfo {
            id: self.run,
            started: result.started,
            finished: Some(result.finished),
            sources: result.sources.clone(),
            rules_digest: String::new(),
            files: result.files.values().map(|t| t.scanned as u64).sum(),
            signatures: result.findings.len() as u64,
            files_read: self.stats.files_read,
            files_removed: self.stats.files_removed,
            label: self.label,
            host: self.host,
        });
        audits.extend(
            crate::history::agency_totals(result)
                .into_iter()
                .filter(|(_, t)| t[2] + t[3] + t[4] > 0)
                .map(|(agency, t)| AuditPoint {
                    run: self.run,
                    finished: result.finished,
                    agency_id: agency.id,
                    government: t[2],
                    commercial: t[3],
                    other: t[4],
                }),
        );
        Ok(HistoryView { runs, audits, previous, changes, hosts: Vec::new() })
    }
}

/// A run whose results are known but not yet stored.
pub(crate) struct PendingRun {
    session: Session,
    stats: RunStats,
    gone: Vec<String>,
    /// The cache, freed with the run off the main thread (a large map).
    stored: StoredFiles,
}

impl PendingRun {
    /// Stores the run's findings, forgets deleted files and marks the run
    /// complete (one transaction).
    pub(crate) fn store(mut self, result: &ScanResult) -> Result<()> {
        let stored =
            self.session.store.finish_run(self.session.run, result, self.stats, &self.gone);
        drop(self.stored);
        stored
    }
}

/// Commits what the scan reads every 2,000 files or every second, so a
/// killed scan loses at most a second of work.
fn write_batches(
    store: &mut dyn Store,
    run: RunId,
    key: &str,
    rx: Receiver<SavedFile>,
) -> Result<()> {
    let mut batch = Vec::new();
    let mut since = Instant::now();
    loop {
        let done = match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(f) => {
                batch.push(f);
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        if !batch.is_empty()
            && (done || batch.len() >= 2000 || since.elapsed() >= Duration::from_secs(1))
        {
            store.save_files(run, key, &batch)?;
            batch.clear();
            since = Instant::now();
        }
        if done {
            return Ok(());
        }
    }
}

/// The incremental cache as the scan sees it: what earlier runs extracted
/// from each file, and where to send what this run reads. The stored part
/// is loaded in the background: the walk starts meanwhile.
pub(crate) struct FileCache {
    loading: Mutex<Option<std::thread::JoinHandle<Result<StoredFiles>>>>,
    stored: OnceLock<Result<StoredFiles>>,
    save: std::sync::mpsc::Sender<SavedFile>,
}

/// What earlier runs extracted, by absolute path, and their certificates.
pub(crate) struct StoredFiles {
    pub entries: HashMap<String, CachedFile>,
    pub certs: stored::CertCache,
}

impl FileCache {
    /// `loading`: the thread reading the stored files.
    pub(crate) fn new(
        loading: std::thread::JoinHandle<Result<StoredFiles>>,
        save: std::sync::mpsc::Sender<SavedFile>,
    ) -> FileCache {
        FileCache { loading: Mutex::new(Some(loading)), stored: OnceLock::new(), save }
    }

    /// The stored files (waits for the load), or why they could not be read.
    pub(crate) fn stored(&self) -> &Result<StoredFiles> {
        self.stored.get_or_init(|| {
            let loading = self.loading.lock().ok().and_then(|mut l| l.take());
            loading
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(HistoryError::Damaged("loading the file cache panicked".into()))
                    })
                })
                .unwrap_or_else(|| {
                    Err(HistoryError::Damaged("the file cache was not loaded".into()))
                })
        })
    }

    /// Stops saving and hands back what was stored before this run.
    pub(crate) fn finish(self) -> Result<StoredFiles> {
        self.stored();
        let FileCache { stored, save, .. } = self;
        drop(save);
        stored
            .into_inner()
            .unwrap_or_else(|| Err(HistoryError::Damaged("the file cache was not loaded".into())))
    }
}

impl Cache for FileCache {
    fn lookup(&self, key: &str, stamp: (u64, i128)) -> Option<Extraction> {
        // A history that could not be read serves nothing: the files are
        // read again, and the session reports the error when the scan ends.
        let stored = self.stored().as_ref().ok()?;
        let hit = stored.entries.get(key)?;
        hit.seen.store(true, Ordering::Relaxed);
        let unchanged = hit.usable
            && stamp == (hit.size, hit.mtime_ns)
            && hit.deps.iter().all(|d| stamp_of(Path::new(&d.path)) == Some((d.size, d.mtime_ns)));
        if !unchanged {
            return None;
        }
        stored::decode(hit.extraction.as_deref(), &stored.certs).ok()
    }

    fn remember(
        &self,
        key: String,
        (size, mtime_ns): (u64, i128),
        e: &Extraction,
        deps: Vec<Dependency>,
    ) {
        let (extraction, certs) = stored::encode(e);
        let _ = self.save.send(SavedFile {
            path: key,
            size,
            mtime_ns,
            sha256: e.content_sha256.clone(),
            extraction,
            deps,
            certs,
        });
    }
}
