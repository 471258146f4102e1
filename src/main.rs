//! sigaudit: dispatch the subcommands. The work lives in the library.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use sigaudit::cli::{self, Cli, Command, HistoryCommand, RulesCommand, ScanArgs};
use sigaudit::history::{self, Database, Store};
use sigaudit::session::Session;
use sigaudit::{inspect, progress, report, scan};

/// Exit codes: docs/report-format.md.
const EXIT_USAGE: u8 = 1;
/// As a shell reports a process ended by SIGINT.
const EXIT_INTERRUPTED: u8 = 130;
const EXIT_INPUT_ERRORS: u8 = 2;
const EXIT_BELOW_THRESHOLD: u8 = 3;

/// Counts each thread's live heap bytes, so a unit of work over its
/// memory budget is noticed (sigaudit::budget).
#[global_allocator]
static ALLOCATOR: sigaudit::budget::Counting = sigaudit::budget::Counting;

fn main() -> ExitCode {
    grow_heap_in_large_steps();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Scan(args) => run_scan(&args),
        Command::Report(args) => run_report(&args),
        Command::Inspect(args) => run_inspect(&args),
        Command::Rules(RulesCommand::Check { dir }) => run_rules_check(dir.as_deref()),
        Command::Rules(RulesCommand::FetchAnchors { rules, out }) => run_fetch(rules.as_deref(), out),
        Command::History(HistoryCommand::Copy { from, to, db }) => run_history_copy(&from, &to, &db),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(msg) => {
            eprintln!("sigaudit: {msg}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run_scan(args: &ScanArgs) -> Result<u8, String> {
    let opts = args.options()?;
    // SIGINT (Ctrl-C) and SIGTERM (systemd, kill) stop the scan cleanly.
    // On Windows: Ctrl-C and Ctrl-Break in the console.
    sigaudit::sys::stop_on_interrupt(&opts.stop)?;
    // The history is locked and its cache read while the rules load.
    let database = args.database()?;
    let sources: Vec<String> = args.sources.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    let mut session = match &database {
        Some(db) => {
            let key = format!("sigaudit {} stored {} {:?} {:?}", sigaudit::VERSION, history::stored::VERSION, opts.limits, opts.unpack);
            Some(Session::open(db, &args.db_args.host(), &sources, std::time::Duration::from_secs(args.wait), key, args.full)?)
        }
        None => None,
    };
    let (rules, anchors) = cli::load_trust(&args.trust)?;
    // Parsers of hostile input recurse: give workers room (every recursion
    // is also bounded in depth).
    let mut pool = rayon::ThreadPoolBuilder::new().stack_size(16 << 20);
    if let Some(n) = args.jobs {
        pool = pool.num_threads(n.max(1));
    }
    pool.build_global().map_err(|e| e.to_string())?;
    let cache = match &mut session {
        Some(s) => Some(s.cache(&sources, &rules.digest, &args.label).map_err(|e| e.to_string())?),
        None => None,
    };
    let progress = scan::Progress::default();
    let scanning = std::sync::atomic::AtomicBool::new(true);
    let (result, visited) = std::thread::scope(|scope| {
        if !args.quiet && std::io::stderr().is_terminal() {
            scope.spawn(|| progress::show(&progress, &scanning));
        }
        let out = scan::run(&opts, &rules, &anchors, &progress, cache.as_ref().map(|c| c as &dyn scan::Cache));
        scanning.store(false, std::sync::atomic::Ordering::Relaxed);
        out
    });
    if visited.interrupted {
        // No report from half a scan: the previous one stays in place.
        let stored = match (session, cache) {
            (Some(s), Some(c)) => s.interrupted(c).map_err(|e| e.to_string())?,
            _ => 0,
        };
        let how = if database.is_some() { format!("{stored} files stored; run again to continue") } else { "nothing stored (--no-db)".into() };
        eprintln!("sigaudit: interrupted: {how}");
        return Ok(EXIT_INTERRUPTED);
    }
    let (pending, past) = match (session, cache) {
        (Some(s), Some(c)) => {
            let (pending, past) = s.end_scan(c, &visited, &opts.sources).map_err(|e| e.to_string())?;
            (Some(pending), Some(past))
        }
        _ => (None, None),
    };
    // The run is stored while the reports are written.
    let (tables, history) = std::thread::scope(|s| -> Result<_, String> {
        let storing = pending.map(|p| s.spawn(|| p.store(&result)));
        let history = past.map(|p| p.view(&result)).transpose().map_err(|e| e.to_string())?;
        let input = report::ReportInput { scan: &result, rules: &rules, anchors: anchors.len(), history: history.as_ref(), lang: args.lang };
        let tables = report::write(&args.out, &input).map_err(|e| format!("{e:#}"))?;
        if let Some(Err(e)) = storing.map(|h| h.join().unwrap_or_else(|_| Err(history::HistoryError::Damaged("storing the run panicked".into())))) {
            return Err(format!("the scan history could not be stored: {e}"));
        }
        Ok((tables, history))
    })?;
    if args.json {
        let mut stdout = std::io::stdout().lock();
        for f in &result.findings {
            let _ = writeln!(stdout, "{}", serde_json::to_string(f).unwrap_or_default());
        }
    }
    let t = &tables.totals;
    let pct = t.migration_pct.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "n/a".into());
    if !args.quiet && !args.json {
        println!(
            "sigaudit: {} files ({} read), {} signatures ({} government, {} commercial, {} other), migration {pct}, {} errors; report in {} ({:.2} s, peak memory {} MiB)",
            t.files_scanned,
            visited.files_read,
            t.signatures,
            t.government,
            t.commercial,
            t.other,
            t.errors,
            args.out.display(),
            (result.finished - result.started).as_seconds_f64(),
            peak_memory_bytes().map_or_else(|| "?".into(), |b| (b >> 20).to_string()),
        );
    }
    if args.save_anchors {
        save_learned(&result.learned)?;
    } else if !args.quiet && !args.json && result.learned.iter().any(|l| l.pinned) {
        println!("sigaudit: pinned CA certificates found in the scanned files are not in the anchors folder: --save-anchors keeps them (see the report)");
    }
    // Every condition is said; the exit code is the most serious one:
    // 3 (below --fail-under) over 2 (inputs that could not be read) over 0.
    let unreadable = !result.errors.is_empty();
    if unreadable {
        eprintln!("sigaudit: {} input(s) could not be read or parsed: see {}", result.errors.len(), args.out.join("errors.csv").display());
    }
    let below = args.fail_under.filter(|min| t.migration_pct.unwrap_or(0.0) < *min);
    if let Some(min) = below {
        eprintln!("sigaudit: migration {pct} is below --fail-under {min}%");
    }
    let code = match (below, unreadable) {
        (Some(_), _) => EXIT_BELOW_THRESHOLD,
        (None, true) => EXIT_INPUT_ERRORS,
        (None, false) => 0,
    };
    // The process ends now: freeing every finding and table one by one
    // would only delay the exit.
    std::mem::forget((result, history, tables));
    Ok(code)
}

/// Writes the CA certificates the scan learned into the user's anchors
/// folder, where `scan` looks by default (as `rules fetch-anchors` does).
fn save_learned(learned: &[sigaudit::model::result::LearnedCa]) -> Result<(), String> {
    let dir = cli::default_anchor_dir().ok_or("--save-anchors: no anchors folder (set SIGAUDIT_ANCHORS or HOME)")?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("--save-anchors: cannot create {}: {e}", dir.display()))?;
    for l in learned {
        let file = dir.join(format!("{}__{}.der", l.ca_id, &l.sha256[..16]));
        std::fs::write(&file, &l.der).map_err(|e| format!("--save-anchors: cannot write {}: {e}", file.display()))?;
    }
    eprintln!("sigaudit: {} CA certificate(s) found in the scanned files kept in {}", learned.len(), dir.display());
    Ok(())
}

