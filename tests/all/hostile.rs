//! Hostile inputs (issue 14): each is built at test time by
//! tests/fixtures/make-hostile-inputs.py (some are hundreds of megabytes,
//! mostly sparse), scanned under a 1 GiB address-space limit, and must
//! finish within 60 s and 512 MiB of resident memory with an errors.csv
//! row or a correct result, never losing the other findings. The stalling
//! and flooding IMAP servers are in tests/all/safety.rs.

use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;

type Rows = Vec<HashMap<String, String>>;

/// Builds one case of the generator into a fresh folder.
fn make(case: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let script = root().join("tests/fixtures/make-hostile-inputs.py");
    assert!(
        Command::new("python3").arg(script).arg(dir.path()).arg(case).status().unwrap().success()
    );
    let folder = dir.path().join(case);
    (dir, folder)
}

/// Scans `path` with the samples' rules; asserts the bound and
/// returns signatures.csv and errors.csv.
fn scan_bounded(path: &Path, extra: &[&str]) -> (Rows, Rows) {
    let rules = root().join("samples/rules").display().to_string();
    let mut args = vec!["--rules", rules.as_str(), "--no-db"];
    args.extend_from_slice(extra);
    let (elapsed, rss, out) = bounded_scan(path, &args);
    let name = path.file_name().unwrap().to_string_lossy();
    eprintln!("{name}: {:.2} s, peak {} MiB", elapsed.as_secs_f64(), rss >> 20);
    assert!(elapsed < Duration::from_secs(60), "{name}: {elapsed:?}");
    assert!(rss < 512 << 20, "{name}: {} MiB", rss >> 20);
    let report = out.path().join("report");
    check_report(&report);
    (read_csv(&report.join("signatures.csv")), read_csv(&report.join("errors.csv")))
}

fn limit_rows<'a>(errors: &'a Rows, text: &str) -> Vec<&'a HashMap<String, String>> {
    errors.iter().filter(|e| e["stage"] == "limit" && e["error"].contains(text)).collect()
}

/// The sample's signer, as the samples' own scan reports it.
fn sample_xml_signer() -> String {
    let (rows, _) =
        scan_bounded(&root().join("samples/share/Sở Y tế/2025/Hóa đơn 0000456.xml"), &[]);
    rows[0]["signer_sha256"].clone()
}

#[test]
fn thousands_of_namespaces_in_scope_canonicalise_in_linear_time() {
    let (_t, dir) = make("xml-namespaces");
    let signer = sample_xml_signer();
    for (file, c14n) in [("exclusive.xml", "exclusive"), ("inclusive.xml", "inclusive")] {
        let started = std::time::Instant::now();
        let (rows, errors) = scan_bounded(&dir.join(file), &[]);
        // 137 s (inclusive) before canonicalisation was made linear.
        assert!(started.elapsed() < Duration::from_secs(10), "{c14n}: {:?}", started.elapsed());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["signer_sha256"], signer);
        assert_eq!(
            rows[0]["integrity"], "invalid",
            "{c14n}: the declarations were added after signing, so the digest differs"
        );
    }
}

#[test]
fn thousands_of_signatures_in_one_document_are_read_up_to_the_limit() {
    let (_t, dir) = make("xml-signatures");
    let (rows, errors) = scan_bounded(&dir.join("many-signatures.xml"), &[]);
    assert_eq!(
        limit_rows(&errors, "5000 signatures in one document: only the first 100 are read").len(),
        1,
        "{errors:?}"
    );
    // Either all hundred are read or the unit's time ran out first (a slow build): never silently
    // fewer.
    let timed_out = !limit_rows(&errors, "one unit may take (--unit-time)").is_empty();
    assert!(
        rows.len() == 100 || (timed_out && !rows.is_empty()),
        "{} rows, {errors:?}",
        rows.len()
    );
}

