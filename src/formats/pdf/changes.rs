//! What the incremental updates after a signed revision change, in the
//! spirit of pyHanko's difference analysis: every object the final
//! document has that differs from the signed revision is explained (a
//! signature, DSS data, a form field filled, an annotation, ...) at the
//! DocMDP level it needs, or it is a modification.
//!
//! Where an object sits in the *final* document says what an update may
//! have written there (a new signature's appearance, the DSS); where it sat
//! in the *signed* revision says whether overwriting it changes what was
//! signed. An object the signed revision used as content (a page, its
//! content stream, a font, another field's appearance) may only change in
//! the few ways signing tools change such objects (a key added to the
//! catalog, a widget appended to /Annots, a field's value): otherwise an
//! update could dress page content up as "a signature appearance" (the
//! shadow and "sneaky" appearance-override attacks).

use std::collections::{BTreeSet, HashMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

use crate::formats::pdf::{dict_of, is_sig_field, name, qualified_name};

/// How far later updates go (DocMDP's levels), judged in `crate::verdict`.
pub(crate) use crate::verdict::Level;

#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// What the allowed changes are ("signatures", "form field values (Name)").
    pub allowed: BTreeSet<String>,
    /// The highest level among the allowed changes (None: nothing changed).
    pub level: Option<Level>,
    /// Objects whose change nothing explains, described.
    pub other: Vec<String>,
    /// Form fields whose value (or signature) changed, by full name.
    pub fields_changed: BTreeSet<String>,
    /// Signature fields the signed revision did not have whose widget has
    /// an area on the page (pyHanko's `is_field_visible`), by full name:
    /// after a certification only existing fields may be signed, since a
    /// new field's appearance can draw anything over the page (the
    /// "sneaky signature" attack).
    pub new_visible_signature_fields: BTreeSet<String>,
    /// The catalog gained a DocMDP certification (`/Perms /DocMDP`) after
    /// the signed revision: a certification added over approval signatures.
    pub certification_added: bool,
}

/// Objects added or changed between the signed revision and the final
/// document, sorted into what signing, form filling and annotating write,
/// and the rest.
pub(crate) fn classify(old: &Document, new: &Document) -> Changes {
    let places = Places::of(new);
    let used = SignedUse::of(old);
    let mut changes = Changes::default();
    for (id, obj) in &new.objects {
        let before = old.objects.get(id);
        if before == Some(obj) {
            continue;
        }
        if let (Some(now), Some(was)) = (dict_of(obj), before.and_then(dict_of))
            && is_field(new, now)
            && [b"V".as_slice(), b"I", b"AS"].iter().any(|k| now.get(k).ok() != was.get(k).ok())
        {
            changes.fields_changed.insert(field_name(new, now));
        }
        if let Some(now) = dict_of(obj)
            && is_sig_field(new, now)
            && !before.and_then(dict_of).is_some_and(|was| is_sig_field(old, was))
            && has_area(new, now)
        {
            changes.new_visible_signature_fields.insert(field_name(new, now));
        }
        let change =
            Change { doc: new, id: *id, obj, old_doc: old, before, places: &places, used: &used };
        match change.explain() {
            Ok((level, what)) => {
                changes.level = changes.level.max(Some(level));
                changes.allowed.insert(what);
            }
            Err(what) => changes.other.push(format!("object {} {} ({what})", id.0, id.1)),
        }
    }
    for (id, obj) in &old.objects {
        if new.objects.contains_key(id) {
            continue;
        }
        // An annotation taken out (with its page's list) is an annotation
        // change; anything else removed changes what was signed.
        let annotation = dict_of(obj).is_some_and(|d| is_annotation(old, d));
        let refers_to_annotation = |i: &Object| {
            old.dereference(i)
                .ok()
                .and_then(|(_, o)| dict_of(o))
                .is_some_and(|d| is_annotation(old, d))
        };
        let annotation_list = match obj {
            Object::Array(items) => !items.is_empty() && items.iter().all(refers_to_annotation),
            _ => false,
        };
        if annotation || annotation_list {
            changes.level = changes.level.max(Some(Level::Annotations));
            changes.allowed.insert("removed annotations".into());
        } else {
            changes.other.push(format!("object {} {} (removed)", id.0, id.1));
        }
    }
    changes.certification_added = docmdp_of(new) && !docmdp_of(old);
    changes
}

