//! The layers declared in the source hold, between modules and between the
//! files of a module. src/lib.rs orders the top-level modules; each
//! folder of several files orders them the same way in its own table (at
//! the top of its `mod.rs`, or of `name.rs` beside the folder). A file may
//! use only what sits in a lower layer, so no circle can form; a new
//! import against the order, or a module or file missing from its table,
//! fails here. README's layer table is checked against src/lib.rs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common;

/// name -> layer, from the first ```text table of a file's doc comment:
/// `layer  names  what they are`.
fn declared_layers(doc: &str) -> Option<BTreeMap<String, usize>> {
    let table = doc.split("//! ```text").nth(1).and_then(|t| t.split("//! ```").next())?;
    let mut layers = BTreeMap::new();
    for line in table.lines().map(|l| l.trim_start_matches("//!").trim()) {
        let mut words = line.split_whitespace();
        let Some(Ok(layer)) = words.next().map(str::parse::<usize>) else { continue };
        // Names run until the two-space gap before the description.
        let names = line.split("  ").map(str::trim).filter(|s| !s.is_empty()).nth(1).unwrap_or("");
        for name in names.split_whitespace() {
            layers.insert(name.to_owned(), layer);
        }
    }
    Some(layers)
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            rust_files(&e.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

/// Every `crate::name` in `text`, comments included (a doc link is a dependency too).
fn named_modules(text: &str) -> Vec<String> {
    text.match_indices("crate::")
        .filter(|(i, _)| {
            !text[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$')
        })
        .map(|(i, m)| {
            text[i + m.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .collect()
}

fn violations(src: &Path, layers: &BTreeMap<String, usize>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_string_lossy().into_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        seen.insert(module.clone());
        let Some(&layer) = layers.get(&module) else {
            problems.push(format!("module `{module}` is not in the layer table of src/lib.rs"));
            continue;
        };
        let mut files = Vec::new();
        rust_files(&path, &mut files);
        for file in files {
            for used in named_modules(&std::fs::read_to_string(&file).unwrap()) {
                match layers.get(&used) {
                    Some(&l) if used == module || l < layer => {}
                    Some(&l) => problems.push(format!(
                        "{} (layer {layer}) uses crate::{used} (layer {l})",
                        file.display()
                    )),
                    None if used == "VERSION" => {}
                    None => problems.push(format!(
                        "{} uses crate::{used}, which is not in the layer table",
                        file.display()
                    )),
                }
            }
        }
    }
    problems.extend(
        layers
            .keys()
            .filter(|m| !seen.contains(*m))
            .map(|m| format!("src/lib.rs lists `{m}`, which is no module")),
    );
    problems
}

/// The module path of a file under `src`: `trust/chain.rs` is
/// `trust::chain`, `formats/pdf/mod.rs` is `formats::pdf`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut path: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    if path.last().is_some_and(|l| l == "mod") {
        path.pop();
    }
    path
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path `text` names through `crate::`, `super::` or `self::`,
/// made absolute (from the crate root) for a file at module path `here`;
/// a group `a::{b, c::d}` gives `a::b` and `a::c`. Comments included.
fn named_paths(text: &str, here: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (start, _) in text.match_indices("::") {
        let before = &text[..start];
        let word_start = before.rfind(|c: char| !is_ident(c)).map_or(0, |p| p + 1);
        let first = &before[word_start..];
        // The start of a path only: not `x::super`, not `$crate`.
        if before[..word_start].ends_with("::") || before[..word_start].ends_with('$') {
            continue;
        }
        let mut path: Vec<String> = match first {
            "crate" => Vec::new(),
            "self" => here.to_vec(),
            "super" => here[..here.len().saturating_sub(1)].to_vec(),
            _ => continue,
        };
        let mut rest = &text[start + 2..];
        loop {
            if let Some(group) = rest.strip_prefix('{') {
                // First segment of each item at the group's top level.
                let mut depth = 0;
                let mut item_start = true;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => item_start = true,
                        c if item_start && depth == 0 && is_ident(c) => {
                            let name: String =
                                group[i..].chars().take_while(|&c| is_ident(c)).collect();
                            if name != "self" {
                                out.push([path.clone(), vec![name]].concat());
                            }
                            item_start = false;
                        }
                        c if c.is_whitespace() => {}
                        _ => item_start = false,
                    }
                }
                break;
            }
            let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
            if name.is_empty() {
                break;
            }
            rest = &rest[name.len()..];
            if name == "super" {
                path.pop();
            } else {
                path.push(name);
            }
            match rest.strip_prefix("::") {
                Some(r) => rest = r,
                None => break,
            }
        }
        out.push(path);
    }
    out
}

/// The folders whose files are ordered: every folder under `src` with
/// more than one file or subfolder besides its `mod.rs`.
fn module_folders(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut units = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            module_folders(&p, out);
            units += 1;
        } else if p.extension().is_some_and(|e| e == "rs")
            && p.file_stem().is_some_and(|s| s != "mod")
        {
            units += 1;
        }
    }
    if units > 1 {
        out.push(dir.to_owned());
    }
}

