//! The runtime behind generated structs, unions and enums.
//!
//! Generated code stays small by describing each object type as a table of
//! [`Field`]s plus one `match` that routes a member to its Rust field
//! ([`Object`]); the walking, checking and error paths live here once.
//!
//! # Decoding an object
//!
//! 1. Not an object: `expected: object`.
//! 2. Members are decoded in one walk over the object (the first occurrence
//!    of a key wins), and the outcome is settled in **schema order**, as
//!    QEMU's input visitor reports it: the first field that is missing or
//!    failed is the error, its member name prefixed to its path. An absent
//!    required member is [`DecodeErrorKind::Missing`]; an absent optional
//!    one becomes `None`.
//! 3. Strict mode only, afterwards: the first member whose key the type does
//!    not have is [`DecodeErrorKind::Unexpected`], and a known key given
//!    twice is [`DecodeErrorKind::Duplicate`]. Lenient mode ignores unknown
//!    members and takes the first of duplicates.
//!
//! A flat union decodes its base members (the discriminator among them, which
//! picks the branch), then the branch's members from the same object, then
//! checks unknown keys against both tables. Nothing is buffered.

use super::{Decode, DecodeError, DecodeErrorKind, Mode};
use crate::json::{Encode, Json, JsonWriter, Kind, Str, WriteError};

/// One member of an object type, as the schema names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    /// The exact wire name.
    pub name: &'static str,
    /// Declared `*name` in the schema.
    pub optional: bool,
}

impl Field {
    /// A required member.
    pub const fn required(name: &'static str) -> Field {
        Field {
            name,
            optional: false,
        }
    }

    /// An optional member.
    pub const fn optional(name: &'static str) -> Field {
        Field {
            name,
            optional: true,
        }
    }
}

/// A generated type that is a JSON object with named members.
pub trait Object: Default {
    /// The members in schema order.
    const FIELDS: &'static [Field];

    /// Decode member `index` of [`Object::FIELDS`] from `value` (`None`:
    /// absent, only ever for optional members).
    ///
    /// # Errors
    ///
    /// The member's [`DecodeError`], path relative to the member.
    fn decode_field<'a>(
        &mut self,
        index: usize,
        value: Option<Json<'a>>,
        mode: Mode,
    ) -> Result<(), DecodeError<'a>>;

    /// Write the members (not the braces), absent optional ones left out.
    ///
    /// # Errors
    ///
    /// [`WriteError`] from the writer.
    fn encode_fields(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError>;
}

/// `expected: object` unless `v` is an object.
///
/// # Errors
///
/// [`DecodeErrorKind::WrongType`]`("object")`.
pub fn expect_object(v: Json<'_>) -> Result<(), DecodeError<'_>> {
    match v.kind() {
        Kind::Object => Ok(()),
        _ => Err(DecodeError::new(DecodeErrorKind::WrongType("object")).with_value(v)),
    }
}

/// The first member of `v` named `name`.
pub fn find_member<'a>(v: Json<'a>, name: &str) -> Option<Json<'a>> {
    v.members().find(|(k, _)| k.eq_str(name)).map(|(_, m)| m)
}

