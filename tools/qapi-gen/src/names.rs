//! QAPI names → Rust names.
//!
//! * Types, commands, events and enum values become `CamelCase`: the name is
//!   split at `-`, `_`, `.` and `+`; each part gets an upper-case first
//!   letter, and a part written all in capitals is lower-cased after its
//!   first letter (`BALLOON_CHANGE` → `BalloonChange`, `x86` → `X86`).
//!   Mixed-case parts keep their spelling (`CpuInfoSPARC`, `GuestPCIAddress`).
//! * Members become `snake_case` (`CPU` → `cpu`, `buf-b64` → `buf_b64`,
//!   `UUID` → `uuid`); Rust keywords get a trailing `_` (`type` → `type_`).
//! * A name starting with a digit gets a prefix (`_` for members, `V` for
//!   variants).

/// Rust keywords (strict and reserved, all editions).
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen", "union",
];

/// Names the generated code uses unqualified; a QAPI type of the same name
/// gets a `Qapi` prefix.
pub const RESERVED_TYPES: &[&str] = &[
    "Self",
    "Option",
    "Result",
    "Some",
    "None",
    "Ok",
    "Err",
    "Default",
    "Request",
    "EventData",
    "Sized",
    "Copy",
    "Clone",
    "Send",
    "Sync",
];

fn parts(name: &str) -> impl Iterator<Item = &str> {
    name.split(['-', '_', '.', '+']).filter(|p| !p.is_empty())
}

/// `CamelCase` for a type, command, event or enum value.
pub fn camel(name: &str) -> String {
    let mut out = String::new();
    for part in parts(name) {
        let all_caps = part.chars().any(|c| c.is_ascii_uppercase())
            && !part.chars().any(|c| c.is_ascii_lowercase());
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            if all_caps {
                out.extend(chars.map(|c| c.to_ascii_lowercase()));
            } else {
                out.extend(chars);
            }
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// `snake_case` for a member.
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if matches!(c, '-' | '.' | '+' | '_') {
            if !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let boundary = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower);
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// The Rust name of a QAPI type.
pub fn type_name(name: &str) -> String {
    let c = camel(name);
    if RESERVED_TYPES.contains(&c.as_str()) {
        format!("Qapi{c}")
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(camel("guest-sync-delimited"), "GuestSyncDelimited");
        assert_eq!(camel("qmp_capabilities"), "QmpCapabilities");
        assert_eq!(camel("BALLOON_CHANGE"), "BalloonChange");
        assert_eq!(camel("CpuInfoSPARC"), "CpuInfoSPARC");
        assert_eq!(camel("x86"), "X86");
        assert_eq!(camel("q_obj_CpuInfo-base"), "QObjCpuInfoBase");
        assert_eq!(camel("9p"), "V9p");
        assert_eq!(snake("CPU"), "cpu");
        assert_eq!(snake("UUID"), "uuid");
        assert_eq!(snake("PC"), "pc");
        assert_eq!(snake("buf-b64"), "buf_b64");
        assert_eq!(snake("qom_path"), "qom_path");
        assert_eq!(snake("mem_type_64"), "mem_type_64");
        assert_eq!(snake("supported_commands"), "supported_commands");
        assert_eq!(snake("success-response"), "success_response");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("return"), "return_");
        assert_eq!(snake("CPUInfo"), "cpu_info");
        assert_eq!(snake("fooBar"), "foo_bar");
        assert_eq!(snake("64bit"), "_64bit");
        assert_eq!(type_name("Option"), "QapiOption");
    }
}
