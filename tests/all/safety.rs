//! Do no harm (issue 10): `--out` never takes a folder that is not
//! sigaudit's, no signature vanishes without a row, no password leaks from
//! a server's reply, nothing scanned changes (folders' access times
//! included), `inspect` never hangs on a FIFO nor lets a certificate's
//! name drive the terminal, and the reports mark control characters.

use crate::common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

/// Every file, folder and link under `dir`: path -> content (or link target).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            if m.file_type().is_symlink() {
                out.insert(
                    rel,
                    format!("-> {}", std::fs::read_link(&p).unwrap().display()).into_bytes(),
                );
            } else if m.is_dir() {
                out.insert(rel, b"<dir>".to_vec());
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn scan_to(source: &Path, out: &Path) -> std::process::Output {
    run(bin().arg("scan").arg(source).arg("--out").arg(out).arg("--no-db").arg("--quiet"))
}

/// A user's folder with documents, and a scanned tree of samples beside it.
fn workspace() -> tempfile::TempDir {
    let w = tempfile::tempdir().unwrap();
    let docs = w.path().join("Documents");
    std::fs::create_dir_all(docs.join("2025")).unwrap();
    std::fs::write(docs.join("luong.xlsx"), b"salary sheet").unwrap();
    std::fs::write(docs.join("2025/ghi-chu.txt"), "ghi chú riêng").unwrap();
    let share = w.path().join("P/tree");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::copy(
        root().join("samples/share/Sở Nội vụ/Thỏa thuận hợp tác.pdf"),
        share.join("hop-tac.pdf"),
    )
    .unwrap();
    std::fs::write(w.path().join("P/readme.txt"), b"beside the tree").unwrap();
    w
}

#[test]
fn out_refuses_every_folder_that_is_not_sigaudits_and_nothing_moves() {
    let w = workspace();
    let p = w.path();
    std::os::unix::fs::symlink(p.join("Documents"), p.join("link")).unwrap();
    let tree = p.join("P/tree");
    let cases: [(&Path, PathBuf, &str); 6] = [
        (&tree, p.join("Documents"), "did not create"),
        (&tree, p.join("link"), "symbolic link"),
        (&tree, p.join("P"), "contains the scanned source"),
        (&tree, tree.clone(), "the scanned source"),
        (&tree.join("hop-tac.pdf"), tree.clone(), "the scanned source"),
        (&tree, tree.join("sub/report"), "the scanned source"),
    ];
    let before = snapshot(p);
    for (source, out, why) in &cases {
        for _ in 0..2 {
            let o = scan_to(source, out);
            assert_eq!(code(&o), 1, "--out {} must be refused: {}", out.display(), text(&o.stderr));
            assert!(text(&o.stderr).contains(why), "--out {}: {}", out.display(), text(&o.stderr));
        }
        assert_eq!(
            snapshot(p),
            before,
            "--out {}: every user file unchanged, nothing added",
            out.display()
        );
    }
    // A marked report folder that contains the source is refused too.
    let report = p.join("report");
    assert_eq!(code(&scan_to(&tree, &report)), 0);
    std::fs::create_dir(report.join("inbox")).unwrap();
    std::fs::write(report.join("inbox/a.eml"), b"From: a@b\n\nx").unwrap();
    let o = scan_to(&report.join("inbox"), &report);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("contains the scanned source"), "{}", text(&o.stderr));
    // `report --db` checks its --out the same way.
    let o = run(bin()
        .args(["report", "--db"])
        .arg(p.join("none.db"))
        .arg("--out")
        .arg(p.join("Documents")));
    assert_eq!(code(&o), 1);
    assert!(snapshot(&p.join("Documents")) == snapshot(&w.path().join("Documents")));
}

#[test]
fn a_report_folder_is_replaced_but_files_a_user_left_in_it_survive() {
    let w = workspace();
    let (tree, report, empty) =
        (w.path().join("P/tree"), w.path().join("report"), w.path().join("empty"));
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(code(&scan_to(&tree, &empty)), 0, "an empty folder may be taken");
    assert!(empty.join(".sigaudit-report").is_file() && empty.join("index.html").is_file());
    for _ in 0..2 {
        assert_eq!(code(&scan_to(&tree, &report)), 0);
    }
    check_report(&report);
    std::fs::write(report.join("my-notes.txt"), b"keep me").unwrap();
    std::fs::create_dir_all(report.join("agencies/mine")).unwrap();
    std::fs::write(report.join("agencies/mine/plan.docx"), b"plan").unwrap();
    // A hidden folder of that name that sigaudit did not make is left alone.
    let user_previous = w.path().join(".empty.previous");
    std::fs::create_dir(&user_previous).unwrap();
    std::fs::write(user_previous.join("x"), b"user's").unwrap();
    for _ in 0..3 {
        assert_eq!(code(&scan_to(&tree, &report)), 0);
        assert_eq!(code(&scan_to(&tree, &empty)), 0);
    }
    check_report(&report);
    let found: Vec<Vec<u8>> =
        [report.join("my-notes.txt"), w.path().join(".report.previous/my-notes.txt")]
            .iter()
            .filter_map(|f| std::fs::read(f).ok())
            .collect();
    assert_eq!(
        found,
        vec![b"keep me".to_vec()],
        "the user's file is still in one of the two report folders"
    );
    let plans: Vec<Vec<u8>> = [
        report.join("agencies/mine/plan.docx"),
        w.path().join(".report.previous/agencies/mine/plan.docx"),
    ]
    .iter()
    .filter_map(|f| std::fs::read(f).ok())
    .collect();
    assert_eq!(plans, vec![b"plan".to_vec()]);
    assert_eq!(std::fs::read(user_previous.join("x")).unwrap(), b"user's");
}

