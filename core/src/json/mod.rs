//! Layer 2: reading and writing JSON values without allocating.
//!
//! * [`Json`] is a span of bytes known to hold exactly one valid JSON value
//!   (a [`Frame`](crate::framer::Frame) becomes one for free, any other bytes
//!   through [`Json::parse`]). Reading it never copies: members, elements and
//!   strings are sub-spans of the same bytes.
//! * [`Str`] is a string value still in its escaped wire form; it compares,
//!   iterates and unescapes (surrogate pairs included) without a buffer, or
//!   into the caller's buffer.
//! * [`number`] reads integers over the full `i64`/`u64` range and floats.
//! * [`JsonWriter`] writes JSON into the caller's `&mut [u8]`. Its output is
//!   pure 7-bit ASCII (non-ASCII is written as `\uXXXX`, pairs above
//!   U+FFFF), so a 0xFF byte in a stream can only ever be a sentinel.
//!
//! # Contract
//!
//! Nothing here panics or recurses on the input's nesting. Readers trust a
//! [`Json`] to be valid (that is what makes them cheap) but still use checked
//! access throughout: on bytes that are not valid JSON they return `None` or
//! stop early, never read out of bounds. The writer never writes past the
//! end of its buffer; it reports [`WriteError::BufferFull`] instead.
//!
//! serde-json-core is not used here, deliberately: it cannot decode the
//! surrogate pairs QEMU writes for every non-BMP character, writes non-ASCII
//! as raw UTF-8, skips unknown scalars leniently and recurses without a depth
//! limit (reference/landscape.md §3). The test `serde_json_core_gaps` in
//! `tests/` shows each of these on real QEMU output.

pub mod number;
mod read;
mod string;
mod write;

pub use read::{Elements, Members};
pub use string::{unescape, Chars, Str, UnescapeError};
pub use write::{EmptyObject, Encode, EncodeWith, JsonWriter, WriteError};

use crate::framer::{Config, ErrorKind, FrameError};
use core::fmt;

/// The six kinds of JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `{...}`
    Object,
    /// `[...]`
    Array,
    /// `"..."` (or `'...'` in QEMU's dialect)
    String,
    /// `-1.5e3`
    Number,
    /// `true` / `false`
    Bool,
    /// `null`
    Null,
}

impl Kind {
    /// The name QEMU uses in "expected: ..." messages.
    pub const fn qapi_name(self) -> &'static str {
        match self {
            Kind::Object => "object",
            Kind::Array => "array",
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Bool => "boolean",
            Kind::Null => "null",
        }
    }
}

/// Why [`Json::parse`] rejected its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Only whitespace.
    Empty,
    /// A byte broke the grammar (0xFF is reported as [`ErrorKind::Syntax`]).
    Invalid(FrameError),
    /// The input ended inside the value.
    Incomplete,
    /// Something other than whitespace follows the value, at this offset.
    Trailing(usize),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => f.write_str("no JSON value"),
            ParseError::Invalid(e) => e.fmt(f),
            ParseError::Incomplete => f.write_str("JSON value is incomplete"),
            ParseError::Trailing(at) => write!(f, "unexpected data after the value at byte {at}"),
        }
    }
}

/// Exactly one valid JSON value, as a span of its bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Json<'a> {
    bytes: &'a [u8],
}

impl fmt::Debug for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match core::str::from_utf8(self.bytes) {
            Ok(s) => write!(f, "Json({s})"),
            Err(_) => write!(f, "Json({:?})", self.bytes),
        }
    }
}

