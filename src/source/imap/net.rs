//! The network side of IMAP sources (cargo feature `imap`): TLS or
//! STARTTLS, LOGIN, EXAMINE and BODY.PEEK fetches in bounded batches, every
//! wait on the server bounded by the timeout.

use std::sync::Arc;
use std::time::Duration;

use async_imap::Client;
use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_rustls::rustls;

use super::{ImapAuth, ImapEvent, ImapSource, Secrets, Transport};
use crate::source::SourceError;

/// The longest silence accepted from the server, at every await.
#[derive(Debug, Clone, Copy)]
struct Wait(Duration);

impl Wait {
    async fn on<T>(self, what: &'static str, step: impl std::future::Future<Output = T>) -> Result<T, SourceError> {
        tokio::time::timeout(self.0, step).await.map_err(|_| SourceError::Stalled { what, secs: self.0.as_secs() })
    }
}

/// Responses to a FETCH beyond one per message asked for (a server may send
/// a few unasked FETCH updates, for flags); more means a server that floods.
const EXTRA_RESPONSES: usize = 64;

fn too_many(what: &str, asked: usize) -> SourceError {
    SourceError::OverBudget(format!("{what}: the server sent more than {} responses for {asked} message(s); the mailbox was not read", asked + EXTRA_RESPONSES))
}

/// Bytes fetched per batch (messages are processed before the next batch).
const BATCH_BYTES: u64 = 32 << 20;
const BATCH_COUNT: usize = 200;

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}

type Session = async_imap::Session<Box<dyn Stream>>;

/// Reads every message of `source`, calling `sink` for each (and for each
/// problem). Messages larger than `max_message` bytes are reported, not read;
/// messages `known(url, size)` are announced, not fetched.
pub(super) fn read_all(source: &ImapSource, auth: &ImapAuth, max_message: u64, known: &dyn Fn(&str, u64) -> bool, sink: &mut dyn FnMut(ImapEvent)) {
    // A server may echo what it was sent (LOGIN arguments) in an error
    // reply: no server text reaches a report, a database or a terminal
    // before the password is taken out of it.
    let secrets = Secrets::new(&source.user, &auth.password);
    let sink = &mut |event: ImapEvent| {
        sink(match event {
            ImapEvent::Problem { place, error } => ImapEvent::Problem { place, error: secrets.scrub(&error) },
            other => other,
        })
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build() {
        Ok(r) => r,
        Err(e) => return sink(ImapEvent::Problem { place: source.display(), error: format!("cannot start the network runtime: {e}") }),
    };
    runtime.block_on(async {
        let wait = Wait(auth.timeout);
        let mut session = match wait.on("connecting and logging in", connect(source, auth)).await.and_then(|r| r) {
            Ok(s) => s,
            Err(e) => return sink(ImapEvent::Problem { place: source.display(), error: e.to_string() }),
        };
        let mailboxes = match &source.mailbox {
            Some(m) => vec![m.clone()],
            None => match list_mailboxes(&mut session, wait).await {
                Ok(m) => m,
                Err(e) => return sink(ImapEvent::Problem { place: source.display(), error: format!("LIST failed: {e}") }),
            },
        };
        for (i, mailbox) in mailboxes.iter().enumerate() {
            let budget = auth.mailbox_budget;
            let read = tokio::time::timeout(budget, read_mailbox(&mut session, wait, source, mailbox, max_message, known, sink)).await.unwrap_or_else(|_| {
                Err(SourceError::OverBudget(format!(
                    "the mailbox was not read within its {} s budget (--imap-mailbox-budget): the server kept answering without finishing",
                    budget.as_secs()
                )))
            });
            match read {
                Ok(()) => sink(ImapEvent::MailboxRead { messages_prefix: source.messages_prefix(mailbox) }),
                Err(e) => {
                    // Cut off in the middle of a reply: the connection cannot serve another mailbox.
                    let cut_off = matches!(e, SourceError::Stalled { .. } | SourceError::OverBudget(_));
                    sink(ImapEvent::Problem { place: source.mailbox_url(mailbox), error: e.to_string() });
                    if cut_off {
                        // The connection is lost in the middle of a reply:
                        // the other mailboxes are not read, and say so.
                        for rest in &mailboxes[i + 1..] {
                            sink(ImapEvent::Problem { place: source.mailbox_url(rest), error: "not read: the server failed on an earlier mailbox".into() });
                        }
                        return;
                    }
                }
            }
        }
        let _ = wait.on("LOGOUT", session.logout()).await;
    });
}

async fn connect(source: &ImapSource, auth: &ImapAuth) -> Result<Session, SourceError> {
    let tcp = TcpStream::connect((source.host.as_str(), source.port)).await.map_err(|e| format!("cannot connect to {}:{}: {e}", source.host, source.port))?;
    let stream: Box<dyn Stream> = match source.transport {
        Transport::Tls => Box::new(tls(tcp, source, auth).await?),
        Transport::Plain => Box::new(tcp),
        Transport::StartTls => {
            let mut client = Client::new(tcp);
            client.read_response().await.map_err(|e| format!("no greeting: {e}"))?;
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| format!("STARTTLS refused ({e}); use imaps:// or, on a trusted loopback only, --imap-allow-plain"))?;
            Box::new(tls(client.into_inner(), source, auth).await?)
        }
    };
    let mut client = Client::new(stream);
    if source.transport != Transport::StartTls {
        client.read_response().await.map_err(|e| format!("no greeting: {e}"))?;
    }
    client.login(&source.user, &auth.password).await.map_err(|(e, _)| SourceError::Refused(format!("login as {} failed: {e}", source.user)))
}

