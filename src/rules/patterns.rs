//! Patterns users write in the rules: DN terms (`O=*Thanh Hoa* & OU=So Y te`)
//! and path globs, both compared after folding case and diacritics.

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

use crate::cert::{Name, fold};

/// Folding for paths: like [`fold`], and `-`, `_` count as spaces, `\` as `/`.
pub(crate) fn fold_path(path: &str) -> String {
    fold(&path.replace(['-', '_'], " ").replace('\\', "/"))
}

/// `LABEL=glob` terms joined by ` & `; all terms must match some attribute
/// value with that label.
/// Why a DN or path pattern of the rules cannot be used (shown at its
/// file:line:col).
#[derive(Debug, Clone, thiserror::Error)]
pub enum PatternError {
    #[error("`{0}` is not LABEL=glob")]
    NotLabelGlob(String),
    #[error("{0}")]
    Label(#[from] crate::cert::CertError),
    #[error("bad glob `{glob}`: {why}")]
    Glob { glob: String, why: String },
}

#[derive(Debug, Clone)]
pub struct DnPattern {
    pub text: String,
    terms: Vec<(String, GlobMatcher)>,
}

impl DnPattern {
    pub fn parse(text: &str) -> Result<DnPattern, PatternError> {
        let mut terms = Vec::new();
        for term in text.split(" & ") {
            let (label, glob) = term
                .trim()
                .split_once('=')
                .ok_or_else(|| PatternError::NotLabelGlob(term.to_owned()))?;
            let label =
                crate::cert::names::parse_dn(&format!("{}=x", label.trim()))?.attrs.remove(0).label;
            let matcher = GlobBuilder::new(&fold(glob.trim()))
                .literal_separator(false)
                .build()
                .map_err(|e| PatternError::Glob { glob: glob.to_owned(), why: e.to_string() })?
                .compile_matcher();
            terms.push((label, matcher));
        }
        Ok(DnPattern { text: text.to_owned(), terms })
    }

    /// Number of terms: a pattern with more terms is more specific.
    pub fn specificity(&self) -> usize {
        self.terms.len()
    }

    pub fn matches(&self, name: &Name) -> bool {
        self.terms.iter().all(|(label, m)| name.values(label).iter().any(|v| m.is_match(fold(v))))
    }
}

/// A glob over one name (a CN, O or OU value), compared folded:
/// `Cong ty*` matches "CÔNG TY TNHH ABC".
#[derive(Debug, Clone)]
pub struct NameGlob {
    pub text: String,
    glob: Glob,
}

impl NameGlob {
    pub fn parse(text: &str) -> Result<NameGlob, PatternError> {
        let glob = GlobBuilder::new(&fold(text.trim()))
            .literal_separator(false)
            .build()
            .map_err(|e| PatternError::Glob { glob: text.to_owned(), why: e.to_string() })?;
        Ok(NameGlob { text: text.to_owned(), glob })
    }

    /// `folded` must come from [`fold`].
    pub fn matches_folded(&self, folded: &str) -> bool {
        self.glob.compile_matcher().is_match(folded)
    }
}

/// A list of name globs matched in one pass (every signature whose
/// certificate the map does not know meets the lists).
#[derive(Debug, Clone)]
pub struct NameGlobs {
    pub globs: Vec<NameGlob>,
    set: GlobSet,
}

impl NameGlobs {
    pub fn new(globs: Vec<NameGlob>) -> NameGlobs {
        let mut builder = GlobSetBuilder::new();
        for g in &globs {
            builder.add(g.glob.clone());
        }
        // Each glob compiled alone already, so the set builds.
        NameGlobs { set: builder.build().unwrap_or_else(|_| GlobSet::empty()), globs }
    }

    pub fn len(&self) -> usize {
        self.globs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.globs.is_empty()
    }

