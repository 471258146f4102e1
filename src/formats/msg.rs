//! Outlook: `.msg` compound files (cfb crate) and TNEF `winmail.dat`.
//! A signed `.msg` carries the whole signed MIME message as an `smime.p7m`
//! attachment; other attachments (and messages embedded as attachments)
//! go back through the extractors. MAPI property decoding is our own: only
//! the few properties needed are read.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use super::{DocKind, Env, Extraction, FileFormat, extract_bytes, mail};
use crate::messages::Stage;
use crate::model::signature::Format;

/// TNEF files start with 0x223E9F78, little-endian.
pub(crate) const TNEF_SIGNATURE: [u8; 4] = [0x78, 0x9f, 0x3e, 0x22];

/// Outlook .msg files (OLE compound files), registered in formats/mod.rs.
pub(super) const MSG: FileFormat = FileFormat {
    name: "msg",
    extensions: &["msg"],
    sniff: |head, _| {
        head.starts_with(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).then_some(DocKind::Msg)
    },
    sniff_late: super::never,
    container: true,
    marker: None,
    extract: |_, bytes, _, depth, env| extract_msg(bytes, depth, env),
    yields: &[Format::Smime],
    fuzz_target: "mail",
};

/// TNEF `winmail.dat` attachments, registered in formats/mod.rs. No
/// extension: `.dat` names anything.
pub(super) const TNEF: FileFormat = FileFormat {
    name: "tnef",
    extensions: &[],
    sniff: |head, _| head.starts_with(&TNEF_SIGNATURE).then_some(DocKind::Tnef),
    sniff_late: super::never,
    container: true,
    marker: None,
    extract: |_, bytes, _, depth, env| extract_tnef(bytes, depth, env),
    yields: &[],
    fuzz_target: "mail",
};

const MESSAGE_CLASS: &str = "__substg1.0_001A001F";
const ATTACH_DATA: &str = "__substg1.0_37010102";
const ATTACH_EMBEDDED: &str = "__substg1.0_3701000D";
const ATTACH_LONG_NAME: &str = "__substg1.0_3707001F";
const ATTACH_NAME: &str = "__substg1.0_3704001F";

pub(crate) fn extract_msg(bytes: &[u8], depth: usize, env: &Env<'_>) -> Extraction {
    let mut out = Extraction::default();
    let mut cf = match cfb::CompoundFile::open(Cursor::new(bytes)) {
        Ok(cf) => cf,
        Err(e) => {
            out.problem(
                "",
                Stage::Archive,
                format!("not a readable Outlook .msg (compound file): {e}"),
            );
            return out;
        }
    };
    message_storage(&mut cf, Path::new("/"), depth, env, &mut out);
    out
}

fn read_stream(
    cf: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    path: &Path,
    env: &Env<'_>,
) -> Option<Vec<u8>> {
    let mut s = cf.open_stream(path).ok()?;
    let len = s.len();
    if !env.spend(len) {
        return None;
    }
    let mut buf = Vec::with_capacity(len.min(64 << 20) as usize);
    s.by_ref().take(len).read_to_end(&mut buf).ok()?;
    Some(buf)
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    String::from_utf16_lossy(&units).trim_end_matches('\0').to_owned()
}

