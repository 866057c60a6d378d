//! No panic on arbitrary bytes, deterministically: the QMP client and
//! server are fed random bytes, mutated real transcripts and random message
//! soups, in random chunks with random buffer sizes, interleaved with random
//! API calls (a fixed-seed generator, so every run checks the same cases).
//! Besides not panicking, each call keeps the sessions' invariants: input
//! is consumed, output stays within its buffer and is whole CR LF-terminated
//! ASCII JSON objects, no event is written before negotiation, ids reported
//! are ids the client assigned, and no more than `N` commands are in flight.

use qwire::envelope::Timestamp;
use qwire::json::Json;
use qwire::qmp::{Client, ClientEvent, SendOptions, Server, ServerState};
use qwire_tests::qmp_machine::Machine;
use qwire_tests::shared_files;

/// xorshift64*: small, fixed, good enough to pick cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SPICE: &[&[u8]] = &[
    b"\xff",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"'",
    b",",
    b":",
    b"\r\n",
    b"\x00",
    b"\\",
    b"\\u",
    b"\xc3",
    b"-",
    b"1e9",
    b"null",
    b"{\"id\":",
    b"{\"return\":{}}",
    b"{\"error\":{}}",
    b"{\"event\":\"X\"}",
];

/// Random edits of `base`.
fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let s = *rng.pick(SPICE);
                v.splice(at..at, s.iter().copied());
            }
            2 if at < v.len() => {
                let end = (at + rng.below(64)).min(v.len());
                v.drain(at..end);
            }
            3 if at < v.len() => {
                let end = (at + rng.below(256)).min(v.len());
                let piece = v[at..end].to_vec();
                v.splice(at..at, piece);
            }
            _ => v.truncate(at),
        }
    }
    v
}

fn random_bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.next() as u8).collect()
}

