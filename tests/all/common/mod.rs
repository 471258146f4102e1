//! Helpers for the integration tests: run the real binary, read the real
//! report files, call the shared report checker.
#![allow(dead_code)]

pub mod history_cases;
pub mod report_check;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Keeps the binary away from any anchors folder of the machine's user.
const NO_ANCHORS: (&str, &str) = ("SIGAUDIT_ANCHORS", "/nonexistent/sigaudit-test-anchors");

/// The binary, isolated from any anchors folder of the machine's user.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sigaudit"));
    c.env(NO_ANCHORS.0, NO_ANCHORS.1);
    c
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the tests that compare with third-party files find them:
/// `../shared` beside the repository (other projects' files, kept out of
/// this repository for their licences and sizes). Optional: a clone
/// alone still runs every test that needs nothing from it.
pub fn shared_dir() -> PathBuf {
    root().join("../shared")
}

/// The file where skipped tests are listed, so that `scripts/test` can
/// print them after `cargo test` (which captures a passing test's output).
pub fn skips_file() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root().join("target"), PathBuf::from)
        .join("shared-skips.txt")
}

/// `../shared/<what>` when it is there; otherwise says that `test` did
/// not run and why (printed, and appended to [`skips_file`] for the
/// summary) and returns None: the caller returns without asserting.
pub fn shared_or_skip(test: &str, what: &str) -> Option<PathBuf> {
    let p = shared_dir().join(what);
    if p.exists() {
        return Some(p);
    }
    skip(test, &format!("needs ../shared/{what}"));
    None
}

/// Says that `test` did not run and why: printed, and appended to
/// [`skips_file`] for the summary `scripts/test` prints.
pub fn skip(test: &str, why: &str) {
    let line = format!("skipped: {test}: {why}");
    println!("{line}");
    // One short write in append mode: the test binaries that run at once
    // do not interleave their lines.
    let file = skips_file();
    let _ = std::fs::create_dir_all(file.parent().unwrap_or(Path::new(".")));
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&file) {
        use std::io::Write;
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("sigaudit runs")
}

pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally, not by a signal")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A CSV report file as a list of column -> value maps (BOM checked).
pub fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(raw.starts_with(b"\xef\xbb\xbf"), "{} has no UTF-8 BOM", path.display());
    let mut r = csv::Reader::from_reader(&raw[3..]);
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    r.records()
        .map(|rec| header.iter().cloned().zip(rec.unwrap().iter().map(str::to_owned)).collect())
        .collect()
}

/// Checks a report folder against the project's documented format
/// (report_check.rs) and asserts it has no problem.
pub fn check_report(dir: &Path) {
    let problems = report_check::problems(dir);
    assert!(
        problems.is_empty(),
        "the report in {} breaks its format:\n{}",
        dir.display(),
        problems.join("\n")
    );
}

/// Scans `sources` into a fresh report folder; returns (output, report dir).
pub fn scan(sources: &[&Path], extra: &[&str]) -> (Output, tempfile::TempDir) {
    let out_dir = tempfile::tempdir().unwrap();
    let report = out_dir.path().join("report");
    let mut cmd = bin();
    cmd.arg("scan").args(sources).arg("--out").arg(&report).args(extra);
    let out = run(&mut cmd);
    (out, out_dir)
}

pub fn report_dir(t: &tempfile::TempDir) -> PathBuf {
    t.path().join("report")
}

/// Rows of signatures.csv whose file ends with `suffix`.
pub fn rows_for<'a>(
    rows: &'a [HashMap<String, String>],
    suffix: &str,
) -> Vec<&'a HashMap<String, String>> {
    rows.iter().filter(|r| r["file"].ends_with(suffix)).collect()
}

/// xorshift: deterministic, so a failing generated or mutated input
/// reproduces from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// `share/Sở Tài chính/` under `dir` filled with `n` copies of one of the
/// samples' signed files (a large tree made at test time); returns the place.
/// How many files make a scan last long enough to be watched (a progress
/// bar drawn, a scan stopped midway): the release build is ten times faster.
pub fn enough_to_watch(debug: usize) -> usize {
    if cfg!(debug_assertions) { debug } else { debug * 10 }
}

pub fn copies_of_a_signed_file(dir: &Path, n: usize) -> PathBuf {
    let place = dir.join("share/Sở Tài chính");
    std::fs::create_dir_all(&place).unwrap();
    let signed =
        std::fs::read(root().join("samples/share/Sở Tài chính/Dự toán 2025.csv.p7m")).unwrap();
    for i in 0..n {
        std::fs::write(place.join(format!("{i:05} Dự toán.csv.p7m")), &signed).unwrap();
    }
    place
}

/// Runs `sigaudit scan SOURCE` as a hostile input would meet it: under an
/// address-space limit of 1 GiB (`prlimit --as`: a runaway allocation
/// fails instead of taking the machine), timed, with its own peak
/// resident memory as it reports it (VmHWM; getrusage would count the
/// forking test process too). Returns wall time, peak bytes, report folder.
pub fn bounded_scan(
    source: &Path,
    extra: &[&str],
) -> (std::time::Duration, u64, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={}", 1u64 << 30)).arg("--").arg(env!("CARGO_BIN_EXE_sigaudit"));
    cmd.env(NO_ANCHORS.0, NO_ANCHORS.1);
    cmd.arg("scan").arg(source).arg("--out").arg(out.path().join("report")).args(extra);
    let start = std::time::Instant::now();
    let output = run(&mut cmd);
    let elapsed = start.elapsed();
    assert!([0, 2].contains(&code(&output)), "exit {}: {}", code(&output), text(&output.stderr));
    let stdout = text(&output.stdout);
    let mib: u64 = stdout
        .split("peak memory ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    (elapsed, mib << 20, out)
}
