//! What an XML signature covers, and whether that is what a reader of the
//! document takes (issue 24). A reference's digest proves only that the
//! element it names is unchanged; signature wrapping (Somorovsky et al.,
//! "On Breaking SAML", USENIX Security 2012: XSW1–XSW8) moves that element
//! where no reader looks (into the signature's `ds:Object`, into a wrapper,
//! after or inside an attacker's element of the same name) and puts the
//! attacker's content where readers look. Here each reference is resolved
//! to what it covers, and the covered element is compared with the one the
//! document's format defines: an e-invoice's data element beside its
//! `DSCKS` (Circular 78/2021), the SAML element a signature is enveloped
//! in, and, for any document, no element of the same qualified name that
//! no signature covers before it or around it.

use super::tree::Doc;
use super::{DSIG, ENVELOPED, XADES, same_document_id, xpath_signature_exclusion};
use crate::model::note::XmlCoverage;

const SAML_NS: [&str; 4] = [
    "urn:oasis:names:tc:SAML:2.0:assertion",
    "urn:oasis:names:tc:SAML:2.0:protocol",
    "urn:oasis:names:tc:SAML:1.0:assertion",
    "urn:oasis:names:tc:SAML:1.0:protocol",
];

/// Covered elements a note names at most.
const MAX_LISTED: usize = 10;

/// What one reference resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// The whole document (`""`, `#xpointer(/)`), minus the excluded subtrees.
    Document { exclude: Vec<usize> },
    /// An element's subtree, minus the excluded subtrees.
    Element { el: usize, exclude: Vec<usize> },
    /// A package part (OOXML, ODF).
    Part,
    /// Names nothing in this document.
    Unresolved,
}

fn target(doc: &Doc, sig: usize, r: usize) -> Target {
    let uri = doc.attr(r, "URI").unwrap_or("");
    let mut exclude = Vec::new();
    if let Some(ts) = doc.child(r, DSIG, "Transforms") {
        for t in doc.children(ts, DSIG, "Transform") {
            let alg = doc.attr(t, "Algorithm").unwrap_or("");
            if alg == ENVELOPED {
                exclude.push(sig);
            } else if let Some(signatures) = xpath_signature_exclusion(doc, t, alg) {
                exclude.extend(signatures);
            }
        }
    }
    if uri.is_empty() || uri == "#xpointer(/)" {
        Target::Document { exclude }
    } else if let Some(id) = same_document_id(uri) {
        match doc.by_id(id) {
            Some(el) => Target::Element { el, exclude },
            None => Target::Unresolved,
        }
    } else {
        Target::Part
    }
}

/// The references a signature's coverage is judged on: SignedInfo's, and
/// in a package the Manifest's inside its ds:Object (OOXML).
fn references(doc: &Doc, sig: usize, package: bool) -> Vec<usize> {
    let Some(signed_info) = doc.child(sig, DSIG, "SignedInfo") else { return Vec::new() };
    let mut refs = doc.children(signed_info, DSIG, "Reference");
    if package {
        for object in doc.children(sig, DSIG, "Object") {
            for manifest in doc.children(object, DSIG, "Manifest") {
                refs.extend(doc.children(manifest, DSIG, "Reference"));
            }
        }
    }
    refs
}

/// Which elements of the document some signature's reference covers (by
/// index): what a reader may take as signed. Computed once per document.
pub(crate) struct Covered {
    covered: Vec<bool>,
    /// Elements that no signature covers and that lie in no signature, by
    /// qualified name, in document order: the rivals of a signed element
    /// are looked up here, not by walking the document.
    rivals: std::collections::HashMap<(String, String), Vec<usize>>,
    /// Index of the last descendant of each element (nodes are stored in
    /// document order, parents first).
    end: Vec<usize>,
}

