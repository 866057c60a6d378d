//! Frame the libvirt corpus once: a fixed workload for instruction counting
//! (`valgrind --tool=callgrind target/release/frame-corpus`).

use qwire::framer::{Config, Event, Framer};

fn main() {
    let input = qwire_bench::libvirt();
    let mut buf = vec![0u8; 1 << 20];
    let mut framer = Framer::new(&mut buf, Config::DEFAULT);
    let mut frames = 0usize;
    let mut rest = &input[..];
    while !rest.is_empty() {
        let fed = framer.feed(rest);
        if let Event::Frame(_) = fed.event {
            frames += 1;
        }
        rest = &rest[fed.consumed..];
    }
    println!("{frames} frames, {} bytes", input.len());
}
