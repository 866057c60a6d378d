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
