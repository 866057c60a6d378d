//! qwire's QGA sync client against a real qemu-ga 7.2, started by each test
//! through the locked-down harness (`QemuGa::start`: RPCs outside the
//! allow-list blocked, running as `nobody`, behind the guest-info gate,
//! ended by pid). Only allowed, harmless RPCs are sent, plus the blocked
//! read-only `guest-get-disks` for the error case.

use std::io::Write;
use std::time::Duration;

use qwire::codec::{decode_return, Decode, Mode};
use qwire::dispatch::ErrorClass;
use qwire::json::Json;
use qwire::qga::schema::{
    GuestAgentInfo, GuestFileClose, GuestFileCloseArgs, GuestFileOpen, GuestFileOpenArgs,
    GuestFileReadArgs, GuestFileReadCommand, GuestFileSeekArgs, GuestFileSeekCommand,
    GuestFileWriteArgs, GuestFileWriteCommand, GuestGetTime, GuestGetVcpus, GuestInfo,
    GuestNetworkGetInterfaces, GuestPing, GuestSync, GuestSyncArgs,
};
use qwire::qga::{State, SyncClient};
use qwire_tests::peers::{QemuGa, QGA_ALLOW};
use qwire_tests::qga_relay::{base64_decode, base64_encode, Driver, Outcome, Relay, SocketPeer};

/// A client buffer large enough for every allowed reply (guest-info is
/// 3.2 KB, network interfaces about 1 KB per interface).
const RX: usize = 64 * 1024;

fn driver(ga: &QemuGa, relay: Relay) -> Driver<SocketPeer> {
    Driver::new(SocketPeer::new(ga.connect(), Duration::from_secs(5)), relay)
}

/// Leave half a request in the agent's parser from a connection of its own
/// (qemu-ga keeps parser state across connections).
fn dirty(ga: &QemuGa) {
    let mut s = ga.connect();
    s.write_all(b"{\"execute\": \"guest-sy").unwrap();
    drop(s);
    // qemu-ga reads the bytes before it notices the close.
    std::thread::sleep(Duration::from_millis(50));
}

#[test]
fn syncs_on_a_dirty_channel_and_runs_typed_commands() {
    let ga = QemuGa::start();
    dirty(&ga);
    let mut d = driver(&ga, Relay::transparent());
    let mut rx = vec![0u8; RX];
    let mut c = SyncClient::new(&mut rx);
    assert_eq!(
        d.sync(&mut c, 0x1234_5678_9abc),
        Outcome::Synced(0x1234_5678_9abc)
    );
    // The agent's parse error for half a request + our 0xFF was discarded.
    assert!(d.discarded >= 1, "discarded {}", d.discarded);
    assert_eq!(c.state(), State::Ready);

    // guest-ping
    let r = d.run(&mut c, |c, tx| c.send::<GuestPing>(&Default::default(), tx));
    decode_return::<GuestPing>(r.json(), Mode::Lenient).expect("{}");

    // guest-info: the allow-list exactly, the rest disabled.
    let r = d.run(&mut c, |c, tx| c.send::<GuestInfo>(&Default::default(), tx));
    let mut info = Box::<GuestAgentInfo>::default();
    info.decode_into(r.json(), Mode::Lenient).unwrap();
    assert!(info.version.as_str().starts_with("7.2"), "{}", info.version);
    let mut enabled: Vec<&str> = info
        .supported_commands
        .iter()
        .filter(|c| c.enabled)
        .map(|c| c.name.as_str())
        .collect();
    enabled.sort();
    let mut allow = QGA_ALLOW.to_vec();
    allow.sort();
    assert_eq!(enabled, allow);
    assert!(info.supported_commands.len() >= 40);
    let shutdown = info
        .supported_commands
        .iter()
        .find(|c| c.name.as_str() == "guest-shutdown")
        .expect("guest-shutdown listed");
    assert!(!shutdown.enabled && !shutdown.success_response);

    // guest-get-time: nanoseconds since the epoch, close to ours.
    let r = d.run(&mut c, |c, tx| {
        c.send::<GuestGetTime>(&Default::default(), tx)
    });
    let ns = decode_return::<GuestGetTime>(r.json(), Mode::Lenient).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    assert!(
        (ns - now).abs() < 60_000_000_000,
        "agent {ns} vs host {now}"
    );

    // guest-get-vcpus: one entry per CPU of this host, unique ids from 0.
    let r = d.run(&mut c, |c, tx| {
        c.send::<GuestGetVcpus>(&Default::default(), tx)
    });
    let vcpus = decode_return::<GuestGetVcpus>(r.json(), Mode::Lenient).unwrap();
    let mut ids: Vec<i64> = vcpus.iter().map(|v| v.logical_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), vcpus.len(), "logical ids are unique");
    assert_eq!(ids.first(), Some(&0));
    assert!(vcpus.iter().any(|v| v.online));

    // guest-network-get-interfaces: decodes (leniently: 7.2 adds
    // statistics), `lo` is there with 127.0.0.1/8; every interface the
    // raw reply names is decoded.
    let r = d.run(&mut c, |c, tx| {
        c.send::<GuestNetworkGetInterfaces>(&Default::default(), tx)
    });
    let raw = qwire_tests::sj(&qwire_tests::encode(&r.json()));
    let ifaces = decode_return::<GuestNetworkGetInterfaces>(r.json(), Mode::Lenient)
        .expect("interfaces decode");
    assert_eq!(ifaces.len(), raw.as_array().unwrap().len());
    let lo = ifaces
        .iter()
        .find(|i| i.name.as_str() == "lo")
        .expect("lo listed");
    let addrs = lo.ip_addresses.as_ref().expect("lo has addresses");
    assert!(addrs
        .iter()
        .any(|a| a.ip_address.as_str() == "127.0.0.1" && a.prefix == 8));
}

