//! Bad input never stops a scan or loses other findings: each problem is
//! one errors.csv row with a clear reason, and the exit code is 2.

use crate::common;

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use common::*;

fn sample(rel: &str) -> std::path::PathBuf {
    root().join("samples/share").join(rel)
}

fn is_root() -> bool {
    unsafe_free_euid() == 0
}

fn unsafe_free_euid() -> u32 {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    text(&out.stdout).trim().parse().unwrap()
}

fn build_tree(dir: &Path) {
    std::fs::create_dir_all(dir.join("Sở Y tế")).unwrap();
    std::fs::copy(sample("Sở Y tế/2025/Công văn 56-SYT.pdf"), dir.join("Sở Y tế/good.pdf"))
        .unwrap();
    let good = std::fs::read(sample("Sở Y tế/2025/Công văn 56-SYT.pdf")).unwrap();
    // Cut inside the signature value (an interrupted copy).
    let value = good.windows(11).position(|w| w == b"/Contents <").unwrap();
    std::fs::write(dir.join("truncated.pdf"), &good[..value + 2000]).unwrap();
    std::fs::write(dir.join("garbage.pdf"), b"\x00\x01not a pdf at all").unwrap();
    // A file name that is not UTF-8 (Windows-1258 bytes for "Hóa").
    let name = std::ffi::OsStr::from_bytes(b"H\xf3a \xd0\xf5n.pdf");
    std::fs::copy(sample("Sở Tài chính/Tờ trình 12-STC.pdf"), dir.join(name)).unwrap();
    // A symbolic link loop.
    std::os::unix::fs::symlink("..", dir.join("Sở Y tế/loop")).unwrap();
    // A link to nothing.
    std::os::unix::fs::symlink("/nonexistent/file.pdf", dir.join("dangling.pdf")).unwrap();
    // Unreadable for anyone but root.
    let locked = dir.join("locked.pdf");
    std::fs::copy(sample("Sở Y tế/2025/Công văn 56-SYT.pdf"), &locked).unwrap();
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
}

#[test]
fn every_bad_input_is_an_error_row_and_findings_survive() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("share");
    build_tree(&tree);
    let rules = root().join("samples/rules");
    let (out, dir) = scan(&[&tree], &["--rules", rules.to_str().unwrap(), "--follow-symlinks"]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let report = report_dir(&dir);
    check_report(&report);
    let errors = read_csv(&report.join("errors.csv"));
    let find = |needle: &str| {
        errors
            .iter()
            .find(|e| e["file"].contains(needle) || e["error"].contains(needle))
            .map(|e| format!("{} | {} | {}", e["file"], e["stage"], e["error"]))
    };
    assert!(find("symbolic link loop").is_some(), "{errors:?}");
    assert!(find("dangling.pdf").is_some(), "{errors:?}");
    assert!(find("not valid UTF-8").is_some(), "{errors:?}");
    assert!(find("truncated.pdf").unwrap().contains("truncated or damaged"), "{errors:?}");
    assert!(find("garbage.pdf").unwrap().contains("not a PDF"), "{errors:?}");
    let rows = read_csv(&report.join("signatures.csv"));
    // The good file, the non-UTF-8-named file (still scanned) and, when the
    // test cannot lock root out, the locked file.
    assert_eq!(rows_for(&rows, "good.pdf").len(), 1);
    assert_eq!(
        rows.iter().filter(|r| r["signer_cn"] == "Phạm Quốc Hùng").count(),
        1,
        "non-UTF-8 name still scanned"
    );
    if is_root() {
        assert_eq!(rows_for(&rows, "locked.pdf").len(), 1, "root reads mode 000 files");
    } else {
        assert!(find("locked.pdf").unwrap().contains("cannot read"), "{errors:?}");
    }
}

#[test]
fn never_touches_access_times() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("doc.pdf");
    std::fs::copy(sample("Sở Y tế/2025/Công văn 56-SYT.pdf"), &file).unwrap();
    // atime older than mtime: any ordinary read would update it (relatime).
    let st = std::process::Command::new("touch")
        .args(["-a", "-d", "2001-02-03 04:05:06"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(st.success());
    let before = std::fs::metadata(&file).unwrap().accessed().unwrap();
    let (out, dir) = scan(&[tmp.path()], &[]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(read_csv(&report_dir(&dir).join("signatures.csv")).len(), 1, "the file was read");
    assert_eq!(before, std::fs::metadata(&file).unwrap().accessed().unwrap(), "atime changed");
}

#[test]
fn refuses_to_write_inside_the_scanned_tree() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.txt"), "x").unwrap();
    let out = run(bin().arg("scan").arg(tmp.path()).arg("--out").arg(tmp.path().join("report")));
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).contains("inside the scanned source"), "{}", text(&out.stderr));
    assert!(!tmp.path().join("report").exists());
}

