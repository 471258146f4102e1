//! The SQLite store: one file, WAL journal, every write in a transaction,
//! so that a process killed at any moment leaves a valid database (an
//! interrupted run simply stays incomplete). The schema is versioned with
//! `PRAGMA user_version` and upgraded by the migrations below, in order.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
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

/// One schema step: SQL, or code where rows must be rewritten.
enum Migration {
    Sql(&'static str),
    Code(fn(&rusqlite::Transaction<'_>) -> Result<()>),
}

/// Schema migrations; index + 1 is the version each one leads to.
const MIGRATIONS: &[Migration] = &[
    // 1: runs, the incremental file cache, and each run's results.
    Migration::Sql(
        "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT,
        sources TEXT NOT NULL,
        rules_digest TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        files INTEGER NOT NULL DEFAULT 0,
        signatures INTEGER NOT NULL DEFAULT 0,
        government INTEGER NOT NULL DEFAULT 0,
        commercial INTEGER NOT NULL DEFAULT 0,
        other INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        doc_timestamps INTEGER NOT NULL DEFAULT 0,
        files_read INTEGER NOT NULL DEFAULT 0,
        files_removed INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE files (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns TEXT NOT NULL,
        sha256 TEXT,
        cache_key TEXT NOT NULL,
        extraction TEXT,
        deps TEXT,
        run_id INTEGER NOT NULL
    );
    CREATE TABLE certs (
        sha256 TEXT PRIMARY KEY,
        der BLOB NOT NULL
    );
    CREATE TABLE signatures (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        agency_id TEXT NOT NULL, agency_name TEXT NOT NULL, file TEXT NOT NULL, member TEXT NOT \
         NULL,
        format TEXT NOT NULL, signed_at TEXT NOT NULL, signer_cn TEXT NOT NULL, signer_org TEXT \
         NOT NULL,
        signer_serial TEXT NOT NULL, signer_sha256 TEXT NOT NULL, signer_not_before TEXT NOT NULL,
        signer_not_after TEXT NOT NULL, issuer_cn TEXT NOT NULL, root_cn TEXT NOT NULL, ca_id TEXT \
         NOT NULL,
        ca_name TEXT NOT NULL, ca_class TEXT NOT NULL, classified_by TEXT NOT NULL, chain TEXT NOT \
         NULL,
        integrity TEXT NOT NULL, modified_after_signing TEXT NOT NULL, cert_valid_at_signing TEXT \
         NOT NULL,
        notes TEXT NOT NULL
    );
    CREATE INDEX signatures_run ON signatures(run_id);
    CREATE TABLE errors (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        file TEXT NOT NULL, member TEXT NOT NULL, stage TEXT NOT NULL, error TEXT NOT NULL,
        agency_id TEXT NOT NULL, agency_name TEXT NOT NULL
    );
    CREATE INDEX errors_run ON errors(run_id);
    CREATE TABLE run_agencies (
        run_id INTEGER NOT NULL REFERENCES runs(id),
        agency_id TEXT NOT NULL,
        agency_name TEXT NOT NULL,
        files INTEGER NOT NULL, signed_files INTEGER NOT NULL,
        government INTEGER NOT NULL, commercial INTEGER NOT NULL, other INTEGER NOT NULL,
        PRIMARY KEY (run_id, agency_id)
    );",
    ),
    // 2: each distinct finding stored once, runs list theirs: a monthly
    // rescan adds a row per signature, not every column again.
    Migration::Code(store_findings_once),
    Migration::Sql(TYPED_FINDINGS),
    Migration::Code(attribution),
    // 5: a run's label (`scan --label`), to tell trial runs from audits.
    Migration::Sql("ALTER TABLE runs ADD COLUMN label TEXT NOT NULL DEFAULT '';"),
    // 6: Adobe usage-rights signatures counted beside document timestamps.
    Migration::Sql("ALTER TABLE runs ADD COLUMN usage_rights INTEGER NOT NULL DEFAULT 0;"),
    // 7: the host that ran each scan (`--host-label`), as a province's
    // PostgreSQL history records it; older runs were this file's host.
    Migration::Sql("ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT '';"),
];

/// The text columns of a finding in schemas 1 and 2: the typed columns'
/// first 23 (schema 4 added the last two; a schema step may only add more).
const FINDING_COLUMNS_V2: [&str; 23] = {
    let mut v2 = [""; 23];
    let mut i = 0;
    while i < 23 {
        v2[i] = rows::FINDING_COLUMNS[i];
        i += 1;
    }
    v2
};

fn store_findings_once(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    let columns = FINDING_COLUMNS_V2.map(|c| format!("{c} TEXT NOT NULL")).join(", ");
    tx.execute_batch(&format!(
        "CREATE TABLE findings (id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, {columns});
         CREATE TABLE run_findings (
             run_id INTEGER NOT NULL REFERENCES runs(id),
             seq INTEGER NOT NULL,
             finding_id INTEGER NOT NULL REFERENCES findings(id),
             PRIMARY KEY (run_id, seq)
         ) WITHOUT ROWID;"
    ))?;
    {
        let mut old = tx.prepare(&format!(
            "SELECT run_id, {} FROM signatures ORDER BY rowid",
            FINDING_COLUMNS_V2.join(", ")
        ))?;
        let insert = format!(
            "INSERT INTO findings (digest, {}) VALUES (?1, {})",
            FINDING_COLUMNS_V2.join(", "),
            (2..=24).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
        );
        let mut rows = old.query([])?;
        let mut seq: HashMap<RunId, i64> = HashMap::new();
        while let Some(r) = rows.next()? {
            let run: RunId = r.get(0)?;
            let mut record: [String; 23] = Default::default();
            for (i, v) in record.iter_mut().enumerate() {
                *v = r.get(i + 1)?;
            }
            let digest = digest_of(&record);
            let known: Option<i64> = tx
                .prepare_cached("SELECT id FROM findings WHERE digest = ?1")?
                .query_row([&digest], |r| r.get(0))
                .optional()?;
            let id = match known {
                Some(id) => id,
                None => {
                    let mut values: Vec<&dyn rusqlite::ToSql> = vec![&digest];
                    values.extend(record.iter().map(|v| v as &dyn rusqlite::ToSql));
                    tx.prepare_cached(&insert)?.execute(values.as_slice())?;
                    tx.last_insert_rowid()
                }
            };
            let n = seq.entry(run).or_default();
            tx.prepare_cached(
                "INSERT INTO run_findings (run_id, seq, finding_id) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![run, *n, id])?;
            *n += 1;
        }
    }
    // The old name stays readable for anyone's own queries.
    let selected = FINDING_COLUMNS_V2.map(|c| format!("f.{c}")).join(", ");
    tx.execute_batch(&format!(
        "DROP TABLE signatures;
         CREATE VIEW signatures AS SELECT r.run_id, {selected} FROM run_findings r JOIN findings f \
         ON f.id = r.finding_id;"
    ))?;
    Ok(())
}

/// 3: findings in typed columns: no signing time is NULL, the two
/// true/false columns are INTEGER (NULL when not applicable). The digests
/// stay: they are computed over the same canonical text ([`canonical`]).
/// The `signatures` view keeps the text shape it always had.
const TYPED_FINDINGS: &str = "
    CREATE TABLE findings_typed (
        id INTEGER PRIMARY KEY,
        digest BLOB NOT NULL UNIQUE,
        agency_id TEXT NOT NULL, agency_name TEXT NOT NULL, file TEXT NOT NULL, member TEXT NOT \
                              NULL,
        format TEXT NOT NULL, signed_at TEXT, signer_cn TEXT NOT NULL, signer_org TEXT NOT NULL,
        signer_serial TEXT NOT NULL, signer_sha256 TEXT NOT NULL, signer_not_before TEXT NOT NULL,
        signer_not_after TEXT NOT NULL, issuer_cn TEXT NOT NULL, root_cn TEXT NOT NULL, ca_id TEXT \
                              NOT NULL,
        ca_name TEXT NOT NULL, ca_class TEXT NOT NULL, classified_by TEXT NOT NULL, chain TEXT NOT \
                              NULL,
        integrity TEXT NOT NULL, modified_after_signing INTEGER, cert_valid_at_signing INTEGER, \
                              notes TEXT NOT NULL
    );
    INSERT INTO findings_typed SELECT id, digest, agency_id, agency_name, file, member, format, \
                              NULLIF(signed_at, ''),
        signer_cn, signer_org, signer_serial, signer_sha256, signer_not_before, signer_not_after, \
                              issuer_cn, root_cn,
        ca_id, ca_name, ca_class, classified_by, chain, integrity,
        CASE modified_after_signing WHEN 'true' THEN 1 WHEN 'false' THEN 0 END,
        CASE cert_valid_at_signing WHEN 'true' THEN 1 WHEN 'false' THEN 0 END, notes
    FROM findings;
    DROP VIEW signatures;
    DROP TABLE findings;
    ALTER TABLE findings_typed RENAME TO findings;
    CREATE VIEW signatures AS SELECT r.run_id, f.agency_id, f.agency_name, f.file, f.member, \
                              f.format,
        COALESCE(f.signed_at, '') AS signed_at, f.signer_cn, f.signer_org, f.signer_serial, \
                              f.signer_sha256,
        f.signer_not_before, f.signer_not_after, f.issuer_cn, f.root_cn, f.ca_id, f.ca_name, \
                              f.ca_class,
        f.classified_by, f.chain, f.integrity,
        CASE f.modified_after_signing WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE '' END AS \
                              modified_after_signing,
        CASE f.cert_valid_at_signing WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE '' END AS \
                              cert_valid_at_signing,
        f.notes
    FROM run_findings r JOIN findings f ON f.id = r.finding_id;
";

/// 4: attribution (docs/report-format.md): why a finding counts for its agency, and the
/// agency of the place where it was found. Older findings were attributed
/// by place first: they read as `location`, found where they count.
fn attribution(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    tx.execute_batch(
        "ALTER TABLE findings ADD COLUMN attributed_by TEXT NOT NULL DEFAULT 'location';
         ALTER TABLE findings ADD COLUMN found_in TEXT NOT NULL DEFAULT '';
         UPDATE findings SET found_in = agency_id;
         DROP VIEW signatures;",
    )?;
    tx.execute_batch(rows::SIGNATURES_VIEW)?;
    Ok(())
}

/// Adds `f` as the `seq`th finding of `run`, storing it only if no run has
/// had it before.
fn put_finding(tx: &rusqlite::Transaction<'_>, run: RunId, seq: i64, f: &Finding) -> Result<()> {
    let digest = digest_of(&canonical(f));
    let known: Option<i64> = tx
        .prepare_cached("SELECT id FROM findings WHERE digest = ?1")?
        .query_row([&digest], |r| r.get(0))
        .optional()?;
    let id = match known {
        Some(id) => id,
        None => {
            static INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                format!(
                    "INSERT INTO findings (digest, {}) VALUES (?1, {})",
                    rows::finding_columns(""),
                    (2..=26).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
                )
            });
            tx.prepare_cached(&INSERT)?.execute(params![
                digest,
                f.agency_id,
                f.agency_name,
                f.file,
                f.member,
                f.format.as_str(),
                f.signed_at,
                f.signer_cn,
                f.signer_org,
                f.signer_serial,
                f.signer_sha256,
                f.signer_not_before,
                f.signer_not_after,
                f.issuer_cn,
                f.root_cn,
                f.ca_id,
                f.ca_name,
                f.ca_class.as_str(),
                f.classified_by.as_str(),
                f.chain.as_str(),
                f.integrity.as_str(),
                f.modified_after_signing,
                f.cert_valid_at_signing,
                f.notes,
                f.attributed_by.as_str(),
                f.found_in,
            ])?;
            tx.last_insert_rowid()
        }
    };
    tx.prepare_cached("INSERT INTO run_findings (run_id, seq, finding_id) VALUES (?1, ?2, ?3)")?
        .execute(params![run, seq, id])?;
    Ok(())
}

pub(crate) struct SqliteStore {
    conn: Connection,
    /// Recorded with each run this store begins.
    host: String,
}

impl SqliteStore {
    pub(crate) fn open(path: &Path) -> Result<SqliteStore> {
        let mut conn = Connection::open(path)?;
        // Another process holding a write transaction: wait, do not fail.
        conn.busy_timeout(Duration::from_secs(60))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // WAL + NORMAL: a killed process loses nothing committed; only a
        // power cut may lose the last transactions, never consistency.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Reads straight from the mapped file: a rescan reads every row.
        conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(SqliteStore { conn, host: String::new() })
    }

    /// Records the runs it begins under `host` (`--host-label`).
    pub(crate) fn on_host(mut self, host: &str) -> SqliteStore {
        self.host = host.to_owned();
        self
    }

    #[cfg(test)]
    pub(crate) fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(HistoryError::TooNew { found: version, known });
    }
    if version == known {
        return Ok(());
    }
    // SQLite's way to rebuild a table others refer to: foreign keys off
    // (only possible outside a transaction), each step in its own
    // transaction, then every reference checked before they are back on.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        match step {
            Migration::Sql(sql) => tx.execute_batch(sql)?,
            Migration::Code(run) => run(&tx)?,
        }
        let broken: Option<String> =
            tx.query_row("PRAGMA foreign_key_check", [], |r| r.get(0)).optional()?;
        if let Some(table) = broken {
            return Err(HistoryError::Damaged(format!(
                "schema step {} left rows of {table} pointing nowhere",
                i + 1
            )));
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

impl Store for SqliteStore {
    fn begin_run(&mut self, sources: &[String], rules_digest: &str, label: &str) -> Result<RunId> {
        self.conn.execute(
            "INSERT INTO runs (started, sources, rules_digest, tool_version, label, host) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                time_text(OffsetDateTime::now_utc()),
                serde_json::to_string(sources).unwrap_or_default(),
                rules_digest,
                VERSION,
                label,
                self.host
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn delete_run(&mut self, run: RunId) -> Result<()> {
        let tx = self.conn.transaction()?;
        for table in ["run_findings", "errors", "run_agencies"] {
            tx.execute(&format!("DELETE FROM {table} WHERE run_id = ?1"), [run])?;
        }
        if tx.execute("DELETE FROM runs WHERE id = ?1", [run])? == 0 {
            return Err(HistoryError::NoSuchRun(run));
        }
        // Findings no run lists any more; the file cache stays (it serves the next scan whatever
        // run stored it).
        tx.execute(
            "DELETE FROM findings WHERE id NOT IN (SELECT finding_id FROM run_findings)",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn cached_files(&self, cache_key: &str) -> Result<HashMap<String, CachedFile>> {
        // Every file of the last scan is read here on each rescan: no
        // needless allocation per row.
        let count: i64 = self.conn.query_row("SELECT count(*) FROM files", [], |r| r.get(0))?;
        let mut out = HashMap::with_capacity(count.max(0) as usize);
        let mut stmt = self
            .conn
            .prepare("SELECT path, size, mtime_ns, extraction, deps, cache_key = ?1 FROM files")?;
        let mut rows = stmt.query([cache_key])?;
        while let Some(r) = rows.next()? {
            let mtime_ns =
                r.get_ref(2)?.as_str().ok().and_then(|m| m.parse().ok()).unwrap_or(i128::MIN);
            let deps = match r.get_ref(4)? {
                rusqlite::types::ValueRef::Null => Vec::new(),
                // An entry whose dependencies cannot be read is never a hit.
                d => d.as_str().ok().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_else(
                    || vec![Dependency { path: String::new(), size: 0, mtime_ns: 0 }],
                ),
            };
            let usable: bool = r.get(5)?;
            let extraction = if usable { r.get(3)? } else { None };
            let entry = CachedFile {
                size: r.get::<_, i64>(1)? as u64,
                mtime_ns,
                extraction,
                deps,
                usable,
                seen: Default::default(),
            };
            out.insert(r.get(0)?, entry);
        }
        Ok(out)
    }

    fn files_of_run(&self, run: RunId) -> Result<u64> {
        Ok(self.conn.query_row("SELECT count(*) FROM files WHERE run_id = ?1", [run], |r| {
            r.get::<_, i64>(0)
        })? as u64)
    }

    fn cached_certs(&self) -> Result<HashMap<String, Vec<u8>>> {
        let mut stmt = self.conn.prepare("SELECT sha256, der FROM certs")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn save_files(&mut self, run: RunId, cache_key: &str, files: &[SavedFile]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO files (path, size, mtime_ns, sha256, cache_key, \
                 extraction, deps, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut cert_stmt =
                tx.prepare_cached("INSERT OR IGNORE INTO certs (sha256, der) VALUES (?1, ?2)")?;
            for f in files {
                let deps = (!f.deps.is_empty())
                    .then(|| serde_json::to_string(&f.deps).unwrap_or_default());
                stmt.execute(params![
                    f.path,
                    f.size as i64,
                    f.mtime_ns.to_string(),
                    f.sha256,
                    cache_key,
                    f.extraction,
                    deps,
                    run
                ])?;
                for (sha, der) in &f.certs {
                    cert_stmt.execute(params![sha, der])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn save_certs(&mut self, certs: &[(String, Vec<u8>)]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT OR IGNORE INTO certs (sha256, der) VALUES (?1, ?2)")?;
            for (sha, der) in certs {
                stmt.execute(params![sha, der])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn finish_run(
        &mut self,
        run: RunId,
        result: &ScanResult,
        stats: RunStats,
        gone: &[String],
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM files WHERE path = ?1")?;
            for p in gone {
                stmt.execute([p])?;
            }
        }
        {
            for (seq, f) in result.findings.iter().enumerate() {
                put_finding(&tx, run, seq as i64, f)?;
            }
            let mut err_stmt = tx.prepare(
                "INSERT INTO errors (run_id, file, member, stage, error, agency_id, agency_name) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for (e, a) in &result.errors {
                err_stmt.execute(params![
                    run,
                    e.file,
                    e.member,
                    e.stage.as_str(),
                    e.error,
                    a.id,
                    a.name
                ])?;
            }
        }
        {
            // Per agency: files, and classes for the trend across audits.
            let per_agency = super::agency_totals(result);
            let mut stmt = tx.prepare(
                "INSERT INTO run_agencies (run_id, agency_id, agency_name, files, signed_files, \
                 government, commercial, other)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (run_id, agency_id) DO UPDATE SET files = files + excluded.files, \
                 signed_files = signed_files + excluded.signed_files,
                     government = government + excluded.government, commercial = commercial + \
                 excluded.commercial, other = other + excluded.other",
            )?;
            for (agency, [files, signed, g, c, o]) in per_agency {
                stmt.execute(params![
                    run,
                    agency.id,
                    agency.name,
                    files as i64,
                    signed as i64,
                    g as i64,
                    c as i64,
                    o as i64
                ])?;
            }
        }
        let count =
            |class: CaClass| result.findings.iter().filter(|f| f.ca_class == class).count() as i64;
        let (government, commercial) = (count(CaClass::Government), count(CaClass::Commercial));
        tx.execute(
            "UPDATE runs SET started = ?2, finished = ?3, sources = ?4, files = ?5, signatures = \
             ?6, government = ?7, commercial = ?8,
                 other = ?9, errors = ?10, doc_timestamps = ?11, files_read = ?12, files_removed = \
             ?13, usage_rights = ?14 WHERE id = ?1",
            params![
                run,
                time_text(result.started),
                time_text(result.finished),
                serde_json::to_string(&result.sources).unwrap_or_default(),
                result.files.values().map(|t| t.scanned).sum::<usize>() as i64,
                result.findings.len() as i64,
                government,
                commercial,
                result.findings.len() as i64 - government - commercial,
                result.errors.len() as i64,
                result.not_signers.doc_timestamps as i64,
                stats.files_read as i64,
                stats.files_removed as i64,
                result.not_signers.usage_rights as i64,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn runs(&self) -> Result<Vec<RunInfo>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {} FROM runs WHERE finished IS NOT NULL ORDER BY id",
            rows::RUN_COLUMNS
        ))?;
        let mut found = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = found.next()? {
            out.push(rows::run_info(r)?);
        }
        Ok(out)
    }

    fn load_run(&self, run: RunId) -> Result<ScanResult> {
        let info = self
            .conn
            .query_row(
                &format!(
                    "SELECT {} FROM runs WHERE id = ?1 AND finished IS NOT NULL",
                    rows::RUN_COLUMNS
                ),
                [run],
                |r| Ok(rows::run_info(r)),
            )
            .optional()?
            .ok_or(HistoryError::NoSuchRun(run))??;
        let (doc_timestamps, usage_rights): (i64, i64) = self.conn.query_row(
            "SELECT doc_timestamps, usage_rights FROM runs WHERE id = ?1",
            [run],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut stmt = self.conn.prepare(
            "SELECT agency_id, agency_name, files, signed_files FROM run_agencies WHERE run_id = \
             ?1 AND files > 0",
        )?;
        let files = stmt
            .query_map([run], |r| {
                Ok((
                    AgencyRef { id: r.get(0)?, name: r.get(1)? },
                    FileTally {
                        scanned: r.get::<_, i64>(2)? as usize,
                        signed: r.get::<_, i64>(3)? as usize,
                    },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let findings = self.load_findings_of(run)?;
        let mut stmt = self.conn.prepare(
            "SELECT file, member, stage, error, agency_id, agency_name FROM errors WHERE run_id = \
             ?1 ORDER BY rowid",
        )?;
        let errors = stmt
            .query_map([run], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .map(|(file, member, stage, error, id, name)| {
                let stage: Stage = serde_json::from_value(serde_json::Value::String(stage.clone()))
                    .map_err(|_| HistoryError::Damaged(format!("stage {stage:?}")))?;
                Ok((ErrorRow::new(file, member, stage, error), AgencyRef { id, name }))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ScanResult {
            files,
            findings,
            errors,
            not_signers: NotSigners {
                doc_timestamps: doc_timestamps as usize,
                usage_rights: usage_rights as usize,
            },
            started: info.started,
            finished: info.finished.unwrap_or(info.started),
            sources: info.sources,
            // Not stored: a rebuilt report shows the run's figures as found.
            incomplete: Vec::new(),
            learned: Vec::new(),
            unknown_cas: Vec::new(),
        })
    }

    fn load_signings(&self, run: RunId) -> Result<Vec<Signing>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.agency_id, f.agency_name, f.signer_cn, COALESCE(f.signed_at, ''), f.file, \
             f.member, f.ca_class, f.ca_name
             FROM run_findings r JOIN findings f ON f.id = r.finding_id WHERE r.run_id = ?1 ORDER \
             BY r.seq",
        )?;
        let rows = stmt.query_map([run], |r| {
            Ok((
                Signing {
                    agency_id: r.get(0)?,
                    agency_name: r.get(1)?,
                    signer_cn: r.get(2)?,
                    signed_at: r.get(3)?,
                    file: r.get(4)?,
                    member: r.get(5)?,
                    ca_class: CaClass::Untrusted,
                    ca_name: r.get(7)?,
                },
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut signing, class) = row?;
            signing.ca_class = *CaClass::ALL
                .iter()
                .find(|c| c.as_str() == class)
                .ok_or_else(|| HistoryError::Damaged(format!("ca_class {class:?}")))?;
            out.push(signing);
        }
        Ok(out)
    }

    fn audit_points(&self) -> Result<Vec<AuditPoint>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.finished, a.agency_id, a.government, a.commercial, a.other
             FROM runs r JOIN run_agencies a ON a.run_id = r.id
             WHERE r.finished IS NOT NULL AND a.government + a.commercial + a.other > 0 ORDER BY \
             r.id, a.agency_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (run, finished, agency_id, government, commercial, other) = row?;
            out.push(AuditPoint {
                run,
                finished: parse_time(&finished)?,
                agency_id,
                government: government as usize,
                commercial: commercial as usize,
                other: other as usize,
            });
        }
        Ok(out)
    }
}

impl SqliteStore {
    fn load_findings_of(&self, run: RunId) -> Result<Vec<Finding>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {} FROM run_findings r JOIN findings f ON f.id = r.finding_id WHERE r.run_id \
             = ?1 ORDER BY r.seq",
            rows::finding_columns("f.")
        ))?;
        let mut found = stmt.query([run])?;
        let mut out = Vec::new();
        while let Some(r) = found.next()? {
            out.push(rows::finding(r, 0)?);
        }
        Ok(out)
    }
}

impl rows::Columns for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<String> {
        Ok(self.get(i)?)
    }
    fn maybe_text(&self, i: usize) -> Result<Option<String>> {
        Ok(self.get(i)?)
    }
    fn maybe_flag(&self, i: usize) -> Result<Option<bool>> {
        Ok(self.get(i)?)
    }
    fn number(&self, i: usize) -> Result<i64> {
        Ok(self.get(i)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::signature::{Format, Integrity};
    use crate::model::verdict::{Attribution, ChainStatus, ClassifiedBy};

    /// Stores `findings` as two more runs.
    fn tx_twice(store: &mut SqliteStore, findings: &[Finding]) {
        for run in [3, 4] {
            let tx = store.conn.transaction().unwrap();
            tx.execute(
                "INSERT INTO runs (started, sources, rules_digest, tool_version) VALUES ('t', \
                 '[]', '', 'v')",
                [],
            )
            .unwrap();
            for (seq, f) in findings.iter().enumerate() {
                put_finding(&tx, run, seq as i64, f).unwrap();
            }
            tx.commit().unwrap();
        }
    }

    fn sample_finding(
        signed_at: Option<&str>,
        modified: Option<bool>,
        valid: Option<bool>,
    ) -> Finding {
        Finding {
            agency_id: "000.05.07.G11".into(),
            agency_name: "Sở Y tế".into(),
            file: "share/Sở Y tế/QĐ 12.pdf".into(),
            member: "Signature1".into(),
            format: Format::Pdf,
            signed_at: signed_at.map(str::to_owned),
            signer_cn: "Nguyễn Văn A".into(),
            signer_org: "Sở Y tế".into(),
            signer_serial: "0a1b".into(),
            signer_sha256: "ab".repeat(32),
            signer_not_before: "2024-01-01T00:00:00Z".into(),
            signer_not_after: "2027-01-01T00:00:00Z".into(),
            issuer_cn: "VNPT-CA SHA2".into(),
            root_cn: "Vietnam National Root CA".into(),
            ca_id: "vnpt-ca".into(),
            ca_name: "VNPT-CA".into(),
            ca_class: CaClass::Commercial,
            classified_by: ClassifiedBy::Dn,
            chain: ChainStatus::Incomplete,
            integrity: Integrity::Valid,
            modified_after_signing: modified,
            cert_valid_at_signing: valid,
            notes: "a; b".into(),
            // What schema 4 gives a finding of an older schema.
            attributed_by: Attribution::Location,
            found_in: "000.05.07.G11".into(),
        }
    }

    /// A version-2 history (findings as text) becomes typed and attributed:
    /// the same findings read back (found where they count, attributed by
    /// location, as schema 2 attributed them), and from then on each finding
    /// is found again by its digest.
    #[test]
    fn a_version_2_history_reads_back_typed_and_keeps_its_digests() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        let findings = [
            sample_finding(Some("2025-03-01T08:00:00Z"), Some(false), Some(true)),
            sample_finding(None, None, None),
            sample_finding(Some("2025-03-02T08:00:00Z"), Some(true), Some(false)),
        ];
        {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            let Migration::Sql(v1) = &MIGRATIONS[0] else { unreachable!() };
            tx.execute_batch(v1).unwrap();
            store_findings_once(&tx).unwrap();
            tx.execute(
                "INSERT INTO runs (started, sources, rules_digest, tool_version) VALUES ('t', \
                 '[]', '', 'v')",
                [],
            )
            .unwrap();
            let insert = format!(
                "INSERT INTO findings (digest, {}) VALUES (?1, {})",
                FINDING_COLUMNS_V2.join(", "),
                (2..=24).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
            );
            for (seq, f) in findings.iter().enumerate() {
                let record: Vec<String> = canonical(f)[..23].to_vec();
                let digest = digest_of(&record);
                let mut values: Vec<&dyn rusqlite::ToSql> = vec![&digest];
                values.extend(record.iter().map(|v| v as &dyn rusqlite::ToSql));
                tx.execute(&insert, values.as_slice()).unwrap();
                tx.execute(
                    "INSERT INTO run_findings VALUES (1, ?1, ?2)",
                    params![seq as i64, tx.last_insert_rowid()],
                )
                .unwrap();
            }
            tx.pragma_update(None, "user_version", 2).unwrap();
            tx.commit().unwrap();
        }
        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let back = store.load_findings_of(1).unwrap();
        assert_eq!(format!("{back:?}"), format!("{:?}", findings.to_vec()));
        let null_times: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM findings WHERE signed_at IS NULL AND modified_after_signing \
                 IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(null_times, 1, "typed: no time and not applicable are NULL");
        let view: (String, String, String) = store
            .conn
            .query_row(
                "SELECT signed_at, modified_after_signing, cert_valid_at_signing FROM signatures \
                 WHERE member = 'Signature1' AND signed_at = ''",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            view,
            ("".into(), "".into(), "".into()),
            "the signatures view keeps its text shape"
        );
        let tx = store.conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO runs (started, sources, rules_digest, tool_version) VALUES ('t', '[]', \
             '', 'v')",
            [],
        )
        .unwrap();
        for (seq, f) in findings.iter().enumerate() {
            put_finding(&tx, 2, seq as i64, f).unwrap();
        }
        tx.commit().unwrap();
        tx_twice(&mut store, &findings);
        let distinct: i64 =
            store.conn.query_row("SELECT count(*) FROM findings", [], |r| r.get(0)).unwrap();
        assert_eq!(
            distinct, 6,
            "stored once more under schema 4's digest (with attribution), then found by it"
        );
    }

    /// A version-1 history (findings copied into every run) upgrades to
    /// findings stored once, and reads back the same, in order.
    #[test]
    fn a_version_1_history_keeps_every_run_s_findings_when_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        let row = |file: &str, class: &str| -> [String; 23] {
            let mut r: [String; 23] = Default::default();
            for (i, v) in r.iter_mut().enumerate() {
                *v = format!("{}-{i}", FINDING_COLUMNS_V2[i]);
            }
            (r[2], r[16]) = (file.into(), class.into());
            r
        };
        let runs = [
            vec![row("a.pdf", "commercial"), row("b.pdf", "government")],
            vec![
                row("a.pdf", "commercial"),
                row("b.pdf", "government"),
                row("a.pdf", "commercial"),
            ],
        ];
        {
            let conn = Connection::open(&path).unwrap();
            let Migration::Sql(v1) = &MIGRATIONS[0] else { unreachable!() };
            conn.execute_batch(v1).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            let insert = format!(
                "INSERT INTO signatures VALUES (?1, {})",
                (2..=24).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
            );
            for (i, rows) in runs.iter().enumerate() {
                conn.execute(
                    "INSERT INTO runs (started, sources, rules_digest, tool_version) VALUES ('t', \
                     '[]', '', 'v')",
                    [],
                )
                .unwrap();
                let run = i as i64 + 1;
                for r in rows {
                    let mut values: Vec<&dyn rusqlite::ToSql> = vec![&run];
                    values.extend(r.iter().map(|v| v as &dyn rusqlite::ToSql));
                    conn.execute(&insert, values.as_slice()).unwrap();
                }
            }
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let distinct: i64 =
            store.conn.query_row("SELECT count(*) FROM findings", [], |r| r.get(0)).unwrap();
        assert_eq!(distinct, 2, "each distinct finding once");
        for (i, rows) in runs.iter().enumerate() {
            let back: Vec<(String, String)> = store
                .conn
                .prepare("SELECT file, ca_class FROM signatures WHERE run_id = ?1")
                .unwrap()
                .query_map([i as i64 + 1], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert_eq!(back.len(), rows.len());
            let signings = store.load_signings(i as i64 + 1).unwrap();
            let files: Vec<&str> = signings.iter().map(|s| s.file.as_str()).collect();
            assert_eq!(
                files,
                rows.iter().map(|r| r[2].as_str()).collect::<Vec<_>>(),
                "run {} in its order",
                i + 1
            );
        }
    }
}
