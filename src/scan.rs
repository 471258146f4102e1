//! The scan: sources -> items -> extractors -> signatures -> classifier ->
//! findings. The crawl feeds a rayon pool; each file is one unit of work
//! and never affects another.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::agency::{AgencyRef, FolderMemo};
use crate::budget::Unit;
use crate::cert::Cert;
use crate::classify::{Classification, classify};
use crate::formats::cms::Detached;
use crate::formats::{self, DocKind};
use crate::messages::{ErrorRow, Stage};
use crate::model::extraction::Extraction;
use crate::model::finding::Finding;
use crate::model::result::{Dependency, LearnedCa};
use crate::rules::Rules;
use crate::source::imap::{ImapAuth, ImapEvent, ImapSource};
use crate::source::read::{read_head, read_rest, read_whole, stream_matches};
use crate::trust::chain::{self, PathEnd};

/// PDFs larger than this are streamed for their markers before being read
/// whole (a fresh buffer of their size costs page faults).
const STREAM_PDF_FROM: u64 = 128 << 10;
/// Longer than any marker streamed for (the XMLDSig namespace is 34 bytes).
const MARKER_OVERLAP: usize = 64;
use crate::source::{Input, ReadLimits, WalkOptions, WalkSink, open_noatime, walk_parallel};
use crate::trust::AnchorStore;

#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    pub sources: Vec<PathBuf>,
    pub imap: Vec<ImapSource>,
    pub imap_auth: Option<ImapAuth>,
    pub walk: WalkOptions,
    /// Files at work at once: stat, open, read (`--io-jobs`); by default
    /// from the sources' file systems (see the function `io_jobs` here).
    pub io_jobs: Option<usize>,
    pub limits: ReadLimits,
    /// Bounds on unpacking archives and attachments.
    pub unpack: formats::Limits,
    /// Set (by a signal handler) to stop: no new file is started, and the
    /// files being read are finished.
    pub stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

pub(crate) use crate::model::result::{FileRecord, FileTally, NotSigners, ScanResult};

/// Shared, read-only context of a scan.
pub(crate) struct Context<'a> {
    pub rules: &'a Rules,
    pub anchors: &'a AnchorStore,
    pub limits: ReadLimits,
    pub unpack: formats::Limits,
    cache: Option<&'a dyn Cache>,
    /// For the cache's absolute paths, without a getcwd per file.
    cwd_text: String,
    /// Classification by signer and certificates: documents share signers,
    /// and a chain is verified once per run, not once per document.
    classified: Memo<Vec<[u8; 32]>, Classification>,
    /// The agency a signer certificate's subject names, by certificate.
    agency_of_signer: Memo<[u8; 32], Option<AgencyRef>>,
    /// CA certificates met in the scanned signatures that the anchor
    /// folder lacks, each with the first file it came in: candidates to
    /// complete other files' chains once every file is read.
    met_cas: Mutex<MetCas>,
    /// Signer certificates whose issuing CA the rules may not know, by
    /// SHA-256 (hex): the report lists those CAs with their key identifier.
    unknown_issuers: Mutex<HashMap<String, Arc<Cert>>>,
    /// Parsing and verifying: at most one file per core at once, however
    /// many files the I/O workers have in flight.
    cpu: CpuPool,
}

/// The CPU pool: parsing and verifying a file's bytes, at most one file
/// per core at once, however many files the I/O workers have in flight.
/// An I/O worker hands the bytes it read to this pool and waits (blocked,
/// not stealing other files: a parser's own parallel loops stay within
/// this pool, and nothing here waits on the I/O pool).
pub(crate) struct CpuPool(Option<rayon::ThreadPool>);

impl CpuPool {
    /// A pool of `cores` threads; without threads to be had, jobs run in
    /// the caller.
    pub(crate) fn new(cores: usize) -> CpuPool {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cores.max(1))
            .thread_name(|i| format!("sigaudit-cpu-{i}"))
            // Parsers of hostile input recurse (every recursion is bounded).
            .stack_size(16 << 20)
            .build();
        CpuPool(pool.ok())
    }

    /// Jobs run in the caller's thread (one file inspected alone).
    pub(crate) fn inline() -> CpuPool {
        CpuPool(None)
    }

    /// Runs `job` in the pool and waits for it; a panic in it resumes in
    /// the caller (whose `catch_unwind` makes it the file's row).
    pub(crate) fn run<R: Send + 'static>(&self, job: impl FnOnce() -> R + Send + 'static) -> R {
        let Some(pool) = &self.0 else { return job() };
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        pool.spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)));
        });
        match rx.recv() {
            Ok(Ok(r)) => r,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => std::panic::resume_unwind(Box::new("the parsing worker stopped")),
        }
    }
}

/// I/O workers on a network file system (NFS, SMB, FUSE...): a round trip
/// costs a millisecond or more there, and one worker per core would spend
/// its time waiting on them (16 threads make ripgrep 4.7× faster on a
/// 1 ms share).
pub(crate) const NETWORK_IO_JOBS: usize = 32;

/// How many files to have at work at once: `--io-jobs` when given; else
/// [`NETWORK_IO_JOBS`] when any SOURCE is on a network file system, and
/// twice the cores on a local disk (a read waiting on the disk leaves its
/// core to another). With the file system that decided it, if a network one.
pub(crate) fn io_jobs(opts: &ScanOptions, cores: usize) -> (usize, Option<&'static str>) {
    if let Some(n) = opts.io_jobs {
        return (n.max(1), None);
    }
    let network = opts.sources.iter().find_map(|s| match crate::source::medium(s) {
        crate::source::Medium::Network(name) => Some(name),
        crate::source::Medium::Local => None,
    });
    match network {
        Some(name) => (NETWORK_IO_JOBS.max(2 * cores), Some(name)),
        None => ((2 * cores).max(4), None),
    }
}

