//! Was the signer's certificate (and every CA certificate above it) valid
//! when the document was signed, and may its key sign documents at all?

use time::OffsetDateTime;

use crate::cert::Cert;
use crate::finding::rfc3339;
use crate::trust::chain::Link;

/// `cert_valid_at_signing` and, when false, which certificate and why.
pub fn valid_at_signing(path: &[Link], when: OffsetDateTime) -> (bool, Option<String>) {
    for link in path {
        let c = &link.cert;
        if !c.valid_at(when) {
            let side = if when < c.not_before { "not yet valid" } else { "expired" };
            return (
                false,
                Some(format!(
                    "certificate \"{}\" was {side} at signing time {} (valid {} to {})",
                    c.cn(),
                    rfc3339(when),
                    rfc3339(c.not_before),
                    rfc3339(c.not_after)
                )),
            );
        }
    }
    (true, None)
}

/// Extended key usages that allow signing documents or mail.
const SIGNING_EKUS: [&str; 7] = [
    "2.5.29.37.0",             // anyExtendedKeyUsage
    "1.3.6.1.5.5.7.3.4",       // emailProtection
    "1.3.6.1.5.5.7.3.36",      // documentSigning (RFC 9336)
    "1.3.6.1.4.1.311.10.3.12", // Microsoft document signing
    "1.2.840.113583.1.1.5",    // Adobe authentic documents trust
    "1.3.6.1.5.5.7.3.2",       // clientAuth: what Vietnamese signing tokens carry
    "1.3.6.1.5.5.7.3.8",       // timeStamping (TSA certificates)
];

/// Notes when the signer certificate's key usage or extended key usage do
/// not allow signing documents. Reported, not rejected (as DSS and pyHanko
/// users ask: an inventory records, it does not refuse).
pub fn usage_notes(signer: &Cert) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(ku) = signer.key_usage
        && !ku.digital_signature && !ku.non_repudiation {
            notes.push("signer certificate's key usage has neither digitalSignature nor nonRepudiation: its key is not meant to sign documents".into());
        }
    if let Some(ekus) = &signer.ext_key_usage
        && !ekus.iter().any(|e| SIGNING_EKUS.contains(&e.as_str())) {
            notes.push(format!("signer certificate's extended key usage ({}) does not include document or e-mail signing", ekus.join(", ")));
        }
    notes
}
