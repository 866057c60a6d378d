#![no_main]
//! Chunking independence and the framer's promises; see `checks::framer`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| qwire_fuzz::checks::framer::check(data));