/// Whether the catalog's `/Perms` names a DocMDP (certification) signature.
fn docmdp_of(doc: &Document) -> bool {
    let perms = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"Perms").ok())
        .and_then(|p| doc.dereference(p).ok())
        .and_then(|(_, p)| p.as_dict().ok());
    perms.is_some_and(|p| p.has(b"DocMDP"))
}

/// A widget with a non-zero /Rect (as pyHanko's `is_annot_visible`).
fn has_area(doc: &Document, dict: &Dictionary) -> bool {
    let Ok((_, Object::Array(r))) = dict.get(b"Rect").and_then(|r| doc.dereference(r)) else {
        return false;
    };
    let n: Vec<f64> = r
        .iter()
        .filter_map(|o| doc.dereference(o).ok().and_then(|(_, o)| o.as_float().ok().map(f64::from)))
        .collect();
    let [x1, y1, x2, y2] = n[..] else { return false };
    (x1 - x2).abs() * (y1 - y2).abs() > 0.0
}

/// What an object's place in the final document lets an update write:
/// DSS contents, appearances (of signatures, of other form fields, of
/// annotations), the widgets of signature fields; and which objects the
/// document still uses at all (a changed object nothing refers to cannot
/// change what the document shows).
#[derive(Default)]
struct Places {
    dss: HashSet<ObjectId>,
    appearance: HashMap<ObjectId, Appearance>,
    signature_widgets: HashSet<ObjectId>,
    extensions: HashSet<ObjectId>,
    /// Indirect /Annots and /Fields arrays: what they list is checked
    /// where they are referenced (the page, the form).
    arrays: HashSet<ObjectId>,
    /// The catalog's /AcroForm, when indirect.
    form: Option<ObjectId>,
    /// The structure tree's parent tree (number-tree nodes and the arrays
    /// they map to): signing a tagged document adds entries there.
    parent_tree: HashSet<ObjectId>,
    in_use: HashSet<ObjectId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Appearance {
    Signature,
    FormField,
    Annotation,
}

/// Keys that writing tools stamp on dictionaries without meaning anything
/// for the content (iText's version marker).
const TOOL_MARKER_KEYS: [&[u8]; 1] = [b"ITXT"];

/// The keys filling a form field changes (its value, the selected
/// options of a list, the state of a check box, the look of them).
const FILL_KEYS: [&[u8]; 4] = [b"V", b"I", b"AS", b"AP"];

/// The keys signing an existing signature field changes.
const SIGN_KEYS: [&[u8]; 9] = [b"V", b"AP", b"AS", b"F", b"Type", b"Lock", b"SV", b"DA", b"MK"];

impl Places {
    fn of(doc: &Document) -> Places {
        let mut p = Places::default();
        for (_, value) in doc.trailer.iter() {
            reach_obj(doc, value, &mut p.in_use, usize::MAX);
        }
        if let Ok(cat) = doc.catalog() {
            if let Ok(Object::Reference(id)) = cat.get(b"Extensions") {
                p.extensions.insert(*id);
            }
            p.form = cat.get(b"AcroForm").and_then(Object::as_reference).ok();
            if let Ok(tree) = cat
                .get(b"StructTreeRoot")
                .and_then(|t| doc.dereference(t))
                .and_then(|(_, t)| t.as_dict())
                && let Ok(parent_tree) = tree.get(b"ParentTree")
            {
                p.parent_tree = parent_tree_nodes(doc, parent_tree);
            }
            if let Ok(form) =
                cat.get(b"AcroForm").and_then(|f| doc.dereference(f)).and_then(|(_, f)| f.as_dict())
            {
                if let Ok(dr) = form.get(b"DR") {
                    p.add_appearance(doc, dr, Appearance::FormField);
                }
                if let Ok(Object::Reference(id)) = form.get(b"Fields") {
                    p.arrays.insert(*id);
                }
            }
        }
        for (id, obj) in &doc.objects {
            let Some(dict) = dict_of(obj) else { continue };
            if let Ok(Object::Reference(id)) = dict.get(b"Annots") {
                p.arrays.insert(*id);
            }
            if name(doc, dict, b"Type").as_deref() == Some("DSS")
                || (dict.has(b"VRI")
                    || dict.has(b"Certs")
                    || dict.has(b"OCSPs")
                    || dict.has(b"CRLs"))
            {
                reach_obj(doc, &Object::Reference(*id), &mut p.dss, 5);
            }
            let ap = dict.get(b"AP").ok();
            if is_sig_field(doc, dict) {
                // A signature field's widgets: itself, or its /Kids (which
                // need not point back with /Parent).
                for kid in kids(doc, dict) {
                    p.signature_widgets.insert(kid);
                    if let Some(ap) =
                        doc.get_object(kid).ok().and_then(dict_of).and_then(|k| k.get(b"AP").ok())
                    {
                        p.add_appearance(doc, ap, Appearance::Signature);
                    }
                }
                if let Ok(Object::Reference(array)) = dict.get(b"Kids") {
                    p.signature_widgets.insert(*array);
                }
                if let Some(ap) = ap {
                    p.add_appearance(doc, ap, Appearance::Signature);
                }
            } else if let Some(ap) = ap {
                let of = if is_field(doc, dict) {
                    Appearance::FormField
                } else {
                    Appearance::Annotation
                };
                p.add_appearance(doc, ap, of);
            }
            if is_annotation(doc, dict) {
                // What an annotation does when clicked, and its pop-up.
                for key in [b"A".as_slice(), b"Popup"] {
                    if let Ok(part) = dict.get(key) {
                        p.add_appearance(doc, part, Appearance::Annotation);
                    }
                }
            }
        }
        p
    }

