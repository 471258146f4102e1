//! The history's behaviour, whatever the store: run by tests/all/history.rs on
//! an SQLite file and by tests/all/postgres.rs on a PostgreSQL server.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::*;

/// A history to test: the `--db` arguments that reach it, and a way to
/// count rows in it.
pub struct Backend {
    pub args: Vec<String>,
    pub count: Box<dyn Fn(&str) -> i64>,
}

impl Backend {
    /// The `--db` arguments followed by `extra`.
    pub fn with(&self, extra: &[&str]) -> Vec<String> {
        self.args.iter().cloned().chain(extra.iter().map(|s| s.to_string())).collect()
    }

    pub fn count(&self, sql: &str) -> i64 {
        (self.count)(sql)
    }
}

pub const TABLES: [&str; 5] =
    ["signatures.csv", "signers.csv", "agencies.csv", "errors.csv", "trend.csv"];

pub fn samples_rules() -> String {
    root().join("samples/rules").display().to_string()
}

/// `sigaudit scan SOURCE --out OUT` with the samples' rules and `extra`.
pub fn scan_to<S: AsRef<std::ffi::OsStr>>(
    source: &Path,
    out: &Path,
    extra: &[S],
) -> std::process::Output {
    run(bin()
        .arg("scan")
        .arg(source)
        .args(["--rules", &samples_rules(), "--out"])
        .arg(out)
        .args(extra))
}

/// How many files the scan says it read (the rest came from the history).
pub fn files_read(out: &std::process::Output) -> usize {
    let stdout = text(&out.stdout);
    stdout
        .split(" files (")
        .nth(1)
        .and_then(|s| s.split(" read)").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}\n{}", text(&out.stderr)))
}

pub fn assert_same_reports(a: &Path, b: &Path) {
    for t in TABLES {
        let (x, y) = (std::fs::read(a.join(t)).unwrap(), std::fs::read(b.join(t)).unwrap());
        assert!(
            x == y,
            "{t} differs:\n--- {}\n{}\n--- {}\n{}",
            a.display(),
            text(&x),
            b.display(),
            text(&y)
        );
    }
}

pub fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(status.success());
}

pub fn an_incremental_rescan_reports_exactly_what_a_full_scan_does(backend: &Backend) {
    let t = tempfile::tempdir().unwrap();
    let share = t.path().join("share");
    copy_tree(&root().join("samples/share"), &share);
    let first = scan_to(&share, &t.path().join("r1"), &backend.with(&[]));
    assert_eq!(code(&first), 2, "{}", text(&first.stderr));
    let total = files_read(&first);

    // A month later: a file touched but unchanged, one deleted, one added,
    // and the data of a detached signature changed (its .p7s is not).
    let touched = share.join("Sở Y tế/2025/Công văn 56-SYT.pdf");
    let f = std::fs::File::options().append(true).open(&touched).unwrap();
    f.set_modified(std::time::SystemTime::now() + Duration::from_secs(60)).unwrap();
    std::fs::remove_file(share.join("Sở Tư pháp/Quyết định 77 (sửa sau khi ký).pdf")).unwrap();
    std::fs::copy(
        share.join("Sở Y tế/2025/Kế hoạch tiêm chủng.pdf"),
        share.join("Sở Nội vụ/Bản sao kế hoạch.pdf"),
    )
    .unwrap();
    let data = share.join("Sở Tài chính/Hợp đồng mua sắm.pdf");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes.extend_from_slice(b"\n% changed after signing\n");
    std::fs::write(&data, bytes).unwrap();

    let incremental = scan_to(&share, &t.path().join("incremental"), &backend.with(&[]));
    let full = scan_to(&share, &t.path().join("full"), &["--no-db"]);
    assert_same_reports(&t.path().join("incremental"), &t.path().join("full"));
    // Only what changed was read: the touched file, the new one, the changed
    // data file, and the detached signature that depends on it.
    assert_eq!(files_read(&incremental), 4, "of {total}: {}", text(&incremental.stdout));
    let rows = read_csv(&t.path().join("incremental/signatures.csv"));
    let detached = rows_for(&rows, "Hợp đồng mua sắm.pdf.p7s");
    assert_eq!(
        detached[0]["integrity"], "invalid",
        "the changed data is noticed through the cached signature"
    );
    assert_eq!(code(&full), code(&incremental));

    let removed = backend.count("SELECT files_removed FROM runs ORDER BY id DESC LIMIT 1");
    assert_eq!(removed, 1, "the deleted file is noticed");
    let gone = backend.count("SELECT count(*) FROM files WHERE path LIKE '%Quyết định 77%'");
    assert_eq!(gone, 0);
    let hashed = backend.count("SELECT count(*) FROM files WHERE sha256 IS NOT NULL");
    assert!(hashed > 10, "content hashes of the files read whole");

    // --full reads everything again and reports the same.
    let again = scan_to(&share, &t.path().join("again"), &backend.with(&["--full"]));
    assert_eq!(files_read(&again), total);
    assert_same_reports(&t.path().join("again"), &t.path().join("full"));
}

