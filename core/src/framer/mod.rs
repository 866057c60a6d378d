//! Layer 1: split a byte stream into complete, validated JSON values.
//!
//! # Contract
//!
//! * **Streaming, single pass.** [`Framer::feed`] takes input in chunks of any
//!   size; every byte is looked at once. The outcomes and their stream offsets
//!   do not depend on how the input was cut into chunks.
//! * **Validating.** A [`Frame`] is handed out only if its bytes are one valid
//!   JSON value: RFC 8259 grammar, UTF-8 (no overlong forms, no encoded
//!   surrogates, nothing above U+10FFFF), escapes (`\uXXXX` with surrogate
//!   pairs; a lone or reversed surrogate escape is an error). With
//!   [`Config::single_quotes`] QEMU's extension is accepted too:
//!   `'single-quoted'` strings and the `\'` escape.
//! * **Framing.** Values may be separated by JSON whitespace (space, tab, CR,
//!   LF) or by nothing. Objects, arrays, strings and literals are complete the
//!   moment their last byte arrives; a top-level number needs the byte after
//!   it (as in QEMU), or [`Framer::finish`] at the end of the stream.
//! * **0xFF is a sentinel** wherever it appears (between values, inside a
//!   value, inside a string): the partial value is discarded and
//!   [`Event::Sentinel`] reports the byte's offset. The next value is framed
//!   normally. This is QGA's resynchronisation byte (protocol.md §4.3).
//! * **Errors and recovery.** A byte that breaks the grammar produces
//!   [`Event::Error`] with its [`ErrorKind`] and stream offset; the partial
//!   value is discarded. The framer then recovers the way QEMU's lexer does
//!   (protocol.md §2.4): it skips bytes up to the next *resynchronisation
//!   byte* — one of `{ } [ ] : ,`, a control byte other than tab, 0xFE or
//!   0xFF — and reads that byte afresh at the top level. One improvement on
//!   QEMU: when the offending byte is itself `{` or `[`, it starts the next
//!   value at once instead of being skipped. Examples (`·` marks where
//!   framing resumes):
//!
//!   | input | outcome |
//!   | --- | --- |
//!   | `{"a":[1,2{"b":1}` | error at `{` (offset 9), then frame `{"b":1}` |
//!   | `{"a" 1}{"b":2}` | error at `1`; skip ` 1`; `}` read afresh is a second error; then frame `{"b":2}` |
//!   | `nul\n{"x":0}` | error at `\n` (literal); `{"x":0}` framed |
//!   | `@@junk\n{}` | error at the first `@`; `@junk` skipped up to `\n`; frame `{}` |
//!   | `{"a":"\xff{}` | sentinel at the 0xFF; frame `{}` |
//!
//! * **Limits.** Nesting deeper than [`Config::max_depth`] is an error of
//!   kind [`ErrorKind::Depth`] (it follows the recovery rule above). A value
//!   longer than the caller's buffer is not stored: it is still validated to
//!   its end, then reported as [`Event::TooLarge`] with its length, and the
//!   stream stays in step.
//! * **Zero copy.** A value that lies wholly inside the chunk being fed is
//!   handed out as a slice of that chunk. Only a value that spans chunks is
//!   copied, once, into the buffer.
//! * **Bounded memory, no recursion, no panics.** The state is a fixed-size
//!   struct: a few counters plus one bit per nesting level
//!   (`size_of::<Framer>()` is 192 bytes on 64-bit targets, of which 128 are
//!   the nesting bits; see the unit test `state_is_small`). No input can make it panic.

mod validator;

use core::fmt;

pub(crate) use validator::is_whitespace;
use validator::{Step, Validator, NEST_CAPACITY};

/// Deepest nesting the framer can track ([`Config::max_depth`]'s ceiling).
/// QEMU accepts the same depth (`MAX_NESTING`, protocol.md §2.1).
pub const MAX_DEPTH: u16 = NEST_CAPACITY;

/// Framer settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Most containers open at once; clamped to `1..=MAX_DEPTH`.
    /// Default 1024, QEMU's own limit.
    pub max_depth: u16,
    /// Accept QEMU's `'single-quoted'` strings and the `\'` escape.
    /// Default off (RFC 8259 only). QEMU accepts them on input, so servers
    /// and agents that stand in for QEMU turn this on.
    pub single_quotes: bool,
}

