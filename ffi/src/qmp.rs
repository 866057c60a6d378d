//! QMP from C: the client (`qw_qmp_client`, up to 8 commands in flight)
//! and the server (`qw_qmp_server`), both sans-IO.

use core::ffi::{c_char, c_void};

use qw::envelope::{Message, Timestamp, VersionRef};
use qw::json::{Encode, Json, Str};
use qw::qmp::{Client, ClientEvent, ClientState, SendError, SendOptions, Server};

use crate::handler::{qw_command, qw_handler_fn, static_str, CHandler};
use crate::json::qw_json;
use crate::qga::arguments;
use crate::status::qw_status::{self, *};
use crate::storage::{self, bytes, bytes_mut, put, state, storage, text, try_status, Slot};

/// Most commands a `qw_qmp_client` keeps in flight.
pub const QW_QMP_MAX_IN_FLIGHT: usize = 8;

/// Size in bytes of `qw_qmp_client`.
pub const QW_QMP_CLIENT_SIZE: usize = 512;
/// `QW_QMP_CLIENT_SIZE` in 64-bit words.
pub const QW_QMP_CLIENT_WORDS: usize = 64;

/// Storage for a QMP client (see `qw_qmp_client_init`). Size
/// `QW_QMP_CLIENT_SIZE`, alignment 8.
#[repr(C)]
pub struct qw_qmp_client {
    /// Opaque: only qwire reads or writes it.
    pub _opaque: [u64; QW_QMP_CLIENT_WORDS],
}

type ClientSession = Client<'static, QW_QMP_MAX_IN_FLIGHT>;
storage!(qw_qmp_client, ClientSession);

/// Where a QMP client stands.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum qw_qmp_state {
    /// Waiting for the server's greeting.
    QW_QMP_AWAITING_GREETING = 0,
    /// Greeted: call `qw_qmp_client_negotiate`.
    QW_QMP_GREETED = 1,
    /// `qmp_capabilities` sent, its reply awaited.
    QW_QMP_NEGOTIATING = 2,
    /// Negotiated: commands may be sent.
    QW_QMP_READY = 3,
    /// The stream ended.
    QW_QMP_CLOSED = 4,
}

/// What a `qw_qmp_client_feed` call found.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum qw_qmp_event_kind {
    /// Input used up without a complete message.
    QW_QMP_EVENT_NEED_MORE = 0,
    /// The greeting (`message`); version via `qw_qmp_client_version`.
    QW_QMP_EVENT_GREETING = 1,
    /// Negotiation succeeded (`oob`: out-of-band execution is on).
    QW_QMP_EVENT_NEGOTIATED = 2,
    /// Negotiation failed (`error_class`, `error_desc`).
    QW_QMP_EVENT_NEGOTIATION_FAILED = 3,
    /// Command `id` returned `value`.
    QW_QMP_EVENT_RETURN = 4,
    /// Command `id` failed (`error_class`, `error_desc`).
    QW_QMP_EVENT_ERROR = 5,
    /// A message of `len` bytes was too large and skipped; it completed
    /// command `id` if `has_id`.
    QW_QMP_EVENT_TOO_LARGE = 6,
    /// An event: `event_name`, `value` (its data, or an empty span),
    /// `seconds`/`microseconds`.
    QW_QMP_EVENT_EVENT = 7,
    /// The reply to abandoned command `id` arrived (`message`, empty if
    /// too large).
    QW_QMP_EVENT_LATE = 8,
    /// A message answering nothing in flight (`message`): an id-less error
    /// (the server's answer to bad input) or an unknown id. Not fatal.
    QW_QMP_EVENT_UNSOLICITED = 9,
    /// Bytes that are not JSON, or a 0xFF, at stream offset `at`.
    QW_QMP_EVENT_MALFORMED = 10,
}

/// One QMP client outcome. JSON spans point into the client's buffer or
/// the input and stay valid until the next call on the client.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct qw_qmp_event {
    /// What happened.
    pub kind: qw_qmp_event_kind,
    /// The command concerned.
    pub id: u64,
    /// `id` is meaningful (`QW_QMP_EVENT_TOO_LARGE` may not know it).
    pub has_id: bool,
    /// Out-of-band execution was negotiated (`QW_QMP_EVENT_NEGOTIATED`).
    pub oob: bool,
    /// A return value, or an event's data.
    pub value: qw_json,
    /// A whole message (greeting, unsolicited, late reply).
    pub message: qw_json,
    /// Error class (a JSON string).
    pub error_class: qw_json,
    /// Error description (a JSON string).
    pub error_desc: qw_json,
    /// Event name (a JSON string).
    pub event_name: qw_json,
    /// Event timestamp, seconds (-1 if absent).
    pub seconds: i64,
    /// Event timestamp, microseconds (-1 if absent).
    pub microseconds: i64,
    /// Length of a too-large message.
    pub len: u64,
    /// Stream offset of malformed input.
    pub at: u64,
}

