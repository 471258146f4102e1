//! The rules: CA catalogue, agency map and legal basis. Data in TOML,
//! compiled into the binary as the default and overridable per file with
//! `--rules DIR`.
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files         what they hold
//! 0      cfg patterns  the rules files with source spans; DN and path patterns
//! ```

pub(crate) mod cfg;
pub(crate) mod patterns;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use toml::Spanned;

use crate::cert::Name;
use crate::cert::names::parse_dn;
pub(crate) use cfg::Diagnostic;
use cfg::Source;
pub(crate) use patterns::{DnPattern, NameGlob, NameGlobs, PathPattern, fold_path, words};

const BUILTIN_CA: &str = include_str!("../../rules/ca.toml");
const BUILTIN_AGENCIES: &str = include_str!("../../rules/agencies.toml");
const BUILTIN_LEGAL: &str = include_str!("../../rules/legal.toml");

/// Names of the files a rules folder may hold.
pub(crate) const CA_FILE: &str = "ca.toml";
pub(crate) const AGENCIES_FILE: &str = "agencies.toml";
pub(crate) const LEGAL_FILE: &str = "legal.toml";
pub(crate) const CA_EXTRA_DIR: &str = "ca.d";
pub(crate) const ANCHORS_DIR: &str = "anchors";

pub(crate) const UNASSIGNED_ID: &str = "unassigned";
/// The agency id of signers outside the map: companies, citizens' organisations, other bodies.
pub(crate) const EXTERNAL_ID: &str = "external";
/// The agency id of government bodies outside the province: ministries and
/// other central bodies with their local branches, other provinces' agencies.
pub(crate) const EXTERNAL_GOV_ID: &str = "external-gov";

/// Whether an agency id is one of the pseudo-agencies of signers outside
/// the province's map (listed apart, never in a migration figure).
pub(crate) fn is_external_id(id: &str) -> bool {
    id == EXTERNAL_ID || id == EXTERNAL_GOV_ID
}

pub use crate::model::verdict::CaClass;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinRole {
    Root,
    Issuing,
    Tsa,
}

/// One CA certificate, pinned by facts.
#[derive(Debug, Clone)]
pub struct Pin {
    pub subject: Name,
    pub issuer: Option<Name>,
    pub sha256: [u8; 32],
    pub ski: Option<Vec<u8>>,
    pub aki: Option<Vec<u8>>,
    pub not_before: Option<OffsetDateTime>,
    pub not_after: Option<OffsetDateTime>,
    pub role: PinRole,
    pub download: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct CaEntry {
    pub id: String,
    pub name: String,
    pub class: CaClass,
    pub operator: String,
    pub website: String,
    pub note: String,
    pub pins: Vec<Pin>,
    pub issuer_patterns: Vec<DnPattern>,
    /// URLs of this CA's certificates for keys no pin holds; a download
    /// there serves only if it verifies up to a pinned certificate.
    pub other_downloads: Vec<String>,
}

/// A pinned certificate and the CA it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct PinRef<'a> {
    pub ca: &'a CaEntry,
    pub pin: &'a Pin,
}

#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub cas: Vec<CaEntry>,
    by_sha256: HashMap<[u8; 32], (usize, usize)>,
}

impl Catalogue {
    /// A catalogue of these CAs (the rules build theirs from TOML; tests
    /// such as the x509-limbo suite pin their own trust anchors).
    pub fn from_cas(cas: Vec<CaEntry>) -> Catalogue {
        let mut catalogue = Catalogue { cas, by_sha256: HashMap::new() };
        catalogue.index();
        catalogue
    }

    fn index(&mut self) {
        self.by_sha256.clear();
        for (ci, ca) in self.cas.iter().enumerate() {
            for (pi, pin) in ca.pins.iter().enumerate() {
                self.by_sha256.insert(pin.sha256, (ci, pi));
            }
        }
    }

