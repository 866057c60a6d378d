//! The host side: [`SyncClient`] synchronises with an agent over a dirty
//! channel and then runs one command at a time.
//!
//! See the [module documentation](super) for the contract.

use core::fmt;

use crate::codec::{self, Command};
use crate::dispatch::ErrorClass;
use crate::envelope::{self, Message};
use crate::framer::{self, Config, Framer};
use crate::json::{Encode, Json, JsonWriter, Str, WriteError};
use crate::qga::schema::{GuestSyncDelimited, GuestSyncDelimitedArgs};

/// Where a [`SyncClient`] stands, and so what it waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Not synchronised (a new client, or after [`SyncClient::timeout`]):
    /// call [`SyncClient::sync`] with a fresh id before any command.
    NeedSync,
    /// `guest-sync-delimited` was sent; waiting for the agent's 0xFF and
    /// then `{"return": id}`. Everything else is discarded.
    Syncing {
        /// The id sent.
        id: i64,
        /// The agent's 0xFF has been seen.
        sentinel: bool,
    },
    /// Synchronised, nothing pending: a command may be sent.
    Ready,
    /// A command was sent and its reply is awaited.
    Waiting {
        /// The `id` the command was sent with.
        id: u64,
    },
}

impl State {
    /// The client waits for bytes from the agent (a deadline is running on
    /// the caller's clock).
    pub fn is_waiting(&self) -> bool {
        matches!(self, State::Syncing { .. } | State::Waiting { .. })
    }
}

/// Why a send was refused. The client's state is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SendError {
    /// A command can be sent only in [`State::Ready`]; this is the state
    /// the client was in.
    NotReady(State),
    /// The request did not fit the output buffer (or the arguments did not
    /// encode).
    Write(WriteError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::NotReady(State::NeedSync) => {
                f.write_str("not synchronised with the agent: sync first")
            }
            SendError::NotReady(State::Syncing { .. }) => {
                f.write_str("synchronisation with the agent is under way")
            }
            SendError::NotReady(_) => f.write_str("a command is already waiting for its reply"),
            SendError::Write(e) => write!(f, "request not written: {e}"),
        }
    }
}

impl core::error::Error for SendError {}

impl From<WriteError> for SendError {
    fn from(e: WriteError) -> Self {
        SendError::Write(e)
    }
}

/// A request written by [`SyncClient::send`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sent {
    /// Bytes of the output buffer to send to the agent.
    pub len: usize,
    /// A reply is awaited ([`State::Waiting`]). `false` for a
    /// `success-response: false` command, which is complete once sent
    /// (the client is [`State::Ready`] again).
    pub expects_reply: bool,
    /// The `id` the request carries.
    pub id: u64,
}

/// Why a command failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandError<'a> {
    /// The agent answered `{"error": {"class": ..., "desc": ...}}`.
    Agent {
        /// The error class as the agent wrote it (`GenericError`,
        /// `CommandNotFound`, or one this crate does not know).
        class: Str<'a>,
        /// The description.
        desc: Str<'a>,
    },
    /// The reply was longer than the client's buffer; it was skipped to
    /// its end, so the stream stays usable.
    TooLarge {
        /// Its length in bytes.
        len: u64,
    },
}

impl CommandError<'_> {
    /// The class is `class` (e.g. [`ErrorClass::CommandNotFound`] for an
    /// unknown or blocked command).
    pub fn is(&self, class: ErrorClass) -> bool {
        match self {
            CommandError::Agent { class: c, .. } => c.eq_str(class.as_str()),
            CommandError::TooLarge { .. } => false,
        }
    }
}

impl fmt::Display for CommandError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Agent { class, desc } => write!(f, "{class}: {desc}"),
            CommandError::TooLarge { len } => {
                write!(f, "reply of {len} bytes is larger than the buffer")
            }
        }
    }
}

