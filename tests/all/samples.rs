//! The committed samples/ tree (TEST PKIs, real pyHanko and openssl
//! signatures): README's main command, end to end.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

fn samples_scan() -> (std::process::Output, tempfile::TempDir) {
    let root = root();
    scan(&[&root.join("samples/share")], &["--rules", root.join("samples/rules").to_str().unwrap()])
}

/// (size, mtime) of every file under `dir`, to prove nothing was changed.
fn snapshot(dir: &Path) -> BTreeMap<String, (u64, std::time::SystemTime)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .map(|e| {
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            (e.path().display().to_string(), (m.len(), m.modified().unwrap()))
        })
        .collect()
}

#[test]
fn classifies_every_sample_signature() {
    let share = root().join("samples/share");
    let before = snapshot(&share);
    let (out, dir) = samples_scan();
    assert_eq!(code(&out), 2, "malformed samples make exit code 2\n{}", text(&out.stderr));
    assert_eq!(before, snapshot(&share), "the scanned tree must not change");
    let report = report_dir(&dir);
    check_report(&report);
    let rows = read_csv(&report.join("signatures.csv"));
    let class_of = |suffix: &str| -> Vec<(String, String, String, String)> {
        rows_for(&rows, suffix)
            .iter()
            .map(|r| {
                (
                    r["ca_class"].clone(),
                    r["classified_by"].clone(),
                    r["chain"].clone(),
                    r["ca_id"].clone(),
                )
            })
            .collect()
    };
    let gov = |ca: &str| {
        ("government".to_string(), "chain".to_string(), "verified".to_string(), ca.to_string())
    };
    let com = |ca: &str| {
        ("commercial".to_string(), "chain".to_string(), "verified".to_string(), ca.to_string())
    };
    // TEST government chains, G2 (Vietnamese names) and G1 (ASCII names),
    // with the issuer embedded or only in the anchors folder.
    assert_eq!(class_of("Công văn 56-SYT.pdf"), vec![gov("test-vgca-g2-nha-nuoc")]);
    assert_eq!(class_of("Kế hoạch tiêm chủng.pdf"), vec![gov("test-vgca-g2-nha-nuoc")]);
    assert_eq!(class_of("Quyết định 1234-QĐ-UBND.pdf"), vec![gov("test-vgca-g1-chinh-phu")]);
    assert_eq!(class_of("Thông báo 15-TB-UBND.pdf"), vec![gov("test-vgca-g1-chinh-phu")]);
    // TEST commercial chains: PDF, detached PEM .p7s, attached DER .p7m, bare base64 .p7m.
    assert_eq!(class_of("Báo cáo quý 4-2024.pdf"), vec![com("test-vnpt-ca")]);
    assert_eq!(class_of("Tờ trình 12-STC.pdf"), vec![com("test-vnpt-ca")]);
    assert_eq!(class_of("Hợp đồng mua sắm.pdf.p7s"), vec![com("test-vnpt-ca")]);
    assert_eq!(class_of("Dự toán 2025.csv.p7m"), vec![com("test-vnpt-ca")]);
    assert_eq!(class_of("Hóa đơn 123.xml.p7m"), vec![com("test-viettel-ca")]);
    assert_eq!(class_of("Quyết định 45-QĐ-UBND.pdf"), vec![com("test-viettel-ca")]);
    // Two signatures in two revisions: commercial first, then government.
    let twice = rows_for(&rows, "Tờ trình (ký 2 lần).pdf");
    let fields: Vec<_> =
        twice.iter().map(|r| (r["member"].as_str(), r["ca_class"].as_str())).collect();
    assert_eq!(fields, vec![("Signature1", "commercial"), ("Signature2", "government")]);
    // The forged "government" chain is never government.
    let forged = rows_for(&rows, "Kết quả thi (giả mạo).pdf");
    assert_eq!(forged.len(), 1);
    assert_eq!(
        (forged[0]["ca_class"].as_str(), forged[0]["chain"].as_str(), forged[0]["ca_id"].as_str()),
        ("untrusted", "broken", "")
    );
    assert!(forged[0]["notes"].contains("FORGERY"), "{}", forged[0]["notes"]);
    assert_eq!(forged[0]["root_cn"], "", "a forger's root is not reported as a root");
    assert_eq!(class_of("Thỏa thuận hợp tác.pdf")[0].0, "foreign");
    assert_eq!(class_of("Biên bản (tự ký).pdf")[0].0, "self-signed");
    let unknown = rows_for(&rows, "Hợp đồng ABC.pdf");
    assert_eq!(
        (unknown[0]["ca_class"].as_str(), unknown[0]["chain"].as_str()),
        ("untrusted", "incomplete")
    );
    // The raw byte scan recovers the signer of a file whose xref is gone.
    assert_eq!(class_of("Mất trailer.pdf"), vec![gov("test-vgca-g2-nha-nuoc")]);
    // BMPString subject names decode to Vietnamese text.
    assert_eq!(rows_for(&rows, "Tờ trình 12-STC.pdf")[0]["signer_cn"], "Phạm Quốc Hùng");
    // XML e-invoices, LibreOffice documents and a nested ZIP.
    assert_eq!(class_of("Hóa đơn 0000456.xml"), vec![gov("test-vgca-g2-nha-nuoc")]);
    assert_eq!(class_of("Công văn 20-SYT.odt"), vec![gov("test-vgca-g2-nha-nuoc")]);
    assert_eq!(class_of("Báo cáo tài chính 2024.docx"), vec![com("test-vnpt-ca")]);
    assert_eq!(class_of("Dự toán 2025.ods"), vec![com("test-vnpt-ca")]);
    assert_eq!(
        class_of("Thông điệp hóa đơn (2 chữ ký).xml"),
        vec![gov("test-vgca-g2-nha-nuoc"), com("test-vnpt-ca")]
    );
    let formats: Vec<&str> =
        rows_for(&rows, "Hồ sơ dự án.zip").iter().map(|r| r["format"].as_str()).collect();
    assert_eq!(formats.len(), 3, "a PDF, and an XML and an ODT in the inner ZIP");
    assert_eq!(rows.len(), 48);
}

