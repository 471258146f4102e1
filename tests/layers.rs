//! The module layers declared in src/lib.rs hold: every `crate::module`
//! a top-level module names belongs to a lower layer. A new import against
//! the flow, or a module missing from the table, fails here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

/// module -> layer, from the table in src/lib.rs.
fn declared_layers(lib: &str) -> BTreeMap<String, usize> {
    let table = lib.split("//! ```text").nth(1).and_then(|t| t.split("//! ```").next()).expect("the layer table in src/lib.rs");
    let mut layers = BTreeMap::new();
    for line in table.lines().map(|l| l.trim_start_matches("//!").trim()) {
        let mut words = line.split_whitespace();
        let Some(Ok(layer)) = words.next().map(str::parse::<usize>) else { continue };
        // Module names run until the two-space gap before the description.
        let names = line.split("  ").map(str::trim).filter(|s| !s.is_empty()).nth(1).unwrap_or("");
        for name in names.split_whitespace() {
            layers.insert(name.to_owned(), layer);
        }
    }
    layers
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
        .filter(|(i, _)| !text[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
        .map(|(i, m)| text[i + m.len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>())
        .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .collect()
}

fn violations(src: &Path, layers: &BTreeMap<String, usize>) -> Vec<String> {
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_string_lossy().into_owned();
        if module == "lib" || module == "main" {
            continue;
        }
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
                    Some(&l) => problems.push(format!("{} (layer {layer}) uses crate::{used} (layer {l})", file.display())),
                    None if used == "VERSION" => {}
                    None => problems.push(format!("{} uses crate::{used}, which is not in the layer table", file.display())),
                }
            }
        }
    }
    problems
}

#[test]
fn every_import_follows_the_declared_layers() {
    let src = common::root().join("src");
    let layers = declared_layers(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    assert!(layers.len() >= 20, "the table lists the modules: {layers:?}");
    let problems = violations(&src, &layers);
    assert!(problems.is_empty(), "imports against the layers of src/lib.rs:\n{}", problems.join("\n"));
}

#[test]
fn an_import_against_the_flow_is_caught() {
    // A copy of src with one upward import (a model type reaching for the
    // report writer), as a careless change would add it.
    let dir = tempfile::tempdir().unwrap();
    let src = common::root().join("src");
    let status = std::process::Command::new("cp").arg("-a").arg(&src).arg(dir.path()).status().unwrap();
    assert!(status.success());
    let copy = dir.path().join("src");
    let finding = copy.join("model/finding.rs");
    let text = std::fs::read_to_string(&finding).unwrap();
    std::fs::write(&finding, format!("use crate::report::csv::pct;\n{text}")).unwrap();
    let layers = declared_layers(&std::fs::read_to_string(copy.join("lib.rs")).unwrap());
    let problems = violations(&copy, &layers);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("uses crate::report (layer 11)"), "{problems:?}");
}
