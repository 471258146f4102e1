//! Issue 25: the round trips a scan costs per file, counted with strace
//! on the real binary (each system call that names or stats a file would
//! be a request to the file server on a share), and reports that do not
//! depend on how many files are at work at once.

use crate::common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use common::*;

/// System calls that ask the file system about a file by name or handle.
const STATS: [&str; 5] = ["newfstatat", "statx", "fstat", "stat", "lstat"];

/// Runs `sigaudit scan SOURCE --out OUT extra...` under `strace -f` and
/// counts each system call of interest (None: no strace on this machine).
fn traced_scan(source: &Path, out: &Path, extra: &[&str]) -> Option<HashMap<String, usize>> {
    let log = out.with_extension("strace");
    let mut cmd = Command::new("strace");
    cmd.args([
        "-f",
        "-qq",
        "-e",
        "trace=openat,open,newfstatat,statx,fstat,stat,lstat,getdents64",
        "-o",
    ])
    .arg(&log);
    cmd.arg(env!("CARGO_BIN_EXE_sigaudit"))
        .env("SIGAUDIT_ANCHORS", "/nonexistent/sigaudit-test-anchors");
    cmd.arg("scan")
        .arg(source)
        .arg("--rules")
        .arg(root().join("samples/rules"))
        .arg("--quiet")
        .arg("--out")
        .arg(out)
        .args(extra);
    let output = match cmd.output() {
        Ok(o) => o,
        Err(_) => return None,
    };
    // 2: the samples hold files that cannot be parsed, on purpose.
    assert!(matches!(code(&output), 0 | 2), "{}", text(&output.stderr));
    let mut counts = HashMap::new();
    for line in std::fs::read_to_string(&log).unwrap().lines() {
        // "PID name(args" or "PID <... name resumed>": each call once.
        let call = line.split_once(' ').map(|(_, rest)| rest.trim_start()).unwrap_or("");
        if let Some((name, _)) = call.split_once('(')
            && !name.contains(' ')
        {
            *counts.entry(name.to_owned()).or_insert(0) += 1;
        }
    }
    Some(counts)
}

fn stats(c: &HashMap<String, usize>) -> usize {
    STATS.iter().map(|s| c.get(*s).copied().unwrap_or(0)).sum()
}

fn opens(c: &HashMap<String, usize>) -> usize {
    c.get("openat").copied().unwrap_or(0) + c.get("open").copied().unwrap_or(0)
}

/// The samples' share (real signed files of every format) and 1,500
/// unsigned files in 30 folders: a tree whose per-file costs dwarf the
/// scan's fixed ones (rules, history, report).
fn tree(dir: &Path) -> (usize, usize) {
    let share = dir.join("share");
    let mut files = 0;
    let mut folders = 1;
    let mut stack = vec![(root().join("samples/share"), share.clone())];
    while let Some((from, to)) = stack.pop() {
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                folders += 1;
                stack.push((entry.path(), target));
            } else if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), target).unwrap();
                files += 1;
            }
        }
    }
    for f in 0..30 {
        let folder = share.join(format!("Phòng {f:02}"));
        std::fs::create_dir_all(&folder).unwrap();
        folders += 1;
        for i in 0..50 {
            std::fs::write(
                folder.join(format!("công văn {i:03}.txt")),
                format!("Công văn số {i} của phòng {f}\n"),
            )
            .unwrap();
            files += 1;
        }
    }
    (files, folders)
}

/// With a history the first run makes no more stats or opens than without
/// one (the history re-checks no path), and an unchanged rescan opens no
/// file and stats each file once, plus its folder's listing.
#[test]
fn history_adds_no_round_trip_and_a_rescan_costs_one_stat_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let (files, folders) = tree(dir.path());
    let share = dir.path().join("share");
    let db = dir.path().join("history.db");
    let db = db.to_str().unwrap();
    let Some(no_db) = traced_scan(&share, &dir.path().join("r0"), &["--no-db"]) else {
        println!(
            "skipped: history_adds_no_round_trip_and_a_rescan_costs_one_stat_per_file: needs \
             strace"
        );
        return;
    };
    let first = traced_scan(&share, &dir.path().join("r1"), &["--db", db]).unwrap();
    let rescan = traced_scan(&share, &dir.path().join("r2"), &["--db", db]).unwrap();
    // What the rules, the history database and the report cost, whatever
    // the number of files (about 100 on this tree).
    const FIXED: usize = 300;
    assert!(stats(&no_db) >= files, "every file is stat'ed once: {no_db:?}");
    assert!(
        stats(&first) <= stats(&no_db) + FIXED,
        "{files} files: history {first:?} against --no-db {no_db:?}"
    );
    assert!(
        opens(&first) <= opens(&no_db) + FIXED,
        "{files} files: history {first:?} against --no-db {no_db:?}"
    );
    assert!(
        stats(&rescan) <= files + folders + FIXED,
        "{files} files, {folders} folders: {rescan:?}"
    );
    assert!(
        opens(&rescan) <= folders + FIXED,
        "an unchanged file is not opened: {files} files, {folders} folders: {rescan:?}"
    );
    // A listing is one getdents64 with entries and one that finds the end.
    assert!(rescan.get("getdents64").copied().unwrap_or(0) <= 2 * folders + FIXED, "{rescan:?}");
}

/// The rows do not depend on how many files are at work at once: one I/O
/// worker and 64 give the same reports (the parallel walk's order is not
/// the reports' order).
#[test]
fn reports_are_the_same_with_one_io_worker_or_many() {
    let share = root().join("samples/share");
    let (one, one_dir) = scan(
        &[&share],
        &["--rules", root().join("samples/rules").to_str().unwrap(), "--no-db", "--io-jobs", "1"],
    );
    let (many, many_dir) = scan(
        &[&share],
        &[
            "--rules",
            root().join("samples/rules").to_str().unwrap(),
            "--no-db",
            "--io-jobs",
            "64",
            "--jobs",
            "3",
        ],
    );
    assert_eq!((code(&one), code(&many)), (2, 2), "{}", text(&many.stderr));
    for name in ["signatures.csv", "errors.csv", "agencies.csv"] {
        let a = std::fs::read(report_dir(&one_dir).join(name)).unwrap();
        let b = std::fs::read(report_dir(&many_dir).join(name)).unwrap();
        assert!(!a.is_empty());
        assert!(a == b, "{name} differs between --io-jobs 1 and 64");
    }
}
