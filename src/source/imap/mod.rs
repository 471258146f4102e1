//! IMAP sources: `imaps://user@host[:port]/[MAILBOX]` (all folders when no
//! mailbox is given), and `imap://` with STARTTLS, or in plain text only
//! when the user explicitly allows it. Strictly read-only: EXAMINE and
//! BODY.PEEK, so no message is ever marked as read. Messages are fetched
//! in batches bounded in bytes, so memory stays small whatever the mailbox.

#[cfg(feature = "imap")]
mod net;

use std::path::PathBuf;
use std::time::Duration;

use crate::source::SourceError;
use crate::uri::{percent_decode, percent_encode};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// imaps:// (TLS from the first byte, port 993).
    Tls,
    /// imap:// upgraded with STARTTLS (port 143).
    StartTls,
    /// imap:// in clear text (only with --imap-allow-plain).
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapSource {
    pub transport: Transport,
    pub user: String,
    pub host: String,
    pub port: u16,
    /// None: every selectable folder.
    pub mailbox: Option<String>,
}

impl ImapSource {
    /// Parses `imaps://user@host[:port]/[mailbox]` (user and mailbox may be
    /// percent-encoded). A password in the URL is refused: it would end up
    /// in shell history and process lists.
    pub fn parse(url: &str, allow_plain: bool) -> Result<ImapSource, SourceError> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| SourceError::BadUrl(format!("{url}: not an IMAP URL")))?;
        let transport = match scheme.to_ascii_lowercase().as_str() {
            "imaps" => Transport::Tls,
            "imap" if allow_plain => Transport::Plain,
            "imap" => Transport::StartTls,
            other => return Err(SourceError::BadUrl(format!("{url}: unknown scheme {other}://"))),
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = authority.rsplit_once('@').ok_or_else(|| {
            SourceError::BadUrl(format!("{url}: the user is missing (imaps://user@host/INBOX)"))
        })?;
        if userinfo.contains(':') {
            return Err(SourceError::BadUrl(format!(
                "{}: never put the password in the URL; use SIGAUDIT_IMAP_PASSWORD or \
                 --imap-password-file",
                redact(url)
            )));
        }
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => {
                (h, p.parse().map_err(|_| SourceError::BadUrl(format!("{url}: bad port {p}")))?)
            }
            _ => (hostport, if transport == Transport::Tls { 993 } else { 143 }),
        };
        if host.is_empty() {
            return Err(SourceError::BadUrl(format!("{url}: the host is missing")));
        }
        let mailbox = percent_decode(path.trim_end_matches('/'));
        Ok(ImapSource {
            transport,
            user: percent_decode(userinfo),
            host: host.trim_matches(['[', ']']).to_owned(),
            port,
            mailbox: (!mailbox.is_empty()).then_some(mailbox),
        })
    }

    /// Which login this is: user, host and port (not the mailbox).
    pub fn account(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, self.port)
    }

    fn scheme(&self) -> &'static str {
        if self.transport == Transport::Tls { "imaps" } else { "imap" }
    }

    /// The URL of the source, as shown in reports.
    pub fn display(&self) -> String {
        let port = match (self.transport, self.port) {
            (Transport::Tls, 993) | (Transport::StartTls | Transport::Plain, 143) => String::new(),
            (_, p) => format!(":{p}"),
        };
        format!(
            "{}://{}@{}{port}/{}",
            self.scheme(),
            percent_encode(&self.user),
            self.host,
            self.mailbox.as_deref().map(percent_encode).unwrap_or_default()
        )
    }

    /// RFC 5092 URL of one message: mailbox, UIDVALIDITY and UID.
    pub fn message_url(&self, mailbox: &str, uid_validity: u32, uid: u32) -> String {
        format!("{}{uid_validity}/;UID={uid}", self.messages_prefix(mailbox))
    }

    /// What the URL of every message of `mailbox` starts with, whatever its
    /// UIDVALIDITY.
    pub fn messages_prefix(&self, mailbox: &str) -> String {
        format!("{};UIDVALIDITY=", self.mailbox_url(mailbox))
    }

    /// The URL of one mailbox of the account (where its problems are reported).
    pub fn mailbox_url(&self, mailbox: &str) -> String {
        let base = ImapSource { mailbox: None, ..self.clone() }.display();
        format!("{base}{}", percent_encode(mailbox))
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

/// Credentials and trust for the connection.
#[derive(Clone)]
pub struct ImapAuth {
    /// The password of every account without one of its own.
    pub password: String,
    /// Accounts with their own password (a configuration file's
    /// `[[imap.accounts]]`), by [`ImapSource::account`].
    pub accounts: std::collections::HashMap<String, String>,
    /// Extra CA certificates (PEM) to trust, e.g. a province's own mail CA.
    pub extra_ca: Option<PathBuf>,
    /// How long the server may stay silent while sigaudit waits for it
    /// (connecting, each reply, each fetched message).
    pub timeout: Duration,
    /// How long one mailbox may take in all.
    pub mailbox_budget: Duration,
}

impl ImapAuth {
    /// The password `source` logs in with.
    pub fn password_for(&self, source: &ImapSource) -> &str {
        self.accounts.get(&source.account()).unwrap_or(&self.password)
    }
}

impl std::fmt::Debug for ImapAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImapAuth { password: *** }")
    }
}