#[test]
fn attributes_each_signature_to_its_signer_and_keeps_where_it_was_found() {
    let (_, dir) = samples_scan();
    let rows = read_csv(&report_dir(&dir).join("signatures.csv"));
    let who = |suffix: &str| {
        let r = rows_for(&rows, suffix)[0];
        (r["agency_id"].clone(), r["attributed_by"].clone(), r["found_in"].clone())
    };
    let w = |a: &str, by: &str, place: &str| (a.to_owned(), by.to_owned(), place.to_owned());
    assert_eq!(
        who("Công văn 56-SYT.pdf"),
        w("000.00.09.H56", "certificate", "000.00.09.H56"),
        "a Sở Y tế signer in the Sở Y tế folder"
    );
    assert_eq!(
        who("Quyết định 1234-QĐ-UBND.pdf"),
        w("000.00.00.H56", "certificate", "000.00.00.H56")
    );
    // A Sở Y tế official's decision filed by Sở Tư pháp counts for Sở Y tế.
    assert_eq!(
        who("Công văn 78 (sửa 1 byte).pdf"),
        w("000.00.09.H56", "certificate", "000.00.03.H56")
    );
    // A shared folder no path rule covers: the signer's O= names the agency ...
    assert_eq!(
        who("Công văn Hoằng Hóa gửi tỉnh.pdf"),
        w("000.00.35.H56", "certificate", "unassigned")
    );
    // ... or the e-mail domain in the signer certificate.
    assert_eq!(who("Hóa đơn 123.xml.p7m"), w("000.00.35.H56", "certificate", "unassigned"));
    // A company's contract and a foreign adviser's agreement: external.
    assert_eq!(who("Hợp đồng ABC.pdf"), w("external", "external", "unassigned"));
    assert_eq!(who("Thỏa thuận hợp tác.pdf"), w("external", "external", "000.00.01.H56"));
    let agencies = read_csv(&report_dir(&dir).join("agencies.csv"));
    let row = |id: &str| agencies.iter().find(|a| a["agency_id"] == id).unwrap();
    let syt = row("000.00.09.H56");
    // Its own signers' signatures wherever they were found: the Sở Y tế
    // folder and mailbox, the documents it sent to Sở Tư pháp and Sở Xây
    // dựng, the Maildir of Sở Tài chính, shared folders.
    assert_eq!(
        (syt["signatures"].as_str(), syt["government"].as_str(), syt["commercial"].as_str()),
        ("20", "16", "4")
    );
    assert_eq!(syt["migration_pct"], "80.0");
    assert_eq!(syt["signers_commercial"], "1");
    assert_eq!(syt["received"], "1", "Sở Tài chính's signed mail in the Sở Y tế mailbox");
    let mail_from_stc = rows
        .iter()
        .find(|r| r["file"].ends_with("vanthu.mbox") && r["signer_cn"] == "Phạm Quốc Hùng")
        .unwrap();
    assert_eq!(
        (
            mail_from_stc["agency_id"].as_str(),
            mail_from_stc["attributed_by"].as_str(),
            mail_from_stc["found_in"].as_str()
        ),
        ("000.00.02.H56", "certificate", "000.00.09.H56")
    );
    // The HTML shows both apart: the Sở Y tế page lists what it received.
    let page = std::fs::read_to_string(report_dir(&dir).join("agencies/000.00.09.H56/report.html"))
        .unwrap();
    let received = page
        .split("Nhận từ cơ quan khác và từ bên ngoài (1)")
        .nth(1)
        .expect("a received section on the Sở Y tế page");
    assert!(received.split("</section>").next().unwrap().contains("Phạm Quốc Hùng"));
    let external_page =
        std::fs::read_to_string(report_dir(&dir).join("agencies/external/report.html")).unwrap();
    assert!(
        external_page.contains("không tính vào tỷ lệ chuyển đổi")
            && external_page.contains("Công ty Cổ phần Xây dựng Sông Mã")
    );
    // The samples made for attribution (samples/make-attribution-samples.py):
    // a construction company's contract filed by Sở Xây dựng is external;
    assert_eq!(
        who("Hợp đồng thi công (công ty ký).txt.p7m"),
        w("external", "external", "000.00.04.H56")
    );
    // a citizen's application (personal certificate, no O) stays with its place;
    assert_eq!(
        who("Đơn đề nghị (công dân ký).txt.p7m"),
        w("000.00.03.H56", "location", "000.00.03.H56")
    );
    // a signature without its certificate is still a signature.
    let nocert = rows_for(&rows, "Công văn (không kèm chứng thư).txt.p7m")[0];
    assert_eq!(
        (
            nocert["chain"].as_str(),
            nocert["classified_by"].as_str(),
            nocert["ca_class"].as_str(),
            nocert["signer_sha256"].as_str()
        ),
        ("no-certificate", "none", "untrusted", "")
    );
    assert_eq!(
        (nocert["agency_id"].as_str(), nocert["attributed_by"].as_str()),
        ("000.00.01.H56", "location")
    );
    // Sở Tư pháp's own figure is its citizen-facing counter's one signature;
    // the two Sở Y tế documents it holds are received, not its own.
    assert_eq!(
        (
            row("000.00.03.H56")["signatures"].as_str(),
            row("000.00.03.H56")["migration_pct"].as_str(),
            row("000.00.03.H56")["received"].as_str()
        ),
        ("1", "0.0", "2")
    );
    // An agency that signed nothing has no figure (not 0 %).
    assert_eq!(
        (
            row("000.00.06.H56")["signatures"].as_str(),
            row("000.00.06.H56")["migration_pct"].as_str()
        ),
        ("0", "")
    );
    // External: listed, never a percentage, not in the province's figure.
    assert_eq!(
        (row("external")["signatures"].as_str(), row("external")["migration_pct"].as_str()),
        ("3", "")
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report_dir(&dir).join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["totals"]["signatures"], 45, "48 signatures, 3 of them external");
    assert_eq!(summary["totals"]["migration_pct"], 46.7);
    for a in &agencies {
        let d = report_dir(&dir).join("agencies").join(&a["agency_id"]);
        assert!(
            d.join("report.html").is_file()
                && d.join("signatures.csv").is_file()
                && d.join("signers.csv").is_file(),
            "{}",
            d.display()
        );
    }
    let signers = read_csv(&report_dir(&dir).join("signers.csv"));
    let hung = signers.iter().find(|s| s["signer_cn"] == "Phạm Quốc Hùng").unwrap();
    // Every document Phạm Quốc Hùng signed, wherever it was found: Tờ trình
    // 12, the detached .p7s with and without its data, the .p7m, two
    // Maildir messages, the .docx, the .ods, the shared e-invoice, the copy
    // in the Sở Xây dựng ZIP and his mail in the Sở Y tế mailbox.
    assert_eq!(
        (hung["agency_id"].as_str(), hung["ca_class"].as_str(), hung["documents"].as_str()),
        ("000.00.02.H56", "commercial", "11")
    );
    let trend = read_csv(&report_dir(&dir).join("trend.csv"));
    let syt_2025_02 = trend
        .iter()
        .find(|t| t["agency_id"] == "000.00.09.H56" && t["month"] == "2025-02")
        .unwrap();
    assert_eq!(
        (syt_2025_02["government"].as_str(), syt_2025_02["migration_pct"].as_str()),
        ("4", "100.0")
    );
    assert!(
        !trend.iter().any(|t| t["agency_id"] == "external"),
        "external signatures are not a trend"
    );
}

