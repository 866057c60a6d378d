use super::*;
use std::vec::Vec;

/// An owned copy of an event, for comparing.
#[derive(Debug, PartialEq, Eq, Clone)]
pub(crate) enum Ev {
    Frame(u64, Vec<u8>),
    Sentinel(u64, Vec<u8>),
    Error(ErrorKind, u64, Vec<u8>),
    TooLarge(u64, u64),
    Incomplete(u64),
}

pub(crate) fn run(input: &[u8], cap: usize, config: Config, chunk: usize) -> Vec<Ev> {
    let mut buf = std::vec![0u8; cap];
    let mut f = Framer::new(&mut buf, config);
    let mut out = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        let mut rest = piece;
        while !rest.is_empty() {
            let fed = f.feed(rest);
            match fed.event {
                Event::NeedMore => assert_eq!(fed.consumed, rest.len()),
                Event::Frame(fr) => out.push(Ev::Frame(fr.at, fr.bytes.to_vec())),
                Event::Sentinel { at, token } => {
                    out.push(Ev::Sentinel(at, token.bytes().collect()))
                }
                Event::Error { error, token } => {
                    out.push(Ev::Error(error.kind, error.at, token.bytes().collect()))
                }
                Event::TooLarge { at, len } => out.push(Ev::TooLarge(at, len)),
            }
            rest = &rest[fed.consumed..];
        }
    }
    match f.finish() {
        End::Clean => {}
        End::Frame(fr) => out.push(Ev::Frame(fr.at, fr.bytes.to_vec())),
        End::TooLarge { at, len } => out.push(Ev::TooLarge(at, len)),
        End::Incomplete { at } => out.push(Ev::Incomplete(at)),
    }
    out
}

/// Same outcome for every chunk size.
fn all_chunks(input: &[u8], cap: usize, config: Config) -> Vec<Ev> {
    let whole = run(input, cap, config, input.len().max(1));
    let most = if cfg!(miri) { 4 } else { 40 };
    for chunk in 1..=input.len().min(most) {
        assert_eq!(run(input, cap, config, chunk), whole, "chunk size {chunk}");
    }
    whole
}

fn frame(at: u64, s: &[u8]) -> Ev {
    Ev::Frame(at, s.to_vec())
}

fn err(kind: ErrorKind, at: u64, tok: &[u8]) -> Ev {
    Ev::Error(kind, at, tok.to_vec())
}

const D: Config = Config::DEFAULT;
const Q: Config = Config::QEMU_INPUT;

#[test]
fn state_is_small() {
    let size = core::mem::size_of::<Framer<'static>>();
    #[cfg(target_pointer_width = "64")]
    assert_eq!(size, 192, "update the module docs");
    assert!(size <= 192);
}

#[test]
fn concatenated_values_with_and_without_whitespace() {
    let input = b"{\"a\":1}[2,3] \"x\"\r\n\ttrue false null{}";
    assert_eq!(
        all_chunks(input, 64, D),
        [
            frame(0, b"{\"a\":1}"),
            frame(7, b"[2,3]"),
            frame(13, b"\"x\""),
            frame(19, b"true"),
            frame(24, b"false"),
            frame(30, b"null"),
            frame(34, b"{}"),
        ]
    );
}

#[test]
fn top_level_number_needs_next_byte_or_finish() {
    let mut buf = [0u8; 16];
    let mut f = Framer::new(&mut buf, D);
    assert_eq!(f.feed(b"42").event, Event::NeedMore);
    let fed = f.feed(b" ");
    assert_eq!(fed.consumed, 0);
    assert_eq!(
        fed.event,
        Event::Frame(Frame {
            at: 0,
            bytes: b"42"
        })
    );
    assert_eq!(all_chunks(b"-1.5e3", 16, D), [frame(0, b"-1.5e3")]);
    assert_eq!(
        all_chunks(b"42\"a\"", 16, D),
        [frame(0, b"42"), frame(2, b"\"a\"")]
    );
}

#[test]
fn number_then_garbage_is_an_error() {
    assert_eq!(
        all_chunks(b"12x {}", 16, D),
        [err(ErrorKind::Number, 2, b"12x"), frame(4, b"{}")]
    );
    // The `]` after the skipped digit is read afresh at the top level.
    assert_eq!(
        all_chunks(b"[01]", 16, D),
        [
            err(ErrorKind::Number, 2, b"01"),
            err(ErrorKind::Syntax, 3, b"]")
        ]
    );
}

#[test]
fn sentinel_discards_partial_value() {
    let input = b"{\"execute\": \"guest-ping\", \"argu\xff{\"execute\":\"x\"}";
    assert_eq!(
        all_chunks(input, 64, D),
        [
            Ev::Sentinel(31, b"\"argu".to_vec()),
            frame(32, b"{\"execute\":\"x\"}")
        ]
    );
    assert_eq!(
        all_chunks(b"\xff\xff", 8, D),
        [Ev::Sentinel(0, Vec::new()), Ev::Sentinel(1, Vec::new())]
    );
}

