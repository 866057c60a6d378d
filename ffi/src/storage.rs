//! Caller-provided storage for state objects.
//!
//! Every state object (`qw_framer`, `qw_writer`, ...) is an opaque C struct
//! of `uint64_t` words whose size the header publishes, so C can place it in
//! `static` memory or on the stack. `_init` writes a Rust value into it; later
//! calls borrow it back after checking a magic number that `_init` stored.
//! The compile-time assertions in each module check that the Rust value fits
//! the published size and alignment on every target the crate is built for.

/// Written by every `_init` as the first word of the state: a cheap guard
/// against a state object that was never initialised or was zeroed.
pub(crate) const MAGIC: u64 = 0x7177_6972_6531_0001; // "qwire1" + version

/// A Rust state kept in C storage.
#[repr(C)]
pub(crate) struct Slot<T> {
    magic: u64,
    pub(crate) value: T,
}

/// Initialise the storage at `p` with `value`.
///
/// # Safety
///
/// `p` must be non-NULL, valid for writes of `size_of::<Slot<T>>()` bytes and
/// suitably aligned (the module's assertions guarantee both for the storage
/// type the header declares).
pub(crate) unsafe fn init<T>(p: *mut Slot<T>, value: T) {
    // SAFETY: the caller guarantees `p` is valid and aligned; `write` does
    // not read or drop the old (possibly uninitialised) contents.
    unsafe {
        p.write(Slot {
            magic: MAGIC,
            value,
        })
    }
}

/// Initialise the storage at `p` in place: `build` writes every field of
/// the value through the pointer it gets (so large states are never built
/// on the stack and moved). The magic word is written only if `build`
/// succeeds; on failure the object stays uninitialised.
///
/// # Safety
///
/// As [`init`]; `build` must initialise the whole value when it returns
/// `Ok`.
pub(crate) unsafe fn init_in_place<T>(
    p: *mut Slot<T>,
    build: impl FnOnce(*mut T) -> Result<(), crate::status::qw_status>,
) -> crate::status::qw_status {
    // SAFETY: `p` is valid and aligned per the caller; the fields are
    // reached by raw pointers, never through a reference to uninitialised
    // memory.
    unsafe {
        core::ptr::addr_of_mut!((*p).magic).write(0);
        match build(core::ptr::addr_of_mut!((*p).value)) {
            Ok(()) => {
                core::ptr::addr_of_mut!((*p).magic).write(MAGIC);
                crate::status::qw_status::QW_OK
            }
            Err(e) => e,
        }
    }
}

/// Borrow the initialised state at `p`, or `None` if `p` is NULL or was not
/// initialised.
///
/// # Safety
///
/// `p` must be NULL or point to storage of the declared type that C has not
/// freed; no other reference to it may be live.
pub(crate) unsafe fn get<'a, T>(p: *mut Slot<T>) -> Option<&'a mut T> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and valid per the caller. The magic word is read
    // before the value is used, so storage that was never initialised is
    // refused (its first word is whatever C left there, a u64 like any).
    let slot = unsafe { &mut *p };
    (slot.magic == MAGIC).then_some(&mut slot.value)
}

/// Forget the state: later calls see an uninitialised object.
///
/// # Safety
///
/// As [`get`].
pub(crate) unsafe fn clear<T>(p: *mut Slot<T>) {
    if !p.is_null() {
        // SAFETY: as `get`; only the magic word is written.
        unsafe { (*p).magic = 0 }
    }
}

/// Declares that C storage type `$c` holds a `Slot<$t>`, with compile-time
/// checks of size and alignment.
macro_rules! storage {
    ($c:ty, $t:ty) => {
        const _: () = {
            assert!(
                core::mem::size_of::<$crate::storage::Slot<$t>>() <= core::mem::size_of::<$c>(),
                "state does not fit its published C size"
            );
            assert!(
                core::mem::align_of::<$crate::storage::Slot<$t>>() <= core::mem::align_of::<$c>()
            );
        };
    };
}
pub(crate) use storage;

/// The initialised state of type `$t` behind the C pointer `$p`; returns
/// `QW_ERR_NULL` or `QW_ERR_NOT_INITIALIZED` from the enclosing function
/// otherwise.
macro_rules! state {
    ($p:expr, $t:ty) => {{
        let p = $p;
        if p.is_null() {
            return $crate::status::qw_status::QW_ERR_NULL;
        }
        // SAFETY: every function using this documents that it takes storage
        // set up by the matching `_init`; `get` checks the magic word.
        match unsafe { $crate::storage::get(p.cast::<$crate::storage::Slot<$t>>()) } {
            Some(s) => s,
            None => return $crate::status::qw_status::QW_ERR_NOT_INITIALIZED,
        }
    }};
}
pub(crate) use state;

/// The `Ok` value of `$e`, or return its error status from the enclosing
/// C function (the `?` of functions that return a bare `qw_status`).
macro_rules! try_status {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(status) => return status,
        }
    };
}
pub(crate) use try_status;

/// Text from C: `len` bytes of UTF-8.
///
/// # Safety
///
/// `ptr` must be valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn text<'a>(
    ptr: *const u8,
    len: usize,
) -> Result<&'a str, crate::status::qw_status> {
    // SAFETY: per the caller.
    let b = unsafe { bytes(ptr, len) }.ok_or(crate::status::qw_status::QW_ERR_NULL)?;
    core::str::from_utf8(b).map_err(|_| crate::status::qw_status::QW_ERR_INVALID_UTF8)
}

/// A byte slice from C, `None` when the pointer is NULL with a non-zero
/// length. A NULL pointer with length 0 is the empty slice.
///
/// # Safety
///
/// `ptr` must be valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return (len == 0).then_some(&[]);
    }
    // SAFETY: non-NULL and valid for `len` bytes per the caller.
    Some(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// A writable byte slice from C (see [`bytes`]).
///
/// # Safety
///
/// `ptr` must be valid for reads and writes of `len` bytes for `'a`, and not
/// aliased.
pub(crate) unsafe fn bytes_mut<'a>(ptr: *mut u8, len: usize) -> Option<&'a mut [u8]> {
    if ptr.is_null() {
        return (len == 0).then_some(&mut []);
    }
    // SAFETY: non-NULL, valid and unaliased per the caller.
    Some(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
}

/// Write `value` through an output pointer (already NULL-checked).
///
/// # Safety
///
/// `out` must be valid for a write of `T`.
pub(crate) unsafe fn put<T>(out: *mut T, value: T) {
    // SAFETY: per the caller.
    unsafe { out.write(value) }
}