/// The file holding a folder's table: its `mod.rs`, or `name.rs` beside it.
fn facade(folder: &Path) -> PathBuf {
    let inside = folder.join("mod.rs");
    if inside.exists() { inside } else { folder.with_extension("rs") }
}

/// The files (and subfolders) of each module folder against the order
/// declared in the folder's façade. The façade itself declares the files
/// and re-exports them: it is above them all and not in the table.
fn file_violations(src: &Path) -> Vec<String> {
    let mut folders = Vec::new();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            module_folders(&p, &mut folders);
        }
    }
    let mut problems = Vec::new();
    for folder in folders {
        let facade = facade(&folder);
        let shown = folder.strip_prefix(src).unwrap().display().to_string();
        let Some(layers) = declared_layers(&std::fs::read_to_string(&facade).unwrap()) else {
            problems.push(format!("{} has no table of its files' layers", facade.display()));
            continue;
        };
        let module = module_path(src, &facade);
        let mut units = BTreeSet::new();
        for e in std::fs::read_dir(&folder).unwrap() {
            let p = e.unwrap().path();
            let unit = p.file_stem().unwrap().to_string_lossy().into_owned();
            if unit == "mod" || !(p.is_dir() || p.extension().is_some_and(|e| e == "rs")) {
                continue;
            }
            units.insert(unit.clone());
            let Some(&layer) = layers.get(&unit) else {
                problems
                    .push(format!("{shown}/{unit} is not in the table of {}", facade.display()));
                continue;
            };
            let mut files = Vec::new();
            rust_files(&p, &mut files);
            for file in files {
                let text = std::fs::read_to_string(&file).unwrap();
                let used: BTreeSet<String> = named_paths(&text, &module_path(src, &file))
                    .into_iter()
                    .filter(|path| path.len() > module.len() && path[..module.len()] == module[..])
                    .map(|path| path[module.len()].clone())
                    .filter(|u| *u != unit)
                    .collect();
                for u in used {
                    match layers.get(&u) {
                        Some(&l) if l < layer => {}
                        Some(&l) => problems.push(format!(
                            "{} (layer {layer} in {shown}) uses {shown}/{u} (layer {l})",
                            file.display()
                        )),
                        // An item of the façade (a type, a function), not a file.
                        None => {}
                    }
                }
            }
        }
        problems.extend(
            layers
                .keys()
                .filter(|u| !units.contains(*u))
                .map(|u| format!("{} lists `{u}`, which is no file of {shown}", facade.display())),
        );
    }
    problems
}

#[test]
fn every_import_follows_the_declared_layers() {
    let src = common::root().join("src");
    let layers = declared_layers(&std::fs::read_to_string(src.join("lib.rs")).unwrap())
        .expect("the layer table in src/lib.rs");
    assert!(layers.len() >= 20, "the table lists the modules: {layers:?}");
    let problems = violations(&src, &layers);
    assert!(
        problems.is_empty(),
        "imports against the layers of src/lib.rs:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_file_inside_a_module_follows_its_folders_layers() {
    let src = common::root().join("src");
    let problems = file_violations(&src);
    assert!(
        problems.is_empty(),
        "imports against the layers of a module's files:\n{}",
        problems.join("\n")
    );
}

/// A copy of src, changed by `change`, as a careless edit would leave it.
fn changed_copy(change: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = common::root().join("src");
    let status =
        std::process::Command::new("cp").arg("-a").arg(&src).arg(dir.path()).status().unwrap();
    assert!(status.success());
    change(&dir.path().join("src"));
    dir
}

fn prepend(file: &Path, line: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    std::fs::write(file, format!("{line}\n{text}")).unwrap();
}

#[test]
fn an_import_against_the_flow_is_caught() {
    // One upward import: a model type reaching for the report writer.
    let dir =
        changed_copy(|src| prepend(&src.join("model/finding.rs"), "use crate::report::csv::pct;"));
    let copy = dir.path().join("src");
    let layers = declared_layers(&std::fs::read_to_string(copy.join("lib.rs")).unwrap()).unwrap();
    let problems = violations(&copy, &layers);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("uses crate::report (layer 11)"), "{problems:?}");
}

