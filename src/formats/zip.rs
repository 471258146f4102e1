//! ZIP archives (and the packages built on ZIP): every member goes back
//! through the extractors, with hard limits on members, sizes, ratios and
//! nesting so that a ZIP bomb costs an error row, not the machine.
//!
//! OOXML (.docx/.xlsx/.pptx) and ODF (.odt/.ods/.odp) are ZIPs whose XML
//! signatures reference other members of the same package; ASiC containers
//! and plain ZIPs can do the same. Every signed XML member is therefore
//! verified against its archive through `Package`.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::{Cursor, Read};

use ::zip::ZipArchive;

use super::xml::tree::Doc;
use super::xml::{self, Parts};
use super::{DocKind, Env, Extraction, FileFormat, FormatError, cms, extract_bytes, sniff};
use crate::messages::Stage;
use crate::model::note::Note;
use crate::model::signature::{Format, Integrity};

type Archive<'a> = ZipArchive<Cursor<&'a [u8]>>;

const OPC_ORIGIN: &str =
    "http://schemas.openxmlformats.org/package/2006/relationships/digital-signature/origin";
const OPC_SIGNATURE: &str =
    "http://schemas.openxmlformats.org/package/2006/relationships/digital-signature/signature";
const OPC_REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";

/// Archives declaring more members than this many times `--max-members`
/// are not opened at all: the zip crate builds a record per central
/// directory entry before the first member can be read (10 million entries
/// took 2–3 GiB). Up to it, the first `--max-members` are read.
const DECLARED_MEMBERS_FACTOR: u64 = 10;

