//! RFC 5280 §6 checks, one link at a time: may `issuer` have issued the
//! certificate below it, given everything already on the path below?
//! Chain building (`chain.rs`) calls [`check_issuer`] and [`verify_link`]
//! for every candidate, so a path that breaks a rule is never the one a
//! verdict rests on.
//!
//! Validity periods are not checked here: sigaudit reports them at the
//! signing time (`cert_valid_at_signing`), as it always has.

use crate::cert::{AltName, Cert, NameConstraints};

use crate::crypto::{Algorithm, VerifyError, verify_message};

/// Why `issuer` cannot be the next certificate of the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LinkError {
    /// The child's issuer name is not the candidate's subject name.
    #[error("its subject is not the issuer name of the certificate below (RFC 5280 name chaining)")]
    NameMismatch,
    /// The child's signature does not verify with the candidate's key, or
    /// its algorithm does not fit that key or is not supported.
    #[error("{0}")]
    Signature(VerifyError),
    #[error("it is a version {0} certificate, acceptable only as a pinned trust anchor")]
    OldVersion(u32),
    #[error("it is not a CA certificate (basicConstraints cA is not TRUE)")]
    NotCa,
    #[error("its key usage ({0}) does not include keyCertSign")]
    NoKeyCertSign(String),
    #[error(
        "its pathLenConstraint allows {limit} intermediate CA certificate(s) below it, the path \
         has {found}"
    )]
    PathLength { limit: u32, found: usize },
    #[error("it has {0}")]
    Defect(String),
    #[error("its subject name is empty, which no CA certificate's may be (RFC 5280 §4.1.2.6)")]
    EmptySubject,
    #[error("its name constraints exclude {0}")]
    NameConstraints(String),
    #[error(
        "{names} names against {constraints} name constraints: more comparisons than sigaudit \
         makes ({MAX_NAME_COMPARISONS})"
    )]
    TooManyNames { names: usize, constraints: usize },
}

impl LinkError {
    /// A signature that fails with the issuer's key: evidence of forgery,
    /// not only of a badly made chain.
    pub(crate) fn is_signature_mismatch(&self) -> bool {
        matches!(self, LinkError::Signature(e) if e.is_mismatch())
    }
}

/// Does `issuer`'s key verify `child`'s signature? (Here, below
/// revocation and chain building, which both ask: the files of `trust`
/// import each other in one direction only.)
pub(crate) fn verify_link(child: &Cert, issuer: &Cert) -> Result<(), VerifyError> {
    let alg = Algorithm::resolve(&child.sig_alg, child.sig_alg_params.as_deref(), None)?;
    verify_message(alg, &issuer.spki, &child.tbs, &child.signature)
}

/// RFC 5280 §7.1: issuer and subject names compare equal (exact DER
/// first; else attribute by attribute, case-insensitive, white space folded).
pub(crate) fn names_chain(child: &Cert, issuer: &Cert) -> bool {
    child.issuer_raw == issuer.subject_raw
        || child.issuer.compare_key() == issuer.subject.compare_key()
}

/// Every check of `issuer` as the certificate above `below.last()`, except
/// its signature (see [`verify_link`]). `below` is the path so far, signer
/// first. `anchor`: `issuer` is a pinned certificate, where the path ends.
pub(crate) fn check_issuer(below: &[&Cert], issuer: &Cert, anchor: bool) -> Result<(), LinkError> {
    let child = below.last().expect("a path holds at least the signer");
    if !names_chain(child, issuer) {
        return Err(LinkError::NameMismatch);
    }
    if issuer.version < 3 {
        // A v1 certificate has no basicConstraints: it cannot say it is a
        // CA, so only a trust anchor may issue that way: a pinned one, or
        // an old self-signed root where the path ends unpinned (untrusted
        // whatever it is, and reported as the unknown root it is).
        return if anchor || issuer.is_self_issued() {
            Ok(())
        } else {
            Err(LinkError::OldVersion(issuer.version))
        };
    }
    if let Some(what) = issuer.defects.first() {
        return Err(LinkError::Defect(what.clone()));
    }
    if issuer.subject.is_empty() {
        return Err(LinkError::EmptySubject);
    }
    let Some((true, path_len)) = issuer.basic_constraints else { return Err(LinkError::NotCa) };
    if let Some(ku) = issuer.key_usage
        && !ku.key_cert_sign
    {
        return Err(LinkError::NoKeyCertSign(ku.names()));
    }
    if let Some(limit) = path_len {
        // Intermediates below `issuer`: the signer is not one, and
        // self-issued certificates (key roll-over) do not count.
        let found = below.iter().skip(1).filter(|c| !c.is_self_issued()).count();
        if found > limit as usize {
            return Err(LinkError::PathLength { limit, found });
        }
    }
    if let Some(nc) = &issuer.name_constraints {
        // Self-issued intermediates are exempt (RFC 5280 §6.1.3 b); the signer never is.
        let constraints = nc.permitted.as_ref().map_or(0, Vec::len) + nc.excluded.len();
        for (i, cert) in below.iter().enumerate() {
            if i > 0 && cert.is_self_issued() {
                continue;
            }
            let names = cert.alt_names.len() + cert.emails.len() + 1;
            if names * constraints > MAX_NAME_COMPARISONS {
                return Err(LinkError::TooManyNames { names, constraints });
            }
            if let Some(name) = violates(nc, cert) {
                return Err(LinkError::NameConstraints(format!("{name} of \"{}\"", cert.cn())));
            }
        }
    }
    Ok(())
}

