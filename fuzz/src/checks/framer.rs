//! `framer`: the outcome of framing a stream does not depend on how it is
//! cut into chunks, and every outcome keeps the framer's promises.
//!
//! Input layout (so seeds get a neutral header from `seed-corpora.sh`):
//!
//! | byte | meaning |
//! | --- | --- |
//! | 0 | buffer size: 0..=63 as is, 64..=254 → (b − 63) × 64, 255 → 64 KiB |
//! | 1 | bit 0: single quotes; bits 1..7: max depth (0 → 1024, 127 → 0, else as is) |
//! | 2 | `k` = b % 8 chunk-size bytes follow (0: feed one byte at a time) |
//! | 3.. | `k` chunk sizes (b + 1, cycled), then the stream |

use qwire::framer::{Config, End, ErrorKind, Event, Framer, Token};
use qwire::json::Json;

/// Owned framer outcome, for comparing runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    /// A frame at a stream offset.
    Frame(usize, Vec<u8>),
    /// A 0xFF at this offset, and the token it interrupted.
    Sentinel(usize, Vec<u8>),
    /// A rejected byte, and the token it ended.
    Error(ErrorKind, usize, Vec<u8>),
    /// A skipped value: offset and length.
    TooLarge(usize, usize),
    /// The stream ended inside the value starting here.
    Incomplete(usize),
}

/// Buffer size, config and chunk sizes from the header; `None` if too short.
pub fn header(data: &[u8]) -> Option<(usize, Config, Vec<usize>, &[u8])> {
    let (&[size, conf, k], rest) = data.split_first_chunk::<3>()?;
    let cap = match size {
        0..=63 => usize::from(size),
        255 => 1 << 16,
        _ => (usize::from(size) - 63) * 64,
    };
    let config = Config {
        max_depth: match conf >> 1 {
            0 => 1024,
            127 => 0,
            d => u16::from(d),
        },
        single_quotes: conf & 1 != 0,
    };
    let k = usize::from(k % 8).min(rest.len());
    let (sizes, stream) = rest.split_at(k);
    let chunks = sizes.iter().map(|&b| usize::from(b) + 1).collect();
    Some((cap, config, chunks, stream))
}

pub fn check(data: &[u8]) {
    let Some((cap, config, chunks, input)) = header(data) else {
        return;
    };
    let whole = run(input, cap, config, &[input.len().max(1)]);
    let chunked = if chunks.is_empty() {
        run(input, cap, config, &[1])
    } else {
        run(input, cap, config, &chunks)
    };
    assert_eq!(whole, chunked, "outcomes depend on chunking {chunks:?}");
    outcomes(input, cap, config, &whole);
}

/// Feed `input` in pieces whose sizes cycle through `chunks`, then finish,
/// checking what each call promises on its own.
pub fn run(input: &[u8], cap: usize, config: Config, chunks: &[usize]) -> Vec<Out> {
    let mut buf = vec![0u8; cap];
    let mut framer = Framer::new(&mut buf, config);
    let mut out = Vec::new();
    let mut at = 0usize;
    let mut calls = 0usize;
    for &size in chunks.iter().cycle() {
        if at >= input.len() {
            break;
        }
        let end = (at + size).min(input.len());
        let mut rest = &input[at..end];
        while !rest.is_empty() {
            calls += 1;
            // Each call consumes a byte, except an error at `{`/`[` that
            // restarts there, whose next call consumes it.
            assert!(calls <= 2 * input.len(), "no progress at {at}");
            let base = end - rest.len();
            assert_eq!(framer.offset(), base as u64, "offset() out of step");
            let fed = framer.feed(rest);
            assert!(fed.consumed <= rest.len(), "consumed past the input");
            match fed.event {
                Event::NeedMore => assert_eq!(fed.consumed, rest.len(), "NeedMore left input"),
                Event::Frame(f) => out.push(Out::Frame(offset(f.at), f.bytes.to_vec())),
                Event::Sentinel { at, token } => {
                    let at = offset(at);
                    assert_eq!(input.get(at), Some(&0xff), "sentinel on another byte");
                    assert_eq!(base + fed.consumed, at + 1, "sentinel not consumed");
                    token_before(input, at, token, cap);
                    out.push(Out::Sentinel(at, token.bytes().collect()));
                }
                Event::Error { error, token } => {
                    let at = offset(error.at);
                    assert!(
                        (base..base + rest.len()).contains(&at),
                        "error outside the chunk"
                    );
                    token_before(input, at + 1, token, cap);
                    assert!(!token.is_empty() || cap == 0, "error token lacks the byte");
                    assert_eq!(input[at], error.byte, "error names another byte");
                    out.push(Out::Error(error.kind, at, token.bytes().collect()));
                }
                Event::TooLarge { at, len } => out.push(Out::TooLarge(offset(at), offset(len))),
            }
            rest = &rest[fed.consumed..];
        }
        at = end;
    }
    assert_eq!(framer.offset(), input.len() as u64);
    match framer.finish() {
        End::Clean => {}
        End::Frame(f) => out.push(Out::Frame(offset(f.at), f.bytes.to_vec())),
        End::TooLarge { at, len } => out.push(Out::TooLarge(offset(at), offset(len))),
        End::Incomplete { at } => out.push(Out::Incomplete(offset(at))),
    }
    out
}

