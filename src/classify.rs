//! From a signer certificate to docs/report-format.md's verdict columns: `ca_class`,
//! `classified_by`, `chain`, the CA, and the notes that explain them.

use std::sync::Arc;

use crate::cert::Cert;
use crate::model::finding::{Attributed, Finding};
use crate::model::result::UnknownCa;
use crate::model::rfc3339;
use crate::model::signature::Signature;
use crate::rules::{CaClass, CaEntry, Catalogue, PinRef};
use crate::trust::AnchorStore;
use crate::trust::chain::{self, Link, PathEnd};
use crate::trust::rfc5280::LinkError;

pub(crate) use crate::model::verdict::{ChainStatus, ClassifiedBy};

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
    /// The path stopped for want of an issuer certificate: a CA
    /// certificate found elsewhere in the scan may complete it.
    pub issuer_missing: bool,
}

const HOW_TO_VERIFY: &str = "to verify it, run `sigaudit rules fetch-anchors` or put the issuing \
                             CA certificate in an --anchors folder";

#[expect(clippy::too_many_lines, reason = "133 lines, from before the limit")]
pub fn classify(
    leaf: Arc<Cert>,
    embedded: &[Arc<Cert>],
    anchors: &AnchorStore,
    catalogue: &Catalogue,
) -> Classification {
    let issuer_cn = leaf.issuer.cn_or_dn();
    let path = chain::build(leaf.clone(), embedded, anchors, catalogue);
    let mut notes = Vec::new();
    let top = path.last().clone();
    let verdict = |class, by, chain, ca: Option<&CaEntry>, pin| -> Verdict<'_> {
        (class, by, chain, ca.map(|c| (c.id.clone(), c.name.clone())), pin)
    };
    let (class, by, status, ca, anchor_pin) = match &path.end {
        PathEnd::Pinned(p) | PathEnd::SameKeyAsPinned(p) => {
            if matches!(path.end, PathEnd::SameKeyAsPinned(_)) {
                notes.push(format!(
                    "{} is a re-issued certificate of pinned CA {} (same key)",
                    top.cn(),
                    p.ca.name
                ));
            }
            if path.links.len() == 1 {
                notes.push("the signer certificate is itself a pinned CA certificate".into());
            }
            // Name the issuing CA when it is unpinned but named in the rules
            // (an older generation chained to a pinned root).
            let named = (path.links.len() > 2)
                .then(|| catalogue.by_pattern(&leaf.issuer))
                .flatten()
                .map(|(ca, _)| ca)
                .filter(|ca| ca.class == p.ca.class);
            if named.is_some() {
                notes.push(format!(
                    "issuing CA {} is not pinned; chain verified up to pinned {}",
                    issuer_cn, p.ca.name
                ));
            }
            verdict(
                p.ca.class,
                ClassifiedBy::Chain,
                ChainStatus::Verified,
                Some(named.unwrap_or(p.ca)),
                Some(*p),
            )
        }
        PathEnd::ClaimsPinned(p) => {
            let who = path
                .links
                .iter()
                .find(|l| catalogue.by_sha256(&l.cert.sha256).is_none() && claims(&l.cert, *p))
                .map(|l| l.cert.cn())
                .unwrap_or_else(|| top.cn());
            notes.push(format!(
                "FORGERY: certificate \"{who}\" claims the name or key identifier of pinned CA {} \
                 ({}) with another key, and does not chain to any pinned CA",
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
                (
                    CaClass::SelfSigned,
                    ClassifiedBy::Chain,
                    if ok { ChainStatus::Verified } else { ChainStatus::Broken },
                    None,
                    None,
                )
            } else {
                notes.push(format!(
                    "chain ends at root \"{}\", which the rules do not know",
                    top.cn()
                ));
                (
                    CaClass::Untrusted,
                    ClassifiedBy::Chain,
                    if ok { ChainStatus::Incomplete } else { ChainStatus::Broken },
                    None,
                    None,
                )
            }
        }
        PathEnd::MissingIssuer => {
            let (class, by, status, ca, pin) = by_issuer_name(&top, catalogue, &mut notes);
            // An unpinned issuing CA embedded in the signature (another
            // generation) that stops below its root: name it when the
            // rules know it by name under the same class.
            let named = (path.links.len() > 1 && class != CaClass::Untrusted)
                .then(|| {
                    catalogue
                        .by_subject(&leaf.issuer)
                        .first()
                        .map(|p| p.ca)
                        .or_else(|| catalogue.by_pattern(&leaf.issuer).map(|(ca, _)| ca))
                })
                .flatten()
                .filter(|named| named.class == class);
            (class, by, status, named.map(|c| (c.id.clone(), c.name.clone())).or(ca), pin)
        }
        PathEnd::TooLong => {
            notes.push(format!(
                "chain longer than {} certificates: not followed further, so no pinned CA vouches \
                 for it",
                chain::MAX_PATH
            ));
            (CaClass::Untrusted, ClassifiedBy::Chain, ChainStatus::Incomplete, None, None)
        }
        PathEnd::OutOfBudget => {
            notes.push(format!(
                "{} candidate issuer certificates checked without finding a path to a pinned CA: \
                 search stopped",
                chain::MAX_LINK_CHECKS
            ));
            (CaClass::Untrusted, ClassifiedBy::Chain, ChainStatus::Incomplete, None, None)
        }
    };
    // A forged chain's "root" is the forger's: do not print it as a root.
    let root_cn = if status == ChainStatus::Broken {
        String::new()
    } else {
        root_cn(&path.links, anchor_pin, catalogue)
    };
    let issuer_missing = matches!(path.end, PathEnd::MissingIssuer);
    Classification {
        class,
        by,
        chain: status,
        ca,
        issuer_cn,
        root_cn,
        path: path.links,
        notes,
        issuer_missing,
    }
}