/// Name-constraint comparisons per certificate: real CAs have a handful;
/// thousands of names against thousands of constraints is an attack on the
/// validator's time (x509-limbo's nc-dos cases; rustls-webpki has a budget too).
pub(crate) const MAX_NAME_COMPARISONS: usize = 1 << 16;

/// The first name of `cert` (subject or subjectAltName) that `nc` does not allow.
fn violates(nc: &NameConstraints, cert: &Cert) -> Option<String> {
    let mut names: Vec<AltName> = cert.alt_names.clone();
    if !cert.subject.is_empty() {
        names.push(AltName::Directory(cert.subject.compare_key()));
    }
    // emailAddress in the subject is an rfc822 name for constraints (§4.2.1.10).
    let san_emails: Vec<&String> = cert
        .alt_names
        .iter()
        .filter_map(|n| if let AltName::Email(e) = n { Some(e) } else { None })
        .collect();
    names.extend(
        cert.emails.iter().filter(|e| !san_emails.contains(e)).map(|e| AltName::Email(e.clone())),
    );
    for name in &names {
        let kind = form(name);
        if nc.excluded.iter().any(|c| {
            form(c) == kind && (within(name, c) != Some(false) || wildcard_may_cover(name, c))
        }) {
            return Some(describe(name));
        }
        if let Some(permitted) = &nc.permitted {
            let same_form: Vec<&AltName> = permitted.iter().filter(|c| form(c) == kind).collect();
            if !same_form.is_empty() && !same_form.iter().any(|c| within(name, c) == Some(true)) {
                return Some(describe(name));
            }
        }
    }
    None
}

fn form(name: &AltName) -> &'static str {
    match name {
        AltName::Email(_) => "email",
        AltName::Dns(_) => "dns",
        AltName::Ip(_) => "ip",
        AltName::Directory(_) => "directory",
        AltName::Other(kind) => kind,
    }
}

fn describe(name: &AltName) -> String {
    match name {
        AltName::Email(e) => format!("e-mail address {e}"),
        AltName::Dns(d) => format!("DNS name {d}"),
        AltName::Ip(ip) => {
            format!("IP address {}", ip.iter().map(u8::to_string).collect::<Vec<_>>().join("."))
        }
        AltName::Directory(d) => format!(
            "name {}",
            d.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
        ),
        AltName::Other(kind) => format!("{kind} name"),
    }
}

/// Is `name` inside the subtree `base` (same form)? `None`: cannot tell
/// (a form not checked here, or a malformed constraint), which counts as
/// outside a permitted subtree and inside an excluded one.
fn within(name: &AltName, base: &AltName) -> Option<bool> {
    match (name, base) {
        (AltName::Dns(n), AltName::Dns(b)) => dns_within(n, b),
        (AltName::Email(n), AltName::Email(b)) => email_within(n, b),
        (AltName::Ip(n), AltName::Ip(b)) => {
            if b.len() != 2 * n.len() {
                return if b.len() == 8 || b.len() == 32 { Some(false) } else { None };
            }
            let (addr, mask) = b.split_at(n.len());
            Some(n.iter().zip(addr).zip(mask).all(|((n, a), m)| n & m == a & m))
        }
        (AltName::Directory(n), AltName::Directory(b)) => {
            Some(n.len() >= b.len() && n[..b.len()] == b[..])
        }
        _ => None,
    }
}

