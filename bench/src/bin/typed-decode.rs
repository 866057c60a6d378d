//! Decode one sample message N times: a fixed workload for instruction
//! counting. Run it with N and with 0 and divide the difference by N to get
//! instructions per decode (the corpus read and set-up cancel out).
//!
//! `valgrind --tool=callgrind target/release/typed-decode <impl> <sample> <N>`
//! with `<impl>` one of `qwire` (framer + classify + decode), `qwire-parse`
//! (`Json::parse` instead of the framer), `qwire-trusted` (no validation:
//! classify + decode only), `serde` (serde_json into std structs), `qapi`;
//! with `<sample>` one of `query-version`, `query-status`, `query-commands`,
//! `guest-info`, `event`.

use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [imp, sample, n] = &args[..] else {
        panic!("usage: typed-decode <impl> <sample> <N>");
    };
    let n: u64 = n.parse().expect("N");
    let samples = qwire_bench::samples();
    let s = samples
        .iter()
        .find(|s| s.name == sample)
        .expect("sample name");
    let mut q = qwire_bench::QwireTyped::new();
    let mut sum = 0usize;
    for _ in 0..n {
        let bytes = black_box(&s.bytes[..]);
        sum += match imp.as_str() {
            "qwire" => q.decode(s.name, bytes),
            "qwire-parse" => q.decode_via(qwire_bench::Path::Parse, s.name, bytes),
            "qwire-trusted" => q.decode_via(qwire_bench::Path::Trusted, s.name, bytes),
            "serde" => qwire_bench::serde_std_decode(s.name, bytes),
            "qapi" => qwire_bench::qapi_decode(s.name, bytes),
            other => panic!("{other}"),
        };
    }
    println!("{imp} {sample} {} bytes x{n}: {sum}", s.bytes.len());
}
