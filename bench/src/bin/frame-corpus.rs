//! Frame a corpus once with qwire's framer: a fixed workload for
//! instruction counting.
//!
//! `valgrind --tool=callgrind target/release/frame-corpus [libvirt|qemu-7.2] [chunk]`
//! (default `libvirt`, whole input in one feed).

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "libvirt".into());
    let input = qwire_bench::named(&name);
    let chunk = args
        .next()
        .map_or(input.len(), |c| c.parse().expect("chunk size"));
    let mut buf = vec![0u8; 1 << 20];
    let frames = qwire_bench::qwire_frames(&input, &mut buf, chunk);
    println!("{frames} frames, {} bytes", input.len());
}
