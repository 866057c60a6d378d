//! Decode errors: what went wrong, and where, worded the way QEMU words it.
//!
//! A [`DecodeError`] is small and `Copy`. Its path is built while the error
//! travels outwards through the decoders (innermost segment first) and is
//! read outermost first. It holds at most [`MAX_PATH`] segments; deeper
//! paths keep the innermost ones and print a leading `...`.

use core::fmt;

use crate::json::{Json, Str};

/// Most path segments a [`DecodeError`] keeps. The seed schemas nest at most
/// 6 deep (`PciInfo` → `devices[i]` → `pci_bridge` → `bus` → `io_range` →
/// `base`).
pub const MAX_PATH: usize = 7;

/// Why a value could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecodeErrorKind {
    /// A required member is absent: `Parameter 'id' is missing`.
    Missing,
    /// A member the type does not have (strict mode only):
    /// `Parameter 'bogus' is unexpected`.
    Unexpected,
    /// A member appears twice in one object (strict mode only).
    Duplicate,
    /// The JSON type is wrong; the name is what was expected (`integer`,
    /// `number`, `string`, `boolean`, `object`, `array`, `null`, or the
    /// name of an alternate):
    /// `Invalid parameter type for 'id', expected: integer`.
    WrongType(&'static str),
    /// An integer outside its type's range; the name is the QAPI type
    /// (`int8` … `int32`, `uint8` … `uint64`, `size`):
    /// `Parameter 'x' expects int8`.
    OutOfRange(&'static str),
    /// A string that is not one of the enum's values (strict mode, or a
    /// union discriminator): `Parameter 'x' does not accept value 'v'`.
    BadEnum,
    /// A string longer than its capacity, in bytes of UTF-8.
    StringTooLong {
        /// The capacity in bytes.
        capacity: usize,
    },
    /// A list with more elements than its capacity.
    TooManyElements {
        /// The capacity in elements.
        capacity: usize,
    },
    /// An `any` value (or a cycle-breaking member) whose normalised JSON
    /// text is longer than its capacity.
    RawTooLong {
        /// The capacity in bytes.
        capacity: usize,
    },
}

/// One step of a [`DecodeError`]'s path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Segment<'a> {
    /// A member named by the schema.
    Member(&'static &'static str),
    /// A member named by the input (an unexpected or duplicate key).
    Key(Str<'a>),
    /// A list element.
    Index(usize),
}

/// Why a value could not be decoded, and where. See the module docs.
///
/// Kept under 128 bytes on 64-bit targets (it travels in every `Result` of
/// the decoders): member names are stored as thin pointers to the schema's
/// static names, indices as `u16` (larger indices saturate), and an
/// unexpected or duplicate key is the error's value rather than a path
/// segment of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError<'a> {
    kind: DecodeErrorKind,
    value: Option<Json<'a>>,
    /// Innermost first; `len` of them are meaningful. `None` marks a list
    /// index, kept at the same position in `indices`.
    names: [Option<&'static &'static str>; MAX_PATH],
    indices: [u16; MAX_PATH],
    len: u8,
    truncated: bool,
}

impl<'a> DecodeError<'a> {
    /// An error of `kind` at the value itself (empty path).
    pub const fn new(kind: DecodeErrorKind) -> Self {
        DecodeError {
            kind,
            value: None,
            names: [None; MAX_PATH],
            indices: [0; MAX_PATH],
            len: 0,
            truncated: false,
        }
    }

    /// Attach the offending value.
    pub const fn with_value(mut self, value: Json<'a>) -> Self {
        self.value = Some(value);
        self
    }

    /// An [`DecodeErrorKind::Unexpected`] or [`DecodeErrorKind::Duplicate`]
    /// error for the input member `key`; the key is the last path segment.
    pub(crate) fn at_key(kind: DecodeErrorKind, key: Str<'a>) -> Self {
        DecodeError::new(kind).with_value(Json::from_validated(key.raw()))
    }

    fn push(mut self, name: Option<&'static &'static str>, index: u16) -> Self {
        let at = usize::from(self.len);
        match (self.names.get_mut(at), self.indices.get_mut(at)) {
            (Some(n), Some(i)) => {
                *n = name;
                *i = index;
                self.len += 1;
            }
            _ => self.truncated = true,
        }
        self
    }

