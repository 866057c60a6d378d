//! JSON strings: comparing, iterating and unescaping without allocating.
//!
//! QEMU writes every non-ASCII character as `\uXXXX` and every character
//! above U+FFFF as a surrogate pair (`\uD83D\uDE00`), so pairs are the normal
//! case here, not an edge case. A lone or reversed surrogate is an error.

use core::fmt;

/// Why a string could not be unescaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnescapeError {
    /// The output buffer is too small; `needed` bytes would have been enough
    /// for what was decoded so far plus the next character.
    BufferTooSmall {
        /// Bytes written before running out of room.
        written: usize,
    },
    /// A raw control byte (0x00–0x1F) at this offset of the content.
    Control(usize),
    /// Invalid UTF-8 at this offset.
    Utf8(usize),
    /// A bad escape (unknown letter, bad hex, lone or reversed surrogate)
    /// at this offset (of its backslash).
    Escape(usize),
    /// An unescaped quote character inside the content at this offset.
    Quote(usize),
}

impl fmt::Display for UnescapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnescapeError::BufferTooSmall { written } => {
                write!(f, "string does not fit the buffer (after {written} bytes)")
            }
            UnescapeError::Control(at) => write!(f, "control byte in string at {at}"),
            UnescapeError::Utf8(at) => write!(f, "invalid UTF-8 in string at {at}"),
            UnescapeError::Escape(at) => write!(f, "invalid escape in string at {at}"),
            UnescapeError::Quote(at) => write!(f, "unescaped quote in string at {at}"),
        }
    }
}

/// Unescape the content of a JSON string (the bytes between its double
/// quotes) into `out`, returning the text written.
///
/// Accepts exactly what RFC 8259 allows inside a string, plus QEMU's `\'`
/// escape. Surrogate pairs become one character; lone or reversed
/// surrogates, raw control bytes, invalid UTF-8 and unescaped `"` are
/// rejected.
///
/// # Errors
///
/// [`UnescapeError`] with the offset of the problem, or
/// [`UnescapeError::BufferTooSmall`] when `out` cannot hold the result (in
/// which case `out` holds a valid prefix).
pub fn unescape<'o>(content: &[u8], out: &'o mut [u8]) -> Result<&'o str, UnescapeError> {
    unescape_quoted(content, b'"', out)
}

pub(crate) fn unescape_quoted<'o>(
    content: &[u8],
    quote: u8,
    out: &'o mut [u8],
) -> Result<&'o str, UnescapeError> {
    let mut written = 0usize;
    let mut i = 0usize;
    while i < content.len() {
        // Copy a run of plain ASCII in one go: the common case.
        let run = content
            .get(i..)
            .unwrap_or_default()
            .iter()
            .position(|&b| b == b'\\' || b == quote || !(0x20..0x80).contains(&b))
            .unwrap_or(content.len() - i);
        if run > 0 {
            let src = content.get(i..i + run).unwrap_or_default();
            if !crate::bytes::copy_at(out, written, src) {
                return Err(UnescapeError::BufferTooSmall { written });
            }
            written += run;
            i += run;
            continue;
        }
        let (c, next) = decode_char(content, i, quote)?;
        let dst = out
            .get_mut(written..written + c.len_utf8())
            .ok_or(UnescapeError::BufferTooSmall { written })?;
        written += c.encode_utf8(dst).len();
        i = next;
    }
    core::str::from_utf8(out.get(..written).unwrap_or_default()).map_err(|_| UnescapeError::Utf8(0))
}

fn hex4(content: &[u8], at: usize) -> Option<u32> {
    let digits = content.get(at..at + 4)?;
    let mut val = 0u32;
    for &d in digits {
        val = (val << 4) | char::from(d).to_digit(16)?;
    }
    Some(val)
}

/// Decode the character starting at `i`; returns it and the index after it.
pub(crate) fn decode_char(
    content: &[u8],
    i: usize,
    quote: u8,
) -> Result<(char, usize), UnescapeError> {
    let b = *content.get(i).ok_or(UnescapeError::Escape(i))?;
    match b {
        b'\\' => {
            let esc = *content.get(i + 1).ok_or(UnescapeError::Escape(i))?;
            let simple = match esc {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'\'' => '\'',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => return decode_u_escape(content, i),
                _ => return Err(UnescapeError::Escape(i)),
            };
            Ok((simple, i + 2))
        }
        0x00..=0x1f => Err(UnescapeError::Control(i)),
        _ if b == quote => Err(UnescapeError::Quote(i)),
        0x20..=0x7f => Ok((char::from(b), i + 1)),
        _ => {
            let len = match b {
                0xc2..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf4 => 4,
                _ => return Err(UnescapeError::Utf8(i)),
            };
            let seq = content.get(i..i + len).ok_or(UnescapeError::Utf8(i))?;
            let s = core::str::from_utf8(seq).map_err(|_| UnescapeError::Utf8(i))?;
            let c = s.chars().next().ok_or(UnescapeError::Utf8(i))?;
            Ok((c, i + len))
        }
    }
}

