//! Walking a validated value: member and element iterators.
//!
//! These scans trust the span to be valid JSON and so only look for
//! boundaries (quotes, brackets, separators). Depth is counted with an
//! integer, never with recursion. On bytes that are not valid JSON they stop
//! early; every access is checked.

use super::{Json, Str};

/// Index of the first non-whitespace byte at or after `i`.
pub(crate) fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\r' | b'\n') = bytes.get(i) {
        i += 1;
    }
    i
}

/// End (exclusive) of the string whose opening quote is at `i`.
pub(crate) fn string_end(bytes: &[u8], i: usize) -> Option<usize> {
    let quote = *bytes.get(i)?;
    let mut j = i + 1;
    loop {
        // Jump over the content up to the next quote or escape.
        j = crate::scan::quote_or_escape(bytes, j, quote)?;
        if bytes.get(j) == Some(&quote) {
            return Some(j + 1);
        }
        j += 2;
    }
}

/// End (exclusive) of the value starting at `i`.
pub(crate) fn value_end(bytes: &[u8], i: usize) -> Option<usize> {
    match *bytes.get(i)? {
        b'"' | b'\'' => string_end(bytes, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match *bytes.get(j)? {
                    b'"' | b'\'' => {
                        j = string_end(bytes, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while let Some(b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'+' | b'-' | b'.') =
                bytes.get(j)
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// The value starting at `i` (after whitespace) and the index after it.
fn next_value(bytes: &[u8], i: usize) -> Option<(Json<'_>, usize)> {
    let start = skip_ws(bytes, i);
    let end = value_end(bytes, start)?;
    Some((Json::from_validated(bytes.get(start..end)?), end))
}

/// After a member or element: skip whitespace and one `,`. Returns `None` at
/// the closing bracket.
fn after_item(bytes: &[u8], i: usize) -> Option<usize> {
    let i = skip_ws(bytes, i);
    match bytes.get(i) {
        Some(b',') => Some(i + 1),
        _ => None,
    }
}

/// Iterator over an object's members as `(key, value)`, in wire order.
#[derive(Clone, Debug)]
pub struct Members<'a> {
    bytes: &'a [u8],
    /// Where the next member starts, or `None` when done.
    at: Option<usize>,
}

impl<'a> Members<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        let at = match bytes.first() {
            Some(b'{') => Some(1),
            _ => None,
        };
        Members { bytes, at }
    }
}

impl<'a> Members<'a> {
    /// Where the iteration stands: the byte offset of the next member within
    /// the object, or `None` when it is over. With [`Members::resume`] this
    /// lets an iteration be kept as a plain number (the C ABI does).
    pub fn position(&self) -> Option<usize> {
        self.at
    }

    /// Continue an iteration over `object` from a [`Members::position`].
    pub fn resume(object: Json<'a>, position: Option<usize>) -> Self {
        Members {
            bytes: object.as_bytes(),
            at: position.filter(|_| object.as_bytes().first() == Some(&b'{')),
        }
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = (Str<'a>, Json<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.bytes;
        let at = self.at.take()?;
        let key_start = skip_ws(bytes, at);
        if !matches!(bytes.get(key_start), Some(b'"' | b'\'')) {
            return None;
        }
        let key_end = string_end(bytes, key_start)?;
        let key = Str::from_validated(bytes.get(key_start..key_end)?);
        let colon = skip_ws(bytes, key_end);
        if bytes.get(colon) != Some(&b':') {
            return None;
        }
        let (value, end) = next_value(bytes, colon + 1)?;
        self.at = after_item(bytes, end);
        Some((key, value))
    }
}

/// Iterator over an array's elements, in order.
#[derive(Clone, Debug)]
pub struct Elements<'a> {
    bytes: &'a [u8],
    at: Option<usize>,
}

impl<'a> Elements<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        let at = match bytes.first() {
            Some(b'[') => Some(1),
            _ => None,
        };
        Elements { bytes, at }
    }
}

impl<'a> Elements<'a> {
    /// Where the iteration stands (see [`Members::position`]).
    pub fn position(&self) -> Option<usize> {
        self.at
    }

    /// Continue an iteration over `array` from an [`Elements::position`].
    pub fn resume(array: Json<'a>, position: Option<usize>) -> Self {
        Elements {
            bytes: array.as_bytes(),
            at: position.filter(|_| array.as_bytes().first() == Some(&b'[')),
        }
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = Json<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.bytes;
        let at = self.at.take()?;
        let start = skip_ws(bytes, at);
        if bytes.get(start) == Some(&b']') {
            return None;
        }
        let (value, end) = next_value(bytes, start)?;
        self.at = after_item(bytes, end);
        Some(value)
    }
}
