//! Writing the report folder: CSV tables, summary.json and HTML pages.
//! Everything is written into a staging folder beside `--out` and then
//! swapped into place, so a reader never sees half a report; `folder`
//! makes sure only sigaudit's own folders are ever moved or emptied.
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files               what they hold
//! 0      folder lang marked  the report folder's rules; the pages' words; control characters made
//!                            visible
//! 1      chart csv           SVG charts; CSV tables
//! 2      html                the HTML pages
//! ```

pub(crate) mod chart;
pub(crate) mod csv;
pub(crate) mod folder;
pub(crate) mod html;
pub(crate) mod lang;
pub(crate) mod marked;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rayon::prelude::*;
use serde_json::json;

use crate::aggregate::{self, AgencyRow, Tables};
use crate::history::HistoryView;
use crate::model::result::ScanResult;
use crate::model::rfc3339;
use crate::rules::Rules;

pub(crate) struct ReportInput<'a> {
    pub scan: &'a ScanResult,
    pub rules: &'a Rules,
    pub anchors: usize,
    /// Past audits and changes since the previous one, when there is a history.
    pub history: Option<&'a HistoryView>,
    /// The language of the HTML pages.
    pub lang: lang::Lang,
}

/// Builds every report file and moves the folder into place at `out`.
/// `out` must pass [`folder::check`] (the command line checks it against
/// the sources before scanning; checked here again before anything moves).
pub(crate) fn write(out: &Path, input: &ReportInput<'_>) -> anyhow::Result<Tables> {
    folder::check(out, &[])?;
    let tables = aggregate::tables(input.scan, input.rules);
    let staging = staging_dir(out)?;
    let result = write_into(&staging, input, &tables).and_then(|()| swap_into_place(&staging, out));
    if result.is_err() {
        folder::remove_own(&staging);
    }
    result?;
    Ok(tables)
}

/// The previous report, kept beside `out` (hidden) to be reused as the
/// next run's staging folder: rewriting files in place is much cheaper
/// than creating new ones right after deleting old ones (ext4 searches for
/// a fresh inode then), and a monthly rescan writes the same files again.
fn previous_dir(out: &Path) -> PathBuf {
    sibling(out, "previous")
}

fn sibling(out: &Path, what: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    out.with_file_name(format!(".{name}.{what}"))
}

/// A marked folder beside `out` to build the report in: the previous
/// report when sigaudit made it, else a new one. A folder of that name
/// that sigaudit did not make is never touched.
fn staging_dir(out: &Path) -> anyhow::Result<PathBuf> {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = sibling(out, &format!("tmp-{}", std::process::id()));
    if std::fs::symlink_metadata(&staging).is_ok() {
        // Left by a run that died with this process id (an earlier boot).
        folder::remove_own(&staging);
        if std::fs::symlink_metadata(&staging).is_ok() {
            return Err(folder::Refused::Staging(staging.display().to_string()).into());
        }
    }
    let previous = previous_dir(out);
    if !(folder::is_ours(&previous) && std::fs::rename(&previous, &staging).is_ok()) {
        std::fs::create_dir(&staging)
            .with_context(|| format!("cannot create {}", staging.display()))?;
        folder::mark(&staging)?;
    }
    Ok(staging)
}

/// Puts `staging` at `out` in one step (renameat2 RENAME_EXCHANGE: a
/// reader sees the old report or the new one, never none), and keeps the
/// old one for the next run.
fn swap_into_place(staging: &Path, out: &Path) -> anyhow::Result<()> {
    let moved = || format!("cannot move the new report into {}", out.display());
    // Re-checked right before moving: nothing that is not sigaudit's moves.
    folder::check(out, &[])?;
    if !folder::is_ours(out) {
        // Absent, or an empty folder: rename replaces an empty folder.
        return std::fs::rename(staging, out).with_context(moved);
    }
    let previous = previous_dir(out);
    folder::remove_own(&previous);
    if exchange(staging, out).is_ok() {
        if std::fs::rename(staging, &previous).is_err() {
            folder::remove_own(staging);
        }
        return Ok(());
    }
    // A file system without RENAME_EXCHANGE: two renames.
    if std::fs::symlink_metadata(&previous).is_ok() {
        anyhow::bail!(folder::Refused::Staging(previous.display().to_string()));
    }
    std::fs::rename(out, &previous)
        .with_context(|| format!("cannot move the previous report {} aside", out.display()))?;
    std::fs::rename(staging, out).with_context(moved)
}

fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    crate::sys::exchange(a, b)
}

/// Writes `bytes` as the whole of `path`. The staging folder is usually
/// the previous report: overwriting each file in place and cutting it to
/// length spares the file system freeing and reallocating its blocks.
/// A symbolic link planted there is replaced, never followed.
fn put(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let open = || crate::sys::open_write_nofollow(path);
    let mut file = match open() {
        Ok(f) => f,
        Err(_) if path.is_symlink() => {
            std::fs::remove_file(path)?;
            open()?
        }
        Err(e) => return Err(e),
    };
    file.write_all(bytes)?;
    file.set_len(bytes.len() as u64)
}

/// Removes the report files a reused staging folder holds that this
/// report does not write (an agency gone, the history files of a report
/// without one). Only names sigaudit writes: anything else stays.
fn prune(dir: &Path, top: &[&str], agencies: &[&str]) -> std::io::Result<()> {
    for name in folder::TOP_FILES.iter().filter(|n| !top.contains(n)) {
        let path = dir.join(name);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir()) {
            std::fs::remove_file(path)?;
        }
    }
    if let Ok(list) = std::fs::read_dir(dir.join("agencies")) {
        for entry in list.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir())
                && !agencies.contains(&entry.file_name().to_string_lossy().as_ref())
            {
                folder::remove_agency(&entry.path());
            }
        }
    }
    Ok(())
}

/// The files this report writes at its top level: the history's two only
/// with a history, the hosts' audits only in a province's report. The
/// overview links every one of them but itself.
fn top_files(history: Option<&crate::history::HistoryView>) -> Vec<&'static str> {
    let province = history.is_some_and(|h| !h.hosts.is_empty());
    folder::TOP_FILES
        .into_iter()
        .filter(|f| {
            (history.is_some() || !["audits.csv", "changes.csv"].contains(f))
                && (province || *f != "hosts.csv")
        })
        .collect()
}

/// The agencies of the map that ended (2025 reorganisation), by id: the
/// overview's short note beside the name ("until 2025-06-30": the table
/// must still fit a printed page) and the agency page's ("ended, last day
/// 2025-06-30 · succeeded by Sở Tài chính"). They stay in the map for the
/// documents they signed before.
fn ended_notes(
    rules: &Rules,
    l: crate::report::lang::Lang,
) -> std::collections::HashMap<String, (String, String)> {
    let map = &rules.agencies.agencies;
    map.iter()
        .filter_map(|a| {
            let day = a.ended?;
            let mut long = format!("{} {day}", l.t("ended"));
            if let Some(s) = a.successor.as_ref().and_then(|id| map.iter().find(|b| &b.id == id)) {
                long.push_str(&format!(" · {} {}", l.t("succeeded_by"), s.name));
            }
            Some((a.id.clone(), (format!("{} {day}", l.t("until")), long)))
        })
        .collect()
}