fn signatures_of(source: &Path) -> (i32, Vec<std::collections::HashMap<String, String>>) {
    let (out, dir) = scan(&[source], &["--no-db"]);
    check_report(&report_dir(&dir));
    (code(&out), read_csv(&report_dir(&dir).join("signatures.csv")))
}

#[test]
fn byte_range_numbers_beyond_64_bits_still_give_a_row_with_the_reason() {
    let signed =
        std::fs::read(root().join("samples/share/Sở Nội vụ/Thỏa thuận hợp tác.pdf")).unwrap();
    let at = signed.windows(10).position(|w| w == b"/ByteRange").unwrap();
    let end = at + signed[at..].iter().position(|&b| b == b']').unwrap() + 1;
    for (range, why) in [
        ("[0 99999999999999999999 0 1]", "beyond 64 bits"),
        ("[0 18446744073709551615 1 1]", "beyond 64 bits"),
        ("[0 12a 0 1]", "missing or unreadable"),
        ("[0 1.5e3 0 1]", "missing or unreadable"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("range.pdf");
        std::fs::write(
            &pdf,
            [&signed[..at], b"/ByteRange ", range.as_bytes(), &signed[end..]].concat(),
        )
        .unwrap();
        let (_, rows) = signatures_of(&pdf);
        assert_eq!(rows.len(), 1, "{range}: the signature is reported");
        assert_eq!(rows[0]["integrity"], "invalid", "{range}");
        assert!(rows[0]["notes"].contains(why), "{range}: {}", rows[0]["notes"]);
        assert_eq!(rows[0]["signer_cn"], "Jean Dupont");
    }
}

#[test]
fn an_mbox_whose_first_message_has_only_a_from_header_is_read() {
    let signed =
        std::fs::read(root().join("samples/share/Tài liệu chung/Thư đến/Công văn Sở Y tế.eml"))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("Inbox");
    let mut f = std::fs::File::create(&mbox).unwrap();
    let unsigned: &[u8] = b"From someone@example.org Mon Jan  6 08:00:00 2025\n\
        From: someone@example.org\n\nhello\n\n";
    f.write_all(unsigned).unwrap();
    f.write_all(b"From vanthu@syt.thanhhoa.gov.vn Tue Jan  7 09:00:00 2025\n").unwrap();
    f.write_all(&signed).unwrap();
    drop(f);
    let (_, expected) =
        signatures_of(&root().join("samples/share/Tài liệu chung/Thư đến/Công văn Sở Y tế.eml"));
    let (_, rows) = signatures_of(&mbox);
    assert!(!expected.is_empty());
    assert_eq!(rows.len(), expected.len(), "every signature of the second message");
    assert_eq!(rows[0]["signer_sha256"], expected[0]["signer_sha256"]);
}

/// An IMAP server on loopback that answers every command NO, echoing it
/// (LOGIN arguments included), as some servers' error texts do.
fn echoing_imap_server() -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut writer = stream.try_clone().unwrap();
        writer.write_all(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] echo server ready\r\n").unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        for _ in 0..8 {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let tag = line.split(' ').next().unwrap_or("*").to_owned();
            let reply =
                format!("{tag} NO [AUTHENTICATIONFAILED] rejected: {}\r\n", line.trim_end());
            if writer.write_all(reply.as_bytes()).is_err() {
                break;
            }
        }
    });
    (port, handle)
}

