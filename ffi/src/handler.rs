//! C command handlers for the QGA agent and the QMP server.
//!
//! C describes its commands in a table of `qw_command` and answers calls in
//! one callback, `qw_handler_fn(void *user, const qw_call *call, qw_reply
//! *reply)`. The callback answers through exactly one `qw_reply_*`
//! function; if it returns without answering, the library answers for it
//! with a `GenericError` (so every request still gets its one reply).

use core::ffi::{c_char, c_void, CStr};

use qw::codec::CommandInfo;
use qw::dispatch::{Answered, Call, ErrorClass, Handler, Reply};
use qw::envelope::Timestamp;
use qw::json::Json;

use crate::json::qw_json;
use crate::status::qw_status::{self, *};
use crate::storage::bytes;

/// Most commands a C handler table may hold.
pub const QW_MAX_COMMANDS: usize = 48;

/// One command a C handler answers.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct qw_command {
    /// The exact wire name, NUL-terminated UTF-8. The string must stay valid
    /// while the session uses the table.
    pub name: *const c_char,
    /// `false` for a command that is not answered on success (QGA's
    /// `guest-shutdown`): a successful `qw_reply_ok*` then writes nothing.
    pub success_response: bool,
    /// The command may run out-of-band (QMP `exec-oob`).
    pub allow_oob: bool,
}

/// A call of one of the handler's commands, after the protocol's checks.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct qw_call {
    /// The command's name, as registered in the table (NUL-terminated).
    pub name: *const c_char,
    /// Its index in the table.
    pub index: usize,
    /// The `arguments` object; `ptr` is NULL when the request had none.
    pub arguments: qw_json,
    /// It came as `exec-oob`.
    pub oob: bool,
}

/// Called for each request to one of the table's commands. `reply` is valid
/// only during the call; answer through exactly one `qw_reply_*` function.
/// The return value is ignored (kept for future use; return `QW_OK`).
pub type qw_handler_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        call: *const qw_call,
        reply: *mut qw_reply,
    ) -> qw_status,
>;

/// QMP error classes for `qw_reply_error`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum qw_error_class {
    /// `GenericError`
    QW_CLASS_GENERIC_ERROR = 0,
    /// `CommandNotFound`
    QW_CLASS_COMMAND_NOT_FOUND = 1,
    /// `DeviceNotActive`
    QW_CLASS_DEVICE_NOT_ACTIVE = 2,
    /// `DeviceNotFound`
    QW_CLASS_DEVICE_NOT_FOUND = 3,
    /// `KVMMissingCap`
    QW_CLASS_KVM_MISSING_CAP = 4,
}

fn class_from_c(class: u32) -> Option<ErrorClass> {
    Some(match class {
        0 => ErrorClass::GenericError,
        1 => ErrorClass::CommandNotFound,
        2 => ErrorClass::DeviceNotActive,
        3 => ErrorClass::DeviceNotFound,
        4 => ErrorClass::KvmMissingCap,
        _ => return None,
    })
}

/// The reply a handler owes. Opaque to C: only valid during the callback.
pub struct qw_reply {
    _private: [u8; 0],
}

/// What backs a `qw_reply` pointer during a callback.
struct ReplySlot<'r, 'o, 'a> {
    reply: Option<Reply<'r, 'o, 'a>>,
    answered: Option<Answered>,
}

/// A C handler table converted for the core: names as `&str`, which C
/// promises to keep alive while the session runs (that is what `'static`
/// stands for here).
pub(crate) struct CHandler {
    infos: [CommandInfo; QW_MAX_COMMANDS],
    names: [*const c_char; QW_MAX_COMMANDS],
    count: usize,
    /// Bit `i`: command `i` is disabled.
    disabled: u64,
    callback: qw_handler_fn,
    user: *mut c_void,
}

const NO_COMMAND: CommandInfo = CommandInfo {
    name: "",
    success_response: true,
    allow_oob: false,
    has_args: true,
};

