//! The PostgreSQL store: a province's hosts write their runs into one
//! database (`--db postgresql://...`). The same tables as SQLite's schema
//! 7, each run recorded under its host (`--host-label`), the incremental
//! cache kept per host, every write in a transaction, and a scan of one
//! host and source at a time held by an advisory lock (the server drops it
//! when the scanning process dies, like the SQLite file lock).
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files    what they hold
//! 0      tls      TLS for the driver, through rustls
//! 1      connect  the server from `--db postgresql://...`
//! ```

pub(crate) mod connect;
mod tls;

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use postgres::Client;
use postgres::types::ToSql;
use time::OffsetDateTime;

use super::compare::Signing;
use super::rows::{self, canonical, digest_of, parse_time, time_text};
use super::{
    AuditPoint, CachedFile, Dependency, HistoryError, Result, RunId, RunInfo, RunStats, SavedFile,
    Store,
};
use crate::VERSION;
use crate::agency::AgencyRef;
use crate::messages::{ErrorRow, Stage};
use crate::model::finding::Finding;
use crate::model::result::{FileTally, NotSigners, ScanResult};
use crate::model::verdict::CaClass;
pub(crate) use connect::{PgTarget, is_postgres_url};

/// The schema this sigaudit writes: the same shape and number as SQLite's
/// latest (a PostgreSQL history starts there: it has no older files to upgrade).
pub(crate) const SCHEMA_VERSION: i32 = 7;

const SCHEMA: &str = "CREATE TABLE runs (
        id BIGSERIAL PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT,
        sources TEXT NOT NULL,
        rules_digest TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        files BIGINT NOT NULL DEFAULT 0,
        signatures BIGINT NOT NULL DEFAULT 0,
        government BIGINT NOT NULL DEFAULT 0,
        commercial BIGINT NOT NULL DEFAULT 0,
        other BIGINT NOT NULL DEFAULT 0,
        errors BIGINT NOT NULL DEFAULT 0,
        doc_timestamps BIGINT NOT NULL DEFAULT 0,
        files_read BIGINT NOT NULL DEFAULT 0,
        files_removed BIGINT NOT NULL DEFAULT 0,
        label TEXT NOT NULL DEFAULT '',
        usage_rights BIGINT NOT NULL DEFAULT 0,
        host TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE files (
        host TEXT NOT NULL,
        path TEXT NOT NULL,
        size BIGINT NOT NULL,
        mtime_ns TEXT NOT NULL,
        sha256 TEXT,
        cache_key TEXT NOT NULL,
        extraction TEXT,
        deps TEXT,
        run_id BIGINT NOT NULL,
        PRIMARY KEY (host, path)
    );
    CREATE TABLE certs (sha256 TEXT PRIMARY KEY, der BYTEA NOT NULL);
    CREATE TABLE findings (
        id BIGSERIAL PRIMARY KEY,
        digest BYTEA NOT NULL UNIQUE,
        agency_id TEXT NOT NULL, agency_name TEXT NOT NULL, file TEXT NOT NULL, member TEXT NOT \
                      NULL,
        format TEXT NOT NULL, signed_at TEXT, signer_cn TEXT NOT NULL, signer_org TEXT NOT NULL,
        signer_serial TEXT NOT NULL, signer_sha256 TEXT NOT NULL, signer_not_before TEXT NOT NULL,
        signer_not_after TEXT NOT NULL, issuer_cn TEXT NOT NULL, root_cn TEXT NOT NULL, ca_id TEXT \
                      NOT NULL,
        ca_name TEXT NOT NULL, ca_class TEXT NOT NULL, classified_by TEXT NOT NULL, chain TEXT NOT \
                      NULL,
        integrity TEXT NOT NULL, modified_after_signing BOOLEAN, cert_valid_at_signing BOOLEAN, \
                      notes TEXT NOT NULL,
        attributed_by TEXT NOT NULL, found_in TEXT NOT NULL
    );
    CREATE TABLE run_findings (
        run_id BIGINT NOT NULL REFERENCES runs(id),
        seq BIGINT NOT NULL,
        finding_id BIGINT NOT NULL REFERENCES findings(id),
        PRIMARY KEY (run_id, seq)
    );
    CREATE TABLE errors (
        id BIGSERIAL PRIMARY KEY,
        run_id BIGINT NOT NULL REFERENCES runs(id),
        file TEXT NOT NULL, member TEXT NOT NULL, stage TEXT NOT NULL, error TEXT NOT NULL,
        agency_id TEXT NOT NULL, agency_name TEXT NOT NULL
    );
    CREATE INDEX errors_run ON errors(run_id);
    CREATE TABLE run_agencies (
        run_id BIGINT NOT NULL REFERENCES runs(id),
        agency_id TEXT NOT NULL,
        agency_name TEXT NOT NULL,
        files BIGINT NOT NULL, signed_files BIGINT NOT NULL,
        government BIGINT NOT NULL, commercial BIGINT NOT NULL, other BIGINT NOT NULL,
        PRIMARY KEY (run_id, agency_id)
    );";

