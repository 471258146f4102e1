//! Mail on disk: mbox, Maildir and .eml made with Python's email package
//! and `openssl smime` (samples/make-samples.py), plus Outlook .msg and
//! TNEF built here with the cfb crate in Outlook's layout (no Outlook runs
//! on this machine; the layout follows MS-OXMSG / MS-OXTNEF).

use crate::common;

use std::collections::HashMap;
use std::io::Write;
use std::sync::OnceLock;

use common::*;

type Row = HashMap<String, String>;

/// signatures.csv and errors.csv of one scan of the sample mailboxes (the
/// report folder lives as long as the test process).
fn mail_rows() -> (&'static Vec<Row>, &'static Vec<Row>) {
    static ROWS: OnceLock<(Vec<Row>, Vec<Row>, tempfile::TempDir)> = OnceLock::new();
    let (rows, errors, _) = ROWS.get_or_init(|| {
        let root = root();
        let share = root.join("samples/share");
        let (out, dir) = scan(
            &[
                &share.join("Sở Y tế/Hộp thư"),
                &share.join("Sở Tài chính/Maildir"),
                &share.join("Tài liệu chung/Thư đến"),
            ],
            &["--rules", root.join("samples/rules").to_str().unwrap()],
        );
        assert_eq!(code(&out), 2, "{}", text(&out.stderr));
        check_report(&report_dir(&dir));
        (
            read_csv(&report_dir(&dir).join("signatures.csv")),
            read_csv(&report_dir(&dir).join("errors.csv")),
            dir,
        )
    });
    (rows, errors)
}

fn find<'a>(rows: &'a [Row], file: &str, member_part: &str) -> Vec<&'a Row> {
    rows.iter().filter(|r| r["file"].ends_with(file) && r["member"].contains(member_part)).collect()
}

#[test]
fn every_signature_in_the_mbox_is_found() {
    let (rows, errors) = mail_rows();
    let mbox: Vec<&Row> = rows.iter().filter(|r| r["file"].ends_with("vanthu.mbox")).collect();
    assert_eq!(mbox.len(), 5, "{mbox:#?}");
    // 1: multipart/signed by the government signer, quoted-printable body.
    let m1 = find(rows, "vanthu.mbox", "message 1 <");
    assert_eq!(
        (m1[0]["format"].as_str(), m1[0]["ca_class"].as_str(), m1[0]["integrity"].as_str()),
        ("smime", "government", "valid")
    );
    assert!(m1[0]["member"].ends_with("S/MIME signature (part 1)"), "{}", m1[0]["member"]);
    // 2: opaque signed-data, commercial.
    let m2 = find(rows, "vanthu.mbox", "message 2 <");
    assert_eq!(
        (m2[0]["format"].as_str(), m2[0]["ca_class"].as_str(), m2[0]["integrity"].as_str()),
        ("smime", "commercial", "valid")
    );
    assert!(m2[0]["member"].ends_with("S/MIME signature (opaque)"));
    // 3: a signed PDF attachment, name RFC 2231-encoded in Vietnamese.
    let m3 = find(rows, "vanthu.mbox", "message 3 <");
    assert_eq!(m3[0]["format"], "pdf");
    assert!(
        m3[0]["member"].ends_with("/ Báo cáo quý 4-2024.pdf / Signature1"),
        "{}",
        m3[0]["member"]
    );
    // 4: a signed PDF inside a ZIP attachment.
    let m4 = find(rows, "vanthu.mbox", "message 4 <");
    assert!(
        m4[0]["member"]
            .ends_with("/ Hồ sơ tiêm chủng.zip / Hồ sơ/Công văn 56-SYT.pdf / Signature1"),
        "{}",
        m4[0]["member"]
    );
    assert_eq!(m4[0]["ca_class"], "government");
    // 5: the signed message forwarded as message/rfc822: still verifies.
    let m5 = find(rows, "vanthu.mbox", "message 5 <");
    assert!(m5[0]["member"].contains("/ forwarded thu-goc.eml / <"), "{}", m5[0]["member"]);
    assert_eq!(m5[0]["integrity"], "valid");
    // 6: a malformed message: one error row, the rest was read.
    let bad: Vec<&Row> = errors.iter().filter(|e| e["file"].ends_with("vanthu.mbox")).collect();
    assert_eq!(bad.len(), 1);
    assert!(bad[0]["member"].starts_with("message 6"), "{:?}", bad[0]);
    for r in &mbox {
        assert_eq!(r["found_in"], "000.00.09.H56", "the mailbox sits in the Sở Y tế folder");
    }
}

