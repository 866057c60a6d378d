#![no_main]
//! The QMP server fed any bytes; see `checks::qmp_server`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| qwire_fuzz::checks::qmp_server::check(data));
