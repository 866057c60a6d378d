//! The fuzz targets' check logic, shared with the regression replay in
//! `tests/tests/fuzz_regressions.rs` (which includes `checks/` by path, so
//! that plain `cargo test --workspace` replays `fuzz/regressions/` on
//! stable without building this crate).

pub mod checks;