impl CHandler {
    /// Convert `count` entries of a C table into `dst`, in place (the table
    /// is over a kilobyte: it is not built on the stack).
    /// `QW_ERR_INVALID_ARGUMENT` for more than `QW_MAX_COMMANDS` entries,
    /// `QW_ERR_INVALID_UTF8` for a name that is not UTF-8, `QW_ERR_NULL` for
    /// a NULL name, or a NULL table with a non-zero count. On error `dst`
    /// is partly written and must not be used.
    ///
    /// # Safety
    ///
    /// `dst` valid for writes of a `CHandler`; `table` valid for `count`
    /// entries whose names stay valid while the handler is used.
    pub(crate) unsafe fn init_in_place(
        dst: *mut CHandler,
        table: *const qw_command,
        count: usize,
        callback: qw_handler_fn,
        user: *mut c_void,
    ) -> Result<(), qw_status> {
        if count > QW_MAX_COMMANDS {
            return Err(QW_ERR_INVALID_ARGUMENT);
        }
        if table.is_null() && count > 0 {
            return Err(QW_ERR_NULL);
        }
        // SAFETY: `dst` is valid for writes; every field is written through
        // raw pointers before anything reads it.
        unsafe {
            let infos = core::ptr::addr_of_mut!((*dst).infos).cast::<CommandInfo>();
            let names = core::ptr::addr_of_mut!((*dst).names).cast::<*const c_char>();
            for i in 0..QW_MAX_COMMANDS {
                let (info, name) = if i < count {
                    // `table` is valid for `count` entries per the contract.
                    let entry = *table.add(i);
                    if entry.name.is_null() {
                        return Err(QW_ERR_NULL);
                    }
                    // NUL-terminated and alive while the session runs.
                    let text = static_str(entry.name).ok_or(QW_ERR_INVALID_UTF8)?;
                    let info = CommandInfo {
                        name: text,
                        success_response: entry.success_response,
                        allow_oob: entry.allow_oob,
                        has_args: true,
                    };
                    (info, entry.name)
                } else {
                    (NO_COMMAND, core::ptr::null())
                };
                infos.add(i).write(info);
                names.add(i).write(name);
            }
            core::ptr::addr_of_mut!((*dst).count).write(count);
            core::ptr::addr_of_mut!((*dst).disabled).write(0);
            core::ptr::addr_of_mut!((*dst).callback).write(callback);
            core::ptr::addr_of_mut!((*dst).user).write(user);
        }
        Ok(())
    }

    /// Enable or disable the command called `name`.
    pub(crate) fn set_enabled(&mut self, name: &str, enabled: bool) -> qw_status {
        let Some(i) = self.commands().iter().position(|c| c.name == name) else {
            return QW_ERR_NOT_FOUND;
        };
        let bit = 1u64 << (i % 64);
        if enabled {
            self.disabled &= !bit;
        } else {
            self.disabled |= bit;
        }
        QW_OK
    }
}

/// A `&'static str` from a C string the caller keeps alive.
///
/// # Safety
///
/// `p` is a valid NUL-terminated string that outlives every use of the
/// result.
pub(crate) unsafe fn static_str(p: *const c_char) -> Option<&'static str> {
    // SAFETY: per the caller.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

impl Handler for CHandler {
    fn commands(&self) -> &[CommandInfo] {
        self.infos.get(..self.count).unwrap_or_default()
    }

    fn enabled(&self, index: usize) -> bool {
        index >= 64 || self.disabled & (1 << index) == 0
    }

    fn call(&mut self, call: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        let c_call = qw_call {
            name: self
                .names
                .get(call.index)
                .copied()
                .unwrap_or(core::ptr::null()),
            index: call.index,
            arguments: call.arguments.map_or(qw_json::EMPTY, qw_json::from_json),
            oob: call.oob,
        };
        let mut slot = ReplySlot {
            reply: Some(reply),
            answered: None,
        };
        if let Some(callback) = self.callback {
            let p: *mut ReplySlot<'_, '_, '_> = &mut slot;
            // SAFETY: C's callback gets pointers valid for the call; it may
            // only pass `reply` back to the qw_reply functions, which cast
            // it back to this slot.
            unsafe {
                callback(self.user, &c_call, p.cast::<qw_reply>());
            }
        }
        match (slot.answered, slot.reply) {
            (Some(answered), _) => answered,
            (None, Some(reply)) => reply.error(
                ErrorClass::GenericError,
                format_args!("the command's handler gave no reply"),
            ),
            // A reply is consumed only by answering, so this cannot happen;
            // were it to, nothing is written.
            (None, None) => {
                let mut nowhere = qw::dispatch::Output::new(&mut [], b"");
                Reply::new(&mut nowhere, None, true, &[]).ok_empty()
            }
        }
    }
}

