//! Reading JSON from C: a validated span (`qw_json`), lookup by JSON Pointer
//! or key, typed reads, and iteration over arrays and objects.

use qw::framer::Config;
use qw::json::{Elements, Json, Kind, Members, UnescapeError};

use crate::status::qw_status::{self, *};
use crate::storage::{bytes, put};

/// A JSON value: a span of bytes holding exactly one valid value, as handed
/// out by qwire (a frame, a member, an element). It borrows the bytes it
/// points to; they must stay unchanged while it is used.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct qw_json {
    /// First byte of the value.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

impl qw_json {
    pub(crate) fn from_json(v: Json<'_>) -> qw_json {
        let b = v.as_bytes();
        qw_json {
            ptr: b.as_ptr(),
            len: b.len(),
        }
    }

    pub(crate) const EMPTY: qw_json = qw_json {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// The value as a `Json`. The readers tolerate bytes that are not valid
    /// JSON (they stop early), so a hand-made span cannot make them misbehave.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for reads of `len` bytes while the result is used.
    pub(crate) unsafe fn to_json<'a>(self) -> Option<Json<'a>> {
        // SAFETY: per the caller.
        let b = unsafe { bytes(self.ptr, self.len) }?;
        (!b.is_empty()).then(|| Json::trusted(b))
    }
}

/// The type of a JSON value.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum qw_json_type {
    /// `{...}`
    QW_JSON_OBJECT = 1,
    /// `[...]`
    QW_JSON_ARRAY = 2,
    /// `"..."`
    QW_JSON_STRING = 3,
    /// a number
    QW_JSON_NUMBER = 4,
    /// `true` or `false`
    QW_JSON_BOOL = 5,
    /// `null`
    QW_JSON_NULL = 6,
}

fn type_of(v: Json<'_>) -> qw_json_type {
    match v.kind() {
        Kind::Object => qw_json_type::QW_JSON_OBJECT,
        Kind::Array => qw_json_type::QW_JSON_ARRAY,
        Kind::String => qw_json_type::QW_JSON_STRING,
        Kind::Number => qw_json_type::QW_JSON_NUMBER,
        Kind::Bool => qw_json_type::QW_JSON_BOOL,
        Kind::Null => qw_json_type::QW_JSON_NULL,
    }
}

/// Validate `len` bytes at `buf` as exactly one JSON value (surrounding
/// whitespace allowed) and return it in `*out`. With `single_quotes`, QEMU's
/// `'single-quoted'` strings are accepted too.
///
/// Returns `QW_ERR_INVALID_JSON` if the bytes are not one valid value.
///
/// # Safety
///
/// `buf` must be valid for reads of `len` bytes; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qw_json_parse(
    buf: *const u8,
    len: usize,
    single_quotes: bool,
    out: *mut qw_json,
) -> qw_status {
    if out.is_null() {
        return QW_ERR_NULL;
    }
    // SAFETY: per the contract above.
    let Some(b) = (unsafe { bytes(buf, len) }) else {
        return QW_ERR_NULL;
    };
    let config = Config {
        single_quotes,
        ..Config::DEFAULT
    };
    match Json::parse_with(b, config) {
        Ok(v) => {
            // SAFETY: `out` checked non-NULL; valid per the contract.
            unsafe { put(out, qw_json::from_json(v)) };
            QW_OK
        }
        Err(_) => QW_ERR_INVALID_JSON,
    }
}

/// Borrow the value behind a `qw_json` argument, or return the status.
macro_rules! value {
    ($v:expr) => {
        // SAFETY: a `qw_json` comes from qwire and points to live bytes,
        // per the function's contract.
        match unsafe { $v.to_json() } {
            Some(v) => v,
            None => return QW_ERR_NULL,
        }
    };
}

/// Reject NULL output pointers.
macro_rules! out {
    ($($p:expr),+) => {
        if $($p.is_null())||+ {
            return QW_ERR_NULL;
        }
    };
}

/// The type of `value` in `*out`.
///
/// # Safety
///
/// `value` must come from qwire and its bytes be live; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qw_json_type_of(value: qw_json, out: *mut qw_json_type) -> qw_status {
    out!(out);
    let v = value!(value);
    // SAFETY: checked non-NULL.
    unsafe { put(out, type_of(v)) };
    QW_OK
}

