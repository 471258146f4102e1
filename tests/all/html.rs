//! The HTML reports in a real browser (headless Chromium from Debian's
//! packages, installed by scripts/test): what came from a scanned file is
//! shown as text, never run; spreadsheet cells never run as formulas.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Headless Chromium on `page` with `extra` flags (after the page's own
/// scripts ran); returns (stdout, stderr).
fn chromium(page: &Path, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium is installed (scripts/test installs Debian's chromium)");
    assert!(out.status.success(), "chromium failed: {}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

fn chromium_dom(page: &Path) -> String {
    chromium(page, &["--dump-dom"]).0
}

fn hostile_report() -> tempfile::TempDir {
    let dir = root().join("tests/fixtures/hostile");
    let (out, report) = scan(&[&dir], &[]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    check_report(&report_dir(&report));
    report
}

#[test]
fn names_from_scanned_files_are_text_in_the_browser() {
    let report = hostile_report();
    // The certificate's O names an organisation (a formula, but an O): its
    // signature is listed on the external page.
    let page = report_dir(&report).join("agencies/external/report.html");
    let raw = std::fs::read_to_string(&page).unwrap();
    assert!(!raw.contains("<script>document.title"), "unescaped script in the HTML");
    assert!(!raw.contains("<img src=x"), "unescaped file name in the HTML");
    let dom = chromium_dom(&page);
    assert!(!dom.contains("<title>PWNED</title>"), "a script from a certificate ran:\n{dom}");
    assert!(
        dom.contains("&lt;script&gt;document.title='PWNED'&lt;/script&gt;"),
        "the CN is shown as text:\n{dom}"
    );
    assert!(
        dom.contains("&lt;img src=x onerror=document.title='PWNED'&gt;.p7m"),
        "the file name is shown as text"
    );
    let index = chromium_dom(&report_dir(&report).join("index.html"));
    assert!(
        index.contains("Rà soát sử dụng chữ ký số chuyên dùng công vụ"),
        "the overview renders in Vietnamese"
    );
    assert!(!index.contains("PWNED</title>"));
}

#[test]
fn formulas_from_certificates_stay_text_in_csv() {
    let report = hostile_report();
    let rows = read_csv(&report_dir(&report).join("signatures.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["signer_org"], "'=HYPERLINK(\"http://evil.example\",\"x\")");
    let signers = read_csv(&report_dir(&report).join("signers.csv"));
    assert!(signers[0]["signer_org"].starts_with("'="));
}

fn samples_report(extra: &[&str]) -> tempfile::TempDir {
    let rules = root().join("samples/rules");
    let (out, report) = scan(
        &[&root().join("samples/share")],
        &[&["--rules", rules.to_str().unwrap()], extra].concat(),
    );
    assert!([0, 2].contains(&code(&out)), "{}", text(&out.stderr));
    check_report(&report_dir(&report));
    report
}

/// The part of `html` from `start` to the next `end`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("{start:?} is on the page"));
    let rest = &html[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// Table rows of `section`, each as (agency id it links to, the row's HTML).
fn agency_rows(section: &str) -> Vec<(String, String)> {
    section
        .split("<tr")
        .skip(1)
        .filter_map(|row| {
            let id = row.split("href=\"agencies/").nth(1)?.split('/').next()?;
            Some((id.to_owned(), row.to_owned()))
        })
        .collect()
}

#[test]
fn province_page_ranks_agencies_worst_first_and_lists_who_must_migrate() {
    let report = samples_report(&[]);
    let dir = report_dir(&report);
    let agencies = read_csv(&dir.join("agencies.csv"));
    let dom = chromium_dom(&dir.join("index.html"));
    let rows = agency_rows(between(&dom, "id=\"agencies\"", "</table>"));
    assert_eq!(rows.len(), agencies.len(), "every agency listed once");
    let csv_row = |id: &str| {
        agencies
            .iter()
            .find(|a| a["agency_id"] == id)
            .unwrap_or_else(|| panic!("{id} in agencies.csv"))
    };
    let has_data = |id: &str| csv_row(id)["signatures"] != "0";
    // Ranked agencies first, lowest migration first; the agencies without signatures last.
    let ranked: Vec<f64> = rows
        .iter()
        .take_while(|(id, _)| has_data(id) && id != "external")
        .map(|(id, _)| csv_row(id)["migration_pct"].parse().unwrap())
        .collect();
    assert!(ranked.len() >= 5, "the samples have agencies with signatures: {ranked:?}");
    assert!(ranked.windows(2).all(|w| w[0] <= w[1]), "worst first: {ranked:?}");
    let first_empty = rows
        .iter()
        .position(|(id, _)| !has_data(id))
        .expect("the samples have agencies without signatures");
    for (id, row) in &rows[first_empty..] {
        assert!(!has_data(id), "{id}: agencies without signatures come last");
        assert!(row.starts_with(" class=\"nodata\""), "{id} is greyed: {row}");
        assert!(
            row.contains("không thấy tài liệu ký số"),
            "{id} says why (no signed documents found): {row}"
        );
        assert!(
            !row.contains('%') && !row.contains("class=\"bar\""),
            "{id} is never shown as 0 %: {row}"
        );
    }
    for (id, row) in &rows {
        assert!(!row.contains("commercial\">0<"), "{id}: a zero is not painted red: {row}");
        if csv_row(id)["commercial"] != "0" {
            assert!(
                row.contains(&format!("commercial\">{}<", csv_row(id)["commercial"])),
                "{id}: commercial counts are red: {row}"
            );
        }
    }
    // Who must migrate, on page one: the map's commercial signers, with a link to the full list.
    let signers = read_csv(&dir.join("signers.csv"));
    let must: Vec<_> = signers
        .iter()
        .filter(|s| s["ca_class"] == "commercial" && s["agency_id"] != "external")
        .collect();
    let section = between(&dom, "id=\"who-must-migrate\"", "</section>");
    assert!(
        dom.find("id=\"who-must-migrate\"") < dom.find("id=\"agencies\""),
        "on page one, before the agency table"
    );
    assert!(section.contains(&format!("{} người ký", must.len())), "{section}");
    assert_eq!(
        section.matches("<tr>").count(),
        must.len().min(15) + 1,
        "a header and one row per signer: {section}"
    );
    for s in &must {
        assert!(section.contains(&s["signer_cn"]), "{} is listed", s["signer_cn"]);
    }
    let busiest = must.iter().max_by_key(|s| s["documents"].parse::<usize>().unwrap()).unwrap();
    let first_row = section.split("<tbody>").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(first_row.contains(&busiest["signer_cn"]), "the most documents first: {first_row}");
    assert!(section.contains("href=\"signers.csv\""));
    // Every file of the report is linked from the overview, and every link is there.
    let downloads = between(&dom, "id=\"downloads\"", "</section>");
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".csv") || name.ends_with(".json") {
            assert!(
                downloads.contains(&format!("href=\"{name}\"")),
                "{name} is linked: {downloads}"
            );
        }
    }
    for link in downloads.split("href=\"").skip(1).map(|l| l.split('"').next().unwrap()) {
        assert!(dir.join(link).is_file(), "{link} exists");
    }
}

#[test]
fn charts_use_the_legend_colours_and_draw_no_bar_without_data() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("h.db");
    let db = db.to_str().unwrap();
    let _first = samples_report(&["--db", db]);
    let report = samples_report(&["--db", db]);
    let dir = report_dir(&report);
    let agencies = read_csv(&dir.join("agencies.csv"));
    let dom = chromium_dom(&dir.join("index.html"));
    let legend = between(&dom, "class=\"legend\"", "</p>");
    for colour in ["#2e7d32", "#c62828", "#9e9e9e"] {
        assert!(legend.contains(colour), "{colour} in the legend: {legend}");
    }
    for fill in dom
        .split("<rect")
        .skip(1)
        .map(|r| r.split("fill=\"").nth(1).unwrap().split('"').next().unwrap())
    {
        assert!(legend.contains(fill), "{fill} is a legend colour");
    }
    // Across audits: two runs this month are one column, with the real shares of the three classes.
    let audits = between(&dom, "id=\"audits\"", "</section>");
    let months: std::collections::BTreeSet<String> =
        read_csv(&dir.join("audits.csv")).iter().map(|a| a["finished"][..7].to_owned()).collect();
    assert_eq!(
        audits.matches("<rect").count(),
        3 * months.len(),
        "one column of three classes per month, not per run: {audits}"
    );
    let sum = |class: &str| {
        agencies
            .iter()
            .filter(|a| a["agency_id"] != "external")
            .map(|a| a[class].parse::<usize>().unwrap())
            .sum::<usize>()
    };
    let all = sum("government") + sum("commercial") + sum("other");
    for (class, label) in
        [("government", "chuyên dùng Chính phủ"), ("commercial", "công cộng"), ("other", "khác")]
    {
        let n = sum(class);
        let title = format!(": {label} {n} ({:.1}%)", n as f64 * 100.0 / all as f64);
        assert!(audits.contains(&title), "{title} in {audits}");
    }
    assert!(audits.contains(">100%</text>") && audits.contains(">50%</text>"), "y-axis ticks");
    // An agency without signatures: no bar in either chart, nothing that reads as 0 %.
    let empty = agencies
        .iter()
        .find(|a| a["signatures"] == "0" && a["agency_id"] != "unassigned")
        .expect("an agency without signatures");
    let page = chromium_dom(&dir.join("agencies").join(&empty["agency_id"]).join("report.html"));
    assert!(!page.contains("<rect"), "no bar for {}: {page}", empty["agency_id"]);
    assert!(!page.contains("\"middle\">0%</text>"), "no 0 % above an empty column");
    // Small multiples: one chart per agency with signatures, all on the same month axis.
    let multiples = between(&dom, "class=\"multiples\"", "</section>");
    let figures: Vec<&str> = multiples.split("<figure>").skip(1).collect();
    let counted =
        agencies.iter().filter(|a| a["signatures"] != "0" && a["agency_id"] != "external").count();
    assert_eq!(figures.len(), counted, "one small chart per agency with signatures");
    let widths: std::collections::BTreeSet<&str> = figures
        .iter()
        .map(|f| f.split("width=\"").nth(1).unwrap().split('"').next().unwrap())
        .collect();
    assert_eq!(widths.len(), 1, "the same axis for every agency: {widths:?}");
    // The month axis runs without gaps: every month between the first and the last.
    let months = between(&dom, "id=\"by-month\"", "</section>");
    let labels: Vec<&str> = months
        .split("rotate(-45")
        .skip(1)
        .map(|l| l.split('>').nth(1).unwrap().split('<').next().unwrap())
        .collect();
    let index = |m: &str| m[..4].parse::<i32>().unwrap() * 12 + m[5..7].parse::<i32>().unwrap();
    assert!(labels.len() > 2, "{labels:?}");
    assert!(
        labels.windows(2).all(|w| index(w[1]) == index(w[0]) + 1),
        "continuous months: {labels:?}"
    );
}

/// A copy of `page` beside it (same folder: links still resolve) with
/// `script` run after the page's own; the copy drops the page's content
/// security policy, which would refuse a script it does not know.
fn with_script(page: &Path, script: &str) -> std::path::PathBuf {
    let html = std::fs::read_to_string(page).unwrap();
    let csp = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .expect("the page has a content security policy");
    let end = csp + html[csp..].find('>').unwrap() + 1;
    let html = format!("{}{}", &html[..csp], &html[end..])
        .replace("</body>", &format!("<script>{script}</script></body>"));
    let copy = page.with_file_name(format!("test-{}", page.file_name().unwrap().to_string_lossy()));
    std::fs::write(&copy, html).unwrap();
    copy
}

/// The text a test script left in `<pre id="result">`.
fn result_of(dom: &str) -> String {
    between(dom, "<pre id=\"result\">", "</pre>")["<pre id=\"result\">".len()..].to_owned()
}

#[test]
fn tables_sort_and_filter_in_the_browser() {
    let report = samples_report(&["--no-db"]);
    let dir = report_dir(&report);
    let signers = read_csv(&dir.join("signers.csv"));
    let must: Vec<_> = signers
        .iter()
        .filter(|s| s["ca_class"] == "commercial" && s["agency_id"] != "external")
        .collect();
    // Column 4 is the number of documents; sorted twice (ascending, then descending); then
    // filtered.
    let page = with_script(
        &dir.join("index.html"),
        r##"
        var table = document.querySelector("#who-must-migrate table");
        var th = table.tHead.rows[0].cells[4], out = [];
        var shown = function (cell) {
            return Array.from(table.tBodies[0].rows)
                .filter(function (r) { return !r.hidden; })
                .map(function (r) { return r.cells[cell].textContent.trim(); })
                .join(",");
        };
        th.click(); out.push(shown(4));
        th.click(); out.push(shown(4));
        var filter = table.previousElementSibling;
        filter.value = "viettel  "; filter.dispatchEvent(new Event("input"));
        out.push(shown(2));
        var pre = document.createElement("pre"); pre.id = "result";
        pre.textContent = out.join("\n"); document.body.appendChild(pre);
        "##,
    );
    let result = result_of(&chromium_dom(&page));
    let lines: Vec<&str> = result.lines().collect();
    // With scripts off the page is its HTML as written: the same tables, complete, no filter boxes.
    let off = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let table = between(&off, "id=\"who-must-migrate\"", "</table>");
    assert_eq!(
        table.matches("<tr>").count(),
        must.len().min(15) + 1,
        "every row without JavaScript"
    );
    assert!(!off.contains("<input"), "the filter boxes come from the script");
    let mut documents: Vec<usize> = must.iter().map(|s| s["documents"].parse().unwrap()).collect();
    documents.sort();
    let ascending: Vec<usize> = lines[0].split(',').map(|n| n.parse().unwrap()).collect();
    assert_eq!(ascending, documents, "sorted by documents, ascending");
    documents.reverse();
    let descending: Vec<usize> = lines[1].split(',').map(|n| n.parse().unwrap()).collect();
    assert_eq!(descending, documents, "a second click sorts descending");
    let viettel = must.iter().filter(|s| s["ca_name"].to_lowercase().contains("viettel")).count();
    assert!(viettel > 0 && viettel < must.len(), "the samples have Viettel and other CAs");
    let shown: Vec<&str> = lines[2].split(',').collect();
    assert_eq!(shown.len(), viettel, "the filter keeps only matching rows: {shown:?}");
    assert!(shown.iter().all(|ca| ca.to_lowercase().contains("viettel")));
}

#[test]
fn pages_run_only_their_own_script_log_no_error_and_load_nothing() {
    let report = samples_report(&["--no-db"]);
    let dir = report_dir(&report);
    for page in [dir.join("index.html"), dir.join("agencies/000.00.09.H56/report.html")] {
        let net_log = tempfile::NamedTempFile::new().unwrap();
        let (dom, log) = chromium(
            &page,
            &[
                "--dump-dom",
                "--enable-logging=stderr",
                "--v=0",
                &format!("--log-net-log={}", net_log.path().display()),
            ],
        );
        assert!(dom.contains("class=\"filter\""), "the page's own script ran: {}", page.display());
        assert!(
            !log.contains("CONSOLE")
                && !log.contains("Uncaught")
                && !log.contains("Content Security Policy"),
            "no console message:\n{log}"
        );
        // Chromium's own background requests carry no origin; a page's would carry its own ("null"
        // for a file).
        let requests = std::fs::read_to_string(net_log.path()).unwrap();
        let from_page: Vec<&str> = requests
            .split("\"initiator\":\"")
            .skip(1)
            .map(|i| i.split('"').next().unwrap())
            .filter(|i| *i != "not an origin")
            .collect();
        assert!(from_page.is_empty(), "no network request from {}: {from_page:?}", page.display());
        // A script that slipped into the page (it cannot: everything is escaped) would not run.
        let html = std::fs::read_to_string(&page)
            .unwrap()
            .replace("</body>", "<script>document.title='INJECTED'</script></body>");
        let injected = page.with_file_name("injected.html");
        std::fs::write(&injected, html).unwrap();
        let dom = chromium_dom(&injected);
        assert!(
            !dom.contains("<title>INJECTED</title>"),
            "the content security policy refuses unknown scripts"
        );
    }
}

#[test]
fn print_layout_is_a4_landscape_with_every_column() {
    let report = samples_report(&["--no-db"]);
    let dir = report_dir(&report);
    for (page, last_header) in [
        (dir.join("index.html"), "Nhận từ nơi khác"),
        (dir.join("agencies/000.00.09.H56/report.html"), "Ghi chú"),
    ] {
        let pdf = dir.join("printed.pdf");
        chromium(&page, &["--no-pdf-header-footer", &format!("--print-to-pdf={}", pdf.display())]);
        let info = text(&Command::new("pdfinfo").arg(&pdf).output().unwrap().stdout);
        let size = info.lines().find(|l| l.starts_with("Page size:")).unwrap_or_default();
        let points: Vec<f64> = size.split_whitespace().filter_map(|w| w.parse().ok()).collect();
        assert!(
            size.ends_with("(A4)") && points.len() == 2 && points[0] > points[1],
            "A4 landscape: {size}"
        );
        let printed = text(&Command::new("pdftotext").arg(&pdf).arg("-").output().unwrap().stdout);
        assert!(
            printed.contains(last_header),
            "the last column ({last_header}) is printed in {}:\n{printed}",
            page.display()
        );
    }
}

#[test]
fn an_agency_page_stays_under_a_megabyte_at_ten_thousand_signatures() {
    let t = tempfile::tempdir().unwrap();
    copies_of_a_signed_file(t.path(), 10_000);
    let rules = root().join("samples/rules");
    let (out, report) = scan(
        &[&t.path().join("share")],
        &["--no-db", "--quiet", "--rules", rules.to_str().unwrap()],
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let dir = report_dir(&report);
    check_report(&dir);
    let agency = read_csv(&dir.join("agencies.csv"))
        .into_iter()
        .find(|a| a["signatures"] == "10000")
        .expect("one agency signed them all");
    let agency_dir = dir.join("agencies").join(&agency["agency_id"]);
    assert_eq!(
        read_csv(&agency_dir.join("signatures.csv")).len(),
        10_000,
        "the CSV is the complete list"
    );
    let page = std::fs::read_to_string(agency_dir.join("report.html")).unwrap();
    assert!(page.len() < 1 << 20, "{} bytes", page.len());
    assert!(
        page.contains("Chữ ký (10000)") && page.contains("href=\"signatures.csv\""),
        "the page says how many and links the full list"
    );
    let dom = chromium_dom(&agency_dir.join("report.html"));
    assert!(dom.contains("1000 / 10000 chữ ký đầu tiên"), "says how many are shown");
}

/// dd/mm/yyyy of an RFC 3339 UTC time, in Vietnam's time (UTC+7), computed here independently.
fn vietnam_day(rfc3339: &str) -> String {
    let (y, m, d, h): (i32, u32, u32, u32) = (
        rfc3339[..4].parse().unwrap(),
        rfc3339[5..7].parse().unwrap(),
        rfc3339[8..10].parse().unwrap(),
        rfc3339[11..13].parse().unwrap(),
    );
    let days_in = |y: i32, m: u32| {
        [
            31,
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][m as usize - 1]
    };
    let (mut y, mut m, mut d) = (y, m, d);
    if h + 7 >= 24 {
        d += 1;
        if d > days_in(y, m) {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
    format!("{d:02}/{m:02}/{y}")
}

#[test]
fn pages_show_vietnamese_dates_and_leave_out_empty_sections() {
    let report = samples_report(&["--no-db"]);
    let dir = report_dir(&report);
    let signers = read_csv(&dir.join("signers.csv"));
    let dom = chromium_dom(&dir.join("index.html"));
    let must = between(&dom, "id=\"who-must-migrate\"", "</section>");
    for s in
        signers.iter().filter(|s| s["ca_class"] == "commercial" && s["agency_id"] != "external")
    {
        let row = must.split("<tr>").find(|r| r.contains(&s["signer_cn"])).unwrap();
        assert!(
            row.contains(&vietnam_day(&s["signer_not_after"]))
                && row.contains(&vietnam_day(&s["last_signed_at"])),
            "dd/mm/yyyy in Vietnam's time: {row}"
        );
        assert!(!row.contains(&s["last_signed_at"]), "not the CSV's RFC 3339: {row}");
    }
    assert!(
        read_csv(&dir.join("signatures.csv"))
            .iter()
            .all(|r| r["signed_at"].is_empty() || r["signed_at"].ends_with('Z')),
        "the CSV keeps RFC 3339 UTC"
    );
    let agencies = read_csv(&dir.join("agencies.csv"));
    let empty = agencies
        .iter()
        .find(|a| a["signatures"] == "0" && a["errors"] == "0" && a["received"] == "0")
        .expect("an agency with nothing");
    let page = chromium_dom(&dir.join("agencies").join(&empty["agency_id"]).join("report.html"));
    assert!(!page.contains("<table"), "no empty tables on {}: {page}", empty["agency_id"]);
    assert!(!page.contains("id=\"by-month\""), "no empty month chart");
}

#[test]
fn pages_are_vietnamese_by_default_and_english_with_lang_en() {
    let vi = samples_report(&["--no-db"]);
    let en = samples_report(&["--no-db", "--lang", "en"]);
    let page = |r: &tempfile::TempDir, p: &str| chromium_dom(&report_dir(r).join(p));
    let (vi_index, en_index) = (page(&vi, "index.html"), page(&en, "index.html"));
    assert!(vi_index.contains("<html lang=\"vi\">") && en_index.contains("<html lang=\"en\">"));
    assert!(
        vi_index.contains("Theo cơ quan, chậm nhất trước")
            && vi_index.contains("Ai phải chuyển đổi")
    );
    assert!(
        !vi_index.contains("furthest behind") && !vi_index.contains("Who must migrate"),
        "no English on the Vietnamese page"
    );
    assert!(
        en_index.contains("By agency, furthest behind first")
            && en_index.contains("Who must migrate")
            && en_index.contains("no signed documents found")
    );
    assert!(
        !en_index.contains("Theo cơ quan") && !en_index.contains("Ai phải chuyển đổi"),
        "no Vietnamese headings on the English page"
    );
    assert!(
        en_index.contains("placeholder=\"Filter…\"")
            && vi_index.contains("placeholder=\"Lọc bảng…\""),
        "the script speaks the page's language"
    );
    // Class names as a reader calls them; the CSV keeps its values.
    let (vi_page, en_page) = (
        page(&vi, "agencies/000.00.09.H56/report.html"),
        page(&en, "agencies/000.00.09.H56/report.html"),
    );
    assert!(
        vi_page.contains("<td class=\"government\">chuyên dùng Chính phủ</td>")
            && vi_page.contains("<td class=\"commercial\">công cộng</td>"),
        "{vi_page}"
    );
    assert!(
        en_page.contains("<td class=\"government\">government</td>")
            && en_page.contains("<td class=\"commercial\">commercial</td>")
    );
    assert_eq!(
        std::fs::read(report_dir(&vi).join("signatures.csv")).unwrap(),
        std::fs::read(report_dir(&en).join("signatures.csv")).unwrap(),
        "the CSV does not depend on --lang"
    );
}

#[test]
fn decomposed_vietnamese_file_names_show_composed_and_stay_exact_in_csv() {
    let t = tempfile::tempdir().unwrap();
    let place = t.path().join("share/Sở Tài chính");
    std::fs::create_dir_all(&place).unwrap();
    // "Kế hoạch" as a Mac writes it: e + circumflex + acute as combining marks.
    let decomposed = "Ke\u{302}\u{301} hoạch.csv.p7m";
    std::fs::copy(
        root().join("samples/share/Sở Tài chính/Dự toán 2025.csv.p7m"),
        place.join(decomposed),
    )
    .unwrap();
    let rules = root().join("samples/rules");
    let (out, report) =
        scan(&[&t.path().join("share")], &["--no-db", "--rules", rules.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let dir = report_dir(&report);
    let rows = read_csv(&dir.join("signatures.csv"));
    assert!(
        rows[0]["file"].ends_with(decomposed),
        "the CSV keeps the name as it is on disk: {}",
        rows[0]["file"]
    );
    let agency = &rows[0]["agency_id"];
    let dom = chromium_dom(&dir.join("agencies").join(agency).join("report.html"));
    assert!(dom.contains("Kế hoạch.csv.p7m"), "composed on the page");
    assert!(!dom.contains("e\u{302}\u{301}"), "no combining marks left to draw apart");
}
