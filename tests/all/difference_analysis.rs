//! Issue 15: what changed after signing. Each later incremental update is
//! explained (signatures, DSS, form filling, annotations, at the level a
//! certification's DocMDP permission allows) or the signature is
//! `modified_after_signing=true` with the reason. Judged on pyHanko's own
//! attack test files (the verdict its test suite asserts) and on updates
//! made with pyHanko's writer, and compared with pyHanko's validator live;
//! and on iText's document-revision test files (its expected verdicts).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

/// pyHanko's test PDFs (../shared/third-party/pyhanko-diff): (file, field,
/// modified_after_signing, the test in pyHanko's test_diff_analysis.py
/// that asserts the verdict).
const PYHANKO_EXPECTS: &[(&str, &str, bool, &str)] = &[
    (
        "form-update-override-appearance-stream.pdf",
        "Sig1",
        false,
        "test_appearance_update_edge_cases",
    ),
    (
        "form-update-override-appearance-stream-ap-indirect.pdf",
        "Sig1",
        false,
        "test_appearance_update_edge_cases",
    ),
    (
        "form-update-no-override-appearance-stream-ap-indirect.pdf",
        "Sig1",
        false,
        "test_appearance_update_edge_cases",
    ),
    ("form-update-original-ap-type-wrong.pdf", "Sig1", false, "test_appearance_update_edge_cases"),
    (
        "form-update-override-appearance-stream-sneaky.pdf",
        "Sig1",
        true,
        "test_disallow_appearance_stream_override_if_clobbers",
    ),
    (
        "form-update-override-appearance-stream-ap-indirect-sneaky.pdf",
        "Sig1",
        true,
        "test_disallow_appearance_stream_override_if_clobbers",
    ),
    (
        "form-update-no-override-appearance-stream-ap-indirect-sneaky.pdf",
        "Sig1",
        true,
        "test_disallow_appearance_stream_override_if_clobbers",
    ),
    (
        "form-update-ap-indirect-sneaky-trailer.pdf",
        "Sig1",
        true,
        "test_disallow_appearance_stream_override_if_clobbers",
    ),
    ("extensions-direct.pdf", "Sig1", false, "test_diff_analysis_add_extensions_dict"),
    ("extensions-indirect.pdf", "Sig1", false, "test_diff_analysis_add_extensions_dict"),
    ("extensions-update-direct.pdf", "Sig1", false, "test_diff_analysis_add_extensions_dict"),
    ("extensions-update-indirect.pdf", "Sig1", false, "test_diff_analysis_add_extensions_dict"),
    (
        "extensions-indirect-not-all-paths.pdf",
        "Sig1",
        true,
        "test_diff_analysis_update_indirect_extensions_not_all_paths",
    ),
    (
        "separate-annots-kids-indir.pdf",
        "Sig1",
        false,
        "test_validate_separate_annot_with_indir_kids",
    ),
    ("minimal-two-fields-signed-twice.pdf", "Sig2", false, "test_double_sig_adobe_reader"),
    ("minimal-signed-twice-second-created.pdf", "Sig1", false, "test_double_sig_adobe_reader"),
    ("minimal-signed-twice-both-created.pdf", "Signature2", false, "test_double_sig_adobe_reader"),
    ("tail-uncovered.pdf", "Sig1", true, "test_anomalous_coverage (CONTIGUOUS_BLOCK_FROM_START)"),
];

/// Updates made by tests/fixtures/make-certification-fixtures.py over a
/// document with one text field: (file, field, modified_after_signing,
/// what the note must name).
const OURS: &[(&str, &str, bool, &str)] = &[
    ("approval-then-fill.pdf", "Signature", false, "form field values (HoTen)"),
    ("approval-then-annotate.pdf", "Signature", false, "annotations (Text)"),
    ("approval-then-content.pdf", "Signature", true, "(Page, part of the signed document)"),
    ("p1-then-fill.pdf", "Signature", true, "/P 1: no change"),
    ("p1-then-annotate.pdf", "Signature", true, "/P 1: no change"),
    ("p1-then-content.pdf", "Signature", true, "part of the signed document"),
    ("p1-then-signed.pdf", "Certification", true, "/P 1: no change"),
    ("p2-then-fill.pdf", "Signature", false, "form field values (HoTen)"),
    ("p2-then-annotate.pdf", "Signature", true, "/P 2: form filling and signing only"),
    ("p2-then-content.pdf", "Signature", true, "part of the signed document"),
    ("p2-then-signed.pdf", "Certification", false, "signatures"),
    ("p3-then-fill.pdf", "Signature", false, "form field values (HoTen)"),
    ("p3-then-annotate.pdf", "Signature", false, "annotations (Text)"),
    ("p3-then-content.pdf", "Signature", true, "part of the signed document"),
    ("approval-then-page-no-eof.pdf", "Signature", true, "an update without a proper trailer"),
];