/// CA certificates met in signatures, by SHA-256, with the first file
/// (in path order) each came in.
type MetCas = HashMap<[u8; 32], (Arc<Cert>, String)>;

/// Answers worked out once per run and shared by the workers.
struct Memo<K, V>(Mutex<HashMap<K, V>>);

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo(Mutex::default())
    }
}

impl<K: Eq + std::hash::Hash, V: Clone> Memo<K, V> {
    fn get_or(&self, key: K, work_out: impl FnOnce() -> V) -> V {
        if let Some(known) = self.0.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return known;
        }
        let value = work_out();
        if let Ok(mut m) = self.0.lock() {
            m.insert(key, value.clone());
        }
        value
    }
}

/// The incremental cache, as the scan uses it. The history implements it
/// (`session::FileCache`); the scan knows nothing of how it is stored.
pub trait Cache: Sync {
    /// What an earlier run extracted from the file (or message) `key` when
    /// it had `stamp` (size, mtime), if that still stands: the files it
    /// depends on unchanged too. Marks the entry as met either way (what a
    /// run never meets was deleted).
    fn lookup(&self, key: &str, stamp: (u64, i128)) -> Option<Extraction>;
    /// Keeps what this run extracted from `key` at `stamp` for the next run.
    fn remember(
        &self,
        key: String,
        stamp: (u64, i128),
        extraction: &Extraction,
        depends_on: Vec<Dependency>,
    );
}

/// What the scan did besides its findings (for the history; the files
/// met are marked in the cache).
#[derive(Debug, Default)]
pub struct Visited {
    /// Files actually read (not served from the cache).
    pub files_read: u64,
    /// URL prefixes of the IMAP mailboxes listed completely.
    pub complete_mailboxes: Vec<String>,
    /// The scan was stopped before the end (SIGINT, SIGTERM).
    pub interrupted: bool,
}

struct FileOutcome {
    /// Whether the file was read (not served from the cache).
    read: bool,
    record: Option<FileRecord>,
    findings: Vec<Finding>,
    errors: Vec<(ErrorRow, AgencyRef)>,
    not_signers: NotSigners,
    /// Findings whose chain stopped for want of an issuer certificate,
    /// to classify again once every file's CA certificates are known.
    waiting: Vec<Waiting>,
}

/// A finding (by its index among the findings) whose chain may be
/// completed by a CA certificate another file carries.
struct Waiting {
    index: usize,
    /// The signature as extracted, before the certificate verdicts.
    sig: crate::model::signature::Signature,
    who: crate::agency::Attributed,
}

impl FileOutcome {
    fn empty(read: bool) -> FileOutcome {
        FileOutcome {
            read,
            record: None,
            findings: Vec::new(),
            errors: Vec::new(),
            not_signers: NotSigners::default(),
            waiting: Vec::new(),
        }
    }
}

/// What a running scan has done so far, for a progress display (read by
/// another thread while the scan runs).
#[derive(Debug, Default)]
pub struct Progress {
    /// Files the walk has found so far, and whether it has found them all.
    pub found: AtomicUsize,
    pub walk_done: AtomicBool,
    /// Files (and mailbox messages) done, their bytes, and the inputs that could not be read.
    pub done: AtomicUsize,
    pub bytes: AtomicU64,
    pub errors: AtomicUsize,
}

impl Progress {
    fn file_done(&self, bytes: u64, errors: usize) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.errors.fetch_add(errors, Ordering::Relaxed);
        self.done.fetch_add(1, Ordering::Relaxed);
    }
}

/// Runs a scan, counting what is done in `progress`. With
/// a `cache`, files unchanged since it was made are not read again.
pub fn run(
    opts: &ScanOptions,
    rules: &Rules,
    anchors: &AnchorStore,
    progress: &Progress,
    cache: Option<&dyn Cache>,
) -> (ScanResult, Visited) {
    let started = OffsetDateTime::now_utc();
    let cwd_text = std::env::current_dir()
        .unwrap_or_default()
        .to_string_lossy()
        .trim_end_matches('/')
        .to_owned();
    let ctx = Context {
        rules,
        anchors,
        limits: opts.limits,
        unpack: opts.unpack,
        cache,
        cwd_text,
        classified: Memo::default(),
        agency_of_signer: Memo::default(),
        met_cas: Mutex::default(),
        unknown_issuers: Mutex::default(),
        cpu: CpuPool::new(rayon::current_num_threads()),
    };
    let stopped = || opts.stop.load(Ordering::Relaxed);
    // Folders are listed and files stat'ed, opened and read by a pool of
    // their own, larger than the cores on a network share; parsing and
    // verifying wait for a core (`ctx.cpu`).
    let (jobs, _medium) = io_jobs(opts, rayon::current_num_threads());
    let sink = Sink { ctx: &ctx, opts, progress, gathered: Mutex::default() };
    let io_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("sigaudit-io-{i}"))
        // Parsers of hostile input recurse (every recursion is bounded).
        .stack_size(16 << 20)
        .build();
    match io_pool {
        Ok(pool) => pool.install(|| walk_parallel(&opts.sources, &opts.walk, &sink)),
        // No threads to be had: the scan runs in the caller's pool.
        Err(_) => walk_parallel(&opts.sources, &opts.walk, &sink),
    }
    progress.walk_done.store(true, Ordering::Relaxed);
    let gathered = sink.gathered.into_inner().unwrap_or_default();
    let (imap, complete_mailboxes) =
        if stopped() { (Vec::new(), Vec::new()) } else { scan_imap(opts, &ctx, progress) };
    let gathered = imap.into_iter().fold(gathered, Gathered::add);
    let mut findings = gathered.findings;
    let learned = complete_chains(&mut findings, gathered.waiting, &ctx);
    let mut result = ScanResult {
        files: gathered.files,
        findings,
        errors: gathered.errors,
        not_signers: gathered.not_signers,
        started,
        finished: started,
        sources: opts
            .sources
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .chain(opts.imap.iter().map(ImapSource::display))
            .collect(),
        incomplete: missing_places(&opts.sources, &rules.agencies),
        learned,
        unknown_cas: Vec::new(),
    };
    let visited =
        Visited { files_read: gathered.files_read, complete_mailboxes, interrupted: stopped() };
    // Deterministic reports whatever the thread interleaving.
    result.findings.sort_by(|a, b| (&a.file, &a.member).cmp(&(&b.file, &b.member)));
    let signers =
        ctx.unknown_issuers.lock().map(|mut m| std::mem::take(&mut *m)).unwrap_or_default();
    result.unknown_cas = crate::classify::unknown_cas(
        &result.findings,
        |sha| signers.get(sha).cloned(),
        &rules.catalogue,
    );
    result.errors.sort();
    result.finished = OffsetDateTime::now_utc();
    (result, visited)
}

