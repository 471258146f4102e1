//! `sigaudit inspect FILE`: every signature of one file, for people, in
//! the spirit of `pdfsig` plus what pdfsig does not show: the issuer chain
//! and the classification.

use std::fmt::Write as _;

use crate::classify::classify;
use crate::model::extraction::Extraction;
use crate::model::rfc3339;
use crate::model::signature::{Kind, Signature, TimeSource, Timestamp};
use crate::rules::Rules;
use crate::trust::AnchorStore;
use crate::trust::chain::Origin;

pub(crate) fn render(
    file: &str,
    extraction: &Extraction,
    rules: &Rules,
    anchors: &AnchorStore,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "File: {file}");
    if extraction.signatures.is_empty() && extraction.problems.is_empty() {
        let _ = writeln!(out, "No signatures found.");
    }
    for (i, sig) in extraction.signatures.iter().enumerate() {
        let _ = writeln!(out);
        render_one(&mut out, i + 1, sig, rules, anchors);
    }
    for p in &extraction.problems {
        let member = if p.member.is_empty() { String::new() } else { format!(" [{}]", p.member) };
        let _ = writeln!(out, "\nProblem ({}){member}: {}", p.stage.as_str(), p.error);
    }
    out
}

#[expect(clippy::too_many_lines, reason = "127 lines, from before the limit")]
fn render_one(out: &mut String, n: usize, sig: &Signature, rules: &Rules, anchors: &AnchorStore) {
    let mut sig = sig.clone();
    anchors.complete_signer(&mut sig);
    let sig = &sig;
    let what = match sig.kind {
        Kind::Signer => "Signature",
        Kind::DocTimestamp => "Document timestamp",
        Kind::UsageRights => {
            "Usage rights (Adobe /UR3: the application that enabled the form, not a signer)"
        }
    };
    let member = if sig.member.is_empty() { String::new() } else { format!(" — {}", sig.member) };
    let _ = writeln!(out, "{what} #{n}{member} ({})", sig.format.as_str());
    let role = match sig.kind {
        Kind::Signer => "Signer",
        Kind::DocTimestamp => "Timestamp authority",
        Kind::UsageRights => "Granted by",
    };
    match &sig.signer {
        Some(c) => {
            let _ = writeln!(out, "  - {role}: {}", c.cn());
            let _ = writeln!(out, "  - {role} subject: {}", c.subject);
            let _ = writeln!(out, "  - Issuer: {}", c.issuer);
            let _ = writeln!(
                out,
                "  - Certificate: serial {}, SHA-256 {}, valid {} to {}",
                c.serial_hex(),
                c.sha256_hex(),
                rfc3339(c.not_before),
                rfc3339(c.not_after)
            );
        }
        None => {
            let _ = writeln!(out, "  - {role}: certificate not embedded ({})", sig.signer_ref);
        }
    }
    let time = match sig.signed_at {
        Some((t, TimeSource::SigningTime)) => {
            format!("{} (signing-time attribute, claimed by the signer)", rfc3339(t))
        }
        Some((t, TimeSource::Timestamp)) => format!("{} (RFC 3161 timestamp)", rfc3339(t)),
        Some((t, TimeSource::PdfM)) => format!("{} (/M of the PDF, claimed)", rfc3339(t)),
        None => "unknown".into(),
    };
    let _ = writeln!(out, "  - Signing time: {time}");
    if let Some(h) = &sig.digest_algorithm {
        let _ = writeln!(
            out,
            "  - Hash algorithm: {h}; signature algorithm: {}",
            sig.signature_algorithm.as_deref().unwrap_or("?")
        );
    }
    if let Some(sf) = &sig.subfilter {
        let _ = writeln!(out, "  - SubFilter: {sf}");
    }
    match sig.covers_whole_file {
        Some(true) => {
            let _ = writeln!(out, "  - Total document signed");
        }
        Some(false) => {
            let _ = writeln!(out, "  - Not total document signed");
        }
        None => {}
    }
    let _ = writeln!(
        out,
        "  - Signature Validation: {} ({})",
        sig.integrity.as_str(),
        sig.integrity_reason
    );
    if let Some(m) = sig.modified_after_signing {
        let _ = writeln!(out, "  - Modified after signing: {}", if m { "yes" } else { "no" });
    }
    if let Some(ts) = &sig.timestamp {
        let _ = writeln!(
            out,
            "  - Signature timestamp: {}",
            match ts {
                Timestamp::Verified(t) =>
                    format!("{} (imprint and token signature verified)", rfc3339(*t)),
                Timestamp::Unusable(e) => format!("not usable: {e}"),
            }
        );
    }
    if let Some(signer) = &sig.signer {
        let c = classify(signer.clone(), &sig.certs, anchors, &rules.catalogue);
        let mut sig = sig.clone();
        if sig.kind == Kind::Signer {
            crate::scan::judge_certificate(&mut sig, &c, anchors);
        }
        if let Some(v) = sig.cert_valid_at_signing {
            let _ = writeln!(
                out,
                "  - Certificate valid at signing time: {}",
                if v { "yes" } else { "no" }
            );
        }
        let _ = writeln!(out, "  - Chain ({}):", c.chain.as_str());
        for (depth, link) in c.path.iter().enumerate() {
            let from = match link.origin {
                Origin::Signature => "embedded",
                Origin::Anchors => "anchors",
            };
            let pinned = rules
                .catalogue
                .by_sha256(&link.cert.sha256)
                .map(|p| format!(" [pinned: {} ({})]", p.ca.name, p.ca.id))
                .unwrap_or_default();
            let _ =
                writeln!(out, "      {}{} ({from}){pinned}", "  ".repeat(depth), link.cert.cn());
        }
        let ca = c.ca.as_ref().map(|(id, name)| format!(", CA {name} ({id})")).unwrap_or_default();
        let root =
            if c.root_cn.is_empty() { String::new() } else { format!(", root {}", c.root_cn) };
        let _ = writeln!(
            out,
            "  - Classification: {} (classified_by={}){ca}{root}",
            c.class.as_str(),
            c.by.as_str()
        );
        for note in sig.rendered_notes().iter().chain(&c.notes) {
            let _ = writeln!(out, "  - Note: {note}");
        }
    } else {
        for note in &sig.rendered_notes() {
            let _ = writeln!(out, "  - Note: {note}");
        }
    }
}
