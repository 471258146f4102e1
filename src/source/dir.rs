//! Folders as handles: a folder is opened once, listed with one large
//! buffer, and its files are stat'ed and opened relative to that handle
//! (`fstatat`, `openat`), so that a network file system resolves each
//! file's name in its folder instead of its whole path, component by
//! component. Never updates an access time (`O_NOATIME` where the kernel
//! allows it), never opens anything for writing.
//!
//! On other systems (Windows) the handle is the folder's path and every
//! call goes through `std::fs`: the same answers, with a path resolved
//! per call.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

pub(crate) use crate::sys::Kind;

/// What a stat says of an entry, links followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
    pub is_file: bool,
    pub is_dir: bool,
    /// (device, inode): what recognises a folder met twice (a loop).
    pub id: (u64, u64),
}

/// An open folder, read-only.
pub(crate) struct DirHandle {
    path: PathBuf,
    #[cfg(unix)]
    fd: rustix::fd::OwnedFd,
}

impl std::fmt::Debug for DirHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DirHandle").field(&self.path).finish()
    }
}

/// Bytes asked of the kernel per `getdents64`: a folder of a few hundred
/// entries comes in one call (one readdir round trip on a share) where
/// a 4 KiB buffer needs five.
#[cfg(unix)]
const LISTING_BUFFER: usize = 64 << 10;

#[cfg(unix)]
mod imp {
    use super::*;
    use rustix::fs::{AtFlags, FileType, Mode, OFlags};

    fn noatime_open(
        open: impl Fn(OFlags) -> rustix::io::Result<rustix::fd::OwnedFd>,
        flags: OFlags,
    ) -> io::Result<rustix::fd::OwnedFd> {
        // O_NOATIME is allowed to the owner (or root) only: otherwise a
        // plain read-only open.
        match open(flags | OFlags::NOATIME) {
            Err(rustix::io::Errno::PERM) => open(flags),
            other => other,
        }
        .map_err(io::Error::from)
    }

    const DIR_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC);

    pub(super) fn open_dir(path: &Path) -> io::Result<rustix::fd::OwnedFd> {
        noatime_open(|f| rustix::fs::open(path, f, Mode::empty()), DIR_FLAGS)
    }

    pub(super) fn open_dir_at(
        parent: &rustix::fd::OwnedFd,
        name: &OsStr,
    ) -> io::Result<rustix::fd::OwnedFd> {
        noatime_open(|f| rustix::fs::openat(parent, name, f, Mode::empty()), DIR_FLAGS)
    }

    pub(super) fn open_file_at(dir: &rustix::fd::OwnedFd, name: &OsStr) -> io::Result<File> {
        noatime_open(
            |f| rustix::fs::openat(dir, name, f, Mode::empty()),
            OFlags::RDONLY | OFlags::CLOEXEC,
        )
        .map(File::from)
    }

    pub(super) fn stat_of(st: &rustix::fs::Stat) -> Stat {
        let kind = FileType::from_raw_mode(st.st_mode);
        Stat {
            size: st.st_size as u64,
            mtime_ns: st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128,
            is_file: kind == FileType::RegularFile,
            is_dir: kind == FileType::Directory,
            // st_dev's width differs between targets.
            #[allow(clippy::useless_conversion)]
            id: (u64::from(st.st_dev), st.st_ino),
        }
    }

    pub(super) fn stat_at(
        dir: &rustix::fd::OwnedFd,
        name: &OsStr,
        follow: bool,
    ) -> io::Result<Stat> {
        let flags = if follow { AtFlags::empty() } else { AtFlags::SYMLINK_NOFOLLOW };
        rustix::fs::statat(dir, name, flags).map(|st| stat_of(&st)).map_err(io::Error::from)
    }

    pub(super) fn list(fd: &rustix::fd::OwnedFd) -> io::Result<Vec<(OsString, Kind)>> {
        use std::cell::RefCell;
        use std::mem::MaybeUninit;
        use std::os::unix::ffi::OsStrExt;
        thread_local! {
            static BUFFER: RefCell<Vec<MaybeUninit<u8>>> = const { RefCell::new(Vec::new()) };
        }
        BUFFER.with_borrow_mut(|buf| {
            buf.resize(LISTING_BUFFER, std::mem::MaybeUninit::uninit());
            let mut listing = rustix::fs::RawDir::new(fd, buf.as_mut_slice());
            let mut out = Vec::new();
            while let Some(entry) = listing.next() {
                let entry = entry.map_err(io::Error::from)?;
                let name = entry.file_name().to_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                let name = OsStr::from_bytes(name).to_os_string();
                let kind = match entry.file_type() {
                    FileType::RegularFile => Kind::File,
                    FileType::Directory => Kind::Dir(None),
                    FileType::Symlink => Kind::Link,
                    // Some file systems do not fill d_type: ask (links not followed).
                    FileType::Unknown => {
                        match rustix::fs::statat(fd, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) {
                            Ok(st) => match FileType::from_raw_mode(st.st_mode) {
                                FileType::RegularFile => Kind::File,
                                FileType::Directory => Kind::Dir(Some(stat_of(&st).id)),
                                FileType::Symlink => Kind::Link,
                                _ => Kind::Other,
                            },
                            Err(_) => Kind::Other,
                        }
                    }
                    _ => Kind::Other,
                };
                out.push((name, kind));
            }
            Ok(out)
        })
    }
}