impl Covered {
    pub(crate) fn of(doc: &Doc, signatures: &[usize], package: bool) -> Covered {
        let n = doc.nodes.len();
        let mut end: Vec<usize> = (0..n).collect();
        for i in (0..n).rev() {
            if let Some(p) = doc.nodes[i].parent {
                end[p] = end[p].max(end[i]);
            }
        }
        let mut c =
            Covered { covered: vec![false; n], end, rivals: std::collections::HashMap::new() };
        // A hostile document repeats one reference many times: each
        // subtree is marked once.
        let mut marked = std::collections::HashSet::new();
        for &sig in signatures {
            for r in references(doc, sig, package) {
                if crate::budget::over() {
                    return c;
                }
                let (apex, mut exclude) = match target(doc, sig, r) {
                    Target::Document { exclude } => (doc.root, exclude),
                    Target::Element { el, exclude } => (el, exclude),
                    Target::Part | Target::Unresolved => continue,
                };
                exclude.sort_unstable();
                exclude.dedup();
                if marked.insert((apex, exclude.clone())) {
                    c.mark(apex, &exclude);
                }
            }
        }
        // Nodes are stored parents first: one pass tells which lie in a signature.
        let mut in_signature = vec![false; n];
        for (i, node) in doc.nodes.iter().enumerate() {
            in_signature[i] = node.parent.is_some_and(|p| in_signature[p] || is_signature(doc, p));
            if !c.covered[i] && !in_signature[i] && !is_signature(doc, i) {
                c.rivals.entry((node.ns.clone(), node.local.clone())).or_default().push(i);
            }
        }
        c
    }

    /// Marks `apex`'s subtree, skipping the excluded subtrees (sorted).
    fn mark(&mut self, apex: usize, exclude: &[usize]) {
        let mut i = apex;
        while i <= self.end[apex] {
            if exclude.binary_search(&i).is_ok() {
                i = self.end[i] + 1;
                continue;
            }
            self.covered[i] = true;
            i += 1;
        }
    }

    fn within(&self, apex: usize, i: usize) -> bool {
        i >= apex && i <= self.end[apex]
    }
}

/// The judgement on one signature: what it covers (a note), and a
/// signature-wrapping attempt when there is one (where).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Judgement {
    pub coverage: XmlCoverage,
    pub wrapping: Option<String>,
}

/// `HDon/DLHDon` from the root down.
fn path(doc: &Doc, el: usize) -> String {
    let mut names: Vec<&str> = doc.ancestors(el).map(|a| doc.node(a).local.as_str()).collect();
    names.reverse();
    names.push(&doc.node(el).local);
    names.join("/")
}

/// `DLHDon (Id=x)`, or `DLHDon (no Id)`.
fn named(doc: &Doc, el: usize) -> String {
    match ["Id", "id", "ID"].iter().find_map(|a| doc.attr(el, a)) {
        Some(id) => format!("{} (Id={id})", doc.node(el).local),
        None => format!("{} (no Id)", doc.node(el).local),
    }
}

fn same_name(doc: &Doc, a: usize, b: usize) -> bool {
    doc.node(a).local == doc.node(b).local && doc.node(a).ns == doc.node(b).ns
}

/// Part of a signature rather than of the document: XMLDSig and XAdES
/// elements (a ds:Object with the signing time, as Viettel's `#TimeStamp`,
/// XAdES SignedProperties, a counter-signed SignatureValue).
fn signature_internal(doc: &Doc, el: usize) -> bool {
    let ns = doc.node(el).ns.as_str();
    ns == DSIG || XADES.contains(&ns)
}

fn is_signature(doc: &Doc, el: usize) -> bool {
    doc.node(el).ns == DSIG && doc.node(el).local == "Signature"
}

