//! Canonical XML 1.0 (inclusive) and Exclusive XML Canonicalization 1.0,
//! with and without comments, of a whole document or of one element's
//! subtree, optionally leaving one subtree out (the enveloped-signature
//! transform). Written once, small, and tested against libxml2's xmllint
//! and xmlsec1-made signatures (tests/xml.rs).

use super::tree::{Child, Doc, XML_NS};

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
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315" | "http://www.w3.org/2006/12/xml-c14n11" => (Method::Inclusive, false),
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments" | "http://www.w3.org/2006/12/xml-c14n11#WithComments" => (Method::Inclusive, true),
            "http://www.w3.org/2001/10/xml-exc-c14n#" => (Method::Exclusive(prefixes), false),
            "http://www.w3.org/2001/10/xml-exc-c14n#WithComments" => (Method::Exclusive(prefixes), true),
            _ => return None,
        };
        Some(Options { method, comments })
    }
}

/// Canonical form of the document (`apex` None) or of `apex`'s subtree,
/// without the subtrees of `exclude`.
pub fn canonicalize(doc: &Doc, apex: Option<usize>, exclude: &[usize], opts: &Options) -> Vec<u8> {
    let mut out = String::new();
    match apex {
        None => {
            for m in &doc.prolog {
                misc(&mut out, m, opts);
                if opts.comments || !matches!(m, Child::Comment(_)) {
                    out.push('\n');
                }
            }
            let scope = vec![];
            element(&mut out, doc, doc.root, &scope, &[], true, exclude, opts);
            for m in &doc.epilog {
                if opts.comments || !matches!(m, Child::Comment(_)) {
                    out.push('\n');
                }
                misc(&mut out, m, opts);
            }
        }
        Some(id) => {
            let parent_scope = doc.node(id).parent.map(|p| doc.in_scope(p)).unwrap_or_default();
            element(&mut out, doc, id, &parent_scope, &[], true, exclude, opts);
        }
    }
    out.into_bytes()
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

fn lookup<'a>(list: &'a [(String, String)], prefix: &str) -> Option<&'a str> {
    list.iter().rev().find(|(p, _)| p == prefix).map(|(_, u)| u.as_str())
}

