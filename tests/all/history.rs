//! Scan history on a real SQLite file: incremental rescans report exactly
//! what full scans do, a killed scan corrupts nothing and loses nothing,
//! concurrent runs are refused or wait, a rules change re-classifies
//! without re-reading, and three monthly audits give the trends.

use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::history_cases::*;
use common::*;

/// A CSV row: column -> value.
type Row = HashMap<String, String>;

fn db(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// The SQLite file of a test, as `--db` arguments and a row counter.
fn sqlite(dir: &Path) -> Backend {
    let path = dir.join("h.db");
    let args = vec!["--db".to_string(), path.display().to_string()];
    Backend {
        args,
        count: Box::new(move |sql| db(&path).query_row(sql, [], |r| r.get(0)).unwrap()),
    }
}

#[test]
fn an_incremental_rescan_reports_exactly_what_a_full_scan_does() {
    let t = tempfile::tempdir().unwrap();
    history_cases::an_incremental_rescan_reports_exactly_what_a_full_scan_does(&sqlite(t.path()));
}

/// A tree big enough that a scan takes a while in a debug build: copies
/// (hard links) of the samples' signed PDFs, in agency folders.
fn big_tree(root_dir: &Path, copies: usize) -> PathBuf {
    let share = root_dir.join("big");
    let sources: Vec<PathBuf> = [
        "Sở Y tế/2025/Công văn 56-SYT.pdf",
        "Sở Tài chính/Tờ trình 12-STC.pdf",
        "UBND huyện Hoằng Hóa/Quyết định 45-QĐ-UBND.pdf",
    ]
    .iter()
    .map(|p| root().join("samples/share").join(p))
    .collect();
    for i in 0..copies {
        let dir = share
            .join(["Sở Y tế", "Sở Tài chính", "UBND huyện Hoằng Hóa"][i % 3])
            .join(format!("{:03}", i / 100));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::hard_link(&sources[i % 3], dir.join(format!("văn bản {i}.pdf"))).unwrap();
    }
    share
}

fn spawn_scan(source: &Path, out: &Path, extra: &[&str]) -> Child {
    bin()
        .arg("scan")
        .arg(source)
        .args(["--rules", &samples_rules(), "--jobs", "1", "--out"])
        .arg(out)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `cond` holds (polling), failing after `limit`.
fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn cached_files(history: &Path) -> i64 {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(history, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row("SELECT count(*) FROM files", [], |r| r.get(0)).unwrap_or(0)
}

#[test]
fn a_scan_killed_midway_corrupts_nothing_and_its_work_is_kept() {
    let t = tempfile::tempdir().unwrap();
    let files = enough_to_watch(1500);
    let share = big_tree(t.path(), files);
    let history = t.path().join("h.db");
    let h = history.to_str().unwrap();
    let mut child = spawn_scan(&share, &t.path().join("r"), &["--db", h]);
    // Kill it once some files are stored, well before it ends.
    wait_until(Duration::from_secs(120), || cached_files(&history) > 0);
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    child.wait().unwrap();
    let kept = cached_files(&history);
    assert!(kept > 0 && kept < files as i64, "killed midway: {kept} files stored");

    let conn = db(&history);
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let (all, complete): (i64, i64) = conn
        .query_row("SELECT count(*), count(finished) FROM runs", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((all, complete), (1, 0), "the killed run stays incomplete");
    let listed = run(bin().args(["report", "--list", "--db", h]));
    assert!(
        text(&listed.stdout).contains("holds no completed run yet"),
        "an incomplete run is never listed, and --list says so: {}",
        text(&listed.stdout)
    );
    drop(conn);

    // The next scan finishes the work, reusing what was stored.
    let rescan = scan_to(&share, &t.path().join("r"), &["--db", h]);
    assert_eq!(code(&rescan), 0, "{}", text(&rescan.stderr));
    assert_eq!(files_read(&rescan) as i64, files as i64 - kept);
    let full = scan_to(&share, &t.path().join("full"), &["--no-db"]);
    assert_eq!(code(&full), 0);
    assert_same_reports(&t.path().join("r"), &t.path().join("full"));
    let rows = read_csv(&t.path().join("r/signatures.csv"));
    assert_eq!(rows.len(), files, "nothing lost");
}

#[test]
fn a_second_run_on_the_same_database_is_refused_or_waits() {
    let t = tempfile::tempdir().unwrap();
    let share = big_tree(t.path(), 900);
    let history = t.path().join("h.db");
    let h = history.to_str().unwrap();
    let first = spawn_scan(&share, &t.path().join("r1"), &["--db", h]);
    wait_until(Duration::from_secs(60), || {
        std::fs::read_to_string(t.path().join("h.db.lock")).is_ok_and(|s| s.starts_with("pid"))
    });
    let refused = scan_to(&share, &t.path().join("r2"), &["--db", h]);
    assert_eq!(code(&refused), 1, "{}", text(&refused.stdout));
    let msg = text(&refused.stderr);
    assert!(msg.contains("another sigaudit run (pid") && msg.contains("--wait"), "{msg}");
    assert!(!t.path().join("r2").exists(), "the refused run wrote nothing");
    let waiting = spawn_scan(&share, &t.path().join("r3"), &["--db", h, "--wait", "300"]);
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let waited = waiting.wait_with_output().unwrap();
    assert_eq!(waited.status.code(), Some(0), "{}", text(&waited.stderr));
    assert_eq!(files_read(&waited), 0, "the waiting run used the first one's work");
    let complete: i64 = db(&history)
        .query_row("SELECT count(*) FROM runs WHERE finished IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(complete, 2);
}

#[test]
fn a_rules_change_reclassifies_stored_signatures_without_reading_files() {
    let t = tempfile::tempdir().unwrap();
    history_cases::a_rules_change_reclassifies_stored_signatures_without_reading_files(&sqlite(
        t.path(),
    ));
}

#[test]
fn three_monthly_audits_give_trends_changes_and_rebuildable_reports() {
    let t = tempfile::tempdir().unwrap();
    history_cases::three_monthly_audits_give_trends_changes_and_rebuildable_reports(&sqlite(
        t.path(),
    ));
}

#[test]
fn the_schema_is_versioned_and_a_newer_database_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let history = t.path().join("h.db");
    let out = scan_to(
        &root().join("tests/fixtures/history/2025-01"),
        &t.path().join("r"),
        &["--db", history.to_str().unwrap()],
    );
    assert_eq!(code(&out), 0);
    let conn = db(&history);
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert!(version >= 1);
    let journal: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(journal, "wal");
    conn.pragma_update(None, "user_version", version + 1).unwrap();
    drop(conn);
    let refused = scan_to(
        &root().join("tests/fixtures/history/2025-01"),
        &t.path().join("r"),
        &["--db", history.to_str().unwrap()],
    );
    assert_eq!(code(&refused), 1);
    assert!(text(&refused.stderr).contains("newer sigaudit"), "{}", text(&refused.stderr));
}

/// tests/fixtures/history-v2/sigaudit.db: a schema-2 history made by the
/// release before typed findings (sigaudit 0.1.0 at 379b639, scanning the
/// samples' Sở Tư pháp and Sở Xây dựng folders), with the report tables
/// that release wrote beside it. Upgraded in place, it rebuilds those
/// findings, attributed under the current rules, and the next scan records
/// its run on top.
#[test]
fn a_history_from_the_previous_release_upgrades_and_reports_the_same() {
    let fixture = root().join("tests/fixtures/history-v2");
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("sigaudit.db");
    std::fs::copy(fixture.join("sigaudit.db"), &db_path).unwrap();
    let rebuilt = dir.path().join("rebuilt");
    let out = run(bin()
        .current_dir(root())
        .args(["report", "--db"])
        .arg(&db_path)
        .arg("--out")
        .arg(&rebuilt)
        .args(["--rules", &samples_rules()]));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(
        db(&db_path).query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap(),
        7,
        "upgraded to the current schema"
    );
    // The old release's findings, attributed again under the current rules
    // (as a rescan would: by the signer certificate kept in the history);
    // found_in is where the old release counted them, by place.
    let sources = ["samples/share/Sở Tư pháp", "samples/share/Sở Xây dựng"];
    let fresh_dir = dir.path().join("fresh");
    let out = run(bin()
        .current_dir(root())
        .arg("scan")
        .args(sources)
        .args(["--rules", &samples_rules(), "--no-db", "--out"])
        .arg(&fresh_dir));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    // Since issue 23 an e-invoice signature's member ends with its role
    // (`HDon/DSCKS/NBan/Signature (seller)`): the old release's rows are
    // found by the element path.
    let key = |r: &Row| {
        (
            r["file"].clone(),
            r["member"].split(" (").next().unwrap_or_default().to_owned(),
            r["signer_sha256"].clone(),
        )
    };
    let fresh: HashMap<_, Row> =
        read_csv(&fresh_dir.join("signatures.csv")).into_iter().map(|r| (key(&r), r)).collect();
    let rebuilt_rows = read_csv(&rebuilt.join("signatures.csv"));
    let old_rows = read_csv(&fixture.join("signatures.csv"));
    assert_eq!(rebuilt_rows.len(), old_rows.len());
    for (new, old) in rebuilt_rows.iter().zip(&old_rows) {
        let now = &fresh[&key(old)];
        let mut want = old.clone();
        want.insert("found_in".into(), old["agency_id"].clone());
        for col in ["agency_id", "agency_name", "attributed_by"] {
            want.insert(col.into(), now[col].clone());
        }
        assert_eq!(new, &want);
    }
    assert_eq!(
        read_csv(&rebuilt.join("agencies.csv"))
            .iter()
            .map(|a| a["signatures"].parse::<usize>().unwrap())
            .sum::<usize>(),
        old_rows.len()
    );
    check_report(&rebuilt);
    let rescan = dir.path().join("rescan");
    let out = run(bin()
        .current_dir(root())
        .arg("scan")
        .args(sources)
        .args(["--rules", &samples_rules(), "--db"])
        .arg(&db_path)
        .arg("--out")
        .arg(&rescan));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let runs: i64 = db(&db_path)
        .query_row("SELECT count(*) FROM runs WHERE finished IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 2);
}

#[test]
fn ctrl_c_stops_cleanly_keeps_what_was_read_and_the_next_run_finishes() {
    let t = tempfile::tempdir().unwrap();
    let files = enough_to_watch(1500);
    let share = big_tree(t.path(), files);
    let history = t.path().join("h.db");
    let h = history.to_str().unwrap();
    let report = t.path().join("r");
    let child = spawn_scan(&share, &report, &["--db", h]);
    wait_until(Duration::from_secs(120), || cached_files(&history) > 0);
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 130, "{}", text(&out.stderr));
    let said = text(&out.stderr);
    let stored: i64 = said
        .split("interrupted: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!(said.contains("files stored; run again to continue"), "{said}");
    assert_eq!(stored, cached_files(&history), "what it says is what is stored");
    assert!(stored > 0 && stored < files as i64, "stopped midway: {stored}");
    assert!(!report.exists(), "no report from half a scan");
    let (all, complete): (i64, i64) = db(&history)
        .query_row("SELECT count(*), count(finished) FROM runs", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((all, complete), (1, 0), "the stopped run stays incomplete");
    let rescan = scan_to(&share, &report, &["--db", h]);
    assert_eq!(code(&rescan), 0, "{}", text(&rescan.stderr));
    assert_eq!(files_read(&rescan) as i64, files as i64 - stored);
    let full = scan_to(&share, &t.path().join("full"), &["--no-db"]);
    assert_eq!(code(&full), 0);
    assert_same_reports(&report, &t.path().join("full"));
}

#[test]
fn an_unmounted_share_is_not_taken_for_deleted_files() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    copy_tree(&root().join("tests/fixtures/history/2025-01"), &a);
    copy_tree(&root().join("tests/fixtures/history/2025-02"), &b);
    let history = t.path().join("h.db");
    let h = history.to_str().unwrap();
    let scan2 = |out: &str| {
        run(bin()
            .arg("scan")
            .arg(&a)
            .arg(&b)
            .args(["--rules", &samples_rules(), "--db", h, "--out"])
            .arg(t.path().join(out)))
    };
    assert_eq!(code(&scan2("r1")), 0);
    let before = cached_files(&history);
    // The share of `b` is not mounted this month.
    std::fs::rename(&b, t.path().join("b-away")).unwrap();
    let out = scan2("r2");
    assert_eq!(code(&out), 2, "a missing SOURCE is a row: {}", text(&out.stderr));
    assert_eq!(cached_files(&history), before, "its files are not forgotten");
    std::fs::rename(t.path().join("b-away"), &b).unwrap();
    let out = scan2("r3");
    assert_eq!(code(&out), 0);
    assert_eq!(files_read(&out), 0, "back next month: nothing to read again");
}

#[test]
fn trial_runs_are_labelled_listed_and_deleted() {
    let t = tempfile::tempdir().unwrap();
    let share = root().join("samples/share/Sở Y tế");
    let db = t.path().join("h.db");
    let h = db.to_str().unwrap();
    for label in ["thử (trial)", "thử 2", "Kiểm tra tháng 11"] {
        let out = scan_to(&share, &t.path().join("r"), &["--db", h, "--label", label]);
        assert!([0, 2].contains(&code(&out)), "{}", text(&out.stderr));
    }
    let list = || text(&run(bin().args(["report", "--list", "--db", h])).stdout);
    let labels = |listed: &str| -> Vec<(String, String)> {
        listed
            .lines()
            .skip(1)
            .map(|l| l.split('\t').take(4).map(String::from).collect::<Vec<_>>())
            .map(|c| (c[0].clone(), c[3].clone()))
            .collect()
    };
    assert_eq!(
        labels(&list()),
        [
            ("1".into(), "thử (trial)".into()),
            ("2".into(), "thử 2".into()),
            ("3".into(), "Kiểm tra tháng 11".into())
        ]
    );
    for id in ["1", "2"] {
        let out = run(bin().args(["report", "--db", h, "--delete-run", id]));
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains(&format!("run {id} deleted")));
    }
    assert_eq!(
        labels(&list()),
        [("3".into(), "Kiểm tra tháng 11".into())],
        "only the real audit is left"
    );
    let conn = self::db(&db);
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM findings WHERE id NOT IN (SELECT finding_id FROM run_findings)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let left: i64 = conn
        .query_row("SELECT count(*) FROM run_findings WHERE run_id IN (1, 2)", [], |r| r.get(0))
        .unwrap();
    assert_eq!((orphans, left), (0, 0), "nothing of the deleted runs stays behind");
    let missing = run(bin().args(["report", "--db", h, "--delete-run", "1"]));
    assert_ne!(code(&missing), 0);
    assert!(text(&missing.stderr).contains("run 1"), "{}", text(&missing.stderr));
    let gone = run(bin()
        .args(["report", "--db", h, "--run", "2", "--rules", &samples_rules(), "--out"])
        .arg(t.path().join("r2")));
    assert_ne!(code(&gone), 0, "a deleted run cannot be reported");
    // The remaining run reports as before, and the file cache still serves the next scan.
    let rebuilt = t.path().join("rebuilt");
    let out =
        run(bin().args(["report", "--db", h, "--rules", &samples_rules(), "--out"]).arg(&rebuilt));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    check_report(&rebuilt);
    assert_same_reports(&rebuilt, &t.path().join("r"));
    let again = scan_to(&share, &t.path().join("r4"), &["--db", h]);
    assert_eq!(files_read(&again), 0, "nothing re-read after deleting runs");
}
