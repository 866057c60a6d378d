//! Building JSON from C with correct escaping: `qw_writer` over a caller
//! buffer. The output is compact, pure-ASCII JSON.

use qw::json::JsonWriter;

use crate::json::qw_json;
use crate::status::qw_status::{self, *};
use crate::storage::{self, bytes, bytes_mut, put, state, storage, text, Slot};

/// Size in bytes of `qw_writer`.
pub const QW_WRITER_SIZE: usize = 64;

/// `QW_WRITER_SIZE` in 64-bit words.
pub const QW_WRITER_WORDS: usize = 8;

/// Storage for a JSON writer (see `qw_writer_init`). Size `QW_WRITER_SIZE`,
/// alignment 8.
#[repr(C)]
pub struct qw_writer {
    /// Opaque: only qwire reads or writes it.
    pub _opaque: [u64; QW_WRITER_WORDS],
}

type State = JsonWriter<'static>;
storage!(qw_writer, State);

/// Run `f` on an initialised writer; map its result to a status.
unsafe fn with(
    w: *mut qw_writer,
    f: impl FnOnce(&mut State) -> Result<(), qw::json::WriteError>,
) -> qw_status {
    match f(state!(w, State)) {
        Ok(()) => QW_OK,
        Err(e) => e.into(),
    }
}

/// Initialise `w` to write into `buf` (`buf_len` bytes), which it uses until
/// `qw_writer_finish`.
///
/// # Safety
///
/// `w` points to a `qw_writer`; `buf` valid for writes of `buf_len` bytes
/// and used by nothing else meanwhile.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_init(
    w: *mut qw_writer,
    buf: *mut u8,
    buf_len: usize,
) -> qw_status {
    if w.is_null() {
        return QW_ERR_NULL;
    }
    // SAFETY: per the contract ('static = "as long as the writer is used").
    let Some(buf) = (unsafe { bytes_mut(buf, buf_len) }) else {
        return QW_ERR_NULL;
    };
    // SAFETY: non-NULL storage of the declared size and alignment.
    unsafe { storage::init(w.cast::<Slot<State>>(), JsonWriter::new(buf)) };
    QW_OK
}

/// Open an object.
///
/// # Safety
///
/// `w` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_begin_object(w: *mut qw_writer) -> qw_status {
    // SAFETY: per the contract.
    unsafe { with(w, |s| s.begin_object()) }
}

/// Close the innermost object.
///
/// # Safety
///
/// `w` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_end_object(w: *mut qw_writer) -> qw_status {
    // SAFETY: per the contract.
    unsafe { with(w, |s| s.end_object()) }
}

/// Open an array.
///
/// # Safety
///
/// `w` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_begin_array(w: *mut qw_writer) -> qw_status {
    // SAFETY: per the contract.
    unsafe { with(w, |s| s.begin_array()) }
}

/// Close the innermost array.
///
/// # Safety
///
/// `w` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_end_array(w: *mut qw_writer) -> qw_status {
    // SAFETY: per the contract.
    unsafe { with(w, |s| s.end_array()) }
}

/// Write a member key (`len` bytes of UTF-8) in the current object.
///
/// # Safety
///
/// `w` initialised; `key` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_key(w: *mut qw_writer, key: *const u8, len: usize) -> qw_status {
    // SAFETY: per the contract.
    match unsafe { text(key, len) } {
        // SAFETY: per the contract.
        Ok(k) => unsafe { with(w, |s| s.key(k)) },
        Err(e) => e,
    }
}

/// Write a string value (`len` bytes of UTF-8), escaped.
///
/// # Safety
///
/// `w` initialised; `s` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_string(
    w: *mut qw_writer,
    s: *const u8,
    len: usize,
) -> qw_status {
    // SAFETY: per the contract.
    match unsafe { text(s, len) } {
        // SAFETY: per the contract.
        Ok(t) => unsafe { with(w, |st| st.string(t)) },
        Err(e) => e,
    }
}

/// Write a signed integer.
///
/// # Safety
///
/// `w` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_int(w: *mut qw_writer, v: i64) -> qw_status {
    // SAFETY: per the contract.
    unsafe { with(w, |s| s.i64(v)) }
}

/// Write an unsigned integer.
///
/// # Safety
///
/// `w` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_uint(w: *mut qw_writer, v: u64) -> qw_status {
    // SAFETY: per the contract.
    unsafe { with(w, |s| s.u64(v)) }
}

/// Write a number (NaN and infinities, which JSON lacks, as `null`).
///
/// # Safety
///
/// `w` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_double(w: *mut qw_writer, v: f64) -> qw_status {
    // SAFETY: per the contract.
    unsafe { with(w, |s| s.f64(v)) }
}

/// Write `true` or `false`.
///
/// # Safety
///
/// `w` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_bool(w: *mut qw_writer, v: bool) -> qw_status {
    // SAFETY: per the contract.
    unsafe { with(w, |s| s.bool(v)) }
}

/// Write `null`.
///
/// # Safety
///
/// `w` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_null(w: *mut qw_writer) -> qw_status {
    // SAFETY: per the contract.
    unsafe { with(w, |s| s.null()) }
}

/// Copy a value (e.g. a frame's member) into the output, normalised to
/// compact ASCII.
///
/// # Safety
///
/// `w` initialised; `value` from qwire with its bytes live.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_json(w: *mut qw_writer, value: qw_json) -> qw_status {
    // SAFETY: per the contract.
    let Some(v) = (unsafe { value.to_json() }) else {
        return QW_ERR_NULL;
    };
    // SAFETY: per the contract.
    unsafe { with(w, |s| s.value(v)) }
}

/// Validate `len` bytes of JSON text (e.g. arguments a user typed) and copy
/// the value into the output, normalised. `QW_ERR_INVALID_JSON` if it is not
/// exactly one valid value.
///
/// # Safety
///
/// `w` initialised; `text` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_json_text(
    w: *mut qw_writer,
    text: *const u8,
    len: usize,
) -> qw_status {
    // SAFETY: per the contract.
    let Some(b) = (unsafe { bytes(text, len) }) else {
        return QW_ERR_NULL;
    };
    let Ok(v) = qw::json::Json::parse(b) else {
        return QW_ERR_INVALID_JSON;
    };
    // SAFETY: per the contract.
    unsafe { with(w, |s| s.value(v)) }
}

/// Finish: every container must be closed. `*len` receives the number of
/// bytes written to the buffer. The writer is then uninitialised.
///
/// # Safety
///
/// `w` initialised; `len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qw_writer_finish(w: *mut qw_writer, len: *mut usize) -> qw_status {
    if w.is_null() || len.is_null() {
        return QW_ERR_NULL;
    }
    let slot = w.cast::<Slot<State>>();
    let state = state!(w, State);
    let result = match state.error() {
        Some(e) => Err(e),
        None => {
            // Take the writer out to finish it, leaving an empty one behind.
            let taken = core::mem::replace(state, JsonWriter::new(&mut []));
            taken.finish().map(<[u8]>::len)
        }
    };
    // SAFETY: per the contract.
    unsafe { storage::clear(slot) };
    match result {
        Ok(n) => {
            // SAFETY: checked non-NULL.
            unsafe { put(len, n) };
            QW_OK
        }
        Err(e) => e.into(),
    }
}