/// Where pyHanko's validator (0.38) judges otherwise: (file, field, why).
const PYHANKO_DIFFERS: &[(&str, &str, &str)] = &[
    (
        "approval-then-annotate.pdf",
        "Signature",
        "pyHanko's diff policy does not analyse annotations yet (a changed page is OTHER to it); \
         ISO 32000-1 12.8.2.2 allows them without a certification or at /P 3, and the note names \
         them",
    ),
    ("p3-then-annotate.pdf", "Signature", "as above: /P 3 allows annotations"),
    (
        "approval-then-page-no-eof.pdf",
        "Signature",
        "pyHanko reads the file only up to its last %%EOF and misses the update after it; poppler \
         applies it (pdfinfo counts the added page)",
    ),
];

/// iText's test PDFs (../shared/third-party/itext-diff): (file, the document
/// verdict iText's DocumentRevisionsValidatorIntegrationTest asserts
/// (true: VALID), the test's name). VALID: no signature of the file is
/// modified after signing; INVALID: its first signature is.
const ITEXT_EXPECTS: &[(&str, bool, &str)] = &[
    ("simpleTaggedDoc.pdf", true, "simpleTaggedDocTest"),
    ("outlinesNotModified.pdf", true, "outlinesNotModifiedTest"),
    ("removeAllAnnots.pdf", true, "removeAllThePageAnnotationsTest"),
    (
        "annotationModificationAllowedTabsChangesTest.pdf",
        true,
        "annotationModificationAllowedTabsChangesTest",
    ),
    (
        "multipleRevisionsDocumentWithoutPermissions.pdf",
        true,
        "multipleRevisionsDocumentWithoutPermissionsTest",
    ),
    ("linearizedDoc.pdf", true, "linearizedDocTest"),
    ("fieldLockChildModificationAllowed.pdf", true, "fieldLockChildModificationAllowedTest"),
    ("outlinesModified.pdf", false, "outlinesModifiedTest (NOT_ALLOWED_CATALOG_CHANGES)"),
    (
        "taggedDocModifyStructElement.pdf",
        false,
        "taggedDocModifyStructElementTest (STRUCT_TREE_ELEMENT_MODIFIED)",
    ),
    (
        "taggedDocRemoveStructTreeElement.pdf",
        false,
        "taggedDocRemoveStructTreeElementTest (STRUCT_TREE_ROOT_MODIFIED)",
    ),
    (
        "danglingWidgetAnnotation.pdf",
        false,
        "danglingWidgetAnnotationTest (PAGE_ANNOTATIONS_MODIFIED)",
    ),
    (
        "fieldLockChildModificationNotAllowed.pdf",
        false,
        "fieldLockChildModificationNotAllowedTest (LOCKED_FIELD_MODIFIED)",
    ),
    (
        "fieldLockRootModificationNotAllowed.pdf",
        false,
        "fieldLockRootModificationNotAllowedTest (LOCKED_FIELD_MODIFIED)",
    ),
    (
        "fieldLockSequentialIncludeValues.pdf",
        false,
        "fieldLockSequentialIncludeValuesTest (LOCKED_FIELD_MODIFIED)",
    ),
];

/// Where sigaudit judges an iText file otherwise: (file, iText's verdict, why).
const ITEXT_DIFFERS: &[(&str, bool, &str)] = &[
    (
        "taggedDocAddAndRemoveAnnotations.pdf",
        true,
        "annotations removed together with their structure elements: we accept structure-tree \
         additions only; a structure element that loses children is a modification to us (pyHanko \
         agrees: docmdp_ok false)",
    ),
    (
        "taggedDocModifyAnnotation.pdf",
        true,
        "certified, then signed in a new visible signature field (Signature2): iText and Acrobat \
         allow it; pyHanko (docmdp_ok false) and we do not since issue 24, as the new field's \
         appearance can draw anything over the certified page (the sneaky-signature attack)",
    ),
    (
        "removeFieldAnnots.pdf",
        true,
        "every form field's widget taken off the pages: the filled-in values vanish from view, \
         which we count as a modification",
    ),
];

