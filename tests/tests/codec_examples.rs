//! Every `Example:` transcript in the seed schemas goes through the typed
//! codecs: a request (`->`) decodes strictly to its command's typed
//! arguments and re-encodes to the same JSON value; a reply (`<-`) decodes
//! strictly to the command's typed return value and re-encodes to the same
//! JSON value; an event decodes to its typed data and back. Values are
//! compared as JSON values (numbers numerically), not as bytes.
//!
//! The QGA seed has no examples; the QMP seed has 14 transcripts. Two
//! messages are skipped, each for a slip in the seed text itself (listed in
//! `SKIPPED` and in docs/CODECS.md).

use qwire::codec::Mode;
use qwire::envelope::{classify, write_command, write_event, write_return, Message};
use qwire::json::{Json, JsonWriter};
use qwire_tests::{json_eq, shared, sj};

/// (definition, direction, why the message is skipped).
const SKIPPED: &[(&str, &str, &str)] = &[
    (
        "query-balloon",
        "<-",
        "not valid JSON: a trailing comma after \"actual\": 1073741824",
    ),
    (
        "query-iothreads",
        "<-",
        "predates QEMU 2.9: it lacks poll-max-ns, poll-grow and poll-shrink, which the \
         schema's IOThreadInfo requires",
    ),
];

fn schemas() -> Vec<(qapi_gen::Schema, &'static str)> {
    let _ = shared();
    let workspace = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    qapi_gen::shipped_jobs(&workspace)
        .into_iter()
        .map(|job| {
            (
                job.load_schema().unwrap_or_else(|e| panic!("{e}")),
                if job.section == "qmp" { "qmp" } else { "qga" },
            )
        })
        .collect()
}

fn write(f: impl FnOnce(&mut JsonWriter<'_>)) -> serde_json::Value {
    let mut buf = vec![0u8; 1 << 16];
    let mut w = JsonWriter::new(&mut buf);
    f(&mut w);
    sj(w.finish().expect("finish"))
}

#[test]
fn every_example_round_trips() {
    qwire_tests::with_big_stack(every_example_round_trips_inner);
}

fn every_example_round_trips_inner() {
    let mut checked = Vec::new();
    let mut skipped = Vec::new();
    for (schema, which) in schemas() {
        let examples = qapi_gen::examples(&schema);
        if which == "qga" {
            assert!(examples.is_empty(), "the QGA seed has no examples");
            continue;
        }
        for ex in examples {
            for msg in &ex.messages {
                let dir = match msg.direction {
                    qapi_gen::Direction::ToServer => "->",
                    qapi_gen::Direction::FromServer => "<-",
                };
                let place = format!("{}:{} ({} {dir})", ex.file, msg.line, ex.definition);
                if SKIPPED
                    .iter()
                    .any(|(d, s, _)| *d == ex.definition && *s == dir)
                {
                    skipped.push(place);
                    continue;
                }
                let v = Json::parse(msg.text.as_bytes()).unwrap_or_else(|e| panic!("{place}: {e}"));
                let original = sj(v.as_bytes());
                let again = match classify(v) {
                    Message::Command(c) => {
                        assert!(c.name.eq_str(&ex.definition), "{place}");
                        let req =
                            qwire::qmp::schema::decode_request(c.name, c.arguments, Mode::Strict)
                                .unwrap_or_else(|e| panic!("{place}: {e}"));
                        assert_eq!(req.name(), ex.definition);
                        write(|w| {
                            write_command(
                                w,
                                req.name(),
                                req.arguments(),
                                c.id.as_ref().map(|i| i as _),
                                false,
                            )
                            .unwrap()
                        })
                    }
                    Message::Return(r) => {
                        let resp = qwire::qmp::schema::decode_response(
                            &ex.definition,
                            r.value,
                            Mode::Strict,
                        )
                        .expect("known command")
                        .unwrap_or_else(|e| panic!("{place}: {e}"));
                        write(|w| {
                            write_return(w, resp.value(), r.id.as_ref().map(|i| i as _)).unwrap()
                        })
                    }
                    Message::Event(e) => {
                        assert!(e.name.eq_str(&ex.definition), "{place}");
                        let data = qwire::qmp::schema::decode_event(e.name, e.data, Mode::Strict)
                            .expect("known event")
                            .unwrap_or_else(|err| panic!("{place}: {err}"));
                        let ts = e.timestamp.expect("timestamp");
                        write(|w| write_event(w, data.name(), data.data(), ts).unwrap())
                    }
                    other => panic!("{place}: unexpected {other:?}"),
                };
                assert!(
                    json_eq(&original, &again),
                    "{place}:\n{original}\n!=\n{again}"
                );
                checked.push(place);
            }
        }
    }
    // 14 transcripts: 13 requests + 13 replies + 1 event, minus the skips.
    assert_eq!(skipped.len(), SKIPPED.len(), "{skipped:?}");
    assert_eq!(checked.len(), 13 + 13 + 1 - SKIPPED.len(), "{checked:#?}");
    // The skipped messages really are broken as described.
    for (schema, _) in schemas() {
        for ex in qapi_gen::examples(&schema) {
            if ex.definition == "query-balloon" {
                let reply = &ex.messages[1].text;
                assert!(Json::parse(reply.as_bytes()).is_err(), "{reply}");
            }
            if ex.definition == "query-iothreads" {
                let reply = Json::parse(ex.messages[1].text.as_bytes()).unwrap();
                let e = qwire::qmp::schema::decode_response(
                    "query-iothreads",
                    reply.get("return").unwrap(),
                    Mode::Lenient,
                )
                .unwrap()
                .unwrap_err();
                assert_eq!(e.to_string(), "Parameter '[0].poll-max-ns' is missing");
            }
        }
    }
}
