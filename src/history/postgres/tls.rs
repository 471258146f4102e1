//! TLS for the PostgreSQL driver through the rustls the tree already has
//! (the IMAP source's). tokio-postgres asks for a connector per host; the
//! stream offers `tls-server-end-point` channel binding so that SCRAM
//! authentication is bound to the server's certificate (RFC 5929).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::rustls;

#[derive(Clone)]
pub(super) struct MakeRustls(pub Arc<rustls::ClientConfig>);

pub(super) struct Rustls {
    config: Arc<rustls::ClientConfig>,
    server: String,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> MakeTlsConnect<S> for MakeRustls {
    type Stream = Stream<S>;
    type TlsConnect = Rustls;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<Rustls> {
        Ok(Rustls { config: self.0.clone(), server: domain.to_owned() })
    }
}

type Connecting<S> = Pin<Box<dyn Future<Output = io::Result<Stream<S>>> + Send>>;

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> TlsConnect<S> for Rustls {
    type Stream = Stream<S>;
    type Error = io::Error;
    type Future = Connecting<S>;

    fn connect(self, stream: S) -> Connecting<S> {
        Box::pin(async move {
            let name =
                rustls_pki_types::ServerName::try_from(self.server.clone()).map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidInput, format!("{}: {e}", self.server))
                })?;
            let tls = tokio_rustls::TlsConnector::from(self.config).connect(name, stream).await?;
            Ok(Stream(tls))
        })
    }
}

pub(super) struct Stream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> postgres::tls::TlsStream for Stream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        let (_, session) = self.0.get_ref();
        let Some(cert) = session.peer_certificates().and_then(|c| c.first()) else {
            return ChannelBinding::none();
        };
        // RFC 5929 4.1: the certificate's signature hash, SHA-1 and MD5 raised to SHA-256.
        use crate::crypto::{Algorithm, Hash};
        let hash = crate::cert::Cert::from_der(cert.as_ref())
            .ok()
            .and_then(|c| Algorithm::resolve(&c.sig_alg, c.sig_alg_params.as_deref(), None).ok())
            .map(|a| a.hash);
        let hash = match hash {
            Some(Hash::Sha1 | Hash::Sha224 | Hash::Sha256) => Hash::Sha256,
            Some(h @ (Hash::Sha384 | Hash::Sha512)) => h,
            // Ed25519, SHA-3 and others: no digest defined; SCRAM without binding.
            _ => return ChannelBinding::none(),
        };
        let digest = hash.digest(&[cert.as_ref()]);
        ChannelBinding::tls_server_end_point(digest)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
