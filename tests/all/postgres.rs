//! The province's history on a real PostgreSQL (Debian's server, started
//! here on a free loopback port in a temporary data directory, as the IMAP
//! tests start Dovecot): incremental rescans, four hosts scanning at once,
//! a scan killed or the server restarted midway, TLS with a test CA, a
//! wrong password, `history copy` from SQLite, and the province report
//! equal to one host's report over the union of the trees.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::history_cases::{self, Backend};
use common::*;

const PASSWORD: &str = "province-test-password";

/// A PostgreSQL cluster of its own, stopped when dropped.
struct Postgres {
    dir: tempfile::TempDir,
    port: u16,
}

fn pg_bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("Debian's postgresql package (scripts/test installs it)")
        .flatten()
        .map(|e| e.path())
        .collect();
    versions.sort();
    versions.last().expect("a PostgreSQL version").join("bin").join(name)
}

/// Runs a PostgreSQL program as the `postgres` user when root (the server
/// refuses to run as root), else as whoever runs the tests.
fn as_postgres(program: &str) -> Command {
    if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_bin(program));
        c
    } else {
        Command::new(pg_bin(program))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Postgres {
    /// `tls`: (server certificate, key) to serve TLS only.
    fn start(tls: Option<(&Path, &Path)>) -> Postgres {
        let dir = tempfile::tempdir().unwrap();
        let owner = if unsafe { libc::geteuid() } == 0 { Some("postgres") } else { None };
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, PASSWORD).unwrap();
        if let Some(o) = owner {
            assert!(
                Command::new("chown").args(["-R", o]).arg(dir.path()).status().unwrap().success()
            );
        }
        let data = dir.path().join("data");
        let init = run(as_postgres("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "sigaudit", "--auth=scram-sha-256", "--no-sync"])
            .arg(format!("--pwfile={}", pwfile.display())));
        assert!(init.status.success(), "initdb: {}", text(&init.stderr));
        if let Some((cert, key)) = tls {
            for (from, name) in [(cert, "server.crt"), (key, "server.key")] {
                std::fs::copy(from, data.join(name)).unwrap();
            }
            if let Some(o) = owner {
                assert!(
                    Command::new("chown").args(["-R", o]).arg(&data).status().unwrap().success()
                );
            }
            std::fs::set_permissions(
                data.join("server.key"),
                std::os::unix::fs::PermissionsExt::from_mode(0o600),
            )
            .unwrap();
            // TLS or nothing over TCP.
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
            )
            .unwrap();
        }
        let port = free_port();
        let ssl = if tls.is_some() { " -c ssl=on" } else { "" };
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60{ssl}",
            dir.path().display()
        );
        let started = run(as_postgres("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-o")
            .arg(&opts)
            .arg("-l")
            .arg(dir.path().join("log"))
            .args(["-w", "start"]));
        assert!(
            started.status.success(),
            "pg_ctl start: {} {}",
            text(&started.stderr),
            std::fs::read_to_string(dir.path().join("log")).unwrap_or_default()
        );
        let pg = Postgres { dir, port };
        pg.psql("CREATE DATABASE audit");
        pg
    }

    /// psql on database `db`, as the test role.
    fn psql_in(&self, db: &str, sql: &str) -> std::process::Output {
        run(Command::new(pg_bin("psql"))
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-U", "sigaudit", "-d", db, "-tAc", sql])
            .env("PGPASSWORD", PASSWORD))
    }

    fn psql(&self, sql: &str) -> String {
        let out = self.psql_in("postgres", sql);
        assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
        text(&out.stdout).trim().to_owned()
    }

    /// `sql`'s answer, or 0 before sigaudit made the tables.
    fn count(&self, sql: &str) -> usize {
        text(&self.psql_in("audit", sql).stdout).trim().parse().unwrap_or(0)
    }

    fn query(&self, sql: &str) -> String {
        let out = self.psql_in("audit", sql);
        assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
        text(&out.stdout).trim().to_owned()
    }

    fn url(&self) -> String {
        format!("postgresql://sigaudit@127.0.0.1:{}/audit?sslmode=disable", self.port)
    }

    fn restart(&self) {
        // Its log as at start: the server must not hold this test's pipes.
        let out = run(as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .args(["-m", "fast", "-w", "restart"]));
        assert!(out.status.success(), "pg_ctl restart: {}", text(&out.stderr));
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn samples_rules() -> String {
    root().join("samples/rules").display().to_string()
}

fn sigaudit(args: &[&str]) -> Command {
    let mut c = bin();
    c.args(args).env("PGPASSWORD", PASSWORD);
    c
}

fn scan_into(db: &str, host: &str, sources: &[&Path], out: &Path) -> std::process::Output {
    let mut c =
        sigaudit(&["scan", "--rules", &samples_rules(), "--db", db, "--host-label", host, "--out"]);
    c.arg(out).args(sources);
    run(&mut c)
}

/// How many files the scan says it read (the rest came from the history).
fn files_read(out: &std::process::Output) -> usize {
    let stdout = text(&out.stdout);
    stdout
        .split(" files (")
        .nth(1)
        .and_then(|s| s.split(" read)").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}\n{}", text(&out.stderr)))
}

/// A report table's rows, sorted: the same findings whatever order the hosts wrote them in.
fn sorted_rows(path: &Path) -> Vec<String> {
    let mut rows: Vec<String> = read_csv(path)
        .into_iter()
        .map(|r| format!("{:?}", r.into_iter().collect::<BTreeMap<_, _>>()))
        .collect();
    rows.sort();
    rows
}

/// samples/share split into four agencies' file servers.
fn four_hosts(dir: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(root().join("samples/share"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    folders.sort();
    let hosts: Vec<PathBuf> = (0..4).map(|i| dir.join(format!("host{i}"))).collect();
    for (i, folder) in folders.iter().enumerate() {
        let host = &hosts[i % 4];
        std::fs::create_dir_all(host).unwrap();
        assert!(Command::new("cp").arg("-a").arg(folder).arg(host).status().unwrap().success());
    }
    hosts
}

#[test]
fn four_hosts_at_once_make_the_province_report_one_host_would_make_of_all_trees() {
    let pg = Postgres::start(None);
    let t = tempfile::tempdir().unwrap();
    let hosts = four_hosts(t.path());
    let url = pg.url();
    let started = Instant::now();
    let children: Vec<Child> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            sigaudit(&[
                "scan",
                "--quiet",
                "--rules",
                &samples_rules(),
                "--db",
                &url,
                "--host-label",
                &format!("agency-{i}"),
                "--out",
            ])
            .arg(t.path().join(format!("r{i}")))
            .arg(h)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!([0, 2].contains(&code(&out)), "{}", text(&out.stderr));
    }
    eprintln!("four hosts at once: {:.2} s", started.elapsed().as_secs_f64());
    assert_eq!(pg.query("SELECT count(DISTINCT host) FROM runs WHERE finished IS NOT NULL"), "4");

    // The province, from the database alone.
    let province = t.path().join("province");
    let out =
        run(sigaudit(&["report", "--db", &url, "--rules", &samples_rules(), "--out"])
            .arg(&province));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("4 host audits, 0 not from this month"),
        "{}",
        text(&out.stdout)
    );
    check_report(&province);
    // One host over the union of the trees, into SQLite.
    let single = t.path().join("single");
    let mut c = sigaudit(&["scan", "--rules", &samples_rules(), "--db"]);
    c.arg(t.path().join("one.db")).arg("--out").arg(&single).args(&hosts);
    let out = run(&mut c);
    assert!([0, 2].contains(&code(&out)), "{}", text(&out.stderr));
    for table in ["signatures.csv", "signers.csv", "agencies.csv", "errors.csv", "trend.csv"] {
        assert_eq!(sorted_rows(&province.join(table)), sorted_rows(&single.join(table)), "{table}");
    }
    let hosts_csv = read_csv(&province.join("hosts.csv"));
    assert!(
        hosts_csv
            .iter()
            .any(|r| r["host"] == "agency-0" && r["stale"] == "false" && !r["audited"].is_empty()),
        "{hosts_csv:?}"
    );

    // Each host's unchanged rescan reads nothing, and the report stays the same.
    let again = scan_into(&url, "agency-0", &[&hosts[0]], &t.path().join("again"));
    assert_eq!(files_read(&again), 0, "{}", text(&again.stdout));
    let listed = text(&run(&mut sigaudit(&["report", "--list", "--db", &url])).stdout);
    assert_eq!(
        listed.lines().filter(|l| l.contains("\tagency-0\t")).count(),
        2,
        "runs per host: {listed}"
    );
    let province2 = t.path().join("province2");
    assert_eq!(
        code(&run(sigaudit(&["report", "--db", &url, "--rules", &samples_rules(), "--out"])
            .arg(&province2))),
        0
    );
    assert_eq!(
        sorted_rows(&province2.join("signatures.csv")),
        sorted_rows(&province.join("signatures.csv")),
        "the latest run of each host replaces its earlier one"
    );
    let index = std::fs::read_to_string(province.join("index.html")).unwrap();
    assert!(
        index.contains("id=\"hosts\"")
            && index.contains("agency-3")
            && !index.contains("chưa kiểm tra tháng này"),
        "every host reported this month"
    );

    // One host last reported forty days ago: still in the province's
    // figures, marked stale; the audit trend gets that month's column.
    pg.query(
        "UPDATE runs SET started = to_char((now() - interval '40 days') AT TIME ZONE 'UTC', \
         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), finished = to_char((now() - interval '40 days') AT \
         TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') WHERE host = 'agency-3'",
    );
    let stale = t.path().join("stale");
    let out =
        run(sigaudit(&["report", "--db", &url, "--rules", &samples_rules(), "--out"]).arg(&stale));
    assert!(
        text(&out.stdout).contains("4 host audits, 1 not from this month"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        sorted_rows(&stale.join("agencies.csv")),
        sorted_rows(&province.join("agencies.csv")),
        "a stale host's agencies still count"
    );
    let hosts_csv = read_csv(&stale.join("hosts.csv"));
    let agency_3: Vec<_> = hosts_csv.iter().filter(|r| r["host"] == "agency-3").collect();
    assert!(!agency_3.is_empty() && agency_3.iter().all(|r| r["stale"] == "true"), "{hosts_csv:?}");
    assert!(hosts_csv.iter().filter(|r| r["host"] != "agency-3").all(|r| r["stale"] == "false"));
    let index = std::fs::read_to_string(stale.join("index.html")).unwrap();
    assert!(index.contains("chưa kiểm tra tháng này"), "the stale host is marked");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stale.join("summary.json")).unwrap()).unwrap();
    let stale_hosts: Vec<&str> = summary["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["stale"] == true)
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(
        (summary["hosts"].as_array().unwrap().len(), stale_hosts),
        (4, vec!["agency-3"]),
        "summary.json, for monitoring"
    );
    let chart = &index[index.find("id=\"audits\"").unwrap()..];
    let chart = &chart[..chart.find("</section>").unwrap()];
    assert_eq!(
        chart.matches("rotate(-45").count(),
        2,
        "two audit months, each summing its hosts: {chart}"
    );
    let stale_agency = &agency_3[0]["agency_id"];
    let page =
        std::fs::read_to_string(stale.join("agencies").join(stale_agency).join("report.html"))
            .unwrap();
    assert!(
        page.contains("agency-3") && page.contains("chưa kiểm tra tháng này"),
        "the agency page names its host and marks it stale"
    );
}

#[test]
fn the_same_host_and_source_scan_one_at_a_time() {
    let pg = Postgres::start(None);
    let t = tempfile::tempdir().unwrap();
    let share = copies_of_a_signed_file(t.path(), enough_to_watch(2000));
    let url = pg.url();
    let mut first = sigaudit(&[
        "scan",
        "--quiet",
        "--rules",
        &samples_rules(),
        "--db",
        &url,
        "--host-label",
        "h",
        "--out",
    ])
    .arg(t.path().join("r1"))
    .arg(&share)
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    wait_until(Duration::from_secs(60), || pg.count("SELECT count(*) FROM runs") > 0);
    let second = scan_into(&url, "h", &[&share], &t.path().join("r2"));
    assert_eq!(code(&second), 1, "{}", text(&second.stderr));
    assert!(
        text(&second.stderr).contains("another sigaudit run of host \"h\""),
        "{}",
        text(&second.stderr)
    );
    // Another host goes on meanwhile.
    let other =
        scan_into(&url, "other", &[&root().join("samples/share/Sở Y tế")], &t.path().join("r3"));
    assert!([0, 2].contains(&code(&other)), "{}", text(&other.stderr));
    assert!(first.wait().unwrap().success());
}

fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_scan_killed_or_a_server_restarted_midway_keeps_what_was_committed_and_the_next_run_finishes() {
    let pg = Postgres::start(None);
    let t = tempfile::tempdir().unwrap();
    let n = enough_to_watch(4000);
    let share = copies_of_a_signed_file(t.path(), n);
    let url = pg.url();
    let spawn = |out: &str| {
        sigaudit(&[
            "scan",
            "--quiet",
            "--rules",
            &samples_rules(),
            "--db",
            &url,
            "--host-label",
            "h",
            "--out",
        ])
        .arg(t.path().join(out))
        .arg(&share)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let cached = || pg.count("SELECT count(*) FROM files");
    // kill -9 once the first batch is committed.
    let mut child = spawn("r1");
    wait_until(Duration::from_secs(60), || cached() > 0);
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    child.wait().unwrap();
    let kept = cached();
    assert!(kept > 0 && kept < n, "killed midway: {kept} of {n} kept");
    assert_eq!(
        pg.query("SELECT count(*) FILTER (WHERE finished IS NULL) || '/' || count(*) FROM runs"),
        "1/1",
        "the killed run stays incomplete"
    );

    // The server restarts while the next run writes: a clear error, exit 1.
    let child = spawn("r2");
    wait_until(Duration::from_secs(60), || cached() > kept);
    pg.restart();
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    eprintln!("the run the restart met: exit {}, {stderr}", code(&out));
    if code(&out) != 0 && code(&out) != 2 {
        assert_eq!(code(&out), 1, "{stderr}");
        assert!(stderr.contains("run again to continue"), "a clear error: {stderr}");
        assert!(!stderr.contains(PASSWORD));
    }
    let after_restart = cached();
    assert!(after_restart >= kept, "what was committed stays");

    // The next run finishes the job, reading only what is missing.
    let last = scan_into(&url, "h", &[&share], &t.path().join("r3"));
    assert!([0, 2].contains(&code(&last)), "{}", text(&last.stderr));
    assert!(files_read(&last) <= n - kept, "read {} of {n}, {kept} were kept", files_read(&last));
    assert_eq!(cached(), n);
    let signatures = read_csv(&t.path().join("r3/signatures.csv"));
    assert_eq!(signatures.len(), n, "every file's signature, read or from the cache");
}

#[test]
fn a_wrong_password_is_a_clear_error_that_never_shows_it() {
    let pg = Postgres::start(None);
    let t = tempfile::tempdir().unwrap();
    let wrong = "not-the-password-123";
    let mut c = bin();
    c.args(["scan", "--rules", &samples_rules(), "--db", &pg.url(), "--out"])
        .arg(t.path().join("r"))
        .arg(root().join("samples/share/Sở Y tế"))
        .env("PGPASSWORD", wrong);
    let out = run(&mut c);
    assert_eq!(code(&out), 1);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("password authentication failed"), "{all}");
    assert!(!all.contains(wrong) && !all.contains(PASSWORD), "{all}");
    // Nor in the URL: refused before connecting.
    let out = run(bin().args([
        "report",
        "--list",
        "--db",
        &format!("postgresql://sigaudit:{wrong}@127.0.0.1:{}/audit", pg.port),
    ]));
    assert_eq!(code(&out), 1);
    assert!(
        text(&out.stderr).contains("PGPASSWORD") && !text(&out.stderr).contains(wrong),
        "{}",
        text(&out.stderr)
    );
    // From a file, as cron would give it.
    let pw = t.path().join("pw");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let out =
        run(bin().args(["report", "--list", "--db", &pg.url(), "--db-password-file"]).arg(&pw));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
}

#[test]
fn tls_with_a_test_ca_is_verified_and_an_unknown_ca_refused() {
    let t = tempfile::tempdir().unwrap();
    let (ca, cert, key) =
        (t.path().join("ca.pem"), t.path().join("server.crt"), t.path().join("server.key"));
    let sh = format!(
        "set -e; cd {dir}; openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
         -days 2 -subj '/CN=sigaudit test CA' -addext basicConstraints=critical,CA:TRUE -addext \
         keyUsage=critical,keyCertSign 2>/dev/null;
         openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj \
         '/CN=localhost' 2>/dev/null;
         printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ext;
         openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt \
         -days 2 -extfile ext 2>/dev/null",
        dir = t.path().display()
    );
    assert!(Command::new("sh").arg("-c").arg(&sh).status().unwrap().success());
    let pg = Postgres::start(Some((&cert, &key)));
    let url = format!("postgresql://sigaudit@localhost:{}/audit?sslmode=verify-full", pg.port);
    let share = root().join("samples/share/Sở Y tế");
    let mut c = sigaudit(&["scan", "--rules", &samples_rules(), "--db", &url, "--db-ca"]);
    c.arg(&ca).arg("--out").arg(t.path().join("r1")).arg(&share);
    let out = run(&mut c);
    assert!([0, 2].contains(&code(&out)), "{}", text(&out.stderr));
    assert_eq!(pg.query("SELECT count(*) FROM runs WHERE finished IS NOT NULL"), "1");
    // Without the CA the server is not trusted; plain TCP is refused by the server.
    let out = run(&mut sigaudit(&["report", "--list", "--db", &url]));
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).to_lowercase().contains("certificate"), "{}", text(&out.stderr));
    let plain = format!("postgresql://sigaudit@127.0.0.1:{}/audit?sslmode=disable", pg.port);
    let out = run(&mut sigaudit(&["report", "--list", "--db", &plain]));
    assert_eq!(code(&out), 1, "{}", text(&out.stdout));
}