fn span(s: Str<'_>) -> qw_json {
    qw_json::from_json(Json::trusted(s.raw()))
}

fn message_span(m: &Message<'_>) -> qw_json {
    // Every classified message is an object span except `Other`, which
    // carries its value; the span of the whole frame is not kept by the
    // envelope, so hand out the part that identifies it.
    match m {
        Message::Other(v) => qw_json::from_json(*v),
        Message::Return(r) => qw_json::from_json(r.value),
        Message::Error(e) => span(e.desc),
        Message::Event(e) => span(e.name),
        Message::Greeting(g) => g.version.map_or(qw_json::EMPTY, qw_json::from_json),
        Message::Command(c) | Message::OobCommand(c) => span(c.name),
    }
}

impl qw_qmp_event {
    fn of(kind: qw_qmp_event_kind) -> Self {
        qw_qmp_event {
            kind,
            id: 0,
            has_id: false,
            oob: false,
            value: qw_json::EMPTY,
            message: qw_json::EMPTY,
            error_class: qw_json::EMPTY,
            error_desc: qw_json::EMPTY,
            event_name: qw_json::EMPTY,
            seconds: -1,
            microseconds: -1,
            len: 0,
            at: 0,
        }
    }

    fn from_core(e: &ClientEvent<'_>) -> Self {
        use qw_qmp_event_kind::*;
        match *e {
            ClientEvent::NeedMore => Self::of(QW_QMP_EVENT_NEED_MORE),
            ClientEvent::Greeting(g) => qw_qmp_event {
                message: g.version.map_or(qw_json::EMPTY, qw_json::from_json),
                ..Self::of(QW_QMP_EVENT_GREETING)
            },
            ClientEvent::Negotiated { oob } => qw_qmp_event {
                oob,
                ..Self::of(QW_QMP_EVENT_NEGOTIATED)
            },
            ClientEvent::NegotiationFailed { class, desc } => qw_qmp_event {
                error_class: span(class),
                error_desc: span(desc),
                ..Self::of(QW_QMP_EVENT_NEGOTIATION_FAILED)
            },
            ClientEvent::Return { id, value } => qw_qmp_event {
                id,
                has_id: true,
                value: qw_json::from_json(value),
                ..Self::of(QW_QMP_EVENT_RETURN)
            },
            ClientEvent::Error { id, class, desc } => qw_qmp_event {
                id,
                has_id: true,
                error_class: span(class),
                error_desc: span(desc),
                ..Self::of(QW_QMP_EVENT_ERROR)
            },
            ClientEvent::TooLarge { id, len } => qw_qmp_event {
                id: id.unwrap_or(0),
                has_id: id.is_some(),
                len,
                ..Self::of(QW_QMP_EVENT_TOO_LARGE)
            },
            ClientEvent::Event(ev) => {
                let (seconds, microseconds) = ev
                    .timestamp
                    .map_or((-1, -1), |t| (t.seconds, t.microseconds));
                qw_qmp_event {
                    event_name: span(ev.name),
                    value: ev.data.map_or(qw_json::EMPTY, qw_json::from_json),
                    seconds,
                    microseconds,
                    ..Self::of(QW_QMP_EVENT_EVENT)
                }
            }
            ClientEvent::Late { id, reply } => qw_qmp_event {
                id,
                has_id: true,
                message: reply.as_ref().map_or(qw_json::EMPTY, message_span),
                ..Self::of(QW_QMP_EVENT_LATE)
            },
            ClientEvent::Unsolicited(m) => {
                let (class, desc) = match m {
                    Message::Error(e) => (span(e.class), span(e.desc)),
                    _ => (qw_json::EMPTY, qw_json::EMPTY),
                };
                qw_qmp_event {
                    message: message_span(&m),
                    error_class: class,
                    error_desc: desc,
                    ..Self::of(QW_QMP_EVENT_UNSOLICITED)
                }
            }
            ClientEvent::Malformed { at, .. } => qw_qmp_event {
                at,
                ..Self::of(QW_QMP_EVENT_MALFORMED)
            },
        }
    }
}

