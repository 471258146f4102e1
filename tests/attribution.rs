//! Attribution (SPEC.md, "Attribution: whose signature is it") on
//! certificates made by openssl in the shapes real ones carry, against the
//! built-in Thanh Hóa map and its [external] table; `rules check` on a bad
//! [external] table; `--json` lines carrying the attribution.

mod common;

use std::process::Command;

use common::*;
use sigaudit::cert::{Cert, certificates_in};
use sigaudit::model::verdict::Attribution;
use sigaudit::rules::Rules;

/// A self-signed certificate with this subject (openssl `-subj` form).
fn cert_with_subject(dir: &std::path::Path, subject: &str) -> Cert {
    let (key, pem) = (dir.join("k.pem"), dir.join("c.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-utf8", "-days", "30", "-subj", subject, "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&pem)
        .output()
        .expect("openssl is installed by scripts/test");
    assert!(out.status.success(), "{}", text(&out.stderr));
    certificates_in(&std::fs::read(&pem).unwrap()).remove(0).unwrap()
}

#[test]
fn real_certificate_shapes_name_their_agency() {
    let rules = Rules::builtin();
    let map = &rules.agencies;
    let dir = tempfile::tempdir().unwrap();
    let place = map.by_path("so tu phap/van ban.pdf", "so tu phap/van ban.pdf");
    let cases = [
        // Government CA staff certificates: O = the agency, L = the province.
        ("/C=VN/L=Thanh Hóa/O=Sở Y tế/CN=Nguyễn Văn An", "000.00.09.H56", Attribution::Certificate),
        ("/C=VN/L=Thanh Hoa/O=So Tai chinh/CN=Tran Van Binh", "000.00.02.H56", Attribution::Certificate),
        ("/C=VN/ST=Thanh Hóa/L=TP Thanh Hóa/O=Sở Giáo dục và Đào tạo/CN=Lê Thị Cúc", "000.00.08.H56", Attribution::Certificate),
        // Commercial personal certificates: O = the agency, OU = the department.
        ("/C=VN/O=Sở Xây dựng tỉnh Thanh Hóa/OU=Phòng Quản lý xây dựng/CN=Phạm Văn Dũng", "000.00.04.H56", Attribution::Certificate),
        ("/C=VN/O=SO XAY DUNG TINH THANH HOA/OU=Van phong/CN=PHAM VAN DUNG", "000.00.04.H56", Attribution::Certificate),
        // An agency under the provincial People's Committee.
        ("/C=VN/L=Thanh Hóa/O=ỦY BAN NHÂN DÂN TỈNH THANH HÓA/OU=Sở Tư pháp/CN=Hoàng Thị Em", "000.00.03.H56", Attribution::Certificate),
        ("/C=VN/L=Thanh Hóa/O=UBND huyện Hoằng Hóa/CN=Nguyễn Thị Phương", "000.00.35.H56", Attribution::Certificate),
        // The same department of another province is not this one's: place.
        ("/C=VN/L=Nghệ An/O=Sở Y tế/CN=Võ Văn Giang", "000.00.03.H56", Attribution::Location),
        // Companies, in Vietnamese and English forms: external.
        ("/C=VN/O=Công ty TNHH Xây dựng Hồng Hà/CN=Đặng Văn Hải", "external", Attribution::External),
        ("/C=VN/O=CONG TY CO PHAN DICH VU ABC/CN=Nguyen Van Khoa", "external", Attribution::External),
        ("/C=VN/O=Vietnam Software JSC/CN=Tran Minh Long", "external", Attribution::External),
        ("/C=VN/O=Tập đoàn Bưu chính Viễn thông Việt Nam/CN=Lý Văn Mạnh", "external", Attribution::External),
        ("/C=VN/O=Ngân hàng TMCP Ngoại thương/CN=Mai Thị Nga", "external", Attribution::External),
        ("/C=VN/O=Hợp tác xã Nông nghiệp Hoằng Phượng/CN=Lưu Văn Ơn", "external", Attribution::External),
        // A body of another country.
        ("/C=FR/O=Cabinet Conseil/CN=Jean Dupont", "external", Attribution::External),
        // A citizen: a personal certificate without an organisation stays with the place.
        ("/C=VN/CN=Nguyễn Văn Dân", "000.00.03.H56", Attribution::Location),
    ];
    for (subject, agency, by) in cases {
        let cert = cert_with_subject(dir.path(), subject);
        let who = map.attribute(Some((&cert, map.by_cert(&cert))), place.as_ref());
        assert_eq!((who.agency.id.as_str(), who.by), (agency, by), "{subject}");
        assert_eq!(who.found_in, "000.00.03.H56", "{subject}: the place is kept");
    }
    // Without a place, a citizen's signature is unassigned.
    let citizen = cert_with_subject(dir.path(), "/C=VN/CN=Nguyễn Văn Dân");
    assert_eq!(map.attribute(Some((&citizen, None)), None).by, Attribution::Unassigned);
}

#[test]
fn a_province_map_keeps_or_replaces_the_external_table() {
    let dir = tempfile::tempdir().unwrap();
    let agencies = "schema = 1\n[[agency]]\nid = \"A\"\nname = \"Sở A\"\npaths = [\"**/a/**\"]\n";
    std::fs::write(dir.path().join("agencies.toml"), agencies).unwrap();
    let kept = Rules::load(Some(dir.path())).unwrap();
    assert!(!kept.agencies.external.cert_subject.is_empty(), "without [external], the built-in table stays");
    // A province's own table, with a mistake in each field.
    std::fs::write(dir.path().join("agencies.toml"), format!("{agencies}\n[external]\ncert_subject = [\"O=*Cong ty*\", \"nothing\"]\nhome_countries = [\"VN\", \"Viet Nam\"]\n"))
        .unwrap();
    let out = run(bin().args(["rules", "check"]).arg(dir.path()));
    assert_eq!(code(&out), 1);
    let err = text(&out.stderr);
    assert!(err.contains("agencies.toml:8:32: `nothing` is not LABEL=glob"), "{err}");
    assert!(err.contains("agencies.toml:9:25: `Viet Nam` is not a two-letter country code (VN)"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn json_lines_carry_the_attribution() {
    let rules = root().join("samples/rules");
    let (out, _dir) = scan(&[&root().join("samples/share/Sở Xây dựng")], &["--no-db", "--json", "--rules", rules.to_str().unwrap()]);
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let company = lines.iter().find(|l| l["file"].as_str().unwrap().ends_with("Hợp đồng thi công (công ty ký).txt.p7m")).unwrap();
    assert_eq!((company["agency_id"].as_str(), company["attributed_by"].as_str(), company["found_in"].as_str()), (Some("external"), Some("external"), Some("000.00.04.H56")));
    assert!(lines.iter().all(|l| l["found_in"] == "000.00.04.H56"), "everything here was found in Sở Xây dựng");
}
