//! HTML pages (askama templates: every value is HTML-escaped unless it is
//! one of our own SVG charts).

use askama::Template;

use crate::aggregate::{AgencyRow, SignerRow, Tables, TrendRow};
use crate::history::HistoryView;
use crate::history::compare::ChangeRow;
use crate::history::province::HostAudit;
use crate::messages::ErrorRow;
use crate::model::finding::Finding;
use crate::model::result::{LearnedCa, UnknownCa};
use crate::rules::{CaClass, Legal};

use super::chart;
use super::csv::pct;
use super::lang::Lang;

/// The pages' escaper: HTML escaping of the marked text (see `marked`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MarkedHtml;

impl askama::filters::Escaper for MarkedHtml {
    fn write_escaped_str<W: std::fmt::Write>(&self, dest: W, string: &str) -> std::fmt::Result {
        askama::filters::Html.write_escaped_str(dest, &super::marked::mark(string))
    }
}

/// The pages' only script: sorting and filtering of tables.
pub(crate) const TABLE_JS: &str = include_str!("../../templates/table.js");

/// The pages load nothing and run only their own script: an injected
/// `<script>` or a link to elsewhere does nothing even if escaping failed.
pub(crate) static CONTENT_SECURITY_POLICY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let hash = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(TABLE_JS.as_bytes()));
        format!(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src \
             'sha256-{hash}'; form-action 'none'; base-uri 'none'"
        )
    });

/// The most rows an agency page shows per table; the CSV files have them all
/// (a page stays well under 1 MB at 10,000 signatures).
pub(crate) const MAX_ROWS: usize = 1000;

#[derive(Clone)]
pub(crate) struct AgencyLink<'a> {
    pub row: &'a AgencyRow,
    pub href: String,
    pub pct_text: String,
    /// Width of the migration bar in percent; none without a figure.
    pub bar_width: Option<String>,
    /// No signature counted for the agency: greyed, listed last.
    pub no_data: bool,
    /// What the migration column sorts by (-1 without a figure).
    pub sort_key: String,
    /// An agency that no longer exists: when it ended, who took over.
    pub ended: Option<&'a str>,
}

/// A signer who must migrate, as the overview lists them.
pub(crate) struct UrgentSigner<'a> {
    pub row: &'a SignerRow,
    pub href: String,
}

/// How many unknown CAs the overview lists; unknown-cas.csv has them all.
pub(crate) const UNKNOWN_CAS_SHOWN: usize = 10;

/// How many signers who must migrate the overview lists; signers.csv has them all.
pub(crate) const URGENT_SIGNERS: usize = 15;

