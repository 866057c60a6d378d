//! The `embedded-io` drivers: the blocking and async clients against the
//! real qemu-ga 7.2 and against qwire's agent served by the blocking and
//! async agent loops over a Unix socket pair; timeouts surfaced by the
//! transport (`ErrorKind::TimedOut`) and the resync that follows; a closed
//! transport.

use std::collections::VecDeque;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use qwire::codec::CommandInfo;
use qwire::dispatch::{Answered, Call, Handler, Reply};
use qwire::json::{Json, JsonWriter};
use qwire::qga::schema::{
    GuestAgentInfo, GuestFileClose, GuestFileCloseArgs, GuestFileOpen, GuestFileOpenArgs,
    GuestFileReadArgs, GuestFileReadCommand, GuestFileWriteArgs, GuestFileWriteCommand,
    GuestGetTime, GuestInfo, GuestPing, GuestShutdown, GuestSync, GuestSyncArgs,
};
use qwire::qga::{io, io_async, Agent, State, SyncClient};
use qwire_tests::peers::QemuGa;
use qwire_tests::qga_relay::{base64_decode, base64_encode, block_on, FileHandler, Io};

#[test]
fn blocking_client_against_the_real_agent() {
    let ga = QemuGa::start();
    // A former client left half a request behind.
    {
        use std::io::Write;
        let mut s = ga.connect();
        s.write_all(b"{\"execute\": \"guest-file-op").unwrap();
    }
    std::thread::sleep(Duration::from_millis(50));
    let (mut buf, mut rx, mut tx) = (vec![0u8; 16384], [0u8; 512], [0u8; 4096]);
    let mut c = io::Client::new(
        SyncClient::new(&mut buf),
        Io(ga.connect()),
        &mut rx,
        &mut tx,
        0x7777_0000,
    );
    // The first command syncs by itself.
    c.execute::<GuestPing>(&Default::default()).unwrap();
    assert_eq!(c.client().state(), State::Ready);
    let mut info = Box::<GuestAgentInfo>::default();
    c.execute_into::<GuestInfo>(&Default::default(), &mut info)
        .unwrap();
    assert!(info.version.as_str().starts_with("7.2"));
    assert_eq!(
        c.execute::<GuestSync>(&GuestSyncArgs { id: -5 }).unwrap(),
        -5
    );

    let path = ga.scratch_dir().join("io.bin");
    let handle = c
        .execute::<GuestFileOpen>(&GuestFileOpenArgs {
            path: path.to_str().unwrap().try_into().unwrap(),
            mode: Some("w+".try_into().unwrap()),
        })
        .unwrap();
    let data = b"over embedded-io\n\x00\x01\x02";
    let w = c
        .execute::<GuestFileWriteCommand>(&GuestFileWriteArgs {
            handle,
            buf_b64: base64_encode(data).as_str().try_into().unwrap(),
            count: None,
        })
        .unwrap();
    assert_eq!(w.count, data.len() as i64);
    c.execute::<GuestFileClose>(&GuestFileCloseArgs { handle })
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data);

    // The agent's error, class as text.
    match c.execute_raw("guest-get-disks", None, true, |_| ()) {
        Err(io::Error::Agent { class, desc }) => {
            assert_eq!(class, "CommandNotFound");
            assert_eq!(desc, "Command guest-get-disks has been disabled");
        }
        other => panic!("{other:?}"),
    }
    let e = c
        .execute::<GuestFileReadCommand>(&GuestFileReadArgs {
            handle,
            count: None,
        })
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("GenericError: handle '{handle}' has not been found")
    );
    // Raw command with raw arguments, value handed to a closure.
    let args = Json::parse(br#"{"id": 31337}"#).unwrap();
    let got = c
        .execute_raw("guest-sync", Some(&args), true, |v| v.as_i64())
        .unwrap();
    assert_eq!(got, Some(Some(31337)));
}

#[test]
fn blocking_client_reply_too_large_then_usable() {
    let ga = QemuGa::start();
    let (mut buf, mut rx, mut tx) = (vec![0u8; 1024], [0u8; 64], [0u8; 256]);
    let mut c = io::Client::new(
        SyncClient::new(&mut buf),
        Io(ga.connect()),
        &mut rx,
        &mut tx,
        12,
    );
    let mut info = Box::<GuestAgentInfo>::default();
    match c.execute_into::<GuestInfo>(&Default::default(), &mut info) {
        Err(io::Error::TooLarge { len }) => assert!(len > 2048),
        other => panic!("{other:?}"),
    }
    c.execute::<GuestPing>(&Default::default()).unwrap();
}