fn decode_u_escape(content: &[u8], i: usize) -> Result<(char, usize), UnescapeError> {
    let bad = UnescapeError::Escape(i);
    let first = hex4(content, i + 2).ok_or(bad)?;
    match first {
        0xd800..=0xdbff => {
            if content.get(i + 6..i + 8) != Some(b"\\u") {
                return Err(bad);
            }
            let second = hex4(content, i + 8).ok_or(bad)?;
            if !(0xdc00..=0xdfff).contains(&second) {
                return Err(bad);
            }
            let c = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
            Ok((char::from_u32(c).ok_or(bad)?, i + 12))
        }
        0xdc00..=0xdfff => Err(bad),
        _ => Ok((char::from_u32(first).ok_or(bad)?, i + 6)),
    }
}

/// A JSON string value in its escaped wire form (quotes included).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Str<'a> {
    raw: &'a [u8],
}

impl fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Str(")?;
        for c in self.chars() {
            fmt::Write::write_char(f, c)?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.chars() {
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

impl<'a> Str<'a> {
    pub(crate) const fn from_validated(raw: &'a [u8]) -> Self {
        Str { raw }
    }

    /// The string as written on the wire, quotes included.
    pub const fn raw(&self) -> &'a [u8] {
        self.raw
    }

    fn quote(&self) -> u8 {
        self.raw.first().copied().unwrap_or(b'"')
    }

    /// The bytes between the quotes, escapes not decoded.
    pub fn content(&self) -> &'a [u8] {
        match self.raw.len() {
            0 | 1 => &[],
            n => self.raw.get(1..n - 1).unwrap_or_default(),
        }
    }

    /// The content holds no escape sequence, so [`Str::content`] is the text.
    pub fn is_plain(&self) -> bool {
        !self.content().contains(&b'\\')
    }

    /// The text, borrowed, when no unescaping is needed.
    pub fn as_plain(&self) -> Option<&'a str> {
        if self.is_plain() {
            core::str::from_utf8(self.content()).ok()
        } else {
            None
        }
    }

    /// The decoded characters. On a valid string this is exact; bytes that
    /// are not valid come out as U+FFFD rather than stopping.
    pub fn chars(&self) -> Chars<'a> {
        Chars {
            content: self.content(),
            quote: self.quote(),
            at: 0,
        }
    }

    /// Length of the unescaped text in UTF-8 bytes.
    pub fn decoded_len(&self) -> usize {
        if self.is_plain() {
            self.content().len()
        } else {
            self.chars().map(char::len_utf8).sum()
        }
    }

    /// Compare with `s` after unescaping, without a buffer.
    pub fn eq_str(&self, s: &str) -> bool {
        if self.is_plain() {
            self.content() == s.as_bytes()
        } else {
            self.chars().eq(s.chars())
        }
    }

    /// Compare with one JSON Pointer segment (`~1` is `/`, `~0` is `~`).
    pub(crate) fn eq_pointer_segment(&self, segment: &str) -> bool {
        // RFC 6901 allows only `~0` and `~1`; a segment with any other `~`
        // names no member at all.
        let bytes = segment.as_bytes();
        let valid = bytes
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == b'~')
            .all(|(i, _)| matches!(bytes.get(i + 1), Some(b'0' | b'1')));
        if !valid {
            return false;
        }
        let mut wanted = segment.chars();
        let decoded = core::iter::from_fn(move || match wanted.next()? {
            '~' => match wanted.next() {
                Some('1') => Some('/'),
                _ => Some('~'),
            },
            c => Some(c),
        });
        self.chars().eq(decoded)
    }

    /// Unescape into `out`.
    ///
    /// # Errors
    ///
    /// [`UnescapeError::BufferTooSmall`] when `out` is too small; the other
    /// variants only for a [`Str`] that was not validated.
    pub fn unescape_into<'o>(&self, out: &'o mut [u8]) -> Result<&'o str, UnescapeError> {
        unescape_quoted(self.content(), self.quote(), out)
    }
}

/// Iterator over the characters of a [`Str`].
#[derive(Clone, Debug)]
pub struct Chars<'a> {
    content: &'a [u8],
    quote: u8,
    at: usize,
}

impl Iterator for Chars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let b = *self.content.get(self.at)?;
        if b != b'\\' && (0x20..0x80).contains(&b) {
            self.at += 1;
            return Some(char::from(b));
        }
        match decode_char(self.content, self.at, self.quote) {
            Ok((c, next)) => {
                self.at = next;
                Some(c)
            }
            Err(_) => {
                self.at += 1;
                Some(char::REPLACEMENT_CHARACTER)
            }
        }
    }
}
