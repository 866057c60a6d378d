//! No panic on arbitrary bytes, for the QGA agent and the sync client, and
//! the invariants that must hold whatever comes in. Deterministic: proptest
//! runs from a fixed seed (and keeps no failure files), and the mutation
//! loops use the seeded generator of `qga_relay`.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use qwire::qga::{Agent, Event, State, SyncClient};
use qwire_tests::qga_relay::{FileHandler, Rng, LINE_SAFE_JUNK, NASTY_JUNK};

/// Pieces of client→agent traffic, valid and not.
const VOCABULARY: &[&[u8]] = &[
    b"{\"execute\":\"guest-sync\",\"arguments\":{\"id\":1}}",
    b"{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":-9223372036854775808},\"id\":[{}]}",
    b"{'execute':'guest-ping','id':'\\u00e9'}",
    b"{\"execute\":\"guest-info\"}",
    b"{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"/a\",\"mode\":\"w\"}}",
    b"{\"execute\":\"guest-file-write\",\"arguments\":{\"handle\":1000,\"buf-b64\":\"AAEC\"}}",
    b"{\"execute\":\"guest-file-read\",\"arguments\":{\"handle\":1000,\"count\":99999999}}",
    b"{\"execute\":\"guest-file-seek\",\"arguments\":{\"handle\":1000,\"offset\":-5,\"whence\":\"end\"}}",
    b"{\"execute\":\"guest-shutdown\"}",
    b"{\"exec-oob\":\"guest-ping\"}",
    b"{\"execute\":1}",
    b"{\"execute\":\"x\",\"arguments\":[]}",
    b"{\"id\":-0.5e-300}",
    b"[[[[[[[[[[[[[[[[[[[[",
    b"]]]]}}}}",
    b"\xff",
    b"\xfe",
    b"\x00",
    b"\n",
    b"   ",
    b"\"\\ud800\"",
    b"1234567890123456789012345678901234567890",
    b"nul",
];

fn agent_invariants(input: &[u8], cuts: &[usize], in_cap: usize) -> Vec<u8> {
    let mut i = vec![0u8; in_cap.max(1)];
    let mut o = vec![0u8; qwire::dispatch::MIN_OUTPUT];
    let mut agent = Agent::new(&mut i, &mut o, "p").unwrap();
    let mut h = FileHandler::default();
    let mut all = Vec::new();
    let mut at = 0;
    let mut k = 0;
    let mut calls = 0usize;
    while at < input.len() {
        let n = cuts.get(k % cuts.len().max(1)).copied().unwrap_or(1).max(1);
        k += 1;
        let mut rest = &input[at..(at + n).min(input.len())];
        at += rest.len();
        while !rest.is_empty() {
            calls += 1;
            assert!(calls <= 2 * input.len() + 8, "no progress");
            let step = agent.feed(rest, &mut h);
            assert!(step.consumed <= rest.len());
            let r = step.reply;
            if !r.is_empty() {
                // One message, one `\n`, pure ASCII but for a leading 0xFF.
                assert_eq!(r.iter().filter(|&&b| b == b'\n').count(), 1);
                assert!(r.ends_with(b"\n"));
                let body = r.strip_prefix(b"\xff").unwrap_or(r);
                assert!(body.is_ascii(), "{r:?}");
                let v: serde_json::Value = serde_json::from_slice(body).expect("reply is JSON");
                let o = v.as_object().expect("reply is an object");
                assert!(o.contains_key("return") ^ o.contains_key("error"), "{v}");
                if r[0] == 0xff {
                    assert!(v["return"].is_i64(), "{v}");
                }
            }
            all.extend_from_slice(r);
            rest = &rest[step.consumed..];
        }
    }
    all
}

