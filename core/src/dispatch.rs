//! What the QMP server and the QGA agent have in common: checking a request
//! and wording errors the way QEMU's dispatcher does.
//!
//! QEMU's monitor and qemu-ga share one dispatcher, so they answer bad input
//! alike (reference/protocol.md §3.4). This module holds those rules once:
//!
//! * [`check_request`] applies QEMU's checks in QEMU's order: the input must
//!   be an object (no `id` in the error: QEMU has not read it yet); its
//!   top-level keys may only be `execute`, `exec-oob` (when out-of-band
//!   execution is on), `arguments` and `id`; `execute` must be a string and
//!   `arguments` an object. Every error from here on carries the request's
//!   `id`.
//! * [`write_framing_error`] words an error reply for input the framer
//!   rejected: QEMU's lexer errors quote the offending token
//!   (`JSON parse error, stray '"argu\uFFFD'`), its grammar errors name what
//!   was expected (`JSON parse error, expecting value`). None carries an `id`.
//!
//! * [`Handler`], [`Call`], [`Reply`] and [`dispatch`] are the embedder's
//!   side: a table of commands ([`CommandInfo`]) and one method that answers
//!   a call. [`dispatch`] applies QEMU's checks between request and handler
//!   (unknown command, disabled command, `exec-oob` of a command that does
//!   not allow it), and [`Reply`] makes the handler answer exactly once.
//!   Replies go into an [`Output`]: messages in the caller's buffer, each
//!   followed by the protocol's terminator (`\r\n` for QMP, `\n` for QGA).
//!
//! The checks are pure functions of their input; the sessions decide when to
//! call them.

use core::fmt;

use crate::codec::{self, CommandInfo, Decode, DecodeError, Mode};
use crate::envelope::{self, Timestamp};
use crate::framer::{ErrorKind, Event, Expected, Token};
use crate::json::{Encode, Json, JsonWriter, Kind, Str, WriteError};

/// QMP's error classes (qapi/error.json). Newer QEMUs may add classes; a
/// client keeps unknown ones as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Every error without a more specific class.
    GenericError,
    /// Unknown, disabled or not-yet-negotiated command.
    CommandNotFound,
    /// A device the command needs is not active.
    DeviceNotActive,
    /// A device named in the arguments does not exist.
    DeviceNotFound,
    /// KVM lacks a capability.
    KvmMissingCap,
}

impl ErrorClass {
    /// The class as written on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorClass::GenericError => "GenericError",
            ErrorClass::CommandNotFound => "CommandNotFound",
            ErrorClass::DeviceNotActive => "DeviceNotActive",
            ErrorClass::DeviceNotFound => "DeviceNotFound",
            ErrorClass::KvmMissingCap => "KVMMissingCap",
        }
    }
}

/// A request that passed [`check_request`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The command name.
    pub name: Str<'a>,
    /// `arguments` (an object), if given.
    pub arguments: Option<Json<'a>>,
    /// `id` (any JSON value), if given.
    pub id: Option<Json<'a>>,
    /// It came as `exec-oob`.
    pub oob: bool,
}

/// Why [`check_request`] refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection<'a> {
    /// Not a JSON object.
    NotObject,
    /// One of `execute`, `exec-oob`, `arguments`, `id` appears twice
    /// (QEMU's parser refuses any duplicate key).
    DuplicateKey,
    /// `execute` or `exec-oob` is not a string.
    MustBeString(Str<'a>),
    /// Both `execute` and `exec-oob`.
    Clash(Str<'a>, Str<'a>),
    /// `arguments` is not an object.
    ArgumentsNotObject,
    /// A top-level key that is not allowed here.
    Unexpected(Str<'a>),
    /// Neither `execute` nor `exec-oob`.
    LacksExecute,
}

impl Rejection<'_> {
    /// The error description, exactly as QEMU words it.
    pub fn desc(&self) -> impl fmt::Display + '_ {
        RejectionDesc(self)
    }
}

struct RejectionDesc<'r, 'a>(&'r Rejection<'a>);

impl fmt::Display for RejectionDesc<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Rejection::NotObject => f.write_str("QMP input must be a JSON object"),
            Rejection::DuplicateKey => f.write_str("JSON parse error, duplicate key"),
            Rejection::MustBeString(m) => write!(f, "QMP input member '{m}' must be a string"),
            Rejection::Clash(a, b) => write!(f, "QMP input member '{a}' clashes with '{b}'"),
            Rejection::ArgumentsNotObject => {
                f.write_str("QMP input member 'arguments' must be an object")
            }
            Rejection::Unexpected(m) => write!(f, "QMP input member '{m}' is unexpected"),
            Rejection::LacksExecute => f.write_str("QMP input lacks member 'execute'"),
        }
    }
}

