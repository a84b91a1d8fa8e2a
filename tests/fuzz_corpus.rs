//! Replays the fuzz corpus (`fuzz/corpus/TARGET/*`: seeds, inputs libFuzzer kept for the coverage
//! they reach, and every input that once crashed) through the same entry points the fuzz targets
//! call, so that what fuzzing found stays fixed. Fuzzing itself runs on nightly; see `fuzz/`.

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus {} is empty", dir.display());
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect()
}

fn replay(target: &str, run: fn(&[u8])) {
    let inputs = corpus(target);
    for (path, data) in &inputs {
        eprintln!("{target}: {}", path.display());
        run(data);
    }
    eprintln!("{target}: {} inputs replayed", inputs.len());
}

#[test]
fn the_wayland_corpus_replays() {
    replay("wayland", porthole::fuzzing::wayland);
}

#[test]
fn the_control_corpus_replays() {
    replay("control", porthole::fuzzing::control);
}

#[test]
fn the_config_corpus_replays() {
    replay("config", porthole::fuzzing::config);
}
