//! Chain building: from the signer certificate up, through certificates
//! embedded in the signature and the anchor folder, checking each link's
//! signature, until a pinned CA certificate is reached or the path stops.
//! The result says exactly where and why it stopped; classification turns
//! that into a verdict.

use std::collections::HashMap;
use std::sync::Arc;

use super::anchors::AnchorStore;
use super::rfc5280::{self, LinkError, verify_link};
use crate::cert::Cert;
use crate::crypto::VerifyError;
use crate::rules::{Catalogue, PinRef};

/// Longest path we follow (certificates, signer included); real Vietnamese
/// chains have 2 or 3 certificates.
pub(crate) const MAX_PATH: usize = 8;

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
pub(crate) enum PathEnd<'r> {
    /// The last certificate is pinned in the rules; every link verified.
    Pinned(PinRef<'r>),
    /// Same key as a pinned certificate, re-issued under another fingerprint.
    SameKeyAsPinned(PinRef<'r>),
    /// A self-issued certificate that no pin names.
    SelfIssued {
        self_signature: Result<(), VerifyError>,
    },
    /// A certificate on the path impersonates a pinned certificate: it
    /// carries its key identifier with another key, or is a self-signed
    /// root under a pinned root's name with another key (see
    /// `Search::contradicted_pin`), and the path does not verify up to any
    /// pin: a forgery.
    ClaimsPinned(PinRef<'r>),
    /// No certificate for the last certificate's issuer.
    MissingIssuer,
    /// Issuer certificates are there, but none may issue the last
    /// certificate: its signature fails with their key, or an RFC 5280 rule
    /// forbids the link. The chain is broken, not incomplete.
    LinkFails(Vec<(Arc<Cert>, LinkError)>),
    TooLong,
    /// [`MAX_LINK_CHECKS`] candidate issuers were checked without a path.
    OutOfBudget,
}

#[derive(Debug, Clone)]
pub(crate) struct Path<'r> {
    /// Signer first.
    pub links: Vec<Link>,
    pub end: PathEnd<'r>,
}

impl Path<'_> {
    pub(crate) fn last(&self) -> &Cert {
        &self.links.last().expect("a path holds at least the signer").cert
    }
}

/// Builds the best path from `leaf` up: depth first, every candidate
/// issuer tried in turn (cross-certificates, re-keyed CAs, G1 and G2 with
/// similar names), each link checked by RFC 5280 before it is taken, loops
/// and depth bounded and the number of link checks budgeted (rustls-webpki
/// does the same). The first path that reaches a pinned certificate wins;
/// without one, the failure that tells most: evidence of forgery first,
/// then the path that got furthest.
pub(crate) fn build<'r>(
    leaf: Arc<Cert>,
    embedded: &[Arc<Cert>],
    anchors: &AnchorStore,
    catalogue: &'r Catalogue,
) -> Path<'r> {
    let mut search =
        Search { embedded, anchors, catalogue, checks: 0, best: None, signatures: HashMap::new() };
    let mut links = vec![Link { cert: leaf, origin: Origin::Signature }];
    match search.extend(&mut links) {
        Some(found) => found,
        None => search.best.expect("a failed search records why"),
    }
}

/// Candidate issuers one search may check before it gives up (a hostile
/// signature can carry hundreds of certificates with the same name).
pub(crate) const MAX_LINK_CHECKS: usize = 128;

struct Search<'a, 'r> {
    embedded: &'a [Arc<Cert>],
    anchors: &'a AnchorStore,
    catalogue: &'r Catalogue,
    checks: usize,
    best: Option<Path<'r>>,
    /// Signature checks already made: (child, issuer) SHA-256 -> result.
    signatures: HashMap<([u8; 32], [u8; 32]), Result<(), VerifyError>>,
}

