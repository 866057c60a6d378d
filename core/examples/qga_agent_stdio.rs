//! A minimal QGA agent on stdin/stdout, built on the sans-IO
//! `qwire::qga::Agent` with fixed buffers: the same loop a firmware shim
//! runs over its UART.
//!
//! It answers the built-ins (`guest-sync`, `guest-sync-delimited`,
//! `guest-ping`, `guest-info`) plus `guest-get-time` and a vendor command,
//! `guest-x-uptime` (milliseconds since start). Try it behind a socket:
//!
//! ```text
//! cargo build -p qwire --example qga_agent_stdio
//! socat UNIX-LISTEN:/tmp/qga.sock,fork EXEC:target/debug/examples/qga_agent_stdio
//! ```

use std::io::{Read, Write};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use qwire::codec::{Command, CommandInfo};
use qwire::dispatch::{Answered, Call, Handler, Reply};
use qwire::qga::schema::GuestGetTime;
use qwire::qga::Agent;

const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: GuestGetTime::NAME,
        success_response: true,
        allow_oob: false,
        has_args: false,
    },
    CommandInfo {
        name: "guest-x-uptime",
        success_response: true,
        allow_oob: false,
        has_args: false,
    },
];

struct Example {
    started: Instant,
}

impl Handler for Example {
    fn commands(&self) -> &[CommandInfo] {
        COMMANDS
    }

    fn call(&mut self, call: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        if call.is::<GuestGetTime>() {
            if let Err(e) = call.args::<GuestGetTime>() {
                return reply.invalid_arguments(&e);
            }
            let ns = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i64);
            reply.ok(&ns)
        } else {
            reply.ok(&(self.started.elapsed().as_millis() as u64))
        }
    }
}

fn main() -> std::io::Result<()> {
    let (mut input, mut output, mut rx) = ([0u8; 4096], [0u8; 4096], [0u8; 512]);
    let mut agent = Agent::new(&mut input, &mut output, env!("CARGO_PKG_VERSION"))
        .expect("buffers are large enough");
    let mut handler = Example {
        started: Instant::now(),
    };
    let (mut stdin, mut stdout) = (std::io::stdin().lock(), std::io::stdout().lock());
    loop {
        let n = stdin.read(&mut rx)?;
        if n == 0 {
            return Ok(());
        }
        let mut rest = &rx[..n];
        while !rest.is_empty() {
            let step = agent.feed(rest, &mut handler);
            stdout.write_all(step.reply)?;
            stdout.flush()?;
            rest = &rest[step.consumed..];
        }
    }
}