    /// Marks what an /AP entry reaches (a few levels: appearance streams,
    /// their resources) as that kind of appearance; a signature's wins.
    fn add_appearance(&mut self, doc: &Document, ap: &Object, of: Appearance) {
        let mut reached = HashSet::new();
        // A signature's appearance embeds its fonts, whose program sits
        // deeper (appearance, form layers n0/n2, resources, Type0 font,
        // descendant font, descriptor, font file): pyHanko also counts every
        // dependency of a new signature's appearance as form filling.
        let depth = if of == Appearance::Signature { 12 } else { 6 };
        reach_obj(doc, ap, &mut reached, depth);
        for id in reached {
            let e = self.appearance.entry(id).or_insert(of);
            *e = (*e).min(of);
        }
    }
}

/// The object ids of a field's /Kids.
fn kids(doc: &Document, dict: &Dictionary) -> Vec<ObjectId> {
    let Ok(kids) =
        dict.get(b"Kids").and_then(|k| doc.dereference(k)).and_then(|(_, k)| k.as_array())
    else {
        return Vec::new();
    };
    kids.iter().filter_map(|k| k.as_reference().ok()).collect()
}

/// A form field or one of its widgets: /FT on it or a parent.
fn is_field(doc: &Document, dict: &Dictionary) -> bool {
    dict.has(b"FT")
        || dict.has(b"Parent") && name(doc, dict, b"Subtype").as_deref() == Some("Widget")
}

/// An annotation other than a form field's widget.
fn is_annotation(doc: &Document, dict: &Dictionary) -> bool {
    let subtype = name(doc, dict, b"Subtype");
    (name(doc, dict, b"Type").as_deref() == Some("Annot") || dict.has(b"Rect"))
        && subtype.is_some()
        && subtype.as_deref() != Some("Widget")
        && !dict.has(b"FT")
}

/// How the signed revision used its objects.
#[derive(Default)]
struct SignedUse {
    /// Reached from the trailer other than through the places signing
    /// rewrites (field and annotation appearances, signature values, the
    /// catalog's /DSS, /Extensions, /Perms and /Metadata, the trailer's
    /// /Info): what the signer saw.
    content: HashSet<ObjectId>,
    /// For the objects inside appearances: whose /AP reaches them. One
    /// reached by two (a stream shown by two fields) may not be rewritten
    /// for one of them: it would change the other.
    appearance_of: HashMap<ObjectId, HashSet<ObjectId>>,
}

struct Visit<'a> {
    obj: &'a Object,
    /// The widget or annotation whose /AP this is inside of.
    appearance_of: Option<ObjectId>,
    /// The indirect object this (direct) value is part of.
    holder: Option<ObjectId>,
}

