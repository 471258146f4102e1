//! A small, hostile-input-proof XML tree for signature work, built from
//! quick-xml events: namespaces resolved, text and attribute values decoded,
//! entities never expanded beyond the predefined ones and character
//! references (no DTD processing, so no XXE and no entity bombs).

use quick_xml::events::Event;

pub(crate) const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Elements nested deeper than this make the document unreadable.
const MAX_DEPTH: usize = 512;
/// Element count bound (a 1 GB XML file holds far fewer signatures).
const MAX_NODES: usize = 2_000_000;
/// Namespace prefixes in scope at once (real documents have tens).
pub(crate) const MAX_NAMESPACES_IN_SCOPE: usize = 10_000;
/// Attributes on one element, namespace declarations included.
pub(crate) const MAX_ATTRIBUTES: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Attr {
    pub prefix: String,
    pub local: String,
    /// Namespace URI ("" for unprefixed attributes).
    pub ns: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub enum Child {
    Elem(usize),
    Text(String),
    Comment(String),
    Pi(String, String),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub parent: Option<usize>,
    pub prefix: String,
    pub local: String,
    pub ns: String,
    pub attrs: Vec<Attr>,
    /// Namespace declarations written on this element: (prefix, URI).
    pub ns_decls: Vec<(String, String)>,
    pub children: Vec<Child>,
}

#[derive(Debug, Clone, Default)]
pub struct Doc {
    pub nodes: Vec<Node>,
    pub root: usize,
    /// Comments and processing instructions before / after the root element.
    pub prolog: Vec<Child>,
    pub epilog: Vec<Child>,
    /// An entity reference other than the predefined ones was met (its
    /// value is unknown to us: canonical forms would be wrong).
    pub unresolved_entities: Vec<String>,
    /// (attribute name's rank in [`ID_NAMES`], value) -> (first element
    /// carrying it, how many do).
    ids: std::cell::OnceCell<std::collections::HashMap<(usize, String), (usize, usize)>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("XML not readable: {0}")]
    Malformed(String),
    /// Over one of the bounds that keep hostile documents cheap.
    #[error("XML not read: {0}")]
    Limit(String),
}

/// Namespace bindings along a walk down the tree: prefix -> URIs
/// declared for it, innermost last; each open element remembers which
/// prefixes it bound, to undo them at its end. Lookups and updates cost
/// the same however many namespaces are in scope (hostile documents
/// declare thousands), so parsing and canonicalisation stay linear.
#[derive(Debug, Default)]
pub(super) struct Bindings {
    uris: std::collections::HashMap<String, Vec<String>>,
    bound: usize,
    opened: Vec<Vec<String>>,
}

impl Bindings {
    pub(super) fn get(&self, prefix: &str) -> Option<&str> {
        self.uris.get(prefix).and_then(|v| v.last()).map(String::as_str)
    }

    /// Prefixes bound now.
    pub(super) fn len(&self) -> usize {
        self.bound
    }

    /// Every binding in scope: (prefix, URI), in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.uris.iter().filter_map(|(p, v)| v.last().map(|u| (p.as_str(), u.as_str())))
    }

    /// Binds `decls` for one element, until the matching [`Bindings::close`].
    pub(super) fn open(&mut self, decls: &[(String, String)]) {
        let mut opened = Vec::with_capacity(decls.len());
        for (p, u) in decls {
            let uris = self.uris.entry(p.clone()).or_default();
            if uris.is_empty() {
                self.bound += 1;
            }
            uris.push(u.clone());
            opened.push(p.clone());
        }
        self.opened.push(opened);
    }

    pub(super) fn close(&mut self) {
        for p in self.opened.pop().unwrap_or_default() {
            if let Some(uris) = self.uris.get_mut(&p) {
                uris.pop();
                if uris.is_empty() {
                    self.bound -= 1;
                }
            }
        }
    }
}

