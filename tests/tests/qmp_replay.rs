//! Replay of the QEMU 7.2 QMP transcripts (`corpus/qemu-7.2/qmp-none`,
//! `qmp-pc-tcg`, `qmp-extra`), step by step, through both sessions.
//!
//! * **Server**: every step's client bytes go into one [`Server`] (state
//!   carries over between steps, as on the real connection), answered by
//!   [`Machine`], which implements the transcripts' commands with QEMU's
//!   values. Each step's output must equal QEMU's, message by message, as
//!   JSON values (event timestamps excepted: they are the caller's clock).
//!   The steps in [`SERVER_EXCLUDED`] are fed but not compared.
//! * **Client**: every step's server bytes go into one [`Client`], after
//!   the step's requests were sent through it: a request QEMU accepted and
//!   that a client can send (no `id` of its own: the client assigns ids, so
//!   such requests go out without one and are matched by order) is sent
//!   with `send_raw`; `qmp_capabilities` through `negotiate`. Every such
//!   command must be completed by the step's replies, nothing may be
//!   malformed, and everything else must come out as events or unsolicited
//!   messages. No step is excluded.

use qwire::dispatch::check_request;
use qwire::framer::Config;
use qwire::json::{Encode, Json};
use qwire::qmp::{Client, ClientState, SendOptions, Server};
use qwire_tests::qmp::{feed_all, Got};
use qwire_tests::qmp_machine::{Machine, RunState};
use qwire_tests::{frame_all, json_eq, shared, sj, Ev};

/// How an excluded step is checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exclusion {
    /// Not compared at all.
    NotCompared,
    /// The answers to malformed input differ; every other message of the
    /// step (e.g. the reply to the valid command after the junk) is still
    /// compared.
    FramingErrors,
}

/// Steps whose server output is not (wholly) compared, and why.
const SERVER_EXCLUDED: &[(&str, Exclusion, &str)] = &[
    (
        "08-query-commands",
        Exclusion::NotCompared,
        "lists QEMU's 200+ commands; the replay server implements a subset",
    ),
    (
        "10-query-qmp-schema",
        Exclusion::NotCompared,
        "QEMU's 207 KB schema introspection; not implemented by the replay server",
    ),
    (
        "19-malformed-then-valid",
        Exclusion::FramingErrors,
        "after a grammar error QEMU's lexer reads on ('garbage' is an invalid keyword); the framer skips to the next resynchronisation byte, so one error fewer",
    ),
    (
        "19b-unbalanced-open-then-valid",
        Exclusion::NotCompared,
        "grammar error: QEMU reports it when the braces balance (in 19c, swallowing the command), the framer at the offending byte (here, then runs the command)",
    ),
    (
        "19c-close-the-unbalanced",
        Exclusion::FramingErrors,
        "the other half of 19b: QEMU's one error for the balanced input vs two stray '}'",
    ),
    (
        "20d-invalid-utf8-in-string",
        Exclusion::FramingErrors,
        "QEMU's lexer passes the bad byte and its parser rejects the string once the braces balance (one error); the framer rejects the byte and the `}` left over is a second error",
    ),
    (
        "25f-deep-nesting",
        Exclusion::FramingErrors,
        "QEMU answers 1,027 errors (one per leftover token); the framer one per recovery point",
    ),
];

/// An error reply to malformed input (no id; QEMU's framing wording).
fn is_framing_error(v: &serde_json::Value) -> bool {
    v.get("id").is_none()
        && v["error"]["desc"]
            .as_str()
            .is_some_and(|d| d.starts_with("JSON ") || d == "QMP input must be a JSON object")
}

struct Step {
    name: String,
    c2s: Vec<u8>,
    s2c: Vec<u8>,
}

