//! Unix: `O_NOATIME`, `getdents` through rustix, `RENAME_EXCHANGE`,
//! SIGINT/SIGTERM.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::{FileId, Kind};

/// Opens for reading without updating the access time. `O_NOATIME` is only
/// allowed to the file's owner (or root); otherwise fall back to a plain
/// read-only open.
pub fn open_read(path: &Path) -> io::Result<File> {
    let noatime = rustix::fs::OFlags::NOATIME.bits() as i32;
    match std::fs::OpenOptions::new().read(true).custom_flags(noatime).open(path) {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::PERM.raw_os_error()) => File::open(path),
        other => other,
    }
}

/// The entries of a folder, read with `O_NOATIME` where the kernel allows
/// it (the owner, or root): listing a folder would otherwise update its
/// access time, and sigaudit changes nothing it scans.
pub fn list_dir(dir: &Path) -> io::Result<Vec<(OsString, Kind)>> {
    use rustix::fs::{FileType, Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = match rustix::fs::open(dir, flags | OFlags::NOATIME, Mode::empty()) {
        Err(rustix::io::Errno::PERM) => rustix::fs::open(dir, flags, Mode::empty()),
        other => other,
    }?;
    let mut listing = rustix::fs::Dir::new(fd)?;
    let mut out = Vec::new();
    while let Some(entry) = listing.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let name = OsString::from_vec(name.to_vec());
        let kind = match entry.file_type() {
            FileType::RegularFile => Kind::File,
            FileType::Directory => Kind::Dir(None),
            FileType::Symlink => Kind::Link,
            FileType::Unknown => match std::fs::symlink_metadata(dir.join(&name)) {
                Ok(m) if m.is_file() => Kind::File,
                Ok(m) if m.is_dir() => Kind::Dir(Some((m.dev(), m.ino()))),
                Ok(m) if m.file_type().is_symlink() => Kind::Link,
                _ => Kind::Other,
            },
            _ => Kind::Other,
        };
        out.push((name, kind));
    }
    Ok(out)
}

/// The identity of the file `meta` describes: (device, inode).
pub fn file_id(_path: &Path, meta: &std::fs::Metadata) -> FileId {
    (meta.dev(), meta.ino())
}

/// (size, mtime in ns) of files, folder by folder: the files of one
/// folder are stat'ed relative to it (fstatat), so the kernel resolves
/// the folder's path once per folder instead of once per file.
#[derive(Default)]
pub struct Stamper {
    dir: Option<(PathBuf, Option<rustix::fd::OwnedFd>)>,
}

impl Stamper {
    /// Follows symlinks, as `fs::metadata` does.
    pub fn stamp(&mut self, path: &Path) -> Option<(u64, i128)> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return plain_stamp(path);
        };
        if self.dir.as_ref().is_none_or(|(p, _)| p != parent) {
            let folder = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            let handle = rustix::fs::open(folder, rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC, rustix::fs::Mode::empty()).ok();
            self.dir = Some((parent.to_path_buf(), handle));
        }
        match &self.dir {
            Some((_, Some(fd))) => {
                rustix::fs::statat(fd, name, rustix::fs::AtFlags::empty()).ok().map(|st| (st.st_size as u64, st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128))
            }
            _ => plain_stamp(path),
        }
    }
}

fn plain_stamp(path: &Path) -> Option<(u64, i128)> {
    std::fs::metadata(path).ok().and_then(|m| Some((m.len(), super::mtime_ns(&m)?)))
}

/// Opens `path` for writing without following a symbolic link planted
/// there (the open fails on a link instead).
pub fn open_write_nofollow(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new().write(true).create(true).truncate(false).custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32).open(path)
}

/// Swaps two folders in one step (renameat2 RENAME_EXCHANGE). Fails on
/// file systems without it: the caller then renames twice.
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    let cwd = rustix::fs::CWD;
    Ok(rustix::fs::renameat_with(cwd, a, cwd, b, rustix::fs::RenameFlags::EXCHANGE)?)
}

/// SIGINT (Ctrl-C) and SIGTERM (systemd, kill) set `stop`.
pub fn stop_on_interrupt(stop: &Arc<AtomicBool>) -> Result<(), String> {
    for signal in [signal_hook::consts::signal::SIGINT, signal_hook::consts::signal::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).map_err(|e| format!("cannot handle signal {signal}: {e}"))?;
    }
    Ok(())
}

/// The machine's host name.
pub fn host_name() -> String {
    rustix::system::uname().nodename().to_string_lossy().into_owned()
}

/// Whether a secret file is readable by its owner only (libpq ignores a
/// password file others can read; so does sigaudit).
pub fn owner_only(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o077 == 0
}
