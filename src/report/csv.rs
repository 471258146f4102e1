//! CSV as docs/report-format.md has it: RFC 4180, UTF-8 with BOM (Excel reads
//! Vietnamese), and no cell a spreadsheet would run as a formula.

use std::borrow::Cow;
use std::path::Path;

use crate::aggregate::{AgencyRow, SignerRow, TrendRow};
use crate::messages::ErrorRow;
use crate::model::finding::Finding;

pub(crate) const SIGNATURES_HEADER: [&str; 25] = Finding::COLUMNS;
pub(crate) const SIGNERS_HEADER: [&str; 11] = [
    "agency_id",
    "agency_name",
    "signer_cn",
    "signer_org",
    "signer_sha256",
    "ca_name",
    "ca_class",
    "signer_not_after",
    "documents",
    "first_signed_at",
    "last_signed_at",
];
pub(crate) const AGENCIES_HEADER: [&str; 14] = [
    "agency_id",
    "agency_name",
    "files_scanned",
    "signed_files",
    "signatures",
    "government",
    "commercial",
    "other",
    "migration_pct",
    "signers",
    "signers_commercial",
    "invalid_signatures",
    "errors",
    "received",
];
pub(crate) const ERRORS_HEADER: [&str; 4] = ["file", "member", "stage", "error"];
pub(crate) const TREND_HEADER: [&str; 6] =
    ["agency_id", "month", "government", "commercial", "other", "migration_pct"];
/// Migration at each past audit (scan run), per agency: from the history.
pub(crate) const AUDITS_HEADER: [&str; 7] =
    ["agency_id", "run", "finished", "government", "commercial", "other", "migration_pct"];
/// A province's report: which host audited each agency, and when.
pub(crate) const HOSTS_HEADER: [&str; 6] =
    ["agency_id", "host", "run", "audited", "stale", "sources"];
/// Signers' changes since the previous audit.
pub(crate) const UNKNOWN_CAS_HEADER: [&str; 7] = [
    "issuer",
    "key_identifier",
    "named_ca",
    "class_by_name",
    "signatures",
    "example_signer",
    "example_file",
];
pub(crate) const CHANGES_HEADER: [&str; 7] = [
    "agency_id",
    "agency_name",
    "signer_cn",
    "change",
    "previous_ca",
    "current_ca",
    "last_signed_at",
];

/// A cell starting with `= + - @`, tab or CR is prefixed with `'` so that
/// Excel and LibreOffice show it as text instead of evaluating it; control
/// characters and bidirectional overrides are shown as escapes (`marked`).
pub(crate) fn safe_cell(value: &str) -> Cow<'_, str> {
    let cell = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    };
    match super::marked::mark(&cell) {
        Cow::Borrowed(_) => cell,
        Cow::Owned(marked) => Cow::Owned(marked),
    }
}

pub(crate) fn pct(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.1}")).unwrap_or_default()
}

pub(crate) fn unknown_ca_record(u: &crate::model::result::UnknownCa) -> [String; 7] {
    [
        u.issuer.clone(),
        u.key_identifier.clone(),
        u.named_ca.clone(),
        u.class_by_name.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        u.signatures.to_string(),
        u.example_signer.clone(),
        u.example_file.clone(),
    ]
}

pub(crate) fn signature_record(f: &Finding) -> [String; 25] {
    f.record()
}

pub(crate) fn signer_record(s: &SignerRow) -> [String; 11] {
    [
        s.agency_id.clone(),
        s.agency_name.clone(),
        s.signer_cn.clone(),
        s.signer_org.clone(),
        s.signer_sha256.clone(),
        s.ca_name.clone(),
        s.ca_class.as_str().into(),
        s.signer_not_after.clone(),
        s.documents.to_string(),
        s.first_signed_at.clone(),
        s.last_signed_at.clone(),
    ]
}

pub(crate) fn agency_record(a: &AgencyRow) -> [String; 14] {
    [
        a.agency_id.clone(),
        a.agency_name.clone(),
        a.files_scanned.to_string(),
        a.signed_files.to_string(),
        a.signatures.to_string(),
        a.government.to_string(),
        a.commercial.to_string(),
        a.other.to_string(),
        pct(a.migration_pct),
        a.signers.to_string(),
        a.signers_commercial.to_string(),
        a.invalid_signatures.to_string(),
        a.errors.to_string(),
        a.received.to_string(),
    ]
}

pub(crate) fn error_record(e: &ErrorRow) -> [String; 4] {
    [e.file.clone(), e.member.clone(), e.stage.as_str().into(), e.error.clone()]
}

pub(crate) fn trend_record(t: &TrendRow) -> [String; 6] {
    [
        t.agency_id.clone(),
        t.month.clone(),
        t.government.to_string(),
        t.commercial.to_string(),
        t.other.to_string(),
        pct(t.migration_pct),
    ]
}

pub(crate) fn audit_record(a: &crate::history::AuditPoint) -> [String; 7] {
    [
        a.agency_id.clone(),
        a.run.to_string(),
        crate::model::rfc3339(a.finished),
        a.government.to_string(),
        a.commercial.to_string(),
        a.other.to_string(),
        // External signers never have a migration figure.
        pct((!crate::rules::is_external_id(&a.agency_id))
            .then(|| {
                crate::aggregate::migration_pct(a.government, a.government + a.commercial + a.other)
            })
            .flatten()),
    ]
}

pub(crate) fn host_record(agency: &str, a: &crate::history::province::HostAudit) -> [String; 6] {
    [
        agency.to_owned(),
        a.host.clone(),
        a.run.to_string(),
        a.audited(),
        a.stale.to_string(),
        a.sources.join(" "),
    ]
}

pub(crate) fn change_record(c: &crate::history::compare::ChangeRow) -> [String; 7] {
    [
        c.agency_id.clone(),
        c.agency_name.clone(),
        c.signer_cn.clone(),
        c.change.as_str().into(),
        c.previous_ca.clone(),
        c.current_ca.clone(),
        c.last_signed_at.clone(),
    ]
}

/// Writes one CSV file: BOM, header, rows with every cell made safe.
pub(crate) fn write<const N: usize>(
    path: &Path,
    header: &[&str; N],
    rows: impl IntoIterator<Item = [String; N]>,
) -> std::io::Result<()> {
    let mut text = b"\xef\xbb\xbf".to_vec();
    let mut w =
        ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(&mut text);
    w.write_record(header)?;
    for row in rows {
        for cell in &row {
            w.write_field(safe_cell(cell).as_bytes())?;
        }
        w.write_record(None::<&[u8]>)?;
    }
    w.flush()?;
    drop(w);
    super::put(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(safe_cell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("-2+3"), "'-2+3");
        assert_eq!(safe_cell("Nguyễn Văn A"), "Nguyễn Văn A");
        assert_eq!(pct(Some(33.333)), "33.3");
        assert_eq!(pct(None), "");
    }
}
