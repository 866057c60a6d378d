//! The framer from C: `qw_framer` in caller storage over a caller buffer.

use qw::envelope::{classify, MessageKind};
use qw::framer::{Config, End, ErrorKind, Event, Framer, MAX_DEPTH};
use qw::json::Json;

use crate::json::qw_json;
use crate::status::qw_status::{self, *};
use crate::storage::{self, bytes, bytes_mut, put, state, storage, Slot};

/// Size in bytes of `qw_framer`.
pub const QW_FRAMER_SIZE: usize = 256;

/// `QW_FRAMER_SIZE` in 64-bit words.
pub const QW_FRAMER_WORDS: usize = 32;

/// Storage for a framer: place it anywhere (static, stack), initialise it
/// with `qw_framer_init`. Its size is `QW_FRAMER_SIZE`, its alignment 8.
#[repr(C)]
pub struct qw_framer {
    /// Opaque: only qwire reads or writes it.
    pub _opaque: [u64; QW_FRAMER_WORDS],
}

type State = Framer<'static>;
storage!(qw_framer, State);

/// Framer settings.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct qw_framer_config {
    /// Most containers open at once, 1..=1024 (0 means 1024, QEMU's limit).
    pub max_depth: u16,
    /// Accept QEMU's `'single-quoted'` strings and `\'`.
    pub single_quotes: bool,
}

/// What a `qw_framer_feed` or `qw_framer_finish` call found.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum qw_event_kind {
    /// All input consumed, nothing complete yet (after finish: clean end).
    QW_EVENT_NEED_MORE = 0,
    /// A complete, valid value in `frame`.
    QW_EVENT_FRAME = 1,
    /// A 0xFF byte at `at`; any partial value was discarded.
    QW_EVENT_SENTINEL = 2,
    /// The byte at `at` is invalid (`error` says why); the partial value
    /// was discarded.
    QW_EVENT_ERROR = 3,
    /// A valid value of `len` bytes at `at`, longer than the buffer, skipped.
    QW_EVENT_TOO_LARGE = 4,
    /// (finish only) the stream ended inside a value starting at `at`.
    QW_EVENT_INCOMPLETE = 5,
}

/// Why a byte was rejected (`qw_error_kind_str` gives the stable names the
/// dump tools print).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum qw_error_kind {
    /// No error.
    QW_ERROR_NONE = 0,
    /// A byte that cannot appear here.
    QW_ERROR_SYNTAX = 1,
    /// A raw control byte inside a string.
    QW_ERROR_CONTROL = 2,
    /// Invalid UTF-8.
    QW_ERROR_UTF8 = 3,
    /// A bad escape or surrogate.
    QW_ERROR_ESCAPE = 4,
    /// A malformed number.
    QW_ERROR_NUMBER = 5,
    /// A misspelt `true`, `false` or `null`.
    QW_ERROR_LITERAL = 6,
    /// Nesting deeper than the limit.
    QW_ERROR_DEPTH = 7,
}

/// One framer outcome. `frame` points into the input passed to the call or
/// into the framer's buffer: it stays valid until the next call on the
/// framer, and as long as the input is unchanged.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct qw_event {
    /// What happened.
    pub kind: qw_event_kind,
    /// Stream offset: the frame's first byte, the sentinel, the invalid
    /// byte, the skipped or incomplete value's first byte.
    pub at: u64,
    /// Length of the frame or of the skipped value.
    pub len: u64,
    /// The value (`QW_EVENT_FRAME` only).
    pub frame: qw_json,
    /// The reason (`QW_EVENT_ERROR` only).
    pub error: qw_error_kind,
}

impl qw_event {
    fn new(kind: qw_event_kind, at: u64) -> Self {
        qw_event {
            kind,
            at,
            len: 0,
            frame: qw_json::EMPTY,
            error: qw_error_kind::QW_ERROR_NONE,
        }
    }

    fn frame(at: u64, bytes: &[u8]) -> Self {
        qw_event {
            len: bytes.len() as u64,
            frame: qw_json {
                ptr: bytes.as_ptr(),
                len: bytes.len(),
            },
            ..qw_event::new(qw_event_kind::QW_EVENT_FRAME, at)
        }
    }
}