#[test]
fn file_round_trip_and_errors() {
    let ga = QemuGa::start();
    let mut d = driver(&ga, Relay::transparent());
    let mut rx = vec![0u8; RX];
    let mut c = SyncClient::new(&mut rx);
    assert_eq!(d.sync(&mut c, -42), Outcome::Synced(-42));

    let path = ga.scratch_dir().join("qwire-file.bin");
    let open = GuestFileOpenArgs {
        path: path.to_str().unwrap().try_into().unwrap(),
        mode: Some("w+".try_into().unwrap()),
    };
    let r = d.run(&mut c, |c, tx| c.send::<GuestFileOpen>(&open, tx));
    let handle = decode_return::<GuestFileOpen>(r.json(), Mode::Lenient).unwrap();
    assert!(handle >= 1000, "{handle}");

    let data: Vec<u8> = b"hello from qwire\n\x00\xff\xfe binary \"quoted\" \xe2\x82\xac\n"
        .iter()
        .copied()
        .chain((0..=255u8).rev())
        .collect();
    let write = GuestFileWriteArgs {
        handle,
        buf_b64: base64_encode(&data).as_str().try_into().unwrap(),
        count: None,
    };
    let r = d.run(&mut c, |c, tx| c.send::<GuestFileWriteCommand>(&write, tx));
    let w = decode_return::<GuestFileWriteCommand>(r.json(), Mode::Lenient).unwrap();
    assert_eq!(w.count, data.len() as i64);
    assert!(!w.eof);

    let seek = GuestFileSeekArgs {
        handle,
        offset: 0,
        whence: 0,
    };
    let r = d.run(&mut c, |c, tx| c.send::<GuestFileSeekCommand>(&seek, tx));
    let s = decode_return::<GuestFileSeekCommand>(r.json(), Mode::Lenient).unwrap();
    assert_eq!((s.position, s.eof), (0, false));

    let read = GuestFileReadArgs {
        handle,
        count: Some(4096),
    };
    let r = d.run(&mut c, |c, tx| c.send::<GuestFileReadCommand>(&read, tx));
    let got = decode_return::<GuestFileReadCommand>(r.json(), Mode::Lenient).unwrap();
    assert_eq!(got.count, data.len() as i64);
    assert!(got.eof);
    assert_eq!(base64_decode(got.buf_b64.as_str()).unwrap(), data);
    // The agent really wrote the file (as nobody, in the scratch dir).
    assert_eq!(std::fs::read(&path).unwrap(), data);

    // Seek into the middle and read 5 bytes.
    let seek = GuestFileSeekArgs {
        handle,
        offset: 6,
        whence: 0,
    };
    d.run(&mut c, |c, tx| c.send::<GuestFileSeekCommand>(&seek, tx));
    let read5 = GuestFileReadArgs {
        handle,
        count: Some(5),
    };
    let r = d.run(&mut c, |c, tx| c.send::<GuestFileReadCommand>(&read5, tx));
    let got = decode_return::<GuestFileReadCommand>(r.json(), Mode::Lenient).unwrap();
    assert_eq!(base64_decode(got.buf_b64.as_str()).unwrap(), b"from ");
    assert!(!got.eof);

    let close = GuestFileCloseArgs { handle };
    let r = d.run(&mut c, |c, tx| c.send::<GuestFileClose>(&close, tx));
    decode_return::<GuestFileClose>(r.json(), Mode::Lenient).unwrap();

    // A closed handle and a missing file are the agent's errors.
    let r = d.run(&mut c, |c, tx| c.send::<GuestFileReadCommand>(&read, tx));
    assert_eq!(
        r,
        Outcome::Error {
            class: "GenericError".into(),
            desc: format!("handle '{handle}' has not been found"),
        }
    );
    let missing = GuestFileOpenArgs {
        path: ga
            .scratch_dir()
            .join("missing.txt")
            .to_str()
            .unwrap()
            .try_into()
            .unwrap(),
        mode: None,
    };
    let r = d.run(&mut c, |c, tx| c.send::<GuestFileOpen>(&missing, tx));
    match r {
        Outcome::Error { class, desc } => {
            assert_eq!(class, "GenericError");
            assert!(desc.contains("No such file or directory"), "{desc}");
        }
        other => panic!("{other:?}"),
    }
    // A wrongly typed argument, sent raw: QEMU's wording.
    let r = d.run(&mut c, |c, tx| {
        let args = Json::parse(br#"{"handle": "x"}"#).unwrap();
        c.send_raw("guest-file-close", Some(&args), true, tx)
    });
    assert_eq!(
        r,
        Outcome::Error {
            class: "GenericError".into(),
            desc: "Invalid parameter type for 'handle', expected: integer".into(),
        }
    );
}

#[test]
fn blocked_and_unknown_commands_are_command_not_found() {
    let ga = QemuGa::start();
    let mut d = driver(&ga, Relay::transparent());
    let mut rx = vec![0u8; RX];
    let mut c = SyncClient::new(&mut rx);
    assert_eq!(d.sync(&mut c, 7), Outcome::Synced(7));
    // guest-get-disks is read-only, and blocked by the harness.
    let r = d.run(&mut c, |c, tx| {
        c.send_raw("guest-get-disks", None, true, tx)
    });
    assert_eq!(
        r,
        Outcome::Error {
            class: "CommandNotFound".into(),
            desc: "Command guest-get-disks has been disabled".into(),
        }
    );
    // Check the class through the client's own error type as well.
    let mut tx = [0u8; 128];
    let sent = c
        .send_raw("guest-x-no-such-command", None, true, &mut tx)
        .unwrap();
    d.peer.stream.write_all(&tx[..sent.len]).unwrap();
    let mut seen = false;
    while !seen {
        let bytes = qwire_tests::qga_relay::Peer::recv(&mut d.peer).expect("reply");
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let fed = c.feed(rest);
            if let qwire::qga::Event::Reply(Err(e)) = fed.event {
                assert!(e.is(ErrorClass::CommandNotFound));
                assert_eq!(
                    e.to_string(),
                    "CommandNotFound: The command guest-x-no-such-command has not been found"
                );
                seen = true;
            }
            rest = &rest[fed.consumed..];
        }
    }
}

