//! From a signer certificate to the SPEC's verdict columns: `ca_class`,
//! `classified_by`, `chain`, the CA, and the notes that explain them.

use std::sync::Arc;

use crate::cert::Cert;
use crate::model::finding::{Attributed, Finding};
use crate::model::rfc3339;
use crate::model::signature::Signature;
use crate::rules::{CaClass, CaEntry, Catalogue, PinRef};
use crate::trust::AnchorStore;
use crate::trust::chain::{self, Link, PathEnd};
use crate::trust::rfc5280::LinkError;

pub use crate::model::verdict::{ChainStatus, ClassifiedBy};

#[derive(Debug, Clone)]
pub struct Classification {
    pub class: CaClass,
    pub by: ClassifiedBy,
    pub chain: ChainStatus,
    /// The CA (catalogue id and name) for government / commercial / foreign.
    pub ca: Option<(String, String)>,
    pub issuer_cn: String,
    pub root_cn: String,
    /// The certificates followed, signer first.
    pub path: Vec<Link>,
    pub notes: Vec<String>,
}

const HOW_TO_VERIFY: &str = "to verify it, run `sigaudit rules fetch-anchors` or put the issuing CA certificate in an --anchors folder";

pub fn classify(leaf: Arc<Cert>, embedded: &[Arc<Cert>], anchors: &AnchorStore, catalogue: &Catalogue) -> Classification {
    let issuer_cn = leaf.issuer.cn_or_dn();
    let path = chain::build(leaf.clone(), embedded, anchors, catalogue);
    let mut notes = Vec::new();
    let top = path.last().clone();
    let verdict = |class, by, chain, ca: Option<&CaEntry>, pin| -> Verdict<'_> { (class, by, chain, ca.map(|c| (c.id.clone(), c.name.clone())), pin) };
    let (class, by, status, ca, anchor_pin) = match &path.end {
        PathEnd::Pinned(p) | PathEnd::SameKeyAsPinned(p) => {
            if matches!(path.end, PathEnd::SameKeyAsPinned(_)) {
                notes.push(format!("{} is a re-issued certificate of pinned CA {} (same key)", top.cn(), p.ca.name));
            }
            if path.links.len() == 1 {
                notes.push("the signer certificate is itself a pinned CA certificate".into());
            }
            // Name the issuing CA when it is unpinned but named in the rules
            // (an older generation chained to a pinned root).
            let named = (path.links.len() > 2).then(|| catalogue.by_pattern(&leaf.issuer)).flatten().map(|(ca, _)| ca).filter(|ca| ca.class == p.ca.class);
            if named.is_some() {
                notes.push(format!("issuing CA {} is not pinned; chain verified up to pinned {}", issuer_cn, p.ca.name));
            }
            verdict(p.ca.class, ClassifiedBy::Chain, ChainStatus::Verified, Some(named.unwrap_or(p.ca)), Some(*p))
        }
        PathEnd::ClaimsPinned(p) => {
            let who = path.links.iter().find(|l| catalogue.by_sha256(&l.cert.sha256).is_none() && claims(&l.cert, *p)).map(|l| l.cert.cn()).unwrap_or_else(|| top.cn());
            notes.push(format!(
                "FORGERY: certificate \"{who}\" claims the name or key identifier of pinned CA {} ({}) but is not that certificate and does not chain to any pinned CA",
                p.ca.name, p.ca.id
            ));
            explain_link_failures(&path.end, &mut notes, catalogue);
            verdict(CaClass::Untrusted, ClassifiedBy::Chain, ChainStatus::Broken, None, None)
        }
        PathEnd::LinkFails(_) => {
            // The issuer's certificate is there and the link does not hold:
            // whatever the reason, nothing vouches for this signer.
            explain_link_failures(&path.end, &mut notes, catalogue);
            verdict(CaClass::Untrusted, ClassifiedBy::Chain, ChainStatus::Broken, None, None)
        }
        PathEnd::SelfIssued { self_signature } => {
            // Only a signature that fails is evidence; an unsupported
            // algorithm (MD5 in old roots) just could not be checked.
            let ok = !self_signature.as_ref().is_err_and(|e| e.is_mismatch());
            if let Err(e) = self_signature {
                notes.push(format!("self-signature of {} could not be confirmed: {e}", top.cn()));
            }
            if path.links.len() == 1 {
                notes.push("self-signed signer certificate: no CA vouches for it".into());
                (CaClass::SelfSigned, ClassifiedBy::Chain, if ok { ChainStatus::Verified } else { ChainStatus::Broken }, None, None)
            } else {
                notes.push(format!("chain ends at root \"{}\", which the rules do not know", top.cn()));
                (CaClass::Untrusted, ClassifiedBy::Chain, if ok { ChainStatus::Incomplete } else { ChainStatus::Broken }, None, None)
            }
        }
        PathEnd::MissingIssuer => by_issuer_name(&top, catalogue, &mut notes),
        PathEnd::TooLong => {
            notes.push(format!("chain longer than {} certificates: not followed further, so no pinned CA vouches for it", chain::MAX_PATH));
            (CaClass::Untrusted, ClassifiedBy::Chain, ChainStatus::Incomplete, None, None)
        }
        PathEnd::OutOfBudget => {
            notes.push(format!("{} candidate issuer certificates checked without finding a path to a pinned CA: search stopped", chain::MAX_LINK_CHECKS));
            (CaClass::Untrusted, ClassifiedBy::Chain, ChainStatus::Incomplete, None, None)
        }
    };
    // A forged chain's "root" is the forger's: do not print it as a root.
    let root_cn = if status == ChainStatus::Broken { String::new() } else { root_cn(&path.links, anchor_pin, catalogue) };
    Classification { class, by, chain: status, ca, issuer_cn, root_cn, path: path.links, notes }
}

