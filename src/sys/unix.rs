//! Unix: `O_NOATIME`, `getdents` through rustix, `RENAME_EXCHANGE`,
//! SIGINT/SIGTERM.

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Opens for reading without updating the access time. `O_NOATIME` is only
/// allowed to the file's owner (or root); otherwise fall back to a plain
/// read-only open.
pub(crate) fn open_read(path: &Path) -> io::Result<File> {
    let noatime = rustix::fs::OFlags::NOATIME.bits() as i32;
    match std::fs::OpenOptions::new().read(true).custom_flags(noatime).open(path) {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::PERM.raw_os_error()) => {
            File::open(path)
        }
        other => other,
    }
}

// A folder's entries, a file's identity and stamp: on Unix the walk
// reads them through the folder's handle (src/source/dir.rs: openat,
// fstatat, one large getdents buffer), so nothing is needed here.

/// Opens `path` for writing without following a symbolic link planted
/// there (the open fails on a link instead).
pub(crate) fn open_write_nofollow(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
}

/// Swaps two folders in one step (renameat2 RENAME_EXCHANGE). Fails on
/// file systems without it: the caller then renames twice.
pub(crate) fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    let cwd = rustix::fs::CWD;
    Ok(rustix::fs::renameat_with(cwd, a, cwd, b, rustix::fs::RenameFlags::EXCHANGE)?)
}

/// SIGINT (Ctrl-C) and SIGTERM (systemd, kill) set `stop`.
pub(crate) fn stop_on_interrupt(stop: &Arc<AtomicBool>) -> Result<(), String> {
    for signal in [signal_hook::consts::signal::SIGINT, signal_hook::consts::signal::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| format!("cannot handle signal {signal}: {e}"))?;
    }
    Ok(())
}

/// The machine's host name.
pub(crate) fn host_name() -> String {
    rustix::system::uname().nodename().to_string_lossy().into_owned()
}

/// Whether a secret file is readable by its owner only (libpq ignores a
/// password file others can read; so does sigaudit).
pub(crate) fn owner_only(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o077 == 0
}
