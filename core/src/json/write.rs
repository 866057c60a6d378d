//! Writing JSON into a caller's buffer.
//!
//! The output is compact and pure 7-bit ASCII: every character outside
//! 0x20..=0x7E is written as `\uXXXX` (upper-case hex, as QEMU writes it),
//! characters above U+FFFF as a surrogate pair. So nothing this writer
//! produces can contain a 0xFF byte, which keeps 0xFF free to be a sentinel.
//!
//! Commas and colons are placed automatically. The writer checks that calls
//! come in a valid order (a key before each member value, balanced
//! brackets) and reports misuse as an error rather than writing bad JSON.
//! On any error it stops writing; the error is sticky and [`JsonWriter::finish`]
//! returns it.

use super::{Json, Str};
use core::fmt;

/// Why writing failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteError {
    /// The buffer is full. Nothing was written past its end.
    BufferFull,
    /// Calls out of order: a member value without a key, a key outside an
    /// object, an unbalanced `end_*`, or `finish` with containers open.
    Misuse,
    /// More than [`JsonWriter::MAX_DEPTH`] containers open at once.
    TooDeep,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WriteError::BufferFull => "output buffer full",
            WriteError::Misuse => "JSON writer calls out of order",
            WriteError::TooDeep => "JSON writer nesting too deep",
        })
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Builds JSON into a caller-provided buffer.
///
/// ```
/// use qwire::json::JsonWriter;
///
/// let mut buf = [0u8; 64];
/// let mut w = JsonWriter::new(&mut buf);
/// w.begin_object()?;
/// w.key("execute")?;
/// w.string("guest-sync")?;
/// w.key("arguments")?;
/// w.begin_object()?;
/// w.key("id")?;
/// w.i64(-7)?;
/// w.end_object()?;
/// w.end_object()?;
/// assert_eq!(w.finish()?, br#"{"execute":"guest-sync","arguments":{"id":-7}}"#);
/// # Ok::<(), qwire::json::WriteError>(())
/// ```
#[derive(Debug)]
pub struct JsonWriter<'w> {
    buf: &'w mut [u8],
    len: usize,
    error: Option<WriteError>,
    /// Bit `n`: the container at level `n` is an object.
    objects: u64,
    depth: u8,
    /// The next item in the current container needs a comma first.
    comma: bool,
    /// A key was written; its value comes next.
    after_key: bool,
    /// A complete top-level value has been written.
    done: bool,
}

impl<'w> JsonWriter<'w> {
    /// Most containers open at once.
    pub const MAX_DEPTH: u8 = 64;

    /// A writer appending to `buf` from its start.
    pub fn new(buf: &'w mut [u8]) -> Self {
        JsonWriter {
            buf,
            len: 0,
            error: None,
            objects: 0,
            depth: 0,
            comma: false,
            after_key: false,
            done: false,
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

    /// The first error met, if any.
    pub fn error(&self) -> Option<WriteError> {
        self.error
    }

    /// Finish: every container must be closed.
    ///
    /// # Errors
    ///
    /// The first error met while writing, or [`WriteError::Misuse`] if a
    /// container is still open or nothing was written.
    pub fn finish(self) -> Result<&'w [u8], WriteError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.depth != 0 || !self.done {
            return Err(WriteError::Misuse);
        }
        let JsonWriter { buf, len, .. } = self;
        Ok(buf.get(..len).unwrap_or_default())
    }

    fn fail(&mut self, e: WriteError) -> Result<(), WriteError> {
        self.error.get_or_insert(e);
        Err(e)
    }