impl SignedUse {
    fn of(doc: &Document) -> SignedUse {
        const MAX_VISITS: usize = 4_000_000;
        let mut u = SignedUse::default();
        let mut seen: HashSet<(ObjectId, Option<ObjectId>)> = HashSet::new();
        let mut stack: Vec<Visit<'_>> = doc
            .trailer
            .iter()
            .filter(|(k, _)| k.as_slice() != b"Info")
            .map(|(_, obj)| Visit { obj, appearance_of: None, holder: None })
            .collect();
        let mut visits = 0;
        while let Some(v) = stack.pop() {
            visits += 1;
            if visits > MAX_VISITS {
                break;
            }
            let dict = match v.obj {
                Object::Reference(id) => {
                    if !seen.insert((*id, v.appearance_of)) {
                        continue;
                    }
                    match v.appearance_of {
                        None => u.content.insert(*id),
                        Some(owner) => u.appearance_of.entry(*id).or_default().insert(owner),
                    };
                    if let Ok(target) = doc.get_object(*id) {
                        stack.push(Visit { obj: target, holder: Some(*id), ..v });
                    }
                    continue;
                }
                Object::Array(items) => {
                    stack.extend(items.iter().map(|obj| Visit { obj, ..v }));
                    continue;
                }
                Object::Dictionary(d) => d,
                Object::Stream(s) => &s.dict,
                _ => continue,
            };
            if v.appearance_of.is_some() {
                stack.extend(dict.iter().map(|(_, obj)| Visit { obj, ..v }));
                continue;
            }
            let catalog = name(doc, dict, b"Type").as_deref() == Some("Catalog");
            let signature = is_sig_field(doc, dict);
            let shown = dict.has(b"FT") || dict.has(b"Subtype") || signature;
            for (key, obj) in dict.iter() {
                let key = key.as_slice();
                if catalog && matches!(key, b"DSS" | b"Extensions" | b"Perms" | b"Metadata")
                    || signature && key == b"V"
                {
                    continue;
                }
                let owner = v.holder.unwrap_or((0, 0));
                if shown && key == b"AP" {
                    stack.push(Visit { obj, appearance_of: Some(owner), holder: v.holder });
                } else if signature && key == b"Kids" {
                    // Widgets of a signature field: their appearances are its own.
                    if let Object::Reference(id) = obj {
                        u.content.insert(*id);
                    }
                    for kid in kids(doc, dict) {
                        u.content.insert(kid);
                        if let Some(ap) = doc
                            .get_object(kid)
                            .ok()
                            .and_then(dict_of)
                            .and_then(|k| k.get(b"AP").ok())
                        {
                            stack.push(Visit {
                                obj: ap,
                                appearance_of: Some(kid),
                                holder: Some(kid),
                            });
                        }
                    }
                } else {
                    stack.push(Visit { obj, appearance_of: None, holder: v.holder });
                }
            }
        }
        u
    }
}

