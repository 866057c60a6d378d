//! Unit tests of the two sessions against each other and against the
//! wire strings of qemu-ga 7.2 (corpus/qemu-7.2/qga). The real-peer,
//! corpus and relay tests live in `tests/tests/qga_*.rs`.

use super::*;
use crate::codec::CommandInfo;
use crate::dispatch::{Answered, Call, ErrorClass, Handler, Reply};
use crate::qga::schema::{GuestFileOpen, GuestFileOpenArgs, GuestShutdown};
use std::vec::Vec;

/// A handler with one schema command, one vendor command (disabled on
/// demand) and `guest-shutdown`.
struct Shim {
    watermark_enabled: bool,
    shutdowns: usize,
}

const SHIM: &[CommandInfo] = &[
    CommandInfo {
        name: "guest-file-open",
        success_response: true,
        allow_oob: false,
        has_args: true,
    },
    CommandInfo {
        name: "guest-x-stack-watermark",
        success_response: true,
        allow_oob: false,
        has_args: false,
    },
    CommandInfo {
        name: "guest-shutdown",
        success_response: false,
        allow_oob: false,
        has_args: true,
    },
    // A built-in's name: ignored.
    CommandInfo {
        name: "guest-ping",
        success_response: true,
        allow_oob: false,
        has_args: false,
    },
];

impl Handler for Shim {
    fn commands(&self) -> &[CommandInfo] {
        SHIM
    }

    fn enabled(&self, index: usize) -> bool {
        index != 1 || self.watermark_enabled
    }

    fn call(&mut self, call: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        if call.is::<GuestFileOpen>() {
            match call.args::<GuestFileOpen>() {
                Ok(args) if args.path.as_str() == "/missing" => reply.error(
                    ErrorClass::GenericError,
                    format_args!("failed to open file '{}'", args.path.as_str()),
                ),
                Ok(_) => reply.ok(&1000i64),
                Err(e) => reply.invalid_arguments(&e),
            }
        } else if call.is::<GuestShutdown>() {
            match call.args::<GuestShutdown>() {
                Ok(args) if args.mode.as_ref().is_some_and(|m| m.as_str() == "bad") => {
                    reply.error(ErrorClass::GenericError, format_args!("bad mode"))
                }
                Ok(_) => {
                    self.shutdowns += 1;
                    reply.ok_empty()
                }
                Err(e) => reply.invalid_arguments(&e),
            }
        } else {
            reply.ok(&4096u64)
        }
    }
}

fn shim() -> Shim {
    Shim {
        watermark_enabled: true,
        shutdowns: 0,
    }
}

/// Every reply the agent sends for `input` fed in one piece.
fn replies(agent: &mut Agent<'_>, handler: &mut Shim, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let step = agent.feed(rest, handler);
        out.extend_from_slice(step.reply);
        rest = &rest[step.consumed..];
    }
    out
}

#[test]
fn agent_refuses_small_output_buffers() {
    let (mut i, mut o) = ([0u8; 64], [0u8; dispatch_min() - 1]);
    assert_eq!(
        Agent::new(&mut i, &mut o, "v").unwrap_err(),
        AgentError::OutputTooSmall {
            len: dispatch_min() - 1,
            min: dispatch_min()
        }
    );
    let (mut i, mut o) = ([0u8; 0], [0u8; dispatch_min()]);
    assert_eq!(
        Agent::new(&mut i, &mut o, "v").unwrap_err(),
        AgentError::InputEmpty
    );
}

const fn dispatch_min() -> usize {
    crate::dispatch::MIN_OUTPUT
}