/// Run `f` on the reply behind `r`, which it consumes.
///
/// # Safety
///
/// `r` is NULL or the pointer passed to the running handler callback.
unsafe fn answer(r: *mut qw_reply, f: impl FnOnce(Reply<'_, '_, '_>) -> Answered) -> qw_status {
    if r.is_null() {
        return QW_ERR_NULL;
    }
    // SAFETY: per the contract, `r` points to the live `ReplySlot` of the
    // callback in progress.
    let slot = unsafe { &mut *r.cast::<ReplySlot<'_, '_, '_>>() };
    match slot.reply.take() {
        Some(reply) => {
            slot.answered = Some(f(reply));
            QW_OK
        }
        None => QW_ERR_BAD_STATE,
    }
}

/// Answer with a return value given as JSON text (`len` bytes, e.g. built
/// with `qw_writer`). `QW_ERR_INVALID_JSON` (and no answer yet) if it is not
/// exactly one valid JSON value; `QW_ERR_BAD_STATE` if already answered.
///
/// # Safety
///
/// `reply` is the pointer passed to the running callback; `json` valid for
/// `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qw_reply_ok_json(
    reply: *mut qw_reply,
    json: *const u8,
    len: usize,
) -> qw_status {
    // SAFETY: per the contract.
    let Some(text) = (unsafe { bytes(json, len) }) else {
        return QW_ERR_NULL;
    };
    let Ok(value) = Json::parse(text) else {
        return QW_ERR_INVALID_JSON;
    };
    // SAFETY: per the contract.
    unsafe { answer(reply, |r| r.ok(&value)) }
}

/// Answer with `{}` (what commands without a result return).
///
/// # Safety
///
/// `reply` is the pointer passed to the running callback.
#[no_mangle]
pub unsafe extern "C" fn qw_reply_ok_empty(reply: *mut qw_reply) -> qw_status {
    // SAFETY: per the contract.
    unsafe { answer(reply, |r| r.ok_empty()) }
}

/// Answer with an error of `class` and description `desc` (`len` bytes of
/// UTF-8). Errors are answered even for `success_response = false`
/// commands. `QW_ERR_INVALID_ARGUMENT` for an unknown class.
///
/// # Safety
///
/// `reply` is the pointer passed to the running callback; `desc` valid for
/// `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qw_reply_error(
    reply: *mut qw_reply,
    class: u32,
    desc: *const u8,
    len: usize,
) -> qw_status {
    let Some(class) = class_from_c(class) else {
        return QW_ERR_INVALID_ARGUMENT;
    };
    // SAFETY: per the contract.
    let Some(text) = (unsafe { bytes(desc, len) }) else {
        return QW_ERR_NULL;
    };
    let Ok(text) = core::str::from_utf8(text) else {
        return QW_ERR_INVALID_UTF8;
    };
    // SAFETY: per the contract.
    unsafe { answer(reply, |r| r.error(class, format_args!("{text}"))) }
}

/// (QMP) Emit an event before the reply, as QEMU sends `STOP` before the
/// reply to `stop`. `data` is JSON text of an object, or NULL for none.
/// Call it before answering; it does not answer.
///
/// # Safety
///
/// `reply` is the pointer passed to the running callback; `name` valid for
/// `name_len` bytes; `data` NULL or valid for `data_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn qw_reply_event(
    reply: *mut qw_reply,
    name: *const u8,
    name_len: usize,
    data: *const u8,
    data_len: usize,
    seconds: i64,
    microseconds: i64,
) -> qw_status {
    if reply.is_null() {
        return QW_ERR_NULL;
    }
    // SAFETY: per the contract.
    let Some(name) = (unsafe { bytes(name, name_len) }).and_then(|b| core::str::from_utf8(b).ok())
    else {
        return QW_ERR_INVALID_ARGUMENT;
    };
    let data = if data.is_null() {
        None
    } else {
        // SAFETY: per the contract.
        let Some(text) = (unsafe { bytes(data, data_len) }) else {
            return QW_ERR_NULL;
        };
        match Json::parse(text) {
            Ok(v) => Some(v),
            Err(_) => return QW_ERR_INVALID_JSON,
        }
    };
    // SAFETY: `reply` is the live slot of the running callback.
    let slot = unsafe { &mut *reply.cast::<ReplySlot<'_, '_, '_>>() };
    let Some(r) = slot.reply.as_mut() else {
        return QW_ERR_BAD_STATE;
    };
    let data = data.as_ref().map(|d| d as &dyn qw::json::Encode);
    match r.event(
        name,
        data,
        Timestamp {
            seconds,
            microseconds,
        },
    ) {
        Ok(()) => QW_OK,
        Err(e) => e.into(),
    }
}
