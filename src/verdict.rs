//! Verdicts decided in one place (issue 24, point 4). A format gives typed
//! evidence of what a signature covers and what happened after it; this
//! module turns the evidence into the column and its note, once, as
//! pyHanko's diff policy turns a difference analysis into a
//! `ModificationInfo`. So far `modified_after_signing` of PDF signatures:
//! the coverage of the signed bytes, the later updates, the certification's
//! DocMDP permission, the FieldMDP locks, new signature fields after a
//! certification, and a signature a later update took out.

use crate::model::note::{IntegrityReason, Note, XmlCoverage};
use crate::model::signature::Integrity;

/// The start of every note that says why `modified_after_signing=true`.
pub(crate) const MODIFIED: &str = "MODIFIED AFTER SIGNING: ";

/// How far later updates go, in DocMDP's terms (ISO 32000-1 12.8.2.2,
/// pyHanko's `ModificationLevel`): a certification with /P 1 allows
/// `Archival`, /P 2 `FormFilling`, /P 3 `Annotations`. A change none of
/// them explains is never allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// DSS data, document timestamps, metadata, unreferenced objects.
    Archival,
    /// Signatures and their fields, form field values.
    FormFilling,
    /// Annotations added, changed or removed.
    Annotations,
}

impl Level {
    /// The most a certification with DocMDP permission `p` allows.
    pub(crate) fn allowed_by_docmdp(p: i64) -> Level {
        match p {
            1 => Level::Archival,
            2 => Level::FormFilling,
            _ => Level::Annotations,
        }
    }
}

/// What follows the bytes a PDF signature covers (revisions counted from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Updates {
    /// Nothing but white space after the signed bytes.
    EntireFile,
    /// The signed bytes end inside a revision: `unsigned` bytes follow.
    NotWholeRevision { end: usize, unsigned: usize },
    /// Bytes after the last `%%EOF`: an update a reader may still apply.
    Unterminated { revision: usize, of: usize, bytes: usize },
    /// The raw bytes of later updates are malformed in ways readers resolve
    /// differently (an object listed or defined twice, bodies no xref lists).
    Malformed { revision: usize, of: usize, anomalies: Vec<String> },
    /// The final document could not be read as objects.
    Unanalysed { revision: usize, of: usize },
    /// The signed revision does not load on its own.
    SignedRevisionUnreadable { revision: usize, error: String },
    /// A later update certifies the document over this signature.
    CertificationAdded { revision: usize, of: usize },
    /// Later updates change objects nothing explains (at most four named).
    Changed { revision: usize, of: usize, shown: Vec<String>, more: usize },
    /// Later updates only do what signing, form filling, annotating and
    /// archiving do (`what` empty: they change no object), at `level`.
    Allowed { revision: usize, of: usize, later: usize, what: Vec<String>, level: Option<Level> },
}

