//! The QMP server's own rules, byte for byte: the greeting, negotiation
//! (QEMU's classes and messages for every way `qmp_capabilities` can go
//! wrong), out-of-band execution only once negotiated, events never before
//! negotiation, a reconnect starting over, and a reply too large for the
//! output buffer.

use qwire::envelope::{Timestamp, VersionRef};
use qwire::qmp::schema::{BalloonChange, BalloonChangeData};
use qwire::qmp::{EventError, Server, ServerState};
use qwire_tests::qmp_machine::Machine;

const VERSION: VersionRef<'static> = VersionRef {
    major: 7,
    minor: 2,
    micro: 22,
    package: "pkg",
};

/// Feed `input` whole; everything written.
fn talk(server: &mut Server<'_>, machine: &mut Machine, input: &str) -> String {
    let mut out = vec![0u8; 4096];
    let mut all = Vec::new();
    let mut rest = input.as_bytes();
    while !rest.is_empty() {
        let step = server.feed(rest, &mut out, machine);
        assert!(!step.overflow);
        all.extend_from_slice(&out[..step.written]);
        rest = &rest[step.consumed..];
    }
    String::from_utf8(all).unwrap()
}

fn err(id: Option<&str>, class: &str, desc: &str) -> String {
    match id {
        Some(id) => {
            format!("{{\"id\":{id},\"error\":{{\"class\":\"{class}\",\"desc\":\"{desc}\"}}}}\r\n")
        }
        None => format!("{{\"error\":{{\"class\":\"{class}\",\"desc\":\"{desc}\"}}}}\r\n"),
    }
}

const GREETING_OOB: &str =
    "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":22,\"minor\":2,\"major\":7},\"package\":\"pkg\"},\"capabilities\":[\"oob\"]}}\r\n";

#[test]
fn greeting_and_negotiation_rules() {
    let mut frame = [0u8; 1024];
    let mut m = Machine::none();
    let mut server = Server::new(&mut frame, VERSION, true);
    assert_eq!(server.state(), ServerState::Greeting);
    // The greeting comes first, before the answer to the first request.
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"execute": "query-status", "id": 1}"#
        ),
        format!(
            "{GREETING_OOB}{}",
            err(
                Some("1"),
                "CommandNotFound",
                "Expecting capabilities negotiation with 'qmp_capabilities'"
            )
        )
    );
    assert_eq!(server.state(), ServerState::Negotiation);
    // Unknown commands too; request errors are the dispatcher's.
    assert_eq!(
        talk(&mut server, &mut m, r#"{"execute": "nope"}"#),
        err(
            None,
            "CommandNotFound",
            "Expecting capabilities negotiation with 'qmp_capabilities'"
        )
    );
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"exec-oob": "qmp_capabilities", "id": 2}"#
        ),
        err(
            Some("2"),
            "GenericError",
            "QMP input member 'exec-oob' is unexpected"
        )
    );
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"execute": "qmp_capabilities", "arguments": {"enable": ["x"]}, "id": 3}"#
        ),
        err(
            Some("3"),
            "GenericError",
            "Parameter 'enable[0]' does not accept value 'x'"
        )
    );
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"execute": "qmp_capabilities", "arguments": {"enable": "oob"}}"#
        ),
        err(
            None,
            "GenericError",
            "Invalid parameter type for 'enable', expected: array"
        )
    );
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"execute": "qmp_capabilities", "arguments": {"enable": [1]}}"#
        ),
        err(
            None,
            "GenericError",
            "Invalid parameter type for 'enable[0]', expected: string"
        )
    );
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"execute": "qmp_capabilities", "arguments": {"bogus": 1}}"#
        ),
        err(None, "GenericError", "Parameter 'bogus' is unexpected")
    );
    assert_eq!(server.state(), ServerState::Negotiation);
    // No events before negotiation.
    let mut out = [0u8; 256];
    assert_eq!(
        server.event("STOP", None, Timestamp::default(), &mut out),
        Err(EventError::NotNegotiated)
    );
    m.calls.clear();
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{'execute': 'qmp_capabilities', 'arguments': {'enable': ['oob']}, 'id': 'c'}"#
        ),
        "{\"return\":{},\"id\":\"c\"}\r\n"
    );
    assert_eq!(server.state(), ServerState::Command);
    assert!(server.oob_enabled());
    assert!(m.calls.is_empty(), "qmp_capabilities is the session's own");
    // Negotiated: a second time is refused, after its arguments are checked.
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"execute": "qmp_capabilities", "id": 4}"#
        ),
        err(
            Some("4"),
            "CommandNotFound",
            "Capabilities negotiation is already complete, command ignored"
        )
    );
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"execute": "qmp_capabilities", "arguments": {"x": 1}}"#
        ),
        err(None, "GenericError", "Parameter 'x' is unexpected")
    );
    // Out-of-band: only commands that allow it.
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"exec-oob": "query-status", "id": 5}"#
        ),
        err(
            Some("5"),
            "GenericError",
            "The command query-status does not support OOB"
        )
    );
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"exec-oob": "migrate-pause", "id": 6}"#
        ),
        err(
            Some("6"),
            "GenericError",
            "migrate-pause is currently only supported during postcopy-active state"
        )
    );
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"execute": "query-status", "exec-oob": "query-status"}"#
        ),
        err(
            None,
            "GenericError",
            "QMP input member 'exec-oob' clashes with 'execute'"
        )
    );
    // Events: standalone, with the caller's timestamp, and typed.
    let ts = Timestamp {
        seconds: 1_700_000_000,
        microseconds: 42,
    };
    let n = server.event("STOP", None, ts, &mut out).unwrap();
    assert_eq!(
        &out[..n],
        b"{\"timestamp\":{\"seconds\":1700000000,\"microseconds\":42},\"event\":\"STOP\"}\r\n"
    );
    let n = server
        .emit::<BalloonChange>(&BalloonChangeData { actual: 1 << 20 }, ts, &mut out)
        .unwrap();
    assert_eq!(
        &out[..n],
        b"{\"timestamp\":{\"seconds\":1700000000,\"microseconds\":42},\"event\":\"BALLOON_CHANGE\",\"data\":{\"actual\":1048576}}\r\n"
    );
    assert_eq!(
        server.event("STOP", None, ts, &mut out[..10]),
        Err(EventError::Write(qwire::json::WriteError::BufferFull))
    );
    // A reconnect: greeted again, negotiation again.
    server.reset();
    assert_eq!(server.state(), ServerState::Greeting);
    assert!(!server.oob_enabled());
    let mut out = [0u8; 512];
    let n = server.greeting(&mut out).unwrap();
    assert_eq!(&out[..n], GREETING_OOB.as_bytes());
    assert_eq!(server.greeting(&mut out).unwrap(), 0, "greeted once");
    assert_eq!(
        talk(&mut server, &mut m, r#"{"execute": "query-status"}"#),
        err(
            None,
            "CommandNotFound",
            "Expecting capabilities negotiation with 'qmp_capabilities'"
        )
    );
}

