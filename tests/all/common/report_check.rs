//! The project's own check of a report folder against its documented
//! format, docs/report-format.md: the files, their headers and column
//! order, the UTF-8 BOM, no cell a spreadsheet would run as a formula,
//! the values of enumerated columns, per-agency files for every agency,
//! HTML that loads nothing from the network, counts that add up. It began
//! as a port of the first specification's checker; tests/all/samples.rs reads
//! the document's tables of columns and allowed values and compares them
//! with the lists here, so the two cannot drift apart. The columns and
//! values are written out here on purpose, not read from the code's
//! constants: a checker that read them from the code would check the code
//! against itself.

use std::collections::HashMap;
use std::path::Path;

pub const SIGNATURES: [&str; 25] = [
    "agency_id",
    "agency_name",
    "file",
    "member",
    "format",
    "signed_at",
    "signer_cn",
    "signer_org",
    "signer_serial",
    "signer_sha256",
    "signer_not_before",
    "signer_not_after",
    "issuer_cn",
    "root_cn",
    "ca_id",
    "ca_name",
    "ca_class",
    "classified_by",
    "chain",
    "integrity",
    "modified_after_signing",
    "cert_valid_at_signing",
    "notes",
    "attributed_by",
    "found_in",
];

const SIGNERS: [&str; 11] = [
    "agency_id",
    "agency_name",
    "signer_cn",
    "signer_org",
    "signer_sha256",
    "ca_name",
    "ca_class",
    "signer_not_after",
    "documents",
    "first_signed_at",
    "last_signed_at",
];

const AGENCIES: [&str; 14] = [
    "agency_id",
    "agency_name",
    "files_scanned",
    "signed_files",
    "signatures",
    "government",
    "commercial",
    "other",
    "migration_pct",
    "signers",
    "signers_commercial",
    "invalid_signatures",
    "errors",
    "received",
];

const UNKNOWN_CAS: [&str; 7] = [
    "issuer",
    "key_identifier",
    "named_ca",
    "class_by_name",
    "signatures",
    "example_signer",
    "example_file",
];

/// The report's tables and their headers.
pub const TABLES: [(&str, &[&str]); 6] = [
    ("signatures.csv", &SIGNATURES),
    ("signers.csv", &SIGNERS),
    ("agencies.csv", &AGENCIES),
    ("errors.csv", &["file", "member", "stage", "error"]),
    ("trend.csv", &["agency_id", "month", "government", "commercial", "other", "migration_pct"]),
    ("unknown-cas.csv", &UNKNOWN_CAS),
];

/// The enumerated columns, in docs/report-format.md's order.
pub const ENUMERATED: [&str; 9] = [
    "format",
    "ca_class",
    "classified_by",
    "chain",
    "integrity",
    "modified_after_signing",
    "cert_valid_at_signing",
    "attributed_by",
    "class_by_name",
];

/// The values an enumerated column may take (None: not enumerated).
pub fn allowed(column: &str) -> Option<&'static [&'static str]> {
    Some(match column {
        "format" => &["pdf", "cms", "smime", "xml", "ooxml", "odf"],
        "ca_class" => &["government", "commercial", "foreign", "self-signed", "untrusted"],
        "classified_by" => &["chain", "dn", "none"],
        "chain" => {
            &["verified", "dn-only", "incomplete", "unknown-key", "broken", "no-certificate"]
        }
        "attributed_by" => &["certificate", "external", "location", "unassigned"],
        "integrity" => &["valid", "invalid", "unknown"],
        "modified_after_signing" | "cert_valid_at_signing" => &["true", "false", ""],
        "class_by_name" => &["government", "commercial", "foreign", ""],
        _ => return None,
    })
}

type Rows = Vec<HashMap<String, String>>;

/// Every problem of the report folder `root`, one line each.
pub fn problems(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut tables: HashMap<&str, Rows> = HashMap::new();
    for (name, header) in TABLES {
        let path = root.join(name);
        if path.is_file() {
            tables.insert(name, read(&path, header, &mut problems));
        } else {
            problems.push(format!("{}: missing", path.display()));
        }
    }
    for extra in ["index.html", "summary.json"] {
        if !root.join(extra).is_file() {
            problems.push(format!("{}: missing", root.join(extra).display()));
        }
    }
    check_html(&root.join("index.html"), &mut problems);
    if let Ok(text) = std::fs::read_to_string(root.join("summary.json"))
        && let Err(e) = serde_json::from_str::<serde_json::Value>(&text)
    {
        problems.push(format!("summary.json: not JSON: {e}"));
    }
    let agencies = tables.get("agencies.csv").cloned().unwrap_or_default();
    for rec in &agencies {
        let dir = root.join("agencies").join(&rec["agency_id"]);
        for (name, header) in [("signatures.csv", &SIGNATURES[..]), ("signers.csv", &SIGNERS[..])] {
            let path = dir.join(name);
            if path.is_file() {
                read(&path, header, &mut problems);
            } else {
                problems.push(format!(
                    "{}: missing for agency {}",
                    path.display(),
                    rec["agency_id"]
                ));
            }
        }
        let page = dir.join("report.html");
        if page.is_file() {
            check_html(&page, &mut problems);
        } else {
            problems.push(format!("{}: missing for agency {}", page.display(), rec["agency_id"]));
        }
    }
    let signatures = tables.get("signatures.csv").map_or(0, Vec::len);
    let counted: usize =
        agencies.iter().map(|a| a["signatures"].parse::<usize>().unwrap_or(0)).sum();
    if !agencies.is_empty() && counted != signatures {
        problems.push(format!(
            "agencies.csv counts {counted} signatures, signatures.csv has {signatures} rows"
        ));
    }
    let unknown: usize = tables
        .get("unknown-cas.csv")
        .map_or(0, |rows| rows.iter().map(|r| r["signatures"].parse::<usize>().unwrap_or(0)).sum());
    if unknown > signatures {
        problems.push(format!(
            "unknown-cas.csv counts {unknown} signatures, more than signatures.csv's {signatures}"
        ));
    }
    problems
}

