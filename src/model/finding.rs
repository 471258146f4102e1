//! A finding: one signer signature, classified and attributed, holding
//! exactly what a row of signatures.csv says.

use super::signature::{Format, Integrity};
use super::verdict::{Attribution, CaClass, ChainStatus, ClassifiedBy};

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
    pub classified_by: ClassifiedBy,
    pub chain: ChainStatus,
    pub integrity: Integrity,
    pub modified_after_signing: Option<bool>,
    pub cert_valid_at_signing: Option<bool>,
    pub notes: String,
    /// Why `agency_id` is this agency.
    pub attributed_by: Attribution,
    /// The agency of the place where it was found, whoever signed.
    pub found_in: String,
}

impl Finding {
    /// The names of [`Finding::record`]'s columns: `signatures.csv`'s header
    /// (docs/report-format.md) and the history's `findings` columns.
    pub const COLUMNS: [&str; 25] = [
        "agency_id",
        "agency_name",
        "file",
        "member",
        "format",
        "signed_at",
        "signer_cn",
        "signer_org",
        "signer_serial",
        "signer_sha256",
        "signer_not_before",
        "signer_not_after",
        "issuer_cn",
        "root_cn",
        "ca_id",
        "ca_name",
        "ca_class",
        "classified_by",
        "chain",
        "integrity",
        "modified_after_signing",
        "cert_valid_at_signing",
        "notes",
        "attributed_by",
        "found_in",
    ];

    /// Its 25 columns as text, in docs/report-format.md's `signatures.csv` order (no
    /// signing time and not applicable are empty). The history's digest of
    /// a finding is taken over these too (`history::rows::canonical`).
    pub fn record(&self) -> [String; 25] {
        let flag = |b: Option<bool>| match b {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        };
        [
            self.agency_id.clone(),
            self.agency_name.clone(),
            self.file.clone(),
            self.member.clone(),
            self.format.as_str().into(),
            self.signed_at.clone().unwrap_or_default(),
            self.signer_cn.clone(),
            self.signer_org.clone(),
            self.signer_serial.clone(),
            self.signer_sha256.clone(),
            self.signer_not_before.clone(),
            self.signer_not_after.clone(),
            self.issuer_cn.clone(),
            self.root_cn.clone(),
            self.ca_id.clone(),
            self.ca_name.clone(),
            self.ca_class.as_str().into(),
            self.classified_by.as_str().into(),
            self.chain.as_str().into(),
            self.integrity.as_str().into(),
            flag(self.modified_after_signing).into(),
            flag(self.cert_valid_at_signing).into(),
            self.notes.clone(),
            self.attributed_by.as_str().into(),
            self.found_in.clone(),
        ]
    }

    /// `YYYY-MM` of the signing time, for trends.
    pub fn month(&self) -> Option<&str> {
        self.signed_at.as_deref().and_then(|s| s.get(..7))
    }
}

/// An agency as a finding names it (the agency map's id and name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyRef {
    pub id: String,
    pub name: String,
}

/// Whose signature it is, and where it was found (docs/report-format.md, Attribution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributed {
    /// The signer's agency, `external` or `unassigned`.
    pub agency: AgencyRef,
    pub by: Attribution,
    /// The agency id of the place where it was found, or `unassigned`.
    pub found_in: String,
}