    /// `folded` must come from [`fold`].
    pub fn matches_folded(&self, folded: &str) -> bool {
        self.set.is_match(folded)
    }
}

/// Folded, with every run of characters that are not letters or digits
/// as one space and a space at each end, so that place names match as
/// whole words: " ubnd tinh nghe an " holds " nghe an ", while
/// "Việt Nam" does not hold "Hà Nam".
pub(crate) fn words(text: &str) -> String {
    let mut out = String::from(" ");
    for c in fold(text).chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// A path glob over folded paths.
#[derive(Debug, Clone)]
pub struct PathPattern {
    pub text: String,
    glob: Glob,
}

impl PathPattern {
    pub fn parse(text: &str) -> Result<PathPattern, PatternError> {
        let glob = Glob::new(&fold_path(text))
            .map_err(|e| PatternError::Glob { glob: text.to_owned(), why: e.to_string() })?;
        Ok(PathPattern { text: text.to_owned(), glob })
    }

    /// Matches whole folders only (`.../**`, `**`): whether `dir/name`
    /// matches never depends on `name` (the glob must match `dir` or one of
    /// its parents, since `name` holds no `/`).
    pub fn whole_folders(&self) -> bool {
        let g = self.glob.glob();
        g == "**" || g.ends_with("/**")
    }

    /// `folded` must come from [`fold_path`].
    pub fn matches_folded(&self, folded: &str) -> bool {
        self.glob.compile_matcher().is_match(folded)
    }
}

/// The globs of every owner (agency) in one set, with each glob's owner.
pub(crate) fn path_index<'a>(
    owners: impl Iterator<Item = &'a [PathPattern]>,
) -> (GlobSet, Vec<usize>) {
    let mut builder = GlobSetBuilder::new();
    let mut owner_of = Vec::new();
    for (i, patterns) in owners.enumerate() {
        for p in patterns {
            builder.add(p.glob.clone());
            owner_of.push(i);
        }
    }
    (builder.build().unwrap_or_else(|_| GlobSet::empty()), owner_of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::names::parse_dn;

    #[test]
    fn dn_patterns_fold_and_combine() {
        let p = DnPattern::parse("O=*Thanh Hoa* & OU=So Y te*").unwrap();
        let yes = parse_dn("C=VN, O=ỦY BAN NHÂN DÂN TỈNH THANH HÓA, OU=Sở Y tế, CN=Nguyễn Văn A")
            .unwrap();
        let no = parse_dn("C=VN, O=ỦY BAN NHÂN DÂN TỈNH NGHỆ AN, OU=Sở Y tế, CN=B").unwrap();
        assert!(p.matches(&yes));
        assert!(!p.matches(&no));
        assert_eq!(p.specificity(), 2);
        assert!(DnPattern::parse("nothing").is_err());
        assert!(DnPattern::parse("CN=[").is_err());
    }

    #[test]
    fn name_globs_fold_and_place_names_match_whole_words() {
        let company = NameGlob::parse("Cong ty*").unwrap();
        assert!(company.matches_folded(&fold("CÔNG TY TNHH SỐ 1 VIỆT NGỮ")));
        assert!(!company.matches_folded(&fold("Chi nhánh Công ty ABC")));
        assert!(NameGlob::parse("[").is_err());
        let list = NameGlobs::new(
            ["Bo Tai chinh*", "Cuc *"].map(|g| NameGlob::parse(g).unwrap()).to_vec(),
        );
        assert!(
            list.matches_folded(&fold("CỤC THUẾ"))
                && list.matches_folded(&fold("Bộ Tài chính"))
                && !list.matches_folded(&fold("Bộ phận một cửa"))
        );
        assert!(words("UBND tỉnh Nghệ An").contains(&words("Nghệ An")));
        assert!(!words("Ngân hàng Việt Nam").contains(&words("Hà Nam")));
        assert!(words("Ba Rịa-Vũng Tàu").contains(&words("Bà Rịa - Vũng Tàu")));
        assert_eq!(words("TP.HCM"), " tp hcm ");
    }

    #[test]
    fn path_patterns_ignore_diacritics_and_separators() {
        let p = PathPattern::parse("**/so y te/**").unwrap();
        assert!(p.matches_folded(&fold_path("share/Sở Y tế/2024/a.pdf")));
        assert!(p.matches_folded(&fold_path("share/SO-Y-TE/a.pdf")));
        assert!(!p.matches_folded(&fold_path("share/so tai chinh/a.pdf")));
    }
}