    fn check(&self) -> Result<(), WriteError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        self.check()?;
        if crate::bytes::copy_at(self.buf, self.len, bytes) {
            self.len += bytes.len();
            Ok(())
        } else {
            self.fail(WriteError::BufferFull)
        }
    }

    fn in_object(&self) -> bool {
        self.depth > 0 && self.objects & (1u64 << (self.depth - 1)) != 0
    }

    /// Before any value: the comma, and a check that a value may go here.
    fn before_value(&mut self) -> Result<(), WriteError> {
        self.check()?;
        if self.depth == 0 {
            if self.done {
                return self.fail(WriteError::Misuse);
            }
        } else if self.in_object() {
            if !self.after_key {
                return self.fail(WriteError::Misuse);
            }
        } else if self.comma {
            self.put(b",")?;
        }
        self.after_key = false;
        Ok(())
    }

    fn after_value(&mut self) {
        if self.depth == 0 {
            self.done = true;
        } else {
            self.comma = true;
        }
    }

    /// Append bytes verbatim, outside the JSON structure (a line terminator,
    /// a 0xFF sentinel before a message). The caller answers for them.
    ///
    /// # Errors
    ///
    /// [`WriteError::BufferFull`].
    pub fn raw(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        self.put(bytes)
    }

    /// Open an object.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer, misuse or too deep nesting.
    pub fn begin_object(&mut self) -> Result<(), WriteError> {
        self.begin(true)
    }

    /// Open an array.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer, misuse or too deep nesting.
    pub fn begin_array(&mut self) -> Result<(), WriteError> {
        self.begin(false)
    }

    fn begin(&mut self, object: bool) -> Result<(), WriteError> {
        self.before_value()?;
        if self.depth >= Self::MAX_DEPTH {
            return self.fail(WriteError::TooDeep);
        }
        self.put(if object { b"{" } else { b"[" })?;
        let bit = 1u64 << self.depth;
        if object {
            self.objects |= bit;
        } else {
            self.objects &= !bit;
        }
        self.depth += 1;
        self.comma = false;
        Ok(())
    }

    /// Close the innermost object.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or if the innermost container is not
    /// an object awaiting a key.
    pub fn end_object(&mut self) -> Result<(), WriteError> {
        self.end(true)
    }

    /// Close the innermost array.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or if the innermost container is not
    /// an array.
    pub fn end_array(&mut self) -> Result<(), WriteError> {
        self.end(false)
    }

    fn end(&mut self, object: bool) -> Result<(), WriteError> {
        self.check()?;
        if self.depth == 0 || self.in_object() != object || self.after_key {
            return self.fail(WriteError::Misuse);
        }
        self.put(if object { b"}" } else { b"]" })?;
        self.depth -= 1;
        self.after_value();
        Ok(())
    }

    /// Write an object member's key; its value must follow.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or outside an object.
    pub fn key(&mut self, key: &str) -> Result<(), WriteError> {
        self.check()?;
        if !self.in_object() || self.after_key {
            return self.fail(WriteError::Misuse);
        }
        if self.comma {
            self.put(b",")?;
        }
        self.escaped(key.chars())?;
        self.put(b":")?;
        self.after_key = true;
        Ok(())
    }

    /// A string value.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or misuse.
    pub fn string(&mut self, s: &str) -> Result<(), WriteError> {
        self.before_value()?;
        self.escaped(s.chars())?;
        self.after_value();
        Ok(())
    }

    /// A string value from characters.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or misuse.
    pub fn string_chars(&mut self, chars: impl Iterator<Item = char>) -> Result<(), WriteError> {
        self.before_value()?;
        self.escaped(chars)?;
        self.after_value();
        Ok(())
    }

    /// A string value from arbitrary bytes: valid UTF-8 is kept, each byte
    /// that is not becomes U+FFFD (as QEMU does when it quotes bad input back).
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or misuse.
    pub fn string_lossy(
        &mut self,
        bytes: impl Iterator<Item = u8> + Clone,
    ) -> Result<(), WriteError> {
        self.before_value()?;
        self.escaped(LossyChars { bytes })?;
        self.after_value();
        Ok(())
    }

    /// A string value from formatting arguments (`format_args!`), escaped
    /// as it is written: composing a message needs no buffer of its own.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or misuse.
    pub fn string_fmt(&mut self, args: fmt::Arguments<'_>) -> Result<(), WriteError> {
        self.before_value()?;
        self.put(b"\"")?;
        let mut sink = EscapingSink { w: self };
        if fmt::write(&mut sink, args).is_err() {
            return self.fail(WriteError::BufferFull);
        }
        self.put(b"\"")?;
        self.after_value();
        Ok(())
    }

    fn escaped(&mut self, chars: impl Iterator<Item = char>) -> Result<(), WriteError> {
        self.put(b"\"")?;
        self.escaped_body(chars)?;
        self.put(b"\"")
    }

    fn escaped_body(&mut self, chars: impl Iterator<Item = char>) -> Result<(), WriteError> {
        for c in chars {
            match c {
                '"' => self.put(b"\\\"")?,
                '\\' => self.put(b"\\\\")?,
                '\u{8}' => self.put(b"\\b")?,
                '\u{c}' => self.put(b"\\f")?,
                '\n' => self.put(b"\\n")?,
                '\r' => self.put(b"\\r")?,
                '\t' => self.put(b"\\t")?,
                ' '..='~' => self.put(&[c as u8])?,
                _ => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        self.u_escape(*unit)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn u_escape(&mut self, unit: u16) -> Result<(), WriteError> {
        let nibble = |shift: u16| {
            HEX.get(usize::from((unit >> shift) & 0xf))
                .copied()
                .unwrap_or(b'0')
        };
        self.put(&[b'\\', b'u', nibble(12), nibble(8), nibble(4), nibble(0)])
    }

    /// A signed integer.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or misuse.
    pub fn i64(&mut self, v: i64) -> Result<(), WriteError> {
        self.before_value()?;
        if v < 0 {
            self.put(b"-")?;
        }
        self.digits(v.unsigned_abs())?;
        self.after_value();
        Ok(())
    }

    /// An unsigned integer.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or misuse.
    pub fn u64(&mut self, v: u64) -> Result<(), WriteError> {
        self.before_value()?;
        self.digits(v)?;
        self.after_value();
        Ok(())
    }

    fn digits(&mut self, mut v: u64) -> Result<(), WriteError> {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            if let Some(slot) = tmp.get_mut(i) {
                *slot = b'0' + (v % 10) as u8;
            }
            v /= 10;
            if v == 0 || i == 0 {
                break;
            }
        }
        self.put(tmp.get(i..).unwrap_or_default())
    }

    /// A floating-point number, written in the shortest form that reads
    /// back exactly. NaN and infinities, which JSON cannot express, are
    /// written as `null`.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or misuse.
    pub fn f64(&mut self, v: f64) -> Result<(), WriteError> {
        self.before_value()?;
        if v.is_finite() {
            let mut sink = Sink { w: self };
            // `{:?}` is the shortest round-trip form ("0.1", "1e300", "1.0").
            if fmt::write(&mut sink, format_args!("{v:?}")).is_err() {
                return self.fail(WriteError::BufferFull);
            }
        } else {
            self.put(b"null")?;
        }
        self.after_value();
        Ok(())
    }

    /// A boolean.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or misuse.
    pub fn bool(&mut self, v: bool) -> Result<(), WriteError> {
        self.before_value()?;
        self.put(if v { b"true" } else { b"false" })?;
        self.after_value();
        Ok(())
    }

    /// `null`.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or misuse.
    pub fn null(&mut self) -> Result<(), WriteError> {
        self.before_value()?;
        self.put(b"null")?;
        self.after_value();
        Ok(())
    }

    /// Copy a validated value, normalised the way QEMU re-serialises what it
    /// echoes: whitespace dropped, strings rewritten as double-quoted pure
    /// ASCII, integers beyond 64 bits turned into floats. The result equals
    /// the input as a JSON value. This does not recurse, however deep the
    /// value is.
    ///
    /// # Errors
    ///
    /// [`WriteError`] on a full buffer or misuse.
    pub fn value(&mut self, v: Json<'_>) -> Result<(), WriteError> {
        self.before_value()?;
        let bytes = v.as_bytes();
        let mut i = 0usize;
        while let Some(&b) = bytes.get(i) {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'"' | b'\'' => {
                    let end = super::read::string_end(bytes, i).unwrap_or(bytes.len());
                    let s = Str::from_validated(bytes.get(i..end).unwrap_or_default());
                    self.escaped(s.chars())?;
                    i = end;
                }
                b'-' | b'0'..=b'9' => {
                    let end = super::read::value_end(bytes, i).unwrap_or(bytes.len());
                    let text = bytes.get(i..end).unwrap_or_default();
                    self.number_text(text)?;
                    i = end.max(i + 1);
                }
                _ => {
                    self.put(&[b])?;
                    i += 1;
                }
            }
        }
        self.after_value();
        Ok(())
    }

    /// Copy a number, except an integer beyond 64 bits, which QEMU turns
    /// into a double when it echoes it: write that one in exponent form
    /// (`123456789012345678901234567890` becomes
    /// `1.2345678901234567890123456789e29`), which reads back as the same
    /// double. Done on the digits, so no float code is involved.
    fn number_text(&mut self, text: &[u8]) -> Result<(), WriteError> {
        let (sign, digits) = match text.split_first() {
            Some((b'-', rest)) => (&b"-"[..], rest),
            _ => (&b""[..], text),
        };
        let beyond_64_bits =
            digits.len() > 20 || (digits.len() == 20 && digits > &b"18446744073709551615"[..]);
        if !beyond_64_bits || !digits.iter().all(u8::is_ascii_digit) {
            return self.put(text);
        }
        let (first, rest) = digits.split_first().unwrap_or((&b'0', &[]));
        let kept = rest.len() - rest.iter().rev().take_while(|&&d| d == b'0').count();
        self.put(sign)?;
        self.put(&[*first])?;
        if let Some(fraction) = rest.get(..kept).filter(|f| !f.is_empty()) {
            self.put(b".")?;
            self.put(fraction)?;
        }
        self.put(b"e")?;
        let mut exponent = [0u8; 20];
        let mut i = exponent.len();
        let mut e = rest.len();
        loop {
            i -= 1;
            if let Some(slot) = exponent.get_mut(i) {
                *slot = b'0' + (e % 10) as u8;
            }
            e /= 10;
            if e == 0 || i == 0 {
                break;
            }
        }
        self.put(exponent.get(i..).unwrap_or_default())
    }
}