#[test]
fn an_sqlite_history_copied_into_postgresql_reports_the_same() {
    let pg = Postgres::start(None);
    let t = tempfile::tempdir().unwrap();
    let sqlite = t.path().join("agency.db");
    let share = root().join("samples/share");
    for out in ["r1", "r2"] {
        let mut c = sigaudit(&["scan", "--rules", &samples_rules(), "--db"]);
        c.arg(&sqlite).arg("--out").arg(t.path().join(out)).arg(&share);
        assert!([0, 2].contains(&code(&run(&mut c))));
    }
    let url = pg.url();
    let mut c = sigaudit(&["history", "copy", "--host-label", "so-y-te", "--from"]);
    c.arg(&sqlite).args(["--to", &url]);
    let out = run(&mut c);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("2 run(s) copied"), "{}", text(&out.stdout));
    // Twice is once.
    let out = run(&mut c);
    assert!(
        text(&out.stdout).contains("0 run(s) copied")
            && text(&out.stdout).contains("2 already there"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(pg.query("SELECT count(*) FROM runs WHERE finished IS NOT NULL"), "2");
    let copied = t.path().join("copied");
    let out =
        run(sigaudit(&["report", "--db", &url, "--rules", &samples_rules(), "--out"]).arg(&copied));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    for table in ["signatures.csv", "signers.csv", "agencies.csv", "errors.csv", "trend.csv"] {
        assert_eq!(
            sorted_rows(&copied.join(table)),
            sorted_rows(&t.path().join("r2").join(table)),
            "{table}"
        );
    }
    assert_eq!(
        pg.query("SELECT count(*) FROM findings"),
        pg.query("SELECT count(DISTINCT finding_id) FROM run_findings"),
        "each distinct finding stored once"
    );
    // The schema is versioned: a newer one is refused, nothing written.
    assert_eq!(pg.query("SELECT version FROM sigaudit_schema"), "7");
    pg.query("UPDATE sigaudit_schema SET version = 8");
    let out = scan_into(&url, "so-y-te", &[&share], &t.path().join("refused"));
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).contains("newer sigaudit (schema 8"), "{}", text(&out.stderr));
    assert_eq!(pg.query("SELECT count(*) FROM runs"), "2");
}

