//! The QMP client session: see the [module documentation](super) for the
//! contract and [`Client`] for the API.

use core::fmt;

use crate::codec::Command;
use crate::envelope::{self, classify, Greeting, Message};
use crate::framer::{Config, End, Event as FrameEvent, FrameError, Framer};
use crate::json::{Encode, EncodeWith, Json, JsonWriter, Str, WriteError};

/// Where a [`Client`] is in the session (see the state table in the
/// [module documentation](super)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientState {
    /// Connected; waiting for the server's greeting.
    AwaitingGreeting,
    /// The greeting arrived; [`Client::negotiate`] comes next.
    Greeted,
    /// `qmp_capabilities` is on its way; waiting for its reply.
    Negotiating,
    /// Negotiated: commands may be sent.
    Ready,
    /// [`Client::finish`] was called: the stream ended. [`Client::reset`]
    /// starts over for a new connection.
    Closed,
}

/// How [`Client::send`] and [`Client::send_raw`] send a command.
///
/// ```
/// use qwire::qmp::SendOptions;
/// let opts = SendOptions::new().oob().deadline(5_000);
/// assert!(opts.oob && !opts.anonymous);
/// assert_eq!(opts.deadline, Some(5_000));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SendOptions {
    /// Send it as `exec-oob` (out-of-band). Needs `oob` negotiated.
    pub oob: bool,
    /// Send it without an `id`. Its reply is then matched by order alone:
    /// the client still gives it an id of its own (in [`Sent::id`] and in
    /// the events that complete it), it just does not go on the wire. Only
    /// useful with servers that mishandle ids; see the module docs for when
    /// such a reply can be attributed.
    pub anonymous: bool,
    /// When the caller will consider it late, on the caller's own clock
    /// (any unit, e.g. milliseconds; `u64::MAX` means never). See
    /// [`Client::expire`].
    pub deadline: Option<u64>,
}

impl SendOptions {
    /// In band, with an id, no deadline.
    pub const fn new() -> Self {
        SendOptions {
            oob: false,
            anonymous: false,
            deadline: None,
        }
    }

    /// The same, sent out-of-band.
    #[must_use]
    pub const fn oob(mut self) -> Self {
        self.oob = true;
        self
    }

    /// The same, without an id on the wire.
    #[must_use]
    pub const fn anonymous(mut self) -> Self {
        self.anonymous = true;
        self
    }

    /// The same, due at `at` on the caller's clock.
    #[must_use]
    pub const fn deadline(mut self, at: u64) -> Self {
        self.deadline = Some(at);
        self
    }
}

/// A command written by [`Client::send`] / [`Client::send_raw`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sent {
    /// The id that names this command in the events that complete it.
    pub id: u64,
    /// Bytes written at the start of the output buffer: send all of them.
    pub len: usize,
}

/// Why a command was not written. Nothing changes in the client when
/// sending fails (no id is used up, no slot taken).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SendError {
    /// Not now: commands go out only in [`ClientState::Ready`], the
    /// negotiation only in [`ClientState::Greeted`].
    NotReady(ClientState),
    /// All `N` slots hold commands in flight (abandoned ones included,
    /// until their replies arrive).
    Busy,
    /// `exec-oob` asked for, but `oob` was not negotiated.
    OobNotNegotiated,
    /// `exec-oob` asked for a command whose schema says `allow-oob: false`.
    OobNotAllowed,
    /// The command did not fit the output buffer (or its arguments failed
    /// to encode).
    Write(WriteError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::NotReady(state) => write!(f, "cannot send in state {state:?}"),
            SendError::Busy => f.write_str("too many commands in flight"),
            SendError::OobNotNegotiated => f.write_str("out-of-band execution was not negotiated"),
            SendError::OobNotAllowed => {
                f.write_str("the command does not allow out-of-band execution")
            }
            SendError::Write(e) => write!(f, "cannot write the command: {e}"),
        }
    }
}

impl From<WriteError> for SendError {
    fn from(e: WriteError) -> Self {
        SendError::Write(e)
    }
}

