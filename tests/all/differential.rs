//! Differential tests of the hand-written parsers against independent
//! references: the BER/CMS reader against `openssl cms -cmsout -print` on
//! every CMS structure of samples/ and ../shared/corpus/ (files and the
//! signatures inside PDFs).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use sigaudit::{SignedData, SignerId};
use sigaudit::{Tlv, hex, oid_string};

/// What both sides must agree on about one SignedData.
#[derive(Debug, PartialEq, Eq)]
struct Facts {
    econtent_type: String,
    /// Serial numbers of the certificates, lower-case hex without leading zeros.
    certificates: Vec<String>,
    signers: Vec<SignerFacts>,
}

#[derive(Debug, PartialEq, Eq)]
struct SignerFacts {
    /// `serial <hex>` or `ski <hex>`.
    sid: String,
    digest_algorithm: String,
    signature_algorithm: String,
    signed_attrs: Vec<String>,
    unsigned_attrs: Vec<String>,
}

fn trim_hex(h: &str) -> String {
    let t = h.to_ascii_lowercase().trim_start_matches('0').to_owned();
    if t.is_empty() { "0".into() } else { t }
}

/// An INTEGER as openssl prints it (decimal, or `0x` hex when large), as
/// the hex of its two's complement octets (how the certificate holds it).
fn openssl_integer(text: &str) -> String {
    let t = text.trim();
    if let Some(h) = t.strip_prefix("0x") {
        return trim_hex(h);
    }
    match t.parse::<i128>() {
        Ok(n) if n >= 0 => format!("{n:x}"),
        Ok(n) => {
            let octets = (1..=15u32).find(|l| n >= -(1i128 << (8 * l - 1))).unwrap_or(16);
            format!("{:x}", n + (1i128 << (8 * octets)))
        }
        Err(_) => t.to_owned(),
    }
}

