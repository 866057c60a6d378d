//! Capacities: how many bytes each string, `any` value and cycle-breaking
//! member holds, and how many elements each list.
//!
//! They come from a TOML file with one table per schema section
//! (`[qmp]`, `[qga]`, ...):
//!
//! ```toml
//! [qga.defaults]
//! string = 64        # bytes per `str`
//! list = 16          # elements per list
//! any = 256          # bytes of normalised JSON per `any`
//! enum_unknown = 32  # bytes kept for an enum value this schema does not know
//! cycle = 1024       # bytes of JSON for a member that breaks a type cycle
//!
//! [qga.types.GuestFilesystemInfo]   # defaults for every member of one type
//! string = 256
//!
//! [qga.members]                     # one member: "Owner.member"
//! "GuestFileRead.buf-b64" = { string = 8192 }
//! "guest-info.returns" = { list = 4 }   # a command's return value
//! "guest-file-open.path" = { string = 4096 }  # an inline argument
//! ```
//!
//! The most specific setting wins: member, then type, then defaults. For an
//! enum, `[SECTION.types.EnumName] enum_unknown = N` sets its unknown-value
//! capacity. Every key must name something in the schema, so a stale entry
//! is an error rather than silently ignored.

use std::collections::BTreeMap;

use crate::Error;

/// The capacity settings that can appear in one table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    /// Bytes per string.
    pub string: Option<usize>,
    /// Elements per list.
    pub list: Option<usize>,
    /// Bytes per `any`.
    pub any: Option<usize>,
    /// Bytes per unknown enum value.
    pub enum_unknown: Option<usize>,
    /// Bytes per cycle-breaking member.
    pub cycle: Option<usize>,
}

impl Caps {
    fn or(self, other: Caps) -> Caps {
        Caps {
            string: self.string.or(other.string),
            list: self.list.or(other.list),
            any: self.any.or(other.any),
            enum_unknown: self.enum_unknown.or(other.enum_unknown),
            cycle: self.cycle.or(other.cycle),
        }
    }
}

/// Fully resolved capacities for one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// Bytes per string.
    pub string: usize,
    /// Elements per list.
    pub list: usize,
    /// Bytes per `any`.
    pub any: usize,
    /// Bytes per unknown enum value.
    pub enum_unknown: usize,
    /// Bytes per cycle-breaking member.
    pub cycle: usize,
}

/// The capacities of one schema section.
#[derive(Clone, Debug)]
pub struct Capacities {
    /// Where they came from, for messages.
    pub source: String,
    defaults: Resolved,
    types: BTreeMap<String, Caps>,
    members: BTreeMap<String, Caps>,
}

impl Default for Capacities {
    fn default() -> Self {
        Capacities {
            source: "<built-in defaults>".into(),
            defaults: Resolved {
                string: 64,
                list: 16,
                any: 256,
                enum_unknown: 32,
                cycle: 1024,
            },
            types: BTreeMap::new(),
            members: BTreeMap::new(),
        }
    }
}

fn caps(source: &str, key: &str, value: &toml::Value) -> Result<Caps, Error> {
    let table = value
        .as_table()
        .ok_or_else(|| Error::new(source, 0, format!("'{key}' must be a table")))?;
    let mut c = Caps::default();
    for (k, v) in table {
        let n = v
            .as_integer()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                Error::new(source, 0, format!("'{key}.{k}' must be a positive integer"))
            })?;
        let slot = match k.as_str() {
            "string" => &mut c.string,
            "list" => &mut c.list,
            "any" => &mut c.any,
            "enum_unknown" => &mut c.enum_unknown,
            "cycle" => &mut c.cycle,
            _ => {
                return Err(Error::new(
                    source,
                    0,
                    format!("'{key}': unknown setting '{k}'"),
                ))
            }
        };
        *slot = Some(n);
    }
    Ok(c)
}