async fn tls(tcp: TcpStream, source: &ImapSource, auth: &ImapAuth) -> Result<tokio_rustls::client::TlsStream<TcpStream>, SourceError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &auth.extra_ca {
        let pem = std::fs::read(path).map_err(|e| format!("--imap-ca {}: {e}", path.display()))?;
        for cert in crate::cert::certificates_in(&pem).into_iter().flatten() {
            roots.add(rustls_pki_types::CertificateDer::from(cert.der)).map_err(|e| format!("--imap-ca {}: {e}", path.display()))?;
        }
    }
    let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from(source.host.clone()).map_err(|e| format!("{}: {e}", source.host))?;
    tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| SourceError::Refused(format!("TLS with {} failed: {e}", source.host)))
}

async fn list_mailboxes(session: &mut Session, wait: Wait) -> Result<Vec<String>, SourceError> {
    let mut names = Vec::new();
    let mut list = wait.on("LIST", session.list(Some(""), Some("*"))).await?.map_err(|e| e.to_string())?;
    while let Some(n) = wait.on("LIST", list.next()).await? {
        let n = n.map_err(|e| e.to_string())?;
        if !n.attributes().iter().any(|a| matches!(a, async_imap::types::NameAttribute::NoSelect)) {
            names.push(n.name().to_owned());
        }
    }
    names.sort();
    if names.is_empty() {
        // Every account has INBOX: an empty list means the server failed.
        return Err(SourceError::Refused("the server listed no mailbox (see its log)".into()));
    }
    Ok(names)
}

async fn read_mailbox(
    session: &mut Session,
    wait: Wait,
    source: &ImapSource,
    mailbox: &str,
    max_message: u64,
    known: &dyn Fn(&str, u64) -> bool,
    sink: &mut dyn FnMut(ImapEvent),
) -> Result<(), SourceError> {
    // EXAMINE: read-only, so neither \Seen nor \Recent change.
    let info = wait.on("EXAMINE", session.examine(mailbox)).await?.map_err(|e| format!("EXAMINE failed: {e}"))?;
    let validity = info.uid_validity.unwrap_or(0);
    if info.exists == 0 {
        return Ok(());
    }
    let mut sizes: Vec<(u32, u64)> = Vec::new();
    {
        let mut fetches = wait.on("FETCH sizes", session.uid_fetch("1:*", "(UID RFC822.SIZE)")).await?.map_err(|e| format!("FETCH sizes failed: {e}"))?;
        while let Some(f) = wait.on("FETCH sizes", fetches.next()).await? {
            let f = f.map_err(|e| e.to_string())?;
            if let Some(uid) = f.uid {
                sizes.push((uid, f.size.map(u64::from).unwrap_or(0)));
            }
            if sizes.len() > info.exists as usize + EXTRA_RESPONSES {
                return Err(too_many("FETCH sizes", info.exists as usize));
            }
        }
    }
    sizes.sort();
    let mut batch: Vec<u32> = Vec::new();
    let mut batch_bytes = 0;
    let mut batches = Vec::new();
    let mut size_of = std::collections::HashMap::new();
    for (uid, size) in sizes {
        let url = source.message_url(mailbox, validity, uid);
        // Without UIDVALIDITY a UID may name another message later.
        if info.uid_validity.is_some() && known(&url, size) {
            sink(ImapEvent::Known { url, mailbox: mailbox.to_owned() });
            continue;
        }
        size_of.insert(uid, size);
        if size > max_message {
            sink(ImapEvent::Problem { place: url, error: format!("message of {size} bytes is over the size limit: not fetched") });
            continue;
        }
        if !batch.is_empty() && (batch_bytes + size > BATCH_BYTES || batch.len() >= BATCH_COUNT) {
            batches.push(std::mem::take(&mut batch));
            batch_bytes = 0;
        }
        batch.push(uid);
        batch_bytes += size;
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    for uids in batches {
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let mut fetched = Vec::new();
        {
            // BODY.PEEK[]: the whole message without setting \Seen.
            let mut fetches = wait.on("FETCH", session.uid_fetch(&set, "(UID BODY.PEEK[])")).await?.map_err(|e| format!("FETCH failed: {e}"))?;
            let mut responses = 0;
            while let Some(f) = wait.on("FETCH", fetches.next()).await? {
                let f = f.map_err(|e| e.to_string())?;
                responses += 1;
                if responses > uids.len() + EXTRA_RESPONSES {
                    return Err(too_many("FETCH", uids.len()));
                }
                if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                    fetched.push((uid, body.to_vec()));
                }
            }
        }
        for (uid, bytes) in fetched {
            let size = size_of.get(&uid).copied().unwrap_or(bytes.len() as u64);
            sink(ImapEvent::Message { url: source.message_url(mailbox, validity, uid), mailbox: mailbox.to_owned(), size, bytes });
        }
    }
    Ok(())
}
