#![no_main]
//! classify, check_request and the reply builders; see `checks::envelope`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| qwire_fuzz::checks::envelope::check(data));
