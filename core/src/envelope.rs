//! Layer 3: what kind of message a frame is, and building each kind.
//!
//! # Contract
//!
//! [`classify`] looks only at an object's top-level keys, in any order, and
//! never copies: names, arguments, ids, return values and event data come
//! back as spans of the frame. Keys it does not know are ignored, and
//! unknown command names, event names or error classes from a newer QEMU
//! are just data. It decides by the first of these that applies:
//!
//! | top-level keys | kind |
//! | --- | --- |
//! | `QMP` | [`Message::Greeting`] |
//! | `event` (a string) | [`Message::Event`] |
//! | `return` | [`Message::Return`] |
//! | `error` (an object) | [`Message::Error`] |
//! | `execute` (a string) | [`Message::Command`] |
//! | `exec-oob` (a string) | [`Message::OobCommand`] |
//! | anything else, or not an object | [`Message::Other`] |
//!
//! This is the lenient view a client needs. Servers and agents check a
//! request strictly (unknown keys, wrong types) on top of it, the way QEMU
//! does; see the session modules.
//!
//! The `write_*` builders produce each kind into a [`JsonWriter`], as compact
//! pure-ASCII JSON, with keys in the order QEMU uses. They write no line
//! terminator; the session adds the one its protocol uses.

use core::fmt;

use crate::json::{Encode, Json, JsonWriter, Kind, Str, WriteError};

/// The kind of a message, with the stable names used by the `dump` tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// `{"QMP": ...}`
    Greeting,
    /// `{"execute": ...}`
    Command,
    /// `{"exec-oob": ...}`
    OobCommand,
    /// `{"return": ...}`
    Return,
    /// `{"error": ...}`
    Error,
    /// `{"event": ...}`
    Event,
    /// Anything else.
    Other,
}

impl MessageKind {
    /// Short stable name.
    pub const fn name(self) -> &'static str {
        match self {
            MessageKind::Greeting => "greeting",
            MessageKind::Command => "command",
            MessageKind::OobCommand => "oob-command",
            MessageKind::Return => "return",
            MessageKind::Error => "error",
            MessageKind::Event => "event",
            MessageKind::Other => "other",
        }
    }
}

/// The QMP greeting, `{"QMP": {"version": ..., "capabilities": [...]}}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Greeting<'a> {
    /// The `version` object (shaped like `query-version`'s return), if any.
    pub version: Option<Json<'a>>,
    /// The `capabilities` array, if any.
    pub capabilities: Option<Json<'a>>,
}

impl<'a> Greeting<'a> {
    /// QEMU's `(major, minor, micro)`, if the version object has them.
    pub fn qemu_version(&self) -> Option<(u64, u64, u64)> {
        let qemu = self.version?.get("qemu")?;
        Some((
            qemu.get("major")?.as_u64()?,
            qemu.get("minor")?.as_u64()?,
            qemu.get("micro")?.as_u64()?,
        ))
    }

    /// The free-form `package` string.
    pub fn package(&self) -> Option<Str<'a>> {
        self.version?.get("package")?.as_str()
    }

    /// The server offers capability `name` (e.g. `"oob"`).
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities
            .map(|caps| {
                caps.elements()
                    .any(|c| c.as_str().is_some_and(|s| s.eq_str(name)))
            })
            .unwrap_or(false)
    }
}

/// A command request, `{"execute": NAME, "arguments": {...}, "id": ...}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command<'a> {
    /// The command name.
    pub name: Str<'a>,
    /// `arguments`, if present.
    pub arguments: Option<Json<'a>>,
    /// `id`, if present (any JSON value).
    pub id: Option<Json<'a>>,
}

/// A successful reply, `{"return": ..., "id": ...}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Return<'a> {
    /// The return value.
    pub value: Json<'a>,
    /// `id`, if present.
    pub id: Option<Json<'a>>,
}

/// An error reply, `{"error": {"class": ..., "desc": ...}, "id": ...}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorReply<'a> {
    /// The error class (`GenericError`, `CommandNotFound`, ...); empty if
    /// the server sent none.
    pub class: Str<'a>,
    /// The human-readable description; empty if the server sent none.
    pub desc: Str<'a>,
    /// `id`, if present.
    pub id: Option<Json<'a>>,
}

/// An event timestamp. Both members are -1 when the server could not read
/// its clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    pub seconds: i64,
    /// Microseconds, 0..=999999.
    pub microseconds: i64,
}

/// An asynchronous event, `{"event": NAME, "data": {...}, "timestamp": {...}}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    /// The event name.
    pub name: Str<'a>,
    /// `data`, if present.
    pub data: Option<Json<'a>>,
    /// `timestamp`, if present and well-formed.
    pub timestamp: Option<Timestamp>,
}