impl Doc {
    #[expect(clippy::too_many_lines, reason = "157 lines, from before the limit")]
    pub fn parse(bytes: &[u8]) -> Result<Doc, XmlError> {
        let text = std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes))
            .map_err(|e| XmlError::Malformed(format!("not UTF-8: {e}")))?;
        let mut reader = quick_xml::Reader::from_str(text);
        reader.config_mut().check_end_names = true;
        let mut doc = Doc::default();
        let mut stack: Vec<usize> = Vec::new();
        let mut scope = Bindings::default();
        let mut seen_root = false;
        for events in 0u64.. {
            // The unit's time and memory, now and then: a clock read per event would cost more than
            // the event.
            if events % 4096 == 4095 && crate::budget::over() {
                return Err(XmlError::Limit("the unit's time or memory budget is spent".into()));
            }
            let event = reader.read_event().map_err(|e| {
                XmlError::Malformed(format!("{e} at byte {}", reader.buffer_position()))
            })?;
            match event {
                Event::Start(e) | Event::Empty(e) if stack.len() >= MAX_DEPTH => {
                    let _ = e;
                    return Err(XmlError::Limit(format!(
                        "elements nested more than {MAX_DEPTH} deep"
                    )));
                }
                Event::Start(ref e) | Event::Empty(ref e) => {
                    if doc.nodes.len() >= MAX_NODES {
                        return Err(XmlError::Limit(format!("more than {MAX_NODES} elements")));
                    }
                    if stack.is_empty() && seen_root {
                        return Err(XmlError::Malformed("more than one document element".into()));
                    }
                    let mut decls = Vec::new();
                    let mut raw_attrs = Vec::new();
                    for (n, a) in e.attributes().enumerate() {
                        // Before the next one: quick-xml's duplicate check is quadratic per
                        // element.
                        if n >= MAX_ATTRIBUTES {
                            return Err(XmlError::Limit(format!(
                                "an element with more than {MAX_ATTRIBUTES} attributes"
                            )));
                        }
                        let a = a.map_err(|e| XmlError::Malformed(e.to_string()))?;
                        let key = a.key.as_ref().to_owned();
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| XmlError::Malformed(e.to_string()))?
                            .into_owned();
                        if key == "xmlns" {
                            decls.push((String::new(), value));
                        } else if let Some(p) = key.strip_prefix("xmlns:") {
                            decls.push((p.to_owned(), value));
                        } else {
                            raw_attrs.push((key, value));
                        }
                    }
                    scope.open(&decls);
                    if scope.len() > MAX_NAMESPACES_IN_SCOPE {
                        return Err(XmlError::Limit(format!(
                            "more than {MAX_NAMESPACES_IN_SCOPE} namespace prefixes in scope"
                        )));
                    }
                    let resolve = |prefix: &str| {
                        if prefix == "xml" {
                            Some(XML_NS.to_owned())
                        } else {
                            scope.get(prefix).map(str::to_owned)
                        }
                    };
                    let qname = e.name().as_ref().to_owned();
                    let (prefix, local) = split_qname(&qname);
                    let ns = resolve(&prefix).unwrap_or_default();
                    let attrs = raw_attrs
                        .into_iter()
                        .map(|(k, value)| {
                            let (p, l) = split_qname(&k);
                            let ns = if p.is_empty() {
                                String::new()
                            } else {
                                resolve(&p).unwrap_or_default()
                            };
                            Attr { prefix: p, local: l, ns, value }
                        })
                        .collect();
                    let id = doc.nodes.len();
                    doc.nodes.push(Node {
                        parent: stack.last().copied(),
                        prefix,
                        local,
                        ns,
                        attrs,
                        ns_decls: decls,
                        children: Vec::new(),
                    });
                    match stack.last() {
                        Some(&p) => doc.nodes[p].children.push(Child::Elem(id)),
                        None => {
                            doc.root = id;
                            seen_root = true;
                        }
                    }
                    if matches!(event, Event::Start(_)) {
                        stack.push(id);
                    } else {
                        scope.close();
                    }
                }
                Event::End(_) => {
                    stack.pop();
                    scope.close();
                }
                Event::Text(t) => {
                    if let Some(&p) = stack.last() {
                        push_text(&mut doc.nodes[p].children, &t.xml10_content());
                    }
                }
                Event::CData(t) => {
                    if let Some(&p) = stack.last() {
                        push_text(&mut doc.nodes[p].children, &t.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    let name = r.as_ref().to_owned();
                    let value = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        _ => quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned),
                    };
                    let value = value.unwrap_or_else(|| {
                        doc.unresolved_entities.push(name.clone());
                        format!("&{name};")
                    });
                    if let Some(&p) = stack.last() {
                        push_text(&mut doc.nodes[p].children, &value);
                    }
                }
                Event::Comment(c) => {
                    let c = Child::Comment(c.xml10_content().into_owned());
                    match stack.last() {
                        Some(&p) => doc.nodes[p].children.push(c),
                        None if seen_root => doc.epilog.push(c),
                        None => doc.prolog.push(c),
                    }
                }
                Event::PI(pi) => {
                    let c = Child::Pi(pi.target().to_owned(), pi.content().trim_start().to_owned());
                    match stack.last() {
                        Some(&p) => doc.nodes[p].children.push(c),
                        None if seen_root => doc.epilog.push(c),
                        None => doc.prolog.push(c),
                    }
                }
                Event::Decl(_) | Event::DocType(_) => {}
                Event::Eof => break,
            }
        }
        if !seen_root {
            return Err(XmlError::Malformed("no document element".into()));
        }
        if !stack.is_empty() {
            return Err(XmlError::Malformed("document ends inside an element".into()));
        }
        Ok(doc)
    }

    pub fn node(&self, id: usize) -> &Node {
        &self.nodes[id]
    }

    /// Elements named `{ns}local` in document order.
    pub fn find_all(&self, ns: &str, local: &str) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].ns == ns && self.nodes[i].local == local)
            .collect()
    }

    /// Child elements of `id` named `{ns}local`.
    pub fn children(&self, id: usize, ns: &str, local: &str) -> Vec<usize> {
        self.nodes[id]
            .children
            .iter()
            .filter_map(|c| match c {
                Child::Elem(e) if self.nodes[*e].ns == ns && self.nodes[*e].local == local => {
                    Some(*e)
                }
                _ => None,
            })
            .collect()
    }

    pub fn child(&self, id: usize, ns: &str, local: &str) -> Option<usize> {
        self.children(id, ns, local).into_iter().next()
    }

    /// Descendants of `id` (not `id` itself) named `{ns}local`, in order.
    pub fn descendants(&self, id: usize, ns: &str, local: &str) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack: Vec<usize> = self.child_ids(id).into_iter().rev().collect();
        while let Some(n) = stack.pop() {
            if self.nodes[n].ns == ns && self.nodes[n].local == local {
                out.push(n);
            }
            stack.extend(self.child_ids(n).into_iter().rev());
        }
        out
    }

    pub fn child_ids(&self, id: usize) -> Vec<usize> {
        self.nodes[id]
            .children
            .iter()
            .filter_map(|c| if let Child::Elem(e) = c { Some(*e) } else { None })
            .collect()
    }

    /// Concatenated text of the element's direct text children.
    pub fn text(&self, id: usize) -> String {
        self.nodes[id]
            .children
            .iter()
            .filter_map(|c| if let Child::Text(t) = c { Some(t.as_str()) } else { None })
            .collect()
    }

    /// An unprefixed attribute's value.
    pub fn attr(&self, id: usize, local: &str) -> Option<&str> {
        self.nodes[id]
            .attrs
            .iter()
            .find(|a| a.ns.is_empty() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// The element whose Id / id / ID attribute is `value` (XMLDSig
    /// same-document references; no DTD, so by name). The names are tried
    /// in .NET's order (SignedXml.DefaultGetIdElement: `Id`, then `id`,
    /// then `ID`, the first name any element carries the value under wins),
    /// because the software that signs and checks e-invoices is .NET.
    pub fn by_id(&self, value: &str) -> Option<usize> {
        self.id_entry(value).map(|(first, _)| first)
    }

    /// How many elements carry `value` under the attribute name that
    /// [`Doc::by_id`] resolves it by: more than one makes a reference to it
    /// ambiguous (.NET refuses it too: GetSingleReferenceTarget).
    pub fn id_count(&self, value: &str) -> usize {
        self.id_entry(value).map_or(0, |(_, n)| n)
    }

    /// Elements carrying `value` under a lower-ranked name than the one
    /// that resolves it (`Id="x"` resolves, `id="x"` elsewhere is ignored).
    pub fn id_shadowed(&self, value: &str) -> usize {
        let index = self.id_index();
        let Some(rank) = (0..ID_NAMES.len()).find(|&r| index.contains_key(&(r, value.to_owned())))
        else {
            return 0;
        };
        (rank + 1..ID_NAMES.len())
            .filter_map(|r| index.get(&(r, value.to_owned())))
            .map(|&(_, n)| n)
            .sum()
    }

    fn id_entry(&self, value: &str) -> Option<(usize, usize)> {
        let index = self.id_index();
        (0..ID_NAMES.len()).find_map(|r| index.get(&(r, value.to_owned())).copied())
    }

    /// (name rank, value) -> (first element carrying it, how many do).
    /// Built on first use: a document of many signatures looks up many Ids.
    fn id_index(&self) -> &std::collections::HashMap<(usize, String), (usize, usize)> {
        self.ids.get_or_init(|| {
            let mut index: std::collections::HashMap<(usize, String), (usize, usize)> =
                std::collections::HashMap::new();
            for (i, n) in self.nodes.iter().enumerate() {
                for a in &n.attrs {
                    if let Some(rank) = ID_NAMES.iter().position(|&name| a.local == name) {
                        index.entry((rank, a.value.clone())).or_insert((i, 0)).1 += 1;
                    }
                }
            }
            index
        })
    }

    /// The document as .NET's `XmlDocument` loads it with
    /// `PreserveWhitespace = false` (its default, and what e-invoice
    /// software signs): every whitespace-only text node left out, except
    /// under `xml:space="preserve"`. None when there is none to leave out.
    /// Element indices stay the same.
    pub fn without_blank_text(&self) -> Option<Doc> {
        let blank = |t: &str| t.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        // Nodes are stored parents first, so one pass carries xml:space down.
        let mut preserve = vec![false; self.nodes.len()];
        let mut any = false;
        for (i, n) in self.nodes.iter().enumerate() {
            let own = n
                .attrs
                .iter()
                .find(|a| a.ns == XML_NS && a.local == "space")
                .map(|a| a.value == "preserve");
            preserve[i] = own.unwrap_or_else(|| n.parent.is_some_and(|p| preserve[p]));
            any |=
                !preserve[i] && n.children.iter().any(|c| matches!(c, Child::Text(t) if blank(t)));
        }
        if !any {
            return None;
        }
        let mut lean = self.clone();
        for (i, n) in lean.nodes.iter_mut().enumerate() {
            if !preserve[i] {
                n.children.retain(|c| !matches!(c, Child::Text(t) if blank(t)));
            }
        }
        Some(lean)
    }

    /// The ancestors of `id`, nearest first.
    pub fn ancestors(&self, id: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.nodes[id].parent, |&p| self.nodes[p].parent)
    }

    /// Namespaces in scope at `id`: prefix -> URI, innermost declaration wins.
    pub(super) fn in_scope(&self, id: usize) -> Bindings {
        let mut chain = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            chain.push(c);
            cur = self.nodes[c].parent;
        }
        let mut scope = Bindings::default();
        for &n in chain.iter().rev() {
            scope.open(&self.nodes[n].ns_decls);
        }
        scope
    }
}

