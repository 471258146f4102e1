//! Writing the report folder: CSV tables, summary.json and HTML pages.
//! Everything is written into a fresh temporary folder beside `--out` and
//! then renamed into place, so a reader never sees half a report.

pub mod chart;
pub mod csv;
pub mod html;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::json;

use crate::aggregate::{self, Tables};
use crate::finding::rfc3339;
use crate::history::session::HistoryView;
use crate::rules::Rules;
use crate::scan::ScanResult;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub struct ReportInput<'a> {
    pub scan: &'a ScanResult,
    pub rules: &'a Rules,
    pub anchors: usize,
    /// Past audits and changes since the previous one, when there is a history.
    pub history: Option<&'a HistoryView>,
}

/// Builds every report file and moves the folder into place at `out`.
pub fn write(out: &Path, input: &ReportInput<'_>) -> anyhow::Result<Tables> {
    let tables = aggregate::tables(input.scan, input.rules);
    let staging = staging_dir(out)?;
    let result = write_into(&staging, input, &tables).and_then(|()| swap_into_place(&staging, out));
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result?;
    Ok(tables)
}

fn staging_dir(out: &Path) -> anyhow::Result<PathBuf> {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
    Ok(staging)
}

/// Replaces `out` by `staging`; the old report is removed only after the
/// new one is in place.
fn swap_into_place(staging: &Path, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        let old = staging.with_extension("old");
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(out, &old).with_context(|| format!("cannot move the previous report {} aside", out.display()))?;
        std::fs::rename(staging, out).with_context(|| format!("cannot move the new report into {}", out.display()))?;
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(staging, out).with_context(|| format!("cannot move the new report into {}", out.display()))?;
    }
    Ok(())
}

fn write_into(dir: &Path, input: &ReportInput<'_>, t: &Tables) -> anyhow::Result<()> {
    let scan = input.scan;
    let findings = &scan.findings;
    let errors: Vec<_> = scan.errors.iter().map(|(e, _)| e).collect();
    csv::write(&dir.join("signatures.csv"), &csv::SIGNATURES_HEADER, findings.iter().map(csv::signature_record))?;
    csv::write(&dir.join("signers.csv"), &csv::SIGNERS_HEADER, t.signers.iter().map(csv::signer_record))?;
    csv::write(&dir.join("agencies.csv"), &csv::AGENCIES_HEADER, t.agencies.iter().map(csv::agency_record))?;
    csv::write(&dir.join("errors.csv"), &csv::ERRORS_HEADER, errors.iter().map(|e| csv::error_record(e)))?;
    csv::write(&dir.join("trend.csv"), &csv::TREND_HEADER, t.trend.iter().map(csv::trend_record))?;
    std::fs::write(dir.join("summary.json"), serde_json::to_string_pretty(&summary(input, t))?)?;
    if let Some(h) = input.history {
        csv::write(&dir.join("audits.csv"), &csv::AUDITS_HEADER, h.audits.iter().map(csv::audit_record))?;
        csv::write(&dir.join("changes.csv"), &csv::CHANGES_HEADER, h.changes.iter().map(csv::change_record))?;
    }
    let generated = rfc3339(scan.finished);
    let index = html::index(html::IndexInput {
        version: VERSION,
        generated: generated.clone(),
        legal: &input.rules.legal,
        tables: t,
        findings,
        sources: &scan.sources,
        doc_timestamps: scan.doc_timestamps,
        audits: audit_series(input, t, None),
        history: input.history,
    })?;
    std::fs::write(dir.join("index.html"), index)?;
    for row in &t.agencies {
        let adir = dir.join("agencies").join(&row.agency_id);
        std::fs::create_dir_all(&adir)?;
        let mine: Vec<_> = findings.iter().filter(|f| f.agency_id == row.agency_id).collect();
        csv::write(&adir.join("signatures.csv"), &csv::SIGNATURES_HEADER, mine.iter().map(|f| csv::signature_record(f)))?;
        csv::write(&adir.join("signers.csv"), &csv::SIGNERS_HEADER, t.signers.iter().filter(|s| s.agency_id == row.agency_id).map(csv::signer_record))?;
        let errs = scan.errors.iter().filter(|(_, a)| a.id == row.agency_id).map(|(e, _)| e).collect();
        let history = html::AgencyHistory {
            audits: audit_series(input, t, Some(&row.agency_id)),
            changes: input.history.map(|h| h.changes.iter().filter(|c| c.agency_id == row.agency_id).collect()).unwrap_or_default(),
            previous: input.history.and_then(|h| h.previous.as_ref()).map(|p| p.finished.map(rfc3339).unwrap_or_default()),
        };
        std::fs::write(adir.join("report.html"), html::agency(generated.clone(), &input.rules.legal, row, t, mine, errs, history)?)?;
    }
    Ok(())
}

/// Migration at each audit, oldest first: the history's runs, or only
/// this scan without a history. One agency's, or the province's.
fn audit_series(input: &ReportInput<'_>, t: &Tables, agency: Option<&str>) -> Vec<(String, Option<f64>)> {
    let Some(h) = input.history else {
        let pct = match agency {
            Some(id) => t.agencies.iter().find(|a| a.agency_id == id).and_then(|a| a.migration_pct),
            None => t.totals.migration_pct,
        };
        return vec![(rfc3339(input.scan.finished).get(..10).unwrap_or_default().to_owned(), pct)];
    };
    h.runs
        .iter()
        .map(|run| {
            let (mut gov, mut all) = (0, 0);
            for a in h.audits.iter().filter(|a| a.run == run.id && agency.is_none_or(|id| a.agency_id == id)) {
                gov += a.government;
                all += a.government + a.commercial + a.other;
            }
            let date = run.finished.map(rfc3339).unwrap_or_default();
            (format!("{} #{}", date.get(..10).unwrap_or_default(), run.id), aggregate::migration_pct(gov, all))
        })
        .collect()
}

fn summary(input: &ReportInput<'_>, t: &Tables) -> serde_json::Value {
    let scan = input.scan;
    json!({
        "tool": "sigaudit",
        "version": VERSION,
        "started": rfc3339(scan.started),
        "finished": rfc3339(scan.finished),
        "duration_seconds": (scan.finished - scan.started).as_seconds_f64(),
        "sources": scan.sources,
        "rules": { "digest": input.rules.digest, "files": input.rules.origin },
        "legal_basis": input.rules.legal.basis,
        "anchors": input.anchors,
        "totals": t.totals,
        "by_class": t.by_class,
        "by_chain": t.by_chain,
        "doc_timestamps": scan.doc_timestamps,
        "agencies": t.agencies,
    })
}
