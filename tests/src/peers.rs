//! Real protocol peers for the tests: QEMU 7.2 (`qemu-system-x86_64 -M none`)
//! and qemu-ga 7.2, each started by the test itself on a Unix socket in a
//! fresh private directory, and ended by pid when the handle drops.
//!
//! qemu-ga runs on this host and executes what it is asked, so it is only
//! ever started the safe way (reference/tooling.md §4, §8):
//!
//! 1. every RPC outside [`QGA_ALLOW`] is blocked (`-b`, built from
//!    `qemu-ga -b help`, since qemu-ga 7.2 has no allow-list option);
//! 2. as an unprivileged user (`nobody` through `setpriv` when the tests run
//!    as root; otherwise the current, unprivileged user);
//! 3. behind a safety gate: before anything else the harness asks
//!    `guest-info` and kills the agent unless exactly allowed RPCs are
//!    enabled.
//!
//! The tests never send shutdown, set-time, exec, suspend or fsfreeze
//! commands; the block list and the gate are there in case one ever tries.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The only qemu-ga RPCs the tests may use: read-only queries and file
/// operations confined to the test's own directory.
pub const QGA_ALLOW: &[&str] = &[
    "guest-sync",
    "guest-sync-delimited",
    "guest-ping",
    "guest-info",
    "guest-get-time",
    "guest-get-host-name",
    "guest-get-osinfo",
    "guest-get-timezone",
    "guest-get-vcpus",
    "guest-network-get-interfaces",
    "guest-get-fsinfo",
    "guest-get-users",
    "guest-file-open",
    "guest-file-read",
    "guest-file-write",
    "guest-file-seek",
    "guest-file-flush",
    "guest-file-close",
];

