#![no_main]
//! The QMP client fed any bytes; see `checks::qmp_client`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| qwire_fuzz::checks::qmp_client::check(data));
