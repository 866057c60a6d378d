//! serde_json's `StreamDeserializer<IgnoredAny>` over a corpus once: the
//! peer's fixed workload for instruction counting.
//!
//! `valgrind --tool=callgrind target/release/serde-json-corpus [libvirt|qemu-7.2]`

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "libvirt".into());
    let input = qwire_bench::named(&name);
    let n = qwire_bench::serde_json_stream(&input);
    println!("{n} values, {} bytes", input.len());
}