/// `core::fmt` adapter appending to the writer's buffer.
struct Sink<'a, 'w> {
    w: &'a mut JsonWriter<'w>,
}

impl fmt::Write for Sink<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.w.put(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

/// `core::fmt` adapter that escapes what it is given into a string body.
struct EscapingSink<'a, 'w> {
    w: &'a mut JsonWriter<'w>,
}

impl fmt::Write for EscapingSink<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.w.escaped_body(s.chars()).map_err(|_| fmt::Error)
    }
}

/// A value that writes itself as exactly one JSON value.
///
/// Implemented for the JSON scalars, for [`Json`] (copied, normalised) and
/// for every generated QMP/QGA type.
pub trait Encode {
    /// Write `self` as one JSON value.
    ///
    /// # Errors
    ///
    /// [`WriteError`] from the writer.
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError>;
}

impl Encode for Json<'_> {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.value(*self)
    }
}

impl Encode for str {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.string(self)
    }
}

impl Encode for Str<'_> {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.string_chars(self.chars())
    }
}

impl Encode for i64 {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.i64(*self)
    }
}

impl Encode for u64 {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.u64(*self)
    }
}

impl Encode for bool {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.bool(*self)
    }
}

impl Encode for f64 {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.f64(*self)
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        (**self).encode(w)
    }
}

