//! Canonical XML 1.0 (inclusive) and Exclusive XML Canonicalization 1.0,
//! with and without comments, of a whole document or of one element's
//! subtree, optionally leaving one subtree out (the enveloped-signature
//! transform). Written once, small, and tested against libxml2's xmllint
//! and xmlsec1-made signatures (tests/all/xml.rs).

use super::tree::{Bindings, Child, Doc, XML_NS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// Canonical XML 1.0 (and 1.1, which differs only for xml:id/xml:base
    /// inheritance in document subsets).
    Inclusive,
    /// Exclusive C14N with its InclusiveNamespaces PrefixList.
    Exclusive(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub method: Method,
    pub comments: bool,
}

impl Options {
    /// From an XMLDSig algorithm URI.
    pub fn from_uri(uri: &str, prefixes: Vec<String>) -> Option<Options> {
        let (method, comments) = match uri {
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
            | "http://www.w3.org/2006/12/xml-c14n11" => (Method::Inclusive, false),
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
            | "http://www.w3.org/2006/12/xml-c14n11#WithComments" => (Method::Inclusive, true),
            "http://www.w3.org/2001/10/xml-exc-c14n#" => (Method::Exclusive(prefixes), false),
            "http://www.w3.org/2001/10/xml-exc-c14n#WithComments" => {
                (Method::Exclusive(prefixes), true)
            }
            _ => return None,
        };
        Some(Options { method, comments })
    }
}

/// Canonical form of the document (`apex` None) or of `apex`'s subtree,
/// without the subtrees of `exclude`.
pub fn canonicalize(doc: &Doc, apex: Option<usize>, exclude: &[usize], opts: &Options) -> Vec<u8> {
    let mut exclude = exclude.to_vec();
    exclude.sort_unstable();
    let mut c = Canon {
        out: String::new(),
        doc,
        exclude: &exclude,
        opts,
        scope: Bindings::default(),
        rendered: Bindings::default(),
    };
    match apex {
        None => {
            for m in &doc.prolog {
                misc(&mut c.out, m, opts);
                if opts.comments || !matches!(m, Child::Comment(_)) {
                    c.out.push('\n');
                }
            }
            c.element(doc.root, true);
            for m in &doc.epilog {
                if opts.comments || !matches!(m, Child::Comment(_)) {
                    c.out.push('\n');
                }
                misc(&mut c.out, m, opts);
            }
        }
        Some(id) => {
            if let Some(parent) = doc.node(id).parent {
                c.scope = doc.in_scope(parent);
            }
            c.element(id, true);
        }
    }
    c.out.into_bytes()
}

fn misc(out: &mut String, m: &Child, opts: &Options) {
    match m {
        Child::Comment(c) if opts.comments => {
            out.push_str("<!--");
            out.push_str(c);
            out.push_str("-->");
        }
        Child::Pi(target, data) => pi(out, target, data),
        _ => {}
    }
}

fn pi(out: &mut String, target: &str, data: &str) {
    out.push_str("<?");
    out.push_str(target);
    if !data.is_empty() {
        out.push(' ');
        out.push_str(data);
    }
    out.push_str("?>");
}

/// One canonicalisation in progress: the namespaces in scope and those
/// already rendered by output ancestors, both undone on the way up.
struct Canon<'a> {
    out: String,
    doc: &'a Doc,
    /// Sorted: an XPath exclusion may list every signature of the document.
    exclude: &'a [usize],
    opts: &'a Options,
    scope: Bindings,
    rendered: Bindings,
}

impl Canon<'_> {
    /// A declaration to render: the prefix's URI differs from the one its
    /// output ancestors rendered.
    fn consider(&self, p: &str, u: &str, decls: &mut Vec<(String, String)>) {
        if p != "xml" && u != self.rendered.get(p).unwrap_or("") {
            decls.push((p.to_owned(), u.to_owned()));
        }
    }

    fn element(&mut self, id: usize, apex: bool) {
        if self.exclude.binary_search(&id).is_ok() {
            return;
        }
        let doc = self.doc;
        let node = doc.node(id);
        self.scope.open(&node.ns_decls);
        let mut decls: Vec<(String, String)> = Vec::new();
        match &self.opts.method {
            // Below the apex, every binding inherited was rendered by the
            // parent already: only this element's own can differ.
            Method::Inclusive if apex => {
                for (p, u) in self.scope.iter() {
                    self.consider(p, u, &mut decls);
                }
            }
            Method::Inclusive => {
                for (p, _) in &node.ns_decls {
                    self.consider(p, self.scope.get(p).unwrap_or(""), &mut decls);
                }
            }
            Method::Exclusive(inclusive) => {
                let mut used: Vec<&str> = vec![node.prefix.as_str()];
                used.extend(
                    node.attrs.iter().filter(|a| !a.prefix.is_empty()).map(|a| a.prefix.as_str()),
                );
                for p in inclusive {
                    let p = if p == "#default" { "" } else { p.as_str() };
                    if self.scope.get(p).is_some() || p.is_empty() {
                        used.push(p);
                    }
                }
                used.sort();
                used.dedup();
                for p in used {
                    self.consider(p, self.scope.get(p).unwrap_or(""), &mut decls);
                }
            }
        }
        decls.sort();
        decls.dedup_by(|a, b| a.0 == b.0);
        let mut attrs: Vec<(&str, &str, String, &str)> = node
            .attrs
            .iter()
            .map(|a| {
                (a.ns.as_str(), a.local.as_str(), qname(&a.prefix, &a.local), a.value.as_str())
            })
            .collect();
        if apex && self.opts.method == Method::Inclusive {
            // Canonical XML 1.0 subsets inherit xml:* attributes of ancestors.
            let mut cur = node.parent;
            while let Some(a) = cur {
                for x in doc.node(a).attrs.iter().filter(|x| x.ns == XML_NS) {
                    if !attrs.iter().any(|(ns, l, _, _)| *ns == XML_NS && *l == x.local) {
                        attrs.push((
                            XML_NS,
                            x.local.as_str(),
                            qname(&x.prefix, &x.local),
                            x.value.as_str(),
                        ));
                    }
                }
                cur = doc.node(a).parent;
            }
        }
        attrs.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let name = qname(&node.prefix, &node.local);
        let out = &mut self.out;
        out.push('<');
        out.push_str(&name);
        for (p, u) in &decls {
            out.push_str(if p.is_empty() { " xmlns" } else { " xmlns:" });
            out.push_str(p);
            out.push_str("=\"");
            escape_attr(out, u);
            out.push('"');
        }
        for (_, _, q, v) in &attrs {
            out.push(' ');
            out.push_str(q);
            out.push_str("=\"");
            escape_attr(out, v);
            out.push('"');
        }
        out.push('>');
        self.rendered.open(&decls);
        for c in &node.children {
            match c {
                Child::Elem(e) => self.element(*e, false),
                Child::Text(t) => escape_text(&mut self.out, t),
                Child::Comment(t) if self.opts.comments => {
                    self.out.push_str("<!--");
                    self.out.push_str(t);
                    self.out.push_str("-->");
                }
                Child::Comment(_) => {}
                Child::Pi(t, d) => pi(&mut self.out, t, d),
            }
        }
        self.rendered.close();
        self.scope.close();
        self.out.push_str("</");
        self.out.push_str(&name);
        self.out.push('>');
    }
}

