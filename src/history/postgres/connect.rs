//! `--db postgresql://user@host:port/dbname?sslmode=...`: the server, the
//! password (never from the command line) and TLS.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::tls::MakeRustls;

/// How the connection is protected (libpq's `sslmode` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// `disable`: plain TCP (a trusted loopback or socket only).
    Disable,
    /// `prefer` (the default, as libpq's): TLS when the server offers it.
    Prefer,
    /// `require`, `verify-ca`, `verify-full`: TLS or no connection. The
    /// server's certificate is always verified (against `--db-ca` and the
    /// public roots) with its host name: stricter than libpq's `require`.
    Require,
}

/// A PostgreSQL history: where, and how to log in.
#[derive(Clone)]
pub(crate) struct PgTarget {
    /// The URL as given (it never holds a password): for messages.
    pub url: String,
    config: postgres::Config,
    tls: TlsMode,
    ca: Option<PathBuf>,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password the config holds.
        f.debug_struct("PgTarget").field("url", &self.url).field("tls", &self.tls).finish()
    }
}

/// Is `text` a PostgreSQL URL rather than an SQLite file?
pub(crate) fn is_postgres_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("postgresql://") || lower.starts_with("postgres://")
}

impl PgTarget {
    /// Parses the URL and finds the password: `password_file`, else
    /// `PGPASSWORD`, else `PGPASSFILE` or `~/.pgpass` (libpq's order and format).
    pub(crate) fn parse(
        url: &str,
        password_file: Option<&Path>,
        ca: Option<&Path>,
    ) -> Result<PgTarget, String> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut tls = TlsMode::Prefer;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("sslmode", mode)) => {
                    tls = match mode {
                        "disable" => TlsMode::Disable,
                        "prefer" | "allow" => TlsMode::Prefer,
                        "require" | "verify-ca" | "verify-full" => TlsMode::Require,
                        other => {
                            return Err(format!(
                                "--db: sslmode={other}: use disable, prefer, require or \
                                 verify-full"
                            ));
                        }
                    }
                }
                Some(("password", _)) => return Err(password_in_url()),
                _ => kept.push(pair),
            }
        }
        let given =
            if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
        let mut config =
            postgres::Config::from_str(&given).map_err(|e| format!("--db {url}: {e}"))?;
        if config.get_password().is_some() {
            return Err(password_in_url());
        }
        if config.get_user().is_none() {
            config.user(
                &std::env::var("PGUSER")
                    .or_else(|_| std::env::var("USER"))
                    .unwrap_or_else(|_| "postgres".into()),
            );
        }
        if config.get_dbname().is_none() {
            let user = config.get_user().unwrap_or_default().to_owned();
            config.dbname(&user);
        }
        if config.get_hosts().is_empty() {
            config.host("localhost");
        }
        config.application_name("sigaudit");
        config.connect_timeout(std::time::Duration::from_secs(30));
        // A network that drops silently (no reset) must end an unattended
        // run with an error within minutes, not hang it for hours.
        config
            .keepalives(true)
            .keepalives_idle(std::time::Duration::from_secs(60))
            .keepalives_interval(std::time::Duration::from_secs(10))
            .keepalives_retries(3);
        config.tcp_user_timeout(std::time::Duration::from_secs(120));
        config.ssl_mode(match tls {
            TlsMode::Disable => postgres::config::SslMode::Disable,
            TlsMode::Prefer => postgres::config::SslMode::Prefer,
            TlsMode::Require => postgres::config::SslMode::Require,
        });
        if let Some(password) = password(&config, password_file)? {
            config.password(password);
        }
        Ok(PgTarget { url: url.to_owned(), config, tls, ca: ca.map(Path::to_path_buf) })
    }

    /// A new connection.
    pub(crate) fn connect(&self) -> Result<postgres::Client, super::super::HistoryError> {
        let client = match self.tls {
            TlsMode::Disable => self.config.connect(postgres::NoTls),
            _ => {
                let tls = crate::cert::tls::client_config(self.ca.as_deref(), "--db-ca")
                    .map_err(super::super::HistoryError::Locked)?;
                self.config.connect(MakeRustls(tls))
            }
        };
        client.map_err(|e| super::super::HistoryError::Pg(super::PgError::from(e)))
    }
}

fn password_in_url() -> String {
    "--db: a password in the URL would show in the process list: give it in PGPASSWORD, ~/.pgpass \
     or --db-password-file"
        .into()
}

fn password(config: &postgres::Config, file: Option<&Path>) -> Result<Option<Vec<u8>>, String> {
    if let Some(f) = file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("--db-password-file {}: {e}", f.display()))?;
        return Ok(Some(text.lines().next().unwrap_or("").as_bytes().to_vec()));
    }
    if let Ok(p) = std::env::var("PGPASSWORD") {
        return Ok(Some(p.into_bytes()));
    }
    let pgpass = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")));
    let Some(path) = pgpass else { return Ok(None) };
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(None) };
    // libpq ignores a password file others can read; so does sigaudit.
    if std::fs::metadata(&path).is_ok_and(|m| !crate::sys::owner_only(&m)) {
        eprintln!(
            "sigaudit: {} has group or world access and is ignored (chmod 0600 it)",
            path.display()
        );
        return Ok(None);
    }
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432).to_string();
    let wanted = [
        host.as_str(),
        port.as_str(),
        config.get_dbname().unwrap_or_default(),
        config.get_user().unwrap_or_default(),
    ];
    Ok(pgpass_lookup(&text, wanted).map(String::into_bytes))
}

/// The first `hostname:port:database:username:password` line matching
/// `wanted` (`*` matches anything; `\:` and `\\` are escapes).
fn pgpass_lookup(text: &str, wanted: [&str; 4]) -> Option<String> {
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut fields = vec![String::new()];
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => fields.last_mut()?.extend(chars.next()),
                ':' if fields.len() < 5 => fields.push(String::new()),
                c => fields.last_mut()?.push(c),
            }
        }
        if fields.len() == 5 && fields[..4].iter().zip(wanted).all(|(f, w)| f == "*" || f == w) {
            return fields.pop();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        let text = "# comment\nother:5432:db:u:no\n*:5433:sig\\:audit:u:pa\\:ss\\\\word\n*:*:*:*:\
                    fallback\n";
        assert_eq!(
            pgpass_lookup(text, ["h", "5433", "sig:audit", "u"]).as_deref(),
            Some("pa:ss\\word")
        );
        assert_eq!(pgpass_lookup(text, ["h", "5432", "db", "u"]).as_deref(), Some("fallback"));
        assert_eq!(
            pgpass_lookup("h:1:d:u\n", ["h", "1", "d", "u"]),
            None,
            "a line without a password field is no match"
        );
    }

    #[test]
    fn a_password_in_the_url_is_refused() {
        for url in ["postgresql://u:secret@h/db", "postgres://u@h/db?password=secret"] {
            let err = PgTarget::parse(url, None, None).unwrap_err();
            assert!(err.contains("PGPASSWORD") && !err.contains("secret"), "{err}");
        }
        assert!(
            PgTarget::parse("postgresql://u@h/db?sslmode=bogus", None, None)
                .unwrap_err()
                .contains("sslmode=bogus")
        );
        let t = PgTarget::parse(
            "postgresql://u@h:6000/db?sslmode=verify-full&connect_timeout=5",
            None,
            None,
        )
        .unwrap();
        assert_eq!(t.tls, TlsMode::Require);
    }
}