#[derive(Template)]
#[template(path = "index.html", config = "templates/askama.toml")]
pub(crate) struct IndexPage<'a> {
    pub l: Lang,
    pub version: &'a str,
    pub generated: String,
    pub legal: &'a Legal,
    pub totals: &'a AgencyRow,
    pub pct_text: String,
    pub agencies: Vec<AgencyLink<'a>>,
    /// The most urgent signers who must migrate, and how many there are in all.
    pub urgent: Vec<UrgentSigner<'a>>,
    pub urgent_total: usize,
    /// The report's CSV and JSON files, for the downloads list.
    pub downloads: Vec<&'static str>,
    pub month_chart: String,
    /// Some signature has a signing time: the month chart is shown.
    pub has_months: bool,
    /// Each agency with signatures: its months on the province's axis.
    pub small_multiples: Vec<(AgencyLink<'a>, String)>,
    pub audit_chart: String,
    pub by_class: Vec<(&'a str, usize)>,
    pub by_chain: Vec<(&'a str, usize)>,
    pub sources: &'a [String],
    pub doc_timestamps: usize,
    pub usage_rights: usize,
    pub unverified_government: usize,
    /// Signatures that name a Government CA with a key the rules do not
    /// hold, and those keys (never counted as government).
    pub government_unknown_key: usize,
    pub government_unknown_keys: Vec<&'a str>,
    /// The issuing CAs the rules do not know (the first of them), and how many in all.
    pub unknown_cas: Vec<&'a UnknownCa>,
    pub unknown_cas_total: usize,
    /// CA certificates found in scanned files that completed other chains.
    pub learned: &'a [LearnedCa],
    pub learned_pinned: usize,
    /// Changes since the previous audit, and when that audit finished.
    pub changes: Vec<&'a ChangeRow>,
    pub previous: Option<String>,
    /// A province's report: each host's latest audit.
    pub hosts: Vec<&'a HostAudit>,
}

#[derive(Template)]
#[template(path = "agency.html", config = "templates/askama.toml")]
pub(crate) struct AgencyPage<'a> {
    pub l: Lang,
    pub generated: String,
    pub legal: &'a Legal,
    pub row: &'a AgencyRow,
    pub ended: Option<String>,
    pub pct_text: String,
    pub month_chart: String,
    pub has_months: bool,
    pub to_migrate: Vec<&'a SignerRow>,
    pub other_signers: Vec<&'a SignerRow>,
    /// The signatures shown (at most [`MAX_ROWS`]: commercial and invalid first), of how many.
    pub findings: Vec<&'a Finding>,
    pub findings_total: usize,
    /// Found in this agency's places, signed by another agency or from outside.
    pub received: Vec<&'a Finding>,
    pub received_total: usize,
    /// This page is the `external` one: signers outside the map, no migration figure.
    pub external: bool,
    pub errors: Vec<&'a ErrorRow>,
    pub errors_total: usize,
    pub audit_chart: String,
    pub changes: Vec<&'a ChangeRow>,
    pub previous: Option<String>,
    /// A province's report: the host audits this agency's figures come from.
    pub audited: Vec<&'a HostAudit>,
}

/// Path segment for an agency folder, percent-encoded for an href.
pub(crate) fn href_segment(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub(crate) struct IndexInput<'a> {
    pub lang: Lang,
    pub version: &'a str,
    pub generated: String,
    pub legal: &'a Legal,
    pub tables: &'a Tables,
    pub findings: &'a [Finding],
    pub sources: &'a [String],
    pub doc_timestamps: usize,
    pub usage_rights: usize,
    pub unknown_cas: &'a [UnknownCa],
    pub learned: &'a [LearnedCa],
    /// Past audits by month, oldest first, this one last.
    pub audits: Vec<TrendRow>,
    pub history: Option<&'a HistoryView>,
    /// Agencies that ended (2025 reorganisation), by id: when, who took over.
    pub ended: &'a std::collections::HashMap<String, (String, String)>,
}

/// One agency's audits and changes since the previous audit.
pub(crate) struct AgencyHistory<'a> {
    pub audits: Vec<TrendRow>,
    pub changes: Vec<&'a ChangeRow>,
    /// When the previous audit finished, if there was one.
    pub previous: Option<String>,
    /// A province's report: the host audits that covered the agency.
    pub audited: Vec<&'a HostAudit>,
}

pub(crate) fn index(input: IndexInput<'_>) -> Result<String, askama::Error> {
    let t = input.tables;
    let l = input.lang;
    let agencies = ranked(&t.agencies, l, input.ended);
    let urgent = urgent(&t.signers);
    let axis = chart::continuous(&t.trend_total);
    // The same agencies, in the same order, each with its months on the province's axis.
    let small_multiples = agencies
        .iter()
        .filter(|a| a.row.signatures > 0 && !crate::rules::is_external_id(&a.row.agency_id))
        .map(|a| (a.clone(), chart::small(&trend_of(t, &a.row.agency_id), &axis)))
        .collect();
    IndexPage {
        l,
        version: input.version,
        generated: input.generated,
        legal: input.legal,
        totals: &t.totals,
        pct_text: pct_or_dash(t.totals.migration_pct),
        agencies,
        urgent_total: urgent.len(),
        urgent: urgent.into_iter().take(URGENT_SIGNERS).collect(),
        downloads: super::top_files(input.history)
            .into_iter()
            .filter(|f| *f != "index.html")
            .collect(),
        month_chart: chart::months(&t.trend_total, l),
        has_months: !t.trend_total.is_empty(),
        small_multiples,
        audit_chart: chart::audits(&input.audits, l),
        by_class: t.by_class.iter().map(|(k, v)| (*k, *v)).collect(),
        by_chain: t.by_chain.iter().map(|(k, v)| (*k, *v)).collect(),
        sources: input.sources,
        doc_timestamps: input.doc_timestamps,
        usage_rights: input.usage_rights,
        unverified_government: input
            .findings
            .iter()
            .filter(|f| {
                f.ca_class == CaClass::Government
                    && f.classified_by == crate::model::verdict::ClassifiedBy::Dn
            })
            .count(),
        government_unknown_key: input
            .unknown_cas
            .iter()
            .filter(|u| u.names_government())
            .map(|u| u.signatures)
            .sum(),
        government_unknown_keys: input
            .unknown_cas
            .iter()
            .filter(|u| u.names_government())
            .map(|u| u.key_identifier.as_str())
            .collect(),
        unknown_cas: input.unknown_cas.iter().take(UNKNOWN_CAS_SHOWN).collect(),
        unknown_cas_total: input.unknown_cas.len(),
        learned: input.learned,
        learned_pinned: input.learned.iter().filter(|l| l.pinned).count(),
        changes: input.history.map(|h| h.changes.iter().collect()).unwrap_or_default(),
        previous: input
            .history
            .and_then(|h| h.previous.as_ref())
            .map(|p| p.finished.map(crate::model::rfc3339).unwrap_or_default()),
        hosts: input.history.map(|h| h.hosts.iter().collect()).unwrap_or_default(),
    }
    .render()
}

