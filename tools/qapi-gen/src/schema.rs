//! The schema model: every definition of a set of QAPI files, checked.
//!
//! [`Schema::load`] reads the input files in order, follows `include`
//! directives (relative to the including file; each file once), and turns
//! each expression into a [`Def`]. It checks what the generator relies on:
//! known keys only, references to defined types, flat-union discriminators
//! that are enum members of the base, branch names that are enum values,
//! alternate branches that differ in JSON type. Every problem is an
//! [`Error`] with file and line.
//!
//! `if` conditions and `features` are accepted and ignored: the codecs are
//! generated for every definition.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::doc::Doc;
use crate::reader::{parse_file, Node, Value};
use crate::Error;

/// The QAPI built-in types.
pub const BUILTINS: &[&str] = &[
    "str", "int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "number", "bool", "any", "null", "size",
];

/// A type as a member, branch or return refers to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypeRef {
    /// A built-in or defined type.
    Named(String),
    /// `['T']`.
    List(String),
}

impl TypeRef {
    /// The element or named type.
    pub fn name(&self) -> &str {
        match self {
            TypeRef::Named(n) | TypeRef::List(n) => n,
        }
    }
}

/// A member of a struct, base, argument list or event data.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The exact wire name (without `*`).
    pub name: String,
    /// Its type.
    pub ty: TypeRef,
    /// Declared `*name`.
    pub optional: bool,
    /// Source line.
    pub line: usize,
}

/// A command's `data` or an event's `data`.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// Inline members.
    Members(Vec<Member>),
    /// A named struct or union whose members are the arguments.
    Type(String),
}

/// What a definition is.
#[derive(Clone, Debug, PartialEq)]
pub enum DefKind {
    /// `struct` (or the old `type`): members, base members first.
    Struct {
        /// The named base struct, if any.
        base: Option<String>,
        /// Own members.
        members: Vec<Member>,
    },
    /// `enum`.
    Enum {
        /// The values in order.
        values: Vec<String>,
    },
    /// `union` with `discriminator` (flat).
    FlatUnion {
        /// A named base struct, or `None` for inline base members.
        base_type: Option<String>,
        /// Inline base members (empty when `base_type` is set).
        base: Vec<Member>,
        /// The base member that selects the branch.
        discriminator: String,
        /// Discriminator value → branch struct.
        branches: Vec<(String, String)>,
    },
    /// `union` without discriminator (simple): `{"type": BRANCH, "data": ...}`.
    SimpleUnion {
        /// Branch name → its type.
        branches: Vec<(String, TypeRef)>,
    },
    /// `alternate`: one of several types, chosen by JSON type.
    Alternate {
        /// Branch name → its type.
        branches: Vec<(String, TypeRef)>,
    },
    /// `command`.
    Command {
        /// Arguments.
        data: Option<Data>,
        /// Return type.
        returns: Option<TypeRef>,
        /// `success-response` (default true).
        success_response: bool,
        /// `allow-oob`.
        allow_oob: bool,
        /// `boxed` (same wire form; recorded for completeness).
        boxed: bool,
        /// `gen` (default true; recorded for completeness).
        gen: bool,
    },
    /// `event`.
    Event {
        /// The `data` member.
        data: Option<Data>,
        /// `boxed`.
        boxed: bool,
    },
}

/// One definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Def {
    /// The QAPI name.
    pub name: String,
    /// What it is.
    pub kind: DefKind,
    /// Its doc comment.
    pub doc: Option<Doc>,
    /// The file it is in, as given or as included (relative path text).
    pub file: String,
    /// Source line of the expression.
    pub line: usize,
}

impl Def {
    /// `struct`, `enum`, `command`, ... as in the schema.
    pub fn meta(&self) -> &'static str {
        match self.kind {
            DefKind::Struct { .. } => "struct",
            DefKind::Enum { .. } => "enum",
            DefKind::FlatUnion { .. } | DefKind::SimpleUnion { .. } => "union",
            DefKind::Alternate { .. } => "alternate",
            DefKind::Command { .. } => "command",
            DefKind::Event { .. } => "event",
        }
    }
}

