//! Audit over audit: who moved to the government CA since the previous
//! run, who is still on a commercial CA, and who newly signs with one.
//! A person is followed across certificates (a migrated signer has a new
//! certificate from another CA) by agency and normalised common name, and
//! judged by the CA of their latest signature.

use std::collections::BTreeMap;

use unicode_normalization::UnicodeNormalization;

use crate::model::finding::Finding;
use crate::rules::CaClass;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Change {
    /// Latest signature was commercial before, government now.
    Migrated,
    /// Commercial before and still commercial.
    StillCommercial,
    /// Commercial now, and not before (new signer, or back from government).
    NewCommercial,
}

impl Change {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Change::Migrated => "migrated",
            Change::StillCommercial => "still-commercial",
            Change::NewCommercial => "new-commercial",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangeRow {
    pub agency_id: String,
    pub agency_name: String,
    pub signer_cn: String,
    pub change: Change,
    pub previous_ca: String,
    pub current_ca: String,
    pub last_signed_at: String,
}

/// What the comparison needs of a signature: far less than a finding, so
/// that the previous run's signatures load quickly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signing {
    pub agency_id: String,
    pub agency_name: String,
    pub signer_cn: String,
    /// `signed_at` as reported (RFC 3339), empty when unknown.
    pub signed_at: String,
    pub file: String,
    pub member: String,
    pub ca_class: CaClass,
    pub ca_name: String,
}

impl From<&Finding> for Signing {
    fn from(f: &Finding) -> Signing {
        Signing {
            agency_id: f.agency_id.clone(),
            agency_name: f.agency_name.clone(),
            signer_cn: f.signer_cn.clone(),
            signed_at: f.signed_at.clone().unwrap_or_default(),
            file: f.file.clone(),
            member: f.member.clone(),
            ca_class: f.ca_class,
            ca_name: f.ca_name.clone(),
        }
    }
}

type Identity = (String, String);

fn identity(s: &Signing) -> Identity {
    (
        s.agency_id.clone(),
        s.signer_cn
            .nfc()
            .collect::<String>()
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Each person's latest signature (by signing time, then file, for a
/// deterministic choice when times are missing).
fn latest(signings: &[Signing]) -> BTreeMap<Identity, &Signing> {
    let mut out: BTreeMap<Identity, &Signing> = BTreeMap::new();
    for s in signings {
        let key = (&s.signed_at, &s.file, &s.member);
        out.entry(identity(s))
            .and_modify(|cur| {
                if key > (&cur.signed_at, &cur.file, &cur.member) {
                    *cur = s;
                }
            })
            .or_insert(s);
    }
    out
}

fn ca(s: &Signing) -> String {
    if s.ca_name.is_empty() { s.ca_class.as_str().to_owned() } else { s.ca_name.clone() }
}

pub(crate) fn compare(previous: &[Signing], current: &[Finding]) -> Vec<ChangeRow> {
    let before = latest(previous);
    let current: Vec<Signing> = current.iter().map(Signing::from).collect();
    let mut rows = Vec::new();
    for (id, now) in latest(&current) {
        let was = before.get(&id);
        let was_commercial = was.is_some_and(|w| w.ca_class == CaClass::Commercial);
        let change = match now.ca_class {
            CaClass::Government if was_commercial => Change::Migrated,
            CaClass::Commercial if was_commercial => Change::StillCommercial,
            CaClass::Commercial => Change::NewCommercial,
            _ => continue,
        };
        rows.push(ChangeRow {
            agency_id: now.agency_id.clone(),
            agency_name: now.agency_name.clone(),
            signer_cn: now.signer_cn.clone(),
            change,
            previous_ca: was.map(|w| ca(w)).unwrap_or_default(),
            current_ca: ca(now),
            last_signed_at: now.signed_at.clone(),
        });
    }
    rows.sort_by(|a, b| {
        (&a.agency_id, a.change, &a.signer_cn).cmp(&(&b.agency_id, b.change, &b.signer_cn))
    });
    rows
}