#[test]
fn a_circle_between_files_of_a_module_is_caught() {
    // The circle issue 27 found: RFC 5280's rules reaching for the chain
    // builder, which uses them. Each way of naming it is caught.
    for line in [
        "use super::chain::build;",
        "use crate::trust::{anchors, chain::build};",
        "/// See [`self::super::chain`].",
    ] {
        let dir = changed_copy(|src| prepend(&src.join("trust/rfc5280.rs"), line));
        let problems = file_violations(&dir.path().join("src"));
        assert_eq!(
            problems.len(),
            1 + usize::from(line.contains("anchors")),
            "{line}: {problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("rfc5280.rs (layer 0 in trust) uses trust/chain")),
            "{line}: {problems:?}"
        );
    }
    // Inside a subfolder, a file of a lower layer naming its parent's
    // sibling of a higher layer, through `super::super`.
    let dir = changed_copy(|src| {
        prepend(&src.join("formats/cms/signed_data.rs"), "use super::super::zip;")
    });
    let problems = file_violations(&dir.path().join("src"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("formats/cms/signed_data.rs")
            && problems[0].contains("uses formats/zip"),
        "{problems:?}"
    );
}

#[test]
fn a_new_file_missing_from_its_folders_table_is_caught() {
    let dir = changed_copy(|src| std::fs::write(src.join("trust/ocsp.rs"), "//! OCSP.\n").unwrap());
    let problems = file_violations(&dir.path().join("src"));
    assert_eq!(
        problems,
        vec![format!(
            "trust/ocsp is not in the table of {}",
            dir.path().join("src/trust/mod.rs").display()
        )]
    );
}

/// module -> layer from README's layout table: the `src/name.rs` and
/// `src/name/` a numbered line names (src/main.rs is no module).
fn readme_layers(readme: &str) -> BTreeMap<String, usize> {
    let table = readme
        .split("## Layout")
        .nth(1)
        .and_then(|t| t.split("```").nth(1))
        .expect("README's layout table");
    let mut layers = BTreeMap::new();
    let mut layer = None;
    for line in table.lines() {
        if let Some(Ok(n)) = line.split_whitespace().next().map(str::parse::<usize>) {
            layer = Some(n);
        }
        let Some(layer) = layer else { continue };
        for (i, _) in line.match_indices("src/") {
            let name: String = line[i + 4..].chars().take_while(|&c| is_ident(c)).collect();
            if name != "main" && name != "lib" && !name.is_empty() {
                layers.insert(name, layer);
            }
        }
    }
    layers
}

#[test]
fn the_readme_layer_table_is_the_one_of_lib_rs() {
    let root = common::root();
    let lib = declared_layers(&std::fs::read_to_string(root.join("src/lib.rs")).unwrap()).unwrap();
    let readme = readme_layers(&std::fs::read_to_string(root.join("README.md")).unwrap());
    assert_eq!(readme, lib, "README.md's layout table and src/lib.rs's disagree");
}

/// Lines that fit a review (issue 27): rustfmt's `max_width = 100` cannot
/// shorten a long string or comment, so this holds every Rust line of the
/// crate, its tests and fuzz targets to 100 characters.
#[test]
fn no_line_is_over_100_characters() {
    let root = common::root();
    let mut files = Vec::new();
    for dir in ["src", "tests/all", "fuzz/fuzz_targets"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "{} Rust files", files.len());
    let mut long = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let width = line.chars().count();
            if width > 100 {
                long.push(format!("{}:{}: {width} characters", file.display(), i + 1));
            }
        }
    }
    assert!(long.is_empty(), "lines over 100 characters:\n{}", long.join("\n"));
}
