//! Layer 4: fixed-capacity typed codecs for QAPI types.
//!
//! `tools/qapi-gen` turns a QAPI schema into Rust types
//! ([`qmp::schema`](crate::qmp::schema), [`qga::schema`](crate::qga::schema))
//! that decode from a [`Json`] span and encode into a [`JsonWriter`]. This
//! module is the runtime they share: the [`Decode`] trait, the errors, the
//! [`Command`] and [`Event`] traits that tie a wire name to its types, and
//! the helpers generated code calls.
//!
//! # How QAPI maps to Rust
//!
//! * `struct` (and the old `type`) → a Rust struct; optional members
//!   (`*name`) are `Option`, absent ones are not written.
//! * `enum` → a Rust enum with an extra `Unknown(heapless::String<N>)`
//!   variant: enums from a peer are **open**, so a value from a newer QEMU
//!   decodes (in [`Mode::Lenient`]) instead of failing the whole message.
//! * flat `union` → a struct with the base members and a `variant` enum with
//!   one variant per discriminator value; simple `union` → an enum;
//!   `alternate` → an enum chosen by the JSON type of the value.
//! * `str` → [`heapless::String<N>`], lists → [`heapless::Vec<T, N>`],
//!   `any` → [`RawJson<N>`]; the other built-ins are listed in
//!   the `scalar` module's table. The capacities `N` come from
//!   `tools/qapi-gen/capacities.toml`; a value over capacity is a decode
//!   error, never truncated.
//! * A type cycle (QMP's `PciDeviceInfo` → `PciBridgeInfo` → `devices:
//!   ['PciDeviceInfo']`) cannot be sized, so the generator breaks each cycle
//!   at one member, which becomes a [`RawJson<N>`] holding that member's
//!   JSON text; decode it on demand with `Vec::<PciDeviceInfo, K>::decode(raw.as_json(), mode)`.
//!   The member chosen is the first edge that closes a cycle in a
//!   depth-first walk from the commands' types (docs/CODECS.md).
//!
//! # Example
//!
//! ```
//! use qwire::codec::{self, Command as _, Decode, Mode};
//! use qwire::envelope::{classify, Message};
//! use qwire::json::{Json, JsonWriter};
//! use qwire::qga::schema::{self as qga, GuestAgentInfo, GuestSyncDelimited, GuestSyncDelimitedArgs};
//!
//! // A client encodes a request...
//! let mut buf = [0u8; 128];
//! let mut w = JsonWriter::new(&mut buf);
//! codec::write_request::<GuestSyncDelimited>(&mut w, &GuestSyncDelimitedArgs { id: 42 }, None).unwrap();
//! assert_eq!(w.finish().unwrap(), br#"{"execute":"guest-sync-delimited","arguments":{"id":42}}"#);
//!
//! // ...and decodes a reply leniently (newer agents add members).
//! let reply = Json::parse(br#"{"return": {"version": "7.2.22", "supported_commands":
//!     [{"enabled": true, "name": "guest-ping", "success-response": true, "new": 1}]}}"#).unwrap();
//! let Message::Return(r) = classify(reply) else { unreachable!() };
//! let info = GuestAgentInfo::decode(r.value, Mode::Lenient).unwrap();
//! assert_eq!(info.version.as_str(), "7.2.22");
//! assert_eq!(info.supported_commands[0].name.as_str(), "guest-ping");
//!
//! // An agent decodes a request strictly, and answers errors in QEMU's words.
//! let request = Json::parse(br#"{"execute": "guest-sync", "arguments": {"id": "x"}}"#).unwrap();
//! let Message::Command(c) = classify(request) else { unreachable!() };
//! let err = qga::decode_request(c.name, c.arguments, Mode::Strict).unwrap_err();
//! assert_eq!(err.to_string(), "Invalid parameter type for 'id', expected: integer");
//! let request = Json::parse(br#"{"execute": "guest-sync", "arguments": {"id": 7}}"#).unwrap();
//! let Message::Command(c) = classify(request) else { unreachable!() };
//! match qga::decode_request(c.name, c.arguments, Mode::Strict) {
//!     Ok(qga::Request::GuestSync(args)) => assert_eq!(args.id, 7),
//!     other => panic!("{other:?}"),
//! }
//! ```
//!
//! # Contract
//!
//! * No allocation and no panic on any input. Decoding recurses only as deep
//!   as the Rust type (never on the input's nesting: `any` values are copied
//!   iteratively and unknown members are skipped by scanning).
//! * [`Decode::decode_into`] overwrites a value in place, so large values
//!   can live in static memory; after an error the value's content is
//!   unspecified (but valid).
//! * [`Mode::Strict`] decodes request arguments the way QEMU does and
//!   [`DecodeError`]'s `Display` is QEMU's message for each failure
//!   (protocol.md §3.4), so a server or agent can answer with it verbatim.
//! * Strings decode with every escape, surrogate pairs included, and encode
//!   as pure ASCII.
//!
//! # Why not serde
//!
//! serde-json-core cannot decode surrogate pairs, has no alloc-free
//! derive for flat unions or alternates (serde's tagged and untagged
//! derives need `alloc` to buffer), fails whole messages on unknown enum
//! values, and panics on some types (reference/landscape.md §3). The
//! generator writes plain code against this runtime instead: a flat union
//! finds its discriminator first, then reads the base and branch members
//! from the same object span.
//!
//! # Dependencies
//!
//! [`heapless`] 0.9 (`default-features = false`) for the fixed-capacity
//! `String` and `Vec`: well known, `no_std`, no allocation, capacity in the
//! type and fallible growth, which is exactly the contract here.