/// ZIP archives and the packages built on them, registered in
/// formats/mod.rs.
pub(super) const FORMAT: FileFormat = FileFormat {
    name: "zip",
    extensions: &[
        "docx", "xlsx", "pptx", "odt", "ods", "odp", "zip", "asice", "asics", "sce", "scs",
    ],
    sniff: |head, _| {
        (head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")).then_some(DocKind::Zip)
    },
    sniff_late: super::never,
    container: true,
    marker: None,
    extract: |_, bytes, _, depth, env| extract(bytes, depth, env),
    yields: &[Format::Ooxml, Format::Odf, Format::Xml],
    fuzz_target: "xml_package",
};

#[expect(clippy::too_many_lines, reason = "123 lines, from before the limit")]
pub(crate) fn extract(bytes: &[u8], depth: usize, env: &Env<'_>) -> Extraction {
    let mut out = Extraction::default();
    let cap = (env.limits.max_members as u64).saturating_mul(DECLARED_MEMBERS_FACTOR);
    if let Some(declared) = declared_members(bytes).filter(|n| *n > cap) {
        out.problem(
            "",
            Stage::Limit,
            format!(
                "the central directory declares {declared} members, more than {cap} (10 × \
                 --max-members): the archive is not read"
            ),
        );
        return out;
    }
    let mut archive = match ZipArchive::new(Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            out.problem("", Stage::Archive, format!("not a readable ZIP archive: {e}"));
            return out;
        }
    };
    let limits = env.limits;
    if archive.len() > limits.max_members {
        out.problem(
            "",
            Stage::Limit,
            format!(
                "{} members, more than the {} read per archive: the rest are not read",
                archive.len(),
                limits.max_members
            ),
        );
    }
    if let Some(why) = overlapping_members(&mut archive) {
        out.problem("", Stage::Limit, why);
        return out;
    }
    let package = Package::open(archive, env);
    let members = package.len().min(limits.max_members);
    // A bomb has thousands of members over the limits: a few rows say so.
    let mut refused = 0;
    for i in 0..members {
        // Over the unit's time or memory: the unit's owner gives the row.
        if crate::budget::over() {
            break;
        }
        if env.budget.get() == 0 {
            out.problem(
                "",
                Stage::Limit,
                format!(
                    "the {} bytes this file may unpack into are used up: the remaining {} members \
                     are not read",
                    limits.max_unpacked_bytes,
                    members - i
                ),
            );
            break;
        }
        let name = match package.entry_name(i) {
            Ok(Some(n)) => n,
            Ok(None) => continue,
            Err(e) => {
                out.problem(format!("member {i}"), Stage::Archive, e);
                continue;
            }
        };
        if package.is_own_content(&name) {
            continue;
        }
        let data = match package.read(i, &name) {
            Ok(d) => d,
            Err((Stage::Limit, _)) if refused >= MAX_LIMIT_ROWS => {
                refused += 1;
                continue;
            }
            Err((stage, why)) => {
                refused += usize::from(stage == Stage::Limit);
                out.problem(&name, stage, why);
                continue;
            }
        };
        let file_name = name.rsplit('/').next().unwrap_or(&name).to_owned();
        let signed_xml = sniff(&data[..data.len().min(8192)], &file_name) == Some(DocKind::Xml)
            && memchr::memmem::find(&data, xml::MARKER).is_some();
        if signed_xml {
            out.absorb(&name, package.verify_signature_part(&name, &data));
        } else if let Some(DocKind::Cms(encoding)) =
            sniff(&data[..data.len().min(8192)], &file_name)
        {
            // A detached signature is checked against the member it signs.
            let data_name = package.signed_member(&name);
            let detached = || match &data_name {
                Some(d) => match package.read_by_name(d) {
                    Ok(bytes) => cms::Detached::Found { name: d.clone(), bytes },
                    Err(e) => cms::Detached::NotFound(format!(
                        "the signed member {d} cannot be read: {e}"
                    )),
                },
                None => cms::Detached::NotFound(
                    "detached signature in an archive with no member of its name beside it (x.pdf \
                     for x.pdf.p7s): its signed data is not identified"
                        .into(),
                ),
            };
            let mut found = cms::extract(&data, encoding, &detached);
            if let Some(manifest) =
                data_name.as_deref().filter(|d| d.starts_with("META-INF/ASiCManifest"))
            {
                package.check_asic_manifest(manifest, &mut found);
            }
            out.absorb(&name, found);
        } else {
            out.absorb(&name, extract_bytes(&data, &file_name, "", depth + 1, env));
        }
    }
    if refused > MAX_LIMIT_ROWS {
        out.problem(
            "",
            Stage::Limit,
            format!(
                "{} more members refused by the same limits (a ZIP bomb?)",
                refused - MAX_LIMIT_ROWS
            ),
        );
    }
    out
}

/// Members whose stored data overlap: no archiver writes that, but the
/// "overlapping files" ZIP bomb does, so that a 100 KB file unpacks into
/// gigabytes. The whole archive is refused with one row.
fn overlapping_members(archive: &mut Archive<'_>) -> Option<String> {
    let mut spans: Vec<(u64, u64, u64)> = (0..archive.len())
        .filter_map(|i| {
            archive.by_index_raw(i).ok().map(|f| (f.header_start(), f.compressed_size(), f.size()))
        })
        .collect();
    spans.sort_unstable();
    let overlaps =
        spans.windows(2).filter(|w| w[1].0 < w[0].0.saturating_add(w[0].1.max(1))).count();
    if overlaps == 0 {
        return None;
    }
    let declared: u128 = spans.iter().map(|s| s.2 as u128).sum();
    Some(format!(
        "{overlaps} members overlap each other's data, declaring {declared} bytes in all: an \
         overlapping-files ZIP bomb, not unpacked"
    ))
}