/// Initialise a QMP client for a fresh connection, keeping partial messages
/// in `buf` (its length bounds the largest message handed out; larger ones
/// are skipped and reported `QW_QMP_EVENT_TOO_LARGE`).
///
/// # Safety
///
/// `client` points to a `qw_qmp_client`; `buf` valid for `len` bytes and
/// the client's while it is used.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_client_init(
    client: *mut qw_qmp_client,
    buf: *mut u8,
    len: usize,
) -> qw_status {
    if client.is_null() {
        return QW_ERR_NULL;
    }
    // SAFETY: per the contract.
    let Some(buf) = (unsafe { bytes_mut(buf, len) }) else {
        return QW_ERR_NULL;
    };
    // SAFETY: non-NULL storage of the declared size and alignment.
    unsafe { storage::init(client.cast::<Slot<ClientSession>>(), Client::new(buf)) };
    QW_OK
}

fn send_status(e: SendError) -> qw_status {
    match e {
        SendError::NotReady(_) | SendError::OobNotNegotiated | SendError::OobNotAllowed => {
            QW_ERR_BAD_STATE
        }
        SendError::Busy => QW_ERR_BUSY,
        SendError::Write(w) => w.into(),
    }
}

/// Feed bytes from the server. Returns at the first event; `*consumed`
/// bytes were used — feed the rest again.
///
/// # Safety
///
/// `client` initialised; `input` valid for `len` bytes; outputs valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_client_feed(
    client: *mut qw_qmp_client,
    input: *const u8,
    len: usize,
    consumed: *mut usize,
    event: *mut qw_qmp_event,
) -> qw_status {
    if consumed.is_null() || event.is_null() {
        return QW_ERR_NULL;
    }
    let c = state!(client, ClientSession);
    // SAFETY: per the contract.
    let Some(input) = (unsafe { bytes(input, len) }) else {
        return QW_ERR_NULL;
    };
    let received = c.feed(input);
    // SAFETY: checked non-NULL.
    unsafe {
        put(consumed, received.consumed);
        put(event, qw_qmp_event::from_core(&received.event));
    }
    QW_OK
}

/// After the greeting: write `qmp_capabilities` (enabling `oob` if
/// `want_oob` and the server offers it) into `out`.
/// `QW_ERR_BAD_STATE` unless greeted.
///
/// # Safety
///
/// `client` initialised; `out` valid for `out_len` bytes; `written` valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_client_negotiate(
    client: *mut qw_qmp_client,
    want_oob: bool,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
) -> qw_status {
    if written.is_null() {
        return QW_ERR_NULL;
    }
    let c = state!(client, ClientSession);
    // SAFETY: per the contract.
    let Some(out) = (unsafe { bytes_mut(out, out_len) }) else {
        return QW_ERR_NULL;
    };
    match c.negotiate(want_oob, out) {
        Ok(n) => {
            // SAFETY: checked non-NULL.
            unsafe { put(written, n) };
            QW_OK
        }
        Err(e) => send_status(e),
    }
}

/// Write command `name` with `args` (JSON text of an object, or NULL) and a
/// fresh id (in `*id`) into `out`; `oob` sends it as `exec-oob`.
/// `QW_ERR_BAD_STATE` before negotiation (or `oob` without it),
/// `QW_ERR_BUSY` with `QW_QMP_MAX_IN_FLIGHT` commands in flight.
///
/// # Safety
///
/// `client` initialised; pointers valid for their lengths; outputs valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_client_send(
    client: *mut qw_qmp_client,
    name: *const u8,
    name_len: usize,
    args: *const u8,
    args_len: usize,
    oob: bool,
    out: *mut u8,
    out_len: usize,
    id: *mut u64,
    written: *mut usize,
) -> qw_status {
    if id.is_null() || written.is_null() {
        return QW_ERR_NULL;
    }
    let c = state!(client, ClientSession);
    // SAFETY: per the contract.
    let name = try_status!(unsafe { text(name, name_len) });
    // SAFETY: per the contract.
    let args = try_status!(unsafe { arguments(args, args_len) });
    // SAFETY: per the contract.
    let Some(out) = (unsafe { bytes_mut(out, out_len) }) else {
        return QW_ERR_NULL;
    };
    let opts = if oob {
        SendOptions::new().oob()
    } else {
        SendOptions::new()
    };
    let encoded = args.as_ref().map(|a| a as &dyn Encode);
    match c.send_raw(name, encoded, opts, out) {
        Ok(sent) => {
            // SAFETY: checked non-NULL.
            unsafe {
                put(id, sent.id);
                put(written, sent.len);
            }
            QW_OK
        }
        Err(e) => send_status(e),
    }
}