fn claims(cert: &Cert, p: PinRef<'_>) -> bool {
    cert.subject.folded_key() == p.pin.subject.folded_key() || (cert.ski.is_some() && cert.ski == p.pin.ski)
}

/// Notes for the issuer certificates that could not take the link.
fn explain_link_failures(end: &PathEnd<'_>, notes: &mut Vec<String>, catalogue: &Catalogue) {
    let PathEnd::LinkFails(fails) = end else { return };
    for (cand, err) in fails {
        notes.push(match catalogue.by_sha256(&cand.sha256) {
            Some(p) if err.is_signature_mismatch() => {
                format!("FORGERY: names pinned CA {} ({}) as issuer, but its signature does not verify with that CA's key", p.ca.name, p.ca.id)
            }
            Some(p) => format!("chain broken at pinned CA {} ({}): {err}", p.ca.name, p.ca.id),
            None if matches!(err, LinkError::Signature(_)) => format!("signature does not verify with the key of \"{}\": {err}", cand.cn()),
            None => format!("issuer certificate \"{}\" cannot take the link: {err}", cand.cn()),
        });
    }
}

/// No issuer certificate: classify by the issuer's key identifier and name.
fn by_issuer_name<'r>(cert: &Cert, catalogue: &'r Catalogue, notes: &mut Vec<String>) -> Verdict<'r> {
    let by_aki = cert.aki.as_deref().map(|a| catalogue.by_ski(a)).unwrap_or_default();
    let by_dn = catalogue.by_subject(&cert.issuer);
    // The issuer's name is a pinned CA's, but the key identifiers disagree:
    // whoever signed this is not that CA.
    if let (Some(aki), Some(named)) = (&cert.aki, by_dn.first())
        && let Some(ski) = &named.pin.ski
        && by_aki.is_empty()
        && ski != aki
    {
        notes.push(format!(
            "FORGERY: issuer name copies pinned CA {} but the authority key identifier {} is not its key identifier {}",
            named.ca.name,
            crate::asn1::ber::hex(aki),
            crate::asn1::ber::hex(ski)
        ));
        return (CaClass::Untrusted, ClassifiedBy::Dn, ChainStatus::Broken, None, None);
    }
    if let Some(p) = by_aki.first().or(by_dn.first()) {
        let how = if by_aki.is_empty() { "issuer DN" } else { "authority key identifier" };
        notes.push(format!(
            "issuer certificate \"{}\" is neither embedded nor in the anchor folder; classified by {how} as {}: {HOW_TO_VERIFY}",
            cert.issuer.cn_or_dn(),
            p.ca.name
        ));
        return (p.ca.class, ClassifiedBy::Dn, ChainStatus::Incomplete, Some((p.ca.id.clone(), p.ca.name.clone())), Some(*p));
    }
    if let Some((ca, pattern)) = catalogue.by_pattern(&cert.issuer) {
        notes.push(format!("issuer \"{}\" matched only by the DN pattern `{}` of {}: no certificate pinned for it", cert.issuer.cn_or_dn(), pattern.text, ca.name));
        return (ca.class, ClassifiedBy::Dn, ChainStatus::DnOnly, Some((ca.id.clone(), ca.name.clone())), None);
    }
    notes.push(format!("issuer \"{}\" is not in the rules", cert.issuer));
    (CaClass::Untrusted, ClassifiedBy::Dn, ChainStatus::Incomplete, None, None)
}

