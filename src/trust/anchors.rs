//! The anchor folder: CA certificates available for chain building.
//!
//! A certificate here is only a *helper* for finding issuers. Trust comes
//! from the rules' pins (SHA-256), never from merely being in this folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cert::{Cert, certificates_in};
use crate::model::note::Note;
use crate::model::signature::Signature;
use crate::trust::revocation::DataKind;

#[derive(Debug, Default, Clone)]
pub struct AnchorStore {
    certs: Vec<Arc<Cert>>,
    by_subject: HashMap<Vec<(String, String)>, Vec<usize>>,
    by_ski: HashMap<Vec<u8>, Vec<usize>>,
    /// CRLs and OCSP responses found in the folder (DER or PEM), for every
    /// signature's revocation check beside what it carries itself.
    pub crls: Vec<Vec<u8>>,
    pub ocsp: Vec<Vec<u8>>,
    /// Files that could not be read, with the reason (shown by `rules check`).
    pub problems: Vec<(PathBuf, String)>,
}

impl AnchorStore {
    pub fn load(dirs: &[PathBuf]) -> AnchorStore {
        let mut store = AnchorStore::default();
        for dir in dirs {
            for entry in walkdir::WalkDir::new(dir).max_depth(4).sort_by_file_name() {
                match entry {
                    Ok(e) if e.file_type().is_file() => store.add_file(e.path()),
                    Ok(_) => {}
                    Err(e) => store.problems.push((dir.clone(), e.to_string())),
                }
            }
        }
        store
    }

    fn add_file(&mut self, path: &Path) {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return self.problems.push((path.to_owned(), e.to_string())),
        };
        let certs = certificates_in(&bytes);
        if !certs.iter().any(Result::is_ok) && self.add_revocation_data(&bytes) {
            return;
        }
        if certs.is_empty() {
            self.problems.push((
                path.to_owned(),
                "no certificate, CRL or OCSP response found (expected PEM, DER or a .p7b bundle)"
                    .into(),
            ));
        }
        for c in certs {
            match c {
                Ok(c) => self.add(Arc::new(c)),
                Err(e) => self.problems.push((path.to_owned(), e.to_string())),
            }
        }
    }

    /// A CRL or OCSP response, DER or PEM; whether there was one.
    fn add_revocation_data(&mut self, bytes: &[u8]) -> bool {
        let mut ders: Vec<Vec<u8>> =
            crate::asn1::pem::blocks(bytes).into_iter().flatten().map(|(_, der)| der).collect();
        if ders.is_empty() {
            ders.push(bytes.to_vec());
        }
        let mut found = false;
        for der in ders {
            match crate::trust::revocation::recognise(&der) {
                Some(DataKind::Crl) => self.crls.push(der),
                Some(DataKind::OcspResponse) => self.ocsp.push(der),
                None => continue,
            }
            found = true;
        }
        found
    }

    pub fn add(&mut self, cert: Arc<Cert>) {
        if self.certs.iter().any(|c| c.sha256 == cert.sha256) {
            return;
        }
        let i = self.certs.len();
        self.by_subject.entry(cert.subject.folded_key()).or_default().push(i);
        if let Some(ski) = &cert.ski {
            self.by_ski.entry(ski.clone()).or_default().push(i);
        }
        self.certs.push(cert);
    }

    pub fn contains(&self, sha256: &[u8; 32]) -> bool {
        self.certs.iter().any(|c| &c.sha256 == sha256)
    }

    pub fn len(&self) -> usize {
        self.certs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Cert>> {
        self.certs.iter()
    }

    /// A signer whose certificate the signature does not embed, found here
    /// by how the signature names it (docs/report-format.md: a certificate-less signature
    /// is looked for in the anchor folder before it counts as unknown).
    pub fn complete_signer(&self, sig: &mut Signature) {
        if sig.signer.is_some() {
            return;
        }
        if let Some(found) =
            sig.signer_key.as_ref().and_then(|key| self.certs.iter().find(|c| key.matches(c)))
        {
            sig.signer = Some(found.clone());
            sig.note(Note::SignerFromAnchors);
            // Its key settles the signature value the file alone could not.
            if let Some(check) = sig.key_check.take() {
                let v = crate::formats::cms::verify::finish_kept(&check, &found.spki);
                sig.set_integrity(v.integrity, v.reason);
            }
        }
    }

    /// Certificates that could have issued `child`: same subject as its
    /// issuer, or subject key identifier equal to its authority key identifier.
    pub fn issuer_candidates(&self, child: &Cert) -> Vec<Arc<Cert>> {
        let mut idx: Vec<usize> =
            self.by_subject.get(&child.issuer.folded_key()).cloned().unwrap_or_default();
        if let Some(aki) = &child.aki {
            idx.extend(self.by_ski.get(aki).into_iter().flatten());
        }
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter().map(|i| self.certs[i].clone()).collect()
    }
}
