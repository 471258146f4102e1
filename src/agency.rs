//! Whose signature it is (docs/report-format.md, "Attribution"): the signer
//! certificate's agency (subject patterns, e-mail domains); else, when the
//! certificate names an organisation, that organisation: `external` for
//! companies and organisations, `external-gov` for government bodies
//! outside the province, `unassigned` for a body of the province the map
//! lacks; only a personal certificate goes to the place where it was found
//! (path rules, the mailbox, the sender), else `unassigned`. The place is
//! kept beside it either way.

use crate::cert::{Cert, Name, fold};
use crate::model::verdict::Attribution;
use crate::rules::{
    AgencyMap, EXTERNAL_GOV_ID, EXTERNAL_ID, NameGlobs, UNASSIGNED_ID, fold_path, words,
};

pub(crate) use crate::model::finding::{AgencyRef, Attributed};

/// Values of O that name no organisation: some CAs fill O on personal
/// certificates (folded).
const PERSONAL_O: [&str; 4] = ["ca nhan", "personal", "individual", "nguoi dan"];

/// What a certificate the map does not know names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Organisation {
    /// A company, household business, school or other organisation, or a
    /// body of another country: `external`.
    External,
    /// A central government body (and its local branches) or another
    /// province's agency: `external-gov`.
    ExternalGov,
    /// A body of the province that the map lacks: `unassigned`, counted
    /// for the province, never for the agency holding the document.
    ProvinceBody,
    /// A person (an ID-card or passport number, no organisation): the
    /// place, since it may be the agency's own clerk.
    Personal,
}

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

    pub fn external_gov_agency(&self) -> AgencyRef {
        AgencyRef { id: EXTERNAL_GOV_ID.into(), name: self.external.government_name.clone() }
    }

    /// A signer outside the map: the `[external]` subject patterns, or a
    /// subject country that is not a home country.
    pub fn is_external(&self, cert: &Cert) -> bool {
        matches!(
            self.organisation(&cert.subject),
            Organisation::External | Organisation::ExternalGov
        )
    }

    /// Which organisation a certificate the map does not know names, read
    /// from its subject (docs/report-format.md, "Attribution", rule 2).
    pub fn organisation(&self, subject: &Name) -> Organisation {
        let ext = &self.external;
        let foreign = subject.values("C").iter().any(|c| {
            let c = c.trim().to_ascii_uppercase();
            !ext.home_countries.is_empty() && !ext.home_countries.contains(&c)
        });
        // The names an organisation is known by: a company's certificate
        // often has it in CN alone, a staff certificate in O and OU.
        let names: Vec<String> =
            ["CN", "O", "OU"].iter().flat_map(|l| subject.values(l)).map(fold).collect();
        let any = |globs: &NameGlobs| names.iter().any(|n| globs.matches_folded(n));
        if foreign || ext.cert_subject.iter().any(|p| p.matches(subject)) {
            return Organisation::External;
        }
        // Central bodies before company forms: "Ngân hàng Nhà nước" is a bank by name.
        if any(&ext.government) {
            return Organisation::ExternalGov;
        }
        if any(&ext.organisations) {
            return Organisation::External;
        }
        let values = || subject.attrs.iter().map(|a| a.value.trim());
        let coded = |prefixes: &[&str]| {
            values().any(|v| prefixes.iter().any(|p| fold(v).replace(' ', "").starts_with(p)))
        };
        // A budget code (mã đơn vị quan hệ ngân sách) belongs to a public body.
        if any(&ext.local_government) || coded(&["mns:", "mqhns:", "mdvqhns:"]) {
            return match self.province_of(subject, &["O", "OU", "L", "ST", "CN"]) {
                Some(false) => Organisation::ExternalGov,
                _ => Organisation::ProvinceBody,
            };
        }
        // Any other O names an organisation (a placeholder such as "Cá
        // nhân" names nobody): the province's own when its name says so;
        // a tax code names a company or household business, whose address
        // (L, ST) says nothing about whose it is.
        let org = subject
            .values("O")
            .iter()
            .map(|o| fold(o))
            .any(|o| !o.is_empty() && !PERSONAL_O.contains(&o.as_str()));
        if org && self.province_of(subject, &["O", "OU"]) == Some(true) {
            return Organisation::ProvinceBody;
        }
        if org || coded(&["mst:", "mst-", "masothue:"]) {
            return Organisation::External;
        }
        Organisation::Personal
    }

    /// Whether the subject's values of these labels name the map's
    /// province (`Some(true)`), only other provinces (`Some(false)`), or
    /// none (`None`).
    fn province_of(&self, subject: &Name, labels: &[&str]) -> Option<bool> {
        let text: String = labels.iter().flat_map(|l| subject.values(l)).map(words).collect();
        if self.province.iter().any(|p| text.contains(p.as_str())) {
            return Some(true);
        }
        self.external
            .provinces
            .iter()
            .any(|p| !self.province.contains(p) && text.contains(p.as_str()))
            .then_some(false)
    }

    /// Whose signature it is. `by_signer`: the agency the certificate
    /// names (memoised by the caller), `place`: where it was found.
    pub fn attribute(
        &self,
        signer: Option<(&Cert, Option<AgencyRef>)>,
        place: Option<&AgencyRef>,
    ) -> Attributed {
        let found_in = place.map_or_else(|| UNASSIGNED_ID.to_owned(), |p| p.id.clone());
        let by_place = || match place {
            Some(p) => (p.clone(), Attribution::Location),
            None => (self.unassigned(), Attribution::Unassigned),
        };
        let (agency, by) = match signer {
            Some((_, Some(agency))) => (agency, Attribution::Certificate),
            // Whoever holds a document, an organisation's signature is that
            // organisation's: never the holder's.
            Some((cert, None)) => match self.organisation(&cert.subject) {
                Organisation::External => (self.external_agency(), Attribution::External),
                // `certificate`: the subject named the body (`external` is
                // kept for the `external` pseudo-agency alone, as the report
                // contract checks).
                Organisation::ExternalGov => (self.external_gov_agency(), Attribution::Certificate),
                Organisation::ProvinceBody => (self.unassigned(), Attribution::Unassigned),
                Organisation::Personal => by_place(),
            },
            None => by_place(),
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
        let first =
            set.matches(&rel).into_iter().chain(set.matches(&full)).map(|g| owner_of[g]).min()?;
        let a = &self.agencies[first];
        Some(AgencyRef { id: a.id.clone(), name: a.name.clone() })
    }

    /// [`by_path`](Self::by_path) for files that come folder by folder
    /// (as the walk sends them): when the rules tell only folders apart,
    /// each folder is matched once.
    pub fn by_path_memo(
        &self,
        relative: &str,
        full: &str,
        memo: &mut FolderMemo,
    ) -> Option<AgencyRef> {
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
            .flat_map(|(i, a)| {
                a.cert_subject
                    .iter()
                    .filter(|p| p.matches(&cert.subject))
                    .map(move |p| (p.specificity(), std::cmp::Reverse(i), a))
            })
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
        let entries =
            || self.agencies.iter().flat_map(|a| a.mail_domains.iter().map(move |d| (d, a)));
        let exact = entries().find(|(d, _)| d.contains('@') && **d == address);
        let by_domain = || {
            entries()
                .filter(|(d, _)| {
                    !d.contains('@') && (domain == d.as_str() || domain.ends_with(&format!(".{d}")))
                })
                .max_by_key(|(d, _)| d.len())
        };
        exact.or_else(by_domain).map(|(_, a)| AgencyRef { id: a.id.clone(), name: a.name.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::Organisation::{self, External, ExternalGov, Personal, ProvinceBody};
    use crate::cert::names::parse_dn;
    use crate::rules::Rules;

    /// Subject shapes of real certificates, against the built-in map. The
    /// DNs of companies, schools, the household business, the tax
    /// authority, the ministry and the National Assembly committee are
    /// those of certificates in public signed documents (GitHub:
    /// Shinee09/signtech, dangvucuong/CA2-EINVOICE,
    /// huyvq8899/pmbk_bill_dn_be, Dinhpham04/SignVerify,
    /// m1htan/Law_in_Tech; ID numbers masked); the others follow the shapes
    /// Vietnamese CAs issue, with made-up names.
    #[test]
    fn an_organisation_named_in_the_subject_is_that_organisation() {
        let map = Rules::builtin().agencies;
        let cases: [(&str, Organisation); 24] = [
            // Companies: the name in CN, a tax code in UID (or ST), often no O.
            (
                "UID=MST:0305670707, CN=CÔNG TY TNHH THƯƠNG MẠI THIẾT KẾ QUẢNG CÁO IN ẤN CỌ VÀNG, \
                 C=VN",
                External,
            ),
            (
                "C=VN, ST=MST:1101980212, L=Ấp 2\\, Xã Hòa Phú\\, Tỉnh Long An, O=CÔNG TY TNHH \
                 XUÂN TÌNH, CN=CÔNG TY TNHH XUÂN TÌNH",
                External,
            ),
            (
                "E=x@viettel.com.vn, UID=MST:0100109106-122, CN=VIETTEL THÀNH PHỐ HỒ CHÍ MINH - \
                 CHI NHÁNH TẬP ĐOÀN CÔNG NGHIỆP - VIỄN THÔNG QUÂN ĐỘI, L=TPHCM, C=VN",
                External,
            ),
            ("UID=MST:3600610595, CN=VĂN PHÒNG CÔNG CHỨNG LÊ TÂM, C=VN", External),
            // Household businesses: by name, or a tax code with the owner's name as O.
            ("C=VN, L=Thanh Hóa, CN=HỘ KINH DOANH NGUYỄN VĂN BÌNH, UID=MST:2801234567", External),
            ("C=VN, L=Quận 5, UID=MST:0304201325, O=HỒ THANH ĐIỂN, CN=HỒ THANH ĐIỂN", External),
            // Schools, with the staff certificate of one (ID number and O).
            (
                "C=VN, L=THÀNH PHỐ HÀ NỘI, CN=TRƯỜNG TIỂU HỌC KHƯƠNG THƯỢNG, UID=MST:0103842801",
                External,
            ),
            (
                "C=VN, ST=Hà Nội, O=TRƯỜNG ĐẠI HỌC CÔNG NGHIỆP HÀ NỘI, OU=Ban Giám hiệu, CN=Phạm \
                 Văn Đông, UID=CCCD:026071000000",
                External,
            ),
            ("C=VN, ST=Hà Nội, CN=Đại Học Công Nghiệp Hà Nội, UID=MST:0101498046", External),
            // The tax authority: its seal, its staff with their OU chain, its 2025 name.
            ("C=VN, L=Hà Nội, O=BỘ TÀI CHÍNH, CN=CỤC THUẾ", ExternalGov),
            (
                "C=VN, O=Bộ Tài chính, OU=Tổng cục Thuế, OU=Cục Thuế thành phố Hải Phòng, L=Hải \
                 Phòng, CN=Đinh Văn Thanh",
                ExternalGov,
            ),
            ("C=VN, CN=THUẾ TỈNH THANH HÓA, UID=MST:2800000000", ExternalGov),
            // Ministries, the Government, the National Assembly, Ban Cơ yếu, the State Bank.
            (
                "C=VN, L=Hà Nội, O=BỘ KHOA HỌC VÀ CÔNG NGHỆ, OU=CỤC VIỄN THÔNG, CN=Nguyễn Anh \
                 Cương",
                ExternalGov,
            ),
            (
                "C=VN, L=Hà Nội, O=VĂN PHÒNG CHÍNH PHỦ, CN=CỔNG THÔNG TIN ĐIỆN TỬ CHÍNH PHỦ, \
                 UID=MNS:1032158",
                ExternalGov,
            ),
            ("C=VN, L=Hà Nội, O=ỦY BAN VĂN HÓA\\, GIÁO DỤC, CN=Nguyễn Đắc Vinh", ExternalGov),
            ("C=VN, O=Ban Cơ yếu Chính phủ, CN=Nguyễn Văn Cơ", ExternalGov),
            ("C=VN, O=Ngân hàng Nhà nước Việt Nam, CN=Lê Văn Tệ", ExternalGov),
            // Another province's agencies: the province in O, or in L alone.
            ("C=VN, L=Nghệ An, O=UBND tỉnh Nghệ An, OU=Văn phòng, CN=Võ Văn Giang", ExternalGov),
            ("C=VN, L=Nghệ An, O=Sở Y tế, CN=Trần Thị Hà", ExternalGov),
            // A body of this province the map lacks, or of no province named.
            (
                "C=VN, L=Thanh Hóa, O=Trung tâm Kiểm soát bệnh tật tỉnh Thanh Hóa, CN=Lê Văn Kiểm",
                ProvinceBody,
            ),
            ("C=VN, O=Sở Y tế, CN=Lê Văn Minh", ProvinceBody),
            // Persons: an ID number, a placeholder O, a family name that is also a form.
            ("C=VN, ST=Thanh Hóa, CN=Nguyễn Văn An, UID=CCCD:038090001234", Personal),
            ("C=VN, O=Cá nhân, CN=Trương Văn Bình, UID=CMND:172000000", Personal),
            ("C=VN, L=Nghệ An, CN=Bàn Văn Sơn, UID=CCCD:040000000000", Personal),
        ];
        for (dn, want) in cases {
            assert_eq!(map.organisation(&parse_dn(dn).unwrap()), want, "{dn}");
        }
    }

    #[test]
    fn a_map_without_a_province_never_calls_a_body_another_provinces() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("agencies.toml"),
            "schema = 1\n[[agency]]\nid = \"A\"\nname = \"A\"\n",
        )
        .unwrap();
        let bare = Rules::load(Some(dir.path())).unwrap().agencies;
        let thanh_hoa =
            parse_dn("C=VN, L=Thanh Hóa, O=Trung tâm Y tế huyện Hoằng Hóa, CN=X").unwrap();
        assert_eq!(Rules::builtin().agencies.organisation(&thanh_hoa), ProvinceBody);
        // Without `province`, Thanh Hóa is just one of the provinces.
        assert_eq!(bare.organisation(&thanh_hoa), ExternalGov);
        std::fs::write(
            dir.path().join("agencies.toml"),
            "schema = 1\nprovince = [\"Thanh Hoa\"]\n",
        )
        .unwrap();
        assert_eq!(
            Rules::load(Some(dir.path())).unwrap().agencies.organisation(&thanh_hoa),
            ProvinceBody
        );
    }

    #[test]
    fn paths_and_domains_in_the_builtin_map() {
        let map = Rules::builtin().agencies;
        assert_eq!(
            map.by_path("Sở Y tế/2024/QĐ 12.pdf", "share/Sở Y tế/2024/QĐ 12.pdf").unwrap().id,
            "000.00.09.H56"
        );
        assert_eq!(map.by_path("misc/x.pdf", "share/misc/x.pdf"), None);
        assert_eq!(map.by_mail("VanThu@syt.thanhhoa.gov.vn").unwrap().id, "000.00.09.H56");
        assert_eq!(map.by_mail("a@abc.thanhhoa.gov.vn").unwrap().id, "000.00.00.H56");
        assert!(map.by_mail("a@thanhhoa.gov.vn.evil.com").is_none());
        assert!(map.by_mail("not an address").is_none());
    }

    fn map_with_paths(paths: &[(&str, &str)]) -> crate::rules::AgencyMap {
        let dir = tempfile::tempdir().unwrap();
        let toml: String = paths
            .iter()
            .map(|(id, glob)| {
                format!("[[agency]]\nid = \"{id}\"\nname = \"{id}\"\npaths = [\"{glob}\"]\n")
            })
            .collect();
        std::fs::write(dir.path().join("agencies.toml"), format!("schema = 1\n{toml}")).unwrap();
        Rules::load(Some(dir.path())).unwrap().agencies
    }

    #[test]
    fn the_folder_memo_answers_as_matching_each_file_does() {
        use super::FolderMemo;
        let files = [
            "a/Sở Y tế/1.pdf",
            "a/Sở Y tế/2.eml",
            "a/Sở Y tế/sub/3.pdf",
            "a/khác/4.pdf",
            "a/Sở Y tế/5.pdf",
            "a/khác/x\\Sở Y tế\\6.pdf",
        ];
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
        assert_eq!(
            by_name.by_path_memo("a/Sở Y tế/2.eml", "share/a/Sở Y tế/2.eml", &mut memo).unwrap().id,
            "syt"
        );
        assert_eq!(by_name.by_path_memo("b/2.eml", "share/b/2.eml", &mut memo).unwrap().id, "mail");
        assert_eq!(by_name.by_path_memo("b/2.pdf", "share/b/2.pdf", &mut memo), None);
    }
}