/// A private directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory, readable by everyone (so `nobody` can reach
    /// the socket inside).
    pub fn new(tag: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("qwire-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod temp dir");
        TempDir(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Wait until `path` is a socket that accepts a connection.
fn wait_for_socket(path: &Path, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(s) = UnixStream::connect(path) {
            drop(s);
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before its socket appeared: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "{what}: no socket at {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// End a child we started: SIGTERM by pid, then SIGKILL if it lingers.
fn end(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    if exited_within(child, Duration::from_secs(5)).is_some() {
        return;
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Poll `child` until it exits or `timeout` passes; its exit status, or
/// `None` if it still runs.
fn exited_within(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// A connection to the peer's socket at `path`, reads timing out after
/// 10 s so a silent peer fails the test instead of hanging it.
fn connect_to(path: &Path, what: &str) -> UnixStream {
    let s = UnixStream::connect(path).unwrap_or_else(|e| panic!("connect to {what}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// `program` is on the PATH. Tests that need a peer fail when it is missing:
/// the test command installs it.
pub fn require(program: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{program} is not installed; run scripts/test-all.sh, which installs it"
    );
}

/// A running QEMU with its QMP monitor on a Unix socket.
pub struct Qemu {
    child: Child,
    socket: PathBuf,
    _dir: TempDir,
}

impl Qemu {
    /// `qemu-system-x86_64 -M none -nodefaults -display none -qmp unix:...`.
    pub fn start() -> Qemu {
        Qemu::start_with(&["-M", "none"])
    }

    /// Same, with other machine arguments (e.g. `-M pc -accel tcg -S`).
    pub fn start_with(machine: &[&str]) -> Qemu {
        require("qemu-system-x86_64");
        let dir = TempDir::new("qemu");
        let socket = dir.path().join("qmp.sock");
        let mut child = Command::new("qemu-system-x86_64")
            .args(machine)
            .args(["-nodefaults", "-no-user-config", "-display", "none", "-qmp"])
            .arg(format!("unix:{},server=on,wait=off", socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start qemu-system-x86_64");
        wait_for_socket(&socket, &mut child, "qemu-system-x86_64");
        Qemu {
            child,
            socket,
            _dir: dir,
        }
    }

    /// The QMP socket's path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// A new connection to the monitor.
    pub fn connect(&self) -> UnixStream {
        connect_to(&self.socket, "QMP")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait for QEMU to exit on its own (after `quit`); its exit status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        exited_within(&mut self.child, timeout)
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        end(&mut self.child);
    }
}

/// A running qemu-ga on a Unix socket, locked down (see the module docs).
pub struct QemuGa {
    child: Child,
    socket: PathBuf,
    dir: TempDir,
    /// The RPCs the safety gate found enabled.
    pub enabled: Vec<String>,
}

/// The tests run as root (then qemu-ga must drop to `nobody`).
fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false)
}

impl QemuGa {
    /// Start qemu-ga with every RPC outside [`QGA_ALLOW`] blocked, as an
    /// unprivileged user, and pass the safety gate. Panics (after killing
    /// it) if the agent enables anything else.
    pub fn start() -> QemuGa {
        require("qemu-ga");
        let dir = TempDir::new("qga");
        let socket = dir.path().join("qga.sock");
        let state = dir.path().join("state");
        let log = dir.path().join("qga.log");
        std::fs::create_dir_all(&state).unwrap();
        std::fs::write(&log, b"").unwrap();
        let all = Command::new("qemu-ga")
            .args(["-b", "help"])
            .output()
            .expect("qemu-ga -b help");
        let block: Vec<String> = String::from_utf8_lossy(&all.stdout)
            .split_whitespace()
            .filter(|rpc| !QGA_ALLOW.contains(rpc))
            .map(str::to_owned)
            .collect();
        assert!(
            block.len() > 10,
            "qemu-ga -b help listed too few RPCs: {block:?}"
        );
        let root = running_as_root();
        let mut cmd = if root {
            // Hand the private directory to nobody and drop privileges.
            for p in [dir.path(), &state, &log] {
                std::os::unix::fs::chown(p, Some(65534), Some(65534)).expect("chown to nobody");
            }
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "qemu-ga",
            ]);
            c
        } else {
            Command::new("qemu-ga")
        };
        let mut child = cmd
            .args(["-m", "unix-listen", "-p"])
            .arg(&socket)
            .arg("-t")
            .arg(&state)
            .arg("-l")
            .arg(&log)
            .args(["-b", &block.join(",")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start qemu-ga");
        wait_for_socket(&socket, &mut child, "qemu-ga");
        let mut ga = QemuGa {
            child,
            socket,
            dir,
            enabled: Vec::new(),
        };
        match ga.safety_gate() {
            Ok(enabled) => ga.enabled = enabled,
            Err(why) => {
                end(&mut ga.child);
                panic!("qemu-ga safety gate: {why}");
            }
        }
        ga
    }

    /// Resync, ask `guest-info`, and refuse unless only allowed RPCs are on.
    /// Written against the raw socket with serde_json, independent of the
    /// code under test.
    fn safety_gate(&self) -> Result<Vec<String>, String> {
        let mut s = self.connect();
        s.write_all(b"\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":4242}}")
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        // Everything up to the agent's 0xFF is stale or the reply to ours.
        loop {
            let after = buf.iter().position(|&b| b == 0xff).map(|i| &buf[i + 1..]);
            if let Some(tail) = after {
                if tail.ends_with(b"\n") {
                    let v: serde_json::Value =
                        serde_json::from_slice(tail).map_err(|e| e.to_string())?;
                    if v != serde_json::json!({"return": 4242}) {
                        return Err(format!("bad sync reply {v}"));
                    }
                    break;
                }
            }
            read_some(&mut s, &mut buf)?;
        }
        s.write_all(b"{\"execute\":\"guest-info\"}")
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        while !buf.ends_with(b"\n") {
            read_some(&mut s, &mut buf)?;
        }
        let v: serde_json::Value = serde_json::from_slice(&buf).map_err(|e| e.to_string())?;
        let cmds = v["return"]["supported_commands"]
            .as_array()
            .ok_or("no supported_commands")?;
        let enabled: Vec<String> = cmds
            .iter()
            .filter(|c| c["enabled"] == true)
            .map(|c| c["name"].as_str().unwrap_or("?").to_owned())
            .collect();
        let unsafe_on: Vec<&String> = enabled
            .iter()
            .filter(|n| !QGA_ALLOW.contains(&n.as_str()))
            .collect();
        if !unsafe_on.is_empty() {
            return Err(format!("UNSAFE: enabled {unsafe_on:?}"));
        }
        Ok(enabled)
    }

    /// The socket's path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// A directory the agent (running as `nobody`) may create files in.
    pub fn scratch_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new connection (qemu-ga serves one client at a time and keeps its
    /// parser state across connections).
    pub fn connect(&self) -> UnixStream {
        connect_to(&self.socket, "qemu-ga")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for QemuGa {
    fn drop(&mut self) {
        end(&mut self.child);
    }
}

fn read_some(s: &mut UnixStream, buf: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = [0u8; 65536];
    match s.read(&mut chunk) {
        Ok(0) => Err("connection closed".into()),
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// A running `qemu-system-arm` board booting a bare-metal image: its first
/// UART on a Unix socket (`-serial chardev:...`, `server=on,wait=off`),
/// semihosting on (the image may print and end the emulation with an exit
/// status), no display, monitor or network, and its standard error (where
/// semihosting output goes) kept in a file. Ended by pid when dropped.
pub struct QemuArm {
    child: Child,
    socket: PathBuf,
    stderr: PathBuf,
    _dir: TempDir,
}

impl QemuArm {
    /// `qemu-system-arm -M <machine> ... -kernel <image>`. Fails when
    /// qemu-system-arm is missing (the test command installs it).
    pub fn start(machine: &str, image: &Path) -> QemuArm {
        require("qemu-system-arm");
        assert!(image.is_file(), "no firmware image at {}", image.display());
        let dir = TempDir::new("qemu-arm");
        let socket = dir.path().join("uart0.sock");
        let stderr = dir.path().join("stderr.txt");
        let log = std::fs::File::create(&stderr).expect("create stderr file");
        let mut child = Command::new("qemu-system-arm")
            .args(["-M", machine, "-display", "none", "-monitor", "none"])
            .args([
                "-nic",
                "none",
                "-semihosting-config",
                "enable=on,target=native",
            ])
            .arg("-chardev")
            .arg(format!(
                "socket,id=uart0,path={},server=on,wait=off",
                socket.display()
            ))
            .args(["-serial", "chardev:uart0", "-kernel"])
            .arg(image)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start qemu-system-arm");
        wait_for_socket(&socket, &mut child, "qemu-system-arm");
        QemuArm {
            child,
            socket,
            stderr,
            _dir: dir,
        }
    }

    /// The UART's socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// A new connection to the UART (one at a time: QEMU accepts the next
    /// only after the previous one closed; the guest sees one serial line).
    pub fn connect(&self) -> UnixStream {
        connect_to(&self.socket, "the UART socket")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait for QEMU to exit on its own (e.g. the image's semihosting
    /// `SYS_EXIT`); its exit status, or `None` if it still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        exited_within(&mut self.child, timeout)
    }

    /// What QEMU wrote on its standard error so far (semihosting output
    /// included).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.stderr).unwrap_or_default()).into_owned()
    }
}

impl Drop for QemuArm {
    fn drop(&mut self) {
        end(&mut self.child);
    }
}
