#![no_main]
//! every generated QMP/QGA decoder on arbitrary JSON; see `checks::typed`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| qwire_fuzz::checks::typed::check(data));