/// All definitions of a set of schema files, in source order.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// The definitions.
    pub defs: Vec<Def>,
    /// `include` directives that named a missing file allowed to be absent.
    pub missing_includes: Vec<String>,
    /// Every file read, in order.
    pub files: Vec<String>,
}

impl Schema {
    /// Read `inputs` (paths relative to `root`, kept as written for
    /// messages) and everything they include.
    ///
    /// # Errors
    ///
    /// Unreadable or malformed files, a missing include not listed in
    /// `allow_missing`, and every check in the module docs.
    pub fn load(root: &Path, inputs: &[String], allow_missing: &[String]) -> Result<Schema, Error> {
        let mut schema = Schema::default();
        let mut seen = BTreeSet::new();
        for input in inputs {
            schema.read(root, input, allow_missing, &mut seen, None, 0)?;
        }
        for name in allow_missing {
            if !schema.missing_includes.contains(name) {
                return Err(Error::new(
                    "<command line>",
                    0,
                    format!("'{name}' is allowed to be missing but no schema includes it"),
                ));
            }
        }
        schema.check()?;
        Ok(schema)
    }

    /// Parse schema text directly (no includes allowed), for tests and
    /// tools.
    ///
    /// # Errors
    ///
    /// As [`Schema::load`].
    pub fn from_text(file: &str, text: &str) -> Result<Schema, Error> {
        let mut schema = Schema::default();
        schema.files.push(file.to_string());
        for expr in parse_file(file, text)? {
            if let Some(def) = definition(file, &expr.node, &expr.comments)? {
                schema.defs.push(def);
            } else if dict_get(&expr.node, "include").is_some() {
                return Err(Error::new(
                    file,
                    expr.node.line,
                    "include is not supported here",
                ));
            }
        }
        schema.check()?;
        Ok(schema)
    }