fn claims(cert: &Cert, p: PinRef<'_>) -> bool {
    cert.subject.folded_key() == p.pin.subject.folded_key()
        || (cert.ski.is_some() && cert.ski == p.pin.ski)
}

/// Notes for the issuer certificates that could not take the link.
fn explain_link_failures(end: &PathEnd<'_>, notes: &mut Vec<String>, catalogue: &Catalogue) {
    let PathEnd::LinkFails(fails) = end else { return };
    for (cand, err) in fails {
        notes.push(match catalogue.by_sha256(&cand.sha256) {
            Some(p) if err.is_signature_mismatch() => {
                format!(
                    "FORGERY: names pinned CA {} ({}) as issuer, but its signature does not \
                     verify with that CA's key",
                    p.ca.name, p.ca.id
                )
            }
            Some(p) => format!("chain broken at pinned CA {} ({}): {err}", p.ca.name, p.ca.id),
            None if matches!(err, LinkError::Signature(_)) => {
                format!("signature does not verify with the key of \"{}\": {err}", cand.cn())
            }
            None => format!("issuer certificate \"{}\" cannot take the link: {err}", cand.cn()),
        });
    }
}

/// No issuer certificate: classify by the issuer's key identifier and name.
///
/// A key identifier the rules pin says which CA issued it (`dn`,
/// `incomplete`). A name the catalogue knows with a key it does not hold is
/// another generation of that CA, or an impostor: nothing here can tell
/// them apart, so the name decides a commercial or foreign class (what a
/// commercial signature must count as anyway: it harms no one) and never a
/// government one (a stale catalogue must not lower, nor a forger raise,
/// an agency's figure; the report's first page counts these). Only a key
/// the rules trust may call a certificate a forgery (see `chain`).
fn by_issuer_name<'r>(
    cert: &Cert,
    catalogue: &'r Catalogue,
    notes: &mut Vec<String>,
) -> Verdict<'r> {
    let issuer = cert.issuer.cn_or_dn();
    let by_aki = cert.aki.as_deref().map(|a| catalogue.by_ski(a)).unwrap_or_default();
    if let Some(p) = by_aki.first() {
        notes.push(format!(
            "issuer certificate \"{issuer}\" is neither embedded nor in the anchor folder; \
             classified by authority key identifier as {}: {HOW_TO_VERIFY}",
            p.ca.name
        ));
        return (
            p.ca.class,
            ClassifiedBy::Dn,
            ChainStatus::Incomplete,
            Some((p.ca.id.clone(), p.ca.name.clone())),
            Some(*p),
        );
    }
    let pinned = catalogue.by_subject(&cert.issuer);
    let named = match pinned.first() {
        Some(p) => Some((p.ca, None)),
        None => catalogue.by_pattern(&cert.issuer).map(|(ca, pattern)| (ca, Some(pattern))),
    };
    let Some((ca, pattern)) = named else {
        notes.push(format!("issuer \"{}\" is not in the rules", cert.issuer));
        return (CaClass::Untrusted, ClassifiedBy::Dn, ChainStatus::Incomplete, None, None);
    };
    let key = cert.aki.as_deref().map_or_else(
        || "no authority key identifier".to_owned(),
        |k| format!("key identifier {}", crate::asn1::ber::hex(k)),
    );
    let held: Vec<String> =
        ca.pins.iter().filter_map(|p| p.ski.as_deref()).map(crate::asn1::ber::hex).collect();
    let held = if held.is_empty() { "none".to_owned() } else { held.join(", ") };
    if ca.class == CaClass::Government {
        notes.push(format!(
            "{UNKNOWN_GOVERNMENT_KEY}: issuer \"{issuer}\" names {} ({}) with {key}, which the \
             rules do not hold (keys held: {held}); not counted as government until the rules \
             hold that key (a newer sigaudit, `sigaudit rules fetch-anchors`, or that CA's \
             certificate in an --anchors folder if it chains to a pinned root)",
            ca.name, ca.id
        ));
        return (CaClass::Untrusted, ClassifiedBy::Dn, ChainStatus::UnknownKey, None, None);
    }
    match pattern {
        Some(pattern) if pinned.is_empty() && ca.pins.is_empty() => {
            notes.push(format!(
                "issuer \"{issuer}\" matched only by the DN pattern `{}` of {}: no certificate \
                 pinned for it",
                pattern.text, ca.name
            ));
            (
                ca.class,
                ClassifiedBy::Dn,
                ChainStatus::DnOnly,
                Some((ca.id.clone(), ca.name.clone())),
                None,
            )
        }
        _ => {
            notes.push(format!(
                "issuer \"{issuer}\" is {} by name, with {key}, which the rules do not hold for \
                 it (keys held: {held}): a generation of that CA the rules lack; classified by \
                 name. Add that CA's certificate to an --anchors folder (its chain to a pinned \
                 root is then verified) or its facts to a ca.d/ rules file",
                ca.name
            ));
            (
                ca.class,
                ClassifiedBy::Dn,
                ChainStatus::UnknownKey,
                Some((ca.id.clone(), ca.name.clone())),
                None,
            )
        }
    }
}