/// A firmware-like handler: one vendor command besides the file commands.
struct Shim {
    files: FileHandler,
    table: Vec<CommandInfo>,
}

impl Shim {
    fn new() -> Shim {
        let files = FileHandler::default();
        let mut table = files.commands().to_vec();
        table.push(CommandInfo {
            name: "guest-x-stack-watermark",
            success_response: true,
            allow_oob: false,
            has_args: false,
        });
        Shim { files, table }
    }
}

impl Handler for Shim {
    fn commands(&self) -> &[CommandInfo] {
        &self.table
    }

    fn call(&mut self, call: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        if call.name.eq_str("guest-x-stack-watermark") {
            return reply.ok(&qwire::json::EncodeWith(|w: &mut JsonWriter<'_>| {
                w.begin_object()?;
                w.key("used")?;
                w.u64(1536)?;
                w.key("size")?;
                w.u64(8192)?;
                w.end_object()
            }));
        }
        self.files.call(call, reply)
    }
}

/// qwire's agent served by the blocking loop on one end of a socket pair
/// (as firmware would over a UART), the blocking client on the other.
#[test]
fn blocking_agent_loop_and_client_over_a_socket_pair() {
    let (host, guest) = UnixStream::pair().unwrap();
    let agent_thread = std::thread::spawn(move || {
        let (mut input, mut output, mut rx) = ([0u8; 12288], [0u8; 12288], [0u8; 100]);
        let mut agent = Agent::new(&mut input, &mut output, "fw-0.1").unwrap();
        let mut uart = Io(guest);
        io::serve(&mut agent, &mut uart, &mut rx, &mut Shim::new()).unwrap();
    });
    {
        let (mut buf, mut rx, mut tx) = (vec![0u8; 12288], [0u8; 37], [0u8; 12288]);
        let mut c = io::Client::new(SyncClient::new(&mut buf), Io(host), &mut rx, &mut tx, 1);
        c.execute::<GuestPing>(&Default::default()).unwrap();
        let info = c.execute::<GuestInfo>(&Default::default()).unwrap();
        assert_eq!(info.version.as_str(), "fw-0.1");
        assert!(info
            .supported_commands
            .iter()
            .any(|c| c.name.as_str() == "guest-x-stack-watermark" && c.enabled));
        let used = c
            .execute_raw("guest-x-stack-watermark", None, true, |v| {
                v.get("used").and_then(|u| u.as_u64())
            })
            .unwrap();
        assert_eq!(used, Some(Some(1536)));
        let handle = c
            .execute::<GuestFileOpen>(&GuestFileOpenArgs {
                path: "/ram".try_into().unwrap(),
                mode: Some("w+".try_into().unwrap()),
            })
            .unwrap();
        let data: Vec<u8> = (0..6000u32).map(|i| (i * 7) as u8).collect();
        c.execute::<GuestFileWriteCommand>(&GuestFileWriteArgs {
            handle,
            buf_b64: base64_encode(&data).as_str().try_into().unwrap(),
            count: None,
        })
        .unwrap();
        // success-response: false, unknown to this agent: complete once
        // sent (the agent's late error is discarded by the next command).
        c.execute::<GuestShutdown>(&Default::default()).unwrap();
        assert_eq!(c.execute::<GuestSync>(&GuestSyncArgs { id: 3 }).unwrap(), 3);
        // Dropping the client closes the socket; the agent loop ends.
    }
    agent_thread.join().unwrap();
}

/// A transport that runs qwire's agent in process; it can lose the agent's
/// next reply, which the client sees as a read timeout.
struct Loopback<'b> {
    agent: Agent<'b>,
    handler: FileHandler,
    pending: VecDeque<u8>,
    drop_next_reply: bool,
    written: Vec<u8>,
    closed: bool,
}

impl embedded_io::ErrorType for Loopback<'_> {
    type Error = qwire_tests::qga_relay::IoError;
}