fn error_kind(k: ErrorKind) -> qw_error_kind {
    match k {
        ErrorKind::Syntax => qw_error_kind::QW_ERROR_SYNTAX,
        ErrorKind::Control => qw_error_kind::QW_ERROR_CONTROL,
        ErrorKind::Utf8 => qw_error_kind::QW_ERROR_UTF8,
        ErrorKind::Escape => qw_error_kind::QW_ERROR_ESCAPE,
        ErrorKind::Number => qw_error_kind::QW_ERROR_NUMBER,
        ErrorKind::Literal => qw_error_kind::QW_ERROR_LITERAL,
        ErrorKind::Depth => qw_error_kind::QW_ERROR_DEPTH,
    }
}

pub(crate) fn event_to_c(e: &Event<'_>) -> qw_event {
    use qw_event_kind::*;
    match *e {
        Event::NeedMore => qw_event::new(QW_EVENT_NEED_MORE, 0),
        Event::Frame(f) => qw_event::frame(f.at, f.bytes),
        Event::Sentinel { at, .. } => qw_event::new(QW_EVENT_SENTINEL, at),
        Event::Error { error, .. } => qw_event {
            error: error_kind(error.kind),
            ..qw_event::new(QW_EVENT_ERROR, error.at)
        },
        Event::TooLarge { at, len } => qw_event {
            len,
            ..qw_event::new(QW_EVENT_TOO_LARGE, at)
        },
    }
}

pub(crate) fn config_from_c(config: *const qw_framer_config) -> Result<Config, qw_status> {
    if config.is_null() {
        return Ok(Config::DEFAULT);
    }
    // SAFETY: non-NULL; the caller passes a valid config or NULL.
    let c = unsafe { *config };
    let max_depth = match c.max_depth {
        0 => MAX_DEPTH,
        d if d <= MAX_DEPTH => d,
        _ => return Err(QW_ERR_INVALID_ARGUMENT),
    };
    Ok(Config {
        max_depth,
        single_quotes: c.single_quotes,
    })
}

/// Initialise `framer` to frame values of up to `buf_len` bytes, using `buf`
/// (which the framer owns until it is no longer used) to hold values that
/// span several `qw_framer_feed` calls. `config` may be NULL for the
/// defaults (strict RFC 8259, depth 1024). `QW_ERR_INVALID_ARGUMENT` for a
/// depth above 1024.
///
/// # Safety
///
/// `framer` must point to a `qw_framer`; `buf` must be valid for reads and
/// writes of `buf_len` bytes and not be used by anything else while the
/// framer is in use; `config` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn qw_framer_init(
    framer: *mut qw_framer,
    buf: *mut u8,
    buf_len: usize,
    config: *const qw_framer_config,
) -> qw_status {
    if framer.is_null() {
        return QW_ERR_NULL;
    }
    let config = match config_from_c(config) {
        Ok(c) => c,
        Err(s) => return s,
    };
    // SAFETY: per the contract, `buf` lives and is exclusively the framer's
    // for as long as the framer is used, which is what 'static stands for.
    let Some(buf) = (unsafe { bytes_mut(buf, buf_len) }) else {
        return QW_ERR_NULL;
    };
    // SAFETY: `framer` is non-NULL storage of the declared size/alignment.
    unsafe { storage::init(framer.cast::<Slot<State>>(), Framer::new(buf, config)) };
    QW_OK
}

/// Feed `len` bytes of the stream. Stops at the first event; `*consumed`
/// tells how many bytes were used — feed the rest again. `*event` says
/// what happened (`QW_EVENT_NEED_MORE` when all input was used without a
/// complete value).
///
/// # Safety
///
/// `framer` initialised; `input` valid for `len` bytes; `consumed` and
/// `event` valid for writes.
#[no_mangle]
pub unsafe extern "C" fn qw_framer_feed(
    framer: *mut qw_framer,
    input: *const u8,
    len: usize,
    consumed: *mut usize,
    event: *mut qw_event,
) -> qw_status {
    if consumed.is_null() || event.is_null() {
        return QW_ERR_NULL;
    }
    let f = state!(framer, State);
    // SAFETY: per the contract.
    let Some(input) = (unsafe { bytes(input, len) }) else {
        return QW_ERR_NULL;
    };
    let fed = f.feed(input);
    // SAFETY: checked non-NULL above.
    unsafe {
        put(consumed, fed.consumed);
        put(event, event_to_c(&fed.event));
    }
    QW_OK
}

