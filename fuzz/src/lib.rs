//! The fuzz targets' check logic, shared with the regression replay in
//! `tests/tests/fuzz_regressions.rs` (which includes `checks/` by path, so
//! that plain `cargo test --workspace` replays `fuzz/regressions/` on
//! stable without building this crate).

pub mod checks;

// The C ABI's JSON access, compiled from the ffi crate's own sources: that
// crate builds only C libraries (staticlib, cdylib), which cannot be a Rust
// dependency. Its modules refer to `crate::status`, `crate::storage` and to
// the core as `qw`, hence the names here.
extern crate qwire as qw;

/// `ffi/src/status.rs`.
#[allow(non_camel_case_types, dead_code, missing_docs)]
#[path = "../../ffi/src/status.rs"]
pub mod status;

/// `ffi/src/storage.rs`.
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../../ffi/src/storage.rs"]
pub mod storage;

/// `ffi/src/json.rs`.
#[allow(non_camel_case_types, dead_code)]
#[path = "../../ffi/src/json.rs"]
pub mod json;