/// A refused request: why, and the `id` to echo (if QEMU would echo one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused<'a> {
    /// Why.
    pub rejection: Rejection<'a>,
    /// The request's `id`, when QEMU had read it before refusing.
    pub id: Option<Json<'a>>,
}

/// Check a request the way QEMU's dispatcher does (see the module docs).
/// `allow_oob`: `exec-oob` is a known key (QMP with the `oob` capability
/// negotiated); otherwise it is unexpected, as in qemu-ga.
///
/// # Errors
///
/// [`Refused`] with QEMU's reason and the `id` QEMU would echo.
pub fn check_request(v: Json<'_>, allow_oob: bool) -> Result<Request<'_>, Refused<'_>> {
    if v.kind() != Kind::Object {
        return Err(Refused {
            rejection: Rejection::NotObject,
            id: None,
        });
    }
    // QEMU's parser rejects duplicate keys before the dispatcher sees
    // anything. Only the four keys that matter are tracked, so this stays
    // linear in the number of members; any other key is refused below.
    let mut counts = [0u8; 4];
    for (key, _) in v.members() {
        let slot = ["execute", "exec-oob", "arguments", "id"]
            .iter()
            .position(|k| key.eq_str(k));
        if let Some(c) = slot.and_then(|i| counts.get_mut(i)) {
            *c = c.saturating_add(1);
            if *c > 1 {
                return Err(Refused {
                    rejection: Rejection::DuplicateKey,
                    id: None,
                });
            }
        }
    }
    let id = v.get("id");
    let refuse = |rejection| Err(Refused { rejection, id });
    let mut exec: Option<(Str<'_>, Str<'_>, bool)> = None;
    let mut arguments = None;
    for (key, value) in v.members() {
        let oob = key.eq_str("exec-oob");
        if key.eq_str("execute") || (oob && allow_oob) {
            let Some(name) = value.as_str() else {
                return refuse(Rejection::MustBeString(key));
            };
            if let Some((first, _, _)) = exec {
                return refuse(Rejection::Clash(key, first));
            }
            exec = Some((key, name, oob));
        } else if key.eq_str("arguments") {
            if value.kind() != Kind::Object {
                return refuse(Rejection::ArgumentsNotObject);
            }
            arguments = Some(value);
        } else if !key.eq_str("id") {
            return refuse(Rejection::Unexpected(key));
        }
    }
    match exec {
        Some((_, name, oob)) => Ok(Request {
            name,
            arguments,
            id,
            oob,
        }),
        None => refuse(Rejection::LacksExecute),
    }
}

/// Write the error reply for a refused request.
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn write_refusal(w: &mut JsonWriter<'_>, refused: &Refused<'_>) -> Result<(), WriteError> {
    write_error(
        w,
        ErrorClass::GenericError,
        format_args!("{}", refused.rejection.desc()),
        refused.id,
    )
}

/// Write `{"id":ID,"error":{"class":CLASS,"desc":DESC}}`, the `id` copied
/// normalised (QEMU re-serialises what it echoes).
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn write_error(
    w: &mut JsonWriter<'_>,
    class: ErrorClass,
    desc: fmt::Arguments<'_>,
    id: Option<Json<'_>>,
) -> Result<(), WriteError> {
    envelope::write_error(
        w,
        class.as_str(),
        desc,
        id.as_ref().map(|i| i as &dyn Encode),
    )
}

/// Longest token quoted back in a `stray '...'` message. QEMU quotes the
/// whole token; a bounded quote keeps every error reply within a small
/// output buffer. The framer's [`Token`] is itself cut to the input
/// buffer's size, so with a smaller buffer the quote is shorter; either
/// way it is the same however the input was cut into chunks.
pub const MAX_QUOTED_TOKEN: usize = 256;

/// Bytes QEMU's lexer can start or continue a token with. A byte outside
/// this set is a lexical error ("stray"); a byte inside it that breaks the
/// grammar is a parser error ("expecting value", ...).
fn lexer_accepts(b: u8) -> bool {
    matches!(b, b'{' | b'}' | b'[' | b']' | b':' | b',' | b'"' | b'\'' | b'-' | b'0'..=b'9' | b'a'..=b'z')
        || crate::framer::is_whitespace(b)
}

