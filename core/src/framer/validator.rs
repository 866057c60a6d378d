//! The byte-at-a-time JSON grammar automaton behind the framer.
//!
//! It knows nothing about buffers, offsets or chunks: it takes one byte and
//! says what that byte did (started a value, finished one, broke the
//! grammar...). Nesting is kept as one bit per open container, so its state is
//! a fixed-size struct however deep the input goes, and nothing here recurses.
//!
//! 0xFF never reaches [`Validator::step`]: the framer intercepts it first
//! because it is a sentinel in every state.

use super::{ErrorKind, Expected};

/// Containers the automaton can track at once (one bit each).
pub(crate) const NEST_CAPACITY: u16 = 1024;
const NEST_BYTES: usize = NEST_CAPACITY as usize / 8;

/// What one byte did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Whitespace or skipped input outside any value.
    Idle,
    /// Consumed inside a value; nothing to report.
    Continue,
    /// A new top-level value starts with this byte (it may also start a token).
    Start,
    /// A string, number or literal starts with this byte inside a container.
    TokenStart,
    /// The top-level value ends with this byte.
    Done,
    /// The top-level value (a number) ended just before this byte, which was
    /// not consumed and must be fed again.
    DoneBefore,
    /// This byte breaks the grammar.
    Error(Fault),
}

/// A grammar fault found at the byte just fed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub kind: ErrorKind,
    pub expected: Expected,
    /// The byte ended a token that had already started (string, number,
    /// literal), rather than standing on its own.
    pub in_token: bool,
}

