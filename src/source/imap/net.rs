//! The network side of IMAP sources (cargo feature `imap`): TLS or
//! STARTTLS, LOGIN, EXAMINE and BODY.PEEK fetches in bounded batches, every
//! wait on the server bounded by the timeout, every reply by what it should carry.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_imap::Client;
use futures_util::StreamExt;
use tokio::net::TcpStream;

use super::{ImapAuth, ImapEvent, ImapSource, Secrets, Transport};
use crate::source::SourceError;

/// What the server may do: stay silent at most `timeout` at every await,
/// and send at most its `allowance` in reply to each command.
#[derive(Debug)]
struct Watch {
    timeout: Duration,
    allowance: Arc<Allowance>,
}

impl Watch {
    async fn on<T>(
        &self,
        what: &'static str,
        step: impl std::future::Future<Output = T>,
    ) -> Result<T, SourceError> {
        tokio::time::timeout(self.timeout, step)
            .await
            .map_err(|_| SourceError::Stalled { what, secs: self.timeout.as_secs() })
    }
}

/// Responses to a FETCH beyond one per message asked for (a server may send
/// a few unasked FETCH updates, for flags); more means a server that floods.
const EXTRA_RESPONSES: usize = 64;

fn too_many(what: &str, asked: usize) -> SourceError {
    SourceError::OverBudget(format!(
        "{what}: the server sent more than {} responses for {asked} message(s); the mailbox was \
         not read",
        asked + EXTRA_RESPONSES
    ))
}

/// Bytes fetched per batch (messages are processed before the next batch).
const BATCH_BYTES: u64 = 32 << 20;
const BATCH_COUNT: usize = 200;

/// Bytes the server may send in reply to one command, counted on the
/// connection itself: a server that announces small messages and then
/// sends an endless literal is cut off at the allowance, not at the IMAP
/// library's 512 MiB buffer.
#[derive(Debug, Default)]
struct Allowance {
    left: AtomicU64,
    given: AtomicU64,
    exceeded: AtomicBool,
}

/// IMAP literals announced in `bytes` (`{N}` then CRLF): where each one's
/// data begins, and its size N.
fn literals(bytes: &[u8]) -> impl Iterator<Item = (usize, u64)> + '_ {
    memchr::memmem::find_iter(bytes, b"}\r\n").filter_map(move |close| {
        let open = bytes[..close].iter().rposition(|&b| b == b'{')?;
        let digits = &bytes[open + 1..close];
        let ok = !digits.is_empty() && digits.len() <= 19 && digits.iter().all(u8::is_ascii_digit);
        Some((close + 3, std::str::from_utf8(digits).ok().filter(|_| ok)?.parse().ok()?))
    })
}

impl Allowance {
    /// The allowance for the next command's reply.
    fn set(&self, bytes: u64) {
        self.left.store(bytes, Ordering::Relaxed);
        self.given.store(bytes, Ordering::Relaxed);
        self.exceeded.store(false, Ordering::Relaxed);
    }

    fn take(&self, n: u64) -> bool {
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(n))
            .is_ok()
    }

    /// The error for `what` failing: the allowance's when it was the cause.
    fn explain(&self, what: &str, e: impl std::fmt::Display) -> SourceError {
        if self.exceeded.load(Ordering::Relaxed) {
            SourceError::OverBudget(format!(
                "{what}: the server sent more than the {} bytes its reply may take (the sizes it \
                 announced, and room for the protocol); the mailbox was not read",
                self.given.load(Ordering::Relaxed)
            ))
        } else {
            SourceError::Refused(format!("{what} failed: {e}"))
        }
    }
}

/// The connection, metered by an [`Allowance`]. `tail` keeps the last
/// bytes read, so a literal's `{N}` split over two reads is still seen.
#[derive(Debug)]
struct Metered<S> {
    inner: S,
    allowance: Arc<Allowance>,
    tail: Vec<u8>,
}

impl<S> Metered<S> {
    fn new(inner: S, allowance: Arc<Allowance>) -> Metered<S> {
        Metered { inner, allowance, tail: Vec::new() }
    }

