//! Typed decoding of one message, on the same bytes in the same run:
//! qwire's generated types (validate + classify + decode in place), serde_json
//! into std structs written with serde derive, and serde_json into the
//! `qapi-qmp` 0.15 / `qapi-qga` 0.13 types. `query-status` is not in
//! qwire's QMP seed schema: qwire decodes it with a small hand-written
//! `Decode` impl (`qwire_bench::StatusInfo`).
//!
//! `cargo bench -p qwire-bench --bench typed`; see docs/BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use qwire_bench::{qapi_decode, samples, serde_std_decode, QwireTyped};

fn bench(c: &mut Criterion) {
    let mut q = QwireTyped::new();
    for s in samples() {
        let mut group = c.benchmark_group(format!("typed/{}", s.name));
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("qwire", s.bytes.len()), |b| {
            b.iter(|| q.decode(s.name, black_box(&s.bytes)))
        });
        group.bench_function(BenchmarkId::new("serde_json-std", s.bytes.len()), |b| {
            b.iter(|| serde_std_decode(s.name, black_box(&s.bytes)))
        });
        group.bench_function(BenchmarkId::new("qapi", s.bytes.len()), |b| {
            b.iter(|| qapi_decode(s.name, black_box(&s.bytes)))
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
