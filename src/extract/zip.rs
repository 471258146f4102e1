//! ZIP archives (and the packages built on ZIP): every member goes back
//! through the extractors, with hard limits on members, sizes, ratios and
//! nesting so that a ZIP bomb costs an error row, not the machine.

use std::io::{Cursor, Read};

use super::{Env, Extraction, extract_bytes};
use crate::messages::Stage;

pub fn extract(bytes: &[u8], depth: usize, env: &Env<'_>) -> Extraction {
    let mut out = Extraction::default();
    let mut archive = match ::zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            out.problem("", Stage::Archive, format!("not a readable ZIP archive: {e}"));
            return out;
        }
    };
    let limits = env.limits;
    if archive.len() > limits.max_members {
        out.problem("", Stage::Limit, format!("{} members, more than the {} read per archive: the rest are not read", archive.len(), limits.max_members));
    }
    for i in 0..archive.len().min(limits.max_members) {
        // Metadata first, from the raw entry: nothing is decompressed yet.
        let (name, size, compressed, encrypted, is_file) = match archive.by_index_raw(i) {
            Ok(f) => (f.name().map(|n| n.into_owned()).unwrap_or_else(|_| format!("member {i}")), f.size(), f.compressed_size(), f.encrypted(), f.is_file()),
            Err(e) => {
                out.problem(format!("member {i}"), Stage::Archive, format!("unreadable entry: {e}"));
                continue;
            }
        };
        if !is_file {
            continue;
        }
        if encrypted {
            out.problem(&name, Stage::Archive, "encrypted member: cannot be read without the password");
            continue;
        }
        if compressed > 0 && size / compressed > limits.max_ratio {
            out.problem(&name, Stage::Limit, format!("compression ratio {}:1 is above {}:1 (a ZIP bomb?): not unpacked", size / compressed, limits.max_ratio));
            continue;
        }
        if !env.spend(size) {
            out.problem(&name, Stage::Limit, format!("{size} bytes would exceed the {} bytes that one file may unpack into: not unpacked", limits.max_unpacked_bytes));
            continue;
        }
        let mut data = Vec::with_capacity(size.min(64 << 20) as usize);
        let read = archive.by_index(i).and_then(|f| {
            // Never trust the declared size: read at most one byte more.
            f.take(size + 1).read_to_end(&mut data).map_err(::zip::result::ZipError::Io)
        });
        match read {
            Ok(_) if data.len() as u64 > size => {
                out.problem(&name, Stage::Limit, "member is larger than its declared size: not read");
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                out.problem(&name, Stage::Archive, format!("member cannot be unpacked: {e}"));
                continue;
            }
        }
        let file_name = name.rsplit('/').next().unwrap_or(&name).to_owned();
        out.absorb(&name, extract_bytes(&data, &file_name, "", depth + 1, env));
    }
    out
}