mod error;
mod list;
mod object;
mod raw;
mod scalar;

use core::fmt;

pub use error::{DecodeError, DecodeErrorKind, PathDisplay, Segment, MAX_PATH};
pub use heapless::{String, Vec};
pub use object::{
    check_members, decode_args, decode_enum, decode_fields, decode_in, decode_object,
    encode_object, enum_index, expect_object, find_member, member, optional, optional_member,
    required, simple_union, Field, Object, EMPTY_OBJECT,
};
pub use raw::RawJson;
pub use scalar::{int64, uint64, Null, Size};

use crate::envelope::write_command;
use crate::json::{Encode, Json, JsonWriter, Str, WriteError};

/// How forgiving decoding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Decoding a peer's replies and events: unknown members are ignored,
    /// unknown enum values are kept as text, the first of duplicate members
    /// wins.
    Lenient,
    /// A server or agent decoding request arguments the way QEMU does:
    /// unknown member, unknown enum value and duplicate member are errors.
    Strict,
}

/// A type that decodes from one JSON value.
pub trait Decode {
    /// Decode `v` into `self`, replacing its whole content in place (so
    /// large values can live in static memory).
    ///
    /// # Errors
    ///
    /// [`DecodeError`] says what and where; `self` is then unspecified.
    fn decode_into<'a>(&mut self, v: Json<'a>, mode: Mode) -> Result<(), DecodeError<'a>>;

    /// Decode `v` into a new value.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] says what and where.
    fn decode<'a>(v: Json<'a>, mode: Mode) -> Result<Self, DecodeError<'a>>
    where
        Self: Default + Sized,
    {
        let mut value = Self::default();
        value.decode_into(v, mode)?;
        Ok(value)
    }
}

/// A command: its wire name, argument and return types and flags. One
/// zero-sized marker type per command is generated, e.g.
/// [`qga::schema::GuestSyncDelimited`](crate::qga::schema::GuestSyncDelimited).
pub trait Command {
    /// The exact wire name.
    const NAME: &'static str;
    /// The arguments ([`NoArgs`] when the command takes none).
    type Args: Decode + Encode + Default;
    /// The return value ([`Empty`] when the command returns nothing).
    type Returns: Decode + Encode + Default;
    /// The command has `data` in the schema (`arguments` is written).
    const HAS_ARGS: bool;
    /// A successful call gets a reply (`false` for `guest-shutdown` and the
    /// `guest-suspend-*` commands).
    const SUCCESS_RESPONSE: bool;
    /// May be sent with `exec-oob`.
    const ALLOW_OOB: bool;
}