/// Look up a JSON Pointer (RFC 6901) such as `/return/qemu/major` in `value`:
/// object members by name (`~1` for `/`, `~0` for `~`), array elements by
/// decimal index. `path` is `path_len` bytes of UTF-8 (no NUL needed); the
/// empty path is `value` itself. `QW_ERR_NOT_FOUND` if nothing is there.
///
/// # Safety
///
/// `value` must come from qwire and its bytes be live; `path` valid for
/// `path_len` bytes; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qw_json_pointer(
    value: qw_json,
    path: *const u8,
    path_len: usize,
    out: *mut qw_json,
) -> qw_status {
    out!(out);
    let v = value!(value);
    // SAFETY: per the contract above.
    let path = crate::storage::try_status!(unsafe { crate::storage::text(path, path_len) });
    match v.pointer(path) {
        Some(found) => {
            // SAFETY: checked non-NULL.
            unsafe { put(out, qw_json::from_json(found)) };
            QW_OK
        }
        None => QW_ERR_NOT_FOUND,
    }
}

/// The member `key` (`key_len` bytes of UTF-8) of the object `value`.
/// `QW_ERR_WRONG_TYPE` if `value` is not an object, `QW_ERR_NOT_FOUND` if it
/// has no such member.
///
/// # Safety
///
/// As `qw_json_pointer`.
#[no_mangle]
pub unsafe extern "C" fn qw_json_get(
    value: qw_json,
    key: *const u8,
    key_len: usize,
    out: *mut qw_json,
) -> qw_status {
    out!(out);
    let v = value!(value);
    // SAFETY: per the contract above.
    let key = crate::storage::try_status!(unsafe { crate::storage::text(key, key_len) });
    if v.kind() != Kind::Object {
        return QW_ERR_WRONG_TYPE;
    }
    match v.get(key) {
        Some(found) => {
            // SAFETY: checked non-NULL.
            unsafe { put(out, qw_json::from_json(found)) };
            QW_OK
        }
        None => QW_ERR_NOT_FOUND,
    }
}

fn number_status(e: qw::json::number::NumberError) -> qw_status {
    match e {
        qw::json::number::NumberError::OutOfRange => QW_ERR_OUT_OF_RANGE,
        _ => QW_ERR_WRONG_TYPE,
    }
}

/// Read `value` as a signed 64-bit integer. `QW_ERR_WRONG_TYPE` for a
/// non-integer, `QW_ERR_OUT_OF_RANGE` for an integer outside `int64_t`.
///
/// # Safety
///
/// `value` must come from qwire and its bytes be live; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qw_json_int(value: qw_json, out: *mut i64) -> qw_status {
    out!(out);
    let v = value!(value);
    match qw::json::number::parse_i64(v.as_bytes()) {
        Ok(n) => {
            // SAFETY: checked non-NULL.
            unsafe { put(out, n) };
            QW_OK
        }
        Err(e) => number_status(e),
    }
}

/// Read `value` as an unsigned 64-bit integer (see `qw_json_int`).
///
/// # Safety
///
/// As `qw_json_int`.
#[no_mangle]
pub unsafe extern "C" fn qw_json_uint(value: qw_json, out: *mut u64) -> qw_status {
    out!(out);
    let v = value!(value);
    match qw::json::number::parse_u64(v.as_bytes()) {
        Ok(n) => {
            // SAFETY: checked non-NULL.
            unsafe { put(out, n) };
            QW_OK
        }
        Err(e) => number_status(e),
    }
}

/// Read any number as a `double`. `QW_ERR_WRONG_TYPE` if not a number.
///
/// # Safety
///
/// As `qw_json_int`.
#[no_mangle]
pub unsafe extern "C" fn qw_json_double(value: qw_json, out: *mut f64) -> qw_status {
    out!(out);
    let v = value!(value);
    match v.as_f64() {
        Some(n) => {
            // SAFETY: checked non-NULL.
            unsafe { put(out, n) };
            QW_OK
        }
        None => QW_ERR_WRONG_TYPE,
    }
}

/// Read a boolean. `QW_ERR_WRONG_TYPE` if not `true` or `false`.
///
/// # Safety
///
/// As `qw_json_int`.
#[no_mangle]
pub unsafe extern "C" fn qw_json_bool(value: qw_json, out: *mut bool) -> qw_status {
    out!(out);
    let v = value!(value);
    match v.as_bool() {
        Some(b) => {
            // SAFETY: checked non-NULL.
            unsafe { put(out, b) };
            QW_OK
        }
        None => QW_ERR_WRONG_TYPE,
    }
}

