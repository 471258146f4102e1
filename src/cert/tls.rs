//! The TLS client settings sigaudit's network connections share (IMAP,
//! PostgreSQL): the public web roots plus the certificates a user names.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls;

/// Roots: webpki's, and every certificate in `extra_ca` (PEM or DER), named
/// `flag` in errors (`--imap-ca`, `--db-ca`).
pub(crate) fn client_config(
    extra_ca: Option<&Path>,
    flag: &str,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_ca {
        let pem = std::fs::read(path).map_err(|e| format!("{flag} {}: {e}", path.display()))?;
        let certs: Vec<_> = super::certificates_in(&pem).into_iter().flatten().collect();
        if certs.is_empty() {
            return Err(format!("{flag} {}: no certificate in it", path.display()));
        }
        for cert in certs {
            roots
                .add(rustls_pki_types::CertificateDer::from(cert.der))
                .map_err(|e| format!("{flag} {}: {e}", path.display()))?;
        }
    }
    Ok(Arc::new(
        rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth(),
    ))
}
