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
//! Both are pure functions of their input; the sessions decide when to call
//! them.

use core::fmt;

use crate::envelope;
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
/// output buffer.
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
    /// `JSON parse error, invalid keyword '<token>'`.
    Keyword(Token<'t>),
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
            let last = token.tail.last().copied().unwrap_or(0);
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
                    Wording::Keyword(token)
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
        Wording::Keyword(token) => {
            let text = TokenBytes::quoted(token, 1);
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

#[cfg(test)]
mod tests;
