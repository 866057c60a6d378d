//! The QMP client's rules on scripted server streams: what it writes (byte
//! for byte), negotiation outcomes, how replies are matched (ids, order,
//! out-of-band ambiguity), too-large replies, abandoned commands, bad
//! bytes, the end of the stream and reconnecting.

use qwire::codec::NoArgs;
use qwire::qmp::schema::{AddClient, AddClientArgs, QueryVersion};
use qwire::qmp::{Client, ClientState, Ended, SendError, SendOptions};
use qwire_tests::qmp::{feed_all, Got};
use serde_json::json;

const GREETING: &[u8] = br#"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}
"#;
const GREETING_NO_OOB: &[u8] = br#"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 10}, "package": "v10.0.0"}, "capabilities": []}}
"#;

fn wrote(out: &[u8], n: usize) -> &str {
    std::str::from_utf8(&out[..n]).unwrap()
}

/// A client negotiated (with oob if `oob`) over `frame`.
fn ready<const N: usize>(frame: &mut [u8], oob: bool) -> Client<'_, N> {
    let mut c = Client::<N>::new(frame);
    assert_eq!(
        feed_all(&mut c, GREETING),
        [Got::Greeting(Some((7, 2, 22)), true)]
    );
    let mut out = [0u8; 128];
    c.negotiate(oob, &mut out).unwrap();
    assert_eq!(
        feed_all(&mut c, br#"{"return": {}, "id": 0}"#),
        [Got::Negotiated { oob }]
    );
    c
}