impl Capacities {
    /// Read section `section` of TOML `text` (from file `source`).
    ///
    /// # Errors
    ///
    /// Bad TOML, a missing section, unknown keys, non-positive numbers.
    pub fn parse(source: &str, text: &str, section: &str) -> Result<Capacities, Error> {
        let root: toml::Table = text
            .parse()
            .map_err(|e| Error::new(source, 0, format!("{e}")))?;
        let sect = root
            .get(section)
            .and_then(|s| s.as_table())
            .ok_or_else(|| Error::new(source, 0, format!("no [{section}] table")))?;
        let mut out = Capacities {
            source: source.to_string(),
            ..Capacities::default()
        };
        for (k, v) in sect {
            let key = format!("{section}.{k}");
            match k.as_str() {
                "defaults" => {
                    let d = caps(source, &key, v)?;
                    let r = &mut out.defaults;
                    r.string = d.string.unwrap_or(r.string);
                    r.list = d.list.unwrap_or(r.list);
                    r.any = d.any.unwrap_or(r.any);
                    r.enum_unknown = d.enum_unknown.unwrap_or(r.enum_unknown);
                    r.cycle = d.cycle.unwrap_or(r.cycle);
                }
                "types" | "members" => {
                    let table = v
                        .as_table()
                        .ok_or_else(|| Error::new(source, 0, format!("'{key}' must be a table")))?;
                    for (name, c) in table {
                        let parsed = caps(source, &format!("{key}.{name}"), c)?;
                        let map = if k == "types" {
                            &mut out.types
                        } else {
                            &mut out.members
                        };
                        map.insert(name.clone(), parsed);
                    }
                }
                _ => return Err(Error::new(source, 0, format!("'{key}': unknown table"))),
            }
        }
        Ok(out)
    }

    /// Capacities for member `member` of `owner` (a type, command or event
    /// name; `returns` for a command's return value).
    pub fn for_member(&self, owner: &str, member: &str) -> Resolved {
        let m = self
            .members
            .get(&format!("{owner}.{member}"))
            .copied()
            .unwrap_or_default();
        let t = self.types.get(owner).copied().unwrap_or_default();
        let c = m.or(t);
        let d = self.defaults;
        Resolved {
            string: c.string.unwrap_or(d.string),
            list: c.list.unwrap_or(d.list),
            any: c.any.unwrap_or(d.any),
            enum_unknown: c.enum_unknown.unwrap_or(d.enum_unknown),
            cycle: c.cycle.unwrap_or(d.cycle),
        }
    }

    /// The unknown-value capacity of enum `name`.
    pub fn enum_unknown(&self, name: &str) -> usize {
        self.types
            .get(name)
            .and_then(|c| c.enum_unknown)
            .unwrap_or(self.defaults.enum_unknown)
    }

    /// Check that every type and member key names something: `is_owner`
    /// says whether a name is a definition, `has_member` whether
    /// `owner.member` exists.
    ///
    /// # Errors
    ///
    /// The first key that names nothing.
    pub fn check_keys(
        &self,
        is_owner: &dyn Fn(&str) -> bool,
        has_member: &dyn Fn(&str, &str) -> bool,
    ) -> Result<(), Error> {
        for name in self.types.keys() {
            if !is_owner(name) {
                return Err(Error::new(
                    &self.source,
                    0,
                    format!("types.\"{name}\" names no definition"),
                ));
            }
        }
        for key in self.members.keys() {
            let ok = key
                .rsplit_once('.')
                .is_some_and(|(owner, member)| has_member(owner, member));
            if !ok {
                return Err(Error::new(
                    &self.source,
                    0,
                    format!("members.\"{key}\" names no member"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_wins() {
        let c = Capacities::parse(
            "c.toml",
            "[s.defaults]\nstring = 10\n[s.types.T]\nstring = 20\nlist = 3\n[s.members]\n\"T.m\" = { string = 30 }\n",
            "s",
        )
        .unwrap();
        assert_eq!(c.for_member("T", "m").string, 30);
        assert_eq!(c.for_member("T", "m").list, 3);
        assert_eq!(c.for_member("T", "n").string, 20);
        assert_eq!(c.for_member("U", "n").string, 10);
        assert_eq!(c.for_member("U", "n").list, 16);
    }

    #[test]
    fn bad_settings_are_errors() {
        for (text, msg) in [
            ("[s.defaults]\nstring = 0\n", "positive"),
            ("[s.defaults]\nstrng = 1\n", "unknown setting"),
            ("[s.other]\n", "unknown table"),
            ("[t.defaults]\n", "no [s] table"),
            ("[s\n", "TOML"),
        ] {
            let e = Capacities::parse("c.toml", text, "s").unwrap_err();
            assert!(e.message.contains(msg) || msg == "TOML", "{text}: {e}");
            assert_eq!(e.file, "c.toml");
        }
    }
}