#[test]
fn too_large_reply_completes_the_command_and_the_stream_stays_usable() {
    let ga = QemuGa::start();
    let mut d = driver(&ga, Relay::transparent());
    // guest-info is 3.2 KB: too large for a 1 KiB client buffer.
    let mut rx = vec![0u8; 1024];
    let mut c = SyncClient::new(&mut rx);
    assert_eq!(d.sync(&mut c, 99), Outcome::Synced(99));
    let r = d.run(&mut c, |c, tx| c.send::<GuestInfo>(&Default::default(), tx));
    match r {
        Outcome::TooLarge(len) => assert!(len > 2048, "{len}"),
        other => panic!("{other:?}"),
    }
    let r = d.run(&mut c, |c, tx| c.send::<GuestPing>(&Default::default(), tx));
    assert_eq!(r, Outcome::Return(b"{}".to_vec()));
}

/// The fault-injecting relay between the client and the real qemu-ga:
/// pieces of 1..=N bytes with pauses, stale replies, half replies, garbage
/// and junk lines before the agent's lines, half requests before each
/// sync. Every result is still right.
#[test]
fn fault_injecting_relay_to_the_real_agent() {
    let ga = QemuGa::start();
    dirty(&ga);
    for seed in [1u64, 2, 3] {
        let mut relay = Relay::new(seed);
        relay.max_piece = 1 + seed as usize * 7;
        relay.max_pause_us = 300;
        let mut d = driver(&ga, relay);
        let mut rx = vec![0u8; RX];
        let mut c = SyncClient::new(&mut rx);
        let mut id = (seed as i64) << 40;
        for k in 0..12i64 {
            let (r, timeouts) = d.run_retrying(&mut c, &mut id, 3, |c, tx| {
                c.send::<GuestSync>(&GuestSyncArgs { id: 1000 + k }, tx)
            });
            assert_eq!(timeouts, 0);
            assert_eq!(r, Outcome::Return((1000 + k).to_string().into_bytes()));
            let (r, _) = d.run_retrying(&mut c, &mut id, 3, |c, tx| {
                c.send::<GuestPing>(&Default::default(), tx)
            });
            assert_eq!(r, Outcome::Return(b"{}".to_vec()));
        }
        assert!(d.relay.injected > 5, "seed {seed}: {}", d.relay.injected);
        assert!(d.discarded > 5, "seed {seed}: {}", d.discarded);
        // Each seed's connection closes here; the next one resyncs.
    }
}