/// Give up on command `id` (e.g. its deadline passed): its reply, if it
/// ever comes, is reported `QW_QMP_EVENT_LATE`. `QW_ERR_NOT_FOUND` if it is
/// not in flight.
///
/// # Safety
///
/// `client` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_client_abandon(client: *mut qw_qmp_client, id: u64) -> qw_status {
    if state!(client, ClientSession).abandon(id) {
        QW_OK
    } else {
        QW_ERR_NOT_FOUND
    }
}

/// Where the client stands, in `*state`.
///
/// # Safety
///
/// `client` initialised; `state` valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_client_state(
    client: *mut qw_qmp_client,
    state: *mut qw_qmp_state,
) -> qw_status {
    if state.is_null() {
        return QW_ERR_NULL;
    }
    use qw_qmp_state::*;
    let s = match state!(client, ClientSession).state() {
        ClientState::AwaitingGreeting => QW_QMP_AWAITING_GREETING,
        ClientState::Greeted => QW_QMP_GREETED,
        ClientState::Negotiating => QW_QMP_NEGOTIATING,
        ClientState::Ready => QW_QMP_READY,
        ClientState::Closed => QW_QMP_CLOSED,
    };
    // SAFETY: checked non-NULL.
    unsafe { put(state, s) };
    QW_OK
}

/// The server's QEMU version from its greeting. `QW_ERR_NOT_FOUND` before
/// the greeting (or if it had none).
///
/// # Safety
///
/// `client` initialised; outputs valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_client_version(
    client: *mut qw_qmp_client,
    major: *mut u64,
    minor: *mut u64,
    micro: *mut u64,
) -> qw_status {
    if major.is_null() || minor.is_null() || micro.is_null() {
        return QW_ERR_NULL;
    }
    match state!(client, ClientSession).server_version() {
        Some((a, b, c)) => {
            // SAFETY: checked non-NULL.
            unsafe {
                put(major, a);
                put(minor, b);
                put(micro, c);
            }
            QW_OK
        }
        None => QW_ERR_NOT_FOUND,
    }
}

/// Size in bytes of `qw_qmp_server`.
pub const QW_QMP_SERVER_SIZE: usize = 2048;
/// `QW_QMP_SERVER_SIZE` in 64-bit words.
pub const QW_QMP_SERVER_WORDS: usize = 256;

/// Storage for a QMP server (see `qw_qmp_server_init`). Size
/// `QW_QMP_SERVER_SIZE`, alignment 8.
#[repr(C)]
pub struct qw_qmp_server {
    /// Opaque: only qwire reads or writes it.
    pub _opaque: [u64; QW_QMP_SERVER_WORDS],
}

pub(crate) struct ServerState {
    server: Server<'static>,
    handler: CHandler,
}
storage!(qw_qmp_server, ServerState);

/// Initialise a QMP server for a fresh connection: partial requests in
/// `buf`; the greeting reports QEMU version `major.minor.micro` and
/// `package` (NUL-terminated) and offers `oob` if `offer_oob`. The session
/// handles `qmp_capabilities` itself; the `count` commands of `commands`
/// go to `handler` with `user`. `buf`, `package` and the table must stay
/// valid while the server is used.
///
/// # Safety
///
/// Pointers valid as described; `server` points to a `qw_qmp_server`.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_server_init(
    server: *mut qw_qmp_server,
    buf: *mut u8,
    len: usize,
    major: u64,
    minor: u64,
    micro: u64,
    package: *const c_char,
    offer_oob: bool,
    commands: *const qw_command,
    count: usize,
    handler: qw_handler_fn,
    user: *mut c_void,
) -> qw_status {
    if server.is_null() || package.is_null() {
        return QW_ERR_NULL;
    }
    // SAFETY: per the contract.
    let Some(buf) = (unsafe { bytes_mut(buf, len) }) else {
        return QW_ERR_NULL;
    };
    // SAFETY: per the contract.
    let Some(package) = (unsafe { static_str(package) }) else {
        return QW_ERR_INVALID_UTF8;
    };
    let version = VersionRef {
        major,
        minor,
        micro,
        package,
    };
    let slot = server.cast::<Slot<ServerState>>();
    // SAFETY: `server` is non-NULL storage of the declared size and
    // alignment; the table and strings are valid per the contract.
    unsafe {
        storage::init_in_place(slot, |state| {
            CHandler::init_in_place(
                core::ptr::addr_of_mut!((*state).handler),
                commands,
                count,
                handler,
                user,
            )?;
            core::ptr::addr_of_mut!((*state).server).write(Server::new(buf, version, offer_oob));
            Ok(())
        })
    }
}