#[test]
fn a_server_echoing_the_login_never_puts_the_password_in_any_output() {
    const PASSWORD: &str = "Mk-bi-mat-2025\"x";
    let (port, server) = echoing_imap_server();
    let dir = tempfile::tempdir().unwrap();
    let (report, db) = (dir.path().join("report"), dir.path().join("history.db"));
    let out = run(bin()
        .arg("scan")
        .arg(format!("imap://vanthu@127.0.0.1:{port}/INBOX"))
        .arg("--imap-allow-plain")
        .arg("--out")
        .arg(&report)
        .arg("--db")
        .arg(&db)
        .env("SIGAUDIT_IMAP_PASSWORD", PASSWORD));
    server.join().unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    check_report(&report);
    let errors = read_csv(&report.join("errors.csv"));
    assert!(
        errors.iter().any(|e| e["error"].contains("rejected: ") && e["error"].contains("***")),
        "the server's text is kept, scrubbed: {errors:?}"
    );
    let mut everything = vec![out.stdout.clone(), out.stderr.clone(), std::fs::read(&db).unwrap()];
    for (path, bytes) in snapshot(dir.path()) {
        assert!(!path.to_string_lossy().contains("Mk-bi-mat"));
        everything.push(bytes);
    }
    for bytes in everything {
        assert!(!text(&bytes).contains("Mk-bi-mat-2025"), "the password leaked");
    }
}

