//! The crawl: every regular file under the SOURCE arguments, in parallel-
//! friendly order, with excludes, symlink policy and error rows for what
//! cannot be listed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use globset::GlobSet;

use crate::messages::{ErrorRow, Stage};

#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    pub follow_symlinks: bool,
    pub exclude: Option<GlobSet>,
}

/// One file to scan.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    /// The path as reached from the SOURCE argument (like ripgrep prints it).
    pub display: String,
    /// Where in `display` the path relative to its SOURCE root starts.
    relative_start: usize,
}

impl Input {
    /// A file given by itself (not found under a SOURCE folder).
    pub fn file(path: PathBuf) -> Input {
        let display = display(&path);
        Input { relative_start: display.len(), display, path }
    }

    /// The path relative to its SOURCE root, for agency path rules.
    pub fn relative(&self) -> &str {
        &self.display[self.relative_start..]
    }
}

/// Walks every source, sending each file or error to `sink`. The walk is
/// sequential (directory listing is cheap); the per-file work is parallel.
/// Folders are read through [`list_dir`] (no access-time update); order is
/// the folders' own (reports sort their rows).
pub fn walk(sources: &[PathBuf], opts: &WalkOptions, mut sink: impl FnMut(Result<Input, ErrorRow>)) {
    for source in sources {
        // A SOURCE that is a link is followed, whatever --follow-symlinks says.
        match std::fs::metadata(source) {
            Err(e) => sink(Err(ErrorRow::new(
                display(source),
                "",
                Stage::Walk,
                format!("SOURCE cannot be read (missing, or a share not mounted?): {e}; the rest is audited, its agencies' audit is incomplete"),
            ))),
            Ok(m) if m.is_dir() => walk_tree(source, crate::sys::file_id(source, &m), opts, &mut sink),
            Ok(m) if m.is_file() => emit(source.clone(), 0, &mut sink),
            Ok(_) => {}
        }
    }
}

/// A folder still to list: its path and the (device, inode) of each folder
/// above it, to recognise a link that leads back up (a loop).
struct Pending {
    dir: PathBuf,
    ancestors: Vec<(u64, u64, PathBuf)>,
}

fn walk_tree(root: &Path, id: (u64, u64), opts: &WalkOptions, sink: &mut impl FnMut(Result<Input, ErrorRow>)) {
    let mut stack = vec![Pending { dir: root.to_path_buf(), ancestors: vec![(id.0, id.1, root.to_path_buf())] }];
    while let Some(Pending { dir, ancestors }) = stack.pop() {
        let entries = match list_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                sink(Err(ErrorRow::new(display(&dir), "", Stage::Walk, format!("cannot list or open: {e}"))));
                continue;
            }
        };
        for (name, kind) in entries {
            let path = dir.join(&name);
            let relative = path.strip_prefix(root).unwrap_or(Path::new("")).to_string_lossy().into_owned();
            if let Some(ex) = &opts.exclude
                && (ex.is_match(&relative) || ex.is_match(name.to_string_lossy().as_ref()))
            {
                continue;
            }
            let kind = match kind {
                Kind::Link if opts.follow_symlinks => match std::fs::metadata(&path) {
                    Ok(m) if m.is_dir() => Kind::Dir(Some(crate::sys::file_id(&path, &m))),
                    Ok(m) if m.is_file() => Kind::File,
                    Ok(_) => continue,
                    Err(e) => {
                        sink(Err(ErrorRow::new(display(&path), "", Stage::Walk, format!("cannot follow the link: {e}"))));
                        continue;
                    }
                },
                other => other,
            };
            match kind {
                Kind::File => emit(path, relative.len(), sink),
                Kind::Dir(id) => {
                    let id = match id {
                        Some(id) => id,
                        None => match std::fs::symlink_metadata(&path) {
                            Ok(m) => crate::sys::file_id(&path, &m),
                            Err(e) => {
                                sink(Err(ErrorRow::new(display(&path), "", Stage::Walk, format!("cannot list or open: {e}"))));
                                continue;
                            }
                        },
                    };
                    if let Some((_, _, ancestor)) = ancestors.iter().find(|(dev, ino, _)| (*dev, *ino) == id) {
                        let reason = format!("symbolic link loop back to {}: not followed", display(ancestor));
                        sink(Err(ErrorRow::new(display(&path), "", Stage::Walk, reason)));
                        continue;
                    }
                    let mut below = ancestors.clone();
                    below.push((id.0, id.1, path.clone()));
                    stack.push(Pending { dir: path, ancestors: below });
                }
                Kind::Link | Kind::Other => {}
            }
        }
    }
}

fn emit(path: PathBuf, relative_len: usize, sink: &mut impl FnMut(Result<Input, ErrorRow>)) {
    if path.to_str().is_none() {
        sink(Err(ErrorRow::new(display(&path), "", Stage::Path, "file name is not valid UTF-8: shown with U+FFFD in reports (the file itself is still scanned)")));
    }
    let display = display(&path);
    // A path's lossy text ends with its relative part's: a `/` never
    // belongs to an invalid UTF-8 sequence.
    let relative_start = display.len().saturating_sub(relative_len);
    sink(Ok(Input { display, relative_start, path }));
}

/// What a folder entry is, as the folder listing says (a link is not followed).
pub use crate::sys::Kind;

/// The entries of a folder, without updating its access time where the
/// system allows it (sigaudit changes nothing it scans): [`crate::sys::list_dir`].
pub fn list_dir(dir: &Path) -> std::io::Result<Vec<(OsString, Kind)>> {
    crate::sys::list_dir(dir)
}

pub fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