/// The e-invoice element a signature must cover (Circular 78/2021, the
/// formats of Decision 1450/QĐ-TCT): the holder is the element whose
/// `DSCKS` holds the signature (HDon, TKhai, TBao, BKe, BTHDLieu, BBan)
/// or the message (TDiep) for `CKSNNT`; its data element is the holder's
/// first child named `DL…` (DLHDon, DLTKhai, DLTBao, DLieu) or `ND…`
/// (NDBBan, NDBKe). None outside e-invoices.
fn einvoice_data(doc: &Doc, sig: usize) -> Option<(usize, usize)> {
    let parent = doc.node(sig).parent?;
    let holder = if doc.node(parent).local == "CKSNNT" {
        doc.node(parent).parent?
    } else {
        let dscks = doc.ancestors(sig).find(|&a| doc.node(a).local == "DSCKS")?;
        doc.node(dscks).parent?
    };
    let data = doc.child_ids(holder).into_iter().find(|&c| {
        let l = doc.node(c).local.as_str();
        (l.starts_with("DL") || l.starts_with("ND"))
            && l.len() > 2
            && l[2..].starts_with(|ch: char| ch.is_ascii_uppercase() || ch == 'i')
    })?;
    Some((holder, data))
}

/// What a reader calls the holder of an e-invoice signature.
fn holder_word(local: &str) -> &'static str {
    match local {
        "HDon" => "invoice",
        "TKhai" => "declaration",
        "TBao" => "notice",
        "BKe" => "list",
        "BTHDLieu" => "data summary",
        "BBan" => "record",
        "TDiep" => "message",
        _ => "document",
    }
}

fn saml(doc: &Doc, el: usize) -> bool {
    SAML_NS.contains(&doc.node(el).ns.as_str())
}

/// Judges signature `sig` of `doc`. `covered` is [`Covered::of`] the
/// document's signatures.
pub(crate) fn judge(doc: &Doc, sig: usize, package: bool, covered: &Covered) -> Judgement {
    let mut whole = false;
    let mut elements: Vec<(usize, Vec<usize>)> = Vec::new();
    let (mut internal, mut parts) = (0, 0);
    for r in references(doc, sig, package) {
        match target(doc, sig, r) {
            Target::Document { exclude } => {
                whole = true;
                elements.push((doc.root, exclude));
            }
            Target::Element { el, .. } if signature_internal(doc, el) => internal += 1,
            Target::Element { el, exclude } => elements.push((el, exclude)),
            Target::Part => parts += 1,
            Target::Unresolved => {}
        }
    }
    let einvoice = einvoice_data(doc, sig);
    // OOXML: the package parts are listed in a ds:Manifest inside a
    // ds:Object; only a SignedInfo reference to it signs their digests.
    let unsigned_manifest = if package { unsigned_manifest(doc, sig) } else { None };
    // The unit's budget bounds a document that references many elements.
    // A reference repeated is judged once.
    let mut seen = std::collections::HashSet::new();
    elements.retain(|e| seen.insert(e.clone()));
    let mut hidden_names = HiddenNames::new();
    let wrapping = unsigned_manifest.or_else(|| {
        elements.iter().take_while(|_| !crate::budget::over()).find_map(|(el, exclude)| {
            wrapped(doc, sig, *el, exclude, einvoice, covered, &mut hidden_names)
        })
    });
    let mut listed: Vec<String> = elements
        .iter()
        .filter(|(el, _)| *el != doc.root || !whole)
        .map(|(el, _)| named(doc, *el))
        .collect();
    // A note is read by people: a signature over thousands of elements
    // names the first few.
    if listed.len() > MAX_LISTED {
        let more = listed.len() - MAX_LISTED;
        listed.truncate(MAX_LISTED);
        listed.push(format!("{more} more"));
    }
    let coverage = match einvoice {
        Some((holder, data))
            if wrapping.is_none()
                && !whole
                && !elements.iter().any(|(el, _)| covered.within(*el, data)) =>
        {
            XmlCoverage::Partial {
                covered: listed,
                data: named(doc, data),
                holder: holder_word(&doc.node(holder).local),
            }
        }
        _ if whole => XmlCoverage::WholeDocument { internal, parts },
        _ => XmlCoverage::Elements { elements: listed, internal, parts },
    };
    Judgement { coverage, wrapping }
}