/// Unescape a string value (surrogate pairs included) into `buf` as UTF-8
/// followed by a NUL byte, and store its length without the NUL in `*len`.
/// `QW_ERR_BUFFER_TOO_SMALL` if `buf_len` is less than that length + 1 (use
/// `qw_json_string_len` to size the buffer); `QW_ERR_WRONG_TYPE` if `value`
/// is not a string. The text may itself contain NUL characters (`\u0000`);
/// `*len` counts them.
///
/// # Safety
///
/// `value` must come from qwire and its bytes be live; `buf` valid for writes
/// of `buf_len` bytes; `len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qw_json_string(
    value: qw_json,
    buf: *mut u8,
    buf_len: usize,
    len: *mut usize,
) -> qw_status {
    out!(buf, len);
    let v = value!(value);
    let Some(s) = v.as_str() else {
        return QW_ERR_WRONG_TYPE;
    };
    // SAFETY: non-NULL and valid for `buf_len` bytes per the contract.
    let out = unsafe { core::slice::from_raw_parts_mut(buf, buf_len) };
    // Keep the last byte for the NUL.
    let Some(room) = buf_len.checked_sub(1) else {
        return QW_ERR_BUFFER_TOO_SMALL;
    };
    let Some(text_area) = out.get_mut(..room) else {
        return QW_ERR_BUFFER_TOO_SMALL;
    };
    let n = match s.unescape_into(text_area) {
        Ok(text) => text.len(),
        Err(UnescapeError::BufferTooSmall { .. }) => return QW_ERR_BUFFER_TOO_SMALL,
        Err(_) => return QW_ERR_INVALID_JSON,
    };
    if let Some(nul) = out.get_mut(n) {
        *nul = 0;
    }
    // SAFETY: checked non-NULL.
    unsafe { put(len, n) };
    QW_OK
}

/// The length in bytes of a string value once unescaped (without a NUL).
///
/// # Safety
///
/// As `qw_json_int`.
#[no_mangle]
pub unsafe extern "C" fn qw_json_string_len(value: qw_json, out: *mut usize) -> qw_status {
    out!(out);
    let v = value!(value);
    match v.as_str() {
        Some(s) => {
            // SAFETY: checked non-NULL.
            unsafe { put(out, s.decoded_len()) };
            QW_OK
        }
        None => QW_ERR_WRONG_TYPE,
    }
}

/// An iteration over an array's elements or an object's members. Plain data:
/// copy it, keep it on the stack; it borrows the container's bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct qw_json_iter {
    /// The array or object.
    pub container: qw_json,
    /// Offset of the next item within it.
    pub position: usize,
    /// No more items.
    pub done: bool,
}

/// Start iterating over the array or object `container`.
/// `QW_ERR_WRONG_TYPE` for any other value.
///
/// # Safety
///
/// `container` must come from qwire and its bytes be live; `it` valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn qw_json_iter_init(container: qw_json, it: *mut qw_json_iter) -> qw_status {
    out!(it);
    let v = value!(container);
    let position = match v.kind() {
        Kind::Object => v.members().position(),
        Kind::Array => v.elements().position(),
        _ => return QW_ERR_WRONG_TYPE,
    };
    // SAFETY: checked non-NULL.
    unsafe {
        put(
            it,
            qw_json_iter {
                container,
                position: position.unwrap_or(0),
                done: position.is_none(),
            },
        )
    };
    QW_OK
}

/// The next item: for an object its key (a string value; pass NULL if not
/// wanted) and value, for an array the element (`*key` is left alone).
/// Returns `QW_END` when there are no more items.
///
/// # Safety
///
/// `it` must have been set by `qw_json_iter_init` and its container's bytes
/// be live; `key` NULL or valid for a write; `value` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qw_json_iter_next(
    it: *mut qw_json_iter,
    key: *mut qw_json,
    value: *mut qw_json,
) -> qw_status {
    out!(it, value);
    // SAFETY: checked non-NULL; valid per the contract.
    let iter = unsafe { &mut *it };
    if iter.done {
        return QW_END;
    }
    let c = value!(iter.container);
    let at = Some(iter.position);
    let (item, next) = match c.kind() {
        Kind::Object => {
            let mut m = Members::resume(c, at);
            match m.next() {
                Some((k, v)) => {
                    if !key.is_null() {
                        let k = qw_json {
                            ptr: k.raw().as_ptr(),
                            len: k.raw().len(),
                        };
                        // SAFETY: non-NULL, valid per the contract.
                        unsafe { put(key, k) };
                    }
                    (v, m.position())
                }
                None => {
                    iter.done = true;
                    return QW_END;
                }
            }
        }
        Kind::Array => {
            let mut e = Elements::resume(c, at);
            match e.next() {
                Some(v) => (v, e.position()),
                None => {
                    iter.done = true;
                    return QW_END;
                }
            }
        }
        _ => return QW_ERR_WRONG_TYPE,
    };
    // SAFETY: checked non-NULL.
    unsafe { put(value, qw_json::from_json(item)) };
    iter.position = next.unwrap_or(0);
    iter.done = next.is_none();
    QW_OK
}