fn id_text(rng: &mut Rng) -> String {
    match rng.below(12) {
        0 => String::new(),
        1 => r#","id":"x""#.into(),
        2 => r#","id":-1"#.into(),
        3 => r#","id":1.5"#.into(),
        4 => r#","id":18446744073709551616"#.into(),
        5 => r#","id":{"a":[1]}"#.into(),
        _ => format!(r#","id":{}"#, rng.below(10)),
    }
}

/// A random sequence of plausible server messages.
fn server_soup(rng: &mut Rng) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..rng.below(30) {
        let msg = match rng.below(9) {
            0 => r#"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}"#.to_owned(),
            1 => r#"{"QMP": {}}"#.to_owned(),
            2 | 3 => format!(r#"{{"return": {{}}{}}}"#, id_text(rng)),
            4 => format!(r#"{{"error": {{"class": "GenericError", "desc": "x"}}{}}}"#, id_text(rng)),
            5 => r#"{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}"#.to_owned(),
            6 => format!(r#"{{"return": "{}"{}}}"#, "x".repeat(rng.below(3000)), id_text(rng)),
            7 => r#"[1, {"return": 2}]"#.to_owned(),
            _ => r#"{"error": "not an object", "id": 1}"#.to_owned(),
        };
        v.extend_from_slice(msg.as_bytes());
        v.extend_from_slice(if rng.chance(80) { b"\r\n" } else { b"" });
    }
    v
}

/// A random sequence of plausible client requests.
fn client_soup(rng: &mut Rng) -> Vec<u8> {
    const NAMES: &[&str] = &[
        "qmp_capabilities",
        "query-status",
        "stop",
        "cont",
        "quit",
        "query-balloon",
        "balloon",
        "qom-list",
        "human-monitor-command",
        "migrate-pause",
        "migrate-recover",
        "nope",
        "query-version",
    ];
    const ARGS: &[&str] = &[
        "",
        r#","arguments":{}"#,
        r#","arguments":{"enable":["oob"]}"#,
        r#","arguments":{"enable":["x"]}"#,
        r#","arguments":{"enable":"oob"}"#,
        r#","arguments":{"path":42}"#,
        r#","arguments":{"value":1}"#,
        r#","arguments":{"command-line":"info version"}"#,
        r#","arguments":[1]"#,
        r#","extra":1"#,
    ];
    let mut v = Vec::new();
    for _ in 0..rng.below(30) {
        let key = if rng.chance(20) {
            "exec-oob"
        } else {
            "execute"
        };
        let msg = format!(
            r#"{{"{key}":"{}"{}{}}}"#,
            rng.pick(NAMES),
            rng.pick(ARGS),
            id_text(rng)
        );
        v.extend_from_slice(msg.as_bytes());
        if rng.chance(30) {
            v.extend_from_slice(b"\n");
        }
    }
    v
}

fn corpus(suffix: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in ["qmp-none", "qmp-pc-tcg", "qmp-extra"] {
        for path in shared_files(&format!("corpus/qemu-7.2/{dir}"), suffix) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.contains("session") || name.contains("qmp-schema") {
                continue;
            }
            out.push(std::fs::read(path).unwrap());
        }
    }
    out
}

/// Drive a client over `input` with random calls in between; how many
/// replies it matched to commands.
fn run_client(rng: &mut Rng, input: &[u8]) -> usize {
    let mut matched = 0;
    const N: usize = 4;
    let mut frame = vec![0u8; 16 + rng.below(4096)];
    let mut client = Client::<N>::new(&mut frame);
    let mut out = vec![0u8; rng.below(300)];
    let mut rest = input;
    let mut stalls = 0;
    while !rest.is_empty() {
        let n = 1 + rng.below(rest.len().min(700));
        // Feeding assigns no ids.
        let next_id = client.next_id();
        let r = client.feed(&rest[..n]);
        assert!(r.consumed <= n);
        stalls = if r.consumed == 0 { stalls + 1 } else { 0 };
        assert!(stalls < 2, "no progress");
        let id_ok = |id: u64| id < next_id;
        let greeted = matches!(r.event, ClientEvent::Greeting(_));
        match r.event {
            ClientEvent::Return { id, .. }
            | ClientEvent::Error { id, .. }
            | ClientEvent::Late { id, .. } => {
                assert!(id_ok(id));
                matched += 1;
            }
            ClientEvent::TooLarge { id: Some(id), .. } => assert!(id_ok(id)),
            _ => {}
        }
        rest = &rest[r.consumed..];
        if greeted && rng.chance(90) {
            let _ = client.negotiate(rng.chance(50), &mut out);
        }
        match rng.below(12) {
            0 => {
                let _ = client.negotiate(rng.chance(50), &mut out);
            }
            1..=3 => {
                let mut opts = SendOptions::new();
                opts.oob = rng.chance(30);
                opts.anonymous = rng.chance(30);
                if rng.chance(50) {
                    opts = opts.deadline(rng.below(100) as u64);
                }
                let args = Json::parse(br#"{"a": [1, "\u00e9"]}"#).unwrap();
                let args: Option<&dyn qwire::json::Encode> =
                    if rng.chance(50) { Some(&args) } else { None };
                if let Ok(sent) = client.send_raw("query-status", args, opts, &mut out) {
                    assert!(sent.len <= out.len());
                    Json::parse(&out[..sent.len]).expect("a command is one JSON value");
                }
            }
            4 => {
                let id = rng.below(client.next_id() as usize + 2) as u64;
                client.abandon(id);
            }
            5 => while client.expire(rng.below(120) as u64).is_some() {},
            6 if rng.chance(10) => {
                client.finish();
            }
            7 if rng.chance(5) => client.reset(),
            _ => {}
        }
        assert!(client.in_flight() <= N);
        let ids: Vec<u64> = client.outstanding().map(|o| o.id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let _ = client.next_deadline();
    }
    client.finish();
    matched
}

/// Drive a server over `input`, checking every output; how many commands
/// reached the handler.
fn run_server(rng: &mut Rng, input: &[u8]) -> usize {
    let mut machine = Machine::none();
    let mut frame = vec![0u8; 8 + rng.below(8192)];
    let version = machine.version_ref();
    let mut server = Server::new(&mut frame, version, rng.chance(70));
    let mut rest = input;
    let mut stalls = 0;
    let mut greetings = 0;
    while !rest.is_empty() {
        let mut out = vec![0u8; rng.below(4096)];
        let n = 1 + rng.below(rest.len().min(500));
        let before = server.state();
        let step = server.feed(&rest[..n], &mut out, &mut machine);
        assert!(step.consumed <= n && step.written <= out.len());
        stalls = if step.consumed == 0 { stalls + 1 } else { 0 };
        assert!(stalls < 2, "no progress");
        check_output(&out[..step.written], before, server.state(), &mut greetings);
        rest = &rest[step.consumed..];
        if rng.chance(5) {
            let mut out = vec![0u8; rng.below(200)];
            let before = server.state();
            match server.event("X", None, Timestamp::default(), &mut out) {
                Ok(n) => {
                    assert_eq!(before, ServerState::Command);
                    check_output(&out[..n], before, before, &mut greetings);
                }
                Err(_) => assert!(before != ServerState::Command || out.len() < 70),
            }
        }
        if rng.chance(2) {
            server.reset();
            greetings = 0;
        }
    }
    machine.calls.len()
}

/// Whole messages, each an ASCII JSON object followed by CR LF; a greeting
/// only first; events only once negotiated.
fn check_output(out: &[u8], before: ServerState, after: ServerState, greetings: &mut usize) {
    assert!(out.iter().all(|&b| b < 0x80), "non-ASCII output");
    if out.is_empty() {
        return;
    }
    assert!(out.ends_with(b"\r\n"), "{}", String::from_utf8_lossy(out));
    for line in out[..out.len() - 2].split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let v =
            Json::parse(line).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(line)));
        assert_eq!(v.kind(), qwire::json::Kind::Object);
        if v.get("QMP").is_some() {
            assert_eq!(before, ServerState::Greeting);
            *greetings += 1;
            assert_eq!(*greetings, 1);
        }
        if v.get("event").is_some() {
            assert_eq!(after, ServerState::Command, "event before negotiation");
        }
    }
}

#[test]
fn client_survives_anything() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let streams = corpus(".s2c.bin");
    let mut matched = 0;
    for _ in 0..150 {
        let n = rng.below(3000);
        let bytes = random_bytes(&mut rng, n);
        run_client(&mut rng, &bytes);
        let base = rng.pick(&streams).clone();
        // A greeting first, so the later states are reached too.
        let mut input = streams[0].clone();
        input.extend_from_slice(b"{\"return\": {}}\r\n");
        input.extend(mutate(&mut rng, &base));
        matched += run_client(&mut rng, &input);
        let mut soup = streams[0].clone();
        soup.extend_from_slice(b"{\"return\": {}, \"id\": 0}\r\n");
        soup.extend(server_soup(&mut rng));
        matched += run_client(&mut rng, &soup);
    }
    // The random calls did reach the session's later states.
    assert!(matched > 40, "{matched}");
}

#[test]
fn server_survives_anything() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let streams = corpus(".c2s.bin");
    let mut calls = 0;
    let caps = br#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#;
    for _ in 0..150 {
        let n = rng.below(3000);
        let bytes = random_bytes(&mut rng, n);
        run_server(&mut rng, &bytes);
        let mut input = caps.to_vec();
        let base = rng.pick(&streams).clone();
        input.extend(mutate(&mut rng, &base));
        calls += run_server(&mut rng, &input);
        let mut soup = if rng.chance(80) {
            caps.to_vec()
        } else {
            Vec::new()
        };
        soup.extend(client_soup(&mut rng));
        let soup = mutate(&mut rng, &soup);
        calls += run_server(&mut rng, &soup);
    }
    assert!(calls > 200, "{calls}");
}