impl embedded_io::Write for Loopback<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.written.extend_from_slice(buf);
        let mut rest = buf;
        while !rest.is_empty() {
            let step = self.agent.feed(rest, &mut self.handler);
            if !step.reply.is_empty() {
                if self.drop_next_reply && step.reply[0] != 0xff {
                    self.drop_next_reply = false;
                } else {
                    self.pending.extend(step.reply);
                }
            }
            rest = &rest[step.consumed..];
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl embedded_io::Read for Loopback<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if self.closed {
            return Ok(0);
        }
        if self.pending.is_empty() {
            return Err(qwire_tests::qga_relay::IoError(
                std::io::ErrorKind::TimedOut,
            ));
        }
        let n = buf.len().min(self.pending.len()).min(5);
        for b in buf.iter_mut().take(n) {
            *b = self.pending.pop_front().unwrap();
        }
        Ok(n)
    }
}

#[test]
fn timeout_from_the_transport_then_automatic_resync() {
    let (mut i, mut o) = ([0u8; 2048], [0u8; 4096]);
    let mut handler = FileHandler::default();
    handler.clock = 123;
    let lo = Loopback {
        agent: Agent::new(&mut i, &mut o, "lo").unwrap(),
        handler,
        pending: VecDeque::new(),
        drop_next_reply: false,
        written: Vec::new(),
        closed: false,
    };
    let (mut buf, mut rx, mut tx) = ([0u8; 1024], [0u8; 16], [0u8; 1024]);
    let mut c = io::Client::new(SyncClient::new(&mut buf), lo, &mut rx, &mut tx, 41);
    assert_eq!(c.execute::<GuestGetTime>(&Default::default()).unwrap(), 123);
    c.transport_mut().drop_next_reply = true;
    assert_eq!(
        c.execute::<GuestGetTime>(&Default::default()),
        Err(io::Error::TimedOut)
    );
    assert_eq!(c.client().state(), State::NeedSync);
    // The next command resyncs first, with the next id.
    assert_eq!(c.execute::<GuestGetTime>(&Default::default()).unwrap(), 123);
    let written = String::from_utf8_lossy(&c.transport_mut().written).into_owned();
    let syncs: Vec<&str> = written
        .split('\u{FFFD}')
        .skip(1)
        .map(|s| s.split('\n').next().unwrap())
        .collect();
    assert_eq!(
        syncs,
        [
            r#"{"execute":"guest-sync-delimited","arguments":{"id":41}}"#,
            r#"{"execute":"guest-sync-delimited","arguments":{"id":42}}"#
        ]
    );
    // An explicit sync uses the id after that.
    c.sync().unwrap();
    assert!(String::from_utf8_lossy(&c.transport_mut().written).contains("{\"id\":43}"));
    c.transport_mut().closed = true;
    assert_eq!(
        c.execute::<GuestPing>(&Default::default()),
        Err(io::Error::Closed)
    );
    assert_eq!(c.client().state(), State::NeedSync);
}

#[test]
fn async_client_against_the_real_agent() {
    let ga = QemuGa::start();
    let (mut buf, mut rx, mut tx) = (vec![0u8; 16384], [0u8; 256], [0u8; 2048]);
    let mut c = io_async::Client::new(
        SyncClient::new(&mut buf),
        Io(ga.connect()),
        &mut rx,
        &mut tx,
        -77,
    );
    block_on(async {
        c.execute::<GuestPing>(&Default::default()).await.unwrap();
        let info = c.execute::<GuestInfo>(&Default::default()).await.unwrap();
        assert!(info.supported_commands.len() >= 40);
        assert_eq!(
            c.execute::<GuestSync>(&GuestSyncArgs { id: 9 })
                .await
                .unwrap(),
            9
        );
        match c.execute_raw("guest-get-disks", None, true, |_| ()).await {
            Err(io_async::Error::Agent { class, .. }) => assert_eq!(class, "CommandNotFound"),
            other => panic!("{other:?}"),
        }
        let t = c
            .execute::<GuestGetTime>(&Default::default())
            .await
            .unwrap();
        assert!(t > 0);
    });
}