/// Where the walk's batches of files are scanned, each batch in the I/O
/// worker that takes it.
struct Sink<'a> {
    ctx: &'a Context<'a>,
    opts: &'a ScanOptions,
    progress: &'a Progress,
    gathered: Mutex<Gathered>,
}

impl WalkSink for Sink<'_> {
    fn found(&self, n: usize) {
        self.progress.found.fetch_add(n, Ordering::Relaxed);
    }

    fn files(&self, batch: Vec<Result<Input, ErrorRow>>) {
        let rules = self.ctx.rules;
        // A batch is one folder's: its path rules are matched once.
        let mut memo = FolderMemo::default();
        let mut here = Gathered::default();
        for item in batch {
            if self.stopped() {
                // Files not started are left for the next run.
                continue;
            }
            let (out, bytes) = match item {
                Ok(input) => {
                    let path_agency =
                        rules.agencies.by_path_memo(input.relative(), &input.display, &mut memo);
                    scan_file(&input, path_agency, self.ctx)
                }
                Err(row) => {
                    let agency = rules
                        .agencies
                        .by_path(&row.file, &row.file)
                        .unwrap_or_else(|| rules.agencies.unassigned());
                    (FileOutcome { errors: vec![(row, agency)], ..FileOutcome::empty(false) }, 0)
                }
            };
            self.progress.file_done(bytes, out.errors.len());
            here = here.add(out);
        }
        if let Ok(mut all) = self.gathered.lock() {
            *all = std::mem::take(&mut *all).merge(here);
        }
    }

    fn stopped(&self) -> bool {
        self.opts.stop.load(Ordering::Relaxed)
    }

    fn walk_done(&self) {
        self.progress.walk_done.store(true, Ordering::Relaxed);
    }
}

/// File outcomes summed up by each rayon task, then merged.
#[derive(Default)]
struct Gathered {
    files: BTreeMap<AgencyRef, FileTally>,
    findings: Vec<Finding>,
    errors: Vec<(ErrorRow, AgencyRef)>,
    not_signers: NotSigners,
    files_read: u64,
    waiting: Vec<Waiting>,
}

impl Gathered {
    fn add(mut self, o: FileOutcome) -> Gathered {
        self.files_read += u64::from(o.read);
        if let Some(r) = o.record {
            let tally = self.files.entry(r.agency).or_default();
            tally.scanned += 1;
            tally.signed += usize::from(r.signatures > 0);
        }
        let offset = self.findings.len();
        self.waiting
            .extend(o.waiting.into_iter().map(|w| Waiting { index: w.index + offset, ..w }));
        self.findings.extend(o.findings);
        self.errors.extend(o.errors);
        self.not_signers += o.not_signers;
        self
    }

    fn merge(mut self, other: Gathered) -> Gathered {
        for (agency, t) in other.files {
            *self.files.entry(agency).or_default() += t;
        }
        let offset = self.findings.len();
        self.waiting
            .extend(other.waiting.into_iter().map(|w| Waiting { index: w.index + offset, ..w }));
        self.findings.extend(other.findings);
        self.errors.extend(other.errors);
        self.not_signers += other.not_signers;
        self.files_read += other.files_read;
        self
    }
}

/// One file: its stamp (one `fstatat` in its folder), then what the
/// history has for it, or else its bytes. `path_agency`: the agency its
/// path says. Also returns the file's size, for the progress display.
fn scan_file(
    input: &Input,
    path_agency: Option<AgencyRef>,
    ctx: &Context<'_>,
) -> (FileOutcome, u64) {
    let agencies = &ctx.rules.agencies;
    // The file's only stat: the history's stamp and the size to read.
    let stamp = input.stat().ok().map(|st| (st.size, st.mtime_ns));
    let size = stamp.map_or(0, |(size, _)| size);
    let key = ctx.key(&input.path);
    if let Some(extraction) = ctx.stored_extraction(&key, stamp) {
        return (outcome(&input.display, path_agency, extraction, ctx), size);
    }
    // A panic in a parser on one hostile file becomes an error row for that
    // file; the scan and every other finding go on.
    let extracted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_extract(input, stamp.map(|(size, _)| size), ctx.limits, ctx.unpack, &ctx.cpu)
    }))
    .unwrap_or_else(|_| {
        Err((
            Stage::Read,
            "internal error while reading this file (a parser panicked): please report it".into(),
        ))
    });
    let out = match extracted {
        Ok((e, after)) => {
            let e = e.unwrap_or_default();
            // Remember it, with the other files it depends on (a detached
            // signature's data), unless it is known to have changed while
            // being read (it read short or long: `after`, its stat then).
            // No stat is taken for the history alone: the stamp stored is
            // the one taken before reading, so a file changed since has an
            // mtime that no longer matches it, and the next run reads it
            // again.
            if let Some((size, mtime)) = stamp
                && ctx.cache.is_some()
                && after.is_none_or(|now| now == (size, mtime))
                && let Some(deps) = e
                    .depends_on
                    .iter()
                    .map(|p| {
                        stamp_of(p).map(|(s, m)| Dependency {
                            path: ctx.key(p),
                            size: s,
                            mtime_ns: m,
                        })
                    })
                    .collect::<Option<Vec<_>>>()
            {
                ctx.remember(key, (size, mtime), &e, deps);
            }
            FileOutcome { read: true, ..outcome(&input.display, path_agency, e, ctx) }
        }
        Err((stage, msg)) => {
            let agency = path_agency.unwrap_or_else(|| agencies.unassigned());
            FileOutcome {
                record: Some(FileRecord { agency: agency.clone(), signatures: 0 }),
                errors: vec![(ErrorRow::new(&input.display, "", stage, msg), agency)],
                ..FileOutcome::empty(true)
            }
        }
    };
    (out, size)
}