impl DirHandle {
    /// Opens the folder at `path` (a SOURCE, or a folder of its own).
    pub(crate) fn open(path: &Path) -> io::Result<DirHandle> {
        #[cfg(unix)]
        {
            Ok(DirHandle { fd: imp::open_dir(path)?, path: path.to_path_buf() })
        }
        #[cfg(not(unix))]
        {
            if !std::fs::metadata(path)?.is_dir() {
                return Err(io::Error::new(io::ErrorKind::NotADirectory, "not a folder"));
            }
            Ok(DirHandle { path: path.to_path_buf() })
        }
    }

    /// Opens the sub-folder `name` of this folder (a link to a folder is
    /// followed: the walk decides before whether links are).
    pub(crate) fn open_child(&self, name: &OsStr) -> io::Result<DirHandle> {
        let path = self.path.join(name);
        #[cfg(unix)]
        {
            Ok(DirHandle { fd: imp::open_dir_at(&self.fd, name)?, path })
        }
        #[cfg(not(unix))]
        {
            DirHandle::open(&path)
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The folder's own stat (of the open handle: no name to resolve).
    pub(crate) fn stat_self(&self) -> io::Result<Stat> {
        #[cfg(unix)]
        {
            rustix::fs::fstat(&self.fd).map(|st| imp::stat_of(&st)).map_err(io::Error::from)
        }
        #[cfg(not(unix))]
        {
            stat_path(&self.path, true)
        }
    }

    /// Stat of the entry `name`, links followed or not.
    pub(crate) fn stat(&self, name: &OsStr, follow: bool) -> io::Result<Stat> {
        #[cfg(unix)]
        {
            imp::stat_at(&self.fd, name, follow)
        }
        #[cfg(not(unix))]
        {
            stat_path(&self.path.join(name), follow)
        }
    }

    /// Opens the file `name` of this folder for reading (no access time).
    pub(crate) fn open_file(&self, name: &OsStr) -> io::Result<File> {
        #[cfg(unix)]
        {
            imp::open_file_at(&self.fd, name)
        }
        #[cfg(not(unix))]
        {
            crate::sys::open_read(&self.path.join(name))
        }
    }

    /// The folder's entries (`.` and `..` left out), in the folder's order.
    pub(crate) fn list(&self) -> io::Result<Vec<(OsString, Kind)>> {
        #[cfg(unix)]
        {
            imp::list(&self.fd)
        }
        #[cfg(not(unix))]
        {
            crate::sys::list_dir(&self.path)
        }
    }
}

/// Stat by path, for what has no folder handle (a file given as SOURCE).
pub(crate) fn stat_path(path: &Path, follow: bool) -> io::Result<Stat> {
    let m = if follow { std::fs::metadata(path)? } else { std::fs::symlink_metadata(path)? };
    #[cfg(unix)]
    let (mtime_ns, id) = {
        use std::os::unix::fs::MetadataExt;
        (m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128, (m.dev(), m.ino()))
    };
    #[cfg(not(unix))]
    let (mtime_ns, id) = (crate::sys::mtime_ns(&m).unwrap_or(0), crate::sys::file_id(path, &m));
    Ok(Stat { size: m.len(), mtime_ns, is_file: m.is_file(), is_dir: m.is_dir(), id })
}

/// The entries of the folder at `path` (see [`DirHandle::list`]).
pub(crate) fn list_dir(path: &Path) -> io::Result<Vec<(OsString, Kind)>> {
    DirHandle::open(path)?.list()
}

/// What kind of file system a SOURCE sits on, for how many requests to
/// keep in flight: a round trip to a file server costs a millisecond or
/// more, a local disk's far less.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Medium {
    Local,
    /// A network (or user-space) file system, by name.
    Network(&'static str),
}

/// The medium of `path`, from `statfs`'s file system type on Linux; on
/// Windows a UNC path or a mapped network drive (`GetDriveTypeW`).
pub(crate) fn medium(path: &Path) -> Medium {
    #[cfg(unix)]
    {
        let Ok(fs) = rustix::fs::statfs(path) else { return Medium::Local };
        // f_type's width differs between targets.
        #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
        let magic = i64::from(fs.f_type) as u64 & 0xffff_ffff;
        match magic {
            0x6969 => Medium::Network("NFS"),
            0xFF53_4D42 => Medium::Network("CIFS"),
            0xFE53_4D42 => Medium::Network("SMB2"),
            0x517B => Medium::Network("SMB"),
            0x6573_5546 => Medium::Network("FUSE"),
            0x0102_1997 => Medium::Network("9P"),
            0x00C3_6400 => Medium::Network("Ceph"),
            0x5346_414F => Medium::Network("AFS"),
            0x6B41_4653 => Medium::Network("AFS"),
            0x0BD0_0BD0 => Medium::Network("Lustre"),
            0x4750_4653 => Medium::Network("GPFS"),
            _ => Medium::Local,
        }
    }
    #[cfg(windows)]
    {
        if crate::sys::is_network(path) { Medium::Network("SMB") } else { Medium::Local }
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = path;
        Medium::Local
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_listed_and_its_files_stated_and_opened_by_handle() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.pdf"), b"12345").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("a.pdf", dir.path().join("link")).unwrap();
        // More names than one small buffer holds.
        for i in 0..3000 {
            std::fs::write(dir.path().join(format!("f{i:05}-{}", "x".repeat(40))), b"").unwrap();
        }
        let handle = DirHandle::open(dir.path()).unwrap();
        let mut entries = handle.list().unwrap();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(entries.len(), 3003);
        assert_eq!(entries[0], (OsString::from("a.pdf"), Kind::File));
        assert!(entries.contains(&(OsString::from("link"), Kind::Link)));
        assert!(entries.contains(&(OsString::from("sub"), Kind::Dir(None))));
        let st = handle.stat(OsStr::new("link"), true).unwrap();
        assert!(st.is_file && st.size == 5);
        assert!(!handle.stat(OsStr::new("link"), false).unwrap().is_file);
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut handle.open_file(OsStr::new("a.pdf")).unwrap(),
            &mut text,
        )
        .unwrap();
        assert_eq!(text, "12345");
        let sub = handle.open_child(OsStr::new("sub")).unwrap();
        assert_eq!(sub.path(), dir.path().join("sub"));
        assert!(sub.stat_self().unwrap().is_dir);
        assert_eq!(medium(dir.path()), Medium::Local);
    }
}