/// One object of the final document that differs from the signed revision.
struct Change<'a> {
    doc: &'a Document,
    id: ObjectId,
    obj: &'a Object,
    old_doc: &'a Document,
    /// Its version in the signed revision, if it had one.
    before: Option<&'a Object>,
    places: &'a Places,
    used: &'a SignedUse,
}

impl Change<'_> {
    /// What the change is and the DocMDP level it needs, or why nothing explains it.
    fn explain(&self) -> Result<(Level, String), String> {
        let (id, places) = (self.id, self.places);
        if !places.in_use.contains(&id) {
            return Ok((Level::Archival, "unreferenced objects".into()));
        }
        if self.before.is_some()
            && self.used.appearance_of.get(&id).is_some_and(|owners| owners.len() > 1)
        {
            return Err(format!(
                "{}, shown by {} fields or annotations, rewritten",
                self.describe(),
                self.used.appearance_of[&id].len()
            ));
        }
        // An object the signer saw as content may only change in the ways
        // below; one that is new (or only held data signing rewrites) may
        // be whatever its place in the final document allows.
        if let Some(replaced) = self.replaced_shared_appearance() {
            return Err(format!(
                "{}: its appearance {} {} replaced, which the signed document also uses elsewhere",
                self.describe(),
                replaced.0,
                replaced.1
            ));
        }
        let was_content = self.before.is_some() && self.used.content.contains(&id);
        if !was_content && let Some(explained) = self.by_place() {
            return Ok(explained);
        }
        if let Some(explained) = self.by_keys() {
            return Ok(explained);
        }
        Err(if was_content {
            format!("{}, part of the signed document", self.describe())
        } else {
            self.describe()
        })
    }

    /// A field or annotation whose /AP now differs, where the appearance
    /// it had is an object the signed revision also used elsewhere (as
    /// pyHanko, refused: the update cannot be told apart from one that
    /// changes that other use).
    fn replaced_shared_appearance(&self) -> Option<ObjectId> {
        let old = self.before.and_then(dict_of)?;
        let Ok(Object::Reference(was)) = old.get(b"AP") else { return None };
        if dict_of(self.obj)?.get(b"AP").ok() == old.get(b"AP").ok() {
            return None;
        }
        let shared = self.used.content.contains(was)
            || self.used.appearance_of.get(was).is_some_and(|owners| owners.len() > 1);
        shared.then_some(*was)
    }

    /// New objects (or objects only signing data used), by where the final
    /// document has them and by their type.
    fn by_place(&self) -> Option<(Level, String)> {
        let (doc, id, p) = (self.doc, self.id, self.places);
        if p.dss.contains(&id) {
            return Some((Level::Archival, "DSS (LTV) data".into()));
        }
        if p.extensions.contains(&id) {
            return Some((Level::Archival, "PDF extension declarations".into()));
        }
        if p.arrays.contains(&id) && self.before.is_none() {
            // A new /Annots or /Fields array: the page or form referring to
            // it changed too, and is checked there.
            return Some((Level::FormFilling, "signature fields".into()));
        }
        if p.form == Some(id) && self.before.is_none() {
            // A form made by the first signature: it may list only signature fields.
            return self.listed_change(&Dictionary::new(), dict_of(self.obj)?, b"Fields");
        }
        if p.parent_tree.contains(&id) && self.before.is_none() {
            return Some((Level::FormFilling, STRUCTURE.into()));
        }
        if p.signature_widgets.contains(&id) {
            return Some((Level::FormFilling, "signature fields".into()));
        }
        match p.appearance.get(&id) {
            Some(Appearance::Signature) => {
                return Some((Level::FormFilling, "signature appearances".into()));
            }
            Some(Appearance::FormField) => {
                return Some((Level::FormFilling, "form field appearances".into()));
            }
            Some(Appearance::Annotation) => {
                return Some((Level::Annotations, "annotation appearances and actions".into()));
            }
            None => {}
        }
        let dict = dict_of(self.obj)?;
        let ty = name(doc, dict, b"Type");
        match ty.as_deref() {
            Some("Sig") => return Some((Level::FormFilling, "signatures".into())),
            Some("DocTimeStamp") => return Some((Level::Archival, "document timestamps".into())),
            Some("XRef" | "ObjStm") => {
                return Some((Level::Archival, "cross-reference data".into()));
            }
            Some("DSS" | "VRI") => return Some((Level::Archival, "DSS (LTV) data".into())),
            Some("Metadata") => return Some((Level::Archival, "metadata".into())),
            Some("StructElem" | "OBJR") if self.before.is_none() => {
                return Some((Level::FormFilling, STRUCTURE.into()));
            }
            Some("SigFieldLock") if self.before.is_none() => {
                return Some((Level::FormFilling, "signature field locks".into()));
            }
            _ => {}
        }
        if dict.has(b"ByteRange") && dict.has(b"Contents") {
            return Some((Level::FormFilling, "signatures".into()));
        }
        if is_sig_field(doc, dict) {
            return Some((Level::FormFilling, "signature fields".into()));
        }
        if self.before.is_none() && is_annotation(doc, dict) {
            return Some((
                Level::Annotations,
                format!("annotations ({})", name(doc, dict, b"Subtype").unwrap_or_default()),
            ));
        }
        None
    }

    /// Objects that existed, by which of their keys changed and how.
    #[expect(clippy::too_many_lines, reason = "110 lines, from before the limit")]
    fn by_keys(&self) -> Option<(Level, String)> {
        let doc = self.doc;
        match (self.before, self.obj) {
            // A stream's data is what it shows: no key rule explains new
            // data, nor an object turned into a stream or out of one.
            (Some(Object::Stream(old)), Object::Stream(new)) if old.content != new.content => {
                return None;
            }
            (Some(Object::Stream(_)), Object::Stream(_)) => {}
            (Some(Object::Stream(_)), _) | (_, Object::Stream(_)) => return None,
            _ => {}
        }
        if let (Some(Object::Array(old)), Object::Array(new)) = (self.before, self.obj) {
            if self.places.parent_tree.contains(&self.id) {
                return old
                    .iter()
                    .all(|o| new.contains(o))
                    .then(|| (Level::FormFilling, STRUCTURE.into()));
            }
            return self.array_change(old, new);
        }
        let dict = dict_of(self.obj)?;
        let old = self.before.and_then(dict_of);
        let ty = name(doc, dict, b"Type");
        if ty.as_deref() == Some("Catalog")
            && only_keys_changed(
                old,
                dict,
                &[b"AcroForm", b"DSS", b"Perms", b"Extensions", b"Version", b"Metadata"],
            )
        {
            let level = if only_keys_changed(
                old,
                dict,
                &[b"DSS", b"Extensions", b"Version", b"Metadata"],
            ) {
                Level::Archival
            } else {
                Level::FormFilling
            };
            return Some((level, "document catalog entries for signatures".into()));
        }
        if dict.has(b"Fields")
            && only_keys_changed(
                old,
                dict,
                &[b"Fields", b"SigFlags", b"DA", b"DR", b"NeedAppearances"],
            )
        {
            return self.listed_change(old?, dict, b"Fields");
        }
        // Tagging what an update adds: the structure tree may gain
        // elements and parent-tree entries; nothing it had may change.
        if ty.as_deref() == Some("StructTreeRoot")
            && only_keys_changed(old, dict, &[b"ParentTree", b"ParentTreeNextKey", b"K"])
            && only_added(old?, dict, b"K")
        {
            return Some((Level::FormFilling, STRUCTURE.into()));
        }
        if (ty.as_deref() == Some("StructElem") || dict.has(b"S") && dict.has(b"P"))
            && only_keys_changed(old, dict, &[b"K"])
            && only_added(old?, dict, b"K")
        {
            return Some((Level::FormFilling, STRUCTURE.into()));
        }
        if self.places.parent_tree.contains(&self.id)
            && only_keys_changed(old, dict, &[b"Nums", b"Kids", b"Limits"])
            && only_added(old?, dict, b"Nums")
            && only_added(old?, dict, b"Kids")
        {
            return Some((Level::FormFilling, STRUCTURE.into()));
        }
        // A page's /Tabs (the order of its fields for the Tab key) comes
        // with adding a field to it.
        let structure_key_added = |old: &Dictionary| {
            !old.has(b"StructParents")
                || old.get(b"StructParents").ok() == dict.get(b"StructParents").ok()
        };
        if ty.as_deref() == Some("Page")
            && only_keys_changed(old, dict, &[b"Annots", b"Tabs", b"StructParents"])
            && structure_key_added(old?)
        {
            return self.listed_change(old?, dict, b"Annots");
        }
        if doc.trailer.get(b"Info").ok() == Some(&Object::Reference(self.id)) {
            return Some((Level::Archival, "document information (producer, dates)".into()));
        }
        if only_keys_changed(old, dict, &TOOL_MARKER_KEYS) {
            return Some((Level::Archival, "writer markers".into()));
        }
        let was_signature_field = old.is_some_and(|o| is_sig_field(self.old_doc, o));
        if was_signature_field
            && is_sig_field(doc, dict)
            && only_keys_changed(old, dict, &SIGN_KEYS)
        {
            return Some((Level::FormFilling, "signatures".into()));
        }
        if !is_sig_field(doc, dict)
            && is_field(doc, dict)
            && old.is_some_and(|o| is_field(self.old_doc, o))
            && only_keys_changed(old, dict, &FILL_KEYS)
        {
            return Some((
                Level::FormFilling,
                format!("form field values ({})", field_name(doc, dict)),
            ));
        }
        if is_annotation(doc, dict) && old.is_some_and(|o| is_annotation(self.old_doc, o)) {
            return Some((
                Level::Annotations,
                format!(
                    "changed annotations ({})",
                    name(doc, dict, b"Subtype").unwrap_or_default()
                ),
            ));
        }
        None
    }

    /// A dictionary's /Fields or /Annots array (direct or not), before and after.
    fn listed_change(
        &self,
        old: &Dictionary,
        new: &Dictionary,
        key: &[u8],
    ) -> Option<(Level, String)> {
        let array = |doc: &Document, d: &Dictionary| -> Option<Vec<Object>> {
            match d.get(key) {
                Err(_) => Some(Vec::new()),
                Ok(o) => doc.dereference(o).ok().and_then(|(_, o)| o.as_array().ok()).cloned(),
            }
        };
        self.array_change(&array(self.old_doc, old)?, &array(self.doc, new)?)
    }

    /// A /Fields or /Annots array: elements added (signature widgets,
    /// annotations) or removed (annotations). A form field's widget taken
    /// out is never allowed.
    fn array_change(&self, old: &[Object], new: &[Object]) -> Option<(Level, String)> {
        let mut level = Level::FormFilling;
        let mut what = "signature fields".to_owned();
        for added in new.iter().filter(|o| !old.contains(o)) {
            let d = self.doc.dereference(added).ok().and_then(|(_, o)| dict_of(o))?;
            if is_sig_field(self.doc, d)
                || added.as_reference().is_ok_and(|r| self.places.signature_widgets.contains(&r))
            {
                continue;
            }
            if !is_annotation(self.doc, d) {
                return None;
            }
            level = Level::Annotations;
            what = "page annotation lists".into();
        }
        for removed in old.iter().filter(|o| !new.contains(o)) {
            let d = self.old_doc.dereference(removed).ok().and_then(|(_, o)| dict_of(o))?;
            if !is_annotation(self.old_doc, d) {
                return None;
            }
            level = Level::Annotations;
            what = "removed annotations".into();
        }
        Some((level, what))
    }

    fn describe(&self) -> String {
        match dict_of(self.obj) {
            Some(d) => match (name(self.doc, d, b"Type"), name(self.doc, d, b"Subtype")) {
                (Some(t), Some(s)) => format!("{t} {s}"),
                (Some(t), None) => t,
                (None, Some(s)) => s,
                (None, None) if matches!(self.obj, Object::Stream(_)) => {
                    "stream, e.g. page content".into()
                }
                (None, None) => "dictionary".into(),
            },
            None => "value".into(),
        }
    }
}

