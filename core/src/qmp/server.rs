//! The QMP server session: see the [module documentation](super) for the
//! contract and [`Server`] for the API.

use core::fmt;

use crate::codec::{self, DecodeError, DecodeErrorKind, Field, Mode};
use crate::dispatch::{
    self, check_request, write_framing_error, write_refusal, ErrorClass, Handler, Output, Request,
};
use crate::envelope::{self, Timestamp, VersionRef};
use crate::framer::{Config, Event as FrameEvent, Framer};
use crate::json::{Encode, Json, WriteError};

/// QMP's line terminator: QEMU ends every message with CR LF.
pub const TERMINATOR: &[u8] = b"\r\n";

/// Where a [`Server`] is in the session (see the state table in the
/// [module documentation](super)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// A fresh connection: the greeting has not been written yet.
    Greeting,
    /// Greeted; only `qmp_capabilities` runs.
    Negotiation,
    /// Negotiated: the handler's commands run and events may be emitted.
    Command,
}

/// What one call of [`Server::feed`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Step {
    /// Bytes of the input used; feed the rest again.
    pub consumed: usize,
    /// Bytes written at the start of the output buffer: send all of them.
    pub written: usize,
    /// A message did not fit the output buffer and was dropped (the
    /// handler's replies fall back to a short error first; see
    /// [`Reply`](crate::dispatch::Reply)).
    pub overflow: bool,
}

/// Why [`Server::event`] wrote nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventError {
    /// Events are not sent before negotiation completes (QEMU drops them).
    NotNegotiated,
    /// It did not fit the output buffer (or its data failed to encode).
    Write(WriteError),
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::NotNegotiated => f.write_str("capabilities not negotiated yet"),
            EventError::Write(e) => write!(f, "cannot write the event: {e}"),
        }
    }
}

impl From<WriteError> for EventError {
    fn from(e: WriteError) -> Self {
        EventError::Write(e)
    }
}

#[derive(Clone, Copy, Debug)]
struct Book<'b> {
    state: ServerState,
    version: VersionRef<'b>,
    offer_oob: bool,
    oob: bool,
}

/// A QMP server session (sans-IO): feed it the client's bytes and your
/// [`Handler`], send what it writes.
///
/// The frame buffer given to [`Server::new`] bounds the largest request;
/// a larger one is answered with QEMU's `JSON token size limit exceeded`
/// error and skipped. The output buffer of each call should hold at least
/// [`MIN_OUTPUT`](crate::dispatch::MIN_OUTPUT) bytes plus the largest
/// reply (and events) one command produces.
///
/// `size_of::<Server<'_>>()` is 240 bytes on 64-bit targets (the framer's
/// 192 plus the version and state).
///
/// See the [module documentation](super) for a complete example.
#[derive(Debug)]
pub struct Server<'b> {
    framer: Framer<'b>,
    book: Book<'b>,
}

impl<'b> Server<'b> {
    /// A server for a fresh connection, keeping partial requests in `buf`,
    /// greeting with `version` and offering `oob` if `offer_oob` (QEMU
    /// offers it on sockets). Input is read in QEMU's dialect
    /// ([`Config::QEMU_INPUT`]: single-quoted strings accepted).
    pub fn new(buf: &'b mut [u8], version: VersionRef<'b>, offer_oob: bool) -> Self {
        Server {
            framer: Framer::new(buf, Config::QEMU_INPUT),
            book: Book {
                state: ServerState::Greeting,
                version,
                offer_oob,
                oob: false,
            },
        }
    }

    /// Where the session is.
    pub fn state(&self) -> ServerState {
        self.book.state
    }

    /// Out-of-band execution was negotiated.
    pub fn oob_enabled(&self) -> bool {
        self.book.oob
    }

    /// Write the greeting (`{"QMP": {"version": ..., "capabilities":
    /// [...]}}` and CR LF) into `out`, if it has not been written yet; the
    /// bytes written (0 if it had been). [`Server::feed`] writes it too,
    /// before anything else, so calling this is only needed to greet before
    /// the client says anything (QEMU greets at once).
    ///
    /// # Errors
    ///
    /// [`WriteError::BufferFull`] if `out` is too small (about 100 bytes
    /// plus the package string).
    pub fn greeting(&mut self, out: &mut [u8]) -> Result<usize, WriteError> {
        let mut output = Output::new(out, TERMINATOR);
        self.book.greet(&mut output)?;
        Ok(output.len())
    }

    /// Feed bytes from the client: at most one request (or one piece of bad
    /// input) is handled per call, and its answer written into `out`
    /// (preceded by the greeting if it was not written yet). Call again with
    /// the rest of the input.
    pub fn feed<H: Handler + ?Sized>(
        &mut self,
        input: &[u8],
        out: &mut [u8],
        handler: &mut H,
    ) -> Step {
        let mut output = Output::new(out, TERMINATOR);
        let mut overflow = self.book.greet(&mut output).is_err();
        let fed = self.framer.feed(input);
        match fed.event {
            FrameEvent::NeedMore => {}
            FrameEvent::Frame(frame) => {
                overflow |= self.book.on_request(frame.json(), &mut output, handler)
            }
            event => {
                overflow |= output
                    .message(&[], |w| write_framing_error(w, &event).map(|_| ()))
                    .is_err()
            }
        }
        Step {
            consumed: fed.consumed,
            written: output.len(),
            overflow,
        }
    }