/// A DNS name as a certificate may carry it: letters, digits, hyphens and
/// underscores in non-empty labels, optionally a leading `*.` label.
fn dns_syntax_ok(name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn dns_within(name: &str, base: &str) -> Option<bool> {
    let (name, base) = (name.to_ascii_lowercase(), base.to_ascii_lowercase());
    if !dns_syntax_ok(&name) {
        return None;
    }
    if base.is_empty() {
        return Some(true);
    }
    if base.contains('*') || base.starts_with('.') || !dns_syntax_ok(&base) {
        return None;
    }
    let name = name.strip_prefix("*.").map_or(name.as_str(), |rest| rest);
    Some(name == base || name.ends_with(&format!(".{base}")))
}

/// `*.example.com` may stand for `bar.example.com`: an excluded subtree
/// inside what a wildcard covers is a violation (CVE-2025-61727).
fn wildcard_may_cover(name: &AltName, base: &AltName) -> bool {
    match (name, base) {
        (AltName::Dns(n), AltName::Dns(b)) => n.strip_prefix("*.").is_some_and(|domain| {
            b.to_ascii_lowercase().ends_with(&format!(".{}", domain.to_ascii_lowercase()))
        }),
        _ => false,
    }
}

fn email_within(name: &str, base: &str) -> Option<bool> {
    let (local, host) = name.rsplit_once('@')?;
    if local.is_empty() || host.is_empty() || local.contains('@') {
        return None;
    }
    let host = host.to_ascii_lowercase();
    Some(if base.contains('@') {
        // A mailbox: the local part is compared exactly, the host without case.
        base.rsplit_once('@').is_some_and(|(l, h)| l == local && h.eq_ignore_ascii_case(&host))
    } else if let Some(domain) = base.strip_prefix('.') {
        host.ends_with(&format!(".{}", domain.to_ascii_lowercase()))
    } else {
        host == base.to_ascii_lowercase()
    })
}

/// What the signer certificate itself must satisfy to sign documents:
/// reasons it may not, for `cert_valid_at_signing=false`.
pub fn signer_problems(signer: &Cert) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(ku) = signer.key_usage {
        if !ku.digital_signature && !ku.non_repudiation {
            problems.push(format!(
                "signer certificate's key usage ({}) has neither digitalSignature nor \
                 nonRepudiation: its key may not sign documents",
                ku.names()
            ));
        }
        if ku.key_cert_sign && signer.basic_constraints.is_none_or(|(ca, _)| !ca) {
            problems.push(
                "signer certificate asserts keyCertSign without being a CA (RFC 5280 §4.2.1.3)"
                    .into(),
            );
        }
    }
    if let Some(what) = signer.defects.first() {
        problems.push(format!("signer certificate has {what} (RFC 5280 §4.2: not valid)"));
    }
    if signer.name_constraints.is_some() && signer.basic_constraints.is_none_or(|(ca, _)| !ca) {
        problems.push(
            "signer certificate carries name constraints, which only a CA certificate may (RFC \
             5280 §4.2.1.10)"
                .into(),
        );
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_and_email_subtrees() {
        assert_eq!(dns_within("a.example.com", "example.com"), Some(true));
        assert_eq!(dns_within("example.com", "example.com"), Some(true));
        assert_eq!(dns_within("badexample.com", "example.com"), Some(false));
        assert_eq!(dns_within("x.com", "*.example.com"), None);
        assert_eq!(email_within("a@syt.thanhhoa.gov.vn", ".thanhhoa.gov.vn"), Some(true));
        assert_eq!(email_within("a@thanhhoa.gov.vn", ".thanhhoa.gov.vn"), Some(false));
        assert_eq!(email_within("a@Thanhhoa.gov.vn", "thanhhoa.gov.vn"), Some(true));
        assert_eq!(email_within("a@thanhhoa.gov.vn", "b@thanhhoa.gov.vn"), Some(false));
        assert_eq!(email_within("no-at-sign", "thanhhoa.gov.vn"), None);
    }

    #[test]
    fn ip_subtrees() {
        let base = AltName::Ip(vec![10, 0, 0, 0, 255, 0, 0, 0]);
        assert_eq!(within(&AltName::Ip(vec![10, 1, 2, 3]), &base), Some(true));
        assert_eq!(within(&AltName::Ip(vec![11, 1, 2, 3]), &base), Some(false));
        assert_eq!(within(&AltName::Ip(vec![0; 16]), &base), Some(false));
    }
}