/// What the client discarded, and why (for logs and tests; the caller
/// need not act).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Discard {
    /// While syncing, a message before the agent's 0xFF (stale output, or
    /// the agent's parse error for the client's own 0xFF).
    BeforeSentinel,
    /// A message that is not the awaited reply: a sync reply with another
    /// id, a reply with another `id`, a message while nothing is pending,
    /// or something that is no reply at all.
    Stale,
    /// Bytes that are not JSON (the framer's error; it recovers by
    /// itself).
    Garbage,
    /// A 0xFF outside syncing (any partial message before it is dropped).
    Sentinel,
    /// A message too large for the buffer while no reply was awaited.
    TooLarge,
}

/// What one call of [`SyncClient::feed`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Nothing to act on: the input was used up with no message complete,
    /// or the agent's 0xFF arrived while syncing.
    Nothing,
    /// Synchronised with the sync `id`: commands may be sent.
    Synced {
        /// The id of the `guest-sync-delimited` that was answered.
        id: i64,
    },
    /// The awaited command completed: its `return` value, or why it failed.
    /// Decode a value with [`codec::decode_return`] (the client is
    /// already [`State::Ready`] for the next command).
    Reply(Result<Json<'a>, CommandError<'a>>),
    /// A command sent without expecting a reply (`success-response: false`)
    /// failed after all: the agent answers failures of those.
    LateError {
        /// The failed command's `id`.
        id: u64,
        /// The error.
        error: CommandError<'a>,
    },
    /// Something was discarded.
    Discarded(Discard),
}

/// The result of [`SyncClient::feed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fed<'a> {
    /// Bytes of the input used; feed the rest again.
    pub consumed: usize,
    /// What they produced.
    pub event: Event<'a>,
}

/// A host-side QGA client that synchronises with `guest-sync-delimited`
/// and runs one command at a time (see the [module docs](super)).
///
/// `size_of::<SyncClient>()` is 240 bytes on 64-bit targets; the receive
/// buffer is the caller's and bounds the largest reply it can hand out.
///
/// ```
/// use qwire::qga::{SyncClient, State, Event};
///
/// let mut rx = [0u8; 1024];
/// let mut client = SyncClient::new(&mut rx);
/// let mut tx = [0u8; 128];
/// let n = client.sync(0x5eed, &mut tx).unwrap();
/// assert_eq!(&tx[..n], b"\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":24301}}\n");
/// // The agent's parse error for our 0xFF, then the delimited reply.
/// let mut input: &[u8] = b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '\\uFFFD'\"}}\n\xff{\"return\": 24301}\n";
/// let mut synced = false;
/// while !input.is_empty() {
///     let fed = client.feed(input);
///     synced |= matches!(fed.event, Event::Synced { id: 24301 });
///     input = &input[fed.consumed..];
/// }
/// assert!(synced);
/// assert_eq!(client.state(), State::Ready);
/// ```
#[derive(Debug)]
pub struct SyncClient<'b> {
    framer: Framer<'b>,
    state: State,
    /// The id of the next command.
    next_id: u64,
    /// The last command sent without expecting a reply, whose failure
    /// would still be answered.
    silent: Option<u64>,
    /// Commands carry an `id` and replies must echo it.
    ids: bool,
}

impl<'b> SyncClient<'b> {
    /// A client storing replies in `buf` (its length bounds the largest
    /// reply it can hand out; larger ones fail with
    /// [`CommandError::TooLarge`]). It starts in [`State::NeedSync`].
    pub fn new(buf: &'b mut [u8]) -> Self {
        SyncClient {
            framer: Framer::new(buf, Config::DEFAULT),
            state: State::NeedSync,
            next_id: 1,
            silent: None,
            ids: true,
        }
    }

    /// Whether commands carry an `id` that the reply must echo (the
    /// default, `true`). qemu-ga echoes it, and matching on it is what
    /// keeps a stray or stale reply from being taken for the awaited one.
    /// With `false` no `id` is sent and the first `return` or `error`
    /// after a command is its reply (libvirt's way), for an agent that
    /// does not echo ids; `id`-less parse errors then complete a command
    /// too.
    pub fn set_ids(&mut self, ids: bool) {
        self.ids = ids;
    }

