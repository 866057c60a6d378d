//! A [`Handler`] that answers like QEMU 7.2 for the commands the recorded
//! transcripts (`corpus/qemu-7.2/qmp-*`) use, with QEMU's values and run
//! state rules: what the QMP server replays those transcripts against.
//!
//! | command | behaviour |
//! | --- | --- |
//! | `query-version` | the configured version and package |
//! | `query-status` | `running`, `paused` or `prelaunch` |
//! | `query-name`, `query-uuid`, `query-kvm`, `query-iothreads` | configured values (`query-kvm`: present, not enabled, as under TCG) |
//! | `query-cpus-fast` | the configured list (raw JSON) |
//! | `query-balloon`, `balloon` | `DeviceNotActive` without a balloon; with one, its size (a `balloon` request does not change it while the guest does not run, as in the transcript) |
//! | `stop` | running → paused with `STOP`; otherwise no event (prelaunch stays prelaunch) |
//! | `cont` | not running → running with `RESUME` |
//! | `quit` | `SHUTDOWN` (`host-qmp-quit`), then `{}`; sets [`Machine::quit`] |
//! | `qom-list` | arguments checked strictly; every path is reported not found |
//! | `human-monitor-command` | `info version`; anything else returns `""` |
//! | `migrate-pause`, `migrate-recover` | allow out-of-band; fail as without a migration |

use qwire::codec::{self, CommandInfo, Decode, DecodeError, Field, Mode, Object};
use qwire::dispatch::{Answered, Call, ErrorClass, Handler, Reply};
use qwire::envelope::{Timestamp, VersionRef};
use qwire::json::{EncodeWith, Json, JsonWriter, WriteError};
use qwire::qmp::schema::{KvmInfo, NameInfo, UuidInfo};

/// The guest's run state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Running.
    Running,
    /// Stopped by `stop`.
    Paused,
    /// Started with `-S`, never run.
    Prelaunch,
}

impl RunState {
    fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Prelaunch => "prelaunch",
        }
    }
}

/// QEMU 7.2's package string on this Debian host.
pub const PACKAGE: &str = "Debian 1:7.2+dfsg-7+deb12u18+b3";

/// The emulated machine.
#[derive(Clone, Debug)]
pub struct Machine {
    /// QEMU's version.
    pub version: (u64, u64, u64),
    /// Its package string.
    pub package: &'static str,
    /// `-name`.
    pub name: Option<&'static str>,
    /// `-uuid`.
    pub uuid: &'static str,
    /// Run state.
    pub state: RunState,
    /// Balloon size in bytes, when there is a balloon device.
    pub balloon: Option<u64>,
    /// `query-cpus-fast`'s return value, as JSON text.
    pub cpus: &'static str,
    /// The time events are stamped with (the caller's clock).
    pub now: Timestamp,
    /// `quit` was called.
    pub quit: bool,
    /// Commands called, by name, in order.
    pub calls: Vec<String>,
}

impl Machine {
    /// `qemu-system-x86_64 -M none`: running, no name, nil UUID, no CPUs.
    pub fn none() -> Machine {
        Machine {
            version: (7, 2, 22),
            package: PACKAGE,
            name: None,
            uuid: "00000000-0000-0000-0000-000000000000",
            state: RunState::Running,
            balloon: None,
            cpus: "[]",
            now: Timestamp {
                seconds: 1_795_307_803,
                microseconds: 558_142,
            },
            quit: false,
            calls: Vec::new(),
        }
    }

    /// The greeting's version.
    pub fn version_ref(&self) -> VersionRef<'static> {
        VersionRef {
            major: self.version.0,
            minor: self.version.1,
            micro: self.version.2,
            package: self.package,
        }
    }
}

const fn cmd(name: &'static str, allow_oob: bool, has_args: bool) -> CommandInfo {
    CommandInfo {
        name,
        success_response: true,
        allow_oob,
        has_args,
    }
}