fn read(path: &Path, header: &[&str], problems: &mut Vec<String>) -> Rows {
    let Ok(raw) = std::fs::read(path) else {
        problems.push(format!("{}: unreadable", path.display()));
        return Vec::new();
    };
    let Some(body) = raw.strip_prefix(b"\xef\xbb\xbf") else {
        problems.push(format!("{}: no UTF-8 BOM (Excel will garble Vietnamese)", path.display()));
        return Vec::new();
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let got: Vec<String> =
        reader.headers().map(|h| h.iter().map(str::to_owned).collect()).unwrap_or_default();
    if got != header {
        problems.push(format!("{}: header {got:?} != {header:?}", path.display()));
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let Ok(rec) = rec else {
            problems.push(format!("{}:{line}: not CSV", path.display()));
            continue;
        };
        if rec.len() != header.len() {
            problems.push(format!(
                "{}:{line}: {} cells, header has {}",
                path.display(),
                rec.len(),
                header.len()
            ));
            continue;
        }
        let rec: HashMap<String, String> =
            header.iter().map(|h| h.to_string()).zip(rec.iter().map(str::to_owned)).collect();
        for (column, value) in &rec {
            check_cell(column, value, &rec, &format!("{}:{line}", path.display()), problems);
        }
        let at = format!("{}:{line}", path.display());
        if rec.get("agency_id").is_some_and(|a| a == "external")
            && rec.get("migration_pct").is_some_and(|p| !p.is_empty())
        {
            problems.push(format!(
                "{at}: external has a migration_pct; external signatures never count"
            ));
        }
        if rec.get("chain").is_some_and(|c| c == "no-certificate")
            && (rec["ca_class"] != "untrusted" || rec["classified_by"] != "none")
        {
            problems.push(format!(
                "{at}: chain=no-certificate needs ca_class=untrusted and classified_by=none"
            ));
        }
        if rec.get("chain").is_some_and(|c| c == "unknown-key") && rec["ca_class"] == "government" {
            problems.push(format!("{at}: chain=unknown-key is never government"));
        }
        if rec.get("attributed_by").is_some_and(|a| a == "external")
            && rec["agency_id"] != "external"
        {
            problems
                .push(format!("{at}: attributed_by=external but agency_id={:?}", rec["agency_id"]));
        }
        out.push(rec);
    }
    out
}

fn check_cell(
    column: &str,
    value: &str,
    rec: &HashMap<String, String>,
    at: &str,
    problems: &mut Vec<String>,
) {
    let number = value.strip_prefix('-').unwrap_or(value);
    let numeric = !number.is_empty()
        && number.split_once('.').map_or(number, |(a, _)| a).bytes().all(|b| b.is_ascii_digit());
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) && !numeric {
        problems.push(format!("{at}: cell {column}={value:?} would run as a formula"));
    }
    if let Some(set) = allowed(column)
        && !set.contains(&value)
    {
        problems.push(format!("{at}: {column}={value:?} not one of {set:?}"));
    }
    let dated =
        ["signed_at", "first_signed_at", "last_signed_at", "signer_not_before", "signer_not_after"]
            .contains(&column);
    if dated
        && !value.is_empty()
        && time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
            .is_err()
    {
        problems.push(format!("{at}: {column}={value:?} is not RFC 3339"));
    }
    if column == "month"
        && !(value.len() == 7
            && value.as_bytes()[4] == b'-'
            && value.bytes().filter(u8::is_ascii_digit).count() == 6)
    {
        problems.push(format!("{at}: month={value:?} is not YYYY-MM"));
    }
    let hex64 = value.len() == 64
        && value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if column == "signer_sha256"
        && !hex64
        && !(value.is_empty() && rec.get("chain").is_some_and(|c| c == "no-certificate"))
    {
        problems.push(format!("{at}: signer_sha256={value:?} is not 64 lowercase hex"));
    }
    if column == "migration_pct" && !value.is_empty() {
        let ok = value.split_once('.').map_or(
            value.len() <= 3 && value.bytes().all(|b| b.is_ascii_digit()),
            |(a, b)| {
                (1..=3).contains(&a.len())
                    && a.bytes().all(|c| c.is_ascii_digit())
                    && b.len() == 1
                    && b.bytes().all(|c| c.is_ascii_digit())
            },
        );
        if !ok {
            problems.push(format!(
                "{at}: migration_pct={value:?} is not a percentage with one decimal"
            ));
        }
    }
}

fn check_html(path: &Path, problems: &mut Vec<String>) {
    let Ok(text) = std::fs::read_to_string(path) else { return };
    let lower = text.to_ascii_lowercase();
    for attr in ["src", "href"] {
        let mut rest = lower.as_str();
        while let Some(at) = rest.find(attr) {
            let after = rest[at + attr.len()..].trim_start();
            if let Some(value) = after.strip_prefix('=') {
                let value = value.trim_start().trim_start_matches(['"', '\'']).trim_start();
                if value.starts_with("//")
                    || value.starts_with("http://")
                    || value.starts_with("https://")
                {
                    problems.push(format!(
                        "{}: loads something from the network ({})",
                        path.display(),
                        &value[..value.len().min(40)]
                    ));
                }
            }
            rest = &rest[at + attr.len()..];
        }
    }
    if lower.contains("<script>alert") {
        problems.push(format!("{}: contains an unescaped <script>alert", path.display()));
    }
}
