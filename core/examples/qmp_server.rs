//! `qmp_server` — a small QMP server on a Unix socket, built on
//! [`qwire::qmp::Server`]: what a C or Rust component exposing QMP does.
//!
//! ```text
//! cargo run -p qwire --example qmp_server -- SOCKET
//! ```
//!
//! It serves one client at a time, greets with version 0.1.0 and offers
//! `oob`, and implements:
//!
//! | command | reply |
//! | --- | --- |
//! | `query-version` | `{"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "qwire-example"}` |
//! | `query-status` | `{"status": "running" or "paused", "singlestep": false, "running": ...}` |
//! | `query-name` | `{"name": "qwire-example"}` |
//! | `stop` | `STOP` event, then `{}` (no event when already paused) |
//! | `cont` | `RESUME` event, then `{}` (no event when running) |
//! | `x-ping` | `{}`; allowed out-of-band |
//! | `quit` | `SHUTDOWN` event, then `{}`; then the server closes and exits 0 |
//!
//! Everything else gets QEMU's errors (through `qwire::dispatch`). It logs
//! one line per connection, negotiation and command on standard output.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use qwire::codec::{CommandInfo, NoArgs};
use qwire::dispatch::{Answered, Call, Handler, Reply};
use qwire::envelope::{Timestamp, VersionRef};
use qwire::json::{EncodeWith, JsonWriter};
use qwire::qmp::{Server, ServerState};

const fn cmd(name: &'static str, allow_oob: bool) -> CommandInfo {
    CommandInfo {
        name,
        success_response: true,
        allow_oob,
        has_args: false,
    }
}

const COMMANDS: &[CommandInfo] = &[
    cmd("query-version", false),
    cmd("query-status", false),
    cmd("query-name", false),
    cmd("stop", false),
    cmd("cont", false),
    cmd("x-ping", true),
    cmd("quit", false),
];

const VERSION: VersionRef<'static> = VersionRef {
    major: 0,
    minor: 1,
    micro: 0,
    package: "qwire-example",
};

/// The component's state and its commands.
struct Vm {
    running: bool,
    quit: bool,
}

/// Now, from the host's clock (-1/-1 if it cannot be read, as in QEMU).
fn now() -> Timestamp {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => Timestamp {
            seconds: i64::try_from(d.as_secs()).unwrap_or(-1),
            microseconds: i64::from(d.subsec_micros()),
        },
        Err(_) => Timestamp {
            seconds: -1,
            microseconds: -1,
        },
    }
}

impl Handler for Vm {
    fn commands(&self) -> &[CommandInfo] {
        COMMANDS
    }

    fn call(&mut self, call: &Call<'_>, mut reply: Reply<'_, '_, '_>) -> Answered {
        println!("command {} oob={}", call.name, call.oob);
        // None of these commands takes arguments: refuse any, in QEMU's words.
        if let Err(e) = call.args_into(&mut NoArgs) {
            return reply.invalid_arguments(&e);
        }
        match call.name.as_plain().unwrap_or("") {
            "query-version" => reply.ok(&VERSION),
            "query-status" => {
                let running = self.running;
                reply.ok(&EncodeWith(move |w: &mut JsonWriter<'_>| {
                    w.begin_object()?;
                    w.key("status")?;
                    w.string(if running { "running" } else { "paused" })?;
                    w.key("singlestep")?;
                    w.bool(false)?;
                    w.key("running")?;
                    w.bool(running)?;
                    w.end_object()
                }))
            }
            "query-name" => reply.ok(&EncodeWith(|w: &mut JsonWriter<'_>| {
                w.begin_object()?;
                w.key("name")?;
                w.string("qwire-example")?;
                w.end_object()
            })),
            "stop" => {
                if self.running {
                    self.running = false;
                    let _ = reply.event("STOP", None, now());
                }
                reply.ok_empty()
            }
            "cont" => {
                if !self.running {
                    self.running = true;
                    let _ = reply.event("RESUME", None, now());
                }
                reply.ok_empty()
            }
            "quit" => {
                let data = EncodeWith(|w: &mut JsonWriter<'_>| {
                    w.begin_object()?;
                    w.key("guest")?;
                    w.bool(false)?;
                    w.key("reason")?;
                    w.string("host-qmp-quit")?;
                    w.end_object()
                });
                let _ = reply.event("SHUTDOWN", Some(&data), now());
                self.quit = true;
                reply.ok_empty()
            }
            // x-ping
            _ => reply.ok_empty(),
        }
    }
}

/// Serve one connection until it closes or `quit`.
fn serve(mut stream: UnixStream, vm: &mut Vm) -> std::io::Result<()> {
    let mut frame = vec![0u8; 64 * 1024];
    let mut server = Server::new(&mut frame, VERSION, true);
    let mut out = vec![0u8; 16 * 1024];
    let n = server
        .greeting(&mut out)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    stream.write_all(&out[..n])?;
    let mut input = vec![0u8; 4096];
    loop {
        let len = stream.read(&mut input)?;
        if len == 0 {
            println!("disconnected");
            return Ok(());
        }
        let mut rest = &input[..len];
        while !rest.is_empty() {
            let before = server.state();
            let step = server.feed(rest, &mut out, vm);
            stream.write_all(&out[..step.written])?;
            rest = &rest[step.consumed..];
            if before != ServerState::Command && server.state() == ServerState::Command {
                println!("negotiated oob={}", server.oob_enabled());
            }
            if vm.quit {
                println!("quit");
                return Ok(());
            }
        }
    }
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: qmp_server SOCKET");
        return ExitCode::from(2);
    };
    let _ = std::fs::remove_file(&path);
    let listener = match UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("qmp_server: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    println!("listening");
    let mut vm = Vm {
        running: true,
        quit: false,
    };
    for stream in listener.incoming() {
        let result = stream.and_then(|s| {
            println!("connected");
            serve(s, &mut vm)
        });
        if let Err(e) = result {
            println!("connection error: {e}");
        }
        if vm.quit {
            let _ = std::fs::remove_file(&path);
            return ExitCode::SUCCESS;
        }
    }
    ExitCode::SUCCESS
}
