//! The QMP client against a real QEMU 7.2 (`qemu-system-x86_64 -M none`,
//! started per test and ended by pid): greeting, negotiation, typed and raw
//! commands with asserted values, events around replies, errors, a reply
//! larger than the frame buffer, pipelining, out-of-band execution,
//! timeouts, and `quit` to the end of the stream.

use std::time::Duration;

use qwire::codec::{decode_return, Mode};
use qwire::json::Json;
use qwire::qmp::schema::{
    QueryBalloon, QueryCommands, QueryIothreads, QueryKvm, QueryName, QueryUuid, QueryVersion,
    Quit, Stop,
};
use qwire::qmp::{ClientState, SendError, SendOptions};
use qwire_tests::peers::Qemu;
use qwire_tests::qmp::{Conn, Got};
use serde_json::json;

const FRAME: usize = 64 * 1024;

fn connect(qemu: &Qemu, oob: bool) -> Conn {
    let mut conn = Conn::new(qemu.connect(), FRAME);
    let got = conn.handshake(oob);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], Got::Greeting(Some((7, 2, 22)), true));
    assert_eq!(got[1], Got::Negotiated { oob });
    assert_eq!(conn.client.server_version(), Some((7, 2, 22)));
    assert!(conn.client.oob_offered());
    assert_eq!(conn.client.oob_enabled(), oob);
    assert_eq!(conn.client.state(), ClientState::Ready);
    conn
}

/// Send typed command `C` (no arguments) and return its reply's raw value.
fn typed<C: qwire::codec::Command>(conn: &mut Conn) -> Vec<u8> {
    let mut out = [0u8; 256];
    let sent = conn
        .client
        .send::<C>(&Default::default(), SendOptions::new(), &mut out)
        .unwrap();
    conn.write(&out[..sent.len]);
    let got = conn.reply(sent.id);
    match got.last() {
        Some(Got::Return { id, raw, .. }) if *id == sent.id => raw.clone(),
        other => panic!("{} : {other:?}", C::NAME),
    }
}

fn returned(conn: &mut Conn, id: u64) -> serde_json::Value {
    match conn.reply(id).pop() {
        Some(Got::Return { id: i, value, .. }) if i == id => value,
        other => panic!("{other:?}"),
    }
}