/// The steps of `dir` whose file names start with `prefix` and a digit.
fn steps(dir: &str, prefix: &str) -> Vec<Step> {
    let path = shared().join("corpus/qemu-7.2").join(dir);
    let mut names: Vec<String> = std::fs::read_dir(&path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|f| f.strip_suffix(".c2s.bin").map(str::to_owned))
        .filter(|f| {
            f.strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    names.sort();
    assert!(names.len() > 3, "{dir}/{prefix}: {names:?}");
    names
        .into_iter()
        .map(|name| Step {
            c2s: std::fs::read(path.join(format!("{name}.c2s.bin"))).unwrap(),
            s2c: std::fs::read(path.join(format!("{name}.s2c.bin"))).unwrap(),
            name: name.strip_prefix(prefix).unwrap().to_owned(),
        })
        .collect()
}

/// The messages of a server stream as JSON values, event timestamps
/// replaced by `null` (after checking they are well-formed).
fn values(stream: &[u8]) -> Vec<serde_json::Value> {
    frame_all(stream, 1 << 20, Config::DEFAULT)
        .into_iter()
        .map(|e| match e {
            Ev::Frame(_, bytes) => {
                let mut v = sj(&bytes);
                if let Some(ts) = v.get_mut("timestamp") {
                    assert!(
                        ts["seconds"].is_i64() && ts["microseconds"].is_i64(),
                        "{ts}"
                    );
                    *ts = serde_json::Value::Null;
                }
                v
            }
            other => panic!("not a message: {other:?}"),
        })
        .collect()
}

/// Our output: every message compact, pure ASCII, followed by CR LF.
fn check_framing(out: &[u8]) {
    assert!(out.is_ascii(), "non-ASCII output");
    if out.is_empty() {
        return;
    }
    assert!(out.ends_with(b"\r\n"));
    for line in out[..out.len() - 2].split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        sj(line);
    }
}

/// Replay `steps` into a server answering with `machine`; returns the
/// names of the steps compared.
fn replay_server(label: &str, steps: &[Step], mut machine: Machine) -> (Vec<String>, Machine) {
    let mut frame = vec![0u8; 64 * 1024];
    let mut server = Server::new(&mut frame, machine.version_ref(), true);
    let mut compared = Vec::new();
    let mut out = vec![0u8; 8192];
    for step in steps {
        let mut ours = Vec::new();
        if step.name.ends_with("-greeting") {
            let n = server.greeting(&mut out).unwrap();
            ours.extend_from_slice(&out[..n]);
        }
        let chunk = if step.name.contains("one-byte-writes") {
            1
        } else {
            step.c2s.len().max(1)
        };
        for piece in step.c2s.chunks(chunk) {
            let mut rest = piece;
            while !rest.is_empty() {
                let s = server.feed(rest, &mut out, &mut machine);
                assert!(!s.overflow, "{label} {}", step.name);
                ours.extend_from_slice(&out[..s.written]);
                rest = &rest[s.consumed..];
            }
        }
        check_framing(&ours);
        let exclusion = SERVER_EXCLUDED
            .iter()
            .find(|(n, _, _)| step.name == *n)
            .map(|(_, e, _)| *e);
        let (mut got, mut want) = (values(&ours), values(&step.s2c));
        match exclusion {
            Some(Exclusion::NotCompared) => continue,
            Some(Exclusion::FramingErrors) => {
                got.retain(|v| !is_framing_error(v));
                want.retain(|v| !is_framing_error(v));
            }
            None => {}
        }
        let same = got.len() == want.len() && got.iter().zip(&want).all(|(a, b)| json_eq(a, b));
        assert!(
            same,
            "{label} step {}:\n ours: {}\n qemu: {}",
            step.name,
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&step.s2c)
        );
        compared.push(step.name.clone());
    }
    (compared, machine)
}

const NOT_COMPARED: usize = 3;