#[test]
fn agent_builtins_and_handler() {
    let (mut i, mut o) = ([0u8; 512], [0u8; 4096]);
    let mut agent = Agent::new(&mut i, &mut o, "9.9").unwrap();
    let mut h = shim();
    let cases: &[(&[u8], &[u8])] = &[
        (b"{\"execute\":\"guest-sync\",\"arguments\":{\"id\":-1}}", b"{\"return\":-1}\n"),
        (
            b"{'execute':'guest-sync-delimited','arguments':{'id':5},'id':'x'}",
            b"\xff{\"return\":5,\"id\":\"x\"}\n",
        ),
        (
            b"{\"execute\":\"guest-sync-delimited\"}",
            b"{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'id' is missing\"}}\n",
        ),
        (b"{\"execute\":\"guest-ping\",\"id\":1.0}", b"{\"return\":{},\"id\":1.0}\n"),
        (
            b"{\"execute\":\"guest-ping\",\"arguments\":{\"x\":1}}",
            b"{\"error\":{\"class\":\"GenericError\",\"desc\":\"Parameter 'x' is unexpected\"}}\n",
        ),
        (
            b"{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"/f\"},\"id\":[1]}",
            b"{\"return\":1000,\"id\":[1]}\n",
        ),
        (
            b"{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"/missing\"}}",
            b"{\"error\":{\"class\":\"GenericError\",\"desc\":\"failed to open file '/missing'\"}}\n",
        ),
        (
            b"{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":1}}",
            b"{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type for 'path', expected: string\"}}\n",
        ),
        (b"{\"execute\":\"guest-x-stack-watermark\"}", b"{\"return\":4096}\n"),
        (b"{\"execute\":\"guest-shutdown\"}", b""),
        (
            b"{\"execute\":\"guest-shutdown\",\"arguments\":{\"mode\":\"bad\"},\"id\":3}",
            b"{\"id\":3,\"error\":{\"class\":\"GenericError\",\"desc\":\"bad mode\"}}\n",
        ),
        (
            b"{\"execute\":\"guest-get-disks\",\"id\":2}",
            b"{\"id\":2,\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command guest-get-disks has not been found\"}}\n",
        ),
        (
            b"{\"exec-oob\":\"guest-ping\",\"id\":1}",
            b"{\"id\":1,\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input member 'exec-oob' is unexpected\"}}\n",
        ),
        (
            b"[1,2]",
            b"{\"error\":{\"class\":\"GenericError\",\"desc\":\"QMP input must be a JSON object\"}}\n",
        ),
    ];
    for (input, want) in cases {
        let got = replies(&mut agent, &mut h, input);
        assert_eq!(
            got,
            *want,
            "{} -> {}",
            std::string::String::from_utf8_lossy(input),
            std::string::String::from_utf8_lossy(&got)
        );
    }
    assert_eq!(h.shutdowns, 1);
    h.watermark_enabled = false;
    assert_eq!(
        replies(&mut agent, &mut h, b"{\"execute\":\"guest-x-stack-watermark\"}"),
        b"{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Command guest-x-stack-watermark has been disabled\"}}\n"
    );
}

#[test]
fn guest_info_lists_builtins_and_handler_commands_once() {
    let (mut i, mut o) = ([0u8; 512], [0u8; 4096]);
    let mut agent = Agent::new(&mut i, &mut o, "9.9").unwrap();
    let mut h = shim();
    h.watermark_enabled = false;
    let got = replies(&mut agent, &mut h, b"{\"execute\":\"guest-info\"}");
    let want = concat!(
        r#"{"return":{"version":"9.9","supported_commands":["#,
        r#"{"enabled":true,"name":"guest-sync-delimited","success-response":true},"#,
        r#"{"enabled":true,"name":"guest-sync","success-response":true},"#,
        r#"{"enabled":true,"name":"guest-ping","success-response":true},"#,
        r#"{"enabled":true,"name":"guest-info","success-response":true},"#,
        r#"{"enabled":true,"name":"guest-file-open","success-response":true},"#,
        r#"{"enabled":false,"name":"guest-x-stack-watermark","success-response":true},"#,
        r#"{"enabled":true,"name":"guest-shutdown","success-response":false}"#,
        "]}}\n"
    );
    assert_eq!(std::str::from_utf8(&got).unwrap(), want);
}

