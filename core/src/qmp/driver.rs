//! I/O drivers around the sessions: the same code for blocking
//! `embedded_io` and for `embedded_io_async`, written once in
//! [`drivers!`] and instantiated as [`io`](super::io) and
//! [`io_async`](super::io_async).

use core::fmt;

use crate::json::Str;

use super::{EventError, SendError};

/// Most bytes of an error class a [`Failure`] keeps.
pub const CLASS_CAPACITY: usize = 32;
/// Most bytes of an error description a [`Failure`] (or a decode error
/// message in [`Error::Decode`]) keeps; longer ones are cut at a character
/// boundary.
pub const DESC_CAPACITY: usize = 160;

/// An error reply, copied out of the frame buffer (class and description
/// cut to [`CLASS_CAPACITY`] and [`DESC_CAPACITY`] bytes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Failure {
    /// The error class, e.g. `CommandNotFound`.
    pub class: heapless::String<CLASS_CAPACITY>,
    /// The server's description.
    pub desc: heapless::String<DESC_CAPACITY>,
}

impl Failure {
    pub(crate) fn new(class: Str<'_>, desc: Str<'_>) -> Self {
        let mut f = Failure::default();
        push_chars(&mut f.class, class.chars());
        push_chars(&mut f.desc, desc.chars());
        f
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.desc)
    }
}

fn push_chars<const N: usize>(s: &mut heapless::String<N>, chars: impl Iterator<Item = char>) {
    for c in chars {
        if s.push(c).is_err() {
            break;
        }
    }
}

/// A `fmt::Write` into a fixed string that drops what does not fit.
pub(crate) struct Truncating<'s, const N: usize>(pub(crate) &'s mut heapless::String<N>);

impl<const N: usize> fmt::Write for Truncating<'_, N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_chars(self.0, s.chars());
        Ok(())
    }
}

