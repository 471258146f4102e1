//! Whose signature it is (SPEC.md, "Attribution"): the signer
//! certificate's agency (subject patterns, e-mail domains), else `external`
//! for companies, citizens' organisations and foreign bodies, else the place
//! where it was found (path rules, the mailbox, the sender), else
//! `unassigned`. The place is kept beside it either way.

use crate::cert::Cert;
use crate::model::verdict::Attribution;
use crate::rules::{AgencyMap, EXTERNAL_ID, UNASSIGNED_ID, fold_path};

pub use crate::model::finding::{AgencyRef, Attributed};

/// The last folder's agency, for [`AgencyMap::by_path_memo`].
#[derive(Debug, Default)]
pub struct FolderMemo {
    last: Option<(String, String, Option<AgencyRef>)>,
}

impl AgencyMap {
    pub fn unassigned(&self) -> AgencyRef {
        AgencyRef { id: UNASSIGNED_ID.into(), name: self.unassigned_name.clone() }
    }

    pub fn external_agency(&self) -> AgencyRef {
        AgencyRef { id: EXTERNAL_ID.into(), name: self.external.name.clone() }
    }

    /// A signer outside the map: the `[external]` subject patterns, or a
    /// subject country that is not a home country.
    pub fn is_external(&self, cert: &Cert) -> bool {
        let foreign = cert.subject.values("C").iter().any(|c| {
            let c = c.trim().to_ascii_uppercase();
            !self.external.home_countries.is_empty() && !self.external.home_countries.contains(&c)
        });
        foreign || self.external.cert_subject.iter().any(|p| p.matches(&cert.subject))
    }

    /// Whose signature it is. `by_signer`: the agency the certificate
    /// names (memoised by the caller), `place`: where it was found.
    pub fn attribute(&self, signer: Option<(&Cert, Option<AgencyRef>)>, place: Option<&AgencyRef>) -> Attributed {
        let found_in = place.map_or_else(|| UNASSIGNED_ID.to_owned(), |p| p.id.clone());
        let (agency, by) = match signer {
            Some((_, Some(agency))) => (agency, Attribution::Certificate),
            Some((cert, None)) if self.is_external(cert) => (self.external_agency(), Attribution::External),
            _ => match place {
                Some(p) => (p.clone(), Attribution::Location),
                None => (self.unassigned(), Attribution::Unassigned),
            },
        };
        Attributed { agency, by, found_in }
    }

    /// By path: `relative` is the path under the SOURCE root, `full` the
    /// path as given.
    pub fn by_path(&self, relative: &str, full: &str) -> Option<AgencyRef> {
        let (set, owner_of) = &self.path_index;
        if set.is_empty() {
            return None;
        }
        let (rel, full) = (fold_path(relative), fold_path(full));
        // The first agency in map order with a glob matching either form.
        let first = set.matches(&rel).into_iter().chain(set.matches(&full)).map(|g| owner_of[g]).min()?;
        let a = &self.agencies[first];
        Some(AgencyRef { id: a.id.clone(), name: a.name.clone() })
    }

    /// [`by_path`](Self::by_path) for files that come folder by folder
    /// (as the walk sends them): when the rules tell only folders apart,
    /// each folder is matched once.
    pub fn by_path_memo(&self, relative: &str, full: &str, memo: &mut FolderMemo) -> Option<AgencyRef> {
        let folder = |p: &str| p.rsplit_once('/').map_or("", |(d, _)| d).len();
        // A `\\` in a name would become a `/` once folded.
        let name_of = |p: &str| p.rsplit_once('/').map_or(p, |(_, n)| n).contains('\\');
        if !self.paths_by_folder || name_of(relative) || name_of(full) {
            return self.by_path(relative, full);
        }
        let key = (&relative[..folder(relative)], &full[..folder(full)]);
        if let Some((rel, ful, agency)) = &memo.last
            && (rel.as_str(), ful.as_str()) == key
        {
            return agency.clone();
        }
        let agency = self.by_path(relative, full);
        memo.last = Some((key.0.to_owned(), key.1.to_owned(), agency.clone()));
        agency
    }

