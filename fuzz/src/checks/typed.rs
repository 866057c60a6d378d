//! `typed`: every generated decoder of the QMP and QGA schemas on an
//! arbitrary JSON value: `decode_request` and `decode_response` for each
//! name in `COMMANDS`, `decode_event` for each name in `EVENTS`, in both
//! modes. Whatever decodes must encode (pure ASCII, strict JSON) and decode
//! again to an equal value; strict decoding succeeding implies lenient
//! decoding succeeds with the same value.
//!
//! The input is framed as a stream (QEMU's dialect); a reply's `return`
//! value, a command's `arguments` and an event's `data` are decoded, and
//! any other value whole, so the recorded sessions make useful seeds.
//! The generated `Request`/`Response` values can be ~100 KiB, so decoding
//! runs on one long-lived worker thread with a big stack (a fresh thread
//! per input spent most of the time faulting in stack pages).

use qwire::codec::Mode;
use qwire::envelope::{classify, Message};
use qwire::framer::{Config, End, Event, Framer};
use qwire::json::{Encode, Json, JsonWriter, Str};
use qwire::{qga, qmp};
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Mutex, OnceLock};

type Job = (Vec<u8>, mpsc::Sender<bool>);

pub fn check(data: &[u8]) {
    static WORKER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let worker = WORKER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || {
                for (data, done) in rx {
                    let ok = catch_unwind(AssertUnwindSafe(|| each_value(&data))).is_ok();
                    let _ = done.send(ok);
                }
            })
            .expect("spawn the decoding thread");
        Mutex::new(tx)
    });
    let (done, result) = mpsc::channel();
    let sent = worker.lock().map(|w| w.send((data.to_vec(), done)).is_ok());
    assert_eq!(sent.ok(), Some(true), "decoding thread gone");
    // Under libFuzzer a panic aborts in the worker itself; in the test
    // suite it is caught there and reported here.
    assert_eq!(
        result.recv().ok(),
        Some(true),
        "typed check failed (panic above)"
    );
}

fn each_value(data: &[u8]) {
    let mut buf = vec![0u8; 1 << 16];
    let mut framer = Framer::new(&mut buf, Config::QEMU_INPUT);
    let mut rest = data;
    // A message's payload is what its decoders see in practice; any other
    // value goes in whole. (Decoding both halved the speed: the generated
    // values are big, and moving them dominates.)
    let frame = |v: Json<'_>| match classify(v) {
        Message::Return(r) => decode_all(r.value),
        Message::Command(c) | Message::OobCommand(c) => {
            c.arguments.into_iter().for_each(decode_all)
        }
        Message::Event(e) => e.data.into_iter().for_each(decode_all),
        _ => decode_all(v),
    };
    while !rest.is_empty() {
        let fed = framer.feed(rest);
        if let Event::Frame(f) = fed.event {
            frame(f.json());
        }
        rest = &rest[fed.consumed..];
    }
    if let End::Frame(f) = framer.finish() {
        frame(f.json());
    }
}

fn decode_all(v: Json<'_>) {
    macro_rules! schema {
        ($s:path) => {{
            use $s as s;
            for c in s::COMMANDS {
                let quoted = format!("\"{}\"", c.name);
                let name = str_of(&quoted);
                let mut got = [None, None];
                for (i, mode) in [Mode::Strict, Mode::Lenient].into_iter().enumerate() {
                    if let Ok(req) = s::decode_request(name, Some(v), mode) {
                        let text = req.arguments().map(encode);
                        let again = text.as_deref().map(|t| Json::parse(t).expect("strict"));
                        let back = s::decode_request(name, again, mode);
                        assert_eq!(back.as_ref().ok(), Some(&req), "{} args round trip", c.name);
                    }
                    let resp = s::decode_response(c.name, v, mode).expect("a known command");
                    if let Ok(r) = resp {
                        let text = encode(r.value());
                        let json = Json::parse(&text).expect("strict");
                        let back = s::decode_response(c.name, json, mode).expect("known");
                        assert_eq!(back.as_ref().ok(), Some(&r), "{} return round trip", c.name);
                        got[i] = Some(r);
                    }
                }
                if let Some(strict) = &got[0] {
                    assert_eq!(
                        got[1].as_ref(),
                        Some(strict),
                        "{}: strict but not lenient",
                        c.name
                    );
                }
            }
            for e in s::EVENTS {
                let quoted = format!("\"{e}\"");
                let name = str_of(&quoted);
                for mode in [Mode::Strict, Mode::Lenient] {
                    let decoded = s::decode_event(name, Some(v), mode).expect("a known event");
                    if let Ok(d) = decoded {
                        let text = d.data().map(encode);
                        let again = text.as_deref().map(|t| Json::parse(t).expect("strict"));
                        let back = s::decode_event(name, again, mode).expect("known");
                        assert_eq!(back.as_ref().ok(), Some(&d), "{e} data round trip");
                    }
                }
            }
        }};
    }
    schema!(qmp::schema);
    schema!(qga::schema);
}

fn str_of(quoted: &str) -> Str<'_> {
    Json::parse(quoted.as_bytes())
        .expect("a name")
        .as_str()
        .expect("a string")
}

/// A decoded value written back: ASCII, strict JSON.
fn encode(value: &dyn Encode) -> Vec<u8> {
    thread_local! {
        // Reused: zeroing 1 MiB per call was most of the cost.
        static BUF: RefCell<Vec<u8>> = RefCell::new(vec![0u8; 1 << 20]);
    }
    BUF.with_borrow_mut(|buf| {
        let mut w = JsonWriter::new(buf);
        value
            .encode(&mut w)
            .expect("a decoded value encodes in 1 MiB");
        let out = w.finish().expect("one value").to_vec();
        assert!(out.is_ascii(), "encoded value is not ASCII");
        out
    })
}
