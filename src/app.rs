//! A command's life, below `main` (which only parses and dispatches): the
//! scan's signals, worker threads, history and exit policy; the reports
//! rebuilt from a history; inspect; the rules, configuration and history
//! maintenance commands; what packagers generate (man pages, completions).
//!
//! Every command returns its exit code or one error ([`anyhow::Error`]):
//! a usage mistake or an unusable history, said once by [`run`] and ended
//! with exit code 1.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result, anyhow, bail};
use clap::ArgMatches;

use crate::cli::{
    self, Cli, Command, ConfigCommand, GenerateCommand, HistoryCommand, RulesCommand, ScanArgs,
};
use crate::history::{self, Database, Store};
use crate::session::{self, Session};
use crate::{progress, report, scan};

/// Exit codes: docs/report-format.md.
pub(crate) const EXIT_USAGE: u8 = 1;
/// As a shell reports a process ended by SIGINT.
const EXIT_INTERRUPTED: u8 = 130;
const EXIT_INPUT_ERRORS: u8 = 2;
const EXIT_BELOW_THRESHOLD: u8 = 3;

/// Parses the command line and runs its command.
pub fn main() -> ExitCode {
    let (cli, matches) = match cli::parse() {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli, &matches) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("sigaudit: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// One command, its options lowered once (a scan's `--config` merged in).
pub(crate) fn run(cli: Cli, matches: &ArgMatches) -> Result<u8> {
    match cli.command {
        Command::Scan(args) => {
            let given = matches.subcommand_matches("scan").cloned().unwrap_or_default();
            match (*args).with_config(&given) {
                Ok(args) => scan(&args),
                Err(diags) => Ok(config_problems(&diags)),
            }
        }
        Command::Report(args) => {
            let given = matches.subcommand_matches("report").cloned().unwrap_or_default();
            match args.with_config(&given) {
                Ok(args) => report(&args),
                Err(diags) => Ok(config_problems(&diags)),
            }
        }
        Command::Inspect(args) => inspect(&args),
        Command::Rules(RulesCommand::Check { dir }) => rules_check(dir.as_deref()),
        Command::Rules(RulesCommand::FetchAnchors { rules, out }) => {
            fetch_anchors(rules.as_deref(), out)
        }
        Command::History(HistoryCommand::Copy { from, to, db }) => history_copy(&from, &to, &db),
        Command::Config(ConfigCommand::Check { file }) => config_check(file.as_deref()),
        Command::Generate(what) => generate(&what),
    }
}

/// SIGINT (Ctrl-C) and SIGTERM (systemd, kill) stop the scan cleanly: the
/// flag is the scan's `stop`. The one place signals are handled.
fn stop_on_signals(stop: &Arc<AtomicBool>) -> Result<()> {
    // On Unix SIGINT and SIGTERM; on Windows Ctrl-C and Ctrl-Break.
    crate::sys::stop_on_interrupt(stop).map_err(anyhow::Error::msg)
}

/// Diagnostics, one per line, as `rules check` and `config check` print them.
fn lines(diags: &[crate::rules::Diagnostic]) -> String {
    diags.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
}

fn config_problems(diags: &[crate::rules::Diagnostic]) -> u8 {
    eprintln!("{}", lines(diags));
    eprintln!("sigaudit: {} problem(s) in the configuration", diags.len());
    EXIT_USAGE
}

/// `config check [FILE]`: the file's problems with their places, or what
/// a scan with it would do.
fn config_check(file: Option<&Path>) -> Result<u8> {
    let file = file.unwrap_or(Path::new(crate::config::SYSTEM_CONFIG));
    let (config, notes) = match crate::config::Config::check(file) {
        Ok(checked) => checked,
        Err(diags) => return Ok(config_problems(&diags)),
    };
    for note in &notes {
        eprintln!("{}: note: {note}", file.display());
    }
    let shown = |p: &Option<PathBuf>, default: &str| {
        p.as_ref().map_or_else(|| default.to_owned(), |p| p.display().to_string())
    };
    println!(
        "config ok: {}: {} source(s), {} IMAP account(s) with their own password; report in {}, \
         history {}, rules {}",
        file.display(),
        config.sources.len() + config.accounts.len(),
        config.accounts.len(),
        shown(&config.out, "report (the default)"),
        shown(&config.db, "beside the report (the default)"),
        shown(&config.rules, "built in"),
    );
    Ok(0)
}

/// `generate man DIR` and `generate completions SHELL`: for packagers
/// (scripts/package), from the same clap definition the binary parses with.
fn generate(what: &GenerateCommand) -> Result<u8> {
    use clap::CommandFactory;
    let mut command = Cli::command();
    match what {
        GenerateCommand::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut command,
                "sigaudit",
                &mut std::io::stdout().lock(),
            );
        }
        GenerateCommand::Man { dir } => {
            std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
            command.build();
            write_man(&command, dir).with_context(|| dir.display().to_string())?;
        }
    }
    Ok(0)
}

