//! A real IMAP server: Debian's Dovecot (installed by scripts/test), started
//! here on loopback with a throwaway configuration, user and TLS
//! certificate, loaded with the sample mailbox. The scan must find every
//! signature and change nothing: no \Seen flag, no message moved.

use crate::common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

const USER: &str = "vanthu@syt.thanhhoa.gov.vn";
const PASSWORD: &str = "mat-khau-thu-nghiem";

struct Dovecot {
    dir: tempfile::TempDir,
    imap_port: u16,
    imaps_port: u16,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("doveadm")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn sh(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}{}", text(&out.stdout), text(&out.stderr));
}

impl Dovecot {
    fn maildir(&self) -> PathBuf {
        self.dir.path().join("home").join(USER).join("Maildir")
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Starts Dovecot with the sample mailbox split into INBOX (half of it
    /// already \Seen, half new) and a Sent folder.
    fn start() -> Dovecot {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_owned();
        let d = d.as_path();
        assert!(
            Path::new("/usr/sbin/dovecot").exists(),
            "dovecot is installed by scripts/test (Debian's dovecot-imapd)"
        );
        // A test CA and a server certificate for localhost.
        sh(Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=sigaudit test CA",
                "-keyout",
            ])
            .arg(d.join("ca.key"))
            .arg("-out")
            .arg(d.join("ca.pem")));
        sh(Command::new("openssl")
            .args(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout"])
            .arg(d.join("key.pem"))
            .arg("-out")
            .arg(d.join("srv.csr")));
        std::fs::write(
            d.join("ext.cnf"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             extendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        sh(Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-CAcreateserial", "-in"])
            .arg(d.join("srv.csr"))
            .arg("-CA")
            .arg(d.join("ca.pem"))
            .arg("-CAkey")
            .arg(d.join("ca.key"))
            .arg("-extfile")
            .arg(d.join("ext.cnf"))
            .arg("-out")
            .arg(d.join("cert.pem")));
        std::fs::write(d.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        let (imap_port, imaps_port) = (free_port(), free_port());
        // Mail is owned by an unprivileged user: Dovecot refuses uid 0.
        let (uid, gid) =
            if unsafe_uid() == 0 { (65534, 65534) } else { (unsafe_uid(), unsafe_gid()) };
        let p = d.display();
        let conf = format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {p}/run\nstate_dir = {p}/state\n\
             log_path = {p}/dovecot.log\n\
             ssl = yes\nssl_cert = <{p}/cert.pem\nssl_key = <{p}/key.pem\n\
             disable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             first_valid_uid = 0\nmail_location = maildir:{p}/home/%u/Maildir\n\
             passdb {{\n  driver = passwd-file\
             \n  args = scheme=PLAIN username_format=%u {p}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={p}/home/%u\n}}\n\
             service imap-login {{\n  chroot =\
             \n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap_port}\n  }}\
             \n  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps_port}\
             \n    ssl = yes\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n"
        );
        std::fs::write(d.join("dovecot.conf"), conf).unwrap();
        let dv = Dovecot { dir, imap_port, imaps_port };
        let m = dv.maildir();
        for sub in ["cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"] {
            std::fs::create_dir_all(m.join(sub)).unwrap();
        }
        // The raw bytes of each message of the sample mbox (Python's mailbox
        // module, without re-serialising them; mbox `>From ` quoting undone,
        // as a mail server stores messages).
        let script = format!(
            "import mailbox, re\nmb = mailbox.mbox({mbox:?})\nfor i, key in \
             enumerate(mb.keys()):\n    raw = re.sub(rb'(?m)^>(>*From )', rb'\\1', \
             mb.get_bytes(key))\n    name = f'{m}/cur/17000000{{i}}.M{{i}}P1.test:2,S' if i % 2 \
             == 0 else f'{m}/new/17000000{{i}}.M{{i}}P1.test'\n    open(name, 'wb').write(raw)\n",
            mbox = root().join("samples/share/Sở Y tế/Hộp thư/vanthu.mbox").display().to_string(),
            m = m.display()
        );
        sh(Command::new("python3").arg("-c").arg(script));
        std::fs::copy(
            root().join("samples/share/Tài liệu chung/Thư đến/Công văn Sở Y tế.eml"),
            m.join(".Sent/cur/1700000099.M99P1.test:2,S"),
        )
        .unwrap();
        sh(Command::new("chown").arg("-R").arg(format!("{uid}:{gid}")).arg(d.join("home")));
        // Dovecot daemonises: its children must not hold our pipes open.
        let started = Command::new("dovecot")
            .arg("-c")
            .arg(d.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(
            started.success(),
            "dovecot failed to start: {}",
            std::fs::read_to_string(d.join("dovecot.log")).unwrap_or_default()
        );
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", dv.imaps_port)).is_ok() {
                return dv;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!(
            "dovecot did not start: {}",
            std::fs::read_to_string(d.join("dovecot.log")).unwrap_or_default()
        );
    }

    /// Every message's flags, read read-only with Python's imaplib.
    fn flags(&self) -> String {
        let script = format!(
            "import imaplib, ssl\nc = imaplib.IMAP4_SSL('localhost', {port}, \
             ssl_context=ssl.create_default_context(cafile={ca:?}))\nc.login({USER:?}, \
             {PASSWORD:?})\nfor box in ('INBOX', 'Sent'):\n    c.select(box, readonly=True)\n    \
             print(box, c.uid('FETCH', '1:*', '(FLAGS)')[1])\nc.logout()\n",
            port = self.imaps_port,
            ca = self.ca().display().to_string()
        );
        let out = Command::new("python3").arg("-c").arg(script).output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    }

    fn url(&self, scheme: &str, port: u16, mailbox: &str) -> String {
        format!("{scheme}://vanthu%40syt.thanhhoa.gov.vn@localhost:{port}/{mailbox}")
    }
}

fn unsafe_uid() -> u32 {
    text(&Command::new("id").arg("-u").output().unwrap().stdout).trim().parse().unwrap()
}

fn unsafe_gid() -> u32 {
    text(&Command::new("id").arg("-g").output().unwrap().stdout).trim().parse().unwrap()
}

fn imap_scan(dv: &Dovecot, url: &str, extra: &[&str]) -> (std::process::Output, tempfile::TempDir) {
    let out_dir = tempfile::tempdir().unwrap();
    let out = run(bin()
        .arg("scan")
        .arg(url)
        .arg("--rules")
        .arg(root().join("samples/rules"))
        .arg("--imap-ca")
        .arg(dv.ca())
        .args(extra)
        .arg("--out")
        .arg(out_dir.path().join("report"))
        .env("SIGAUDIT_IMAP_PASSWORD", PASSWORD));
    (out, out_dir)
}

#[test]
fn every_signature_on_the_server_is_found_and_nothing_changes() {
    let dv = Dovecot::start();
    let flags_before = dv.flags();
    // Message files only (cur/ new/ tmp/; flags live in their names):
    // Dovecot's own index and cache files may change on any access.
    let listing = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = walkdir::WalkDir::new(d)
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .filter(|p| {
                p.is_file()
                    && p.parent()
                        .and_then(|d| d.file_name())
                        .is_some_and(|n| n == "cur" || n == "new" || n == "tmp")
            })
            .map(|p| p.display().to_string())
            .collect();
        v.sort();
        v
    };
    let files_before = listing(&dv.maildir());
    let (out, report) = imap_scan(&dv, &dv.url("imaps", dv.imaps_port, ""), &[]);
    assert_eq!(code(&out), 2, "the malformed message is an error row: {}", text(&out.stderr));
    let dir = report_dir(&report);
    check_report(&dir);
    let rows = read_csv(&dir.join("signatures.csv"));
    assert_eq!(rows.len(), 6, "5 in INBOX, 1 in Sent: {rows:#?}");
    for r in &rows {
        assert!(
            r["file"].starts_with(&format!(
                "imaps://vanthu@syt.thanhhoa.gov.vn@localhost:{}/",
                dv.imaps_port
            )),
            "{}",
            r["file"]
        );
        assert!(
            r["file"].contains(";UIDVALIDITY=") && r["file"].contains("/;UID="),
            "{}",
            r["file"]
        );
        assert_eq!(r["found_in"], "000.00.09.H56", "found in the mailbox owner's place");
        if r["attributed_by"] == "location" {
            assert_eq!(r["agency_id"], "000.00.09.H56", "{r:?}");
        }
        assert_eq!(r["integrity"], "valid", "{r:?}");
    }
    assert_eq!(rows.iter().filter(|r| r["format"] == "smime").count(), 4);
    assert!(rows.iter().any(|r| {
        r["member"].ends_with("Hồ sơ tiêm chủng.zip / Hồ sơ/Công văn 56-SYT.pdf / Signature1")
    }));
    assert!(rows.iter().any(|r| r["file"].contains("/Sent;UIDVALIDITY=")));
    let errors = read_csv(&dir.join("errors.csv"));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    // Read-only: no flag changed, no message moved from new/ to cur/.
    assert_eq!(flags_before, dv.flags());
    assert_eq!(files_before, listing(&dv.maildir()));
    // The password appears nowhere in the reports.
    for entry in walkdir::WalkDir::new(&dir) {
        let p = entry.unwrap().into_path();
        if p.is_file() {
            assert!(
                !std::fs::read_to_string(&p).unwrap_or_default().contains(PASSWORD),
                "{}",
                p.display()
            );
        }
    }
}

#[test]
fn starttls_plain_and_bad_passwords() {
    let dv = Dovecot::start();
    // imap:// upgrades with STARTTLS.
    let (out, report) = imap_scan(&dv, &dv.url("imap", dv.imap_port, "Sent"), &[]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(read_csv(&report_dir(&report).join("signatures.csv")).len(), 1);
    // Plain text only when explicitly allowed.
    let (out, report) =
        imap_scan(&dv, &dv.url("imap", dv.imap_port, "Sent"), &["--imap-allow-plain"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(read_csv(&report_dir(&report).join("signatures.csv")).len(), 1);
    // A wrong password: an error row, exit 2, no crash.
    let out_dir = tempfile::tempdir().unwrap();
    let out = run(bin()
        .arg("scan")
        .arg(dv.url("imaps", dv.imaps_port, "INBOX"))
        .arg("--imap-ca")
        .arg(dv.ca())
        .arg("--out")
        .arg(out_dir.path().join("r"))
        .env("SIGAUDIT_IMAP_PASSWORD", "wrong"));
    assert_eq!(code(&out), 2);
    let errors = read_csv(&out_dir.path().join("r/errors.csv"));
    assert!(
        errors[0]["error"].contains("login as vanthu@syt.thanhhoa.gov.vn failed"),
        "{errors:?}"
    );
    // No password at all: a usage error before anything connects.
    let out = run(bin()
        .arg("scan")
        .arg(dv.url("imaps", dv.imaps_port, "INBOX"))
        .arg("--out")
        .arg(out_dir.path().join("r2"))
        .env_remove("SIGAUDIT_IMAP_PASSWORD"));
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).contains("SIGAUDIT_IMAP_PASSWORD"));
    // A password in the URL is refused.
    let out = run(bin()
        .arg("scan")
        .arg(format!("imaps://u:secret@localhost:{}/INBOX", dv.imaps_port))
        .arg("--out")
        .arg(out_dir.path().join("r3")));
    assert_eq!(code(&out), 1);
    assert!(!text(&out.stderr).contains("secret"));
}

/// `(N read)` from the summary line.
fn read_count(out: &std::process::Output) -> usize {
    let s = text(&out.stdout);
    s.split(" files (")
        .nth(1)
        .and_then(|r| r.split(" read)").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no read count in {s:?}"))
}

#[test]
fn a_rescan_with_history_fetches_only_new_messages() {
    let dv = Dovecot::start();
    let t = tempfile::tempdir().unwrap();
    let scan = |out: &str| {
        run(bin()
            .arg("scan")
            .arg(dv.url("imaps", dv.imaps_port, ""))
            .arg("--rules")
            .arg(root().join("samples/rules"))
            .arg("--imap-ca")
            .arg(dv.ca())
            .arg("--db")
            .arg(t.path().join("h.db"))
            .arg("--out")
            .arg(t.path().join(out))
            .env("SIGAUDIT_IMAP_PASSWORD", PASSWORD))
    };
    let first = scan("r1");
    assert_eq!(code(&first), 2, "{}", text(&first.stderr));
    assert!(read_count(&first) > 5, "{}", text(&first.stdout));
    // Nothing new on the server: every message is known by its URL
    // (UIDVALIDITY + UID) and size, none is fetched, the report is the same.
    let second = scan("r2");
    assert_eq!(code(&second), 2);
    assert_eq!(read_count(&second), 0, "{}", text(&second.stdout));
    for table in ["signatures.csv", "errors.csv", "agencies.csv"] {
        assert_eq!(
            read_csv(&t.path().join("r1").join(table)),
            read_csv(&t.path().join("r2").join(table)),
            "{table}"
        );
    }
    check_report(&t.path().join("r2"));
    // A new signed message arrives: only it is fetched.
    let (uid, gid) = if unsafe_uid() == 0 { (65534, 65534) } else { (unsafe_uid(), unsafe_gid()) };
    let new = dv.maildir().join("new/1700000500.M500P1.test");
    std::fs::copy(root().join("samples/share/Tài liệu chung/Thư đến/Công văn Sở Y tế.eml"), &new)
        .unwrap();
    sh(Command::new("chown").arg(format!("{uid}:{gid}")).arg(&new));
    let third = scan("r3");
    assert_eq!(read_count(&third), 1, "{}", text(&third.stdout));
    let before = read_csv(&t.path().join("r2/signatures.csv"));
    let after = read_csv(&t.path().join("r3/signatures.csv"));
    assert_eq!(after.len(), before.len() + 1);
    // That message is deleted on the server (the scan is read-only: it is
    // still in new/): the history forgets it.
    std::fs::remove_file(&new).unwrap();
    let fourth = scan("r4");
    assert_eq!(read_count(&fourth), 0, "{}", text(&fourth.stdout));
    assert_eq!(read_csv(&t.path().join("r4/signatures.csv")), before);
    let history = rusqlite::Connection::open(t.path().join("h.db")).unwrap();
    let removed: i64 = history
        .query_row("SELECT files_removed FROM runs ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(removed, 1, "the deleted message is forgotten");
    let left: i64 = history
        .query_row("SELECT count(*) FROM files WHERE path LIKE 'imaps://%'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        left as usize,
        read_count(&first),
        "every message still on the server is remembered, and only those"
    );
}

/// A configuration file's `[[imap.accounts]]`: each account logs in with
/// the password in its own file (not the shared SIGAUDIT_IMAP_PASSWORD),
/// and is scanned as a source.
#[test]
fn a_configured_account_logs_in_with_its_own_password_file() {
    let dv = Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("van-thu.password"), format!("{PASSWORD}\n")).unwrap();
    let config = dir.path().join("sigaudit.toml");
    let write_config = |password_file: &str| {
        std::fs::write(
            &config,
            format!(
                "out = \"report\"\n[imap]\nca = {ca:?}\n[[imap.accounts]]\nurl = \
                 {url:?}\npassword_file = {password_file:?}\n",
                ca = dv.ca().display().to_string(),
                url = dv.url("imaps", dv.imaps_port, "Sent")
            ),
        )
        .unwrap();
    };
    write_config("van-thu.password");
    let checked = run(bin().args(["config", "check"]).arg(&config));
    assert_eq!(code(&checked), 0, "{}", text(&checked.stderr));
    // The shared password is wrong: the account's own file is what logs in.
    let out = run(bin()
        .arg("scan")
        .arg("--config")
        .arg(&config)
        .arg("--no-db")
        .env("SIGAUDIT_IMAP_PASSWORD", "wrong"));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let rows = read_csv(&dir.path().join("report/signatures.csv"));
    assert_eq!(rows.len(), 1, "the Sent folder's signed message: {rows:?}");
    assert!(rows[0]["file"].contains("/Sent;UIDVALIDITY="), "{rows:?}");
    // A wrong password in the account's file: that account's login fails (an errors.csv row).
    std::fs::write(dir.path().join("other.password"), "not-it\n").unwrap();
    write_config("other.password");
    let out = run(bin()
        .arg("scan")
        .arg("--config")
        .arg(&config)
        .arg("--no-db")
        .env("SIGAUDIT_IMAP_PASSWORD", PASSWORD));
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let errors = read_csv(&dir.path().join("report/errors.csv"));
    assert!(
        errors[0]["error"].contains("login as vanthu@syt.thanhhoa.gov.vn failed"),
        "{errors:?}"
    );
}