/// What one call of [`Client::feed`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientEvent<'a> {
    /// The input was used up without completing a message.
    NeedMore,
    /// The server's greeting. Its version and whether it offers `oob` are
    /// also kept by the client ([`Client::server_version`],
    /// [`Client::oob_offered`]); anything else must be read here.
    Greeting(Greeting<'a>),
    /// `qmp_capabilities` succeeded: commands may be sent.
    Negotiated {
        /// Out-of-band execution is on.
        oob: bool,
    },
    /// `qmp_capabilities` failed; the client is back in
    /// [`ClientState::Greeted`].
    NegotiationFailed {
        /// The error class.
        class: Str<'a>,
        /// The server's description.
        desc: Str<'a>,
    },
    /// A command succeeded.
    Return {
        /// The command's id.
        id: u64,
        /// The `return` value, to decode e.g. with
        /// [`decode_return`](crate::codec::decode_return).
        value: Json<'a>,
    },
    /// A command failed.
    Error {
        /// The command's id.
        id: u64,
        /// The error class (`GenericError`, `CommandNotFound`, ...).
        class: Str<'a>,
        /// The server's description.
        desc: Str<'a>,
    },
    /// A message longer than the frame buffer was skipped (the stream stays
    /// in step). `id` is the command whose reply it was, when that can be
    /// told from the order of replies; that command is complete. `None`:
    /// it cannot be told (see the module docs); it may have been an event.
    TooLarge {
        /// The command it completes, if known.
        id: Option<u64>,
        /// Its length in bytes.
        len: u64,
    },
    /// An asynchronous event.
    Event(envelope::Event<'a>),
    /// The reply to a command the caller had abandoned (it is now
    /// complete and its slot free). `reply` is `None` when the reply was
    /// too large to keep.
    Late {
        /// The abandoned command's id.
        id: u64,
        /// The reply.
        reply: Option<Message<'a>>,
    },
    /// A message that answers nothing in flight: an error without an id (a
    /// server's answer to bad input), a reply with an id this client did not
    /// assign or no longer waits for, a greeting out of turn, or anything
    /// else that is not a reply or an event. Not fatal.
    Unsolicited(Message<'a>),
    /// The server sent bytes that are not JSON (or a 0xFF byte, `error`
    /// `None`); the message they belonged to is lost, the next one is read
    /// normally.
    Malformed {
        /// Stream offset of the bad byte.
        at: u64,
        /// What was wrong (`None` for a 0xFF byte).
        error: Option<FrameError>,
    },
}

/// The result of [`Client::feed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received<'a> {
    /// Bytes of the input used; feed the rest again.
    pub consumed: usize,
    /// What they completed.
    pub event: ClientEvent<'a>,
}

/// A command in flight, as listed by [`Client::outstanding`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Outstanding {
    /// Its id.
    pub id: u64,
    /// Sent `exec-oob`.
    pub oob: bool,
    /// Sent without an id.
    pub anonymous: bool,
    /// The caller abandoned it; it keeps its slot (and its place in the
    /// order of replies) until its reply arrives.
    pub abandoned: bool,
    /// Its deadline, if it had one (cleared when abandoned).
    pub deadline: Option<u64>,
}

/// How the stream ended, from [`Client::finish`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ended {
    /// The stream stopped in the middle of a message.
    pub truncated: bool,
    /// Commands that were still in flight (they will never be answered on
    /// this connection; [`Client::outstanding`] still lists them until
    /// [`Client::reset`]).
    pub outstanding: usize,
}

/// A slot's deadline when it has none.
const NEVER: u64 = u64::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    id: u64,
    /// [`NEVER`] for none (keeps the slot at 24 bytes).
    deadline: u64,
    oob: bool,
    anonymous: bool,
    abandoned: bool,
}

