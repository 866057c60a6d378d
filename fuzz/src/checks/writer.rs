//! `writer`: `JsonWriter` driven by a fuzzer-chosen sequence of calls.
//!
//! Input: byte 0 sets the buffer size (b × 4 bytes), the rest is a list of
//! operations (see [`ops`]). The calls run twice: into a buffer of that
//! size followed by a guard region, and into a buffer big enough for
//! anything. Checked:
//!
//! * each call succeeds, or fails with exactly the error a model of the
//!   writer's rules predicts (`Misuse`, `TooDeep`), or with `BufferFull`;
//!   errors are sticky;
//! * a successful `finish()` is pure 7-bit ASCII, valid JSON per
//!   serde_json, and equals the value the calls describe (numbers by value);
//! * with the small buffer: nothing is written past it (the guard is
//!   intact), what was written is a prefix of the big run's output, and the
//!   result is the same unless the output is longer than the buffer, in
//!   which case it is `BufferFull`;
//! * `value()` alone, of a parsed document, equals the document (serde_json
//!   reading the original, or qwire's reader for single-quoted input) and
//!   is a fixed point (copying its own output changes nothing).

use super::oracle::{json_eq, qwire_view, serde_accepts};
use qwire::framer::Config;
use qwire::json::{Json, JsonWriter, WriteError};
use serde_json::{Map, Value};

/// One writer call, with its argument.
#[derive(Clone, Debug)]
pub enum Op {
    BeginObject,
    EndObject,
    BeginArray,
    EndArray,
    Key(String),
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Null,
    /// A document to copy with `value()` (only valid ones are kept).
    Value(Vec<u8>),
    Lossy(Vec<u8>),
    Fmt(String),
    Chars(String),
    /// JSON whitespace through `raw()`, which never breaks the JSON.
    Raw(Vec<u8>),
}

/// Decode the operation list: an opcode byte (low four bits) and its
/// argument: strings and bytes are a length byte then the bytes, numbers 8
/// bytes little-endian, a document a 16-bit length then its bytes.
pub fn ops(mut d: &[u8]) -> Vec<Op> {
    fn take<'a>(d: &mut &'a [u8], n: usize) -> &'a [u8] {
        let (a, b) = d.split_at(n.min(d.len()));
        *d = b;
        a
    }
    fn bytes<'a>(d: &mut &'a [u8]) -> &'a [u8] {
        let n = take(d, 1).first().copied().unwrap_or(0);
        take(d, usize::from(n))
    }
    fn text(d: &mut &[u8]) -> String {
        String::from_utf8_lossy(bytes(d)).into_owned()
    }
    fn word(d: &mut &[u8]) -> [u8; 8] {
        let mut w = [0u8; 8];
        let b = take(d, 8);
        w[..b.len()].copy_from_slice(b);
        w
    }
    let mut out = Vec::new();
    while let Some((&op, rest)) = d.split_first() {
        d = rest;
        out.push(match op % 16 {
            0 => Op::BeginObject,
            1 => Op::EndObject,
            2 => Op::BeginArray,
            3 => Op::EndArray,
            4 => Op::Key(text(&mut d)),
            5 => Op::Str(text(&mut d)),
            6 => Op::I64(i64::from_le_bytes(word(&mut d))),
            7 => Op::U64(u64::from_le_bytes(word(&mut d))),
            8 => Op::F64(f64::from_le_bytes(word(&mut d))),
            9 => Op::Bool(op & 0x10 != 0),
            10 => Op::Null,
            11 => {
                let len = take(&mut d, 2);
                let len = usize::from(len.first().copied().unwrap_or(0))
                    | usize::from(len.get(1).copied().unwrap_or(0)) << 8;
                let doc = take(&mut d, len);
                if Json::parse_with(doc, Config::QEMU_INPUT).is_err() {
                    continue;
                }
                Op::Value(doc.to_vec())
            }
            12 => Op::Lossy(bytes(&mut d).to_vec()),
            13 => Op::Fmt(text(&mut d)),
            14 => Op::Chars(text(&mut d)),
            _ => Op::Raw(
                bytes(&mut d)
                    .iter()
                    .map(|b| b" \t\r\n"[usize::from(b % 4)])
                    .collect(),
            ),
        });
    }
    out
}