/// What tagging an added field or annotation changes.
const STRUCTURE: &str = "document structure (tags) for what was added";

/// Whether `key` of `new` keeps every element `old` had there (a single
/// value counts as a one-element array; an absent key as none).
fn only_added(old: &Dictionary, new: &Dictionary, key: &[u8]) -> bool {
    let elements = |d: &Dictionary| -> Vec<Object> {
        match d.get(key) {
            Ok(Object::Array(items)) => items.clone(),
            Ok(other) => vec![other.clone()],
            Err(_) => Vec::new(),
        }
    };
    let now = elements(new);
    elements(old).iter().all(|o| now.contains(o))
}

/// The nodes of a number tree (the structure's parent tree) and the
/// arrays its values are; not what those arrays list (structure elements
/// tied to pages: their changes are judged as themselves).
fn parent_tree_nodes(doc: &Document, root: &Object) -> HashSet<ObjectId> {
    const MAX_NODES: usize = 100_000;
    let mut seen = HashSet::new();
    let mut stack = vec![root];
    while let Some(obj) = stack.pop() {
        let Object::Reference(id) = obj else { continue };
        if seen.len() >= MAX_NODES || !seen.insert(*id) {
            continue;
        }
        let Ok(node) = doc.get_object(*id).and_then(|o| o.as_dict()) else { continue };
        if let Ok(Object::Array(kids)) = node.get(b"Kids") {
            stack.extend(kids.iter());
        }
        if let Ok(Object::Array(nums)) = node.get(b"Nums") {
            for value in nums.iter().skip(1).step_by(2) {
                if let Object::Reference(v) = value
                    && doc.get_object(*v).is_ok_and(|o| matches!(o, Object::Array(_)))
                {
                    seen.insert(*v);
                }
            }
        }
    }
    seen
}