/// Step 2 of the module docs for one table of fields: find each in `v` and
/// hand it to `decode` with its index.
///
/// One walk over the members decodes each field where it stands (the first
/// occurrence of a key wins), so no value is skipped over more than once;
/// the outcome is then settled in schema order, as QEMU's visitor reports
/// it: the first field (by schema order) that is missing or failed to decode
/// is the error. Only fields before the first failure keep being decoded.
///
/// # Errors
///
/// The first failure in schema order, its path prefixed with the member.
pub fn decode_fields<'a>(
    v: Json<'a>,
    fields: &'static [Field],
    decode: &mut dyn FnMut(usize, Option<Json<'a>>) -> Result<(), DecodeError<'a>>,
) -> Result<(), DecodeError<'a>> {
    if fields.len() > SEEN_BITS {
        return decode_fields_by_lookup(v, fields, decode);
    }
    let mut seen = 0u128;
    // (index, error) of the failure earliest in schema order so far.
    let mut failed: Option<(usize, DecodeError<'a>)> = None;
    for (key, value) in v.members() {
        let Some(index) = fields.iter().position(|f| key.eq_str(f.name)) else {
            continue;
        };
        let bit = 1u128 << index;
        if seen & bit != 0 {
            continue;
        }
        seen |= bit;
        if failed.as_ref().is_some_and(|(first, _)| *first < index) {
            continue;
        }
        if let Err(e) = decode(index, Some(value)) {
            let name = fields.get(index).map_or(&"", |f| &f.name);
            failed = Some((index, e.in_member(name)));
        }
    }
    let failed_at = failed.as_ref().map(|(index, _)| *index);
    for (index, field) in fields.iter().enumerate() {
        if failed_at == Some(index) {
            break;
        }
        if seen & (1u128 << index) == 0 {
            if field.optional {
                decode(index, None)?;
            } else {
                return Err(DecodeError::new(DecodeErrorKind::Missing).in_member(&field.name));
            }
        }
    }
    match failed {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// Fields one walk can track (one bit each); larger tables, which no seed
/// type has, fall back to a lookup per field.
const SEEN_BITS: usize = 128;

/// [`decode_fields`] for tables too large for its bit set: one lookup per
/// field, in schema order.
fn decode_fields_by_lookup<'a>(
    v: Json<'a>,
    fields: &'static [Field],
    decode: &mut dyn FnMut(usize, Option<Json<'a>>) -> Result<(), DecodeError<'a>>,
) -> Result<(), DecodeError<'a>> {
    for (index, field) in fields.iter().enumerate() {
        match find_member(v, field.name) {
            Some(m) => decode(index, Some(m)).map_err(|e| e.in_member(&field.name))?,
            None if field.optional => decode(index, None)?,
            None => return Err(DecodeError::new(DecodeErrorKind::Missing).in_member(&field.name)),
        }
    }
    Ok(())
}

/// Step 3 of the module docs: in strict mode, reject keys found in none of
/// `tables` and known keys given twice. Does nothing in lenient mode.
///
/// # Errors
///
/// [`DecodeErrorKind::Unexpected`] or [`DecodeErrorKind::Duplicate`], the
/// path being the key.
pub fn check_members<'a>(
    v: Json<'a>,
    mode: Mode,
    tables: &[&[Field]],
) -> Result<(), DecodeError<'a>> {
    if mode == Mode::Lenient {
        return Ok(());
    }
    // One bit per known field, over all tables; tables of more than 128
    // fields in total go unchecked for duplicates past that (the generator
    // refuses such types anyway).
    let mut seen = 0u128;
    for (key, _) in v.members() {
        let mut position = 0usize;
        let mut found = None;
        for table in tables {
            if let Some(i) = table.iter().position(|f| key.eq_str(f.name)) {
                found = Some(position + i);
                break;
            }
            position += table.len();
        }
        let key_error = |kind| DecodeError::at_key(kind, key);
        match found {
            None => return Err(key_error(DecodeErrorKind::Unexpected)),
            Some(bit) if bit < 128 => {
                if seen & (1u128 << bit) != 0 {
                    return Err(key_error(DecodeErrorKind::Duplicate));
                }
                seen |= 1u128 << bit;
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Decode a whole struct: the three steps of the module docs.
///
/// # Errors
///
/// See the module docs.
pub fn decode_object<'a, T: Object>(
    dst: &mut T,
    v: Json<'a>,
    mode: Mode,
) -> Result<(), DecodeError<'a>> {
    expect_object(v)?;
    decode_fields(v, T::FIELDS, &mut |i, m| dst.decode_field(i, m, mode))?;
    check_members(v, mode, &[T::FIELDS])
}

/// Write a whole struct: `{`, its members, `}`.
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn encode_object<T: Object>(src: &T, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
    w.begin_object()?;
    src.encode_fields(w)?;
    w.end_object()
}

/// Decode a required member (`value` is always `Some` for those).
///
/// # Errors
///
/// The member's [`DecodeError`].
pub fn required<'a, T: Decode>(
    dst: &mut T,
    value: Option<Json<'a>>,
    mode: Mode,
) -> Result<(), DecodeError<'a>> {
    match value {
        Some(v) => dst.decode_into(v, mode),
        None => Ok(()),
    }
}

/// Decode an optional member: absent is `None`.
///
/// # Errors
///
/// The member's [`DecodeError`].
pub fn optional<'a, T: Decode + Default>(
    dst: &mut Option<T>,
    value: Option<Json<'a>>,
    mode: Mode,
) -> Result<(), DecodeError<'a>> {
    match value {
        Some(v) => dst.get_or_insert_with(T::default).decode_into(v, mode),
        None => {
            *dst = None;
            Ok(())
        }
    }
}

/// Write `"name":value`.
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn member<T: Encode + ?Sized>(
    w: &mut JsonWriter<'_>,
    name: &str,
    value: &T,
) -> Result<(), WriteError> {
    w.key(name)?;
    value.encode(w)
}

/// Write `"name":value` if the member is present.
///
/// # Errors
///
/// [`WriteError`] from the writer.
pub fn optional_member<T: Encode>(
    w: &mut JsonWriter<'_>,
    name: &str,
    value: &Option<T>,
) -> Result<(), WriteError> {
    match value {
        Some(v) => member(w, name, v),
        None => Ok(()),
    }
}

/// Look a string up in an enum's value names: `Ok(Ok(index))` for a known
/// value, `Ok(Err(text))` for an unknown one in lenient mode.
///
/// # Errors
///
/// `expected: string` for a non-string; [`DecodeErrorKind::BadEnum`] for an
/// unknown value in strict mode.
pub fn enum_index<'a>(
    v: Json<'a>,
    mode: Mode,
    names: &[&str],
) -> Result<Result<usize, Str<'a>>, DecodeError<'a>> {
    let s = v
        .as_str()
        .ok_or_else(|| DecodeError::new(DecodeErrorKind::WrongType("string")).with_value(v))?;
    match names.iter().position(|n| s.eq_str(n)) {
        Some(i) => Ok(Ok(i)),
        None if mode == Mode::Lenient => Ok(Err(s)),
        None => Err(DecodeError::new(DecodeErrorKind::BadEnum).with_value(v)),
    }
}