#[expect(clippy::too_many_lines, reason = "116 lines, from before the limit")]
fn scan(args: &ScanArgs) -> Result<u8> {
    let opts = args.options()?;
    stop_on_signals(&opts.stop)?;
    // The history is locked and its cache read while the rules load.
    let database = args.database()?;
    let sources: Vec<String> =
        args.sources.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    let mut session = match &database {
        Some(db) => {
            let key = session::cache_key(&opts.limits, &opts.unpack);
            Some(Session::open(
                db,
                &args.db_args.host(),
                &sources,
                std::time::Duration::from_secs(args.wait),
                key,
                args.full,
            )?)
        }
        None => None,
    };
    let (rules, anchors) = cli::load_trust(&args.trust)?;
    start_workers(args.jobs)?;
    let cache = match &mut session {
        Some(s) => Some(s.cache(&sources, &rules.digest, &args.label)?),
        None => None,
    };
    let progress = scan::Progress::default();
    let scanning = std::sync::atomic::AtomicBool::new(true);
    let (result, visited) = std::thread::scope(|scope| {
        if !args.quiet && std::io::stderr().is_terminal() {
            scope.spawn(|| progress::show(&progress, &scanning));
        }
        let out = scan::run(
            &opts,
            &rules,
            &anchors,
            &progress,
            cache.as_ref().map(|c| c as &dyn scan::Cache),
        );
        scanning.store(false, std::sync::atomic::Ordering::Relaxed);
        out
    });
    if visited.interrupted {
        // No report from half a scan: the previous one stays in place.
        let stored = match (session, cache) {
            (Some(s), Some(c)) => s.interrupted(c)?,
            _ => 0,
        };
        let how = if database.is_some() {
            format!("{stored} files stored; run again to continue")
        } else {
            "nothing stored (--no-db)".into()
        };
        eprintln!("sigaudit: interrupted: {how}");
        return Ok(EXIT_INTERRUPTED);
    }
    let (pending, past) = match (session, cache) {
        (Some(s), Some(c)) => {
            let (pending, past) = s.end_scan(c, &visited, &opts.sources)?;
            (Some(pending), Some(past))
        }
        _ => (None, None),
    };
    // The run is stored while the reports are written.
    let (tables, history) = std::thread::scope(|s| -> Result<_> {
        let storing = pending.map(|p| s.spawn(|| p.store(&result)));
        let history = past.map(|p| p.view(&result)).transpose()?;
        let input = report::ReportInput {
            scan: &result,
            rules: &rules,
            anchors: anchors.len(),
            history: history.as_ref(),
            lang: args.lang,
        };
        let tables = report::write(&args.out, &input)?;
        if let Some(Err(e)) = storing.map(|h| {
            h.join().unwrap_or_else(|_| {
                Err(history::HistoryError::Damaged("storing the run panicked".into()))
            })
        }) {
            return Err(anyhow!(e).context("the scan history could not be stored"));
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
            "sigaudit: {} files ({} read), {} signatures ({} government, {} commercial, {} \
             other), migration {pct}, {} errors; report in {} ({:.2} s, peak memory {} MiB)",
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
        println!(
            "sigaudit: pinned CA certificates found in the scanned files are not in the anchors \
             folder: --save-anchors keeps them (see the report)"
        );
    }
    let code = exit_policy(args, &result, &tables.totals);
    // The process ends now: freeing every finding and table one by one
    // would only delay the exit.
    std::mem::forget((result, history, tables));
    Ok(code)
}

/// Writes the CA certificates the scan learned into the user's anchors
/// folder, where `scan` looks by default (as `rules fetch-anchors` does).
/// The scan's worker threads (`--jobs`, default one per core).
fn start_workers(jobs: Option<usize>) -> Result<()> {
    // Parsers of hostile input recurse: give workers room (every recursion
    // is also bounded in depth).
    let mut pool = rayon::ThreadPoolBuilder::new().stack_size(16 << 20);
    if let Some(n) = jobs {
        pool = pool.num_threads(n.max(1));
    }
    Ok(pool.build_global()?)
}

/// Every condition is said; the exit code is the most serious one:
/// 3 (below --fail-under) over 2 (inputs that could not be read) over 0.
fn exit_policy(
    args: &ScanArgs,
    result: &crate::model::result::ScanResult,
    totals: &crate::aggregate::AgencyRow,
) -> u8 {
    let unreadable = !result.errors.is_empty();
    if unreadable {
        eprintln!(
            "sigaudit: {} input(s) could not be read or parsed: see {}",
            result.errors.len(),
            args.out.join("errors.csv").display()
        );
    }
    let pct = totals.migration_pct.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "n/a".into());
    let below = args.fail_under.filter(|min| totals.migration_pct.unwrap_or(0.0) < *min);
    if let Some(min) = below {
        eprintln!("sigaudit: migration {pct} is below --fail-under {min}%");
    }
    match (below, unreadable) {
        (Some(_), _) => EXIT_BELOW_THRESHOLD,
        (None, true) => EXIT_INPUT_ERRORS,
        (None, false) => 0,
    }
}

/// One page per command: `sigaudit.1`, `sigaudit-scan.1`,
/// `sigaudit-rules-check.1`... (clap's own `help` subcommands and hidden
/// ones left out: they have nothing to say).
fn write_man(command: &clap::Command, dir: &Path) -> std::io::Result<()> {
    let name = command.get_display_name().unwrap_or_else(|| command.get_name());
    let mut page = std::fs::File::create(dir.join(format!("{name}.1")))?;
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        write_man(sub, dir)?;
    }
    Ok(())
}