/// From what was extracted from one file (or one IMAP message) to
/// findings and error rows. The agency: `known` (path rules, mailbox
/// owner) first, then the sender of the message the signature came in,
/// then the signer certificate.
fn outcome(
    file: &str,
    known: Option<AgencyRef>,
    extraction: Extraction,
    ctx: &Context<'_>,
) -> FileOutcome {
    let agencies = &ctx.rules.agencies;
    let file_agency = || known.clone().unwrap_or_else(|| agencies.unassigned());
    let mut out = FileOutcome::empty(false);
    for p in extraction.problems {
        out.errors.push((ErrorRow::new(file, p.member, p.stage, p.error), file_agency()));
    }
    for sig in extraction.signatures {
        if out.not_signers.count(sig.kind) {
            continue;
        }
        // The place: the file's folder (or mailbox); for a message with no
        // place of its own, its sender's domain. Never the signer's.
        let place =
            known.clone().or_else(|| sig.mail_from.as_deref().and_then(|a| agencies.by_mail(a)));
        let mut sig = sig;
        ctx.anchors.complete_signer(&mut sig);
        let Some(signer) = sig.signer.clone() else {
            let who = agencies.attribute(None, place.as_ref());
            out.findings.push(crate::classify::finding_without_certificate(file, &sig, &who));
            continue;
        };
        ctx.meet_cas(&sig.certs, &signer, file);
        let class = ctx.classify(&signer, &sig.certs);
        let who =
            agencies.attribute(Some((&signer, ctx.agency_of_signer(&signer))), place.as_ref());
        if (class.issuer_missing || class.ca.is_none())
            && let Ok(mut unknown) = ctx.unknown_issuers.lock()
        {
            unknown.entry(signer.sha256_hex()).or_insert_with(|| signer.clone());
        }
        if class.issuer_missing {
            out.waiting.push(Waiting {
                index: out.findings.len(),
                sig: sig.clone(),
                who: who.clone(),
            });
        }
        judge_certificate(&mut sig, &class, ctx.anchors);
        out.findings.push(crate::classify::finding(file, &sig, &class, &who));
    }
    // A file counts for its place; a file with none, for its first signer's agency.
    let agency = known.clone().or_else(|| {
        out.findings
            .first()
            .map(|f| AgencyRef { id: f.agency_id.clone(), name: f.agency_name.clone() })
    });
    out.record = Some(FileRecord {
        agency: agency.unwrap_or_else(|| agencies.unassigned()),
        signatures: out.findings.len(),
    });
    out
}

/// Every message of the IMAP sources, and the mailboxes listed completely.
/// Fetching is sequential per account; each fetched batch is checked
/// before the next one is fetched.
fn scan_imap(
    opts: &ScanOptions,
    ctx: &Context<'_>,
    progress: &Progress,
) -> (Vec<FileOutcome>, Vec<String>) {
    let Some(auth) = &opts.imap_auth else { return (Vec::new(), Vec::new()) };
    let agencies = &ctx.rules.agencies;
    let mut outcomes = Vec::new();
    let mut complete = Vec::new();
    for source in &opts.imap {
        let owner = agencies.by_mail(&source.user);
        let path_agency = |mailbox: &str, url: &str| {
            agencies
                .by_path(&format!("{}@{}/{}", source.user, source.host, mailbox), url)
                .or_else(|| owner.clone())
        };
        // A message URL names one message for good (UIDVALIDITY + UID): with
        // the same size, what an earlier run extracted from it stands.
        let answered = std::cell::RefCell::new(HashMap::new());
        let known = |url: &str, size: u64| match ctx.stored_extraction(url, Some((size, 0))) {
            Some(extraction) => {
                answered.borrow_mut().insert(url.to_owned(), extraction);
                true
            }
            None => false,
        };
        crate::source::imap::read_all(
            source,
            auth,
            ctx.limits.max_file_bytes,
            &known,
            &mut |event| {
                let o = match event {
                    ImapEvent::Message { url, mailbox, size, bytes } => {
                        let env = formats::Env::new(ctx.unpack, None);
                        let unit = Unit::enter_alone(ctx.unpack.unit);
                        let mut extraction =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                formats::mail::extract_message(&bytes, 0, &env)
                            }))
                            .unwrap_or_else(|_| {
                                let mut e = Extraction::default();
                                e.problem(
                                    "",
                                    Stage::Mail,
                                    "internal error while reading this message (a parser panicked)",
                                );
                                e
                            });
                        if let Some(over) = unit.finish() {
                            extraction.over_budget("", over);
                        }
                        extraction.content_sha256 = Some(crate::asn1::ber::hex(
                            &crate::crypto::Hash::Sha256.digest(&[&bytes]),
                        ));
                        ctx.remember(url.clone(), (size, 0), &extraction, Vec::new());
                        FileOutcome {
                            read: true,
                            ..outcome(&url, path_agency(&mailbox, &url), extraction, ctx)
                        }
                    }
                    ImapEvent::Known { url, mailbox } => match answered.borrow_mut().remove(&url) {
                        Some(extraction) => {
                            outcome(&url, path_agency(&mailbox, &url), extraction, ctx)
                        }
                        None => {
                            let agency = owner.clone().unwrap_or_else(|| agencies.unassigned());
                            let error = "the stored result for this message cannot be read: \
                                         rescan with --full";
                            FileOutcome {
                                errors: vec![(ErrorRow::new(url, "", Stage::Imap, error), agency)],
                                ..FileOutcome::empty(false)
                            }
                        }
                    },
                    ImapEvent::MailboxRead { messages_prefix } => {
                        complete.push(messages_prefix);
                        return;
                    }
                    ImapEvent::Problem { place, error } => {
                        let agency = owner.clone().unwrap_or_else(|| agencies.unassigned());
                        FileOutcome {
                            errors: vec![(ErrorRow::new(place, "", Stage::Imap, error), agency)],
                            ..FileOutcome::empty(false)
                        }
                    }
                };
                progress.file_done(0, o.errors.len());
                outcomes.push(o);
            },
        );
    }
    (outcomes, complete)
}

