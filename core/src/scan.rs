//! Word-at-a-time byte scans, in safe code: the fast paths of the framer
//! (runs of plain string content, whitespace) and of the value reader
//! (skipping a string to its closing quote).
//!
//! Eight bytes are tested at once with the classic tests "does this word
//! hold a zero byte" and "a byte below n"; the remainder goes byte by byte.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Some byte of `w` is zero.
#[inline]
fn has_zero(w: u64) -> bool {
    w.wrapping_sub(ONES) & !w & HIGHS != 0
}

/// Some byte of `w` equals `b`.
#[inline]
fn has_byte(w: u64, b: u8) -> bool {
    has_zero(w ^ ONES.wrapping_mul(u64::from(b)))
}

/// Some byte of `w` is below `n` (for `n <= 128`).
#[inline]
fn has_less(w: u64, n: u8) -> bool {
    w.wrapping_sub(ONES.wrapping_mul(u64::from(n))) & !w & HIGHS != 0
}

#[inline]
fn word(input: &[u8], i: usize) -> Option<u64> {
    let bytes: [u8; 8] = input.get(i..i + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

#[inline]
fn plain(b: u8) -> bool {
    (0x20..0x80).contains(&b) && b != b'"' && b != b'\\'
}

/// Length of the run of printable ASCII other than `"` and `\`: string
/// content the framer's automaton need not see byte by byte.
#[inline]
pub(crate) fn plain_run(input: &[u8]) -> usize {
    let mut i = 0;
    while let Some(w) = word(input, i) {
        let special =
            w & HIGHS != 0 || has_less(w, 0x20) || has_byte(w, b'"') || has_byte(w, b'\\');
        if special {
            break;
        }
        i += 8;
    }
    while input.get(i).is_some_and(|&b| plain(b)) {
        i += 1;
    }
    i
}

/// Length of the run of JSON whitespace.
#[inline]
pub(crate) fn whitespace_run(input: &[u8]) -> usize {
    let mut i = 0;
    loop {
        // Indentation comes in runs of spaces after one newline.
        if word(input, i) == Some(ONES * u64::from(b' ')) {
            i += 8;
        } else if input
            .get(i)
            .is_some_and(|&b| crate::framer::is_whitespace(b))
        {
            i += 1;
        } else {
            return i;
        }
    }
}

/// Index of the first `quote` or `\` at or after `from`, if any.
#[inline]
pub(crate) fn quote_or_escape(input: &[u8], from: usize, quote: u8) -> Option<usize> {
    let mut i = from;
    while let Some(w) = word(input, i) {
        if has_byte(w, quote) || has_byte(w, b'\\') {
            break;
        }
        i += 8;
    }
    while let Some(&b) = input.get(i) {
        if b == quote || b == b'\\' {
            return Some(i);
        }
        i += 1;
    }
    None
}
