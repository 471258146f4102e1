//! The province's report from a shared history: the latest completed run
//! of every host and source, merged into one result, with each agency's
//! audit (which host, when) and the hosts that have not reported this month.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use super::{Result, RunId, RunInfo, Store};
use crate::model::result::ScanResult;

/// One host's latest audit of its sources, and the agencies it covered.
#[derive(Debug, Clone)]
pub(crate) struct HostAudit {
    pub host: String,
    pub run: RunId,
    pub finished: OffsetDateTime,
    pub sources: Vec<String>,
    /// Agencies with files or signatures in that run.
    pub agencies: BTreeSet<String>,
    /// Not audited in the month the report is made (Vietnam's time).
    pub stale: bool,
    /// Where its findings sit in the merged result.
    pub findings: std::ops::Range<usize>,
    /// The same host's audit of the same sources before this one.
    pub previous: Option<RunInfo>,
}

impl HostAudit {
    /// When it finished, as the reports write times.
    pub(crate) fn audited(&self) -> String {
        crate::model::rfc3339(self.finished)
    }
}

/// What a run is the latest of: its host and the sources it scanned.
pub(crate) fn audit_key(run: &RunInfo) -> (String, Vec<String>) {
    let mut sources = run.sources.clone();
    sources.sort();
    (run.host.clone(), sources)
}

/// The latest completed run of each host and source set, oldest first.
pub(crate) fn latest_runs(runs: &[RunInfo]) -> Vec<&RunInfo> {
    let mut latest: BTreeMap<(String, Vec<String>), &RunInfo> = BTreeMap::new();
    for run in runs.iter().filter(|r| r.finished.is_some()) {
        let slot = latest.entry(audit_key(run)).or_insert(run);
        if run.id > slot.id {
            *slot = run;
        }
    }
    let mut out: Vec<&RunInfo> = latest.into_values().collect();
    out.sort_by_key(|r| r.id);
    out
}

/// Merges the latest runs of every host and source into one result.
pub(crate) fn merge(
    store: &dyn Store,
    now: OffsetDateTime,
) -> Result<(ScanResult, Vec<HostAudit>)> {
    let runs = store.runs()?;
    let latest = latest_runs(&runs);
    let Some(first) = latest.first() else { return Err(super::HistoryError::NoRuns) };
    let this_month = crate::model::vietnam_month(now);
    let mut merged = ScanResult {
        files: Default::default(),
        findings: Vec::new(),
        errors: Vec::new(),
        not_signers: Default::default(),
        started: first.started,
        finished: first.finished.unwrap_or(first.started),
        sources: Vec::new(),
        incomplete: Vec::new(),
        learned: Vec::new(),
        unknown_cas: Vec::new(),
    };
    let mut audits = Vec::new();
    for run in latest {
        let result = store.load_run(run.id)?;
        let agencies = result
            .files
            .keys()
            .map(|a| a.id.clone())
            .chain(result.findings.iter().map(|f| f.agency_id.clone()))
            .collect();
        let finished = run.finished.unwrap_or(run.started);
        let previous = runs
            .iter()
            .filter(|r| r.id < run.id && r.finished.is_some() && audit_key(r) == audit_key(run))
            .max_by_key(|r| r.id)
            .cloned();
        audits.push(HostAudit {
            host: run.host.clone(),
            run: run.id,
            finished,
            sources: run.sources.clone(),
            agencies,
            stale: crate::model::vietnam_month(finished) != this_month,
            findings: merged.findings.len()..merged.findings.len() + result.findings.len(),
            previous,
        });
        for (agency, tally) in result.files {
            *merged.files.entry(agency).or_default() += tally;
        }
        merged.findings.extend(result.findings);
        merged.errors.extend(result.errors);
        merged.not_signers += result.not_signers;
        merged.started = merged.started.min(result.started);
        merged.finished = merged.finished.max(result.finished);
        merged.sources.extend(
            result
                .sources
                .into_iter()
                .map(|s| if run.host.is_empty() { s } else { format!("{}:{s}", run.host) }),
        );
    }
    Ok((merged, audits))
}

/// Each host's changes since its own previous audit of the same sources,
/// over the merged findings (attributed under the current rules), and the
/// earliest of those previous audits (the changes are since at least then).
pub(crate) fn changes(
    store: &dyn Store,
    merged: &ScanResult,
    audits: &[HostAudit],
) -> Result<(Vec<super::compare::ChangeRow>, Option<RunInfo>)> {
    let mut changes = Vec::new();
    let mut since: Option<&RunInfo> = None;
    for audit in audits {
        let Some(previous) = &audit.previous else { continue };
        changes.extend(super::compare::compare(
            &store.load_signings(previous.id)?,
            &merged.findings[audit.findings.clone()],
        ));
        if since.is_none_or(|s| previous.finished < s.finished) {
            since = Some(previous);
        }
    }
    Ok((changes, since.cloned()))
}
