//! A finding: one signer signature, classified and attributed, holding
//! exactly what a row of signatures.csv says.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::agency::AgencyRef;
use crate::classify::{ChainStatus, Classification, ClassifiedBy};
use crate::rules::CaClass;
use crate::signature::{Format, Integrity, Signature};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub agency_id: String,
    pub agency_name: String,
    pub file: String,
    pub member: String,
    pub format: Format,
    pub signed_at: Option<String>,
    pub signer_cn: String,
    pub signer_org: String,
    pub signer_serial: String,
    pub signer_sha256: String,
    pub signer_not_before: String,
    pub signer_not_after: String,
    pub issuer_cn: String,
    pub root_cn: String,
    pub ca_id: String,
    pub ca_name: String,
    pub ca_class: CaClass,
    pub classified_by: &'static str,
    pub chain: &'static str,
    pub integrity: Integrity,
    pub modified_after_signing: Option<bool>,
    pub cert_valid_at_signing: Option<bool>,
    pub notes: String,
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(t).format(&Rfc3339).unwrap_or_default()
}

impl Finding {
    /// `sig` must have a signer certificate (the caller checked).
    pub fn new(file: &str, sig: &Signature, class: &Classification, agency: &AgencyRef) -> Finding {
        let signer = sig.signer.as_ref().expect("findings are made for signatures with a signer certificate");
        let mut notes: Vec<&str> = sig.notes.iter().map(String::as_str).collect();
        notes.extend(class.notes.iter().map(String::as_str));
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
            classified_by: class.by.as_str(),
            chain: class.chain.as_str(),
            integrity: sig.integrity,
            modified_after_signing: sig.modified_after_signing,
            cert_valid_at_signing: sig.cert_valid_at_signing,
            notes: notes.join("; "),
        }
    }

    /// `YYYY-MM` of the signing time, for trends.
    pub fn month(&self) -> Option<&str> {
        self.signed_at.as_deref().and_then(|s| s.get(..7))
    }
}

/// A value of an enumerated column, by its name as the reports write it.
fn parse<T: Copy>(column: &str, value: &str, names: &[(T, &str)]) -> Result<T, String> {
    names.iter().find(|(_, n)| *n == value).map(|(v, _)| *v).ok_or_else(|| format!("{column} {value:?}"))
}

fn parse_bool(column: &str, value: &str) -> Result<Option<bool>, String> {
    match value {
        "" => Ok(None),
        "true" => Ok(Some(true)),
        "false" => Ok(Some(false)),
        _ => Err(format!("{column} {value:?}")),
    }
}

impl Finding {
    /// The inverse of a signatures.csv row ([`crate::report::csv::signature_record`]),
    /// for findings kept in the scan history.
    pub fn from_record(r: &[String; 23]) -> Result<Finding, String> {
        let s = |i: usize| r[i].clone();
        Ok(Finding {
            agency_id: s(0),
            agency_name: s(1),
            file: s(2),
            member: s(3),
            format: parse("format", &r[4], &[Format::Pdf, Format::Cms, Format::Smime, Format::Xml, Format::Ooxml, Format::Odf].map(|f| (f, f.as_str())))?,
            signed_at: (!r[5].is_empty()).then(|| s(5)),
            signer_cn: s(6),
            signer_org: s(7),
            signer_serial: s(8),
            signer_sha256: s(9),
            signer_not_before: s(10),
            signer_not_after: s(11),
            issuer_cn: s(12),
            root_cn: s(13),
            ca_id: s(14),
            ca_name: s(15),
            ca_class: parse("ca_class", &r[16], &CaClass::ALL.map(|c| (c, c.as_str())))?,
            classified_by: parse("classified_by", &r[17], &[ClassifiedBy::Chain, ClassifiedBy::Dn].map(|c| (c, c.as_str())))?.as_str(),
            chain: parse("chain", &r[18], &[ChainStatus::Verified, ChainStatus::Incomplete, ChainStatus::DnOnly, ChainStatus::Broken].map(|c| (c, c.as_str())))?.as_str(),
            integrity: parse("integrity", &r[19], &[Integrity::Valid, Integrity::Invalid, Integrity::Unknown].map(|i| (i, i.as_str())))?,
            modified_after_signing: parse_bool("modified_after_signing", &r[20])?,
            cert_valid_at_signing: parse_bool("cert_valid_at_signing", &r[21])?,
            notes: s(22),
        })
    }
}