#[test]
fn malformed_samples_become_error_rows() {
    let (_, dir) = samples_scan();
    let errors = read_csv(&report_dir(&dir).join("errors.csv"));
    let reason = |suffix: &str| {
        errors
            .iter()
            .find(|e| e["file"].ends_with(suffix))
            .map(|e| (e["stage"].clone(), e["error"].clone()))
    };
    let (stage, msg) = reason("Contents không phải DER.pdf").expect("a /Contents that is not DER");
    assert_eq!(stage, "cms");
    assert!(msg.contains("not a CMS signature"), "{msg}");
    assert!(reason("Cắt cụt giữa chữ ký.pdf").unwrap().1.contains("truncated"));
    assert!(reason("Rác.pdf").unwrap().1.contains("not a PDF"));
    assert_eq!(reason("Hỏng.p7s").unwrap().0, "cms");
    let (stage, msg) = reason("vanthu.mbox").expect("the malformed message in the mailbox");
    assert_eq!(stage, "cms");
    assert!(msg.contains("not a readable CMS signature"), "{msg}");
    // The ZIP bomb, the truncated ZIP and the encrypted one: one row each.
    for zip in ["Bom nén 10 GB.zip", "Nén hỏng.zip", "Có mật khẩu.zip"] {
        assert_eq!(
            errors.iter().filter(|e| e["file"].ends_with(zip)).count(),
            1,
            "{zip}: {errors:?}"
        );
    }
    assert_eq!(errors.len(), 8);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report_dir(&dir).join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["totals"]["errors"], 8);
    assert_eq!(read_csv(&report_dir(&dir).join("signatures.csv")).len(), 48);
}