/// Everything but the framer, so that a frame borrowed from the framer can
/// be handled while the bookkeeping changes.
#[derive(Debug)]
struct Book<const N: usize> {
    state: ClientState,
    version: Option<(u64, u64, u64)>,
    oob_offered: bool,
    oob_requested: bool,
    oob: bool,
    next_id: u64,
    negotiation_id: u64,
    /// In flight, in order of sending within equal ids (ids grow).
    slots: [Option<Slot>; N],
}

/// A QMP client session (sans-IO): feed it the server's bytes, get events;
/// ask it to write commands into your buffer, send them yourself.
///
/// `N` is the most commands in flight at once (QEMU queues at most 8
/// in-band commands with `oob` on). The frame buffer given to [`Client::new`]
/// bounds the largest message it hands out: a larger one is skipped and
/// reported as [`ClientEvent::TooLarge`].
///
/// `size_of::<Client<'_, N>>()` is 248 + 24 × `N` bytes on 64-bit targets
/// (440 for the default 8): the framer's 192, 24 per command slot, and the
/// bookkeeping.
///
/// See the [module documentation](super) for a complete example.
#[derive(Debug)]
pub struct Client<'b, const N: usize = 8> {
    framer: Framer<'b>,
    book: Book<N>,
}

impl<'b, const N: usize> Client<'b, N> {
    /// A client for a fresh connection, keeping partial messages in `buf`.
    /// Messages longer than `buf` are skipped (see [`ClientEvent::TooLarge`]);
    /// QEMU's greeting needs about 150 bytes, most replies a few KiB.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Client {
            framer: Framer::new(buf, Config::DEFAULT),
            book: Book {
                state: ClientState::AwaitingGreeting,
                version: None,
                oob_offered: false,
                oob_requested: false,
                oob: false,
                next_id: 0,
                negotiation_id: 0,
                slots: [None; N],
            },
        }
    }

    /// Where the session is.
    pub fn state(&self) -> ClientState {
        self.book.state
    }

    /// QEMU's `(major, minor, micro)` from the greeting.
    pub fn server_version(&self) -> Option<(u64, u64, u64)> {
        self.book.version
    }

    /// The greeting offered the `oob` capability.
    pub fn oob_offered(&self) -> bool {
        self.book.oob_offered
    }

    /// Out-of-band execution was negotiated.
    pub fn oob_enabled(&self) -> bool {
        self.book.oob
    }

    /// The id the next command will get. Ids count up from 0 over the
    /// client's life (also across [`Client::reset`]); the negotiation takes
    /// one too.
    pub fn next_id(&self) -> u64 {
        self.book.next_id
    }

    /// Feed bytes from the server. Returns at the first complete event (or
    /// with [`ClientEvent::NeedMore`] when the input is used up); call again
    /// with the rest of the input.
    pub fn feed<'a>(&'a mut self, input: &'a [u8]) -> Received<'a> {
        let fed = self.framer.feed(input);
        let event = match fed.event {
            FrameEvent::NeedMore => ClientEvent::NeedMore,
            FrameEvent::Frame(frame) => self.book.on_message(classify(frame.json())),
            FrameEvent::TooLarge { len, .. } => self.book.on_too_large(len),
            FrameEvent::Error { error, .. } => ClientEvent::Malformed {
                at: error.at,
                error: Some(error),
            },
            FrameEvent::Sentinel { at, .. } => ClientEvent::Malformed { at, error: None },
        };
        Received {
            consumed: fed.consumed,
            event,
        }
    }

    /// Write `qmp_capabilities` into `out` (with `enable: ["oob"]` when
    /// `want_oob` and the greeting offered it). Completed by
    /// [`ClientEvent::Negotiated`] or [`ClientEvent::NegotiationFailed`],
    /// or by [`ClientEvent::TooLarge`] with the negotiation's own id if the
    /// message where its reply was due does not fit the buffer (the client
    /// is then back in [`ClientState::Greeted`], as after a failure). The
    /// negotiation uses an id like any command (0 on a fresh client).
    ///
    /// # Errors
    ///
    /// [`SendError::NotReady`] unless the greeting has arrived and nothing
    /// else was negotiated yet; [`SendError::Write`] if `out` is too small
    /// (about 80 bytes are needed).
    pub fn negotiate(&mut self, want_oob: bool, out: &mut [u8]) -> Result<usize, SendError> {
        let book = &mut self.book;
        if book.state != ClientState::Greeted {
            return Err(SendError::NotReady(book.state));
        }
        let oob = want_oob && book.oob_offered;
        let id = book.next_id;
        let enable = EncodeWith(|w: &mut JsonWriter<'_>| {
            w.begin_object()?;
            w.key("enable")?;
            w.begin_array()?;
            w.string("oob")?;
            w.end_array()?;
            w.end_object()
        });
        let arguments: Option<&dyn Encode> = if oob { Some(&enable) } else { None };
        let len = write_out(out, |w| {
            envelope::write_command(w, "qmp_capabilities", arguments, Some(&id), false)
        })?;
        book.next_id += 1;
        book.negotiation_id = id;
        book.oob_requested = oob;
        book.state = ClientState::Negotiating;
        Ok(len)
    }

    /// Write command `C` with `args` into `out`. Its reply is reported
    /// with the returned [`Sent::id`]; decode a `Return` value with
    /// [`decode_return::<C>`](crate::codec::decode_return).
    ///
    /// # Errors
    ///
    /// See [`SendError`]; also [`SendError::OobNotAllowed`] for
    /// `exec-oob` of a command whose schema does not allow it.
    pub fn send<C: Command>(
        &mut self,
        args: &C::Args,
        opts: SendOptions,
        out: &mut [u8],
    ) -> Result<Sent, SendError> {
        if opts.oob && !C::ALLOW_OOB {
            return Err(SendError::OobNotAllowed);
        }
        let arguments: Option<&dyn Encode> = if C::HAS_ARGS { Some(args) } else { None };
        self.send_raw(C::NAME, arguments, opts, out)
    }

    /// Write a command by name, with `arguments` (an object: a [`Json`]
    /// span, a generated type, or an [`EncodeWith`] closure) or none. For
    /// commands the generated schema does not have (`query-status`,
    /// `cont`, ...).
    ///
    /// # Errors
    ///
    /// See [`SendError`].
    pub fn send_raw(
        &mut self,
        name: &str,
        arguments: Option<&dyn Encode>,
        opts: SendOptions,
        out: &mut [u8],
    ) -> Result<Sent, SendError> {
        let book = &mut self.book;
        if book.state != ClientState::Ready {
            return Err(SendError::NotReady(book.state));
        }
        if opts.oob && !book.oob {
            return Err(SendError::OobNotNegotiated);
        }
        let free = book
            .slots
            .iter()
            .position(Option::is_none)
            .ok_or(SendError::Busy)?;
        let id = book.next_id;
        let wire_id: Option<&dyn Encode> = if opts.anonymous { None } else { Some(&id) };
        let len = write_out(out, |w| {
            envelope::write_command(w, name, arguments, wire_id, opts.oob)
        })?;
        if let Some(slot) = book.slots.get_mut(free) {
            *slot = Some(Slot {
                id,
                deadline: opts.deadline.unwrap_or(NEVER),
                oob: opts.oob,
                anonymous: opts.anonymous,
                abandoned: false,
            });
        }
        book.next_id += 1;
        Ok(Sent { id, len })
    }

    /// The commands in flight, oldest first.
    pub fn outstanding(&self) -> impl Iterator<Item = Outstanding> + '_ {
        let mut order = self.book.slots;
        order.sort_unstable_by_key(|s| s.map_or(u64::MAX, |s| s.id));
        order.into_iter().flatten().map(|s| Outstanding {
            id: s.id,
            oob: s.oob,
            anonymous: s.anonymous,
            abandoned: s.abandoned,
            deadline: Some(s.deadline).filter(|&d| d != NEVER),
        })
    }

    /// Commands in flight (abandoned ones included).
    pub fn in_flight(&self) -> usize {
        self.book.slots.iter().flatten().count()
    }

    /// Give up waiting for command `id`. Its reply, if it ever comes, is
    /// reported as [`ClientEvent::Late`]; until then it keeps its slot, so
    /// that replies that can only be matched by order still are. Returns
    /// `false` if `id` is not in flight (or already abandoned).
    pub fn abandon(&mut self, id: u64) -> bool {
        match self
            .book
            .slots
            .iter_mut()
            .flatten()
            .find(|s| s.id == id && !s.abandoned)
        {
            Some(slot) => {
                slot.abandoned = true;
                slot.deadline = NEVER;
                true
            }
            None => false,
        }
    }

    /// The earliest deadline among the commands in flight: when the
    /// caller should next call [`Client::expire`].
    pub fn next_deadline(&self) -> Option<u64> {
        self.book
            .slots
            .iter()
            .flatten()
            .map(|s| s.deadline)
            .filter(|&d| d != NEVER)
            .min()
    }

    /// Abandon the command whose deadline is earliest, if it is at or
    /// before `now`, and return its id (call again until `None`). The
    /// abandoned command's reply is later reported as [`ClientEvent::Late`].
    pub fn expire(&mut self, now: u64) -> Option<u64> {
        let (_, id) = self
            .book
            .slots
            .iter()
            .flatten()
            .filter(|s| s.deadline != NEVER && s.deadline <= now)
            .map(|s| (s.deadline, s.id))
            .min()?;
        self.abandon(id);
        Some(id)
    }

    /// The connection ended: a partial message is dropped. Nothing more can
    /// be sent; [`Client::reset`] prepares for a new connection.
    pub fn finish(&mut self) -> Ended {
        let truncated = !matches!(self.framer.finish(), End::Clean);
        self.book.state = ClientState::Closed;
        Ended {
            truncated,
            outstanding: self.in_flight(),
        }
    }

    /// Start over for a new connection (QEMU greets every connection and
    /// negotiates afresh): partial input and every command in flight are
    /// dropped. Ids keep counting, so a reply from the old connection
    /// cannot be taken for one on the new.
    pub fn reset(&mut self) {
        self.framer.reset();
        let next_id = self.book.next_id;
        self.book = Book {
            state: ClientState::AwaitingGreeting,
            version: None,
            oob_offered: false,
            oob_requested: false,
            oob: false,
            next_id,
            negotiation_id: 0,
            slots: [None; N],
        };
    }
}

