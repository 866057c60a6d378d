//! Framing and validation throughput: qwire's framer against serde_json's
//! `StreamDeserializer<IgnoredAny>` (which also validates every byte and
//! finds value boundaries), on the same bytes in the same run.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use qwire::framer::{Config, Event, Framer};
use serde::de::IgnoredAny;
use std::hint::black_box;

fn qwire_frames(input: &[u8], buf: &mut [u8], chunk: usize) -> usize {
    let mut framer = Framer::new(buf, Config::DEFAULT);
    let mut frames = 0;
    for piece in input.chunks(chunk) {
        let mut rest = piece;
        while !rest.is_empty() {
            let fed = framer.feed(rest);
            if let Event::Frame(f) = fed.event {
                black_box(f.bytes);
                frames += 1;
            }
            rest = &rest[fed.consumed..];
        }
    }
    frames
}

fn serde_json_values(input: &[u8]) -> usize {
    let mut n = 0;
    for v in serde_json::Deserializer::from_slice(input).into_iter::<IgnoredAny>() {
        black_box(v.expect("valid corpus"));
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let mut buf = vec![0u8; 1 << 20];
    for (name, input) in [
        ("libvirt", qwire_bench::libvirt()),
        ("qemu-7.2", qwire_bench::qemu_transcripts()),
    ] {
        let expected = serde_json_values(&input);
        assert_eq!(qwire_frames(&input, &mut buf, input.len()), expected);
        assert_eq!(qwire_frames(&input, &mut buf, 4096), expected);
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
            |b| b.iter(|| serde_json_values(black_box(&input))),
        );
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
