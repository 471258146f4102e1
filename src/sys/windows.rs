//! Windows: handles opened with every share mode (a scan never locks a
//! clerk's open document), access times kept with `SetFileTime(-1)`,
//! folders listed and identified by file index through their handle
//! (`FILE_FLAG_BACKUP_SEMANTICS`), Ctrl-C through `SetConsoleCtrlHandler`.
//! Paths stay UTF-16 `OsString`s from end to end (Vietnamese names, UNC
//! shares such as `\\server\share\Sở Y tế`).

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::windows::ffi::OsStringExt;
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::AsRawHandle;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use windows_sys::Win32::Foundation::FILETIME;
use windows_sys::Win32::Storage::FileSystem::{
    BY_HANDLE_FILE_INFORMATION, FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_REPARSE_POINT,
    FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT, FILE_ID_BOTH_DIR_INFO,
    FILE_LIST_DIRECTORY, FILE_READ_ATTRIBUTES, FILE_SHARE_DELETE, FILE_SHARE_READ,
    FILE_SHARE_WRITE, FILE_WRITE_ATTRIBUTES, FileIdBothDirectoryInfo, GetFileInformationByHandle,
    GetFileInformationByHandleEx, SetFileTime,
};

use super::{FileId, Kind};

const GENERIC_READ: u32 = 0x8000_0000;
const SYNCHRONIZE: u32 = 0x0010_0000;
const SHARE_ALL: u32 = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
const IO_REPARSE_TAG_SYMLINK: u32 = 0xA000_000C;
const IO_REPARSE_TAG_MOUNT_POINT: u32 = 0xA000_0003;

/// Set once a share refused `FILE_WRITE_ATTRIBUTES` (a clerk with read
/// rights only): the run stops asking, which would cost a second open
/// (a network round trip) per file.
static NO_ATTRIBUTE_RIGHTS: AtomicBool = AtomicBool::new(false);

/// Opens with `access` (plus the right to keep the access time when the
/// share grants it) and tells Windows not to update the last-access time
/// through this handle: the documented `SetFileTime` with 0xFFFFFFFF.
fn open_keeping_atime(path: &Path, access: u32, flags: u32) -> io::Result<File> {
    let open = |access: u32| {
        OpenOptions::new().access_mode(access).share_mode(SHARE_ALL).custom_flags(flags).open(path)
    };
    if !NO_ATTRIBUTE_RIGHTS.load(Ordering::Relaxed) {
        match open(access | FILE_WRITE_ATTRIBUTES) {
            Ok(file) => {
                let keep = FILETIME { dwLowDateTime: u32::MAX, dwHighDateTime: u32::MAX };
                // SAFETY: a handle this function owns; null pointers leave
                // the creation and write times alone.
                unsafe {
                    SetFileTime(file.as_raw_handle(), std::ptr::null(), &keep, std::ptr::null())
                };
                return Ok(file);
            }
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                NO_ATTRIBUTE_RIGHTS.store(true, Ordering::Relaxed)
            }
            Err(e) => return Err(e),
        }
    }
    open(access)
}

/// Opens for reading, sharing read, write and delete with everyone (a
/// document open in Word stays editable), without updating its access time.
pub(crate) fn open_read(path: &Path) -> io::Result<File> {
    open_keeping_atime(path, GENERIC_READ, FILE_FLAG_BACKUP_SEMANTICS)
}

/// The entries of a folder, through a handle to the folder itself
/// (`GetFileInformationByHandleEx`, FileIdBothDirectoryInfo): one call
/// returns many entries with their kind and file index, and the folder's
/// access time is kept as for files.
pub(crate) fn list_dir(dir: &Path) -> io::Result<Vec<(OsString, Kind)>> {
    let handle = open_keeping_atime(
        dir,
        FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
        FILE_FLAG_BACKUP_SEMANTICS,
    )?;
    let volume = information(&handle).map(|i| i.dwVolumeSerialNumber as u64);
    // u64s: the records are 8-byte aligned.
    let mut buf = vec![0u64; 8192];
    let mut out = Vec::new();
    loop {
        // SAFETY: the buffer is writable for its whole byte length.
        let ok = unsafe {
            GetFileInformationByHandleEx(
                handle.as_raw_handle(),
                FileIdBothDirectoryInfo,
                buf.as_mut_ptr().cast(),
                (buf.len() * 8) as u32,
            )
        };
        if ok == 0 {
            let e = io::Error::last_os_error();
            // ERROR_NO_MORE_FILES: the listing is complete.
            if e.raw_os_error() == Some(18) {
                break;
            }
            if out.is_empty() {
                // A file system without the information class: the
                // plain listing (FindFirstFile) still works.
                return list_plain(dir);
            }
            return Err(e);
        }
        let bytes = buf.len() * 8;
        let base = buf.as_ptr().cast::<u8>();
        let mut offset = 0usize;
        let name_at = std::mem::offset_of!(FILE_ID_BOTH_DIR_INFO, FileName);
        loop {
            if offset + name_at > bytes {
                break;
            }
            // SAFETY: the record starts inside the buffer (checked above)
            // and Windows wrote it whole; read unaligned to be safe.
            let info: FILE_ID_BOTH_DIR_INFO =
                unsafe { std::ptr::read_unaligned(base.add(offset).cast()) };
            let len = info.FileNameLength as usize / 2;
            if offset + name_at + len * 2 > bytes {
                break;
            }
            let mut name = vec![0u16; len];
            // SAFETY: `len` UTF-16 units lie inside the buffer (checked).
            unsafe {
                std::ptr::copy_nonoverlapping(
                    base.add(offset + name_at),
                    name.as_mut_ptr().cast::<u8>(),
                    len * 2,
                )
            };
            if name != [b'.' as u16] && name != [b'.' as u16, b'.' as u16] {
                let id = match (volume, info.FileId) {
                    (Some(v), id) if id != 0 => Some((v, id as u64)),
                    _ => None,
                };
                out.push((OsString::from_wide(&name), kind(info.FileAttributes, info.EaSize, id)));
            }
            if info.NextEntryOffset == 0 {
                break;
            }
            offset += info.NextEntryOffset as usize;
        }
    }
    Ok(out)
}