impl Updates {
    /// The verdict and note of the updates alone, before any permission.
    fn judged(&self) -> (Option<bool>, String) {
        match self {
            Updates::EntireFile => (Some(false), "signature covers the entire file".into()),
            Updates::NotWholeRevision { end, unsigned } => (
                Some(true),
                format!(
                    "signature covers a contiguous block up to byte {end} that is not a whole \
                     revision; {unsigned} bytes after it are unsigned"
                ),
            ),
            Updates::Unterminated { revision, of, bytes } => (
                Some(true),
                format!(
                    "{MODIFIED}signature covers revision {revision} of {of}; {bytes} bytes after \
                     the last %%EOF are an update without a proper trailer"
                ),
            ),
            Updates::Malformed { revision, of, anomalies } => (
                Some(true),
                format!(
                    "{MODIFIED}signature covers revision {revision} of {of}; {} (readers disagree \
                     on which body they show)",
                    anomalies.join("; ")
                ),
            ),
            Updates::Unanalysed { revision, of } => (
                None,
                format!(
                    "signature covers revision {revision} of {of}; the later updates could not be \
                     analysed (PDF structure unreadable)"
                ),
            ),
            Updates::SignedRevisionUnreadable { revision, error } => (
                None,
                format!(
                    "signature covers revision {revision}; the signed revision does not load on \
                     its own ({error})"
                ),
            ),
            Updates::CertificationAdded { revision, of } => (
                Some(true),
                format!(
                    "{MODIFIED}signature covers revision {revision} of {of}; a later update \
                     certifies the document (catalog /Perms /DocMDP) over this signature, and a \
                     certification must be the first signature (ISO 32000-1 12.8.2.2)"
                ),
            ),
            Updates::Changed { revision, of, shown, more } => (
                Some(true),
                format!(
                    "{MODIFIED}signature covers revision {revision} of {of}; later updates change \
                     {}{}",
                    shown.join(", "),
                    if *more > 0 { format!(" and {more} more") } else { String::new() }
                ),
            ),
            Updates::Allowed { revision, of, later, what, .. } => {
                let what = if what.is_empty() {
                    "change no object".to_owned()
                } else {
                    format!("add only {}", what.join(", "))
                };
                (
                    Some(false),
                    format!(
                        "signature covers the entire revision {revision} of {of}; the {later} \
                         later update(s) {what}"
                    ),
                )
            }
        }
    }

    /// The modification level the allowed later updates take.
    fn level(&self) -> Option<Level> {
        match self {
            Updates::Allowed { level, .. } => *level,
            _ => None,
        }
    }

    fn allowed(&self) -> &[String] {
        match self {
            Updates::Allowed { what, .. } => what,
            _ => &[],
        }
    }
}

/// Everything that decides a PDF signature's `modified_after_signing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PdfEvidence<'a> {
    pub updates: &'a Updates,
    /// Nothing but white space and NUL bytes after the signed bytes.
    pub covers_whole_file: bool,
    /// A certification signature's DocMDP permission (`/P`).
    pub docmdp: Option<i64>,
    /// Form fields this signature locks (FieldMDP) that later updates changed.
    pub locked_fields_changed: &'a [String],
    /// Signature fields with an area on the page that later updates created.
    pub new_visible_signature_fields: &'a [String],
    /// Found only in the bytes of a file whose final objects were read: a
    /// later update took the signature out of the document.
    pub taken_out: bool,
}

/// The column and the notes that explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Modification {
    pub modified: Option<bool>,
    pub notes: Vec<Note>,
}

/// What a DocMDP permission level allows after certification.
fn docmdp_meaning(p: i64) -> &'static str {
    match p {
        1 => "no change",
        2 => "form filling and signing only",
        _ => "form filling, signing and annotations only",
    }
}

/// `modified_after_signing` of a PDF signature and its note. Later updates
/// that only do what is allowed are weighed, in this order, against the
/// certification's DocMDP permission (/P 1 only DSS data and document
/// timestamps, as PAdES LTV adds them; /P 2 also form filling and signing;
/// /P 3 also annotations), the fields the signature locks (FieldMDP), and,
/// after a certification, new visible signature fields (their appearance
/// can draw anything over the page: the sneaky-signature attack; pyHanko
/// refuses them after any certification). A signature a later update took
/// out is modified whatever its revision's updates were.
pub(crate) fn pdf_modification(e: &PdfEvidence<'_>) -> Modification {
    let (modified, text) = e.updates.judged();
    let breach = |text: String| Modification {
        modified: Some(true),
        notes: vec![Note::Coverage { text, later_updates_benign: false }],
    };
    let mut verdict = if modified != Some(false) {
        Modification { modified, notes: vec![Note::Coverage { text, later_updates_benign: false }] }
    } else if let (Some(p), Some(level)) = (e.docmdp, e.updates.level())
        && level > Level::allowed_by_docmdp(p)
    {
        breach(format!(
            "{MODIFIED}a certification signature whose DocMDP permission (/P {p}: {}) does not \
             allow what later updates do: {}",
            docmdp_meaning(p),
            e.updates.allowed().join(", ")
        ))
    } else if !e.locked_fields_changed.is_empty() {
        breach(format!(
            "{MODIFIED}form fields this signature locks (FieldMDP) changed afterwards: {}",
            e.locked_fields_changed.join(", ")
        ))
    } else if e.docmdp.is_some() && !e.new_visible_signature_fields.is_empty() {
        breach(format!(
            "{MODIFIED}a certification signature after which later updates add signature fields \
             with an appearance on the page ({}): only existing fields may be signed after a \
             certification",
            e.new_visible_signature_fields.join(", ")
        ))
    } else {
        Modification {
            modified,
            notes: vec![Note::Coverage { text, later_updates_benign: !e.covers_whole_file }],
        }
    };
    if e.taken_out && verdict.modified.is_some() {
        // The final document no longer refers to this signature: a later
        // update took it out (or hid it); what its own revision's updates
        // did is beside the point when they were benign.
        verdict.modified = Some(true);
        verdict.notes.retain(|n| !matches!(n, Note::Coverage { later_updates_benign: true, .. }));
        verdict.notes.push(Note::TakenOutByLaterUpdate);
    }
    verdict
}