#[test]
fn usage_mistakes_exit_1() {
    assert_eq!(code(&run(bin().arg("scan"))), 1);
    assert_eq!(code(&run(bin().args(["scan", "/nonexistent/share"]))), 1);
    assert_eq!(code(&run(bin().args(["scan", ".", "--exclude", "a[", "--out", "/tmp/x"]))), 1);
    assert_eq!(code(&run(bin().args(["frobnicate"]))), 1);
    assert_eq!(code(&run(bin().args(["--help"]))), 0);
}

/// Issue 15: an empty file named as a format sigaudit reads is a row, the
/// same row whatever the format (an empty .xml was silently skipped while
/// an empty .pdf said "not a PDF"); other empty files are not its business.
#[test]
fn empty_files_of_every_recognised_format_are_the_same_row() {
    let t = tempfile::tempdir().unwrap();
    let share = t.path().join("share");
    std::fs::create_dir(&share).unwrap();
    let named = [
        "hoá đơn.xml",
        "công văn.pdf",
        "chữ ký.p7s",
        "tờ trình.docx",
        "bảng.ods",
        "thư.eml",
        "hồ sơ.zip",
    ];
    for name in named.iter().chain(&["ghi chú.txt", "ảnh.jpg"]) {
        std::fs::write(share.join(name), b"").unwrap();
    }
    let (out, dir) = scan(&[&share], &["--no-db"]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let errors = read_csv(&report_dir(&dir).join("errors.csv"));
    assert_eq!(errors.len(), named.len(), "{errors:?}");
    for name in named {
        let row = errors
            .iter()
            .find(|e| e["file"].ends_with(name))
            .unwrap_or_else(|| panic!("{name}: {errors:?}"));
        assert_eq!(
            (row["stage"].as_str(), row["error"].as_str()),
            ("read", "an empty file (0 bytes): nothing in it to check")
        );
    }
}

/// Issue 16: a PDF larger than what is streamed for its markers first
/// (128 KiB) keeps every fallback: the truncated signed sample (no
/// /ByteRange left, only its damaged signature) grown past it with a long
/// comment is still an error row saying it was cut, and a signed sample so
/// grown still gives its two signature rows.
#[test]
fn large_pdfs_streamed_for_their_markers_lose_no_signature() {
    let dir = tempfile::tempdir().unwrap();
    let grow = |src: &str, to: &str| {
        let bytes = std::fs::read(root().join(src)).unwrap();
        let eol = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        // A comment after the header line: what a reader skips, 600 KB of it.
        let padding: Vec<u8> =
            (0..600).flat_map(|_| [b"%".as_slice(), &[b'x'; 998], b"\n"].concat()).collect();
        std::fs::write(dir.path().join(to), [&bytes[..eol], &padding, &bytes[eol..]].concat())
            .unwrap();
    };
    grow("samples/share/Tài liệu lỗi/Cắt cụt giữa chữ ký.pdf", "cat-cut.pdf");
    grow("samples/share/Sở Y tế/2025/Tờ trình (ký 2 lần).pdf", "to-trinh.pdf");
    let (out, report) = scan(
        &[dir.path()],
        &["--no-db", "--rules", root().join("samples/rules").to_str().unwrap()],
    );
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let errors = read_csv(&report_dir(&report).join("errors.csv"));
    assert!(
        errors
            .iter()
            .any(|e| e["file"].ends_with("cat-cut.pdf") && e["error"].contains("truncated")),
        "{errors:?}"
    );
    // Both signatures are rows (the padding moved the signed bytes: they no longer verify).
    let rows = read_csv(&report_dir(&report).join("signatures.csv"));
    let grown: Vec<_> = rows.iter().filter(|r| r["file"].ends_with("to-trinh.pdf")).collect();
    assert_eq!(grown.len(), 2, "{grown:?}");
}