impl Config {
    /// Strict RFC 8259, nesting up to 1024.
    pub const DEFAULT: Config = Config {
        max_depth: MAX_DEPTH,
        single_quotes: false,
    };

    /// What QEMU itself accepts on input: single quotes, nesting up to 1024.
    pub const QEMU_INPUT: Config = Config {
        max_depth: MAX_DEPTH,
        single_quotes: true,
    };
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}

/// Why a byte was rejected. The names from [`ErrorKind::name`] are stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A byte that cannot appear at this point of the grammar.
    Syntax,
    /// A raw control byte (0x00–0x1F) inside a string.
    Control,
    /// A byte that is not valid UTF-8 here.
    Utf8,
    /// A bad escape: unknown letter, bad hex digit, lone or reversed surrogate.
    Escape,
    /// A malformed number (`01`, `1.`, `-`, `1e+`).
    Number,
    /// A misspelt `true`, `false` or `null`.
    Literal,
    /// Nesting deeper than [`Config::max_depth`].
    Depth,
}

impl ErrorKind {
    /// Short stable name, as printed by the `dump` tools.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::Control => "control",
            ErrorKind::Utf8 => "utf8",
            ErrorKind::Escape => "escape",
            ErrorKind::Number => "number",
            ErrorKind::Literal => "literal",
            ErrorKind::Depth => "depth",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Syntax => "unexpected byte",
            ErrorKind::Control => "control byte in string",
            ErrorKind::Utf8 => "invalid UTF-8",
            ErrorKind::Escape => "invalid escape sequence",
            ErrorKind::Number => "malformed number",
            ErrorKind::Literal => "invalid literal",
            ErrorKind::Depth => "nesting too deep",
        })
    }
}

/// What the grammar wanted where a [`ErrorKind::Syntax`] error was found
/// (servers use it to word their error replies the way QEMU does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expected {
    /// Between top-level values: the start of a value or whitespace.
    TopLevel,
    /// A value.
    Value,
    /// An object key (a string).
    Key,
    /// The `:` after a key.
    Colon,
    /// `,` or the closing bracket of the innermost container.
    CommaOrClose {
        /// The innermost container is an object.
        object: bool,
    },
}

/// A rejected byte: what was wrong and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameError {
    /// What was wrong.
    pub kind: ErrorKind,
    /// Stream offset of the first byte found invalid.
    pub at: u64,
    /// What the grammar wanted there.
    pub expected: Expected,
    /// The offending byte itself.
    pub byte: u8,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.at)
    }
}

/// The text of the token that was being read when an error or a sentinel
/// interrupted it (QEMU quotes it in its `stray '...'` error replies).
///
/// It may be split: `head` is the part kept from earlier chunks, `tail`
/// the part in the current chunk. Together they are the token's first
/// bytes, up to the framer's capacity, whatever the chunking: the whole
/// token if it fits the buffer (for an error, ending with the offending
/// byte; for a sentinel, without the 0xFF), else its first
/// [`Framer::capacity`] bytes. This holds inside values too large to store
/// as well: once a value outgrows the buffer, the buffer keeps the current
/// token instead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Token<'a> {
    /// Bytes from earlier chunks.
    pub head: &'a [u8],
    /// Bytes from the current chunk.
    pub tail: &'a [u8],
}

impl Token<'_> {
    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// No bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Iterate over the bytes in order.
    pub fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.head.iter().chain(self.tail.iter()).copied()
    }
}

/// One complete, validated JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Stream offset of its first byte.
    pub at: u64,
    /// Its bytes, from the first byte of the value to the last (no
    /// surrounding whitespace).
    pub bytes: &'a [u8],
}

impl<'a> Frame<'a> {
    /// The value, for reading.
    pub fn json(&self) -> crate::json::Json<'a> {
        crate::json::Json::from_validated(self.bytes)
    }
}

/// What one call to [`Framer::feed`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// All input was consumed; no value is complete yet.
    NeedMore,
    /// A complete value.
    Frame(Frame<'a>),
    /// A 0xFF byte at `at`; any partial value was discarded.
    Sentinel {
        /// Stream offset of the 0xFF.
        at: u64,
        /// The token the 0xFF interrupted, if any.
        token: Token<'a>,
    },
    /// A byte broke the grammar; the partial value was discarded.
    Error {
        /// What and where.
        error: FrameError,
        /// The token the byte belonged to, ending with the byte itself.
        token: Token<'a>,
    },
    /// A value longer than the buffer was skipped (it was valid JSON).
    TooLarge {
        /// Stream offset of its first byte.
        at: u64,
        /// Its length in bytes.
        len: u64,
    },
}