/// The password in every form it takes on the wire: as is, as an IMAP
/// quoted string, inside an AUTHENTICATE PLAIN response (base64), and as
/// an error message quotes those.
#[cfg(any(feature = "imap", test))]
pub(crate) struct Secrets(Vec<String>);

#[cfg(any(feature = "imap", test))]
impl Secrets {
    pub(crate) fn new(user: &str, password: &str) -> Secrets {
        if password.is_empty() {
            return Secrets(Vec::new());
        }
        use base64::Engine as _;
        let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
        let quoted = password.replace('\\', "\\\\").replace('"', "\\\"");
        let mut forms =
            vec![b64(format!("\0{user}\0{password}")), b64(format!("{user}\0{user}\0{password}"))];
        // As sent, and as a client library's error prints it (Rust's Debug escaping).
        for form in [password.to_owned(), quoted] {
            let debug = format!("{form:?}");
            forms.push(debug[1..debug.len() - 1].to_owned());
            forms.push(form);
        }
        // Longest first, so a form that contains another is removed whole.
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        Secrets(forms)
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        self.0.iter().fold(text.to_owned(), |t, secret| t.replace(secret.as_str(), "***"))
    }
}

/// One fetched message, or a problem at some place in the account.
// Without the imap feature only the problems are made (no network client).
#[cfg_attr(not(feature = "imap"), allow(dead_code))]
pub(crate) enum ImapEvent {
    /// A fetched message; `size` as the server announced it (RFC822.SIZE).
    Message {
        url: String,
        mailbox: String,
        size: u64,
        bytes: Vec<u8>,
    },
    /// A message the caller already knows (not fetched).
    Known {
        url: String,
        mailbox: String,
    },
    /// Every message of a mailbox was announced: a known message whose URL
    /// starts with `messages_prefix` and was not announced is gone.
    MailboxRead {
        messages_prefix: String,
    },
    Problem {
        place: String,
        error: String,
    },
}

/// Reads every message of `source`, calling `sink` for each (and for each
/// problem). Messages larger than `max_message` bytes are reported, not read;
/// messages `known(url, size)` are announced, not fetched.
pub(crate) fn read_all(
    source: &ImapSource,
    auth: &ImapAuth,
    max_message: u64,
    known: &dyn Fn(&str, u64) -> bool,
    sink: &mut dyn FnMut(ImapEvent),
) {
    #[cfg(feature = "imap")]
    net::read_all(source, auth, max_message, known, sink);
    #[cfg(not(feature = "imap"))]
    {
        let _ = (auth, max_message, known);
        sink(ImapEvent::Problem {
            place: source.display(),
            error: "this sigaudit was built without IMAP support (cargo feature `imap`)".into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_imap_urls() {
        let s = ImapSource::parse(
            "imaps://vanthu%40syt.thanhhoa.gov.vn@mail.thanhhoa.gov.vn/INBOX",
            false,
        )
        .unwrap();
        assert_eq!(
            (s.user.as_str(), s.host.as_str(), s.port, s.mailbox.as_deref()),
            ("vanthu@syt.thanhhoa.gov.vn", "mail.thanhhoa.gov.vn", 993, Some("INBOX"))
        );
        assert_eq!(
            s.message_url("INBOX", 7, 42),
            "imaps://vanthu@syt.thanhhoa.gov.vn@mail.thanhhoa.gov.vn/INBOX;UIDVALIDITY=7/;UID=42"
        );
        let all = ImapSource::parse("imap://u@127.0.0.1:1143/", true).unwrap();
        assert_eq!((all.transport, all.port, all.mailbox), (Transport::Plain, 1143, None));
        assert_eq!(
            ImapSource::parse("imap://u@h/Sent%20Items", false).unwrap().mailbox.as_deref(),
            Some("Sent Items")
        );
        assert_eq!(ImapSource::parse("imap://u@h/", false).unwrap().transport, Transport::StartTls);
        let err = ImapSource::parse("imaps://u:secret@h/INBOX", false).unwrap_err().to_string();
        assert!(err.contains("never put the password") && !err.contains("secret"), "{err}");
    }

    #[test]
    fn server_texts_lose_the_password_in_every_form() {
        let s = super::Secrets::new("vanthu", "p\"a\\ss");
        let echoed = "a1 NO you sent LOGIN \"vanthu\" \"p\\\"a\\\\ss\" and p\"a\\ss and \
                      AHZhbnRodQBwImFcc3M=";
        let clean = s.scrub(echoed);
        assert!(!clean.contains("a\\ss") && !clean.contains("AHZhbnRodQBwImFcc3M="), "{clean}");
        assert_eq!(clean.matches("***").count(), 3, "{clean}");
        assert!(ImapSource::parse("imaps://h/INBOX", false).is_err());
        // A '%' before a multi-byte character is not an escape (and no panic).
        assert_eq!(
            ImapSource::parse("imap://u@h/Th%ư", false).unwrap().mailbox.as_deref(),
            Some("Th%ư")
        );
    }
}