#[test]
fn error_recovery_follows_qemu_and_restarts_on_open_bracket() {
    assert_eq!(
        all_chunks(b"{\"a\":[1,2{\"b\":1}", 64, D),
        [err(ErrorKind::Syntax, 9, b"{"), frame(9, b"{\"b\":1}")]
    );
    // The offending `1` is skipped, then `}` is read afresh and is an error too.
    assert_eq!(
        all_chunks(b"{\"a\" 1}{\"b\":2}", 64, D),
        [
            err(ErrorKind::Syntax, 5, b"1"),
            err(ErrorKind::Syntax, 6, b"}"),
            frame(7, b"{\"b\":2}")
        ]
    );
    assert_eq!(
        all_chunks(b"@@junk\n{}", 64, D),
        [err(ErrorKind::Syntax, 0, b"@"), frame(7, b"{}")]
    );
    // qemu-ga's "garbage" transcript: NUL, \x01 and \xfe each an error.
    assert_eq!(
        all_chunks(b"\x00\x01garbage!!@@ \xfe\xfd{\"a\":1}", 64, D),
        [
            err(ErrorKind::Syntax, 0, b"\x00"),
            err(ErrorKind::Syntax, 1, b"\x01"),
            err(ErrorKind::Syntax, 14, b"\xfe"),
            frame(16, b"{\"a\":1}"),
        ]
    );
}

#[test]
fn control_byte_in_string_is_an_error_with_its_token() {
    assert_eq!(
        all_chunks(b"{\"execute\": \"guest-ping\", \"argu\n{\"x\":8}", 64, D),
        [
            err(ErrorKind::Control, 31, b"\"argu\n"),
            frame(32, b"{\"x\":8}")
        ]
    );
}

#[test]
fn utf8_is_validated() {
    // Valid: 2-, 3- and 4-byte sequences.
    let ok = "\"é€😀\"".as_bytes();
    assert_eq!(all_chunks(ok, 16, D), [frame(0, ok)]);
    for bad in [
        &b"\"\xc0\xaf\""[..],    // overlong
        b"\"\xed\xa0\x80\"",     // encoded surrogate
        b"\"\xf4\x90\x80\x80\"", // above U+10FFFF
        b"\"\x80\"",             // lone continuation
        b"\"\xe2\x82\"",         // truncated
    ] {
        let evs = all_chunks(bad, 16, D);
        assert!(
            matches!(evs[0], Ev::Error(ErrorKind::Utf8, _, _)),
            "{bad:?}: {evs:?}"
        );
    }
}