/// Every schema step after [`SCHEMA_VERSION`] will come here, as SQLite's do.
const MIGRATIONS: &[&str] = &[];

/// Key of the advisory lock held while the schema is created or upgraded.
const SCHEMA_LOCK: i64 = 0x5167_6175_6469_7401;

impl From<postgres::Error> for HistoryError {
    fn from(e: postgres::Error) -> HistoryError {
        HistoryError::Pg(PgError::from(e))
    }
}

/// A PostgreSQL failure as a user can act on it: the server's own message
/// (wrong password, missing database) or what the network said.
#[derive(Debug)]
pub(crate) struct PgError(String);

impl From<postgres::Error> for PgError {
    fn from(e: postgres::Error) -> PgError {
        if let Some(db) = e.as_db_error() {
            use postgres::error::SqlState;
            let down =
                [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW]
                    .contains(db.code());
            let hint = if down {
                " (the server went down: what was committed is kept; run again to continue)"
            } else {
                ""
            };
            return PgError(format!("PostgreSQL: {}{hint}", db.message()));
        }
        let mut text = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            let more = c.to_string();
            if !text.contains(&more) {
                text = format!("{text}: {more}");
            }
            cause = c.source();
        }
        if e.is_closed() {
            text.push_str(
                " (the connection to PostgreSQL was lost: what was committed is kept; run again \
                 to continue)",
            );
        }
        PgError(text)
    }
}

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) struct PgStore {
    /// Reads need the connection mutably too (`Store` reads through `&self`).
    client: RefCell<Client>,
    /// Whose runs and cache this connection writes and reads.
    host: String,
}

impl PgStore {
    pub(crate) fn open(target: &PgTarget, host: &str) -> Result<PgStore> {
        let mut client = target.connect()?;
        migrate(&mut client)?;
        Ok(PgStore { client: RefCell::new(client), host: host.to_owned() })
    }

    fn db(&self) -> std::cell::RefMut<'_, Client> {
        self.client.borrow_mut()
    }
}

