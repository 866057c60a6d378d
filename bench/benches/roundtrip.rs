//! Round trips through qwire's sessions, in memory (no I/O): a QGA
//! `guest-sync` from the sync client through the agent and back, and a QMP
//! `query-version` from the client through the server (typed handler reply)
//! and back, decoded. Reported as round trips per second.
//!
//! `cargo bench -p qwire-bench --bench roundtrip`; see docs/BENCHMARKS.md.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qwire_bench::{QgaPair, QmpPair};

const N: u64 = 1000;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("roundtrip");
    group.throughput(Throughput::Elements(N));
    let mut qga = QgaPair::default();
    group.bench_function("qga-guest-sync", |b| b.iter(|| qga.run(N)));
    let mut qmp = QmpPair::default();
    group.bench_function("qmp-query-version", |b| b.iter(|| qmp.run(N)));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