/// Decode an open enum: a known value through `known`, an unknown one (in
/// lenient mode) kept as text through `unknown`.
///
/// # Errors
///
/// As [`enum_index`], and [`DecodeErrorKind::StringTooLong`] for unknown
/// text over `N` bytes.
pub fn decode_enum<'a, T, const N: usize>(
    dst: &mut T,
    v: Json<'a>,
    mode: Mode,
    names: &[&str],
    known: fn(usize) -> Option<T>,
    unknown: fn(heapless::String<N>) -> T,
) -> Result<(), DecodeError<'a>> {
    if let Ok(i) = enum_index(v, mode, names)? {
        if let Some(value) = known(i) {
            *dst = value;
            return Ok(());
        }
    }
    let mut text = heapless::String::<N>::new();
    text.decode_into(v, mode)?;
    *dst = unknown(text);
    Ok(())
}

/// Decode `v` as a new `T`, a failure's path prefixed with `name`.
///
/// # Errors
///
/// `T`'s [`DecodeError`], inside `name`.
pub fn decode_in<'a, T: Decode + Default>(
    v: Json<'a>,
    mode: Mode,
    name: &'static &'static str,
) -> Result<T, DecodeError<'a>> {
    T::decode(v, mode).map_err(|e| e.in_member(name))
}

const SIMPLE_UNION_FIELDS: &[Field] = &[Field::required("type"), Field::required("data")];

/// The parts of a simple union, `{"type": BRANCH, "data": VALUE}`: the
/// branch's index in `names` (`None` for an unknown branch in lenient mode),
/// the `type` value and the `data` value.
///
/// # Errors
///
/// Not an object, `type` or `data` missing, `type` not a string or (strict
/// mode) not a branch name, other members (strict mode).
pub fn simple_union<'a>(
    v: Json<'a>,
    mode: Mode,
    names: &[&str],
) -> Result<(Option<usize>, Json<'a>, Json<'a>), DecodeError<'a>> {
    expect_object(v)?;
    let mut parts = [EMPTY_OBJECT; 2];
    decode_fields(v, SIMPLE_UNION_FIELDS, &mut |i, m| {
        if let (Some(slot), Some(m)) = (parts.get_mut(i), m) {
            *slot = m;
        }
        Ok(())
    })?;
    let [tag, data] = parts;
    let index = enum_index(tag, mode, names)
        .map_err(|e| e.in_member(&"type"))?
        .ok();
    check_members(v, mode, &[SIMPLE_UNION_FIELDS])?;
    Ok((index, tag, data))
}

/// The `{}` the decoders start from when a command has no `arguments`.
pub const EMPTY_OBJECT: Json<'static> = Json::from_validated(b"{}");

/// Decode command arguments; absent `arguments` decode like `{}`, so a
/// command with required members reports the first as missing.
///
/// # Errors
///
/// The arguments' [`DecodeError`].
pub fn decode_args<'a, T: Decode + Default>(
    arguments: Option<Json<'a>>,
    mode: Mode,
) -> Result<T, DecodeError<'a>> {
    T::decode(arguments.unwrap_or(EMPTY_OBJECT), mode)
}

#[cfg(test)]
mod tests {
    use crate::codec::{decode_args, Mode};
    use crate::json::Json;
    use crate::qga::schema::{GuestFileWriteArgs, GuestSyncArgs};
    use std::string::ToString;

    fn err(args: &str) -> std::string::String {
        let v = Json::parse(args.as_bytes()).unwrap();
        decode_args::<GuestFileWriteArgs>(Some(v), Mode::Strict)
            .unwrap_err()
            .to_string()
    }

    /// Members are decoded in wire order, but the error reported is the one
    /// QEMU's visitor meets first in schema order (handle, buf-b64, count).
    #[test]
    fn errors_come_in_schema_order_whatever_the_wire_order() {
        assert_eq!(err(r#"{"buf-b64": 5}"#), "Parameter 'handle' is missing");
        assert_eq!(
            err(r#"{"buf-b64": 5, "handle": "x"}"#),
            "Invalid parameter type for 'handle', expected: integer"
        );
        assert_eq!(
            err(r#"{"count": "n", "buf-b64": 5, "handle": 1}"#),
            "Invalid parameter type for 'buf-b64', expected: string"
        );
        assert_eq!(
            err(r#"{"handle": 1, "buf-b64": "", "count": "n", "zz": 0}"#),
            "Invalid parameter type for 'count', expected: integer"
        );
        assert_eq!(
            err(r#"{"handle": 1, "buf-b64": "", "zz": 0}"#),
            "Parameter 'zz' is unexpected"
        );
    }

    #[test]
    fn first_of_duplicate_members_wins_when_lenient() {
        let v = Json::parse(br#"{"id": 1, "id": 2}"#).unwrap();
        let args = decode_args::<GuestSyncArgs>(Some(v), Mode::Lenient).unwrap();
        assert_eq!(args.id, 1);
        assert!(decode_args::<GuestSyncArgs>(Some(v), Mode::Strict).is_err());
    }
}
