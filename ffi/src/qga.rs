//! QGA from C: the guest-side agent (`qw_qga_agent`) and the host-side sync
//! client (`qw_qga_client`), both sans-IO: bytes in, bytes out, the
//! caller's clock.

use core::ffi::{c_char, c_void};

use qw::json::{Encode, Json};
use qw::qga::{Agent, CommandError, Discard, Event, State, SyncClient};

use crate::handler::{qw_command, qw_handler_fn, static_str, CHandler};
use crate::json::qw_json;
use crate::status::qw_status::{self, *};
use crate::storage::{self, bytes, bytes_mut, put, state, storage, text, try_status, Slot};

/// Size in bytes of `qw_qga_agent`.
pub const QW_QGA_AGENT_SIZE: usize = 2048;
/// `QW_QGA_AGENT_SIZE` in 64-bit words.
pub const QW_QGA_AGENT_WORDS: usize = 256;

/// Storage for a QGA agent (see `qw_qga_agent_init`). Size
/// `QW_QGA_AGENT_SIZE`, alignment 8.
#[repr(C)]
pub struct qw_qga_agent {
    /// Opaque: only qwire reads or writes it.
    pub _opaque: [u64; QW_QGA_AGENT_WORDS],
}

pub(crate) struct AgentState {
    agent: Agent<'static>,
    handler: CHandler,
}
storage!(qw_qga_agent, AgentState);

/// Smallest output buffer `qw_qga_agent_init` accepts (room for any error
/// reply the agent writes itself).
pub const QW_QGA_MIN_OUTPUT: usize = qw::dispatch::MIN_OUTPUT;

/// Initialise a QGA agent. It stores partial requests in `input` (its
/// length bounds the largest request; larger ones are answered with an
/// error) and writes replies into `output` (at least `QW_QGA_MIN_OUTPUT`
/// bytes). `version` (NUL-terminated) is what `guest-info` reports. The
/// agent answers `guest-sync`, `guest-sync-delimited`, `guest-ping` and
/// `guest-info` itself; the `count` commands of `commands` go to `handler`
/// with `user`. Buffers, `version` and the table (with its names) must stay
/// valid while the agent is used. `QW_ERR_BUFFER_TOO_SMALL` for a small
/// output buffer, `QW_ERR_INVALID_ARGUMENT` for an empty input buffer or
/// more than `QW_MAX_COMMANDS` commands.
///
/// # Safety
///
/// Pointers valid as described; `agent` points to a `qw_qga_agent`.
#[no_mangle]
pub unsafe extern "C" fn qw_qga_agent_init(
    agent: *mut qw_qga_agent,
    input: *mut u8,
    input_len: usize,
    output: *mut u8,
    output_len: usize,
    version: *const c_char,
    commands: *const qw_command,
    count: usize,
    handler: qw_handler_fn,
    user: *mut c_void,
) -> qw_status {
    if agent.is_null() || version.is_null() {
        return QW_ERR_NULL;
    }
    // SAFETY: per the contract (the buffers are the agent's while it is used).
    let (Some(input), Some(output)) = (unsafe { bytes_mut(input, input_len) }, unsafe {
        bytes_mut(output, output_len)
    }) else {
        return QW_ERR_NULL;
    };
    // SAFETY: per the contract.
    let Some(version) = (unsafe { static_str(version) }) else {
        return QW_ERR_INVALID_UTF8;
    };
    let slot = agent.cast::<Slot<AgentState>>();
    // SAFETY: `agent` is non-NULL storage of the declared size and
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
            let core_agent = Agent::new(input, output, version).map_err(|e| match e {
                qw::qga::AgentError::OutputTooSmall { .. } => QW_ERR_BUFFER_TOO_SMALL,
                qw::qga::AgentError::InputEmpty => QW_ERR_INVALID_ARGUMENT,
            })?;
            core::ptr::addr_of_mut!((*state).agent).write(core_agent);
            Ok(())
        })
    }
}

/// Feed bytes from the host. At most one request (or one parse error or
/// 0xFF) is handled per call: `*consumed` bytes were used; `*reply` /
/// `*reply_len` are the bytes to send to the host now (possibly none; they
/// live in the agent's output buffer until the next call). Then feed the
/// rest of the input again. Handler callbacks run inside this call.
///
/// # Safety
///
/// `agent` initialised; `input` valid for `len` bytes; outputs valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qga_agent_feed(
    agent: *mut qw_qga_agent,
    input: *const u8,
    len: usize,
    consumed: *mut usize,
    reply: *mut *const u8,
    reply_len: *mut usize,
) -> qw_status {
    if consumed.is_null() || reply.is_null() || reply_len.is_null() {
        return QW_ERR_NULL;
    }
    let state = state!(agent, AgentState);
    // SAFETY: per the contract.
    let Some(input) = (unsafe { bytes(input, len) }) else {
        return QW_ERR_NULL;
    };
    let AgentState { agent, handler } = state;
    let step = agent.feed(input, handler);
    // SAFETY: checked non-NULL.
    unsafe {
        put(consumed, step.consumed);
        put(reply, step.reply.as_ptr());
        put(reply_len, step.reply.len());
    }
    QW_OK
}