fn save_learned(learned: &[crate::model::result::LearnedCa]) -> Result<()> {
    let dir = cli::default_anchor_dir()
        .context("--save-anchors: no anchors folder (set SIGAUDIT_ANCHORS or HOME)")?;
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("--save-anchors: cannot create {}", dir.display()))?;
    for l in learned {
        let file = dir.join(format!("{}__{}.der", l.ca_id, &l.sha256[..16]));
        std::fs::write(&file, &l.der)
            .with_context(|| format!("--save-anchors: cannot write {}", file.display()))?;
    }
    eprintln!(
        "sigaudit: {} CA certificate(s) found in the scanned files kept in {}",
        learned.len(),
        dir.display()
    );
    Ok(())
}

fn report(args: &cli::ReportArgs) -> Result<u8> {
    let db = args.db_args.database(args.db()?)?;
    if let Some(id) = args.delete_run {
        return delete_run(&db, &args.db_args.host(), id);
    }
    if !args.list {
        report::folder::check(&args.out, &[])?;
    }
    let (rules, anchors) = cli::load_trust(&args.trust)?;
    require_db(&db)?;
    // Every history error is said with the database it came from.
    let at = || db.describe();
    let store = db.open(&args.db_args.host()).with_context(at)?;
    if args.list {
        return list_runs(&db, store.as_ref());
    }
    // A province's database: every host's latest audit of every source, merged.
    let province = matches!(db, Database::Postgres(_)) && args.run.is_none();
    let (run, mut result, hosts) = if province {
        let (merged, hosts) =
            history::province::merge(store.as_ref(), time::OffsetDateTime::now_utc())
                .with_context(at)?;
        (None, merged, hosts)
    } else {
        let run = history::pick_run(store.as_ref(), args.run).with_context(at)?;
        let result = store.load_run(run.id).with_context(at)?;
        (Some(run), result, Vec::new())
    };
    // Whose signature it is follows the current rules, as a rescan would.
    let certs = store.cached_certs().with_context(at)?;
    history::reattribute(&mut result.findings, &certs, &rules.agencies);
    // The CAs the current rules do not know, from the kept signer certificates.
    let signer = |sha: &str| {
        certs
            .get(sha)
            .and_then(|der| crate::cert::Cert::from_der(der).ok())
            .map(std::sync::Arc::new)
    };
    result.unknown_cas = crate::classify::unknown_cas(&result.findings, signer, &rules.catalogue);
    let view = match &run {
        Some(run) => {
            history::view(store.as_ref(), run.id, &result, args.compare).with_context(at)?
        }
        None => {
            let (changes, previous) =
                history::province::changes(store.as_ref(), &result, &hosts).with_context(at)?;
            history::HistoryView {
                runs: store.runs().with_context(at)?,
                audits: store.audit_points().with_context(at)?,
                previous,
                changes,
                hosts,
            }
        }
    };
    let input = report::ReportInput {
        scan: &result,
        rules: &rules,
        anchors: anchors.len(),
        history: Some(&view),
        lang: args.lang,
    };
    let tables = report::write(&args.out, &input)?;
    let pct =
        tables.totals.migration_pct.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "n/a".into());
    let what = match &run {
        Some(run) => format!("run {}", run.id),
        None => {
            let stale = view.hosts.iter().filter(|h| h.stale).count();
            format!("the province ({} host audits, {stale} not from this month)", view.hosts.len())
        }
    };
    println!(
        "sigaudit: {what} ({} signatures, migration {pct}) reported in {}",
        tables.totals.signatures,
        args.out.display()
    );
    Ok(0)
}