fn qname(prefix: &str, local: &str) -> String {
    if prefix.is_empty() { local.to_owned() } else { format!("{prefix}:{local}") }
}

fn escape_text(out: &mut String, t: &str) {
    for c in t.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(out: &mut String, t: &str) {
    for c in t.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str, apex_local: Option<&str>, opts: Options) -> String {
        let d = Doc::parse(xml.as_bytes()).unwrap();
        let apex = apex_local.map(|l| (0..d.nodes.len()).find(|&i| d.nodes[i].local == l).unwrap());
        String::from_utf8(canonicalize(&d, apex, &[], &opts)).unwrap()
    }

    #[test]
    fn the_spec_examples() {
        // Canonical XML 1.0, section 3.3 (start and end tags), abridged.
        let xml = "<!DOCTYPE doc [<!ATTLIST e9 attr CDATA \"default\">]>\n<doc>\
                   \n   <e1   />\
                   \n   <e2   ></e2>\
                   \n   <e3   name = \"elem3\"   id=\"elem3\"   />\
                   \n   <e5 a:attr=\"out\" b:attr=\"sorted\" attr2=\"all\" attr=\"I'm\"\
                   \n      xmlns:b=\"http://www.ietf.org\"\
                   \n      xmlns:a=\"http://www.w3.org\"\
                   \n      xmlns=\"http://example.org\"/>\
                   \n</doc>";
        let inc = Options { method: Method::Inclusive, comments: false };
        assert_eq!(
            c14n(xml, None, inc),
            "<doc>\
             \n   <e1></e1>\
             \n   <e2></e2>\
             \n   <e3 id=\"elem3\" name=\"elem3\"></e3>\
             \n   <e5 xmlns=\"http://example.org\" xmlns:a=\"http://www.w3.org\" \
             xmlns:b=\"http://www.ietf.org\" attr=\"I'm\" attr2=\"all\" b:attr=\"sorted\" \
             a:attr=\"out\"></e5>\
             \n</doc>"
        );
    }

    #[test]
    fn subsets_inclusive_versus_exclusive() {
        let xml = "<a xmlns=\"urn:d\" xmlns:x=\"urn:x\" xmlns:y=\"urn:y\" xml:lang=\"vi\"><b \
                   y:k=\"1\"><c/></b></a>";
        assert_eq!(
            c14n(xml, Some("b"), Options { method: Method::Inclusive, comments: false }),
            "<b xmlns=\"urn:d\" xmlns:x=\"urn:x\" xmlns:y=\"urn:y\" xml:lang=\"vi\" \
             y:k=\"1\"><c></c></b>"
        );
        assert_eq!(
            c14n(xml, Some("b"), Options { method: Method::Exclusive(vec![]), comments: false }),
            "<b xmlns=\"urn:d\" xmlns:y=\"urn:y\" y:k=\"1\"><c></c></b>"
        );
        assert_eq!(
            c14n(
                xml,
                Some("b"),
                Options { method: Method::Exclusive(vec!["x".into()]), comments: false }
            ),
            "<b xmlns=\"urn:d\" xmlns:x=\"urn:x\" xmlns:y=\"urn:y\" y:k=\"1\"><c></c></b>"
        );
    }

    #[test]
    fn default_namespace_undeclaration_and_escaping() {
        let xml =
            "<a xmlns=\"urn:a\"><b xmlns=\"\" t=\"&#9;&lt;&quot;\">x&amp;y&#13;</b><!--c--></a>";
        let out = c14n(xml, None, Options { method: Method::Inclusive, comments: true });
        assert_eq!(
            out,
            "<a xmlns=\"urn:a\"><b xmlns=\"\" t=\"&#x9;&lt;&quot;\">x&amp;y&#xD;</b><!--c--></a>"
        );
    }
}