/// Enable or disable one of the handler's commands (`name`, `len` bytes of
/// UTF-8). A disabled command is answered `CommandNotFound` "Command X has
/// been disabled" and listed as disabled by `guest-info`.
/// `QW_ERR_NOT_FOUND` if the table has no such command.
///
/// # Safety
///
/// `agent` initialised; `name` valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qw_qga_agent_set_enabled(
    agent: *mut qw_qga_agent,
    name: *const u8,
    len: usize,
    enabled: bool,
) -> qw_status {
    let state = state!(agent, AgentState);
    // SAFETY: per the contract.
    match unsafe { text(name, len) } {
        Ok(name) => state.handler.set_enabled(name, enabled),
        Err(e) => e,
    }
}

/// Drop any half-read request (without the error reply a 0xFF earns).
///
/// # Safety
///
/// `agent` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_qga_agent_reset(agent: *mut qw_qga_agent) -> qw_status {
    state!(agent, AgentState).agent.reset();
    QW_OK
}

/// Size in bytes of `qw_qga_client`.
pub const QW_QGA_CLIENT_SIZE: usize = 320;
/// `QW_QGA_CLIENT_SIZE` in 64-bit words.
pub const QW_QGA_CLIENT_WORDS: usize = 40;

/// Storage for a QGA sync client (see `qw_qga_client_init`). Size
/// `QW_QGA_CLIENT_SIZE`, alignment 8.
#[repr(C)]
pub struct qw_qga_client {
    /// Opaque: only qwire reads or writes it.
    pub _opaque: [u64; QW_QGA_CLIENT_WORDS],
}

type ClientState = SyncClient<'static>;
storage!(qw_qga_client, ClientState);

/// Where a QGA sync client stands.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum qw_qga_state {
    /// Not synchronised: call `qw_qga_client_sync` with a fresh id.
    QW_QGA_NEED_SYNC = 0,
    /// Synchronising: waiting for the agent's 0xFF and the sync reply.
    QW_QGA_SYNCING = 1,
    /// Synchronised and idle: a command may be sent.
    QW_QGA_READY = 2,
    /// A command's reply is awaited.
    QW_QGA_WAITING = 3,
}

/// What a `qw_qga_client_feed` call found.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum qw_qga_event_kind {
    /// Nothing to act on (input used up, or the agent's 0xFF while syncing).
    QW_QGA_EVENT_NOTHING = 0,
    /// Synchronised (`sync_id`): commands may be sent.
    QW_QGA_EVENT_SYNCED = 1,
    /// The awaited command returned `value`.
    QW_QGA_EVENT_RETURN = 2,
    /// The awaited command failed with `error_class` / `error_desc`.
    QW_QGA_EVENT_ERROR = 3,
    /// The awaited command's reply (`len` bytes) was larger than the
    /// buffer; the command is complete and the stream usable.
    QW_QGA_EVENT_TOO_LARGE = 4,
    /// A command sent without expecting a reply failed after all (`id`,
    /// `error_class`, `error_desc`).
    QW_QGA_EVENT_LATE_ERROR = 5,
    /// Something stale or malformed was discarded (no action needed).
    QW_QGA_EVENT_DISCARDED = 6,
}

/// One sync-client outcome. JSON spans point into the client's buffer or
/// the input and stay valid until the next call on the client.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct qw_qga_event {
    /// What happened.
    pub kind: qw_qga_event_kind,
    /// `QW_QGA_EVENT_SYNCED`: the sync id answered.
    pub sync_id: i64,
    /// `QW_QGA_EVENT_LATE_ERROR`: the failed command's id.
    pub id: u64,
    /// `QW_QGA_EVENT_RETURN`: the return value.
    pub value: qw_json,
    /// Errors: the class, a JSON string (read it with `qw_json_string`).
    pub error_class: qw_json,
    /// Errors: the description, a JSON string.
    pub error_desc: qw_json,
    /// `QW_QGA_EVENT_TOO_LARGE`: the reply's length.
    pub len: u64,
}

