//! `qga_client`: the QGA sync client fed arbitrary bytes from an agent,
//! driven the way a caller drives it (sync first; a command whenever it is
//! ready; a timeout now and then).
//!
//! Input: `sessions::input`; options bit 0: commands carry no `id`; bits
//! 1..7: a timeout is signalled after every (b >> 1) + 1 pieces (0: never).
//! Checked:
//!
//! * `Synced` names the id of the sync in progress; a reply completes only
//!   a command that was waiting; the state moves only as documented;
//! * every call consumes input (or ends it), never more than given;
//! * what happens does not depend on how the input is cut (as long as
//!   timeouts come at the same bytes, so only with timeouts off).

use qwire::qga::schema::GuestPing;
use qwire::qga::{CommandError, Event, State, SyncClient};

use super::sessions::{input, pieces};

/// What the client reported, owned.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Synced(i64),
    Return(Vec<u8>),
    Failed(String),
    TooLarge(u64),
    Late(u64),
    Discarded,
}

fn run(stream: &[u8], cap: usize, chunks: &[usize], ids: bool, timeout_every: usize) -> Vec<Seen> {
    let mut buf = vec![0u8; cap];
    let mut client = SyncClient::new(&mut buf);
    client.set_ids(ids);
    let mut tx = [0u8; 256];
    let mut sync_id = 1000i64;
    client
        .sync(sync_id, &mut tx)
        .expect("a sync fits 256 bytes");
    let mut seen = Vec::new();
    let mut sends = 0u32;
    // Act only after something happened, never because a chunk ended.
    let mut may_send = false;
    for (n, piece) in pieces(stream, chunks).into_iter().enumerate() {
        if timeout_every > 0 && n % timeout_every == timeout_every - 1 {
            client.timeout();
        }
        if client.state() == State::NeedSync {
            sync_id += 1;
            client.sync(sync_id, &mut tx).expect("a sync fits");
        }
        let mut rest = piece;
        while !rest.is_empty() {
            if may_send && client.state() == State::Ready {
                may_send = false;
                // Alternate a typed command and a no-reply one.
                sends += 1;
                let sent = if sends.is_multiple_of(3) {
                    client.send_raw("x-quiet", None, false, &mut tx)
                } else {
                    client.send::<GuestPing>(&Default::default(), &mut tx)
                };
                assert!(sent.is_ok(), "ready but could not send: {sent:?}");
            }
            let before = client.state();
            let fed = client.feed(rest);
            assert!(fed.consumed <= rest.len());
            let consumed = fed.consumed;
            // Owned first: the event borrows the client.
            let got = match fed.event {
                Event::Synced { id } => Some(Seen::Synced(id)),
                Event::Reply(Ok(v)) => Some(Seen::Return(v.as_bytes().to_vec())),
                Event::Reply(Err(CommandError::TooLarge { len })) => Some(Seen::TooLarge(len)),
                Event::Reply(Err(e)) => Some(Seen::Failed(e.to_string())),
                Event::LateError { id, .. } => Some(Seen::Late(id)),
                Event::Discarded(_) => Some(Seen::Discarded),
                Event::Nothing => None,
            };
            let after = client.state();
            match &got {
                Some(Seen::Synced(id)) => {
                    assert_eq!(*id, sync_id);
                    assert!(
                        matches!(before, State::Syncing { sentinel: true, .. }),
                        "{before:?}"
                    );
                    assert_eq!(after, State::Ready);
                }
                Some(Seen::Return(_) | Seen::Failed(_) | Seen::TooLarge(_)) => {
                    assert!(
                        matches!(before, State::Waiting { .. }),
                        "reply while {before:?}"
                    );
                    assert_eq!(after, State::Ready);
                    if let Some(Seen::TooLarge(len)) = &got {
                        assert!(*len > cap as u64);
                    }
                }
                _ => {}
            }
            if consumed == 0 {
                assert!(got.is_some(), "no progress");
            }
            may_send |= got.is_some();
            seen.extend(got);
            rest = &rest[consumed..];
        }
    }
    seen
}

pub fn check(data: &[u8]) {
    let Some(inp) = input(data) else { return };
    let ids = inp.options & 1 == 0;
    let timeout_every = usize::from(inp.options >> 1);
    let chunked = run(inp.stream, inp.cap, &inp.chunks, ids, timeout_every);
    if timeout_every == 0 {
        let whole = run(inp.stream, inp.cap, &[inp.stream.len().max(1)], ids, 0);
        assert_eq!(whole, chunked, "what the client saw depends on chunking");
    }
}