/// How many members the end of central directory record (ZIP64's when
/// present) declares, read before anything is allocated per member: the
/// count the zip crate would build records for. None when there is no such
/// record (the zip crate then says why the archive cannot be read).
fn declared_members(bytes: &[u8]) -> Option<u64> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const ZIP64_LOCATOR: &[u8] = b"PK\x06\x07";
    const ZIP64_EOCD: &[u8] = b"PK\x06\x06";
    // The record is 22 bytes plus a comment of at most 65,535.
    let tail = bytes.len().saturating_sub(22 + 0xFFFF);
    let at = tail + bytes[tail..].windows(4).rposition(|w| w == EOCD)?;
    let u16_at =
        |i: usize| Some(u64::from(u16::from_le_bytes(bytes.get(i..i + 2)?.try_into().ok()?)));
    let u64_at = |i: usize| Some(u64::from_le_bytes(bytes.get(i..i + 8)?.try_into().ok()?));
    let mut entries = u16_at(at + 10)?;
    if let Some(locator) =
        at.checked_sub(20).filter(|l| bytes.get(*l..*l + 4) == Some(ZIP64_LOCATOR))
    {
        let record = usize::try_from(u64_at(locator + 8)?).ok()?;
        if bytes.get(record..record + 4) == Some(ZIP64_EOCD) {
            // The classic record's all-ones fields only say "see ZIP64".
            let zip64 = u64_at(record + 32)?;
            entries = if entries == 0xFFFF { zip64 } else { entries.max(zip64) };
        }
    }
    Some(entries)
}

/// Limit rows written per archive before the rest are counted in one.
const MAX_LIMIT_ROWS: usize = 10;

/// What kind of package a ZIP is, by the members that define each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Open Packaging Conventions: Office documents.
    Ooxml,
    /// OpenDocument: LibreOffice documents.
    Odf,
    /// Any other ZIP (ASiC containers included): signed XML members are
    /// XML signatures whose relative references name other members.
    Plain,
}

/// An open archive: members are read by index or name under the limits,
/// and signature parts resolve their references against it.
struct Package<'a, 'e> {
    archive: RefCell<Archive<'a>>,
    env: &'e Env<'e>,
    kind: Kind,
    /// OOXML: signature parts named by the package's digital-signature
    /// origin relationships (the ones Office shows).
    linked_signatures: BTreeSet<String>,
}

impl<'a, 'e> Package<'a, 'e> {
    fn open(archive: Archive<'a>, env: &'e Env<'e>) -> Package<'a, 'e> {
        let has = |n: &str| archive.index_for_name(n).is_some();
        let kind = if has("[Content_Types].xml") {
            Kind::Ooxml
        } else if has("META-INF/manifest.xml") && has("mimetype") {
            Kind::Odf
        } else {
            Kind::Plain
        };
        let mut package = Package {
            archive: RefCell::new(archive),
            env,
            kind,
            linked_signatures: BTreeSet::new(),
        };
        if kind == Kind::Ooxml {
            package.linked_signatures = package.opc_signature_parts();
        }
        package
    }

    fn len(&self) -> usize {
        self.archive.borrow().len()
    }

    /// An Office or OpenDocument package's own text, styles and pictures:
    /// parts whose names the formats fix and which hold no signature (what
    /// a document embeds, its custom XML and its signature parts are
    /// read). Decompressing them was most of the time an unsigned .docx
    /// cost.
    fn is_own_content(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        let picture = lower.contains("/media/")
            || lower.starts_with("pictures/")
            || lower.starts_with("thumbnails/");
        let picture = picture
            && [".png", ".jpg", ".jpeg", ".gif", ".emf", ".wmf", ".bmp", ".tif", ".tiff", ".svg"]
                .iter()
                .any(|e| lower.ends_with(e));
        match self.kind {
            Kind::Plain => false,
            Kind::Ooxml => {
                let text_part = (lower.starts_with("word/")
                    || lower.starts_with("xl/")
                    || lower.starts_with("ppt/")
                    || lower.starts_with("docprops/"))
                    && (lower.ends_with(".xml") || lower.ends_with(".rels"))
                    && !lower.contains("/embeddings/");
                !self.linked_signatures.contains(name) && (text_part || picture)
            }
            Kind::Odf => {
                picture
                    || matches!(
                        lower.as_str(),
                        "content.xml" | "styles.xml" | "settings.xml" | "meta.xml"
                    )
            }
        }
    }