/// `report --list`: the completed runs, each with its host.
fn list_runs(db: &Database, store: &dyn Store) -> Result<u8> {
    let at = || db.describe();
    let runs = store.runs().with_context(at)?;
    if runs.is_empty() {
        println!(
            "sigaudit: {} holds no completed run yet (an interrupted first scan is finished by \
             running it again)",
            db.describe()
        );
        return Ok(0);
    }
    let audits = store.audit_points().with_context(at)?;
    println!("run\thost\tfinished\tlabel\tfiles\tsignatures\tmigration\tsources");
    for r in runs {
        let finished = r.finished.map(crate::model::rfc3339).unwrap_or_default();
        // The province's figure, as the run's reports gave it (external signers left out).
        let own =
            audits.iter().filter(|a| a.run == r.id && !crate::rules::is_external_id(&a.agency_id));
        let (gov, all) = own.fold((0, 0), |(g, n), a| {
            (g + a.government, n + a.government + a.commercial + a.other)
        });
        let pct = crate::aggregate::migration_pct(gov, all)
            .map_or_else(|| "n/a".into(), |p| format!("{p:.1}%"));
        let (label, host) =
            (crate::report::marked::mark(&r.label), crate::report::marked::mark(&r.host));
        println!(
            "{}\t{host}\t{finished}\t{label}\t{} ({} read, {} removed)\t{}\t{pct}\t{}",
            r.id,
            r.files,
            r.files_read,
            r.files_removed,
            r.signatures,
            r.sources.join(" ")
        );
    }
    Ok(0)
}

/// `report` reads an existing history only (opening would create an empty one).
fn require_db(db: &Database) -> Result<()> {
    if db.exists() { Ok(()) } else { bail!("{}: no such database", db.describe()) }
}

/// `report --delete-run`: under the scans' lock, so never beside a running scan.
fn delete_run(db: &Database, host: &str, id: i64) -> Result<u8> {
    require_db(db)?;
    let at = || db.describe();
    let _lock = match db {
        Database::Sqlite(p) => {
            Some(history::lock::acquire(p, std::time::Duration::ZERO).with_context(at)?)
        }
        Database::Postgres(_) => None,
    };
    let mut store = db.open(host).with_context(at)?;
    store.delete_run(id).with_context(at)?;
    println!("sigaudit: run {id} deleted from {}", db.describe());
    Ok(0)
}