/// Drive a client over `input` with API calls chosen by `ops`; check the
/// state machine's promises.
fn client_invariants(input: &[u8], cuts: &[usize], ops: &[u8], cap: usize) {
    let mut rx = vec![0u8; cap];
    let mut c = SyncClient::new(&mut rx);
    let mut tx = [0u8; 512];
    let mut at = 0;
    let mut k = 0;
    while at < input.len() {
        match ops.get(k % ops.len().max(1)).copied().unwrap_or(0) % 8 {
            0 => {
                let _ = c.sync(k as i64 % 3, &mut tx);
            }
            1 => c.timeout(),
            2 => c.disconnected(),
            3 => {
                let r = c.send::<qwire::qga::schema::GuestPing>(&Default::default(), &mut tx);
                if r.is_ok() {
                    assert!(matches!(c.state(), State::Waiting { .. }));
                }
            }
            4 => {
                let _ = c.send_raw("guest-shutdown", None, false, &mut tx);
            }
            _ => {}
        }
        let n = cuts.get(k % cuts.len().max(1)).copied().unwrap_or(1).max(1);
        k += 1;
        let mut rest = &input[at..(at + n).min(input.len())];
        at += rest.len();
        while !rest.is_empty() {
            let before = c.state();
            let fed = c.feed(rest);
            assert!(fed.consumed <= rest.len());
            let consumed = fed.consumed;
            match fed.event {
                Event::Synced { id } => {
                    assert_eq!(before, State::Syncing { id, sentinel: true });
                }
                Event::Reply(_) => assert!(matches!(before, State::Waiting { .. })),
                _ => {}
            }
            // feed() only ever moves forward: the agent's 0xFF while
            // syncing, then synced; or a reply completing a command.
            let after = c.state();
            match (before, after) {
                (a, b) if a == b => {}
                (
                    State::Syncing {
                        id,
                        sentinel: false,
                    },
                    State::Syncing {
                        id: j,
                        sentinel: true,
                    },
                ) => {
                    assert_eq!(id, j)
                }
                (State::Syncing { sentinel: true, .. } | State::Waiting { .. }, State::Ready) => {}
                other => panic!("feed moved the client {other:?}"),
            }
            rest = &rest[consumed..];
        }
    }
}

fn config() -> Config {
    Config {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x51ee_d0c0_ffee),
        failure_persistence: None,
        ..Config::default()
    }
}

fn vocabulary_stream() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => (0..VOCABULARY.len()).prop_map(|i| VOCABULARY[i].to_vec()),
            1 => (0..NASTY_JUNK.len()).prop_map(|i| NASTY_JUNK[i].to_vec()),
            1 => (0..LINE_SAFE_JUNK.len()).prop_map(|i| LINE_SAFE_JUNK[i].to_vec()),
            1 => prop::collection::vec(any::<u8>(), 0..8),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn agent_never_panics_on_arbitrary_bytes(
        input in prop::collection::vec(any::<u8>(), 0..600),
        cuts in prop::collection::vec(1usize..40, 1..6),
        cap in prop_oneof![Just(1usize), 8usize..64, Just(4096usize)],
    ) {
        agent_invariants(&input, &cuts, cap);
    }

    #[test]
    fn agent_never_panics_on_near_valid_streams(
        input in vocabulary_stream(),
        cuts in prop::collection::vec(1usize..40, 1..6),
        cap in prop_oneof![16usize..128, Just(4096usize)],
    ) {
        agent_invariants(&input, &cuts, cap);
    }

    #[test]
    fn client_never_panics_on_arbitrary_bytes(
        input in prop::collection::vec(any::<u8>(), 0..600),
        cuts in prop::collection::vec(1usize..40, 1..6),
        ops in prop::collection::vec(any::<u8>(), 1..8),
        cap in prop_oneof![Just(0usize), 1usize..64, Just(4096usize)],
    ) {
        client_invariants(&input, &cuts, &ops, cap);
    }

    #[test]
    fn client_never_panics_on_agent_output(
        input in vocabulary_stream(),
        junk in prop::collection::vec(any::<u8>(), 0..32),
        cuts in prop::collection::vec(1usize..40, 1..6),
        ops in prop::collection::vec(any::<u8>(), 1..8),
    ) {
        // What an agent says to near-valid input, with junk and replies
        // that could match the client's ids.
        let mut stream = agent_invariants(&input, &[7], 4096);
        stream.extend_from_slice(&junk);
        stream.extend_from_slice(b"\xff{\"return\": 0}\n{\"return\": {}, \"id\": 1}\n{\"error\": {}, \"id\": 2}\n");
        client_invariants(&stream, &cuts, &ops, 256);
    }
}

/// Byte mutations (flip, insert, delete, 0xFF) of a valid exchange, from a
/// seeded generator: neither side panics, and the agent keeps answering.
#[test]
fn mutated_exchanges() {
    let base: Vec<u8> = VOCABULARY[..9].concat();
    let mut rng = Rng::new(4);
    for _ in 0..400 {
        let mut input = base.clone();
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(input.len() + 1);
            match rng.below(4) {
                0 if at < input.len() => input[at] ^= 1 << rng.below(8),
                1 => input.insert(at, rng.next_u64() as u8),
                2 if at < input.len() => {
                    input.remove(at);
                }
                _ => input.insert(at, 0xff),
            }
        }
        let out = agent_invariants(&input, &[1 + rng.below(50)], 1 + rng.below(300));
        client_invariants(&out, &[1 + rng.below(50)], &[rng.below(8) as u8, 5, 5], 128);
    }
}