    /// The member a detached signature member signs: `x.pdf` beside
    /// `x.pdf.p7s` (also `.sig`, `.csig`, `.p7m`); in an ASiC-S container
    /// (ETSI EN 319 162), `META-INF/signature.p7s` signs the one data
    /// object at the root.
    fn signed_member(&self, signature: &str) -> Option<String> {
        let archive = self.archive.borrow();
        let lower = signature.to_ascii_lowercase();
        let stem = [".p7s", ".sig", ".csig", ".p7m"].iter().find_map(|ext| {
            lower.ends_with(ext).then(|| &signature[..signature.len() - ext.len()])
        });
        if let Some(stem) = stem.filter(|s| archive.index_for_name(s).is_some()) {
            return Some(stem.to_owned());
        }
        if !signature.starts_with("META-INF/") || archive.index_for_name("mimetype").is_none() {
            return None;
        }
        // ASiC-E with CAdES: the signature signs the ASiCManifest that names it.
        let manifests: Vec<String> = archive
            .file_names()
            .filter_map(Result::ok)
            .filter(|n| n.starts_with("META-INF/ASiCManifest") && n.ends_with(".xml"))
            .map(|n| n.into_owned())
            .collect();
        drop(archive);
        if !manifests.is_empty() {
            return manifests.into_iter().find(|m| {
                self.read_by_name(m).ok().and_then(|bytes| Doc::parse(&bytes).ok()).is_some_and(
                    |doc| {
                        (0..doc.nodes.len()).any(|i| {
                            doc.nodes[i].local == "SigReference"
                                && doc
                                    .attr(i, "URI")
                                    .is_some_and(|u| u.trim_start_matches('/') == signature)
                        })
                    },
                )
            });
        }
        let archive = self.archive.borrow();
        let roots: Vec<String> = archive
            .file_names()
            .filter_map(Result::ok)
            .filter(|n| !n.contains('/') && n != "mimetype")
            .map(|n| n.into_owned())
            .collect();
        (roots.len() == 1).then(|| roots[0].clone())
    }