/// What an agency page shows: its own signatures, what it received, its errors.
pub(crate) struct AgencyInput<'a> {
    pub lang: Lang,
    pub generated: String,
    pub legal: &'a Legal,
    pub row: &'a AgencyRow,
    pub tables: &'a Tables,
    pub findings: Vec<&'a Finding>,
    pub received: Vec<&'a Finding>,
    pub errors: Vec<&'a ErrorRow>,
    pub history: AgencyHistory<'a>,
    /// When the agency ended and who took over, if it did.
    pub ended: Option<String>,
}

pub(crate) fn agency(input: AgencyInput<'_>) -> Result<String, askama::Error> {
    let AgencyInput {
        lang: l,
        generated,
        legal,
        row,
        tables,
        findings,
        received,
        errors,
        history,
        ended,
    } = input;
    let trend = trend_of(tables, &row.agency_id);
    let (to_migrate, other_signers) = tables
        .signers
        .iter()
        .filter(|s| s.agency_id == row.agency_id)
        .partition(|s| s.ca_class == CaClass::Commercial);
    AgencyPage {
        l,
        generated,
        legal,
        row,
        ended,
        pct_text: row_pct(row, l),
        month_chart: chart::months(&trend, l),
        has_months: !trend.is_empty(),
        to_migrate,
        other_signers,
        findings_total: findings.len(),
        findings: first_rows(findings),
        received_total: received.len(),
        received: first_rows(received),
        external: crate::rules::is_external_id(&row.agency_id),
        errors_total: errors.len(),
        errors: errors.into_iter().take(MAX_ROWS).collect(),
        audit_chart: chart::audits(&history.audits, l),
        changes: history.changes,
        previous: history.previous,
        audited: history.audited,
    }
    .render()
}

/// The agencies worst first: by migration percentage, then by how many
/// signers must migrate; then those whose audit is incomplete, the
/// external signers, and last the agencies where no signature was found
/// (shown as such, never as 0 %).
fn ranked<'a>(
    rows: &'a [AgencyRow],
    l: Lang,
    ended: &'a std::collections::HashMap<String, (String, String)>,
) -> Vec<AgencyLink<'a>> {
    let group = |r: &AgencyRow| match () {
        _ if r.incomplete => 1,
        _ if crate::rules::is_external_id(&r.agency_id) => 2,
        _ if r.signatures == 0 => 3,
        _ => 0,
    };
    let mut rows: Vec<&AgencyRow> = rows.iter().collect();
    rows.sort_by(|a, b| {
        group(a)
            .cmp(&group(b))
            .then_with(|| a.migration_pct.unwrap_or(0.0).total_cmp(&b.migration_pct.unwrap_or(0.0)))
            .then_with(|| b.signers_commercial.cmp(&a.signers_commercial))
            .then_with(|| a.agency_id.cmp(&b.agency_id))
    });
    rows.into_iter()
        .map(|row| {
            let group = group(row);
            let no_data = group == 3;
            // Only a ranked agency has a figure to draw and to sort by.
            let figure = row.migration_pct.filter(|_| group == 0);
            AgencyLink {
                row,
                href: agency_href(&row.agency_id),
                pct_text: if no_data { l.t("no_signed_documents").into() } else { row_pct(row, l) },
                bar_width: figure.map(|p| format!("{p:.1}")),
                no_data,
                sort_key: format!("{:.1}", figure.unwrap_or(-1.0)),
                ended: ended.get(&row.agency_id).map(|(short, _)| short.as_str()),
            }
        })
        .collect()
}