#[test]
fn json_lines_and_fail_under() {
    let root = root();
    let (out, _dir) = scan(
        &[&root.join("samples/share/Sở Y tế")],
        &["--rules", root.join("samples/rules").to_str().unwrap(), "--json", "--fail-under", "90"],
    );
    assert_eq!(code(&out), 3, "66.7% is below 90%: {}", text(&out.stderr));
    let lines: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        lines.len(),
        12,
        "five PDFs, an .odt, an e-invoice and five signatures in the mailbox"
    );
    assert!(lines.iter().all(|l| l["signer_sha256"].as_str().unwrap().len() == 64));
    assert_eq!(lines.iter().filter(|l| l["ca_class"] == "government").count(), 8);
    // Below the threshold and with unreadable inputs: both are said, 3 wins.
    let (both, _d) = scan(
        &[&root.join("samples/share/Sở Y tế"), &root.join("samples/share/Tài liệu lỗi")],
        &["--rules", root.join("samples/rules").to_str().unwrap(), "--fail-under", "90", "--quiet"],
    );
    assert_eq!(code(&both), 3);
    let said = text(&both.stderr);
    assert!(
        said.contains("could not be read or parsed") && said.contains("is below --fail-under 90%"),
        "{said}"
    );
    // 2025 documents: five of six signatures government (83%).
    let (ok, _d) = scan(
        &[&root.join("samples/share/Sở Y tế/2025")],
        &["--rules", root.join("samples/rules").to_str().unwrap(), "--fail-under", "70", "--quiet"],
    );
    assert_eq!(code(&ok), 0);
    assert!(ok.stdout.is_empty(), "--quiet prints nothing on success");
}