fn run_report(args: &cli::ReportArgs) -> Result<u8, String> {
    let db = args.db_args.database(&args.db)?;
    if let Some(id) = args.delete_run {
        return delete_run(&db, &args.db_args.host(), id);
    }
    if !args.list {
        report::folder::check(&args.out, &[]).map_err(|e| e.to_string())?;
    }
    let (rules, anchors) = cli::load_trust(&args.trust)?;
    require_db(&db)?;
    let db_err = db_error(&db);
    let store = db.open(&args.db_args.host()).map_err(db_err)?;
    if args.list {
        return list_runs(&db, store.as_ref());
    }
    // A province's database: every host's latest audit of every source, merged.
    let province = matches!(db, Database::Postgres(_)) && args.run.is_none();
    let (run, mut result, hosts) = if province {
        let (merged, hosts) = history::province::merge(store.as_ref(), time::OffsetDateTime::now_utc()).map_err(db_err)?;
        (None, merged, hosts)
    } else {
        let run = history::pick_run(store.as_ref(), args.run).map_err(db_err)?;
        let result = store.load_run(run.id).map_err(db_err)?;
        (Some(run), result, Vec::new())
    };
    // Whose signature it is follows the current rules, as a rescan would.
    let certs = store.cached_certs().map_err(db_err)?;
    history::reattribute(&mut result.findings, &certs, &rules.agencies);
    // The CAs the current rules do not know, from the kept signer certificates.
    let signer = |sha: &str| certs.get(sha).and_then(|der| sigaudit::cert::Cert::from_der(der).ok()).map(std::sync::Arc::new);
    result.unknown_cas = sigaudit::classify::unknown_cas(&result.findings, signer, &rules.catalogue);
    let view = match &run {
        Some(run) => history::view(store.as_ref(), run.id, &result, args.compare).map_err(db_err)?,
        None => {
            let (changes, previous) = history::province::changes(store.as_ref(), &result, &hosts).map_err(db_err)?;
            history::HistoryView { runs: store.runs().map_err(db_err)?, audits: store.audit_points().map_err(db_err)?, previous, changes, hosts }
        }
    };
    let input = report::ReportInput { scan: &result, rules: &rules, anchors: anchors.len(), history: Some(&view), lang: args.lang };
    let tables = report::write(&args.out, &input).map_err(|e| format!("{e:#}"))?;
    let pct = tables.totals.migration_pct.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "n/a".into());
    let what = match &run {
        Some(run) => format!("run {}", run.id),
        None => {
            let stale = view.hosts.iter().filter(|h| h.stale).count();
            format!("the province ({} host audits, {stale} not from this month)", view.hosts.len())
        }
    };
    println!("sigaudit: {what} ({} signatures, migration {pct}) reported in {}", tables.totals.signatures, args.out.display());
    Ok(0)
}