#[test]
fn guest_info_too_large_for_the_output_is_an_error_reply() {
    let (mut i, mut o) = ([0u8; 512], [0u8; 2048]);
    let long = "v".repeat(2100);
    let mut agent = Agent::new(&mut i, &mut o, &long).unwrap();
    let got = replies(
        &mut agent,
        &mut shim(),
        b"{\"execute\":\"guest-info\",\"id\":4}",
    );
    assert_eq!(
        got,
        b"{\"id\":4,\"error\":{\"class\":\"GenericError\",\"desc\":\"reply does not fit the output buffer\"}}\n"
    );
}

#[test]
fn an_id_too_large_to_echo_still_gets_one_reply() {
    let (mut i, mut o) = ([0u8; 8192], [0u8; 2048]);
    let mut agent = Agent::new(&mut i, &mut o, "1").unwrap();
    let id = "x".repeat(3000);
    let unknown = std::format!("{{\"execute\":\"nope\",\"id\":\"{id}\"}}");
    let refused = std::format!("{{\"execute\":\"guest-ping\",\"bad\":1,\"id\":\"{id}\"}}");
    for input in [unknown, refused] {
        let got = replies(&mut agent, &mut shim(), input.as_bytes());
        assert_eq!(
            got,
            b"{\"error\":{\"class\":\"GenericError\",\"desc\":\"reply does not fit the output buffer\"}}\n"
        );
    }
}

#[test]
fn oversized_and_deep_requests_are_answered_and_the_agent_carries_on() {
    let (mut i, mut o) = ([0u8; 64], [0u8; 2048]);
    let mut agent = Agent::new(&mut i, &mut o, "1").unwrap();
    let mut input = std::format!(
        "{{\"execute\":\"guest-sync\",\"arguments\":{{\"id\":1}},\"pad\":\"{}\"}}",
        "p".repeat(100)
    )
    .into_bytes();
    // Too deep; the rest of the brackets stay open until a 0xFF flushes
    // them (as in qemu-ga, unbalanced input swallows what follows).
    input.extend_from_slice(&[b'['; 1100]);
    input.extend_from_slice(b"\xff{\"execute\":\"guest-ping\"}");
    let got = replies(&mut agent, &mut shim(), &input);
    assert_eq!(
        std::str::from_utf8(&got).unwrap(),
        concat!(
            "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON token size limit exceeded\"}}\n",
            "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON nesting depth limit exceeded\"}}\n",
            "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, stray '\\uFFFD'\"}}\n",
            "{\"return\":{}}\n"
        )
    );
}

#[test]
fn ff_flushes_half_a_request() {
    let (mut i, mut o) = ([0u8; 512], [0u8; 2048]);
    let mut agent = Agent::new(&mut i, &mut o, "1").unwrap();
    let mut h = shim();
    // Split so that the half request is stored across feeds.
    assert_eq!(
        replies(&mut agent, &mut h, b"{\"execute\": \"guest-ping\", \"ar"),
        b""
    );
    assert!(agent.in_request());
    let got = replies(
        &mut agent,
        &mut h,
        b"gu\xff{\"execute\":\"guest-sync\",\"arguments\":{\"id\":7}}",
    );
    assert_eq!(
        std::str::from_utf8(&got).unwrap(),
        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, stray '\\\"argu\\uFFFD'\"}}\n{\"return\":7}\n"
    );
    assert!(!agent.in_request());
    // reset() drops a half request silently.
    assert_eq!(replies(&mut agent, &mut h, b"{\"exe"), b"");
    agent.reset();
    assert_eq!(
        replies(&mut agent, &mut h, b"{\"execute\":\"guest-ping\"}"),
        b"{\"return\":{}}\n"
    );
}

/// Run `client` against `agent` directly until `client` is no longer
/// waiting; collect the client's events as text.
fn exchange(
    client: &mut SyncClient<'_>,
    agent: &mut Agent<'_>,
    h: &mut Shim,
    request: &[u8],
    extra_before_reply: &[u8],
) -> Vec<std::string::String> {
    let mut to_client = extra_before_reply.to_vec();
    to_client.extend(replies(agent, h, request));
    let mut events = Vec::new();
    let mut rest = &to_client[..];
    while !rest.is_empty() {
        let fed = client.feed(rest);
        match fed.event {
            Event::Nothing => {}
            Event::Reply(Ok(v)) => events.push(std::format!("return {v:?}")),
            other => events.push(std::format!("{other:?}")),
        }
        rest = &rest[fed.consumed..];
    }
    events
}