/// The words that open the note of a signature whose issuer names a
/// Government CA with a key the rules do not hold (the report's first
/// page counts them).
pub(crate) const UNKNOWN_GOVERNMENT_KEY: &str =
    "GOVERNMENT CA NAME WITH A KEY THE RULES DO NOT HOLD";

/// class, classified_by, chain, CA (id, name), and the pin the verdict rests on.
type Verdict<'r> =
    (CaClass, ClassifiedBy, ChainStatus, Option<(String, String)>, Option<PinRef<'r>>);

/// The root's CN: the path's self-issued top, else from the pins' facts.
fn root_cn(links: &[Link], anchor_pin: Option<PinRef<'_>>, catalogue: &Catalogue) -> String {
    let top = &links.last().expect("non-empty").cert;
    if links.len() > 1 && top.is_self_issued() {
        return top.cn();
    }
    let Some(PinRef { mut pin, .. }) = anchor_pin else { return String::new() };
    for _ in 0..chain::MAX_PATH {
        match &pin.issuer {
            Some(issuer) if issuer.folded_key() != pin.subject.folded_key() => {
                match catalogue.by_subject(issuer).first() {
                    Some(up) => pin = up.pin,
                    None => return issuer.cn_or_dn(),
                }
            }
            _ => break,
        }
    }
    pin.subject.cn_or_dn()
}

/// Whether a finding's issuing CA is one the rules do not know: a
/// catalogued name with a key they do not hold, or an issuer (or root)
/// no pin and no pattern names. Forgeries and broken links are not: the
/// rules know exactly what is wrong with them.
pub(crate) fn names_unknown_ca(f: &Finding) -> bool {
    f.chain == ChainStatus::UnknownKey
        || (f.ca_class == CaClass::Untrusted
            && f.ca_id.is_empty()
            && f.chain == ChainStatus::Incomplete)
}

/// The issuing CAs the rules do not know, with how many signatures each
/// issued and an example, most signatures first. `signer` finds a
/// finding's signer certificate by its SHA-256 (hex); without it the
/// issuer's CN stands for its name and the key is unknown.
pub(crate) fn unknown_cas(
    findings: &[Finding],
    signer: impl Fn(&str) -> Option<Arc<Cert>>,
    catalogue: &Catalogue,
) -> Vec<UnknownCa> {
    let mut by_issuer: std::collections::BTreeMap<(String, String), UnknownCa> =
        std::collections::BTreeMap::new();
    for f in findings.iter().filter(|f| names_unknown_ca(f)) {
        let cert = signer(&f.signer_sha256);
        let (issuer, key) = match &cert {
            Some(c) => (
                c.issuer.to_string(),
                c.aki.as_deref().map(crate::asn1::ber::hex).unwrap_or_default(),
            ),
            None => (f.issuer_cn.clone(), String::new()),
        };
        let named = cert.as_ref().and_then(|c| {
            catalogue
                .by_subject(&c.issuer)
                .first()
                .map(|p| p.ca)
                .or_else(|| catalogue.by_pattern(&c.issuer).map(|(ca, _)| ca))
        });
        let entry = by_issuer.entry((issuer.clone(), key.clone())).or_insert_with(|| UnknownCa {
            issuer,
            key_identifier: key,
            named_ca: named.map(|ca| ca.id.clone()).unwrap_or_default(),
            class_by_name: named.map(|ca| ca.class),
            signatures: 0,
            example_signer: f.signer_cn.clone(),
            example_file: f.file.clone(),
        });
        entry.signatures += 1;
    }
    let mut out: Vec<UnknownCa> = by_issuer.into_values().collect();
    out.sort_by(|a, b| b.signatures.cmp(&a.signatures).then_with(|| a.issuer.cmp(&b.issuer)));
    out
}

/// The finding of a signature classified as `class`, attributed as `who`.
/// `sig` must have a signer certificate (the caller checked).
pub(crate) fn finding(
    file: &str,
    sig: &Signature,
    class: &Classification,
    who: &Attributed,
) -> Finding {
    let agency = &who.agency;
    let signer =
        sig.signer.as_ref().expect("findings are made for signatures with a signer certificate");
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
/// could not be found: still a signature (docs/report-format.md), with empty signer
/// columns, `untrusted`, `classified_by=none`, `chain=no-certificate`.
pub(crate) fn finding_without_certificate(
    file: &str,
    sig: &Signature,
    who: &Attributed,
) -> Finding {
    let mut notes = sig.rendered_notes();
    notes.push(format!(
        "the signer's certificate is not embedded and not in the anchor folder (signer {}): \
         signer unknown",
        sig.signer_ref
    ));
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