/// One message storage (the root, or an embedded message's).
fn message_storage(
    cf: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    at: &Path,
    depth: usize,
    env: &Env<'_>,
    out: &mut Extraction,
) {
    let class =
        read_stream(cf, &at.join(MESSAGE_CLASS), env).map(|b| utf16(&b)).unwrap_or_default();
    let smime = class.to_ascii_uppercase().starts_with("IPM.NOTE.SMIME");
    let attachments: Vec<PathBuf> = match cf.read_storage(at) {
        Ok(entries) => entries
            .filter(|e| e.is_storage() && e.name().starts_with("__attach_version1.0_#"))
            .map(|e| e.path().to_owned())
            .collect(),
        Err(e) => return out.problem("", Stage::Archive, format!(".msg storage unreadable: {e}")),
    };
    for (n, att) in attachments.iter().enumerate() {
        let name = read_stream(cf, &att.join(ATTACH_LONG_NAME), env)
            .or_else(|| read_stream(cf, &att.join(ATTACH_NAME), env))
            .map(|b| utf16(&b))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("attachment {}", n + 1));
        if cf.is_storage(att.join(ATTACH_EMBEDDED)) {
            if depth + 1 >= env.limits.max_depth {
                out.problem(&name, Stage::Limit, "embedded messages nested too deep: not opened");
                continue;
            }
            let mut inner = Extraction::default();
            message_storage(cf, &att.join(ATTACH_EMBEDDED), depth + 1, env, &mut inner);
            out.absorb(&format!("embedded message {name}"), inner);
            continue;
        }
        let Some(data) = read_stream(cf, &att.join(ATTACH_DATA), env) else {
            out.problem(
                &name,
                Stage::Archive,
                "attachment data missing or over the unpacking limit",
            );
            continue;
        };
        if smime && name.eq_ignore_ascii_case("smime.p7m") {
            // The whole signed message: MIME (multipart/signed) or opaque CMS.
            out.absorb("", mail::extract_smime_blob(&data, depth + 1, env));
        } else {
            out.absorb(&name, extract_bytes(&data, &name, "", depth + 1, env));
        }
    }
}

/// TNEF (`winmail.dat`, application/ms-tnef): attachments hide in
/// attAttachData attributes, titled by attAttachTitle.
pub(crate) fn extract_tnef(bytes: &[u8], depth: usize, env: &Env<'_>) -> Extraction {
    const ATT_ATTACH_RENDDATA: u32 = 0x0006_9002;
    const ATT_ATTACH_TITLE: u32 = 0x0001_8010;
    const ATT_ATTACH_DATA: u32 = 0x0006_800F;
    let mut out = Extraction::default();
    let mut pos = 6; // signature + key
    let mut title = String::new();
    let mut count = 0;
    while pos + 9 <= bytes.len() {
        let id = u32::from_le_bytes(bytes[pos + 1..pos + 5].try_into().expect("4 bytes"));
        let len = u32::from_le_bytes(bytes[pos + 5..pos + 9].try_into().expect("4 bytes")) as usize;
        let start = pos + 9;
        let Some(data) = start.checked_add(len).and_then(|end| bytes.get(start..end)) else {
            out.problem(
                "",
                Stage::Archive,
                "TNEF attribute runs past the end of the data (truncated winmail.dat)",
            );
            break;
        };
        match id {
            ATT_ATTACH_RENDDATA => title.clear(),
            ATT_ATTACH_TITLE => {
                title = String::from_utf8_lossy(data).trim_end_matches('\0').to_owned()
            }
            ATT_ATTACH_DATA => {
                count += 1;
                let name =
                    if title.is_empty() { format!("attachment {count}") } else { title.clone() };
                out.absorb(&name, extract_bytes(data, &name, "", depth + 1, env));
            }
            _ => {}
        }
        pos = start + len + 2; // checksum
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(level: u8, id: u32, data: &[u8]) -> Vec<u8> {
        let mut v = vec![level];
        v.extend(id.to_le_bytes());
        v.extend((data.len() as u32).to_le_bytes());
        v.extend(data);
        v.extend([0, 0]);
        v
    }

    #[test]
    fn tnef_attachments_are_found_and_truncation_reported() {
        let pdf = b"%PDF-1.4\nnot signed\n%%EOF\n".to_vec();
        let mut t = TNEF_SIGNATURE.to_vec();
        t.extend([0x01, 0x00]);
        t.extend(attr(2, 0x0006_9002, &[0; 14]));
        t.extend(attr(2, 0x0001_8010, b"bao cao.pdf\0"));
        t.extend(attr(2, 0x0006_800F, &pdf));
        let env = Env::new(super::super::Limits::default(), None);
        let out = extract_tnef(&t, 0, &env);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let mut cut = t.clone();
        cut.truncate(t.len() - 10);
        assert_eq!(extract_tnef(&cut, 0, &env).problems.len(), 1);
    }
}