#[test]
fn server_answers_the_transcripts_like_qemu() {
    let none = steps("qmp-none", "");
    let (compared, m) = replay_server("qmp-none", &none, Machine::none());
    assert_eq!(compared.len(), none.len() - NOT_COMPARED);
    assert!(m.quit);

    let pc = steps("qmp-pc-tcg", "");
    let machine = Machine {
        state: RunState::Prelaunch,
        cpus: r#"[{"thread-id": 6237, "props": {"core-id": 0, "thread-id": 0, "socket-id": 0}, "qom-path": "/machine/unattached/device[0]", "cpu-index": 0, "target": "x86_64"}]"#,
        ..Machine::none()
    };
    let (compared, m) = replay_server("qmp-pc-tcg", &pc, machine);
    assert_eq!(compared.len(), pc.len() - NOT_COMPARED);
    assert!(m.quit);

    // -M pc -S -m 64 -name qmp-test -uuid ... -device virtio-balloon-pci
    let a = steps("qmp-extra", "A-");
    let machine = Machine {
        state: RunState::Prelaunch,
        name: Some("qmp-test"),
        uuid: "12345678-1234-5678-9abc-def012345678",
        balloon: Some(64 << 20),
        ..Machine::none()
    };
    let (compared, machine) = replay_server("qmp-extra A", &a, machine);
    assert_eq!(compared.len(), a.len());

    // The second client of session A (A-second-client.txt): a new
    // connection is greeted and must negotiate again.
    let second = [
        Step {
            name: "second-00-greeting".into(),
            c2s: Vec::new(),
            s2c: br#"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}"#.to_vec(),
        },
        Step {
            name: "second-01-before-caps".into(),
            c2s: br#"{"execute": "query-status"}"#.to_vec(),
            s2c: br#"{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}"#.to_vec(),
        },
        Step {
            name: "second-02-caps".into(),
            c2s: br#"{"execute": "qmp_capabilities"}"#.to_vec(),
            s2c: br#"{"return": {}}"#.to_vec(),
        },
        Step {
            name: "second-03-quit".into(),
            c2s: br#"{"execute": "quit"}"#.to_vec(),
            s2c: br#"{"timestamp": {"seconds": 1795307879, "microseconds": 793237}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}
{"return": {}}"#
                .to_vec(),
        },
    ];
    let (compared, m) = replay_server("qmp-extra A, second client", &second, machine);
    assert_eq!(compared.len(), 4);
    assert!(m.quit);

    // Pretty-printed QEMU output equals ours as values.
    let b = steps("qmp-extra", "B-pretty-");
    let (compared, m) = replay_server("qmp-extra B", &b, Machine::none());
    assert_eq!(compared.len(), b.len());
    assert!(m.quit);
}

/// What the client replay found in one step.
#[derive(Debug, Default)]
struct ClientStep {
    sent: Vec<u64>,
    events: Vec<Got>,
}

/// Drive a client through `steps`, feeding the server bytes in pieces of
/// `chunk` bytes.
fn replay_client(label: &str, steps: &[Step], frame_cap: usize, chunk: usize) -> Vec<ClientStep> {
    let mut frame = vec![0u8; frame_cap];
    let mut client = Client::<8>::new(&mut frame);
    let mut out = vec![0u8; 4096];
    let mut log = Vec::new();
    for step in steps {
        let mut this = ClientStep::default();
        // The step's requests, as a client would send them.
        for ev in frame_all(&step.c2s, 1 << 16, Config::QEMU_INPUT) {
            let Ev::Frame(_, bytes) = ev else { continue };
            let v = Json::parse_with(&bytes, Config::QEMU_INPUT).unwrap();
            let Ok(req) = check_request(v, client.oob_enabled()) else {
                continue;
            };
            if req.name.eq_str("qmp_capabilities") {
                if client.state() == ClientState::Greeted {
                    let oob = req.arguments.and_then(|a| a.get("enable")).is_some();
                    client.negotiate(oob, &mut out).unwrap();
                }
                continue;
            }
            if req.id.is_some() || client.state() != ClientState::Ready {
                continue;
            }
            let mut opts = SendOptions::new().anonymous();
            opts.oob = req.oob;
            let name: String = req.name.chars().collect();
            let args = req.arguments.as_ref().map(|a| a as &dyn Encode);
            let sent = client.send_raw(&name, args, opts, &mut out).unwrap();
            this.sent.push(sent.id);
        }
        for piece in step.s2c.chunks(chunk.max(1)) {
            this.events.extend(feed_all(&mut client, piece));
        }
        if step.name.ends_with("quit") {
            let ended = client.finish();
            assert!(
                !ended.truncated && ended.outstanding == 0,
                "{label}: {ended:?}"
            );
        }
        // Every command sent in the step is complete; nothing malformed.
        let completed: Vec<u64> = this
            .events
            .iter()
            .filter_map(|g| match g {
                Got::Return { id, .. }
                | Got::Error { id, .. }
                | Got::TooLarge { id: Some(id), .. } => Some(*id),
                _ => None,
            })
            .collect();
        assert_eq!(
            completed, this.sent,
            "{label} {}: {:?}",
            step.name, this.events
        );
        for g in &this.events {
            match g {
                Got::Malformed(_) | Got::Late { .. } | Got::TooLarge { id: None, .. } => {
                    panic!("{label} {}: {g:?}", step.name)
                }
                Got::Unsolicited { kind, id, .. } => {
                    assert!(
                        *kind == "error" || id.is_some(),
                        "{label} {}: unsolicited {kind} without id",
                        step.name
                    );
                }
                _ => {}
            }
        }
        log.push(this);
    }
    assert_eq!(client.in_flight(), 0, "{label}");
    log
}

