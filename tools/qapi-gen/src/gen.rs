//! Writing the Rust module for a [`Schema`].
//!
//! The output uses only the `codec` runtime (`rt`) and the `json` module of
//! qwire; the path to them is an option, so the same code serves qwire's own
//! schemas (`crate::`) and another crate's (`qwire::`). Each definition
//! becomes the types described in the `codec` module docs, in schema order,
//! followed by the tables (`COMMANDS`, `EVENTS`), the `Request` and
//! `EventData` enums with their decoders, and `visit_types`.
//!
//! Cycles: the type graph is walked depth first, starting from the commands
//! (arguments, then returns) and events in schema order, then from every
//! type in schema order, each member in order. A member whose type is still
//! on the walk's stack closes a cycle; that member (and only it) becomes
//! `RawJson<N>` with the `cycle` capacity.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::capacity::{Capacities, Resolved};
use crate::doc::Doc;
use crate::names::{camel, snake, type_name};
use crate::schema::{Data, Def, DefKind, Member, Schema, TypeRef, BUILTINS};
use crate::Error;

/// Statistics about what was generated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Commands.
    pub commands: usize,
    /// Structs (`struct` / `type`).
    pub structs: usize,
    /// Enums.
    pub enums: usize,
    /// Unions (flat and simple).
    pub unions: usize,
    /// Alternates.
    pub alternates: usize,
    /// Events.
    pub events: usize,
    /// Members turned into `RawJson` to break a cycle, as `Owner.member`.
    pub cycle_breaks: Vec<String>,
}

impl Counts {
    /// Count the definitions of a schema.
    pub fn of(schema: &Schema) -> Counts {
        let mut c = Counts::default();
        for d in &schema.defs {
            match d.kind {
                DefKind::Struct { .. } => c.structs += 1,
                DefKind::Enum { .. } => c.enums += 1,
                DefKind::FlatUnion { .. } | DefKind::SimpleUnion { .. } => c.unions += 1,
                DefKind::Alternate { .. } => c.alternates += 1,
                DefKind::Command { .. } => c.commands += 1,
                DefKind::Event { .. } => c.events += 1,
            }
        }
        c
    }
}

/// The edges of the type graph leaving `name`: (label, target type).
/// Labels are member names, or `branch:NAME` for union/alternate branches.
fn edges(schema: &Schema, def: &Def) -> Vec<(String, String)> {
    let named = |t: &TypeRef| (!BUILTINS.contains(&t.name())).then(|| t.name().to_string());
    let members = |ms: Vec<Member>| -> Vec<(String, String)> {
        ms.iter()
            .filter_map(|m| named(&m.ty).map(|t| (m.name.clone(), t)))
            .collect()
    };
    match &def.kind {
        DefKind::Struct { .. } => members(schema.struct_members(&def.name)),
        DefKind::FlatUnion { branches, .. } => {
            let mut e = members(schema.union_base(def));
            e.extend(
                branches
                    .iter()
                    .map(|(b, t)| (format!("branch:{b}"), t.clone())),
            );
            e
        }
        DefKind::SimpleUnion { branches } | DefKind::Alternate { branches } => branches
            .iter()
            .filter_map(|(b, t)| named(t).map(|t| (format!("branch:{b}"), t)))
            .collect(),
        DefKind::Enum { .. } => Vec::new(),
        DefKind::Command { data, returns, .. } => {
            let mut e = match data {
                Some(Data::Members(ms)) => members(ms.clone()),
                Some(Data::Type(t)) => vec![("data".into(), t.clone())],
                None => Vec::new(),
            };
            if let Some(r) = returns.as_ref().and_then(named) {
                e.push(("returns".into(), r));
            }
            e
        }
        DefKind::Event { data, .. } => match data {
            Some(Data::Members(ms)) => members(ms.clone()),
            Some(Data::Type(t)) => vec![("data".into(), t.clone())],
            None => Vec::new(),
        },
    }
}

/// The members that break type cycles, as (owner, member).
fn find_cycle_breaks(schema: &Schema) -> Result<BTreeSet<(String, String)>, Error> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        OnStack,
        Done,
    }
    fn walk(
        schema: &Schema,
        def: &Def,
        state: &mut BTreeMap<String, State>,
        broken: &mut BTreeSet<(String, String)>,
    ) -> Result<(), Error> {
        state.insert(def.name.clone(), State::OnStack);
        for (label, target) in edges(schema, def) {
            match state.get(&target) {
                Some(State::OnStack) => {
                    if label.starts_with("branch:")
                        || matches!(def.kind, DefKind::Command { .. } | DefKind::Event { .. })
                    {
                        return Err(Error::new(
                            &def.file,
                            def.line,
                            format!(
                            "type cycle through {} '{label}' of '{}' cannot be broken at a member",
                            def.meta(),
                            def.name
                        ),
                        ));
                    }
                    broken.insert((def.name.clone(), label));
                }
                Some(State::Done) => {}
                None => {
                    if let Some(t) = schema.get(&target) {
                        walk(schema, t, state, broken)?;
                    }
                }
            }
        }
        state.insert(def.name.clone(), State::Done);
        Ok(())
    }
    let mut state = BTreeMap::new();
    let mut broken = BTreeSet::new();
    let roots = schema
        .defs
        .iter()
        .filter(|d| matches!(d.kind, DefKind::Command { .. } | DefKind::Event { .. }))
        .chain(schema.defs.iter());
    for def in roots {
        if !state.contains_key(&def.name) {
            walk(schema, def, &mut state, &mut broken)?;
        }
    }
    Ok(broken)
}

/// Rust doc text from schema doc lines: paragraphs joined into one line
/// each, markdown-significant brackets escaped, `@name` as code.
fn paragraphs(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in lines {
        let t = line.trim().replace('\t', " ");
        if t.is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&t);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.iter().map(|p| markdown(p)).collect()
}

