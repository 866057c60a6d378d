//! QMP, the QEMU Machine Protocol: client and server sessions (layer 5),
//! their I/O drivers (layer 6), and the typed codecs generated from the QMP
//! seed schema ([`schema`]).
//!
//! # Contract
//!
//! * **Sans-IO.** [`Client`] and [`Server`] are state machines: bytes from
//!   the peer go in through `feed`, bytes for the peer come out in the
//!   caller's buffer, and the caller moves them. Nothing inside reads a
//!   clock, opens a socket, spawns, sleeps or blocks; time is the caller's
//!   (deadlines and timestamps are arguments).
//! * **One step per call.** `feed` handles at most one message (or one
//!   piece of bad input) and says how much input it used; call it again
//!   with the rest. The outcome does not depend on how the stream is cut
//!   into pieces.
//! * **Fixed memory.** A session is a fixed-size struct over the caller's
//!   frame buffer (`size_of::<Client<'_, 8>>()` is 440 bytes and
//!   `size_of::<Server<'_>>()` 240 bytes on 64-bit targets); the buffer
//!   bounds the largest message, and a larger one is skipped to its end
//!   with the stream kept in step. No heap, no `std`.
//! * **No panic, nothing lost.** Any bytes, any order of calls: errors are
//!   values, bad input is reported and costs only the message it was in.
//! * **QEMU's behaviour.** The server greets, enforces negotiation and
//!   answers every malformed request with QEMU's error class and message
//!   (through [`dispatch`](crate::dispatch)), each message followed by CR
//!   LF; the client accepts everything QEMU sends (compact or pretty, any
//!   key order, events anywhere).
//!
//! # Client
//!
//! | state | on | goes to |
//! | --- | --- | --- |
//! | [`AwaitingGreeting`](ClientState::AwaitingGreeting) | greeting arrives ([`ClientEvent::Greeting`]) | `Greeted` |
//! | [`Greeted`](ClientState::Greeted) | [`Client::negotiate`] writes `qmp_capabilities` | `Negotiating` |
//! | [`Negotiating`](ClientState::Negotiating) | its reply: [`ClientEvent::Negotiated`] / [`ClientEvent::NegotiationFailed`] | `Ready` / `Greeted` |
//! | `Negotiating` | its reply too large for the frame buffer: [`ClientEvent::TooLarge`] | `Greeted` |
//! | [`Ready`](ClientState::Ready) | [`Client::send`] / [`Client::send_raw`]; replies, events | `Ready` |
//! | any | [`Client::finish`] (end of stream) | [`Closed`](ClientState::Closed) |
//! | any | [`Client::reset`] (new connection) | `AwaitingGreeting` |
//!
//! Events ([`ClientEvent::Event`]) are handed out in stream order in every
//! state: before, between and after replies.
//!
//! **Ids.** The client numbers everything it sends from 0 up (the
//! negotiation included) and never reuses a number, not even across
//! [`Client::reset`]. A reply carrying one of the ids in flight completes
//! that command ([`ClientEvent::Return`], [`ClientEvent::Error`]). Anything
//! else is [`ClientEvent::Unsolicited`] and not fatal: errors without an id
//! (the server's answers to bad input), replies with ids this client did
//! not assign or no longer waits for, greetings out of turn, non-objects.
//! At most `N` commands are in flight ([`SendError::Busy`] beyond).
//!
//! **Order.** Without out-of-band execution QEMU answers in-band commands
//! one at a time, in order; with it, `exec-oob` commands may overtake
//! them. So the *next reply by order* is defined only while no `exec-oob`
//! command is in flight (then it belongs to the oldest command in flight),
//! or when just one command is in flight. Two things use it:
//!
//! * **A reply too large for the frame buffer** has no readable id. It
//!   completes the command that the order names ([`ClientEvent::TooLarge`]
//!   with `Some(id)`), and the next command works as usual. When the order
//!   names none — an `exec-oob` command is in flight beside others, or
//!   nothing is in flight — it is reported with `id: None` and every
//!   command stays in flight: the caller's deadline settles them. (A frame
//!   buffer smaller than an *event* would misattribute that event while a
//!   command is in flight: size the buffer above the largest event; QEMU's
//!   are well under 1 KiB.)
//! * **A command sent without an id** ([`SendOptions::anonymous`]) is
//!   matched by order: an id-less reply completes it when it is the command
//!   the order names.
//!
//! **Time.** A command may carry a deadline on the caller's clock;
//! [`Client::next_deadline`] says when to look, [`Client::expire`]
//! abandons the overdue ones, [`Client::abandon`] any one. An abandoned
//! command keeps its slot (and its place in the order) until its reply
//! comes, which is then reported as [`ClientEvent::Late`].
//!
//! ```
//! use qwire::codec::{decode_return, Mode, NoArgs};
//! use qwire::qmp::schema::QueryVersion;
//! use qwire::qmp::{Client, ClientEvent, SendOptions};
//!
//! let mut frame = [0u8; 4096];
//! let mut client: Client = Client::new(&mut frame); // up to 8 in flight
//! let mut out = [0u8; 256];
//!
//! // One step: feed what the server sent. The event borrows the client
//! // (and the input); `NeedMore` means the input was used up.
//! fn next<'a, 's: 'a>(client: &'a mut Client<'_>, input: &mut &'s [u8]) -> ClientEvent<'a> {
//!     let whole: &'s [u8] = input;
//!     let r = client.feed(whole);
//!     *input = &whole[r.consumed..];
//!     r.event
//! }
//!
//! let mut input: &[u8] = b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \
//!     \"major\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n";
//! assert!(matches!(next(&mut client, &mut input), ClientEvent::Greeting(_)));
//! assert_eq!(client.server_version(), Some((7, 2, 22)));
//!
//! let n = client.negotiate(true, &mut out).unwrap();
//! assert_eq!(&out[..n], br#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]},"id":0}"#);
//! let mut input: &[u8] = b"{\"return\": {}, \"id\": 0}\r\n";
//! assert_eq!(next(&mut client, &mut input), ClientEvent::Negotiated { oob: true });
//!
//! let sent = client.send::<QueryVersion>(&NoArgs, SendOptions::new(), &mut out).unwrap();
//! assert_eq!(&out[..sent.len], br#"{"execute":"query-version","id":1}"#);
//! let stop = client.send_raw("stop", None, SendOptions::new(), &mut out).unwrap();
//! let mut input: &[u8] = b"{\"return\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \
//!     \"package\": \"\"}, \"id\": 1}\r\n\
//!     {\"timestamp\": {\"seconds\": 1795307803, \"microseconds\": 558142}, \"event\": \"STOP\"}\r\n\
//!     {\"return\": {}, \"id\": 2}\r\n";
//! match next(&mut client, &mut input) {
//!     ClientEvent::Return { id, value } if id == sent.id => {
//!         let v = decode_return::<QueryVersion>(value, Mode::Lenient).unwrap();
//!         assert_eq!((v.qemu.major, v.qemu.minor, v.qemu.micro), (7, 2, 22));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! assert!(matches!(next(&mut client, &mut input), ClientEvent::Event(e) if e.name.eq_str("STOP")));
//! assert!(matches!(next(&mut client, &mut input), ClientEvent::Return { id, .. } if id == stop.id));
//! assert_eq!(client.in_flight(), 0);
//! ```
//!
//! # Server
//!
//! | state | on | answer | goes to |
//! | --- | --- | --- | --- |
//! | [`Greeting`](ServerState::Greeting) | [`Server::greeting`] or the first [`Server::feed`] | the greeting (version, `["oob"]` if offered) | `Negotiation` |
//! | [`Negotiation`](ServerState::Negotiation) | `qmp_capabilities` (with `enable: ["oob"]` only if offered) | `{}` | `Command` |
//! | `Negotiation` | any other command | `CommandNotFound` `Expecting capabilities negotiation with 'qmp_capabilities'` | `Negotiation` |
//! | `Negotiation` | `enable: ["oob"]` not offered | `GenericError` `Capability oob not available` | `Negotiation` |
//! | [`Command`](ServerState::Command) | a handler command | the handler's reply (events first) | `Command` |
//! | `Command` | `qmp_capabilities` again | `CommandNotFound` `Capabilities negotiation is already complete, command ignored` | `Command` |
//! | any | malformed input or request | QEMU's error ([`dispatch`](crate::dispatch)), `id` echoed as QEMU does | unchanged |
//! | any | [`Server::reset`] (new connection) | — | `Greeting` |
//!
//! `qmp_capabilities` is the session's own (its arguments are checked
//! strictly, with QEMU's messages, in both states); every other command
//! goes to the embedder's [`Handler`](crate::dispatch::Handler) through
//! [`dispatch::dispatch`](crate::dispatch::dispatch), which answers unknown
//! and disabled commands and refuses `exec-oob` of a command without
//! `allow-oob`. `exec-oob` itself is an unexpected member until `oob` is
//! negotiated. Events — from a handler through
//! [`Reply::event`](crate::dispatch::Reply::event) (written before the
//! reply, as QEMU does for `stop`), or standalone through
//! [`Server::event`] / [`Server::emit`] — carry the timestamp the caller
//! passes and are refused before negotiation ([`EventError::NotNegotiated`]).
//! A handler that needs the time holds it: the embedder sets it before
//! `feed`.
//!
//! ```
//! use qwire::codec::{CommandInfo, NoArgs};
//! use qwire::dispatch::{Answered, Call, Handler, Reply};
//! use qwire::envelope::{Timestamp, VersionRef};
//! use qwire::qmp::Server;
//!
//! struct Vm { running: bool, now: Timestamp }
//!
//! impl Handler for Vm {
//!     fn commands(&self) -> &[CommandInfo] {
//!         const STOP: CommandInfo =
//!             CommandInfo { name: "stop", success_response: true, allow_oob: false, has_args: false };
//!         &[STOP]
//!     }
//!     fn call(&mut self, call: &Call<'_>, mut reply: Reply<'_, '_, '_>) -> Answered {
//!         if let Err(e) = call.args_into(&mut NoArgs) {
//!             return reply.invalid_arguments(&e);
//!         }
//!         if self.running {
//!             self.running = false;
//!             let _ = reply.event("STOP", None, self.now);
//!         }
//!         reply.ok_empty()
//!     }
//! }
//!
//! let version = VersionRef { major: 1, minor: 0, micro: 0, package: "demo" };
//! let mut frame = [0u8; 4096];
//! let mut server = Server::new(&mut frame, version, true);
//! let mut vm = Vm { running: true, now: Timestamp { seconds: 1_700_000_000, microseconds: 0 } };
//! let mut out = [0u8; 2048];
//!
//! // Feed everything the client sent; collect what to send back.
//! let mut talk = |server: &mut Server<'_>, vm: &mut Vm, mut input: &[u8]| {
//!     let mut reply = Vec::new();
//!     while !input.is_empty() {
//!         let step = server.feed(input, &mut out, vm);
//!         reply.extend_from_slice(&out[..step.written]);
//!         input = &input[step.consumed..];
//!     }
//!     String::from_utf8(reply).unwrap()
//! };
//!
//! assert_eq!(
//!     talk(&mut server, &mut vm, br#"{"execute": "stop", "id": 1}"#),
//!     "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":0,\"minor\":0,\"major\":1},\"package\":\"demo\"},\
//!      \"capabilities\":[\"oob\"]}}\r\n\
//!      {\"id\":1,\"error\":{\"class\":\"CommandNotFound\",\
//!      \"desc\":\"Expecting capabilities negotiation with 'qmp_capabilities'\"}}\r\n"
//! );
//! assert_eq!(talk(&mut server, &mut vm, br#"{"execute": "qmp_capabilities"}"#), "{\"return\":{}}\r\n");
//! assert_eq!(
//!     talk(&mut server, &mut vm, b"{'execute': 'stop', 'id': 2}"),
//!     "{\"timestamp\":{\"seconds\":1700000000,\"microseconds\":0},\"event\":\"STOP\"}\r\n\
//!      {\"return\":{},\"id\":2}\r\n"
//! );
//! assert_eq!(
//!     talk(&mut server, &mut vm, b"{\"execute\": \xff"),
//!     "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, stray '\\uFFFD'\"}}\r\n"
//! );
//! ```
//!
//! # Drivers
//!
//! With feature `embedded-io`, `io::ClientIo` and `io::ServerIo` run the
//! sessions over any blocking `embedded_io` byte stream (connect and
//! execute one command at a time; serve a connection through a handler);
//! with `embedded-io-async`, `io_async` has the same over
//! `embedded_io_async`. They add nothing to the protocol: every rule above
//! is the sessions'.
//!
//! `docs/QMP.md` has complete programs for both roles, the sizes for other
//! `N`, and the transcript replay's results.