#[expect(clippy::too_many_lines, reason = "141 lines, from before the limit")]
fn write_into(dir: &Path, input: &ReportInput<'_>, t: &Tables) -> anyhow::Result<()> {
    let scan = input.scan;
    let findings = &scan.findings;
    let generated = rfc3339(scan.finished);
    // Every file is independent: written in parallel.
    let tables = || -> anyhow::Result<()> {
        let errors: Vec<_> = scan.errors.iter().map(|(e, _)| e).collect();
        csv::write(
            &dir.join("signers.csv"),
            &csv::SIGNERS_HEADER,
            t.signers.iter().map(csv::signer_record),
        )?;
        csv::write(
            &dir.join("agencies.csv"),
            &csv::AGENCIES_HEADER,
            t.agencies.iter().map(csv::agency_record),
        )?;
        csv::write(
            &dir.join("errors.csv"),
            &csv::ERRORS_HEADER,
            errors.iter().map(|e| csv::error_record(e)),
        )?;
        csv::write(
            &dir.join("trend.csv"),
            &csv::TREND_HEADER,
            t.trend.iter().map(csv::trend_record),
        )?;
        csv::write(
            &dir.join("unknown-cas.csv"),
            &csv::UNKNOWN_CAS_HEADER,
            scan.unknown_cas.iter().map(csv::unknown_ca_record),
        )?;
        put(
            &dir.join("summary.json"),
            serde_json::to_string_pretty(&summary(input, t))?.as_bytes(),
        )?;
        if let Some(h) = input.history {
            csv::write(
                &dir.join("audits.csv"),
                &csv::AUDITS_HEADER,
                h.audits.iter().map(csv::audit_record),
            )?;
            csv::write(
                &dir.join("changes.csv"),
                &csv::CHANGES_HEADER,
                h.changes.iter().map(csv::change_record),
            )?;
            if !h.hosts.is_empty() {
                let rows = h.hosts.iter().flat_map(|audit| {
                    audit.agencies.iter().map(move |agency| csv::host_record(agency, audit))
                });
                csv::write(&dir.join("hosts.csv"), &csv::HOSTS_HEADER, rows)?;
            }
        }
        Ok(())
    };
    let signatures = || -> anyhow::Result<()> {
        Ok(csv::write(
            &dir.join("signatures.csv"),
            &csv::SIGNATURES_HEADER,
            findings.iter().map(csv::signature_record),
        )?)
    };
    let ended = ended_notes(input.rules, input.lang);
    let index = || -> anyhow::Result<()> {
        let index = html::index(html::IndexInput {
            lang: input.lang,
            version: crate::VERSION,
            generated: generated.clone(),
            legal: &input.rules.legal,
            tables: t,
            findings,
            sources: &scan.sources,
            doc_timestamps: scan.not_signers.doc_timestamps,
            usage_rights: scan.not_signers.usage_rights,
            unknown_cas: &scan.unknown_cas,
            learned: &scan.learned,
            audits: audit_series(input, t, None),
            history: input.history,
            ended: &ended,
        })?;
        Ok(put(&dir.join("index.html"), index.as_bytes())?)
    };
    let agency = |row: &AgencyRow| -> anyhow::Result<()> {
        let adir = dir.join("agencies").join(&row.agency_id);
        std::fs::create_dir_all(&adir)?;
        let mine: Vec<_> = findings.iter().filter(|f| f.agency_id == row.agency_id).collect();
        csv::write(
            &adir.join("signatures.csv"),
            &csv::SIGNATURES_HEADER,
            mine.iter().map(|f| csv::signature_record(f)),
        )?;
        csv::write(
            &adir.join("signers.csv"),
            &csv::SIGNERS_HEADER,
            t.signers.iter().filter(|s| s.agency_id == row.agency_id).map(csv::signer_record),
        )?;
        let errs =
            scan.errors.iter().filter(|(_, a)| a.id == row.agency_id).map(|(e, _)| e).collect();
        let history = html::AgencyHistory {
            audits: audit_series(input, t, Some(&row.agency_id)),
            changes: input
                .history
                .map(|h| h.changes.iter().filter(|c| c.agency_id == row.agency_id).collect())
                .unwrap_or_default(),
            previous: input
                .history
                .and_then(|h| h.previous.as_ref())
                .map(|p| p.finished.map(rfc3339).unwrap_or_default()),
            audited: input
                .history
                .map(|h| h.hosts.iter().filter(|a| a.agencies.contains(&row.agency_id)).collect())
                .unwrap_or_default(),
        };
        let received = findings
            .iter()
            .filter(|f| f.found_in == row.agency_id && f.agency_id != row.agency_id)
            .collect();
        let page = html::AgencyInput {
            lang: input.lang,
            generated: generated.clone(),
            legal: &input.rules.legal,
            row,
            tables: t,
            findings: mine,
            received,
            errors: errs,
            history,
            ended: ended.get(&row.agency_id).map(|(_, long)| long.clone()),
        };
        put(&adir.join("report.html"), html::agency(page)?.as_bytes())?;
        Ok(())
    };
    let whole: [&(dyn Fn() -> anyhow::Result<()> + Sync); 3] = [&tables, &signatures, &index];
    let (whole, agencies) = rayon::join(
        || whole.par_iter().try_for_each(|write| write()),
        || t.agencies.par_iter().try_for_each(agency),
    );
    whole?;
    agencies?;
    let agencies: Vec<&str> = t.agencies.iter().map(|a| a.agency_id.as_str()).collect();
    prune(dir, &top_files(input.history), &agencies)?;
    Ok(())
}

