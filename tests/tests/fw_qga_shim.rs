//! The QGA shim firmware, Rust (`examples-fw/qga-shim`) and C
//! (`examples-fw/qga-shim-c`, on libqwire.a), each running on QEMU's
//! `mps2-an386` (Cortex-M4) and driven from the host through the board's
//! UART0 on a Unix-socket chardev. Each image is booted twice:
//!
//! 1. raw bytes, checked exactly (an independent view of the wire): a dirty
//!    channel (half a request left by an earlier connection is still in the
//!    firmware's parser and answered with qemu-ga's parse error when our
//!    0xFF arrives), a 1 KiB request with a 1000-character `id`, a request
//!    larger than the shim's 2 KiB input buffer, one-byte writes; then
//!    qwire's blocking Rust client (`qwire::qga::io::Client`) on another
//!    dirty connection: sync, ping (round-trip latency printed), info
//!    (exactly the shim's commands and flags), time (within the documented
//!    tolerance), an unknown command, a 1 KiB request with an unexpected
//!    argument, one-byte writes, a bad shutdown mode, the stack watermark, a
//!    reboot, and finally `guest-shutdown`, which must end QEMU with exit
//!    status 0;
//! 2. the C client `examples-c/qga-client` (one connection per command,
//!    each resynchronising): the same commands, on a dirty channel, to
//!    `guest-shutdown` and exit status 0.
//!
//! Fails (does not skip) when qemu-system-arm, the thumbv7em target or
//! arm-none-eabi-gcc is missing: scripts/test-all.sh installs them. QEMU is
//! ended by pid if anything goes wrong (`QemuArm`'s drop).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use qwire::json::JsonWriter;
use qwire::qga::schema::{
    GuestAgentInfo, GuestGetTime, GuestInfo, GuestPing, GuestShutdown, GuestShutdownArgs,
    GuestSync, GuestSyncArgs,
};
use qwire::qga::{io, State, SyncClient};
use qwire_tests::peers::{require, QemuArm};
use qwire_tests::qga_relay::{args_of, Io};

/// The commands the shim must list in `guest-info`, in order, as
/// (name, enabled, success-response).
const SHIM_COMMANDS: &[(&str, bool, bool)] = &[
    ("guest-sync-delimited", true, true),
    ("guest-sync", true, true),
    ("guest-ping", true, true),
    ("guest-info", true, true),
    ("guest-get-time", true, true),
    ("guest-shutdown", true, false),
    ("guest-x-stack-watermark", true, true),
];

/// The shim's stack region (memory.x): 16 KiB.
const STACK_SIZE: u64 = 16 * 1024;

/// What each shim's `guest-info` reports as its version.
const RUST_VERSION: &str = "qga-shim-0.1.0";
const C_VERSION: &str = "qga-shim-c-0.1.0";

/// The Rust shim, built once per test run (cargo, release, thumbv7em).
fn rust_image() -> &'static Path {
    static IMAGE: OnceLock<PathBuf> = OnceLock::new();
    IMAGE.get_or_init(|| qwire_tests::firmware_image("qga-shim"))
}

/// The C shim, built once per test run (`make -C examples-fw/qga-shim-c`:
/// libqwire.a for thumbv7em by cargo, then arm-none-eabi-gcc).
fn c_image() -> &'static Path {
    static IMAGE: OnceLock<PathBuf> = OnceLock::new();
    IMAGE.get_or_init(|| {
        require("arm-none-eabi-gcc");
        // The library is built for the same target: this fails, clearly, if
        // the target is missing.
        rust_image();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples-fw/qga-shim-c");
        let status = Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(&dir)
            .status()
            .expect("run make for examples-fw/qga-shim-c");
        assert!(status.success(), "make -C examples-fw/qga-shim-c failed");
        dir.join("build/qga-shim-c")
    })
}

/// The C client, built once per test run.
fn c_client() -> &'static Path {
    static CLIENT: OnceLock<PathBuf> = OnceLock::new();
    CLIENT.get_or_init(|| qwire_tests::c_program("qga-client"))
}

#[test]
fn rust_shim_raw_and_rust_client() {
    let mut qemu = QemuArm::start("mps2-an386", rust_image());
    check_raw(&qemu);
    check_client(&mut qemu, RUST_VERSION);
}

#[test]
fn rust_shim_with_c_client() {
    let mut qemu = QemuArm::start("mps2-an386", rust_image());
    check_c_client(&mut qemu, RUST_VERSION);
}