/// One agency's rows of the signing-month trend.
fn trend_of(t: &Tables, agency_id: &str) -> Vec<TrendRow> {
    t.trend.iter().filter(|r| r.agency_id == agency_id).cloned().collect()
}

fn agency_href(id: &str) -> String {
    format!("agencies/{}/report.html", href_segment(id))
}

/// Signers of the map's agencies still on a commercial CA, most urgent
/// first: the most documents signed, then the most recent signing, then
/// the certificate that expires first (renewal is when to switch).
fn urgent(signers: &[SignerRow]) -> Vec<UrgentSigner<'_>> {
    let mut rows: Vec<&SignerRow> = signers
        .iter()
        .filter(|s| {
            s.ca_class == CaClass::Commercial && !crate::rules::is_external_id(&s.agency_id)
        })
        .collect();
    rows.sort_by(|a, b| {
        b.documents
            .cmp(&a.documents)
            .then_with(|| b.last_signed_at.cmp(&a.last_signed_at))
            .then_with(|| a.signer_not_after.cmp(&b.signer_not_after))
            .then_with(|| a.signer_cn.cmp(&b.signer_cn))
    });
    rows.into_iter().map(|row| UrgentSigner { row, href: agency_href(&row.agency_id) }).collect()
}

/// The signatures a page lists when there are too many: what needs action
/// first (commercial, then not intact), in the scan's order otherwise.
fn first_rows(mut findings: Vec<&Finding>) -> Vec<&Finding> {
    if findings.len() > MAX_ROWS {
        findings.sort_by_key(|f| {
            (
                f.ca_class != CaClass::Commercial,
                f.integrity == crate::model::signature::Integrity::Valid,
            )
        });
        findings.truncate(MAX_ROWS);
    }
    findings
}

/// A path as the pages show it: in composed form (NFC: a name from a Mac or
/// a Windows share may spell "ế" as e + two combining marks, which some
/// monospace fonts draw apart), in pieces ending at each '/' for the page to
/// break lines there. The CSV files keep the path as it is on disk.
pub(crate) fn path_parts(path: &str) -> Vec<String> {
    use unicode_normalization::UnicodeNormalization as _;
    let composed: String = path.nfc().collect();
    composed.split_inclusive('/').map(str::to_owned).collect()
}

/// A date as the pages show it: dd/mm/yyyy in Vietnam's time (the CSV
/// files keep RFC 3339 in UTC, for machines). Text that is not an RFC 3339
/// time is shown as it is.
pub(crate) fn day(rfc3339: &str) -> String {
    local(rfc3339, time::macros::format_description!("[day]/[month]/[year]"))
}

/// A time as the pages show it: dd/mm/yyyy HH:MM in Vietnam's time.
pub(crate) fn moment(rfc3339: &str) -> String {
    local(rfc3339, time::macros::format_description!("[day]/[month]/[year] [hour]:[minute]"))
}

fn local(rfc3339: &str, format: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
    match time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339) {
        Ok(t) => {
            t.to_offset(crate::model::VIETNAM).format(format).unwrap_or_else(|_| rfc3339.to_owned())
        }
        Err(_) => rfc3339.to_owned(),
    }
}

/// An agency's figure as the pages show it: never a number for an
/// incomplete audit.
fn row_pct(row: &AgencyRow, l: Lang) -> String {
    if row.incomplete { l.t("incomplete_audit").into() } else { pct_or_dash(row.migration_pct) }
}

fn pct_or_dash(p: Option<f64>) -> String {
    match p {
        Some(_) => format!("{}%", pct(p)),
        None => "—".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_show_composed_and_break_at_slashes() {
        assert_eq!(
            path_parts("Sở Y te\u{302}\u{301}/2025/QĐ.pdf"),
            ["Sở Y tế/", "2025/", "QĐ.pdf"]
        );
    }

    #[test]
    fn dates_show_in_vietnam_time_day_first() {
        assert_eq!(day("2025-12-31T17:30:00Z"), "01/01/2026", "00:30 on New Year's Day in Hà Nội");
        assert_eq!(moment("2026-11-25T14:28:33Z"), "25/11/2026 21:28");
        assert_eq!(day(""), "");
        assert_eq!(day("not a time"), "not a time");
    }
}