#[test]
fn html_reports_escape_and_stay_offline() {
    let (_, dir) = samples_scan();
    let index = std::fs::read_to_string(report_dir(&dir).join("index.html")).unwrap();
    assert!(index.contains("Nghị định 68/2024/NĐ-CP"), "legal basis from the rules");
    assert!(index.contains("agencies/000.00.09.H56/report.html"));
    let syt = std::fs::read_to_string(report_dir(&dir).join("agencies/000.00.09.H56/report.html"))
        .unwrap();
    assert!(syt.contains("Hoàng Đức Thắng"), "the commercial signer to migrate is listed");
    assert!(syt.contains("<svg"), "a chart of migration by signing month");
    // File names with parentheses and quotes come out escaped, never as markup.
    assert!(syt.contains("Tờ trình (ký 2 lần).pdf"));
}

#[test]
fn a_signer_certificate_not_embedded_is_looked_for_in_the_anchor_folder() {
    let file = root().join("samples/share/Sở Nội vụ/Công văn (không kèm chứng thư).txt.p7m");
    let anchors = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("samples/pki/signer-syt.pem"), anchors.path().join("signer-syt.pem"))
        .unwrap();
    let rules = root().join("samples/rules");
    let (out, dir) = scan(
        &[&file],
        &[
            "--no-db",
            "--rules",
            rules.to_str().unwrap(),
            "--anchors",
            anchors.path().to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    check_report(&report_dir(&dir));
    let rows = read_csv(&report_dir(&dir).join("signatures.csv"));
    assert_eq!(
        (rows[0]["ca_class"].as_str(), rows[0]["chain"].as_str(), rows[0]["signer_cn"].as_str()),
        ("government", "verified", "Lê Văn Minh")
    );
    assert_eq!(rows[0]["attributed_by"], "certificate");
    assert!(rows[0]["notes"].contains("found in the anchor folder"), "{}", rows[0]["notes"]);
    // Its key settles the integrity the file alone could not (issue 15).
    assert_eq!(rows[0]["integrity"], "valid", "{}", rows[0]["notes"]);
}

/// A certificate-less signature: the content's digest is checked from the
/// file, the signature value once the anchor folder gives the key — also
/// when the file comes from the history's cache; OpenSSL, given the
/// certificate, agrees on the original and on a copy whose signature value
/// was altered.
#[test]
fn a_certificate_less_signature_is_verified_with_the_key_the_anchor_folder_gives() {
    let original = root().join("samples/share/Sở Nội vụ/Công văn (không kèm chứng thư).txt.p7m");
    let signer = root().join("samples/pki/signer-syt.pem");
    let work = tempfile::tempdir().unwrap();
    let (share, anchors) = (work.path().join("share"), work.path().join("anchors"));
    std::fs::create_dir_all(&share).unwrap();
    std::fs::create_dir_all(&anchors).unwrap();
    std::fs::copy(&signer, anchors.join("signer-syt.pem")).unwrap();
    std::fs::copy(&original, share.join("ban-goc.p7m")).unwrap();
    let mut altered = std::fs::read(&original).unwrap();
    *altered.last_mut().unwrap() ^= 1; // the last byte of the signature value
    std::fs::write(share.join("sua-chu-ky.p7m"), altered).unwrap();
    let openssl_verifies = |file: &str| {
        let out = std::process::Command::new("openssl")
            .args([
                "cms",
                "-verify",
                "-noverify",
                "-inform",
                "DER",
                "-out",
                "/dev/null",
                "-certfile",
            ])
            .arg(&signer)
            .arg("-in")
            .arg(share.join(file))
            .output()
            .unwrap();
        out.status.success()
    };
    assert!(
        openssl_verifies("ban-goc.p7m") && !openssl_verifies("sua-chu-ky.p7m"),
        "the fixture's premise"
    );
    let db = work.path().join("history.db");
    let rules = root().join("samples/rules");
    let integrity = |extra: &[&str]| {
        let mut args = vec!["--db", db.to_str().unwrap(), "--rules", rules.to_str().unwrap()];
        args.extend_from_slice(extra);
        let (out, dir) = scan(&[&share], &args);
        assert!([0, 2].contains(&code(&out)), "{}", text(&out.stderr));
        let rows = read_csv(&report_dir(&dir).join("signatures.csv"));
        let of = |name: &str| {
            rows.iter().find(|r| r["file"].ends_with(name)).map(|r| r["integrity"].clone()).unwrap()
        };
        (of("ban-goc.p7m"), of("sua-chu-ky.p7m"), text(&out.stdout).contains("2 files (0 read)"))
    };
    assert_eq!(
        integrity(&[]),
        ("unknown".into(), "unknown".into(), false),
        "no key: the value cannot be checked"
    );
    // The same files again, from the history's cache, with the folder.
    assert_eq!(
        integrity(&["--anchors", anchors.to_str().unwrap()]),
        ("valid".into(), "invalid".into(), true)
    );
}

#[test]
fn a_missing_source_is_a_row_and_its_agency_audit_is_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("unmounted/Sở Y tế");
    let rules = root().join("samples/rules");
    let (out, report) = scan(
        &[&root().join("samples/share/Sở Tài chính"), &missing],
        &["--no-db", "--rules", rules.to_str().unwrap()],
    );
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let report = report_dir(&report);
    check_report(&report);
    let errors = read_csv(&report.join("errors.csv"));
    let not_mounted = errors
        .iter()
        .any(|e| e["file"].ends_with("unmounted/Sở Y tế") && e["error"].contains("not mounted"));
    assert!(not_mounted, "{errors:?}");
    assert!(!read_csv(&report.join("signatures.csv")).is_empty(), "the other source is audited");
    let agencies = read_csv(&report.join("agencies.csv"));
    let syt = agencies.iter().find(|a| a["agency_id"] == "000.00.09.H56").unwrap();
    assert_eq!(syt["migration_pct"], "", "neither migrated nor not");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["incomplete_audit"], serde_json::json!(["000.00.09.H56"]));
    let page = std::fs::read_to_string(report.join("agencies/000.00.09.H56/report.html")).unwrap();
    assert!(page.contains("kiểm tra chưa đầy đủ"), "incomplete audit, said on the page");
    // Nothing at all to read is a mistake in the command (exit 1).
    let (out, _r) = scan(&[&missing], &["--no-db"]);
    assert_eq!(code(&out), 1);
}