mod client;
mod server;

pub use client::{
    Client, ClientEvent, ClientState, Ended, Outstanding, Received, SendError, SendOptions, Sent,
};
pub use server::{EventError, Server, ServerState, Step, TERMINATOR};

#[cfg(any(feature = "embedded-io", feature = "embedded-io-async"))]
mod driver;
#[cfg(any(feature = "embedded-io", feature = "embedded-io-async"))]
pub use driver::{Error as IoError, Failure, CLASS_CAPACITY, DESC_CAPACITY};

/// Blocking drivers over [`embedded_io`] byte streams (feature
/// `embedded-io`): [`ClientIo`](io::ClientIo) connects and executes one
/// command at a time, [`ServerIo`](io::ServerIo) answers a connection
/// through a [`Handler`](crate::dispatch::Handler).
#[cfg(feature = "embedded-io")]
pub mod io {
    super::driver::drivers!(embedded_io, [], []);
}

/// The drivers of [`io`] over [`embedded_io_async`] (feature
/// `embedded-io-async`): the same types and methods, `async`.
#[cfg(feature = "embedded-io-async")]
pub mod io_async {
    super::driver::drivers!(embedded_io_async, [async], [.await]);
}

// Generated by tools/qapi-gen; its layout is the generator's, not rustfmt's.
#[rustfmt::skip]
pub mod schema;