/// The classes of signatures at each audit, oldest first: one column per
/// audit month (the latest completed run of the month, in Vietnam's time),
/// or only this scan without a history. One agency's, or the province's.
/// Trial runs in a month thus replace one another instead of piling up.
fn audit_series(
    input: &ReportInput<'_>,
    t: &Tables,
    agency: Option<&str>,
) -> Vec<aggregate::TrendRow> {
    let month = crate::model::vietnam_month;
    let Some(h) = input.history else {
        let row = match agency {
            Some(id) => t.agencies.iter().find(|a| a.agency_id == id),
            None => Some(&t.totals),
        };
        return row
            .map(|a| audit_column(month(input.scan.finished), a.government, a.commercial, a.other))
            .into_iter()
            .collect();
    };
    // A province: each host's (and source's) latest run of the month counts.
    let province = !h.hosts.is_empty();
    let mut latest: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<_, crate::history::RunId>,
    > = Default::default();
    for run in &h.runs {
        if let Some(finished) = run.finished {
            let key = if province {
                crate::history::province::audit_key(run)
            } else {
                Default::default()
            };
            let id = latest.entry(month(finished)).or_default().entry(key).or_insert(run.id);
            *id = (*id).max(run.id);
        }
    }
    latest
        .into_iter()
        .map(|(label, runs)| {
            let runs: Vec<crate::history::RunId> = runs.into_values().collect();
            // The province's figure leaves external signatures out, as each audit's tables do.
            let counts = |a: &&crate::history::AuditPoint| match agency {
                Some(id) => a.agency_id == id,
                None => !crate::rules::is_external_id(&a.agency_id),
            };
            let (mut g, mut c, mut o) = (0, 0, 0);
            for a in h.audits.iter().filter(|a| runs.contains(&a.run)).filter(counts) {
                (g, c, o) = (g + a.government, c + a.commercial, o + a.other);
            }
            audit_column(label, g, c, o)
        })
        .collect()
}

fn audit_column(
    label: String,
    government: usize,
    commercial: usize,
    other: usize,
) -> aggregate::TrendRow {
    let migration_pct = aggregate::migration_pct(government, government + commercial + other);
    aggregate::TrendRow {
        month: label,
        government,
        commercial,
        other,
        migration_pct,
        ..Default::default()
    }
}

fn summary(input: &ReportInput<'_>, t: &Tables) -> serde_json::Value {
    let scan = input.scan;
    let government_name_unknown_key: usize =
        scan.unknown_cas.iter().filter(|u| u.names_government()).map(|u| u.signatures).sum();
    let host = |a: &crate::history::province::HostAudit| {
        json!({
            "host": a.host, "run": a.run, "audited": a.audited(), "stale": a.stale,
            "agencies": a.agencies,
        })
    };
    let hosts: Vec<_> =
        input.history.map(|h| h.hosts.iter().map(host).collect()).unwrap_or_default();
    json!({
        "tool": "sigaudit",
        "version": crate::VERSION,
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
        "doc_timestamps": scan.not_signers.doc_timestamps,
        "usage_rights": scan.not_signers.usage_rights,
        // Issuing CAs the rules do not know (unknown-cas.csv), and the
        // signatures that name a Government CA with a key the rules do not
        // hold (never counted as government: update the rules).
        "unknown_cas": scan.unknown_cas.len(),
        "government_name_unknown_key": government_name_unknown_key,
        // CA certificates found in scanned files that completed other files' chains.
        "learned_cas": scan.learned,
        "agencies": t.agencies,
        // Agencies whose places could not all be read (a SOURCE missing).
        "incomplete_audit": scan.incomplete.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        // A province's report: each host's latest audit, for monitoring (stale: not this month).
        "hosts": hosts,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn put_replaces_the_whole_file_and_never_follows_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        super::put(&path, b"a longer first version").unwrap();
        super::put(&path, b"short").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"short");
        let elsewhere = dir.path().join("elsewhere.txt");
        std::fs::write(&elsewhere, b"keep me").unwrap();
        let link = dir.path().join("b.html");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        super::put(&link, b"report").unwrap();
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"keep me");
        assert!(!link.is_symlink());
        assert_eq!(std::fs::read(&link).unwrap(), b"report");
    }
}