/// The commands [`Machine`] answers.
pub const COMMANDS: &[CommandInfo] = &[
    cmd("query-version", false, false),
    cmd("query-status", false, false),
    cmd("query-name", false, false),
    cmd("query-kvm", false, false),
    cmd("query-uuid", false, false),
    cmd("query-cpus-fast", false, false),
    cmd("query-iothreads", false, false),
    cmd("query-balloon", false, false),
    cmd("balloon", false, true),
    cmd("stop", false, false),
    cmd("cont", false, false),
    cmd("quit", false, false),
    cmd("qom-list", false, true),
    cmd("human-monitor-command", false, true),
    cmd("migrate-pause", true, false),
    cmd("migrate-recover", true, true),
];

/// Arguments with one required string member (`qom-list`'s `path`,
/// `migrate-recover`'s `uri`) or `human-monitor-command`'s pair.
#[derive(Default)]
struct StrArgs<const K: usize> {
    text: codec::String<1024>,
    cpu_index: Option<i64>,
}

const PATH: &[Field] = &[Field::required("path")];
const URI: &[Field] = &[Field::required("uri")];
const HMP: &[Field] = &[
    Field::required("command-line"),
    Field::optional("cpu-index"),
];

impl<const K: usize> Object for StrArgs<K> {
    const FIELDS: &'static [Field] = match K {
        0 => PATH,
        1 => URI,
        _ => HMP,
    };

    fn decode_field<'a>(
        &mut self,
        index: usize,
        value: Option<Json<'a>>,
        mode: Mode,
    ) -> Result<(), DecodeError<'a>> {
        match index {
            0 => codec::required(&mut self.text, value, mode),
            _ => codec::optional(&mut self.cpu_index, value, mode),
        }
    }

    fn encode_fields(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        codec::member(w, Self::FIELDS[0].name, &self.text)
    }
}

impl<const K: usize> Decode for StrArgs<K> {
    fn decode_into<'a>(&mut self, v: Json<'a>, mode: Mode) -> Result<(), DecodeError<'a>> {
        codec::decode_object(self, v, mode)
    }
}

/// `balloon`'s `{"value": int}`.
#[derive(Default)]
struct BalloonArgs {
    value: i64,
}

const VALUE: &[Field] = &[Field::required("value")];

impl Object for BalloonArgs {
    const FIELDS: &'static [Field] = VALUE;

    fn decode_field<'a>(
        &mut self,
        _: usize,
        value: Option<Json<'a>>,
        mode: Mode,
    ) -> Result<(), DecodeError<'a>> {
        codec::required(&mut self.value, value, mode)
    }

    fn encode_fields(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        codec::member(w, "value", &self.value)
    }
}

impl Decode for BalloonArgs {
    fn decode_into<'a>(&mut self, v: Json<'a>, mode: Mode) -> Result<(), DecodeError<'a>> {
        codec::decode_object(self, v, mode)
    }
}

/// Decode the call's arguments strictly into a new `T`.
fn args<'a, T: Decode + Default>(call: &Call<'a>) -> Result<T, DecodeError<'a>> {
    let mut t = T::default();
    call.args_into(&mut t).map(|()| t)
}

impl Handler for Machine {
    fn commands(&self) -> &[CommandInfo] {
        COMMANDS
    }