    /// By the signer certificate: the most specific subject pattern wins
    /// (then file order); else the longest matching mail domain.
    pub fn by_cert(&self, cert: &Cert) -> Option<AgencyRef> {
        let by_subject = self
            .agencies
            .iter()
            .enumerate()
            .flat_map(|(i, a)| a.cert_subject.iter().filter(|p| p.matches(&cert.subject)).map(move |p| (p.specificity(), std::cmp::Reverse(i), a)))
            .max_by_key(|(spec, order, _)| (*spec, *order))
            .map(|(_, _, a)| a);
        if let Some(a) = by_subject {
            return Some(AgencyRef { id: a.id.clone(), name: a.name.clone() });
        }
        cert.emails.iter().find_map(|e| self.by_mail(e))
    }

    /// By a mail address (a message's sender, a certificate's e-mail): an
    /// exact address in `mail_domains` first, else the longest matching
    /// domain (subdomains included).
    pub fn by_mail(&self, address: &str) -> Option<AgencyRef> {
        let address = address.trim().to_ascii_lowercase();
        let domain = address.rsplit_once('@').map(|(_, d)| d)?;
        let entries = || self.agencies.iter().flat_map(|a| a.mail_domains.iter().map(move |d| (d, a)));
        let exact = entries().find(|(d, _)| d.contains('@') && **d == address);
        let by_domain = || entries().filter(|(d, _)| !d.contains('@') && (domain == d.as_str() || domain.ends_with(&format!(".{d}")))).max_by_key(|(d, _)| d.len());
        exact.or_else(by_domain).map(|(_, a)| AgencyRef { id: a.id.clone(), name: a.name.clone() })
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::Rules;

    #[test]
    fn paths_and_domains_in_the_builtin_map() {
        let map = Rules::builtin().agencies;
        assert_eq!(map.by_path("Sở Y tế/2024/QĐ 12.pdf", "share/Sở Y tế/2024/QĐ 12.pdf").unwrap().id, "000.00.09.H56");
        assert_eq!(map.by_path("misc/x.pdf", "share/misc/x.pdf"), None);
        assert_eq!(map.by_mail("VanThu@syt.thanhhoa.gov.vn").unwrap().id, "000.00.09.H56");
        assert_eq!(map.by_mail("a@abc.thanhhoa.gov.vn").unwrap().id, "000.00.00.H56");
        assert!(map.by_mail("a@thanhhoa.gov.vn.evil.com").is_none());
        assert!(map.by_mail("not an address").is_none());
    }

    fn map_with_paths(paths: &[(&str, &str)]) -> crate::rules::AgencyMap {
        let dir = tempfile::tempdir().unwrap();
        let toml: String = paths.iter().map(|(id, glob)| format!("[[agency]]\nid = \"{id}\"\nname = \"{id}\"\npaths = [\"{glob}\"]\n")).collect();
        std::fs::write(dir.path().join("agencies.toml"), format!("schema = 1\n{toml}")).unwrap();
        Rules::load(Some(dir.path())).unwrap().agencies
    }

    #[test]
    fn the_folder_memo_answers_as_matching_each_file_does() {
        use super::FolderMemo;
        let files = ["a/Sở Y tế/1.pdf", "a/Sở Y tế/2.eml", "a/Sở Y tế/sub/3.pdf", "a/khác/4.pdf", "a/Sở Y tế/5.pdf", "a/khác/x\\Sở Y tế\\6.pdf"];
        let folders = map_with_paths(&[("syt", "**/so y te/**")]);
        let by_name = map_with_paths(&[("syt", "**/so y te/**"), ("mail", "**/*.eml")]);
        assert!(folders.paths_by_folder && !by_name.paths_by_folder);
        for map in [&folders, &by_name] {
            let mut memo = FolderMemo::default();
            for f in files {
                let full = format!("share/{f}");
                assert_eq!(map.by_path_memo(f, &full, &mut memo), map.by_path(f, &full), "{f}");
            }
        }
        let mut memo = FolderMemo::default();
        assert_eq!(by_name.by_path_memo("a/Sở Y tế/2.eml", "share/a/Sở Y tế/2.eml", &mut memo).unwrap().id, "syt");
        assert_eq!(by_name.by_path_memo("b/2.eml", "share/b/2.eml", &mut memo).unwrap().id, "mail");
        assert_eq!(by_name.by_path_memo("b/2.pdf", "share/b/2.pdf", &mut memo), None);
    }
}
