//! `qw_status`: what every fallible function returns.

/// Result of a qwire call. 0 is success; every other value is a distinct,
/// stable error. `qw_status_str` names each.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum qw_status {
    /// Success.
    QW_OK = 0,
    /// A required pointer argument was NULL.
    QW_ERR_NULL = 1,
    /// The state object was not initialised with its `_init` function.
    QW_ERR_NOT_INITIALIZED = 2,
    /// An output buffer is too small.
    QW_ERR_BUFFER_TOO_SMALL = 3,
    /// An argument is out of its documented range.
    QW_ERR_INVALID_ARGUMENT = 4,
    /// Bytes that are not valid JSON.
    QW_ERR_INVALID_JSON = 5,
    /// Text that is not valid UTF-8.
    QW_ERR_INVALID_UTF8 = 6,
    /// No value at that key, index or path.
    QW_ERR_NOT_FOUND = 7,
    /// The value has another JSON type than the call needs.
    QW_ERR_WRONG_TYPE = 8,
    /// A number outside the range of the requested C type.
    QW_ERR_OUT_OF_RANGE = 9,
    /// An iteration has no more items (not a failure).
    QW_END = 10,
    /// JSON writer calls out of order (a value without a key, unbalanced ends).
    QW_ERR_WRITER_MISUSE = 11,
    /// Nesting deeper than the writer supports.
    QW_ERR_TOO_DEEP = 12,
    /// The call is not valid in the session's current state.
    QW_ERR_BAD_STATE = 13,
    /// The peer broke the protocol.
    QW_ERR_PROTOCOL = 14,
    /// No room for another command in flight.
    QW_ERR_BUSY = 15,
}

const NAMES: [&[u8]; 16] = [
    b"ok\0",
    b"NULL pointer argument\0",
    b"state object not initialised\0",
    b"buffer too small\0",
    b"invalid argument\0",
    b"invalid JSON\0",
    b"invalid UTF-8\0",
    b"not found\0",
    b"wrong JSON type\0",
    b"number out of range\0",
    b"end of iteration\0",
    b"JSON writer calls out of order\0",
    b"nesting too deep\0",
    b"not valid in the current state\0",
    b"protocol error from the peer\0",
    b"too many commands in flight\0",
];

/// A static, NUL-terminated English description of `status` ("unknown
/// status" for values qwire never returns). Never NULL.
#[no_mangle]
pub extern "C" fn qw_status_str(status: u32) -> *const core::ffi::c_char {
    let name: &[u8] = NAMES
        .get(status as usize)
        .copied()
        .unwrap_or(b"unknown status\0");
    name.as_ptr().cast()
}

impl From<qw::json::WriteError> for qw_status {
    fn from(e: qw::json::WriteError) -> Self {
        match e {
            qw::json::WriteError::BufferFull => qw_status::QW_ERR_BUFFER_TOO_SMALL,
            qw::json::WriteError::Misuse => qw_status::QW_ERR_WRITER_MISUSE,
            qw::json::WriteError::TooDeep => qw_status::QW_ERR_TOO_DEEP,
        }
    }
}