/// A classified message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// The QMP greeting.
    Greeting(Greeting<'a>),
    /// An in-band command (`execute`).
    Command(Command<'a>),
    /// An out-of-band command (`exec-oob`).
    OobCommand(Command<'a>),
    /// A successful reply.
    Return(Return<'a>),
    /// An error reply.
    Error(ErrorReply<'a>),
    /// An event.
    Event(Event<'a>),
    /// None of the above.
    Other(Json<'a>),
}

impl Message<'_> {
    /// Which kind this is.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Greeting(_) => MessageKind::Greeting,
            Message::Command(_) => MessageKind::Command,
            Message::OobCommand(_) => MessageKind::OobCommand,
            Message::Return(_) => MessageKind::Return,
            Message::Error(_) => MessageKind::Error,
            Message::Event(_) => MessageKind::Event,
            Message::Other(_) => MessageKind::Other,
        }
    }

    /// The `id` of a command or reply.
    pub fn id(&self) -> Option<Json<'_>> {
        match self {
            Message::Command(c) | Message::OobCommand(c) => c.id,
            Message::Return(r) => r.id,
            Message::Error(e) => e.id,
            _ => None,
        }
    }
}

const EMPTY_STR: Str<'static> = Str::from_validated(b"\"\"");

/// The top-level members [`classify`] cares about.
#[derive(Default)]
struct Keys<'a> {
    qmp: Option<Json<'a>>,
    event: Option<Json<'a>>,
    ret: Option<Json<'a>>,
    error: Option<Json<'a>>,
    execute: Option<Json<'a>>,
    exec_oob: Option<Json<'a>>,
    arguments: Option<Json<'a>>,
    id: Option<Json<'a>>,
    data: Option<Json<'a>>,
    timestamp: Option<Json<'a>>,
}

impl<'a> Keys<'a> {
    fn scan(v: Json<'a>) -> Self {
        let mut k = Keys::default();
        for (key, value) in v.members() {
            // First occurrence wins; QEMU rejects duplicates on input anyway.
            let slot = match key.content() {
                b"QMP" => &mut k.qmp,
                b"event" => &mut k.event,
                b"return" => &mut k.ret,
                b"error" => &mut k.error,
                b"execute" => &mut k.execute,
                b"exec-oob" => &mut k.exec_oob,
                b"arguments" => &mut k.arguments,
                b"id" => &mut k.id,
                b"data" => &mut k.data,
                b"timestamp" => &mut k.timestamp,
                _ if !key.is_plain() => match known_key(key) {
                    Some(i) => k.slot(i),
                    None => continue,
                },
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        k
    }

    fn slot(&mut self, i: usize) -> &mut Option<Json<'a>> {
        match i {
            0 => &mut self.qmp,
            1 => &mut self.event,
            2 => &mut self.ret,
            3 => &mut self.error,
            4 => &mut self.execute,
            5 => &mut self.exec_oob,
            6 => &mut self.arguments,
            7 => &mut self.id,
            8 => &mut self.data,
            _ => &mut self.timestamp,
        }
    }
}

/// Index of an escaped key that spells one of the known names.
fn known_key(key: Str<'_>) -> Option<usize> {
    const NAMES: [&str; 10] = [
        "QMP",
        "event",
        "return",
        "error",
        "execute",
        "exec-oob",
        "arguments",
        "id",
        "data",
        "timestamp",
    ];
    NAMES.iter().position(|n| key.eq_str(n))
}

fn timestamp(v: Json<'_>) -> Option<Timestamp> {
    Some(Timestamp {
        seconds: v.get("seconds")?.as_i64()?,
        microseconds: v.get("microseconds")?.as_i64()?,
    })
}

/// Classify a message by its top-level keys (see the module documentation).
pub fn classify(v: Json<'_>) -> Message<'_> {
    if v.kind() != Kind::Object {
        return Message::Other(v);
    }
    let k = Keys::scan(v);
    if let Some(qmp) = k.qmp {
        return Message::Greeting(Greeting {
            version: qmp.get("version"),
            capabilities: qmp.get("capabilities"),
        });
    }
    if let Some(name) = k.event.and_then(|e| e.as_str()) {
        return Message::Event(Event {
            name,
            data: k.data,
            timestamp: k.timestamp.and_then(timestamp),
        });
    }
    if let Some(value) = k.ret {
        return Message::Return(Return { value, id: k.id });
    }
    if let Some(error) = k.error.filter(|e| e.kind() == Kind::Object) {
        let text = |name| {
            error
                .get(name)
                .and_then(|v| v.as_str())
                .unwrap_or(EMPTY_STR)
        };
        return Message::Error(ErrorReply {
            class: text("class"),
            desc: text("desc"),
            id: k.id,
        });
    }
    if let Some(name) = k.execute.and_then(|n| n.as_str()) {
        return Message::Command(Command {
            name,
            arguments: k.arguments,
            id: k.id,
        });
    }
    if let Some(name) = k.exec_oob.and_then(|n| n.as_str()) {
        return Message::OobCommand(Command {
            name,
            arguments: k.arguments,
            id: k.id,
        });
    }
    Message::Other(v)
}

/// Write a command: `{"execute":NAME,"arguments":ARGS,"id":ID}` (or
/// `exec-oob` when `oob`). `arguments` and `id` are left out when `None`.
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn write_command(
    w: &mut JsonWriter<'_>,
    name: &str,
    arguments: Option<&dyn Encode>,
    id: Option<&dyn Encode>,
    oob: bool,
) -> Result<(), WriteError> {
    w.begin_object()?;
    w.key(if oob { "exec-oob" } else { "execute" })?;
    w.string(name)?;
    if let Some(args) = arguments {
        w.key("arguments")?;
        args.encode(w)?;
    }
    if let Some(id) = id {
        w.key("id")?;
        id.encode(w)?;
    }
    w.end_object()
}

/// Write a successful reply: `{"return":VALUE,"id":ID}`.
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn write_return(
    w: &mut JsonWriter<'_>,
    value: &dyn Encode,
    id: Option<&dyn Encode>,
) -> Result<(), WriteError> {
    w.begin_object()?;
    w.key("return")?;
    value.encode(w)?;
    if let Some(id) = id {
        w.key("id")?;
        id.encode(w)?;
    }
    w.end_object()
}

/// Write an error reply: `{"id":ID,"error":{"class":CLASS,"desc":DESC}}`.
/// `desc` is formatted straight into the output, so a message such as
/// `format_args!("The command {name} has not been found")` needs no buffer.
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn write_error(
    w: &mut JsonWriter<'_>,
    class: &str,
    desc: fmt::Arguments<'_>,
    id: Option<&dyn Encode>,
) -> Result<(), WriteError> {
    w.begin_object()?;
    if let Some(id) = id {
        w.key("id")?;
        id.encode(w)?;
    }
    w.key("error")?;
    w.begin_object()?;
    w.key("class")?;
    w.string(class)?;
    w.key("desc")?;
    w.string_fmt(desc)?;
    w.end_object()?;
    w.end_object()
}

/// Write an event:
/// `{"timestamp":{"seconds":S,"microseconds":U},"event":NAME,"data":DATA}`.
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn write_event(
    w: &mut JsonWriter<'_>,
    name: &str,
    data: Option<&dyn Encode>,
    timestamp: Timestamp,
) -> Result<(), WriteError> {
    w.begin_object()?;
    w.key("timestamp")?;
    w.begin_object()?;
    w.key("seconds")?;
    w.i64(timestamp.seconds)?;
    w.key("microseconds")?;
    w.i64(timestamp.microseconds)?;
    w.end_object()?;
    w.key("event")?;
    w.string(name)?;
    if let Some(data) = data {
        w.key("data")?;
        data.encode(w)?;
    }
    w.end_object()
}

/// QEMU's version triple and package string, as in the greeting and in
/// `query-version`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionRef<'v> {
    /// Major version.
    pub major: u64,
    /// Minor version.
    pub minor: u64,
    /// Micro version.
    pub micro: u64,
    /// Free-form package string (may be empty).
    pub package: &'v str,
}

impl Encode for VersionRef<'_> {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.begin_object()?;
        w.key("qemu")?;
        w.begin_object()?;
        w.key("micro")?;
        w.u64(self.micro)?;
        w.key("minor")?;
        w.u64(self.minor)?;
        w.key("major")?;
        w.u64(self.major)?;
        w.end_object()?;
        w.key("package")?;
        w.string(self.package)?;
        w.end_object()
    }
}