#[test]
fn itexts_revision_files_get_the_verdicts_its_test_suite_expects() {
    let Some(dir) = shared_or_skip(
        "difference_analysis::itexts_revision_files_get_the_verdicts_its_test_suite_expects",
        "third-party/itext-diff",
    ) else {
        return;
    };
    let rows = signature_rows(&dir);
    let of = |file: &str| -> Vec<_> {
        rows.iter().filter(|((f, _), _)| f == file).map(|(_, r)| r).collect()
    };
    for (file, valid, test) in ITEXT_EXPECTS {
        let sigs = of(file);
        assert!(!sigs.is_empty(), "{file}: no signature rows");
        let modified: Vec<_> = sigs
            .iter()
            .filter(|r| r["modified_after_signing"] == "true")
            .map(|r| (&r["member"], &r["notes"]))
            .collect();
        if *valid {
            assert!(
                modified.is_empty(),
                "{file} ({test}): iText finds it VALID; ours: {modified:?}"
            );
        } else {
            let first = sigs.iter().find(|r| r["member"] == "Signature1").unwrap();
            assert_eq!(
                first["modified_after_signing"], "true",
                "{file} ({test}): iText finds it INVALID; ours: {}",
                first["notes"]
            );
            assert!(first["notes"].contains("MODIFIED AFTER SIGNING"), "{}", first["notes"]);
            if test.contains("LOCKED_FIELD") {
                assert!(
                    first["notes"]
                        .contains("form fields this signature locks (FieldMDP) changed afterwards"),
                    "{}",
                    first["notes"]
                );
            }
        }
    }
    for (file, valid, why) in ITEXT_DIFFERS {
        let modified = of(file).iter().any(|r| r["modified_after_signing"] == "true");
        assert_eq!(
            modified, *valid,
            "{file}: listed as a difference ({why}), but it no longer differs"
        );
    }
}

fn signature_rows(
    dir: &Path,
) -> BTreeMap<(String, String), std::collections::HashMap<String, String>> {
    let (_, report) =
        scan(&[dir], &["--no-db", "--rules", root().join("samples/rules").to_str().unwrap()]);
    let name = |p: &str| p.rsplit('/').next().unwrap_or(p).to_owned();
    read_csv(&report_dir(&report).join("signatures.csv"))
        .into_iter()
        .map(|r| ((name(&r["file"]), r["member"].clone()), r))
        .collect()
}

/// pyHanko's `docmdp_ok` for each (file, field) of `dir`.
fn pyhanko_docmdp_ok(dir: &Path) -> BTreeMap<(String, String), Option<bool>> {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    let out = std::process::Command::new("python3")
        .arg(root().join("tests/fixtures/pyhanko-validate.py"))
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "pyHanko (installed by scripts/test): {}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let file = v["file"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
            ((file, v["field"].as_str().unwrap().to_owned()), v["docmdp_ok"].as_bool())
        })
        .collect()
}

fn check(dir: &Path, expected: &[(&str, &str, bool, &str)], differs: &[(&str, &str, &str)]) {
    let rows = signature_rows(dir);
    let theirs = pyhanko_docmdp_ok(dir);
    for (file, field, modified, about) in expected {
        let row = rows
            .get(&(file.to_string(), field.to_string()))
            .unwrap_or_else(|| panic!("no row for {file} [{field}]"));
        let notes = &row["notes"];
        assert_eq!(row["integrity"], "valid", "{file} [{field}]: {notes}");
        assert_eq!(
            row["modified_after_signing"],
            modified.to_string(),
            "{file} [{field}] ({about}): {notes}"
        );
        if *modified {
            assert!(
                notes.contains("MODIFIED AFTER SIGNING") || notes.contains("not a whole revision"),
                "{file}: the reason is in notes: {notes}"
            );
        }
        if dir.ends_with("certification") {
            assert!(notes.contains(about), "{file} [{field}]: the note names {about:?}: {notes}");
        }
        // pyHanko's validator, asked now, agrees (or the difference is listed).
        let docmdp_ok = theirs.get(&(file.to_string(), field.to_string())).copied().flatten();
        let listed = differs.iter().any(|(f, fld, _)| f == file && fld == field);
        assert_eq!(
            docmdp_ok == Some(!modified),
            !listed,
            "{file} [{field}]: pyHanko's docmdp_ok {docmdp_ok:?}, ours modified={modified} \
             (listed as a difference: {listed})"
        );
    }
}

#[test]
fn pyhankos_attack_files_get_the_verdicts_its_test_suite_expects() {
    let Some(dir) = shared_or_skip(
        "difference_analysis::pyhankos_attack_files_get_the_verdicts_its_test_suite_expects",
        "third-party/pyhanko-diff",
    ) else {
        return;
    };
    check(&dir, PYHANKO_EXPECTS, &[]);
}

#[test]
fn form_filling_and_annotations_are_allowed_as_far_as_the_certification_permits() {
    let dir = root().join("tests/fixtures/certification");
    check(&dir, OURS, PYHANKO_DIFFERS);
    // The premise of the update without its %%EOF: a reader applies it.
    let info = std::process::Command::new("pdfinfo")
        .arg(dir.join("approval-then-page-no-eof.pdf"))
        .output()
        .unwrap();
    assert!(
        text(&info.stdout).lines().any(|l| l.starts_with("Pages:") && l.ends_with(" 2")),
        "{}",
        text(&info.stdout)
    );
}