/// The attribute names a same-document reference finds its element by, in
/// .NET's order of precedence.
const ID_NAMES: [&str; 3] = ["Id", "id", "ID"];

fn split_qname(q: &str) -> (String, String) {
    match q.split_once(':') {
        Some((p, l)) => (p.to_owned(), l.to_owned()),
        None => (String::new(), q.to_owned()),
    }
}

fn push_text(children: &mut Vec<Child>, t: &str) {
    if let Some(Child::Text(prev)) = children.last_mut() {
        prev.push_str(t);
    } else {
        children.push(Child::Text(t.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_text_and_entities() {
        let d = Doc::parse(
            b"<?xml version=\"1.0\"?>\
              <!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
              <a xmlns=\"urn:a\" xmlns:b=\"urn:b\"><b:c b:k=\"1 &amp; 2\">t&lt;&#x41;&x;</b:c></a>",
        )
        .unwrap();
        let c = d.find_all("urn:b", "c")[0];
        assert_eq!(d.text(c), "t<A&x;");
        assert_eq!(d.unresolved_entities, vec!["x".to_string()]);
        assert_eq!(d.node(c).attrs[0].value, "1 & 2");
        assert_eq!(d.node(c).attrs[0].ns, "urn:b");
        assert_eq!(d.node(d.root).ns, "urn:a");
        assert!(Doc::parse(b"<a><b></a>").is_err());
        let deep = "<a>".repeat(1000);
        assert!(Doc::parse(deep.as_bytes()).is_err());
    }

    /// Issue 23: the document as .NET's XmlDocument loads it by default.
    #[test]
    fn whitespace_only_text_goes_except_where_preserved() {
        let d = Doc::parse(
            b"<a>\n  <b> x </b>\n  <c xml:space=\"preserve\">  <d>\t</d></c>\r\n<e> </e></a>",
        )
        .unwrap();
        let lean = d.without_blank_text().unwrap();
        let texts = |doc: &Doc| -> Vec<String> {
            doc.nodes
                .iter()
                .flat_map(|n| {
                    n.children
                        .iter()
                        .filter_map(|c| if let Child::Text(t) = c { Some(t.clone()) } else { None })
                })
                .collect()
        };
        assert_eq!(texts(&lean), vec![" x ".to_owned(), "  ".to_owned(), "\t".to_owned()]);
        assert_eq!(lean.nodes.len(), d.nodes.len(), "element indices stay");
        assert!(lean.without_blank_text().is_none());
        assert!(Doc::parse(b"<a><b>x</b></a>").unwrap().without_blank_text().is_none());
    }

    /// Issue 23: `Id` before `id` before `ID`, as .NET's DefaultGetIdElement.
    #[test]
    fn ids_resolve_in_dotnet_order() {
        let d = Doc::parse(
            br#"<r><a id="x"/><b Id="x"/><c ID="x"/><d ID="y"/><e ID="y"/><f id="z"/></r>"#,
        )
        .unwrap();
        assert_eq!(d.node(d.by_id("x").unwrap()).local, "b");
        assert_eq!((d.id_count("x"), d.id_shadowed("x")), (1, 2));
        assert_eq!((d.id_count("y"), d.id_shadowed("y")), (2, 0), "two of one name: ambiguous");
        assert_eq!(d.node(d.by_id("z").unwrap()).local, "f");
        assert_eq!(d.by_id("w"), None);
    }
}