/// How QEMU words a framing problem.
enum Wording<'t> {
    /// `JSON parse error, stray '<token>'` (plus U+FFFD for a sentinel).
    Stray { token: Token<'t>, sentinel: bool },
    /// `JSON parse error, invalid keyword '<token>'`, without the offending
    /// byte (`drop_last` is 1 when the token, not cut short, ends with it).
    Keyword { token: Token<'t>, drop_last: usize },
    /// A fixed text.
    Plain(&'static str),
}

fn wording<'t>(event: &Event<'t>) -> Option<Wording<'t>> {
    Some(match *event {
        Event::Sentinel { token, .. } => Wording::Stray {
            token,
            sentinel: true,
        },
        Event::TooLarge { .. } => Wording::Plain("JSON token size limit exceeded"),
        Event::Error { error, token } => {
            let last = error.byte;
            match error.kind {
                ErrorKind::Depth => Wording::Plain("JSON nesting depth limit exceeded"),
                // Only strings can hold UTF-8 errors; QEMU's lexer passes the
                // bytes and its parser refuses the string.
                ErrorKind::Utf8 => {
                    Wording::Plain("JSON parse error, invalid UTF-8 sequence in string")
                }
                ErrorKind::Escape => {
                    Wording::Plain("JSON parse error, invalid escape sequence in string")
                }
                ErrorKind::Literal if lexer_accepts(last) && !last.is_ascii_lowercase() => {
                    Wording::Keyword {
                        token,
                        drop_last: usize::from(token.bytes().last() == Some(last)),
                    }
                }
                ErrorKind::Syntax if lexer_accepts(last) => Wording::Plain(match error.expected {
                    Expected::TopLevel | Expected::Value => "JSON parse error, expecting value",
                    Expected::Key => "JSON parse error, key is not a string in object",
                    Expected::Colon => "JSON parse error, missing : in object pair",
                    Expected::CommaOrClose { object: true } => {
                        "JSON parse error, expected separator in dict"
                    }
                    Expected::CommaOrClose { object: false } => {
                        "JSON parse error, expected separator in list"
                    }
                }),
                _ => Wording::Stray {
                    token,
                    sentinel: false,
                },
            }
        }
        Event::NeedMore | Event::Frame(_) => return None,
    })
}

/// Write the error reply QEMU sends for a framing problem: an
/// [`Event::Error`], [`Event::Sentinel`] or [`Event::TooLarge`]. Returns
/// `Ok(false)` (and writes nothing) for the other events.
///
/// Quoted tokens stop at a NUL byte (QEMU formats them as C strings) and
/// after [`MAX_QUOTED_TOKEN`] bytes; bytes that are not UTF-8 are written
/// as U+FFFD, the 0xFF of a sentinel included.
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn write_framing_error(w: &mut JsonWriter<'_>, event: &Event<'_>) -> Result<bool, WriteError> {
    let Some(wording) = wording(event) else {
        return Ok(false);
    };
    w.begin_object()?;
    w.key("error")?;
    w.begin_object()?;
    w.key("class")?;
    w.string(ErrorClass::GenericError.as_str())?;
    w.key("desc")?;
    match wording {
        Wording::Plain(text) => w.string(text)?,
        Wording::Stray { token, sentinel } => {
            let text = TokenBytes::quoted(token, 0);
            let bytes = b"JSON parse error, stray '"
                .iter()
                .copied()
                .chain(text.bytes().take_while(|&b| b != 0))
                .chain(
                    if sentinel { &[0xffu8][..] } else { &[][..] }
                        .iter()
                        .copied(),
                )
                .chain(b"'".iter().copied());
            w.string_lossy(bytes)?;
        }
        Wording::Keyword { token, drop_last } => {
            let text = TokenBytes::quoted(token, drop_last);
            let bytes = b"JSON parse error, invalid keyword '"
                .iter()
                .copied()
                .chain(text.bytes())
                .chain(b"'".iter().copied());
            w.string_lossy(bytes)?;
        }
    }
    w.end_object()?;
    w.end_object()?;
    Ok(true)
}

/// The first `n` bytes of a token, iterable more than once.
#[derive(Clone, Copy)]
struct TokenBytes<'t> {
    token: Token<'t>,
    n: usize,
}

impl<'t> TokenBytes<'t> {
    /// The part of `token` QEMU would quote, less `drop_last` final bytes.
    fn quoted(token: Token<'t>, drop_last: usize) -> Self {
        let n = token.len().saturating_sub(drop_last).min(MAX_QUOTED_TOKEN);
        TokenBytes { token, n }
    }