/// Everything that decides an XML signature's integrity and coverage: the
/// outcome of checking SignatureValue and the reference digests, what the
/// references cover, and where a rival of the signed element sits when a
/// reader would take the rival (signature wrapping).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlEvidence<'a> {
    pub checked: Integrity,
    pub checked_reason: &'a IntegrityReason,
    pub coverage: &'a XmlCoverage,
    pub wrapping: Option<&'a str>,
}

/// An XML signature's integrity with its reason, `modified_after_signing`,
/// and the notes that explain them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmlVerdict {
    pub integrity: Integrity,
    pub reason: IntegrityReason,
    pub modified: Option<bool>,
    pub notes: Vec<Note>,
}

/// A wrapping attempt is invalid whatever the digests say (a failed check
/// keeps its own reason: it says more); a signature that leaves its
/// format's data element unsigned (an e-invoice whose reference covers only
/// TTChung) is modified after signing, as a PDF signature over part of the
/// file; otherwise nothing is known of later changes. The note says what
/// the signature covers.
pub(crate) fn xml_integrity_and_coverage(e: &XmlEvidence<'_>) -> XmlVerdict {
    let (integrity, reason) = match e.wrapping {
        Some(place) if e.checked != Integrity::Invalid => {
            (Integrity::Invalid, IntegrityReason::XmlWrapping(place.to_owned()))
        }
        _ => (e.checked, e.checked_reason.clone()),
    };
    XmlVerdict {
        integrity,
        reason,
        modified: e.coverage.partial().then_some(true),
        notes: vec![Note::XmlCoverage(e.coverage.clone())],
    }
}

/// What the revocation data said of the signer's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Revocation {
    /// Checked against the issuer's certificate: whether it was revoked at
    /// the signing time, and the note saying what was found.
    Checked { revoked_at_signing: bool, note: String },
    /// Revocation data came with the signature, but not the issuer's
    /// certificate that signs it.
    IssuerMissing,
    /// No issuer and no revocation data: nothing to say.
    None,
}

/// Everything that decides `cert_valid_at_signing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertEvidence {
    /// Every certificate of the chain valid at the signing time, and when
    /// not, which and why; `None` when no signing time is known.
    pub validity: Option<(bool, Option<String>)>,
    pub revocation: Revocation,
    /// Why the signer's key may not sign documents at all (key usage,
    /// extended key usage, RFC 5280 end-entity rules).
    pub usage_problems: Vec<String>,
}

