//! Attribution (docs/report-format.md, "Attribution") on
//! certificates made by openssl in the shapes real ones carry, against the
//! built-in Thanh Hóa map and its [external] table; `rules check` on a bad
//! [external] table; `--json` lines carrying the attribution.

use crate::common;

use std::process::Command;

use common::*;
use sigaudit::Attribution;
use sigaudit::Rules;
use sigaudit::{Cert, certificates_in};

/// A self-signed certificate with this subject (openssl `-subj` form).
fn cert_with_subject(dir: &std::path::Path, subject: &str) -> Cert {
    let (key, pem) = (dir.join("k.pem"), dir.join("c.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-utf8",
            "-days",
            "30",
            "-subj",
            subject,
            "-keyout",
        ])
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
        (
            "/C=VN/L=Thanh Hoa/O=So Tai chinh/CN=Tran Van Binh",
            "000.00.02.H56",
            Attribution::Certificate,
        ),
        (
            "/C=VN/ST=Thanh Hóa/L=TP Thanh Hóa/O=Sở Giáo dục và Đào tạo/CN=Lê Thị Cúc",
            "000.00.08.H56",
            Attribution::Certificate,
        ),
        // Commercial personal certificates: O = the agency, OU = the department.
        (
            "/C=VN/O=Sở Xây dựng tỉnh Thanh Hóa/OU=Phòng Quản lý xây dựng/CN=Phạm Văn Dũng",
            "000.00.04.H56",
            Attribution::Certificate,
        ),
        (
            "/C=VN/O=SO XAY DUNG TINH THANH HOA/OU=Van phong/CN=PHAM VAN DUNG",
            "000.00.04.H56",
            Attribution::Certificate,
        ),
        // An agency under the provincial People's Committee.
        (
            "/C=VN/L=Thanh Hóa/O=ỦY BAN NHÂN DÂN TỈNH THANH HÓA/OU=Sở Tư pháp/CN=Hoàng Thị Em",
            "000.00.03.H56",
            Attribution::Certificate,
        ),
        (
            "/C=VN/L=Thanh Hóa/O=UBND huyện Hoằng Hóa/CN=Nguyễn Thị Phương",
            "000.00.35.H56",
            Attribution::Certificate,
        ),
        // The same department of another province is that province's, never
        // the place's: a government body outside the province.
        ("/C=VN/L=Nghệ An/O=Sở Y tế/CN=Võ Văn Giang", "external-gov", Attribution::Certificate),
        // A company named in CN with its tax code and no O.
        (
            "/C=VN/ST=Hà Nội/CN=CÔNG TY TNHH THIẾT BỊ Y TẾ HỒNG HÀ/UID=MST:0101234567",
            "external",
            Attribution::External,
        ),
        // A ministry's seal.
        ("/C=VN/L=Hà Nội/O=BỘ Y TẾ/CN=BỘ Y TẾ", "external-gov", Attribution::Certificate),
        // A body of the province that the map lacks: the province's, not the place's.
        (
            "/C=VN/L=Thanh Hóa/O=Trung tâm Kiểm soát bệnh tật tỉnh Thanh Hóa/CN=Lê Văn Kiểm",
            "unassigned",
            Attribution::Unassigned,
        ),
        // Companies, in Vietnamese and English forms: external.
        (
            "/C=VN/O=Công ty TNHH Xây dựng Hồng Hà/CN=Đặng Văn Hải",
            "external",
            Attribution::External,
        ),
        (
            "/C=VN/O=CONG TY CO PHAN DICH VU ABC/CN=Nguyen Van Khoa",
            "external",
            Attribution::External,
        ),
        ("/C=VN/O=Vietnam Software JSC/CN=Tran Minh Long", "external", Attribution::External),
        (
            "/C=VN/O=Tập đoàn Bưu chính Viễn thông Việt Nam/CN=Lý Văn Mạnh",
            "external",
            Attribution::External,
        ),
        ("/C=VN/O=Ngân hàng TMCP Ngoại thương/CN=Mai Thị Nga", "external", Attribution::External),
        (
            "/C=VN/O=Hợp tác xã Nông nghiệp Hoằng Phượng/CN=Lưu Văn Ơn",
            "external",
            Attribution::External,
        ),
        // A body of another country.
        ("/C=FR/O=Cabinet Conseil/CN=Jean Dupont", "external", Attribution::External),
        // A citizen: a personal certificate without an organisation stays with the place.
        ("/C=VN/CN=Nguyễn Văn Dân", "000.00.03.H56", Attribution::Location),
        (
            "/C=VN/ST=Thanh Hóa/CN=Trương Văn An/UID=CCCD:038090001234",
            "000.00.03.H56",
            Attribution::Location,
        ),
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
    let builtin = Rules::builtin().agencies.external;
    assert!(
        !kept.agencies.external.organisations.is_empty(),
        "without [external], the built-in table stays"
    );
    assert_eq!(kept.agencies.external.provinces, builtin.provinces);
    // A table that leaves a list out keeps the built-in one.
    std::fs::write(
        dir.path().join("agencies.toml"),
        format!("{agencies}\n[external]\norganisations = [\"Cong ty*\"]\n"),
    )
    .unwrap();
    let partial = Rules::load(Some(dir.path())).unwrap().agencies.external;
    assert_eq!(
        (partial.organisations.len(), partial.government.len()),
        (1, builtin.government.len())
    );
    // A province's own table, with a mistake in each field.
    std::fs::write(
        dir.path().join("agencies.toml"),
        format!(
            "{agencies}\n[external]\ncert_subject = [\"O=*Cong ty*\", \
             \"nothing\"]\nhome_countries = [\"VN\", \"Viet Nam\"]\n"
        ),
    )
    .unwrap();
    let out = run(bin().args(["rules", "check"]).arg(dir.path()));
    assert_eq!(code(&out), 1);
    let err = text(&out.stderr);
    assert!(err.contains("agencies.toml:8:32: `nothing` is not LABEL=glob"), "{err}");
    assert!(
        err.contains("agencies.toml:9:25: `Viet Nam` is not a two-letter country code (VN)"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    // The keys of real shapes and of the 2025 reorganisation, each mistake at its place.
    let bad = "schema = 1\nprovince = [\"Thanh Hoa\", \" - \"]\n[[agency]]\nid = \"A\"\nname = \
               \"Sở A\"\nended = \"30/06/2025\"\nsuccessor = \"B\"\n[[agency]]\nid = \"C\"\nname \
               = \"Sở C\"\nsuccessor = \"A\"\n[[agency]]\nid = \"external-gov\"\nname = \
               \"X\"\n[external]\norganisations = [\"Cong ty[\"]\ngovernment = [\"Bo *\", \
               \"[\"]\nprovinces = [\"\"]\n";
    std::fs::write(dir.path().join("agencies.toml"), bad).unwrap();
    let out = run(bin().args(["rules", "check"]).arg(dir.path()));
    assert_eq!(code(&out), 1);
    let err = text(&out.stderr);
    for want in [
        "agencies.toml:2:26: a province name must not be empty",
        "agencies.toml:6:9: ended `30/06/2025` is not a date such as 2025-06-30",
        "agencies.toml:7:13: successor `B` is not an agency id of this map",
        "agencies.toml:11:13: successor without `ended`: only an agency that ended has one",
        "agencies.toml:13:6: agency id `external-gov` must be non-empty, not `unassigned`, \
         `external` or `external-gov`",
        "agencies.toml:16:18: bad glob `Cong ty[`",
        "agencies.toml:17:23: bad glob `[`",
        "agencies.toml:18:14: a province name must not be empty",
    ] {
        assert!(err.contains(want), "{want}\n{err}");
    }
    assert!(!err.contains("panicked"));
}

/// The finding, on certificates made for the purpose
/// (tests/fixtures/make-attribution-fixtures.py, openssl under the
/// samples' TEST PKI) and scanned by the real binary: received invoices,
/// contracts and incoming official letters in `Sở Y tế/` were counted as
/// Sở Y tế's own, and the government-class ones raised its migration
/// figure. Each signature now counts for the organisation its certificate
/// names; only Sở Y tế's own staff and a personal certificate stay.
#[test]
fn an_agency_folder_counts_only_its_own_signatures() {
    let share = tempfile::tempdir().unwrap();
    let script = root().join("tests/fixtures/make-attribution-fixtures.py");
    let made =
        Command::new("python3").arg(&script).arg(share.path()).output().expect("python3 runs");
    assert!(made.status.success(), "{}", text(&made.stderr));
    let rules = root().join("samples/rules");
    let (out, dir) = scan(&[share.path()], &["--no-db", "--rules", rules.to_str().unwrap()]);
    assert!(matches!(code(&out), 0 | 2), "{}", text(&out.stderr));
    check_report(&report_dir(&dir));
    let rows = read_csv(&report_dir(&dir).join("signatures.csv"));
    assert_eq!(rows.len(), 16);
    let syt = "000.00.09.H56";
    let who = |case: &str| {
        let r = rows_for(&rows, &format!("/{case}.txt.p7m"));
        assert_eq!(r.len(), 1, "{case}");
        assert_eq!(r[0]["found_in"], syt, "{case}: the place is kept");
        (r[0]["agency_id"].as_str(), r[0]["attributed_by"].as_str(), r[0]["ca_class"].as_str())
    };
    let cases = [
        // Companies and organisations: external.
        ("cong-ty-cn-mst", ("external", "external", "commercial")),
        ("ho-kinh-doanh", ("external", "external", "commercial")),
        ("ho-kinh-doanh-o-ten-chu", ("external", "external", "commercial")),
        ("truong-hoc", ("external", "external", "commercial")),
        // The tax authority, ministries, the Government, the National
        // Assembly, Ban Cơ yếu and another province: external-gov.
        ("cuc-thue-con-dau", ("external-gov", "certificate", "government")),
        ("cuc-thue-can-bo", ("external-gov", "certificate", "government")),
        ("bo-y-te", ("external-gov", "certificate", "government")),
        ("van-phong-chinh-phu", ("external-gov", "certificate", "government")),
        ("van-phong-quoc-hoi", ("external-gov", "certificate", "government")),
        ("ban-co-yeu", ("external-gov", "certificate", "government")),
        ("ubnd-tinh-khac", ("external-gov", "certificate", "government")),
        ("so-y-te-tinh-khac", ("external-gov", "certificate", "government")),
        // A body of this province that the map lacks: the province's, not Sở Y tế's.
        ("co-quan-tinh-ngoai-danh-muc", ("unassigned", "unassigned", "government")),
        // A department merged into Sở Tài chính on 1 March 2025 keeps what it signed.
        ("so-ke-hoach-da-sap-nhap", ("000.00.13.H56", "certificate", "government")),
        // Sở Y tế's own: its staff by the map, a personal certificate by the place.
        ("so-y-te-can-bo", (syt, "certificate", "government")),
        ("ca-nhan-cccd", (syt, "location", "commercial")),
    ];
    for (case, want) in cases {
        assert_eq!(who(case), want, "{case}");
    }
    let agencies = read_csv(&report_dir(&dir).join("agencies.csv"));
    let row =
        |id: &str| agencies.iter().find(|a| a["agency_id"] == id).unwrap_or_else(|| panic!("{id}"));
    let figures = |id: &str| {
        let r = row(id);
        [&r["signatures"], &r["government"], &r["commercial"], &r["migration_pct"], &r["received"]]
            .map(|v| v.as_str())
    };
    // Sở Y tế: 2 of its own (one government, one commercial), 14 received.
    assert_eq!(figures(syt), ["2", "1", "1", "50.0", "14"]);
    // Both outside groups listed apart, without a figure.
    assert_eq!(figures("external"), ["4", "0", "4", "", "0"]);
    assert_eq!(figures("external-gov"), ["8", "8", "0", "", "0"]);
    // The province: Sở Y tế's two, the merged department's and the unmapped provincial body's.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report_dir(&dir).join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(
        (&summary["totals"]["signatures"], &summary["totals"]["government"]),
        (&serde_json::json!(4), &serde_json::json!(3))
    );
    // Agencies that ended are shown as such, with who took over.
    let index = std::fs::read_to_string(report_dir(&dir).join("index.html")).unwrap();
    assert!(index.contains(
        "Sở Kế hoạch và Đầu tư tỉnh Thanh Hóa <small class=\"ended\">(đến 2025-02-28)</small>"
    ));
    assert!(index.contains("UBND huyện Hoằng Hóa <small class=\"ended\">(đến 2025-06-30)</small>"));
    let merged =
        std::fs::read_to_string(report_dir(&dir).join("agencies/000.00.13.H56/report.html"))
            .unwrap();
    assert!(merged.contains(
        "<p class=\"ended\">đã chấm dứt hoạt động, ngày cuối 2025-02-28 · tiếp nhận bởi Sở Tài \
         chính tỉnh Thanh Hóa</p>"
    ));
    let page = std::fs::read_to_string(report_dir(&dir).join("agencies/external-gov/report.html"))
        .unwrap();
    assert!(
        page.contains("không tính vào tỷ lệ chuyển đổi") && page.contains("CỤC THUẾ"),
        "the external-gov page lists its signers apart"
    );
}

#[test]
fn json_lines_carry_the_attribution() {
    let rules = root().join("samples/rules");
    let (out, _dir) = scan(
        &[&root().join("samples/share/Sở Xây dựng")],
        &["--no-db", "--json", "--rules", rules.to_str().unwrap()],
    );
    let lines: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let company = lines
        .iter()
        .find(|l| l["file"].as_str().unwrap().ends_with("Hợp đồng thi công (công ty ký).txt.p7m"))
        .unwrap();
    assert_eq!(
        (
            company["agency_id"].as_str(),
            company["attributed_by"].as_str(),
            company["found_in"].as_str()
        ),
        (Some("external"), Some("external"), Some("000.00.04.H56"))
    );
    assert!(
        lines.iter().all(|l| l["found_in"] == "000.00.04.H56"),
        "everything here was found in Sở Xây dựng"
    );
}