#[test]
fn scanning_changes_no_access_time_of_folders_or_files() {
    let w = workspace();
    let tree = w.path().join("P/tree");
    std::fs::create_dir_all(tree.join("a/b")).unwrap();
    std::fs::copy(
        root().join("samples/share/Sở Nội vụ/Thỏa thuận hợp tác.pdf"),
        tree.join("a/b/x.pdf"),
    )
    .unwrap();
    // Old access times: a kernel on relatime would update them on any read.
    let old = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let paths = [
        tree.clone(),
        tree.join("a"),
        tree.join("a/b"),
        tree.join("a/b/x.pdf"),
        tree.join("hop-tac.pdf"),
    ];
    for p in &paths {
        std::fs::File::open(p)
            .unwrap()
            .set_times(std::fs::FileTimes::new().set_accessed(old))
            .unwrap();
    }
    let atimes = || {
        paths.iter().map(|p| std::fs::metadata(p).unwrap().accessed().unwrap()).collect::<Vec<_>>()
    };
    let before = atimes();
    assert!(before.iter().all(|t| *t == old));
    let (out, _dir) = scan(&[&tree], &["--no-db"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(atimes(), before, "access times of the folders and files scanned");
}

#[test]
fn inspect_refuses_a_fifo_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.pdf");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let started = Instant::now();
    let mut child = bin()
        .arg("inspect")
        .arg(&fifo)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("inspect hangs on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).contains("not a regular file"), "{}", text(&out.stderr));
}

#[test]
fn control_characters_from_a_certificate_are_escaped_and_marked() {
    let file = root().join("tests/fixtures/controls/control-names.p7m");
    let out = run(bin().arg("inspect").arg(&file));
    let shown = text(&out.stdout);
    assert!(shown.contains("Signer: Nguyễn\\x1b]0;PWNED\\x07 \\x1b[31mĐỏ\\x0d\\x1b[2K"), "{shown}");
    assert!(
        !out.stdout.iter().any(|&b| b == 0x1b || b == 0x07 || b == b'\r' || b == 0),
        "no control byte reaches the terminal"
    );
    assert!(shown.contains("gpj\\u{202e}.exe\\x00") && !shown.contains('\u{202e}'));

    let (out, dir) = scan(&[&file], &["--no-db"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let report = report_dir(&dir);
    check_report(&report);
    let rows = read_csv(&report.join("signatures.csv"));
    assert_eq!(rows[0]["signer_org"], "gpj\\u{202e}.exe\\x00 Công ty");
    assert!(rows[0]["signer_cn"].starts_with("Nguyễn\\x1b]0;PWNED"), "{}", rows[0]["signer_cn"]);
    for page in ["index.html", "agencies/unassigned/report.html"] {
        let Ok(html) = std::fs::read_to_string(report.join(page)) else {
            continue;
        };
        assert!(
            !html.contains('\u{202e}') && !html.contains('\0') && !html.contains('\u{1b}'),
            "{page}"
        );
    }
    let agency_pages: Vec<_> = std::fs::read_dir(report.join("agencies"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("report.html"))
        .collect();
    let marked = agency_pages
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .any(|h| h.contains("gpj\\u{202e}.exe\\x00"));
    assert!(marked, "the HTML shows the marked name");
}

/// An IMAP server on loopback that logs in and opens the mailbox, then
/// never answers a FETCH (a hung server, a dead link with no RST).
fn stalling_imap_server() -> (u16, std::thread::JoinHandle<()>) {
    hostile_imap_server(|reader, _writer, _tag| {
        // Silence until the client gives up and closes.
        let mut rest = String::new();
        let _ = reader.read_line(&mut rest);
    })
}

/// An IMAP server on loopback that logs in and opens a mailbox of two
/// messages, then answers the first UID command with `behaviour`.
fn hostile_imap_server(
    behaviour: fn(&mut BufReader<std::net::TcpStream>, &mut std::net::TcpStream, &str),
) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut writer = stream.try_clone().unwrap();
        writer.write_all(b"* OK [CAPABILITY IMAP4rev1] stalling server ready\r\n").unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let mut words = line.split_whitespace();
            let tag = words.next().unwrap_or("*").to_owned();
            let command = words.next().unwrap_or("").to_ascii_uppercase();
            let reply = match command.as_str() {
                "EXAMINE" | "SELECT" => format!(
                    "* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n{tag} OK [READ-ONLY] opened\r\n"
                ),
                "UID" => {
                    behaviour(&mut reader, &mut writer, &tag);
                    return;
                }
                "LOGOUT" => format!("* BYE\r\n{tag} OK bye\r\n"),
                _ => format!("{tag} OK done\r\n"),
            };
            if writer.write_all(reply.as_bytes()).is_err() {
                return;
            }
        }
    });
    (port, handle)
}

/// Scans the hostile server's INBOX beside a folder of samples (timeout 2 s,
/// mailbox budget 3 s): the audit finishes, with exit 2, the other source
/// reported, and an imap row for the mailbox; returns that row's error.
fn audit_finishes_despite(server: (u16, std::thread::JoinHandle<()>)) -> String {
    let (port, server) = server;
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = run(bin()
        .arg("scan")
        .arg(format!("imap://vanthu@127.0.0.1:{port}/INBOX"))
        .arg(root().join("samples/share/Sở Nội vụ"))
        .args([
            "--imap-allow-plain",
            "--imap-timeout",
            "2",
            "--imap-mailbox-budget",
            "3",
            "--no-db",
            "--out",
        ])
        .arg(dir.path().join("report"))
        .env("SIGAUDIT_IMAP_PASSWORD", "secret"));
    let took = started.elapsed();
    server.join().unwrap();
    assert!(took < Duration::from_secs(20), "the audit finished in {took:?}");
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let report = dir.path().join("report");
    check_report(&report);
    assert!(
        !read_csv(&report.join("signatures.csv")).is_empty(),
        "the other source is still reported"
    );
    let errors = read_csv(&report.join("errors.csv"));
    let row = errors.iter().find(|e| {
        e["stage"] == "imap" && e["file"] == format!("imap://vanthu@127.0.0.1:{port}/INBOX")
    });
    row.unwrap_or_else(|| panic!("a row for the mailbox: {errors:?}"))["error"].clone()
}

#[test]
fn a_server_that_stops_answering_is_a_row_and_the_audit_finishes() {
    let error = audit_finishes_despite(stalling_imap_server());
    assert!(error.contains("stopped answering") && error.contains("2 s"), "{error}");
}

/// Answers until the client hangs up (a write fails), `line` after `line`.
fn flood(writer: &mut std::net::TcpStream, line: impl Fn(u64) -> String) {
    for n in 1.. {
        if writer.write_all(line(n).as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn a_server_that_floods_or_never_finishes_is_a_row_and_the_audit_finishes() {
    type Behaviour = fn(&mut BufReader<std::net::TcpStream>, &mut std::net::TcpStream, &str);
    let endless_fetch: Behaviour =
        |_, w, _| flood(w, |n| format!("* {n} FETCH (UID {n} RFC822.SIZE 10)\r\n"));
    // One answer a second: never silent for the 2 s timeout, never done.
    let slow_drip: Behaviour = |_, w, _| {
        flood(w, |n| {
            std::thread::sleep(Duration::from_secs(1));
            format!("* {n} FETCH (UID {n} RFC822.SIZE 10)\r\n")
        })
    };
    // Announces two 100-byte messages, then sends one as an endless literal.
    let endless_literal: Behaviour = |r, w, tag| {
        let sizes = format!(
            "* 1 FETCH (UID 1 RFC822.SIZE 100)\r\n* 2 FETCH (UID 2 RFC822.SIZE 100)\r\n{tag} OK \
             done\r\n"
        );
        if w.write_all(sizes.as_bytes()).is_err() {
            return;
        }
        let mut fetch = String::new();
        let _ = r.read_line(&mut fetch);
        // 400 MB: under the IMAP library's own 512 MiB cap, which it would allocate at once.
        if w.write_all(b"* 1 FETCH (UID 1 BODY[] {400000000}\r\n").is_ok() {
            let block = vec![b'x'; 1 << 16];
            while w.write_all(&block).is_ok() {}
        }
    };
    for (behaviour, expected) in [
        (endless_fetch, "more than 66 responses for 2 message(s)"),
        (slow_drip, "within its 3 s budget (--imap-mailbox-budget)"),
        (endless_literal, "FETCH: the server sent more than the 1050824 bytes its reply may take"),
    ] {
        let error = audit_finishes_despite(hostile_imap_server(behaviour));
        assert!(error.contains(expected), "{expected}: {error}");
    }
}
