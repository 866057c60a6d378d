//! `envelope`: classifying messages, checking requests and building the
//! replies, against serde_json's reading of the same message.
//!
//! The input is parsed as one value in QEMU's dialect; if it is not one,
//! it is framed as a stream and every frame is checked, and every framing
//! error's reply too. For each value:
//!
//! * `classify` gives the kind (and the fields) the top-level keys call
//!   for, by the rule written out again here over serde_json's value (only
//!   where serde_json reads it: no duplicate keys, depth < 128, finite
//!   numbers);
//! * an error reply written back with `envelope::write_error` is pure
//!   ASCII, strict JSON, and classifies to the same class, desc and id;
//! * `check_request` (without and with `exec-oob`) accepts exactly the
//!   valid requests, refuses with a reason that holds and the right `id`,
//!   and `write_refusal`'s reply parses back to that reason's text;
//! * `write_framing_error`'s reply fits `MIN_OUTPUT` and parses back.

use super::oracle::{json_eq, normalised, serde_accepts, serde_view, unique_keys};
use qwire::dispatch::{check_request, write_framing_error, write_refusal, Refused, Rejection};
use qwire::dispatch::{Request, MIN_OUTPUT};
use qwire::envelope::{classify, write_error, ErrorReply, Message};
use qwire::framer::{Config, Event, Framer};
use qwire::json::{Encode, Json, JsonWriter, Str};
use serde_json::{Map, Value};

pub fn check(data: &[u8]) {
    if let Ok(v) = Json::parse_with(data, Config::QEMU_INPUT) {
        return message(v);
    }
    let mut buf = vec![0u8; 1 << 16];
    let mut framer = Framer::new(&mut buf, Config::QEMU_INPUT);
    let mut rest = data;
    while !rest.is_empty() {
        let fed = framer.feed(rest);
        match fed.event {
            Event::NeedMore => {}
            Event::Frame(f) => message(f.json()),
            other => framing_error(&other),
        }
        rest = &rest[fed.consumed..];
    }
}

fn message(v: Json<'_>) {
    let oracle = serde_view(v).filter(|s| unique_keys(v, s));
    let m = classify(v);
    if let Some(sv) = &oracle {
        classified(&m, sv);
    }
    if let Message::Error(e) = m {
        rebuild(&e);
    }
    for allow_oob in [false, true] {
        let result = check_request(v, allow_oob);
        if let Err(refused) = &result {
            refusal(v, refused);
        }
        if let Some(sv) = &oracle {
            request(&result, sv, allow_oob);
        }
    }
}

fn text(s: Str<'_>) -> String {
    s.chars().collect()
}

/// A part of the message equals serde_json's reading of it.
fn same(found: Option<Json<'_>>, expected: Option<&Value>, what: &str) {
    match (found, expected) {
        (None, None) => {}
        (Some(v), Some(e)) => {
            let got = serde_view(v).expect("part of a value serde_json read");
            assert!(json_eq(&got, e), "{what}: qwire has {got}, serde_json {e}");
        }
        (f, e) => panic!("{what}: qwire has {f:?}, serde_json {e:?}"),
    }
}

fn string_member<'v>(o: &'v Map<String, Value>, key: &str) -> Option<&'v str> {
    o.get(key).and_then(Value::as_str)
}

/// The classification rule, over serde_json's value.
fn classified(m: &Message<'_>, sv: &Value) {
    let Some(o) = sv.as_object() else {
        return assert!(matches!(m, Message::Other(_)), "non-object as {m:?}");
    };
    let expected = if o.contains_key("QMP") {
        "greeting"
    } else if string_member(o, "event").is_some() {
        "event"
    } else if o.contains_key("return") {
        "return"
    } else if o.get("error").is_some_and(Value::is_object) {
        "error"
    } else if string_member(o, "execute").is_some() {
        "command"
    } else if string_member(o, "exec-oob").is_some() {
        "oob-command"
    } else {
        "other"
    };
    assert_eq!(m.kind().name(), expected, "classify");
    match m {
        Message::Greeting(g) => {
            let qmp = &o["QMP"];
            same(g.version, qmp.get("version"), "greeting version");
            same(
                g.capabilities,
                qmp.get("capabilities"),
                "greeting capabilities",
            );
        }
        Message::Event(e) => {
            assert_eq!(Some(text(e.name).as_str()), string_member(o, "event"));
            same(e.data, o.get("data"), "event data");
            let int = |t: &Value, k: &str| t.get(k).and_then(Value::as_i64);
            let ts = o.get("timestamp");
            // serde_json reads `-0` as the float -0.0, qwire as the integer 0.
            let neg_zero = |k| ts.and_then(|t| t.get(k)).and_then(Value::as_f64) == Some(0.0);
            if !neg_zero("seconds") && !neg_zero("microseconds") {
                let expected = ts.and_then(|t| Some((int(t, "seconds")?, int(t, "microseconds")?)));
                let got = e.timestamp.map(|t| (t.seconds, t.microseconds));
                assert_eq!(got, expected, "event timestamp");
            }
        }
        Message::Return(r) => {
            same(Some(r.value), o.get("return"), "return value");
            same(r.id, o.get("id"), "return id");
        }
        Message::Error(e) => {
            let err = &o["error"];
            assert_eq!(
                text(e.class),
                err.get("class").and_then(Value::as_str).unwrap_or("")
            );
            assert_eq!(
                text(e.desc),
                err.get("desc").and_then(Value::as_str).unwrap_or("")
            );
            same(e.id, o.get("id"), "error id");
        }
        Message::Command(c) | Message::OobCommand(c) => {
            let key = if matches!(m, Message::Command(_)) {
                "execute"
            } else {
                "exec-oob"
            };
            assert_eq!(Some(text(c.name).as_str()), string_member(o, key));
            same(c.arguments, o.get("arguments"), "arguments");
            same(c.id, o.get("id"), "command id");
        }
        Message::Other(_) => {}
    }
}

