#![no_main]
//! The C ABI's JSON access against the Rust readers; see `checks::c_json`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| qwire_fuzz::checks::c_json::check(data));
