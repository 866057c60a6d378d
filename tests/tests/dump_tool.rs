//! `core/examples/dump.rs`: its documented output contract on corrupted and
//! chunked input.

use std::io::Write;
use std::process::{Command, Stdio};

use qwire_tests::{shared_files, workspace_binary};

fn dump(args: &[&str], input: &[u8], dribble: bool) -> (String, i32) {
    let mut child = Command::new(workspace_binary("qwire", "example", "dump"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        if dribble {
            for b in input {
                stdin.write_all(&[b]).unwrap();
                stdin.flush().unwrap();
            }
        } else {
            stdin.write_all(&input).unwrap();
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

#[test]
fn documented_lines_for_each_outcome() {
    let input = b"{\"a\":[1,2{\"b\":1}\xff{\"return\": {}}\r\n{\"event\":\"X\"}\n[1,2,3,4,5,6,7,8,9,10] 42 {\"execute\":";
    let (out, code) = dump(&["--max-frame", "16"], input, false);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        concat!(
            "{\"at\":9,\"error\":\"syntax\"}\n",
            "{\"at\":9,\"len\":7,\"kind\":\"other\"}\n",
            "{\"at\":16,\"sentinel\":true}\n",
            "{\"at\":17,\"len\":14,\"kind\":\"return\"}\n",
            "{\"at\":33,\"len\":13,\"kind\":\"event\"}\n",
            "{\"at\":47,\"error\":\"too-large\",\"len\":22}\n",
            "{\"at\":70,\"len\":2,\"kind\":\"other\"}\n",
            "{\"at\":73,\"incomplete\":true}\n",
        )
    );
    // Each line is JSON.
    for line in out.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}

#[test]
fn options_change_the_dialect_and_limits() {
    let (strict, _) = dump(&[], b"{'execute': 'x'}", false);
    assert_eq!(
        strict.lines().next(),
        Some("{\"at\":1,\"error\":\"syntax\"}")
    );
    let (qemu, _) = dump(&["--single-quotes"], b"{'execute': 'x'}", false);
    assert_eq!(qemu, "{\"at\":0,\"len\":16,\"kind\":\"command\"}\n");
    let (deep, _) = dump(&["--max-depth", "2"], b"[[[]]]", false);
    assert_eq!(deep.lines().next(), Some("{\"at\":2,\"error\":\"depth\"}"));
    let (_, code) = dump(&["--max-depth", "0"], b"", false);
    assert_eq!(code, 2);
    let (_, code) = dump(&["--bogus"], b"", false);
    assert_eq!(code, 2);
}

#[test]
fn chunked_delivery_gives_the_same_output_and_any_bytes_exit_zero() {
    let mut corrupted = Vec::new();
    for path in shared_files("corpus/qemu-7.2/qga", ".c2s.bin")
        .iter()
        .take(20)
    {
        corrupted.extend(std::fs::read(path).unwrap());
    }
    // Deterministic corruption: flip every 37th byte.
    for (i, b) in corrupted.iter_mut().enumerate() {
        if i % 37 == 5 {
            *b = b.wrapping_add(0x41);
        }
    }
    let (whole, code) = dump(&["--max-frame", "64"], &corrupted, false);
    assert_eq!(code, 0);
    let (dribbled, code) = dump(&["--max-frame", "64"], &corrupted, true);
    assert_eq!(code, 0);
    assert_eq!(whole, dribbled);
    assert!(whole.contains("\"error\":\"") && whole.contains("\"kind\":\"command\""));
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let (_, code) = dump(&[], &noise, false);
    assert_eq!(code, 0);
}