/// class, classified_by, chain, CA (id, name), and the pin the verdict rests on.
type Verdict<'r> = (CaClass, ClassifiedBy, ChainStatus, Option<(String, String)>, Option<PinRef<'r>>);

/// The root's CN: the path's self-issued top, else from the pins' facts.
fn root_cn(links: &[Link], anchor_pin: Option<PinRef<'_>>, catalogue: &Catalogue) -> String {
    let top = &links.last().expect("non-empty").cert;
    if links.len() > 1 && top.is_self_issued() {
        return top.cn();
    }
    let Some(PinRef { mut pin, .. }) = anchor_pin else { return String::new() };
    for _ in 0..chain::MAX_PATH {
        match &pin.issuer {
            Some(issuer) if issuer.folded_key() != pin.subject.folded_key() => match catalogue.by_subject(issuer).first() {
                Some(up) => pin = up.pin,
                None => return issuer.cn_or_dn(),
            },
            _ => break,
        }
    }
    pin.subject.cn_or_dn()
}

/// The finding of a signature classified as `class`, attributed as `who`.
/// `sig` must have a signer certificate (the caller checked).
pub fn finding(file: &str, sig: &Signature, class: &Classification, who: &Attributed) -> Finding {
    let agency = &who.agency;
    let signer = sig.signer.as_ref().expect("findings are made for signatures with a signer certificate");
    let mut notes = sig.rendered_notes();
    notes.extend(class.notes.iter().cloned());
    Finding {
        agency_id: agency.id.clone(),
        agency_name: agency.name.clone(),
        file: file.to_owned(),
        member: sig.member.clone(),
        format: sig.format,
        signed_at: sig.signed_at.map(|(t, _)| rfc3339(t)),
        signer_cn: signer.cn(),
        signer_org: signer.org(),
        signer_serial: signer.serial_hex(),
        signer_sha256: signer.sha256_hex(),
        signer_not_before: rfc3339(signer.not_before),
        signer_not_after: rfc3339(signer.not_after),
        issuer_cn: class.issuer_cn.clone(),
        root_cn: class.root_cn.clone(),
        ca_id: class.ca.as_ref().map(|(id, _)| id.clone()).unwrap_or_default(),
        ca_name: class.ca.as_ref().map(|(_, n)| n.clone()).unwrap_or_default(),
        ca_class: class.class,
        classified_by: class.by,
        chain: class.chain,
        integrity: sig.integrity,
        modified_after_signing: sig.modified_after_signing,
        cert_valid_at_signing: sig.cert_valid_at_signing,
        notes: notes.join("; "),
        attributed_by: who.by,
        found_in: who.found_in.clone(),
    }
}

/// The finding of a signature that carries no certificate, whose signer
/// could not be found: still a signature (SPEC.md), with empty signer
/// columns, `untrusted`, `classified_by=none`, `chain=no-certificate`.
pub fn finding_without_certificate(file: &str, sig: &Signature, who: &Attributed) -> Finding {
    let mut notes = sig.rendered_notes();
    notes.push(format!("the signer's certificate is not embedded and not in the anchor folder (signer {}): signer unknown", sig.signer_ref));
    Finding {
        agency_id: who.agency.id.clone(),
        agency_name: who.agency.name.clone(),
        file: file.to_owned(),
        member: sig.member.clone(),
        format: sig.format,
        signed_at: sig.signed_at.map(|(t, _)| rfc3339(t)),
        signer_cn: String::new(),
        signer_org: String::new(),
        signer_serial: String::new(),
        signer_sha256: String::new(),
        signer_not_before: String::new(),
        signer_not_after: String::new(),
        issuer_cn: String::new(),
        root_cn: String::new(),
        ca_id: String::new(),
        ca_name: String::new(),
        ca_class: CaClass::Untrusted,
        classified_by: ClassifiedBy::None,
        chain: ChainStatus::NoCertificate,
        integrity: sig.integrity,
        modified_after_signing: sig.modified_after_signing,
        cert_valid_at_signing: None,
        notes: notes.join("; "),
        attributed_by: who.by,
        found_in: who.found_in.clone(),
    }
}