    /// ASiC-E: the signed manifest's data object references must match
    /// the members (their digests); a mismatch makes its signatures invalid.
    fn check_asic_manifest(&self, manifest: &str, found: &mut Extraction) {
        let Ok(bytes) = self.read_by_name(manifest) else { return };
        let Ok(doc) = Doc::parse(&bytes) else { return };
        let mut problems = Vec::new();
        let mut checked = 0;
        for i in (0..doc.nodes.len()).filter(|&i| doc.nodes[i].local == "DataObjectReference") {
            let uri = doc.attr(i, "URI").unwrap_or("").trim_start_matches('/').to_owned();
            let child =
                |local: &str| doc.child_ids(i).into_iter().find(|&c| doc.nodes[c].local == local);
            let hash = child("DigestMethod")
                .and_then(|m| doc.attr(m, "Algorithm"))
                .and_then(xml::digest_hash);
            let expected = child("DigestValue").and_then(|v| {
                base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    doc.text(v).trim(),
                )
                .ok()
            });
            match (hash, expected, self.read_by_name(&crate::uri::percent_decode(&uri))) {
                (Some(h), Some(e), Ok(data)) if h.digest(&[&data]) == e => checked += 1,
                (Some(_), Some(_), Ok(_)) => {
                    problems.push(format!("the digest of {uri} does not match the ASiC manifest"))
                }
                (_, _, Err(e)) => {
                    problems.push(format!("{uri}, named by the ASiC manifest, cannot be read: {e}"))
                }
                _ => problems
                    .push(format!("the ASiC manifest's reference to {uri} has no usable digest")),
            }
        }
        for s in &mut found.signatures {
            let e = crate::verdict::ContainerEvidence::AsicManifest(problems.clone());
            if let Some((integrity, reason)) = crate::verdict::container_integrity(s.integrity, &e)
            {
                s.set_integrity(integrity, reason);
            } else if s.integrity == Integrity::Valid {
                s.note(Note::Content(format!(
                    "ASiC-E: the signed manifest's {checked} data object digest(s) match"
                )));
            }
        }
    }

    /// The member's name, or None for directories. Reads only the central
    /// directory entry: nothing is decompressed.
    fn entry_name(&self, i: usize) -> Result<Option<String>, FormatError> {
        let mut archive = self.archive.borrow_mut();
        let f = archive.by_index_raw(i).map_err(|e| format!("unreadable entry: {e}"))?;
        Ok(f.is_file()
            .then(|| f.name().map(|n| n.into_owned()).unwrap_or_else(|_| format!("member {i}"))))
    }

    /// One member's bytes, refused when encrypted, over the ratio or size
    /// limits, or larger than it claims.
    fn read(&self, i: usize, name: &str) -> Result<Vec<u8>, (Stage, String)> {
        let limits = self.env.limits;
        let mut archive = self.archive.borrow_mut();
        let (size, compressed, encrypted) = {
            let f = archive
                .by_index_raw(i)
                .map_err(|e| (Stage::Archive, format!("unreadable entry: {e}")))?;
            (f.size(), f.compressed_size(), f.encrypted())
        };
        if encrypted {
            return Err((
                Stage::Archive,
                "encrypted member: cannot be read without the password".into(),
            ));
        }
        if compressed > 0 && size / compressed > limits.max_ratio {
            return Err((
                Stage::Limit,
                format!(
                    "compression ratio {}:1 is above {}:1 (a ZIP bomb?): not unpacked",
                    size / compressed,
                    limits.max_ratio
                ),
            ));
        }
        if !self.env.spend(size) {
            return Err((
                Stage::Limit,
                format!(
                    "{size} bytes would exceed the {} bytes that one file may unpack into: not \
                     unpacked",
                    limits.max_unpacked_bytes
                ),
            ));
        }
        crate::budget::reserve(size)
            .map_err(|over| (Stage::Limit, format!("a member of {size} bytes: {over}")))?;
        // Exactly the declared size (and the one byte that shows a lie):
        // growing by doubling would hold twice what the member needs.
        let mut data = Vec::with_capacity(size.saturating_add(1) as usize);
        let f = archive
            .by_index(i)
            .map_err(|e| (Stage::Archive, format!("member cannot be unpacked: {e}")))?;
        // Never trust the declared size: read at most one byte more.
        f.take(size + 1)
            .read_to_end(&mut data)
            .map_err(|e| (Stage::Archive, format!("member cannot be unpacked: {e}")))?;
        if data.len() as u64 > size {
            return Err((
                Stage::Limit,
                format!("member {name} is larger than its declared size: not read"),
            ));
        }
        Ok(data)
    }

    fn read_by_name(&self, name: &str) -> Result<Vec<u8>, FormatError> {
        let i = self
            .archive
            .borrow()
            .index_for_name(name)
            .ok_or_else(|| format!("package part {name} not found"))?;
        Ok(self.read(i, name).map_err(|(_, why)| why)?)
    }

    /// Signatures of one signed XML member, verified against this package.
    fn verify_signature_part(&self, name: &str, data: &[u8]) -> Extraction {
        let format = match self.kind {
            Kind::Ooxml => Format::Ooxml,
            Kind::Odf => Format::Odf,
            Kind::Plain => Format::Xml,
        };
        let parts = PartsOf { package: self, base: parent(name).to_owned() };
        let mut found = xml::extract(data, format, Some(&parts));
        if self.kind == Kind::Ooxml && !self.linked_signatures.contains(name) {
            for s in &mut found.signatures {
                s.note(crate::model::note::Note::SignaturePartNotLinked);
            }
        }
        found
    }

    /// OPC: `_rels/.rels` names the signature origin part, whose own
    /// relationships name the signature parts (ECMA-376 Part 2, 13.2).
    fn opc_signature_parts(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for origin in self.relationship_targets_in("_rels/.rels", "", OPC_ORIGIN) {
            let (dir, file) = (parent(&origin), origin.rsplit('/').next().unwrap_or(&origin));
            let rels = if dir.is_empty() {
                format!("_rels/{file}.rels")
            } else {
                format!("{dir}/_rels/{file}.rels")
            };
            found.extend(self.relationship_targets_in(&rels, dir, OPC_SIGNATURE));
        }
        found
    }

    /// Targets of relationships of `rel_type` in the `.rels` part, as
    /// package member names.
    fn relationship_targets_in(
        &self,
        rels_part: &str,
        source_dir: &str,
        rel_type: &str,
    ) -> Vec<String> {
        let Ok(bytes) = self.read_by_name(rels_part) else { return Vec::new() };
        let Ok(doc) = Doc::parse(&bytes) else { return Vec::new() };
        doc.children(doc.root, OPC_REL_NS, "Relationship")
            .into_iter()
            .filter(|&r| {
                doc.attr(r, "Type") == Some(rel_type)
                    && doc.attr(r, "TargetMode") != Some("External")
            })
            .filter_map(|r| doc.attr(r, "Target"))
            .map(|t| resolve(source_dir, t))
            .collect()
    }
}

