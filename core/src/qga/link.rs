//! What the blocking and async client drivers share: a [`SyncClient`] with
//! its receive and transmit buffers, and everything between the I/O calls.

use core::fmt;

#[cfg(feature = "embedded-io")]
use embedded_io::{Error as IoError, ErrorKind};
// The async crate re-exports the same trait and kinds.
#[cfg(not(feature = "embedded-io"))]
use embedded_io_async::{Error as IoError, ErrorKind};

use super::client::{CommandError, Event, SendError, State, SyncClient};
use crate::codec::{Command, Decode, Mode};
use crate::json::{Encode, Json, Str};

/// Why a driver call failed. `E` is the transport's error type; the
/// borrowed texts are copies in the driver's transmit buffer (the request
/// that was there is no longer needed), cut short if it is smaller.
#[derive(Debug, PartialEq, Eq)]
pub enum Error<'d, E> {
    /// The transport failed. The client needs a new sync before its next
    /// command.
    Io(E),
    /// The transport's read or write reported `ErrorKind::TimedOut`: the
    /// caller's deadline passed. The client needs a new sync before its
    /// next command (the driver does it by itself).
    TimedOut,
    /// The transport's read returned 0: the connection is closed.
    Closed,
    /// The request was not written (too large for the transmit buffer).
    Send(SendError),
    /// The agent answered with an error.
    Agent {
        /// Its class, e.g. `CommandNotFound`.
        class: &'d str,
        /// Its description.
        desc: &'d str,
    },
    /// The reply was longer than the receive buffer of the client (it was
    /// skipped; the stream stays usable).
    TooLarge {
        /// Its length in bytes.
        len: u64,
    },
    /// The reply did not decode into the command's return type: the
    /// decoder's message.
    Decode(&'d str),
}