#[test]
fn greeting_negotiation_and_typed_queries() {
    let qemu = Qemu::start();
    let mut conn = Conn::<8>::new(qemu.connect(), FRAME);
    // Nothing can be sent before negotiation.
    let mut out = [0u8; 256];
    assert_eq!(
        conn.client
            .send_raw("query-status", None, SendOptions::new(), &mut out),
        Err(SendError::NotReady(ClientState::AwaitingGreeting))
    );
    let got = conn.handshake(false);
    assert_eq!(
        got,
        [
            Got::Greeting(Some((7, 2, 22)), true),
            Got::Negotiated { oob: false }
        ]
    );

    let raw = typed::<QueryVersion>(&mut conn);
    let v = decode_return::<QueryVersion>(Json::parse(&raw).unwrap(), Mode::Lenient).unwrap();
    assert_eq!((v.qemu.major, v.qemu.minor, v.qemu.micro), (7, 2, 22));
    assert!(
        v.package.as_str().starts_with("Debian 1:7.2"),
        "{}",
        v.package
    );

    let raw = typed::<QueryName>(&mut conn);
    let v = decode_return::<QueryName>(Json::parse(&raw).unwrap(), Mode::Lenient).unwrap();
    assert_eq!(v.name, None);

    let raw = typed::<QueryKvm>(&mut conn);
    let v = decode_return::<QueryKvm>(Json::parse(&raw).unwrap(), Mode::Lenient).unwrap();
    assert!(!v.enabled);

    let raw = typed::<QueryUuid>(&mut conn);
    let v = decode_return::<QueryUuid>(Json::parse(&raw).unwrap(), Mode::Lenient).unwrap();
    assert_eq!(v.uuid.as_str(), "00000000-0000-0000-0000-000000000000");

    let raw = typed::<QueryCommands>(&mut conn);
    let v = decode_return::<QueryCommands>(Json::parse(&raw).unwrap(), Mode::Lenient).unwrap();
    assert!(v.len() > 150, "{}", v.len());
    for name in [
        "qmp_capabilities",
        "query-status",
        "stop",
        "cont",
        "quit",
        "query-qmp-schema",
    ] {
        assert!(v.iter().any(|c| c.name.as_str() == name), "{name} missing");
    }
    assert!(!v.iter().any(|c| c.name.as_str() == "query-events"));

    let raw = typed::<QueryIothreads>(&mut conn);
    let v = decode_return::<QueryIothreads>(Json::parse(&raw).unwrap(), Mode::Lenient).unwrap();
    assert!(v.is_empty());

    // Raw path: commands the seed schema does not have.
    let id = conn.send_raw("query-status", None, SendOptions::new());
    assert_eq!(
        returned(&mut conn, id),
        json!({"status": "running", "singlestep": false, "running": true})
    );
    let id = conn.send_raw("query-cpus-fast", None, SendOptions::new());
    assert_eq!(returned(&mut conn, id), json!([]));
    let id = conn.send_raw(
        "human-monitor-command",
        Some(r#"{"command-line": "info version"}"#),
        SendOptions::new(),
    );
    let v = returned(&mut conn, id);
    assert!(v.as_str().unwrap().starts_with("7.2.22"), "{v}");
    assert!(conn
        .log
        .iter()
        .all(|g| !matches!(g, Got::Unsolicited { .. } | Got::Malformed(_))));
}

#[test]
fn stop_and_cont_events_come_before_their_replies() {
    let qemu = Qemu::start();
    let mut conn = connect(&qemu, false);
    let mut out = [0u8; 256];
    let sent = conn
        .client
        .send::<Stop>(&Default::default(), SendOptions::new(), &mut out)
        .unwrap();
    conn.write(&out[..sent.len]);
    let got = conn.reply(sent.id);
    assert_eq!(got.len(), 2, "{got:?}");
    match &got[0] {
        Got::Event {
            name,
            data: None,
            timestamp: Some(ts),
        } => {
            assert_eq!(name, "STOP");
            assert!(
                ts.seconds > 1_600_000_000 && (0..1_000_000).contains(&ts.microseconds),
                "{ts:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(&got[1], Got::Return { id, value, .. } if *id == sent.id && *value == json!({}))
    );

    let id = conn.send_raw("query-status", None, SendOptions::new());
    assert_eq!(returned(&mut conn, id)["status"], "paused");

    let id = conn.send_raw("cont", None, SendOptions::new());
    let got = conn.reply(id);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        matches!(&got[0], Got::Event { name, .. } if name == "RESUME"),
        "{got:?}"
    );
    assert!(matches!(&got[1], Got::Return { id: i, value, .. } if *i == id && *value == json!({})));
    let id = conn.send_raw("query-status", None, SendOptions::new());
    assert_eq!(returned(&mut conn, id)["status"], "running");
}

#[test]
fn errors_are_decoded_with_class_and_description() {
    let qemu = Qemu::start();
    let mut conn = connect(&qemu, false);
    let mut out = [0u8; 256];
    let sent = conn
        .client
        .send::<QueryBalloon>(&Default::default(), SendOptions::new(), &mut out)
        .unwrap();
    conn.write(&out[..sent.len]);
    assert_eq!(
        conn.reply(sent.id),
        [Got::Error {
            id: sent.id,
            class: "DeviceNotActive".into(),
            desc: "No balloon device has been activated".into()
        }]
    );
    let id = conn.send_raw("no-such-command", None, SendOptions::new());
    assert_eq!(
        conn.reply(id),
        [Got::Error {
            id,
            class: "CommandNotFound".into(),
            desc: "The command no-such-command has not been found".into()
        }]
    );
    let id = conn.send_raw("qom-list", Some(r#"{"path": 42}"#), SendOptions::new());
    assert_eq!(
        conn.reply(id),
        [Got::Error {
            id,
            class: "GenericError".into(),
            desc: "Invalid parameter type for 'path', expected: string".into()
        }]
    );
    // Bad bytes injected into the stream: QEMU's id-less error is reported
    // as unsolicited, and the session goes on.
    conn.write(b"\xff");
    let id = conn.send_raw("query-name", None, SendOptions::new());
    let got = conn.reply(id);
    assert_eq!(
        got[0],
        Got::Unsolicited {
            kind: "error",
            id: None,
            error: Some((
                "GenericError".into(),
                "JSON parse error, stray '\u{FFFD}'".into()
            ))
        }
    );
    assert!(matches!(&got[1], Got::Return { id: i, .. } if *i == id));
}

#[test]
fn a_reply_larger_than_the_buffer_completes_its_command_and_the_next_works() {
    let qemu = Qemu::start();
    let mut conn = connect(&qemu, false);
    let id = conn.send_raw("query-qmp-schema", None, SendOptions::new());
    let got = conn.reply(id);
    match got.as_slice() {
        [Got::TooLarge { id: Some(i), len }] => {
            assert_eq!(*i, id);
            assert!((150_000..400_000).contains(len), "{len}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(conn.client.in_flight(), 0);
    let id = conn.send_raw("query-status", None, SendOptions::new());
    assert_eq!(returned(&mut conn, id)["running"], true);
    // Twice in a row, with a command queued behind it.
    let big = conn.send_raw("query-qmp-schema", None, SendOptions::new());
    let small = conn.send_raw("query-name", None, SendOptions::new());
    let got = conn.reply(small);
    assert!(
        matches!(got[0], Got::TooLarge { id: Some(i), .. } if i == big),
        "{got:?}"
    );
    assert!(
        matches!(&got[1], Got::Return { id, value, .. } if *id == small && *value == json!({}))
    );
}

#[test]
fn pipelined_commands_in_one_write_are_answered_in_order() {
    let qemu = Qemu::start();
    let mut conn = connect(&qemu, false);
    let mut wire = Vec::new();
    let mut ids = Vec::new();
    for name in [
        "query-status",
        "query-name",
        "query-kvm",
        "query-uuid",
        "stop",
        "cont",
        "query-iothreads",
        "query-status",
    ] {
        let mut out = [0u8; 256];
        let sent = conn
            .client
            .send_raw(name, None, SendOptions::new(), &mut out)
            .unwrap();
        wire.extend_from_slice(&out[..sent.len]);
        ids.push(sent.id);
    }
    // All 8 slots are taken: a ninth command waits.
    let mut out = [0u8; 256];
    assert_eq!(
        conn.client
            .send_raw("query-name", None, SendOptions::new(), &mut out),
        Err(SendError::Busy)
    );
    assert_eq!(
        conn.client.outstanding().map(|o| o.id).collect::<Vec<_>>(),
        ids
    );
    conn.write(&wire);
    let got = conn.reply(*ids.last().unwrap());
    let replies: Vec<u64> = got
        .iter()
        .filter_map(|g| match g {
            Got::Return { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(replies, ids);
    let events: Vec<&str> = got
        .iter()
        .filter_map(|g| match g {
            Got::Event { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(events, ["STOP", "RESUME"]);
    assert_eq!(got.len(), 10);
    assert_eq!(conn.client.in_flight(), 0);
}

#[test]
fn quit_sends_shutdown_then_the_reply_then_end_of_stream() {
    let mut qemu = Qemu::start();
    let mut conn = connect(&qemu, false);
    let mut out = [0u8; 256];
    let sent = conn
        .client
        .send::<Quit>(&Default::default(), SendOptions::new(), &mut out)
        .unwrap();
    conn.write(&out[..sent.len]);
    let got = conn.to_end();
    assert!(conn.eof);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        matches!(&got[0], Got::Event { name, data: Some(d), .. }
            if name == "SHUTDOWN" && *d == json!({"guest": false, "reason": "host-qmp-quit"})),
        "{got:?}"
    );
    assert!(matches!(&got[1], Got::Return { id, .. } if *id == sent.id));
    let ended = conn.client.finish();
    assert!(!ended.truncated);
    assert_eq!(ended.outstanding, 0);
    assert_eq!(conn.client.state(), ClientState::Closed);
    let status = qemu
        .wait_exit(Duration::from_secs(10))
        .expect("QEMU exits after quit");
    assert!(status.success(), "{status}");
}

#[test]
fn out_of_band_execution_when_negotiated() {
    let qemu = Qemu::start();
    let mut conn = connect(&qemu, true);
    let mut out = [0u8; 256];
    // The schema says stop is not allowed out-of-band: refused locally.
    assert_eq!(
        conn.client
            .send::<Stop>(&Default::default(), SendOptions::new().oob(), &mut out),
        Err(SendError::OobNotAllowed)
    );
    let id = conn.send_raw("query-status", None, SendOptions::new().oob());
    assert_eq!(
        conn.reply(id),
        [Got::Error {
            id,
            class: "GenericError".into(),
            desc: "The command query-status does not support OOB".into()
        }]
    );
    let id = conn.send_raw("migrate-pause", None, SendOptions::new().oob());
    assert_eq!(
        conn.reply(id),
        [Got::Error {
            id,
            class: "GenericError".into(),
            desc: "migrate-pause is currently only supported during postcopy-active state".into()
        }]
    );
    // In-band commands mixed with an out-of-band one, in one write.
    let mut wire = Vec::new();
    let mut ids = Vec::new();
    for (name, oob) in [
        ("query-status", false),
        ("migrate-pause", true),
        ("stop", false),
        ("query-name", false),
    ] {
        let opts = if oob {
            SendOptions::new().oob()
        } else {
            SendOptions::new()
        };
        let sent = conn.client.send_raw(name, None, opts, &mut out).unwrap();
        wire.extend_from_slice(&out[..sent.len]);
        ids.push(sent.id);
    }
    conn.write(&wire);
    let mut got = Vec::new();
    while conn.client.in_flight() > 0 {
        got.extend(conn.until(|g| matches!(g, Got::Return { .. } | Got::Error { .. })));
    }
    let mut answered: Vec<u64> = got
        .iter()
        .filter_map(|g| match g {
            Got::Return { id, .. } | Got::Error { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    answered.sort();
    assert_eq!(answered, ids);
    assert!(got
        .iter()
        .any(|g| matches!(g, Got::Event { name, .. } if name == "STOP")));
    // A command sent without an id is matched by order (it is the only one
    // in flight).
    let id = conn.send_raw("query-name", None, SendOptions::new().anonymous());
    assert!(matches!(conn.reply(id).as_slice(), [Got::Return { id: i, .. }] if *i == id));
}

#[test]
fn the_caller_times_commands_out_and_late_replies_are_reported() {
    let qemu = Qemu::start();
    let mut conn = connect(&qemu, false);
    let a = conn.send_raw("query-status", None, SendOptions::new().deadline(100));
    let b = conn.send_raw("query-name", None, SendOptions::new().deadline(50));
    assert_eq!(conn.client.next_deadline(), Some(50));
    assert_eq!(conn.client.expire(49), None);
    assert_eq!(conn.client.expire(100), Some(b));
    assert_eq!(conn.client.expire(100), Some(a));
    assert_eq!(conn.client.expire(100), None);
    assert!(conn.client.outstanding().all(|o| o.abandoned));
    assert!(!conn.client.abandon(a));
    let got = conn.until(|g| matches!(g, Got::Late { id, .. } if *id == b));
    assert_eq!(
        got,
        [
            Got::Late {
                id: a,
                kind: Some("return")
            },
            Got::Late {
                id: b,
                kind: Some("return")
            }
        ]
    );
    assert_eq!(conn.client.in_flight(), 0);
    let id = conn.send_raw("query-kvm", None, SendOptions::new());
    assert_eq!(
        returned(&mut conn, id),
        json!({"enabled": false, "present": true})
    );
}