    /// Counts `new` bytes; false when over the allowance, or announcing a
    /// literal larger than what is left of it then. The IMAP library
    /// allocates a literal's whole buffer as soon as it reads its size, so
    /// the size is judged, not only the bytes that follow. (A message line
    /// ending in `{N}` looks like one too: it can only cut off its own
    /// mailbox, and only when N is past the allowance.)
    fn admit(&mut self, new: &[u8]) -> bool {
        let left_before = self.allowance.left.load(Ordering::Relaxed);
        let mut seen = std::mem::take(&mut self.tail);
        let old = seen.len();
        seen.extend_from_slice(new);
        // Only literals whose `}\r\n` ends in the new bytes: older ones were judged.
        let ok = self.allowance.take(new.len() as u64)
            && literals(&seen)
                .filter(|(data, _)| *data > old)
                .all(|(data, n)| n <= left_before.saturating_sub((data - old) as u64));
        self.tail = seen.split_off(seen.len().saturating_sub(24));
        if !ok {
            self.allowance.exceeded.store(true, Ordering::Relaxed);
        }
        ok
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Metered<S> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut this.inner).poll_read(cx, buf);
        if let std::task::Poll::Ready(Ok(())) = polled
            && !this.admit(&buf.filled()[before..])
        {
            return std::task::Poll::Ready(Err(std::io::Error::other("reply larger than allowed")));
        }
        polled
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Metered<S> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Room for the protocol around what a reply carries (tags, flags,
/// untagged updates).
const REPLY_SLACK: u64 = 1 << 20;

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + std::fmt::Debug> Stream
    for T
{
}

type Session = async_imap::Session<Box<dyn Stream>>;

/// Reads every message of `source`, calling `sink` for each (and for each
/// problem). Messages larger than `max_message` bytes are reported, not read;
/// messages `known(url, size)` are announced, not fetched.
pub(super) fn read_all(
    source: &ImapSource,
    auth: &ImapAuth,
    max_message: u64,
    known: &dyn Fn(&str, u64) -> bool,
    sink: &mut dyn FnMut(ImapEvent),
) {
    // A server may echo what it was sent (LOGIN arguments) in an error
    // reply: no server text reaches a report, a database or a terminal
    // before the password is taken out of it.
    let secrets = Secrets::new(&source.user, auth.password_for(source));
    let sink = &mut |event: ImapEvent| {
        sink(match event {
            ImapEvent::Problem { place, error } => {
                ImapEvent::Problem { place, error: secrets.scrub(&error) }
            }
            other => other,
        })
    };
    let runtime =
        match tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build() {
            Ok(r) => r,
            Err(e) => {
                return sink(ImapEvent::Problem {
                    place: source.display(),
                    error: format!("cannot start the network runtime: {e}"),
                });
            }
        };
    runtime.block_on(async {
        let watch = Watch { timeout: auth.timeout, allowance: Arc::new(Allowance::default()) };
        watch.allowance.set(REPLY_SLACK);
        let mut session = match watch
            .on("connecting and logging in", connect(source, auth, watch.allowance.clone()))
            .await
            .and_then(|r| r)
        {
            Ok(s) => s,
            Err(e) => {
                return sink(ImapEvent::Problem { place: source.display(), error: e.to_string() });
            }
        };
        let mailboxes = match &source.mailbox {
            Some(m) => vec![m.clone()],
            None => match list_mailboxes(&mut session, &watch).await {
                Ok(m) => m,
                Err(e) => {
                    return sink(ImapEvent::Problem {
                        place: source.display(),
                        error: e.to_string(),
                    });
                }
            },
        };
        for (i, mailbox) in mailboxes.iter().enumerate() {
            let budget = auth.mailbox_budget;
            let read = tokio::time::timeout(
                budget,
                read_mailbox(&mut session, &watch, source, mailbox, max_message, known, sink),
            )
            .await
            .unwrap_or_else(|_| {
                Err(SourceError::OverBudget(format!(
                    "the mailbox was not read within its {} s budget (--imap-mailbox-budget): the \
                     server kept answering without finishing",
                    budget.as_secs()
                )))
            });
            match read {
                Ok(()) => sink(ImapEvent::MailboxRead {
                    messages_prefix: source.messages_prefix(mailbox),
                }),
                Err(e) => {
                    // Cut off in the middle of a reply: the connection cannot serve another
                    // mailbox.
                    let cut_off =
                        matches!(e, SourceError::Stalled { .. } | SourceError::OverBudget(_));
                    sink(ImapEvent::Problem {
                        place: source.mailbox_url(mailbox),
                        error: e.to_string(),
                    });
                    if cut_off {
                        // The connection is lost in the middle of a reply:
                        // the other mailboxes are not read, and say so.
                        for rest in &mailboxes[i + 1..] {
                            sink(ImapEvent::Problem {
                                place: source.mailbox_url(rest),
                                error: "not read: the server failed on an earlier mailbox".into(),
                            });
                        }
                        return;
                    }
                }
            }
        }
        watch.allowance.set(REPLY_SLACK);
        let _ = watch.on("LOGOUT", session.logout()).await;
    });
}

async fn connect(
    source: &ImapSource,
    auth: &ImapAuth,
    allowance: Arc<Allowance>,
) -> Result<Session, SourceError> {
    let tcp = TcpStream::connect((source.host.as_str(), source.port))
        .await
        .map_err(|e| format!("cannot connect to {}:{}: {e}", source.host, source.port))?;
    let tcp = Metered::new(tcp, allowance);
    let stream: Box<dyn Stream> = match source.transport {
        Transport::Tls => Box::new(tls(tcp, source, auth).await?),
        Transport::Plain => Box::new(tcp),
        Transport::StartTls => {
            let mut client = Client::new(tcp);
            client.read_response().await.map_err(|e| format!("no greeting: {e}"))?;
            client.run_command_and_check_ok("STARTTLS", None).await.map_err(|e| {
                format!(
                    "STARTTLS refused ({e}); use imaps:// or, on a trusted loopback only, \
                     --imap-allow-plain"
                )
            })?;
            Box::new(tls(client.into_inner(), source, auth).await?)
        }
    };
    let mut client = Client::new(stream);
    if source.transport != Transport::StartTls {
        client.read_response().await.map_err(|e| format!("no greeting: {e}"))?;
    }
    client
        .login(&source.user, auth.password_for(source))
        .await
        .map_err(|(e, _)| SourceError::Refused(format!("login as {} failed: {e}", source.user)))
}

async fn tls<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    tcp: S,
    source: &ImapSource,
    auth: &ImapAuth,
) -> Result<tokio_rustls::client::TlsStream<S>, SourceError> {
    let config = crate::cert::tls::client_config(auth.extra_ca.as_deref(), "--imap-ca")?;
    let name = rustls_pki_types::ServerName::try_from(source.host.clone())
        .map_err(|e| format!("{}: {e}", source.host))?;
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| SourceError::Refused(format!("TLS with {} failed: {e}", source.host)))
}