#[test]
fn a_zip_declaring_ten_million_entries_is_refused_before_reading_its_directory() {
    let (_t, dir) = make("zip-declared");
    let (rows, errors) = scan_bounded(&dir.join("declared.zip"), &[]);
    assert!(rows.is_empty());
    assert_eq!(
        limit_rows(&errors, "declares 10000000 members, more than 100000 (10 × --max-members)")
            .len(),
        1,
        "{errors:?}"
    );
}

#[test]
fn a_zip_repeating_one_name_ninety_thousand_times_is_read_within_bounds() {
    let (_t, dir) = make("zip-duplicates");
    let (rows, errors) = scan_bounded(&dir.join("duplicates.zip"), &[]);
    assert!(rows.is_empty(), "the members are empty: no signature");
    assert!(errors.iter().all(|e| e["stage"] == "limit"), "{errors:?}");
}

#[test]
fn a_pdf_of_a_million_objects_is_not_loaded_whole_and_its_signature_is_still_found() {
    let (_t, dir) = make("pdf-objects");
    let (rows, errors) = scan_bounded(&dir.join("objects.pdf"), &[]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rows.len(), 1, "the signature is found: {rows:?}");
    assert!(
        rows[0]["notes"].contains(
            "more than the 250000 loaded (memory bound): signature found by raw byte scan"
        ),
        "{rows:?}"
    );
    assert_ne!(
        rows[0]["modified_after_signing"], "false",
        "bytes were added after signing: never called unmodified"
    );
    assert_eq!(rows[0]["integrity"], "valid", "the signed bytes still verify");
}

#[test]
fn a_pdf_larger_than_the_memory_budget_is_streamed_when_unsigned_and_a_row_when_signed() {
    let (_t, dir) = make("pdf-large");
    let (rows, errors) = scan_bounded(&dir.join("unsigned.pdf"), &[]);
    assert!(
        rows.is_empty() && errors.is_empty(),
        "no marker, no signature, nothing to say: {errors:?}"
    );
    let (rows, errors) = scan_bounded(&dir.join("signed-300.pdf"), &[]);
    assert!(rows.is_empty());
    assert_eq!(
        limit_rows(
            &errors,
            "a file of 314606754 bytes: needs more than the 256 MiB one unit may use \
             (--unit-memory)"
        )
        .len(),
        1,
        "{errors:?}"
    );
    // 100 MB fits the default budget: read, its signature found; a smaller budget refuses it.
    let (rows, errors) = scan_bounded(&dir.join("signed-100.pdf"), &[]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (rows, errors) = scan_bounded(&dir.join("signed-100.pdf"), &["--unit-memory", "50000000"]);
    assert!(rows.is_empty());
    assert_eq!(
        limit_rows(&errors, "needs more than the 50000000 bytes one unit may use (--unit-memory)")
            .len(),
        1,
        "{errors:?}"
    );
}

/// Mailboxes are read past --max-file-size here, so the signed message
/// behind the monster is reached (by default the first 512 MiB are read
/// and a row says so).
const WHOLE_MAILBOX: [&str; 2] = ["--max-file-size", "4000000000"];

/// The signed message behind the first one is found; the first costs one row saying `why`.
fn only_the_first_message_is_lost(mbox: &Path, why: &str) {
    let (rows, errors) = scan_bounded(mbox, &WHOLE_MAILBOX);
    assert_eq!(rows.len(), 1, "{}: the signed message after the monster: {rows:?}", mbox.display());
    assert_eq!(rows[0]["format"], "smime");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["member"], "message 1");
    assert!(errors[0]["error"].contains(why), "{errors:?}");
}

#[test]
fn an_mbox_line_of_a_gigabyte_costs_its_message_only() {
    let (_t, dir) = make("mbox-long-line");
    only_the_first_message_is_lost(
        &dir.join("long-line.mbox"),
        "a line of 1073741826 bytes (over the 8388608 bytes a mail line may take)",
    );
    let (rows, errors) = scan_bounded(&dir.join("long-line.mbox"), &[]);
    assert!(rows.is_empty());
    assert_eq!(
        limit_rows(&errors, "only its first 536870912 bytes were read (--max-file-size)").len(),
        1,
        "{errors:?}"
    );
}