/// Where inside a string we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Str {
    Plain,
    Escape,
    /// Reading the hex digits of `\uXXXX`; `n` digits read so far.
    Hex {
        n: u8,
        val: u16,
    },
    /// After a high surrogate escape: the `\` of its partner must follow.
    PairBackslash,
    /// ... then the `u`.
    PairU,
    /// ... then four hex digits of a low surrogate.
    PairHex {
        n: u8,
        val: u16,
    },
    /// Inside a multi-byte UTF-8 sequence: `need` continuation bytes remain
    /// and the next one must lie in `lo..=hi`.
    Utf8 {
        need: u8,
        lo: u8,
        hi: u8,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Num {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpDigits,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Top level, between values.
    Idle,
    /// Skipping input after an error until a resynchronisation byte.
    Recover,
    /// After `[`: a value or `]`.
    ValueOrClose,
    /// After `:` or after `,` in an array: a value.
    Value,
    /// After `{`: a key or `}`.
    KeyOrClose,
    /// After `,` in an object: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After a value inside a container: `,` or the closing bracket.
    CommaOrClose,
    String {
        quote: u8,
        key: bool,
        sub: Str,
    },
    Number(Num),
    Literal {
        word: u8,
        idx: u8,
    },
}

const LITERALS: [&[u8]; 3] = [b"true", b"false", b"null"];

/// The grammar automaton. `Copy`-free on purpose: it is meant to live in
/// place inside the framer.
#[derive(Debug)]
pub(crate) struct Validator {
    state: State,
    depth: u16,
    max_depth: u16,
    single_quotes: bool,
    /// Bit `n` set: the container at nesting level `n` is an object.
    nest: [u8; NEST_BYTES],
}

impl Validator {
    pub(crate) const fn new(max_depth: u16, single_quotes: bool) -> Self {
        let max_depth = if max_depth == 0 {
            1
        } else if max_depth > NEST_CAPACITY {
            NEST_CAPACITY
        } else {
            max_depth
        };
        Validator {
            state: State::Idle,
            depth: 0,
            max_depth,
            single_quotes,
            nest: [0; NEST_BYTES],
        }
    }

    /// Forget any partial value and stand at the top level.
    pub(crate) fn reset(&mut self) {
        self.state = State::Idle;
        self.depth = 0;
    }

    /// Forget any partial value and skip input until a resync byte.
    pub(crate) fn recover(&mut self) {
        self.state = State::Recover;
        self.depth = 0;
    }

    /// A value has started and not yet ended.
    pub(crate) fn in_value(&self) -> bool {
        !matches!(self.state, State::Idle | State::Recover)
    }

    /// Inside a string, number or literal.
    pub(crate) fn in_token(&self) -> bool {
        matches!(
            self.state,
            State::String { .. } | State::Number(_) | State::Literal { .. }
        )
    }

    /// A top-level number is complete except for the byte that ends it.
    pub(crate) fn pending_top_number(&self) -> bool {
        self.depth == 0
            && matches!(
                self.state,
                State::Number(Num::Zero | Num::Int | Num::Frac | Num::ExpDigits)
            )
    }

    /// How many bytes at the start of `input` cannot change the state: plain
    /// ASCII string content, whitespace between tokens, digits inside a
    /// number. Skipping them in bulk is the framer's fast path; most JSON
    /// bytes are string content or indentation.
    #[inline]
    pub(crate) fn skippable(&self, input: &[u8]) -> usize {
        match self.state {
            State::String {
                quote: b'"',
                sub: Str::Plain,
                ..
            } => crate::scan::plain_run(input),
            State::String {
                quote,
                sub: Str::Plain,
                ..
            } => input
                .iter()
                .position(|&c| c == quote || c == b'\\' || !(0x20..0x80).contains(&c))
                .unwrap_or(input.len()),
            State::Idle
            | State::ValueOrClose
            | State::Value
            | State::KeyOrClose
            | State::Key
            | State::Colon
            | State::CommaOrClose => crate::scan::whitespace_run(input),
            State::Number(Num::Int | Num::Frac | Num::ExpDigits) => input
                .iter()
                .position(|c| !c.is_ascii_digit())
                .unwrap_or(input.len()),
            _ => 0,
        }
    }

    fn fault(&self, kind: ErrorKind, expected: Expected) -> Step {
        Step::Error(Fault {
            kind,
            expected,
            in_token: self.in_token(),
        })
    }

    fn is_object(&self, level: u16) -> bool {
        let byte = self.nest.get(usize::from(level / 8)).copied().unwrap_or(0);
        byte & (1 << (level % 8)) != 0
    }

    fn top_is_object(&self) -> bool {
        self.depth > 0 && self.is_object(self.depth - 1)
    }

    fn push(&mut self, object: bool) -> Result<(), Step> {
        if self.depth >= self.max_depth {
            return Err(self.fault(ErrorKind::Depth, Expected::Value));
        }
        let level = self.depth;
        if let Some(byte) = self.nest.get_mut(usize::from(level / 8)) {
            let mask = 1u8 << (level % 8);
            if object {
                *byte |= mask;
            } else {
                *byte &= !mask;
            }
        }
        self.depth += 1;
        self.state = if object {
            State::KeyOrClose
        } else {
            State::ValueOrClose
        };
        Ok(())
    }

    /// A value (scalar or container) just ended with the byte fed.
    fn value_done(&mut self) -> Step {
        if self.depth == 0 {
            self.state = State::Idle;
            Step::Done
        } else {
            self.state = State::CommaOrClose;
            Step::Continue
        }
    }

    /// Close the innermost container with `b` (`}` or `]`).
    fn close(&mut self, object: bool) -> Step {
        if self.depth == 0 || self.top_is_object() != object {
            return self.fault(
                ErrorKind::Syntax,
                Expected::CommaOrClose {
                    object: self.top_is_object(),
                },
            );
        }
        self.depth -= 1;
        self.value_done()
    }

    /// Start a value with `b`. `first` is the step to report when the value
    /// does start (`Start` at top level, `TokenStart` inside a container).
    fn start_value(&mut self, b: u8) -> Step {
        let top = self.depth == 0;
        let started = match b {
            b'{' => self.push(true).map(|()| false),
            b'[' => self.push(false).map(|()| false),
            b'"' => {
                self.state = State::String {
                    quote: b,
                    key: false,
                    sub: Str::Plain,
                };
                Ok(true)
            }
            b'\'' if self.single_quotes => {
                self.state = State::String {
                    quote: b,
                    key: false,
                    sub: Str::Plain,
                };
                Ok(true)
            }
            b'-' => {
                self.state = State::Number(Num::Minus);
                Ok(true)
            }
            b'0' => {
                self.state = State::Number(Num::Zero);
                Ok(true)
            }
            b'1'..=b'9' => {
                self.state = State::Number(Num::Int);
                Ok(true)
            }
            b't' | b'f' | b'n' => {
                let word = match b {
                    b't' => 0,
                    b'f' => 1,
                    _ => 2,
                };
                self.state = State::Literal { word, idx: 1 };
                Ok(true)
            }
            _ => Err(self.fault(
                ErrorKind::Syntax,
                if top {
                    Expected::TopLevel
                } else {
                    Expected::Value
                },
            )),
        };
        match started {
            Err(step) => step,
            Ok(_) if top => Step::Start,
            Ok(true) => Step::TokenStart,
            Ok(false) => Step::Continue,
        }
    }

    fn start_key(&mut self, b: u8) -> Option<Step> {
        if b == b'"' || (b == b'\'' && self.single_quotes) {
            self.state = State::String {
                quote: b,
                key: true,
                sub: Str::Plain,
            };
            Some(Step::TokenStart)
        } else {
            None
        }
    }

    /// Feed one byte (never 0xFF).
    #[inline]
    pub(crate) fn step(&mut self, b: u8) -> Step {
        match self.state {
            State::Idle => {
                if is_whitespace(b) {
                    Step::Idle
                } else {
                    self.start_value(b)
                }
            }
            State::Recover => {
                if is_resync(b) {
                    self.state = State::Idle;
                    self.step(b)
                } else {
                    Step::Idle
                }
            }
            State::ValueOrClose => match b {
                _ if is_whitespace(b) => Step::Continue,
                b']' => self.close(false),
                _ => self.start_value(b),
            },
            State::Value => {
                if is_whitespace(b) {
                    Step::Continue
                } else {
                    self.start_value(b)
                }
            }
            State::KeyOrClose => match b {
                _ if is_whitespace(b) => Step::Continue,
                b'}' => self.close(true),
                _ => self
                    .start_key(b)
                    .unwrap_or_else(|| self.fault(ErrorKind::Syntax, Expected::Key)),
            },
            State::Key => {
                if is_whitespace(b) {
                    Step::Continue
                } else {
                    self.start_key(b)
                        .unwrap_or_else(|| self.fault(ErrorKind::Syntax, Expected::Key))
                }
            }
            State::Colon => match b {
                _ if is_whitespace(b) => Step::Continue,
                b':' => {
                    self.state = State::Value;
                    Step::Continue
                }
                _ => self.fault(ErrorKind::Syntax, Expected::Colon),
            },
            State::CommaOrClose => self.comma_or_close(b),
            State::String { quote, key, sub } => self.string(b, quote, key, sub),
            State::Number(n) => self.number(b, n),
            State::Literal { word, idx } => self.literal(b, word, idx),
        }
    }

    fn comma_or_close(&mut self, b: u8) -> Step {
        let object = self.top_is_object();
        match b {
            _ if is_whitespace(b) => Step::Continue,
            b',' => {
                self.state = if object { State::Key } else { State::Value };
                Step::Continue
            }
            b'}' => self.close(true),
            b']' => self.close(false),
            _ => self.fault(ErrorKind::Syntax, Expected::CommaOrClose { object }),
        }
    }

    fn string(&mut self, b: u8, quote: u8, key: bool, sub: Str) -> Step {
        let next = match sub {
            Str::Plain => match b {
                _ if b == quote => {
                    if key {
                        self.state = State::Colon;
                        return Step::Continue;
                    }
                    return self.value_done();
                }
                b'\\' => Str::Escape,
                0x00..=0x1f => return self.fault(ErrorKind::Control, Expected::Value),
                0x20..=0x7f => Str::Plain,
                0xc2..=0xdf => Str::Utf8 {
                    need: 1,
                    lo: 0x80,
                    hi: 0xbf,
                },
                0xe0 => Str::Utf8 {
                    need: 2,
                    lo: 0xa0,
                    hi: 0xbf,
                },
                0xed => Str::Utf8 {
                    need: 2,
                    lo: 0x80,
                    hi: 0x9f,
                },
                0xe1..=0xef => Str::Utf8 {
                    need: 2,
                    lo: 0x80,
                    hi: 0xbf,
                },
                0xf0 => Str::Utf8 {
                    need: 3,
                    lo: 0x90,
                    hi: 0xbf,
                },
                0xf4 => Str::Utf8 {
                    need: 3,
                    lo: 0x80,
                    hi: 0x8f,
                },
                0xf1..=0xf3 => Str::Utf8 {
                    need: 3,
                    lo: 0x80,
                    hi: 0xbf,
                },
                _ => return self.fault(ErrorKind::Utf8, Expected::Value),
            },
            Str::Utf8 { need, lo, hi } => {
                if b < lo || b > hi {
                    return self.fault(ErrorKind::Utf8, Expected::Value);
                }
                if need <= 1 {
                    Str::Plain
                } else {
                    Str::Utf8 {
                        need: need - 1,
                        lo: 0x80,
                        hi: 0xbf,
                    }
                }
            }
            Str::Escape => match b {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Str::Plain,
                b'\'' if self.single_quotes => Str::Plain,
                b'u' => Str::Hex { n: 0, val: 0 },
                _ => return self.fault(ErrorKind::Escape, Expected::Value),
            },
            Str::Hex { n, val } => {
                let Some(d) = hex_digit(b) else {
                    return self.fault(ErrorKind::Escape, Expected::Value);
                };
                let val = (val << 4) | d;
                if n < 3 {
                    Str::Hex { n: n + 1, val }
                } else if (0xd800..=0xdbff).contains(&val) {
                    Str::PairBackslash
                } else if (0xdc00..=0xdfff).contains(&val) {
                    // A low surrogate with no high one before it.
                    return self.fault(ErrorKind::Escape, Expected::Value);
                } else {
                    Str::Plain
                }
            }
            Str::PairBackslash => {
                if b != b'\\' {
                    return self.fault(ErrorKind::Escape, Expected::Value);
                }
                Str::PairU
            }
            Str::PairU => {
                if b != b'u' {
                    return self.fault(ErrorKind::Escape, Expected::Value);
                }
                Str::PairHex { n: 0, val: 0 }
            }
            Str::PairHex { n, val } => {
                let Some(d) = hex_digit(b) else {
                    return self.fault(ErrorKind::Escape, Expected::Value);
                };
                let val = (val << 4) | d;
                if n < 3 {
                    Str::PairHex { n: n + 1, val }
                } else if (0xdc00..=0xdfff).contains(&val) {
                    Str::Plain
                } else {
                    return self.fault(ErrorKind::Escape, Expected::Value);
                }
            }
        };
        self.state = State::String {
            quote,
            key,
            sub: next,
        };
        Step::Continue
    }

    fn number(&mut self, b: u8, n: Num) -> Step {
        let next = match (n, b) {
            (Num::Minus, b'0') => Num::Zero,
            (Num::Minus, b'1'..=b'9') => Num::Int,
            (Num::Zero, b'0'..=b'9') => {
                // RFC 8259 forbids leading zeros.
                return self.fault(ErrorKind::Number, Expected::Value);
            }
            (Num::Int, b'0'..=b'9') => Num::Int,
            (Num::Zero | Num::Int, b'.') => Num::Dot,
            (Num::Dot | Num::Frac, b'0'..=b'9') => Num::Frac,
            (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Num::Exp,
            (Num::Exp, b'+' | b'-') => Num::ExpSign,
            (Num::Exp | Num::ExpSign | Num::ExpDigits, b'0'..=b'9') => Num::ExpDigits,
            (Num::Zero | Num::Int | Num::Frac | Num::ExpDigits, _) => {
                // The number is complete; `b` belongs to what follows it.
                return self.number_done(b);
            }
            _ => return self.fault(ErrorKind::Number, Expected::Value),
        };
        self.state = State::Number(next);
        Step::Continue
    }

    fn number_done(&mut self, b: u8) -> Step {
        if self.depth == 0 {
            if is_delimiter(b) {
                self.state = State::Idle;
                Step::DoneBefore
            } else {
                self.fault(ErrorKind::Number, Expected::Value)
            }
        } else {
            self.state = State::CommaOrClose;
            self.comma_or_close(b)
        }
    }

    fn literal(&mut self, b: u8, word: u8, idx: u8) -> Step {
        let text = LITERALS.get(usize::from(word)).copied().unwrap_or(b"");
        if text.get(usize::from(idx)) != Some(&b) {
            return self.fault(ErrorKind::Literal, Expected::Value);
        }
        let idx = idx + 1;
        if usize::from(idx) == text.len() {
            self.value_done()
        } else {
            self.state = State::Literal { word, idx };
            Step::Continue
        }
    }
}

/// JSON whitespace: exactly space, tab, CR and LF (RFC 8259 §2).
#[inline]
pub(crate) fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Bytes that end error recovery (QEMU's lexer rule, protocol.md §2.4):
/// structural characters, control bytes other than tab, 0xFE and 0xFF.
#[inline]
pub(crate) fn is_resync(b: u8) -> bool {
    matches!(b, b'{' | b'}' | b'[' | b']' | b':' | b',' | 0xfe | 0xff) || (b < 0x20 && b != b'\t')
}

/// Bytes that may directly follow a top-level number.
fn is_delimiter(b: u8) -> bool {
    is_whitespace(b) || matches!(b, b'{' | b'}' | b'[' | b']' | b':' | b',' | b'"' | b'\'')
}

fn hex_digit(b: u8) -> Option<u16> {
    match b {
        b'0'..=b'9' => Some(u16::from(b - b'0')),
        b'a'..=b'f' => Some(u16::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u16::from(b - b'A' + 10)),
        _ => None,
    }
}
