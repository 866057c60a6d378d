//! `examples-c/qwire-dump` (C, through the C ABI) and `core/examples/dump.rs`
//! (Rust) print identical output on every corpus file and on corrupted
//! streams, under each option.

use std::io::Write;
use std::process::{Command, Stdio};

use qwire_tests::{c_program, shared, workspace_binary};

fn run(program: &std::path::Path, args: &[&str], input: &[u8]) -> (Vec<u8>, i32) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    (out.stdout, out.status.code().unwrap_or(-1))
}

fn corpus_files() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for dir in [
        "corpus/qemu-7.2/qmp-none",
        "corpus/qemu-7.2/qmp-pc-tcg",
        "corpus/qemu-7.2/qmp-extra",
        "corpus/qemu-7.2/qga",
        "corpus/libvirt",
        "corpus/jsontestsuite/test_parsing",
    ] {
        for e in std::fs::read_dir(shared().join(dir)).unwrap() {
            let p = e.unwrap().path();
            let name = p.to_string_lossy().to_string();
            if name.ends_with(".bin") || name.ends_with(".replies") || name.ends_with(".json") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn identical_output_on_every_corpus_file() {
    let c = c_program("qwire-dump");
    let rust = workspace_binary("qwire", "example", "dump");
    let files = corpus_files();
    assert!(files.len() > 500, "{} files", files.len());
    for (i, path) in files.iter().enumerate() {
        let input = std::fs::read(path).unwrap();
        // Rotate through the options so each appears on many files.
        let args: &[&str] = match i % 4 {
            0 => &[],
            1 => &["--max-frame", "4096"],
            2 => &["--single-quotes", "--max-depth", "64"],
            _ => &["--max-frame", "100"],
        };
        let (a, ca) = run(&c, args, &input);
        let (b, cb) = run(&rust, args, &input);
        assert_eq!((ca, cb), (0, 0), "{}", path.display());
        assert_eq!(
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b),
            "{} {args:?}",
            path.display()
        );
        // The file argument gives the same as standard input.
        let (f, _) = run(&c, &[args, &[path.to_str().unwrap()][..]].concat(), b"");
        assert_eq!(f, a);
    }
}

#[test]
fn identical_output_on_corrupted_streams() {
    let c = c_program("qwire-dump");
    let rust = workspace_binary("qwire", "example", "dump");
    let base = std::fs::read(shared().join("corpus/qemu-7.2/qga/session.c2s.bin")).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..60 {
        let mut input = base.clone();
        for _ in 0..(1 + round % 9) {
            let at = (next() as usize) % input.len();
            match next() % 4 {
                0 => input[at] = next() as u8,
                1 => input.insert(at, 0xff),
                2 => {
                    input.remove(at);
                }
                _ => input.insert(at, b"{[\"\\:,}]\x00"[(next() % 9) as usize]),
            }
        }
        let args: &[&str] = if round % 2 == 0 {
            &["--max-frame", "64"]
        } else {
            &["--single-quotes"]
        };
        let (a, _) = run(&c, args, &input);
        let (b, _) = run(&rust, args, &input);
        assert_eq!(a, b, "round {round}");
        assert!(!a.is_empty());
    }
}
