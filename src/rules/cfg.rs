//! The rules files as written: TOML structures with source spans, so every
//! mistake can be reported as `file:line:column: message`.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

/// One rules file being read: its name and text, to turn spans into lines.
pub(crate) struct Source<'a> {
    pub name: String,
    pub text: &'a str,
}

impl Source<'_> {
    pub(crate) fn at(
        &self,
        span: std::ops::Range<usize>,
        message: impl std::fmt::Display,
    ) -> Diagnostic {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rfind('\n').map_or(start, |p| start - p - 1) + 1;
        Diagnostic { file: self.name.clone(), line, column, message: message.to_string() }
    }

    pub(crate) fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        toml::from_str(self.text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            self.at(span, e.message().trim().to_owned())
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaFile {
    pub schema: Option<Spanned<u32>>,
    #[serde(default)]
    pub ca: Vec<CaCfg>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaCfg {
    pub id: Spanned<String>,
    pub name: Spanned<String>,
    pub class: Spanned<String>,
    #[serde(default)]
    pub operator: String,
    #[serde(default)]
    pub website: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub issuer_patterns: Vec<Spanned<String>>,
    /// URLs of this CA's certificates for keys no pin holds (seen in real
    /// certificates' AIA): `rules fetch-anchors` keeps what it gets there
    /// only if it verifies up to a pinned certificate.
    #[serde(default)]
    pub other_downloads: Vec<Spanned<String>>,
    #[serde(default)]
    pub cert: Vec<PinCfg>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PinCfg {
    pub subject: Spanned<String>,
    pub issuer: Option<Spanned<String>>,
    pub sha256: Spanned<String>,
    pub ski: Option<Spanned<String>>,
    pub aki: Option<Spanned<String>>,
    pub not_before: Option<Spanned<String>>,
    pub not_after: Option<Spanned<String>>,
    pub role: Option<Spanned<String>>,
    pub download: Option<Spanned<String>>,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgencyFile {
    pub schema: Option<Spanned<u32>>,
    pub unassigned_name: Option<String>,
    /// The province's names as certificates spell them (O, OU, L, ST, CN),
    /// with the names of provinces merged into it.
    #[serde(default)]
    pub province: Vec<Spanned<String>>,
    #[serde(default)]
    pub agency: Vec<AgencyCfg>,
    /// Signers who are not the province's agencies (absent: the built-in table).
    pub external: Option<ExternalCfg>,
}

/// `[external]`: certificates of companies, citizens' organisations and
/// bodies outside the map.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExternalCfg {
    pub name: Option<String>,
    #[serde(default)]
    pub cert_subject: Vec<Spanned<String>>,
    /// Name globs over CN, O and OU: companies, household businesses,
    /// schools and other organisations (absent: the built-in list).
    pub organisations: Option<Vec<Spanned<String>>>,
    /// The pseudo-agency of government bodies outside the province.
    pub government_name: Option<String>,
    /// Name globs over CN, O and OU: ministries, the Government, the
    /// National Assembly and other central bodies with their local
    /// branches (absent: the built-in list).
    pub government: Option<Vec<Spanned<String>>>,
    /// Name globs over CN, O and OU: forms of a province's own bodies
    /// (People's Committees, departments); which province they belong to
    /// is read from the names (absent: the built-in list).
    pub local_government: Option<Vec<Spanned<String>>>,
    /// Names of every province, as certificates spell them (absent: the
    /// built-in list).
    pub provinces: Option<Vec<Spanned<String>>>,
    /// Countries (subject C) of the province's own signers: a certificate
    /// of any other country is external.
    #[serde(default)]
    pub home_countries: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgencyCfg {
    pub id: Spanned<String>,
    pub name: Spanned<String>,
    #[serde(default)]
    pub paths: Vec<Spanned<String>>,
    #[serde(default)]
    pub cert_subject: Vec<Spanned<String>>,
    #[serde(default)]
    pub mail_domains: Vec<Spanned<String>>,
    /// The last day the agency existed (YYYY-MM-DD): kept in the map for
    /// the documents it signed before.
    pub ended: Option<Spanned<String>>,
    /// The agency that took over its work.
    pub successor: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LegalFile {
    pub basis: String,
    pub summary: String,
    #[serde(default)]
    pub summary_en: String,
    #[serde(default)]
    pub history: String,
    #[serde(default)]
    pub in_force: String,
}