fn markdown(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' | ']' | '<' | '>' | '`' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '@' if chars.peek().is_some_and(|n| n.is_ascii_alphanumeric()) => {
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '-' || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let _ = write!(out, "`{name}`");
            }
            _ => out.push(c),
        }
    }
    out
}

/// One Rust variant per enum value, plus the catch-all's name.
fn enum_variants(values: &[String]) -> (Vec<String>, String) {
    let variants: Vec<String> = values.iter().map(|v| camel(v)).collect();
    let mut unknown = "Unknown".to_string();
    let mut n = 1;
    while variants.contains(&unknown) {
        unknown = format!(
            "UnknownValue{}",
            if n == 1 { String::new() } else { n.to_string() }
        );
        n += 1;
    }
    (variants, unknown)
}

struct Gen<'s> {
    schema: &'s Schema,
    caps: &'s Capacities,
    rust: BTreeMap<String, String>,
    /// Commands and events: the CamelCase name their `Args` / `Data` types
    /// are built on (without a clash suffix).
    base_names: BTreeMap<String, String>,
    broken: BTreeSet<(String, String)>,
    out: String,
    /// Types to list in `visit_types`: (label, Rust type).
    visit: Vec<(String, String)>,
}

/// Generate the module body (everything after the header) for `schema`.
///
/// # Errors
///
/// Name clashes, unbreakable cycles, capacity keys that name nothing.
pub fn generate(schema: &Schema, caps: &Capacities) -> Result<(String, Counts), Error> {
    let broken = find_cycle_breaks(schema)?;
    let mut rust = BTreeMap::new();
    let mut base_names = BTreeMap::new();
    // Types keep their QAPI spelling; a command or event whose CamelCase
    // name is a type's gets a `Command` / `Event` suffix.
    let type_names: BTreeSet<String> = schema
        .defs
        .iter()
        .filter(|d| !matches!(d.kind, DefKind::Command { .. } | DefKind::Event { .. }))
        .map(|d| type_name(&d.name))
        .collect();
    let mut gen_taken: BTreeMap<String, &Def> = BTreeMap::new();
    for def in &schema.defs {
        let base = match def.kind {
            DefKind::Command { .. } | DefKind::Event { .. } => camel(&def.name),
            _ => type_name(&def.name),
        };
        let name = match def.kind {
            DefKind::Command { .. } if type_names.contains(&base) => format!("{base}Command"),
            DefKind::Event { .. } if type_names.contains(&base) => format!("{base}Event"),
            _ => base.clone(),
        };
        if ["Request", "Response", "EventData"].contains(&name.as_str()) {
            return Err(Error::new(
                &def.file,
                def.line,
                format!(
                    "'{}' becomes Rust name '{name}', which the generator uses itself",
                    def.name
                ),
            ));
        }
        let mut extra = Vec::new();
        match &def.kind {
            DefKind::Command {
                data: Some(Data::Members(m)),
                ..
            } if !m.is_empty() => extra.push(format!("{base}Args")),
            DefKind::Event {
                data: Some(Data::Members(_)),
                ..
            } => extra.push(format!("{base}Data")),
            DefKind::FlatUnion { .. } => extra.push(format!("{name}Variant")),
            _ => {}
        }
        for n in std::iter::once(name.clone()).chain(extra) {
            if let Some(other) = gen_taken.insert(n.clone(), def) {
                return Err(Error::new(
                    &def.file,
                    def.line,
                    format!(
                        "'{}' becomes Rust name '{n}', which '{}' ({}:{}) also becomes",
                        def.name, other.name, other.file, other.line
                    ),
                ));
            }
        }
        rust.insert(def.name.clone(), name);
        base_names.insert(def.name.clone(), base);
    }
    caps.check_keys(
        &|owner| schema.get(owner).is_some(),
        &|owner, member| {
            let Some(def) = schema.get(owner) else { return false };
            let has = |ms: Vec<Member>| ms.iter().any(|m| m.name == member);
            match &def.kind {
                DefKind::Struct { .. } => has(schema.struct_members(owner)),
                DefKind::FlatUnion { .. } => has(schema.union_base(def)),
                DefKind::SimpleUnion { branches } | DefKind::Alternate { branches } => {
                    branches.iter().any(|(b, _)| b == member)
                }
                DefKind::Command { data, returns, .. } => {
                    (member == "returns" && returns.is_some())
                        || matches!(data, Some(Data::Members(ms)) if ms.iter().any(|m| m.name == member))
                }
                DefKind::Event { data, .. } => matches!(data, Some(Data::Members(ms)) if ms.iter().any(|m| m.name == member)),
                DefKind::Enum { .. } => false,
            }
        },
    )?;
    let mut g = Gen {
        schema,
        caps,
        rust,
        base_names,
        broken,
        out: String::new(),
        visit: Vec::new(),
    };
    for def in &schema.defs {
        g.definition(def);
    }
    g.tables();
    let mut counts = Counts::of(schema);
    counts.cycle_breaks = g.broken.iter().map(|(o, m)| format!("{o}.{m}")).collect();
    Ok((g.out, counts))
}

fn field_table(members: &[Member]) -> String {
    let items: Vec<String> = members
        .iter()
        .map(|m| {
            let f = if m.optional { "optional" } else { "required" };
            format!("rt::Field::{f}({:?})", m.name)
        })
        .collect();
    format!("&[{}]", items.join(", "))
}

impl Gen<'_> {
    fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn doc(&mut self, indent: &str, paras: &[String]) {
        for (i, p) in paras.iter().enumerate() {
            if i > 0 {
                let _ = writeln!(self.out, "{indent}///");
            }
            let _ = writeln!(self.out, "{indent}/// {p}");
        }
    }

    fn def_doc(&mut self, def: &Def, fallback: String) {
        let mut paras = def
            .doc
            .as_ref()
            .map(|d| paragraphs(&d.body))
            .unwrap_or_default();
        if paras.is_empty() {
            paras.push(fallback);
        }
        let since = def
            .doc
            .as_ref()
            .and_then(|d| d.section("Since"))
            .and_then(|s| s.lines.first())
            .map(|(_, t)| t.trim().to_string());
        let mut tail = format!("QAPI {} `{}`", def.meta(), def.name);
        if let Some(since) = since {
            let _ = write!(tail, ", since {}", markdown(&since));
        }
        tail.push('.');
        paras.push(tail);
        self.doc("", &paras);
    }

    fn member_doc(&mut self, doc: Option<&Doc>, m: &Member, extra: Option<String>) {
        let mut paras = doc
            .and_then(|d| d.member(&m.name))
            .map(paragraphs)
            .unwrap_or_default();
        if paras.is_empty() {
            paras.push(format!("The `{}` member.", m.name));
        }
        if let Some(e) = extra {
            paras.push(e);
        }
        self.doc("    ", &paras);
    }

    fn scalar(&self, name: &str, caps: Resolved) -> String {
        match name {
            "str" => format!("rt::String<{}>", caps.string),
            "int" | "int64" => "i64".into(),
            "int8" => "i8".into(),
            "int16" => "i16".into(),
            "int32" => "i32".into(),
            "uint8" => "u8".into(),
            "uint16" => "u16".into(),
            "uint32" => "u32".into(),
            "uint64" => "u64".into(),
            "number" => "f64".into(),
            "bool" => "bool".into(),
            "any" => format!("rt::RawJson<{}>", caps.any),
            "null" => "rt::Null".into(),
            "size" => "rt::Size".into(),
            other => self
                .rust
                .get(other)
                .cloned()
                .unwrap_or_else(|| type_name(other)),
        }
    }

    fn type_expr(&self, t: &TypeRef, caps: Resolved) -> String {
        match t {
            TypeRef::Named(n) => self.scalar(n, caps),
            TypeRef::List(n) => format!("rt::Vec<{}, {}>", self.scalar(n, caps), caps.list),
        }
    }

    /// The Rust type of member `m` of `owner`, and whether it breaks a cycle.
    fn field_type(&self, owner: &str, m: &Member) -> (String, bool) {
        let caps = self.caps.for_member(owner, &m.name);
        if self.broken.contains(&(owner.to_string(), m.name.clone())) {
            return (format!("rt::RawJson<{}>", caps.cycle), true);
        }
        (self.type_expr(&m.ty, caps), false)
    }

    fn definition(&mut self, def: &Def) {
        let rust = self.rust.get(&def.name).cloned().unwrap_or_default();
        match &def.kind {
            DefKind::Struct { .. } => {
                let members = self.schema.struct_members(&def.name);
                self.def_doc(def, format!("The `{}` structure.", def.name));
                self.structure(&rust, &def.name, &members, def.doc.as_ref(), None);
                self.visit.push((def.name.clone(), rust));
            }
            DefKind::Enum { values } => self.enumeration(def, &rust, values),
            DefKind::FlatUnion {
                discriminator,
                branches,
                ..
            } => {
                self.flat_union(def, &rust, discriminator, branches);
                self.visit.push((def.name.clone(), rust));
            }
            DefKind::SimpleUnion { branches } => self.simple_union(def, &rust, branches),
            DefKind::Alternate { branches } => self.alternate(def, &rust, branches),
            DefKind::Command { .. } => self.command(def, &rust),
            DefKind::Event { .. } => self.event(def, &rust),
        }
    }

    /// A struct with `members` (flattened), its `Object`, `Decode` and
    /// `Encode` impls. `variant` adds a flat union's branch field.
    fn structure(
        &mut self,
        rust: &str,
        owner: &str,
        members: &[Member],
        doc: Option<&Doc>,
        variant: Option<(&str, &str, &str)>,
    ) {
        let (disc, variant_type, variant_field) = variant.unwrap_or(("", "", ""));
        self.line("#[derive(Clone, Debug, Default, PartialEq)]");
        let _ = writeln!(self.out, "pub struct {rust} {{");
        let mut fields = Vec::new();
        for m in members {
            if variant.is_some() && m.name == disc {
                fields.push((m, String::new(), false));
                continue;
            }
            let (ty, broke) = self.field_type(owner, m);
            let extra = broke.then(|| {
                format!(
                    "Kept as JSON text to break the type cycle through `{}`; decode it on demand with `{}`.",
                    m.ty.name(),
                    match &m.ty {
                        TypeRef::List(n) => format!("rt::Vec::<{}, N>::decode", self.scalar(n, self.caps.for_member(owner, &m.name))),
                        TypeRef::Named(n) => format!("{}::decode", self.scalar(n, self.caps.for_member(owner, &m.name))),
                    }
                )
            });
            self.member_doc(doc, m, extra);
            let name = snake(&m.name);
            if m.optional {
                let _ = writeln!(self.out, "    pub {name}: Option<{ty}>,");
            } else {
                let _ = writeln!(self.out, "    pub {name}: {ty},");
            }
            fields.push((m, name, m.optional));
        }
        if variant.is_some() {
            self.doc(
                "    ",
                &[format!(
                    "The branch selected by `{disc}`, with its members."
                )],
            );
            let _ = writeln!(self.out, "    pub {variant_field}: {variant_type},");
        }
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl rt::Object for {rust} {{");
        let _ = writeln!(
            self.out,
            "    const FIELDS: &'static [rt::Field] = {};",
            field_table(members)
        );
        self.line("");
        if members.is_empty() {
            self.line("    fn decode_field<'a>(&mut self, _index: usize, _value: Option<json::Json<'a>>, _mode: rt::Mode) -> Result<(), rt::DecodeError<'a>> {");
            self.line("        Ok(())");
        } else {
            self.line("    fn decode_field<'a>(&mut self, index: usize, value: Option<json::Json<'a>>, mode: rt::Mode) -> Result<(), rt::DecodeError<'a>> {");
            self.line("        match index {");
            for (i, (m, name, optional)) in fields.iter().enumerate() {
                if variant.is_some() && m.name == disc {
                    let _ = writeln!(self.out, "            {i} => {{");
                    let _ = writeln!(
                        self.out,
                        "                let mut tag = {}::default();",
                        self.scalar(m.ty.name(), self.caps.for_member(owner, &m.name))
                    );
                    self.line("                rt::required(&mut tag, value, mode)?;");
                    let _ = writeln!(
                        self.out,
                        "                self.{variant_field} = {variant_type}::from_tag(tag);"
                    );
                    self.line("                Ok(())");
                    self.line("            }");
                } else {
                    let f = if *optional { "optional" } else { "required" };
                    let _ = writeln!(
                        self.out,
                        "            {i} => rt::{f}(&mut self.{name}, value, mode),"
                    );
                }
            }
            self.line("            _ => Ok(()),");
            self.line("        }");
        }
        self.line("    }");
        self.line("");
        if fields.is_empty() {
            self.line("    fn encode_fields(&self, _w: &mut json::JsonWriter<'_>) -> Result<(), json::WriteError> {");
            self.line("        Ok(())");
        } else {
            self.line("    fn encode_fields(&self, w: &mut json::JsonWriter<'_>) -> Result<(), json::WriteError> {");
            for (m, name, optional) in &fields {
                if variant.is_some() && m.name == disc {
                    let _ = writeln!(
                        self.out,
                        "        rt::member(w, {:?}, self.{variant_field}.tag())?;",
                        m.name
                    );
                } else if *optional {
                    let _ = writeln!(
                        self.out,
                        "        rt::optional_member(w, {:?}, &self.{name})?;",
                        m.name
                    );
                } else {
                    let _ = writeln!(
                        self.out,
                        "        rt::member(w, {:?}, &self.{name})?;",
                        m.name
                    );
                }
            }
            if variant.is_some() {
                let _ = writeln!(self.out, "        self.{variant_field}.encode_branch(w)");
            } else {
                self.line("        Ok(())");
            }
        }
        self.line("    }");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl rt::Decode for {rust} {{");
        self.line("    fn decode_into<'a>(&mut self, v: json::Json<'a>, mode: rt::Mode) -> Result<(), rt::DecodeError<'a>> {");
        if variant.is_some() {
            self.line("        rt::expect_object(v)?;");
            self.line("        rt::decode_fields(v, <Self as rt::Object>::FIELDS, &mut |i, m| rt::Object::decode_field(self, i, m, mode))?;");
            let _ = writeln!(
                self.out,
                "        self.{variant_field}.decode_branch(v, mode)?;"
            );
            let _ = writeln!(self.out, "        rt::check_members(v, mode, &[<Self as rt::Object>::FIELDS, self.{variant_field}.fields()])");
        } else {
            self.line("        rt::decode_object(self, v, mode)");
        }
        self.line("    }");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl json::Encode for {rust} {{");
        self.line(
            "    fn encode(&self, w: &mut json::JsonWriter<'_>) -> Result<(), json::WriteError> {",
        );
        self.line("        rt::encode_object(self, w)");
        self.line("    }");
        self.line("}");
        self.line("");
    }

    fn enumeration(&mut self, def: &Def, rust: &str, values: &[String]) {
        let (variants, unknown) = enum_variants(values);
        let cap = self.caps.enum_unknown(&def.name);
        self.def_doc(def, format!("The `{}` enumeration.", def.name));
        self.line("#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]");
        let _ = writeln!(self.out, "pub enum {rust} {{");
        for (i, (v, value)) in variants.iter().zip(values).enumerate() {
            let mut paras = def
                .doc
                .as_ref()
                .and_then(|d| d.member(value))
                .map(paragraphs)
                .unwrap_or_default();
            if paras.is_empty() {
                paras.push(format!("`{value}`."));
            }
            self.doc("    ", &paras);
            if i == 0 {
                self.line("    #[default]");
            }
            let _ = writeln!(self.out, "    {v},");
        }
        self.doc(
            "    ",
            &[format!(
            "A value this schema does not know (kept in lenient decoding), at most {cap} bytes."
        )],
        );
        if values.is_empty() {
            self.line("    #[default]");
        }
        let _ = writeln!(self.out, "    {unknown}(rt::String<{cap}>),");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl {rust} {{");
        self.line("    /// The wire names of the known values, in schema order.");
        let names: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        let _ = writeln!(
            self.out,
            "    pub const NAMES: &'static [&'static str] = &[{}];",
            names.join(", ")
        );
        self.line("");
        self.line("    /// The known value at `index` of [`Self::NAMES`].");
        self.line("    pub fn from_index(index: usize) -> Option<Self> {");
        if values.is_empty() {
            self.line("        let _ = index;");
            self.line("        None");
        } else {
            self.line("        match index {");
            for (i, v) in variants.iter().enumerate() {
                let _ = writeln!(self.out, "            {i} => Some(Self::{v}),");
            }
            self.line("            _ => None,");
            self.line("        }");
        }
        self.line("    }");
        self.line("");
        self.line("    /// The wire name.");
        self.line("    pub fn as_str(&self) -> &str {");
        self.line("        match self {");
        for (v, value) in variants.iter().zip(values) {
            let _ = writeln!(self.out, "            Self::{v} => {value:?},");
        }
        let _ = writeln!(
            self.out,
            "            Self::{unknown}(text) => text.as_str(),"
        );
        self.line("        }");
        self.line("    }");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl rt::Decode for {rust} {{");
        self.line("    fn decode_into<'a>(&mut self, v: json::Json<'a>, mode: rt::Mode) -> Result<(), rt::DecodeError<'a>> {");
        let _ = writeln!(self.out, "        rt::decode_enum(self, v, mode, Self::NAMES, Self::from_index, Self::{unknown})");
        self.line("    }");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl json::Encode for {rust} {{");
        self.line(
            "    fn encode(&self, w: &mut json::JsonWriter<'_>) -> Result<(), json::WriteError> {",
        );
        self.line("        w.string(self.as_str())");
        self.line("    }");
        self.line("}");
        self.line("");
        self.visit.push((def.name.clone(), rust.to_string()));
    }

    fn flat_union(
        &mut self,
        def: &Def,
        rust: &str,
        discriminator: &str,
        branches: &[(String, String)],
    ) {
        let base = self.schema.union_base(def);
        let disc = base.iter().find(|m| m.name == discriminator).cloned();
        let Some(disc) = disc else { return };
        let tag_type = disc.ty.name().to_string();
        let tag_rust = self.scalar(&tag_type, self.caps.for_member(&def.name, discriminator));
        let values = match self.schema.get(&tag_type).map(|d| &d.kind) {
            Some(DefKind::Enum { values }) => values.clone(),
            _ => Vec::new(),
        };
        let (variants, unknown) = enum_variants(&values);
        let cap = self.caps.enum_unknown(&tag_type);
        let variant_type = format!("{rust}Variant");
        let field_names: Vec<String> = base.iter().map(|m| snake(&m.name)).collect();
        let mut variant_field = "variant".to_string();
        while field_names.contains(&variant_field) {
            variant_field.push('_');
        }
        self.def_doc(def, format!("The `{}` union.", def.name));
        self.structure(
            rust,
            &def.name,
            &base,
            def.doc.as_ref(),
            Some((discriminator, &variant_type, &variant_field)),
        );
        // The branch enum.
        let branch_of = |value: &str| {
            branches
                .iter()
                .find(|(b, _)| b == value)
                .map(|(_, t)| t.clone())
        };
        self.doc(
            "",
            &[format!(
                "The branches of [`{rust}`], one per value of `{discriminator}` ([`{tag_rust}`])."
            )],
        );
        self.line("#[derive(Clone, Debug, PartialEq)]");
        let _ = writeln!(self.out, "pub enum {variant_type} {{");
        for (v, value) in variants.iter().zip(&values) {
            match branch_of(value) {
                Some(t) => {
                    self.doc(
                        "    ",
                        &[format!(
                            "`{discriminator}` is `{value}`: the members of [`{}`].",
                            self.scalar(&t, Resolved::zero())
                        )],
                    );
                    let _ = writeln!(self.out, "    {v}({}),", self.scalar(&t, Resolved::zero()));
                }
                None => {
                    self.doc(
                        "    ",
                        &[format!(
                            "`{discriminator}` is `{value}` (no further members)."
                        )],
                    );
                    let _ = writeln!(self.out, "    {v},");
                }
            }
        }
        self.doc("    ", &[format!(
            "`{discriminator}` has a value this schema does not know (lenient decoding only); its members are ignored."
        )]);
        let _ = writeln!(self.out, "    {unknown}(rt::String<{cap}>),");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl Default for {variant_type} {{");
        self.line("    fn default() -> Self {");
        match (variants.first(), values.first().and_then(|v| branch_of(v))) {
            (Some(v), Some(t)) => {
                let _ = writeln!(
                    self.out,
                    "        Self::{v}({}::default())",
                    self.scalar(&t, Resolved::zero())
                );
            }
            (Some(v), None) => {
                let _ = writeln!(self.out, "        Self::{v}");
            }
            (None, _) => {
                let _ = writeln!(self.out, "        Self::{unknown}(rt::String::new())");
            }
        }
        self.line("    }");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl {variant_type} {{");
        let _ = writeln!(self.out, "    /// The value of `{discriminator}`.");
        let _ = writeln!(
            self.out,
            "    pub fn {}(&self) -> {tag_rust} {{",
            snake(discriminator)
        );
        self.line("        match self {");
        for (v, value) in variants.iter().zip(&values) {
            let pat = if branch_of(value).is_some() {
                format!("Self::{v}(_)")
            } else {
                format!("Self::{v}")
            };
            let _ = writeln!(self.out, "            {pat} => {tag_rust}::{v},");
        }
        let _ = writeln!(
            self.out,
            "            Self::{unknown}(text) => {tag_rust}::{unknown}(text.clone()),"
        );
        self.line("        }");
        self.line("    }");
        self.line("");
        let _ = writeln!(self.out, "    /// The wire text of `{discriminator}`.");
        self.line("    pub fn tag(&self) -> &str {");
        self.line("        match self {");
        for (v, value) in variants.iter().zip(&values) {
            let pat = if branch_of(value).is_some() {
                format!("Self::{v}(_)")
            } else {
                format!("Self::{v}")
            };
            let _ = writeln!(self.out, "            {pat} => {value:?},");
        }
        let _ = writeln!(
            self.out,
            "            Self::{unknown}(text) => text.as_str(),"
        );
        self.line("        }");
        self.line("    }");
        self.line("");
        let _ = writeln!(self.out, "    fn from_tag(tag: {tag_rust}) -> Self {{");
        self.line("        match tag {");
        for (v, value) in variants.iter().zip(&values) {
            match branch_of(value) {
                Some(t) => {
                    let _ = writeln!(
                        self.out,
                        "            {tag_rust}::{v} => Self::{v}({}::default()),",
                        self.scalar(&t, Resolved::zero())
                    );
                }
                None => {
                    let _ = writeln!(self.out, "            {tag_rust}::{v} => Self::{v},");
                }
            }
        }
        let _ = writeln!(
            self.out,
            "            {tag_rust}::{unknown}(text) => Self::{unknown}(text),"
        );
        self.line("        }");
        self.line("    }");
        self.line("");
        let with_branch: Vec<(String, String)> = variants
            .iter()
            .zip(&values)
            .filter_map(|(v, value)| {
                branch_of(value).map(|t| (v.clone(), self.scalar(&t, Resolved::zero())))
            })
            .collect();
        self.line("    fn fields(&self) -> &'static [rt::Field] {");
        self.line("        match self {");
        for (v, t) in &with_branch {
            let _ = writeln!(
                self.out,
                "            Self::{v}(_) => <{t} as rt::Object>::FIELDS,"
            );
        }
        self.line("            _ => &[],");
        self.line("        }");
        self.line("    }");
        self.line("");
        self.line("    fn decode_branch<'a>(&mut self, v: json::Json<'a>, mode: rt::Mode) -> Result<(), rt::DecodeError<'a>> {");
        self.line("        match self {");
        for (v, t) in &with_branch {
            let _ = writeln!(self.out, "            Self::{v}(b) => rt::decode_fields(v, <{t} as rt::Object>::FIELDS, &mut |i, m| rt::Object::decode_field(b, i, m, mode)),");
        }
        self.line("            _ => Ok(()),");
        self.line("        }");
        self.line("    }");
        self.line("");
        self.line("    fn encode_branch(&self, w: &mut json::JsonWriter<'_>) -> Result<(), json::WriteError> {");
        self.line("        match self {");
        for (v, _) in &with_branch {
            let _ = writeln!(
                self.out,
                "            Self::{v}(b) => rt::Object::encode_fields(b, w),"
            );
        }
        self.line("            _ => Ok(()),");
        self.line("        }");
        self.line("    }");
        self.line("}");
        self.line("");
    }

    fn simple_union(&mut self, def: &Def, rust: &str, branches: &[(String, TypeRef)]) {
        let (variants, unknown) =
            enum_variants(&branches.iter().map(|(b, _)| b.clone()).collect::<Vec<_>>());
        let cap = self.caps.enum_unknown(&def.name);
        self.def_doc(def, format!("The `{}` union.", def.name));
        self.line("#[derive(Clone, Debug, PartialEq)]");
        let _ = writeln!(self.out, "pub enum {rust} {{");
        let mut types = Vec::new();
        for (v, (b, t)) in variants.iter().zip(branches) {
            let ty = self.type_expr(t, self.caps.for_member(&def.name, b));
            let mut paras = def
                .doc
                .as_ref()
                .and_then(|d| d.member(b))
                .map(paragraphs)
                .unwrap_or_default();
            paras.insert(0, format!("`\"type\": \"{b}\"`."));
            self.doc("    ", &paras);
            let _ = writeln!(self.out, "    {v}({ty}),");
            types.push(ty);
        }
        self.doc("    ", &[format!("A `type` this schema does not know (lenient decoding only), at most {cap} bytes; `data` is ignored.")]);
        let _ = writeln!(self.out, "    {unknown}(rt::String<{cap}>),");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl Default for {rust} {{");
        self.line("    fn default() -> Self {");
        match (variants.first(), types.first()) {
            (Some(v), Some(t)) => {
                let _ = writeln!(self.out, "        Self::{v}(<{t}>::default())");
            }
            _ => {
                let _ = writeln!(self.out, "        Self::{unknown}(rt::String::new())");
            }
        }
        self.line("    }");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl {rust} {{");
        self.line("    /// The wire names of the branches (values of `type`), in schema order.");
        let names: Vec<String> = branches.iter().map(|(b, _)| format!("{b:?}")).collect();
        let _ = writeln!(
            self.out,
            "    pub const NAMES: &'static [&'static str] = &[{}];",
            names.join(", ")
        );
        self.line("");
        self.line("    /// The value of `type`.");
        self.line("    pub fn type_name(&self) -> &str {");
        self.line("        match self {");
        for (v, (b, _)) in variants.iter().zip(branches) {
            let _ = writeln!(self.out, "            Self::{v}(_) => {b:?},");
        }
        let _ = writeln!(
            self.out,
            "            Self::{unknown}(text) => text.as_str(),"
        );
        self.line("        }");
        self.line("    }");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl rt::Decode for {rust} {{");
        self.line("    fn decode_into<'a>(&mut self, v: json::Json<'a>, mode: rt::Mode) -> Result<(), rt::DecodeError<'a>> {");
        self.line("        let (index, tag, data) = rt::simple_union(v, mode, Self::NAMES)?;");
        self.line("        *self = match index {");
        for (i, v) in variants.iter().enumerate() {
            let _ = writeln!(
                self.out,
                "            Some({i}) => Self::{v}(rt::decode_in(data, mode, &\"data\")?),"
            );
        }
        let _ = writeln!(
            self.out,
            "            _ => Self::{unknown}(rt::decode_in(tag, mode, &\"type\")?),"
        );
        self.line("        };");
        self.line("        Ok(())");
        self.line("    }");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl json::Encode for {rust} {{");
        self.line(
            "    fn encode(&self, w: &mut json::JsonWriter<'_>) -> Result<(), json::WriteError> {",
        );
        self.line("        w.begin_object()?;");
        self.line("        rt::member(w, \"type\", self.type_name())?;");
        self.line("        match self {");
        for v in &variants {
            let _ = writeln!(
                self.out,
                "            Self::{v}(data) => rt::member(w, \"data\", data)?,"
            );
        }
        let _ = writeln!(self.out, "            Self::{unknown}(_) => {{}}");
        self.line("        }");
        self.line("        w.end_object()");
        self.line("    }");
        self.line("}");
        self.line("");
        self.visit.push((def.name.clone(), rust.to_string()));
    }

    fn alternate(&mut self, def: &Def, rust: &str, branches: &[(String, TypeRef)]) {
        let variants: Vec<String> = branches.iter().map(|(b, _)| camel(b)).collect();
        self.def_doc(def, format!("The `{}` alternate.", def.name));
        self.line("#[derive(Clone, Debug, PartialEq)]");
        let _ = writeln!(self.out, "pub enum {rust} {{");
        let mut arms = Vec::new();
        for (v, (b, t)) in variants.iter().zip(branches) {
            let ty = self.type_expr(t, self.caps.for_member(&def.name, b));
            let kind = match t {
                TypeRef::List(_) => "Array",
                TypeRef::Named(n) => match n.as_str() {
                    "str" => "String",
                    "bool" => "Bool",
                    "null" => "Null",
                    "number" | "int" | "int8" | "int16" | "int32" | "int64" | "uint8"
                    | "uint16" | "uint32" | "uint64" | "size" => "Number",
                    _ => match self.schema.get(n).map(|d| &d.kind) {
                        Some(DefKind::Enum { .. }) => "String",
                        _ => "Object",
                    },
                },
            };
            let mut paras = def
                .doc
                .as_ref()
                .and_then(|d| d.member(b))
                .map(paragraphs)
                .unwrap_or_default();
            paras.insert(0, format!("Branch `{b}` (a JSON {}).", kind.to_lowercase()));
            self.doc("    ", &paras);
            let _ = writeln!(self.out, "    {v}({ty}),");
            arms.push((kind, v.clone(), ty));
        }
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl Default for {rust} {{");
        self.line("    fn default() -> Self {");
        if let Some((_, v, t)) = arms.first() {
            let _ = writeln!(self.out, "        Self::{v}(<{t}>::default())");
        }
        self.line("    }");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl rt::Decode for {rust} {{");
        self.line("    fn decode_into<'a>(&mut self, v: json::Json<'a>, mode: rt::Mode) -> Result<(), rt::DecodeError<'a>> {");
        self.line("        *self = match v.kind() {");
        for (kind, v, _) in &arms {
            let _ = writeln!(
                self.out,
                "            json::Kind::{kind} => Self::{v}(rt::Decode::decode(v, mode)?),"
            );
        }
        if arms.len() < 6 {
            let _ = writeln!(self.out, "            _ => return Err(rt::DecodeError::new(rt::DecodeErrorKind::WrongType({:?})).with_value(v)),", def.name);
        }
        self.line("        };");
        self.line("        Ok(())");
        self.line("    }");
        self.line("}");
        self.line("");
        let _ = writeln!(self.out, "impl json::Encode for {rust} {{");
        self.line(
            "    fn encode(&self, w: &mut json::JsonWriter<'_>) -> Result<(), json::WriteError> {",
        );
        self.line("        match self {");
        for (_, v, _) in &arms {
            let _ = writeln!(
                self.out,
                "            Self::{v}(x) => json::Encode::encode(x, w),"
            );
        }
        self.line("        }");
        self.line("    }");
        self.line("}");
        self.line("");
        self.visit.push((def.name.clone(), rust.to_string()));
    }

    /// The Rust type of a command's or event's data, emitting an inline
    /// struct when needed.
    fn data_type(
        &mut self,
        def: &Def,
        rust: &str,
        data: Option<&Data>,
        suffix: &str,
        what: &str,
    ) -> (String, bool) {
        match data {
            Some(Data::Members(ms)) if !ms.is_empty() || suffix == "Data" => {
                let base = self
                    .base_names
                    .get(&def.name)
                    .cloned()
                    .unwrap_or_else(|| rust.to_string());
                let name = format!("{base}{suffix}");
                self.doc("", &[format!("The {what} of [`{rust}`] (`{}`).", def.name)]);
                self.structure(&name, &def.name, ms, def.doc.as_ref(), None);
                self.visit.push((
                    format!("{}:{}", def.name, suffix.to_lowercase()),
                    name.clone(),
                ));
                (name, true)
            }
            Some(Data::Members(_)) | None => (
                if suffix == "Args" {
                    "rt::NoArgs"
                } else {
                    "rt::Empty"
                }
                .into(),
                false,
            ),
            Some(Data::Type(t)) => (self.scalar(t, Resolved::zero()), true),
        }
    }

    fn command(&mut self, def: &Def, rust: &str) {
        let DefKind::Command {
            data,
            returns,
            success_response,
            allow_oob,
            ..
        } = &def.kind
        else {
            return;
        };
        let (args, has_args) = self.data_type(def, rust, data.as_ref(), "Args", "arguments");
        let ret = match returns {
            Some(r) => self.type_expr(r, self.caps.for_member(&def.name, "returns")),
            None => "rt::Empty".into(),
        };
        if matches!(returns, Some(TypeRef::List(_)) | Some(TypeRef::Named(_)))
            && !ret.starts_with(|c: char| c.is_ascii_uppercase())
        {
            self.visit
                .push((format!("{}:returns", def.name), ret.clone()));
        }
        self.def_doc(def, format!("The `{}` command.", def.name));
        if let Some(r) = def.doc.as_ref().and_then(|d| d.section("Returns")) {
            let lines: Vec<String> = r.lines.iter().map(|(_, t)| t.clone()).collect();
            let paras = paragraphs(&lines);
            if !paras.is_empty() {
                self.line("///");
                self.doc("", &[format!("Returns: {}", paras.join(" "))]);
            }
        }
        self.line("#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]");
        let _ = writeln!(self.out, "pub struct {rust};");
        self.line("");
        let _ = writeln!(self.out, "impl rt::Command for {rust} {{");
        let _ = writeln!(self.out, "    const NAME: &'static str = {:?};", def.name);
        let _ = writeln!(self.out, "    type Args = {args};");
        let _ = writeln!(self.out, "    type Returns = {ret};");
        let _ = writeln!(self.out, "    const HAS_ARGS: bool = {has_args};");
        let _ = writeln!(
            self.out,
            "    const SUCCESS_RESPONSE: bool = {success_response};"
        );
        let _ = writeln!(self.out, "    const ALLOW_OOB: bool = {allow_oob};");
        self.line("}");
        self.line("");
    }

    fn event(&mut self, def: &Def, rust: &str) {
        let DefKind::Event { data, .. } = &def.kind else {
            return;
        };
        let (ty, has_data) = self.data_type(def, rust, data.as_ref(), "Data", "data");
        self.def_doc(def, format!("The `{}` event.", def.name));
        self.line("#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]");
        let _ = writeln!(self.out, "pub struct {rust};");
        self.line("");
        let _ = writeln!(self.out, "impl rt::Event for {rust} {{");
        let _ = writeln!(self.out, "    const NAME: &'static str = {:?};", def.name);
        let _ = writeln!(self.out, "    type Data = {ty};");
        let _ = writeln!(self.out, "    const HAS_DATA: bool = {has_data};");
        self.line("}");
        self.line("");
    }

    fn tables(&mut self) {
        let commands: Vec<&Def> = self
            .schema
            .defs
            .iter()
            .filter(|d| matches!(d.kind, DefKind::Command { .. }))
            .collect();
        let events: Vec<&Def> = self
            .schema
            .defs
            .iter()
            .filter(|d| matches!(d.kind, DefKind::Event { .. }))
            .collect();
        self.line("/// Every command of this schema, in schema order.");
        self.line("pub const COMMANDS: &[rt::CommandInfo] = &[");
        for c in &commands {
            let rust = &self.rust[&c.name];
            let _ = writeln!(
                self.out,
                "    rt::CommandInfo {{ name: <{rust} as rt::Command>::NAME, success_response: <{rust} as rt::Command>::SUCCESS_RESPONSE, allow_oob: <{rust} as rt::Command>::ALLOW_OOB, has_args: <{rust} as rt::Command>::HAS_ARGS }},"
            );
        }
        self.line("];");
        self.line("");
        self.line("/// Every event name of this schema, in schema order.");
        let names: Vec<String> = events
            .iter()
            .map(|e| format!("<{} as rt::Event>::NAME", self.rust[&e.name]))
            .collect();
        let _ = writeln!(
            self.out,
            "pub const EVENTS: &[&str] = &[{}];",
            names.join(", ")
        );
        self.line("");
        // Request.
        self.line("/// A command with its decoded arguments: what [`decode_request`] returns.");
        self.line("#[derive(Clone, Debug, PartialEq)]");
        self.line("pub enum Request {");
        for c in &commands {
            let rust = self.rust[&c.name].clone();
            self.doc("    ", &[format!("[`{rust}`] (`{}`).", c.name)]);
            let _ = writeln!(self.out, "    {rust}(<{rust} as rt::Command>::Args),");
        }
        self.line("}");
        self.line("");
        self.line("impl Request {");
        self.line("    /// The command's wire name.");
        self.line("    pub fn name(&self) -> &'static str {");
        if commands.is_empty() {
            self.line("        match *self {}");
        } else {
            self.line("        match self {");
            for c in &commands {
                let rust = &self.rust[&c.name];
                let _ = writeln!(
                    self.out,
                    "            Self::{rust}(_) => <{rust} as rt::Command>::NAME,"
                );
            }
            self.line("        }");
        }
        self.line("    }");
        self.line("");
        self.line(
            "    /// The arguments to write as `arguments`; `None` for a command that takes none.",
        );
        self.line("    pub fn arguments(&self) -> Option<&dyn json::Encode> {");
        if commands.is_empty() {
            self.line("        match *self {}");
        } else {
            self.line("        match self {");
            for c in &commands {
                let rust = &self.rust[&c.name];
                let has = matches!(
                    &c.kind,
                    DefKind::Command {
                        data: Some(Data::Type(_)),
                        ..
                    }
                ) || matches!(&c.kind, DefKind::Command { data: Some(Data::Members(m)), .. } if !m.is_empty());
                if has {
                    let _ = writeln!(self.out, "            Self::{rust}(args) => Some(args),");
                } else {
                    let _ = writeln!(self.out, "            Self::{rust}(_) => None,");
                }
            }
            self.line("        }");
        }
        self.line("    }");
        self.line("}");
        self.line("");
        self.line("/// Decode the arguments of the command called `name` (`arguments` absent");
        self.line("/// means none were given; a command without arguments given members is");
        self.line("/// `Unexpected` in strict mode).");
        self.line("///");
        self.line("/// # Errors");
        self.line("///");
        self.line("/// [`rt::RequestError::UnknownCommand`] for a name not in [`COMMANDS`], else");
        self.line("/// the arguments' [`rt::DecodeError`].");
        self.line("pub fn decode_request<'a>(name: json::Str<'a>, arguments: Option<json::Json<'a>>, mode: rt::Mode) -> Result<Request, rt::RequestError<'a>> {");
        if commands.is_empty() {
            self.line("    let _ = (arguments, mode);");
            self.line("    Err(rt::RequestError::UnknownCommand(name))");
        } else {
            self.line("    Ok(match rt::command_index(name, COMMANDS) {");
            for (i, c) in commands.iter().enumerate() {
                let rust = &self.rust[&c.name];
                let _ = writeln!(
                    self.out,
                    "        Some({i}) => Request::{rust}(rt::decode_args(arguments, mode)?),"
                );
            }
            self.line("        _ => return Err(rt::RequestError::UnknownCommand(name)),");
            self.line("    })");
        }
        self.line("}");
        self.line("");
        // Responses.
        self.line("/// A command's decoded return value: what [`decode_response`] returns.");
        self.line("#[derive(Clone, Debug, PartialEq)]");
        self.line("pub enum Response {");
        for c in &commands {
            let rust = self.rust[&c.name].clone();
            self.doc(
                "    ",
                &[format!("The return value of [`{rust}`] (`{}`).", c.name)],
            );
            let _ = writeln!(self.out, "    {rust}(<{rust} as rt::Command>::Returns),");
        }
        self.line("}");
        self.line("");
        self.line("impl Response {");
        self.line("    /// The command's wire name.");
        self.line("    pub fn name(&self) -> &'static str {");
        if commands.is_empty() {
            self.line("        match *self {}");
        } else {
            self.line("        match self {");
            for c in &commands {
                let rust = &self.rust[&c.name];
                let _ = writeln!(
                    self.out,
                    "            Self::{rust}(_) => <{rust} as rt::Command>::NAME,"
                );
            }
            self.line("        }");
        }
        self.line("    }");
        self.line("");
        self.line("    /// The value to write as `return`.");
        self.line("    pub fn value(&self) -> &dyn json::Encode {");
        if commands.is_empty() {
            self.line("        match *self {}");
        } else {
            self.line("        match self {");
            for c in &commands {
                let rust = &self.rust[&c.name];
                let _ = writeln!(self.out, "            Self::{rust}(value) => value,");
            }
            self.line("        }");
        }
        self.line("    }");
        self.line("}");
        self.line("");
        self.line("/// Decode the `return` value of a reply to the command called `name`;");
        self.line("/// `None` for a command this schema does not know.");
        self.line("pub fn decode_response<'a>(name: &str, value: json::Json<'a>, mode: rt::Mode) -> Option<Result<Response, rt::DecodeError<'a>>> {");
        if commands.is_empty() {
            self.line("    let _ = (name, value, mode);");
            self.line("    None");
        } else {
            self.line("    Some(match COMMANDS.iter().position(|c| c.name == name)? {");
            for (i, c) in commands.iter().enumerate() {
                let rust = &self.rust[&c.name];
                let _ = writeln!(
                    self.out,
                    "        {i} => rt::Decode::decode(value, mode).map(Response::{rust}),"
                );
            }
            self.line("        _ => return None,");
            self.line("    })");
        }
        self.line("}");
        self.line("");
        // Events.
        self.line("/// An event with its decoded data: what [`decode_event`] returns.");
        self.line("#[derive(Clone, Debug, PartialEq)]");
        self.line("pub enum EventData {");
        for e in &events {
            let rust = self.rust[&e.name].clone();
            self.doc("    ", &[format!("[`{rust}`] (`{}`).", e.name)]);
            let _ = writeln!(self.out, "    {rust}(<{rust} as rt::Event>::Data),");
        }
        self.line("}");
        self.line("");
        self.line("impl EventData {");
        self.line("    /// The event's wire name.");
        self.line("    pub fn name(&self) -> &'static str {");
        if events.is_empty() {
            self.line("        match *self {}");
        } else {
            self.line("        match self {");
            for e in &events {
                let rust = &self.rust[&e.name];
                let _ = writeln!(
                    self.out,
                    "            Self::{rust}(_) => <{rust} as rt::Event>::NAME,"
                );
            }
            self.line("        }");
        }
        self.line("    }");
        self.line("");
        self.line("    /// The data to write as `data`; `None` for an event without any.");
        self.line("    pub fn data(&self) -> Option<&dyn json::Encode> {");
        if events.is_empty() {
            self.line("        match *self {}");
        } else {
            self.line("        match self {");
            for e in &events {
                let rust = &self.rust[&e.name];
                if matches!(&e.kind, DefKind::Event { data: Some(_), .. }) {
                    let _ = writeln!(self.out, "            Self::{rust}(data) => Some(data),");
                } else {
                    let _ = writeln!(self.out, "            Self::{rust}(_) => None,");
                }
            }
            self.line("        }");
        }
        self.line("    }");
        self.line("}");
        self.line("");
        self.line("/// Decode the data of the event called `name` (`data` absent decodes like");
        self.line("/// `{}`); `None` for an event this schema does not know.");
        self.line("pub fn decode_event<'a>(name: json::Str<'a>, data: Option<json::Json<'a>>, mode: rt::Mode) -> Option<Result<EventData, rt::DecodeError<'a>>> {");
        if events.is_empty() {
            self.line("    let _ = (name, data, mode);");
            self.line("    None");
        } else {
            self.line("    match EVENTS.iter().position(|n| name.eq_str(n))? {");
            for (i, e) in events.iter().enumerate() {
                let rust = &self.rust[&e.name];
                let _ = writeln!(
                    self.out,
                    "        {i} => Some(rt::decode_args(data, mode).map(EventData::{rust})),"
                );
            }
            self.line("        _ => None,");
            self.line("    }");
        }
        self.line("}");
        self.line("");
        // Every type, for tests and fuzzing.
        self.line("/// Hand every generated type (structs, enums, unions, alternates, inline");
        self.line("/// arguments and event data, list and scalar return values) to `visitor`,");
        self.line("/// with its QAPI name (`command:args`, `command:returns`, `event:data` for");
        self.line("/// the generated ones). Tests and fuzzers use it to cover every type.");
        self.line("pub fn visit_types<V: rt::TypeVisitor>(visitor: &mut V) {");
        let visit = std::mem::take(&mut self.visit);
        for (label, ty) in &visit {
            let _ = writeln!(self.out, "    visitor.visit::<{ty}>({label:?});");
        }
        if visit.is_empty() {
            self.line("    let _ = visitor;");
        }
        self.line("}");
    }
}

impl Resolved {
    /// Capacities for naming a defined type (they do not matter there).
    fn zero() -> Resolved {
        Resolved {
            string: 0,
            list: 0,
            any: 0,
            enum_unknown: 0,
            cycle: 0,
        }
    }
}
