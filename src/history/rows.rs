//! What both stores write and read the same way: a finding's canonical
//! text and digest, its typed columns, a run's row, and times as text. The
//! backends differ only in how a row is fetched ([`Columns`]).

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{HistoryError, Result, RunInfo};
use crate::model::finding::Finding;
use crate::model::signature::{Format, Integrity};
use crate::model::verdict::{Attribution, CaClass, ChainStatus, ClassifiedBy};

/// Identifies a finding by every column (length-prefixed, so that no two
/// different rows share a digest by moving text between columns).
pub(crate) fn digest_of(record: &[String]) -> Vec<u8> {
    let mut h = Sha256::new();
    for v in record {
        h.update((v.len() as u64).to_le_bytes());
        h.update(v.as_bytes());
    }
    h.finalize().to_vec()
}

/// The text a finding's digest is computed over: its report columns
/// ([`Finding::record`]: schema 2's 23, then schema 4's attributed_by and
/// found_in). A change there changes every digest: the next run then stores
/// each finding once more, so change it only with a schema step.
pub(crate) fn canonical(f: &Finding) -> [String; 25] {
    f.record()
}

/// The `signatures` view: a run's findings in the text shape schema 1's
/// table had, for anyone's own queries; the same SQL in SQLite and PostgreSQL.
pub(crate) const SIGNATURES_VIEW: &str = "CREATE VIEW signatures AS SELECT r.run_id, f.agency_id, \
                                          f.agency_name, f.file, f.member, f.format,
        COALESCE(f.signed_at, '') AS signed_at, f.signer_cn, f.signer_org, f.signer_serial, \
                                          f.signer_sha256,
        f.signer_not_before, f.signer_not_after, f.issuer_cn, f.root_cn, f.ca_id, f.ca_name, \
                                          f.ca_class,
        f.classified_by, f.chain, f.integrity,
        CASE f.modified_after_signing WHEN true THEN 'true' WHEN false THEN 'false' ELSE '' END AS \
                                          modified_after_signing,
        CASE f.cert_valid_at_signing WHEN true THEN 'true' WHEN false THEN 'false' ELSE '' END AS \
                                          cert_valid_at_signing,
        f.notes, f.attributed_by, f.found_in
    FROM run_findings r JOIN findings f ON f.id = r.finding_id";

/// The typed columns of `findings` (schema 3 on), in [`Finding`]'s order:
/// `signed_at` and the two flags may be NULL.
pub(crate) const FINDING_COLUMNS: [&str; 25] = Finding::COLUMNS;

/// `FINDING_COLUMNS` joined, each behind `prefix` (e.g. `f.`).
pub(crate) fn finding_columns(prefix: &str) -> String {
    FINDING_COLUMNS.map(|c| format!("{prefix}{c}")).join(", ")
}

/// One fetched row, whatever the backend.
pub(crate) trait Columns {
    fn text(&self, i: usize) -> Result<String>;
    fn maybe_text(&self, i: usize) -> Result<Option<String>>;
    fn maybe_flag(&self, i: usize) -> Result<Option<bool>>;
    fn number(&self, i: usize) -> Result<i64>;
}

/// A finding from the row `SELECT {finding_columns} ...` fetched, its
/// columns starting at `at`.
pub(crate) fn finding(r: &dyn Columns, at: usize) -> Result<Finding> {
    let t = |i: usize| r.text(at + i);
    Ok(Finding {
        agency_id: t(0)?,
        agency_name: t(1)?,
        file: t(2)?,
        member: t(3)?,
        format: parse(
            "format",
            &t(4)?,
            &Format::ALL.iter().map(|&f| (f, f.as_str())).collect::<Vec<_>>(),
        )?,
        signed_at: r.maybe_text(at + 5)?,
        signer_cn: t(6)?,
        signer_org: t(7)?,
        signer_serial: t(8)?,
        signer_sha256: t(9)?,
        signer_not_before: t(10)?,
        signer_not_after: t(11)?,
        issuer_cn: t(12)?,
        root_cn: t(13)?,
        ca_id: t(14)?,
        ca_name: t(15)?,
        ca_class: parse_class(&t(16)?)?,
        classified_by: parse(
            "classified_by",
            &t(17)?,
            &[ClassifiedBy::Chain, ClassifiedBy::Dn, ClassifiedBy::None].map(|c| (c, c.as_str())),
        )?,
        chain: parse("chain", &t(18)?, &ChainStatus::ALL.map(|c| (c, c.as_str())))?,
        integrity: parse(
            "integrity",
            &t(19)?,
            &[Integrity::Valid, Integrity::Invalid, Integrity::Unknown].map(|i| (i, i.as_str())),
        )?,
        modified_after_signing: r.maybe_flag(at + 20)?,
        cert_valid_at_signing: r.maybe_flag(at + 21)?,
        notes: t(22)?,
        attributed_by: parse("attributed_by", &t(23)?, &Attribution::ALL.map(|a| (a, a.as_str())))?,
        found_in: t(24)?,
    })
}

pub(crate) fn parse_class(value: &str) -> Result<CaClass> {
    parse("ca_class", value, &CaClass::ALL.map(|c| (c, c.as_str())))
}

/// A value of an enumerated column, by its name as the reports write it.
fn parse<T: Copy>(column: &str, value: &str, names: &[(T, &str)]) -> Result<T> {
    names
        .iter()
        .find(|(_, n)| *n == value)
        .map(|(v, _)| *v)
        .ok_or_else(|| HistoryError::Damaged(format!("{column} {value:?}")))
}

/// The columns of `runs` that [`run_info`] reads, in its order.
pub(crate) const RUN_COLUMNS: &str = "id, started, finished, sources, rules_digest, tool_version, \
                                      files, signatures, files_read, files_removed, label, host";

pub(crate) fn run_info(r: &dyn Columns) -> Result<RunInfo> {
    Ok(RunInfo {
        id: r.number(0)?,
        started: parse_time(&r.text(1)?)?,
        finished: r.maybe_text(2)?.as_deref().map(parse_time).transpose()?,
        sources: serde_json::from_str(&r.text(3)?).unwrap_or_default(),
        rules_digest: r.text(4)?,
        files: r.number(6)? as u64,
        signatures: r.number(7)? as u64,
        files_read: r.number(8)? as u64,
        files_removed: r.number(9)? as u64,
        label: r.text(10)?,
        host: r.text(11)?,
    })
}

pub(crate) fn time_text(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub(crate) fn parse_time(s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| HistoryError::Damaged(format!("time {s:?}: {e}")))
}