/// A field's fully qualified name (its widget's parent's, for a widget).
fn field_name(doc: &Document, dict: &Dictionary) -> String {
    let name = qualified_name(doc, dict);
    if name.is_empty() { "unnamed".into() } else { name }
}

/// Marks what `start` refers to, up to `depth` references away.
/// Iterative (a hostile file can nest deeper than the stack), bounded in
/// depth and in the number of objects visited.
fn reach_obj(doc: &Document, start: &Object, seen: &mut HashSet<ObjectId>, depth: usize) {
    const MAX_OBJECTS: usize = 2_000_000;
    let mut stack: Vec<(&Object, usize)> = vec![(start, depth)];
    while let Some((obj, left)) = stack.pop() {
        match obj {
            Object::Reference(id) => {
                if left == 0 || seen.len() >= MAX_OBJECTS || !seen.insert(*id) {
                    continue;
                }
                if let Ok(target) = doc.get_object(*id) {
                    stack.push((target, left - 1));
                }
            }
            Object::Array(items) => stack.extend(items.iter().map(|o| (o, left))),
            Object::Dictionary(d) => stack.extend(d.iter().map(|(_, v)| (v, left))),
            Object::Stream(st) => stack.extend(st.dict.iter().map(|(_, v)| (v, left))),
            _ => {}
        }
    }
}

/// Whether only `allowed` keys differ between the old and new dictionary.
fn only_keys_changed(old: Option<&Dictionary>, new: &Dictionary, allowed: &[&[u8]]) -> bool {
    let Some(old) = old else { return false };
    let keys: BTreeSet<&[u8]> = old
        .iter()
        .map(|(k, _)| k.as_slice())
        .chain(new.iter().map(|(k, _)| k.as_slice()))
        .collect();
    keys.into_iter().all(|k| allowed.contains(&k) || old.get(k).ok() == new.get(k).ok())
}