impl<'a> Json<'a> {
    /// Validate `bytes` as exactly one JSON value (surrounding whitespace
    /// allowed) in strict RFC 8259.
    ///
    /// # Errors
    ///
    /// [`ParseError`] says what is wrong and where.
    pub fn parse(bytes: &'a [u8]) -> Result<Json<'a>, ParseError> {
        Json::parse_with(bytes, Config::DEFAULT)
    }

    /// Like [`Json::parse`], with the framer's dialect and depth settings.
    ///
    /// # Errors
    ///
    /// [`ParseError`] says what is wrong and where.
    pub fn parse_with(bytes: &'a [u8], config: Config) -> Result<Json<'a>, ParseError> {
        let (start, end) = crate::framer::validate_one(bytes, config)?;
        Ok(Json {
            bytes: bytes.get(start..end).unwrap_or_default(),
        })
    }

    /// Wrap bytes that were validated earlier (by the framer or
    /// [`Json::parse`]) without validating them again, e.g. a span handed
    /// through the C ABI and back. On bytes that are not valid JSON the
    /// readers stay memory-safe and panic-free but their answers mean
    /// nothing.
    pub const fn trusted(bytes: &'a [u8]) -> Json<'a> {
        Json { bytes }
    }

    /// Wrap bytes the framer has already validated.
    pub(crate) const fn from_validated(bytes: &'a [u8]) -> Json<'a> {
        Json { bytes }
    }

    /// The value's bytes, exactly as they were on the wire.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Which kind of value this is.
    pub fn kind(&self) -> Kind {
        match self.bytes.first() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"' | b'\'') => Kind::String,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'n') => Kind::Null,
            _ => Kind::Number,
        }
    }

    /// `null`?
    pub fn is_null(&self) -> bool {
        self.bytes == b"null"
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.bytes {
            b"true" => Some(true),
            b"false" => Some(false),
            _ => None,
        }
    }

    /// The integer, if this is an integer within `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        number::parse_i64(self.bytes).ok()
    }

    /// The integer, if this is an integer within `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        number::parse_u64(self.bytes).ok()
    }

    /// The number as `f64`, if this is a number (huge exponents give
    /// infinity, as in QEMU).
    pub fn as_f64(&self) -> Option<f64> {
        number::parse_f64(self.bytes).ok()
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<Str<'a>> {
        match self.kind() {
            Kind::String => Some(Str::from_validated(self.bytes)),
            _ => None,
        }
    }

    /// The members of an object in wire order (empty if not an object).
    pub fn members(&self) -> Members<'a> {
        Members::new(self.bytes)
    }

    /// The elements of an array in order (empty if not an array).
    pub fn elements(&self) -> Elements<'a> {
        Elements::new(self.bytes)
    }

    /// The first member named `key` (compared after unescaping).
    pub fn get(&self, key: &str) -> Option<Json<'a>> {
        self.members().find(|(k, _)| k.eq_str(key)).map(|(_, v)| v)
    }

    /// The value at a JSON Pointer (RFC 6901), e.g. `/return/qemu/major`.
    /// Array elements are addressed by decimal index; `~1` stands for `/`
    /// and `~0` for `~` in member names. The empty pointer is the value
    /// itself.
    pub fn pointer(&self, path: &str) -> Option<Json<'a>> {
        if path.is_empty() {
            return Some(*self);
        }
        let rest = path.strip_prefix('/')?;
        let mut here = *self;
        for segment in rest.split('/') {
            here = match here.kind() {
                Kind::Object => here
                    .members()
                    .find(|(k, _)| k.eq_pointer_segment(segment))
                    .map(|(_, v)| v)?,
                Kind::Array => {
                    let index = number::parse_index(segment.as_bytes())?;
                    here.elements().nth(index)?
                }
                _ => return None,
            };
        }
        Some(here)
    }
}

impl From<FrameError> for ParseError {
    fn from(e: FrameError) -> Self {
        ParseError::Invalid(e)
    }
}

/// A sentinel byte inside [`Json::parse`] input counts as a syntax error.
pub(crate) fn sentinel_error(at: u64) -> ParseError {
    ParseError::Invalid(FrameError {
        kind: ErrorKind::Syntax,
        at,
        expected: crate::framer::Expected::TopLevel,
        byte: 0xff,
    })
}

#[cfg(test)]
mod tests;