impl Context<'_> {
    /// What an earlier run extracted from `key` at `stamp`, if it stands.
    fn stored_extraction(&self, key: &str, stamp: Option<(u64, i128)>) -> Option<Extraction> {
        self.cache?.lookup(key, stamp?)
    }

    /// Keeps what was extracted from `key` at `stamp` for the next run.
    fn remember(&self, key: String, stamp: (u64, i128), e: &Extraction, deps: Vec<Dependency>) {
        if let Some(cache) = self.cache {
            cache.remember(key, stamp, e, deps);
        }
    }

    fn classify(&self, signer: &Arc<Cert>, certs: &[Arc<Cert>]) -> Classification {
        let key: Vec<[u8; 32]> =
            std::iter::once(signer.sha256).chain(certs.iter().map(|c| c.sha256)).collect();
        self.classified
            .get_or(key, || classify(signer.clone(), certs, self.anchors, &self.rules.catalogue))
    }
}

impl Context<'_> {
    /// Keeps the CA certificates a signature carries (its signer aside)
    /// that the anchor folder lacks, for [`complete_chains`].
    fn meet_cas(&self, certs: &[Arc<Cert>], signer: &Cert, file: &str) {
        let mut cas = certs
            .iter()
            .filter(|c| {
                c.sha256 != signer.sha256
                    && (c.is_ca || c.version < 3)
                    && !self.anchors.contains(&c.sha256)
            })
            .peekable();
        if cas.peek().is_none() {
            return;
        }
        let Ok(mut met) = self.met_cas.lock() else { return };
        for ca in cas {
            // The first file in path order names where it was found,
            // whichever worker met it first.
            let entry = met.entry(ca.sha256).or_insert_with(|| (ca.clone(), file.to_owned()));
            if file < entry.1.as_str() {
                entry.1 = file.to_owned();
            }
        }
    }

    fn agency_of_signer(&self, signer: &Cert) -> Option<AgencyRef> {
        self.agency_of_signer.get_or(signer.sha256, || self.rules.agencies.by_cert(signer))
    }

    /// A file's key in the cache: its absolute path.
    fn key(&self, path: &Path) -> String {
        let text = path.to_string_lossy();
        let mut key = String::with_capacity(self.cwd_text.len() + 1 + text.len());
        if !path.is_absolute() {
            key.push_str(&self.cwd_text);
            key.push('/');
        }
        key.push_str(&text);
        // Fold `.` components (`./share`), as std::path::absolute does.
        if key.contains("/./") || key.ends_with("/.") {
            return Path::new(&key)
                .components()
                .collect::<PathBuf>()
                .to_string_lossy()
                .into_owned();
        }
        key
    }
}

/// Completes, once every file is read, the chains that stopped for want
/// of an issuer certificate, with the CA certificates other files carried
/// (an e-invoice often embeds only its leaf, while another document of the
/// same CA embeds the issuing CA). Only a CA certificate that itself
/// verifies up to a pinned certificate (or is one) serves: a forged one in
/// one file must never turn another file's genuine signer into a broken
/// chain. Returns the CA certificates learned this way.
fn complete_chains(
    findings: &mut [Finding],
    waiting: Vec<Waiting>,
    ctx: &Context<'_>,
) -> Vec<LearnedCa> {
    let met = ctx.met_cas.lock().map(|mut m| std::mem::take(&mut *m)).unwrap_or_default();
    if met.is_empty() {
        return Vec::new();
    }
    let catalogue = &ctx.rules.catalogue;
    let mut sorted: Vec<&(Arc<Cert>, String)> = met.values().collect();
    sorted.sort_by(|a, b| (&a.1, a.0.sha256).cmp(&(&b.1, b.0.sha256)));
    // In path order, not the map's (random) order: which of two CA
    // certificates of one name a chain takes must not vary between runs.
    let all: Vec<Arc<Cert>> = sorted.iter().map(|(c, _)| c.clone()).collect();
    let mut learned: Vec<LearnedCa> = Vec::new();
    let mut store = ctx.anchors.clone();
    for (ca, found_in) in sorted {
        let pinned = catalogue.by_sha256(&ca.sha256);
        let up_to = match pinned {
            Some(p) => Some(p.ca),
            None => match chain::build(ca.clone(), &all, ctx.anchors, catalogue).end {
                PathEnd::Pinned(p) | PathEnd::SameKeyAsPinned(p) => Some(p.ca),
                _ => None,
            },
        };
        if let Some(up_to) = up_to {
            store.add(ca.clone());
            learned.push(LearnedCa {
                sha256: ca.sha256_hex(),
                subject: ca.subject.to_string(),
                ca_id: up_to.id.clone(),
                pinned: pinned.is_some(),
                found_in: found_in.clone(),
                completed: 0,
                der: ca.der.clone(),
            });
        }
    }
    // A certificate met that verifies up to no pin may still be a signer's
    // true issuer: when its key verifies the signer's own signature, the
    // signer's chain is that certificate's (a forger's CA carried by one
    // file shows what a leaf-only file of the same forger is). It never
    // serves a signer its key does not verify: the signer keeps its verdict.
    let mut with_unverified = store.clone();
    for ca in &all {
        with_unverified.add(ca.clone());
    }
    for w in waiting {
        let Some(signer) = w.sig.signer.clone() else { continue };
        // With nothing learned the store is the anchor folder, whose answer
        // the signer already has: no second classification for it.
        let completed = (!learned.is_empty())
            .then(|| classify(signer.clone(), &w.sig.certs, &store, catalogue))
            .filter(|c| !c.issuer_missing);
        let (class, used) = match completed {
            Some(class) => (class, &store),
            None if with_unverified.len() > store.len() => {
                let other = classify(signer, &w.sig.certs, &with_unverified, catalogue);
                if other.issuer_missing || other.path.len() < 2 {
                    continue;
                }
                (other, &with_unverified)
            }
            None => continue,
        };
        let mut sig = w.sig;
        // Say which file each certificate the new path took came from.
        for link in class.path.iter().skip(1).filter(|l| l.origin == chain::Origin::Anchors) {
            let Some((_, found_in)) = met.get(&link.cert.sha256) else { continue };
            if let Some(l) = learned.iter_mut().find(|l| l.sha256 == link.cert.sha256_hex()) {
                l.completed += 1;
            }
            let note = format!(
                "issuer certificate \"{}\" taken from another scanned file, {found_in}",
                link.cert.cn()
            );
            sig.note(crate::model::note::Note::Certificate(note));
        }
        judge_certificate(&mut sig, &class, used);
        if let Some(slot) = findings.get_mut(w.index) {
            *slot = crate::classify::finding(&slot.file, &sig, &class, &w.who);
        }
    }
    learned
}