/// For a reparse point, the EaSize field holds the reparse tag: only
/// symbolic links and junctions are links (a OneDrive placeholder is a file).
fn kind(attributes: u32, ea_size: u32, id: Option<FileId>) -> Kind {
    let link = attributes & FILE_ATTRIBUTE_REPARSE_POINT != 0
        && matches!(ea_size, IO_REPARSE_TAG_SYMLINK | IO_REPARSE_TAG_MOUNT_POINT);
    if link {
        Kind::Link
    } else if attributes & FILE_ATTRIBUTE_DIRECTORY != 0 {
        Kind::Dir(id)
    } else {
        Kind::File
    }
}

fn list_plain(dir: &Path) -> io::Result<Vec<(OsString, Kind)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = match entry.file_type() {
            Ok(t) if t.is_symlink() => Kind::Link,
            Ok(t) if t.is_dir() => Kind::Dir(None),
            Ok(t) if t.is_file() => Kind::File,
            _ => Kind::Other,
        };
        out.push((entry.file_name(), kind));
    }
    Ok(out)
}

fn information(file: &File) -> Option<BY_HANDLE_FILE_INFORMATION> {
    // SAFETY: all-zero is a valid value of this plain C struct.
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: a live handle and a struct of the right type.
    let ok = unsafe { GetFileInformationByHandle(file.as_raw_handle(), &mut info) };
    (ok != 0).then_some(info)
}

/// The identity of `path` (links followed): volume serial and file index.
/// When Windows cannot say, a value of the path alone (never equal to a
/// real identity's volume): loop detection then goes by path.
pub(crate) fn file_id(path: &Path, _meta: &std::fs::Metadata) -> FileId {
    let info = OpenOptions::new()
        .access_mode(FILE_READ_ATTRIBUTES)
        .share_mode(SHARE_ALL)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
        .open(path)
        .ok()
        .and_then(|f| information(&f));
    match info {
        Some(i) => (
            i.dwVolumeSerialNumber as u64,
            (i.nFileIndexHigh as u64) << 32 | i.nFileIndexLow as u64,
        ),
        None => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            path.hash(&mut h);
            (u64::MAX, h.finish())
        }
    }
}

/// Opens `path` for writing; a symbolic link or junction planted there is
/// opened itself, not followed (the caller then replaces it).
pub(crate) fn open_write_nofollow(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path)?;
    if file.metadata()?.file_type().is_symlink() {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, "a symbolic link, not followed"));
    }
    Ok(file)
}

/// Windows has no atomic swap of two folders (`ReplaceFile` is for files):
/// the caller renames twice.
pub(crate) fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "no folder exchange on Windows"))
}

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();

unsafe extern "system" fn on_ctrl(event: u32) -> i32 {
    if let Some(stop) = STOP.get() {
        stop.store(true, Ordering::SeqCst);
    }
    // Ctrl-C and Ctrl-Break (0, 1) are handled: the scan stops cleanly.
    // Closing the window or logging off (2, 5, 6) ends the process anyway.
    i32::from(event <= 1)
}

/// Ctrl-C and Ctrl-Break in the console window set `stop`.
pub(crate) fn stop_on_interrupt(stop: &Arc<AtomicBool>) -> Result<(), String> {
    if STOP.set(stop.clone()).is_err() {
        return Err("the Ctrl-C handler is already set".into());
    }
    // SAFETY: registers a handler that only touches an atomic.
    if unsafe { windows_sys::Win32::System::Console::SetConsoleCtrlHandler(Some(on_ctrl), 1) } == 0
    {
        return Err(format!("cannot handle Ctrl-C: {}", io::Error::last_os_error()));
    }
    Ok(())
}

/// The machine's name (as `hostname` prints it).
pub(crate) fn host_name() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown".into())
}

/// Windows guards secret files with ACLs, not mode bits (libpq does not
/// check them there either).
pub(crate) fn owner_only(_meta: &std::fs::Metadata) -> bool {
    true
}

/// Whether `path` is on a file server: a UNC path (`\\server\share`), or
/// a drive letter Windows reports as a network drive (`DRIVE_REMOTE`).
/// The scan keeps more requests in flight there (a round trip each).
pub(crate) fn is_network(path: &Path) -> bool {
    use std::os::windows::ffi::OsStrExt;
    use std::path::{Component, Prefix};
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let Some(Component::Prefix(prefix)) = absolute.components().next() else { return false };
    match prefix.kind() {
        Prefix::UNC(..) | Prefix::VerbatimUNC(..) => true,
        Prefix::Disk(letter) | Prefix::VerbatimDisk(letter) => {
            let root: Vec<u16> = std::ffi::OsStr::new(&format!("{}:\\", letter as char))
                .encode_wide()
                .chain([0])
                .collect();
            // SAFETY: a NUL-terminated wide string that outlives the call.
            let kind =
                unsafe { windows_sys::Win32::Storage::FileSystem::GetDriveTypeW(root.as_ptr()) };
            // DRIVE_REMOTE (WinBase.h; windows-sys has it under WindowsProgramming).
            kind == 4
        }
        _ => false,
    }
}