    /// Write event `name` with `data` and the caller's `timestamp` into
    /// `out`; the bytes written.
    ///
    /// # Errors
    ///
    /// [`EventError::NotNegotiated`] before `qmp_capabilities` succeeded
    /// (QEMU sends no events then), [`EventError::Write`] if it does not fit.
    pub fn event(
        &mut self,
        name: &str,
        data: Option<&dyn Encode>,
        timestamp: Timestamp,
        out: &mut [u8],
    ) -> Result<usize, EventError> {
        if self.book.state != ServerState::Command {
            return Err(EventError::NotNegotiated);
        }
        let mut output = Output::new(out, TERMINATOR);
        output.message(&[], |w| envelope::write_event(w, name, data, timestamp))?;
        Ok(output.len())
    }

    /// [`Server::event`] for a typed event of the generated schema.
    ///
    /// # Errors
    ///
    /// As [`Server::event`].
    pub fn emit<E: codec::Event>(
        &mut self,
        data: &E::Data,
        timestamp: Timestamp,
        out: &mut [u8],
    ) -> Result<usize, EventError> {
        let data: Option<&dyn Encode> = if E::HAS_DATA { Some(data) } else { None };
        self.event(E::NAME, data, timestamp, out)
    }

    /// The connection ended (or a new one starts): partial input is dropped
    /// and the next connection is greeted and negotiates afresh, as in QEMU.
    pub fn reset(&mut self) {
        self.framer.reset();
        self.book.state = ServerState::Greeting;
        self.book.oob = false;
    }
}

/// `qmp_capabilities`' arguments (QEMU ≥ 3.0): `{"enable": ["oob"]}`.
const CAPABILITY_FIELDS: &[Field] = &[Field::optional("enable")];
/// The capabilities QEMU defines (`QMPCapability`).
const CAPABILITY_NAMES: &[&str] = &["oob"];

/// Decode `qmp_capabilities`' arguments strictly, with QEMU's messages;
/// how many times `oob` is asked for.
fn capability_args(arguments: Option<Json<'_>>) -> Result<usize, DecodeError<'_>> {
    let v = arguments.unwrap_or(codec::EMPTY_OBJECT);
    codec::expect_object(v)?;
    let mut oob = 0usize;
    if let Some(list) = codec::find_member(v, "enable") {
        if list.kind() != crate::json::Kind::Array {
            return Err(DecodeError::new(DecodeErrorKind::WrongType("array"))
                .with_value(list)
                .in_member(&"enable"));
        }
        for (i, element) in list.elements().enumerate() {
            // Strict: an unknown name is an error, so every Ok is "oob".
            let _known = codec::enum_index(element, Mode::Strict, CAPABILITY_NAMES)
                .map_err(|e| e.in_element(i).in_member(&"enable"))?;
            oob += 1;
        }
    }
    codec::check_members(v, Mode::Strict, &[CAPABILITY_FIELDS])?;
    Ok(oob)
}

/// `Capability oob not available`, the name repeated as often as asked.
struct Unavailable(usize);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Capability ")?;
        for i in 0..self.0 {
            f.write_str(if i == 0 { "oob" } else { ", oob" })?;
        }
        f.write_str(" not available")
    }
}

impl Book<'_> {
    /// Write the greeting if it is due.
    fn greet(&mut self, out: &mut Output<'_>) -> Result<(), WriteError> {
        if self.state != ServerState::Greeting {
            return Ok(());
        }
        let caps: &[&str] = if self.offer_oob { &["oob"] } else { &[] };
        let version = self.version;
        out.message(&[], |w| envelope::write_greeting(w, version, caps))?;
        self.state = ServerState::Negotiation;
        Ok(())
    }

    /// Answer one request; `true` if an answer did not fit.
    fn on_request<H: Handler + ?Sized>(
        &mut self,
        v: Json<'_>,
        out: &mut Output<'_>,
        handler: &mut H,
    ) -> bool {
        let request = match check_request(v, self.oob) {
            Ok(request) => request,
            Err(refused) => return out.message(&[], |w| write_refusal(w, &refused)).is_err(),
        };
        if request.name.eq_str("qmp_capabilities") {
            return self.capabilities(&request, out);
        }
        if self.state != ServerState::Command {
            return error(
                out,
                &request,
                ErrorClass::CommandNotFound,
                format_args!("Expecting capabilities negotiation with 'qmp_capabilities'"),
            );
        }
        let answered = dispatch::dispatch(handler, &request, out);
        answered.outcome() == dispatch::Outcome::Overflow
    }

    /// The built-in `qmp_capabilities`.
    fn capabilities(&mut self, request: &Request<'_>, out: &mut Output<'_>) -> bool {
        let oob = match capability_args(request.arguments) {
            Ok(oob) => oob,
            Err(e) => return error(out, request, ErrorClass::GenericError, format_args!("{e}")),
        };
        if self.state == ServerState::Command {
            return error(
                out,
                request,
                ErrorClass::CommandNotFound,
                format_args!("Capabilities negotiation is already complete, command ignored"),
            );
        }
        if oob > 0 && !self.offer_oob {
            return error(
                out,
                request,
                ErrorClass::GenericError,
                format_args!("{}", Unavailable(oob)),
            );
        }
        let id = request.id;
        let id = id.as_ref().map(|i| i as &dyn Encode);
        if out
            .message(&[], |w| {
                envelope::write_return(w, &crate::json::EmptyObject, id)
            })
            .is_err()
        {
            return true;
        }
        self.oob = oob > 0;
        self.state = ServerState::Command;
        false
    }
}

/// Write an error reply echoing the request's id; `true` if it did not fit.
fn error(
    out: &mut Output<'_>,
    request: &Request<'_>,
    class: ErrorClass,
    desc: fmt::Arguments<'_>,
) -> bool {
    out.message(&[], |w| dispatch::write_error(w, class, desc, request.id))
        .is_err()
}