impl qw_qga_event {
    fn of(kind: qw_qga_event_kind) -> Self {
        qw_qga_event {
            kind,
            sync_id: 0,
            id: 0,
            value: qw_json::EMPTY,
            error_class: qw_json::EMPTY,
            error_desc: qw_json::EMPTY,
            len: 0,
        }
    }

    fn error(kind: qw_qga_event_kind, e: &CommandError<'_>) -> Self {
        match e {
            CommandError::Agent { class, desc } => qw_qga_event {
                error_class: qw_json::from_json(Json::trusted(class.raw())),
                error_desc: qw_json::from_json(Json::trusted(desc.raw())),
                ..qw_qga_event::of(kind)
            },
            CommandError::TooLarge { len } => qw_qga_event {
                len: *len,
                ..qw_qga_event::of(qw_qga_event_kind::QW_QGA_EVENT_TOO_LARGE)
            },
        }
    }
}

/// Initialise a QGA sync client storing replies in `buf` (its length bounds
/// the largest reply; a larger one completes its command with
/// `QW_QGA_EVENT_TOO_LARGE`). It starts unsynchronised.
///
/// # Safety
///
/// `client` points to a `qw_qga_client`; `buf` valid for `len` bytes and
/// the client's while it is used.
#[no_mangle]
pub unsafe extern "C" fn qw_qga_client_init(
    client: *mut qw_qga_client,
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
    unsafe { storage::init(client.cast::<Slot<ClientState>>(), SyncClient::new(buf)) };
    QW_OK
}

/// Write 0xFF + `guest-sync-delimited` with `id` (+ `\n`) into `out` and
/// start synchronising; `*written` bytes must be sent to the agent. `id`
/// must be fresh on this channel (e.g. random). Allowed in any state;
/// anything pending is abandoned. `QW_ERR_BUFFER_TOO_SMALL` if `out` is
/// under about 80 bytes.
///
/// # Safety
///
/// `client` initialised; `out` valid for `out_len` bytes; `written` valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qga_client_sync(
    client: *mut qw_qga_client,
    id: i64,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
) -> qw_status {
    if written.is_null() {
        return QW_ERR_NULL;
    }
    let c = state!(client, ClientState);
    // SAFETY: per the contract.
    let Some(out) = (unsafe { bytes_mut(out, out_len) }) else {
        return QW_ERR_NULL;
    };
    match c.sync(id, out) {
        Ok(n) => {
            // SAFETY: checked non-NULL.
            unsafe { put(written, n) };
            QW_OK
        }
        Err(_) => QW_ERR_BUFFER_TOO_SMALL,
    }
}

/// Parse optional JSON arguments given as text: NULL means none; otherwise
/// one JSON object.
///
/// # Safety
///
/// `args` NULL or valid for `len` bytes.
pub(crate) unsafe fn arguments<'a>(
    args: *const u8,
    len: usize,
) -> Result<Option<Json<'a>>, qw_status> {
    if args.is_null() {
        return Ok(None);
    }
    // SAFETY: per the caller.
    let text = unsafe { bytes(args, len) }.ok_or(QW_ERR_NULL)?;
    let v = Json::parse(text).map_err(|_| QW_ERR_INVALID_JSON)?;
    if v.kind() != qw::json::Kind::Object {
        return Err(QW_ERR_WRONG_TYPE);
    }
    Ok(Some(v))
}

/// Write command `name` (`name_len` bytes) with `args` (JSON text of an
/// object, `args_len` bytes, or NULL for none) and an id, plus `\n`, into
/// `out`. `success_response = false` marks a command not answered on
/// success (`guest-shutdown`, `guest-suspend-*`): it is complete once sent
/// (`*expects_reply` false). `QW_ERR_BAD_STATE` unless synchronised and
/// idle.
///
/// # Safety
///
/// `client` initialised; pointers valid for their lengths; outputs valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qga_client_send(
    client: *mut qw_qga_client,
    name: *const u8,
    name_len: usize,
    args: *const u8,
    args_len: usize,
    success_response: bool,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
    expects_reply: *mut bool,
) -> qw_status {
    if written.is_null() || expects_reply.is_null() {
        return QW_ERR_NULL;
    }
    let c = state!(client, ClientState);
    // SAFETY: per the contract.
    let name = try_status!(unsafe { text(name, name_len) });
    // SAFETY: per the contract.
    let args = try_status!(unsafe { arguments(args, args_len) });
    // SAFETY: per the contract.
    let Some(out) = (unsafe { bytes_mut(out, out_len) }) else {
        return QW_ERR_NULL;
    };
    let encoded = args.as_ref().map(|a| a as &dyn Encode);
    match c.send_raw(name, encoded, success_response, out) {
        Ok(sent) => {
            // SAFETY: checked non-NULL.
            unsafe {
                put(written, sent.len);
                put(expects_reply, sent.expects_reply);
            }
            QW_OK
        }
        Err(qw::qga::SendError::NotReady(_)) => QW_ERR_BAD_STATE,
        Err(qw::qga::SendError::Write(e)) => e.into(),
    }
}

