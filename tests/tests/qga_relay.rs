//! qwire's sync client driving qwire's agent through the seeded
//! fault-injecting relay (tests/src/qga_relay.rs): pieces of 1..=N bytes,
//! stale replies, half replies, garbage and junk lines before the agent's
//! lines, half requests before each sync. Every result must be right, on
//! every seed.

use qwire::codec::{decode_return, Decode, Mode};
use qwire::qga::schema::{
    GuestAgentInfo, GuestFileClose, GuestFileCloseArgs, GuestFileOpen, GuestFileOpenArgs,
    GuestFileReadArgs, GuestFileReadCommand, GuestFileSeekArgs, GuestFileSeekCommand,
    GuestFileWriteArgs, GuestFileWriteCommand, GuestGetTime, GuestInfo, GuestPing, GuestShutdown,
    GuestSync, GuestSyncArgs,
};
use qwire::qga::{Agent, State, SyncClient};
use qwire_tests::qga_relay::{
    base64_decode, base64_encode, AgentPeer, Driver, FileHandler, Outcome, Relay, Rng,
};

fn retry<P: qwire_tests::qga_relay::Peer>(
    d: &mut Driver<P>,
    c: &mut SyncClient<'_>,
    id: &mut i64,
    write: impl Fn(&mut SyncClient<'_>, &mut [u8]) -> Result<qwire::qga::Sent, qwire::qga::SendError>,
) -> Outcome {
    let (outcome, timeouts) = d.run_retrying(c, id, 3, write);
    assert_eq!(timeouts, 0, "line-safe junk never costs a timeout");
    outcome
}

#[test]
fn every_result_is_right_through_the_relay() {
    for seed in 0..40u64 {
        let (mut i, mut o) = ([0u8; 16384], [0u8; 16384]);
        let agent = Agent::new(&mut i, &mut o, "qwire-test").unwrap();
        let mut relay = Relay::new(seed);
        relay.max_piece = 1 + (seed as usize % 23);
        relay.inject_one_in = 1 + (seed as usize % 3);
        let mut d = Driver::new(AgentPeer::new(agent, FileHandler::default()), relay);
        let mut rx = vec![0u8; 16384];
        let mut c = SyncClient::new(&mut rx);
        let mut rng = Rng::new(seed ^ 0xabc);
        let mut id = (seed as i64) * 1000;
        // Half a request of an earlier client in the agent.
        qwire_tests::qga_relay::Peer::send(&mut d.peer, b"{\"execute\": \"guest-file-wr");

        let len = 1 + rng.below(3000);
        let data = rng.bytes(len);
        let r = retry(&mut d, &mut c, &mut id, |c, tx| {
            c.send::<GuestFileOpen>(
                &GuestFileOpenArgs {
                    path: "/f".try_into().unwrap(),
                    mode: Some("w+".try_into().unwrap()),
                },
                tx,
            )
        });
        let handle = decode_return::<GuestFileOpen>(r.json(), Mode::Lenient).unwrap();
        assert_eq!(handle, 1000);
        let write = GuestFileWriteArgs {
            handle,
            buf_b64: base64_encode(&data).as_str().try_into().unwrap(),
            count: None,
        };
        let r = retry(&mut d, &mut c, &mut id, |c, tx| {
            c.send::<GuestFileWriteCommand>(&write, tx)
        });
        let w = decode_return::<GuestFileWriteCommand>(r.json(), Mode::Lenient).unwrap();
        assert_eq!(w.count, data.len() as i64);

        for k in 0..15i64 {
            match rng.below(5) {
                0 => {
                    let want = rng.next_u64() as i64;
                    let r = retry(&mut d, &mut c, &mut id, |c, tx| {
                        c.send::<GuestSync>(&GuestSyncArgs { id: want }, tx)
                    });
                    assert_eq!(
                        decode_return::<GuestSync>(r.json(), Mode::Lenient),
                        Ok(want)
                    );
                }
                1 => {
                    let r = retry(&mut d, &mut c, &mut id, |c, tx| {
                        c.send::<GuestPing>(&Default::default(), tx)
                    });
                    assert_eq!(r, Outcome::Return(b"{}".to_vec()));
                }
                2 => {
                    d.peer.handler.clock = k * 1_000_000_007;
                    let r = retry(&mut d, &mut c, &mut id, |c, tx| {
                        c.send::<GuestGetTime>(&Default::default(), tx)
                    });
                    assert_eq!(
                        decode_return::<GuestGetTime>(r.json(), Mode::Lenient),
                        Ok(k * 1_000_000_007)
                    );
                }
                3 => {
                    // Read back a random slice of the file.
                    let from = rng.below(data.len());
                    let count = rng.below(data.len() + 1);
                    let seek = GuestFileSeekArgs {
                        handle,
                        offset: from as i64,
                        whence: 0,
                    };
                    let r = retry(&mut d, &mut c, &mut id, |c, tx| {
                        c.send::<GuestFileSeekCommand>(&seek, tx)
                    });
                    let s = decode_return::<GuestFileSeekCommand>(r.json(), Mode::Lenient);
                    assert_eq!(s.unwrap().position, from as i64);
                    let read = GuestFileReadArgs {
                        handle,
                        count: Some(count as i64),
                    };
                    let r = retry(&mut d, &mut c, &mut id, |c, tx| {
                        c.send::<GuestFileReadCommand>(&read, tx)
                    });
                    let got =
                        decode_return::<GuestFileReadCommand>(r.json(), Mode::Lenient).unwrap();
                    let want = &data[from..(from + count).min(data.len())];
                    assert_eq!(base64_decode(got.buf_b64.as_str()).unwrap(), want);
                }
                _ => {
                    let r = retry(&mut d, &mut c, &mut id, |c, tx| {
                        c.send_raw("guest-x-unknown", None, true, tx)
                    });
                    assert_eq!(
                        r,
                        Outcome::Error {
                            class: "CommandNotFound".into(),
                            desc: "The command guest-x-unknown has not been found".into()
                        }
                    );
                }
            }
        }
        // guest-info through the relay decodes and lists the handler.
        let r = retry(&mut d, &mut c, &mut id, |c, tx| {
            c.send::<GuestInfo>(&Default::default(), tx)
        });
        let mut info = Box::<GuestAgentInfo>::default();
        info.decode_into(r.json(), Mode::Lenient).unwrap();
        assert_eq!(info.version.as_str(), "qwire-test");
        assert_eq!(info.supported_commands.len(), 4 + 7);

        // A success-response: false command completes when sent; its
        // failure arrives later and is reported as such, not as the next
        // command's reply.
        let r = retry(&mut d, &mut c, &mut id, |c, tx| {
            c.send::<GuestShutdown>(&Default::default(), tx)
        });
        assert_eq!(r, Outcome::NoReply);
        assert_eq!(c.state(), State::Ready);
        let r = retry(&mut d, &mut c, &mut id, |c, tx| {
            c.send::<GuestPing>(&Default::default(), tx)
        });
        assert_eq!(r, Outcome::Return(b"{}".to_vec()));
        assert_eq!(d.late_errors.len(), 1, "{:?}", d.late_errors);
        assert!(d.late_errors[0].contains("has not been found"));

        let r = retry(&mut d, &mut c, &mut id, |c, tx| {
            c.send::<GuestFileClose>(&GuestFileCloseArgs { handle }, tx)
        });
        assert_eq!(r, Outcome::Return(b"{}".to_vec()));
        assert!(d.relay.injected > 0, "seed {seed}");
    }
}

/// A reply swallowed by a fragment: the in-process agent has nothing
/// more to say, which the driver reports as the caller's timeout; the
/// client resyncs and the retried command succeeds.
#[test]
fn swallowed_reply_costs_one_timeout() {
    let (mut i, mut o) = ([0u8; 1024], [0u8; 4096]);
    let agent = Agent::new(&mut i, &mut o, "x").unwrap();
    let mut d = Driver::new(AgentPeer::new(agent, FileHandler::default()), Relay::new(9));
    let mut rx = [0u8; 1024];
    let mut c = SyncClient::new(&mut rx);
    assert_eq!(d.sync(&mut c, 1), Outcome::Synced(1));
    d.relay.swallow_next();
    let mut id = 1;
    let (r, timeouts) = d.run_retrying(&mut c, &mut id, 3, |c, tx| {
        c.send::<GuestSync>(&GuestSyncArgs { id: 77 }, tx)
    });
    assert_eq!((r, timeouts, id), (Outcome::Return(b"77".to_vec()), 1, 2));
}