fn migrate(client: &mut Client) -> Result<()> {
    let known = SCHEMA_VERSION + MIGRATIONS.len() as i32;
    let mut tx = client.transaction()?;
    // Two hosts starting on an empty database: one creates, the other waits.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
    let exists: bool =
        tx.query_one("SELECT to_regclass('sigaudit_schema') IS NOT NULL", &[])?.get(0);
    let version = if exists {
        tx.query_one("SELECT version FROM sigaudit_schema", &[])?.get(0)
    } else {
        tx.batch_execute(SCHEMA)?;
        tx.batch_execute(rows::SIGNATURES_VIEW)?;
        tx.batch_execute(&format!(
            "CREATE TABLE sigaudit_schema (version INTEGER NOT NULL); INSERT INTO sigaudit_schema \
             VALUES ({SCHEMA_VERSION});"
        ))?;
        SCHEMA_VERSION
    };
    if version > known {
        return Err(HistoryError::TooNew { found: version.into(), known: known.into() });
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip((version - SCHEMA_VERSION) as usize) {
        tx.batch_execute(step)?;
        tx.execute("UPDATE sigaudit_schema SET version = $1", &[&(SCHEMA_VERSION + i as i32 + 1)])?;
    }
    tx.commit()?;
    Ok(())
}

/// Held while a host scans a source into the database: the server releases
/// it when the connection ends, however the process ended.
pub(crate) struct HostLock {
    _client: Client,
}

/// Takes the lock of `host` scanning `sources`, waiting up to `wait`.
pub(crate) fn lock_host(
    target: &PgTarget,
    host: &str,
    sources: &[String],
    wait: Duration,
) -> Result<HostLock> {
    let mut client = target.connect()?;
    let mut sorted = sources.to_vec();
    sorted.sort();
    let digest = digest_of(&[
        String::from("sigaudit scan"),
        host.to_owned(),
        serde_json::to_string(&sorted).unwrap_or_default(),
    ]);
    let key = i64::from_be_bytes(digest[..8].try_into().expect("SHA-256 has 8 bytes"));
    let deadline = Instant::now() + wait;
    loop {
        if client.query_one("SELECT pg_try_advisory_lock($1)", &[&key])?.get::<_, bool>(0) {
            return Ok(HostLock { _client: client });
        }
        if Instant::now() >= deadline {
            let waited = if wait.is_zero() {
                String::new()
            } else {
                format!(" (waited {} s)", wait.as_secs())
            };
            return Err(HistoryError::Locked(format!(
                "another sigaudit run of host {host:?} is scanning {} into {}{waited}: it was \
                 left alone; try again later or pass --wait SECONDS",
                sorted.join(" "),
                target.url
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl rows::Columns for postgres::Row {
    fn text(&self, i: usize) -> Result<String> {
        Ok(self.try_get(i)?)
    }
    fn maybe_text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.try_get(i)?)
    }
    fn maybe_flag(&self, i: usize) -> Result<Option<bool>> {
        Ok(self.try_get(i)?)
    }
    fn number(&self, i: usize) -> Result<i64> {
        Ok(self.try_get(i)?)
    }
}

impl Store for PgStore {
    fn begin_run(&mut self, sources: &[String], rules_digest: &str, label: &str) -> Result<RunId> {
        let row = self.db().query_one(
            "INSERT INTO runs (started, sources, rules_digest, tool_version, label, host) VALUES \
             ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &time_text(OffsetDateTime::now_utc()),
                &serde_json::to_string(sources).unwrap_or_default(),
                &rules_digest,
                &VERSION,
                &label,
                &self.host,
            ],
        )?;
        Ok(row.get(0))
    }

    fn delete_run(&mut self, run: RunId) -> Result<()> {
        let mut db = self.db();
        let mut tx = db.transaction()?;
        for table in ["run_findings", "errors", "run_agencies"] {
            tx.execute(&format!("DELETE FROM {table} WHERE run_id = $1"), &[&run])?;
        }
        if tx.execute("DELETE FROM runs WHERE id = $1", &[&run])? == 0 {
            return Err(HistoryError::NoSuchRun(run));
        }
        // Findings no run lists any more; the file cache stays.
        tx.execute(
            "DELETE FROM findings f WHERE NOT EXISTS (SELECT 1 FROM run_findings r WHERE \
             r.finding_id = f.id)",
            &[],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn cached_files(&self, cache_key: &str) -> Result<HashMap<String, CachedFile>> {
        let rows = self.db().query(
            "SELECT path, size, mtime_ns, extraction, deps, cache_key = $2 FROM files WHERE host \
             = $1",
            &[&self.host, &cache_key],
        )?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in rows {
            let mtime_ns = r.get::<_, &str>(2).parse().unwrap_or(i128::MIN);
            let deps = match r.get::<_, Option<&str>>(4) {
                None => Vec::new(),
                // An entry whose dependencies cannot be read is never a hit.
                Some(d) => serde_json::from_str(d).unwrap_or_else(|_| {
                    vec![Dependency { path: String::new(), size: 0, mtime_ns: 0 }]
                }),
            };
            let usable: bool = r.get(5);
            let extraction = if usable { r.get(3) } else { None };
            out.insert(
                r.get(0),
                CachedFile {
                    size: r.get::<_, i64>(1) as u64,
                    mtime_ns,
                    extraction,
                    deps,
                    usable,
                    seen: Default::default(),
                },
            );
        }
        Ok(out)
    }

    fn files_of_run(&self, run: RunId) -> Result<u64> {
        Ok(self
            .db()
            .query_one("SELECT count(*) FROM files WHERE run_id = $1", &[&run])?
            .get::<_, i64>(0) as u64)
    }

    fn cached_certs(&self) -> Result<HashMap<String, Vec<u8>>> {
        Ok(self
            .db()
            .query("SELECT sha256, der FROM certs", &[])?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn save_files(&mut self, run: RunId, cache_key: &str, files: &[SavedFile]) -> Result<()> {
        // One statement per batch, the rows as arrays; a path once (the last).
        let mut latest: HashMap<&str, &SavedFile> = HashMap::new();
        for f in files {
            latest.insert(&f.path, f);
        }
        let files: Vec<&SavedFile> = latest.into_values().collect();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        let sizes: Vec<i64> = files.iter().map(|f| f.size as i64).collect();
        let mtimes: Vec<String> = files.iter().map(|f| f.mtime_ns.to_string()).collect();
        let shas: Vec<Option<&str>> = files.iter().map(|f| f.sha256.as_deref()).collect();
        let extractions: Vec<Option<&str>> =
            files.iter().map(|f| f.extraction.as_deref()).collect();
        let deps: Vec<Option<String>> = files
            .iter()
            .map(|f| {
                (!f.deps.is_empty()).then(|| serde_json::to_string(&f.deps).unwrap_or_default())
            })
            .collect();
        let mut certs: HashMap<&str, &[u8]> = HashMap::new();
        for (sha, der) in files.iter().flat_map(|f| &f.certs) {
            certs.insert(sha, der);
        }
        let (cert_shas, cert_ders): (Vec<&str>, Vec<&[u8]>) = certs.into_iter().unzip();
        let host = self.host.clone();
        let mut db = self.db();
        let mut tx = db.transaction()?;
        tx.execute(
            "INSERT INTO files (host, path, size, mtime_ns, sha256, cache_key, extraction, deps, \
             run_id)
             SELECT $1, f.path, f.size, f.mtime_ns, f.sha256, $2, f.extraction, f.deps, $3
             FROM UNNEST($4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[]) \
             AS f(path, size, mtime_ns, sha256, extraction, deps)
             ON CONFLICT (host, path) DO UPDATE SET size = excluded.size, mtime_ns = \
             excluded.mtime_ns, sha256 = excluded.sha256,
                 cache_key = excluded.cache_key, extraction = excluded.extraction, deps = \
             excluded.deps, run_id = excluded.run_id",
            &[&host, &cache_key, &run, &paths, &sizes, &mtimes, &shas, &extractions, &deps],
        )?;
        tx.execute(
            "INSERT INTO certs (sha256, der) SELECT * FROM UNNEST($1::text[], $2::bytea[]) ON \
             CONFLICT DO NOTHING",
            &[&cert_shas, &cert_ders],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn save_certs(&mut self, certs: &[(String, Vec<u8>)]) -> Result<()> {
        let (shas, ders): (Vec<&str>, Vec<&[u8]>) =
            certs.iter().map(|(s, d)| (s.as_str(), d.as_slice())).unzip();
        self.db().execute(
            "INSERT INTO certs (sha256, der) SELECT * FROM UNNEST($1::text[], $2::bytea[]) ON \
             CONFLICT DO NOTHING",
            &[&shas, &ders],
        )?;
        Ok(())
    }

    fn finish_run(
        &mut self,
        run: RunId,
        result: &ScanResult,
        stats: RunStats,
        gone: &[String],
    ) -> Result<()> {
        let host = self.host.clone();
        let mut db = self.db();
        let mut tx = db.transaction()?;
        tx.execute("DELETE FROM files WHERE host = $1 AND path = ANY($2)", &[&host, &gone])?;
        put_findings(&mut tx, run, &result.findings)?;
        let errors: [Vec<&str>; 6] = [
            result.errors.iter().map(|(e, _)| e.file.as_str()).collect(),
            result.errors.iter().map(|(e, _)| e.member.as_str()).collect(),
            result.errors.iter().map(|(e, _)| e.stage.as_str()).collect(),
            result.errors.iter().map(|(e, _)| e.error.as_str()).collect(),
            result.errors.iter().map(|(_, a)| a.id.as_str()).collect(),
            result.errors.iter().map(|(_, a)| a.name.as_str()).collect(),
        ];
        tx.execute(
            "INSERT INTO errors (run_id, file, member, stage, error, agency_id, agency_name)
             SELECT $1, e.file, e.member, e.stage, e.error, e.agency_id, e.agency_name
             FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) \
             WITH ORDINALITY AS e(file, member, stage, error, agency_id, agency_name, n) ORDER BY \
             n",
            &[&run, &errors[0], &errors[1], &errors[2], &errors[3], &errors[4], &errors[5]],
        )?;
        let per_agency = super::agency_totals(result);
        let ids: Vec<&str> = per_agency.keys().map(|a| a.id.as_str()).collect();
        let names: Vec<&str> = per_agency.keys().map(|a| a.name.as_str()).collect();
        let column = |i: usize| per_agency.values().map(|t| t[i] as i64).collect::<Vec<i64>>();
        tx.execute(
            "INSERT INTO run_agencies (run_id, agency_id, agency_name, files, signed_files, \
             government, commercial, other)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::bigint[], \
             $6::bigint[], $7::bigint[], $8::bigint[])",
            &[&run, &ids, &names, &column(0), &column(1), &column(2), &column(3), &column(4)],
        )?;
        let count =
            |class: CaClass| result.findings.iter().filter(|f| f.ca_class == class).count() as i64;
        let (government, commercial) = (count(CaClass::Government), count(CaClass::Commercial));
        tx.execute(
            "UPDATE runs SET started = $2, finished = $3, sources = $4, files = $5, signatures = \
             $6, government = $7, commercial = $8,
                 other = $9, errors = $10, doc_timestamps = $11, files_read = $12, files_removed = \
             $13, usage_rights = $14 WHERE id = $1",
            &[
                &run,
                &time_text(result.started),
                &time_text(result.finished),
                &serde_json::to_string(&result.sources).unwrap_or_default(),
                &(result.files.values().map(|t| t.scanned).sum::<usize>() as i64),
                &(result.findings.len() as i64),
                &government,
                &commercial,
                &(result.findings.len() as i64 - government - commercial),
                &(result.errors.len() as i64),
                &(result.not_signers.doc_timestamps as i64),
                &(stats.files_read as i64),
                &(stats.files_removed as i64),
                &(result.not_signers.usage_rights as i64),
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn runs(&self) -> Result<Vec<RunInfo>> {
        let rows = self.db().query(
            &format!(
                "SELECT {} FROM runs WHERE finished IS NOT NULL ORDER BY id",
                rows::RUN_COLUMNS
            ),
            &[],
        )?;
        rows.iter().map(|r| rows::run_info(r)).collect()
    }

    fn load_run(&self, run: RunId) -> Result<ScanResult> {
        let mut db = self.db();
        // This run's row only: the province's report loads one run per host.
        let info = db
            .query_opt(
                &format!(
                    "SELECT {} FROM runs WHERE id = $1 AND finished IS NOT NULL",
                    rows::RUN_COLUMNS
                ),
                &[&run],
            )?
            .ok_or(HistoryError::NoSuchRun(run))?;
        let info = rows::run_info(&info)?;
        let counts =
            db.query_one("SELECT doc_timestamps, usage_rights FROM runs WHERE id = $1", &[&run])?;
        let files = db
            .query(
                "SELECT agency_id, agency_name, files, signed_files FROM run_agencies WHERE \
                 run_id = $1 AND files > 0",
                &[&run],
            )?
            .into_iter()
            .map(|r| {
                (
                    AgencyRef { id: r.get(0), name: r.get(1) },
                    FileTally {
                        scanned: r.get::<_, i64>(2) as usize,
                        signed: r.get::<_, i64>(3) as usize,
                    },
                )
            })
            .collect();
        let findings = db
            .query(
                &format!(
                    "SELECT {} FROM run_findings r JOIN findings f ON f.id = r.finding_id WHERE \
                     r.run_id = $1 ORDER BY r.seq",
                    rows::finding_columns("f.")
                ),
                &[&run],
            )?
            .iter()
            .map(|r| rows::finding(r, 0))
            .collect::<Result<Vec<_>>>()?;
        let errors = db
            .query(
                "SELECT file, member, stage, error, agency_id, agency_name FROM errors WHERE \
                 run_id = $1 ORDER BY id",
                &[&run],
            )?
            .into_iter()
            .map(|r| {
                let stage: String = r.get(2);
                let stage: Stage = serde_json::from_value(serde_json::Value::String(stage.clone()))
                    .map_err(|_| HistoryError::Damaged(format!("stage {stage:?}")))?;
                Ok((
                    ErrorRow::new(
                        r.get::<_, String>(0),
                        r.get::<_, String>(1),
                        stage,
                        r.get::<_, String>(3),
                    ),
                    AgencyRef { id: r.get(4), name: r.get(5) },
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ScanResult {
            files,
            findings,
            errors,
            not_signers: NotSigners {
                doc_timestamps: counts.get::<_, i64>(0) as usize,
                usage_rights: counts.get::<_, i64>(1) as usize,
            },
            started: info.started,
            finished: info.finished.unwrap_or(info.started),
            sources: info.sources,
            incomplete: Vec::new(),
            learned: Vec::new(),
            unknown_cas: Vec::new(),
        })
    }

    fn load_signings(&self, run: RunId) -> Result<Vec<Signing>> {
        let rows = self.db().query(
            "SELECT f.agency_id, f.agency_name, f.signer_cn, COALESCE(f.signed_at, ''), f.file, \
             f.member, f.ca_class, f.ca_name
             FROM run_findings r JOIN findings f ON f.id = r.finding_id WHERE r.run_id = $1 ORDER \
             BY r.seq",
            &[&run],
        )?;
        rows.into_iter()
            .map(|r| {
                Ok(Signing {
                    agency_id: r.get(0),
                    agency_name: r.get(1),
                    signer_cn: r.get(2),
                    signed_at: r.get(3),
                    file: r.get(4),
                    member: r.get(5),
                    ca_class: rows::parse_class(r.get(6))?,
                    ca_name: r.get(7),
                })
            })
            .collect()
    }

    fn audit_points(&self) -> Result<Vec<AuditPoint>> {
        let rows = self.db().query(
            "SELECT r.id, r.finished, a.agency_id, a.government, a.commercial, a.other
             FROM runs r JOIN run_agencies a ON a.run_id = r.id
             WHERE r.finished IS NOT NULL AND a.government + a.commercial + a.other > 0 ORDER BY \
             r.id, a.agency_id",
            &[],
        )?;
        rows.into_iter()
            .map(|r| {
                Ok(AuditPoint {
                    run: r.get(0),
                    finished: parse_time(r.get(1))?,
                    agency_id: r.get(2),
                    government: r.get::<_, i64>(3) as usize,
                    commercial: r.get::<_, i64>(4) as usize,
                    other: r.get::<_, i64>(5) as usize,
                })
            })
            .collect()
    }
}

/// Stores each finding of `run` not stored before (by its digest, so two
/// hosts storing the same finding at once keep one row), then lists them
/// all for the run in their order.
fn put_findings(
    tx: &mut postgres::Transaction<'_>,
    run: RunId,
    findings: &[Finding],
) -> Result<()> {
    let canon: Vec<[String; 25]> = findings.iter().map(canonical).collect();
    let digests: Vec<Vec<u8>> = canon.iter().map(|c| digest_of(c)).collect();
    let text = |i: usize| canon.iter().map(|c| c[i].as_str()).collect::<Vec<&str>>();
    let texts: Vec<Vec<&str>> = (0..25).map(text).collect();
    let signed_at: Vec<Option<&str>> = findings.iter().map(|f| f.signed_at.as_deref()).collect();
    let modified: Vec<Option<bool>> = findings.iter().map(|f| f.modified_after_signing).collect();
    let valid: Vec<Option<bool>> = findings.iter().map(|f| f.cert_valid_at_signing).collect();
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&digests];
    let mut casts = vec!["$1::bytea[]".to_owned()];
    for (i, column) in rows::FINDING_COLUMNS.iter().enumerate() {
        let (value, kind): (&(dyn ToSql + Sync), &str) = match *column {
            "signed_at" => (&signed_at, "text"),
            "modified_after_signing" => (&modified, "boolean"),
            "cert_valid_at_signing" => (&valid, "boolean"),
            _ => (&texts[i], "text"),
        };
        params.push(value);
        casts.push(format!("${}::{kind}[]", i + 2));
    }
    tx.execute(
        &format!(
            "INSERT INTO findings (digest, {}) SELECT * FROM UNNEST({}) ON CONFLICT (digest) DO \
             NOTHING",
            rows::finding_columns(""),
            casts.join(", ")
        ),
        &params,
    )?;
    let ids: HashMap<Vec<u8>, i64> = tx
        .query("SELECT digest, id FROM findings WHERE digest = ANY($1)", &[&digests])?
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let seqs: Vec<i64> = (0..findings.len() as i64).collect();
    let finding_ids = digests
        .iter()
        .map(|d| {
            ids.get(d)
                .copied()
                .ok_or_else(|| HistoryError::Damaged("a finding just stored is missing".into()))
        })
        .collect::<Result<Vec<i64>>>()?;
    tx.execute(
        "INSERT INTO run_findings (run_id, seq, finding_id) SELECT $1, * FROM \
         UNNEST($2::bigint[], $3::bigint[])",
        &[&run, &seqs, &finding_ids],
    )?;
    Ok(())
}