/// `report --list`: the completed runs, each with its host.
fn list_runs(db: &Database, store: &dyn Store) -> Result<u8, String> {
    let db_err = db_error(db);
    let runs = store.runs().map_err(db_err)?;
    if runs.is_empty() {
        println!("sigaudit: {} holds no completed run yet (an interrupted first scan is finished by running it again)", db.describe());
        return Ok(0);
    }
    let audits = store.audit_points().map_err(db_err)?;
    println!("run\thost\tfinished\tlabel\tfiles\tsignatures\tmigration\tsources");
    for r in runs {
        let finished = r.finished.map(sigaudit::model::rfc3339).unwrap_or_default();
        // The province's figure, as the run's reports gave it (external signers left out).
        let own = audits.iter().filter(|a| a.run == r.id && !sigaudit::rules::is_external_id(&a.agency_id));
        let (gov, all) = own.fold((0, 0), |(g, n), a| (g + a.government, n + a.government + a.commercial + a.other));
        let pct = sigaudit::aggregate::migration_pct(gov, all).map_or_else(|| "n/a".into(), |p| format!("{p:.1}%"));
        let (label, host) = (sigaudit::report::marked::mark(&r.label), sigaudit::report::marked::mark(&r.host));
        println!("{}\t{host}\t{finished}\t{label}\t{} ({} read, {} removed)\t{}\t{pct}\t{}", r.id, r.files, r.files_read, r.files_removed, r.signatures, r.sources.join(" "));
    }
    Ok(0)
}

/// `report` reads an existing history only (opening would create an empty one).
fn require_db(db: &Database) -> Result<(), String> {
    if db.exists() { Ok(()) } else { Err(format!("{}: no such database", db.describe())) }
}

fn db_error(db: &Database) -> impl Fn(history::HistoryError) -> String + Copy + '_ {
    move |e| format!("{}: {e}", db.describe())
}

/// `report --delete-run`: under the scans' lock, so never beside a running scan.
fn delete_run(db: &Database, host: &str, id: i64) -> Result<u8, String> {
    require_db(db)?;
    let db_err = db_error(db);
    let _lock = match db {
        Database::Sqlite(p) => Some(history::lock::acquire(p, std::time::Duration::ZERO).map_err(db_err)?),
        Database::Postgres(_) => None,
    };
    let mut store = db.open(host).map_err(db_err)?;
    store.delete_run(id).map_err(db_err)?;
    println!("sigaudit: run {id} deleted from {}", db.describe());
    Ok(0)
}

