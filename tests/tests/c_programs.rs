//! The C programs of `examples-c/` (built on libqwire through
//! `include/qwire.h`) against the real peers, against each other and
//! against the Rust sessions. Every program also runs under ASan+UBSan and
//! under valgrind in at least one scenario.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use qwire::qga::schema::{GuestAgentInfo, GuestInfo, GuestPing};
use qwire::qga::{io, SyncClient};
use qwire::qmp::SendOptions;
use qwire_tests::c_program;
use qwire_tests::peers::{Qemu, QemuGa, TempDir};
use qwire_tests::qga_relay::Io;
use qwire_tests::qmp::{Conn, Got};

/// How to run a C program.
#[derive(Clone, Copy, Debug)]
enum Variant {
    Plain,
    /// Built with -fsanitize=address,undefined -fno-sanitize-recover=all.
    Asan,
    /// Under valgrind, failing on any error (`--error-exitcode=99`).
    Valgrind,
}

fn command(name: &str, variant: Variant) -> Command {
    match variant {
        Variant::Plain => Command::new(c_program(name)),
        Variant::Asan => {
            let mut c = Command::new(c_program(&format!("asan/{name}")));
            c.env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0");
            c
        }
        Variant::Valgrind => {
            let mut c = Command::new("valgrind");
            c.args(["--quiet", "--error-exitcode=99", "--leak-check=full"])
                .arg(c_program(name));
            c
        }
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(name: &str, variant: Variant, args: &[&str]) -> Run {
    let out: Output = command(name, variant)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("{e}: {s:?}"))
}

/// A child process ended by pid when dropped.
struct Reaped(Child);

impl Reaped {
    fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.0.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill").arg(self.0.id().to_string()).status();
            let _ = self.0.wait();
        }
    }
}

