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
/// On Windows: every share mode, access time kept ([`crate::sys::open_read`]).
pub(crate) fn open_noatime(path: &Path) -> io::Result<File> {
    crate::sys::open_read(path)
}

/// Reads up to `n` bytes from the start of `file`.
pub(crate) fn read_head(file: &mut File, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    file.by_ref().take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Reads the rest of `file` after `head`, up to `limit` bytes in total.
/// The buffer is allocated once for what the file holds, never doubled.
pub(crate) fn read_rest(file: &mut File, head: Vec<u8>, limit: u64) -> io::Result<Vec<u8>> {
    let size = file.metadata()?.len();
    read_upto(file, head, limit, size)
}

/// Reads the rest of a file of `size` bytes after `head` (its size already
/// known: no system call to ask it again), and one byte more if the file
/// has more: a result longer than `size` says the file grew since its size
/// was taken, without a stat to ask (the read that finds the end is made
/// anyway). The buffer is sized for `size` bytes.
pub(crate) fn read_whole(file: &mut File, head: Vec<u8>, size: u64) -> io::Result<Vec<u8>> {
    read_upto(file, head, size.saturating_add(1), size)
}

fn read_upto(file: &mut File, mut head: Vec<u8>, limit: u64, size: u64) -> io::Result<Vec<u8>> {
    let rest = limit.saturating_sub(head.len() as u64);
    let expected = size.min(limit).saturating_sub(head.len() as u64);
    head.reserve_exact(usize::try_from(expected).unwrap_or(0));
    file.by_ref().take(rest).read_to_end(&mut head)?;
    Ok(head)
}

/// Streams the rest of a file (after `head`, already read) through
/// `matches`, in chunks of a buffer each worker thread keeps: whether it
/// finds what it looks for. Each chunk is searched with the `overlap`
/// bytes before it, so that a marker across a seam is seen (`overlap` at
/// least the longest marker's length minus one).
pub(crate) fn stream_matches(
    file: &mut File,
    head: &[u8],
    overlap: usize,
    matches: impl Fn(&[u8]) -> bool,
) -> io::Result<bool> {
    const CHUNK: usize = 256 << 10;
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    if matches(head) {
        return Ok(true);
    }
    BUFFER.with_borrow_mut(|buf| {
        buf.resize(CHUNK + overlap, 0);
        let tail = &head[head.len().saturating_sub(overlap)..];
        buf[..tail.len()].copy_from_slice(tail);
        let mut kept = tail.len();
        loop {
            let n = file.read(&mut buf[kept..])?;
            if n == 0 {
                return Ok(false);
            }
            let end = kept + n;
            if matches(&buf[..end]) {
                return Ok(true);
            }
            kept = overlap.min(end);
            buf.copy_within(end - kept..end, 0);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, Write};

    /// A marker anywhere — in the head, across a seam between two chunks
    /// or the head and the first chunk, at the very end — is found; a file
    /// without it is not.
    #[test]
    fn streamed_markers_are_found_across_seams() {
        const MARKER: &[u8] = b"/ByteRange";
        let head_len = 8 << 10;
        let chunk = 256 << 10;
        let cases = [
            0,
            head_len - 4,
            head_len + chunk - 4,
            head_len + 3 * chunk - 9,
            4 * chunk - MARKER.len(),
        ];
        for at in cases {
            let mut bytes = vec![b'x'; 4 * chunk];
            bytes[at..at + MARKER.len()].copy_from_slice(MARKER);
            let mut f = tempfile::tempfile().unwrap();
            f.write_all(&bytes).unwrap();
            for overlap in [MARKER.len() - 1, 64] {
                f.rewind().unwrap();
                let head = read_head(&mut f, head_len).unwrap();
                assert!(
                    stream_matches(&mut f, &head, overlap, |b| memchr::memmem::find(b, MARKER)
                        .is_some())
                    .unwrap(),
                    "marker at {at}, overlap {overlap}"
                );
            }
        }
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&vec![b'x'; 3 * chunk + 17]).unwrap();
        f.rewind().unwrap();
        let head = read_head(&mut f, head_len).unwrap();
        assert!(
            !stream_matches(&mut f, &head, 64, |b| memchr::memmem::find(b, MARKER).is_some())
                .unwrap()
        );
    }
}