#[test]
fn client_syncs_runs_commands_and_matches_ids() {
    let (mut i, mut o) = ([0u8; 512], [0u8; 4096]);
    let mut agent = Agent::new(&mut i, &mut o, "1").unwrap();
    let mut h = shim();
    let mut rx = [0u8; 256];
    let mut client = SyncClient::new(&mut rx);
    let mut tx = [0u8; 256];
    assert_eq!(client.state(), State::NeedSync);
    assert_eq!(
        client.send::<crate::qga::schema::GuestPing>(&Default::default(), &mut tx),
        Err(SendError::NotReady(State::NeedSync))
    );
    // Half a request of an earlier client sits in the agent.
    assert_eq!(
        replies(&mut agent, &mut h, b"{\"execute\": \"guest-sy"),
        b""
    );
    let n = client.sync(77, &mut tx).unwrap();
    assert!(client.state().is_waiting());
    let events = exchange(
        &mut client,
        &mut agent,
        &mut h,
        &tx[..n],
        b"{\"return\": 76}\n",
    );
    assert_eq!(
        events,
        [
            "Discarded(BeforeSentinel)",
            "Discarded(BeforeSentinel)",
            "Synced { id: 77 }"
        ]
    );
    assert_eq!(client.state(), State::Ready);

    let sent = client
        .send::<GuestFileOpen>(
            &GuestFileOpenArgs {
                path: "/f".try_into().unwrap(),
                mode: None,
            },
            &mut tx,
        )
        .unwrap();
    assert_eq!(
        &tx[..sent.len],
        b"{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"/f\"},\"id\":1}\n"
    );
    assert_eq!(client.state(), State::Waiting { id: 1 });
    // A stale reply without our id and an id-less parse error are dropped.
    let events = exchange(
        &mut client,
        &mut agent,
        &mut h,
        &tx[..sent.len],
        b"{\"return\": 999}\n{\"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}}\n{\"return\": 5, \"id\": 0}\n",
    );
    assert_eq!(
        events,
        [
            "Discarded(Stale)",
            "Discarded(Stale)",
            "Discarded(Stale)",
            "return Json(1000)"
        ]
    );

    // Vendor command, raw; then an error reply.
    let sent = client
        .send_raw("guest-x-stack-watermark", None, true, &mut tx)
        .unwrap();
    let events = exchange(&mut client, &mut agent, &mut h, &tx[..sent.len], b"");
    assert_eq!(events, ["return Json(4096)"]);
    let sent = client
        .send_raw("guest-get-disks", None, true, &mut tx)
        .unwrap();
    let mut to_client = replies(&mut agent, &mut h, &tx[..sent.len]);
    to_client.extend_from_slice(b"junk\n");
    let fed = client.feed(&to_client);
    match fed.event {
        Event::Reply(Err(e)) => {
            assert!(e.is(ErrorClass::CommandNotFound));
            assert_eq!(
                std::format!("{e}"),
                "CommandNotFound: The command guest-get-disks has not been found"
            );
        }
        other => panic!("{other:?}"),
    }

    // success-response: false: complete when sent; its failure comes late.
    let sent = client
        .send::<GuestShutdown>(&Default::default(), &mut tx)
        .unwrap();
    assert!(!sent.expects_reply);
    assert_eq!(client.state(), State::Ready);
    assert!(exchange(&mut client, &mut agent, &mut h, &tx[..sent.len], b"").is_empty());
    let args = crate::qga::schema::GuestShutdownArgs {
        mode: Some("bad".try_into().unwrap()),
    };
    let sent = client.send::<GuestShutdown>(&args, &mut tx).unwrap();
    let events = exchange(&mut client, &mut agent, &mut h, &tx[..sent.len], b"");
    assert_eq!(events.len(), 1);
    assert!(events[0].starts_with("LateError { id: 5,"), "{events:?}");
    assert_eq!(h.shutdowns, 1);
}

