//! Reading scanned files without changing them: read-only, `O_NOATIME`
//! where the kernel allows it, and never more than the limits say.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// Files up to this size are read whole when they look signed.
    pub max_file_bytes: u64,
    /// Bytes read to decide what a file is.
    pub sniff_bytes: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits { max_file_bytes: 512 << 20, sniff_bytes: 8 << 10 }
    }
}

/// Opens for reading without updating the access time. `O_NOATIME` is only
/// allowed to the file's owner (or root); otherwise fall back to a plain
/// read-only open.
pub fn open_noatime(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let noatime = rustix::fs::OFlags::NOATIME.bits() as i32;
    match std::fs::OpenOptions::new().read(true).custom_flags(noatime).open(path) {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::PERM.raw_os_error()) => File::open(path),
        other => other,
    }
}

/// Reads up to `n` bytes from the start of `file`.
pub fn read_head(file: &mut File, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    file.by_ref().take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Reads the rest of `file` after `head`, up to `limit` bytes in total.
/// The buffer is allocated once for what the file holds, never doubled.
pub fn read_rest(file: &mut File, mut head: Vec<u8>, limit: u64) -> io::Result<Vec<u8>> {
    let rest = limit.saturating_sub(head.len() as u64);
    let expected = file.metadata()?.len().min(limit).saturating_sub(head.len() as u64);
    head.reserve_exact(usize::try_from(expected).unwrap_or(0));
    file.by_ref().take(rest).read_to_end(&mut head)?;
    Ok(head)
}

/// Streams the rest of a file looking for `needle`, with bounded memory.
pub fn stream_contains(file: &mut File, head: &[u8], needle: &[u8]) -> io::Result<bool> {
    if memchr::memmem::find(head, needle).is_some() {
        return Ok(true);
    }
    let finder = memchr::memmem::Finder::new(needle);
    let mut carry: Vec<u8> = head[head.len().saturating_sub(needle.len())..].to_vec();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(false);
        }
        carry.extend_from_slice(&buf[..n]);
        if finder.find(&carry).is_some() {
            return Ok(true);
        }
        let keep = carry.len().saturating_sub(needle.len());
        carry.drain(..keep);
    }
}