/// `cert_valid_at_signing` (`None`: nothing decided it) and its notes, in
/// the order validity, revocation, key usage. A certificate revoked at the
/// signing time, or whose key may not sign documents, is not valid
/// whatever its dates; either decides even without a chain judged in time.
pub(crate) fn cert_valid_at_signing(e: &CertEvidence) -> (Option<bool>, Vec<Note>) {
    let mut valid = None;
    let mut notes = Vec::new();
    if let Some((ok, why)) = &e.validity {
        valid = Some(*ok);
        notes.extend(why.clone().map(Note::Certificate));
    }
    match &e.revocation {
        Revocation::Checked { revoked_at_signing, note } => {
            if *revoked_at_signing {
                valid = Some(false);
            }
            notes.push(Note::Certificate(note.clone()));
        }
        Revocation::IssuerMissing => notes.push(Note::Certificate(
            "revocation not checked: revocation data came with the signature, but not the \
             issuer's certificate that signs it"
                .into(),
        )),
        Revocation::None => {}
    }
    if !e.usage_problems.is_empty() {
        valid = Some(false);
        notes.extend(e.usage_problems.iter().cloned().map(Note::Certificate));
    }
    (valid, notes)
}

/// What a container says against a signature whose own check is done: the
/// content a reader sees is not what the signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContainerEvidence {
    /// multipart/signed whose SignedData carries eContent other than the
    /// displayed first part (eContent confusion).
    SmimeEContentDiffers,
    /// ASiC-E: data objects the signed manifest names are missing or differ.
    AsicManifest(Vec<String>),
}