/// Wraps a closure that writes one value, so ad-hoc values can be passed
/// where an [`Encode`] is expected.
pub struct EncodeWith<F>(pub F);

impl<F: Fn(&mut JsonWriter<'_>) -> Result<(), WriteError>> Encode for EncodeWith<F> {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        (self.0)(w)
    }
}

/// An empty object `{}`: what QMP returns for commands without a result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EmptyObject;

impl Encode for EmptyObject {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.begin_object()?;
        w.end_object()
    }
}

/// Characters of arbitrary bytes, with U+FFFD for each byte that is not part
/// of a valid UTF-8 sequence.
#[derive(Clone)]
struct LossyChars<I> {
    bytes: I,
}

impl<I: Iterator<Item = u8> + Clone> Iterator for LossyChars<I> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let lead = self.bytes.next()?;
        let len = match lead {
            0x00..=0x7f => return Some(char::from(lead)),
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => return Some(char::REPLACEMENT_CHARACTER),
        };
        let mut seq = [lead, 0, 0, 0];
        let mut ahead = self.bytes.clone();
        for slot in seq.iter_mut().take(len).skip(1) {
            match ahead.next() {
                Some(b) => *slot = b,
                None => return Some(char::REPLACEMENT_CHARACTER),
            }
        }
        match core::str::from_utf8(seq.get(..len).unwrap_or_default()) {
            Ok(s) => {
                self.bytes = ahead;
                s.chars().next()
            }
            Err(_) => Some(char::REPLACEMENT_CHARACTER),
        }
    }
}
