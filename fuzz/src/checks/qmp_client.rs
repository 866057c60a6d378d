//! `qmp_client`: the QMP client fed arbitrary bytes from a server, driven
//! as a caller drives it (negotiate after the greeting, keep commands in
//! flight, abandon some).
//!
//! Input: `sessions::input`; options bit 0: ask for `oob`; bits 1..7:
//! abandon the oldest command after every (b >> 1) + 1 replies (0: never).
//! Checked:
//!
//! * every `Return`/`Error` names a command that is in flight and not
//!   abandoned, and completes it; `Late` names an abandoned one; a
//!   `TooLarge` with an id completes that command, or, while negotiating,
//!   ends the negotiation (back to `Greeted`);
//! * a `Return`/`Error` whose reply carries an integer `id` names that id
//!   (the bytes consumed since the previous event end with the reply);
//! * never more than `N` commands in flight; ids never repeat;
//! * every call consumes input (or ends it), never more than given;
//! * what happens does not depend on how the input is cut.

use std::collections::BTreeSet;

use qwire::qmp::{Client, ClientEvent, ClientState, SendError, SendOptions};

use super::sessions::{input, pieces};

const N: usize = 4;

#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Greeting,
    Negotiated(bool),
    NegotiationFailed,
    Return(u64),
    Error(u64),
    TooLarge(Option<u64>),
    Event(String),
    Late(u64),
    Unsolicited,
    Malformed(u64),
}

fn run(
    stream: &[u8],
    cap: usize,
    chunks: &[usize],
    want_oob: bool,
    abandon_every: usize,
) -> Vec<Seen> {
    let mut buf = vec![0u8; cap];
    let mut client: Client<'_, N> = Client::new(&mut buf);
    let mut tx = [0u8; 256];
    let mut seen = Vec::new();
    let mut flying: BTreeSet<u64> = BTreeSet::new();
    let mut abandoned: BTreeSet<u64> = BTreeSet::new();
    let mut used_ids: BTreeSet<u64> = BTreeSet::new();
    let mut completed = 0usize;
    // The bytes consumed since the last event: they end with its message.
    let mut since_event: Vec<u8> = Vec::new();
    // Act only after something happened, never because a chunk ended:
    // otherwise the cut of the input would decide how many commands fly.
    let mut may_send = false;
    for piece in pieces(stream, chunks) {
        let mut rest = piece;
        while !rest.is_empty() {
            if may_send && client.state() == ClientState::Ready {
                may_send = false;
                // Keep the slots busy; a full client says so.
                match client.send_raw("query-status", None, SendOptions::new(), &mut tx) {
                    Ok(sent) => {
                        assert!(used_ids.insert(sent.id), "id {} reused", sent.id);
                        flying.insert(sent.id);
                    }
                    Err(SendError::Busy) => assert_eq!(client.in_flight(), N),
                    Err(e) => panic!("ready but {e}"),
                }
            }
            assert!(client.in_flight() <= N);
            let negotiating = client.state() == ClientState::Negotiating;
            let fed = client.feed(rest);
            assert!(fed.consumed <= rest.len());
            let consumed = fed.consumed;
            since_event.extend_from_slice(&rest[..consumed]);
            // Owned first: the event borrows the client.
            let got = match fed.event {
                ClientEvent::Greeting(_) => Some(Seen::Greeting),
                ClientEvent::Negotiated { oob } => Some(Seen::Negotiated(oob)),
                ClientEvent::NegotiationFailed { .. } => Some(Seen::NegotiationFailed),
                ClientEvent::Return { id, .. } => Some(Seen::Return(id)),
                ClientEvent::Error { id, .. } => Some(Seen::Error(id)),
                ClientEvent::TooLarge { id, len } => {
                    assert!(len > cap as u64);
                    Some(Seen::TooLarge(id))
                }
                ClientEvent::Event(e) => Some(Seen::Event(e.name.to_string())),
                ClientEvent::Late { id, .. } => Some(Seen::Late(id)),
                ClientEvent::Unsolicited(_) => Some(Seen::Unsolicited),
                ClientEvent::Malformed { at, .. } => Some(Seen::Malformed(at)),
                ClientEvent::NeedMore => None,
            };
            let complete = |id: u64, flying: &mut BTreeSet<u64>, abandoned: &BTreeSet<u64>| {
                assert!(flying.remove(&id), "reply to {id}, not in flight");
                assert!(
                    !abandoned.contains(&id),
                    "reply to abandoned {id} not reported as late"
                );
            };
            match &got {
                Some(Seen::Greeting) if client.state() == ClientState::Greeted => {
                    let n = client.negotiate(want_oob, &mut tx);
                    assert!(n.is_ok(), "{n:?}");
                }
                Some(Seen::Negotiated(oob)) => assert!(!oob || want_oob),
                Some(Seen::Return(id) | Seen::Error(id)) => {
                    if let Some(said) = reply_id(&since_event) {
                        assert_eq!(said, *id, "reply with id {said} completed command {id}");
                    }
                    complete(*id, &mut flying, &abandoned);
                }
                // Too large where the negotiation's reply was due: the
                // negotiation (which used an id of its own) is over, failed.
                Some(Seen::TooLarge(Some(_))) if negotiating => {
                    assert_eq!(client.state(), ClientState::Greeted);
                }
                Some(Seen::TooLarge(Some(id))) => complete(*id, &mut flying, &abandoned),
                Some(Seen::Late(id)) => {
                    assert!(abandoned.remove(id), "late reply to {id}, never abandoned");
                    assert!(flying.remove(id));
                }
                _ => {}
            }
            // Only right after a reply: how often the loop turns depends on
            // how the input is cut.
            if matches!(got, Some(Seen::Return(_) | Seen::Error(_))) {
                completed += 1;
                if abandon_every > 0 && completed.is_multiple_of(abandon_every) {
                    if let Some(&oldest) = flying.iter().find(|id| !abandoned.contains(id)) {
                        assert!(client.abandon(oldest));
                        abandoned.insert(oldest);
                    }
                }
            }
            if got.is_some() {
                since_event.clear();
            }
            may_send |= got.is_some();
            if consumed == 0 {
                assert!(got.is_some(), "no progress");
            }
            seen.extend(got);
            rest = &rest[consumed..];
        }
    }
    assert_eq!(client.in_flight(), flying.len());
    seen
}

/// The integer `id` of the reply that `consumed` ends with, when serde_json
/// reads it as one object after whitespace (anything else, e.g. a sentinel
/// or garbage skipped before it, is not judged here).
fn reply_id(consumed: &[u8]) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_slice(consumed).ok()?;
    v.get("id")?.as_u64()
}

pub fn check(data: &[u8]) {
    let Some(inp) = input(data) else { return };
    let want_oob = inp.options & 1 != 0;
    let abandon_every = usize::from(inp.options >> 1);
    let whole = run(
        inp.stream,
        inp.cap,
        &[inp.stream.len().max(1)],
        want_oob,
        abandon_every,
    );
    let chunked = run(inp.stream, inp.cap, &inp.chunks, want_oob, abandon_every);
    assert_eq!(whole, chunked, "what the client saw depends on chunking");
}