#[test]
fn c_shim_raw_and_rust_client() {
    let mut qemu = QemuArm::start("mps2-an386", c_image());
    check_raw(&qemu);
    check_client(&mut qemu, C_VERSION);
}

#[test]
fn c_shim_with_c_client() {
    let mut qemu = QemuArm::start("mps2-an386", c_image());
    check_c_client(&mut qemu, C_VERSION);
}

/// Leave half a request in the firmware's parser, from a connection that
/// then goes away. The connection is half-closed and read to its end: QEMU
/// hands the bytes to the UART one at a time as the firmware takes them, and
/// closes its side only after reading our end of stream, so when the read
/// below returns 0 the firmware has every byte. (Closing at once could lose
/// them: QEMU drops a connection, unread bytes included, on hang-up.)
fn leave_half_request(qemu: &QemuArm, half: &[u8]) {
    let mut s = qemu.connect();
    s.write_all(half).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest)
        .expect("QEMU closes the connection once it has read it all");
    assert!(rest.is_empty(), "no reply to half a request: {rest:?}");
}

/// A buffered reader of the agent's output on a raw socket.
struct Wire {
    s: UnixStream,
    pending: Vec<u8>,
}

impl Wire {
    fn new(s: UnixStream) -> Wire {
        Wire {
            s,
            pending: Vec::new(),
        }
    }

    fn fill(&mut self) {
        let mut chunk = [0u8; 4096];
        let n = self.s.read(&mut chunk).expect("read from the UART socket");
        assert!(n > 0, "the UART socket closed");
        self.pending.extend_from_slice(&chunk[..n]);
    }

    /// Everything up to and including the next byte `end`.
    fn until(&mut self, end: u8) -> Vec<u8> {
        loop {
            if let Some(i) = self.pending.iter().position(|&b| b == end) {
                return self.pending.drain(..=i).collect();
            }
            self.fill();
        }
    }

    fn line(&mut self) -> Vec<u8> {
        self.until(b'\n')
    }

    fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The wire, byte for byte.
fn check_raw(qemu: &QemuArm) {
    // A dirty channel: an earlier host connection left half a request.
    leave_half_request(qemu, b"{\"execute\":\"guest-ping\",\"argu");
    let mut w = Wire::new(qemu.connect());
    w.send(b"\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":1001}}");
    // The firmware kept its parser state across connections, as a serial
    // line does: our 0xFF flushes the stale half request, which qemu-ga
    // answers with a parse error quoting the dropped token (and U+FFFD for
    // the 0xFF); then comes the sync reply behind the agent's own 0xFF.
    let stale = w.until(0xff);
    assert_eq!(
        show(&stale),
        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, stray '\\\"argu\\uFFFD'\"}}\n\u{FFFD}",
        "the half request of the earlier connection was not in the parser"
    );
    assert_eq!(show(&w.line()), "{\"return\":1001}\n");

    // A 1 KiB request: guest-sync with a 1000-character string `id`, which
    // the agent echoes.
    let long_id = "x".repeat(1000);
    let req =
        format!("{{\"execute\":\"guest-sync\",\"arguments\":{{\"id\":42}},\"id\":\"{long_id}\"}}");
    assert!(req.len() > 1024);
    w.send(req.as_bytes());
    assert_eq!(
        show(&w.line()),
        format!("{{\"return\":42,\"id\":\"{long_id}\"}}\n")
    );

    // A request longer than the shim's 2 KiB input buffer is answered with
    // qemu-ga's error, and the agent carries on.
    let huge = format!(
        "{{\"execute\":\"guest-sync\",\"arguments\":{{\"id\":43}},\"id\":\"{}\"}}",
        "y".repeat(3000)
    );
    w.send(huge.as_bytes());
    assert_eq!(
        show(&w.line()),
        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON token size limit exceeded\"}}\n"
    );

    // One-byte writes, each on its own.
    for &b in b"{\"execute\":\"guest-ping\",\"id\":[1,\"one byte\"]}" {
        w.send(&[b]);
        std::thread::sleep(Duration::from_micros(300));
    }
    assert_eq!(show(&w.line()), "{\"return\":{},\"id\":[1,\"one byte\"]}\n");
}

/// A std stream that records what it reads, and can write one byte at a
/// time.
struct Tap {
    s: UnixStream,
    seen: Arc<Mutex<Vec<u8>>>,
    one_byte: Arc<AtomicBool>,
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.s.read(buf)?;
        self.seen.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.one_byte.load(Ordering::Relaxed) {
            return self.s.write(buf);
        }
        for &b in buf {
            self.s.write_all(&[b])?;
            std::thread::sleep(Duration::from_micros(300));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.s.flush()
    }
}