/// The integrity and reason a container's evidence puts in place of the
/// signature's own check, or `None` when the check stands. eContent
/// confusion replaces any check (the check verified hidden content); an
/// ASiC manifest problem only a passing one (a failed check says more).
pub(crate) fn container_integrity(
    checked: Integrity,
    e: &ContainerEvidence,
) -> Option<(Integrity, IntegrityReason)> {
    match e {
        ContainerEvidence::SmimeEContentDiffers => {
            Some((Integrity::Invalid, IntegrityReason::SmimeEContentDiffers))
        }
        ContainerEvidence::AsicManifest(problems)
            if !problems.is_empty() && checked == Integrity::Valid =>
        {
            Some((Integrity::Invalid, IntegrityReason::Container(problems.join("; "))))
        }
        ContainerEvidence::AsicManifest(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(what: &[&str], level: Option<Level>) -> Updates {
        Updates::Allowed {
            revision: 2,
            of: 3,
            later: 1,
            what: what.iter().map(|s| s.to_string()).collect(),
            level,
        }
    }

    /// updates, DocMDP /P, locked fields changed, new visible fields, taken out -> modified, a part
    /// of the note.
    type Row<'a> =
        (&'a Updates, Option<i64>, &'a [String], &'a [String], bool, Option<bool>, &'a str);

    fn texts(m: &Modification) -> Vec<String> {
        m.notes.iter().map(|n| n.to_string()).collect()
    }

    /// Evidence -> (modified_after_signing, what the note starts with or holds).
    #[test]
    #[expect(clippy::too_many_lines, reason = "a table of cases, one per row")]
    fn pdf_modification_table() {
        let fill = allowed(&["form field values (HoTen)"], Some(Level::FormFilling));
        let annotate = allowed(&["annotations (Text)"], Some(Level::Annotations));
        let archive = allowed(&["DSS (LTV) data"], Some(Level::Archival));
        let changed = Updates::Changed {
            revision: 2,
            of: 3,
            shown: vec!["object 4 0 (Page, part of the signed document)".into()],
            more: 0,
        };
        let malformed = Updates::Malformed {
            revision: 2,
            of: 3,
            anomalies: vec!["update 3 defines object 11 0 more than once".into()],
        };
        let locked = ["HoTen".to_owned()];
        let sneaky = ["Sneaky".to_owned()];
        let none: [String; 0] = [];
        // updates, DocMDP /P, locked fields changed, new visible fields, taken out -> verdict,
        // a part of the note
        let table: &[Row<'_>] = &[
            (
                &Updates::EntireFile,
                None,
                &none,
                &none,
                false,
                Some(false),
                "signature covers the entire file",
            ),
            (
                &Updates::EntireFile,
                Some(1),
                &none,
                &none,
                false,
                Some(false),
                "signature covers the entire file",
            ),
            (
                &Updates::NotWholeRevision { end: 10, unsigned: 5 },
                None,
                &none,
                &none,
                false,
                Some(true),
                "not a whole revision; 5 bytes after it are unsigned",
            ),
            (
                &Updates::Unterminated { revision: 2, of: 3, bytes: 40 },
                None,
                &none,
                &none,
                false,
                Some(true),
                "revision 2 of 3; 40 bytes after the last %%EOF",
            ),
            (
                &malformed,
                None,
                &none,
                &none,
                false,
                Some(true),
                "update 3 defines object 11 0 more than once",
            ),
            (
                &Updates::Unanalysed { revision: 2, of: 3 },
                None,
                &none,
                &none,
                false,
                None,
                "could not be analysed",
            ),
            // Taken out, but nothing could be told of its revision's updates: unknown stays
            // unknown.
            (
                &Updates::Unanalysed { revision: 2, of: 3 },
                None,
                &none,
                &none,
                true,
                None,
                "could not be analysed",
            ),
            (
                &Updates::CertificationAdded { revision: 2, of: 3 },
                None,
                &none,
                &none,
                false,
                Some(true),
                "a later update certifies the document",
            ),
            (&changed, Some(3), &none, &none, false, Some(true), "later updates change object 4 0"),
            (
                &allowed(&[], None),
                None,
                &none,
                &none,
                false,
                Some(false),
                "the 1 later update(s) change no object",
            ),
            (&fill, None, &none, &none, false, Some(false), "add only form field values (HoTen)"),
            (
                &fill,
                Some(1),
                &none,
                &none,
                false,
                Some(true),
                "(/P 1: no change) does not allow what later updates do",
            ),
            (
                &fill,
                Some(2),
                &none,
                &none,
                false,
                Some(false),
                "add only form field values (HoTen)",
            ),
            (
                &annotate,
                Some(2),
                &none,
                &none,
                false,
                Some(true),
                "(/P 2: form filling and signing only)",
            ),
            (&annotate, Some(3), &none, &none, false, Some(false), "add only annotations (Text)"),
            (&archive, Some(1), &none, &none, false, Some(false), "add only DSS (LTV) data"),
            (
                &fill,
                None,
                &locked,
                &none,
                false,
                Some(true),
                "this signature locks (FieldMDP) changed afterwards: HoTen",
            ),
            (&fill, Some(1), &locked, &none, false, Some(true), "DocMDP permission (/P 1"),
            (
                &fill,
                Some(2),
                &none,
                &sneaky,
                false,
                Some(true),
                "add signature fields with an appearance on the page (Sneaky)",
            ),
            (&fill, None, &none, &sneaky, false, Some(false), "add only form field values"),
            (&fill, Some(2), &locked, &sneaky, false, Some(true), "FieldMDP"),
            (
                &fill,
                None,
                &none,
                &none,
                true,
                Some(true),
                "took this signature out of the document",
            ),
            (&changed, None, &none, &none, true, Some(true), "later updates change object 4 0"),
        ];
        for (i, (updates, docmdp, locked, new_fields, taken_out, modified, note)) in
            table.iter().enumerate()
        {
            let e = PdfEvidence {
                updates,
                covers_whole_file: **updates == Updates::EntireFile,
                docmdp: *docmdp,
                locked_fields_changed: locked,
                new_visible_signature_fields: new_fields,
                taken_out: *taken_out,
            };
            let m = pdf_modification(&e);
            assert_eq!(m.modified, *modified, "row {i}: {:?}", texts(&m));
            let all = texts(&m).join("; ");
            assert!(all.contains(note), "row {i}: {all:?} should hold {note:?}");
            if m.modified == Some(true)
                && !matches!(updates, Updates::NotWholeRevision { .. } | Updates::Unanalysed { .. })
            {
                assert!(all.contains(MODIFIED.trim_end()), "row {i}: {all}");
            }
        }
    }

    #[test]
    fn a_signature_taken_out_loses_its_benign_coverage_note_but_keeps_a_bad_one() {
        let fill = allowed(&["signatures"], Some(Level::FormFilling));
        let e = PdfEvidence {
            updates: &fill,
            covers_whole_file: false,
            docmdp: None,
            locked_fields_changed: &[],
            new_visible_signature_fields: &[],
            taken_out: true,
        };
        assert_eq!(pdf_modification(&e).notes, vec![Note::TakenOutByLaterUpdate]);
        let changed = Updates::Changed {
            revision: 1,
            of: 2,
            shown: vec!["object 1 0 (Catalog)".into()],
            more: 2,
        };
        let e = PdfEvidence { updates: &changed, ..e };
        let m = pdf_modification(&e);
        assert_eq!(m.notes.len(), 2);
        assert!(
            m.notes[0].to_string().ends_with("object 1 0 (Catalog) and 2 more"),
            "{:?}",
            m.notes
        );
    }

    /// Evidence -> (integrity, reason, modified_after_signing): a wrapping
    /// attempt overrides a passing or unfinished check, never a failed one;
    /// partial coverage is a modification whatever the check says.
    #[test]
    fn xml_integrity_and_coverage_table() {
        let whole = XmlCoverage::WholeDocument { internal: 1, parts: 0 };
        let element = XmlCoverage::Elements {
            elements: vec!["DLHDon (Id=data)".into()],
            internal: 0,
            parts: 0,
        };
        let partial = XmlCoverage::Partial {
            covered: vec!["TTChung".into()],
            data: "DLHDon (Id=data)".into(),
            holder: "invoice",
        };
        let verified = IntegrityReason::XmlVerified { references: 2, legacy_rels: 0 };
        let changed = IntegrityReason::XmlReferenceChanged("#data".into());
        let partly = IntegrityReason::XmlPartly { checked: 1, not_checked: vec!["a.xml".into()] };
        let place = "DLHDon (Id=data) sits inside ds:Object";
        let wrapped = IntegrityReason::XmlWrapping(place.into());
        let (valid, invalid, unknown) = (Integrity::Valid, Integrity::Invalid, Integrity::Unknown);
        // checked, its reason, coverage, wrapping -> integrity, reason, modified
        type Row<'a> = (
            Integrity,
            &'a IntegrityReason,
            &'a XmlCoverage,
            Option<&'a str>,
            Integrity,
            &'a IntegrityReason,
            Option<bool>,
        );
        let table: &[Row<'_>] = &[
            (valid, &verified, &whole, None, valid, &verified, None),
            (valid, &verified, &element, None, valid, &verified, None),
            (valid, &verified, &partial, None, valid, &verified, Some(true)),
            (valid, &verified, &element, Some(place), invalid, &wrapped, None),
            (valid, &verified, &partial, Some(place), invalid, &wrapped, Some(true)),
            (unknown, &partly, &element, Some(place), invalid, &wrapped, None),
            (unknown, &partly, &element, None, unknown, &partly, None),
            (invalid, &changed, &element, Some(place), invalid, &changed, None),
            (invalid, &changed, &partial, None, invalid, &changed, Some(true)),
        ];
        for (i, (checked, reason, coverage, wrapping, integrity, why, modified)) in
            table.iter().enumerate()
        {
            let v = xml_integrity_and_coverage(&XmlEvidence {
                checked: *checked,
                checked_reason: reason,
                coverage,
                wrapping: *wrapping,
            });
            assert_eq!(
                (v.integrity, &v.reason, v.modified),
                (*integrity, *why, *modified),
                "row {i}"
            );
            assert_eq!(v.notes, vec![Note::XmlCoverage((*coverage).clone())], "row {i}");
        }
        let shown = xml_integrity_and_coverage(&XmlEvidence {
            checked: valid,
            checked_reason: &verified,
            coverage: &partial,
            wrapping: None,
        });
        assert!(shown.notes[0].to_string().contains("TTChung"), "{:?}", shown.notes);
    }

    /// Evidence -> cert_valid_at_signing and the notes, in order.
    #[test]
    fn cert_valid_at_signing_table() {
        let expired = Some("certificate \"CA\" was expired at signing time".to_owned());
        let good = || Revocation::Checked { revoked_at_signing: false, note: "not revoked".into() };
        let revoked = || Revocation::Checked { revoked_at_signing: true, note: "revoked".into() };
        let eku = vec!["extended key usage (serverAuth)".to_owned()];
        // validity, revocation, usage problems -> verdict, notes
        type Row = (Option<(bool, Option<String>)>, Revocation, Vec<String>, Option<bool>);
        let table: Vec<Row> = vec![
            (None, Revocation::None, vec![], None),
            (Some((true, None)), Revocation::None, vec![], Some(true)),
            (Some((true, None)), good(), vec![], Some(true)),
            (Some((false, expired.clone())), good(), vec![], Some(false)),
            (Some((true, None)), revoked(), vec![], Some(false)),
            // No signing time: revoked_at_signing cannot be true, the note still says what
            // the revocation data said.
            (None, good(), vec![], None),
            (Some((true, None)), Revocation::IssuerMissing, vec![], Some(true)),
            (Some((true, None)), good(), eku.clone(), Some(false)),
            (None, Revocation::None, eku.clone(), Some(false)),
            (Some((false, expired.clone())), revoked(), eku.clone(), Some(false)),
        ];
        for (i, (validity, revocation, usage_problems, want)) in table.into_iter().enumerate() {
            let e = CertEvidence { validity, revocation, usage_problems };
            let (valid, notes) = cert_valid_at_signing(&e);
            assert_eq!(valid, want, "row {i}");
            let mut expected: Vec<String> = Vec::new();
            if let Some((_, Some(why))) = &e.validity {
                expected.push(why.clone());
            }
            match &e.revocation {
                Revocation::Checked { note, .. } => expected.push(note.clone()),
                Revocation::IssuerMissing => expected.push("revocation not checked".into()),
                Revocation::None => {}
            }
            expected.extend(e.usage_problems.iter().cloned());
            let got: Vec<String> = notes.iter().map(|n| n.to_string()).collect();
            assert_eq!(got.len(), expected.len(), "row {i}: {got:?}");
            for (g, x) in got.iter().zip(&expected) {
                assert!(g.contains(x.as_str()), "row {i}: {g:?} should hold {x:?}");
            }
        }
    }

    /// Container evidence and the signature's own check -> what replaces it.
    #[test]
    fn container_integrity_table() {
        use ContainerEvidence::{AsicManifest, SmimeEContentDiffers};
        let (valid, invalid, unknown) = (Integrity::Valid, Integrity::Invalid, Integrity::Unknown);
        let missing = AsicManifest(vec!["a.xml is missing".into(), "b.xml differs".into()]);
        let econtent = Some((invalid, IntegrityReason::SmimeEContentDiffers));
        let broken =
            Some((invalid, IntegrityReason::Container("a.xml is missing; b.xml differs".into())));
        type Row<'a> = (Integrity, &'a ContainerEvidence, &'a Option<(Integrity, IntegrityReason)>);
        let table: &[Row<'_>] = &[
            (valid, &SmimeEContentDiffers, &econtent),
            (invalid, &SmimeEContentDiffers, &econtent),
            (unknown, &SmimeEContentDiffers, &econtent),
            (valid, &missing, &broken),
            (invalid, &missing, &None),
            (unknown, &missing, &None),
            (valid, &AsicManifest(vec![]), &None),
        ];
        for (i, (checked, e, want)) in table.iter().enumerate() {
            assert_eq!(&container_integrity(*checked, e), *want, "row {i}");
        }
    }
}