#[test]
fn a_terminal_gets_a_progress_bar_with_total_rate_eta_and_errors_and_a_pipe_gets_none() {
    let t = tempfile::tempdir().unwrap();
    let copies = enough_to_watch(2000);
    let place = copies_of_a_signed_file(t.path(), copies);
    std::fs::write(place.join("hỏng.pdf"), b"%PDF-1.7\n/ByteRange [0 1 2").unwrap();
    let rules = root().join("samples/rules");
    let command = format!(
        "'{}' scan '{}' --no-db --rules '{}' --out '{}'",
        env!("CARGO_BIN_EXE_sigaudit"),
        t.path().join("share").display(),
        rules.display(),
        t.path().join("tty-report").display()
    );
    // util-linux's script runs the scan on a pseudo-terminal.
    let tty = run(std::process::Command::new("script").args(["-qec", &command, "/dev/null"]));
    let shown = text(&tty.stdout).replace('\r', "\n");
    let total = format!("/{} files", copies + 1);
    let bars: Vec<&str> = shown.lines().filter(|l| l.contains(&total)).collect();
    assert!(!bars.is_empty(), "a bar over the {} files the walk counted:\n{shown}", copies + 1);
    let last = bars.last().unwrap();
    assert!(
        last.contains('%')
            && last.contains("B/s")
            && last.contains("ETA")
            && last.contains("error"),
        "done, total, rate, ETA, errors: {last}"
    );
    assert!(shown.contains("1 error"), "the unreadable file is counted as it happens:\n{shown}");
    let (piped, _report) =
        scan(&[&t.path().join("share")], &["--no-db", "--rules", rules.to_str().unwrap()]);
    assert!(
        !text(&piped.stderr).contains("ETA") && !text(&piped.stdout).contains("ETA"),
        "no progress display into a pipe or log"
    );
}

