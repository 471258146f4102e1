//! `sigaudit rules fetch-anchors`: download the CA certificates the rules
//! pin from their official URLs, and keep only those whose SHA-256 matches
//! a pin. A tampered or wrong download is refused, never trusted.

use std::path::Path;
#[cfg(feature = "fetch-anchors")]
use std::{collections::BTreeMap, time::Duration};

#[cfg(feature = "fetch-anchors")]
use sha2::{Digest, Sha256};

#[cfg(feature = "fetch-anchors")]
use crate::cert::certificates_in;
#[cfg(feature = "fetch-anchors")]
use crate::rules::PinRef;
use crate::rules::Rules;

#[derive(Debug, Default)]
pub(crate) struct FetchReport {
    /// Pinned certificates saved (file name, CA name).
    pub saved: Vec<(String, String)>,
    /// URLs that failed or held nothing pinned, with the reason.
    pub failed: Vec<(String, String)>,
    /// Pins with no download URL in the rules.
    pub no_url: Vec<String>,
}

/// Largest download accepted: CA certificates and bundles are a few KB.
#[cfg(feature = "fetch-anchors")]
const MAX_DOWNLOAD: u64 = 1 << 20;

#[cfg(not(feature = "fetch-anchors"))]
pub(crate) fn fetch_anchors(_rules: &Rules, _out: &Path) -> anyhow::Result<FetchReport> {
    anyhow::bail!(
        "this sigaudit was built without downloads (cargo feature `fetch-anchors`): put the CA \
         certificates in an --anchors folder"
    )
}

#[cfg(feature = "fetch-anchors")]
pub(crate) fn fetch_anchors(rules: &Rules, out: &Path) -> anyhow::Result<FetchReport> {
    std::fs::create_dir_all(out)?;
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let mut by_url: BTreeMap<&str, Vec<PinRef<'_>>> = BTreeMap::new();
    let mut report = FetchReport::default();
    for p in rules.catalogue.pins() {
        match &p.pin.download {
            Some(url) => by_url.entry(url.as_str()).or_default().push(p),
            None => report.no_url.push(format!("{} ({})", p.pin.subject.cn_or_dn(), p.ca.name)),
        }
    }
    // A download that fails is said in the report, and yields nothing.
    let download = |url: &str, report: &mut FetchReport| {
        let body = match agent.get(url).call() {
            Ok(mut resp) => resp.body_mut().with_config().limit(MAX_DOWNLOAD).read_to_vec(),
            Err(e) => Err(e),
        };
        body.map_err(|e| report.failed.push((url.to_owned(), e.to_string()))).ok()
    };
    let mut pinned_got = Vec::new();
    for (url, wanted) in by_url {
        let Some(body) = download(url, &mut report) else { continue };
        let mut matched = 0;
        for cert in certificates_in(&body).into_iter().flatten() {
            let Some(pin) = wanted.iter().find(|p| p.pin.sha256 == cert.sha256) else { continue };
            let file = format!("{}__{}.der", pin.ca.id, &cert.sha256_hex()[..16]);
            std::fs::write(out.join(&file), &cert.der)?;
            report.saved.push((file, pin.ca.name.clone()));
            matched += 1;
            pinned_got.push(std::sync::Arc::new(cert));
        }
        if matched == 0 {
            let got = crate::asn1::ber::hex(&Sha256::digest(&body));
            report.failed.push((
                url.to_owned(),
                format!("no certificate in the download (SHA-256 {got}) matches a pin: refused"),
            ));
        }
    }
    fetch_other_generations(rules, out, &download, &pinned_got, &mut report)?;
    Ok(report)
}

/// The URLs real certificates name for a CA's keys no pin holds: a
/// download there is kept only if it verifies up to a pinned certificate
/// of the same class (those just downloaded, or already in `out`), as a
/// CA certificate found in a scanned file is; anything else is refused.
#[cfg(feature = "fetch-anchors")]
fn fetch_other_generations(
    rules: &Rules,
    out: &Path,
    download: &dyn Fn(&str, &mut FetchReport) -> Option<Vec<u8>>,
    pinned: &[std::sync::Arc<crate::cert::Cert>],
    report: &mut FetchReport,
) -> anyhow::Result<()> {
    use crate::trust::chain::{self, PathEnd};
    let anchors = crate::trust::AnchorStore::load(&[out.to_path_buf()]);
    for ca in &rules.catalogue.cas {
        for url in &ca.other_downloads {
            let Some(body) = download(url, report) else { continue };
            let mut kept = 0;
            for cert in certificates_in(&body).into_iter().flatten() {
                let cert = std::sync::Arc::new(cert);
                let verified =
                    match chain::build(cert.clone(), pinned, &anchors, &rules.catalogue).end {
                        PathEnd::Pinned(p) | PathEnd::SameKeyAsPinned(p) => p.ca.class == ca.class,
                        _ => false,
                    };
                if verified {
                    let file = format!("{}__{}.der", ca.id, &cert.sha256_hex()[..16]);
                    std::fs::write(out.join(&file), &cert.der)?;
                    report.saved.push((file, ca.name.clone()));
                    kept += 1;
                }
            }
            if kept == 0 {
                report.failed.push((
                    url.clone(),
                    "no certificate in the download verifies up to a pinned certificate: refused"
                        .into(),
                ));
            }
        }
    }
    Ok(())
}
