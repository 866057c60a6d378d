//! serde_json's `StreamDeserializer<IgnoredAny>` over the libvirt corpus once:
//! the peer's fixed workload for instruction counting.

fn main() {
    let input = qwire_bench::libvirt();
    let n = serde_json::Deserializer::from_slice(&input)
        .into_iter::<serde::de::IgnoredAny>()
        .map(|v| v.expect("valid"))
        .count();
    println!("{n} values, {} bytes", input.len());
}
