//! The real-peer harness itself: both peers start, the qemu-ga safety gate
//! holds, and both processes are gone after their handles drop.

use std::io::{Read, Write};
use std::time::Duration;

use qwire_tests::peers::{Qemu, QemuGa, QGA_ALLOW};

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn qemu_starts_greets_and_is_ended_by_pid() {
    let qemu = Qemu::start();
    let pid = qemu.pid();
    let mut s = qemu.connect();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"{\"QMP\": {\"version\": {\"qemu\": {"));
    assert!(buf[..n].ends_with(b"\r\n"));
    drop(s);
    drop(qemu);
    std::thread::sleep(Duration::from_millis(50));
    assert!(!alive(pid));
}

#[test]
fn qemu_ga_runs_locked_down_and_unprivileged() {
    let ga = QemuGa::start();
    let pid = ga.pid();
    let mut enabled = ga.enabled.clone();
    enabled.sort();
    let mut allowed: Vec<String> = QGA_ALLOW.iter().map(|s| s.to_string()).collect();
    allowed.sort();
    assert_eq!(enabled, allowed, "exactly the allow-list is enabled");
    // The agent's uid is not root.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap_or("");
    // setpriv execs qemu-ga in place, so the pid is the agent's.
    assert!(
        !uid_line.split_whitespace().skip(1).any(|u| u == "0"),
        "{uid_line}"
    );
    // A blocked RPC is refused (a read-only one, never a dangerous one).
    let mut s = ga.connect();
    s.write_all(b"{\"execute\":\"guest-get-disks\"}").unwrap();
    let mut buf = Vec::new();
    while !buf.ends_with(b"\n") {
        let mut chunk = [0u8; 512];
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
    let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
    assert_eq!(v["error"]["class"], "CommandNotFound");
    assert_eq!(
        v["error"]["desc"],
        "Command guest-get-disks has been disabled"
    );
    drop(s);
    drop(ga);
    std::thread::sleep(Duration::from_millis(50));
    assert!(!alive(pid));
}