/// A Manifest of `sig` that no SignedInfo reference covers (the Manifest
/// itself or the ds:Object holding it): where it is.
fn unsigned_manifest(doc: &Doc, sig: usize) -> Option<String> {
    let signed_info = doc.child(sig, DSIG, "SignedInfo")?;
    let signed: Vec<usize> = doc
        .children(signed_info, DSIG, "Reference")
        .into_iter()
        .filter_map(|r| match target(doc, sig, r) {
            Target::Element { el, .. } => Some(el),
            _ => None,
        })
        .collect();
    doc.children(sig, DSIG, "Object")
        .into_iter()
        .flat_map(|o| doc.children(o, DSIG, "Manifest"))
        .find_map(|m| {
            let covered = std::iter::once(m).chain(doc.ancestors(m)).any(|a| signed.contains(&a));
            (!covered).then(|| {
                format!(
                    "the Manifest that lists the package parts ({}) is not covered by SignedInfo: \
                     their digests are unsigned",
                    named(doc, m)
                )
            })
        })
}

/// Why the element `el` a reference covers is not what a reader takes, or
/// None when it is.
/// The qualified names of the document elements inside an excluded
/// subtree, by the subtree: computed once per judgement.
type HiddenNames<'d> =
    std::collections::HashMap<usize, std::collections::HashSet<(&'d str, &'d str)>>;

