//! `dump` — split a captured QMP/QGA byte stream into messages, sentinels
//! and errors, with their stream offsets.
//!
//! ```text
//! cargo run -p qwire --example dump -- [--max-frame BYTES] [--max-depth N] [--single-quotes] [FILE]
//! ```
//!
//! Reads FILE (or standard input) to its end and prints one JSON object per
//! line, in stream order:
//!
//! | line | meaning |
//! | --- | --- |
//! | `{"at":A,"len":L,"kind":K}` | a complete value of L bytes starting at offset A; K is `greeting`, `command`, `oob-command`, `return`, `error`, `event` or `other` |
//! | `{"at":A,"sentinel":true}` | a 0xFF byte at A |
//! | `{"at":A,"error":E}` | the byte at A is invalid; E is `syntax`, `control`, `utf8`, `escape`, `number`, `literal` or `depth` |
//! | `{"at":A,"error":"too-large","len":L}` | a valid value of L bytes at A, longer than `--max-frame` |
//! | `{"at":A,"incomplete":true}` | the input ended inside a value starting at A |
//!
//! `--max-frame` is the frame buffer size (default 1048576), `--max-depth`
//! the nesting limit (default 1024), `--single-quotes` accepts QEMU's
//! single-quoted strings. The exit status is 0 for any input; 2 for bad
//! arguments or an unreadable file. `examples-c/qwire-dump` prints exactly
//! the same lines.

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use qwire::envelope::classify;
use qwire::framer::{Config, End, Event, Framer, MAX_DEPTH};
use qwire::json::Json;

const USAGE: &str = "usage: dump [--max-frame BYTES] [--max-depth N] [--single-quotes] [FILE]";

struct Options {
    max_frame: usize,
    config: Config,
    file: Option<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        max_frame: 1 << 20,
        config: Config::DEFAULT,
        file: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--max-frame" => {
                let v = value("--max-frame")?;
                opts.max_frame = v.parse().map_err(|_| format!("bad --max-frame: {v}"))?;
            }
            "--max-depth" => {
                let v = value("--max-depth")?;
                let depth: u16 = v.parse().map_err(|_| format!("bad --max-depth: {v}"))?;
                if depth == 0 || depth > MAX_DEPTH {
                    return Err(format!("--max-depth must be 1..={MAX_DEPTH}"));
                }
                opts.config.max_depth = depth;
            }
            "--single-quotes" => opts.config.single_quotes = true,
            "-h" | "--help" => return Err(String::new()),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ if opts.file.is_none() => opts.file = Some(arg),
            _ => return Err("only one FILE".into()),
        }
    }
    Ok(opts)
}

fn kind(bytes: &[u8], config: Config) -> &'static str {
    // A frame is valid in the dialect it was framed with.
    Json::parse_with(bytes, config)
        .map(|v| classify(v).kind().name())
        .unwrap_or("other")
}

fn print_frame(out: &mut dyn Write, at: u64, bytes: &[u8], config: Config) -> io::Result<()> {
    let kind = kind(bytes, config);
    writeln!(
        out,
        "{{\"at\":{at},\"len\":{},\"kind\":\"{kind}\"}}",
        bytes.len()
    )
}

fn print_too_large(out: &mut dyn Write, at: u64, len: u64) -> io::Result<()> {
    writeln!(out, "{{\"at\":{at},\"error\":\"too-large\",\"len\":{len}}}")
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("dump: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut input: Box<dyn Read> = match &opts.file {
        Some(path) => match std::fs::File::open(path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("dump: {path}: {e}");
                return ExitCode::from(2);
            }
        },
        None => Box::new(io::stdin().lock()),
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match run(&mut input, &mut out, &opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dump: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(input: &mut dyn Read, out: &mut dyn Write, opts: &Options) -> io::Result<()> {
    let mut buf = vec![0u8; opts.max_frame];
    let mut framer = Framer::new(&mut buf, opts.config);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut rest = &chunk[..n];
        while !rest.is_empty() {
            let fed = framer.feed(rest);
            match fed.event {
                Event::NeedMore => {}
                Event::Frame(f) => print_frame(out, f.at, f.bytes, opts.config)?,
                Event::Sentinel { at, .. } => writeln!(out, "{{\"at\":{at},\"sentinel\":true}}")?,
                Event::Error { error, .. } => writeln!(
                    out,
                    "{{\"at\":{},\"error\":\"{}\"}}",
                    error.at,
                    error.kind.name()
                )?,
                Event::TooLarge { at, len } => print_too_large(out, at, len)?,
            }
            rest = &rest[fed.consumed..];
        }
    }
    match framer.finish() {
        End::Clean => {}
        End::Frame(f) => print_frame(out, f.at, f.bytes, opts.config)?,
        End::TooLarge { at, len } => print_too_large(out, at, len)?,
        End::Incomplete { at } => writeln!(out, "{{\"at\":{at},\"incomplete\":true}}")?,
    }
    out.flush()
}
