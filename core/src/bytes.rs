//! Byte copies the optimizer can prove in bounds.
//!
//! `dst.get_mut(a..a + n)?.copy_from_slice(src)` is correct, but LLVM cannot
//! always see that the two lengths are equal (the addition might wrap), so a
//! length-mismatch panic stays in the binary. Cutting the destination to
//! exactly `src.len()` makes the equality evident, and the link-time no-panic
//! check (`examples-fw/nopanic`) passes.

/// Copy `src` into `dst` starting at `at`. Copies nothing and returns
/// `false` if it does not fit.
#[inline]
pub(crate) fn copy_at(dst: &mut [u8], at: usize, src: &[u8]) -> bool {
    match dst.get_mut(at..).and_then(|d| d.get_mut(..src.len())) {
        Some(d) => {
            d.copy_from_slice(src);
            true
        }
        None => false,
    }
}

/// Move `buf[from..]` to the front of `buf`; returns its length (0 if
/// `from` is past the end).
///
/// Done in steps of `from` bytes rather than by one `copy_within`: an
/// overlapping copy links `memmove`, which costs about 1.5 KiB of flash on
/// thumbv7em (the framer needs the move only once per value too large for
/// its buffer, so the extra steps do not matter). The bytes after the
/// moved part are left in any order.
pub(crate) fn move_to_front(buf: &mut [u8], from: usize) -> usize {
    let len = buf.len().saturating_sub(from);
    if from == 0 {
        return len;
    }
    let mut at = 0;
    while at < len {
        let Some((dst, src)) = buf.get_mut(at..).and_then(|r| r.split_at_mut_checked(from)) else {
            break;
        };
        // Swapping rather than copying: LLVM turns a copy loop here back
        // into one `memmove` (it did in the C library's build), but not a
        // swap loop; the bytes swapped behind are never read. `zip` stops
        // at the shorter side, so no length check can fail.
        for (d, s) in dst.iter_mut().zip(src.iter_mut()) {
            core::mem::swap(d, s);
        }
        at += dst.len().min(src.len());
    }
    len
}

#[cfg(test)]
mod tests {
    use super::move_to_front;

    #[test]
    fn move_to_front_handles_every_overlap() {
        for total in 0..12usize {
            for from in 0..=total + 1 {
                let mut buf: [u8; 12] = core::array::from_fn(|i| i as u8);
                let buf = &mut buf[..total];
                let moved = move_to_front(buf, from);
                assert_eq!(moved, total.saturating_sub(from));
                for (i, &b) in buf[..moved].iter().enumerate() {
                    assert_eq!(usize::from(b), from + i, "total {total} from {from}");
                }
            }
        }
    }
}
