//! The crawl: every regular file under the SOURCE arguments, with
//! excludes, symlink policy and error rows for what cannot be listed.
//! Folders are listed in parallel, each by the worker that takes it, and
//! each folder's files are handed on in small batches as soon as the
//! folder is listed: the walk never runs far ahead of the work on its
//! files, so what the listing brought (names, attributes, in a network
//! client's caches) is still fresh when a file is stat'ed and opened.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use globset::GlobSet;

use super::dir::{DirHandle, Stat, stat_path};
pub(crate) use super::dir::{Kind, list_dir};
use crate::messages::{ErrorRow, Stage};

#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    pub follow_symlinks: bool,
    pub exclude: Option<GlobSet>,
}

/// One file to scan.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    pub path: PathBuf,
    /// The path as reached from the SOURCE argument (like ripgrep prints it).
    pub display: String,
    /// Where in `display` the path relative to its SOURCE root starts.
    relative_start: usize,
    /// The open folder the file was listed in: it is stat'ed and opened
    /// relative to it (no path resolved twice).
    dir: Option<Arc<DirHandle>>,
}

impl Input {
    /// A file given by itself (not found under a SOURCE folder).
    pub(crate) fn file(path: PathBuf) -> Input {
        let display = display(&path);
        Input { relative_start: display.len(), display, path, dir: None }
    }

    /// The path relative to its SOURCE root, for agency path rules.
    pub(crate) fn relative(&self) -> &str {
        &self.display[self.relative_start..]
    }

    fn name(&self) -> &OsStr {
        self.path.file_name().unwrap_or(self.path.as_os_str())
    }

    /// The file's stat, links followed: one `fstatat` in its folder.
    pub(crate) fn stat(&self) -> std::io::Result<Stat> {
        match &self.dir {
            Some(dir) => dir.stat(self.name(), true),
            None => stat_path(&self.path, true),
        }
    }

    /// Opens the file for reading without touching it: `openat` in its
    /// folder, `O_NOATIME` where allowed.
    pub(crate) fn open(&self) -> std::io::Result<std::fs::File> {
        match &self.dir {
            Some(dir) => dir.open_file(self.name()),
            None => super::read::open_noatime(&self.path),
        }
    }
}

/// What the walk hands on, and asks, as it goes (called from any worker).
pub(crate) trait WalkSink: Sync {
    /// How many more files (and walk errors) the walk has found: said as
    /// soon as a folder is listed, before they are handed on.
    fn found(&self, n: usize);
    /// Files (and walk errors) of one folder, a batch at a time.
    fn files(&self, batch: Vec<Result<Input, ErrorRow>>);
    /// Set when the scan is to stop: no folder is listed any more.
    fn stopped(&self) -> bool;
    /// Every folder is listed (the files may still be at work).
    fn walk_done(&self);
}

/// Files of a folder handed on together: enough to amortise a task, few
/// enough that a folder's files spread over the workers.
const BATCH: usize = 8;

/// Walks every source in the current rayon pool, handing each folder's
/// files to `sink` as a task of their own. Returns when every folder is
/// listed and every batch handed on has returned.
pub(crate) fn walk_parallel(sources: &[PathBuf], opts: &WalkOptions, sink: &dyn WalkSink) {
    // Folders still to list: the walk is done when none is left.
    let pending = AtomicUsize::new(1);
    let walker = &Walker { opts, sink, pending: &pending };
    rayon::scope(|scope| {
        for source in sources {
            // A SOURCE that is a link is followed, whatever --follow-symlinks says.
            match stat_path(source, true) {
                Err(e) => walker.now(vec![Err(ErrorRow::new(
                    display(source),
                    "",
                    Stage::Walk,
                    format!(
                        "SOURCE cannot be read (missing, or a share not mounted?): {e}; the rest \
                         is audited, its agencies' audit is incomplete"
                    ),
                ))]),
                Ok(st) if st.is_dir => {
                    walker.pending.fetch_add(1, Ordering::Relaxed);
                    let root = Folder {
                        at: Place::Root(source.clone()),
                        root: source.clone(),
                        id: Some(st.id),
                        ancestors: None,
                    };
                    scope.spawn(move |scope| walker.folder(scope, root));
                }
                Ok(st) if st.is_file => {
                    let mut batch = Vec::new();
                    push_file(&mut batch, source.clone(), 0, None);
                    walker.now(batch);
                }
                Ok(_) => {}
            }
        }
        walker.folder_done();
    });
}

struct Walker<'a> {
    opts: &'a WalkOptions,
    sink: &'a dyn WalkSink,
    pending: &'a AtomicUsize,
}

/// A folder still to list: how to open it, its SOURCE root, and the
/// (device, inode) of each folder above it, to recognise a link that
/// leads back up (a loop).
struct Folder {
    at: Place,
    root: PathBuf,
    /// Its (device, inode) when the walk already knows it (a followed link).
    id: Option<(u64, u64)>,
    ancestors: Option<Arc<Ancestor>>,
}

enum Place {
    Root(PathBuf),
    In(Arc<DirHandle>, OsString),
}

struct Ancestor {
    id: (u64, u64),
    path: PathBuf,
    up: Option<Arc<Ancestor>>,
}