#[test]
fn escapes_and_surrogates() {
    assert_eq!(all_chunks(br#""\uD834\uDD1E\n\u00e9""#, 32, D).len(), 1);
    for (bad, at) in [
        (&br#""\uD800""#[..], 7u64),
        (br#""\uD800\uCAFE""#, 12),
        (br#""\uDC00""#, 6),
        (br#""\u12x4""#, 5),
        (br#""\z""#, 2),
        (br#""\'""#, 2),
    ] {
        let evs = all_chunks(bad, 32, D);
        assert_eq!(
            evs[0],
            Ev::Error(ErrorKind::Escape, at, bad[..=at as usize].to_vec()),
            "{bad:?}"
        );
    }
}

#[test]
fn single_quotes_only_when_asked() {
    let input = b"{'execute': 'it''s'}";
    assert!(matches!(
        all_chunks(input, 64, D)[0],
        Ev::Error(ErrorKind::Syntax, 1, _)
    ));
    let q = b"{'a': \"b'c\", \"d\": 'e\"f\\'g'}";
    assert_eq!(all_chunks(q, 64, Q), [frame(0, q)]);
}

#[test]
fn too_large_values_are_skipped_and_the_stream_stays_in_step() {
    let input = b"{\"a\":\"0123456789\"} {\"b\":1}\xff[1,2,3,4,5,6,7,8,9]{}";
    assert_eq!(
        all_chunks(input, 10, D),
        [
            Ev::TooLarge(0, 18),
            frame(19, b"{\"b\":1}"),
            Ev::Sentinel(26, Vec::new()),
            Ev::TooLarge(27, 19),
            frame(46, b"{}"),
        ]
    );
    // An invalid byte inside an oversized value is still an error.
    assert_eq!(
        all_chunks(b"[1,2,3,4,5,6,7,8,x] {}", 4, D),
        [
            err(ErrorKind::Syntax, 17, b"x"),
            err(ErrorKind::Syntax, 18, b"]"),
            frame(20, b"{}")
        ]
    );
    assert_eq!(all_chunks(b"123456", 4, D), [Ev::TooLarge(0, 6)]);
}

#[test]
fn depth_limit() {
    let cfg = Config {
        max_depth: 3,
        single_quotes: false,
    };
    assert_eq!(all_chunks(b"[[[1]]]", 16, cfg), [frame(0, b"[[[1]]]")]);
    let evs = all_chunks(b"[[[[1]]]]", 16, cfg);
    assert_eq!(evs[0], err(ErrorKind::Depth, 3, b"["));
    // The rejected bracket starts the next value, as every `[` does.
    assert_eq!(evs[1], frame(3, b"[1]"));
}

#[test]
#[cfg_attr(miri, ignore = "2 MB through the interpreter; covered natively")]
fn deep_nesting_in_constant_memory() {
    let mut input = std::vec![b'['; 1_000_000];
    input.extend(std::iter::repeat_n(b']', 1_000_000));
    let mut buf = [0u8; 64];
    let mut f = Framer::new(&mut buf, D);
    let mut rest = &input[..];
    let (mut depth_errors, mut stray_closers, mut too_large) = (0, 0, 0);
    while !rest.is_empty() {
        let fed = f.feed(rest);
        match fed.event {
            Event::Error { error, .. } if error.kind == ErrorKind::Depth => depth_errors += 1,
            Event::Error { error, .. } if error.kind == ErrorKind::Syntax => stray_closers += 1,
            Event::TooLarge { len, .. } => {
                too_large += 1;
                assert_eq!(len, 2 * 576);
            }
            other => panic!("{other:?}"),
        }
        rest = &rest[fed.consumed..];
    }
    // Every 1025th `[` is a depth error and starts a fresh value; the last
    // value (576 levels) closes and is too large; the rest of the `]` are
    // strays at the top level. The framer's state never grew.
    assert_eq!(depth_errors, 1_000_000 / 1024);
    assert_eq!(too_large, 1);
    assert_eq!(stray_closers, 1_000_000 - 576);
}

#[test]
fn incomplete_at_end() {
    assert_eq!(
        all_chunks(b"{} {\"a\":", 16, D),
        [frame(0, b"{}"), Ev::Incomplete(3)]
    );
    assert_eq!(all_chunks(b"tru", 16, D), [Ev::Incomplete(0)]);
    assert_eq!(all_chunks(b"1.", 16, D), [Ev::Incomplete(0)]);
}

#[test]
fn literal_errors() {
    assert_eq!(
        all_chunks(b"nul\n{\"x\":0}", 16, D),
        [err(ErrorKind::Literal, 3, b"nul\n"), frame(4, b"{\"x\":0}")]
    );
    assert_eq!(
        all_chunks(b"True", 16, D)[0],
        err(ErrorKind::Syntax, 0, b"T")
    );
}

#[test]
fn zero_copy_when_inside_one_chunk() {
    let input = b"  {\"a\":1}";
    let mut buf = [0u8; 16];
    let mut f = Framer::new(&mut buf, D);
    let fed = f.feed(input);
    match fed.event {
        Event::Frame(fr) => assert_eq!(fr.bytes.as_ptr(), input[2..].as_ptr()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn token_spans_chunks() {
    // The token started in the previous chunk: its head comes from the buffer.
    let mut buf = [0u8; 64];
    let mut f = Framer::new(&mut buf, D);
    assert_eq!(f.feed(b"{\"abc").event, Event::NeedMore);
    match f.feed(b"de\x01").event {
        Event::Error { error, token } => {
            assert_eq!(error.at, 7);
            assert_eq!(token.head, b"\"abc");
            assert_eq!(token.tail, b"de\x01");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn token_in_a_value_too_large_is_quoted_the_same_however_cut() {
    // Found by the qmp_server fuzz target: once a value outgrew the buffer,
    // the part of the current token from earlier chunks used to be lost, so
    // the quoted text depended on the chunking. The buffer now keeps the
    // token instead (its first `capacity` bytes).
    let input = b"{\"pad\":\"0123456789abcdef\",\"k\":\"abcdefgh\x01 {}";
    let events = all_chunks(input, 16, D);
    assert_eq!(events[0], err(ErrorKind::Control, 39, b"\"abcdefgh\x01"));
    assert_eq!(events[1], frame(41, b"{}"));

    // A token longer than the buffer: its first 16 bytes, however cut.
    let input = b"{\"pad\":\"0123456789abcdefghij\x01 {}";
    let events = all_chunks(input, 16, D);
    assert_eq!(events[0], err(ErrorKind::Control, 28, b"\"0123456789abcde"));

    // The value outgrows the buffer in the middle of the token: the
    // stored prefix moves to the front of the buffer.
    let input = b"[\"0123456789\x01]";
    assert_eq!(
        all_chunks(input, 8, D)[0],
        err(ErrorKind::Control, 12, b"\"0123456")
    );
    assert_eq!(
        all_chunks(input, 12, D)[0],
        err(ErrorKind::Control, 12, b"\"0123456789\x01")
    );
}

#[test]
fn validate_one_rules() {
    use crate::json::{Json, ParseError};
    assert!(Json::parse(b" {\"a\": [1, 2.5e-3, null]} \n").is_ok());
    assert_eq!(Json::parse(b"  "), Err(ParseError::Empty));
    assert_eq!(Json::parse(b"[] []"), Err(ParseError::Trailing(3)));
    assert_eq!(Json::parse(b"[1,"), Err(ParseError::Incomplete));
    assert_eq!(Json::parse(b"42").map(|j| j.as_bytes()), Ok(&b"42"[..]));
    assert_eq!(Json::parse(b"42 ").map(|j| j.as_bytes()), Ok(&b"42"[..]));
    assert!(matches!(Json::parse(b"42x"), Err(ParseError::Invalid(_))));
}
