//! From findings to the tables of the reports: per agency, per signer, per
//! signing month, and the totals. Pure functions of the scan result, so a
//! report rebuilt from stored findings is identical.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::model::finding::Finding;
use crate::model::result::ScanResult;
use crate::model::signature::Integrity;
use crate::rules::{CaClass, Rules, UNASSIGNED_ID, is_external_id};

#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct AgencyRow {
    pub agency_id: String,
    pub agency_name: String,
    pub files_scanned: usize,
    pub signed_files: usize,
    pub signatures: usize,
    pub government: usize,
    pub commercial: usize,
    pub other: usize,
    pub migration_pct: Option<f64>,
    pub signers: usize,
    pub signers_commercial: usize,
    pub invalid_signatures: usize,
    pub errors: usize,
    /// Signatures found in the agency's places but attributed to another
    /// agency or to `external`.
    pub received: usize,
    /// Some of its places could not be read: no migration figure is shown.
    pub incomplete: bool,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct SignerRow {
    pub agency_id: String,
    pub agency_name: String,
    pub signer_cn: String,
    pub signer_org: String,
    pub signer_sha256: String,
    pub ca_name: String,
    pub ca_class: CaClass,
    pub signer_not_after: String,
    pub documents: usize,
    pub first_signed_at: String,
    pub last_signed_at: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct TrendRow {
    pub agency_id: String,
    pub month: String,
    pub government: usize,
    pub commercial: usize,
    pub other: usize,
    pub migration_pct: Option<f64>,
}

/// Government signatures over all signatures, in percent (one decimal).
pub(crate) fn migration_pct(government: usize, total: usize) -> Option<f64> {
    (total > 0).then(|| (government as f64 * 1000.0 / total as f64).round() / 10.0)
}

#[derive(Debug, Clone)]
pub(crate) struct Tables {
    pub agencies: Vec<AgencyRow>,
    pub totals: AgencyRow,
    pub signers: Vec<SignerRow>,
    pub trend: Vec<TrendRow>,
    /// Province-wide migration by signing month.
    pub trend_total: Vec<TrendRow>,
    pub by_class: BTreeMap<&'static str, usize>,
    pub by_chain: BTreeMap<&'static str, usize>,
}

#[expect(clippy::too_many_lines, reason = "110 lines, from before the limit")]
pub(crate) fn tables(scan: &ScanResult, rules: &Rules) -> Tables {
    // Agencies of the map, in map order, then any other that appears.
    let mut order: Vec<(String, String)> =
        rules.agencies.agencies.iter().map(|a| (a.id.clone(), a.name.clone())).collect();
    let mut rows: HashMap<String, AgencyRow> = HashMap::new();
    let ensure = |id: &str, name: &str, rows: &mut HashMap<String, AgencyRow>| {
        rows.entry(id.to_owned()).or_insert_with(|| AgencyRow {
            agency_id: id.to_owned(),
            agency_name: name.to_owned(),
            ..Default::default()
        });
    };
    for (id, name) in &order {
        ensure(id, name, &mut rows);
    }
    for (agency, tally) in &scan.files {
        ensure(&agency.id, &agency.name, &mut rows);
        let row = rows.get_mut(&agency.id).expect("ensured");
        row.files_scanned += tally.scanned;
        row.signed_files += tally.signed;
    }
    for (_, agency) in &scan.errors {
        ensure(&agency.id, &agency.name, &mut rows);
        rows.get_mut(&agency.id).expect("ensured").errors += 1;
    }
    let mut signer_sets: HashMap<&str, (BTreeSet<&str>, BTreeSet<&str>)> = HashMap::new();
    for f in &scan.findings {
        ensure(&f.agency_id, &f.agency_name, &mut rows);
        let row = rows.get_mut(&f.agency_id).expect("ensured");
        count(row, f);
        if f.signer_sha256.is_empty() {
            continue; // no certificate: a signature, but no signer to list
        }
        let sets = signer_sets.entry(&f.agency_id).or_default();
        sets.0.insert(&f.signer_sha256);
        if f.ca_class == CaClass::Commercial {
            sets.1.insert(&f.signer_sha256);
        }
    }
    for f in scan.findings.iter().filter(|f| f.found_in != f.agency_id) {
        if let Some(row) = rows.get_mut(&f.found_in) {
            row.received += 1;
        }
    }
    for (id, (all, commercial)) in &signer_sets {
        let row = rows.get_mut(*id).expect("ensured");
        row.signers = all.len();
        row.signers_commercial = commercial.len();
    }
    for id in rows.keys() {
        if !order.iter().any(|(o, _)| o == id) {
            order.push((id.clone(), rows[id].agency_name.clone()));
        }
    }
    // External, then unassigned, last; other extra agencies keep a stable order.
    order[rules.agencies.agencies.len()..].sort_by_key(|(id, _)| {
        (is_external_id(id) || id == UNASSIGNED_ID, id == UNASSIGNED_ID, id.clone())
    });
    let mut agencies: Vec<AgencyRow> =
        order.iter().map(|(id, _)| rows.remove(id).expect("every id has a row")).collect();
    for row in &mut agencies {
        row.incomplete = scan.incomplete.iter().any(|a| a.id == row.agency_id);
        // External signers rightly use public CAs, and an agency whose
        // places could not all be read is neither migrated nor not.
        row.migration_pct = if is_external_id(&row.agency_id) || row.incomplete {
            None
        } else {
            migration_pct(row.government, row.signatures)
        };
    }
    let mut totals = AgencyRow {
        agency_id: "*".into(),
        agency_name: "Toàn tỉnh (all agencies)".into(),
        ..Default::default()
    };
    for r in &agencies {
        totals.files_scanned += r.files_scanned;
        totals.signed_files += r.signed_files;
        totals.errors += r.errors;
        if is_external_id(&r.agency_id) {
            continue; // listed, never in the province's figures
        }
        totals.signatures += r.signatures;
        totals.government += r.government;
        totals.commercial += r.commercial;
        totals.other += r.other;
        totals.invalid_signatures += r.invalid_signatures;
    }
    totals.migration_pct = migration_pct(totals.government, totals.signatures);
    let own = || {
        scan.findings
            .iter()
            .filter(|f| !is_external_id(&f.agency_id) && !f.signer_sha256.is_empty())
    };
    totals.signers = own().map(|f| &f.signer_sha256).collect::<BTreeSet<_>>().len();
    totals.signers_commercial = own()
        .filter(|f| f.ca_class == CaClass::Commercial)
        .map(|f| &f.signer_sha256)
        .collect::<BTreeSet<_>>()
        .len();

    let mut by_class = BTreeMap::new();
    let mut by_chain = BTreeMap::new();
    for f in &scan.findings {
        *by_class.entry(f.ca_class.as_str()).or_insert(0) += 1;
        *by_chain.entry(f.chain.as_str()).or_insert(0) += 1;
    }
    Tables {
        signers: signers(&scan.findings, &order),
        trend: trend(&scan.findings, |f| f.agency_id.clone()),
        trend_total: trend(&scan.findings, |_| "*".into()),
        agencies,
        totals,
        by_class,
        by_chain,
    }
}

fn count(row: &mut AgencyRow, f: &Finding) {
    row.signatures += 1;
    match f.ca_class {
        CaClass::Government => row.government += 1,
        CaClass::Commercial => row.commercial += 1,
        _ => row.other += 1,
    }
    row.invalid_signatures += usize::from(f.integrity == Integrity::Invalid);
}

fn signers(findings: &[Finding], order: &[(String, String)]) -> Vec<SignerRow> {
    let mut map: BTreeMap<(&str, &str), (SignerRow, BTreeSet<&str>)> = BTreeMap::new();
    for f in findings.iter().filter(|f| !f.signer_sha256.is_empty()) {
        let entry = map.entry((&f.agency_id, &f.signer_sha256)).or_insert_with(|| {
            let row = SignerRow {
                agency_id: f.agency_id.clone(),
                agency_name: f.agency_name.clone(),
                signer_cn: f.signer_cn.clone(),
                signer_org: f.signer_org.clone(),
                signer_sha256: f.signer_sha256.clone(),
                ca_name: f.ca_name.clone(),
                ca_class: f.ca_class,
                signer_not_after: f.signer_not_after.clone(),
                documents: 0,
                first_signed_at: String::new(),
                last_signed_at: String::new(),
            };
            (row, BTreeSet::new())
        });
        entry.1.insert(&f.file);
        if let Some(t) = &f.signed_at {
            // RFC 3339 in UTC sorts as text.
            if entry.0.first_signed_at.is_empty() || *t < entry.0.first_signed_at {
                entry.0.first_signed_at = t.clone();
            }
            if *t > entry.0.last_signed_at {
                entry.0.last_signed_at = t.clone();
            }
        }
    }
    let rank = |id: &str| order.iter().position(|(o, _)| o == id).unwrap_or(usize::MAX);
    let mut rows: Vec<SignerRow> = map
        .into_values()
        .map(|(mut row, files)| {
            row.documents = files.len();
            row
        })
        .collect();
    // Per agency: who must migrate first (commercial), then the rest.
    rows.sort_by(|a, b| {
        (
            rank(&a.agency_id),
            a.ca_class != CaClass::Commercial,
            std::cmp::Reverse(a.documents),
            &a.signer_cn,
        )
            .cmp(&(
                rank(&b.agency_id),
                b.ca_class != CaClass::Commercial,
                std::cmp::Reverse(b.documents),
                &b.signer_cn,
            ))
    });
    rows
}

/// Migration by signing month; external signatures never count.
fn trend(findings: &[Finding], key: impl Fn(&Finding) -> String) -> Vec<TrendRow> {
    let mut map: BTreeMap<(String, String), TrendRow> = BTreeMap::new();
    for f in findings.iter().filter(|f| !is_external_id(&f.agency_id)) {
        let Some(month) = f.month() else { continue };
        let k = (key(f), month.to_owned());
        let row = map.entry(k.clone()).or_insert_with(|| TrendRow {
            agency_id: k.0,
            month: k.1,
            ..Default::default()
        });
        match f.ca_class {
            CaClass::Government => row.government += 1,
            CaClass::Commercial => row.commercial += 1,
            _ => row.other += 1,
        }
    }
    map.into_values()
        .map(|mut r| {
            r.migration_pct = migration_pct(r.government, r.government + r.commercial + r.other);
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::migration_pct;

    #[test]
    fn percent_has_one_decimal() {
        assert_eq!(migration_pct(1, 3), Some(33.3));
        assert_eq!(migration_pct(2, 3), Some(66.7));
        assert_eq!(migration_pct(0, 0), None);
        assert_eq!(migration_pct(5, 5), Some(100.0));
    }
}