#[test]
fn client_timeout_requires_a_resync_and_too_large_replies_complete() {
    let mut rx = [0u8; 32];
    let mut client = SyncClient::new(&mut rx);
    let mut tx = [0u8; 128];
    client.timeout();
    assert_eq!(client.state(), State::NeedSync);
    assert_eq!(
        client.sync(1, &mut [0u8; 10]),
        Err(SendError::Write(crate::json::WriteError::BufferFull))
    );
    assert_eq!(client.state(), State::NeedSync);
    client.sync(1, &mut tx).unwrap();
    client.timeout();
    assert_eq!(client.state(), State::NeedSync);
    client.sync(2, &mut tx).unwrap();
    // The late reply to sync 1, then ours.
    let input = b"\xff{\"return\": 1}\n\xff{\"return\": 2}\n";
    let mut rest = &input[..];
    let mut synced = 0;
    while !rest.is_empty() {
        let fed = client.feed(rest);
        if let Event::Synced { id } = fed.event {
            synced = id;
        }
        rest = &rest[fed.consumed..];
    }
    assert_eq!(synced, 2);
    let sent = client
        .send_raw("guest-get-fsinfo", None, true, &mut tx)
        .unwrap();
    assert_eq!(sent.id, 1);
    let big = std::format!(
        "{{\"return\": [\"{}\"], \"id\": 1}}\n{{\"return\": 1, \"id\": 2}}\n",
        "x".repeat(100)
    );
    let fed = client.feed(big.as_bytes());
    assert_eq!(
        fed.event,
        Event::Reply(Err(CommandError::TooLarge { len: 125 }))
    );
    let rest = &big.as_bytes()[fed.consumed..];
    assert_eq!(client.state(), State::Ready);
    client
        .send_raw("guest-get-time", None, true, &mut tx)
        .unwrap();
    let fed = client.feed(rest);
    assert!(matches!(fed.event, Event::Reply(Ok(v)) if v.as_i64() == Some(1)));
}

#[test]
fn sizes() {
    use core::mem::size_of;
    std::eprintln!(
        "Agent {} SyncClient {} Framer {}",
        size_of::<Agent<'_>>(),
        size_of::<SyncClient<'_>>(),
        size_of::<crate::framer::Framer<'_>>()
    );
    // The sizes docs/QGA.md and the type docs state (64-bit targets).
    if size_of::<usize>() == 8 {
        assert_eq!(size_of::<Agent<'_>>(), 224);
        assert_eq!(size_of::<SyncClient<'_>>(), 240);
        #[cfg(feature = "embedded-io")]
        assert_eq!(size_of::<io::Client<'_, ()>>(), 296);
        #[cfg(feature = "embedded-io-async")]
        assert_eq!(size_of::<io_async::Client<'_, ()>>(), 296);
    }
}

#[test]
fn client_without_ids_takes_the_first_reply() {
    let mut rx = [0u8; 256];
    let mut client = SyncClient::new(&mut rx);
    client.set_ids(false);
    let mut tx = [0u8; 128];
    client.sync(3, &mut tx).unwrap();
    let input = b"\xff{\"return\": 3}\n";
    let fed = client.feed(input);
    assert_eq!((fed.event, fed.consumed), (Event::Nothing, 1));
    let fed = client.feed(&input[1..]);
    assert_eq!(fed.event, Event::Synced { id: 3 });
    let sent = client.send_raw("guest-ping", None, true, &mut tx).unwrap();
    assert_eq!(&tx[..sent.len], b"{\"execute\":\"guest-ping\"}\n");
    let fed = client.feed(b"{\"return\": 999}\n");
    assert!(matches!(fed.event, Event::Reply(Ok(v)) if v.as_u64() == Some(999)));
    assert_eq!(client.state(), State::Ready);
}
