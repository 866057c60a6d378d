//! Property tests of the framer, with serde_json as the independent judge of
//! what is valid JSON.

use proptest::prelude::*;
use qwire::framer::Config;
use qwire_tests::{frame_all, frame_stream, json_eq, sj, Ev};
use serde_json::Value;

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        "[a-z\"\\\\/\u{0}-\u{1f}\u{7f}-\u{10ffff}]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z\u{e9}\u{1F600}-]{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Compact serde_json text with whitespace inserted after structural
/// characters (outside strings), the whitespace chosen by `ws`.
fn with_whitespace(v: &Value, ws: &[u8]) -> Vec<u8> {
    let compact = serde_json::to_vec(v).unwrap();
    let mut out = Vec::with_capacity(compact.len() * 2);
    let mut in_string = false;
    let mut escaped = false;
    let mut k = 0usize;
    for &b in &compact {
        out.push(b);
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'}' | b'[' | b']' | b',' | b':' => {
                let n = ws.get(k % ws.len().max(1)).copied().unwrap_or(0) % 4;
                for j in 0..n {
                    out.push(
                        b" \t\r\n"
                            [usize::from(ws.get(k + usize::from(j) + 1).copied().unwrap_or(0) % 4)],
                    );
                }
                k += 1;
            }
            _ => {}
        }
    }
    // Whitespace after the value belongs to the separator, not the frame.
    while out.last().is_some_and(|b| b" \t\r\n".contains(b)) {
        out.pop();
    }
    out
}

/// Messages joined by whitespace, with the frames they must produce.
fn stream_of(values: &[Value], ws: &[u8]) -> (Vec<u8>, Vec<Ev>) {
    let mut input = Vec::new();
    let mut want = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let text = with_whitespace(v, ws);
        want.push(Ev::Frame(input.len() as u64, text.clone()));
        input.extend_from_slice(&text);
        // A separator; a number (or literal run) must not run into the next value.
        let sep = ws.get(i).copied().unwrap_or(1) % 3;
        let sep = if v.is_number() { sep.max(1) } else { sep };
        for _ in 0..sep {
            input.push(b" \n\r\t"[usize::from(i as u8 % 4)]);
        }
    }
    (input, want)
}

fn cuts_to_chunks(len: usize, cuts: &[usize]) -> Vec<usize> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (len + 1)).collect();
    points.push(0);
    points.push(len);
    points.sort_unstable();
    points.dedup();
    points
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&n| n > 0)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn valid_messages_frame_identically_however_split(
        values in prop::collection::vec(arb_value(), 1..6),
        ws in prop::collection::vec(any::<u8>(), 1..64),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let (input, want) = stream_of(&values, &ws);
        let whole = frame_all(&input, 1 << 16, Config::DEFAULT);
        prop_assert_eq!(&whole, &want);
        let chunks = cuts_to_chunks(input.len(), &cuts);
        prop_assert_eq!(frame_stream(&input, 1 << 16, Config::DEFAULT, &chunks), whole);
        for (ev, v) in want.iter().zip(&values) {
            let Ev::Frame(_, bytes) = ev else { unreachable!() };
            prop_assert!(json_eq(&sj(bytes), v));
        }
    }

    #[test]
    fn messages_after_garbage_and_a_sentinel_are_delivered(
        garbage in prop::collection::vec(0u8..0xff, 0..80),
        values in prop::collection::vec(arb_value(), 1..4),
        ws in prop::collection::vec(any::<u8>(), 1..16),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let (clean, want) = stream_of(&values, &ws);
        let mut input = garbage.clone();
        input.push(0xff);
        let base = input.len() as u64;
        input.extend_from_slice(&clean);
        let chunks = cuts_to_chunks(input.len(), &cuts);
        let got = frame_stream(&input, 1 << 16, Config::DEFAULT, &chunks);
        let sentinel = got.iter().rposition(|e| *e == Ev::Sentinel(base - 1)).expect("sentinel reported");
        let after: Vec<Ev> = want.into_iter().map(|e| match e {
            Ev::Frame(at, b) => Ev::Frame(at + base, b),
            other => other,
        }).collect();
        prop_assert_eq!(&got[sentinel + 1..], &after[..]);
    }

    #[test]
    fn every_frame_is_valid_json(
        input in prop::collection::vec(prop_oneof![
            Just(b'{'), Just(b'}'), Just(b'['), Just(b']'), Just(b':'), Just(b','), Just(b'"'),
            Just(b'\\'), Just(b'u'), Just(b'd'), Just(b'8'), Just(b'0'), Just(b'1'), Just(b'-'),
            Just(b'.'), Just(b'e'), Just(b't'), Just(b'r'), Just(b'n'), Just(b'l'), Just(b' '),
            Just(b'\n'), Just(0xff), Just(0xc3), Just(0xa9), any::<u8>(),
        ], 0..200),
        cap in 1usize..64,
    ) {
        let events = frame_all(&input, cap, Config::DEFAULT);
        for ev in &events {
            match ev {
                Ev::Frame(at, bytes) => {
                    prop_assert!(serde_json::from_slice::<Value>(bytes).is_ok(), "{:?}", String::from_utf8_lossy(bytes));
                    prop_assert_eq!(&input[*at as usize..*at as usize + bytes.len()], &bytes[..]);
                    prop_assert!(bytes.len() <= cap);
                }
                Ev::TooLarge(at, len) => {
                    let span = &input[*at as usize..(*at + *len) as usize];
                    prop_assert!(serde_json::from_slice::<Value>(span).is_ok());
                    prop_assert!(*len as usize > cap);
                }
                _ => {}
            }
        }
        // Whatever serde_json accepts as one document, the framer frames as one value.
        if serde_json::from_slice::<Value>(&input).is_ok() {
            let big = frame_all(&input, 1 << 12, Config::DEFAULT);
            prop_assert!(matches!(&big[..], [Ev::Frame(..)]), "{:?}", big);
        }
    }
}