impl<E: fmt::Debug> fmt::Display for Error<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "transport error: {e:?}"),
            Error::TimedOut => f.write_str("timed out waiting for the agent"),
            Error::Closed => f.write_str("the connection to the agent is closed"),
            Error::Send(e) => e.fmt(f),
            Error::Agent { class, desc } => write!(f, "{class}: {desc}"),
            Error::TooLarge { len } => write!(f, "reply of {len} bytes is too large"),
            Error::Decode(m) => write!(f, "reply does not decode: {m}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<'_, E> {}

/// A reply handler that is never called (while syncing).
pub(crate) type NoReply = Option<fn(Json<'_>, &mut [u8]) -> Result<(), usize>>;

/// How [`Link::absorb`] stopped.
pub(crate) enum Absorbed<R> {
    /// The buffered input is used up without reaching the goal.
    NeedInput,
    /// Synchronised.
    Synced,
    /// The command succeeded; the reply handler's result.
    Replied(R),
    /// The reply handler failed; its message is `tx[..n]`.
    HandlerFailed(usize),
    /// The agent failed the command: class in `tx[..class]`, desc in
    /// `tx[class..class + desc]`.
    AgentError { class: usize, desc: usize },
    /// The reply was too large.
    TooLarge(u64),
}

/// A client with its buffers.
#[derive(Debug)]
pub(crate) struct Link<'b> {
    pub(crate) client: SyncClient<'b>,
    rx: &'b mut [u8],
    /// Unconsumed input is `rx[start..end]`.
    start: usize,
    end: usize,
    pub(crate) tx: &'b mut [u8],
    pub(crate) next_sync: i64,
}

impl<'b> Link<'b> {
    pub(crate) fn new(
        client: SyncClient<'b>,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        first_sync_id: i64,
    ) -> Self {
        Link {
            client,
            rx,
            start: 0,
            end: 0,
            tx,
            next_sync: first_sync_id,
        }
    }

    /// Write the next sync request into `tx`; its length.
    pub(crate) fn prepare_sync(&mut self) -> Result<usize, SendError> {
        let id = self.next_sync;
        let len = self.client.sync(id, self.tx)?;
        self.next_sync = id.wrapping_add(1);
        Ok(len)
    }

    /// Write a command into `tx`; its length and whether a reply follows.
    pub(crate) fn prepare_send(
        &mut self,
        name: &str,
        arguments: Option<&dyn Encode>,
        success_response: bool,
    ) -> Result<(usize, bool), SendError> {
        let sent = self
            .client
            .send_raw(name, arguments, success_response, self.tx)?;
        Ok((sent.len, sent.expects_reply))
    }

    pub(crate) fn request(&self, len: usize) -> &[u8] {
        self.tx.get(..len).unwrap_or_default()
    }

    /// Where to read into when the buffered input is used up.
    pub(crate) fn space(&mut self) -> &mut [u8] {
        self.start = 0;
        self.end = 0;
        self.rx
    }

    /// `n` bytes were read into [`Link::space`].
    pub(crate) fn received(&mut self, n: usize) {
        self.start = 0;
        self.end = n.min(self.rx.len());
    }

    pub(crate) fn has_input(&self) -> bool {
        self.start < self.end
    }

    /// The transport failed or timed out.
    pub(crate) fn failed(&mut self) {
        self.client.timeout();
    }

    /// The transport closed.
    pub(crate) fn closed(&mut self) {
        self.start = 0;
        self.end = 0;
        self.client.disconnected();
    }

    /// Feed buffered input until the client syncs or the awaited reply
    /// completes. `on_reply` handles a successful reply; it may write a
    /// message into the scratch buffer and return its length as `Err`.
    pub(crate) fn absorb<R, F>(&mut self, on_reply: &mut Option<F>) -> Absorbed<R>
    where
        F: FnOnce(Json<'_>, &mut [u8]) -> Result<R, usize>,
    {
        let Link {
            client,
            rx,
            start,
            end,
            tx,
            ..
        } = self;
        while *start < *end {
            let input = rx.get(*start..*end).unwrap_or_default();
            let fed = client.feed(input);
            *start += fed.consumed;
            match fed.event {
                Event::Synced { .. } => return Absorbed::Synced,
                Event::Reply(Ok(v)) => {
                    return match on_reply.take() {
                        Some(f) => match f(v, tx) {
                            Ok(r) => Absorbed::Replied(r),
                            Err(n) => Absorbed::HandlerFailed(n),
                        },
                        None => Absorbed::HandlerFailed(0),
                    }
                }
                Event::Reply(Err(CommandError::Agent { class, desc })) => {
                    let class_len = copy_str(class, tx);
                    let desc_len = copy_str(desc, tx.get_mut(class_len..).unwrap_or_default());
                    return Absorbed::AgentError {
                        class: class_len,
                        desc: desc_len,
                    };
                }
                Event::Reply(Err(CommandError::TooLarge { len })) => {
                    return Absorbed::TooLarge(len)
                }
                Event::Nothing | Event::LateError { .. } | Event::Discarded(_) => {}
            }
        }
        Absorbed::NeedInput
    }

    /// The driver's error for a failure (the texts copied into `tx`).
    pub(crate) fn error<E>(&self, fail: Fail<E>) -> Error<'_, E> {
        let absorbed = match fail {
            Fail::Io(e) => return Error::Io(e),
            Fail::TimedOut => return Error::TimedOut,
            Fail::Closed => return Error::Closed,
            Fail::Send(e) => return Error::Send(e),
            Fail::Absorbed(a) => a,
        };
        let text = |from: usize, len: usize| {
            let bytes = self.tx.get(from..from + len).unwrap_or_default();
            core::str::from_utf8(bytes).unwrap_or_default()
        };
        match absorbed {
            Absorbed::HandlerFailed(n) => Error::Decode(text(0, n)),
            Absorbed::AgentError { class, desc } => Error::Agent {
                class: text(0, class),
                desc: text(class, desc),
            },
            Absorbed::TooLarge(len) => Error::TooLarge { len },
            Absorbed::NeedInput | Absorbed::Synced | Absorbed::Replied(()) => Error::Closed,
        }
    }

    pub(crate) fn needs_sync(&self) -> bool {
        self.client.state() != State::Ready
    }
}

/// A failure inside a driver call, before it is turned into an [`Error`]
/// that borrows the driver ([`Link::error`]).
pub(crate) enum Fail<E> {
    Io(E),
    TimedOut,
    Closed,
    Send(SendError),
    Absorbed(Absorbed<()>),
}

/// A transport error as a failure: `TimedOut` when its kind says so (the
/// caller's deadline passed), else the error itself.
pub(crate) fn io_failure<E: IoError>(e: E) -> Fail<E> {
    if e.kind() == ErrorKind::TimedOut {
        Fail::TimedOut
    } else {
        Fail::Io(e)
    }
}

/// Copy a string's characters into `out` as UTF-8, as many whole
/// characters as fit; the length written.
fn copy_str(s: Str<'_>, out: &mut [u8]) -> usize {
    let mut len = 0;
    for c in s.chars() {
        let mut utf8 = [0u8; 4];
        let bytes = c.encode_utf8(&mut utf8).as_bytes();
        match out.get_mut(len..len + bytes.len()) {
            Some(dst) => dst.copy_from_slice(bytes),
            None => break,
        }
        len += bytes.len();
    }
    len
}

/// `fmt::Write` into a byte buffer, cutting short when full.
struct Cut<'a> {
    out: &'a mut [u8],
    len: usize,
}

impl fmt::Write for Cut<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let mut utf8 = [0u8; 4];
            let bytes = c.encode_utf8(&mut utf8).as_bytes();
            match self.out.get_mut(self.len..self.len + bytes.len()) {
                Some(dst) => dst.copy_from_slice(bytes),
                None => return Err(fmt::Error),
            }
            self.len += bytes.len();
        }
        Ok(())
    }
}

/// A reply handler that decodes the return value of `C` into `out`,
/// writing the decoder's message into the scratch buffer on failure.
pub(crate) fn decode_into<C: Command>(
    out: &mut C::Returns,
) -> impl FnOnce(Json<'_>, &mut [u8]) -> Result<(), usize> + '_ {
    move |v, scratch| match out.decode_into(v, Mode::Lenient) {
        Ok(()) => Ok(()),
        Err(e) => {
            let mut cut = Cut {
                out: scratch,
                len: 0,
            };
            let _ = fmt::write(&mut cut, format_args!("{e}"));
            Err(cut.len)
        }
    }
}

/// A command's name, arguments and flag, for the drivers.
pub(crate) fn typed<C: Command>(args: &C::Args) -> (&'static str, Option<&dyn Encode>, bool) {
    let arguments: Option<&dyn Encode> = if C::HAS_ARGS { Some(args) } else { None };
    (C::NAME, arguments, C::SUCCESS_RESPONSE)
}