    fn read(
        &mut self,
        root: &Path,
        rel: &str,
        allow_missing: &[String],
        seen: &mut BTreeSet<PathBuf>,
        from: Option<(&str, usize, &str)>,
        depth: usize,
    ) -> Result<(), Error> {
        let path = root.join(rel);
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        if !seen.insert(key) {
            return Ok(());
        }
        if depth > 16 {
            return Err(Error::new(rel, 0, "includes nested too deeply"));
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                return Err(match from {
                    Some((file, line, include)) => {
                        if allow_missing.iter().any(|a| a == include)
                            && e.kind() == std::io::ErrorKind::NotFound
                        {
                            self.missing_includes.push(include.to_string());
                            return Ok(());
                        }
                        Error::new(file, line, format!(
                            "cannot read included file '{include}' ({}): {e}; list it with --allow-missing-include if it is meant to be absent",
                            path.display()
                        ))
                    }
                    None => Error::new(rel, 0, format!("cannot read schema: {e}")),
                })
            }
        };
        self.files.push(rel.to_string());
        for expr in parse_file(rel, &text)? {
            if let Some(include) = dict_get(&expr.node, "include") {
                check_keys(rel, &expr.node, &["include"])?;
                let name = string(rel, include, "include")?;
                let dir = Path::new(rel).parent().unwrap_or(Path::new(""));
                let target = dir.join(&name).to_string_lossy().into_owned();
                self.read(
                    root,
                    &target,
                    allow_missing,
                    seen,
                    Some((rel, include.line, &name)),
                    depth + 1,
                )?;
                continue;
            }
            if let Some(def) = definition(rel, &expr.node, &expr.comments)? {
                self.defs.push(def);
            }
        }
        Ok(())
    }

    /// The definition called `name`.
    pub fn get(&self, name: &str) -> Option<&Def> {
        self.defs.iter().find(|d| d.name == name)
    }

    /// A struct's members including those of its base chain, base first.
    pub fn struct_members(&self, name: &str) -> Vec<Member> {
        let mut chain = Vec::new();
        let mut at = Some(name.to_string());
        while let Some(n) = at.take() {
            if chain.len() > self.defs.len() {
                break;
            }
            if let Some(Def {
                kind: DefKind::Struct { base, members },
                ..
            }) = self.get(&n)
            {
                chain.push(members.clone());
                at = base.clone();
            }
        }
        chain.into_iter().rev().flatten().collect()
    }

    /// A flat union's base members (inline or from the named base).
    pub fn union_base(&self, def: &Def) -> Vec<Member> {
        match &def.kind {
            DefKind::FlatUnion {
                base_type: Some(t), ..
            } => self.struct_members(t),
            DefKind::FlatUnion { base, .. } => base.clone(),
            _ => Vec::new(),
        }
    }

    /// The members a command's or event's data stands for.
    pub fn data_members(&self, data: &Data) -> Vec<Member> {
        match data {
            Data::Members(m) => m.clone(),
            Data::Type(t) => match self.get(t) {
                Some(
                    d @ Def {
                        kind: DefKind::FlatUnion { .. },
                        ..
                    },
                ) => self.union_base(d),
                _ => self.struct_members(t),
            },
        }
    }

    fn check(&self) -> Result<(), Error> {
        let mut names: BTreeMap<&str, &Def> = BTreeMap::new();
        for def in &self.defs {
            if BUILTINS.contains(&def.name.as_str()) {
                return Err(err(
                    def,
                    def.line,
                    format!("'{}' is a built-in type", def.name),
                ));
            }
            if let Some(prev) = names.insert(&def.name, def) {
                return Err(err(
                    def,
                    def.line,
                    format!(
                        "'{}' is already defined at {}:{}",
                        def.name, prev.file, prev.line
                    ),
                ));
            }
        }
        let is_type = |n: &str| {
            BUILTINS.contains(&n)
                || names.get(n).is_some_and(|d| {
                    !matches!(d.kind, DefKind::Command { .. } | DefKind::Event { .. })
                })
        };
        let kind_of = |n: &str| names.get(n).map(|d| &d.kind);
        let check_ref = |def: &Def, line: usize, t: &TypeRef| -> Result<(), Error> {
            if is_type(t.name()) {
                Ok(())
            } else {
                Err(err(
                    def,
                    line,
                    format!("'{}' refers to unknown type '{}'", def.name, t.name()),
                ))
            }
        };
        let check_struct_name =
            |def: &Def, line: usize, n: &str, what: &str| -> Result<(), Error> {
                match kind_of(n) {
                    Some(DefKind::Struct { .. }) => Ok(()),
                    _ => Err(err(
                        def,
                        line,
                        format!("{what} '{n}' of '{}' must be a struct", def.name),
                    )),
                }
            };
        for def in &self.defs {
            match &def.kind {
                DefKind::Struct { base, members } => {
                    if let Some(b) = base {
                        check_struct_name(def, def.line, b, "base")?;
                    }
                    for m in members {
                        check_ref(def, m.line, &m.ty)?;
                    }
                    check_unique_members(def, &self.struct_members(&def.name))?;
                }
                DefKind::Enum { values } => {
                    let mut seen = BTreeSet::new();
                    for v in values {
                        if !seen.insert(v) {
                            return Err(err(
                                def,
                                def.line,
                                format!("enum '{}' repeats value '{v}'", def.name),
                            ));
                        }
                    }
                }
                DefKind::FlatUnion {
                    base_type,
                    base,
                    discriminator,
                    branches,
                } => {
                    if let Some(b) = base_type {
                        check_struct_name(def, def.line, b, "base")?;
                    }
                    for m in base {
                        check_ref(def, m.line, &m.ty)?;
                    }
                    let members = self.union_base(def);
                    let disc = members.iter().find(|m| &m.name == discriminator).ok_or_else(|| {
                        err(def, def.line, format!("discriminator '{discriminator}' is not a member of the base of '{}'", def.name))
                    })?;
                    let values = match (&disc.ty, kind_of(disc.ty.name())) {
                        (TypeRef::Named(_), Some(DefKind::Enum { values })) if !disc.optional => values,
                        _ => {
                            return Err(err(def, disc.line, format!(
                                "discriminator '{discriminator}' of '{}' must be a required member of enum type",
                                def.name
                            )))
                        }
                    };
                    for (b, t) in branches {
                        if !values.contains(b) {
                            return Err(err(
                                def,
                                def.line,
                                format!(
                                    "branch '{b}' of '{}' is not a value of '{}'",
                                    def.name,
                                    disc.ty.name()
                                ),
                            ));
                        }
                        check_struct_name(def, def.line, t, "branch")?;
                    }
                    for (_, t) in branches {
                        let mut m = members.clone();
                        m.extend(self.struct_members(t));
                        check_unique_members(def, &m)?;
                    }
                    check_unique_members(def, &members)?;
                }
                DefKind::SimpleUnion { branches } => {
                    for (_, t) in branches {
                        check_ref(def, def.line, t)?;
                    }
                }
                DefKind::Alternate { branches } => {
                    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
                    for (b, t) in branches {
                        check_ref(def, def.line, t)?;
                        let json = match t {
                            TypeRef::List(_) => "array",
                            TypeRef::Named(n) => match n.as_str() {
                                "str" => "string",
                                "bool" => "boolean",
                                "null" => "null",
                                "any" => {
                                    return Err(err(
                                        def,
                                        def.line,
                                        format!(
                                            "alternate '{}' cannot have an 'any' branch",
                                            def.name
                                        ),
                                    ))
                                }
                                "number" | "int" | "int8" | "int16" | "int32" | "int64"
                                | "uint8" | "uint16" | "uint32" | "uint64" | "size" => "number",
                                _ => match kind_of(n) {
                                    Some(DefKind::Enum { .. }) => "string",
                                    Some(DefKind::Alternate { .. }) => {
                                        return Err(err(
                                            def,
                                            def.line,
                                            format!(
                                                "alternate '{}' cannot nest alternate '{n}'",
                                                def.name
                                            ),
                                        ))
                                    }
                                    _ => "object",
                                },
                            },
                        };
                        if let Some(other) = seen.insert(json, b) {
                            return Err(err(def, def.line, format!(
                                "branches '{other}' and '{b}' of alternate '{}' are both JSON {json}s",
                                def.name
                            )));
                        }
                    }
                }
                DefKind::Command { data, returns, .. } => {
                    self.check_data(def, data.as_ref(), &check_ref)?;
                    if let Some(r) = returns {
                        check_ref(def, def.line, r)?;
                    }
                }
                DefKind::Event { data, .. } => self.check_data(def, data.as_ref(), &check_ref)?,
            }
        }
        Ok(())
    }

    fn check_data(
        &self,
        def: &Def,
        data: Option<&Data>,
        check_ref: &dyn Fn(&Def, usize, &TypeRef) -> Result<(), Error>,
    ) -> Result<(), Error> {
        match data {
            None => Ok(()),
            Some(Data::Members(members)) => {
                for m in members {
                    check_ref(def, m.line, &m.ty)?;
                }
                check_unique_members(def, members)
            }
            Some(Data::Type(t)) => match self.get(t).map(|d| &d.kind) {
                Some(DefKind::Struct { .. } | DefKind::FlatUnion { .. }) => Ok(()),
                _ => Err(err(
                    def,
                    def.line,
                    format!(
                        "data '{t}' of '{}' must be a struct or flat union",
                        def.name
                    ),
                )),
            },
        }
    }
}