pub fn a_rules_change_reclassifies_stored_signatures_without_reading_files(backend: &Backend) {
    let t = tempfile::tempdir().unwrap();
    let share = root().join("samples/share");
    let first = scan_to(&share, &t.path().join("r1"), &backend.with(&[]));
    let before = read_csv(&t.path().join("r1/signatures.csv"));
    assert!(before.iter().any(|r| r["ca_id"] == "test-vnpt-ca" && r["ca_class"] == "commercial"));
    assert!(files_read(&first) > 40);

    // The province re-files the TEST VNPT CA as foreign (a rules edit).
    let rules = t.path().join("rules");
    copy_tree(&root().join("samples/rules"), &rules);
    let ca_file = rules.join("ca.d/test-pki.toml");
    let toml = std::fs::read_to_string(&ca_file).unwrap();
    let start = toml.find("id = \"test-vnpt-ca\"").expect("the TEST VNPT entry");
    let class_at = start + toml[start..].find("class = \"commercial\"").unwrap();
    let edited = format!(
        "{}class = \"foreign\"{}",
        &toml[..class_at],
        &toml[class_at + "class = \"commercial\"".len()..]
    );
    std::fs::write(&ca_file, edited).unwrap();

    let rules_arg = rules.to_str().unwrap();
    let second = run(bin()
        .arg("scan")
        .arg(&share)
        .args(["--rules", rules_arg])
        .args(backend.with(&["--out"]))
        .arg(t.path().join("r2")));
    assert_eq!(files_read(&second), 0, "no file is read again: {}", text(&second.stdout));
    let after = read_csv(&t.path().join("r2/signatures.csv"));
    assert!(
        after.iter().filter(|r| r["ca_id"] == "test-vnpt-ca").all(|r| r["ca_class"] == "foreign")
    );
    let full = run(bin()
        .arg("scan")
        .arg(&share)
        .args(["--rules", rules_arg, "--no-db", "--out"])
        .arg(t.path().join("full")));
    assert_eq!(code(&full), code(&second));
    assert_same_reports(&t.path().join("r2"), &t.path().join("full"));
}

