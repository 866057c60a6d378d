//! `differential`: the framer in strict mode (`Config::DEFAULT`) accepts
//! exactly what serde_json accepts as one document, and reads it the same.
//!
//! For input without 0xFF (QGA's sentinel, which serde_json knows nothing
//! of): "exactly one `Frame` and nothing else, `finish()` included" holds
//! iff `serde_json::from_slice::<Value>` succeeds; the frame is the document
//! without its surrounding whitespace, and qwire's reading of it (members,
//! elements, unescaped strings, numbers) equals serde_json's value.
//!
//! Deliberate differences, each excluded as narrowly as possible and
//! listed in docs/FUZZING.md:
//!
//! 1. **Nesting.** serde_json stops at 128 levels ("recursion limit
//!    exceeded"); qwire accepts QEMU's 1024. Excluded only when serde_json
//!    says so and the frame really nests 128 deep or more.
//! 2. **Numbers beyond `f64`.** serde_json (without `arbitrary_precision`)
//!    refuses `1e400` or a 400-digit integer ("number out of range"); RFC
//!    8259 puts no limit on the grammar and QEMU reads such numbers as
//!    infinity, so the framer accepts them. Excluded only when serde_json
//!    says so and some number of the frame is infinite as `f64`.
//!
//! Not differences (checked, and they agree): lone or reversed surrogate
//! escapes (`"\uD800"`) are refused by both (serde_json when the target is
//! a `String`, as here); control bytes, invalid UTF-8, leading zeros, `-`,
//! `1.`, trailing commas, a BOM and a NUL are refused by both.

use super::framer::{run, Out};
use super::oracle::{json_eq, qwire_view};
use qwire::framer::Config;
use qwire::json::Json;
use serde_json::Value;

pub fn check(data: &[u8]) {
    if data.contains(&0xff) {
        return;
    }
    // A buffer as large as the input: nothing is too large.
    let ours = run(
        data,
        data.len().max(1),
        Config::DEFAULT,
        &[data.len().max(1)],
    );
    let theirs = serde_json::from_slice::<Value>(data);
    match (ours.as_slice(), theirs) {
        ([Out::Frame(at, frame)], Ok(value)) => {
            let ws = |b: &u8| b" \t\r\n".contains(b);
            assert!(
                data[..*at].iter().all(ws),
                "frame does not start the document"
            );
            assert!(
                data[at + frame.len()..].iter().all(ws),
                "frame does not end it"
            );
            let json = Json::parse(frame).expect("a frame parses");
            let view = qwire_view(json).expect("serde_json's numbers are finite");
            assert!(
                json_eq(&view, &value),
                "qwire reads {view} where serde_json reads {value}"
            );
        }
        ([Out::Frame(_, frame)], Err(e)) => {
            assert!(excluded(frame, &e), "qwire frames it, serde_json says: {e}");
        }
        (_, Ok(value)) => panic!("serde_json reads {value}, qwire gives {ours:?}"),
        (_, Err(_)) => {}
    }
}

/// One of the documented deliberate differences, checked on the frame.
fn excluded(frame: &[u8], e: &serde_json::Error) -> bool {
    let msg = e.to_string();
    if msg.starts_with("recursion limit exceeded") {
        return depth(frame) >= 128;
    }
    if msg.starts_with("number out of range") {
        // qwire_view gives up exactly on a number that is infinite as f64.
        return qwire_view(Json::parse(frame).expect("a frame parses")).is_none();
    }
    false
}

/// Deepest nesting of a valid value: brackets outside strings.
fn depth(frame: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in frame {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, ..) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'[' | b'{') => {
                depth += 1;
                max = max.max(depth);
            }
            (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}
