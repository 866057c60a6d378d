#![no_main]
//! JsonWriter driven by fuzzer-chosen calls; see `checks::writer`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| qwire_fuzz::checks::writer::check(data));