#[test]
fn without_oob_on_offer() {
    let mut frame = [0u8; 1024];
    let mut m = Machine::none();
    let mut server = Server::new(&mut frame, VERSION, false);
    let mut out = [0u8; 512];
    let n = server.greeting(&mut out).unwrap();
    assert!(std::str::from_utf8(&out[..n])
        .unwrap()
        .ends_with("\"capabilities\":[]}}\r\n"));
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}, "id": 1}"#
        ),
        err(Some("1"), "GenericError", "Capability oob not available")
    );
    assert_eq!(
        talk(
            &mut server,
            &mut m,
            r#"{"execute": "qmp_capabilities", "arguments": {"enable": ["oob", "oob"]}}"#
        ),
        err(None, "GenericError", "Capability oob, oob not available")
    );
    assert_eq!(
        talk(&mut server, &mut m, r#"{"execute": "qmp_capabilities"}"#),
        "{\"return\":{}}\r\n"
    );
    assert!(!server.oob_enabled());
    // exec-oob stays unexpected without oob.
    assert_eq!(
        talk(&mut server, &mut m, r#"{"exec-oob": "migrate-pause"}"#),
        err(
            None,
            "GenericError",
            "QMP input member 'exec-oob' is unexpected"
        )
    );
    // stop: the event precedes the reply.
    assert_eq!(
        talk(&mut server, &mut m, r#"{"execute": "stop", "id": 9}"#),
        "{\"timestamp\":{\"seconds\":1795307803,\"microseconds\":558142},\"event\":\"STOP\"}\r\n{\"return\":{},\"id\":9}\r\n"
    );
}

#[test]
fn answers_that_do_not_fit_the_output_buffer() {
    let mut frame = [0u8; 64];
    let mut m = Machine::none();
    let mut server = Server::new(&mut frame, VERSION, false);
    let mut out = [0u8; 512];
    server.greeting(&mut out).unwrap();
    assert_eq!(
        talk(&mut server, &mut m, r#"{"execute":"qmp_capabilities"}"#),
        "{\"return\":{}}\r\n"
    );
    // A request larger than the frame buffer: QEMU's size error, no id.
    let big = format!(
        r#"{{"execute": "query-status", "id": "{}"}}"#,
        "x".repeat(100)
    );
    assert_eq!(
        talk(&mut server, &mut m, &big),
        err(None, "GenericError", "JSON token size limit exceeded")
    );
    // An output buffer too small for the reply: the dispatcher's short
    // error instead; too small for that too: nothing, and `overflow`.
    let mut small = [0u8; 90];
    let step = server.feed(br#"{"execute": "query-version"}"#, &mut small, &mut m);
    assert_eq!(
        std::str::from_utf8(&small[..step.written]).unwrap(),
        err(None, "GenericError", "reply does not fit the output buffer")
    );
    let mut tiny = [0u8; 10];
    let step = server.feed(br#"{"execute": "query-status"}"#, &mut tiny, &mut m);
    assert_eq!((step.written, step.overflow), (0, true));
    // The session goes on.
    assert_eq!(
        talk(&mut server, &mut m, r#"{"execute": "query-name", "id": 1}"#),
        "{\"return\":{},\"id\":1}\r\n"
    );
}

#[test]
fn session_sizes_are_as_documented() {
    use qwire::qmp::Client;
    // docs/QMP.md and the type docs quote these (64-bit targets): the
    // framer's 192 bytes, 24 per command slot, and a little bookkeeping.
    if cfg!(target_pointer_width = "64") {
        assert_eq!(size_of::<Client<'_, 1>>(), 272);
        assert_eq!(size_of::<Client<'_, 4>>(), 344);
        assert_eq!(size_of::<Client<'_, 8>>(), 440);
        assert_eq!(size_of::<Client<'_, 16>>(), 632);
        assert_eq!(size_of::<Server<'_>>(), 240);
    }
}