/// A fresh server as a test history: `--db URL --db-password-file FILE`
/// (as cron would run it), and row counts through psql.
fn backend(pg: &std::rc::Rc<Postgres>, dir: &Path) -> Backend {
    let pw = dir.join("db-password");
    std::fs::write(&pw, PASSWORD).unwrap();
    let args = vec!["--db".into(), pg.url(), "--db-password-file".into(), pw.display().to_string()];
    let pg = pg.clone();
    Backend { args, count: Box::new(move |sql| pg.query(sql).parse().unwrap()) }
}

#[test]
fn an_incremental_rescan_into_postgresql_reports_exactly_what_a_full_scan_does() {
    let (pg, t) = (std::rc::Rc::new(Postgres::start(None)), tempfile::tempdir().unwrap());
    history_cases::an_incremental_rescan_reports_exactly_what_a_full_scan_does(&backend(
        &pg,
        t.path(),
    ));
}

#[test]
fn a_rules_change_reclassifies_what_postgresql_stored_without_reading_files() {
    let (pg, t) = (std::rc::Rc::new(Postgres::start(None)), tempfile::tempdir().unwrap());
    history_cases::a_rules_change_reclassifies_stored_signatures_without_reading_files(&backend(
        &pg,
        t.path(),
    ));
}

#[test]
fn three_monthly_audits_in_postgresql_give_trends_changes_and_rebuildable_reports() {
    let (pg, t) = (std::rc::Rc::new(Postgres::start(None)), tempfile::tempdir().unwrap());
    history_cases::three_monthly_audits_give_trends_changes_and_rebuildable_reports(&backend(
        &pg,
        t.path(),
    ));
}

