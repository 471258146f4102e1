//! The verdict columns of a finding, as typed values: the class of the
//! signer's CA, what the class rests on, and how far the chain verified.

/// The class of a signer's CA, as reported in `ca_class`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaClass {
    Government,
    Commercial,
    Foreign,
    SelfSigned,
    Untrusted,
}

impl CaClass {
    pub const ALL: [CaClass; 5] = [CaClass::Government, CaClass::Commercial, CaClass::Foreign, CaClass::SelfSigned, CaClass::Untrusted];

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChainStatus {
    Verified,
    Incomplete,
    DnOnly,
    Broken,
}

impl ClassifiedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ClassifiedBy::Chain => "chain",
            ClassifiedBy::Dn => "dn",
        }
    }
}

impl ChainStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChainStatus::Verified => "verified",
            ChainStatus::Incomplete => "incomplete",
            ChainStatus::DnOnly => "dn-only",
            ChainStatus::Broken => "broken",
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

display_as_str!(CaClass, ClassifiedBy, ChainStatus);
