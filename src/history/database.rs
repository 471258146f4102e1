//! Where the history lives: an SQLite file (the default, embedded) or a
//! PostgreSQL server a province's hosts share. The rest of sigaudit opens,
//! locks and names it through this, whatever it is.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::postgres::{HostLock, PgStore, PgTarget, is_postgres_url};
use super::{Result, SqliteStore, Store, lock};

#[derive(Debug, Clone)]
pub(crate) enum Database {
    Sqlite(PathBuf),
    /// Boxed: a connection's settings are large beside a path.
    Postgres(Box<PgTarget>),
}

/// Held while a scan writes: the SQLite file's lock, or the host-and-source
/// advisory lock of a PostgreSQL history.
#[expect(dead_code, reason = "held for its Drop, which releases the lock")]
pub(crate) enum DbLock {
    File(lock::Lock),
    Host(Box<HostLock>),
}

impl Database {
    /// `--db`: a `postgresql://` (or `postgres://`) URL, else an SQLite file.
    pub(crate) fn parse(
        db: &Path,
        password_file: Option<&Path>,
        ca: Option<&Path>,
    ) -> std::result::Result<Database, String> {
        let text = db.to_string_lossy();
        if is_postgres_url(&text) {
            return Ok(Database::Postgres(Box::new(PgTarget::parse(&text, password_file, ca)?)));
        }
        if password_file.is_some() || ca.is_some() {
            return Err(format!(
                "--db-password-file and --db-ca are for a PostgreSQL history; {} is an SQLite file",
                db.display()
            ));
        }
        Ok(Database::Sqlite(db.to_path_buf()))
    }

    /// For messages: the file, or the URL (which never holds a password).
    pub(crate) fn describe(&self) -> String {
        match self {
            Database::Sqlite(p) => p.display().to_string(),
            Database::Postgres(t) => t.url.clone(),
        }
    }

    pub(crate) fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(p) => Some(p),
            Database::Postgres(_) => None,
        }
    }

    /// A connection whose runs are recorded under `host`; the schema is
    /// created or upgraded on the way.
    pub(crate) fn open(&self, host: &str) -> Result<Box<dyn Store + Send>> {
        Ok(match self {
            Database::Sqlite(p) => Box::new(SqliteStore::open(p)?.on_host(host)),
            Database::Postgres(t) => Box::new(PgStore::open(t, host)?),
        })
    }

    /// Does it hold a history already? (`report` must not create one.)
    pub(crate) fn exists(&self) -> bool {
        match self {
            Database::Sqlite(p) => p.is_file(),
            Database::Postgres(_) => true,
        }
    }

    /// One writer at a time: of the SQLite file, or of `host` scanning
    /// `sources` in PostgreSQL (other hosts and sources go on meanwhile).
    pub(crate) fn lock(&self, host: &str, sources: &[String], wait: Duration) -> Result<DbLock> {
        Ok(match self {
            Database::Sqlite(p) => DbLock::File(lock::acquire(p, wait)?),
            Database::Postgres(t) => {
                DbLock::Host(Box::new(super::postgres::lock_host(t, host, sources, wait)?))
            }
        })
    }
}

/// `--host-label`'s default: the machine's host name.
pub(crate) fn this_host() -> String {
    crate::sys::host_name()
}
