//! The pages' words, in Vietnamese (the default) and English (`--lang en`).
//! Every text of the HTML pages is here, by key; the templates ask for
//! `l.t("key")`. Names and values from the scanned files are never
//! translated, and the CSV files keep their machine-readable values.

use crate::rules::CaClass;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Lang {
    #[default]
    Vi,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "vi" => Ok(Lang::Vi),
            "en" => Ok(Lang::En),
            other => Err(format!("unknown language {other:?}: vi (Tiếng Việt, the default) or en")),
        }
    }
}

impl Lang {
    /// The page's `lang` attribute.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The text for `key`; "?" if there is none (a unit test
    /// keeps every key the templates use in the table).
    pub(crate) fn t(self, key: &str) -> &'static str {
        match TEXT.iter().find(|(k, _, _)| *k == key) {
            Some((_, vi, en)) => match self {
                Lang::Vi => vi,
                Lang::En => en,
            },
            None => "?",
        }
    }

    /// A CA class as a reader calls it.
    pub(crate) fn class(self, class: &CaClass) -> &'static str {
        self.t(class.as_str())
    }
}

/// (key, Vietnamese, English)
const TEXT: &[(&str, &str, &str)] = &[
    (
        "title",
        "Rà soát sử dụng chữ ký số chuyên dùng công vụ",
        "Audit of the use of the Government specialized digital signature",
    ),
    ("title_short", "Rà soát chữ ký số", "Digital signature audit"),
    ("province_overview", "Báo cáo toàn tỉnh", "Province overview"),
    ("generated", "lập lúc", "generated"),
    ("province", "toàn tỉnh", "province"),
    ("agency_id", "Mã định danh", "Agency code"),
    ("totals", "Tổng quan", "Totals"),
    ("files_scanned", "tệp đã quét", "files scanned"),
    ("signed_files", "tệp có chữ ký", "signed files"),
    ("signatures", "chữ ký", "signatures"),
    ("government", "chuyên dùng Chính phủ", "government"),
    ("commercial", "công cộng", "commercial"),
    ("foreign", "nước ngoài", "foreign"),
    ("self-signed", "tự ký", "self-signed"),
    ("untrusted", "không tin cậy", "untrusted"),
    ("other", "khác", "other"),
    (
        "other_long",
        "khác (nước ngoài, tự ký, không tin cậy)",
        "other (foreign, self-signed, untrusted)",
    ),
    ("migration", "tỷ lệ chuyển đổi", "migration"),
    ("signers_to_migrate", "người ký cần chuyển đổi", "signers who must migrate"),
    ("list", "danh sách", "list"),
    ("read_errors", "lỗi đọc tệp", "unreadable inputs"),
    ("received", "nhận từ nơi khác", "received from elsewhere"),
    (
        "unverified_government",
        "chữ ký được xếp \"chuyên dùng Chính phủ\" chỉ theo tên CA phát hành (classified_by=dn), \
         chưa kiểm chứng được chuỗi chứng thư: chạy sigaudit rules fetch-anchors hoặc cung cấp \
         thư mục --anchors để kiểm chứng.",
        "signatures are classed government by the issuer's name only (classified_by=dn), their \
         chain not verified: run sigaudit rules fetch-anchors or give an --anchors folder to \
         verify them.",
    ),
    (
        "doc_timestamps",
        "Dấu thời gian tài liệu (không tính là người ký)",
        "Document timestamps (not signers)",
    ),
    (
        "usage_rights",
        "Chữ ký cấp quyền sử dụng của Adobe (/UR3, không tính là người ký)",
        "Adobe usage-rights signatures (/UR3, not signers)",
    ),
    ("sources", "Nguồn quét", "Sources"),
    (
        "government_unknown_key",
        "chữ ký có tên CA chuyên dùng Chính phủ nhưng khóa của CA phát hành không có trong bộ quy \
         tắc: KHÔNG được tính là chuyên dùng Chính phủ. Cập nhật bộ quy tắc (sigaudit mới hơn, \
         sigaudit rules fetch-anchors, hoặc chứng thư của CA đó trong thư mục --anchors). Định \
         danh khóa:",
        "signatures name a Government CA with a key the rules do not hold: NOT counted as \
         government. Update the rules (a newer sigaudit, sigaudit rules fetch-anchors, or that \
         CA's certificate in an --anchors folder). Key identifiers:",
    ),
    ("no_key_identifier", "không có định danh khóa", "no key identifier"),
    ("unknown_cas", "CA phát hành chưa có trong bộ quy tắc", "Issuing CAs the rules do not know"),
    (
        "unknown_cas_what",
        "CA không có trong danh mục, hoặc mang tên một CA đã biết với khóa chưa được ghi nhận \
         (thế hệ khác của CA đó): hãy bổ sung vào bộ quy tắc (ca.d/) để phân loại đúng.",
        "CAs absent from the catalogue, or taking a known CA's name with a key it does not hold \
         (another generation of that CA): add them to the rules (ca.d/) to classify them right.",
    ),
    ("key_identifier", "Định danh khóa (AKI)", "Key identifier (AKI)"),
    ("named_ca", "Tên CA trong danh mục", "Catalogue CA named"),
    ("example_signer", "Ví dụ người ký", "Example signer"),
    ("example_file", "Ví dụ tệp", "Example file"),
    (
        "learned_cas",
        "Chứng thư CA tìm thấy trong các tệp được quét",
        "CA certificates found in the scanned files",
    ),
    (
        "learned_cas_what",
        "Các chứng thư CA này được kiểm chứng tới một chứng thư gốc đã ghim và được dùng để hoàn \
         thiện chuỗi chứng thư của các tệp khác.",
        "These CA certificates verify up to a pinned certificate and completed the chains of \
         other files.",
    ),
    (
        "learned_pinned",
        "trong số đó là chứng thư đã ghim mà thư mục anchors chưa có: sigaudit scan \
         --save-anchors lưu chúng lại.",
        "of them are pinned certificates the anchors folder lacks: sigaudit scan --save-anchors \
         keeps them.",
    ),
    ("certificate", "Chứng thư", "Certificate"),
    ("completed", "Chuỗi đã hoàn thiện", "Chains completed"),
    ("found_in_file", "Tìm thấy trong", "Found in"),
    ("who_must_migrate", "Ai phải chuyển đổi", "Who must migrate"),
    ("signers_on_commercial", "người ký dùng chứng thư số công cộng", "signers on a commercial CA"),
    ("signer", "Người ký", "Signer"),
    ("agency", "Cơ quan", "Agency"),
    ("expiry", "Chứng thư hết hạn", "Certificate expiry"),
    ("documents", "Tài liệu", "Documents"),
    ("last_signed", "Ký gần nhất", "Last signed"),
    ("first_signed", "Ký lần đầu", "First signed"),
    (
        "most_urgent",
        "người ký cấp bách nhất (nhiều tài liệu nhất, ký gần nhất) trong",
        "most urgent signers (most documents, most recent) of",
    ),
    ("full_list", "Danh sách đầy đủ", "Full list"),
    (
        "and_agency_pages",
        "(ca_class = commercial) và trang của từng cơ quan.",
        "(ca_class = commercial) and each agency's page.",
    ),
    ("by_agency", "Theo cơ quan, chậm nhất trước", "By agency, furthest behind first"),
    ("files", "Tệp", "Files"),
    ("signed", "Có ký", "Signed"),
    ("col_signatures", "Chữ ký", "Signatures"),
    ("col_government", "Chính phủ", "Government"),
    ("col_commercial", "Công cộng", "Commercial"),
    ("col_other", "Khác", "Other"),
    ("col_migration", "Chuyển đổi", "Migration"),
    ("col_signers", "Người ký", "Signers"),
    ("col_to_migrate", "Cần chuyển", "Must migrate"),
    ("col_invalid", "Không hợp lệ", "Invalid"),
    ("col_errors", "Lỗi", "Errors"),
    ("col_received", "Nhận từ nơi khác", "Received"),
    ("no_signed_documents", "không thấy tài liệu ký số", "no signed documents found"),
    ("incomplete_audit", "kiểm tra chưa đầy đủ", "incomplete audit"),
    ("downloads", "Tải về", "Downloads"),
    ("host_audits", "Kiểm tra tại từng máy", "Audits by host"),
    ("host", "Máy", "Host"),
    ("audited", "Kiểm tra lúc", "Audited"),
    ("stale", "chưa kiểm tra tháng này", "not audited this month"),
    ("this_month", "tháng này", "this month"),
    ("agencies_covered", "Số cơ quan", "Agencies"),
    ("by_signing_month", "Tiến độ chuyển đổi theo tháng ký", "Migration by signing month"),
    ("each_agency_months", "Từng cơ quan, cùng trục tháng", "Each agency on the same months"),
    ("across_audits", "Các đợt rà soát", "Migration across audits"),
    (
        "no_signing_times",
        "Không có chữ ký nào có thời điểm ký.",
        "No signature has a signing time.",
    ),
    ("classification", "Phân loại", "Classification"),
    ("legal_basis", "Căn cứ pháp lý", "Legal basis"),
    ("in_force", "hiệu lực từ", "in force from"),
    ("changes_since", "Thay đổi từ đợt rà soát trước", "Changes since the previous audit"),
    (
        "no_changes",
        "Không có người ký nào dùng chứng thư công cộng trong cả hai đợt.",
        "No signer used a commercial certificate in either audit.",
    ),
    ("change", "Thay đổi", "Change"),
    ("previous_ca", "CA trước", "Previous CA"),
    ("current_ca", "CA hiện tại", "Current CA"),
    ("migrated", "đã chuyển đổi", "migrated"),
    ("still-commercial", "vẫn dùng CA công cộng", "still commercial"),
    ("new-commercial", "mới dùng CA công cộng", "new commercial"),
    (
        "external_note",
        "chữ ký của doanh nghiệp, tổ chức, công dân và cơ quan ngoài danh mục. Họ được dùng chứng \
         thư số công cộng: các chữ ký này được liệt kê để tham khảo, không tính vào tỷ lệ chuyển \
         đổi của cơ quan nào và của toàn tỉnh.",
        "signatures of companies, citizens and bodies outside the agency map. They rightly sign \
         with public CAs: listed for reference, never counted in any agency's or the province's \
         migration figure.",
    ),
    ("external", "Bên ngoài", "External"),
    ("ended", "đã chấm dứt hoạt động, ngày cuối", "ended, last day"),
    ("succeeded_by", "tiếp nhận bởi", "succeeded by"),
    ("until", "đến", "until"),
    ("by_month_short", "Theo tháng ký", "By signing month"),
    (
        "must_move",
        "Người ký cần chuyển sang chứng thư số chuyên dùng",
        "Signers who must move to the Government CA",
    ),
    (
        "none_commercial",
        "Không có người ký nào dùng chứng thư số công cộng.",
        "No signer uses a commercial certificate.",
    ),
    ("org", "Tổ chức (O)", "Organization (O)"),
    ("other_signers", "Người ký khác", "Other signers"),
    ("class", "Loại CA", "CA class"),
    ("file", "Tệp", "File"),
    ("member", "Vị trí", "Where in the file"),
    ("signed_at", "Ngày ký", "Signed at"),
    ("issuer", "CA phát hành", "Issuing CA"),
    ("chain", "Chuỗi chứng thư", "Chain"),
    ("integrity", "Toàn vẹn", "Integrity"),
    ("attributed_by", "Tính theo", "Attributed by"),
    ("found_in", "Tìm thấy ở", "Found in"),
    ("notes", "Ghi chú", "Notes"),
    (
        "first_rows",
        "chữ ký đầu tiên (công cộng và không hợp lệ trước); danh sách đầy đủ:",
        "signatures shown first (commercial and invalid first); the full list:",
    ),
    ("of", "trong", "of"),
    (
        "received_title",
        "Nhận từ cơ quan khác và từ bên ngoài",
        "Received from other agencies and from outside",
    ),
    ("received_note", "không tính cho cơ quan này", "not counted here"),
    ("counts_for", "Tính cho", "Counts for"),
    (
        "received_full",
        "danh sách đầy đủ: signatures.csv của toàn tỉnh, cột found_in =",
        "the full list: the province's signatures.csv, column found_in =",
    ),
    ("unreadable", "Tệp không đọc được", "Files that could not be read"),
    ("stage", "Bước", "Stage"),
    ("error", "Lỗi", "Error"),
    ("filter", "Lọc bảng", "Filter"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `l.t("…")` in the templates has both texts.
    #[test]
    fn every_key_the_templates_use_has_both_languages() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut used = 0;
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for key in text.split("l.t(\"").skip(1).map(|k| k.split('"').next().unwrap()) {
                used += 1;
                assert!(
                    TEXT.iter().any(|(k, vi, en)| *k == key && !vi.is_empty() && !en.is_empty()),
                    "{key} in {}",
                    entry.path().display()
                );
            }
        }
        assert!(used > 50, "the templates take their words from here ({used} uses)");
        let mut keys: Vec<&str> = TEXT.iter().map(|(k, _, _)| *k).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), TEXT.len(), "no key twice");
    }

    #[test]
    fn class_names_read_naturally() {
        assert_eq!(Lang::Vi.class(&CaClass::Government), "chuyên dùng Chính phủ");
        assert_eq!(Lang::Vi.class(&CaClass::Commercial), "công cộng");
        assert_eq!(Lang::En.class(&CaClass::SelfSigned), "self-signed");
        assert_eq!("en".parse::<Lang>(), Ok(Lang::En));
        assert!("fr".parse::<Lang>().is_err());
    }
}
