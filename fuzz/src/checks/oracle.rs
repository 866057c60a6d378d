//! Independent views of JSON values, for comparing qwire with serde_json.

use qwire::json::{Json, JsonWriter, Kind};
use serde_json::Value;

/// JSON values equal, numbers by value: integers exactly when both are
/// integers, otherwise as `f64` (so `1` equals `1.0`, and a 30-digit integer
/// equals the double it rounds to).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                return x == y;
            }
            x.as_f64() == y.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// qwire's own reading of a value (its iterators, string decoder and number
/// readers), as a serde_json value. A later duplicate key replaces an
/// earlier one, as in serde_json. `None` for a number that is not finite as
/// `f64` (serde_json refuses those). Recursion is bounded by the caller:
/// only values serde_json accepted (depth < 128) come here.
pub fn qwire_view(v: Json<'_>) -> Option<Value> {
    Some(match v.kind() {
        Kind::Null => {
            assert!(v.is_null(), "kind null but not null: {v:?}");
            Value::Null
        }
        Kind::Bool => Value::Bool(v.as_bool().expect("kind bool but no bool")),
        Kind::String => Value::String(v.as_str().expect("kind string").chars().collect()),
        Kind::Number => {
            if let Some(i) = v.as_i64() {
                Value::from(i)
            } else if let Some(u) = v.as_u64() {
                Value::from(u)
            } else {
                let f = v.as_f64().expect("kind number but no f64");
                Value::Number(serde_json::Number::from_f64(f)?)
            }
        }
        Kind::Array => Value::Array(v.elements().map(qwire_view).collect::<Option<_>>()?),
        Kind::Object => {
            let mut map = serde_json::Map::new();
            for (k, val) in v.members() {
                map.insert(k.chars().collect(), qwire_view(val)?);
            }
            Value::Object(map)
        }
    })
}

/// Every object in `v` has distinct keys (after unescaping). `v` must be the
/// value serde_json read from the same text as `j`: serde_json keeps one
/// member per key, so a count that differs means a duplicate.
pub fn unique_keys(j: Json<'_>, v: &Value) -> bool {
    match (j.kind(), v) {
        (Kind::Object, Value::Object(map)) => {
            j.members().count() == map.len()
                && j.members().all(|(k, jv)| {
                    let key: String = k.chars().collect();
                    map.get(&key).is_some_and(|sv| unique_keys(jv, sv))
                })
        }
        (Kind::Array, Value::Array(items)) => {
            j.elements().count() == items.len()
                && j.elements().zip(items).all(|(jv, sv)| unique_keys(jv, sv))
        }
        _ => true,
    }
}

/// `v` written by qwire's writer (`JsonWriter::value`: whitespace dropped,
/// strings double-quoted pure ASCII, big integers in exponent form).
pub fn normalised(v: Json<'_>) -> Vec<u8> {
    // Escaping grows a character at most sixfold (a control byte becomes
    // `\u001F`; four UTF-8 bytes become a twelve-byte surrogate pair).
    let mut buf = vec![0u8; v.as_bytes().len() * 6 + 16];
    let mut w = JsonWriter::new(&mut buf);
    w.value(v)
        .expect("value() into a buffer six times its size");
    w.finish().expect("finish after one value").to_vec()
}

/// serde_json's reading of `v` (through qwire's normalised copy, which is
/// strict JSON even when `v` used single quotes). `None` where serde_json
/// refuses it: deeper than 127, or a number beyond `f64`.
pub fn serde_view(v: Json<'_>) -> Option<Value> {
    serde_json::from_slice(&normalised(v)).ok()
}

/// Byte range `inner` lies within `outer` (same allocation).
pub fn is_subslice(outer: &[u8], inner: &[u8]) -> bool {
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    o.start <= i.start && i.end <= o.end
}

/// serde_json accepts `bytes` as one document, or refuses it only for one
/// of the two documented differences (see `differential`): nesting of 128
/// or more, or a number beyond `f64`.
pub fn serde_accepts(bytes: &[u8]) -> Result<(), serde_json::Error> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(_) => Ok(()),
        Err(e) => {
            let msg = e.to_string();
            if msg.starts_with("recursion limit exceeded") || msg.starts_with("number out of range")
            {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}