/// `history copy`: every completed run of `from` into `to`, recorded under
/// `--host-label` where `from` has no host names.
fn run_history_copy(from: &std::path::Path, to: &std::path::Path, args: &cli::DbArgs) -> Result<u8, String> {
    let source = Database::parse(from, None, None).or_else(|_| args.database(from))?;
    let target = args.database(to)?;
    require_db(&source)?;
    let host = args.host();
    let (src_err, dst_err) = (db_error(&source), db_error(&target));
    let reader = source.open(&host).map_err(src_err)?;
    target.open(&host).map_err(dst_err)?;
    let copied = history::copy::copy(reader.as_ref(), &|h| target.open(h), &host).map_err(|e| format!("{} → {}: {e}", source.describe(), target.describe()))?;
    println!(
        "sigaudit: {} run(s) copied from {} into {} ({} already there), {} certificate(s); runs without a host recorded as {}",
        copied.runs,
        source.describe(),
        target.describe(),
        copied.skipped,
        copied.certs,
        sigaudit::report::marked::mark(&host)
    );
    Ok(0)
}

fn run_inspect(args: &cli::InspectArgs) -> Result<u8, String> {
    let shown = |text: &str| report::marked::mark(text).into_owned();
    // Like scan, only regular files: opening a FIFO or a device would block or read forever.
    match std::fs::metadata(&args.file) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(format!("{}: not a regular file (a folder, FIFO, socket or device): inspect reads files only", shown(&args.file.display().to_string()))),
        Err(e) => return Err(format!("{}: {e}", shown(&args.file.display().to_string()))),
    }
    let (rules, anchors) = cli::load_trust(&args.trust)?;
    let input = sigaudit::source::Input::file(args.file.clone());
    match scan::read_and_extract(&input, None, sigaudit::source::ReadLimits::default(), sigaudit::formats::Limits::default()) {
        Ok(extraction) => {
            let extraction = extraction.unwrap_or_default();
            // Names come from the file: never let them drive the terminal.
            print!("{}", shown(&inspect::render(&input.display, &extraction, &rules, &anchors)));
            Ok(if extraction.problems.is_empty() { 0 } else { EXIT_INPUT_ERRORS })
        }
        Err((stage, msg)) => {
            eprintln!("sigaudit: {} ({}): {}", shown(&input.display), stage.as_str(), shown(&msg));
            Ok(EXIT_INPUT_ERRORS)
        }
    }
}

fn run_rules_check(dir: Option<&std::path::Path>) -> Result<u8, String> {
    let rules = match sigaudit::rules::Rules::load(dir) {
        Ok(r) => r,
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!("sigaudit: {} problem(s) in the rules", diags.len());
            return Ok(EXIT_USAGE);
        }
    };
    let anchors = sigaudit::trust::AnchorStore::load(&rules.anchor_dirs);
    for (path, problem) in &anchors.problems {
        eprintln!("{}: {problem}", path.display());
    }
    let pinned = anchors.iter().filter(|c| rules.catalogue.by_sha256(&c.sha256).is_some()).count();
    println!(
        "rules ok: {} CAs, {} pinned certificates, {} agencies; anchors folder: {} certificates ({} pinned); from {}",
        rules.catalogue.cas.len(),
        rules.catalogue.pins().count(),
        rules.agencies.agencies.len(),
        anchors.len(),
        pinned,
        rules.origin.join(", ")
    );
    Ok(if anchors.problems.is_empty() { 0 } else { EXIT_USAGE })
}

fn run_fetch(rules_dir: Option<&std::path::Path>, out: Option<std::path::PathBuf>) -> Result<u8, String> {
    let rules = sigaudit::rules::Rules::load(rules_dir).map_err(|d| d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))?;
    let out = out.or_else(cli::default_anchor_dir).ok_or("no --out given and no home folder to default to")?;
    let report = sigaudit::fetch::fetch_anchors(&rules, &out).map_err(|e| format!("{e:#}"))?;
    for (file, ca) in &report.saved {
        println!("saved {} ({ca})", out.join(file).display());
    }
    for (url, why) in &report.failed {
        eprintln!("{url}: {why}");
    }
    println!(
        "{} pinned certificates saved in {}; {} URLs failed; {} pins have no official download URL (put those certificates in the folder by hand)",
        report.saved.len(),
        out.display(),
        report.failed.len(),
        report.no_url.len()
    );
    Ok(if report.failed.is_empty() { 0 } else { EXIT_INPUT_ERRORS })
}

/// This process's peak resident memory (VmHWM): the figure the benchmarks
/// and the ZIP-bomb test report. Unlike getrusage, it ignores the memory
/// of the parent the process was forked from.
fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse::<u64>().ok()?;
    Some(kib << 10)
}

/// Every scan thread allocates; glibc grows each thread's heap 128 KiB at a
/// time (an mprotect and fresh page faults each), thousands of times in a
/// rescan. 16 MiB steps cost only address space.
fn grow_heap_in_large_steps() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}