impl Walker<'_> {
    /// Hands on what is found, at once.
    fn now(&self, batch: Vec<Result<Input, ErrorRow>>) {
        self.sink.found(batch.len());
        self.sink.files(batch);
    }

    fn folder_done(&self) {
        if self.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.sink.walk_done();
        }
    }

    fn folder<'s>(&'s self, scope: &rayon::Scope<'s>, folder: Folder) {
        let files = self.list(scope, folder);
        self.folder_done();
        if let Some(files) = files {
            self.drain(&files);
        }
    }

    /// Lists a folder: its sub-folders are spawned, its files returned.
    #[expect(clippy::too_many_lines, reason = "103 lines, from before the limit")]
    fn list<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        Folder { at, root, id, ancestors }: Folder,
    ) -> Option<Arc<Batches>> {
        if self.sink.stopped() {
            return None;
        }
        let path = match &at {
            Place::Root(p) => p.clone(),
            Place::In(parent, name) => parent.path().join(name),
        };
        let fail = |e: std::io::Error| {
            self.now(vec![Err(ErrorRow::new(
                display(&path),
                "",
                Stage::Walk,
                format!("cannot list or open: {e}"),
            ))]);
            None
        };
        let opened = match &at {
            Place::Root(p) => DirHandle::open(p),
            Place::In(parent, name) => parent.open_child(name),
        };
        let dir = match opened {
            Ok(d) => Arc::new(d),
            Err(e) => return fail(e),
        };
        // Its identity from the open handle: no name resolved again.
        let id = match id.map_or_else(|| dir.stat_self().map(|s| s.id), Ok) {
            Ok(id) => id,
            Err(e) => return fail(e),
        };
        let mut up = ancestors.as_deref();
        while let Some(a) = up {
            if a.id == id && id != (0, 0) {
                let reason =
                    format!("symbolic link loop back to {}: not followed", display(&a.path));
                self.now(vec![Err(ErrorRow::new(display(&path), "", Stage::Walk, reason))]);
                return None;
            }
            up = a.up.as_deref();
        }
        let entries = match dir.list() {
            Ok(entries) => entries,
            Err(e) => return fail(e),
        };
        let here = Arc::new(Ancestor { id, path: path.clone(), up: ancestors });
        let mut batch = Vec::with_capacity(BATCH);
        let mut batches = Vec::new();
        let mut folders = Vec::new();
        for (name, kind) in entries {
            let file = path.join(&name);
            let relative =
                file.strip_prefix(&root).unwrap_or(Path::new("")).to_string_lossy().into_owned();
            if let Some(ex) = &self.opts.exclude
                && (ex.is_match(&relative) || ex.is_match(name.to_string_lossy().as_ref()))
            {
                continue;
            }
            let kind = match kind {
                Kind::Link if self.opts.follow_symlinks => match dir.stat(&name, true) {
                    Ok(st) if st.is_dir => Kind::Dir(Some(st.id)),
                    Ok(st) if st.is_file => Kind::File,
                    Ok(_) => continue,
                    Err(e) => {
                        batch.push(Err(ErrorRow::new(
                            display(&file),
                            "",
                            Stage::Walk,
                            format!("cannot follow the link: {e}"),
                        )));
                        continue;
                    }
                },
                other => other,
            };
            match kind {
                Kind::File => push_file(&mut batch, file, relative.len(), Some(dir.clone())),
                Kind::Dir(id) => {
                    self.pending.fetch_add(1, Ordering::Relaxed);
                    folders.push(Folder {
                        at: Place::In(dir.clone(), name),
                        root: root.clone(),
                        id,
                        ancestors: Some(here.clone()),
                    });
                }
                Kind::Link | Kind::Other => {}
            }
            if batch.len() >= BATCH {
                batches.push(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
            }
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
        // This worker works through the folder's files at once (see
        // `folder`), while the listing is fresh in a network client's
        // caches (1 s on CIFS); idle workers first help with them (the
        // helpers are the oldest tasks here, which others take first),
        // then take the sub-folders.
        self.sink.found(batches.iter().map(Vec::len).sum());
        let files = Arc::new(Mutex::new(batches.into_iter()));
        let helpers = files.lock().map_or(0, |f| f.len()).saturating_sub(1);
        for _ in 0..helpers {
            let files = files.clone();
            scope.spawn(move |_| self.drain(&files));
        }
        for sub in folders {
            scope.spawn(move |scope| self.folder(scope, sub));
        }
        Some(files)
    }

    /// Scans a folder's batches of files until none is left.
    fn drain(&self, files: &Batches) {
        while let Some(batch) = files.lock().ok().and_then(|mut f| f.next()) {
            self.sink.files(batch);
        }
    }
}

/// A listed folder's files, in batches, for whichever worker takes one.
type Batches = Mutex<std::vec::IntoIter<Vec<Result<Input, ErrorRow>>>>;

fn push_file(
    batch: &mut Vec<Result<Input, ErrorRow>>,
    path: PathBuf,
    relative_len: usize,
    dir: Option<Arc<DirHandle>>,
) {
    if path.to_str().is_none() {
        batch.push(Err(ErrorRow::new(
            display(&path),
            "",
            Stage::Path,
            "file name is not valid UTF-8: shown with U+FFFD in reports (the file itself is still \
             scanned)",
        )));
    }
    let display = display(&path);
    // A path's lossy text ends with its relative part's: a `/` never
    // belongs to an invalid UTF-8 sequence.
    let relative_start = display.len().saturating_sub(relative_len);
    batch.push(Ok(Input { display, relative_start, path, dir }));
}

pub(crate) fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