/// What went wrong in a driver call. `E` is the transport's error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error<E> {
    /// The transport failed.
    Io(E),
    /// The peer closed the connection before the awaited message.
    Closed,
    /// The command could not be written (see [`SendError`]).
    Send(SendError),
    /// The event could not be written (see [`EventError`]).
    Event(EventError),
    /// The server answered with an error (for `connect`: the negotiation
    /// failed).
    Failed(Failure),
    /// The reply was longer than the frame buffer (it was skipped).
    TooLarge {
        /// Its length in bytes.
        len: u64,
    },
    /// The reply did not decode as the command's return type; QEMU-style
    /// message.
    Decode(heapless::String<DESC_CAPACITY>),
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e:?}"),
            Error::Closed => f.write_str("connection closed"),
            Error::Send(e) => e.fmt(f),
            Error::Event(e) => e.fmt(f),
            Error::Failed(e) => e.fmt(f),
            Error::TooLarge { len } => {
                write!(f, "reply of {len} bytes is larger than the frame buffer")
            }
            Error::Decode(m) => write!(f, "reply does not decode: {m}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

impl<E> From<SendError> for Error<E> {
    fn from(e: SendError) -> Self {
        Error::Send(e)
    }
}

impl<E> From<EventError> for Error<E> {
    fn from(e: EventError) -> Self {
        Error::Event(e)
    }
}

/// The driver types, over the I/O traits of module `$traits`; `[$($a)*]`
/// is `async` or nothing, `[$($w)*]` is `.await` or nothing.
macro_rules! drivers {
    ($traits:ident, [$($a:tt)*], [$($w:tt)*]) => {
        use core::ops::ControlFlow;

        use $traits::{Read, Write};

        use crate::codec::{Command, Decode, Mode};
        use crate::dispatch::Handler;
        use crate::envelope::{Timestamp, VersionRef};
        use crate::json::{Encode, Json};
        use crate::qmp::driver::{Truncating, DESC_CAPACITY};
        use crate::qmp::{Client, ClientEvent, EventError, SendOptions, Server};

        pub use crate::qmp::driver::{Error, Failure};

        /// A [`Client`] over a byte stream: connect, then execute commands
        /// one at a time, waiting for each reply. Events and anything else
        /// that arrives meanwhile go to the caller's `on_event`.
        ///
        /// Buffers are the caller's: `frame` bounds the largest reply
        /// (see [`Client::new`]), `rx` is the read buffer (any size; 256
        /// bytes or more saves reads), `tx` holds one command.
        #[derive(Debug)]
        pub struct ClientIo<'b, T, const N: usize = 8> {
            io: T,
            client: Client<'b, N>,
            rx: &'b mut [u8],
            start: usize,
            end: usize,
            tx: &'b mut [u8],
        }

        // The errors carry the server's error text inline (about 210
        // bytes): without a heap there is nothing to box it in, and a
        // failed command is not a hot path.
        #[allow(clippy::result_large_err)]
        impl<'b, T: Read + Write, const N: usize> ClientIo<'b, T, N> {
            /// A driver over `io` for a fresh connection.
            pub fn new(io: T, frame: &'b mut [u8], rx: &'b mut [u8], tx: &'b mut [u8]) -> Self {
                ClientIo {
                    io,
                    client: Client::new(frame),
                    rx,
                    start: 0,
                    end: 0,
                    tx,
                }
            }

            /// The session, to inspect (version, state, commands in flight).
            pub fn client(&self) -> &Client<'b, N> {
                &self.client
            }

            /// The transport back.
            pub fn into_inner(self) -> T {
                self.io
            }

            /// Feed what was read, then read more, until `f` breaks;
            /// [`Error::Closed`] at the end of the stream.
            $($a)* fn pump<R>(
                &mut self,
                mut f: impl FnMut(&ClientEvent<'_>) -> ControlFlow<R>,
            ) -> Result<R, Error<T::Error>> {
                loop {
                    while self.start < self.end {
                        let input = self.rx.get(self.start..self.end).unwrap_or_default();
                        let r = self.client.feed(input);
                        // The framer may consume nothing once (a `{` that
                        // ends one value and starts the next); it always
                        // moves on at the following call.
                        self.start += r.consumed;
                        if let ControlFlow::Break(v) = f(&r.event) {
                            return Ok(v);
                        }
                    }
                    self.start = 0;
                    self.end = 0;
                    let n = self.io.read(self.rx) $($w)* .map_err(Error::Io)?;
                    if n == 0 {
                        self.client.finish();
                        return Err(Error::Closed);
                    }
                    self.end = n.min(self.rx.len());
                }
            }

            $($a)* fn write(&mut self, len: usize) -> Result<(), Error<T::Error>> {
                let bytes = self.tx.get(..len).unwrap_or_default();
                self.io.write_all(bytes) $($w)* .map_err(Error::Io)?;
                self.io.flush() $($w)* .map_err(Error::Io)
            }

            /// Read the greeting and negotiate, enabling `oob` if
            /// `want_oob` and the server offers it. Returns whether `oob`
            /// is on.
            ///
            /// # Errors
            ///
            /// [`Error::Failed`] if the server refuses `qmp_capabilities`,
            /// [`Error::Io`] / [`Error::Closed`] from the transport.
            pub $($a)* fn connect(
                &mut self,
                want_oob: bool,
                mut on_event: impl FnMut(&ClientEvent<'_>),
            ) -> Result<bool, Error<T::Error>> {
                self.pump(|ev| match ev {
                    ClientEvent::Greeting(_) => ControlFlow::Break(()),
                    other => {
                        on_event(other);
                        ControlFlow::Continue(())
                    }
                }) $($w)* ?;
                let len = self.client.negotiate(want_oob, self.tx)?;
                self.write(len) $($w)* ?;
                self.pump(|ev| match *ev {
                    ClientEvent::Negotiated { oob } => ControlFlow::Break(Ok(oob)),
                    ClientEvent::NegotiationFailed { class, desc } => {
                        ControlFlow::Break(Err(Error::Failed(Failure::new(class, desc))))
                    }
                    ClientEvent::TooLarge { id: Some(_), len } => {
                        ControlFlow::Break(Err(Error::TooLarge { len }))
                    }
                    ref other => {
                        on_event(other);
                        ControlFlow::Continue(())
                    }
                }) $($w)* ?
            }

            /// Execute command `C` and decode its return value into `out`
            /// (in place: large return types can live in static memory).
            ///
            /// # Errors
            ///
            /// [`Error::Failed`] with the server's error,
            /// [`Error::TooLarge`], [`Error::Decode`], [`Error::Send`],
            /// [`Error::Io`] / [`Error::Closed`].
            pub $($a)* fn execute_into<C: Command>(
                &mut self,
                args: &C::Args,
                out: &mut C::Returns,
                on_event: impl FnMut(&ClientEvent<'_>),
            ) -> Result<(), Error<T::Error>> {
                let sent = self.client.send::<C>(args, SendOptions::new(), self.tx)?;
                self.write(sent.len) $($w)* ?;
                self.wait(sent.id, on_event, |value| {
                    out.decode_into(value, Mode::Lenient).map_err(|e| {
                        let mut text = heapless::String::<DESC_CAPACITY>::new();
                        let _ = core::fmt::write(&mut Truncating(&mut text), format_args!("{e}"));
                        Error::Decode(text)
                    })
                }) $($w)*
            }

            /// [`ClientIo::execute_into`] into a new value.
            ///
            /// # Errors
            ///
            /// As [`ClientIo::execute_into`].
            pub $($a)* fn execute<C: Command>(
                &mut self,
                args: &C::Args,
                on_event: impl FnMut(&ClientEvent<'_>),
            ) -> Result<C::Returns, Error<T::Error>> {
                let mut out = C::Returns::default();
                self.execute_into::<C>(args, &mut out, on_event) $($w)* ?;
                Ok(out)
            }

            /// Execute a command by name with `arguments`; `on_return`
            /// reads the return value in place and its result is returned.
            ///
            /// # Errors
            ///
            /// As [`ClientIo::execute_into`] (no decoding).
            pub $($a)* fn execute_raw<R>(
                &mut self,
                name: &str,
                arguments: Option<&dyn Encode>,
                opts: SendOptions,
                on_return: impl FnOnce(Json<'_>) -> R,
                on_event: impl FnMut(&ClientEvent<'_>),
            ) -> Result<R, Error<T::Error>> {
                let sent = self.client.send_raw(name, arguments, opts, self.tx)?;
                self.write(sent.len) $($w)* ?;
                self.wait(sent.id, on_event, |value| Ok(on_return(value))) $($w)*
            }

            /// Hand out whatever still arrives until the server closes the
            /// connection (after `quit`, say); the session is then
            /// [`Closed`](crate::qmp::ClientState::Closed).
            ///
            /// # Errors
            ///
            /// [`Error::Io`] from the transport.
            pub $($a)* fn drain(
                &mut self,
                mut on_event: impl FnMut(&ClientEvent<'_>),
            ) -> Result<(), Error<T::Error>> {
                let end = self.pump(|ev| {
                    on_event(ev);
                    ControlFlow::<()>::Continue(())
                }) $($w)*;
                match end {
                    Err(Error::Closed) => Ok(()),
                    Err(e) => Err(e),
                    Ok(()) => Ok(()),
                }
            }

            /// Read until command `id` completes.
            $($a)* fn wait<R>(
                &mut self,
                id: u64,
                mut on_event: impl FnMut(&ClientEvent<'_>),
                on_return: impl FnOnce(Json<'_>) -> Result<R, Error<T::Error>>,
            ) -> Result<R, Error<T::Error>> {
                let mut on_return = Some(on_return);
                self.pump(|ev| match *ev {
                    ClientEvent::Return { id: i, value } if i == id => match on_return.take() {
                        Some(f) => ControlFlow::Break(f(value)),
                        None => ControlFlow::Continue(()),
                    },
                    ClientEvent::Error { id: i, class, desc } if i == id => {
                        ControlFlow::Break(Err(Error::Failed(Failure::new(class, desc))))
                    }
                    ClientEvent::TooLarge { id: Some(i), len } if i == id => {
                        ControlFlow::Break(Err(Error::TooLarge { len }))
                    }
                    ref other => {
                        on_event(other);
                        ControlFlow::Continue(())
                    }
                }) $($w)* ?
            }
        }

        /// A [`Server`] over a byte stream, answering with the caller's
        /// [`Handler`].
        ///
        /// Buffers are the caller's: `frame` bounds the largest request,
        /// `rx` is the read buffer, `tx` holds the answer to one request
        /// (at least [`MIN_OUTPUT`](crate::dispatch::MIN_OUTPUT) bytes
        /// plus the largest reply and its events).
        #[derive(Debug)]
        pub struct ServerIo<'b, T> {
            io: T,
            server: Server<'b>,
            rx: &'b mut [u8],
            tx: &'b mut [u8],
        }

        // The errors carry the server's error text inline (about 210
        // bytes): without a heap there is nothing to box it in, and a
        // failed command is not a hot path.
        #[allow(clippy::result_large_err)]
        impl<'b, T: Read + Write> ServerIo<'b, T> {
            /// A driver over `io` for a fresh connection; see
            /// [`Server::new`].
            pub fn new(
                io: T,
                frame: &'b mut [u8],
                version: VersionRef<'b>,
                offer_oob: bool,
                rx: &'b mut [u8],
                tx: &'b mut [u8],
            ) -> Self {
                ServerIo {
                    io,
                    server: Server::new(frame, version, offer_oob),
                    rx,
                    tx,
                }
            }

            /// The session, to inspect.
            pub fn server(&self) -> &Server<'b> {
                &self.server
            }

            /// The transport back.
            pub fn into_inner(self) -> T {
                self.io
            }

            $($a)* fn write(&mut self, len: usize) -> Result<(), Error<T::Error>> {
                if len == 0 {
                    return Ok(());
                }
                let bytes = self.tx.get(..len).unwrap_or_default();
                self.io.write_all(bytes) $($w)* .map_err(Error::Io)?;
                self.io.flush() $($w)* .map_err(Error::Io)
            }

            /// Send the greeting now if it has not been sent (QEMU greets
            /// on connect; [`ServerIo::poll`] does it otherwise).
            ///
            /// # Errors
            ///
            /// [`Error::Io`]; [`Error::Event`] if `tx` cannot hold it.
            pub $($a)* fn greet(&mut self) -> Result<(), Error<T::Error>> {
                let len = self
                    .server
                    .greeting(self.tx)
                    .map_err(|e| Error::Event(EventError::Write(e)))?;
                self.write(len) $($w)*
            }

            /// One read, and every request in it answered through
            /// `handler`. `Ok(false)` when the client closed the
            /// connection (the session is then reset for the next one).
            ///
            /// # Errors
            ///
            /// [`Error::Io`].
            pub $($a)* fn poll<H: Handler + ?Sized>(&mut self, handler: &mut H) -> Result<bool, Error<T::Error>> {
                self.greet() $($w)* ?;
                let n = self.io.read(self.rx) $($w)* .map_err(Error::Io)?;
                if n == 0 {
                    self.server.reset();
                    return Ok(false);
                }
                let mut start = 0usize;
                let end = n.min(self.rx.len());
                while start < end {
                    let input = self.rx.get(start..end).unwrap_or_default();
                    let step = self.server.feed(input, self.tx, handler);
                    start += step.consumed;
                    self.write(step.written) $($w)* ?;
                }
                Ok(true)
            }

            /// Greet, then answer requests until the client closes the
            /// connection (`Ok(())`) or `done` says so after a read (e.g.
            /// once the handler has run `quit`).
            ///
            /// # Errors
            ///
            /// [`Error::Io`].
            pub $($a)* fn serve<H: Handler + ?Sized>(
                &mut self,
                handler: &mut H,
                mut done: impl FnMut(&H) -> bool,
            ) -> Result<(), Error<T::Error>> {
                while self.poll(handler) $($w)* ? {
                    if done(handler) {
                        break;
                    }
                }
                Ok(())
            }

            /// Send an event (not before negotiation; see
            /// [`Server::event`]).
            ///
            /// # Errors
            ///
            /// [`Error::Event`], [`Error::Io`].
            pub $($a)* fn event(
                &mut self,
                name: &str,
                data: Option<&dyn Encode>,
                timestamp: Timestamp,
            ) -> Result<(), Error<T::Error>> {
                let len = self.server.event(name, data, timestamp, self.tx)?;
                self.write(len) $($w)*
            }
        }
    };
}

pub(crate) use drivers;
