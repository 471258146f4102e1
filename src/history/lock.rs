//! One scan at a time per database: an advisory lock (`File::try_lock`,
//! flock on Linux) on `<db>.lock`. The kernel drops it when the holder exits, even on kill -9,
//! so a crashed run never leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Held for as long as it lives.
pub(crate) struct Lock {
    _file: File,
}

pub(crate) fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    db.with_file_name(name)
}

/// Takes the lock of `db`, waiting up to `wait` for another run to finish.
/// The error says who holds it.
pub(crate) fn acquire(db: &Path, wait: Duration) -> Result<Lock, super::HistoryError> {
    let path = lock_path(db);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| super::HistoryError::Locked(format!("{}: {e}", path.display())))?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => {
                let _ = file.set_len(0);
                let _ = file.rewind();
                let started = crate::model::rfc3339(time::OffsetDateTime::now_utc());
                let _ = write!(file, "pid {} since {started}", std::process::id());
                let _ = file.flush();
                return Ok(Lock { _file: file });
            }
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(super::HistoryError::Locked(format!(
                    "{}: cannot lock: {err}",
                    path.display()
                )));
            }
        }
        if Instant::now() >= deadline {
            let mut holder = String::new();
            let _ = file.rewind();
            let _ = file.read_to_string(&mut holder);
            let waited = if wait.is_zero() {
                String::new()
            } else {
                format!(" (waited {} s)", wait.as_secs())
            };
            return Err(super::HistoryError::Locked(format!(
                "another sigaudit run ({}) is using {}{waited}: it was left alone; try again \
                 later or pass --wait SECONDS",
                if holder.is_empty() { "unknown process".into() } else { holder },
                db.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