pub fn check(data: &[u8]) {
    let Some((&size, rest)) = data.split_first() else {
        return;
    };
    let ops = ops(rest);
    for op in &ops {
        if let Op::Value(doc) = op {
            value_alone(doc);
        }
    }

    // The reference run, with room for anything (escaping grows a byte to
    // at most six; a number or literal is at most 24 bytes).
    let mut big = vec![0u8; rest.len() * 24 + 64];
    let mut model = Model::default();
    let (reference, big_written) = run(&ops, &mut big, Some(&mut model));
    assert_ne!(
        reference,
        Err(WriteError::BufferFull),
        "reference buffer too small"
    );
    if let Ok(out) = &reference {
        assert!(out.is_ascii(), "output is not ASCII");
        if let Err(e) = serde_accepts(out) {
            panic!("serde_json refuses the output: {e}");
        }
        if let (Ok(got), Some(expected)) = (serde_json::from_slice::<Value>(out), &model.done) {
            assert!(
                json_eq(&got, expected),
                "wrote {got}, the calls describe {expected}"
            );
        }
    }

    // The same calls into the fuzzer-sized buffer, with a guard behind it.
    let n = usize::from(size) * 4;
    const GUARD: u8 = 0xa5;
    let mut small = vec![GUARD; n + 64];
    let (result, written) = run(&ops, &mut small[..n], None);
    assert!(
        small[n..].iter().all(|&b| b == GUARD),
        "wrote past the buffer"
    );
    assert!(
        big_written.starts_with(&written),
        "small output is no prefix"
    );
    match (&reference, &result) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Ok(a), Err(WriteError::BufferFull)) => assert!(a.len() > n, "full at {n}"),
        (Err(a), Err(b)) => assert!(a == b || *b == WriteError::BufferFull, "{a:?} vs {b:?}"),
        (a, b) => panic!("big buffer: {a:?}; {n} bytes: {b:?}"),
    }
}

/// `value()` of one document: equal to it, and a fixed point.
fn value_alone(doc: &[u8]) {
    let json = Json::parse_with(doc, Config::QEMU_INPUT).expect("kept only if valid");
    let mut buf = vec![0u8; doc.len() * 6 + 16];
    let mut w = JsonWriter::new(&mut buf);
    w.value(json).expect("value() fits six times its size");
    let out = w.finish().expect("one value").to_vec();
    assert!(out.is_ascii(), "value() output is not ASCII");
    let expected = match serde_json::from_slice::<Value>(doc) {
        Ok(v) => Some(v),
        // Single quotes, or a documented difference: read it with qwire.
        Err(_) => qwire_view(json),
    };
    if let (Some(e), Ok(got)) = (expected, serde_json::from_slice::<Value>(&out)) {
        assert!(json_eq(&got, &e), "value() wrote {got} for {e}");
    }
    let again = Json::parse(&out).expect("value() output is strict JSON");
    let mut buf2 = vec![0u8; out.len() + 16];
    let mut w = JsonWriter::new(&mut buf2);
    w.value(again).expect("fits");
    assert_eq!(
        w.finish().expect("one value"),
        &out[..],
        "value() is not a fixed point"
    );
}

/// An open container of the model.
enum Open {
    Array(Vec<Value>),
    /// Members so far, and the key waiting for its value.
    Object(Map<String, Value>, Option<String>),
}

/// What the writer must do, apart from running out of room.
#[derive(Default)]
struct Model {
    stack: Vec<Open>,
    /// The finished top-level value; `None` inside after an unknown value.
    done: Option<Value>,
    finished: bool,
    /// A copied value serde_json cannot read: no comparison at the end.
    unknown: bool,
}

impl Model {
    fn in_object(&self) -> bool {
        matches!(self.stack.last(), Some(Open::Object(..)))
    }

    fn after_key(&self) -> bool {
        matches!(self.stack.last(), Some(Open::Object(_, Some(_))))
    }

    /// The error a value here must give, if any.
    fn value_error(&self) -> Option<WriteError> {
        let misuse = if self.stack.is_empty() {
            self.finished
        } else {
            self.in_object() && !self.after_key()
        };
        misuse.then_some(WriteError::Misuse)
    }

    fn expect(&self, op: &Op) -> Option<WriteError> {
        match op {
            Op::BeginObject | Op::BeginArray => self.value_error().or_else(|| {
                (self.stack.len() >= usize::from(JsonWriter::MAX_DEPTH))
                    .then_some(WriteError::TooDeep)
            }),
            Op::EndObject | Op::EndArray => {
                let object = matches!(op, Op::EndObject);
                let ok = !self.stack.is_empty() && self.in_object() == object && !self.after_key();
                (!ok).then_some(WriteError::Misuse)
            }
            Op::Key(_) => (!self.in_object() || self.after_key()).then_some(WriteError::Misuse),
            Op::Raw(_) => None,
            _ => self.value_error(),
        }
    }