/// Write one message into `out`; its length.
fn write_out(
    out: &mut [u8],
    build: impl FnOnce(&mut JsonWriter<'_>) -> Result<(), WriteError>,
) -> Result<usize, WriteError> {
    let mut w = JsonWriter::new(out);
    build(&mut w)?;
    Ok(w.finish()?.len())
}

/// What a reply says about who it answers.
enum Owner {
    /// The slot at this index.
    Slot(usize),
    /// Nobody in flight.
    Nobody,
}

impl<const N: usize> Book<N> {
    fn on_message<'a>(&mut self, msg: Message<'a>) -> ClientEvent<'a> {
        match msg {
            Message::Event(e) => ClientEvent::Event(e),
            Message::Greeting(g) if self.state == ClientState::AwaitingGreeting => {
                self.version = g.qemu_version();
                self.oob_offered = g.has_capability("oob");
                self.state = ClientState::Greeted;
                ClientEvent::Greeting(g)
            }
            Message::Return(r) if self.answers_negotiation(r.id) => {
                self.oob = self.oob_requested;
                self.state = ClientState::Ready;
                ClientEvent::Negotiated { oob: self.oob }
            }
            Message::Error(e) if self.answers_negotiation(e.id) => {
                self.state = ClientState::Greeted;
                ClientEvent::NegotiationFailed {
                    class: e.class,
                    desc: e.desc,
                }
            }
            Message::Return(r) => match self.owner(r.id) {
                Owner::Slot(i) => {
                    self.complete(i, msg, |id| ClientEvent::Return { id, value: r.value })
                }
                Owner::Nobody => ClientEvent::Unsolicited(msg),
            },
            Message::Error(e) => match self.owner(e.id) {
                Owner::Slot(i) => self.complete(i, msg, |id| ClientEvent::Error {
                    id,
                    class: e.class,
                    desc: e.desc,
                }),
                Owner::Nobody => ClientEvent::Unsolicited(msg),
            },
            other => ClientEvent::Unsolicited(other),
        }
    }

    /// A reply with this id answers the negotiation in flight (QEMU echoes
    /// the id; a reply without one is accepted too, since nothing else can
    /// be in flight then).
    fn answers_negotiation(&self, id: Option<Json<'_>>) -> bool {
        self.state == ClientState::Negotiating
            && id.is_none_or(|id| id.as_u64() == Some(self.negotiation_id))
    }

    /// Free slot `i` and report its completion.
    fn complete<'a>(
        &mut self,
        i: usize,
        msg: Message<'a>,
        event: impl FnOnce(u64) -> ClientEvent<'a>,
    ) -> ClientEvent<'a> {
        match self.slots.get_mut(i).and_then(Option::take) {
            Some(slot) if slot.abandoned => ClientEvent::Late {
                id: slot.id,
                reply: Some(msg),
            },
            Some(slot) => event(slot.id),
            None => ClientEvent::Unsolicited(msg),
        }
    }

    /// The slot a reply belongs to. With an id: the command sent with that
    /// id. Without: the command that must be answered next, if it was sent
    /// without an id.
    fn owner(&self, id: Option<Json<'_>>) -> Owner {
        if !matches!(self.state, ClientState::Ready | ClientState::Closed) {
            return Owner::Nobody;
        }
        match id {
            Some(id) => {
                let Some(id) = id.as_u64() else {
                    return Owner::Nobody;
                };
                self.slots
                    .iter()
                    .position(|s| s.is_some_and(|s| s.id == id && !s.anonymous))
                    .map_or(Owner::Nobody, Owner::Slot)
            }
            None => match self.next_by_order() {
                Some(i)
                    if self
                        .slots
                        .get(i)
                        .copied()
                        .flatten()
                        .is_some_and(|s| s.anonymous) =>
                {
                    Owner::Slot(i)
                }
                _ => Owner::Nobody,
            },
        }
    }

    /// The command whose reply must come next, when the order of replies
    /// says so: the oldest one while no out-of-band command is in flight
    /// (the server answers in-band commands in order), or the only one.
    fn next_by_order(&self) -> Option<usize> {
        let mut oldest: Option<(usize, u64)> = None;
        let mut count = 0usize;
        let mut any_oob = false;
        for (i, slot) in self.slots.iter().enumerate() {
            if let Some(s) = slot {
                count += 1;
                any_oob |= s.oob;
                if oldest.is_none_or(|(_, id)| s.id < id) {
                    oldest = Some((i, s.id));
                }
            }
        }
        if any_oob && count > 1 {
            return None;
        }
        oldest.map(|(i, _)| i)
    }

    fn on_too_large<'a>(&mut self, len: u64) -> ClientEvent<'a> {
        match self.state {
            ClientState::Negotiating => {
                self.state = ClientState::Greeted;
                ClientEvent::TooLarge {
                    id: Some(self.negotiation_id),
                    len,
                }
            }
            ClientState::Ready | ClientState::Closed => {
                let slot = self
                    .next_by_order()
                    .and_then(|i| self.slots.get_mut(i))
                    .and_then(Option::take);
                match slot {
                    Some(s) if s.abandoned => ClientEvent::Late {
                        id: s.id,
                        reply: None,
                    },
                    Some(s) => ClientEvent::TooLarge {
                        id: Some(s.id),
                        len,
                    },
                    None => ClientEvent::TooLarge { id: None, len },
                }
            }
            ClientState::AwaitingGreeting | ClientState::Greeted => {
                ClientEvent::TooLarge { id: None, len }
            }
        }
    }
}
