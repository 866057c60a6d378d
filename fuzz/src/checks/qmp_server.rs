//! `qmp_server`: the QMP server fed arbitrary bytes from a client.
//!
//! Input: `sessions::input`; options bit 0: offer `oob`. Checked:
//!
//! * the greeting comes first; everything written is a sequence of ASCII
//!   JSON objects, each followed by `\r\n` (greeting, replies, events);
//! * no event before negotiation succeeded;
//! * every call consumes input (or ends it), never more than given, and no
//!   reply is dropped for want of room (the output buffer is ample);
//! * the output does not depend on how the input is cut.

use qwire::codec::CommandInfo;
use qwire::dispatch::{Answered, Call, ErrorClass, Handler, Reply};
use qwire::envelope::{Timestamp, VersionRef};
use qwire::qmp::Server;

use super::sessions::{input, one_message, pieces, same_output};

struct Vmm {
    running: bool,
}

const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: "query-status",
        success_response: true,
        allow_oob: false,
        has_args: false,
    },
    CommandInfo {
        name: "stop",
        success_response: true,
        allow_oob: false,
        has_args: false,
    },
    CommandInfo {
        name: "cont",
        success_response: true,
        allow_oob: true,
        has_args: false,
    },
    CommandInfo {
        name: "x-echo",
        success_response: true,
        allow_oob: true,
        has_args: true,
    },
];

impl Handler for Vmm {
    fn commands(&self) -> &[CommandInfo] {
        COMMANDS
    }

    fn call(&mut self, call: &Call<'_>, mut reply: Reply<'_, '_, '_>) -> Answered {
        let at = Timestamp {
            seconds: 1,
            microseconds: 2,
        };
        match call.index {
            0 => reply.ok(&self.running),
            1 | 2 => {
                let (want, event) = if call.index == 1 {
                    (false, "STOP")
                } else {
                    (true, "RESUME")
                };
                if self.running != want {
                    self.running = want;
                    let _ = reply.event(event, None, at);
                }
                reply.ok_empty()
            }
            _ => match call.arguments {
                Some(a) if a.get("fail").is_some() => {
                    reply.error(ErrorClass::DeviceNotActive, format_args!("asked to fail"))
                }
                Some(a) => reply.ok(&a),
                None => reply.ok_empty(),
            },
        }
    }
}

fn run(stream: &[u8], cap: usize, chunks: &[usize], offer_oob: bool) -> Vec<u8> {
    let mut buf = vec![0u8; cap];
    let version = VersionRef {
        major: 7,
        minor: 2,
        micro: 22,
        package: "fuzz",
    };
    let mut server = Server::new(&mut buf, version, offer_oob);
    let mut vmm = Vmm { running: true };
    let mut out = vec![0u8; 64 * 1024];
    let mut written = Vec::new();
    for piece in pieces(stream, chunks) {
        let mut rest = piece;
        while !rest.is_empty() {
            let step = server.feed(rest, &mut out, &mut vmm);
            assert!(step.consumed <= rest.len());
            assert!(!step.overflow, "a message was dropped");
            assert!(step.consumed > 0 || step.written > 0, "no progress");
            written.extend_from_slice(&out[..step.written]);
            rest = &rest[step.consumed..];
        }
    }
    written
}

pub fn check(data: &[u8]) {
    let Some(inp) = input(data) else { return };
    let offer_oob = inp.options & 1 != 0;
    let whole = run(inp.stream, inp.cap, &[inp.stream.len().max(1)], offer_oob);
    let chunked = run(inp.stream, inp.cap, &inp.chunks, offer_oob);
    same_output(&whole, &chunked, "the output");
    let mut negotiated = false;
    let mut first = true;
    for line in whole.split_inclusive(|&b| b == b'\n') {
        let v = one_message(line, b"\r\n", "server message");
        if first {
            assert!(
                v.get("QMP").is_some(),
                "first message is not the greeting: {v}"
            );
            first = false;
            continue;
        }
        assert!(v.get("QMP").is_none(), "greeting twice");
        if v.get("event").is_some() {
            assert!(negotiated, "event before negotiation: {v}");
        } else {
            let keys = v.get("return").is_some() as u8 + v.get("error").is_some() as u8;
            assert_eq!(keys, 1, "{v}");
            negotiated |= v.get("return").is_some();
        }
    }
}