fn unix_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128
}

/// Through qwire's blocking client, to the final guest-shutdown.
fn check_client(qemu: &mut QemuArm, version: &str) {
    // Dirty again: the client's own sync must get past it.
    leave_half_request(qemu, b"{\"execute\":\"guest-info\",\"arg");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let one_byte = Arc::new(AtomicBool::new(false));
    let tap = Tap {
        s: qemu.connect(),
        seen: seen.clone(),
        one_byte: one_byte.clone(),
    };
    let (mut buf, mut rx, mut tx) = (vec![0u8; 4096], [0u8; 512], [0u8; 2048]);
    let mut c = io::Client::new(
        SyncClient::new(&mut buf),
        Io(tap),
        &mut rx,
        &mut tx,
        0x5eed_0000,
    );

    // Sync: the stale half request's parse error comes first and is
    // discarded by the client.
    c.sync().expect("sync over a dirty channel");
    assert_eq!(c.client().state(), State::Ready);
    let before_sync: Vec<u8> = seen.lock().unwrap().clone();
    assert!(
        show(&before_sync).starts_with(
            "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, stray '\\\"arg\\uFFFD'\"}}\n\u{FFFD}"
        ),
        "expected the stale request's parse error first: {:?}",
        show(&before_sync)
    );
    assert_eq!(
        c.execute::<GuestSync>(&GuestSyncArgs { id: -77 }).unwrap(),
        -77
    );

    // Ping, and its round trip as the host sees it (emulated: informational).
    let mut rtt = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        c.execute::<GuestPing>(&Default::default()).unwrap();
        rtt.push(t.elapsed());
    }
    rtt.sort();
    println!(
        "{version}: guest-ping round trip through qemu-system-arm ({} pings): min {:?}, median {:?}, p90 {:?}, max {:?}",
        rtt.len(),
        rtt[0],
        rtt[rtt.len() / 2],
        rtt[rtt.len() * 9 / 10],
        rtt[rtt.len() - 1]
    );

    // Info: exactly the shim's commands, with their flags.
    let mut info = Box::<GuestAgentInfo>::default();
    c.execute_into::<GuestInfo>(&Default::default(), &mut info)
        .unwrap();
    assert_eq!(info.version.as_str(), version);
    let listed: Vec<(String, bool, bool)> = info
        .supported_commands
        .iter()
        .map(|i| (i.name.as_str().to_owned(), i.enabled, i.success_response))
        .collect();
    let expected: Vec<(String, bool, bool)> = SHIM_COMMANDS
        .iter()
        .map(|&(n, e, s)| (n.to_owned(), e, s))
        .collect();
    assert_eq!(listed, expected);

    // Time: the shim's clock is the host's epoch seconds at boot (whole
    // seconds: 0 to 1 s behind) plus the board's 100 Hz counter, so it must
    // lie within [host - 1 s - 20 ms, host + 20 ms] (two ticks of slack).
    let before = unix_ns();
    let t1 = c.execute::<GuestGetTime>(&Default::default()).unwrap() as i128;
    let after = unix_ns();
    assert!(
        t1 >= before - 1_020_000_000 && t1 <= after + 20_000_000,
        "guest-get-time {t1} outside [{}, {}]",
        before - 1_020_000_000,
        after + 20_000_000
    );
    assert_eq!(t1 % 10_000_000, 0, "the clock ticks in 10 ms steps");
    std::thread::sleep(Duration::from_millis(50));
    let t2 = c.execute::<GuestGetTime>(&Default::default()).unwrap() as i128;
    assert!(
        t2 >= t1 + 30_000_000,
        "the shim's clock runs: {t1} then {t2}"
    );
    println!(
        "{version}: guest-get-time {} ms behind the host",
        (unix_ns() - t2) / 1_000_000
    );

    // An unknown command.
    match c.execute_raw("guest-no-such-command", None, true, |_| ()) {
        Err(io::Error::Agent { class, desc }) => {
            assert_eq!(class, "CommandNotFound");
            assert_eq!(desc, "The command guest-no-such-command has not been found");
        }
        other => panic!("unknown command: {other:?}"),
    }
    // Arguments a command does not take.
    match c.execute_raw(
        "guest-x-stack-watermark",
        Some(&args_of(|w| {
            w.begin_object()?;
            w.key("verbose")?;
            w.bool(true)?;
            w.end_object()
        })),
        true,
        |_| (),
    ) {
        Err(io::Error::Agent { class, desc }) => {
            assert_eq!(class, "GenericError");
            assert_eq!(desc, "Parameter 'verbose' is unexpected");
        }
        other => panic!("unexpected argument: {other:?}"),
    }

    // A 1 KiB request through the client: guest-sync with a 1000-character
    // argument it does not know, refused in QEMU's words.
    let pad = "p".repeat(1000);
    let long_args = args_of(|w: &mut JsonWriter<'_>| {
        w.begin_object()?;
        w.key("id")?;
        w.i64(9)?;
        w.key("padding")?;
        w.string(&pad)?;
        w.end_object()
    });
    match c.execute_raw("guest-sync", Some(&long_args), true, |_| ()) {
        Err(io::Error::Agent { class, desc }) => {
            assert_eq!(class, "GenericError");
            assert_eq!(desc, "Parameter 'padding' is unexpected");
        }
        other => panic!("1 KiB request: {other:?}"),
    }

    // One-byte writes from the client.
    one_byte.store(true, Ordering::Relaxed);
    assert_eq!(
        c.execute::<GuestSync>(&GuestSyncArgs { id: 1 << 40 })
            .unwrap(),
        1 << 40
    );
    one_byte.store(false, Ordering::Relaxed);

    // guest-shutdown with a mode it does not know fails, in qemu-ga 7.2's
    // words, and the machine keeps running.
    match c.execute::<GuestShutdown>(&GuestShutdownArgs {
        mode: Some("sleep".try_into().unwrap()),
    }) {
        // success-response: false, so the client returns once written; the
        // error arrives later, and the next command must see it discarded.
        Ok(_) => {}
        other => panic!("guest-shutdown bad mode: {other:?}"),
    }
    c.execute::<GuestPing>(&Default::default()).unwrap();
    // (The error echoes the request's id first, as QEMU orders it.)
    let failed = show(&seen.lock().unwrap());
    assert!(
        failed.contains(",\"error\":{\"class\":\"GenericError\",\"desc\":\"mode is invalid (valid values are: halt|powerdown|reboot\"}}\n"),
        "the bad mode's error: {failed}"
    );

    // The stack watermark: some of the 16 KiB stack is used, and it never
    // shrinks.
    let watermark = |c: &mut io::Client<'_, Io<Tap>>| -> (u64, u64, u64) {
        c.execute_raw("guest-x-stack-watermark", None, true, |v| {
            let field = |k: &str| v.get(k).and_then(|u| u.as_u64()).expect(k);
            (field("used"), field("size"), field("init"))
        })
        .unwrap()
        .unwrap()
    };
    let (used, size, init) = watermark(&mut c);
    assert_eq!(size, STACK_SIZE);
    assert!(used > 0 && used < size, "stack watermark {used} of {size}");
    assert!(init > 0 && init < size, "start-up stack {init} of {size}");
    println!(
        "{version}: stack high-water mark of the agent loop after the checks: {used} of {size} bytes (start-up: {init})"
    );

    // Reboot: the firmware resets the system (SYSRESETREQ); QEMU boots the
    // image again, and the client syncs with the fresh agent.
    c.execute::<GuestShutdown>(&GuestShutdownArgs {
        mode: Some("reboot".try_into().unwrap()),
    })
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while qemu.stderr().matches(" on UART0, epoch ").count() < 2 {
        assert!(
            Instant::now() < deadline,
            "no second boot: {}",
            qemu.stderr()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    c.sync().expect("sync after the reboot");
    c.execute::<GuestPing>(&Default::default()).unwrap();
    let (used_after, _, _) = watermark(&mut c);
    assert!(used_after > 0, "the stack is painted again at boot");

    // guest-shutdown: no reply (success-response: false); the firmware stops
    // the machine through semihosting, and QEMU exits with status 0.
    c.execute::<GuestShutdown>(&Default::default()).unwrap();
    let status = qemu
        .wait_exit(Duration::from_secs(10))
        .expect("QEMU still runs 10 s after guest-shutdown");
    assert_eq!(status.code(), Some(0), "QEMU's exit status: {status}");
    let stderr = qemu.stderr();
    let report = stderr
        .lines()
        .find_map(|l| l.strip_prefix("qga-shim: guest-shutdown; stack high-water mark "))
        .unwrap_or_else(|| panic!("no shutdown report on QEMU's stderr: {stderr}"));
    println!("{version} at shutdown (after the reboot): stack high-water mark {report}");
    assert!(
        report.contains(&format!(" of {STACK_SIZE} bytes (start-up ")),
        "{report}"
    );
}

/// Run `qga-client SOCKET COMMAND [ARGS]` (a new connection that syncs
/// first): its exit code, standard output and standard error.
fn qga_client(qemu: &QemuArm, command: &str, args: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(c_client());
    cmd.arg("--timeout")
        .arg("10000")
        .arg(qemu.socket())
        .arg(command);
    if let Some(args) = args {
        cmd.arg(args);
    }
    let out = cmd.output().expect("run qga-client");
    (
        out.status.code().unwrap_or(-1),
        show(&out.stdout),
        show(&out.stderr),
    )
}

/// Through the C client, to the final guest-shutdown.
fn check_c_client(qemu: &mut QemuArm, version: &str) {
    leave_half_request(qemu, b"{\"execute\":\"guest-sync\",\"arguments\":{\"id\":");
    // A dirty channel: the client resynchronises past the stale request.
    assert_eq!(
        qga_client(qemu, "guest-ping", None),
        (0, "{}\n".into(), String::new())
    );
    assert_eq!(
        qga_client(qemu, "guest-sync", Some("{\"id\": 12345}")),
        (0, "12345\n".into(), String::new())
    );

    let (code, out, err) = qga_client(qemu, "guest-info", None);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    let info: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["version"], version);
    let listed: Vec<(String, bool, bool)> = info["supported_commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["enabled"].as_bool().unwrap(),
                c["success-response"].as_bool().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, bool, bool)> = SHIM_COMMANDS
        .iter()
        .map(|&(n, e, s)| (n.to_owned(), e, s))
        .collect();
    assert_eq!(listed, expected);

    // Time, within the tolerance documented in check_client (plus the
    // client's own start-up inside [before, after]).
    let before = unix_ns();
    let (code, out, err) = qga_client(qemu, "guest-get-time", None);
    let after = unix_ns();
    assert_eq!((code, err.as_str()), (0, ""));
    let t: i128 = out.trim().parse().unwrap();
    assert!(
        t >= before - 1_020_000_000 && t <= after + 20_000_000,
        "guest-get-time {t} outside [{}, {}]",
        before - 1_020_000_000,
        after + 20_000_000
    );

    assert_eq!(
        qga_client(qemu, "guest-no-such-command", None),
        (
            1,
            String::new(),
            "CommandNotFound: The command guest-no-such-command has not been found\n".into()
        )
    );
    // A 1 KiB request with an argument guest-sync does not take.
    let long = format!("{{\"id\": 9, \"padding\": \"{}\"}}", "p".repeat(1000));
    assert_eq!(
        qga_client(qemu, "guest-sync", Some(&long)),
        (
            1,
            String::new(),
            "GenericError: Parameter 'padding' is unexpected\n".into()
        )
    );

    let (code, out, err) = qga_client(qemu, "guest-x-stack-watermark", None);
    assert_eq!((code, err.as_str()), (0, ""));
    let wm: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(wm["size"], STACK_SIZE);
    let used = wm["used"].as_u64().unwrap();
    assert!(used > 0 && used < STACK_SIZE, "{wm}");

    // guest-shutdown: qga-client exits 0 once it is sent. It half-closes
    // and waits for the end of the stream before it closes: QEMU's socket
    // chardev drops a connection on hang-up together with the bytes it has
    // not handed to the UART yet (one byte at a time, as the firmware reads
    // them), so closing at once would lose the request.
    let mut cmd = Command::new(c_client());
    let out = cmd
        .arg("--timeout")
        .arg("10000")
        .arg(qemu.socket())
        .arg("guest-shutdown")
        .output()
        .expect("run qga-client");
    assert_eq!(
        (out.status.code(), show(&out.stdout), show(&out.stderr)),
        (Some(0), String::new(), String::new())
    );
    let status = qemu
        .wait_exit(Duration::from_secs(10))
        .expect("QEMU still runs 10 s after guest-shutdown");
    assert_eq!(status.code(), Some(0), "QEMU's exit status: {status}");
    assert!(
        qemu.stderr()
            .contains(&format!(" of {STACK_SIZE} bytes (start-up ")),
        "no shutdown report: {}",
        qemu.stderr()
    );
}
