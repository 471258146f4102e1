//! What differs between operating systems, behind one set of functions:
//! opening a file or folder without changing it (no access-time update,
//! no lock on a user's file), a folder's entries, a file's identity and
//! change stamp, stopping on Ctrl-C, swapping two folders, the host name.
//! Everything above calls these and stays free of `cfg`.
//!
//! Its files, in layers (tests/all/layers.rs; this module's own file is
//! above them all):
//!
//! ```text
//! layer  files         what they hold
//! 0      unix windows  one of them is built: the same functions for each system
//! ```

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

use std::path::PathBuf;

/// A file's identity on its machine: (device or volume serial, inode or
/// file index). Two paths with the same identity are the same file.
pub(crate) type FileId = (u64, u64);

/// What a folder entry is, as the folder listing says (a link is not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    /// A folder, with its identity when the listing already gave it.
    Dir(Option<FileId>),
    Link,
    Other,
}

/// A modification time as nanoseconds since 1970 (negative before).
pub(crate) fn mtime_ns(m: &std::fs::Metadata) -> Option<i128> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128)
    }
    #[cfg(not(unix))]
    {
        let t = m.modified().ok()?;
        Some(match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(before) => -(before.duration().as_nanos() as i128),
        })
    }
}

/// The per-user data folder (`fetch-anchors` saves there): XDG on Unix,
/// `%LOCALAPPDATA%` on Windows.
pub(crate) fn data_dir() -> Option<PathBuf> {
    if cfg!(windows) {
        return std::env::var_os("LOCALAPPDATA")
            .or_else(|| std::env::var_os("APPDATA"))
            .map(PathBuf::from);
    }
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
}
