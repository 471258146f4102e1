//! Was the signer's certificate (and every CA certificate above it) valid
//! when the document was signed, and may its key sign documents at all?

use time::OffsetDateTime;

use crate::cert::Cert;
use crate::model::rfc3339;
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

/// Why the signer certificate may not sign documents at all (key usage,
/// extended key usage, RFC 5280 rules for an end-entity certificate). Each
/// reason makes `cert_valid_at_signing` false, whatever the time: the
/// class is unchanged (who issued it is still who issued it).
pub(crate) fn usage_problems(signer: &Cert) -> Vec<String> {
    let mut problems = crate::trust::rfc5280::signer_problems(signer);
    if let Some(ekus) = &signer.ext_key_usage
        && !ekus.iter().any(|e| SIGNING_EKUS.contains(&e.as_str()))
    {
        let listed = if ekus.is_empty() { "empty".to_owned() } else { ekus.join(", ") };
        problems.push(format!(
            "signer certificate's extended key usage ({listed}) does not include document or \
             e-mail signing"
        ));
    }
    problems
}