/// A fragment that swallows the agent's reply (inside a string, no line
/// end): the client cannot see the reply, the caller's timeout fires, the
/// client resyncs, and the retried command succeeds.
#[test]
fn swallowed_reply_recovers_by_timeout_and_resync() {
    let ga = QemuGa::start();
    let mut d = driver(&ga, Relay::transparent());
    let mut rx = vec![0u8; RX];
    let mut c = SyncClient::new(&mut rx);
    assert_eq!(d.sync(&mut c, 500), Outcome::Synced(500));
    d.relay.swallow_next();
    // The caller's deadline: short here, since the reply cannot be seen
    // however soon it comes.
    let patience = |d: &mut Driver<SocketPeer>, ms| {
        d.peer
            .stream
            .set_read_timeout(Some(Duration::from_millis(ms)))
            .unwrap()
    };
    patience(&mut d, 300);
    let r = d.run(&mut c, |c, tx| {
        c.send::<GuestGetTime>(&Default::default(), tx)
    });
    assert_eq!(r, Outcome::TimedOut);
    assert_eq!(c.state(), State::NeedSync);
    assert!(c
        .send::<GuestGetTime>(&Default::default(), &mut [0u8; 128])
        .is_err());
    patience(&mut d, 5000);
    assert_eq!(d.sync(&mut c, 501), Outcome::Synced(501));
    let r = d.run(&mut c, |c, tx| {
        c.send::<GuestGetTime>(&Default::default(), tx)
    });
    assert!(decode_return::<GuestGetTime>(r.json(), Mode::Lenient).unwrap() > 0);
}
