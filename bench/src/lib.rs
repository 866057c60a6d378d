//! Inputs shared by the benchmarks: the corpus in `../shared`.

use std::path::PathBuf;

/// `../shared/corpus/<rel>`, read whole.
pub fn corpus(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The six libvirt replies files concatenated (about 4.5 MB of
/// pretty-printed QMP traffic, QEMU 4.2 to 10.0).
pub fn libvirt() -> Vec<u8> {
    let mut all = Vec::new();
    for v in [
        "4.2.0.x86_64",
        "6.2.0_x86_64",
        "7.2.0_x86_64",
        "8.2.0_x86_64",
        "9.2.0_x86_64",
        "10.0.0_x86_64",
    ] {
        all.extend(corpus(&format!("libvirt/caps_{v}.replies")));
        all.extend(b"\n\n");
    }
    all
}

/// QEMU 7.2's QMP server output (greeting, replies, events, the 207 kB
/// schema) from the `-M none` and `-M pc` sessions, CRLF-terminated lines.
pub fn qemu_transcripts() -> Vec<u8> {
    let mut all = corpus("qemu-7.2/qmp-none/session.s2c.bin");
    all.extend(corpus("qemu-7.2/qmp-pc-tcg/session.s2c.bin"));
    all
}