/// Feed bytes from the agent. Returns at the first event; `*consumed`
/// bytes were used — feed the rest again.
///
/// # Safety
///
/// `client` initialised; `input` valid for `len` bytes; outputs valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qga_client_feed(
    client: *mut qw_qga_client,
    input: *const u8,
    len: usize,
    consumed: *mut usize,
    event: *mut qw_qga_event,
) -> qw_status {
    if consumed.is_null() || event.is_null() {
        return QW_ERR_NULL;
    }
    let c = state!(client, ClientState);
    // SAFETY: per the contract.
    let Some(input) = (unsafe { bytes(input, len) }) else {
        return QW_ERR_NULL;
    };
    use qw_qga_event_kind::*;
    let fed = c.feed(input);
    let e = match fed.event {
        Event::Nothing => qw_qga_event::of(QW_QGA_EVENT_NOTHING),
        Event::Synced { id } => qw_qga_event {
            sync_id: id,
            ..qw_qga_event::of(QW_QGA_EVENT_SYNCED)
        },
        Event::Reply(Ok(value)) => qw_qga_event {
            value: qw_json::from_json(value),
            ..qw_qga_event::of(QW_QGA_EVENT_RETURN)
        },
        Event::Reply(Err(e)) => qw_qga_event::error(QW_QGA_EVENT_ERROR, &e),
        Event::LateError { id, error } => qw_qga_event {
            id,
            ..qw_qga_event::error(QW_QGA_EVENT_LATE_ERROR, &error)
        },
        Event::Discarded(
            Discard::BeforeSentinel
            | Discard::Stale
            | Discard::Garbage
            | Discard::Sentinel
            | Discard::TooLarge,
        ) => qw_qga_event::of(QW_QGA_EVENT_DISCARDED),
    };
    // SAFETY: checked non-NULL.
    unsafe {
        put(consumed, fed.consumed);
        put(event, e);
    }
    QW_OK
}

/// The caller's deadline for the awaited reply passed: a new sync is
/// needed before the next command.
///
/// # Safety
///
/// `client` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_qga_client_timeout(client: *mut qw_qga_client) -> qw_status {
    state!(client, ClientState).timeout();
    QW_OK
}

/// The connection closed or was replaced: drop partial input, need a sync.
///
/// # Safety
///
/// `client` initialised.
#[no_mangle]
pub unsafe extern "C" fn qw_qga_client_disconnected(client: *mut qw_qga_client) -> qw_status {
    state!(client, ClientState).disconnected();
    QW_OK
}

/// Where the client stands, in `*state`.
///
/// # Safety
///
/// `client` initialised; `state` valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qga_client_state(
    client: *mut qw_qga_client,
    state: *mut qw_qga_state,
) -> qw_status {
    if state.is_null() {
        return QW_ERR_NULL;
    }
    use qw_qga_state::*;
    let s = match state!(client, ClientState).state() {
        State::NeedSync => QW_QGA_NEED_SYNC,
        State::Syncing { .. } => QW_QGA_SYNCING,
        State::Ready => QW_QGA_READY,
        State::Waiting { .. } => QW_QGA_WAITING,
    };
    // SAFETY: checked non-NULL.
    unsafe { put(state, s) };
    QW_OK
}

/// Whether the QGA schema says command `name` answers on success (`false`
/// for `guest-shutdown` and `guest-suspend-*`); `true` for commands the
/// schema does not know.
///
/// # Safety
///
/// `name` valid for `len` bytes; `out` valid.
#[no_mangle]
pub unsafe extern "C" fn qw_qga_success_response(
    name: *const u8,
    len: usize,
    out: *mut bool,
) -> qw_status {
    if out.is_null() {
        return QW_ERR_NULL;
    }
    // SAFETY: per the contract.
    let Some(name) = (unsafe { bytes(name, len) }) else {
        return QW_ERR_NULL;
    };
    let answers = qw::qga::schema::COMMANDS
        .iter()
        .find(|c| c.name.as_bytes() == name)
        .is_none_or(|c| c.success_response);
    // SAFETY: checked non-NULL.
    unsafe { put(out, answers) };
    QW_OK
}