fn err(def: &Def, line: usize, message: String) -> Error {
    Error::new(&def.file, line, message)
}

fn check_unique_members(def: &Def, members: &[Member]) -> Result<(), Error> {
    let mut seen = BTreeSet::new();
    for m in members {
        if !seen.insert(m.name.as_str()) {
            return Err(err(
                def,
                m.line,
                format!("member '{}' of '{}' appears twice", m.name, def.name),
            ));
        }
    }
    if members.len() > 128 {
        return Err(err(
            def,
            def.line,
            format!("'{}' has more than 128 members", def.name),
        ));
    }
    Ok(())
}

fn dict_get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match &node.value {
        Value::Dict(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

fn check_keys(file: &str, node: &Node, allowed: &[&str]) -> Result<(), Error> {
    if let Value::Dict(members) = &node.value {
        for (k, v) in members {
            if !allowed.contains(&k.as_str()) {
                return Err(Error::new(file, v.line, format!("unknown key '{k}'")));
            }
        }
    }
    Ok(())
}

fn string(file: &str, node: &Node, what: &str) -> Result<String, Error> {
    match &node.value {
        Value::Str(s) => Ok(s.clone()),
        _ => Err(Error::new(
            file,
            node.line,
            format!("'{what}' must be a string, not a {}", node.kind_name()),
        )),
    }
}

fn boolean(file: &str, node: Option<&Node>, what: &str, default: bool) -> Result<bool, Error> {
    match node.map(|n| (&n.value, n.line)) {
        None => Ok(default),
        Some((Value::Bool(b), _)) => Ok(*b),
        // QAPI of QEMU 2.x wrote 'success-response': 'no'.
        Some((Value::Str(s), _)) if s == "no" || s == "false" => Ok(false),
        Some((Value::Str(s), _)) if s == "yes" || s == "true" => Ok(true),
        Some((_, line)) => Err(Error::new(
            file,
            line,
            format!("'{what}' must be true or false"),
        )),
    }
}

fn type_ref(file: &str, node: &Node) -> Result<TypeRef, Error> {
    match &node.value {
        Value::Str(s) => Ok(TypeRef::Named(s.clone())),
        Value::List(items) => match items.as_slice() {
            [Node {
                value: Value::Str(s),
                ..
            }] => Ok(TypeRef::List(s.clone())),
            _ => Err(Error::new(
                file,
                node.line,
                "a list type must be ['TypeName']",
            )),
        },
        // The long form {'type': T, 'if': ..., 'features': ...}.
        Value::Dict(_) => {
            check_keys(file, node, &["type", "if", "features"])?;
            let t = dict_get(node, "type")
                .ok_or_else(|| Error::new(file, node.line, "member lacks 'type'"))?;
            type_ref(file, t)
        }
        Value::Bool(_) => Err(Error::new(
            file,
            node.line,
            "a type must be a name or ['TypeName']",
        )),
    }
}

fn members(file: &str, node: &Node) -> Result<Vec<Member>, Error> {
    let Value::Dict(items) = &node.value else {
        return Err(Error::new(
            file,
            node.line,
            format!("members must be an object, not a {}", node.kind_name()),
        ));
    };
    let mut out = Vec::new();
    for (key, value) in items {
        let (name, optional) = match key.strip_prefix('*') {
            Some(n) => (n.to_string(), true),
            None => (key.clone(), false),
        };
        check_name(file, value.line, &name)?;
        out.push(Member {
            name,
            ty: type_ref(file, value)?,
            optional,
            line: value.line,
        });
    }
    Ok(out)
}

fn check_name(file: &str, line: usize, name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' || c == '+');
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            file,
            line,
            format!("'{name}' is not a valid name"),
        ))
    }
}