#[test]
fn client_consumes_every_server_stream() {
    for (dir, prefix) in [
        ("qmp-none", ""),
        ("qmp-pc-tcg", ""),
        ("qmp-extra", "A-"),
        ("qmp-extra", "B-pretty-"),
    ] {
        let all = steps(dir, prefix);
        let label = format!("{dir}/{prefix}");
        let log = replay_client(&label, &all, 64 * 1024, usize::MAX);
        let by_name = |n: &str| {
            let i = all.iter().position(|s| s.name.contains(n)).unwrap();
            &log[i]
        };
        assert!(matches!(
            by_name("00-greeting").events.as_slice(),
            [Got::Greeting(Some((7, 2, 22)), true)]
        ));
        let negotiated: Vec<&Got> = log
            .iter()
            .flat_map(|s| &s.events)
            .filter(|g| matches!(g, Got::Negotiated { .. }))
            .collect();
        assert_eq!(negotiated.len(), 1, "{label}");
        let sent: usize = log.iter().map(|s| s.sent.len()).sum();
        assert!(sent >= 1, "{label}: {sent}");
        // The event log does not depend on how the stream is cut.
        for chunk in [1, 7, 1000] {
            let again = replay_client(&label, &all, 64 * 1024, chunk);
            for (a, b) in log.iter().zip(&again) {
                assert_eq!(a.events, b.events, "{label} chunk {chunk}");
            }
        }
    }
    // Details of qmp-none.
    let none = steps("qmp-none", "");
    let log = replay_client("qmp-none", &none, 64 * 1024, usize::MAX);
    let at = |n: &str| &log[none.iter().position(|s| s.name.contains(n)).unwrap()];
    assert!(matches!(
        at("01-before-capabilities").events.as_slice(),
        [Got::Unsolicited { kind: "error", id: None, error: Some((class, _)) }] if class == "CommandNotFound"
    ));
    assert!(matches!(
        at("10-query-qmp-schema").events.as_slice(),
        [Got::TooLarge {
            id: Some(_),
            len: 206_998
        }]
    ));
    let stop = &at("14-stop").events;
    assert!(
        matches!(&stop[0], Got::Event { name, .. } if name == "STOP"),
        "{stop:?}"
    );
    assert!(matches!(&stop[1], Got::Return { .. }), "{stop:?}");
    assert_eq!(at("25f-deep-nesting").events.len(), 1027);
    assert!(matches!(
        at("23d-id-dict").events.as_slice(),
        [Got::Unsolicited {
            kind: "return",
            id: Some(_),
            ..
        }]
    ));
    let quit = &at("26-quit").events;
    assert!(
        matches!(&quit[0], Got::Event { name, .. } if name == "SHUTDOWN"),
        "{quit:?}"
    );
}