    fn bytes(self) -> impl Iterator<Item = u8> + Clone + 't {
        self.token
            .head
            .iter()
            .chain(self.token.tail.iter())
            .copied()
            .take(self.n)
    }
}

/// Messages written one after another into a caller's buffer, each
/// followed by the protocol's line terminator.
#[derive(Debug)]
pub struct Output<'o> {
    buf: &'o mut [u8],
    len: usize,
    terminator: &'static [u8],
}

/// Smallest output buffer the sessions accept: room for any error reply
/// they write themselves (a quoted token of [`MAX_QUOTED_TOKEN`] bytes,
/// escaped, plus an echoed id of moderate size).
pub const MIN_OUTPUT: usize = 2048;

impl<'o> Output<'o> {
    /// An empty output over `buf`; every message gets `terminator` after it.
    pub fn new(buf: &'o mut [u8], terminator: &'static [u8]) -> Self {
        Output {
            buf,
            len: 0,
            terminator,
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Nothing written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Append one message: `prefix` (e.g. QGA's 0xFF sentinel), the JSON
    /// value `build` writes, and the terminator. If it does not fit, nothing
    /// of it remains.
    ///
    /// # Errors
    ///
    /// [`WriteError`] from `build` or a full buffer.
    pub fn message(
        &mut self,
        prefix: &[u8],
        build: impl FnOnce(&mut JsonWriter<'_>) -> Result<(), WriteError>,
    ) -> Result<(), WriteError> {
        let free = self.buf.get_mut(self.len..).unwrap_or_default();
        let mut w = JsonWriter::new(free);
        w.raw(prefix)?;
        build(&mut w)?;
        w.raw(self.terminator)?;
        self.len += w.len();
        Ok(())
    }
}

/// A call of one of the handler's commands, after QEMU's checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call<'a> {
    /// The command name (as sent; compare with [`Call::is`]).
    pub name: Str<'a>,
    /// Index of the command in [`Handler::commands`].
    pub index: usize,
    /// `arguments`, if any.
    pub arguments: Option<Json<'a>>,
    /// It came as `exec-oob`.
    pub oob: bool,
}

impl<'a> Call<'a> {
    /// This is a call of command `C`.
    pub fn is<C: codec::Command>(&self) -> bool {
        self.name.eq_str(C::NAME)
    }

    /// Decode the arguments strictly, as QEMU does (absent arguments are
    /// `{}`). Answer an error with [`Reply::invalid_arguments`].
    ///
    /// # Errors
    ///
    /// [`DecodeError`] with QEMU's wording.
    pub fn args<C: codec::Command>(&self) -> Result<C::Args, DecodeError<'a>> {
        codec::decode_args(self.arguments, Mode::Strict)
    }

    /// Like [`Call::args`], decoding in place into `out` (for large
    /// argument types kept in static memory).
    ///
    /// # Errors
    ///
    /// [`DecodeError`] with QEMU's wording.
    pub fn args_into<T: Decode>(&self, out: &mut T) -> Result<(), DecodeError<'a>> {
        out.decode_into(self.arguments.unwrap_or(codec::EMPTY_OBJECT), Mode::Strict)
    }
}

/// Proof that a call was answered (or deliberately not): only [`Reply`]'s
/// methods make one, and each consumes the reply.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub struct Answered {
    outcome: Outcome,
}

/// What became of a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A reply was written.
    Replied,
    /// Nothing was written: a `success-response: false` command succeeded.
    Silent,
    /// The reply did not fit the output buffer, nor did the error saying
    /// so; nothing was written.
    Overflow,
}

impl Answered {
    /// What became of the reply.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }
}

/// The one reply a handler owes a call.
#[derive(Debug)]
pub struct Reply<'r, 'o, 'a> {
    out: &'r mut Output<'o>,
    id: Option<Json<'a>>,
    success_response: bool,
    prefix: &'static [u8],
}

impl<'r, 'o, 'a> Reply<'r, 'o, 'a> {
    /// A reply into `out` echoing `id`. `success_response: false` makes a
    /// successful reply silent (QGA's `guest-shutdown`). `prefix` goes
    /// before the reply (QGA's 0xFF for `guest-sync-delimited`).
    pub fn new(
        out: &'r mut Output<'o>,
        id: Option<Json<'a>>,
        success_response: bool,
        prefix: &'static [u8],
    ) -> Self {
        Reply {
            out,
            id,
            success_response,
            prefix,
        }
    }

