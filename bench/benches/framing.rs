//! Framing and validation throughput on the same bytes in the same run:
//!
//! * qwire's framer (whole input in one feed, and in 4 KiB chunks);
//! * serde_json's `StreamDeserializer<IgnoredAny>` (also validates every
//!   byte and finds value boundaries, builds nothing);
//! * what the line-based peer libraries do: split the stream (on `\n` for
//!   QEMU's compact output; on blank lines for libvirt's pretty-printed
//!   files, as libvirt's test harness does), then `serde_json::from_slice`
//!   each piece, into `IgnoredAny` (validation only) and into
//!   `serde_json::Value` (the tree the peers build).
//!
//! `cargo bench -p qwire-bench --bench framing`; see docs/BENCHMARKS.md.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use qwire_bench::{lines_ignored, lines_value, named, qwire_frames, serde_json_stream, Split};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut buf = vec![0u8; 1 << 20];
    for name in ["libvirt", "qemu-7.2"] {
        let input = named(name);
        let split = Split::for_corpus(name);
        let expected = serde_json_stream(&input);
        assert_eq!(qwire_frames(&input, &mut buf, input.len()), expected);
        assert_eq!(qwire_frames(&input, &mut buf, 4096), expected);
        assert_eq!(lines_ignored(&input, split), expected);
        let mut group = c.benchmark_group(format!("framing/{name}"));
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(BenchmarkId::new("qwire", "whole"), |b| {
            b.iter(|| qwire_frames(black_box(&input), &mut buf, input.len()))
        });
        group.bench_function(BenchmarkId::new("qwire", "4KiB-chunks"), |b| {
            b.iter(|| qwire_frames(black_box(&input), &mut buf, 4096))
        });
        group.bench_function(
            BenchmarkId::new("serde_json", "StreamDeserializer<IgnoredAny>"),
            |b| b.iter(|| serde_json_stream(black_box(&input))),
        );
        group.bench_function(
            BenchmarkId::new("split+serde_json", "from_slice<IgnoredAny>"),
            |b| b.iter(|| lines_ignored(black_box(&input), split)),
        );
        group.bench_function(
            BenchmarkId::new("split+serde_json", "from_slice<Value>"),
            |b| b.iter(|| lines_value(black_box(&input), split)),
        );
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
