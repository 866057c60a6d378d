#![no_main]
//! Json::pointer on arbitrary documents and pointers; see `checks::json_pointer`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| qwire_fuzz::checks::json_pointer::check(data));