/// The agencies whose places sit under a SOURCE that is missing (an
/// unmounted share): what would have been found there is unknown.
fn missing_places(sources: &[PathBuf], agencies: &crate::rules::AgencyMap) -> Vec<AgencyRef> {
    let mut out: Vec<AgencyRef> = Vec::new();
    for source in sources.iter().filter(|s| std::fs::symlink_metadata(s).is_err()) {
        // A file that would have been inside: path rules name folders.
        let inside = source.join("x").to_string_lossy().into_owned();
        if let Some(a) = agencies.by_path("", &inside).filter(|a| !out.contains(a)) {
            out.push(a);
        }
    }
    out
}

/// (size, mtime) of a file or folder: what says it changed.
pub(crate) fn stamp_of(path: &Path) -> Option<(u64, i128)> {
    std::fs::metadata(path).ok().and_then(|m| Some((m.len(), crate::sys::mtime_ns(&m)?)))
}

/// `cert_valid_at_signing`: every certificate of the chain valid at the
/// signing time, not revoked then, and the signer's key allowed to sign
/// documents at all. Trust gathers the evidence; `verdict` decides.
pub(crate) fn judge_certificate(
    sig: &mut crate::model::signature::Signature,
    class: &crate::classify::Classification,
    anchors: &AnchorStore,
) {
    use crate::verdict::{CertEvidence, Revocation};
    let when = sig.judged_at();
    let validity = when.map(|w| crate::trust::validity::valid_at_signing(&class.path, w));
    let revocation = if let (Some(signer), Some(issuer)) = (class.path.first(), class.path.get(1)) {
        // What the signature carries, then what the anchor folder has.
        let crls: Vec<&[u8]> = sig.crls.iter().chain(&anchors.crls).map(Vec::as_slice).collect();
        let ocsp: Vec<&[u8]> = sig.ocsp.iter().chain(&anchors.ocsp).map(Vec::as_slice).collect();
        let revocation = crate::trust::revocation::check(&signer.cert, &issuer.cert, &crls, &ocsp);
        Revocation::Checked {
            revoked_at_signing: when.is_some_and(|w| revocation.revoked_by(w)),
            note: revocation.note(&signer.cert, when),
        }
    } else if !sig.crls.is_empty() || !sig.ocsp.is_empty() {
        Revocation::IssuerMissing
    } else {
        Revocation::None
    };
    let usage_problems =
        sig.signer.as_ref().map(|s| crate::trust::validity::usage_problems(s)).unwrap_or_default();
    let (valid, notes) = crate::verdict::cert_valid_at_signing(&CertEvidence {
        validity,
        revocation,
        usage_problems,
    });
    if valid.is_some() {
        sig.cert_valid_at_signing = valid;
    }
    sig.notes.extend(notes);
}

/// Reads only what is needed: the head to decide what the file is, the
/// whole file only if it may be signed. `Ok(None)`: not signed.
/// `known_size`: the size the walk saw, when it stat'ed the file (saves a
/// system call per file; a file that changed since is caught by
/// `changed_while_read`).
pub(crate) fn read_and_extract(
    input: &Input,
    known_size: Option<u64>,
    limits: ReadLimits,
    unpack: formats::Limits,
) -> Result<Option<Extraction>, (Stage, String)> {
    read_extract(input, known_size, limits, unpack, &CpuPool::inline()).map(|(e, _)| e)
}