    fn call(&mut self, call: &Call<'_>, mut reply: Reply<'_, '_, '_>) -> Answered {
        let name: String = call.name.chars().collect();
        self.calls.push(name.clone());
        // Commands without arguments refuse any (QEMU: "Parameter 'x' is
        // unexpected").
        let info = COMMANDS.get(call.index).copied();
        if info.is_some_and(|i| !i.has_args) {
            if let Err(e) = call.args_into(&mut codec::NoArgs) {
                return reply.invalid_arguments(&e);
            }
        }
        let ts = self.now;
        match name.as_str() {
            "query-version" => reply.ok(&self.version_ref()),
            "query-status" => {
                let state = self.state;
                reply.ok(&EncodeWith(move |w: &mut JsonWriter<'_>| {
                    w.begin_object()?;
                    w.key("status")?;
                    w.string(state.as_str())?;
                    w.key("singlestep")?;
                    w.bool(false)?;
                    w.key("running")?;
                    w.bool(state == RunState::Running)?;
                    w.end_object()
                }))
            }
            "query-name" => {
                let mut info = NameInfo::default();
                if let Some(n) = self.name {
                    info.name = Some(n.try_into().expect("name fits"));
                }
                reply.ok(&info)
            }
            "query-kvm" => reply.ok(&KvmInfo {
                enabled: false,
                present: true,
            }),
            "query-uuid" => reply.ok(&UuidInfo {
                uuid: self.uuid.try_into().expect("uuid fits"),
            }),
            "query-cpus-fast" => reply.ok(&Json::parse(self.cpus.as_bytes()).expect("cpus JSON")),
            "query-iothreads" => {
                reply.ok(&codec::Vec::<qwire::qmp::schema::IOThreadInfo, 1>::new())
            }
            "query-balloon" => match self.balloon {
                Some(actual) => reply.ok(&EncodeWith(move |w: &mut JsonWriter<'_>| {
                    w.begin_object()?;
                    w.key("actual")?;
                    w.u64(actual)?;
                    w.end_object()
                })),
                None => no_balloon(reply),
            },
            "balloon" => match args::<BalloonArgs>(call) {
                Err(e) => reply.invalid_arguments(&e),
                Ok(_) if self.balloon.is_none() => no_balloon(reply),
                Ok(_) => reply.ok_empty(),
            },
            "stop" => {
                if self.state == RunState::Running {
                    self.state = RunState::Paused;
                    let _ = reply.event("STOP", None, ts);
                }
                reply.ok_empty()
            }
            "cont" => {
                if self.state != RunState::Running {
                    self.state = RunState::Running;
                    let _ = reply.event("RESUME", None, ts);
                }
                reply.ok_empty()
            }
            "quit" => {
                let data = EncodeWith(|w: &mut JsonWriter<'_>| {
                    w.begin_object()?;
                    w.key("guest")?;
                    w.bool(false)?;
                    w.key("reason")?;
                    w.string("host-qmp-quit")?;
                    w.end_object()
                });
                let _ = reply.event("SHUTDOWN", Some(&data), ts);
                self.quit = true;
                reply.ok_empty()
            }
            "qom-list" => match args::<StrArgs<0>>(call) {
                Err(e) => reply.invalid_arguments(&e),
                Ok(a) => reply.error(
                    ErrorClass::DeviceNotFound,
                    format_args!("Device '{}' not found", a.text),
                ),
            },
            "human-monitor-command" => match args::<StrArgs<2>>(call) {
                Err(e) => reply.invalid_arguments(&e),
                Ok(a) if a.text.as_str() == "info version" => {
                    let (major, minor, micro) = self.version;
                    let text = format!("{major}.{minor}.{micro}{}\r\n", self.package);
                    reply.ok(&text.as_str())
                }
                Ok(_) => reply.ok(&""),
            },
            "migrate-pause" => reply.error(
                ErrorClass::GenericError,
                format_args!(
                    "migrate-pause is currently only supported during postcopy-active state"
                ),
            ),
            "migrate-recover" => match args::<StrArgs<1>>(call) {
                Err(e) => reply.invalid_arguments(&e),
                Ok(_) => reply.error(
                    ErrorClass::GenericError,
                    format_args!("Migrate recover can only be run when postcopy is paused."),
                ),
            },
            _ => reply.error(
                ErrorClass::CommandNotFound,
                format_args!("The command {name} has not been found"),
            ),
        }
    }
}

fn no_balloon(reply: Reply<'_, '_, '_>) -> Answered {
    reply.error(
        ErrorClass::DeviceNotActive,
        format_args!("No balloon device has been activated"),
    )
}
