//! `sigaudit rules check` and `sigaudit rules fetch-anchors` (against a
//! real HTTP server on loopback).

use crate::common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use common::*;

#[test]
fn builtin_and_sample_rules_check_clean() {
    let out = run(bin().args(["rules", "check"]));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("77 pinned certificates"), "{}", text(&out.stdout));
    let out = run(bin().args(["rules", "check"]).arg(root().join("samples/rules")));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("86 pinned certificates"), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("anchors folder: 8 certificates (8 pinned)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn mistakes_are_reported_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("ca.d")).unwrap();
    std::fs::write(
        dir.path().join("ca.d/local.toml"),
        "[[ca]]\nid = \"vnpt-ca\"\nname = \"Dup\"\nclass = \"commercial\"\n\n  [[ca.cert]]\n  \
         subject = \"CN=X\"\n  sha256 = \"abc\"\n",
    )
    .unwrap();
    let out = run(bin().args(["rules", "check"]).arg(dir.path()));
    assert_eq!(code(&out), 1);
    let err = text(&out.stderr);
    assert!(
        err.contains("local.toml:2:6: CA id `vnpt-ca` is already defined in ca.toml (built-in)"),
        "{err}"
    );
    assert!(err.contains("local.toml:8:12: sha256 must be 64 hex digits, got `abc`"), "{err}");
    // A broken rules folder stops a scan before it starts (exit 1).
    let out = run(bin()
        .arg("scan")
        .arg(root().join("samples/share"))
        .arg("--rules")
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("r")));
    assert_eq!(code(&out), 1);
}