/// A table of docs/report-format.md under `heading`: (first cell, the
/// second cell's comma-separated values), backticks taken off and
/// "(empty)" read as the empty value.
fn documented_table(doc: &str, heading: &str) -> Vec<(String, Vec<String>)> {
    let start = doc
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("docs/report-format.md has no {heading:?}"));
    let value = |s: &str| {
        if s.trim() == "(empty)" { String::new() } else { s.trim().trim_matches('`').to_owned() }
    };
    doc[start + heading.len() + 2..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // the heading row and its separator
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").collect();
            (value(cells[0]), cells[1].split(", ").map(value).collect())
        })
        .collect()
}

/// The report checker checks what the document says, no more, no less:
/// its files, their columns in order, and every enumerated column's values.
#[test]
fn the_report_checker_follows_docs_report_format() {
    let doc = std::fs::read_to_string(root().join("docs/report-format.md")).unwrap();
    let columns = documented_table(&doc, "## Columns");
    let checked: Vec<(String, Vec<String>)> = report_check::TABLES
        .iter()
        .map(|(f, h)| (f.to_string(), h.iter().map(|c| c.to_string()).collect()))
        .collect();
    assert_eq!(
        columns, checked,
        "docs/report-format.md's columns and tests/all/common/report_check.rs's TABLES differ"
    );
    let values = documented_table(&doc, "## Allowed values");
    let checked: Vec<(String, Vec<String>)> = report_check::ENUMERATED
        .iter()
        .map(|c| {
            (
                c.to_string(),
                report_check::allowed(c)
                    .unwrap_or_else(|| panic!("{c}: no allowed values"))
                    .iter()
                    .map(|v| v.to_string())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        values, checked,
        "docs/report-format.md's allowed values and tests/all/common/report_check.rs's differ"
    );
    // Every enumerated value the checker knows is explained somewhere in the document.
    for (_, vals) in &values {
        for v in vals.iter().filter(|v| !v.is_empty()) {
            let mentions = doc.matches(&format!("`{v}`")).count()
                + doc.matches(&format!("={v}`")).count()
                + doc.matches(&format!("={v},")).count();
            assert!(mentions >= 2, "`{v}` is only listed, never explained");
        }
    }
}
