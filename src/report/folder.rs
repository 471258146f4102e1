//! The report folder is sigaudit's alone. It is replaced whole on every run
//! (built beside it, swapped in, the old one kept hidden for reuse), so
//! sigaudit must never take a folder that holds anything else: it writes
//! only into a folder it created, which carries a marker file, or into an
//! empty one; and it removes only files whose names it writes itself.
//! Whatever a user left in a report folder stays, wherever the folder goes.

use std::path::{Path, PathBuf};

/// The file that says "sigaudit made this folder".
pub(crate) const MARKER: &str = ".sigaudit-report";
const MARKER_TEXT: &str = "This folder is a sigaudit report: sigaudit replaces its report files \
                           on every run.\nKeep your own files elsewhere.\n";

/// Files a report holds at its top, and in each `agencies/<id>/`.
pub(crate) const TOP_FILES: [&str; 11] = [
    "signatures.csv",
    "signers.csv",
    "agencies.csv",
    "errors.csv",
    "trend.csv",
    "unknown-cas.csv",
    "summary.json",
    "index.html",
    "audits.csv",
    "changes.csv",
    "hosts.csv",
];
pub(crate) const AGENCY_FILES: [&str; 3] = ["signatures.csv", "signers.csv", "report.html"];

/// Why `--out` is refused (exit 1, before anything is read or moved).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    #[error(
        "--out {0} is a symbolic link: sigaudit writes its report only into a real folder; name \
         that folder itself"
    )]
    Symlink(String),
    #[error("--out {0} exists and is not a folder")]
    NotAFolder(String),
    #[error(
        "--out {0} is a folder sigaudit did not create (it has no {MARKER} file) and it is not \
         empty: sigaudit replaces its report folder on every run, so it will not write there; \
         choose a new or empty folder"
    )]
    Foreign(String),
    #[error(
        "--out {out} {relation} the scanned source {scanned}: sigaudit never writes into or moves \
         what it scans; choose another folder"
    )]
    Source { out: String, relation: &'static str, scanned: String },
    #[error(
        "{0} exists and is not sigaudit's (no {MARKER} file): remove or rename it, sigaudit will \
         not touch it"
    )]
    Staging(String),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// May sigaudit (re)place its report at `out`, given what is scanned?
pub(crate) fn check(out: &Path, sources: &[PathBuf]) -> Result<(), Refused> {
    let shown = out.display().to_string();
    if let Some(out_abs) = resolve(out) {
        for source in sources {
            let Ok(source_abs) = source.canonicalize() else { continue };
            let relation = if out_abs == source_abs {
                "is"
            } else if out_abs.starts_with(&source_abs) {
                "is inside"
            } else if source_abs.starts_with(&out_abs) {
                "contains"
            } else {
                continue;
            };
            return Err(Refused::Source {
                out: shown,
                relation,
                scanned: source.display().to_string(),
            });
        }
    }
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Refused::Io(shown, e)),
        Ok(m) if m.file_type().is_symlink() => Err(Refused::Symlink(shown)),
        Ok(m) if !m.is_dir() => Err(Refused::NotAFolder(shown)),
        Ok(_) if is_ours(out) || is_empty_dir(out) => Ok(()),
        Ok(_) => Err(Refused::Foreign(shown)),
    }
}

/// A real folder (not a link) holding sigaudit's marker as a regular file.
pub(crate) fn is_ours(dir: &Path) -> bool {
    let real_dir = std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir());
    real_dir && std::fs::symlink_metadata(dir.join(MARKER)).is_ok_and(|m| m.is_file())
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

/// `path` made absolute with links resolved, for a path that may not exist
/// yet (its nearest existing ancestor is resolved).
fn resolve(path: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(path).ok()?;
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    while std::fs::symlink_metadata(existing).is_err() {
        rest.push(existing.file_name()?.to_owned());
        existing = existing.parent()?;
    }
    let mut resolved = existing.canonicalize().ok()?;
    resolved.extend(rest.iter().rev());
    Some(resolved)
}

/// Marks a folder sigaudit has just created (or an empty one it took).
pub(crate) fn mark(dir: &Path) -> Result<(), Refused> {
    std::fs::write(dir.join(MARKER), MARKER_TEXT)
        .map_err(|e| Refused::Io(dir.display().to_string(), e))
}

/// Removes sigaudit's own report from `dir`: the report files it writes,
/// the agency folders, the marker, the folder, each only when nothing else
/// is left in it. A user's file keeps its folder (and the marker) in place.
pub(crate) fn remove_own(dir: &Path) {
    if !is_ours(dir) {
        return;
    }
    for name in TOP_FILES {
        remove_file_only(&dir.join(name));
    }
    if let Ok(agencies) = std::fs::read_dir(dir.join("agencies")) {
        for agency in agencies.flatten() {
            if agency.file_type().is_ok_and(|t| t.is_dir()) {
                remove_agency(&agency.path());
            }
        }
        let _ = std::fs::remove_dir(dir.join("agencies"));
    }
    let only_marker = std::fs::read_dir(dir)
        .is_ok_and(|entries| entries.flatten().all(|e| e.file_name() == MARKER));
    if only_marker {
        remove_file_only(&dir.join(MARKER));
        let _ = std::fs::remove_dir(dir);
    }
}

/// One agency's report files, then its folder if that leaves it empty.
pub(crate) fn remove_agency(dir: &Path) {
    for name in AGENCY_FILES {
        remove_file_only(&dir.join(name));
    }
    let _ = std::fs::remove_dir(dir);
}

/// Removes `path` if it is a file or a link (never a folder's content).
fn remove_file_only(path: &Path) {
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_dir()) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_own_keeps_what_it_did_not_write() {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("report");
        std::fs::create_dir_all(report.join("agencies/a")).unwrap();
        mark(&report).unwrap();
        std::fs::write(report.join("index.html"), "r").unwrap();
        std::fs::write(report.join("agencies/a/report.html"), "r").unwrap();
        std::fs::write(report.join("agencies/a/my-notes.txt"), "mine").unwrap();
        remove_own(&report);
        assert!(!report.join("index.html").exists());
        assert_eq!(std::fs::read(report.join("agencies/a/my-notes.txt")).unwrap(), b"mine");
        assert!(is_ours(&report), "the folder keeps its marker while a user's file is in it");
        std::fs::remove_file(report.join("agencies/a/my-notes.txt")).unwrap();
        remove_own(&report);
        assert!(!report.exists());
    }

    #[test]
    fn a_folder_is_ours_only_with_a_real_marker_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_ours(dir.path()));
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join(MARKER)).unwrap();
        assert!(!is_ours(dir.path()), "a planted link is not a marker");
    }
}
