//! The scan knows its incremental cache only through `scan::Cache`: an
//! in-memory cache (no SQLite) serves a second scan completely, with the
//! same findings, and a changed file is read again.

use std::collections::HashMap;
use std::sync::Mutex;

use sigaudit::AnchorStore;
use sigaudit::Dependency;
use sigaudit::Extraction;
use sigaudit::Rules;
use sigaudit::{Cache, Progress, ScanOptions, run_scan};

use crate::common;

/// (size, mtime) and what was extracted, by file key.
type Entries = HashMap<String, ((u64, i128), Extraction)>;

#[derive(Default)]
struct MemoryCache(Mutex<Entries>);

impl Cache for MemoryCache {
    fn lookup(&self, key: &str, stamp: (u64, i128)) -> Option<Extraction> {
        let entries = self.0.lock().unwrap();
        entries.get(key).filter(|(s, _)| *s == stamp).map(|(_, e)| e.clone())
    }

    fn remember(
        &self,
        key: String,
        stamp: (u64, i128),
        extraction: &Extraction,
        _depends_on: Vec<Dependency>,
    ) {
        self.0.lock().unwrap().insert(key, (stamp, extraction.clone()));
    }
}

#[test]
fn a_scan_is_served_by_any_cache_and_reads_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let share = dir.path().join("share");
    std::fs::create_dir(&share).unwrap();
    for f in [
        "Sở Nội vụ/Thỏa thuận hợp tác.pdf",
        "Sở Xây dựng/Hợp đồng (RSA-PSS).pdf",
        "Sở Tài chính/Dự toán 2025.csv.p7m",
    ] {
        let from = common::root().join("samples/share").join(f);
        std::fs::copy(&from, share.join(from.file_name().unwrap())).unwrap();
    }
    let rules = Rules::load(Some(&common::root().join("samples/rules"))).unwrap();
    let anchors = AnchorStore::load(&rules.anchor_dirs);
    let opts = ScanOptions { sources: vec![share.clone()], ..ScanOptions::default() };
    let cache = MemoryCache::default();
    let rows = |r: &sigaudit::ScanResult| {
        r.findings
            .iter()
            .map(|f| format!("{} {} {}", f.file, f.signer_sha256, f.integrity.as_str()))
            .collect::<Vec<_>>()
    };

    let (first, visited) = run_scan(&opts, &rules, &anchors, &Progress::default(), Some(&cache));
    assert_eq!(visited.files_read, 3);
    assert_eq!(first.findings.len(), 3);
    let (second, visited) = run_scan(&opts, &rules, &anchors, &Progress::default(), Some(&cache));
    assert_eq!(visited.files_read, 0, "every file served by the cache");
    assert_eq!(rows(&second), rows(&first));

    // A file that changes (here: its modification time) is read again.
    let touched = share.join("Thỏa thuận hợp tác.pdf");
    std::fs::File::options()
        .write(true)
        .open(&touched)
        .unwrap()
        .set_modified(
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
        )
        .unwrap();
    let (third, visited) = run_scan(&opts, &rules, &anchors, &Progress::default(), Some(&cache));
    assert_eq!(visited.files_read, 1);
    assert_eq!(rows(&third), rows(&first));
}

/// The cache key is built from named fields (session::cache_key), and is
/// the text earlier versions made from the options' `Debug` text: a
/// history written by them keeps its cache (no file is read again after
/// an upgrade for that reason alone).
#[test]
fn the_cache_key_names_every_bound_as_earlier_versions_did() {
    use sigaudit::Limits;
    use sigaudit::ReadLimits;
    use sigaudit::UnitBudget;
    let earlier = |r: &ReadLimits, l: &Limits| {
        format!(
            "sigaudit {} stored {} {:?} {:?}",
            sigaudit::VERSION,
            sigaudit::STORED_VERSION,
            r,
            l
        )
    };
    let odd = (
        ReadLimits { max_file_bytes: 12_345, sniff_bytes: 77 },
        Limits {
            max_depth: 3,
            max_unpacked_bytes: 99,
            max_members: 5,
            max_ratio: 7,
            unit: UnitBudget { time: std::time::Duration::from_millis(1500), memory: 4242 },
        },
    );
    for (r, l) in [(ReadLimits::default(), Limits::default()), odd] {
        assert_eq!(sigaudit::cache_key(&r, &l), earlier(&r, &l));
    }
    // Every bound changes the key (a file cut short by a smaller bound is read again).
    let base = sigaudit::cache_key(&ReadLimits::default(), &Limits::default());
    let d = Limits::default();
    let changed = [
        Limits { max_depth: d.max_depth + 1, ..d },
        Limits { max_unpacked_bytes: d.max_unpacked_bytes + 1, ..d },
        Limits { max_members: d.max_members + 1, ..d },
        Limits { max_ratio: d.max_ratio + 1, ..d },
        Limits { unit: UnitBudget { memory: d.unit.memory + 1, ..d.unit }, ..d },
        Limits { unit: UnitBudget { time: d.unit.time * 2, ..d.unit }, ..d },
    ];
    for l in changed {
        assert_ne!(sigaudit::cache_key(&ReadLimits::default(), &l), base, "{l:?}");
    }
    assert_ne!(
        sigaudit::cache_key(&ReadLimits { max_file_bytes: 1, ..ReadLimits::default() }, &d),
        base
    );
}