    /// Prefix the path with a schema member name (decoders call this as the
    /// error passes outwards). `name` points at the schema's static name,
    /// e.g. `&"id"`.
    #[must_use]
    pub fn in_member(self, name: &'static &'static str) -> Self {
        self.push(Some(name), 0)
    }

    /// Prefix the path with a list index.
    #[must_use]
    pub fn in_element(self, index: usize) -> Self {
        self.push(None, u16::try_from(index).unwrap_or(u16::MAX))
    }

    /// What went wrong.
    pub const fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// The offending value, when there is one (wrong type, out of range,
    /// bad enum value, over capacity; the key, as a JSON string, for an
    /// unexpected or duplicate member).
    pub const fn value(&self) -> Option<Json<'a>> {
        self.value
    }

    fn is_key_error(&self) -> bool {
        matches!(
            self.kind,
            DecodeErrorKind::Unexpected | DecodeErrorKind::Duplicate
        )
    }

    /// The path, outermost segment first.
    pub fn path(&self) -> impl Iterator<Item = Segment<'a>> + '_ {
        let len = usize::from(self.len);
        let stored = (0..len).rev().map(move |i| {
            match (self.names.get(i).copied().flatten(), self.indices.get(i)) {
                (Some(name), _) => Segment::Member(name),
                (None, Some(&index)) => Segment::Index(usize::from(index)),
                (None, None) => Segment::Index(0),
            }
        });
        let key = if self.is_key_error() {
            self.value.and_then(|v| v.as_str()).map(Segment::Key)
        } else {
            None
        };
        stored.chain(key)
    }

    /// Segments were dropped from the outer end of the path (it was deeper
    /// than [`MAX_PATH`]).
    pub const fn is_path_truncated(&self) -> bool {
        self.truncated
    }

    /// The path written like QEMU writes it (`a.b`, `list[2].c`); the empty
    /// path (the value itself) is written `<anonymous>`.
    pub fn path_display(&self) -> PathDisplay<'_, 'a> {
        PathDisplay(self)
    }

    /// The QMP error class a server answers with: always `GenericError`.
    pub const fn class(&self) -> &'static str {
        "GenericError"
    }
}

/// Formats a [`DecodeError`]'s path; see [`DecodeError::path_display`].
#[derive(Clone, Copy, Debug)]
pub struct PathDisplay<'e, 'a>(&'e DecodeError<'a>);

impl fmt::Display for PathDisplay<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        if e.path().next().is_none() {
            return f.write_str("<anonymous>");
        }
        if e.truncated {
            f.write_str("...")?;
        }
        for (i, segment) in e.path().enumerate() {
            match segment {
                Segment::Member(name) => {
                    if i > 0 || e.truncated {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                Segment::Key(key) => {
                    if i > 0 || e.truncated {
                        f.write_str(".")?;
                    }
                    fmt::Display::fmt(&key, f)?;
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for DecodeError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path_display();
        match self.kind {
            DecodeErrorKind::Missing => write!(f, "Parameter '{path}' is missing"),
            DecodeErrorKind::Unexpected => write!(f, "Parameter '{path}' is unexpected"),
            DecodeErrorKind::Duplicate => write!(f, "Parameter '{path}' appears more than once"),
            DecodeErrorKind::WrongType(t) => {
                write!(f, "Invalid parameter type for '{path}', expected: {t}")
            }
            DecodeErrorKind::OutOfRange(t) => write!(f, "Parameter '{path}' expects {t}"),
            DecodeErrorKind::BadEnum => {
                write!(f, "Parameter '{path}' does not accept value '")?;
                if let Some(s) = self.value.and_then(|v| v.as_str()) {
                    fmt::Display::fmt(&s, f)?;
                }
                f.write_str("'")
            }
            DecodeErrorKind::StringTooLong { capacity } => {
                write!(f, "Parameter '{path}' is longer than {capacity} bytes")
            }
            DecodeErrorKind::TooManyElements { capacity } => {
                write!(
                    f,
                    "Parameter '{path}' has more than {capacity} list elements"
                )
            }
            DecodeErrorKind::RawTooLong { capacity } => {
                write!(f, "Parameter '{path}' does not fit in {capacity} bytes")
            }
        }
    }
}