/// `history copy`: every completed run of `from` into `to`, recorded under
/// `--host-label` where `from` has no host names.
fn history_copy(from: &Path, to: &Path, args: &cli::DbArgs) -> Result<u8> {
    let source = match Database::parse(from, None, None) {
        Ok(db) => db,
        Err(_) => args.database(from)?,
    };
    let target = args.database(to)?;
    require_db(&source)?;
    let host = args.host();
    let reader = source.open(&host).with_context(|| source.describe())?;
    target.open(&host).with_context(|| target.describe())?;
    let copied = history::copy::copy(reader.as_ref(), &|h| target.open(h), &host)
        .with_context(|| format!("{} → {}", source.describe(), target.describe()))?;
    println!(
        "sigaudit: {} run(s) copied from {} into {} ({} already there), {} certificate(s); runs \
         without a host recorded as {}",
        copied.runs,
        source.describe(),
        target.describe(),
        copied.skipped,
        copied.certs,
        crate::report::marked::mark(&host)
    );
    Ok(0)
}

fn inspect(args: &cli::InspectArgs) -> Result<u8> {
    let shown = |text: &str| report::marked::mark(text).into_owned();
    // Like scan, only regular files: opening a FIFO or a device would block or read forever.
    match std::fs::metadata(&args.file) {
        Ok(m) if m.is_file() => {}
        Ok(_) => bail!(
            "{}: not a regular file (a folder, FIFO, socket or device): inspect reads files only",
            shown(&args.file.display().to_string())
        ),
        Err(e) => bail!("{}: {e}", shown(&args.file.display().to_string())),
    }
    let (rules, anchors) = cli::load_trust(&args.trust)?;
    let input = crate::source::Input::file(args.file.clone());
    match scan::read_and_extract(
        &input,
        None,
        crate::source::ReadLimits::default(),
        crate::formats::Limits::default(),
    ) {
        Ok(extraction) => {
            let extraction = extraction.unwrap_or_default();
            // Names come from the file: never let them drive the terminal.
            print!(
                "{}",
                shown(&crate::inspect::render(&input.display, &extraction, &rules, &anchors))
            );
            Ok(if extraction.problems.is_empty() { 0 } else { EXIT_INPUT_ERRORS })
        }
        Err((stage, msg)) => {
            eprintln!("sigaudit: {} ({}): {}", shown(&input.display), stage.as_str(), shown(&msg));
            Ok(EXIT_INPUT_ERRORS)
        }
    }
}

fn rules_check(dir: Option<&Path>) -> Result<u8> {
    let rules = match crate::rules::Rules::load(dir) {
        Ok(r) => r,
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!("sigaudit: {} problem(s) in the rules", diags.len());
            return Ok(EXIT_USAGE);
        }
    };
    let anchors = crate::trust::AnchorStore::load(&rules.anchor_dirs);
    for (path, problem) in &anchors.problems {
        eprintln!("{}: {problem}", path.display());
    }
    let pinned = anchors.iter().filter(|c| rules.catalogue.by_sha256(&c.sha256).is_some()).count();
    println!(
        "rules ok: {} CAs, {} pinned certificates, {} agencies; anchors folder: {} certificates \
         ({} pinned); from {}",
        rules.catalogue.cas.len(),
        rules.catalogue.pins().count(),
        rules.agencies.agencies.len(),
        anchors.len(),
        pinned,
        rules.origin.join(", ")
    );
    Ok(if anchors.problems.is_empty() { 0 } else { EXIT_USAGE })
}

fn fetch_anchors(rules_dir: Option<&Path>, out: Option<PathBuf>) -> Result<u8> {
    let rules = crate::rules::Rules::load(rules_dir).map_err(|d| anyhow!(lines(&d)))?;
    let out = out
        .or_else(cli::default_anchor_dir)
        .context("no --out given and no home folder to default to")?;
    let report = crate::fetch::fetch_anchors(&rules, &out)?;
    for (file, ca) in &report.saved {
        println!("saved {} ({ca})", out.join(file).display());
    }
    for (url, why) in &report.failed {
        eprintln!("{url}: {why}");
    }
    println!(
        "{} pinned certificates saved in {}; {} URLs failed; {} pins have no official download \
         URL (put those certificates in the folder by hand)",
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
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kib << 10)
}
