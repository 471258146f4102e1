//! The crawl: every regular file under the SOURCE arguments, in parallel-
//! friendly order, with excludes, symlink policy and error rows for what
//! cannot be listed.

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
pub fn walk(sources: &[PathBuf], opts: &WalkOptions, mut sink: impl FnMut(Result<Input, ErrorRow>)) {
    for source in sources {
        let walker = walkdir::WalkDir::new(source).follow_links(opts.follow_symlinks).follow_root_links(true);
        let mut it = walker.into_iter();
        while let Some(entry) = it.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().map(display).unwrap_or_else(|| display(source));
                    let reason = if let Some(ancestor) = e.loop_ancestor() {
                        format!("symbolic link loop back to {}: not followed", display(ancestor))
                    } else if let Some(io) = e.io_error() {
                        format!("cannot list or open: {io}")
                    } else {
                        e.to_string()
                    };
                    sink(Err(ErrorRow::new(path, "", Stage::Walk, reason)));
                    continue;
                }
            };
            let relative = entry.path().strip_prefix(source).unwrap_or(Path::new("")).to_string_lossy();
            if let Some(ex) = &opts.exclude {
                let name = entry.file_name().to_string_lossy();
                if entry.depth() > 0 && (ex.is_match(&*relative) || ex.is_match(name.as_ref())) {
                    if entry.file_type().is_dir() {
                        it.skip_current_dir();
                    }
                    continue;
                }
            }
            if !entry.file_type().is_file() {
                continue;
            }
            let relative_len = relative.len();
            drop(relative);
            let path = entry.into_path();
            if path.to_str().is_none() {
                sink(Err(ErrorRow::new(
                    display(&path),
                    "",
                    Stage::Path,
                    "file name is not valid UTF-8: shown with U+FFFD in reports (the file itself is still scanned)",
                )));
            }
            let display = display(&path);
            // A path's lossy text ends with its relative part's: a `/` never
            // belongs to an invalid UTF-8 sequence.
            let relative_start = display.len().saturating_sub(relative_len);
            sink(Ok(Input { display, relative_start, path }));
        }
    }
}

pub fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
