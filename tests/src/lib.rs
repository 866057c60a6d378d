//! Helpers shared by qwire's integration tests: locating `../shared`,
//! running the framer over a stream, and comparing JSON values with an
//! independent implementation (serde_json) as the oracle.

use std::path::PathBuf;

/// Codecs generated from `tools/qapi-gen/tests/data/constructs.json`, a
/// fixture with every QAPI construct (alternate, simple union, all
/// built-ins, a self-referencing type, ...), built on the public
/// `qwire::codec` runtime the way another crate would use it.
#[rustfmt::skip]
#[allow(missing_docs)]
pub mod constructs;

use qwire::framer::{Config, End, ErrorKind, Event, Framer};

/// `../shared` beside the checkout. Tests fail, rather than skip, when it is
/// missing: CI always has it.
pub fn shared() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(
        dir.join("corpus").is_dir(),
        "../shared (with corpus/) must sit beside the checkout: {}",
        dir.display()
    );
    dir
}

/// Read a file under `../shared`.
pub fn shared_file(rel: &str) -> Vec<u8> {
    let path = shared().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `../shared/<rel>` whose name ends with `suffix`, sorted.
pub fn shared_files(rel: &str, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(shared().join(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    out.sort();
    out
}

/// An owned framer outcome, for comparing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    /// A frame: offset and bytes.
    Frame(u64, Vec<u8>),
    /// A 0xFF at this offset.
    Sentinel(u64),
    /// An error of this kind at this offset.
    Error(ErrorKind, u64),
    /// A value too large for the buffer: offset, length.
    TooLarge(u64, u64),
    /// The stream ended inside a value starting here.
    Incomplete(u64),
}

/// Run a framer with a `cap`-byte buffer over `input` fed in pieces whose
/// sizes cycle through `chunks`, then finish the stream.
pub fn frame_stream(input: &[u8], cap: usize, config: Config, chunks: &[usize]) -> Vec<Ev> {
    let mut buf = vec![0u8; cap];
    let mut framer = Framer::new(&mut buf, config);
    let mut out = Vec::new();
    let mut at = 0usize;
    let mut k = 0usize;
    while at < input.len() {
        let size = chunks
            .get(k % chunks.len().max(1))
            .copied()
            .unwrap_or(input.len())
            .max(1);
        k += 1;
        let mut rest = &input[at..(at + size).min(input.len())];
        at += rest.len();
        while !rest.is_empty() {
            let fed = framer.feed(rest);
            match fed.event {
                Event::NeedMore => {}
                Event::Frame(f) => out.push(Ev::Frame(f.at, f.bytes.to_vec())),
                Event::Sentinel { at, .. } => out.push(Ev::Sentinel(at)),
                Event::Error { error, .. } => out.push(Ev::Error(error.kind, error.at)),
                Event::TooLarge { at, len } => out.push(Ev::TooLarge(at, len)),
            }
            rest = &rest[fed.consumed..];
        }
    }
    match framer.finish() {
        End::Clean => {}
        End::Frame(f) => out.push(Ev::Frame(f.at, f.bytes.to_vec())),
        End::TooLarge { at, len } => out.push(Ev::TooLarge(at, len)),
        End::Incomplete { at } => out.push(Ev::Incomplete(at)),
    }
    out
}

/// The whole stream in one piece.
pub fn frame_all(input: &[u8], cap: usize, config: Config) -> Vec<Ev> {
    frame_stream(input, cap, config, &[input.len().max(1)])
}

/// JSON values equal, numbers compared by value (so `1` equals `1.0`, and a
/// 30-digit integer equals the float QEMU writes for it).
pub fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (a, b) {
        (V::Number(x), V::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                return x == y;
            }
            x.as_f64() == y.as_f64()
        }
        (V::Array(x), V::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (V::Object(x), V::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Parse with serde_json (strict RFC 8259), arbitrary precision off.
pub fn sj(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

/// The values in a stream according to serde_json, with their byte spans.
/// 0xFF bytes are skipped (QGA's sentinel is not JSON). Returns `None` if
/// serde_json rejects the stream.
pub fn oracle_values(input: &[u8]) -> Option<Vec<(usize, usize, serde_json::Value)>> {
    let mut out = Vec::new();
    // Split on 0xFF: serde_json knows nothing of sentinels.
    let mut base = 0usize;
    for piece in input.split(|&b| b == 0xff) {
        let mut stream =
            serde_json::Deserializer::from_slice(piece).into_iter::<serde_json::Value>();
        loop {
            let before = stream.byte_offset();
            match stream.next() {
                None => break,
                Some(Ok(v)) => {
                    let end = stream.byte_offset();
                    let start = before
                        + piece[before..end]
                            .iter()
                            .take_while(|b| b" \t\r\n".contains(b))
                            .count();
                    out.push((base + start, base + end, v));
                }
                Some(Err(_)) => return None,
            }
        }
        base += piece.len() + 1;
    }
    Some(out)
}

/// The kind a message has by its top-level keys, computed independently of
/// qwire (the rule of `qwire::envelope::classify`).
pub fn oracle_kind(v: &serde_json::Value) -> &'static str {
    let Some(o) = v.as_object() else {
        return "other";
    };
    if o.contains_key("QMP") {
        "greeting"
    } else if o.get("event").is_some_and(|e| e.is_string()) {
        "event"
    } else if o.contains_key("return") {
        "return"
    } else if o.get("error").is_some_and(|e| e.is_object()) {
        "error"
    } else if o.get("execute").is_some_and(|e| e.is_string()) {
        "command"
    } else if o.get("exec-oob").is_some_and(|e| e.is_string()) {
        "oob-command"
    } else {
        "other"
    }
}

/// Build (if needed) and locate a binary or example of the workspace.
/// `kind` is `"example"` or `"bin"`.
pub fn workspace_binary(package: &str, kind: &str, name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(&root)
        .args(["build", "-q", "-p", package, &format!("--{kind}"), name])
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build {package} {name}");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let dir = if kind == "example" {
        "debug/examples"
    } else {
        "debug"
    };
    target.join(dir).join(name)
}

/// The README's Rust examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub mod peers;

/// Build the C programs (`make -C examples-c`) and locate one of them.
pub fn c_program(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples-c");
    let status = std::process::Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(&dir)
        .arg(format!("build/{name}"))
        .status()
        .expect("run make");
    assert!(status.success(), "make build/{name}");
    dir.join("build").join(name)
}

/// Encode `value` with qwire's writer into a fresh buffer.
pub fn encode(value: &dyn qwire::json::Encode) -> Vec<u8> {
    let mut buf = vec![0u8; 1 << 20];
    let mut w = qwire::json::JsonWriter::new(&mut buf);
    value.encode(&mut w).expect("encode");
    w.finish().expect("finish").to_vec()
}

/// Split a QMP/QGA server stream into its messages (framed by qwire's
/// framer; 0xFF sentinels dropped).
pub fn messages(stream: &[u8]) -> Vec<Vec<u8>> {
    frame_all(stream, 1 << 20, Config::DEFAULT)
        .into_iter()
        .filter_map(|e| match e {
            Ev::Frame(_, bytes) => Some(bytes),
            _ => None,
        })
        .collect()
}

/// Run `f` on a thread with a 256 MiB stack: the generated `Request` /
/// `Response` enums are as large as their largest member (100+ KiB for
/// `query-pci`), and unoptimised builds copy them several times.
pub fn with_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

/// QGA: fault-injecting relay, peers, drivers and an in-memory file handler.
pub mod qga_relay;

/// QMP session helpers: owned client events and a blocking socket driver.
pub mod qmp;

/// A QMP handler answering like QEMU 7.2 for the transcripts' commands.
pub mod qmp_machine;

/// docs/QMP.md's Rust examples, compiled and run as doctests.
#[doc = include_str!("../../docs/QMP.md")]
#[cfg(doctest)]
pub struct QmpDoctests;

/// Build the bare-metal image `examples-fw/<name>` (its own Cargo project)
/// for `thumbv7em-none-eabihf`, release profile, and locate it. Fails, not
/// skips, when the target is not installed: the test command installs it.
pub fn firmware_image(name: &str) -> PathBuf {
    const TARGET: &str = "thumbv7em-none-eabihf";
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("run rustc --print sysroot");
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    assert!(
        sysroot.join("lib/rustlib").join(TARGET).is_dir(),
        "the Rust target {TARGET} is not installed; run scripts/test-all.sh (or `rustup target add {TARGET}`)"
    );
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples-fw")
        .join(name);
    let target_dir = dir.join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target_dir)
        .args(["build", "--quiet", "--release", "--target", TARGET])
        .status()
        .expect("run cargo build for the firmware");
    assert!(status.success(), "cargo build of examples-fw/{name} failed");
    target_dir.join(TARGET).join("release").join(name)
}