    /// Where the client stands.
    pub fn state(&self) -> State {
        self.state
    }

    /// The largest reply the client can hand out, in bytes.
    pub fn capacity(&self) -> usize {
        self.framer.capacity()
    }

    /// Set the `id` of the next command (ids then count up by one per
    /// command). They start at 1.
    pub fn set_next_id(&mut self, id: u64) {
        self.next_id = id;
    }

    /// Write 0xFF, `{"execute":"guest-sync-delimited","arguments":{"id":ID}}`
    /// and `\n` into `out` and start synchronising: every byte up to the
    /// agent's 0xFF is discarded, then every message but `{"return": ID}`.
    /// Allowed in every state; anything pending is abandoned. Returns the
    /// length written.
    ///
    /// `id` must be fresh: different from every id used on this channel
    /// before, by this client or an earlier one (a random number, or a
    /// random start counting up), so that a late reply to an earlier sync
    /// cannot be taken for this one.
    ///
    /// # Errors
    ///
    /// [`SendError::Write`] if `out` is too small (needs at most 80
    /// bytes); the state is then unchanged.
    pub fn sync(&mut self, id: i64, out: &mut [u8]) -> Result<usize, SendError> {
        let mut w = JsonWriter::new(out);
        w.raw(&[super::SENTINEL])?;
        codec::write_request::<GuestSyncDelimited>(&mut w, &GuestSyncDelimitedArgs { id }, None)?;
        w.raw(super::TERMINATOR)?;
        let len = w.len();
        self.framer.reset();
        self.state = State::Syncing {
            id,
            sentinel: false,
        };
        self.silent = None;
        Ok(len)
    }

    /// The caller's deadline for the awaited reply passed (or the
    /// connection was lost): the client needs a new [`SyncClient::sync`]
    /// before the next command, since a late reply may still arrive. In
    /// [`State::Ready`] nothing is pending and nothing changes.
    pub fn timeout(&mut self) {
        if self.state != State::Ready {
            self.state = State::NeedSync;
        }
    }

    /// The connection was closed or replaced: drop any partial message and
    /// require a sync (the agent keeps its own parser state across
    /// connections, which the sync's 0xFF flushes).
    pub fn disconnected(&mut self) {
        self.framer.reset();
        self.state = State::NeedSync;
        self.silent = None;
    }

    /// Write the typed command `C` with `args` (and an `id`) into `out`.
    /// Returns what was written; see [`Sent::expects_reply`].
    ///
    /// # Errors
    ///
    /// [`SendError::NotReady`] unless [`State::Ready`];
    /// [`SendError::Write`] if `out` is too small. The state is then
    /// unchanged.
    pub fn send<C: Command>(&mut self, args: &C::Args, out: &mut [u8]) -> Result<Sent, SendError> {
        let arguments: Option<&dyn Encode> = if C::HAS_ARGS { Some(args) } else { None };
        self.send_raw(C::NAME, arguments, C::SUCCESS_RESPONSE, out)
    }

    /// Write any command by name, e.g. a vendor command not in the schema,
    /// with `arguments` (an object, or `None`) into `out`.
    /// `success_response: false` marks a command that is not answered on
    /// success (complete once sent).
    ///
    /// # Errors
    ///
    /// As [`SyncClient::send`].
    pub fn send_raw(
        &mut self,
        name: &str,
        arguments: Option<&dyn Encode>,
        success_response: bool,
        out: &mut [u8],
    ) -> Result<Sent, SendError> {
        if self.state != State::Ready {
            return Err(SendError::NotReady(self.state));
        }
        let id = self.next_id;
        let mut w = JsonWriter::new(out);
        let echoed: Option<&dyn Encode> = if self.ids { Some(&id) } else { None };
        envelope::write_command(&mut w, name, arguments, echoed, false)?;
        w.raw(super::TERMINATOR)?;
        let len = w.len();
        self.next_id = id.wrapping_add(1);
        if success_response {
            self.state = State::Waiting { id };
        } else {
            self.silent = Some(id);
        }
        Ok(Sent {
            len,
            expects_reply: success_response,
            id,
        })
    }