/// `scope`: namespaces in scope at the parent; `rendered`: namespace
/// declarations output by output ancestors (prefix -> URI).
#[allow(clippy::too_many_arguments)]
fn element(out: &mut String, doc: &Doc, id: usize, parent_scope: &[(String, String)], rendered: &[(String, String)], apex: bool, exclude: &[usize], opts: &Options) {
    if exclude.contains(&id) {
        return;
    }
    let node = doc.node(id);
    let mut scope = parent_scope.to_vec();
    for (p, u) in &node.ns_decls {
        scope.retain(|(q, _)| q != p);
        scope.push((p.clone(), u.clone()));
    }
    let mut decls: Vec<(String, String)> = Vec::new();
    let consider = |p: &str, u: &str, decls: &mut Vec<(String, String)>| {
        if p == "xml" {
            return;
        }
        let shown = lookup(rendered, p).unwrap_or("");
        if u != shown {
            decls.push((p.to_owned(), u.to_owned()));
        }
    };
    match &opts.method {
        Method::Inclusive => {
            for (p, u) in &scope {
                consider(p, u, &mut decls);
            }
            // An undeclared default namespace after a declared one.
            if lookup(&scope, "").is_none() && lookup(rendered, "").is_some_and(|u| !u.is_empty()) {
                decls.push((String::new(), String::new()));
            }
        }
        Method::Exclusive(inclusive) => {
            let mut used: Vec<String> = vec![node.prefix.clone()];
            used.extend(node.attrs.iter().filter(|a| !a.prefix.is_empty()).map(|a| a.prefix.clone()));
            for p in inclusive {
                let p = if p == "#default" { String::new() } else { p.clone() };
                if lookup(&scope, &p).is_some() || p.is_empty() {
                    used.push(p);
                }
            }
            used.sort();
            used.dedup();
            for p in used {
                let u = lookup(&scope, &p).unwrap_or("").to_owned();
                consider(&p, &u, &mut decls);
            }
        }
    }
    decls.sort();
    decls.dedup_by(|a, b| a.0 == b.0);
    let mut now_rendered = rendered.to_vec();
    for (p, u) in &decls {
        now_rendered.retain(|(q, _)| q != p);
        now_rendered.push((p.clone(), u.clone()));
    }
    let mut attrs: Vec<(&str, &str, String, &str)> = node.attrs.iter().map(|a| (a.ns.as_str(), a.local.as_str(), qname(&a.prefix, &a.local), a.value.as_str())).collect();
    if apex && opts.method == Method::Inclusive {
        // Canonical XML 1.0 subsets inherit xml:* attributes of ancestors.
        let mut cur = node.parent;
        while let Some(a) = cur {
            for x in doc.node(a).attrs.iter().filter(|x| x.ns == XML_NS) {
                if !attrs.iter().any(|(ns, l, _, _)| *ns == XML_NS && *l == x.local) {
                    attrs.push((XML_NS, x.local.as_str(), qname(&x.prefix, &x.local), x.value.as_str()));
                }
            }
            cur = doc.node(a).parent;
        }
    }
    attrs.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let name = qname(&node.prefix, &node.local);
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
    for c in &node.children {
        match c {
            Child::Elem(e) => element(out, doc, *e, &scope, &now_rendered, false, exclude, opts),
            Child::Text(t) => escape_text(out, t),
            Child::Comment(t) if opts.comments => {
                out.push_str("<!--");
                out.push_str(t);
                out.push_str("-->");
            }
            Child::Comment(_) => {}
            Child::Pi(t, d) => pi(out, t, d),
        }
    }
    out.push_str("</");
    out.push_str(&name);
    out.push('>');
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
        let xml = "<!DOCTYPE doc [<!ATTLIST e9 attr CDATA \"default\">]>\n<doc>\n   <e1   />\n   <e2   ></e2>\n   <e3   name = \"elem3\"   id=\"elem3\"   />\n   <e5 a:attr=\"out\" b:attr=\"sorted\" attr2=\"all\" attr=\"I'm\"\n      xmlns:b=\"http://www.ietf.org\"\n      xmlns:a=\"http://www.w3.org\"\n      xmlns=\"http://example.org\"/>\n</doc>";
        let inc = Options { method: Method::Inclusive, comments: false };
        assert_eq!(
            c14n(xml, None, inc),
            "<doc>\n   <e1></e1>\n   <e2></e2>\n   <e3 id=\"elem3\" name=\"elem3\"></e3>\n   <e5 xmlns=\"http://example.org\" xmlns:a=\"http://www.w3.org\" xmlns:b=\"http://www.ietf.org\" attr=\"I'm\" attr2=\"all\" b:attr=\"sorted\" a:attr=\"out\"></e5>\n</doc>"
        );
    }

    #[test]
    fn subsets_inclusive_versus_exclusive() {
        let xml = "<a xmlns=\"urn:d\" xmlns:x=\"urn:x\" xmlns:y=\"urn:y\" xml:lang=\"vi\"><b y:k=\"1\"><c/></b></a>";
        assert_eq!(
            c14n(xml, Some("b"), Options { method: Method::Inclusive, comments: false }),
            "<b xmlns=\"urn:d\" xmlns:x=\"urn:x\" xmlns:y=\"urn:y\" xml:lang=\"vi\" y:k=\"1\"><c></c></b>"
        );
        assert_eq!(c14n(xml, Some("b"), Options { method: Method::Exclusive(vec![]), comments: false }), "<b xmlns=\"urn:d\" xmlns:y=\"urn:y\" y:k=\"1\"><c></c></b>");
        assert_eq!(
            c14n(xml, Some("b"), Options { method: Method::Exclusive(vec!["x".into()]), comments: false }),
            "<b xmlns=\"urn:d\" xmlns:x=\"urn:x\" xmlns:y=\"urn:y\" y:k=\"1\"><c></c></b>"
        );
    }

    #[test]
    fn default_namespace_undeclaration_and_escaping() {
        let xml = "<a xmlns=\"urn:a\"><b xmlns=\"\" t=\"&#9;&lt;&quot;\">x&amp;y&#13;</b><!--c--></a>";
        let out = c14n(xml, None, Options { method: Method::Inclusive, comments: true });
        assert_eq!(out, "<a xmlns=\"urn:a\"><b xmlns=\"\" t=\"&#x9;&lt;&quot;\">x&amp;y&#xD;</b><!--c--></a>");
    }
}
