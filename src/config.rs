//! The configuration file (TOML): everything a monthly run needs (sources,
//! rules, report folder, history, labels, thresholds, IMAP accounts with
//! their password files), so that a service's command line is only
//! `sigaudit scan --config FILE` and no option of an audit hides in a
//! crontab line. Command-line options override it (`cli` merges the two).
//!
//! Read only when named: `--config FILE`. The Debian package's service
//! names [`SYSTEM_CONFIG`]; a scan run by hand never reads /etc behind the
//! user's back (its command line says everything it did).
//!
//! Problems are reported as `file:line:column: message`, like `rules check`
//! (the same [`Diagnostic`]): a syntax error, an unknown key, a value of the
//! wrong type or out of range, an IMAP URL that does not parse, a glob that
//! does not compile. [`Config::check`] adds what only holds on the machine
//! that runs the scan: folders and password files that exist, rules that load.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::report::lang::Lang;
use crate::rules::Diagnostic;
use crate::rules::cfg::Source;
use crate::source::imap::ImapSource;

/// Where the Debian package installs the configuration its service reads
/// (and what `sigaudit config check` checks when given no file).
pub(crate) const SYSTEM_CONFIG: &str = "/etc/sigaudit/sigaudit.toml";

/// The file as written. Every key is optional: an absent one leaves the
/// command line's default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCfg {
    #[serde(default)]
    sources: Vec<Spanned<String>>,
    rules: Option<Spanned<String>>,
    #[serde(default)]
    anchors: Vec<Spanned<String>>,
    out: Option<Spanned<String>>,
    db: Option<Spanned<String>>,
    db_password_file: Option<Spanned<String>>,
    db_ca: Option<Spanned<String>>,
    host_label: Option<String>,
    label: Option<String>,
    lang: Option<Spanned<String>>,
    jobs: Option<Spanned<usize>>,
    io_jobs: Option<Spanned<usize>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    follow_symlinks: Option<bool>,
    fail_under: Option<Spanned<f64>>,
    wait: Option<u64>,
    quiet: Option<bool>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    imap: ImapCfg,
}

/// `[limits]`: the bounds of `scan --max-*` and `--unit-*`, same names.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Limits {
    pub max_file_size: Option<u64>,
    pub max_depth: Option<usize>,
    pub max_unpacked: Option<u64>,
    pub max_members: Option<usize>,
    pub max_ratio: Option<u64>,
    pub unit_time: Option<u64>,
    pub unit_memory: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImapCfg {
    password_file: Option<Spanned<String>>,
    ca: Option<Spanned<String>>,
    timeout: Option<u64>,
    mailbox_budget: Option<u64>,
    allow_plain: Option<bool>,
    #[serde(default)]
    accounts: Vec<AccountCfg>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountCfg {
    url: Spanned<String>,
    password_file: Spanned<String>,
}

/// One IMAP account of the configuration: scanned as a source, logged in
/// with the password in its own file.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub url: String,
    pub password_file: PathBuf,
}

/// The configuration, its paths resolved against the file's folder (a
/// relative path in /etc/sigaudit/sigaudit.toml means /etc/sigaudit/...).
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    /// Folders, files and IMAP URLs, as `scan SOURCE...`.
    pub sources: Vec<PathBuf>,
    pub rules: Option<PathBuf>,
    pub anchors: Vec<PathBuf>,
    pub out: Option<PathBuf>,
    /// An SQLite file (resolved) or a postgresql:// URL (as written).
    pub db: Option<PathBuf>,
    pub db_password_file: Option<PathBuf>,
    pub db_ca: Option<PathBuf>,
    pub host_label: Option<String>,
    pub label: Option<String>,
    pub lang: Option<Lang>,
    pub jobs: Option<usize>,
    pub io_jobs: Option<usize>,
    pub exclude: Vec<String>,
    pub follow_symlinks: Option<bool>,
    pub fail_under: Option<f64>,
    pub wait: Option<u64>,
    pub quiet: Option<bool>,
    pub limits: Limits,
    pub imap_password_file: Option<PathBuf>,
    pub imap_ca: Option<PathBuf>,
    pub imap_timeout: Option<u64>,
    pub imap_mailbox_budget: Option<u64>,
    pub imap_allow_plain: Option<bool>,
    pub accounts: Vec<Account>,
}

/// A value of the file and where it was written, for [`Config::check`].
struct Place {
    span: std::ops::Range<usize>,
    what: Check,
}

enum Check {
    Folder(PathBuf),
    File(PathBuf),
    Rules(PathBuf),
}

fn is_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.starts_with("imap://") || lower.starts_with("imaps://")
}

impl Config {
    /// Reads and validates `file`. Every problem found is returned, each
    /// with its line and column.
    pub(crate) fn load(file: &Path) -> Result<Config, Vec<Diagnostic>> {
        Config::read(file).map(|(config, _)| config)
    }