fn offset(v: u64) -> usize {
    usize::try_from(v).expect("offset fits usize")
}

/// A token is the stream's bytes just before `end`, cut to the buffer's
/// capacity: all of them if they fit, else the first `cap` (then they are
/// somewhere earlier in the stream).
fn token_before(input: &[u8], end: usize, token: Token<'_>, cap: usize) {
    let text: Vec<u8> = token.bytes().collect();
    assert_eq!(text.len(), token.len());
    assert!(text.len() <= cap, "token longer than the buffer");
    let start = end
        .checked_sub(text.len())
        .expect("token longer than the stream");
    if input[start..end] != text[..] {
        assert_eq!(text.len(), cap, "token is not the stream's bytes");
        assert!(
            input[..end - 1].windows(cap).any(|w| w == &text[..]),
            "a cut token is not the stream's bytes"
        );
    }
}

/// What the outcomes of a whole stream promise.
fn outcomes(input: &[u8], cap: usize, config: Config, all: &[Out]) {
    let mut last_at = 0usize;
    // End of the last frame or skipped value: values never overlap.
    let mut value_end = 0usize;
    let mut sentinels = Vec::new();
    for (n, o) in all.iter().enumerate() {
        let at = match *o {
            Out::Frame(at, _) | Out::TooLarge(at, _) => at,
            Out::Sentinel(at, _) | Out::Error(_, at, _) | Out::Incomplete(at) => at,
        };
        assert!(at >= last_at, "offsets go back: {o:?} after {last_at}");
        last_at = at;
        match o {
            Out::Frame(at, bytes) => {
                assert!(bytes.len() <= cap, "frame longer than the buffer");
                value(input, config, *at, bytes.len(), &mut value_end);
                assert_eq!(&input[*at..*at + bytes.len()], &bytes[..], "frame bytes");
            }
            Out::TooLarge(at, len) => {
                assert!(*len > cap, "TooLarge of {len} bytes fits {cap}");
                value(input, config, *at, *len, &mut value_end);
            }
            Out::Sentinel(at, _) => sentinels.push(*at),
            Out::Error(_, at, _) => assert_ne!(input[*at], 0xff, "0xFF reported as an error"),
            Out::Incomplete(at) => {
                assert_eq!(n + 1, all.len(), "Incomplete is not last");
                assert!(*at < input.len());
            }
        }
    }
    let ff: Vec<usize> = (0..input.len()).filter(|&i| input[i] == 0xff).collect();
    assert_eq!(sentinels, ff, "every 0xFF, and only 0xFF, is a sentinel");
}

/// A framed or skipped value is one valid value in `config`, after the
/// previous one.
fn value(input: &[u8], config: Config, at: usize, len: usize, value_end: &mut usize) {
    assert!(at >= *value_end, "values overlap at {at}");
    assert!(len > 0, "empty value at {at}");
    let bytes = input.get(at..at + len).expect("value beyond the stream");
    match Json::parse_with(bytes, config) {
        Ok(j) => assert_eq!(j.as_bytes(), bytes, "value has surrounding bytes"),
        Err(e) => panic!("framed value does not parse: {e}"),
    }
    *value_end = at + len;
}