#[test]
fn a_pin_with_non_ascii_hex_is_a_diagnostic_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("ca.d")).unwrap();
    for (i, value) in
        ["aéa", "ếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếếế", "zz"]
            .iter()
            .enumerate()
    {
        let file = dir.path().join("ca.d/local.toml");
        std::fs::write(
            &file,
            format!(
                "[[ca]]\nid = \"local-{i}\"\nname = \"Local\"\nclass = \"commercial\"\n\n  \
                 [[ca.cert]]\n  subject = \"CN=X\"\n  sha256 = \"{value}\"\n"
            ),
        )
        .unwrap();
        let out = run(bin().args(["rules", "check"]).arg(dir.path()));
        assert_eq!(code(&out), 1, "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("local.toml:8:12: sha256 must be 64 hex digits, got `{value}`")),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Python's http.server on a free loopback port, serving `dir`.
fn http_server(dir: &std::path::Path) -> (Server, u16) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = Server(
        Command::new("python3")
            .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 http.server starts"),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (server, port);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("http.server did not start");
}

#[test]
fn fetch_anchors_keeps_only_pinned_downloads() {
    let www = tempfile::tempdir().unwrap();
    let Some(g2) = shared_or_skip(
        "rules_cli::fetch_anchors_keeps_only_pinned_downloads",
        "ca-certs/government-vgca/RootCA-chuyen-dung-Chinh-phu-G2__2018__f04ba4b4.pem",
    ) else {
        return;
    };
    std::fs::create_dir_all(www.path().join("pki/pub/crt")).unwrap();
    std::fs::copy(&g2, www.path().join("pki/pub/crt/rootcag2.crt")).unwrap();
    // A "cp.crt" that is really another certificate: must be refused.
    std::fs::create_dir_all(www.path().join("pki/pub/cert")).unwrap();
    std::fs::copy(&g2, www.path().join("pki/pub/cert/cp.crt")).unwrap();
    let (_server, port) = http_server(www.path());
    // The built-in catalogue, with its official URLs pointed at the mirror.
    let builtin = std::fs::read_to_string(root().join("rules/ca.toml")).unwrap();
    // Every other official host answers 404 from the mirror: nothing
    // leaves the machine.
    let mirrored = loopback_urls(
        &builtin.replace("http://ca.gov.vn/", &format!("http://127.0.0.1:{port}/")),
        port,
    );
    assert!(
        !mirrored.contains("download = \"https") && !mirrored.contains("\"http://www"),
        "every URL points at the mirror"
    );
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(rules.path().join("ca.toml"), mirrored).unwrap();
    let anchors = tempfile::tempdir().unwrap();
    let out = run(bin()
        .args(["rules", "fetch-anchors", "--rules"])
        .arg(rules.path())
        .arg("--out")
        .arg(anchors.path()));
    assert_eq!(code(&out), 2, "some URLs fail: {}", text(&out.stderr));
    let saved: Vec<String> = std::fs::read_dir(anchors.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(saved[0].starts_with("vgca-g2-root__f04ba4b459a7c9a1"), "{saved:?}");
    let err = text(&out.stderr);
    assert!(err.contains("cp.crt: no certificate in the download"), "{err}");
    assert!(err.contains("refused"), "{err}");
    // The saved file is the real DER: its SHA-256 is the pin.
    let sha = Command::new("sha256sum").arg(anchors.path().join(&saved[0])).output().unwrap();
    assert!(
        text(&sha.stdout)
            .starts_with("f04ba4b459a7c9a1b971ad9b1cb833e695a80c79aea63b174b66a70edfe2fdb8")
    );
}

/// The rules text with every http(s) URL of another host than the mirror
/// pointed at the mirror's `missing/HOST/...` (a 404).
fn loopback_urls(rules: &str, port: u16) -> String {
    let mirror = format!("http://127.0.0.1:{port}/");
    let mut out = String::with_capacity(rules.len());
    let mut rest = rules;
    while let Some(at) = rest.find("\"http") {
        out.push_str(&rest[..at + 1]);
        let url = &rest[at + 1..];
        let end = url.find('"').unwrap_or(url.len());
        let (url, after) = url.split_at(end);
        if url.starts_with(&mirror) {
            out.push_str(url);
        } else {
            let path = url.split_once("://").map_or(url, |(_, p)| p);
            out.push_str(&format!("{mirror}missing/{path}"));
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[test]
fn fetch_anchors_keeps_another_generation_only_when_it_verifies_up_to_a_pin() {
    // The samples' TEST catalogue, whose VNPT-CA names two URLs for keys no
    // pin holds: one serves a second generation issued by the pinned TEST
    // national root, the other a forger's CA with the pinned name and key id.
    let www = tempfile::tempdir().unwrap();
    let generations = root().join("tests/fixtures/generations");
    for (p7m, served) in
        [("ca-gen2-with-intermediate.p7m", "gen2.crt"), ("forged-ski-copy.p7m", "forger.crt")]
    {
        let certs = Command::new("openssl")
            .args(["pkcs7", "-inform", "DER", "-print_certs", "-in"])
            .arg(generations.join(p7m))
            .output()
            .unwrap();
        let pems = text(&certs.stdout);
        // openssl prints the CA certificate after the signer's.
        let ca = pems.rsplit("subject=").next().unwrap();
        std::fs::write(www.path().join(served), &ca[ca.find("-----BEGIN").unwrap()..]).unwrap();
    }
    let (_server, port) = http_server(www.path());
    let rules = tempfile::tempdir().unwrap();
    std::fs::create_dir(rules.path().join("ca.d")).unwrap();
    let test_pki =
        std::fs::read_to_string(root().join("samples/rules/ca.d/test-pki.toml")).unwrap();
    let downloads = format!(
        "other_downloads = [\"http://127.0.0.1:{port}/gen2.crt\", \
         \"http://127.0.0.1:{port}/forger.crt\"]"
    );
    let with_urls = test_pki.replacen(
        "id = \"test-vnpt-ca\"",
        &format!("id = \"test-vnpt-ca\"\n{downloads}"),
        1,
    );
    assert_ne!(with_urls, test_pki);
    std::fs::write(rules.path().join("ca.d/test-pki.toml"), with_urls).unwrap();
    // No built-in catalogue: no official URL is tried from the test.
    std::fs::write(rules.path().join("ca.toml"), "schema = 1\n").unwrap();
    // The pinned TEST national root is already in the anchors folder.
    let anchors = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("samples/pki/neac-root.pem"), anchors.path().join("neac-root.pem"))
        .unwrap();
    let out = run(bin()
        .args(["rules", "fetch-anchors", "--rules"])
        .arg(rules.path())
        .arg("--out")
        .arg(anchors.path()));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "forger.crt: no certificate in the download verifies up to a pinned certificate: \
             refused"
        ),
        "{err}"
    );
    let saved: Vec<String> = std::fs::read_dir(anchors.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(saved.iter().filter(|f| f.starts_with("test-vnpt-ca__")).count(), 1, "{saved:?}");
    // And a scan of the generation's leaf alone now verifies its chain.
    let (scanned, dir) = scan(
        &[&generations.join("ca-gen2-leaf-only.p7m")],
        &[
            "--no-db",
            "--rules",
            rules.path().to_str().unwrap(),
            "--anchors",
            anchors.path().to_str().unwrap(),
        ],
    );
    assert_eq!(code(&scanned), 0, "{}", text(&scanned.stderr));
    let rows = read_csv(&report_dir(&dir).join("signatures.csv"));
    assert_eq!(
        (rows[0]["ca_class"].as_str(), rows[0]["chain"].as_str()),
        ("commercial", "verified")
    );
}
