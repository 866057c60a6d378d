#![no_main]
//! The QGA sync client fed any bytes; see `checks::qga_client`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| qwire_fuzz::checks::qga_client::check(data));