/// An event: its wire name and data type.
pub trait Event {
    /// The exact wire name.
    const NAME: &'static str;
    /// The `data` member ([`Empty`] when the event has none).
    type Data: Decode + Encode + Default;
    /// The event has `data` in the schema.
    const HAS_DATA: bool;
}

/// Decode a command's return value (the `return` member of a reply).
///
/// # Errors
///
/// [`DecodeError`] says what and where.
pub fn decode_return<C: Command>(v: Json<'_>, mode: Mode) -> Result<C::Returns, DecodeError<'_>> {
    C::Returns::decode(v, mode)
}

/// Receives every generated type of a schema from its `visit_types`
/// function, with the type's QAPI name: a way for tests and fuzzers to reach
/// every type without listing them.
pub trait TypeVisitor {
    /// Called once per type.
    fn visit<T: Decode + Encode + Default + fmt::Debug + 'static>(&mut self, name: &'static str);
}

/// One row of a schema's `COMMANDS` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CommandInfo {
    /// The exact wire name.
    pub name: &'static str,
    /// See [`Command::SUCCESS_RESPONSE`].
    pub success_response: bool,
    /// See [`Command::ALLOW_OOB`].
    pub allow_oob: bool,
    /// See [`Command::HAS_ARGS`].
    pub has_args: bool,
}

/// Index of the command called `name` in `table`.
pub fn command_index(name: Str<'_>, table: &[CommandInfo]) -> Option<usize> {
    table.iter().position(|c| name.eq_str(c.name))
}

/// Write `{"execute":NAME,"arguments":{...},"id":ID}`; `arguments` is left
/// out when the command takes none, `id` when `None`.
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn write_request<C: Command>(
    w: &mut JsonWriter<'_>,
    args: &C::Args,
    id: Option<&dyn Encode>,
) -> Result<(), WriteError> {
    let arguments: Option<&dyn Encode> = if C::HAS_ARGS { Some(args) } else { None };
    write_command(w, C::NAME, arguments, id, false)
}

/// [`write_request`] as an out-of-band command (`exec-oob`).
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn write_request_oob<C: Command>(
    w: &mut JsonWriter<'_>,
    args: &C::Args,
    id: Option<&dyn Encode>,
) -> Result<(), WriteError> {
    let arguments: Option<&dyn Encode> = if C::HAS_ARGS { Some(args) } else { None };
    write_command(w, C::NAME, arguments, id, true)
}

/// Why a schema's `decode_request` failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestError<'a> {
    /// No command of that name in the schema.
    UnknownCommand(Str<'a>),
    /// The arguments did not decode.
    Arguments(DecodeError<'a>),
}

impl RequestError<'_> {
    /// The QMP error class a server answers with (`CommandNotFound` or
    /// `GenericError`).
    pub const fn class(&self) -> &'static str {
        match self {
            RequestError::UnknownCommand(_) => "CommandNotFound",
            RequestError::Arguments(_) => "GenericError",
        }
    }
}

impl<'a> From<DecodeError<'a>> for RequestError<'a> {
    fn from(e: DecodeError<'a>) -> Self {
        RequestError::Arguments(e)
    }
}

impl fmt::Display for RequestError<'_> {
    /// QEMU's `desc` for the error.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::UnknownCommand(name) => {
                write!(f, "The command {name} has not been found")
            }
            RequestError::Arguments(e) => e.fmt(f),
        }
    }
}

macro_rules! empty_object_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl Decode for $name {
            fn decode_into<'a>(&mut self, v: Json<'a>, mode: Mode) -> Result<(), DecodeError<'a>> {
                expect_object(v)?;
                check_members(v, mode, &[])
            }
        }

        impl Encode for $name {
            fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
                w.begin_object()?;
                w.end_object()
            }
        }
    };
}

empty_object_type!(
    /// The arguments of a command that takes none: encodes as `{}`; in
    /// strict mode any member is unexpected.
    NoArgs
);

empty_object_type!(
    /// The return value of a command that returns nothing (`{}`), and the
    /// data of an event that has none. Members are ignored in lenient mode.
    Empty
);