/// The result of [`Framer::feed`]: how much input was used and what happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fed<'a> {
    /// Bytes of the input consumed. Feed the rest again.
    pub consumed: usize,
    /// What those bytes produced.
    pub event: Event<'a>,
}

/// What [`Framer::finish`] found at the end of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End<'a> {
    /// The stream ended cleanly between values.
    Clean,
    /// A top-level number that the end of the stream completed.
    Frame(Frame<'a>),
    /// Same, but too long for the buffer.
    TooLarge {
        /// Stream offset of its first byte.
        at: u64,
        /// Its length in bytes.
        len: u64,
    },
    /// The stream ended inside a value.
    Incomplete {
        /// Stream offset of the unfinished value's first byte.
        at: u64,
    },
}

/// Streaming, validating JSON framer over a caller-provided buffer.
///
/// The buffer bounds the largest frame that can be handed out; larger values
/// are skipped and reported as [`Event::TooLarge`].
///
/// ```
/// use qwire::framer::{Config, Event, Framer};
///
/// let mut buf = [0u8; 256];
/// let mut framer = Framer::new(&mut buf, Config::DEFAULT);
/// let mut input: &[u8] = b"{\"return\": {}}\r\n\xff{\"event\": \"STOP\"}";
/// let mut seen = 0;
/// while !input.is_empty() {
///     let fed = framer.feed(input);
///     match fed.event {
///         Event::Frame(frame) => { seen += 1; assert!(frame.bytes.starts_with(b"{")) }
///         Event::Sentinel { at, .. } => assert_eq!(at, 16),
///         other => panic!("{other:?}"),
///     }
///     input = &input[fed.consumed..];
/// }
/// assert_eq!(seen, 2);
/// ```
#[derive(Debug)]
pub struct Framer<'b> {
    buf: &'b mut [u8],
    v: Validator,
    /// Stream offset of the next byte to be fed.
    pos: u64,
    /// Stream offset of the current value's first byte.
    value_start: u64,
    /// Stream offset of the current token's first byte.
    token_start: u64,
    /// Bytes held at the start of `buf` from earlier chunks: of the current
    /// value while `storing`; otherwise of the current token, cut to the
    /// buffer's size (so an error inside a value too large to store still
    /// quotes the same text however the input was cut).
    stored: usize,
    /// The current value still fits the buffer (otherwise it is only
    /// validated, not stored).
    storing: bool,
}

impl<'b> Framer<'b> {
    /// A framer that stores partial values in `buf`.
    pub fn new(buf: &'b mut [u8], config: Config) -> Self {
        Framer {
            buf,
            v: Validator::new(config.max_depth, config.single_quotes),
            pos: 0,
            value_start: 0,
            token_start: 0,
            stored: 0,
            storing: true,
        }
    }

    /// The largest value that can be handed out, in bytes.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Stream offset of the next byte to be fed.
    pub fn offset(&self) -> u64 {
        self.pos
    }

    /// A value has started and not ended.
    pub fn in_value(&self) -> bool {
        self.v.in_value()
    }

    /// Discard any partial value and stand at the top level, as if a fresh
    /// connection had started. Stream offsets keep counting.
    pub fn reset(&mut self) {
        self.v.reset();
        self.discard();
    }

    fn discard(&mut self) {
        self.stored = 0;
        self.storing = true;
    }