    /// Write an error when the real reply did not fit.
    fn overflowed(self) -> Answered {
        let id = self.id;
        let written = self.out.message(self.prefix, |w| {
            write_error(
                w,
                ErrorClass::GenericError,
                format_args!("reply does not fit the output buffer"),
                id,
            )
        });
        Answered {
            outcome: if written.is_ok() {
                Outcome::Replied
            } else {
                Outcome::Overflow
            },
        }
    }

    /// Return `value`: `{"return": VALUE, "id": ID}`.
    pub fn ok(self, value: &dyn Encode) -> Answered {
        if !self.success_response {
            return Answered {
                outcome: Outcome::Silent,
            };
        }
        let id = self.id;
        let id = id.as_ref().map(|i| i as &dyn Encode);
        match self
            .out
            .message(self.prefix, |w| envelope::write_return(w, value, id))
        {
            Ok(()) => Answered {
                outcome: Outcome::Replied,
            },
            Err(_) => self.overflowed(),
        }
    }

    /// Return `{}`, what commands without a result return.
    pub fn ok_empty(self) -> Answered {
        self.ok(&crate::json::EmptyObject)
    }

    /// Fail with `class` and `desc`: `{"id": ID, "error": {...}}`. Failures
    /// are answered even for `success-response: false` commands.
    pub fn error(self, class: ErrorClass, desc: fmt::Arguments<'_>) -> Answered {
        let id = self.id;
        match self
            .out
            .message(self.prefix, |w| write_error(w, class, desc, id))
        {
            Ok(()) => Answered {
                outcome: Outcome::Replied,
            },
            Err(_) => self.overflowed(),
        }
    }

    /// Fail because the arguments did not decode: `GenericError` with
    /// QEMU's wording for `e`.
    pub fn invalid_arguments(self, e: &DecodeError<'_>) -> Answered {
        self.error(ErrorClass::GenericError, format_args!("{e}"))
    }

    /// Emit an event before the reply (QMP: QEMU sends `STOP` before the
    /// `return` of `stop`).
    ///
    /// # Errors
    ///
    /// [`WriteError`] if it does not fit; the reply can still be written.
    pub fn event(
        &mut self,
        name: &str,
        data: Option<&dyn Encode>,
        timestamp: Timestamp,
    ) -> Result<(), WriteError> {
        self.out
            .message(&[], |w| envelope::write_event(w, name, data, timestamp))
    }
}

/// The embedder's commands.
pub trait Handler {
    /// The commands this handler answers (the session's built-ins come on
    /// top). Generated tables such as `qga::schema::COMMANDS` can be used
    /// as they are or filtered.
    fn commands(&self) -> &[CommandInfo];

    /// Whether the command at `index` of [`Handler::commands`] is enabled; a
    /// disabled one answers `CommandNotFound` "Command X has been disabled",
    /// as QEMU's block-lists do.
    fn enabled(&self, index: usize) -> bool {
        let _ = index;
        true
    }

    /// Answer one call, through `reply`.
    fn call(&mut self, call: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered;
}

/// Run a checked request through `handler` with QEMU's checks: an unknown
/// name answers `CommandNotFound` "The command X has not been found", a
/// disabled one "Command X has been disabled", and `exec-oob` of a command
/// without `allow-oob` `GenericError` "The command X does not support OOB".
pub fn dispatch<H: Handler + ?Sized>(
    handler: &mut H,
    request: &Request<'_>,
    out: &mut Output<'_>,
) -> Answered {
    let name = request.name;
    let Some(index) = codec::command_index(name, handler.commands()) else {
        return Reply::new(out, request.id, true, &[]).error(
            ErrorClass::CommandNotFound,
            format_args!("The command {name} has not been found"),
        );
    };
    let info = handler.commands().get(index).copied();
    let success_response = info.is_none_or(|i| i.success_response);
    let reply = Reply::new(out, request.id, success_response, &[]);
    if !handler.enabled(index) {
        return reply.error(
            ErrorClass::CommandNotFound,
            format_args!("Command {name} has been disabled"),
        );
    }
    if request.oob && !info.is_some_and(|i| i.allow_oob) {
        return reply.error(
            ErrorClass::GenericError,
            format_args!("The command {name} does not support OOB"),
        );
    }
    let call = Call {
        name,
        index,
        arguments: request.arguments,
        oob: request.oob,
    };
    handler.call(&call, reply)
}

#[cfg(test)]
mod tests;
