//! The verdict columns of a finding, as typed values: the class of the
//! signer's CA, what the class rests on, and how far the chain verified.

/// The class of a signer's CA, as reported in `ca_class`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum CaClass {
    Government,
    Commercial,
    Foreign,
    SelfSigned,
    Untrusted,
}

impl CaClass {
    pub const ALL: [CaClass; 5] = [
        CaClass::Government,
        CaClass::Commercial,
        CaClass::Foreign,
        CaClass::SelfSigned,
        CaClass::Untrusted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaClass::Government => "government",
            CaClass::Commercial => "commercial",
            CaClass::Foreign => "foreign",
            CaClass::SelfSigned => "self-signed",
            CaClass::Untrusted => "untrusted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassifiedBy {
    Chain,
    Dn,
    /// No certificate to classify by.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChainStatus {
    Verified,
    Incomplete,
    DnOnly,
    /// The issuer's name is a catalogued CA's, but its key identifier is
    /// none of the keys the rules hold for it (a generation the rules
    /// lack): the class rests on the name alone, and never as government.
    UnknownKey,
    Broken,
    /// The signature carries no certificate and none was found.
    NoCertificate,
}

impl ChainStatus {
    pub const ALL: [ChainStatus; 6] = [
        ChainStatus::Verified,
        ChainStatus::Incomplete,
        ChainStatus::DnOnly,
        ChainStatus::UnknownKey,
        ChainStatus::Broken,
        ChainStatus::NoCertificate,
    ];
}

impl ClassifiedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ClassifiedBy::Chain => "chain",
            ClassifiedBy::Dn => "dn",
            ClassifiedBy::None => "none",
        }
    }
}

impl ChainStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChainStatus::Verified => "verified",
            ChainStatus::Incomplete => "incomplete",
            ChainStatus::DnOnly => "dn-only",
            ChainStatus::UnknownKey => "unknown-key",
            ChainStatus::Broken => "broken",
            ChainStatus::NoCertificate => "no-certificate",
        }
    }
}

/// Why a signature counts for the agency it is attributed to (docs/report-format.md,
/// "Attribution: whose signature is it"), in the order the rules are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attribution {
    /// The signer certificate names the agency (subject patterns, e-mail domains).
    Certificate,
    /// The signer is a company, a citizen's organisation or a body outside the map.
    External,
    /// The place where it was found (path, mailbox, sender).
    Location,
    /// Nothing matched.
    Unassigned,
}

impl Attribution {
    pub const ALL: [Attribution; 4] = [
        Attribution::Certificate,
        Attribution::External,
        Attribution::Location,
        Attribution::Unassigned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Attribution::Certificate => "certificate",
            Attribution::External => "external",
            Attribution::Location => "location",
            Attribution::Unassigned => "unassigned",
        }
    }
}

/// As the reports write them (the same words as `as_str`).
macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_as_str!(CaClass, ClassifiedBy, ChainStatus, Attribution);
