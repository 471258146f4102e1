//! Issue 24, point 3: the published PDF signature-spoofing attack classes
//! (USF, ISA, SWA, shadow hide / replace / hide-and-replace, certification
//! EAA and SSA, certification after approval) and the incremental-update
//! tricks (an xref that lists an object twice, bodies appended with no
//! xref, an object defined twice in one update), each rebuilt from an
//! honest pyHanko signature by tests/fixtures/make-pdf-attack-fixtures.py,
//! with honest controls. Every attack is caught (no signature counted,
//! `invalid`, or `modified_after_signing=true`, with the reason in notes),
//! every control stays valid and unmodified; pyHanko and pdfsig are asked
//! about every file, and where they judge otherwise the table says why.

use crate::common;
use crate::pdfsig::pdfsig;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;

type Row = HashMap<String, String>;

fn dir() -> PathBuf {
    root().join("tests/fixtures/pdf-attacks")
}

/// How an attack file must be caught: (file stem, member, how, what the
/// notes or errors.csv must say).
enum Caught {
    /// No signature row: nothing is counted as signed (errors.csv may say why).
    NotSigned(Option<&'static str>),
    Invalid(&'static str),
    Modified(&'static str),
}

const ATTACKS: &[(&str, &str, Caught)] = &[
    ("usf--contents-zero", "", Caught::NotSigned(None)),
    ("usf--contents-not-cms", "", Caught::NotSigned(Some("/Contents is not a CMS signature"))),
    ("usf--contents-null", "", Caught::NotSigned(Some("without a readable /Contents value"))),
    ("usf--byterange-missing", "Signature", Caught::Invalid("/ByteRange is missing")),
    ("usf--byterange-null", "Signature", Caught::Invalid("/ByteRange is missing")),
    (
        "usf--byterange-zero",
        "Signature",
        Caught::Invalid("holds more than the /Contents hex string"),
    ),
    (
        "swa--payload-in-contents-gap",
        "Signature",
        Caught::Invalid("holds more than the /Contents hex string"),
    ),
    (
        "isa--update",
        "Signature",
        Caught::Modified("(stream, e.g. page content, part of the signed document)"),
    ),
    (
        "isa--appended-body-no-xref",
        "Signature",
        Caught::Modified("update 3 adds object bodies (11) without a cross-reference section"),
    ),
    (
        "xref--duplicate-entry",
        "Signature",
        Caught::Modified("the cross-reference section of update 3 lists object 11 more than once"),
    ),
    (
        "xref--object-redefined-in-update",
        "Signature",
        Caught::Modified("update 3 defines object 11 0 more than once"),
    ),
    (
        "shadow--hide",
        "Signature",
        Caught::Modified("(stream, e.g. page content, part of the signed document)"),
    ),
    ("shadow--replace", "Signature", Caught::Modified("(Font Type1, part of the signed document)")),
    (
        "shadow--hide-and-replace",
        "Signature",
        Caught::Modified("(Catalog, part of the signed document)"),
    ),
    (
        "eaa--p2-freetext",
        "Certification",
        Caught::Modified(
            "(/P 2: form filling and signing only) does not allow what later updates do: \
             annotation appearances",
        ),
    ),
    (
        "ssa--p2-new-visible-field-unsigned",
        "Certification",
        Caught::Modified("add signature fields with an appearance on the page (Sneaky)"),
    ),
    (
        "ssa--p2-new-visible-field-attacker-signed",
        "Certification",
        Caught::Modified("add signature fields with an appearance on the page (Sneaky)"),
    ),
    (
        "certification--after-approval",
        "Signature",
        Caught::Modified(
            "a later update certifies the document (catalog /Perms /DocMDP) over this signature",
        ),
    ),
];

/// Where pyHanko 0.38 judges an attack file otherwise: (file stem, why).
const PYHANKO_DIFFERS: &[(&str, &str)] = &[
    (
        "xref--duplicate-entry",
        "pyHanko's reader keeps the last entry an xref section gives an object (the signed body, \
         as lopdf does) and does not look at the update's raw xref; poppler keeps the first, and \
         pdftotext shows the attacker's text",
    ),
    (
        "xref--object-redefined-in-update",
        "pyHanko follows the xref to the copy of the signed body and never sees the second body \
         after it; a reader that rebuilds the xref from the bodies (as poppler does when the xref \
         is damaged) takes the last one",
    ),
];

/// Where pdfsig gives another integrity verdict: (file stem, field, why).
/// pdfsig judges only the signed bytes, never the updates after them, so
/// an attack that adds an update is `valid` to it as to us (our verdict
/// there is `modified_after_signing`).
const PDFSIG_DIFFERS: &[(&str, &str, &str)] = &[];

fn report() -> &'static (Vec<Row>, Vec<Row>, tempfile::TempDir) {
    static REPORT: OnceLock<(Vec<Row>, Vec<Row>, tempfile::TempDir)> = OnceLock::new();
    REPORT.get_or_init(|| {
        let (out, report) = scan(
            &[&dir()],
            &["--no-db", "--rules", root().join("samples/rules").to_str().unwrap()],
        );
        assert!(matches!(code(&out), 0..=2), "{}", text(&out.stderr));
        let dir = report_dir(&report);
        (read_csv(&dir.join("signatures.csv")), read_csv(&dir.join("errors.csv")), report)
    })
}

fn stem(path: &str) -> String {
    Path::new(path).file_stem().unwrap().to_string_lossy().into_owned()
}

fn files() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| stem(e.unwrap().path().to_str().unwrap()))
        .collect();
    v.sort();
    v
}