    fn pin_ref(&self, (ci, pi): (usize, usize)) -> PinRef<'_> {
        PinRef { ca: &self.cas[ci], pin: &self.cas[ci].pins[pi] }
    }

    pub fn pins(&self) -> impl Iterator<Item = PinRef<'_>> {
        self.cas.iter().flat_map(|ca| ca.pins.iter().map(move |pin| PinRef { ca, pin }))
    }

    pub fn by_sha256(&self, sha256: &[u8; 32]) -> Option<PinRef<'_>> {
        self.by_sha256.get(sha256).map(|&i| self.pin_ref(i))
    }

    /// Pins whose subject key identifier is `ski`.
    pub fn by_ski(&self, ski: &[u8]) -> Vec<PinRef<'_>> {
        self.pins().filter(|p| p.pin.ski.as_deref() == Some(ski)).collect()
    }

    /// Pins whose subject DN equals `name` (folded comparison).
    pub fn by_subject(&self, name: &Name) -> Vec<PinRef<'_>> {
        let key = name.folded_key();
        self.pins().filter(|p| p.pin.subject.folded_key() == key).collect()
    }

    /// The CA whose DN pattern matches `issuer` most specifically.
    pub fn by_pattern(&self, issuer: &Name) -> Option<(&CaEntry, &DnPattern)> {
        self.cas
            .iter()
            .flat_map(|ca| ca.issuer_patterns.iter().map(move |p| (ca, p)))
            .filter(|(_, p)| p.matches(issuer))
            .max_by_key(|(_, p)| p.specificity())
    }

    pub fn get(&self, id: &str) -> Option<&CaEntry> {
        self.cas.iter().find(|c| c.id == id)
    }
}

#[derive(Debug, Clone)]
pub struct Agency {
    pub id: String,
    pub name: String,
    pub paths: Vec<PathPattern>,
    pub cert_subject: Vec<DnPattern>,
    pub mail_domains: Vec<String>,
    /// The last day it existed (2025 reorganisation): kept for the
    /// documents signed before.
    pub ended: Option<time::Date>,
    /// The id of the agency that took over its work.
    pub successor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AgencyMap {
    pub agencies: Vec<Agency>,
    pub unassigned_name: String,
    /// Every agency's path globs in one set (one pass per file instead of
    /// one regex per glob), with the agency index of each glob.
    pub path_index: (globset::GlobSet, Vec<usize>),
    /// Every path glob ends in `/**`: the rules then tell folders apart,
    /// never two files of one folder.
    pub paths_by_folder: bool,
    pub external: External,
    /// The province's names ([`words`] form): a body naming one of them
    /// is the province's own, even when the map lacks it.
    pub province: Vec<String>,
}

/// Who signs as someone outside the map (docs/report-format.md, Attribution rule 2).
#[derive(Debug, Clone)]
pub struct External {
    pub name: String,
    pub cert_subject: Vec<DnPattern>,
    /// Companies and organisations, by CN, O or OU.
    pub organisations: NameGlobs,
    pub government_name: String,
    /// Central government bodies, by CN, O or OU.
    pub government: NameGlobs,
    /// Forms of a province's own bodies, by CN, O or OU.
    pub local_government: NameGlobs,
    /// Every province's names ([`words`] form).
    pub provinces: Vec<String>,
    /// Subject countries of the province's own signers (upper case).
    pub home_countries: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Legal {
    pub basis: String,
    pub summary: String,
    pub summary_en: String,
    pub history: String,
    pub in_force: String,
}

#[derive(Debug, Clone)]
pub struct Rules {
    pub catalogue: Catalogue,
    pub agencies: AgencyMap,
    pub legal: Legal,
    /// Folders of CA certificates for chain building (`anchors/`).
    pub anchor_dirs: Vec<PathBuf>,
    /// Which files the rules came from, e.g. `ca.toml (built-in)`.
    pub origin: Vec<String>,
    /// SHA-256 over every rules text used: changes when the rules change.
    pub digest: String,
}

impl Rules {
    /// The rules compiled into the binary.
    pub fn builtin() -> Rules {
        Rules::load(None).expect("built-in rules are checked by `cargo test`")
    }