#[expect(clippy::too_many_lines, reason = "105 lines, from before the limit")]
fn wrapped<'d>(
    doc: &'d Doc,
    sig: usize,
    el: usize,
    exclude: &[usize],
    einvoice: Option<(usize, usize)>,
    covered: &Covered,
    hidden_names: &mut HiddenNames<'d>,
) -> Option<String> {
    let name = named(doc, el);
    // 1. Inside a signature: readers skip signatures (XSW1, XSW6, XSW8,
    // an invoice's DLHDon moved into ds:Object). An enveloping signature
    // that is the document itself signs its own objects.
    if let Some(s) = std::iter::once(el)
        .chain(doc.ancestors(el))
        .find(|&a| is_signature(doc, a))
        .filter(|&s| !(s == sig && s == doc.root))
    {
        let whose = if s == sig { "this signature" } else { "another signature" };
        let object = doc
            .ancestors(el)
            .take_while(|&a| a != s)
            .any(|a| doc.node(a).ns == DSIG && doc.node(a).local == "Object");
        return Some(format!(
            "the signed {name} lies inside {whose}{} ({}), where no reader takes it",
            if object { "'s ds:Object" } else { "" },
            path(doc, el)
        ));
    }
    // 2. Format: an e-invoice's signature covers its holder's data element
    // (or an element holding it); a signed element of that name elsewhere
    // is not the one the invoice shows.
    if let Some((holder, data)) = einvoice
        && el != data
        && same_name(doc, el, data)
        && !covered.within(el, data)
    {
        return Some(format!(
            "the signed {name} at {} is not the {}'s own {} at {}, which a reader takes",
            path(doc, el),
            holder_word(&doc.node(holder).local),
            named(doc, data),
            path(doc, data)
        ));
    }
    // SAML: a signature is enveloped in the element it signs (SAML core
    // 5.4.1); an Assertion sits in its Response, not in an Extensions or
    // another wrapper (XSW5, XSW7).
    if let Some(parent) = doc.node(sig).parent
        && saml(doc, parent)
        && matches!(doc.node(parent).local.as_str(), "Assertion" | "Response")
        && parent != el
    {
        return Some(format!(
            "the signature sits in {} but its reference covers {} at {}",
            named(doc, parent),
            name,
            path(doc, el)
        ));
    }
    if saml(doc, el)
        && let Some(parent) = doc.node(el).parent
        && saml(doc, parent)
        && doc.node(parent).local != "Response"
    {
        return Some(format!(
            "the signed {name} lies inside {} ({}), not where the SAML response has its assertions",
            doc.node(parent).local,
            path(doc, el)
        ));
    }
    // 3. Any document: an element of the same qualified name that no
    // signature covers, around the signed one (XSW2, XSW4), before it
    // (XSW3: readers take the first), for SAML anywhere beside it, or
    // hidden inside what the reference excludes (a signature's ds:Object).
    if let Some(outer) = doc.ancestors(el).find(|&a| same_name(doc, a, el) && !covered.covered[a]) {
        return Some(format!(
            "the signed {name} is wrapped by another {} that no signature covers, which a reader \
             takes ({})",
            named(doc, outer),
            path(doc, outer)
        ));
    }
    let rivals = covered
        .rivals
        .get(&(doc.node(el).ns.clone(), doc.node(el).local.clone()))
        .map(Vec::as_slice)
        .unwrap_or_default();
    // In document order: the first one, before `el`; for SAML also the
    // first one after `el`'s subtree.
    let after = rivals.get(rivals.partition_point(|&i| i <= covered.end[el])).copied();
    let rival = rivals.first().copied().filter(|&i| i < el).or(after.filter(|_| saml(doc, el)));
    if let Some(i) = rival {
        let place = if i < el { "before" } else { "beside" };
        return Some(format!(
            "another {} at {} that no signature covers stands {place} the signed {name}: a reader \
             takes it",
            named(doc, i),
            path(doc, i)
        ));
    }
    // What the reference leaves out (the signature under the enveloped
    // transform) is where an attacker hides content: an element there with
    // the name of a signed one may be taken for it.
    for &x in exclude {
        if !covered.within(el, x) {
            continue;
        }
        let names = hidden_names.entry(x).or_insert_with(|| {
            (x..=covered.end[x])
                .filter(|&i| !signature_internal(doc, i))
                .map(|i| (doc.node(i).ns.as_str(), doc.node(i).local.as_str()))
                .collect()
        });
        if names.is_empty() {
            continue;
        }
        let signed = (el..=covered.end[el]).find(|&c| {
            !covered.within(x, c)
                && names.contains(&(doc.node(c).ns.as_str(), doc.node(c).local.as_str()))
        });
        if let Some(c) = signed {
            let hidden = (x..=covered.end[x]).find(|&i| same_name(doc, i, c)).unwrap_or(x);
            return Some(format!(
                "an element {} hidden inside the signature ({}) has the name of a signed one: a \
                 reader looking it up may take it",
                named(doc, hidden),
                path(doc, hidden)
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(id: &str, uris: &[&str]) -> String {
        let reference = |u: &&str| {
            format!(
                "<ds:Reference URI=\"{u}\"><ds:Transforms>\
                 <ds:Transform Algorithm=\"{ENVELOPED}\"/></ds:Transforms></ds:Reference>"
            )
        };
        let refs: String = uris.iter().map(reference).collect();
        format!(
            "<ds:Signature xmlns:ds=\"{DSIG}\" Id=\"{id}\"><ds:SignedInfo>{refs}</ds:SignedInfo>\
             <ds:Object Id=\"ts{id}\"><ds:SignatureProperties/></ds:Object></ds:Signature>"
        )
    }

    fn judged(xml: &str) -> Vec<(Option<String>, String)> {
        let doc = Doc::parse(xml.as_bytes()).unwrap();
        let package = xml.contains("ds:Manifest");
        let top: Vec<usize> = doc
            .find_all(DSIG, "Signature")
            .into_iter()
            .filter(|&s| !doc.ancestors(s).any(|a| is_signature(&doc, a)))
            .collect();
        let covered = Covered::of(&doc, &top, package);
        top.iter()
            .map(|&s| judge(&doc, s, package, &covered))
            .map(|j| (j.wrapping, j.coverage.to_string()))
            .collect()
    }

    /// Evidence (where the referenced element sits) to judgement, one
    /// shape per row: honest shapes cover, wrapping shapes are named.
    #[test]
    #[expect(clippy::too_many_lines, reason = "a table of cases, one per line or two")]
    fn what_a_reference_covers_against_what_a_reader_takes() {
        let data =
            |id: &str| format!(r#"<DLHDon Id="{id}"><TTChung Id="h{id}"/><NDHDon/></DLHDon>"#);
        let saml = concat!(
            r#"xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" "#,
            r#"xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion""#
        );
        let cases: Vec<(String, Option<&str>, &str)> = vec![
            (
                format!(
                    "<HDon>{}<DSCKS><NBan>{}</NBan></DSCKS></HDon>",
                    data("d"),
                    sig("s", &[""])
                ),
                None,
                "covers the whole document",
            ),
            (
                format!(
                    "<HDon>{}<DSCKS><NBan>{}</NBan></DSCKS></HDon>",
                    data("d"),
                    sig("s", &["#d", "#tss"])
                ),
                None,
                "covers element DLHDon (Id=d), 1 element of the signature itself",
            ),
            (
                format!(
                    "<HDon>{}<DSCKS><NBan>{}</NBan></DSCKS></HDon>",
                    data("d"),
                    sig("s", &["#hd"])
                ),
                None,
                "MODIFIED AFTER SIGNING: covers only TTChung (Id=hd)",
            ),
            (
                format!(
                    "<HDon>{}<DSCKS><NBan>{}</NBan></DSCKS></HDon>",
                    data("d"),
                    sig("s", &["#nothing"])
                ),
                None,
                "covers nothing of the invoice's DLHDon (Id=d)",
            ),
            (
                format!(
                    "<TDiep><DLieu>{}</DLieu><CKSNNT>{}</CKSNNT></TDiep>",
                    data("d"),
                    sig("s", &["#d"])
                ),
                None,
                "MODIFIED AFTER SIGNING: covers only DLHDon (Id=d), not the message's DLieu",
            ),
            // Wrapping: moved into the signature, a wrapper, after or inside another DLHDon.
            (
                format!(
                    "<HDon><DLHDon/><DSCKS><NBan>{}</NBan></DSCKS></HDon>",
                    sig("s", &["#d"]).replace(
                        "</ds:Signature>",
                        &format!("<ds:Object>{}</ds:Object></ds:Signature>", data("d"))
                    )
                ),
                Some("the signed DLHDon (Id=d) lies inside this signature's ds:Object"),
                "covers element DLHDon (Id=d)",
            ),
            (
                format!(
                    "<HDon><DLHDon/><X>{}</X><DSCKS><NBan>{}</NBan></DSCKS></HDon>",
                    data("d"),
                    sig("s", &["#d"])
                ),
                Some("is not the invoice's own DLHDon (no Id) at HDon/DLHDon"),
                "covers",
            ),
            (
                format!(
                    "<HDon><DLHDon Id=\"x\"/>{}<DSCKS><NBan>{}</NBan></DSCKS></HDon>",
                    data("d"),
                    sig("s", &["#d"])
                ),
                Some("is not the invoice's own DLHDon (Id=x)"),
                "covers",
            ),
            (
                format!(
                    "<HDon><DLHDon>{}</DLHDon><DSCKS><NBan>{}</NBan></DSCKS></HDon>",
                    data("d"),
                    sig("s", &["#d"])
                ),
                Some("is not the invoice's own DLHDon"),
                "covers",
            ),
            // Outside e-invoices: a wrapper or an earlier element of the same name that no
            // signature covers.
            (
                format!("<R><Doc><Doc Id=\"d\"/></Doc>{}</R>", sig("s", &["#d"])),
                Some("is wrapped by another Doc (no Id)"),
                "covers element Doc (Id=d)",
            ),
            (
                format!("<R><Doc/><Doc Id=\"d\"/>{}</R>", sig("s", &["#d"])),
                Some("another Doc (no Id) at R/Doc that no signature covers stands before"),
                "covers",
            ),
            // Two documents each signed: neither is a rival of the other.
            (
                format!(
                    "<R><Doc Id=\"a\"/><Doc Id=\"d\"/>{}{}</R>",
                    sig("s", &["#d"]),
                    sig("t", &["#a"])
                ),
                None,
                "covers element Doc (Id=d)",
            ),
            // An enveloping signature signs its own object.
            (
                sig("s", &["#o"]).replace(
                    "</ds:Signature>",
                    "<ds:Object><Doc Id=\"o\"/></ds:Object></ds:Signature>",
                ),
                None,
                "covers element Doc (Id=o)",
            ),
            // SAML: enveloped in what it signs, assertions in the Response.
            (
                format!(
                    "<samlp:Response {saml} ID=\"r\"><saml:Assertion \
                     ID=\"a\">{}</saml:Assertion></samlp:Response>",
                    sig("s", &["#a"])
                ),
                None,
                "covers element Assertion (Id=a)",
            ),
            (
                format!(
                    "<samlp:Response {saml} ID=\"r\"><saml:Assertion \
                     ID=\"e\">{}</saml:Assertion><saml:Assertion ID=\"a\"/></samlp:Response>",
                    sig("s", &["#a"])
                ),
                Some(
                    "the signature sits in Assertion (Id=e) but its reference covers Assertion \
                     (Id=a)",
                ),
                "covers",
            ),
            (
                format!(
                    "<samlp:Response {saml} ID=\"r\"><samlp:Extensions><saml:Assertion \
                     ID=\"a\">{}</saml:Assertion></samlp:Extensions></samlp:Response>",
                    sig("s", &["#a"])
                ),
                Some("lies inside Extensions"),
                "covers",
            ),
            (
                format!(
                    "<samlp:Response {saml} ID=\"r\"><saml:Assertion \
                     ID=\"a\">{}</saml:Assertion><saml:Assertion ID=\"e\"/></samlp:Response>",
                    sig("s", &["#a"])
                ),
                Some(
                    "another Assertion (Id=e) at Response/Assertion that no signature covers \
                     stands beside",
                ),
                "covers",
            ),
            // A package signature whose SignedInfo does not cover the Manifest of parts.
            (
                sig("s", &["#tss"]).replace(
                    "</ds:Signature>",
                    "<ds:Object Id=\"pkg\"><ds:Manifest><ds:Reference \
                     URI=\"/word/document.xml\"/></ds:Manifest></ds:Object></ds:Signature>",
                ),
                Some(
                    "the Manifest that lists the package parts (Manifest (no Id)) is not covered \
                     by SignedInfo",
                ),
                "covers 1 package part",
            ),
            (
                sig("s", &["#pkg"]).replace(
                    "</ds:Signature>",
                    "<ds:Object Id=\"pkg\"><ds:Manifest><ds:Reference \
                     URI=\"/word/document.xml\"/></ds:Manifest></ds:Object></ds:Signature>",
                ),
                None,
                "covers 1 package part, 1 element of the signature itself",
            ),
            // Hidden in what the enveloped transform leaves out.
            (
                format!(
                    "<HDon>{}<DSCKS><NBan>{}</NBan></DSCKS></HDon>",
                    data("d"),
                    sig("s", &[""]).replace(
                        "</ds:Signature>",
                        "<ds:Object><NDHDon/></ds:Object></ds:Signature>"
                    )
                ),
                Some("an element NDHDon (no Id) hidden inside the signature"),
                "covers the whole document",
            ),
        ];
        for (xml, wrapping, coverage) in cases {
            let got = judged(&xml);
            assert_eq!(
                got[0].0.as_deref().map(|w| w.contains(wrapping.unwrap_or("\u{0}"))),
                wrapping.map(|_| true),
                "{xml}: {got:?}"
            );
            assert!(got[0].1.contains(coverage), "{xml}: {got:?}");
        }
    }
}
