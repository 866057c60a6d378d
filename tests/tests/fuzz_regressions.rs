//! Replays the inputs kept in `fuzz/regressions/<target>/` through the same
//! check code the fuzz targets run (`fuzz/src/checks/`, included by path),
//! so plain `cargo test --workspace` on stable guards every bug a fuzzer
//! found, without nightly or cargo-fuzz.

#[allow(dead_code)]
#[path = "../../fuzz/src/checks/mod.rs"]
mod checks;

// `checks::c_json` calls the C ABI's JSON functions, compiled here from the
// ffi crate's sources as in the fuzz crate (see fuzz/src/lib.rs).
extern crate qwire as qw;

#[allow(non_camel_case_types, dead_code, missing_docs)]
#[path = "../../ffi/src/status.rs"]
mod status;

#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../../ffi/src/storage.rs"]
mod storage;

#[allow(non_camel_case_types, dead_code)]
#[path = "../../ffi/src/json.rs"]
mod json;

use std::path::PathBuf;

/// The kept inputs of one target, sorted (an absent folder is an error: a
/// target without regressions still keeps its hand-picked edge cases).
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: no inputs", dir.display());
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect()
}

/// Also replays `fuzz/corpus/<target>/` when `QWIRE_FUZZ_CORPUS` is set:
/// a whole corpus checked on stable, e.g. after changing the core.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect()
}

fn replay(target: &str, check: fn(&[u8])) {
    let mut all = inputs(target);
    if std::env::var_os("QWIRE_FUZZ_CORPUS").is_some() {
        all.extend(corpus(target));
    }
    for (path, data) in all {
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "{} fails its check", path.display());
    }
}

#[test]
fn framer() {
    replay("framer", checks::framer::check);
}

#[test]
fn differential() {
    replay("differential", checks::differential::check);
}

#[test]
fn unescape() {
    replay("unescape", checks::unescape::check);
}

#[test]
fn json_pointer() {
    replay("json_pointer", checks::json_pointer::check);
}

#[test]
fn envelope() {
    replay("envelope", checks::envelope::check);
}

#[test]
fn writer() {
    replay("writer", checks::writer::check);
}

#[test]
fn typed() {
    replay("typed", checks::typed::check);
}

#[test]
fn qga_agent() {
    replay("qga_agent", checks::qga_agent::check);
}

#[test]
fn qga_client() {
    replay("qga_client", checks::qga_client::check);
}

#[test]
fn qmp_client() {
    replay("qmp_client", checks::qmp_client::check);
}

#[test]
fn qmp_server() {
    replay("qmp_server", checks::qmp_server::check);
}

#[test]
fn c_json() {
    replay("c_json", checks::c_json::check);
}