#[test]
fn the_province_report_lists_each_host_s_changes_since_its_own_previous_audit() {
    let pg = Postgres::start(None);
    let t = tempfile::tempdir().unwrap();
    let url = pg.url();
    let share = t.path().join("share");
    std::fs::create_dir(&share).unwrap();
    for (i, month) in ["2025-01", "2025-02", "2025-03"].iter().enumerate() {
        assert!(
            Command::new("cp")
                .arg("-a")
                .arg(root().join("tests/fixtures/history").join(month))
                .arg(share.join(month))
                .status()
                .unwrap()
                .success()
        );
        let out = scan_into(&url, "h", &[&share], &t.path().join(format!("r{}", i + 1)));
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    }
    let other = scan_into(&url, "k", &[&root().join("samples/share/Sở Y tế")], &t.path().join("k"));
    assert!([0, 2].contains(&code(&other)), "{}", text(&other.stderr));
    let province = t.path().join("province");
    let out =
        run(sigaudit(&["report", "--db", &url, "--rules", &samples_rules(), "--out"])
            .arg(&province));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let changes = sorted_rows(&province.join("changes.csv"));
    assert!(!changes.is_empty());
    assert_eq!(
        changes,
        sorted_rows(&t.path().join("r3/changes.csv")),
        "host h's changes since its run 2; host k has no earlier audit"
    );
    let index = std::fs::read_to_string(province.join("index.html")).unwrap();
    assert!(
        index.contains("id=\"changes\"") && index.contains(">đã chuyển đổi</td>"),
        "the changes table, migrated signers included"
    );
}