fn branches(file: &str, node: &Node) -> Result<Vec<(String, TypeRef)>, Error> {
    let Value::Dict(items) = &node.value else {
        return Err(Error::new(
            file,
            node.line,
            "'data' must be an object of branches",
        ));
    };
    items
        .iter()
        .map(|(k, v)| {
            check_name(file, v.line, k)?;
            Ok((k.clone(), type_ref(file, v)?))
        })
        .collect()
}

fn data(file: &str, node: Option<&Node>) -> Result<Option<Data>, Error> {
    match node {
        None => Ok(None),
        Some(
            n @ Node {
                value: Value::Dict(_),
                ..
            },
        ) => Ok(Some(Data::Members(members(file, n)?))),
        Some(
            n @ Node {
                value: Value::Str(_),
                ..
            },
        ) => Ok(Some(Data::Type(string(file, n, "data")?))),
        Some(n) => Err(Error::new(
            file,
            n.line,
            format!(
                "'data' must be an object or a type name, not a {}",
                n.kind_name()
            ),
        )),
    }
}

/// Turn one expression into a definition; `None` for `pragma`.
fn definition(file: &str, node: &Node, comments: &[(usize, String)]) -> Result<Option<Def>, Error> {
    let Value::Dict(items) = &node.value else {
        return Err(Error::new(file, node.line, "expected an object"));
    };
    let Some((meta, name_node)) = items.first() else {
        return Err(Error::new(file, node.line, "empty expression"));
    };
    let line = node.line;
    let get = |k: &str| dict_get(node, k);
    let common = ["if", "features"];
    let keys = |extra: &[&str]| {
        let mut all: Vec<&str> = vec![meta.as_str()];
        all.extend_from_slice(extra);
        all.extend_from_slice(&common);
        check_keys(file, node, &all)
    };
    let kind = match meta.as_str() {
        "pragma" => {
            check_keys(file, node, &["pragma"])?;
            return Ok(None);
        }
        "include" => return Ok(None),
        "struct" | "type" => {
            keys(&["data", "base", "gen"])?;
            let base = get("base").map(|b| string(file, b, "base")).transpose()?;
            let m = match get("data") {
                Some(d) => members(file, d)?,
                None => return Err(Error::new(file, line, "struct lacks 'data'")),
            };
            DefKind::Struct { base, members: m }
        }
        "enum" => {
            keys(&["data", "prefix"])?;
            let Some(d) = get("data") else {
                return Err(Error::new(file, line, "enum lacks 'data'"));
            };
            let Value::List(values) = &d.value else {
                return Err(Error::new(file, d.line, "enum 'data' must be a list"));
            };
            let mut out = Vec::new();
            for v in values {
                let name = match &v.value {
                    Value::Str(s) => s.clone(),
                    Value::Dict(_) => {
                        check_keys(file, v, &["name", "if", "features"])?;
                        let n = dict_get(v, "name")
                            .ok_or_else(|| Error::new(file, v.line, "enum value lacks 'name'"))?;
                        string(file, n, "name")?
                    }
                    _ => return Err(Error::new(file, v.line, "an enum value must be a string")),
                };
                check_name(file, v.line, &name)?;
                out.push(name);
            }
            DefKind::Enum { values: out }
        }
        "union" => {
            keys(&["data", "base", "discriminator"])?;
            let Some(d) = get("data") else {
                return Err(Error::new(file, line, "union lacks 'data'"));
            };
            match get("discriminator") {
                Some(disc) => {
                    let discriminator = string(file, disc, "discriminator")?;
                    let (base_type, base) = match get("base") {
                        Some(
                            b @ Node {
                                value: Value::Str(_),
                                ..
                            },
                        ) => (Some(string(file, b, "base")?), Vec::new()),
                        Some(b) => (None, members(file, b)?),
                        None => {
                            return Err(Error::new(
                                file,
                                line,
                                "a union with a discriminator needs a 'base'",
                            ))
                        }
                    };
                    let mut out = Vec::new();
                    for (branch, t) in branches(file, d)? {
                        match t {
                            TypeRef::Named(n) => out.push((branch, n)),
                            TypeRef::List(_) => {
                                return Err(Error::new(
                                    file,
                                    d.line,
                                    format!("branch '{branch}' of a flat union must be a struct"),
                                ))
                            }
                        }
                    }
                    DefKind::FlatUnion {
                        base_type,
                        base,
                        discriminator,
                        branches: out,
                    }
                }
                None => {
                    if get("base").is_some() {
                        return Err(Error::new(
                            file,
                            line,
                            "a union with a 'base' needs a 'discriminator'",
                        ));
                    }
                    DefKind::SimpleUnion {
                        branches: branches(file, d)?,
                    }
                }
            }
        }
        "alternate" => {
            keys(&["data"])?;
            let Some(d) = get("data") else {
                return Err(Error::new(file, line, "alternate lacks 'data'"));
            };
            DefKind::Alternate {
                branches: branches(file, d)?,
            }
        }
        "command" => {
            keys(&[
                "data",
                "returns",
                "success-response",
                "boxed",
                "gen",
                "allow-oob",
                "allow-preconfig",
                "coroutine",
            ])?;
            DefKind::Command {
                data: data(file, get("data"))?,
                returns: get("returns").map(|r| type_ref(file, r)).transpose()?,
                success_response: boolean(file, get("success-response"), "success-response", true)?,
                allow_oob: boolean(file, get("allow-oob"), "allow-oob", false)?,
                boxed: boolean(file, get("boxed"), "boxed", false)?,
                gen: boolean(file, get("gen"), "gen", true)?,
            }
        }
        "event" => {
            keys(&["data", "boxed"])?;
            DefKind::Event {
                data: data(file, get("data"))?,
                boxed: boolean(file, get("boxed"), "boxed", false)?,
            }
        }
        other => {
            return Err(Error::new(
                file,
                line,
                format!("unknown definition keyword '{other}'"),
            ))
        }
    };
    let name = string(file, name_node, meta)?;
    check_name(file, line, &name)?;
    Ok(Some(Def {
        name,
        kind,
        doc: Doc::parse(comments),
        file: file.to_string(),
        line,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Schema, Error> {
        Schema::from_text("t.json", text)
    }

    #[test]
    fn every_construct_is_read() {
        let s = load(
            "{ 'enum': 'E', 'data': [ 'a', { 'name': 'b', 'if': 'X' } ] }\n\
             { 'type': 'S', 'data': { 'x': 'int', '*y': ['str'], 'z': { 'type': 'E', 'if': 'Y' } } }\n\
             { 'struct': 'T', 'base': 'S', 'data': {} }\n\
             { 'union': 'F', 'base': { 'k': 'E' }, 'discriminator': 'k', 'data': { 'a': 'S' } }\n\
             { 'union': 'U', 'data': { 'one': 'str', 'two': 'S' } }\n\
             { 'alternate': 'A', 'data': { 's': 'S', 'n': 'int' } }\n\
             { 'command': 'c', 'data': 'S', 'returns': ['T'], 'success-response': 'no', 'boxed': true, 'gen': false, 'allow-oob': true }\n\
             { 'event': 'EV', 'data': { 'a': 'any' } }\n\
             { 'pragma': { 'doc-required': true } }",
        )
        .unwrap();
        assert_eq!(s.defs.len(), 8);
        assert_eq!(s.struct_members("T").len(), 3);
        assert!(matches!(
            &s.get("c").unwrap().kind,
            DefKind::Command {
                success_response: false,
                allow_oob: true,
                boxed: true,
                gen: false,
                ..
            }
        ));
        assert!(
            matches!(&s.get("E").unwrap().kind, DefKind::Enum { values } if values == &["a", "b"])
        );
    }

    #[test]
    fn malformed_schemas_are_errors_with_lines() {
        let cases = [
            ("{ 'struct': 'S', 'data': { 'a': 'Nope' } }", 1, "unknown type 'Nope'"),
            ("{ 'enum': 'E', 'data': ['a'] }\n{ 'enum': 'E', 'data': ['b'] }", 2, "already defined at t.json:1"),
            ("{ 'struct': 'S',\n 'date': {} }", 2, "unknown key 'date'"),
            ("{ 'widget': 'W' }", 1, "unknown definition keyword 'widget'"),
            ("{ 'command': 'c', 'success-response': 'maybe' }", 1, "must be true or false"),
            ("{ 'enum': 'E', 'data': ['a'] }\n{ 'union': 'U', 'base': { 'k': 'E' },\n 'discriminator': 'kk', 'data': {} }", 2, "discriminator 'kk'"),
            ("{ 'enum': 'E', 'data': ['a'] }\n{ 'struct': 'S', 'data': {} }\n{ 'union': 'U', 'base': { 'k': 'E' }, 'discriminator': 'k', 'data': { 'b': 'S' } }", 3, "branch 'b'"),
            ("{ 'alternate': 'A', 'data': { 'i': 'int', 'n': 'number' } }", 1, "both JSON numbers"),
            ("{ 'struct': 'S', 'data': { 'a': ['int', 'str'] } }", 1, "['TypeName']"),
            ("{ 'struct': 'S', 'data': { 'a': 'int', '*a': 'int' } }", 1, "appears twice"),
            ("{ 'struct': 'str', 'data': {} }", 1, "built-in"),
            ("{ 'union': 'U', 'base': 'S', 'data': {} }", 1, "needs a 'discriminator'"),
        ];
        for (src, line, msg) in cases {
            let e = load(src).unwrap_err();
            assert_eq!((e.file.as_str(), e.line), ("t.json", line), "{src}: {e}");
            assert!(e.message.contains(msg), "{src}: {e}");
        }
    }
}
