//! A real QMP client against qwire's server: Python's `qemu.qmp` (PyPI
//! 0.0.6, installed into a virtualenv by `scripts/setup.sh`) drives the
//! example server `core/examples/qmp_server.rs` through
//! `tests/python/qmp_client.py`: greeting, negotiation (qemu.qmp enables
//! `oob` when offered), commands, events through a listener, out-of-band
//! execution, `ExecuteError`s, and `quit`.
//!
//! The test fails, rather than skips, when the virtualenv is missing: the
//! test command (`scripts/test-all.sh`) creates it.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qwire_tests::peers::TempDir;
use qwire_tests::workspace_binary;

/// The virtualenv's python: `$QWIRE_QMP_VENV`, else
/// `${XDG_CACHE_HOME:-$HOME/.cache}/qwire/qemu-qmp-venv` (where
/// `scripts/setup.sh` puts it).
fn venv_python() -> PathBuf {
    let venv = std::env::var_os("QWIRE_QMP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache")
                });
            cache.join("qwire/qemu-qmp-venv")
        });
    let python = venv.join("bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup.sh (or scripts/test-all.sh), which creates the qemu.qmp virtualenv",
        python.display()
    );
    python
}

/// A child process ended by pid when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill").arg(self.0.id().to_string()).status();
            let _ = self.0.wait();
        }
    }
}

fn wait_exit(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "pid {} did not exit", child.id());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn qemu_qmp_drives_the_example_server() {
    let python = venv_python();
    let server_bin = workspace_binary("qwire", "example", "qmp_server");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/qmp_client.py");
    let dir = TempDir::new("qmp-python");
    let socket = dir.path().join("qmp.sock");

    let mut server = Running(
        Command::new(&server_bin)
            .arg(&socket)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start qmp_server"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "no socket from qmp_server");
        assert!(server.0.try_wait().unwrap().is_none(), "qmp_server exited");
        std::thread::sleep(Duration::from_millis(10));
    }

    let mut client = Running(
        Command::new(&python)
            .arg(&script)
            .arg(&socket)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run python"),
    );
    let status = wait_exit(&mut client.0, Duration::from_secs(60));
    let mut out = String::new();
    let mut err = String::new();
    client
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    client
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        status.success(),
        "qmp_client.py failed: {status}\n{out}\n{err}"
    );

    let version = r#"{"package": "qwire-example", "qemu": {"major": 0, "micro": 0, "minor": 1}}"#;
    let running = r#"{"running": true, "singlestep": false, "status": "running"}"#;
    let paused = r#"{"running": false, "singlestep": false, "status": "paused"}"#;
    let expected = [
        format!(r#"greeting {version} ["oob"]"#),
        format!("query-version {version}"),
        format!("query-status {running}"),
        "stop {} event STOP timestamp ['microseconds', 'seconds']".to_owned(),
        format!("query-status {paused}"),
        "cont {} event RESUME timestamp ['microseconds', 'seconds']".to_owned(),
        format!("query-status {running}"),
        "x-ping oob {}".to_owned(),
        "error no-such-command CommandNotFound The command no-such-command has not been found"
            .to_owned(),
        "error query-status GenericError Parameter 'bogus' is unexpected".to_owned(),
        "error stop GenericError The command stop does not support OOB".to_owned(),
        r#"quit {} event SHUTDOWN {"guest": false, "reason": "host-qmp-quit"}"#.to_owned(),
        "disconnected".to_owned(),
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expected, "stderr:\n{err}");

    // The server saw oob negotiated and the out-of-band call, then exited
    // after quit.
    let status = wait_exit(&mut server.0, Duration::from_secs(10));
    assert!(status.success(), "qmp_server: {status}");
    let mut log = String::new();
    server
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let log: Vec<&str> = log.lines().collect();
    assert_eq!(&log[..3], ["listening", "connected", "negotiated oob=true"]);
    assert!(log.contains(&"command x-ping oob=true"), "{log:?}");
    assert_eq!(log.last(), Some(&"quit"));
    assert!(!socket.exists());
}