#[test]
fn async_agent_loop_and_async_client_over_a_socket_pair() {
    let (host, guest) = UnixStream::pair().unwrap();
    let agent_thread = std::thread::spawn(move || {
        let (mut input, mut output, mut rx) = ([0u8; 4096], [0u8; 4096], [0u8; 64]);
        let mut agent = Agent::new(&mut input, &mut output, "async-fw").unwrap();
        let mut uart = Io(guest);
        block_on(io_async::serve(
            &mut agent,
            &mut uart,
            &mut rx,
            &mut FileHandler::default(),
        ))
        .unwrap();
    });
    {
        let (mut buf, mut rx, mut tx) = ([0u8; 4096], [0u8; 64], [0u8; 4096]);
        let mut c = io_async::Client::new(SyncClient::new(&mut buf), Io(host), &mut rx, &mut tx, 5);
        block_on(async {
            let handle = c
                .execute::<GuestFileOpen>(&GuestFileOpenArgs {
                    path: "/a".try_into().unwrap(),
                    mode: Some("w+".try_into().unwrap()),
                })
                .await
                .unwrap();
            c.execute::<GuestFileWriteCommand>(&GuestFileWriteArgs {
                handle,
                buf_b64: base64_encode(b"async!").as_str().try_into().unwrap(),
                count: None,
            })
            .await
            .unwrap();
            let read = c
                .execute::<GuestFileReadCommand>(&GuestFileReadArgs {
                    handle,
                    count: None,
                })
                .await
                .unwrap();
            // Written at position 0..6, read from 6: nothing, at eof.
            assert_eq!(read.count, 0);
            assert!(read.eof);
            assert_eq!(base64_decode(read.buf_b64.as_str()).unwrap(), b"");
            let info = c.execute::<GuestInfo>(&Default::default()).await.unwrap();
            assert_eq!(info.version.as_str(), "async-fw");
        });
    }
    agent_thread.join().unwrap();
}

/// `core/examples/qga_agent_stdio.rs` (the agent over stdin/stdout) driven
/// by the blocking client through its pipes.
#[test]
fn stdio_agent_example_answers_the_blocking_client() {
    use std::process::{Command, Stdio};
    struct Pipes(std::process::ChildStdout, std::process::ChildStdin);
    impl std::io::Read for Pipes {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0.read(buf)
        }
    }
    impl std::io::Write for Pipes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.1.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.1.flush()
        }
    }
    let bin = qwire_tests::workspace_binary("qwire", "example", "qga_agent_stdio");
    let mut child = Command::new(bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pipes = Pipes(child.stdout.take().unwrap(), child.stdin.take().unwrap());
    {
        let (mut buf, mut rx, mut tx) = ([0u8; 4096], [0u8; 128], [0u8; 512]);
        let mut c = io::Client::new(SyncClient::new(&mut buf), Io(pipes), &mut rx, &mut tx, 99);
        c.execute::<GuestPing>(&Default::default()).unwrap();
        assert!(c.execute::<GuestGetTime>(&Default::default()).unwrap() > 0);
        let up = c
            .execute_raw("guest-x-uptime", None, true, |v| v.as_u64())
            .unwrap();
        assert!(matches!(up, Some(Some(_))));
        let info = c.execute::<GuestInfo>(&Default::default()).unwrap();
        assert_eq!(info.version.as_str(), env!("CARGO_PKG_VERSION"));
        assert_eq!(info.supported_commands.len(), 6);
    }
    // The client's pipes are closed: the agent sees the end and exits.
    assert!(child.wait().unwrap().success());
}

/// A reply that does not decode into the command's return type is
/// `Error::Decode` with the decoder's message, and the client carries on.
#[test]
fn reply_that_does_not_decode() {
    /// `guest-ping` as if it returned an integer.
    struct PingAsInt;
    impl qwire::codec::Command for PingAsInt {
        const NAME: &'static str = "guest-ping";
        type Args = qwire::codec::NoArgs;
        type Returns = i64;
        const HAS_ARGS: bool = false;
        const SUCCESS_RESPONSE: bool = true;
        const ALLOW_OOB: bool = false;
    }
    let (mut i, mut o) = ([0u8; 1024], [0u8; 4096]);
    let lo = Loopback {
        agent: Agent::new(&mut i, &mut o, "lo").unwrap(),
        handler: FileHandler::default(),
        pending: VecDeque::new(),
        drop_next_reply: false,
        written: Vec::new(),
        closed: false,
    };
    let (mut buf, mut rx, mut tx) = ([0u8; 1024], [0u8; 16], [0u8; 256]);
    let mut c = io::Client::new(SyncClient::new(&mut buf), lo, &mut rx, &mut tx, 1);
    match c.execute::<PingAsInt>(&Default::default()) {
        Err(io::Error::Decode(msg)) => assert!(msg.contains("expected: integer"), "{msg}"),
        other => panic!("{other:?}"),
    }
    c.execute::<GuestPing>(&Default::default()).unwrap();
}
