//! The `embedded-io` drivers (`qwire::qmp::io`, blocking, and
//! `qwire::qmp::io_async`) over Unix sockets adapted to the embedded-io
//! traits: the client driver against a real QEMU 7.2, and the server driver
//! answering the client driver over a socket pair.

use std::os::unix::net::UnixStream;
use std::thread;

use qwire::envelope::{Timestamp, VersionRef};
use qwire::json::Json;
use qwire::qmp::schema::{QueryBalloon, QueryName, QueryVersion, Quit, Stop};
use qwire::qmp::{io, io_async, ClientEvent, IoError, SendOptions};
use qwire_tests::peers::Qemu;
use qwire_tests::qmp::{block_on, owned, Got, Stream};
use qwire_tests::qmp_machine::Machine;

/// Buffers for one driver, leaked for the test's life.
fn buffers(frame: usize) -> (&'static mut [u8], &'static mut [u8], &'static mut [u8]) {
    let leak = |n: usize| -> &'static mut [u8] { Box::leak(vec![0u8; n].into_boxed_slice()) };
    (leak(frame), leak(512), leak(16 * 1024))
}

fn event_names(log: &[Got]) -> Vec<String> {
    log.iter()
        .filter_map(|g| match g {
            Got::Event { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn blocking_client_driver_against_qemu() {
    let mut qemu = Qemu::start();
    let (frame, rx, tx) = buffers(64 * 1024);
    let mut drv: io::ClientIo<'_, Stream> =
        io::ClientIo::new(Stream(qemu.connect()), frame, rx, tx);
    let mut log = Vec::new();
    let mut record = |ev: &ClientEvent<'_>| log.extend(owned(ev));
    assert!(drv.connect(true, &mut record).unwrap());
    assert_eq!(drv.client().server_version(), Some((7, 2, 22)));

    let v = drv
        .execute::<QueryVersion>(&Default::default(), &mut record)
        .unwrap();
    assert_eq!((v.qemu.major, v.qemu.minor, v.qemu.micro), (7, 2, 22));
    let status = drv
        .execute_raw(
            "query-status",
            None,
            SendOptions::new(),
            |v| {
                v.get("status")
                    .and_then(|s| s.as_str())
                    .map(|s| s.chars().collect::<String>())
            },
            &mut record,
        )
        .unwrap();
    assert_eq!(status.as_deref(), Some("running"));
    drv.execute::<Stop>(&Default::default(), &mut record)
        .unwrap();
    match drv.execute::<QueryBalloon>(&Default::default(), &mut record) {
        Err(IoError::Failed(f)) => {
            assert_eq!(f.class.as_str(), "DeviceNotActive");
            assert_eq!(f.desc.as_str(), "No balloon device has been activated");
        }
        other => panic!("{other:?}"),
    }
    let args = Json::parse(br#"{"command-line": "info version"}"#).unwrap();
    let hmp = drv
        .execute_raw(
            "human-monitor-command",
            Some(&args),
            SendOptions::new(),
            |v| v.as_bytes().to_vec(),
            &mut record,
        )
        .unwrap();
    assert!(
        hmp.starts_with(b"\"7.2.22"),
        "{}",
        String::from_utf8_lossy(&hmp)
    );
    match drv.execute_raw(
        "query-qmp-schema",
        None,
        SendOptions::new(),
        |_| (),
        &mut record,
    ) {
        Err(IoError::TooLarge { len }) => assert!((150_000..400_000).contains(&len), "{len}"),
        other => panic!("{other:?}"),
    }
    let name = drv
        .execute::<QueryName>(&Default::default(), &mut record)
        .unwrap();
    assert_eq!(name.name, None);
    drv.execute::<Quit>(&Default::default(), &mut record)
        .unwrap();
    // QEMU closes the connection after quit.
    drv.drain(&mut record).unwrap();
    assert_eq!(drv.client().state(), qwire::qmp::ClientState::Closed);
    assert_eq!(
        drv.execute::<QueryName>(&Default::default(), &mut record),
        Err(IoError::Send(qwire::qmp::SendError::NotReady(
            qwire::qmp::ClientState::Closed
        )))
    );
    assert_eq!(event_names(&log), ["STOP", "SHUTDOWN"]);
    assert!(qemu.wait_exit(std::time::Duration::from_secs(10)).is_some());
}

/// The server driver on a thread, answering with [`Machine`]; returns the
/// machine when the client hangs up or quits.
fn spawn_server(stream: UnixStream, asynchronous: bool) -> thread::JoinHandle<Machine> {
    thread::spawn(move || {
        let (frame, rx, tx) = buffers(16 * 1024);
        let mut machine = Machine::none();
        let version = VersionRef {
            major: 7,
            minor: 2,
            micro: 22,
            package: "qwire",
        };
        if asynchronous {
            let mut drv = io_async::ServerIo::new(Stream(stream), frame, version, true, rx, tx);
            block_on(async {
                drv.greet().await.unwrap();
                // An event before negotiation is refused, not sent.
                assert!(matches!(
                    drv.event("X", None, Timestamp::default()).await,
                    Err(IoError::Event(_))
                ));
                drv.serve(&mut machine, |m| m.quit).await.unwrap();
            });
        } else {
            let mut drv = io::ServerIo::new(Stream(stream), frame, version, true, rx, tx);
            drv.greet().unwrap();
            // Answer until negotiated, then send an event of our own.
            while drv.server().state() != qwire::qmp::ServerState::Command {
                assert!(drv.poll(&mut machine).unwrap());
            }
            drv.event(
                "HELLO",
                None,
                Timestamp {
                    seconds: 1,
                    microseconds: 2,
                },
            )
            .unwrap();
            drv.serve(&mut machine, |m| m.quit).unwrap();
        }
        machine
    })
}

fn client_session(drv: &mut io::ClientIo<'_, Stream>) -> Vec<Got> {
    let mut log = Vec::new();
    let mut record = |ev: &ClientEvent<'_>| log.extend(owned(ev));
    assert!(drv.connect(true, &mut record).unwrap());
    let v = drv
        .execute::<QueryVersion>(&Default::default(), &mut record)
        .unwrap();
    assert_eq!((v.qemu.major, v.qemu.minor, v.qemu.micro), (7, 2, 22));
    assert_eq!(v.package.as_str(), qwire_tests::qmp_machine::PACKAGE);
    drv.execute::<Stop>(&Default::default(), &mut record)
        .unwrap();
    let running = drv
        .execute_raw(
            "query-status",
            None,
            SendOptions::new(),
            |v| v.get("running").and_then(|r| r.as_bool()),
            &mut record,
        )
        .unwrap();
    assert_eq!(running, Some(false));
    match drv.execute_raw(
        "query-status",
        None,
        SendOptions::new().oob(),
        |_| (),
        &mut record,
    ) {
        Err(IoError::Failed(f)) => assert_eq!(
            f.desc.as_str(),
            "The command query-status does not support OOB"
        ),
        other => panic!("{other:?}"),
    }
    drv.execute_raw(
        "migrate-pause",
        None,
        SendOptions::new().oob(),
        |_| (),
        &mut record,
    )
    .unwrap_err();
    drv.execute::<Quit>(&Default::default(), &mut record)
        .unwrap();
    log
}

#[test]
fn blocking_server_driver_answers_the_client_driver() {
    let (a, b) = UnixStream::pair().unwrap();
    let server = spawn_server(b, false);
    let (frame, rx, tx) = buffers(16 * 1024);
    let mut drv = io::ClientIo::new(Stream(a), frame, rx, tx);
    let log = client_session(&mut drv);
    assert_eq!(event_names(&log), ["HELLO", "STOP", "SHUTDOWN"]);
    let machine = server.join().unwrap();
    assert!(machine.quit);
    assert_eq!(
        machine.calls,
        [
            "query-version",
            "stop",
            "query-status",
            "migrate-pause",
            "quit"
        ]
    );
}

#[test]
fn async_drivers_on_both_ends() {
    let (a, b) = UnixStream::pair().unwrap();
    let server = spawn_server(b, true);
    let (frame, rx, tx) = buffers(16 * 1024);
    let mut drv: io_async::ClientIo<'_, Stream, 4> =
        io_async::ClientIo::new(Stream(a), frame, rx, tx);
    let mut log = Vec::new();
    block_on(async {
        let mut record = |ev: &ClientEvent<'_>| log.extend(owned(ev));
        assert!(drv.connect(true, &mut record).await.unwrap());
        let v = drv
            .execute::<QueryVersion>(&Default::default(), &mut record)
            .await
            .unwrap();
        assert_eq!((v.qemu.major, v.qemu.minor, v.qemu.micro), (7, 2, 22));
        drv.execute::<Stop>(&Default::default(), &mut record)
            .await
            .unwrap();
        let err = drv
            .execute::<QueryBalloon>(&Default::default(), &mut record)
            .await
            .unwrap_err();
        assert!(
            matches!(err, IoError::Failed(ref f) if f.class.as_str() == "DeviceNotActive"),
            "{err:?}"
        );
        drv.execute::<Quit>(&Default::default(), &mut record)
            .await
            .unwrap();
    });
    assert_eq!(event_names(&log), ["STOP", "SHUTDOWN"]);
    assert!(server.join().unwrap().quit);
}

#[test]
fn the_server_driver_returns_when_the_client_hangs_up() {
    let (a, b) = UnixStream::pair().unwrap();
    let server = spawn_server(b, true);
    let (frame, rx, tx) = buffers(16 * 1024);
    let mut drv: io::ClientIo<'_, Stream> = io::ClientIo::new(Stream(a), frame, rx, tx);
    let mut log = Vec::new();
    assert!(!drv.connect(false, |ev| log.extend(owned(ev))).unwrap());
    drop(drv);
    let machine = server.join().unwrap();
    assert!(!machine.quit);
}
