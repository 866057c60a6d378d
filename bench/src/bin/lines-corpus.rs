//! The line-based peers' way over a corpus once: split (on `\n` for QEMU's
//! transcripts, on blank lines for libvirt's), then `serde_json::from_slice`
//! each message into `IgnoredAny` or `serde_json::Value`.
//!
//! `valgrind --tool=callgrind target/release/lines-corpus [libvirt|qemu-7.2] [ignored|value]`

use qwire_bench::{lines_ignored, lines_value, named, Split};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "libvirt".into());
    let into = args.next().unwrap_or_else(|| "ignored".into());
    let input = named(&name);
    let split = Split::for_corpus(&name);
    let n = match into.as_str() {
        "ignored" => lines_ignored(&input, split),
        "value" => lines_value(&input, split),
        other => panic!("{other}: ignored or value"),
    };
    println!("{n} messages, {} bytes", input.len());
}
