//! `json_pointer`: `Json::pointer` (what the C ABI's `qw_json_pointer`
//! calls) on an arbitrary document and pointer.
//!
//! Input: the document, then optionally a NUL and the pointer (split at the
//! last NUL; a valid document holds no raw NUL). Checked:
//!
//! * on bytes that were never validated (`Json::trusted`, as spans come
//!   back through the C ABI) `pointer`, the member and element iterators
//!   (also resumed at arbitrary positions) and `Str::chars` do not panic,
//!   end, and only hand out sub-spans of the document;
//! * on a valid document (QEMU's dialect) a found value is a sub-span that
//!   re-parses on its own; a pointer with an invalid escape (`~` not
//!   followed by `0` or `1`, RFC 6901 §3) finds nothing;
//! * where serde_json reads the document too (no duplicate keys), the
//!   pointer finds what `serde_json::Value::pointer` finds, and so does the
//!   pointer to every value in the document (up to 64 of them).

use super::oracle::{is_subslice, json_eq, serde_view, unique_keys};
use qwire::framer::Config;
use qwire::json::{Elements, Json, Members};
use serde_json::Value;

pub fn check(data: &[u8]) {
    let (doc, pointer) = match data.iter().rposition(|&b| b == 0) {
        Some(i) => (&data[..i], Some(String::from_utf8_lossy(&data[i + 1..]))),
        None => (data, None),
    };
    unvalidated(doc, pointer.as_deref());
    let Ok(json) = Json::parse_with(doc, Config::QEMU_INPUT) else {
        return;
    };
    let serde = serde_view(json).filter(|v| unique_keys(json, v));
    if let Some(p) = pointer.as_deref() {
        let found = json.pointer(p);
        if let Some(v) = found {
            reparses(doc, v);
        }
        if !valid_escapes(p) {
            assert_eq!(
                found, None,
                "pointer {p:?} with an invalid escape found a value"
            );
        } else if let Some(sv) = &serde {
            same(found, sv.pointer(p), p);
        }
    }
    if let Some(sv) = &serde {
        let mut paths = Vec::new();
        every_path(sv, &mut String::new(), &mut paths);
        for p in &paths {
            let found = json.pointer(p);
            assert!(found.is_some(), "no value at {p:?}");
            same(found, sv.pointer(p), p);
        }
    }
}

/// Readers on bytes that may not be JSON at all.
fn unvalidated(doc: &[u8], pointer: Option<&str>) {
    let t = Json::trusted(doc);
    if let Some(v) = pointer.and_then(|p| t.pointer(p)) {
        assert!(is_subslice(doc, v.as_bytes()), "pointer left the document");
    }
    // Every step moves forward, so no iteration can be longer than this.
    let bound = doc.len() + 1;
    let starts = (0..doc.len().min(16)).map(Some).chain([None]);
    for start in starts {
        let members = Members::resume(t, start);
        assert!(members.clone().count() <= bound, "members do not end");
        for (k, v) in members.take(bound) {
            assert!(is_subslice(doc, k.raw()) && is_subslice(doc, v.as_bytes()));
            assert!(k.chars().count() <= k.raw().len());
        }
        let elements = Elements::resume(t, start);
        assert!(elements.clone().count() <= bound, "elements do not end");
        for v in elements.take(bound) {
            assert!(is_subslice(doc, v.as_bytes()));
        }
    }
    if let Some(s) = t.as_str() {
        assert!(s.chars().count() <= doc.len());
    }
}

/// A found value is a sub-span of the document that is one value itself.
fn reparses(doc: &[u8], v: Json<'_>) {
    assert!(is_subslice(doc, v.as_bytes()), "pointer left the document");
    match Json::parse_with(v.as_bytes(), Config::QEMU_INPUT) {
        Ok(again) => assert_eq!(again.as_bytes(), v.as_bytes(), "found value has padding"),
        Err(e) => panic!("found value does not parse: {e}: {v:?}"),
    }
}

fn same(found: Option<Json<'_>>, expected: Option<&Value>, p: &str) {
    match (found, expected) {
        (None, None) => {}
        (Some(v), Some(e)) => {
            let got = serde_view(v).expect("a part of a document serde_json read");
            assert!(
                json_eq(&got, e),
                "at {p:?}: qwire finds {got}, serde_json {e}"
            );
        }
        (f, e) => panic!("at {p:?}: qwire finds {f:?}, serde_json {e:?}"),
    }
}

/// Every `~` is followed by `0` or `1`.
fn valid_escapes(p: &str) -> bool {
    let b = p.as_bytes();
    (0..b.len()).all(|i| b[i] != b'~' || matches!(b.get(i + 1), Some(b'0' | b'1')))
}

/// Pointers to every value of `v` (at most 64), escaped per RFC 6901.
fn every_path(v: &Value, here: &mut String, out: &mut Vec<String>) {
    if out.len() >= 64 {
        return;
    }
    out.push(here.clone());
    let len = here.len();
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                here.push_str(&format!("/{i}"));
                every_path(item, here, out);
                here.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                here.push('/');
                here.push_str(&k.replace('~', "~0").replace('/', "~1"));
                every_path(item, here, out);
                here.truncate(len);
            }
        }
        _ => {}
    }
}