#[test]
fn what_the_client_writes() {
    let mut frame = [0u8; 1024];
    let mut c = Client::<2>::new(&mut frame);
    let mut out = [0u8; 256];
    assert_eq!(
        c.negotiate(true, &mut out),
        Err(SendError::NotReady(ClientState::AwaitingGreeting))
    );
    feed_all(&mut c, GREETING);
    assert_eq!(c.state(), ClientState::Greeted);
    // Too small: nothing changes.
    assert!(matches!(
        c.negotiate(true, &mut out[..20]),
        Err(SendError::Write(_))
    ));
    assert_eq!(c.state(), ClientState::Greeted);
    let n = c.negotiate(true, &mut out).unwrap();
    assert_eq!(
        wrote(&out, n),
        r#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]},"id":0}"#
    );
    assert_eq!(
        c.negotiate(true, &mut out),
        Err(SendError::NotReady(ClientState::Negotiating))
    );
    assert_eq!(
        c.send_raw("x", None, SendOptions::new(), &mut out),
        Err(SendError::NotReady(ClientState::Negotiating))
    );
    feed_all(&mut c, b"{\"return\": {}, \"id\": 0}\r\n");
    assert!(c.oob_enabled());

    let s = c
        .send::<QueryVersion>(&NoArgs, SendOptions::new(), &mut out)
        .unwrap();
    assert_eq!(
        (s.id, wrote(&out, s.len)),
        (1, r#"{"execute":"query-version","id":1}"#)
    );
    let args = AddClientArgs {
        protocol: "vnc".try_into().unwrap(),
        fdname: "f\u{e9}".try_into().unwrap(),
        skipauth: Some(true),
        tls: None,
    };
    // Busy once N commands are in flight; a failed send uses no id.
    let s = c
        .send::<AddClient>(&args, SendOptions::new().anonymous(), &mut out)
        .unwrap();
    assert_eq!(
        (s.id, wrote(&out, s.len)),
        (
            2,
            r#"{"execute":"add_client","arguments":{"protocol":"vnc","fdname":"f\u00E9","skipauth":true}}"#
        )
    );
    assert_eq!(
        c.send_raw("x", None, SendOptions::new(), &mut out),
        Err(SendError::Busy)
    );
    assert_eq!(c.next_id(), 3);
    feed_all(&mut c, b"{\"return\": {}, \"id\": 1}{\"return\": {}}");
    assert_eq!(c.in_flight(), 0);
    let s = c
        .send_raw("migrate-pause", None, SendOptions::new().oob(), &mut out)
        .unwrap();
    assert_eq!(
        (s.id, wrote(&out, s.len)),
        (3, r#"{"exec-oob":"migrate-pause","id":3}"#)
    );
    assert_eq!(
        c.send::<QueryVersion>(&NoArgs, SendOptions::new().oob(), &mut out),
        Err(SendError::OobNotAllowed)
    );
}

#[test]
fn negotiation_reply_too_large_ends_the_negotiation_and_a_retry_works() {
    let mut frame = [0u8; 256];
    let mut c = Client::<2>::new(&mut frame);
    let mut out = [0u8; 256];
    assert_eq!(
        feed_all(&mut c, GREETING_NO_OOB),
        [Got::Greeting(Some((10, 0, 0)), false)]
    );
    let n = c.negotiate(false, &mut out).unwrap();
    assert_eq!(wrote(&out, n), r#"{"execute":"qmp_capabilities","id":0}"#);
    let mut big = br#"{"return": {"pad": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 300));
    big.extend_from_slice(br#""}, "id": 0}"#);
    let len = big.len() as u64;
    assert_eq!(feed_all(&mut c, &big), [Got::TooLarge { id: Some(0), len }]);
    assert_eq!(c.state(), ClientState::Greeted);
    let n = c.negotiate(false, &mut out).unwrap();
    assert_eq!(wrote(&out, n), r#"{"execute":"qmp_capabilities","id":1}"#);
    assert_eq!(
        feed_all(&mut c, br#"{"return": {}, "id": 1}"#),
        [Got::Negotiated { oob: false }]
    );
    assert_eq!(c.state(), ClientState::Ready);
}

#[test]
fn negotiation_outcomes() {
    let mut frame = [0u8; 1024];
    let mut c = Client::<2>::new(&mut frame);
    let mut out = [0u8; 256];
    // Events may come at any time; bytes before the greeting are reported.
    assert_eq!(
        feed_all(&mut c, b"{\"event\": \"X\"}{\"return\": 1, \"id\": 0}"),
        [
            Got::Event {
                name: "X".into(),
                data: None,
                timestamp: None
            },
            Got::Unsolicited {
                kind: "return",
                id: Some(json!(0)),
                error: None
            }
        ]
    );
    assert_eq!(
        feed_all(&mut c, GREETING_NO_OOB),
        [Got::Greeting(Some((10, 0, 0)), false)]
    );
    assert!(!c.oob_offered());
    // oob asked for but not offered: not requested.
    let n = c.negotiate(true, &mut out).unwrap();
    assert_eq!(wrote(&out, n), r#"{"execute":"qmp_capabilities","id":0}"#);
    // A reply to some other id is not the negotiation's.
    assert_eq!(
        feed_all(&mut c, br#"{"return": {}, "id": 7}"#),
        [Got::Unsolicited {
            kind: "return",
            id: Some(json!(7)),
            error: None
        }]
    );
    assert_eq!(
        feed_all(
            &mut c,
            br#"{"id": 0, "error": {"class": "GenericError", "desc": "no"}}"#
        ),
        [Got::NegotiationFailed {
            class: "GenericError".into(),
            desc: "no".into()
        }]
    );
    assert_eq!(c.state(), ClientState::Greeted);
    let n = c.negotiate(false, &mut out).unwrap();
    assert_eq!(wrote(&out, n), r#"{"execute":"qmp_capabilities","id":1}"#);
    // A reply without id is taken as the negotiation's (nothing else is in
    // flight then).
    assert_eq!(
        feed_all(&mut c, b"{\"return\": {}}"),
        [Got::Negotiated { oob: false }]
    );
    // A second greeting on the same connection is out of turn.
    assert!(matches!(
        feed_all(&mut c, GREETING).as_slice(),
        [Got::Unsolicited {
            kind: "greeting",
            ..
        }]
    ));
    assert_eq!(c.server_version(), Some((10, 0, 0)));
}

#[test]
fn matching_replies() {
    let mut frame = [0u8; 256];
    let mut c = ready::<4>(&mut frame, false);
    let mut out = [0u8; 256];
    let a = c
        .send_raw("a", None, SendOptions::new(), &mut out)
        .unwrap()
        .id;
    let b = c
        .send_raw("b", None, SendOptions::new().anonymous(), &mut out)
        .unwrap()
        .id;
    let got = feed_all(
        &mut c,
        format!(
            concat!(
                r#"{{"return": 1, "id": "{a}"}}"#,
                r#"{{"error": {{"class": "GenericError", "desc": "JSON parse error, stray '\u00ff'"}}}}"#,
                r#"{{"timestamp": {{"seconds": 5, "microseconds": 6}}, "event": "E", "data": {{"k": [1]}}}}"#,
                r#"{{"return": 2, "id": 99}}"#,
                r#"{{"id": {a}, "error": {{"class": "DeviceNotFound", "desc": "d"}}}}"#,
                r#"{{"return": 3}}"#,
                r#"["other"]"#,
            ),
            a = a
        )
        .as_bytes(),
    );
    assert_eq!(
        got,
        [
            // A string id is not one of ours.
            Got::Unsolicited {
                kind: "return",
                id: Some(json!(a.to_string())),
                error: None
            },
            // An id-less error while the oldest command has an id.
            Got::Unsolicited {
                kind: "error",
                id: None,
                error: Some((
                    "GenericError".into(),
                    "JSON parse error, stray '\u{ff}'".into()
                ))
            },
            Got::Event {
                name: "E".into(),
                data: Some(json!({"k": [1]})),
                timestamp: Some(qwire::envelope::Timestamp {
                    seconds: 5,
                    microseconds: 6
                })
            },
            Got::Unsolicited {
                kind: "return",
                id: Some(json!(99)),
                error: None
            },
            Got::Error {
                id: a,
                class: "DeviceNotFound".into(),
                desc: "d".into()
            },
            // Now the anonymous command is the oldest: the id-less reply is its.
            Got::Return {
                id: b,
                value: json!(3),
                raw: b"3".to_vec()
            },
            Got::Unsolicited {
                kind: "other",
                id: None,
                error: None
            },
        ]
    );
}

#[test]
fn too_large_replies_and_abandoned_commands() {
    let mut frame = [0u8; 256];
    let mut c = ready::<4>(&mut frame, true);
    let mut out = [0u8; 256];
    let big = format!(r#"{{"return": "{}"}}"#, "x".repeat(300));
    let a = c
        .send_raw("a", None, SendOptions::new(), &mut out)
        .unwrap()
        .id;
    let b = c
        .send_raw("b", None, SendOptions::new(), &mut out)
        .unwrap()
        .id;
    // In-band only: replies come in order, the oldest owns it.
    assert_eq!(
        feed_all(&mut c, big.as_bytes()),
        [Got::TooLarge {
            id: Some(a),
            len: 314
        }]
    );
    // An out-of-band command in flight too: it cannot be told.
    let o = c
        .send_raw("o", None, SendOptions::new().oob(), &mut out)
        .unwrap()
        .id;
    assert_eq!(
        feed_all(&mut c, big.as_bytes()),
        [Got::TooLarge { id: None, len: 314 }]
    );
    assert_eq!(
        c.outstanding().map(|x| (x.id, x.oob)).collect::<Vec<_>>(),
        [(b, false), (o, true)]
    );
    assert_eq!(
        feed_all(
            &mut c,
            format!(r#"{{"return": {{}}, "id": {o}}}"#).as_bytes()
        ),
        [Got::Return {
            id: o,
            value: json!({}),
            raw: b"{}".to_vec()
        }]
    );
    // Abandoned: its reply, even too large, completes it as late.
    assert!(c.abandon(b));
    assert_eq!(
        feed_all(&mut c, big.as_bytes()),
        [Got::Late { id: b, kind: None }]
    );
    let d = c
        .send_raw("d", None, SendOptions::new().deadline(10), &mut out)
        .unwrap()
        .id;
    assert_eq!(c.expire(10), Some(d));
    assert_eq!(
        feed_all(
            &mut c,
            format!(r#"{{"id": {d}, "error": {{"class": "C", "desc": ""}}}}"#).as_bytes()
        ),
        [Got::Late {
            id: d,
            kind: Some("error")
        }]
    );
    assert_eq!(c.in_flight(), 0);
    // Nothing in flight: a large message is reported unattributed.
    assert_eq!(
        feed_all(&mut c, big.as_bytes()),
        [Got::TooLarge { id: None, len: 314 }]
    );
}

#[test]
fn bad_bytes_end_of_stream_and_reconnect() {
    let mut frame = [0u8; 256];
    let mut c = ready::<2>(&mut frame, false);
    let mut out = [0u8; 256];
    let a = c
        .send_raw("a", None, SendOptions::new(), &mut out)
        .unwrap()
        .id;
    let mut input = b"{\"ret\x01urn\": 1}\xff".to_vec();
    input.extend_from_slice(format!("{{\"return\": 1, \"id\": {a}}}").as_bytes());
    let got = feed_all(&mut c, &input);
    assert!(matches!(got[0], Got::Malformed(_)), "{got:?}");
    assert_eq!(
        got.last(),
        Some(&Got::Return {
            id: a,
            value: json!(1),
            raw: b"1".to_vec()
        })
    );
    let b = c
        .send_raw("b", None, SendOptions::new(), &mut out)
        .unwrap()
        .id;
    feed_all(&mut c, b"{\"return\": ");
    assert_eq!(
        c.finish(),
        Ended {
            truncated: true,
            outstanding: 1
        }
    );
    assert_eq!(c.state(), ClientState::Closed);
    assert_eq!(c.outstanding().next().map(|o| o.id), Some(b));
    assert_eq!(
        c.send_raw("c", None, SendOptions::new(), &mut out),
        Err(SendError::NotReady(ClientState::Closed))
    );
    c.reset();
    assert_eq!(
        (c.state(), c.in_flight(), c.server_version()),
        (ClientState::AwaitingGreeting, 0, None)
    );
    feed_all(&mut c, GREETING);
    let n = c.negotiate(false, &mut out).unwrap();
    // Ids keep counting across connections.
    assert_eq!(
        wrote(&out, n),
        format!(r#"{{"execute":"qmp_capabilities","id":{}}}"#, b + 1)
    );
}