/// [`read_and_extract`], parsing in the `cpu` pool. Also
/// returns the (size, mtime) of the open file after reading it, when it
/// was read whole (what the history checks against the stamp).
#[expect(clippy::too_many_lines, reason = "111 lines, from before the limit")]
fn read_extract(
    input: &Input,
    known_size: Option<u64>,
    limits: ReadLimits,
    unpack: formats::Limits,
    cpu: &CpuPool,
) -> Result<(Option<Extraction>, Option<Stamp>), (Stage, String)> {
    let read_err = |e: std::io::Error| (Stage::Read, format!("cannot read: {e}"));
    let mut file = input.open().map_err(read_err)?;
    let size = match known_size {
        Some(size) => size,
        None => file.metadata().map_err(read_err)?.len(),
    };
    let mut head = read_head(&mut file, limits.sniff_bytes).map_err(read_err)?;
    let name = input.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if size == 0 {
        return if formats::named_as_signable(&name) {
            Err((Stage::Read, "an empty file (0 bytes): nothing in it to check".into()))
        } else {
            Ok((None, None))
        };
    }
    let Some(kind) = formats::sniff(&head, &name) else { return Ok((None, None)) };
    // A file too big to read whole, and a PDF over 128 KiB (almost every
    // PDF of a share is unsigned): streamed first through a buffer each
    // worker keeps. Without its signature marker it is unsigned; one that
    // may be signed is a row when too big, else read whole from the start.
    let too_big =
        (size > limits.max_file_bytes || size > unpack.unit.memory) && kind != DocKind::Mbox;
    let large_pdf = kind == DocKind::Pdf
        && size > STREAM_PDF_FROM
        && memchr::memmem::find(&head[..head.len().min(1024)], b"%PDF-").is_some();
    if too_big || large_pdf {
        let unsigned = match kind.format().marker {
            Some(marker) => {
                !stream_matches(&mut file, &head, MARKER_OVERLAP, marker).map_err(read_err)?
            }
            None => false,
        };
        if unsigned {
            return Ok((None, None));
        }
        if size > limits.max_file_bytes {
            return Err((
                Stage::Limit,
                format!(
                    "{size} bytes: larger than the {} byte limit for signed files \
                     (--max-file-size)",
                    limits.max_file_bytes
                ),
            ));
        }
        if too_big {
            return Err((
                Stage::Limit,
                format!(
                    "a file of {size} bytes: {}",
                    crate::budget::OverBudget::Memory(unpack.unit.memory)
                ),
            ));
        }
        file.seek(std::io::SeekFrom::Start(0)).map_err(read_err)?;
        head = Vec::new();
    }
    let path = input.path.clone();
    if kind == DocKind::Mbox {
        // Streamed message by message: a mailbox is never read whole. At
        // most --max-file-size bytes, and never past the size it had when
        // opened (a mailbox that grows while read still ends). Its reads
        // happen in the CPU pool, as its messages are parsed.
        return Ok(cpu.run(move || {
            let mut file = file;
            let limit = size.min(limits.max_file_bytes);
            let read = AtomicU64::new(0);
            let stream = Counted {
                inner: std::io::Cursor::new(head).chain(&mut file).take(limit),
                read: &read,
            };
            let (mut e, depends_on) =
                with_env(&path, limits, unpack, |env| formats::mail::extract_mbox(stream, 0, env));
            if size > limits.max_file_bytes {
                e.problem(
                    "",
                    Stage::Limit,
                    format!(
                        "mailbox of {size} bytes: only its first {} bytes were read \
                         (--max-file-size); later messages are not in the report",
                        limits.max_file_bytes
                    ),
                );
            }
            let after =
                changed_while_read(&file, size, read.load(Ordering::Relaxed), limit, &mut e);
            e.depends_on = depends_on;
            (Some(e), after)
        }));
    }
    // The file is one unit: its bytes and all it unfolds into.
    // (A file over the memory budget was refused above, before reading.)
    let mut bytes = read_whole(&mut file, head, size).map_err(read_err)?;
    // Read as it was at `size` bytes: a byte past it says it grew.
    let grew = bytes.len() as u64 > size;
    bytes.truncate(usize::try_from(size).unwrap_or(usize::MAX));
    // Only a file that grew is stat'ed again (for its new size, in the
    // row): one that shrank read short, and one rewritten in place has
    // a new mtime, which the history's stamp, taken before, misses.
    let mut changed = Extraction::default();
    let after = if grew || (bytes.len() as u64) < size {
        changed_while_read(&file, size, bytes.len() as u64, size, &mut changed)
    } else {
        None
    };
    drop(file);
    let unsigned_pdf = kind == DocKind::Pdf && !formats::pdf_may_be_signed(&bytes);
    let parse = move || {
        let unit = Unit::enter_alone_holding(unpack.unit, bytes.capacity() as u64);
        let (mut e, depends_on) = with_env(&path, limits, unpack, |env| {
            formats::extract_bytes(&bytes, &name, "", 0, env)
        });
        if let Some(over) = unit.finish() {
            e.over_budget("", over);
        }
        e.problems.extend(changed.problems);
        // The file's fingerprint, kept in the history beside what it holds:
        // worth its cost only where something was found.
        if !e.signatures.is_empty() || !e.problems.is_empty() {
            e.content_sha256 =
                Some(crate::asn1::ber::hex(&crate::crypto::Hash::Sha256.digest(&[&bytes])));
        }
        e.depends_on = depends_on;
        e
    };
    // A PDF without any signature marker (most of a share's) costs one
    // pass over its bytes: not worth a hand-over to the CPU pool.
    let e = if unsigned_pdf { parse() } else { cpu.run(parse) };
    Ok((Some(e), after))
}