/// The stream has ended: a pending top-level number becomes a frame, a
/// partial value is reported `QW_EVENT_INCOMPLETE`, a clean end
/// `QW_EVENT_NEED_MORE`. The framer is then ready for a new stream.
///
/// # Safety
///
/// `framer` initialised; `event` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qw_framer_finish(
    framer: *mut qw_framer,
    event: *mut qw_event,
) -> qw_status {
    if event.is_null() {
        return QW_ERR_NULL;
    }
    let f = state!(framer, State);
    use qw_event_kind::*;
    let e = match f.finish() {
        End::Clean => qw_event::new(QW_EVENT_NEED_MORE, 0),
        End::Frame(fr) => qw_event::frame(fr.at, fr.bytes),
        End::TooLarge { at, len } => qw_event {
            len,
            ..qw_event::new(QW_EVENT_TOO_LARGE, at)
        },
        End::Incomplete { at } => qw_event::new(QW_EVENT_INCOMPLETE, at),
    };
    // SAFETY: checked non-NULL.
    unsafe { put(event, e) };
    QW_OK
}

/// Discard any partial value, as after a reconnection.
///
/// # Safety
///
/// `framer` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_framer_reset(framer: *mut qw_framer) -> qw_status {
    state!(framer, State).reset();
    QW_OK
}

/// The kind of a QMP/QGA message.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum qw_message_kind {
    /// `{"QMP": ...}`
    QW_MESSAGE_GREETING = 1,
    /// `{"execute": ...}`
    QW_MESSAGE_COMMAND = 2,
    /// `{"exec-oob": ...}`
    QW_MESSAGE_OOB_COMMAND = 3,
    /// `{"return": ...}`
    QW_MESSAGE_RETURN = 4,
    /// `{"error": ...}`
    QW_MESSAGE_ERROR = 5,
    /// `{"event": ...}`
    QW_MESSAGE_EVENT = 6,
    /// Anything else.
    QW_MESSAGE_OTHER = 7,
}

/// Classify a message by its top-level keys (see `qw_message_kind_str`
/// for the names).
///
/// # Safety
///
/// `message` must come from qwire with its bytes live; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn qw_classify(message: qw_json, out: *mut qw_message_kind) -> qw_status {
    if out.is_null() {
        return QW_ERR_NULL;
    }
    // SAFETY: per the contract.
    let Some(v) = (unsafe { message.to_json() }) else {
        return QW_ERR_NULL;
    };
    use qw_message_kind::*;
    let kind = match classify(Json::trusted(v.as_bytes())).kind() {
        MessageKind::Greeting => QW_MESSAGE_GREETING,
        MessageKind::Command => QW_MESSAGE_COMMAND,
        MessageKind::OobCommand => QW_MESSAGE_OOB_COMMAND,
        MessageKind::Return => QW_MESSAGE_RETURN,
        MessageKind::Error => QW_MESSAGE_ERROR,
        MessageKind::Event => QW_MESSAGE_EVENT,
        MessageKind::Other => QW_MESSAGE_OTHER,
    };
    // SAFETY: checked non-NULL.
    unsafe { put(out, kind) };
    QW_OK
}

/// The stable short name of a message kind (`greeting`, `command`,
/// `oob-command`, `return`, `error`, `event`, `other`), NUL-terminated;
/// `"?"` for other values.
#[no_mangle]
pub extern "C" fn qw_message_kind_str(kind: u32) -> *const core::ffi::c_char {
    let s: &[u8] = match kind {
        1 => b"greeting\0",
        2 => b"command\0",
        3 => b"oob-command\0",
        4 => b"return\0",
        5 => b"error\0",
        6 => b"event\0",
        7 => b"other\0",
        _ => b"?\0",
    };
    s.as_ptr().cast()
}

/// The stable short name of an error kind (`syntax`, `control`, `utf8`,
/// `escape`, `number`, `literal`, `depth`), NUL-terminated; `"none"` for
/// `QW_ERROR_NONE` and `"?"` for other values.
#[no_mangle]
pub extern "C" fn qw_error_kind_str(kind: u32) -> *const core::ffi::c_char {
    let s: &[u8] = match kind {
        0 => b"none\0",
        1 => b"syntax\0",
        2 => b"control\0",
        3 => b"utf8\0",
        4 => b"escape\0",
        5 => b"number\0",
        6 => b"literal\0",
        7 => b"depth\0",
        _ => b"?\0",
    };
    s.as_ptr().cast()
}