fn rows_of(stem_: &str) -> Vec<&'static Row> {
    report().0.iter().filter(|r| stem(&r["file"]) == stem_).collect()
}

#[test]
fn every_attack_is_caught_with_its_reason_and_every_control_stays_valid() {
    let all = files();
    let (mut attacks, mut controls) = (0, 0);
    for file in &all {
        let rows = rows_of(file);
        if file.starts_with("control--") {
            controls += 1;
            assert!(!rows.is_empty(), "{file}: no signature row");
            for r in rows {
                assert_eq!(
                    (r["integrity"].as_str(), r["modified_after_signing"].as_str()),
                    ("valid", "false"),
                    "{file} [{}]: {}",
                    r["member"],
                    r["notes"]
                );
            }
            continue;
        }
        attacks += 1;
        let (_, member, how) = ATTACKS
            .iter()
            .find(|(f, ..)| f == file)
            .unwrap_or_else(|| panic!("{file}: an attack file the table does not list"));
        match how {
            Caught::NotSigned(why) => {
                assert!(rows.is_empty(), "{file}: counted as signed: {rows:?}");
                if let Some(why) = why {
                    let errors: Vec<_> = report()
                        .1
                        .iter()
                        .filter(|e| stem(&e["file"]) == *file)
                        .map(|e| e["error"].clone())
                        .collect();
                    assert!(
                        errors.iter().any(|e| e.contains(why)),
                        "{file}: errors.csv says {why:?}: {errors:?}"
                    );
                }
            }
            Caught::Invalid(why) | Caught::Modified(why) => {
                let row = rows
                    .iter()
                    .find(|r| r["member"] == *member)
                    .unwrap_or_else(|| panic!("{file}: no row for {member}: {rows:?}"));
                let notes = &row["notes"];
                if matches!(how, Caught::Invalid(_)) {
                    assert_eq!(row["integrity"], "invalid", "{file} [{member}]: {notes}");
                } else {
                    assert_eq!(
                        (row["integrity"].as_str(), row["modified_after_signing"].as_str()),
                        ("valid", "true"),
                        "{file} [{member}]: {notes}"
                    );
                    assert!(notes.contains("MODIFIED AFTER SIGNING"), "{file}: {notes}");
                }
                assert!(notes.contains(why), "{file} [{member}]: the notes say {why:?}: {notes}");
            }
        }
    }
    assert_eq!(attacks, ATTACKS.len(), "every attack of the table has its file");
    assert!(controls >= 7, "{controls} controls");
}

/// Whether a tool's per-field verdicts catch the file: (pyHanko) any
/// signature not intact and valid, any DocMDP breach, or no judgement at all.
fn pyhanko_catches() -> BTreeMap<String, bool> {
    let paths: Vec<_> = files().iter().map(|f| dir().join(format!("{f}.pdf"))).collect();
    let out = std::process::Command::new("python3")
        .arg(root().join("tests/fixtures/pyhanko-validate.py"))
        .args(&paths)
        .output()
        .unwrap();
    assert!(out.status.success(), "pyHanko (installed by scripts/test): {}", text(&out.stderr));
    let mut caught: BTreeMap<String, bool> = BTreeMap::new();
    for line in text(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let file = stem(v["file"].as_str().unwrap());
        let bad = v["verdict"] != "valid" && v["verdict"] != "timestamp"
            || v["docmdp_ok"] == serde_json::Value::Bool(false);
        *caught.entry(file).or_default() |= bad;
    }
    caught
}

#[test]
fn pyhanko_catches_the_same_files_or_the_difference_is_listed() {
    let theirs = pyhanko_catches();
    for file in files() {
        let ours = rows_of(&file)
            .iter()
            .any(|r| r["integrity"] != "valid" || r["modified_after_signing"] == "true")
            || rows_of(&file).is_empty();
        let pyhanko = theirs.get(&file).copied().unwrap_or(true);
        let listed = PYHANKO_DIFFERS.iter().find(|(f, _)| *f == file);
        match listed {
            Some((_, why)) => assert!(
                ours && !pyhanko,
                "{file}: listed as a difference ({why}), but ours={ours} pyHanko={pyhanko}"
            ),
            None => assert_eq!(ours, pyhanko, "{file}: caught by us {ours}, by pyHanko {pyhanko}"),
        }
    }
    // The premise of the listed differences: poppler shows the attacker's page.
    for file in ["xref--duplicate-entry", "isa--appended-body-no-xref"] {
        let shown = std::process::Command::new("pdftotext")
            .arg(dir().join(format!("{file}.pdf")))
            .arg("-")
            .output()
            .unwrap();
        assert!(text(&shown.stdout).contains("900.000.000"), "{file}: {}", text(&shown.stdout));
    }
}

#[test]
fn integrity_agrees_with_pdfsig_on_every_attack_and_control() {
    for file in files() {
        let theirs = pdfsig(&dir().join(format!("{file}.pdf")));
        for (field, verdict) in theirs.iter().filter(|(_, v)| !v.is_empty()) {
            let ours =
                rows_of(&file).iter().any(|r| r["member"] == *field && r["integrity"] == "valid");
            let listed = PDFSIG_DIFFERS.iter().any(|(f, fld, _)| *f == file && fld == field);
            assert_eq!(
                ours == (verdict == "valid"),
                !listed,
                "{file} [{field}]: pdfsig {verdict}, ours valid={ours}"
            );
        }
    }
}