fn oid_in_parens(line: &str) -> String {
    line.rsplit_once('(').and_then(|(_, r)| r.strip_suffix(')')).unwrap_or(line).trim().to_owned()
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The facts from openssl's dump (`-cmsout -print`), by its indentation.
fn facts_from_openssl(dump: &str) -> Facts {
    // Nested DER that openssl prints with asn1parse (`  6:d=3  hl=2 ...`)
    // breaks the indentation: those lines are not fields of the dump.
    let asn1parse = |l: &&str| {
        l.trim_start()
            .split_once(":d=")
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let lines: Vec<&str> = dump.lines().filter(|l| !asn1parse(l)).collect();
    let find =
        |key: &str, ind: usize| lines.iter().position(|l| indent(l) == ind && l.trim() == key);
    let section_end = |start: usize, ind: usize| {
        (start + 1..lines.len())
            .find(|&i| indent(lines[i]) <= ind && !lines[i].trim().is_empty())
            .unwrap_or(lines.len())
    };
    let econtent_type = lines
        .iter()
        .find(|l| l.trim().starts_with("eContentType:"))
        .map(|l| oid_in_parens(l))
        .unwrap_or_default();
    let mut certificates = Vec::new();
    if let Some(start) = find("certificates:", 4) {
        for l in &lines[start + 1..section_end(start, 4)] {
            if indent(l) == 10 && l.trim().starts_with("serialNumber:") {
                certificates.push(openssl_integer(l.trim().trim_start_matches("serialNumber:")));
            }
        }
    }
    let mut signers = Vec::new();
    if let Some(start) = find("signerInfos:", 4) {
        let body = &lines[start + 1..section_end(start, 4)];
        let starts: Vec<usize> = body
            .iter()
            .enumerate()
            .filter(|(_, l)| indent(l) == 8 && l.trim().starts_with("version:"))
            .map(|(i, _)| i)
            .collect();
        for (k, &s) in starts.iter().enumerate() {
            let signer = &body[s..starts.get(k + 1).copied().unwrap_or(body.len())];
            let mut facts = SignerFacts {
                sid: String::new(),
                digest_algorithm: String::new(),
                signature_algorithm: String::new(),
                signed_attrs: Vec::new(),
                unsigned_attrs: Vec::new(),
            };
            let mut section = "";
            let mut attr_indent = None;
            let mut ski = String::new();
            for l in signer {
                let t = l.trim();
                if indent(l) == 8 {
                    section = t.split(':').next().unwrap_or("");
                    attr_indent = None;
                    if section == "d.subjectKeyIdentifier" {
                        facts.sid = "ski ".into();
                    }
                    continue;
                }
                match section {
                    "d.issuerAndSerialNumber" if t.starts_with("serialNumber:") => {
                        facts.sid = format!(
                            "serial {}",
                            openssl_integer(t.trim_start_matches("serialNumber:"))
                        )
                    }
                    "d.subjectKeyIdentifier" => {
                        // `0000 - aa 42 90 6a 67 46 a6 cd-2c 19 ...   .B.jgF..,`
                        if let Some((_, bytes)) = l.split_once(" - ") {
                            let hex_part =
                                bytes.split("   ").next().unwrap_or("").replace('-', " ");
                            ski.extend(hex_part.split_whitespace().flat_map(|w| w.chars()));
                            facts.sid = format!("ski {}", ski.to_ascii_lowercase());
                        }
                    }
                    "digestAlgorithm"
                        if t.starts_with("algorithm:") && facts.digest_algorithm.is_empty() =>
                    {
                        facts.digest_algorithm = oid_in_parens(t)
                    }
                    "signatureAlgorithm"
                        if t.starts_with("algorithm:") && facts.signature_algorithm.is_empty() =>
                    {
                        facts.signature_algorithm = oid_in_parens(t)
                    }
                    "signedAttrs" | "unsignedAttrs" if t.starts_with("object:") => {
                        let at = *attr_indent.get_or_insert(indent(l));
                        if indent(l) == at {
                            let list = if section == "signedAttrs" {
                                &mut facts.signed_attrs
                            } else {
                                &mut facts.unsigned_attrs
                            };
                            list.push(oid_in_parens(t));
                        }
                    }
                    _ => {}
                }
            }
            signers.push(facts);
        }
    }
    Facts { econtent_type, certificates, signers }
}

fn attr_oids(attrs: &Option<Tlv<'_>>) -> Vec<String> {
    let Some(set) = attrs else { return Vec::new() };
    set.children()
        .filter_map(Result::ok)
        .filter_map(|a| a.children().next().and_then(Result::ok))
        .map(|oid| oid_string(oid.body))
        .collect()
}

/// The same facts from sigaudit's own reader.
fn facts_from_sigaudit(sd: &SignedData<'_>) -> Facts {
    let certificates = sd
        .certificates
        .iter()
        .map(|c| {
            sigaudit::Cert::from_der(c)
                .map(|c| trim_hex(&hex(&c.serial)))
                .unwrap_or_else(|e| format!("unreadable: {e}"))
        })
        .collect();
    let signers = sd
        .signer_infos
        .iter()
        .map(|si| SignerFacts {
            sid: match &si.sid {
                SignerId::IssuerSerial { serial, .. } => {
                    format!("serial {}", trim_hex(&hex(serial)))
                }
                SignerId::KeyId(id) => format!("ski {}", hex(id)),
            },
            digest_algorithm: si.digest_algorithm.clone(),
            signature_algorithm: si.signature_algorithm.clone(),
            signed_attrs: attr_oids(&si.signed_attrs),
            unsigned_attrs: attr_oids(&si.unsigned_attrs),
        })
        .collect();
    Facts { econtent_type: sd.econtent_type.clone(), certificates, signers }
}

/// Every CMS structure to compare: .p7s/.p7m/.sig/.csig files (DER or
/// base64/PEM), and each signature value inside PDFs.
fn cms_structures(corpus: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for dir in [root().join("samples/share"), corpus.join("cms"), corpus.join("pdf")] {
        collect(&dir, &mut files);
    }
    let mut out = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let bytes = std::fs::read(&f).unwrap();
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".pdf") {
            for (i, d) in sigaudit::scan_pdf_bytes(&bytes).dicts.into_iter().enumerate() {
                out.push((format!("{name} #{i}"), d.contents));
            }
        } else if [".p7s", ".p7m", ".sig", ".csig"].iter().any(|e| lower.ends_with(e)) {
            let der = if bytes.first() == Some(&0x30) {
                bytes
            } else {
                sigaudit::pem_blocks(&bytes)
                    .into_iter()
                    .flatten()
                    .next()
                    .map(|(_, d)| d)
                    .unwrap_or(bytes)
            };
            out.push((name, der));
        }
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn the_cms_reader_agrees_with_openssl_on_every_structure() {
    // Its counts are the corpus's: without it the thresholds would not hold.
    let Some(corpus) = shared_or_skip(
        "differential::the_cms_reader_agrees_with_openssl_on_every_structure",
        "corpus",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (mut compared, mut both_refuse, mut ours_only) = (0, 0, Vec::new());
    let mut disagreements = Vec::new();
    for (name, blob) in cms_structures(&corpus) {
        // Trailing zero padding (PDF /Contents) is not part of the structure.
        let used = Tlv::parse(&blob).map(|t| t.raw.len()).unwrap_or(blob.len());
        let path = dir.path().join("blob.der");
        std::fs::write(&path, &blob[..used]).unwrap();
        let out = Command::new("openssl")
            .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
            .arg(&path)
            .output()
            .expect("openssl runs");
        let ours = SignedData::parse(&blob);
        match (out.status.success(), ours) {
            (true, Ok(sd)) => {
                compared += 1;
                let (theirs, mine) =
                    (facts_from_openssl(&text(&out.stdout)), facts_from_sigaudit(&sd));
                if theirs != mine {
                    disagreements
                        .push(format!("{name}:\n  openssl:  {theirs:?}\n  sigaudit: {mine:?}"));
                }
            }
            (true, Err(e)) => {
                disagreements.push(format!("{name}: openssl reads it, sigaudit does not: {e}"))
            }
            (false, Ok(_)) => ours_only.push(name),
            (false, Err(_)) => both_refuse += 1,
        }
    }
    println!(
        "CMS structures: {compared} compared with openssl, {both_refuse} refused by both, {} read \
         by sigaudit only: {ours_only:?}",
        ours_only.len()
    );
    assert!(compared >= 40, "most structures are compared: {compared}");
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s):\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