async fn list_mailboxes(session: &mut Session, watch: &Watch) -> Result<Vec<String>, SourceError> {
    let mut names = Vec::new();
    watch.allowance.set(16 << 20);
    let mut list = watch
        .on("LIST", session.list(Some(""), Some("*")))
        .await?
        .map_err(|e| watch.allowance.explain("LIST", e))?;
    while let Some(n) = watch.on("LIST", list.next()).await? {
        let n = n.map_err(|e| watch.allowance.explain("LIST", e))?;
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
    watch: &Watch,
    source: &ImapSource,
    mailbox: &str,
    max_message: u64,
    known: &dyn Fn(&str, u64) -> bool,
    sink: &mut dyn FnMut(ImapEvent),
) -> Result<(), SourceError> {
    // EXAMINE: read-only, so neither \Seen nor \Recent change.
    watch.allowance.set(REPLY_SLACK);
    let info = watch
        .on("EXAMINE", session.examine(mailbox))
        .await?
        .map_err(|e| watch.allowance.explain("EXAMINE", e))?;
    let validity = info.uid_validity.unwrap_or(0);
    if info.exists == 0 {
        return Ok(());
    }
    let mut sizes: Vec<(u32, u64)> = Vec::new();
    {
        watch.allowance.set(REPLY_SLACK + u64::from(info.exists) * 256);
        let mut fetches = watch
            .on("FETCH sizes", session.uid_fetch("1:*", "(UID RFC822.SIZE)"))
            .await?
            .map_err(|e| watch.allowance.explain("FETCH sizes", e))?;
        while let Some(f) = watch.on("FETCH sizes", fetches.next()).await? {
            let f = f.map_err(|e| watch.allowance.explain("FETCH sizes", e))?;
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
            sink(ImapEvent::Problem {
                place: url,
                error: format!("message of {size} bytes is over the size limit: not fetched"),
            });
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
        watch.allowance.set(
            uids.iter().map(|u| size_of.get(u).copied().unwrap_or(0) + 1024).sum::<u64>()
                + REPLY_SLACK,
        );
        let mut fetched = Vec::new();
        {
            // BODY.PEEK[]: the whole message without setting \Seen.
            let mut fetches = watch
                .on("FETCH", session.uid_fetch(&set, "(UID BODY.PEEK[])"))
                .await?
                .map_err(|e| watch.allowance.explain("FETCH", e))?;
            let mut responses = 0;
            while let Some(f) = watch.on("FETCH", fetches.next()).await? {
                let f = f.map_err(|e| watch.allowance.explain("FETCH", e))?;
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
            sink(ImapEvent::Message {
                url: source.message_url(mailbox, validity, uid),
                mailbox: mailbox.to_owned(),
                size,
                bytes,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_larger_than_the_allowance_is_refused_when_announced() {
        assert_eq!(
            literals(b"* 1 FETCH (UID 1 BODY[] {12}\r\nhello").collect::<Vec<_>>(),
            vec![(30, 12)]
        );
        assert_eq!(literals(b"{x}\r\n{}\r\n{99999999999999999999}\r\n").count(), 0, "not sizes");
        let allowance = Arc::new(Allowance::default());
        allowance.set(100);
        let mut conn = Metered::new((), allowance.clone());
        assert!(conn.admit(b"* 1 FETCH (UID 1 BODY[] {5"), "the size is not complete yet");
        assert!(conn.admit(b"0}\r\nxx"), "50 bytes fit in what is left");
        allowance.set(100);
        assert!(!conn.admit(b"* 2 FETCH (UID 2 BODY[] {4000}\r\n"), "4000 bytes do not");
        assert!(matches!(allowance.explain("FETCH", "io"), SourceError::OverBudget(_)));
        allowance.set(10);
        assert!(!conn.admit(&[b'x'; 11]), "nor do 11 bytes of 10");
    }
}
