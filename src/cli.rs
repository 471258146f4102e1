//! Command-line flags (clap), turned into the high-level configuration
//! the rest of the program uses. Usage mistakes exit with code 1.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use globset::{Glob, GlobSetBuilder};

use crate::config::Config;

use crate::budget::UnitBudget;
use crate::formats::Limits;
use crate::rules::Rules;
use crate::scan::ScanOptions;
use crate::source::imap::{ImapAuth, ImapSource};
use crate::source::{ReadLimits, WalkOptions};
use crate::trust::AnchorStore;

#[derive(Debug, Parser)]
#[command(
    name = "sigaudit",
    version,
    about = "Audit which CA signs government documents: Government specialized CA (Ban Cơ yếu \
             Chính phủ) or commercial CAs"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Crawl files and folders, find every signature, write the reports.
    Scan(Box<ScanArgs>),
    /// Rebuild the reports from the scan history, without the sources.
    Report(ReportArgs),
    /// Every signature in one file, human-readable (like pdfsig).
    Inspect(InspectArgs),
    /// Check or maintain a rules folder.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Maintain scan histories (move an SQLite history into PostgreSQL).
    #[command(subcommand)]
    History(HistoryCommand),
    /// Check a configuration file (`scan --config FILE`).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write the man pages or a shell's completions (for packagers).
    #[command(subcommand, hide = true)]
    Generate(GenerateCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Validate a configuration file: problems as file:line:column, like
    /// `rules check` (default: /etc/sigaudit/sigaudit.toml).
    Check {
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum GenerateCommand {
    /// Man pages (sigaudit.1 and one per subcommand) into DIR.
    Man {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// The completion script of SHELL on stdout.
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

/// The command line, parsed; a scan's `--config` is merged in by
/// [`ScanArgs::with_config`], which needs to know which options the
/// command line gave (`matches`).
pub(crate) fn parse() -> std::result::Result<(Cli, ArgMatches), clap::Error> {
    let matches = Cli::command().try_get_matches()?;
    let cli = Cli::from_arg_matches(&matches)?;
    Ok((cli, matches))
}

/// How to reach a PostgreSQL history, and whose runs these are.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct DbArgs {
    /// Password of a PostgreSQL history (else PGPASSWORD, else ~/.pgpass; never in the URL).
    #[arg(long, value_name = "FILE")]
    pub db_password_file: Option<PathBuf>,
    /// CA certificate(s) (PEM) that signed the PostgreSQL server's certificate.
    #[arg(long, value_name = "FILE")]
    pub db_ca: Option<PathBuf>,
    /// The name this host's runs are recorded under (default: the machine's host name).
    #[arg(long, value_name = "NAME")]
    pub host_label: Option<String>,
}

impl DbArgs {
    pub(crate) fn database(&self, db: &Path) -> Result<crate::history::Database> {
        crate::history::Database::parse(db, self.db_password_file.as_deref(), self.db_ca.as_deref())
            .map_err(|e| anyhow!(e))
    }

    pub(crate) fn host(&self) -> String {
        self.host_label.clone().unwrap_or_else(crate::history::this_host)
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum HistoryCommand {
    /// Copy every run of one history into another (e.g. an agency's SQLite
    /// file into the province's PostgreSQL), recorded under --host-label.
    Copy {
        /// The history to copy from (an SQLite file or a postgresql:// URL).
        #[arg(long, value_name = "DB")]
        from: PathBuf,
        /// The history to copy into.
        #[arg(long, value_name = "DB")]
        to: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Args)]
pub(crate) struct TrustArgs {
    /// Rules folder (files in it replace the built-in ones; ca.d/*.toml add CAs).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Folder of CA certificates for chain building (repeatable). Trust
    /// still comes only from the rules' pins.
    #[arg(long, value_name = "DIR")]
    pub anchors: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Directories (crawled recursively), files, and IMAP URLs
    /// (imaps://user@host/INBOX; imaps://user@host/ for every folder).
    /// Required unless the configuration file lists them.
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<PathBuf>,
    /// Configuration file (TOML, docs/configuration.md): sources, rules,
    /// report folder, history, thresholds, IMAP accounts. Options given
    /// on the command line override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// IMAP accounts of the configuration file, each with its password file.
    #[arg(skip)]
    pub imap_accounts: Vec<crate::config::Account>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Report folder (replaced atomically).
    #[arg(long, value_name = "DIR", default_value = "report")]
    pub out: PathBuf,
    /// Language of the HTML pages: vi (Tiếng Việt) or en.
    #[arg(long, value_name = "vi|en", default_value = "vi", value_parser = parse_lang)]
    pub lang: crate::report::lang::Lang,
    /// Names this run in the history (`report --list`), e.g. "trial" or "November audit".
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub label: String,
    /// Worker threads that parse and verify (default: one per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Files at work at once — listed, stat'ed, opened, read (default: 32 on a network file system
    /// such as NFS, SMB/CIFS or FUSE, twice the cores on a local disk).
    #[arg(long, value_name = "N")]
    pub io_jobs: Option<usize>,
    /// Skip paths matching this glob (repeatable), e.g. '**/Thùng rác/**'.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Files larger than this are not parsed (an errors.csv row if they look signed).
    #[arg(long, value_name = "BYTES", default_value_t = ReadLimits::default().max_file_bytes)]
    pub max_file_size: u64,
    /// Containers (ZIP, mail, attachments) nested deeper than this are not opened.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_depth)]
    pub max_depth: usize,
    /// Bytes one file may unpack into, over all its archives and attachments.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_unpacked_bytes)]
    pub max_unpacked: u64,
    /// Members read from one archive.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_members)]
    pub max_members: usize,
    /// Largest compression ratio accepted for an archive member (ZIP bombs).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_ratio)]
    pub max_ratio: u64,
    /// Seconds one file (or one message of a mailbox) may take; over it, an errors.csv row and the
    /// scan goes on.
    #[arg(long, value_name = "SECONDS", default_value_t = UnitBudget::default().time.as_secs())]
    pub unit_time: u64,
    /// Heap bytes one file (or one message of a mailbox) may use, its own bytes included; over it,
    /// an errors.csv row.
    #[arg(long, value_name = "BYTES", default_value_t = UnitBudget::default().memory)]
    pub unit_memory: u64,
    /// Exit with code 3 when overall migration is below PCT percent.
    #[arg(long, value_name = "PCT")]
    pub fail_under: Option<f64>,
    /// One JSON object per signature on stdout.
    #[arg(long)]
    pub json: bool,
    /// File holding the IMAP password (else SIGAUDIT_IMAP_PASSWORD).
    #[arg(long, value_name = "FILE")]
    pub imap_password_file: Option<PathBuf>,
    /// Extra CA certificate(s) (PEM) to trust for IMAP over TLS.
    #[arg(long, value_name = "FILE")]
    pub imap_ca: Option<PathBuf>,
    /// Seconds an IMAP server may stay silent (connecting, any reply, any
    /// message) before its mailbox becomes an errors.csv row and the audit goes on.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub imap_timeout: u64,
    /// Seconds one mailbox may take in all (a server that keeps talking but
    /// never finishes); over it, the mailbox is an errors.csv row.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub imap_mailbox_budget: u64,
    /// Allow imap:// without TLS (a trusted loopback only).
    #[arg(long)]
    pub imap_allow_plain: bool,
    /// Scan history: an SQLite file (default sigaudit.db beside the report
    /// folder) or a province's PostgreSQL, postgresql://user@host:port/dbname.
    #[arg(long, value_name = "FILE|URL")]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub db_args: DbArgs,
    /// Keep no history: no database, every file read.
    #[arg(long, conflicts_with = "db")]
    pub no_db: bool,
    /// Read every file again, ignoring the incremental cache.
    #[arg(long)]
    pub full: bool,
    /// When another run holds the database, wait up to SECONDS for it.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
    /// Nothing on stdout; only problems on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Keep the CA certificates found in the scanned files that verify up
    /// to a pinned certificate (listed in the report) in the anchors folder
    /// (SIGAUDIT_ANCHORS, else ~/.local/share/sigaudit/anchors), for scans
    /// of files that carry only their signer's certificate.
    #[arg(long)]
    pub save_anchors: bool,
}

impl ScanArgs {
    /// The history database, unless `--no-db`.
    pub(crate) fn database(&self) -> Result<Option<crate::history::Database>> {
        if self.no_db {
            return Ok(None);
        }
        self.db_args
            .database(&self.db.clone().unwrap_or_else(|| beside(&self.out, "sigaudit.db")))
            .map(Some)
    }
}

fn parse_lang(s: &str) -> std::result::Result<crate::report::lang::Lang, String> {
    s.parse()
}

/// `name` in the folder that holds `dir` (the report folder is replaced
/// whole, so the database cannot live inside it).
fn beside(dir: &Path, name: &str) -> PathBuf {
    dir.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from(name), |p| p.join(name))
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The scan history to report from: an SQLite file, or a province's
    /// PostgreSQL (the latest run of every host and source, merged).
    #[arg(long, value_name = "FILE|URL", required_unless_present = "config")]
    pub db: Option<PathBuf>,
    /// The scan's configuration file: its history, report folder,
    /// language, rules and anchors, unless given here.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub db_args: DbArgs,
    /// Report folder (replaced atomically).
    #[arg(long, value_name = "DIR", default_value = "report")]
    pub out: PathBuf,
    /// The run to report (default: the latest completed one); `--list` shows them.
    #[arg(long, value_name = "ID")]
    pub run: Option<i64>,
    /// Language of the HTML pages: vi (Tiếng Việt) or en.
    #[arg(long, value_name = "vi|en", default_value = "vi", value_parser = parse_lang)]
    pub lang: crate::report::lang::Lang,
    /// The run to compare with (default: the one before).
    #[arg(long, value_name = "ID")]
    pub compare: Option<i64>,
    /// List the completed runs and exit.
    #[arg(long, conflicts_with = "delete_run")]
    pub list: bool,
    /// Remove a run (a trial run) from the history and exit; its files stay cached.
    #[arg(long, value_name = "ID", conflicts_with_all = ["run", "compare"])]
    pub delete_run: Option<i64>,
    #[command(flatten)]
    pub trust: TrustArgs,
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub trust: TrustArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Validate a rules folder (default: the built-in rules).
    Check {
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Download the pinned CA certificates from their official URLs.
    FetchAnchors {
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// Where to save them (default: the user's anchors folder).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// Where `fetch-anchors` saves and `scan` looks by default.
pub(crate) fn default_anchor_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SIGAUDIT_ANCHORS") {
        return Some(PathBuf::from(dir));
    }
    Some(crate::sys::data_dir()?.join("sigaudit").join("anchors"))
}

/// Rules and anchor store from the flags. Errors are user mistakes.
pub(crate) fn load_trust(args: &TrustArgs) -> Result<(Rules, AnchorStore)> {
    let rules = Rules::load(args.rules.as_deref()).map_err(|diags| {
        anyhow!(diags.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))
    })?;
    let mut dirs = rules.anchor_dirs.clone();
    for d in &args.anchors {
        if !d.is_dir() {
            bail!("--anchors {}: not a folder", d.display());
        }
        dirs.push(d.clone());
    }
    if let Some(d) = default_anchor_dir().filter(|d| d.is_dir()) {
        dirs.push(d);
    }
    let anchors = AnchorStore::load(&dirs);
    Ok((rules, anchors))
}

impl ScanArgs {
    fn unit_budget(&self) -> crate::budget::UnitBudget {
        crate::budget::UnitBudget {
            time: std::time::Duration::from_secs(self.unit_time),
            memory: self.unit_memory,
        }
    }

    /// The options a scan runs with: the command line lowered, its files
    /// (password files) read, its mistakes refused before anything is read.
    pub(crate) fn options(&self) -> Result<ScanOptions> {
        let (urls, paths): (Vec<&PathBuf>, Vec<&PathBuf>) = self.sources.iter().partition(|s| {
            let s = s.to_string_lossy().to_ascii_lowercase();
            s.starts_with("imap://") || s.starts_with("imaps://")
        });
        if self.sources.is_empty() {
            bail!(
                "no SOURCE to scan: name folders, files or IMAP URLs on the command line, or \
                 `sources` in the --config file"
            );
        }
        let imap = urls
            .iter()
            .map(|u| ImapSource::parse(&u.to_string_lossy(), self.imap_allow_plain))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let imap_auth = if imap.is_empty() { None } else { Some(self.imap_auth(&imap)?) };
        // One unmounted share among several is an errors.csv row (the rest is
        // audited); nothing at all to read is a mistake in the command.
        if imap.is_empty()
            && !paths.is_empty()
            && paths.iter().all(|s| std::fs::symlink_metadata(s).is_err())
        {
            bail!("{}: no such file or folder", paths[0].display());
        }
        for s in &paths {
            if let Some(db) = self.database()?
                && let Some(db) = db.sqlite_path()
                && let Some(inside) = is_inside(db, s)
            {
                bail!(
                    "the history database {} is inside the scanned source {}: sigaudit never \
                     writes into what it scans; use --db elsewhere",
                    db.display(),
                    inside
                );
            }
        }
        crate::report::folder::check(
            &self.out,
            &paths.iter().map(|p| p.to_path_buf()).collect::<Vec<_>>(),
        )?;
        let exclude = if self.exclude.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for g in &self.exclude {
                b.add(Glob::new(g).with_context(|| format!("--exclude {g}"))?);
            }
            Some(b.build()?)
        };
        if let Some(p) = self.fail_under
            && !(0.0..=100.0).contains(&p)
        {
            bail!("--fail-under {p}: must be a percentage between 0 and 100");
        }
        Ok(ScanOptions {
            sources: paths.into_iter().cloned().collect(),
            imap,
            imap_auth,
            walk: WalkOptions { follow_symlinks: self.follow_symlinks, exclude },
            io_jobs: self.io_jobs,
            limits: ReadLimits { max_file_bytes: self.max_file_size, ..ReadLimits::default() },
            unpack: Limits {
                max_depth: self.max_depth,
                max_unpacked_bytes: self.max_unpacked,
                max_members: self.max_members,
                max_ratio: self.max_ratio,
                unit: self.unit_budget(),
            },
            stop: Default::default(),
        })
    }

    /// The IMAP passwords: each configured account's own file; the shared
    /// one (--imap-password-file, else SIGAUDIT_IMAP_PASSWORD) only when a
    /// source has no account of its own.
    fn imap_auth(&self, imap: &[ImapSource]) -> Result<ImapAuth> {
        let mut accounts = std::collections::HashMap::new();
        for a in &self.imap_accounts {
            let source = ImapSource::parse(&a.url, self.imap_allow_plain)?;
            accounts.insert(
                source.account(),
                read_password(&a.password_file)
                    .with_context(|| format!("the password file of {}", a.url))?,
            );
        }
        let password = if imap.iter().all(|s| accounts.contains_key(&s.account())) {
            String::new()
        } else {
            match &self.imap_password_file {
                Some(f) => read_password(f)
                    .with_context(|| format!("--imap-password-file {}", f.display()))?,
                None => std::env::var("SIGAUDIT_IMAP_PASSWORD").map_err(|_| {
                    anyhow!(
                        "an IMAP source needs a password: set SIGAUDIT_IMAP_PASSWORD or use \
                         --imap-password-file"
                    )
                })?,
            }
        };
        Ok(ImapAuth {
            password,
            accounts,
            extra_ca: self.imap_ca.clone(),
            timeout: std::time::Duration::from_secs(self.imap_timeout.max(1)),
            mailbox_budget: std::time::Duration::from_secs(self.imap_mailbox_budget.max(1)),
        })
    }

    /// The scan's options from its `--config` file (if any) and the
    /// command line: every option given on the command line (`matches`,
    /// the scan subcommand's) wins; the file fills the others; clap's
    /// defaults fill the rest. The file's problems come back with their
    /// places, as `config check` shows them.
    pub(crate) fn with_config(
        mut self,
        matches: &ArgMatches,
    ) -> std::result::Result<ScanArgs, Vec<crate::rules::Diagnostic>> {
        let Some(file) = self.config.clone() else { return Ok(self) };
        let config = Config::load(&file)?;
        let typed = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        self.merge(config, &typed);
        Ok(self)
    }

    fn merge(&mut self, c: Config, given: &dyn Fn(&str) -> bool) {
        let nonempty = |v: Vec<PathBuf>| (!v.is_empty()).then_some(v);
        let mut sources = c.sources;
        sources.extend(c.accounts.iter().map(|a| PathBuf::from(&a.url)));
        fill(&mut self.sources, "sources", nonempty(sources), given);
        self.imap_accounts = c.accounts;
        fill(&mut self.trust.rules, "rules", c.rules.map(Some), given);
        fill(&mut self.trust.anchors, "anchors", nonempty(c.anchors), given);
        fill(&mut self.out, "out", c.out, given);
        fill(&mut self.db, "db", c.db.map(Some), given);
        fill(
            &mut self.db_args.db_password_file,
            "db_password_file",
            c.db_password_file.map(Some),
            given,
        );
        fill(&mut self.db_args.db_ca, "db_ca", c.db_ca.map(Some), given);
        fill(&mut self.db_args.host_label, "host_label", c.host_label.map(Some), given);
        fill(&mut self.label, "label", c.label, given);
        fill(&mut self.lang, "lang", c.lang, given);
        fill(&mut self.jobs, "jobs", c.jobs.map(Some), given);
        fill(&mut self.io_jobs, "io_jobs", c.io_jobs.map(Some), given);
        fill(&mut self.exclude, "exclude", (!c.exclude.is_empty()).then_some(c.exclude), given);
        fill(&mut self.follow_symlinks, "follow_symlinks", c.follow_symlinks, given);
        fill(&mut self.fail_under, "fail_under", c.fail_under.map(Some), given);
        fill(&mut self.wait, "wait", c.wait, given);
        fill(&mut self.quiet, "quiet", c.quiet, given);
        let l = c.limits;
        fill(&mut self.max_file_size, "max_file_size", l.max_file_size, given);
        fill(&mut self.max_depth, "max_depth", l.max_depth, given);
        fill(&mut self.max_unpacked, "max_unpacked", l.max_unpacked, given);
        fill(&mut self.max_members, "max_members", l.max_members, given);
        fill(&mut self.max_ratio, "max_ratio", l.max_ratio, given);
        fill(&mut self.unit_time, "unit_time", l.unit_time, given);
        fill(&mut self.unit_memory, "unit_memory", l.unit_memory, given);
        fill(
            &mut self.imap_password_file,
            "imap_password_file",
            c.imap_password_file.map(Some),
            given,
        );
        fill(&mut self.imap_ca, "imap_ca", c.imap_ca.map(Some), given);
        fill(&mut self.imap_timeout, "imap_timeout", c.imap_timeout, given);
        fill(&mut self.imap_mailbox_budget, "imap_mailbox_budget", c.imap_mailbox_budget, given);
        fill(&mut self.imap_allow_plain, "imap_allow_plain", c.imap_allow_plain, given);
    }
}

/// `value` from the configuration file into `field`, unless the command
/// line gave option `id`.
fn fill<T>(field: &mut T, id: &str, value: Option<T>, given: &dyn Fn(&str) -> bool) {
    if let Some(v) = value.filter(|_| !given(id)) {
        *field = v;
    }
}

impl ReportArgs {
    /// `report --config FILE`: the history and report folder the scan's
    /// configuration names (the history beside the report folder when it
    /// names none, as the scan does), its language, rules and anchors;
    /// options given on the command line win.
    pub(crate) fn with_config(
        mut self,
        matches: &ArgMatches,
    ) -> std::result::Result<ReportArgs, Vec<crate::rules::Diagnostic>> {
        let Some(file) = self.config.clone() else { return Ok(self) };
        let c = Config::load(&file)?;
        let typed = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        let db = c.db.or_else(|| c.out.as_deref().map(|out| beside(out, "sigaudit.db")));
        fill(&mut self.db, "db", db.map(Some), &typed);
        fill(&mut self.out, "out", c.out, &typed);
        fill(&mut self.lang, "lang", c.lang, &typed);
        fill(&mut self.trust.rules, "rules", c.rules.map(Some), &typed);
        fill(
            &mut self.trust.anchors,
            "anchors",
            (!c.anchors.is_empty()).then_some(c.anchors),
            &typed,
        );
        fill(
            &mut self.db_args.db_password_file,
            "db_password_file",
            c.db_password_file.map(Some),
            &typed,
        );
        fill(&mut self.db_args.db_ca, "db_ca", c.db_ca.map(Some), &typed);
        fill(&mut self.db_args.host_label, "host_label", c.host_label.map(Some), &typed);
        Ok(self)
    }

    /// The history to report from (`--db`, else the configuration's).
    pub(crate) fn db(&self) -> Result<&Path> {
        self.db.as_deref().context("no history to report from: --db FILE|URL, or --config FILE")
    }
}

/// The first line of a password file (a trailing newline is not part of it).
fn read_password(file: &Path) -> Result<String> {
    Ok(std::fs::read_to_string(file)?.lines().next().unwrap_or("").to_owned())
}

/// `Some(source)` when `out` would be written inside the folder `source`.
fn is_inside(out: &Path, source: &Path) -> Option<String> {
    let source_abs = source.canonicalize().ok()?;
    if !source_abs.is_dir() {
        return None;
    }
    // `out` may not exist yet: resolve its nearest existing ancestor.
    let abs =
        if out.is_absolute() { out.to_path_buf() } else { std::env::current_dir().ok()?.join(out) };
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        rest.push(existing.file_name()?.to_owned());
        existing = existing.parent()?;
    }
    let mut resolved = existing.canonicalize().ok()?;
    for part in rest.iter().rev() {
        resolved.push(part);
    }
    resolved.starts_with(&source_abs).then(|| source.display().to_string())
}