    /// Feed bytes from the agent. Returns at the first event; call again
    /// with `input[fed.consumed..]` until it is used up. Never fails: bytes
    /// that do not belong to the awaited reply are discarded (and
    /// reported as [`Event::Discarded`]).
    pub fn feed<'a>(&'a mut self, input: &'a [u8]) -> Fed<'a> {
        let SyncClient {
            framer,
            state,
            silent,
            ids,
            ..
        } = self;
        let fed = framer.feed(input);
        let event = match fed.event {
            framer::Event::NeedMore => Event::Nothing,
            framer::Event::Sentinel { .. } => match state {
                State::Syncing { sentinel, .. } => {
                    *sentinel = true;
                    Event::Nothing
                }
                _ => Event::Discarded(Discard::Sentinel),
            },
            framer::Event::Error { .. } => Event::Discarded(Discard::Garbage),
            framer::Event::TooLarge { len, .. } => match state {
                // Only the awaited reply can arrive here: the sync flushed
                // everything older, and the agent answers in order.
                State::Waiting { .. } => {
                    *state = State::Ready;
                    Event::Reply(Err(CommandError::TooLarge { len }))
                }
                State::Syncing {
                    sentinel: false, ..
                } => Event::Discarded(Discard::BeforeSentinel),
                _ => Event::Discarded(Discard::TooLarge),
            },
            framer::Event::Frame(frame) => on_message(state, silent, *ids, frame.json()),
        };
        Fed {
            consumed: fed.consumed,
            event,
        }
    }
}

fn on_message<'a>(
    state: &mut State,
    silent: &mut Option<u64>,
    ids: bool,
    v: Json<'a>,
) -> Event<'a> {
    let id_is = |got: Option<Json<'_>>, want: u64| !ids || id_is(got, want);
    let message = envelope::classify(v);
    match *state {
        State::Syncing {
            sentinel: false, ..
        } => Event::Discarded(Discard::BeforeSentinel),
        State::Syncing { id, sentinel: true } => match message {
            Message::Return(r) if r.value.as_i64() == Some(id) => {
                *state = State::Ready;
                Event::Synced { id }
            }
            _ => Event::Discarded(Discard::Stale),
        },
        State::Waiting { id } => match message {
            Message::Return(r) if id_is(r.id, id) => {
                *state = State::Ready;
                Event::Reply(Ok(r.value))
            }
            Message::Error(e) if id_is(e.id, id) => {
                *state = State::Ready;
                Event::Reply(Err(CommandError::Agent {
                    class: e.class,
                    desc: e.desc,
                }))
            }
            _ => late_error(message, silent, ids),
        },
        State::NeedSync | State::Ready => late_error(message, silent, ids),
    }
}

/// An error for the last command sent without expecting a reply, or else
/// a stale message.
fn late_error<'a>(message: Message<'a>, silent: &mut Option<u64>, ids: bool) -> Event<'a> {
    match (message, *silent) {
        (Message::Error(e), Some(id)) if !ids || id_is(e.id, id) => {
            *silent = None;
            Event::LateError {
                id,
                error: CommandError::Agent {
                    class: e.class,
                    desc: e.desc,
                },
            }
        }
        _ => Event::Discarded(Discard::Stale),
    }
}

/// The reply's `id` is the number `want` (QEMU re-serialises ids, so
/// compare by value).
fn id_is(id: Option<Json<'_>>, want: u64) -> bool {
    id.and_then(|i| i.as_u64()) == Some(want)
}
