#![no_main]
//! unescape against the framer and serde_json; see `checks::unescape`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| qwire_fuzz::checks::unescape::check(data));