    fn push(&mut self, v: Value) {
        match self.stack.last_mut() {
            None => {
                self.done = Some(v);
                self.finished = true;
            }
            Some(Open::Array(items)) => items.push(v),
            Some(Open::Object(map, key)) => {
                map.insert(key.take().expect("model: key before value"), v);
            }
        }
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::BeginObject => self.stack.push(Open::Object(Map::new(), None)),
            Op::BeginArray => self.stack.push(Open::Array(Vec::new())),
            Op::EndObject | Op::EndArray => {
                let v = match self.stack.pop().expect("model: open container") {
                    Open::Object(map, _) => Value::Object(map),
                    Open::Array(items) => Value::Array(items),
                };
                self.push(v);
            }
            Op::Key(k) => {
                if let Some(Open::Object(_, key)) = self.stack.last_mut() {
                    *key = Some(k.clone());
                }
            }
            Op::Str(s) | Op::Fmt(s) => self.push(Value::String(s.clone())),
            Op::Chars(s) => self.push(Value::String(s.chars().rev().collect())),
            Op::Lossy(b) => self.push(Value::String(lossy(b))),
            Op::I64(i) => self.push(Value::from(*i)),
            Op::U64(u) => self.push(Value::from(*u)),
            Op::F64(f) => {
                self.push(serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number))
            }
            Op::Bool(b) => self.push(Value::Bool(*b)),
            Op::Null => self.push(Value::Null),
            Op::Value(doc) => {
                let json = Json::parse_with(doc, Config::QEMU_INPUT).expect("valid");
                let v = serde_json::from_slice::<Value>(doc)
                    .ok()
                    .or_else(|| qwire_view(json));
                self.unknown |= v.is_none();
                self.push(v.unwrap_or(Value::Null));
            }
            Op::Raw(_) => {}
        }
    }
}

/// Arbitrary bytes as text, each byte outside a valid UTF-8 sequence
/// becoming U+FFFD (what `string_lossy` promises).
fn lossy(b: &[u8]) -> String {
    let mut s = String::new();
    for chunk in b.utf8_chunks() {
        s.push_str(chunk.valid());
        s.extend(chunk.invalid().iter().map(|_| char::REPLACEMENT_CHARACTER));
    }
    s
}

/// Run the calls; returns `finish()`'s result and the bytes written before
/// it. With a model, every call's result is checked against it.
fn run(
    ops: &[Op],
    buf: &mut [u8],
    mut model: Option<&mut Model>,
) -> (Result<Vec<u8>, WriteError>, Vec<u8>) {
    let cap = buf.len();
    let mut w = JsonWriter::new(buf);
    let mut first: Option<WriteError> = None;
    for op in ops {
        let expected = model.as_ref().and_then(|m| m.expect(op));
        let result = call(&mut w, op);
        assert!(
            w.len() <= cap && w.as_bytes().len() == w.len(),
            "len() beyond the buffer"
        );
        if let Some(e) = first {
            assert_eq!(result, Err(e), "error not sticky at {op:?}");
            continue;
        }
        match (result, expected) {
            (Ok(()), None) => {
                if let Some(m) = model.as_deref_mut() {
                    m.apply(op);
                }
            }
            (Err(WriteError::BufferFull), None) => first = Some(WriteError::BufferFull),
            (Err(e), Some(x)) if e == x => first = Some(e),
            (r, x) if model.is_some() => panic!("{op:?} gave {r:?}, the model expects {x:?}"),
            (Ok(()), _) => {}
            (Err(e), _) => first = Some(e),
        }
        assert_eq!(w.error(), first, "error() after {op:?}");
    }
    let written = w.as_bytes().to_vec();
    if let Some(m) = model {
        if m.unknown {
            m.done = None;
        }
        let expected = first.or((!m.stack.is_empty() || !m.finished).then_some(WriteError::Misuse));
        let result = w.finish().map(<[u8]>::to_vec);
        assert_eq!(result.as_ref().err(), expected.as_ref(), "finish()");
        return (result, written);
    }
    (w.finish().map(<[u8]>::to_vec), written)
}

fn call(w: &mut JsonWriter<'_>, op: &Op) -> Result<(), WriteError> {
    match op {
        Op::BeginObject => w.begin_object(),
        Op::EndObject => w.end_object(),
        Op::BeginArray => w.begin_array(),
        Op::EndArray => w.end_array(),
        Op::Key(k) => w.key(k),
        Op::Str(s) => w.string(s),
        Op::I64(i) => w.i64(*i),
        Op::U64(u) => w.u64(*u),
        Op::F64(f) => w.f64(*f),
        Op::Bool(b) => w.bool(*b),
        Op::Null => w.null(),
        Op::Value(doc) => w.value(Json::parse_with(doc, Config::QEMU_INPUT).expect("valid")),
        Op::Lossy(b) => w.string_lossy(b.iter().copied()),
        // Formatting in pieces: the text arrives in several write_str calls.
        Op::Fmt(s) => {
            let mid = (s.len() / 2..=s.len()).find(|&i| s.is_char_boundary(i));
            let (a, b) = s.split_at(mid.unwrap_or(s.len()));
            w.string_fmt(format_args!("{a}{b}"))
        }
        Op::Chars(s) => w.string_chars(s.chars().rev()),
        Op::Raw(b) => w.raw(b),
    }
}