    /// Built-in rules, with each file present in `dir` taking the place of
    /// its built-in twin and `dir/ca.d/*.toml` adding CAs.
    pub fn load(dir: Option<&Path>) -> Result<Rules, Vec<Diagnostic>> {
        let mut texts: Vec<(String, String)> = Vec::new();
        let mut diags = Vec::new();
        let mut anchor_dirs = Vec::new();
        let pick = |file: &str,
                    builtin: &str,
                    texts: &mut Vec<(String, String)>,
                    diags: &mut Vec<Diagnostic>| match dir.map(|d| d.join(file))
        {
            Some(p) if p.exists() => match std::fs::read_to_string(&p) {
                Ok(t) => texts.push((p.display().to_string(), t)),
                Err(e) => diags.push(Diagnostic {
                    file: p.display().to_string(),
                    line: 0,
                    column: 0,
                    message: format!("cannot read: {e}"),
                }),
            },
            _ => texts.push((format!("{file} (built-in)"), builtin.to_owned())),
        };
        pick(CA_FILE, BUILTIN_CA, &mut texts, &mut diags);
        pick(AGENCIES_FILE, BUILTIN_AGENCIES, &mut texts, &mut diags);
        pick(LEGAL_FILE, BUILTIN_LEGAL, &mut texts, &mut diags);
        if let Some(dir) = dir {
            collect_folder(dir, &mut texts, &mut diags, &mut anchor_dirs);
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        let digest = {
            let mut h = Sha256::new();
            for (name, text) in &texts {
                h.update(name.rsplit('/').next().unwrap_or(name).as_bytes());
                h.update([0]);
                h.update(text.as_bytes());
                h.update([0]);
            }
            crate::asn1::ber::hex(&h.finalize())
        };
        let mut catalogue = Catalogue::default();
        let mut agencies = None;
        let mut legal = None;
        let mut seen_ids = HashMap::new();
        let mut seen_pins = HashMap::new();
        for (i, (name, text)) in texts.iter().enumerate() {
            let src = Source { name: name.clone(), text };
            match i {
                1 => agencies = compile_agencies(&src, &mut diags),
                2 => legal = compile_legal(&src, &mut diags),
                _ => compile_cas(&src, &mut catalogue, &mut seen_ids, &mut seen_pins, &mut diags),
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        catalogue.index();
        Ok(Rules {
            catalogue,
            agencies: agencies.expect("no diagnostics, so compiled"),
            legal: legal.expect("no diagnostics, so compiled"),
            anchor_dirs,
            origin: texts.into_iter().map(|(n, _)| n).collect(),
            digest,
        })
    }
}

/// Extra CA files and the anchors folder; unknown files are mistakes.
fn collect_folder(
    dir: &Path,
    texts: &mut Vec<(String, String)>,
    diags: &mut Vec<Diagnostic>,
    anchors: &mut Vec<PathBuf>,
) {
    let diag = |p: &Path, m: String| Diagnostic {
        file: p.display().to_string(),
        line: 0,
        column: 0,
        message: m,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return diags.push(diag(dir, format!("cannot read rules folder: {e}"))),
    };
    let mut names: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    names.sort();
    for path in names {
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        match file.as_str() {
            CA_FILE | AGENCIES_FILE | LEGAL_FILE => {}
            ANCHORS_DIR if path.is_dir() => anchors.push(path),
            CA_EXTRA_DIR if path.is_dir() => {
                let mut extra: Vec<_> = std::fs::read_dir(&path)
                    .into_iter()
                    .flatten()
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .collect();
                extra.sort();
                for p in extra {
                    if p.extension().is_some_and(|e| e == "toml") {
                        match std::fs::read_to_string(&p) {
                            Ok(t) => texts.push((p.display().to_string(), t)),
                            Err(e) => diags.push(diag(&p, format!("cannot read: {e}"))),
                        }
                    } else {
                        diags.push(diag(
                            &p,
                            "not a .toml file: ca.d/ holds extra CA catalogue files only".into(),
                        ));
                    }
                }
            }
            f if f.starts_with('.') || f.ends_with(".md") || f.ends_with(".txt") => {}
            _ => diags.push(diag(
                &path,
                format!(
                    "unknown rules file `{file}`: a rules folder holds {CA_FILE}, \
                     {AGENCIES_FILE}, {LEGAL_FILE}, {CA_EXTRA_DIR}/*.toml and {ANCHORS_DIR}/"
                ),
            )),
        }
    }
}

fn check_schema(src: &Source<'_>, schema: &Option<Spanned<u32>>, diags: &mut Vec<Diagnostic>) {
    if let Some(s) = schema
        && *s.get_ref() != 1
    {
        diags.push(src.at(
            s.span(),
            format!("schema {} is not supported by this sigaudit (expected 1)", s.get_ref()),
        ));
    }
}

fn hex_field(
    src: &Source<'_>,
    f: &Spanned<String>,
    what: &str,
    want_len: Option<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<u8>> {
    let text: String = f.get_ref().chars().filter(|c| *c != ':' && !c.is_whitespace()).collect();
    // `aéa` is a diagnostic, not a panic.
    match crate::asn1::ber::unhex(&text) {
        Some(b) if want_len.is_none_or(|n| b.len() == n) && !b.is_empty() => Some(b),
        _ => {
            let len = want_len
                .map(|n| format!("{} hex digits", n * 2))
                .unwrap_or_else(|| "hex digits".into());
            diags.push(src.at(f.span(), format!("{what} must be {len}, got `{}`", f.get_ref())));
            None
        }
    }
}

fn time_field(
    src: &Source<'_>,
    f: &Option<Spanned<String>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<OffsetDateTime> {
    let f = f.as_ref()?;
    match OffsetDateTime::parse(f.get_ref(), &Rfc3339) {
        Ok(t) => Some(t),
        Err(_) => {
            diags.push(src.at(
                f.span(),
                format!("`{}` is not an RFC 3339 time such as 2018-08-22T08:06:36Z", f.get_ref()),
            ));
            None
        }
    }
}

fn dn_field(src: &Source<'_>, f: &Spanned<String>, diags: &mut Vec<Diagnostic>) -> Option<Name> {
    parse_dn(f.get_ref()).map_err(|e| diags.push(src.at(f.span(), format!("bad DN: {e}")))).ok()
}

#[expect(clippy::too_many_lines, reason = "121 lines, from before the limit")]
fn compile_cas(
    src: &Source<'_>,
    catalogue: &mut Catalogue,
    seen_ids: &mut HashMap<String, String>,
    seen_pins: &mut HashMap<[u8; 32], String>,
    diags: &mut Vec<Diagnostic>,
) {
    let file: cfg::CaFile = match src.parse() {
        Ok(f) => f,
        Err(d) => return diags.push(d),
    };
    check_schema(src, &file.schema, diags);
    for ca in file.ca {
        let id = ca.id.get_ref().trim().to_owned();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            diags.push(src.at(
                ca.id.span(),
                format!("CA id `{id}` must be non-empty ASCII letters, digits, '-', '_' or '.'"),
            ));
        }
        if let Some(prev) = seen_ids.insert(id.clone(), src.name.clone()) {
            diags.push(src.at(ca.id.span(), format!("CA id `{id}` is already defined in {prev}")));
        }
        let class = match ca.class.get_ref().as_str() {
            "government" => CaClass::Government,
            "commercial" => CaClass::Commercial,
            "foreign" => CaClass::Foreign,
            other => {
                diags.push(src.at(
                    ca.class.span(),
                    format!("class `{other}` must be government, commercial or foreign"),
                ));
                CaClass::Untrusted
            }
        };
        if ca.name.get_ref().trim().is_empty() {
            diags.push(src.at(ca.name.span(), "CA name must not be empty"));
        }
        let mut issuer_patterns = Vec::new();
        for p in &ca.issuer_patterns {
            match DnPattern::parse(p.get_ref()) {
                Ok(pat) => issuer_patterns.push(pat),
                Err(e) => diags.push(src.at(p.span(), e)),
            }
        }
        for d in &ca.other_downloads {
            if !(d.get_ref().starts_with("http://") || d.get_ref().starts_with("https://")) {
                diags.push(src.at(d.span(), "other_downloads must be http:// or https:// URLs"));
            }
        }
        let other_downloads = ca.other_downloads.iter().map(|d| d.get_ref().clone()).collect();
        let mut pins = Vec::new();
        for pin in &ca.cert {
            let sha256 = hex_field(src, &pin.sha256, "sha256", Some(32), diags)
                .map(|b| <[u8; 32]>::try_from(b.as_slice()).expect("length checked"));
            if let Some(h) = sha256
                && let Some(prev) = seen_pins.insert(h, id.clone())
            {
                diags.push(src.at(
                    pin.sha256.span(),
                    format!("this SHA-256 is already pinned by CA `{prev}`"),
                ));
            }
            let subject = dn_field(src, &pin.subject, diags);
            let issuer = pin.issuer.as_ref().and_then(|i| dn_field(src, i, diags));
            let ski = pin.ski.as_ref().and_then(|s| hex_field(src, s, "ski", None, diags));
            let aki = pin.aki.as_ref().and_then(|s| hex_field(src, s, "aki", None, diags));
            let not_before = time_field(src, &pin.not_before, diags);
            let not_after = time_field(src, &pin.not_after, diags);
            let self_issued = match (&subject, &issuer) {
                (Some(s), Some(i)) => s.folded_key() == i.folded_key(),
                _ => false,
            };
            let role = match pin.role.as_ref().map(|r| r.get_ref().as_str()) {
                None if self_issued => PinRole::Root,
                None => PinRole::Issuing,
                Some("root") => PinRole::Root,
                Some("issuing") => PinRole::Issuing,
                Some("tsa") => PinRole::Tsa,
                Some(other) => {
                    diags.push(src.at(
                        pin.role.as_ref().expect("matched Some").span(),
                        format!("role `{other}` must be root, issuing or tsa"),
                    ));
                    PinRole::Issuing
                }
            };
            if let Some(d) = &pin.download
                && !(d.get_ref().starts_with("http://") || d.get_ref().starts_with("https://"))
            {
                diags.push(src.at(d.span(), "download must be an http:// or https:// URL"));
            }
            if let (Some(sha256), Some(subject)) = (sha256, subject) {
                pins.push(Pin {
                    subject,
                    issuer,
                    sha256,
                    ski,
                    aki,
                    not_before,
                    not_after,
                    role,
                    download: pin.download.as_ref().map(|d| d.get_ref().clone()),
                    source: pin.source.clone(),
                });
            }
        }
        if pins.is_empty() && issuer_patterns.is_empty() {
            diags.push(src.at(
                ca.id.span(),
                format!(
                    "CA `{id}` has neither a [[ca.cert]] pin nor issuer_patterns: nothing could \
                     ever match it"
                ),
            ));
        }
        catalogue.cas.push(CaEntry {
            id,
            name: ca.name.into_inner(),
            class,
            operator: ca.operator,
            website: ca.website,
            note: ca.note,
            pins,
            issuer_patterns,
            other_downloads,
        });
    }
}

#[expect(clippy::too_many_lines, reason = "119 lines, from before the limit")]
fn compile_agencies(src: &Source<'_>, diags: &mut Vec<Diagnostic>) -> Option<AgencyMap> {
    let file: cfg::AgencyFile = match src.parse() {
        Ok(f) => f,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    check_schema(src, &file.schema, diags);
    let mut seen = HashSet::new();
    let mut agencies = Vec::new();
    let mut successors = Vec::new();
    for a in file.agency {
        let id = a.id.get_ref().trim().to_owned();
        if id.is_empty()
            || id == UNASSIGNED_ID
            || is_external_id(&id)
            || id.contains(['/', '\\'])
            || id.starts_with('.')
        {
            diags.push(src.at(
                a.id.span(),
                format!(
                    "agency id `{id}` must be non-empty, not `{UNASSIGNED_ID}`, `{EXTERNAL_ID}` \
                     or `{EXTERNAL_GOV_ID}`, without '/' and not start with '.'"
                ),
            ));
        }
        if !seen.insert(id.clone()) {
            diags.push(src.at(a.id.span(), format!("agency id `{id}` is defined twice")));
        }
        if a.name.get_ref().trim().is_empty() {
            diags.push(src.at(a.name.span(), "agency name must not be empty"));
        }
        let paths = a
            .paths
            .iter()
            .filter_map(|p| {
                PathPattern::parse(p.get_ref()).map_err(|e| diags.push(src.at(p.span(), e))).ok()
            })
            .collect();
        let cert_subject = a
            .cert_subject
            .iter()
            .filter_map(|p| {
                DnPattern::parse(p.get_ref()).map_err(|e| diags.push(src.at(p.span(), e))).ok()
            })
            .collect();
        let mut mail_domains = Vec::new();
        for d in &a.mail_domains {
            let dom = d.get_ref().trim().to_ascii_lowercase();
            let (local, domain) = dom.rsplit_once('@').unwrap_or(("", &dom));
            if domain.is_empty()
                || domain.contains(['@', '/', ' '])
                || !domain.contains('.')
                || (dom.contains('@') && local.is_empty())
            {
                diags.push(src.at(
                    d.span(),
                    format!(
                        "`{}` is not a mail domain (syt.thanhhoa.gov.vn) or address \
                         (vanthu@syt.thanhhoa.gov.vn)",
                        d.get_ref()
                    ),
                ));
            } else {
                mail_domains.push(dom);
            }
        }
        let ended = a.ended.as_ref().and_then(|e| {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(e.get_ref().trim(), &format)
                .map_err(|_| {
                    diags.push(src.at(
                        e.span(),
                        format!("ended `{}` is not a date such as 2025-06-30", e.get_ref()),
                    ))
                })
                .ok()
        });
        if let (Some(s), None) = (&a.successor, &a.ended) {
            diags.push(
                src.at(s.span(), "successor without `ended`: only an agency that ended has one"),
            );
        }
        let successor = a.successor.as_ref().map(|s| s.get_ref().trim().to_owned());
        agencies.push(Agency {
            id,
            name: a.name.into_inner(),
            paths,
            cert_subject,
            mail_domains,
            ended,
            successor,
        });
        successors.extend(a.successor);
    }
    for s in &successors {
        if !seen.contains(s.get_ref().trim()) {
            diags.push(src.at(
                s.span(),
                format!("successor `{}` is not an agency id of this map", s.get_ref()),
            ));
        }
    }
    let province = file.province.iter().map(|p| words(p.get_ref())).collect();
    for p in &file.province {
        if words(p.get_ref()).trim().is_empty() {
            diags.push(src.at(p.span(), "a province name must not be empty"));
        }
    }
    let path_index = patterns::path_index(agencies.iter().map(|a: &Agency| a.paths.as_slice()));
    let paths_by_folder = agencies.iter().flat_map(|a| &a.paths).all(PathPattern::whole_folders);
    let unassigned_name =
        file.unassigned_name.unwrap_or_else(|| "Chưa xác định cơ quan (unassigned)".into());
    let external = match file.external {
        Some(e) => compile_external(src, e, diags),
        None => builtin_external(),
    };
    Some(AgencyMap { agencies, unassigned_name, path_index, paths_by_folder, external, province })
}

/// The built-in `[external]` table of rules/agencies.toml: what a
/// province's map without one keeps.
fn builtin_external() -> External {
    let src = Source { name: "agencies.toml (built-in)".into(), text: BUILTIN_AGENCIES };
    let file: cfg::AgencyFile = src.parse().expect("the built-in agency map parses");
    let mut diags = Vec::new();
    let external = compile_external(
        &src,
        file.external.expect("the built-in agency map has [external]"),
        &mut diags,
    );
    assert!(diags.is_empty(), "the built-in [external] table compiles: {diags:?}");
    external
}

fn compile_external(
    src: &Source<'_>,
    e: cfg::ExternalCfg,
    diags: &mut Vec<Diagnostic>,
) -> External {
    let cert_subject = e
        .cert_subject
        .iter()
        .filter_map(|p| {
            DnPattern::parse(p.get_ref()).map_err(|err| diags.push(src.at(p.span(), err))).ok()
        })
        .collect();
    let mut home_countries = Vec::new();
    for c in &e.home_countries {
        let code = c.get_ref().trim().to_ascii_uppercase();
        if code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()) {
            home_countries.push(code);
        } else {
            diags.push(
                src.at(
                    c.span(),
                    format!("`{}` is not a two-letter country code (VN)", c.get_ref()),
                ),
            );
        }
    }
    let name =
        e.name.unwrap_or_else(|| "Bên ngoài: doanh nghiệp, tổ chức, công dân (external)".into());
    // A list the table leaves out is the built-in one (the built-in table
    // has every list, so this never recurses).
    let globs = |list: &Option<Vec<Spanned<String>>>,
                 diags: &mut Vec<Diagnostic>,
                 builtin: fn(External) -> NameGlobs| match list {
        Some(l) => NameGlobs::new(
            l.iter()
                .filter_map(|p| {
                    NameGlob::parse(p.get_ref())
                        .map_err(|err| diags.push(src.at(p.span(), err)))
                        .ok()
                })
                .collect(),
        ),
        None => builtin(builtin_external()),
    };
    let organisations = globs(&e.organisations, diags, |b| b.organisations);
    let government = globs(&e.government, diags, |b| b.government);
    let local_government = globs(&e.local_government, diags, |b| b.local_government);
    let provinces = match &e.provinces {
        Some(l) => l
            .iter()
            .filter_map(|p| {
                let w = words(p.get_ref());
                if w.trim().is_empty() {
                    diags.push(src.at(p.span(), "a province name must not be empty"));
                    None
                } else {
                    Some(w)
                }
            })
            .collect(),
        None => builtin_external().provinces,
    };
    let government_name =
        e.government_name.unwrap_or_else(|| "Cơ quan nhà nước ngoài tỉnh (external-gov)".into());
    External {
        name,
        cert_subject,
        organisations,
        government_name,
        government,
        local_government,
        provinces,
        home_countries,
    }
}

fn compile_legal(src: &Source<'_>, diags: &mut Vec<Diagnostic>) -> Option<Legal> {
    match src.parse::<cfg::LegalFile>() {
        Ok(l) if l.basis.trim().is_empty() => {
            diags.push(
                src.at(0..0, "basis must name the legal basis (e.g. Nghị định 68/2024/NĐ-CP)"),
            );
            None
        }
        Ok(l) => Some(Legal {
            basis: l.basis,
            summary: l.summary,
            summary_en: l.summary_en,
            history: l.history,
            in_force: l.in_force,
        }),
        Err(d) => {
            diags.push(d);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_compile_and_cover_both_pkis() {
        let r = Rules::builtin();
        let g2 = r.catalogue.get("vgca-g2-nha-nuoc").unwrap();
        assert_eq!(g2.class, CaClass::Government);
        assert_eq!(
            g2.pins[0].ski.as_deref().map(crate::asn1::ber::hex).as_deref(),
            Some("50becfa0bdea0f9f4e9128a32aeb7ceef02fc8ba")
        );
        for id in [
            "vgca-g1-root",
            "vgca-g1-chinh-phu",
            "vgca-g1-bo-tai-chinh",
            "vgca-g1-bo-cong-an",
            "vgca-g1-dang-cong-san",
            "vgca-g1-bo-ngoai-giao",
            "vgca-g2-root",
            "vgca-g2-dang",
        ] {
            assert_eq!(r.catalogue.get(id).map(|c| c.class), Some(CaClass::Government), "{id}");
        }
        for id in [
            "vnpt-ca",
            "viettel-ca",
            "bkav-ca",
            "fpt-ca",
            "ca2",
            "safe-ca",
            "newtel-ca",
            "smartsign",
            "efy-ca",
            "misa-ca",
            "trustca",
            "cmc-ca",
            "easyca",
            "fastca",
            "i-ca",
            "neac-root",
        ] {
            assert_eq!(r.catalogue.get(id).map(|c| c.class), Some(CaClass::Commercial), "{id}");
        }
        assert_eq!(r.catalogue.pins().count(), 77);
        assert_eq!(
            r.catalogue.get("lcs-ca").map(|c| c.class),
            Some(CaClass::Commercial),
            "LCS-CA, known by name"
        );
        assert!(r.agencies.agencies.iter().any(|a| a.id == "000.00.00.H56"));
        assert!(r.legal.basis.contains("68/2024"));
    }

    #[test]
    fn issuer_names_match_across_ascii_and_diacritic_spellings() {
        let r = Rules::builtin();
        // The G1 pins are ASCII; a certificate may spell the issuer with diacritics.
        let spelled =
            parse_dn("C=VN, O=Ban Cơ yếu Chính phủ, CN=Cơ quan chứng thực số Chính phủ").unwrap();
        assert_eq!(
            r.catalogue.by_subject(&spelled).first().map(|p| p.ca.id.as_str()),
            Some("vgca-g1-chinh-phu")
        );
        // ...and the other way round for the G2 pins.
        let ascii =
            parse_dn("CN=CA phuc vu cac co quan Dang G2, O=Ban Co yeu Chinh phu, C=VN").unwrap();
        assert_eq!(
            r.catalogue.by_subject(&ascii).first().map(|p| p.ca.id.as_str()),
            Some("vgca-g2-dang")
        );
        let other =
            parse_dn("C=VN, O=Ban Cơ yếu Chính phủ, CN=CA phục vụ cho dịch vụ phần mềm").unwrap();
        assert!(r.catalogue.by_subject(&other).is_empty());
        assert_eq!(
            r.catalogue.by_pattern(&other).map(|(ca, _)| ca.id.as_str()),
            Some("vgca-other"),
            "known only by name"
        );
    }

    #[test]
    fn diagnostics_name_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("agencies.toml"),
            "schema = 1\n[[agency]]\nid = \"x\"\nname = \"X\"\npaths = \
             [\"**/[\"]\n\n[[agency]]\nid = \"x\"\nname = \"Y\"\nmail_domains = [\"a@b\"]\n",
        )
        .unwrap();
        let errs = Rules::load(Some(dir.path())).unwrap_err();
        let text: Vec<String> = errs.iter().map(|d| d.to_string()).collect();
        assert!(
            text.iter().any(|t| t.ends_with(
                "agencies.toml:5:10: bad glob `**/[`: error parsing glob '**/[': unclosed \
                 character class; missing ']'"
            )),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("agencies.toml:8:6: agency id `x` is defined twice")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("agencies.toml:10:17: `a@b` is not a mail domain")),
            "{text:?}"
        );
    }

    #[test]
    fn typos_are_errors_not_silent_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("agency.toml"), "").unwrap();
        std::fs::create_dir(dir.path().join("ca.d")).unwrap();
        std::fs::write(
            dir.path().join("ca.d/x.toml"),
            "[[ca]]\nid = \"t\"\nname = \"T\"\nclass = \"goverment\"\nissuer_pattern = []\n",
        )
        .unwrap();
        let errs = Rules::load(Some(dir.path())).unwrap_err();
        assert!(
            errs.iter().any(|d| d.message.contains("unknown rules file `agency.toml`")),
            "{errs:?}"
        );
        let dir2 = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir2.path().join("ca.d")).unwrap();
        std::fs::write(
            dir2.path().join("ca.d/x.toml"),
            "[[ca]]\nid = \"t\"\nname = \"T\"\nclass = \"goverment\"\nissuer_patterns = \
             [\"CN=T*\"]\n",
        )
        .unwrap();
        let errs = Rules::load(Some(dir2.path())).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].to_string().ends_with(
                "x.toml:4:9: class `goverment` must be government, commercial or foreign"
            ),
            "{}",
            errs[0]
        );
    }
}