/// Runs `extract` with the file's environment: the data of a detached
/// signature and the files beside an XML signature, read from its folder.
/// Also returns the files the answer depends on.
fn with_env(
    path: &Path,
    limits: ReadLimits,
    unpack: formats::Limits,
    extract: impl FnOnce(&formats::Env<'_>) -> Extraction,
) -> (Extraction, Vec<PathBuf>) {
    let depends_on = std::cell::RefCell::new(Vec::new());
    let detached = || {
        let (found, used) = detached_data(path, limits);
        depends_on.borrow_mut().extend(used);
        found
    };
    let beside = |name: &str| -> Result<Vec<u8>, formats::FormatError> {
        let path = file_beside(path, name)?;
        depends_on
            .borrow_mut()
            .extend([path.parent().unwrap_or(Path::new(".")).to_path_buf(), path.clone()]);
        open_noatime(&path)
            .and_then(|mut f| read_rest(&mut f, Vec::new(), limits.max_file_bytes))
            .map_err(|e| format!("{name}, beside the signature, cannot be read: {e}").into())
    };
    let mut env = formats::Env::new(unpack, Some(&detached));
    env.beside = Some(&beside);
    let e = extract(&env);
    (e, depends_on.into_inner())
}

/// A file's (size, mtime in nanoseconds): what says it changed.
type Stamp = (u64, i128);

/// Counts the bytes a reader gave (the mailbox stream moves into the
/// extractor's worker threads; the count stays here).
struct Counted<'a, R> {
    inner: R,
    read: &'a AtomicU64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A file is read as it was when opened: `size` bytes, of which `wanted`
/// were to be read. One that shrank or grew meanwhile gets a row saying so.
/// Returns the open file's (size, mtime) after reading, when known: the
/// one stat (of the handle) that also tells the history whether the file
/// changed while read.
fn changed_while_read(
    file: &std::fs::File,
    size: u64,
    read: u64,
    wanted: u64,
    e: &mut Extraction,
) -> Option<(u64, i128)> {
    let now = file.metadata().ok().and_then(|m| Some((m.len(), crate::sys::mtime_ns(&m)?)));
    if read < wanted {
        e.problem(
            "",
            Stage::Read,
            format!(
                "the file shrank while it was read: {read} of its {size} bytes were there; what \
                 is missing is not in the report"
            ),
        );
    } else if let Some((now, _)) = now
        && now > size
    {
        e.problem(
            "",
            Stage::Read,
            format!(
                "the file grew while it was read ({size} → {now} bytes): read as it was at {size} \
                 bytes; the rest is in the next scan"
            ),
        );
    }
    now
}

/// The file a detached XML signature's reference names, relative to the
/// signature's folder: never an absolute path, a URL, or a way out of the
/// folder (`..`): a scanned file must not make the scanner read elsewhere.
fn file_beside(sig_path: &Path, name: &str) -> Result<PathBuf, formats::FormatError> {
    let relative = Path::new(name);
    let outside = name.contains(':')
        || name.contains('\\')
        || relative
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir));
    if name.is_empty() || outside {
        return Err(
            format!("{name}: a reference outside the signature's folder is not followed").into()
        );
    }
    let dir = sig_path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Ok(dir.join(relative))
}

/// The data file a detached signature signs: `x.pdf` beside `x.pdf.p7s`
/// (also `.sig`, `.csig`); else the one sibling with the same stem.
/// Also returns what the answer depends on: the folder (its listing
/// decides which sibling is the data) and the data file.
fn detached_data(sig_path: &Path, limits: ReadLimits) -> (Detached, Vec<PathBuf>) {
    let dir = sig_path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let found = find_detached_data(sig_path, dir, limits);
    let mut used = vec![dir.to_path_buf()];
    if let Detached::Found { name, .. } = &found {
        used.push(dir.join(name));
    }
    (found, used)
}

fn find_detached_data(sig_path: &Path, dir: &Path, limits: ReadLimits) -> Detached {
    let name = sig_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = [".p7s", ".sig", ".csig", ".p7m", ".P7S", ".SIG"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(&name);
    let mut candidate = dir.join(stem);
    if stem == name || !candidate.is_file() {
        let siblings: Vec<PathBuf> = crate::source::walk::list_dir(dir)
            .into_iter()
            .flatten()
            .map(|(name, _)| dir.join(name))
            .filter(|p| {
                p != sig_path
                    && p.is_file()
                    && p.file_stem().is_some_and(|s| s.to_string_lossy() == stem)
            })
            .collect();
        match siblings.as_slice() {
            [one] => candidate = one.clone(),
            [] => {
                return Detached::NotFound(format!(
                    "the signed file ({stem}) is not beside the signature"
                ));
            }
            _ => {
                return Detached::NotFound(format!(
                    "several files named {stem}.* are beside the signature: which one was signed \
                     is ambiguous"
                ));
            }
        }
    }
    let shown = candidate.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let read = open_noatime(&candidate)
        .and_then(|mut f| read_rest(&mut f, Vec::new(), limits.max_file_bytes));
    match read {
        Ok(bytes) => Detached::Found { name: shown, bytes },
        Err(e) => Detached::NotFound(format!("the signed file {shown} cannot be read: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_never_leads_out_of_the_signatures_folder() {
        let sig = Path::new("/share/a/chu-ky.xml");
        assert_eq!(file_beside(sig, "Công văn.pdf").unwrap(), Path::new("/share/a/Công văn.pdf"));
        assert_eq!(file_beside(sig, "phu-luc/1.txt").unwrap(), Path::new("/share/a/phu-luc/1.txt"));
        for hostile in [
            "../b/x.pdf",
            "/etc/passwd",
            "phu-luc/../../x",
            "http://example.org/x",
            "file:///etc/passwd",
            "..\\x",
            "C:x",
            "",
        ] {
            assert!(file_beside(sig, hostile).is_err(), "{hostile}");
        }
    }

    #[test]
    fn a_file_that_shrank_or_grew_while_read_is_a_row() {
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &[b'x'; 10]).unwrap();
        let mut e = Extraction::default();
        // Opened at 20 bytes, 10 found: it shrank.
        changed_while_read(&f, 20, 10, 20, &mut e);
        assert_eq!(e.problems.len(), 1);
        assert!(
            e.problems[0].error.contains("shrank while it was read: 10 of its 20 bytes"),
            "{}",
            e.problems[0].error
        );
        // Opened at 5 bytes, 5 read, 10 now: it grew.
        let mut e = Extraction::default();
        changed_while_read(&f, 5, 5, 5, &mut e);
        assert!(
            e.problems[0]
                .error
                .contains("grew while it was read (5 → 10 bytes): read as it was at 5 bytes"),
            "{}",
            e.problems[0].error
        );
        // Unchanged: nothing to say.
        let mut e = Extraction::default();
        changed_while_read(&f, 10, 10, 10, &mut e);
        assert!(e.problems.is_empty());
    }
}