#[test]
fn maildir_folders_and_subfolders_are_read() {
    let (rows, _) = mail_rows();
    let maildir: Vec<&Row> = rows.iter().filter(|r| r["file"].contains("Maildir/")).collect();
    assert_eq!(maildir.len(), 3, "cur/, new/ and the .Sent Maildir++ folder");
    assert!(maildir.iter().any(|r| r["file"].contains("Maildir/.Sent/cur/")));
    assert!(maildir.iter().all(|r| r["found_in"] == "000.00.02.H56"));
}

#[test]
fn a_loose_eml_is_attributed_by_its_sender() {
    let (rows, _) = mail_rows();
    let eml = find(rows, "Công văn Sở Y tế.eml", "S/MIME");
    assert_eq!(eml.len(), 1);
    // No path rule covers "Tài liệu chung": From: vanthu@syt.thanhhoa.gov.vn does.
    assert_eq!(eml[0]["agency_id"], "000.00.09.H56");
}

#[test]
fn mail_files_are_not_modified() {
    let share = root().join("samples/share");
    let file = share.join("Sở Y tế/Hộp thư/vanthu.mbox");
    let copy = tempfile::tempdir().unwrap();
    let target = copy.path().join("vanthu.mbox");
    std::fs::copy(&file, &target).unwrap();
    assert!(
        std::process::Command::new("touch")
            .args(["-a", "-d", "2001-02-03 04:05:06"])
            .arg(&target)
            .status()
            .unwrap()
            .success()
    );
    let before = std::fs::metadata(&target).unwrap();
    let (out, _dir) =
        scan(&[copy.path()], &["--rules", root().join("samples/rules").to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    let after = std::fs::metadata(&target).unwrap();
    assert_eq!(before.modified().unwrap(), after.modified().unwrap());
    assert_eq!(before.accessed().unwrap(), after.accessed().unwrap(), "atime");
    assert_eq!(std::fs::read(&file).unwrap(), std::fs::read(&target).unwrap());
}

/// The S/MIME sample message as Outlook stores it: a .msg whose only
/// attachment `smime.p7m` holds the whole signed MIME message.
fn write_msg(
    path: &std::path::Path,
    class: &str,
    attachments: &[(&str, &[u8])],
    embedded: Option<&[(&str, &[u8])]>,
) {
    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }
    fn stream(cf: &mut cfb::CompoundFile<std::fs::File>, path: &str, data: &[u8]) {
        cf.create_stream(path).unwrap().write_all(data).unwrap();
    }
    fn attachments_at(
        cf: &mut cfb::CompoundFile<std::fs::File>,
        base: &str,
        list: &[(&str, &[u8])],
    ) {
        for (i, (name, data)) in list.iter().enumerate() {
            let dir = format!("{base}/__attach_version1.0_#{i:08X}");
            cf.create_storage(&dir).unwrap();
            stream(cf, &format!("{dir}/__substg1.0_3707001F"), &utf16(name));
            stream(cf, &format!("{dir}/__substg1.0_37010102"), data);
        }
    }
    let mut cf = cfb::create(path).unwrap();
    stream(&mut cf, "/__substg1.0_001A001F", &utf16(class));
    attachments_at(&mut cf, "", attachments);
    if let Some(inner) = embedded {
        let dir = format!("/__attach_version1.0_#{:08X}", attachments.len());
        cf.create_storage(&dir).unwrap();
        stream(&mut cf, &format!("{dir}/__substg1.0_3707001F"), &utf16("Thư chuyển tiếp.msg"));
        cf.create_storage(format!("{dir}/__substg1.0_3701000D")).unwrap();
        stream(
            &mut cf,
            &format!("{dir}/__substg1.0_3701000D/__substg1.0_001A001F"),
            &utf16("IPM.Note"),
        );
        attachments_at(&mut cf, &format!("{dir}/__substg1.0_3701000D"), inner);
    }
    cf.flush().unwrap();
}

fn tnef(attachments: &[(&str, &[u8])]) -> Vec<u8> {
    fn attr(level: u8, id: u32, data: &[u8]) -> Vec<u8> {
        let mut v = vec![level];
        v.extend(id.to_le_bytes());
        v.extend((data.len() as u32).to_le_bytes());
        v.extend(data);
        let sum: u32 = data.iter().map(|&b| b as u32).sum();
        v.extend(((sum & 0xffff) as u16).to_le_bytes());
        v
    }
    let mut t = vec![0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00];
    t.extend(attr(1, 0x0009_8006, &[0x00, 0x00, 0x01, 0x00])); // attTnefVersion
    for (name, data) in attachments {
        t.extend(attr(2, 0x0006_9002, &[0; 14]));
        t.extend(attr(2, 0x0001_8010, &[name.as_bytes(), &[0]].concat()));
        t.extend(attr(2, 0x0006_800F, data));
    }
    t
}

#[test]
fn outlook_msg_and_tnef_attachments_are_opened() {
    let share = root().join("samples/share");
    let eml = std::fs::read(share.join("Tài liệu chung/Thư đến/Công văn Sở Y tế.eml")).unwrap();
    // Outlook keeps the MIME entity (from Content-Type on) in smime.p7m.
    let entity_at = eml.windows(13).position(|w| w.eq_ignore_ascii_case(b"MIME-Version:")).unwrap();
    let pdf = std::fs::read(share.join("Sở Y tế/2024/Báo cáo quý 4-2024.pdf")).unwrap();
    let gov_pdf = std::fs::read(share.join("Sở Y tế/2025/Công văn 56-SYT.pdf")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_msg(
        &dir.path().join("ký số.msg"),
        "IPM.Note.SMIME.MultipartSigned",
        &[("smime.p7m", &eml[entity_at..])],
        None,
    );
    write_msg(
        &dir.path().join("kèm tệp.msg"),
        "IPM.Note",
        &[("Báo cáo.pdf", &pdf)],
        Some(&[("Công văn.pdf", &gov_pdf)]),
    );
    let winmail = tnef(&[("Công văn 56.pdf", &gov_pdf)]);
    let b64 = base64_lines(&winmail);
    let tnef_mail = format!(
        "From: vanthu@syt.thanhhoa.gov.vn\r\nTo: a@b.vn\r\nSubject: tnef\r\nMessage-ID: \
         <tnef@syt>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; \
         boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nxem \
         tep\r\n--x\r\nContent-Type: application/ms-tnef; \
         name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: \
         attachment; filename=\"winmail.dat\"\r\n\r\n{b64}\r\n--x--\r\n"
    );
    std::fs::write(dir.path().join("outlook.eml"), tnef_mail).unwrap();
    let (out, report) =
        scan(&[dir.path()], &["--rules", root().join("samples/rules").to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let rows = read_csv(&report_dir(&report).join("signatures.csv"));
    let signed = find(&rows, "ký số.msg", "S/MIME signature");
    assert_eq!(signed.len(), 1, "{rows:#?}");
    assert_eq!(
        (
            signed[0]["format"].as_str(),
            signed[0]["integrity"].as_str(),
            signed[0]["ca_class"].as_str()
        ),
        ("smime", "valid", "government")
    );
    let attached = find(&rows, "kèm tệp.msg", "Báo cáo.pdf / Signature1");
    assert_eq!(attached[0]["ca_class"], "commercial");
    let embedded = find(
        &rows,
        "kèm tệp.msg",
        "embedded message Thư chuyển tiếp.msg / Công văn.pdf / Signature1",
    );
    assert_eq!(embedded[0]["ca_class"], "government");
    let in_tnef = find(&rows, "outlook.eml", "winmail.dat / Công văn 56.pdf / Signature1");
    assert_eq!(in_tnef.len(), 1, "{rows:#?}");
    assert_eq!(in_tnef[0]["agency_id"], "000.00.09.H56", "sender's domain");
}

fn base64_lines(data: &[u8]) -> String {
    use base64::Engine;
    let s = base64::engine::general_purpose::STANDARD.encode(data);
    s.as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// tests/fixtures/make-poisoned-mailbox.py: the samples' Sở Y tế mailbox
/// with a message whose attached .p7m has the signingTime UTCTime
/// `250102030405+1é2` (it used to panic the time parser and lose the
/// whole mailbox).
#[test]
fn a_poisoned_message_costs_one_row_and_every_other_signature_stays() {
    let sha = |rows: &[Row]| -> Vec<String> {
        let mut v: Vec<String> =
            rows.iter().map(|r| format!("{} {}", r["signer_sha256"], r["integrity"])).collect();
        v.sort();
        v
    };
    let (out, plain) = scan(
        &[&root().join("samples/share/Sở Y tế/Hộp thư/vanthu.mbox")],
        &["--no-db", "--rules", root().join("samples/rules").to_str().unwrap()],
    );
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let expected = read_csv(&report_dir(&plain).join("signatures.csv"));
    let (out, poisoned) = scan(
        &[&root().join("tests/fixtures/poisoned/vanthu-poisoned.mbox")],
        &["--no-db", "--rules", root().join("samples/rules").to_str().unwrap()],
    );
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    check_report(&report_dir(&poisoned));
    let rows = read_csv(&report_dir(&poisoned).join("signatures.csv"));
    assert!(expected.len() >= 5, "the mailbox has its signatures: {}", expected.len());
    let (poison, others): (Vec<Row>, Vec<Row>) =
        rows.into_iter().partition(|r| r["member"].contains("poisoned@syt.thanhhoa.gov.vn"));
    assert_eq!(sha(&others), sha(&expected), "every other signature of the mailbox is reported");
    // The poisoned message itself is read: its signature (no certificate
    // embedded) is a row of its own, its unreadable signing time left empty.
    assert_eq!(poison.len(), 1, "{poison:?}");
    assert!(poison[0]["member"].ends_with("giay-moi.p7m"), "{:?}", poison[0]);
    assert_eq!(
        (poison[0]["chain"].as_str(), poison[0]["signed_at"].as_str()),
        ("no-certificate", "")
    );
}

/// The samples' mailbox with a message holding one 20 MB line put first.
fn mailbox_with_a_long_line(dir: &std::path::Path) -> std::path::PathBuf {
    let original = std::fs::read(root().join("samples/share/Sở Y tế/Hộp thư/vanthu.mbox")).unwrap();
    let path = dir.join("long-line.mbox");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(
        b"From x@example.org Mon Jan  6 08:00:00 2025\nFrom: x@example.org\nSubject: long\n\n",
    )
    .unwrap();
    f.write_all(&vec![b'A'; 20 << 20]).unwrap();
    f.write_all(b"\n\n").unwrap();
    f.write_all(&original).unwrap();
    path
}

#[test]
fn a_line_over_the_limit_costs_its_message_only() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = mailbox_with_a_long_line(dir.path());
    let rules = root().join("samples/rules");
    let (_, plain) = scan(
        &[&root().join("samples/share/Sở Y tế/Hộp thư/vanthu.mbox")],
        &["--no-db", "--rules", rules.to_str().unwrap()],
    );
    let (_, long) = scan(&[&mbox], &["--no-db", "--rules", rules.to_str().unwrap()]);
    check_report(&report_dir(&long));
    let signers = |d: &tempfile::TempDir| {
        read_csv(&report_dir(d).join("signatures.csv"))
            .iter()
            .map(|r| r["signer_sha256"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(signers(&long).len(), signers(&plain).len());
    let errors = read_csv(&report_dir(&long).join("errors.csv"));
    assert!(
        errors
            .iter()
            .any(|e| e["member"] == "message 1" && e["error"].contains("a line of 20971521 bytes")),
        "{errors:?}"
    );
}

#[test]
fn a_mailbox_over_max_file_size_is_read_up_to_the_limit_and_says_so() {
    let path = root().join("samples/share/Sở Y tế/Hộp thư/vanthu.mbox");
    let size = std::fs::metadata(&path).unwrap().len();
    let rules = root().join("samples/rules");
    let limit = (size / 2).to_string();
    let (out, dir) =
        scan(&[&path], &["--no-db", "--rules", rules.to_str().unwrap(), "--max-file-size", &limit]);
    assert_eq!(code(&out), 2);
    let (_, whole) = scan(&[&path], &["--no-db", "--rules", rules.to_str().unwrap()]);
    let rows = read_csv(&report_dir(&dir).join("signatures.csv"));
    let all = read_csv(&report_dir(&whole).join("signatures.csv"));
    assert!(
        !rows.is_empty() && rows.len() < all.len(),
        "the first half's signatures: {} of {}",
        rows.len(),
        all.len()
    );
    let errors = read_csv(&report_dir(&dir).join("errors.csv"));
    assert!(
        errors.iter().any(|e| e["stage"] == "limit"
            && e["error"].contains(&format!("only its first {limit} bytes were read"))),
        "{errors:?}"
    );
}

/// `openssl smime -verify` and `openssl cms -verify` (chain not checked:
/// only the signature over what each reads as signed) on a whole message.
fn openssl_verifies_message(path: &std::path::Path) -> bool {
    let run = |tool: &str| {
        std::process::Command::new("openssl")
            .args([tool, "-verify", "-noverify", "-out", "/dev/null", "-in"])
            .arg(path)
            .output()
            .expect("openssl is installed by scripts/test")
            .status
            .success()
    };
    let (smime, cms) = (run("smime"), run("cms"));
    assert_eq!(smime, cms, "{}: openssl smime and openssl cms agree", path.display());
    smime
}

/// tests/fixtures/make-smime-attack-fixtures.py: S/MIME spoofing in the
/// shapes of "Johnny, You Are Fired!" (USENIX Security 2019), each built
/// from an honest message signed by `openssl smime`: eContent confusion
/// (C1) is invalid, MIME wrapping (M1-M4) and a third part inside
/// multipart/signed say which part is signed and that the rest is not; the
/// honest controls stay valid. OpenSSL's verdict on each whole file is
/// compared, the differences listed with their reasons.
#[test]
fn smime_spoofing_is_judged_as_a_reader_sees_the_message_and_compared_with_openssl() {
    const NESTED: &str = "under unsigned parts: the message's visible text outside it is unsigned";
    const CONFUSION: &str = "differs from the displayed first part";
    // file, member suffix, integrity, words each in the notes.
    let expected: [(&str, &str, &str, &[&str]); 11] = [
        ("control-detached.eml", "S/MIME signature (part 1)", "valid", &[]),
        ("control-opaque.eml", "S/MIME signature (opaque)", "valid", &[]),
        ("control-same-econtent.eml", "S/MIME signature (part 1)", "valid", &[]),
        ("c1-econtent.eml", "S/MIME signature (part 1)", "invalid", &[CONFUSION]),
        ("c1-econtent-html.eml", "S/MIME signature (part 1)", "invalid", &[CONFUSION]),
        (
            "c1-econtent-nested.eml",
            "S/MIME signature (part 1.2)",
            "invalid",
            &[CONFUSION, "part 1.2 of the message", NESTED],
        ),
        (
            "m1-prefix.eml",
            "S/MIME signature (part 1.2)",
            "valid",
            &["part 1.2 of the message", NESTED],
        ),
        (
            "m2-related.eml",
            "S/MIME signature (part 1.2)",
            "valid",
            &["part 1.2 of the message", NESTED],
        ),
        (
            "m3-opaque-after-text.eml",
            "S/MIME signature (opaque, part 1.2)",
            "valid",
            &["part 1.2 of the message", NESTED],
        ),
        (
            "m4-alternative.eml",
            "S/MIME signature (part 1.1)",
            "valid",
            &["part 1.1 of the message", NESTED],
        ),
        (
            "third-part.eml",
            "S/MIME signature (part 1)",
            "valid",
            &["part(s) 1.3 after the signature are not signed"],
        ),
    ];
    // Where OpenSSL's verdict on the whole file differs from sigaudit's
    // integrity, and why.
    let differences: HashMap<&str, &str> = HashMap::from([
        (
            "m1-prefix.eml",
            "OpenSSL reads only a message whose top entity is S/MIME and refuses multipart/mixed; \
             sigaudit verifies the signed part 1.2 and notes the rest is unsigned",
        ),
        (
            "m2-related.eml",
            "OpenSSL refuses multipart/related at the top; sigaudit verifies the signed part 1.2 \
             and notes the rest is unsigned",
        ),
        (
            "m3-opaque-after-text.eml",
            "OpenSSL refuses multipart/mixed at the top; sigaudit verifies the opaque part 1.2 \
             and notes the rest is unsigned",
        ),
        (
            "m4-alternative.eml",
            "OpenSSL refuses multipart/alternative at the top; sigaudit verifies the signed part \
             1.1 and notes the rest is unsigned",
        ),
        (
            "third-part.eml",
            "OpenSSL refuses a multipart/signed of other than two parts (no multipart body \
             failure); sigaudit verifies the first part, which is what is signed, and notes part \
             1.3 unsigned",
        ),
    ]);
    let dir = root().join("tests/fixtures/smime-attacks");
    let (out, report) =
        scan(&[&dir], &["--no-db", "--rules", root().join("samples/rules").to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    check_report(&report_dir(&report));
    let rows = read_csv(&report_dir(&report).join("signatures.csv"));
    assert_eq!(rows.len(), expected.len(), "one signature per file: {rows:#?}");
    let mut seen_differences = Vec::new();
    for (file, member, integrity, words) in expected {
        let row = find(&rows, file, "S/MIME");
        assert_eq!(row.len(), 1, "{file}: {rows:#?}");
        let row = row[0];
        assert!(row["member"].ends_with(member), "{file}: {}", row["member"]);
        assert_eq!(row["integrity"], integrity, "{file}: {}", row["notes"]);
        for w in words {
            assert!(row["notes"].contains(w), "{file}: {w:?} in {}", row["notes"]);
        }
        if words.is_empty() {
            assert!(
                !row["notes"].contains("unsigned") && !row["notes"].contains("not signed"),
                "{file}: {}",
                row["notes"]
            );
        }
        let openssl = openssl_verifies_message(&dir.join(file));
        if openssl != (integrity == "valid") {
            assert!(
                differences.contains_key(file),
                "{file}: OpenSSL says {openssl}, sigaudit {integrity}: an unlisted difference"
            );
            seen_differences.push(file);
        }
    }
    seen_differences.sort_unstable();
    let mut listed: Vec<&str> = differences.keys().copied().collect();
    listed.sort_unstable();
    assert_eq!(seen_differences, listed, "every listed difference occurs");
    // The wrapped signed parts are the controls' signed entities byte for
    // byte, and OpenSSL verifies those controls: sigaudit's `valid` on
    // M1-M4 is OpenSSL's verdict on the part a reader is not shown alone.
    let entity = |control: &str| {
        let bytes = std::fs::read(dir.join(control)).unwrap();
        let at = bytes.windows(19).position(|w| w == b"MIME-Version: 1.0\r\n").unwrap() + 19;
        bytes[at..].to_vec()
    };
    for (file, control) in [
        ("m1-prefix.eml", "control-detached.eml"),
        ("m2-related.eml", "control-detached.eml"),
        ("m3-opaque-after-text.eml", "control-opaque.eml"),
        ("m4-alternative.eml", "control-detached.eml"),
    ] {
        let signed = entity(control);
        assert!(
            std::fs::read(dir.join(file)).unwrap().windows(signed.len()).any(|w| w == signed),
            "{file} wraps {control}'s signed entity"
        );
        assert!(openssl_verifies_message(&dir.join(control)));
    }
}
