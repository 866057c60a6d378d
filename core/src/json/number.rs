//! Reading JSON numbers.
//!
//! Integers are read digit by digit with checked arithmetic, so the whole
//! `i64` and `u64` ranges work and nothing overflows. Floats go through
//! `core`'s correctly rounded parser.

use core::fmt;

/// Why a number could not be read as the type asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NumberError {
    /// Not a JSON number at all.
    Invalid,
    /// A number, but with a fraction or exponent where an integer was wanted.
    NotInteger,
    /// An integer outside the target type's range.
    OutOfRange,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NumberError::Invalid => "not a number",
            NumberError::NotInteger => "not an integer",
            NumberError::OutOfRange => "integer out of range",
        })
    }
}

/// Split `-` and check the grammar; returns (negative, integer digits,
/// has fraction or exponent).
fn shape(bytes: &[u8]) -> Result<(bool, &[u8], bool), NumberError> {
    let (negative, rest) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let digits_len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let digits = rest.get(..digits_len).unwrap_or_default();
    if digits.is_empty() || (digits.len() > 1 && digits.first() == Some(&b'0')) {
        return Err(NumberError::Invalid);
    }
    let tail = rest.get(digits_len..).unwrap_or_default();
    if tail.is_empty() {
        return Ok((negative, digits, false));
    }
    // A fraction and/or an exponent: check the rest of the grammar.
    let mut t = tail;
    if let Some((b'.', after)) = t.split_first() {
        let n = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return Err(NumberError::Invalid);
        }
        t = after.get(n..).unwrap_or_default();
    }
    if let Some((b'e' | b'E', after)) = t.split_first() {
        let after = match after.split_first() {
            Some((b'+' | b'-', a)) => a,
            _ => after,
        };
        let n = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return Err(NumberError::Invalid);
        }
        t = after.get(n..).unwrap_or_default();
    }
    if t.is_empty() {
        Ok((negative, digits, true))
    } else {
        Err(NumberError::Invalid)
    }
}

/// Magnitude of a digit string, or `OutOfRange` past `u64::MAX`.
fn magnitude(digits: &[u8]) -> Result<u64, NumberError> {
    digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(NumberError::OutOfRange)
    })
}

/// Read an integer in `i64` range (`-0` is 0).
///
/// # Errors
///
/// [`NumberError`]: not a number, not an integer, or out of range.
pub fn parse_i64(bytes: &[u8]) -> Result<i64, NumberError> {
    let (negative, digits, fractional) = shape(bytes)?;
    if fractional {
        return Err(NumberError::NotInteger);
    }
    let m = magnitude(digits)?;
    if negative {
        if m == 1u64 << 63 {
            Ok(i64::MIN)
        } else {
            i64::try_from(m)
                .map(|v| -v)
                .map_err(|_| NumberError::OutOfRange)
        }
    } else {
        i64::try_from(m).map_err(|_| NumberError::OutOfRange)
    }
}

/// Read an integer in `u64` range (`-0` is 0).
///
/// # Errors
///
/// [`NumberError`]: not a number, not an integer, or out of range.
pub fn parse_u64(bytes: &[u8]) -> Result<u64, NumberError> {
    let (negative, digits, fractional) = shape(bytes)?;
    if fractional {
        return Err(NumberError::NotInteger);
    }
    let m = magnitude(digits)?;
    if negative && m != 0 {
        return Err(NumberError::OutOfRange);
    }
    Ok(m)
}

/// Read any JSON number as `f64`. Exponents beyond the range give infinity
/// or zero, as QEMU's `strtod` does.
///
/// # Errors
///
/// [`NumberError::Invalid`] if `bytes` is not a JSON number.
pub fn parse_f64(bytes: &[u8]) -> Result<f64, NumberError> {
    shape(bytes)?;
    let text = core::str::from_utf8(bytes).map_err(|_| NumberError::Invalid)?;
    text.parse::<f64>().map_err(|_| NumberError::Invalid)
}

/// An array index in a JSON Pointer: decimal, no leading zeros.
pub(crate) fn parse_index(bytes: &[u8]) -> Option<usize> {
    if bytes.is_empty() || (bytes.len() > 1 && bytes.first() == Some(&b'0')) {
        return None;
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    usize::try_from(magnitude(bytes).ok()?).ok()
}
