//! Hostile and truncated input: mutated copies of real signed files go
//! through every extractor; nothing may panic or hang, whatever the bytes.
//! (Longer runs: the cargo-fuzz targets in fuzz/.)

use crate::common;

use common::Rng;

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    match rng.below(5) {
        0 => b.truncate(rng.below(b.len())),
        1 => {
            for _ in 0..1 + rng.below(16) {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
        }
        2 => {
            // Overwrite a length-ish byte near a DER header with 0x80/0x84/0xff.
            let i = rng.below(b.len());
            b[i] = [0x80, 0x84, 0xff, 0x00][rng.below(4)];
        }
        3 => {
            let i = rng.below(b.len());
            let j = (i + rng.below(4096)).min(b.len());
            b.drain(i..j);
        }
        _ => {
            let i = rng.below(b.len());
            let chunk: Vec<u8> = b[i..(i + 64).min(b.len())].to_vec();
            for _ in 0..rng.below(50) {
                b.splice(i..i, chunk.iter().copied());
            }
        }
    }
    b
}

fn extract_any(bytes: &[u8]) {
    sigaudit::fuzz::every_parser(bytes);
}

#[test]
fn mutated_real_files_never_panic() {
    let Some(corpus) =
        common::shared_or_skip("robustness::mutated_real_files_never_panic", "corpus")
    else {
        return;
    };
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for dir in ["pdf", "cms", "smime", "ooxml", "odf"] {
        for e in std::fs::read_dir(corpus.join(dir)).unwrap() {
            let p = e.unwrap().path();
            let b = std::fs::read(&p).unwrap();
            if b.len() < 300_000 {
                seeds.push(b);
            }
        }
    }
    assert!(seeds.len() > 30);
    let mut rng = Rng(0x5eed_cafe_f00d);
    let start = std::time::Instant::now();
    let mut runs = 0;
    while runs < 3000 {
        let seed = &seeds[rng.below(seeds.len())];
        let m = mutate(&mut rng, seed);
        extract_any(&m);
        runs += 1;
    }
    assert!(start.elapsed().as_secs() < 120, "3000 mutated files took {:?}", start.elapsed());
}

#[test]
fn deep_and_huge_ber_is_refused_quickly() {
    let mut deep = Vec::new();
    for _ in 0..100_000 {
        deep.extend_from_slice(&[0x30, 0x80]);
    }
    assert!(sigaudit::SignedData::parse(&deep).is_err());
    // A length claiming 2^62 bytes.
    let huge = [0x30, 0x88, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x01, 0x00];
    assert!(sigaudit::SignedData::parse(&huge).is_err());
    // A PDF that is nothing but /ByteRange markers.
    let markers = b"/ByteRange [0 1 2 3] ".repeat(20_000);
    let start = std::time::Instant::now();
    let out = sigaudit::extract_pdf(&markers);
    assert!(out.signatures.is_empty());
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
}

#[test]
fn fuzzer_findings_stay_fixed() {
    let dir = common::root().join("tests/fixtures/fuzz");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let start = std::time::Instant::now();
        extract_any(&bytes);
        assert!(start.elapsed().as_secs() < 20, "{} took {:?}", path.display(), start.elapsed());
        n += 1;
    }
    assert!(n >= 1);
}

/// CI replays what the fuzzers learnt: every input of every committed
/// corpus (fuzz/corpus/TARGET: `cargo fuzz cmin`, then the inputs under
/// 4 KiB; see fuzz/corpus.sh), and the hostile shapes of issue 14 at a
/// thousandth of their size (the fuzzers' seeds), through the very
/// function each target fuzzes.
#[test]
fn every_fuzz_corpus_replays_without_a_panic_or_a_hang() {
    let shapes = tempfile::tempdir().unwrap();
    let script = common::root().join("tests/fixtures/make-hostile-inputs.py");
    let cases = [
        "xml-namespaces",
        "xml-signatures",
        "zip-declared",
        "zip-duplicates",
        "pdf-objects",
        "mbox-long-line",
        "mbox-large-message",
        "eml-large-header",
        "smime-large-base64",
    ];
    assert!(
        std::process::Command::new("python3")
            .arg(script)
            .arg("--small")
            .arg(shapes.path())
            .args(cases)
            .status()
            .unwrap()
            .success()
    );
    let files_in = |dir: &std::path::Path| -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for e in walkdir::WalkDir::new(dir) {
            let e = e.unwrap();
            if e.file_type().is_file() {
                files.push(e.into_path());
            }
        }
        files
    };
    let hostile = files_in(shapes.path());
    assert!(hostile.len() >= 12, "{hostile:?}");
    for (target, body) in sigaudit::fuzz::TARGETS {
        let corpus = files_in(&common::root().join("fuzz/corpus").join(target));
        assert!(corpus.len() >= 5, "{target}: {} inputs in fuzz/corpus/{target}", corpus.len());
        for path in corpus.iter().chain(&hostile) {
            let bytes = std::fs::read(path).unwrap();
            let start = std::time::Instant::now();
            body(&bytes);
            assert!(
                start.elapsed().as_secs() < 20,
                "{target}: {} took {:?}",
                path.display(),
                start.elapsed()
            );
        }
        eprintln!(
            "{target}: {} corpus inputs and {} hostile shapes replayed",
            corpus.len(),
            hostile.len()
        );
    }
}