pub fn three_monthly_audits_give_trends_changes_and_rebuildable_reports(backend: &Backend) {
    let t = tempfile::tempdir().unwrap();
    let share = t.path().join("share");
    std::fs::create_dir(&share).unwrap();
    let months = ["2025-01", "2025-02", "2025-03"];
    for (i, month) in months.iter().enumerate() {
        copy_tree(&root().join("tests/fixtures/history").join(month), &share.join(month));
        let out = scan_to(&share, &t.path().join(format!("r{}", i + 1)), &backend.with(&[]));
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        assert_eq!(files_read(&out), [2, 2, 3][i], "only the new month's documents are read");
        check_report(&t.path().join(format!("r{}", i + 1)));
    }
    let r3 = t.path().join("r3");
    let by = |rows: &[HashMap<String, String>],
              k1: &str,
              v1: &str,
              k2: &str,
              v2: &str|
     -> HashMap<String, String> {
        rows.iter()
            .find(|r| r[k1] == v1 && r[k2] == v2)
            .cloned()
            .unwrap_or_else(|| panic!("no {k1}={v1} {k2}={v2} in {rows:?}"))
    };
    // By signing month: what each month's documents used.
    let trend = read_csv(&r3.join("trend.csv"));
    let syt = "000.00.09.H56";
    let counts = |r: &HashMap<String, String>| {
        (r["government"].clone(), r["commercial"].clone(), r["migration_pct"].clone())
    };
    assert_eq!(
        counts(&by(&trend, "agency_id", syt, "month", "2025-01")),
        ("0".into(), "1".into(), "0.0".into())
    );
    assert_eq!(
        counts(&by(&trend, "agency_id", syt, "month", "2025-02")),
        ("1".into(), "1".into(), "50.0".into())
    );
    assert_eq!(
        counts(&by(&trend, "agency_id", syt, "month", "2025-03")),
        ("1".into(), "1".into(), "50.0".into())
    );
    // By audit: the state at each run.
    let audits = read_csv(&r3.join("audits.csv"));
    let at_run = |run: &str| counts(&by(&audits, "agency_id", syt, "run", run));
    assert_eq!(at_run("1"), ("0".into(), "1".into(), "0.0".into()));
    assert_eq!(at_run("2"), ("1".into(), "2".into(), "33.3".into()));
    assert_eq!(at_run("3"), ("2".into(), "3".into(), "40.0".into()));
    // Since the previous audit, person by person.
    let changes = read_csv(&r3.join("changes.csv"));
    let change_of = |who: &str| by(&changes, "signer_cn", who, "signer_cn", who)["change"].clone();
    assert_eq!(change_of("Hoàng Đức Thắng"), "migrated");
    assert_eq!(change_of("Phạm Quốc Hùng"), "still-commercial");
    assert_eq!(change_of("Vũ Văn Mới"), "new-commercial");
    assert!(
        !changes.iter().any(|c| c["signer_cn"] == "Lê Văn Minh"),
        "always on the government CA: no change"
    );
    let thang = by(&changes, "signer_cn", "Hoàng Đức Thắng", "signer_cn", "Hoàng Đức Thắng");
    let signatures = read_csv(&r3.join("signatures.csv"));
    let ca_of = |class: &str| {
        by(&signatures, "signer_cn", "Hoàng Đức Thắng", "ca_class", class)["ca_name"].clone()
    };
    assert_eq!(
        (thang["previous_ca"].clone(), thang["current_ca"].clone()),
        (ca_of("commercial"), ca_of("government"))
    );
    // The HTML shows both trends and the changes.
    let index = std::fs::read_to_string(r3.join("index.html")).unwrap();
    // Three runs in one month are one audit: the chart has one column, the latest run's.
    let chart = &index[index.find("id=\"audits\"").unwrap()..];
    let chart = &chart[..chart.find("</section>").unwrap()];
    let months: std::collections::BTreeSet<&str> =
        audits.iter().map(|a| &a["finished"][..7]).collect();
    assert_eq!(
        chart.matches("rotate(-45").count(),
        months.len(),
        "one column per audit month: {chart}"
    );
    let run3: Vec<_> =
        audits.iter().filter(|a| a["run"] == "3" && a["agency_id"] != "external").collect();
    let sum = |k: &str| run3.iter().map(|a| a[k].parse::<f64>().unwrap()).sum::<f64>();
    let pct = 100.0 * sum("government") / (sum("government") + sum("commercial") + sum("other"));
    assert!(
        chart.contains(&format!("\"middle\">{pct:.0}%</text>")),
        "the latest run's migration ({pct:.0}%): {chart}"
    );
    assert!(index.contains(">đã chuyển đổi</td>"), "migrated, in the changes table");
    let agency_page =
        std::fs::read_to_string(r3.join(format!("agencies/{syt}/report.html"))).unwrap();
    assert!(
        agency_page.contains("Hoàng Đức Thắng") && agency_page.contains("mới dùng CA công cộng")
    );

    // Reports rebuilt from the database alone equal the ones the scans wrote.
    std::fs::remove_dir_all(&share).unwrap();
    for (run_id, dir) in [("2", "r2"), ("3", "r3")] {
        let rebuilt = t.path().join(format!("rebuilt{run_id}"));
        let out = run(bin()
            .arg("report")
            .args(backend.with(&["--rules", &samples_rules(), "--run", run_id, "--out"]))
            .arg(&rebuilt));
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        assert_same_reports(&rebuilt, &t.path().join(dir));
        for extra in ["audits.csv", "changes.csv"] {
            assert_eq!(
                std::fs::read(rebuilt.join(extra)).unwrap(),
                std::fs::read(t.path().join(dir).join(extra)).unwrap(),
                "run {run_id}: {extra}"
            );
        }
        check_report(&rebuilt);
    }
    let listed = text(&run(bin().arg("report").args(backend.with(&["--list"]))).stdout);
    assert_eq!(listed.lines().count(), 4, "a header and three runs: {listed}");
    assert!(
        listed.starts_with("run\thost\tfinished\tlabel\tfiles\tsignatures\tmigration\tsources"),
        "{listed}"
    );
    assert!(
        listed.lines().skip(1).all(|l| l.split('\t').nth(6).is_some_and(|p| p.ends_with('%'))),
        "each run with its migration: {listed}"
    );
}
