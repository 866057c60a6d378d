//! Evidence for a design decision: why qwire's JSON layer is its own and not
//! serde-json-core 0.7 (DESIGN.md says to use serde-json-core "where it meets
//! the contracts"; each test below is a contract it does not meet, shown on
//! bytes QEMU really sends, next to what qwire does with the same bytes).

use qwire::framer::{Config, Event, Framer};
use qwire::json::{Json, JsonWriter};

/// QEMU writes every character above U+FFFF as a surrogate pair
/// (reference/protocol.md §3.2; seen live in the 7.2 transcripts, step 25e).
#[test]
fn surrogate_pairs_from_qemu() {
    let reply = br#"{"return": {}, "id": "\uD83D\uDE00"}"#;
    #[derive(serde::Deserialize)]
    struct Reply {
        #[allow(dead_code)]
        id: heapless::String<16>,
    }
    let mut scratch = [0u8; 64];
    let theirs = serde_json_core::from_slice_escaped::<Reply>(reply, &mut scratch);
    assert!(theirs.is_err(), "serde-json-core cannot decode the pair");

    let ours = Json::parse(reply)
        .unwrap()
        .get("id")
        .unwrap()
        .as_str()
        .unwrap();
    assert!(ours.eq_str("\u{1F600}"));
}

/// Output must be pure ASCII so that 0xFF can only be QGA's sentinel.
#[test]
fn serialised_output_is_not_ascii() {
    let mut buf = [0u8; 32];
    let n = serde_json_core::to_slice("é😀", &mut buf).unwrap();
    assert!(!buf[..n].is_ascii());

    let mut buf = [0u8; 32];
    let mut w = JsonWriter::new(&mut buf);
    w.string("é😀").unwrap();
    assert_eq!(w.finish().unwrap(), br#""\u00E9\uD83D\uDE00""#);
}

/// Bad input must be rejected, not skipped over.
#[test]
fn lenient_skipping_of_unknown_members() {
    #[derive(serde::Deserialize, Debug)]
    struct A {
        a: u32,
    }
    let junk = br#"{"z":@@@garbage,"a":1}"#;
    assert_eq!(serde_json_core::from_slice::<A>(junk).unwrap().0.a, 1);
    assert!(Json::parse(junk).is_err());
}

/// A byte stream holds many messages back to back.
#[test]
fn cannot_frame_a_stream() {
    let stream = b"{\"a\":1}\r\n{\"a\":2}\r\n";
    #[derive(serde::Deserialize)]
    struct A {
        #[allow(dead_code)]
        a: u32,
    }
    assert!(serde_json_core::from_slice::<A>(stream).is_err());

    let mut buf = [0u8; 16];
    let mut framer = Framer::new(&mut buf, Config::DEFAULT);
    let mut rest: &[u8] = stream;
    let mut frames = 0;
    while !rest.is_empty() {
        let fed = framer.feed(rest);
        frames += matches!(fed.event, Event::Frame(_)) as usize;
        rest = &rest[fed.consumed..];
    }
    assert_eq!(frames, 2);
}