/// Write the greeting into `out` if not written yet (`*written` 0 if it
/// was). `qw_qmp_server_feed` greets too; call this to greet at once on
/// connection, as QEMU does.
///
/// # Safety
///
/// `server` initialised; `out` valid for `out_len` bytes; `written` valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_server_greeting(
    server: *mut qw_qmp_server,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
) -> qw_status {
    if written.is_null() {
        return QW_ERR_NULL;
    }
    let s = state!(server, ServerState);
    // SAFETY: per the contract.
    let Some(out) = (unsafe { bytes_mut(out, out_len) }) else {
        return QW_ERR_NULL;
    };
    match s.server.greeting(out) {
        Ok(n) => {
            // SAFETY: checked non-NULL.
            unsafe { put(written, n) };
            QW_OK
        }
        Err(e) => e.into(),
    }
}

/// Feed bytes from the client: at most one request (or piece of bad input)
/// is handled per call, its answer (and any events the handler emitted)
/// written into `out` (`*written` bytes to send). Feed the rest of the
/// input again. `out` should hold at least `QW_QGA_MIN_OUTPUT` bytes plus
/// the largest reply; a reply that does not fit is replaced by a short
/// error.
///
/// # Safety
///
/// `server` initialised; buffers valid for their lengths; outputs valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_server_feed(
    server: *mut qw_qmp_server,
    input: *const u8,
    len: usize,
    out: *mut u8,
    out_len: usize,
    consumed: *mut usize,
    written: *mut usize,
) -> qw_status {
    if consumed.is_null() || written.is_null() {
        return QW_ERR_NULL;
    }
    let s = state!(server, ServerState);
    // SAFETY: per the contract.
    let (Some(input), Some(out)) = (unsafe { bytes(input, len) }, unsafe {
        bytes_mut(out, out_len)
    }) else {
        return QW_ERR_NULL;
    };
    let ServerState { server, handler } = s;
    let step = server.feed(input, out, handler);
    // SAFETY: checked non-NULL.
    unsafe {
        put(consumed, step.consumed);
        put(written, step.written);
    }
    QW_OK
}

/// Write event `name` with `data` (JSON text of an object, or NULL) and the
/// caller's timestamp into `out`. `QW_ERR_BAD_STATE` before negotiation
/// (QEMU sends no events then).
///
/// # Safety
///
/// `server` initialised; pointers valid for their lengths; `written` valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_server_event(
    server: *mut qw_qmp_server,
    name: *const u8,
    name_len: usize,
    data: *const u8,
    data_len: usize,
    seconds: i64,
    microseconds: i64,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
) -> qw_status {
    if written.is_null() {
        return QW_ERR_NULL;
    }
    let s = state!(server, ServerState);
    // SAFETY: per the contract.
    let name = try_status!(unsafe { text(name, name_len) });
    // SAFETY: per the contract.
    let data = try_status!(unsafe { arguments(data, data_len) });
    // SAFETY: per the contract.
    let Some(out) = (unsafe { bytes_mut(out, out_len) }) else {
        return QW_ERR_NULL;
    };
    let encoded = data.as_ref().map(|d| d as &dyn Encode);
    match s.server.event(
        name,
        encoded,
        Timestamp {
            seconds,
            microseconds,
        },
        out,
    ) {
        Ok(n) => {
            // SAFETY: checked non-NULL.
            unsafe { put(written, n) };
            QW_OK
        }
        Err(qw::qmp::EventError::NotNegotiated) => QW_ERR_BAD_STATE,
        Err(qw::qmp::EventError::Write(e)) => e.into(),
    }
}

/// The connection ended or a new one starts: drop partial input; the next
/// connection is greeted and negotiates afresh.
///
/// # Safety
///
/// `server` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_server_reset(server: *mut qw_qmp_server) -> qw_status {
    state!(server, ServerState).server.reset();
    QW_OK
}

/// Whether negotiation is complete (commands and events flow), in `*out`.
///
/// # Safety
///
/// `server` initialised; `out` valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qmp_server_negotiated(
    server: *mut qw_qmp_server,
    out: *mut bool,
) -> qw_status {
    if out.is_null() {
        return QW_ERR_NULL;
    }
    let s = state!(server, ServerState);
    let negotiated = s.server.state() == qw::qmp::ServerState::Command;
    // SAFETY: checked non-NULL.
    unsafe { put(out, negotiated) };
    QW_OK
}