    /// Feed a chunk of the stream. Returns at the first event (or when the
    /// chunk is used up, with [`Event::NeedMore`]); call again with the
    /// unconsumed rest.
    pub fn feed<'a>(&'a mut self, input: &'a [u8]) -> Fed<'a> {
        let base = self.pos;
        // Where the current value's unstored bytes begin in `input`, and
        // whether the value began in this chunk (so it can be lent out
        // without copying).
        let mut segment = 0usize;
        let mut started_here = false;
        let mut i = 0usize;
        loop {
            // Bytes that cannot change the state are skipped in bulk; the
            // byte after such a run always needs the automaton.
            i += self.v.skippable(input.get(i..).unwrap_or_default());
            let Some(&b) = input.get(i) else { break };
            if b == 0xff {
                return self.sentinel(input, base, i);
            }
            match self.v.step(b) {
                Step::Idle | Step::Continue => {}
                Step::TokenStart => self.token_start = base + i as u64,
                Step::Start => {
                    self.value_start = base + i as u64;
                    self.token_start = self.value_start;
                    segment = i;
                    started_here = true;
                    self.stored = 0;
                    self.storing = true;
                }
                Step::Done => return self.complete(input, base, segment, started_here, i + 1),
                Step::DoneBefore => return self.complete(input, base, segment, started_here, i),
                Step::Error(fault) => {
                    let at = base + i as u64;
                    // Outside a token, the offending byte is a token of its own.
                    let start = if fault.in_token { self.token_start } else { at };
                    let held = Held::of(
                        self.buf,
                        self.storing,
                        self.stored,
                        self.value_start,
                        self.token_start,
                    );
                    let token = token_text(held, input, base, start, i + 1);
                    // `{` or `[` starts the next value rather than being
                    // skipped, unless it was rejected at the top level itself
                    // (which could otherwise repeat forever).
                    let restart = matches!(b, b'{' | b'[') && self.v.in_value();
                    let consumed = if restart {
                        self.v.reset();
                        i
                    } else {
                        self.v.recover();
                        i + 1
                    };
                    self.stored = 0;
                    self.storing = true;
                    self.pos = base + consumed as u64;
                    return Fed {
                        consumed,
                        event: Event::Error {
                            error: FrameError {
                                kind: fault.kind,
                                at,
                                expected: fault.expected,
                                byte: b,
                            },
                            token,
                        },
                    };
                }
            }
            i += 1;
        }
        if self.v.in_value() {
            self.stash(input, base, segment);
        }
        self.pos = base + input.len() as u64;
        Fed {
            consumed: input.len(),
            event: Event::NeedMore,
        }
    }

    /// The stream has ended (the connection closed, the file ended). A
    /// pending top-level number is complete; any other partial value is
    /// reported as incomplete. The framer is then ready for a new stream
    /// (offsets keep counting).
    pub fn finish(&mut self) -> End<'_> {
        let end = if self.v.pending_top_number() {
            let len = self.pos - self.value_start;
            if self.storing && len <= self.buf.len() as u64 {
                let bytes = self.buf.get(..self.stored).unwrap_or_default();
                End::Frame(Frame {
                    at: self.value_start,
                    bytes,
                })
            } else {
                End::TooLarge {
                    at: self.value_start,
                    len,
                }
            }
        } else if self.v.in_value() {
            End::Incomplete {
                at: self.value_start,
            }
        } else {
            End::Clean
        };
        self.v.reset();
        self.stored = 0;
        self.storing = true;
        end
    }

    fn sentinel<'a>(&'a mut self, input: &'a [u8], base: u64, i: usize) -> Fed<'a> {
        let token = if self.v.in_token() {
            token_text(
                Held::of(
                    self.buf,
                    self.storing,
                    self.stored,
                    self.value_start,
                    self.token_start,
                ),
                input,
                base,
                self.token_start,
                i,
            )
        } else {
            Token::default()
        };
        self.v.reset();
        self.stored = 0;
        self.storing = true;
        self.pos = base + i as u64 + 1;
        Fed {
            consumed: i + 1,
            event: Event::Sentinel {
                at: base + i as u64,
                token,
            },
        }
    }

    fn complete<'a>(
        &'a mut self,
        input: &'a [u8],
        base: u64,
        segment: usize,
        started_here: bool,
        end: usize,
    ) -> Fed<'a> {
        self.pos = base + end as u64;
        let len = self.pos - self.value_start;
        let at = self.value_start;
        let fits = self.storing && len <= self.buf.len() as u64;
        let event = if !fits {
            Event::TooLarge { at, len }
        } else if started_here {
            Event::Frame(Frame {
                at,
                bytes: input.get(segment..end).unwrap_or_default(),
            })
        } else {
            let tail = input.get(..end).unwrap_or_default();
            if crate::bytes::copy_at(self.buf, self.stored, tail) {
                Event::Frame(Frame {
                    at,
                    bytes: self.buf.get(..self.stored + tail.len()).unwrap_or_default(),
                })
            } else {
                Event::TooLarge { at, len }
            }
        };
        self.stored = 0;
        self.storing = true;
        Fed {
            consumed: end,
            event,
        }
    }

    /// At the end of a chunk inside a value: keep the part of the value
    /// that this chunk holds (from index `segment` of `input`) if it still
    /// fits; otherwise keep only the current token's first bytes.
    fn stash(&mut self, input: &[u8], base: u64, segment: usize) {
        let part = input.get(segment..).unwrap_or_default();
        if self.storing && crate::bytes::copy_at(self.buf, self.stored, part) {
            self.stored += part.len();
            return;
        }
        // The value is too large from here on; the buffer is free to hold
        // the token. Its bytes from earlier chunks are either the end of
        // the stored value (moved to the front) or already kept.
        let (kept, from) = if !self.v.in_token() {
            (0, input.len())
        } else if self.token_start >= base {
            (
                0,
                usize::try_from(self.token_start - base).unwrap_or(usize::MAX),
            )
        } else if self.storing {
            let off = usize::try_from(self.token_start.saturating_sub(self.value_start))
                .unwrap_or(usize::MAX);
            match self.buf.get_mut(..self.stored) {
                Some(stored) if off <= stored.len() => {
                    (crate::bytes::move_to_front(stored, off), 0)
                }
                _ => (0, 0),
            }
        } else {
            (self.stored, 0)
        };
        let part = input.get(from..).unwrap_or_default();
        let room = self.buf.len().saturating_sub(kept);
        let take = part.get(..room).unwrap_or(part);
        crate::bytes::copy_at(self.buf, kept, take);
        self.storing = false;
        self.stored = kept + take.len();
    }
}

