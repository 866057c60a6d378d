//! The QAPI built-in scalar types and how they map to Rust.
//!
//! | QAPI | Rust | wrong JSON type | out of range |
//! | --- | --- | --- | --- |
//! | `int` (`int64`) | `i64` | `expected: integer` | `expected: integer` too, as QEMU |
//! | `int8`…`int32` | `i8`…`i32` | `expected: integer` | `expects int8`… |
//! | `uint8`…`uint64` | `u8`…`u64` | `expected: integer` | `expects uint8`… |
//! | `size` | [`Size`] | `expected: integer` | `expects size` |
//! | `number` | `f64` | `expected: number` | — |
//! | `bool` | `bool` | `expected: boolean` | — |
//! | `str` | [`heapless::String<N>`] | `expected: string` | longer than `N` bytes |
//! | `null` | [`Null`] | `expected: null` | — |
//!
//! As QEMU's input visitor does, the unsigned types accept a negative
//! `int64` and wrap it (`-1` is `u64::MAX`, which is then out of range for
//! `uint8`…`uint32`); a fraction is out of range, not a type error.

use super::Decode;
use super::{DecodeError, DecodeErrorKind, Mode};
use crate::json::{number, Encode, Json, JsonWriter, Kind, WriteError};

fn wrong_type<'a>(v: Json<'a>, expected: &'static str) -> DecodeError<'a> {
    DecodeError::new(DecodeErrorKind::WrongType(expected)).with_value(v)
}

fn out_of_range<'a>(v: Json<'a>, name: &'static str) -> DecodeError<'a> {
    DecodeError::new(DecodeErrorKind::OutOfRange(name)).with_value(v)
}

/// Read a QAPI `int` (64-bit signed).
///
/// # Errors
///
/// [`DecodeErrorKind::WrongType`]`("integer")` for anything but an integer
/// within `i64`.
pub fn int64(v: Json<'_>) -> Result<i64, DecodeError<'_>> {
    match v.kind() {
        Kind::Number => number::parse_i64(v.as_bytes()).map_err(|_| wrong_type(v, "integer")),
        _ => Err(wrong_type(v, "integer")),
    }
}

/// Read a QAPI `uint64` (negative `int64` values wrap, as in QEMU).
///
/// # Errors
///
/// [`DecodeErrorKind::WrongType`]`("integer")` for a non-number,
/// [`DecodeErrorKind::OutOfRange`]`(name)` for a number that is neither a
/// `u64` nor an `i64`.
pub fn uint64<'a>(v: Json<'a>, name: &'static str) -> Result<u64, DecodeError<'a>> {
    if v.kind() != Kind::Number {
        return Err(wrong_type(v, "integer"));
    }
    match number::parse_u64(v.as_bytes()) {
        Ok(n) => Ok(n),
        Err(_) => number::parse_i64(v.as_bytes())
            .map(|n| n as u64)
            .map_err(|_| out_of_range(v, name)),
    }
}

macro_rules! signed {
    ($($t:ty => $name:literal),*) => {$(
        impl Decode for $t {
            fn decode_into<'a>(&mut self, v: Json<'a>, _mode: Mode) -> Result<(), DecodeError<'a>> {
                let n = int64(v)?;
                *self = <$t>::try_from(n).map_err(|_| out_of_range(v, $name))?;
                Ok(())
            }
        }
        impl Encode for $t {
            fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
                w.i64(i64::from(*self))
            }
        }
    )*};
}

macro_rules! unsigned {
    ($($t:ty => $name:literal),*) => {$(
        impl Decode for $t {
            fn decode_into<'a>(&mut self, v: Json<'a>, _mode: Mode) -> Result<(), DecodeError<'a>> {
                let n = uint64(v, $name)?;
                *self = <$t>::try_from(n).map_err(|_| out_of_range(v, $name))?;
                Ok(())
            }
        }
        impl Encode for $t {
            fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
                w.u64(u64::from(*self))
            }
        }
    )*};
}

signed!(i8 => "int8", i16 => "int16", i32 => "int32");
unsigned!(u8 => "uint8", u16 => "uint16", u32 => "uint32");

impl Decode for i64 {
    fn decode_into<'a>(&mut self, v: Json<'a>, _mode: Mode) -> Result<(), DecodeError<'a>> {
        *self = int64(v)?;
        Ok(())
    }
}

impl Decode for u64 {
    fn decode_into<'a>(&mut self, v: Json<'a>, _mode: Mode) -> Result<(), DecodeError<'a>> {
        *self = uint64(v, "uint64")?;
        Ok(())
    }
}

/// QAPI `size`: a byte count, `u64` on the wire. A distinct type only so
/// that errors name it `size`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Size(pub u64);

impl Decode for Size {
    fn decode_into<'a>(&mut self, v: Json<'a>, _mode: Mode) -> Result<(), DecodeError<'a>> {
        if v.kind() != Kind::Number {
            return Err(wrong_type(v, "integer"));
        }
        self.0 = number::parse_u64(v.as_bytes()).map_err(|_| out_of_range(v, "size"))?;
        Ok(())
    }
}

impl Encode for Size {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.u64(self.0)
    }
}

impl Decode for f64 {
    fn decode_into<'a>(&mut self, v: Json<'a>, _mode: Mode) -> Result<(), DecodeError<'a>> {
        *self = match v.kind() {
            Kind::Number => v.as_f64().ok_or_else(|| wrong_type(v, "number"))?,
            _ => return Err(wrong_type(v, "number")),
        };
        Ok(())
    }
}

impl Decode for bool {
    fn decode_into<'a>(&mut self, v: Json<'a>, _mode: Mode) -> Result<(), DecodeError<'a>> {
        *self = v.as_bool().ok_or_else(|| wrong_type(v, "boolean"))?;
        Ok(())
    }
}

impl<const N: usize> Decode for heapless::String<N> {
    fn decode_into<'a>(&mut self, v: Json<'a>, _mode: Mode) -> Result<(), DecodeError<'a>> {
        let s = v.as_str().ok_or_else(|| wrong_type(v, "string"))?;
        let too_long =
            || DecodeError::new(DecodeErrorKind::StringTooLong { capacity: N }).with_value(v);
        self.clear();
        match s.as_plain() {
            Some(text) => self.push_str(text).map_err(|_| too_long()),
            None => s
                .chars()
                .try_for_each(|c| self.push(c).map_err(|_| too_long())),
        }
    }
}

impl<const N: usize> Encode for heapless::String<N> {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.string(self.as_str())
    }
}

/// QAPI `null`: the JSON literal `null` and nothing else.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Null;

impl Decode for Null {
    fn decode_into<'a>(&mut self, v: Json<'a>, _mode: Mode) -> Result<(), DecodeError<'a>> {
        if v.is_null() {
            Ok(())
        } else {
            Err(wrong_type(v, "null"))
        }
    }
}

impl Encode for Null {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.null()
    }
}