    /// [`Config::load`], then what must hold on this machine: the folders
    /// and files named exist, the rules folder loads. Returns the
    /// configuration with the notes worth saying even when it is valid.
    pub(crate) fn check(file: &Path) -> Result<(Config, Vec<String>), Vec<Diagnostic>> {
        let (config, places) = Config::read(file)?;
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let source = Source { name: file.display().to_string(), text: &text };
        let mut diags = Vec::new();
        for Place { span, what } in places {
            match what {
                Check::Folder(p) if !p.is_dir() => {
                    diags.push(source.at(span, format!("{}: no such folder", p.display())))
                }
                Check::File(p) => {
                    if let Err(e) = std::fs::File::open(&p) {
                        diags
                            .push(source.at(span, format!("{}: cannot be read: {e}", p.display())));
                    }
                }
                Check::Rules(p) if !p.is_dir() => {
                    diags.push(source.at(span, format!("{}: no such folder", p.display())))
                }
                // The rules folder's own problems, with their own places.
                Check::Rules(p) => {
                    diags.extend(crate::rules::Rules::load(Some(&p)).err().unwrap_or_default())
                }
                Check::Folder(_) => {}
            }
        }
        let mut notes = Vec::new();
        for s in config.sources.iter().filter(|s| !is_url(&s.to_string_lossy())) {
            // An unmounted share is an errors.csv row at scan time, not a
            // broken configuration: said, not refused.
            if std::fs::symlink_metadata(s).is_err() {
                notes
                    .push(format!("source {}: no such file or folder (not mounted?)", s.display()));
            }
        }
        if config.sources.is_empty() && config.accounts.is_empty() {
            notes.push("no sources yet: `sources` (or [[imap.accounts]]) says what to scan".into());
        }
        if diags.is_empty() { Ok((config, notes)) } else { Err(diags) }
    }

    #[expect(clippy::too_many_lines, reason = "115 lines, from before the limit")]
    fn read(file: &Path) -> Result<(Config, Vec<Place>), Vec<Diagnostic>> {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file).map_err(|e| {
            vec![Diagnostic {
                file: name.clone(),
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
            }]
        })?;
        let source = Source { name, text: &text };
        let cfg: FileCfg = source.parse().map_err(|d| vec![d])?;
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |p: &str| if p.is_empty() { PathBuf::new() } else { base.join(p) };
        let mut diags = Vec::new();
        let mut places = Vec::new();
        let mut config = Config::default();
        let allow_plain = cfg.imap.allow_plain.unwrap_or(false);
        for s in &cfg.sources {
            if is_url(s.get_ref()) {
                if let Err(e) = ImapSource::parse(s.get_ref(), allow_plain) {
                    diags.push(source.at(s.span(), e));
                }
                config.sources.push(PathBuf::from(s.get_ref()));
            } else {
                config.sources.push(resolve(s.get_ref()));
            }
        }
        if let Some(r) = &cfg.rules {
            config.rules = Some(resolve(r.get_ref()));
            places.push(Place { span: r.span(), what: Check::Rules(resolve(r.get_ref())) });
        }
        for a in &cfg.anchors {
            config.anchors.push(resolve(a.get_ref()));
            places.push(Place { span: a.span(), what: Check::Folder(resolve(a.get_ref())) });
        }
        config.out = cfg.out.as_ref().map(|o| resolve(o.get_ref()));
        let file_of = |f: &Option<Spanned<String>>, places: &mut Vec<Place>| {
            f.as_ref().map(|f| {
                places.push(Place { span: f.span(), what: Check::File(resolve(f.get_ref())) });
                resolve(f.get_ref())
            })
        };
        config.db_password_file = file_of(&cfg.db_password_file, &mut places);
        config.db_ca = file_of(&cfg.db_ca, &mut places);
        if let Some(db) = &cfg.db {
            let is_pg = crate::history::postgres::is_postgres_url(db.get_ref());
            let path = if is_pg { PathBuf::from(db.get_ref()) } else { resolve(db.get_ref()) };
            if let Err(e) = crate::history::Database::parse(
                &path,
                config.db_password_file.as_deref(),
                config.db_ca.as_deref(),
            ) {
                diags.push(source.at(db.span(), e));
            }
            config.db = Some(path);
        }
        config.host_label = cfg.host_label;
        config.label = cfg.label;
        if let Some(l) = &cfg.lang {
            match l.get_ref().parse::<Lang>() {
                Ok(lang) => config.lang = Some(lang),
                Err(e) => diags.push(source.at(l.span(), e)),
            }
        }
        if let Some(j) = &cfg.jobs {
            if *j.get_ref() == 0 {
                diags.push(
                    source.at(j.span(), "jobs must be at least 1 (leave it out for one per core)"),
                );
            }
            config.jobs = Some(*j.get_ref());
        }
        if let Some(j) = &cfg.io_jobs {
            if *j.get_ref() == 0 {
                diags.push(source.at(
                    j.span(),
                    "io_jobs must be at least 1 (leave it out to size it by the sources' file \
                     systems)",
                ));
            }
            config.io_jobs = Some(*j.get_ref());
        }
        for g in &cfg.exclude {
            if let Err(e) = globset::Glob::new(g.get_ref()) {
                diags.push(source.at(g.span(), e));
            }
            config.exclude.push(g.get_ref().clone());
        }
        config.follow_symlinks = cfg.follow_symlinks;
        if let Some(p) = &cfg.fail_under {
            if !(0.0..=100.0).contains(p.get_ref()) {
                diags.push(source.at(
                    p.span(),
                    format!("fail_under {}: must be a percentage between 0 and 100", p.get_ref()),
                ));
            }
            config.fail_under = Some(*p.get_ref());
        }
        config.wait = cfg.wait;
        config.quiet = cfg.quiet;
        config.limits = cfg.limits;
        config.imap_password_file = file_of(&cfg.imap.password_file, &mut places);
        config.imap_ca = file_of(&cfg.imap.ca, &mut places);
        config.imap_timeout = cfg.imap.timeout;
        config.imap_mailbox_budget = cfg.imap.mailbox_budget;
        config.imap_allow_plain = cfg.imap.allow_plain;
        for a in &cfg.imap.accounts {
            if let Err(e) = ImapSource::parse(a.url.get_ref(), allow_plain) {
                diags.push(source.at(a.url.span(), e));
            }
            let password_file =
                file_of(&Some(a.password_file.clone()), &mut places).unwrap_or_default();
            config.accounts.push(Account { url: a.url.get_ref().clone(), password_file });
        }
        if diags.is_empty() { Ok((config, places)) } else { Err(diags) }
    }
}
