//! serde_json's `StreamDeserializer<IgnoredAny>` over the libvirt corpus once:
//! the peer's fixed workload for instruction counting.

fn main() {
    let input = qwire_bench::libvirt();
    let mut n = 0usize;
    for v in serde_json::Deserializer::from_slice(&input).into_iter::<serde::de::IgnoredAny>() {
        v.expect("valid corpus");
        n += 1;
    }
    println!("{n} values, {} bytes", input.len());
}