impl<'r> Search<'_, 'r> {
    /// Extends `links` to a pinned certificate, or records why it cannot.
    fn extend(&mut self, links: &mut Vec<Link>) -> Option<Path<'r>> {
        let current = links.last().expect("non-empty").cert.clone();
        if let Some(pin) = self.catalogue.by_sha256(&current.sha256) {
            return Some(Path { links: links.clone(), end: PathEnd::Pinned(pin) });
        }
        if let Some(claimed) = claimed_pin(&current, self.catalogue)
            // Same key as an available copy of the pinned certificate: a
            // re-issue by the same CA, not a forgery.
            && self
                .embedded
                .iter()
                .chain(self.anchors.iter())
                .any(|c| c.sha256 == claimed.pin.sha256 && c.spki == current.spki)
        {
            return Some(Path { links: links.clone(), end: PathEnd::SameKeyAsPinned(claimed) });
        }
        if links.len() >= MAX_PATH {
            self.fail(links, PathEnd::TooLong);
            return None;
        }
        let mut failures = Vec::new();
        for candidate in self.candidates(&current, links) {
            if self.checks >= MAX_LINK_CHECKS {
                self.fail(links, PathEnd::OutOfBudget);
                return None;
            }
            self.checks += 1;
            let anchor = self.catalogue.by_sha256(&candidate.cert.sha256).is_some();
            let below: Vec<&Cert> = links.iter().map(|l| &*l.cert).collect();
            let checked = rfc5280::check_issuer(&below, &candidate.cert, anchor).and_then(|()| {
                self.signature(&current, &candidate.cert).map_err(LinkError::Signature)
            });
            match checked {
                Err(e) => failures.push((candidate.cert, e)),
                Ok(()) => {
                    links.push(candidate);
                    if let Some(found) = self.extend(links) {
                        return Some(found);
                    }
                    links.pop();
                }
            }
        }
        // A certificate taken by its name alone while the child names
        // another key is another generation of that CA, not this child's
        // issuer: whatever it fails says nothing of the child. One whose
        // key refuses a child that names no key says nothing either. Only
        // the key the child names by its authority key identifier can
        // contradict it (issue 23: a genuine customer of a CA's older or
        // newer key is no forgery); without it the issuer is missing.
        failures.retain(|(candidate, e)| {
            names_key(&current, candidate)
                || (!names_other_key(&current, candidate) && !e.is_signature_mismatch())
        });
        let end = if current.is_self_issued() {
            // A root nobody pinned (or a key roll-over that led nowhere).
            PathEnd::SelfIssued { self_signature: verify_link(&current, &current) }
        } else if failures.is_empty() {
            PathEnd::MissingIssuer
        } else {
            PathEnd::LinkFails(failures)
        };
        self.fail(links, end);
        None
    }

    /// Certificates that may have issued `child`, not already on the path:
    /// pinned first, then those whose subject is exactly the issuer name,
    /// then the longest-lived (an expired intermediate beside its renewal).
    fn candidates(&self, child: &Cert, links: &[Link]) -> Vec<Link> {
        let mut candidates: Vec<Link> = self
            .embedded
            .iter()
            .filter(|c| could_issue(c, child))
            .map(|c| Link { cert: c.clone(), origin: Origin::Signature })
            .chain(
                self.anchors
                    .issuer_candidates(child)
                    .into_iter()
                    .map(|c| Link { cert: c, origin: Origin::Anchors }),
            )
            .filter(|l| !links.iter().any(|p| p.cert.sha256 == l.cert.sha256))
            .collect();
        candidates.sort_by_key(|l| {
            (
                self.catalogue.by_sha256(&l.cert.sha256).is_none(),
                !rfc5280::names_chain(child, &l.cert),
                std::cmp::Reverse(l.cert.not_after),
                l.origin == Origin::Anchors,
            )
        });
        candidates.dedup_by(|a, b| a.cert.sha256 == b.cert.sha256);
        candidates
    }

    /// The pin a key the rules trust shows `cert` to impersonate: `cert`
    /// carries that pinned certificate's key identifier while the pinned
    /// certificate at hand (embedded or in the anchors) has another key;
    /// or `cert` is self-issued under a pinned root's exact name with
    /// another key identifier (or another key than the copy at hand).
    /// Without a copy or a key identifier to compare, nothing contradicts
    /// the claim and it is no evidence of forgery.
    fn contradicted_pin(&self, cert: &Cert) -> Option<PinRef<'r>> {
        let copy_of = |p: PinRef<'r>| {
            self.embedded
                .iter()
                .chain(self.anchors.iter())
                .find(|c| c.sha256 == p.pin.sha256)
                .cloned()
        };
        let other_key = |p: PinRef<'r>| copy_of(p).is_some_and(|c| c.spki != cert.spki);
        if let Some(ski) = &cert.ski
            && let Some(p) = self
                .catalogue
                .by_ski(ski)
                .into_iter()
                .find(|p| p.pin.sha256 != cert.sha256 && other_key(*p))
        {
            return Some(p);
        }
        if !cert.is_self_issued() {
            return None;
        }
        self.catalogue.by_subject(&cert.subject).into_iter().find(|p| {
            let pinned_root =
                p.pin.issuer.as_ref().is_none_or(|i| i.folded_key() == p.pin.subject.folded_key());
            let key_ids_differ = matches!((&cert.ski, &p.pin.ski), (Some(a), Some(b)) if a != b);
            pinned_root && p.pin.sha256 != cert.sha256 && (key_ids_differ || other_key(*p))
        })
    }

    fn signature(&mut self, child: &Cert, issuer: &Cert) -> Result<(), VerifyError> {
        self.signatures
            .entry((child.sha256, issuer.sha256))
            .or_insert_with(|| verify_link(child, issuer))
            .clone()
    }

    /// Keeps the failure that tells most: a forgery over anything else,
    /// then the longest path.
    fn fail(&mut self, links: &[Link], end: PathEnd<'r>) {
        // A certificate that a key the rules trust contradicts (a pinned
        // certificate's key identifier with another key, a pinned root's
        // name on another self-signed key): a forgery. A certificate that
        // only shares a pinned CA's name is another generation of that CA
        // until a pinned key says otherwise (issue 23): the path simply
        // ends, and the verdict rests on what it reached.
        let claim = links.iter().find_map(|l| self.contradicted_pin(&l.cert));
        let end = match claim {
            Some(claimed) => PathEnd::ClaimsPinned(claimed),
            None => end,
        };
        let rank = |p: &Path<'_>| (p.is_forgery_evidence(self.catalogue), p.links.len());
        let path = Path { links: links.to_vec(), end };
        if self.best.as_ref().is_none_or(|best| rank(&path) > rank(best)) {
            self.best = Some(path);
        }
    }
}

impl Path<'_> {
    /// The path ends in a claim of a pinned CA's identity, or a pinned CA's
    /// key refusing a link.
    fn is_forgery_evidence(&self, catalogue: &Catalogue) -> bool {
        match &self.end {
            PathEnd::ClaimsPinned(_) => true,
            PathEnd::LinkFails(fails) => fails.iter().any(|(c, e)| {
                e.is_signature_mismatch() && catalogue.by_sha256(&c.sha256).is_some()
            }),
            _ => false,
        }
    }
}

/// `child` names `issuer`'s key: its authority key identifier is the
/// issuer's subject key identifier.
fn names_key(child: &Cert, issuer: &Cert) -> bool {
    child.aki.is_some() && child.aki == issuer.ski
}

/// `child` names a key by its authority key identifier, and `candidate`
/// says by its subject key identifier that it holds another.
fn names_other_key(child: &Cert, candidate: &Cert) -> bool {
    matches!((&child.aki, &candidate.ski), (Some(a), Some(s)) if a != s)
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
        && let Some(p) = catalogue.by_ski(ski).into_iter().next()
    {
        return Some(p);
    }
    catalogue.by_subject(&cert.subject).into_iter().next()
}
