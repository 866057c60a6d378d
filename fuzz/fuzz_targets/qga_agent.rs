#![no_main]
//! The QGA agent fed any bytes; see `checks::qga_agent`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| qwire_fuzz::checks::qga_agent::check(data));
