//! Chain building: from the signer certificate up, through certificates
//! embedded in the signature and the anchor folder, checking each link's
//! signature, until a pinned CA certificate is reached or the path stops.
//! The result says exactly where and why it stopped; classification turns
//! that into a verdict.

use std::sync::Arc;

use super::anchors::AnchorStore;
use super::crypto::{Algorithm, VerifyError, verify_message};
use crate::cert::Cert;
use crate::rules::{Catalogue, PinRef};

/// Longest path we follow; real Vietnamese chains have 2 or 3 certificates.
pub const MAX_PATH: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Signature,
    Anchors,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub cert: Arc<Cert>,
    pub origin: Origin,
}

/// How the path ended (the last link is the certificate it ended at).
#[derive(Debug, Clone)]
pub enum PathEnd<'r> {
    /// The last certificate is pinned in the rules; every link verified.
    Pinned(PinRef<'r>),
    /// Same key as a pinned certificate, re-issued under another fingerprint.
    SameKeyAsPinned(PinRef<'r>),
    /// A self-issued certificate that no pin names.
    SelfIssued { self_signature: Result<(), VerifyError> },
    /// A certificate on the path carries a pinned CA's name or key
    /// identifier, is not that certificate, and the path does not verify up
    /// to any pin: a forgery.
    ClaimsPinned(PinRef<'r>),
    /// No certificate for the last certificate's issuer.
    MissingIssuer,
    /// Issuer candidates exist but none of their keys verifies the link.
    LinkFails(Vec<(Arc<Cert>, VerifyError)>),
    TooLong,
}

#[derive(Debug, Clone)]
pub struct Path<'r> {
    /// Signer first.
    pub links: Vec<Link>,
    pub end: PathEnd<'r>,
}

impl Path<'_> {
    pub fn last(&self) -> &Cert {
        &self.links.last().expect("a path holds at least the signer").cert
    }
}

/// Does `issuer`'s key verify `child`'s signature?
pub fn verify_link(child: &Cert, issuer: &Cert) -> Result<(), VerifyError> {
    let alg = Algorithm::resolve(&child.sig_alg, child.sig_alg_params.as_deref(), None)?;
    verify_message(alg, &issuer.spki, &child.tbs, &child.signature)
}

pub fn build<'r>(leaf: Arc<Cert>, embedded: &[Arc<Cert>], anchors: &AnchorStore, catalogue: &'r Catalogue) -> Path<'r> {
    let mut links = vec![Link { cert: leaf, origin: Origin::Signature }];
    // A certificate that copies a pinned CA's name or key id is acceptable
    // only if the path still verifies up to a pin (another generation of
    // the same CA, vouched for by its root); otherwise it is a forgery.
    let mut claim: Option<PinRef<'r>> = None;
    let stop = |links: Vec<Link>, end: PathEnd<'r>, claim: Option<PinRef<'r>>| match claim {
        Some(claimed) => Path { links, end: PathEnd::ClaimsPinned(claimed) },
        None => Path { links, end },
    };
    loop {
        let current = links.last().expect("non-empty").cert.clone();
        if let Some(pin) = catalogue.by_sha256(&current.sha256) {
            return Path { links, end: PathEnd::Pinned(pin) };
        }
        if let Some(claimed) = claimed_pin(&current, catalogue) {
            // Same key as an available copy of the pinned certificate: a
            // re-issue by the same CA, not a forgery.
            if embedded.iter().chain(anchors.iter()).any(|c| c.sha256 == claimed.pin.sha256 && c.spki == current.spki) {
                return Path { links, end: PathEnd::SameKeyAsPinned(claimed) };
            }
            claim.get_or_insert(claimed);
        }
        if current.is_self_issued() {
            let self_signature = verify_link(&current, &current);
            return stop(links, PathEnd::SelfIssued { self_signature }, claim);
        }
        if links.len() >= MAX_PATH {
            return stop(links, PathEnd::TooLong, claim);
        }
        let mut candidates: Vec<Link> = embedded
            .iter()
            .filter(|c| could_issue(c, &current))
            .map(|c| Link { cert: c.clone(), origin: Origin::Signature })
            .chain(anchors.issuer_candidates(&current).into_iter().map(|c| Link { cert: c, origin: Origin::Anchors }))
            .filter(|l| !links.iter().any(|p| p.cert.sha256 == l.cert.sha256))
            .collect();
        // Dedupe (same certificate embedded and in anchors), pinned ones first.
        candidates.sort_by_key(|l| (catalogue.by_sha256(&l.cert.sha256).is_none(), l.origin == Origin::Anchors));
        candidates.dedup_by(|a, b| a.cert.sha256 == b.cert.sha256);
        if candidates.is_empty() {
            return stop(links, PathEnd::MissingIssuer, claim);
        }
        let mut failures = Vec::new();
        let mut next = None;
        for cand in candidates {
            match verify_link(&current, &cand.cert) {
                Ok(()) => {
                    next = Some(cand);
                    break;
                }
                Err(e) => failures.push((cand.cert, e)),
            }
        }
        match next {
            Some(link) => links.push(link),
            None => return stop(links, PathEnd::LinkFails(failures), claim),
        }
    }
}

fn could_issue(candidate: &Cert, child: &Cert) -> bool {
    candidate.sha256 != child.sha256
        && (candidate.subject_raw == child.issuer_raw
            || candidate.subject.folded_key() == child.issuer.folded_key()
            || matches!((&child.aki, &candidate.ski), (Some(a), Some(s)) if a == s))
}

/// A pinned CA whose subject DN or subject key identifier this certificate
/// copies (it is not the pinned certificate itself: that was checked first).
fn claimed_pin<'r>(cert: &Cert, catalogue: &'r Catalogue) -> Option<PinRef<'r>> {
    if let Some(ski) = &cert.ski
        && let Some(p) = catalogue.by_ski(ski).into_iter().next() {
            return Some(p);
        }
    catalogue.by_subject(&cert.subject).into_iter().next()
}
