//! `unescape`: `qwire::json::unescape` on arbitrary bytes, into a buffer of
//! fuzzer-chosen size, against two other decoders: the framer's validator
//! with `Str::chars()`, and serde_json.
//!
//! Input: byte 0 is the output buffer size (0..=255), the rest is the
//! string content (what would stand between the double quotes).

use qwire::framer::Config;
use qwire::json::{unescape, Json, Kind, UnescapeError};

pub fn check(data: &[u8]) {
    let Some((&size, content)) = data.split_first() else {
        return;
    };
    // Decoding never grows the text, so this buffer is always big enough.
    let mut big = vec![0u8; content.len()];
    let full = unescape(content, &mut big).map(str::to_owned);
    if let Err(e) = full {
        error_offset(content, e);
    }

    // The framer's verdict on the same content between double quotes, in
    // QEMU's dialect (unescape accepts its `\'` escape everywhere).
    let quoted = [b"\"", content, b"\""].concat();
    let parsed = Json::parse_with(&quoted, Config::QEMU_INPUT).ok();
    match (&full, parsed) {
        (Ok(text), Some(json)) => {
            assert_eq!(json.kind(), Kind::String);
            let s = json.as_str().expect("a string");
            let chars: String = s.chars().collect();
            assert_eq!(text, &chars, "unescape and Str::chars differ");
            assert_eq!(s.decoded_len(), text.len(), "decoded_len");
            assert!(s.eq_str(text), "eq_str of its own text");
            let mut again = vec![0u8; text.len()];
            assert_eq!(s.unescape_into(&mut again).ok(), Some(text.as_str()));
        }
        (Err(_), None) => {}
        (full, parsed) => panic!("unescape says {full:?}, the framer {parsed:?}"),
    }

    // serde_json knows no `\'`; elsewhere it must agree exactly.
    if !has_single_quote_escape(content) {
        match (&full, serde_json::from_slice::<String>(&quoted)) {
            (Ok(a), Ok(b)) => assert_eq!(a, &b, "serde_json decodes differently"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("unescape says {a:?}, serde_json {b:?}"),
        }
    }

    // The same into a buffer of the chosen size.
    let n = usize::from(size);
    let mut small = vec![0u8; n];
    let result = unescape(content, &mut small).map(str::to_owned);
    match (&full, result) {
        (Ok(text), Ok(got)) => {
            assert_eq!(text, &got);
            assert!(text.len() <= n);
        }
        (Ok(text), Err(UnescapeError::BufferTooSmall { written })) => {
            assert!(
                text.len() > n,
                "BufferTooSmall although {} fit {n}",
                text.len()
            );
            assert!(written <= n, "wrote {written} into {n}");
            assert_eq!(
                &small[..written],
                &text.as_bytes()[..written],
                "not a prefix"
            );
        }
        (Err(e), Err(UnescapeError::BufferTooSmall { written })) => {
            assert!(written <= n, "wrote {written} into {n} (then {e:?})");
        }
        (Err(e), Err(got)) => assert_eq!(*e, got, "error depends on the buffer"),
        (full, got) => panic!("big buffer: {full:?}; {n} bytes: {got:?}"),
    }
}

/// The content holds the escape `\'` (not just a backslash before a quote
/// that belongs to a `\\`).
fn has_single_quote_escape(content: &[u8]) -> bool {
    let mut i = 0;
    while i < content.len() {
        if content[i] == b'\\' {
            if content.get(i + 1) == Some(&b'\'') {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// An error's offset points at the kind of byte it names.
fn error_offset(content: &[u8], e: UnescapeError) {
    let (at, ok): (usize, fn(u8) -> bool) = match e {
        UnescapeError::BufferTooSmall { .. } => panic!("BufferTooSmall with a buffer that fits"),
        UnescapeError::Control(at) => (at, |b| b < 0x20),
        UnescapeError::Utf8(at) => (at, |b| b >= 0x80),
        UnescapeError::Escape(at) => (at, |b| b == b'\\'),
        UnescapeError::Quote(at) => (at, |b| b == b'"'),
    };
    let b = *content
        .get(at)
        .unwrap_or_else(|| panic!("{e:?} beyond the content"));
    assert!(ok(b), "{e:?} points at byte {b:#04x}");
}