/// Written back with `write_error`, an error reply reads the same.
fn rebuild(e: &ErrorReply<'_>) {
    let class = text(e.class);
    let id_len = e.id.map_or(0, |i| i.as_bytes().len());
    // Escaping grows each input byte to at most six output bytes.
    let mut out = vec![0u8; (e.class.raw().len() + e.desc.raw().len() + id_len) * 6 + 128];
    let mut w = JsonWriter::new(&mut out);
    let id = e.id.as_ref().map(|i| i as &dyn Encode);
    write_error(&mut w, &class, format_args!("{}", e.desc), id).expect("reply fits");
    let bytes = w.finish().expect("a complete reply");
    let Message::Error(again) = classify(reply(bytes)) else {
        panic!("rebuilt error reply is not one")
    };
    assert_eq!(text(again.class), class, "class changed");
    assert_eq!(text(again.desc), text(e.desc), "desc changed");
    assert_eq!(again.id.map(normalised), e.id.map(normalised), "id changed");
}

/// Output of qwire's writer: pure ASCII and strict JSON.
fn reply(bytes: &[u8]) -> Json<'_> {
    assert!(bytes.is_ascii(), "reply is not ASCII");
    if let Err(e) = serde_accepts(bytes) {
        panic!("serde_json refuses the reply: {e}");
    }
    Json::parse(bytes).expect("reply is strict JSON")
}

/// The refusal's reply carries the reason's text and the id.
fn refusal(v: Json<'_>, refused: &Refused<'_>) {
    let mut out = vec![0u8; v.as_bytes().len() * 6 + 256];
    let mut w = JsonWriter::new(&mut out);
    write_refusal(&mut w, refused).expect("refusal fits");
    let bytes = w.finish().expect("a complete refusal");
    let Message::Error(e) = classify(reply(bytes)) else {
        panic!("refusal is not an error reply")
    };
    assert!(e.class.eq_str("GenericError"));
    assert_eq!(
        text(e.desc),
        refused.rejection.desc().to_string(),
        "refusal desc"
    );
    assert_eq!(
        e.id.map(normalised),
        refused.id.map(normalised),
        "refusal id"
    );
}

/// `check_request` against the rules, over serde_json's value.
fn request(result: &Result<Request<'_>, Refused<'_>>, sv: &Value, allow_oob: bool) {
    let Some(o) = sv.as_object() else {
        let refused = result.as_ref().expect_err("a non-object accepted");
        assert_eq!(refused.rejection, Rejection::NotObject);
        return assert!(refused.id.is_none());
    };
    let exec_keys: &[&str] = if allow_oob {
        &["execute", "exec-oob"]
    } else {
        &["execute"]
    };
    let allowed = |k: &str| exec_keys.contains(&k) || k == "arguments" || k == "id";
    let execs: Vec<&str> = exec_keys
        .iter()
        .copied()
        .filter(|k| o.contains_key(*k))
        .collect();
    let valid = o.keys().all(|k| allowed(k))
        && execs.len() == 1
        && o[execs[0]].is_string()
        && o.get("arguments").is_none_or(Value::is_object);
    assert_eq!(
        result.is_ok(),
        valid,
        "check_request({sv}, oob {allow_oob}): {result:?}"
    );
    match result {
        Ok(req) => {
            let key = if req.oob { "exec-oob" } else { "execute" };
            assert_eq!(Some(text(req.name).as_str()), string_member(o, key));
            same(req.arguments, o.get("arguments"), "request arguments");
            same(req.id, o.get("id"), "request id");
        }
        Err(refused) => {
            same(refused.id, o.get("id"), "refusal id");
            let holds = match refused.rejection {
                Rejection::NotObject | Rejection::DuplicateKey => false,
                Rejection::MustBeString(k) => {
                    let k = text(k);
                    exec_keys.contains(&k.as_str()) && !o[&k].is_string()
                }
                Rejection::Clash(a, b) => {
                    execs.len() == 2 && text(a) != text(b) && execs.contains(&text(a).as_str())
                }
                Rejection::ArgumentsNotObject => o.get("arguments").is_some_and(|a| !a.is_object()),
                Rejection::Unexpected(k) => !allowed(&text(k)),
                Rejection::LacksExecute => execs.is_empty(),
            };
            assert!(
                holds,
                "refused for {:?}, which does not hold",
                refused.rejection
            );
        }
    }
}

/// QEMU's reply to a framing problem fits the smallest output buffer.
fn framing_error(event: &Event<'_>) {
    let mut out = vec![0u8; MIN_OUTPUT];
    let mut w = JsonWriter::new(&mut out);
    let wrote = write_framing_error(&mut w, event).expect("framing error reply fits MIN_OUTPUT");
    assert!(wrote, "no reply for {event:?}");
    let Message::Error(e) = classify(reply(w.finish().expect("complete"))) else {
        panic!("framing error reply is not an error")
    };
    assert!(e.class.eq_str("GenericError") && e.id.is_none());
    assert!(text(e.desc).starts_with("JSON "), "desc {}", e.desc);
}
