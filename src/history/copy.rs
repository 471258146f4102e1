//! `sigaudit history copy`: an agency's SQLite history into the province's
//! PostgreSQL (or any history into another), run by run through [`Store`],
//! so the copy is stored exactly as a scan would have stored it.

use super::{Result, RunStats, Store};

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Copied {
    pub runs: usize,
    /// Runs the target already had (a copy run twice adds nothing).
    pub skipped: usize,
    pub certs: usize,
}

/// Copies every completed run of `from`, oldest first, with the signer
/// certificates the reports need to attribute findings again. The file
/// cache is not copied: it belongs to the host's file system and the next
/// scan into the target reads the files once more.
/// `open_to` opens the target for a host: each run keeps the host that
/// made it, and runs older than host names are recorded under `host`.
pub(crate) fn copy(
    from: &dyn Store,
    open_to: &dyn Fn(&str) -> Result<Box<dyn Store + Send>>,
    host: &str,
) -> Result<Copied> {
    let mut copied = Copied::default();
    let (mut to, mut to_host) = (open_to(host)?, host.to_owned());
    let there = to.runs()?;
    let certs: Vec<(String, Vec<u8>)> = from.cached_certs()?.into_iter().collect();
    copied.certs = certs.len();
    to.save_certs(&certs)?;
    for run in from.runs()? {
        let host_of_run = if run.host.is_empty() { host } else { run.host.as_str() };
        if there
            .iter()
            .any(|t| t.host == host_of_run && t.started == run.started && t.sources == run.sources)
        {
            copied.skipped += 1;
            continue;
        }
        let result = from.load_run(run.id)?;
        if host_of_run != to_host {
            (to, to_host) = (open_to(host_of_run)?, host_of_run.to_owned());
        }
        let id = to.begin_run(&run.sources, &run.rules_digest, &run.label)?;
        to.finish_run(
            id,
            &result,
            RunStats { files_read: run.files_read, files_removed: run.files_removed },
            &[],
        )?;
        copied.runs += 1;
    }
    Ok(copied)
}