/// The package seen from one signature part: references are package
/// names (`/word/document.xml`), or relative names (ODF `content.xml`,
/// ASiC `document.pdf`) taken from the package root, then from the
/// signature part's folder.
struct PartsOf<'p, 'a, 'e> {
    package: &'p Package<'a, 'e>,
    base: String,
}

impl Parts for PartsOf<'_, '_, '_> {
    fn part(&self, name: &str) -> Result<Vec<u8>, FormatError> {
        let from_root = resolve("", name);
        if self.package.archive.borrow().index_for_name(&from_root).is_some()
            || name.starts_with('/')
        {
            return self.package.read_by_name(&from_root);
        }
        self.package.read_by_name(&resolve(&self.base, name))
    }
}

fn parent(name: &str) -> &str {
    name.rfind('/').map_or("", |i| &name[..i])
}

/// `target` relative to the folder `dir`, with `.` and `..` folded; a
/// leading `/` means the package root.
fn resolve(dir: &str, target: &str) -> String {
    let mut segments: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|s| !s.is_empty()).collect()
    };
    for s in target.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments.join("/")
}

#[cfg(test)]
mod tests {
    use super::{declared_members, resolve};

    #[test]
    fn declared_members_are_read_from_the_end_records() {
        let mut zip = Vec::new();
        {
            let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(&mut zip));
            for i in 0..3 {
                w.start_file(format!("{i}.txt"), ::zip::write::SimpleFileOptions::default())
                    .unwrap();
            }
            w.finish().unwrap();
        }
        assert_eq!(declared_members(&zip), Some(3));
        // A forged count of 60,000 in the classic record.
        let at = zip.windows(4).rposition(|w| w == b"PK\x05\x06").unwrap();
        zip[at + 10..at + 12].copy_from_slice(&60_000u16.to_le_bytes());
        assert_eq!(declared_members(&zip), Some(60_000));
        assert_eq!(declared_members(b"not a zip"), None);
    }

    #[test]
    fn resolves_package_names() {
        assert_eq!(resolve("", "/word/document.xml"), "word/document.xml");
        assert_eq!(resolve("_xmlsignatures", "sig1.xml"), "_xmlsignatures/sig1.xml");
        assert_eq!(
            resolve("package/services/digital-signature", "xml-signature/a.psdsxs"),
            "package/services/digital-signature/xml-signature/a.psdsxs"
        );
        assert_eq!(resolve("META-INF", "../content.xml"), "content.xml");
        assert_eq!(resolve("a/b", "/c"), "c");
    }
}
