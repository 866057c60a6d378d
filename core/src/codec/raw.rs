//! [`RawJson`]: an owned copy of any JSON value, for QAPI `any` and for the
//! members that break a type cycle (see the [`codec`](super) docs).
//!
//! The copy is the value's normalised text as [`JsonWriter::value`] writes
//! it: no whitespace, double-quoted pure-ASCII strings. It is stored in a
//! fixed `[u8; N]`; a value whose normalised text is longer than `N` bytes
//! is [`DecodeErrorKind::RawTooLong`], never truncated. Copying does not
//! recurse, however deep the value.

use core::fmt;

use super::{Decode, DecodeError, DecodeErrorKind, Mode};
use crate::json::{Encode, Json, JsonWriter, WriteError};

/// An owned JSON value of at most `N` bytes of normalised text. The default
/// value is `null`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RawJson<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Default for RawJson<N> {
    fn default() -> Self {
        RawJson {
            buf: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> fmt::Debug for RawJson<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson({:?})", self.as_json())
    }
}

impl<const N: usize> RawJson<N> {
    /// The value, to read with the [`json`](crate::json) API or to decode
    /// into a typed value with [`Decode`].
    pub fn as_json(&self) -> Json<'_> {
        match self.buf.get(..self.len) {
            Some(text) if !text.is_empty() => Json::from_validated(text),
            _ => Json::from_validated(b"null"),
        }
    }

    /// The normalised JSON text.
    pub fn as_bytes(&self) -> &[u8] {
        self.as_json().as_bytes()
    }

    /// Copy `v` in.
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::RawTooLong`] when the normalised text needs more
    /// than `N` bytes. On error the value is `null`.
    pub fn set<'a>(&mut self, v: Json<'a>) -> Result<(), DecodeError<'a>> {
        self.len = 0;
        let mut w = JsonWriter::new(&mut self.buf);
        let written = w.value(v).map(|()| w.len());
        match written {
            Ok(len) => {
                self.len = len;
                Ok(())
            }
            Err(_) => {
                Err(DecodeError::new(DecodeErrorKind::RawTooLong { capacity: N }).with_value(v))
            }
        }
    }
}

impl<const N: usize> Decode for RawJson<N> {
    fn decode_into<'a>(&mut self, v: Json<'a>, _mode: Mode) -> Result<(), DecodeError<'a>> {
        self.set(v)
    }
}

impl<const N: usize> Encode for RawJson<N> {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.value(self.as_json())
    }
}