/// Validate `bytes` as exactly one value with optional surrounding
/// whitespace; returns the value's start and end.
pub(crate) fn validate_one(
    bytes: &[u8],
    config: Config,
) -> Result<(usize, usize), crate::json::ParseError> {
    use crate::json::ParseError;
    let mut v = Validator::new(config.max_depth, config.single_quotes);
    let mut start = 0usize;
    let mut end: Option<usize> = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b == 0xff {
            return Err(crate::json::sentinel_error(i as u64));
        }
        if end.is_some() {
            if validator::is_whitespace(b) {
                continue;
            }
            return Err(ParseError::Trailing(i));
        }
        match v.step(b) {
            Step::Idle | Step::Continue | Step::TokenStart => {}
            Step::Start => start = i,
            Step::Done => end = Some(i + 1),
            Step::DoneBefore => {
                end = Some(i);
                if !validator::is_whitespace(b) {
                    return Err(ParseError::Trailing(i));
                }
            }
            Step::Error(fault) => {
                return Err(ParseError::Invalid(FrameError {
                    kind: fault.kind,
                    at: i as u64,
                    expected: fault.expected,
                    byte: b,
                }))
            }
        }
    }
    match end {
        Some(end) => Ok((start, end)),
        None if v.pending_top_number() => Ok((start, bytes.len())),
        None if v.in_value() => Err(ParseError::Incomplete),
        None => Err(ParseError::Empty),
    }
}

/// Bytes held in the buffer from earlier chunks (the stored value, or the
/// kept token) and the stream offset of the first.
#[derive(Clone, Copy)]
struct Held<'a> {
    bytes: &'a [u8],
    start: u64,
    /// The buffer's size: the most of a token that is quoted.
    capacity: usize,
}

impl<'a> Held<'a> {
    /// What `framer.buf` holds of the current value or token. A free
    /// constructor over fields, so the borrow stays on `buf` alone.
    fn of(buf: &'a [u8], storing: bool, stored: usize, value_start: u64, token_start: u64) -> Self {
        Held {
            bytes: buf.get(..stored).unwrap_or_default(),
            start: if storing { value_start } else { token_start },
            capacity: buf.len(),
        }
    }
}

/// The token from stream offset `start` up to index `end` of `input`, whose
/// first byte is at stream offset `base`; cut to the buffer's capacity so
/// that the text does not depend on the chunking.
fn token_text<'a>(held: Held<'a>, input: &'a [u8], base: u64, start: u64, end: usize) -> Token<'a> {
    let (head, tail) = if start >= base {
        let from = usize::try_from(start - base).unwrap_or(usize::MAX);
        (&[][..], input.get(from..end).unwrap_or_default())
    } else {
        let from = usize::try_from(start.saturating_sub(held.start)).unwrap_or(usize::MAX);
        (
            held.bytes.get(from..).unwrap_or_default(),
            input.get(..end).unwrap_or_default(),
        )
    };
    let head = head.get(..held.capacity).unwrap_or(head);
    let room = held.capacity.saturating_sub(head.len());
    Token {
        head,
        tail: tail.get(..room).unwrap_or(tail),
    }
}

#[cfg(test)]
mod tests;