/// Write the QMP greeting:
/// `{"QMP":{"version":{...},"capabilities":[...]}}`.
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn write_greeting(
    w: &mut JsonWriter<'_>,
    version: VersionRef<'_>,
    capabilities: &[&str],
) -> Result<(), WriteError> {
    w.begin_object()?;
    w.key("QMP")?;
    w.begin_object()?;
    w.key("version")?;
    version.encode(w)?;
    w.key("capabilities")?;
    w.begin_array()?;
    for cap in capabilities {
        w.string(cap)?;
    }
    w.end_array()?;
    w.end_object()?;
    w.end_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framer::Config;

    fn msg(s: &str) -> Message<'_> {
        classify(Json::parse_with(s.as_bytes(), Config::QEMU_INPUT).unwrap())
    }

    #[test]
    fn classifies_by_keys_in_any_order() {
        let g = msg(
            r#"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2"}, "capabilities": ["oob"]}}"#,
        );
        let Message::Greeting(g) = g else { panic!() };
        assert_eq!(g.qemu_version(), Some((7, 2, 22)));
        assert!(g.package().unwrap().eq_str("Debian 1:7.2"));
        assert!(g.has_capability("oob"));
        assert!(!g.has_capability("other"));

        let Message::Error(e) = msg(
            r#"{"id": {"k": "v"}, "error": {"class": "CommandNotFound", "desc": "The command x has not been found"}}"#,
        ) else {
            panic!()
        };
        assert!(e.class.eq_str("CommandNotFound"));
        assert_eq!(e.id.unwrap().as_bytes(), br#"{"k": "v"}"#);

        let Message::Event(ev) = msg(
            r#"{"timestamp": {"seconds": 1795307803, "microseconds": 558142}, "event": "STOP"}"#,
        ) else {
            panic!()
        };
        assert!(ev.name.eq_str("STOP"));
        assert_eq!(
            ev.timestamp,
            Some(Timestamp {
                seconds: 1795307803,
                microseconds: 558142
            })
        );
        assert_eq!(ev.data, None);

        let Message::Return(r) = msg(r#"{"return": 1795307929785538000, "id": 5}"#) else {
            panic!()
        };
        assert_eq!(r.value.as_i64(), Some(1795307929785538000));
        assert_eq!(r.id.unwrap().as_i64(), Some(5));

        let Message::Command(c) =
            msg(r#"{'arguments': {'id': 1}, 'execute': 'query-\u0073tatus'}"#)
        else {
            panic!()
        };
        assert!(c.name.eq_str("query-status"));
        assert_eq!(c.arguments.unwrap().get("id").unwrap().as_i64(), Some(1));

        assert_eq!(
            msg(r#"{"exec-oob": "migrate-pause", "id": 42}"#).kind(),
            MessageKind::OobCommand
        );
        assert_eq!(msg("[1,2]").kind(), MessageKind::Other);
        assert_eq!(msg(r#"{"execute": 1}"#).kind(), MessageKind::Other);
        assert_eq!(msg(r#"{"unknown": 1}"#).kind(), MessageKind::Other);
        assert_eq!(msg(r#"{"event": "NEW_IN_QEMU_12", "data": {"x": [1]}, "timestamp": {"seconds": -1, "microseconds": -1}}"#).kind(), MessageKind::Event);
    }

    fn build(f: impl FnOnce(&mut JsonWriter<'_>) -> Result<(), WriteError>) -> std::string::String {
        let mut buf = [0u8; 256];
        let mut w = JsonWriter::new(&mut buf);
        f(&mut w).unwrap();
        std::string::String::from_utf8(w.finish().unwrap().to_vec()).unwrap()
    }

    #[test]
    fn builders_round_trip_through_classify() {
        let id = Json::parse(b"7").unwrap();
        let args = Json::parse(br#"{"id": 123456789}"#).unwrap();
        let cmd =
            build(|w| write_command(w, "guest-sync-delimited", Some(&args), Some(&id), false));
        assert_eq!(
            cmd,
            r#"{"execute":"guest-sync-delimited","arguments":{"id":123456789},"id":7}"#
        );
        assert_eq!(
            build(|w| write_command(w, "stop", None, None, true)),
            r#"{"exec-oob":"stop"}"#
        );
        let ret = build(|w| write_return(w, &crate::json::EmptyObject, Some(&id)));
        assert_eq!(ret, r#"{"return":{},"id":7}"#);
        let err = build(|w| {
            write_error(
                w,
                "CommandNotFound",
                format_args!("The command {} has not been found", "foo"),
                None,
            )
        });
        assert_eq!(
            err,
            r#"{"error":{"class":"CommandNotFound","desc":"The command foo has not been found"}}"#
        );
        let ev = build(|w| {
            write_event(
                w,
                "STOP",
                None,
                Timestamp {
                    seconds: 1,
                    microseconds: 2,
                },
            )
        });
        assert_eq!(
            ev,
            r#"{"timestamp":{"seconds":1,"microseconds":2},"event":"STOP"}"#
        );
        let greet = build(|w| {
            write_greeting(
                w,
                VersionRef {
                    major: 7,
                    minor: 2,
                    micro: 22,
                    package: "qwire",
                },
                &["oob"],
            )
        });
        assert_eq!(
            greet,
            r#"{"QMP":{"version":{"qemu":{"micro":22,"minor":2,"major":7},"package":"qwire"},"capabilities":["oob"]}}"#
        );
        let Message::Greeting(g) = classify(Json::parse(greet.as_bytes()).unwrap()) else {
            panic!()
        };
        assert_eq!(g.qemu_version(), Some((7, 2, 22)));
    }
}
