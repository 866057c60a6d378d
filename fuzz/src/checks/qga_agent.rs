//! `qga_agent`: the QGA agent fed arbitrary bytes from the host.
//!
//! Input: `sessions::input` (options unused). Checked, for whole and
//! chunked input alike:
//!
//! * every step consumes some input (or ends it) and never more than given;
//! * every reply is one message: an optional 0xFF (only before an integer
//!   `return`: the guest-sync-delimited reply), one ASCII JSON object with
//!   `return` or `error`, and `\n`;
//! * the replies do not depend on how the input is cut.

use qwire::codec::CommandInfo;
use qwire::dispatch::{Answered, Call, ErrorClass, Handler, Reply, MIN_OUTPUT};
use qwire::qga::schema::GuestSync;
use qwire::qga::Agent;

use super::sessions::{input, one_message, pieces, same_output};

/// A handler with commands of each kind: typed arguments, no reply on
/// success, arguments echoed back, an error, a disabled one.
struct Guest;

const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: "x-sync",
        success_response: true,
        allow_oob: false,
        has_args: true,
    },
    CommandInfo {
        name: "x-quiet",
        success_response: false,
        allow_oob: false,
        has_args: false,
    },
    CommandInfo {
        name: "x-echo",
        success_response: true,
        allow_oob: false,
        has_args: true,
    },
    CommandInfo {
        name: "x-fail",
        success_response: true,
        allow_oob: false,
        has_args: false,
    },
    CommandInfo {
        name: "x-off",
        success_response: true,
        allow_oob: false,
        has_args: false,
    },
];

impl Handler for Guest {
    fn commands(&self) -> &[CommandInfo] {
        COMMANDS
    }

    fn enabled(&self, index: usize) -> bool {
        index != 4
    }

    fn call(&mut self, call: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        match call.index {
            0 => match call.args::<GuestSync>() {
                Ok(a) => reply.ok(&a.id),
                Err(e) => reply.invalid_arguments(&e),
            },
            1 => reply.ok_empty(),
            2 => match call.arguments {
                Some(args) => reply.ok(&args),
                None => reply.ok_empty(),
            },
            _ => reply.error(ErrorClass::GenericError, format_args!("failed on purpose")),
        }
    }
}

fn run(stream: &[u8], cap: usize, chunks: &[usize]) -> Vec<Vec<u8>> {
    let mut input_buf = vec![0u8; cap];
    let mut output_buf = vec![0u8; MIN_OUTPUT];
    let mut agent =
        Agent::new(&mut input_buf, &mut output_buf, "fuzz").expect("buffers are big enough");
    let mut replies = Vec::new();
    for piece in pieces(stream, chunks) {
        let mut rest = piece;
        while !rest.is_empty() {
            let step = agent.feed(rest, &mut Guest);
            assert!(step.consumed <= rest.len());
            assert!(step.consumed > 0 || !step.reply.is_empty(), "no progress");
            if !step.reply.is_empty() {
                replies.push(step.reply.to_vec());
            }
            rest = &rest[step.consumed..];
        }
    }
    replies
}

pub fn check(data: &[u8]) {
    let Some(inp) = input(data) else { return };
    let whole = run(inp.stream, inp.cap, &[inp.stream.len().max(1)]);
    let chunked = run(inp.stream, inp.cap, &inp.chunks);
    // Every reply ends with its newline, so equal concatenations mean equal
    // replies.
    same_output(&whole.concat(), &chunked.concat(), "the replies");
    for reply in &whole {
        let body = match reply.split_first() {
            Some((0xff, rest)) => {
                let v = one_message(rest, b"\n", "sync-delimited reply");
                assert!(v["return"].is_i64(), "0xFF before something else: {v}");
                continue;
            }
            _ => reply,
        };
        let v = one_message(body, b"\n", "reply");
        assert!(v.get("return").is_some() != v.get("error").is_some(), "{v}");
        assert!(!body.contains(&0xff));
    }
}