#[test]
fn a_message_of_600_mb_body_or_header_costs_that_message_only() {
    let (_t, dir) = make("mbox-large-message");
    let (_t2, headers) = make("eml-large-header");
    for mbox in [dir.join("large-message.mbox"), headers.join("folded-header.mbox")] {
        only_the_first_message_is_lost(
            &mbox,
            "reading it would need more than the 256 MiB one unit may use (--unit-memory, \
             --max-unpacked): not read",
        );
    }
    let (rows, errors) = scan_bounded(&headers.join("header.eml"), &[]);
    assert!(rows.is_empty());
    assert_eq!(
        limit_rows(
            &errors,
            "larger than the 536870912 byte limit for signed files (--max-file-size)"
        )
        .len(),
        1,
        "{errors:?}"
    );
}

#[test]
fn a_large_base64_smime_part_stays_within_the_unit_memory_budget() {
    let (_t, dir) = make("smime-large-base64");
    // 250 MB: the message and its decoded part would not fit in 256 MiB.
    let (rows, errors) = scan_bounded(&dir.join("large.eml"), &[]);
    assert!(rows.is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        limit_rows(&errors, "needs more than the 256 MiB one unit may use (--unit-memory)").len()
            == 1,
        "{errors:?}"
    );
    // 90 MB fits: decoded and parsed, its (synthetic, broken) signed-data is a cms row.
    let (rows, errors) = scan_bounded(&dir.join("medium.eml"), &[]);
    assert!(rows.is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["stage"], "cms", "{errors:?}");
    // A smaller budget refuses it too, with the flag's figure.
    let (_, errors) = scan_bounded(&dir.join("medium.eml"), &["--unit-memory", "100000000"]);
    assert_eq!(
        limit_rows(&errors, "needs more than the 100000000 bytes one unit may use (--unit-memory)")
            .len(),
        1,
        "{errors:?}"
    );
}

#[test]
fn an_mbox_that_grows_while_read_is_read_up_to_its_size_at_open_and_noted() {
    let t = tempfile::tempdir().unwrap();
    let mbox = t.path().join("growing.mbox");
    let mut seed = std::fs::read(root().join("samples/share/Sở Y tế/Hộp thư/vanthu.mbox")).unwrap();
    // Filler messages so that reading takes a while.
    let filler =
        b"From a@example.org Mon Jan  6 08:00:00 2025\nFrom: a@example.org\nSubject: filler\n\n"
            .iter()
            .chain(&[b'x'; 1000])
            .chain(b"\n\n")
            .copied()
            .collect::<Vec<u8>>();
    for _ in 0..50_000 {
        seed.extend_from_slice(&filler);
    }
    std::fs::write(&mbox, &seed).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (mbox, stop) = (mbox.clone(), stop.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&mbox).unwrap();
            let mut appended = 0u64;
            // Appends signed messages for as long as the scan runs (at most 60 s, 3 GB).
            let signed =
                std::fs::read(root().join("samples/share/Sở Y tế/Hộp thư/vanthu.mbox")).unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && appended < 3 << 30 {
                f.write_all(&signed).unwrap();
                appended += signed.len() as u64;
                std::thread::sleep(Duration::from_millis(1));
            }
            appended
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    let (rows, errors) = scan_bounded(&mbox, &[]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let appended = writer.join().unwrap();
    assert!(appended > 0);
    let grew = errors
        .iter()
        .filter(|e| e["stage"] == "read" && e["error"].contains("the file grew while it was read"))
        .count();
    assert_eq!(grew, 1, "{errors:?}");
    // The five signatures of the seed, and those of copies appended before it was opened.
    assert!(rows.len() >= 5, "{} rows", rows.len());
}
