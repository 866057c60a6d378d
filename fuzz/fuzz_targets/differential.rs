#![no_main]
//! qwire's strict framer against serde_json; see `checks::differential`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| qwire_fuzz::checks::differential::check(data));