fn wait_socket(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(path).is_err() {
        assert!(Instant::now() < deadline, "no socket at {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn qmp_client_against_qemu() {
    let mut qemu = Qemu::start();
    let sock = path_str(qemu.socket()).to_owned();

    let r = run("qmp-client", Variant::Plain, &[&sock, "query-version"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    assert_eq!(
        (
            v["qemu"]["major"].as_u64(),
            v["qemu"]["minor"].as_u64(),
            v["qemu"]["micro"].as_u64()
        ),
        (Some(7), Some(2), Some(22))
    );
    assert_eq!(r.stdout.lines().count(), 1);

    // stop: QEMU sends STOP before the reply; the event goes to stderr.
    let r = run("qmp-client", Variant::Asan, &[&sock, "stop"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{}\n"), "{}", r.stderr);
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("event: "))
        .expect("event line");
    let ev = json(&line["event: ".len()..]);
    assert_eq!(ev["event"], "STOP");
    assert!(ev["timestamp"]["seconds"].as_i64().unwrap() > 1_600_000_000);
    let r = run("qmp-client", Variant::Plain, &[&sock, "query-status"]);
    assert_eq!(json(&r.stdout)["status"], "paused");

    let r = run("qmp-client", Variant::Valgrind, &[&sock, "query-balloon"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "DeviceNotActive: No balloon device has been activated\n")
    );
    let r = run("qmp-client", Variant::Plain, &[&sock, "no-such-command"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "CommandNotFound: The command no-such-command has not been found\n"
        )
    );
    let r = run(
        "qmp-client",
        Variant::Plain,
        &[&sock, "qom-list", r#"{"path": 42}"#],
    );
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "GenericError: Invalid parameter type for 'path', expected: string\n"
        )
    );
    let r = run("qmp-client", Variant::Plain, &[&sock, "qom-list", "[1]"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("ARGUMENTS_JSON"));

    // The 207 kB schema fits the client's 1 MiB buffer.
    let r = run("qmp-client", Variant::Plain, &[&sock, "query-qmp-schema"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(json(&r.stdout).as_array().unwrap().len() > 1000);

    // quit: SHUTDOWN, the reply, and QEMU exits.
    let r = run("qmp-client", Variant::Plain, &[&sock, "quit"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{}\n"), "{}", r.stderr);
    assert!(r.stderr.contains("\"event\":\"SHUTDOWN\""));
    assert!(qemu.wait_exit(Duration::from_secs(10)).is_some());
}

#[test]
fn clients_fail_with_exit_2() {
    let dir = TempDir::new("c-fail");
    let missing = dir.path().join("nothing.sock");
    for client in ["qmp-client", "qga-client"] {
        let r = run(client, Variant::Plain, &[path_str(&missing), "x"]);
        assert_eq!(r.code, 2, "{client}");
        assert!(r.stderr.contains("cannot connect"), "{}", r.stderr);
        let r = run(client, Variant::Plain, &["only-one-argument"]);
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains("usage"));
    }
    // A peer that accepts and never answers: the timeout.
    let silent = dir.path().join("silent.sock");
    let listener = UnixListener::bind(&silent).unwrap();
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        for _ in 0..2 {
            held.push(listener.accept().unwrap().0);
        }
        std::thread::sleep(Duration::from_millis(500));
    });
    for client in ["qmp-client", "qga-client"] {
        let start = Instant::now();
        let r = run(
            client,
            Variant::Plain,
            &["--timeout", "200", path_str(&silent), "x"],
        );
        assert_eq!(
            (r.code, r.stderr.as_str()),
            (2, format!("{client}: timed out\n").as_str())
        );
        assert!(start.elapsed() < Duration::from_secs(5));
    }
    holder.join().unwrap();
}

#[test]
fn qga_client_against_qemu_ga() {
    let ga = QemuGa::start();
    let sock = path_str(ga.socket()).to_owned();
    // A dirty channel: an earlier client left half a request in the agent.
    ga.connect().write_all(b"{\"execute\": \"guest-sy").unwrap();
    std::thread::sleep(Duration::from_millis(50));

    let r = run("qga-client", Variant::Plain, &[&sock, "guest-ping"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{}\n"), "{}", r.stderr);
    let r = run("qga-client", Variant::Asan, &[&sock, "guest-info"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let info = json(&r.stdout);
    assert_eq!(info["version"], "7.2.22");
    assert!(info["supported_commands"].as_array().unwrap().len() >= 40);
    let r = run("qga-client", Variant::Valgrind, &[&sock, "guest-get-disks"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "CommandNotFound: Command guest-get-disks has been disabled\n"
        )
    );
    let r = run(
        "qga-client",
        Variant::Plain,
        &[&sock, "guest-sync", r#"{"id": -42}"#],
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, "-42\n"));
    let r = run(
        "qga-client",
        Variant::Plain,
        &[&sock, "guest-sync", r#"{"id": "x"}"#],
    );
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "GenericError: Invalid parameter type for 'id', expected: integer\n"
        )
    );
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128;
    let r = run("qga-client", Variant::Plain, &[&sock, "guest-get-time"]);
    let t = r.stdout.trim().parse::<i128>().unwrap();
    assert!((t - now_ns).abs() < 60_000_000_000);
}

#[test]
fn c_agent_answers_c_and_rust_clients() {
    let dir = TempDir::new("c-agent");
    let sock = dir.path().join("agent.sock");
    let mut agent = Reaped(
        command("qga-agent", Variant::Asan)
            .arg("--listen")
            .arg(&sock)
            .spawn()
            .unwrap(),
    );
    wait_socket(&sock);
    let s = path_str(&sock);

    let r = run("qga-client", Variant::Valgrind, &[s, "guest-info"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<String> = json(&r.stdout)["supported_commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}:{}:{}",
                c["name"].as_str().unwrap(),
                c["enabled"],
                c["success-response"]
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "guest-sync-delimited:true:true",
            "guest-sync:true:true",
            "guest-ping:true:true",
            "guest-info:true:true",
            "guest-get-time:true:true",
            "guest-shutdown:true:false",
        ]
    );
    let r = run(
        "qga-client",
        Variant::Plain,
        &[s, "guest-file-open", r#"{"path": "/x"}"#],
    );
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "CommandNotFound: The command guest-file-open has not been found\n"
        )
    );
    let r = run(
        "qga-client",
        Variant::Plain,
        &[s, "guest-get-time", r#"{"x": 1}"#],
    );
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "GenericError: Parameter 'x' is unexpected\n")
    );

    // Half a request left behind; the Rust sync client still syncs.
    UnixStream::connect(&sock)
        .unwrap()
        .write_all(b"{\"execute\": \"guest-pi")
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    {
        let (mut buf, mut rx, mut tx) = (vec![0u8; 16384], [0u8; 512], [0u8; 4096]);
        let mut c = io::Client::new(
            SyncClient::new(&mut buf),
            Io(UnixStream::connect(&sock).unwrap()),
            &mut rx,
            &mut tx,
            0x5151,
        );
        c.execute::<GuestPing>(&Default::default()).unwrap();
        let mut info = Box::<GuestAgentInfo>::default();
        c.execute_into::<GuestInfo>(&Default::default(), &mut info)
            .unwrap();
        assert_eq!(info.version.as_str(), "qwire-0.1.0");
        assert_eq!(info.supported_commands.len(), 6);
    }

    // guest-shutdown: no reply; the agent exits 0.
    let r = run(
        "qga-client",
        Variant::Plain,
        &[s, "guest-shutdown", r#"{"mode": "powerdown"}"#],
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    assert_eq!(agent.wait(Duration::from_secs(10)), Some(0));
}

#[test]
fn c_agent_on_stdio_under_valgrind() {
    let mut child = command("qga-agent", Variant::Valgrind)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"{\"execute\":\"guest-pi\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":9}}{'execute':'guest-ping','id':'a'}")
        .unwrap();
    drop(stdin);
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out),
        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, stray '\\\"guest-pi\\uFFFD'\"}}\n\u{fffd}{\"return\":9}\n{\"return\":{},\"id\":\"a\"}\n"
    );
    assert_eq!(out.iter().filter(|&&b| b == 0xff).count(), 1);
}

#[test]
fn c_server_answers_c_and_rust_clients() {
    let dir = TempDir::new("c-server");
    let sock: PathBuf = dir.path().join("qmp.sock");
    let mut server = Reaped(
        command("qmp-server", Variant::Valgrind)
            .arg("--listen")
            .arg(&sock)
            .spawn()
            .unwrap(),
    );
    wait_socket(&sock);
    let s = path_str(&sock);

    let r = run("qmp-client", Variant::Asan, &[s, "query-status"]);
    assert_eq!(
        (r.code, json(&r.stdout)["status"].as_str()),
        (0, Some("running")),
        "{}",
        r.stderr
    );
    let r = run("qmp-client", Variant::Plain, &[s, "stop"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{}\n"));
    assert!(
        r.stderr.starts_with("event: {\"event\":\"STOP\""),
        "{}",
        r.stderr
    );
    let r = run("qmp-client", Variant::Plain, &[s, "query-status"]);
    assert_eq!(json(&r.stdout)["running"], false);
    let r = run("qmp-client", Variant::Plain, &[s, "query-kvm"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "CommandNotFound: The command query-kvm has not been found\n"
        )
    );

    // The Rust client: negotiation with oob, then cont with its event first.
    {
        let mut conn: Conn = Conn::new(UnixStream::connect(&sock).unwrap(), 65536);
        let hello = conn.handshake(true);
        assert!(
            hello
                .iter()
                .any(|g| matches!(g, Got::Negotiated { oob: true })),
            "{hello:?}"
        );
        let id = conn.send_raw("cont", None, SendOptions::new());
        let got = conn.reply(id);
        let event = got
            .iter()
            .position(|g| matches!(g, Got::Event { name, .. } if name == "RESUME"));
        let ret = got.iter().position(|g| matches!(g, Got::Return { .. }));
        assert!(event.is_some() && event < ret, "{got:?}");
        let id = conn.send_raw("query-version", None, SendOptions::new());
        let got = conn.reply(id);
        assert!(format!("{got:?}").contains("qwire qmp-server"), "{got:?}");
    }

    let r = run("qmp-client", Variant::Plain, &[s, "quit"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "{}\n"));
    assert!(r.stderr.contains("\"reason\":\"host-qmp-quit\""));
    assert_eq!(server.wait(Duration::from_secs(20)), Some(0));
}
