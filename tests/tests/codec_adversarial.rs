//! Every generated type, fed hostile input, returns errors and never panics.
//!
//! The types are reached through the generated `visit_types` (all structs,
//! enums, unions, inline arguments and list/scalar returns of both schemas)
//! and the commands through `decode_request`. For each type the test derives
//! a valid sample from `T::default()` (its encoding), then checks wrong JSON
//! types, missing and unknown members, over-long strings, deep nesting,
//! escapes and surrogate pairs, and unknown enum values, in both modes; a
//! property test feeds random JSON.

use proptest::prelude::*;
use qwire::codec::{Decode, DecodeErrorKind, Mode, TypeVisitor};
use qwire::json::{Encode, Json};
use qwire_tests::{encode, json_eq, sj, with_big_stack};
use serde_json::Value;

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Null => "null",
    }
}

fn decode<T: Decode + Default>(text: &str, mode: Mode) -> Result<T, (DecodeErrorKind, String)> {
    let v = Json::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"));
    T::decode(v, mode).map_err(|e| (e.kind(), e.to_string()))
}

/// Decoding `text` succeeded: the value re-encodes to JSON that decodes to
/// the same value (so nothing was half-read).
fn stable<T: Decode + Encode + Default + std::fmt::Debug>(value: &T, mode: Mode, name: &str) {
    let bytes = encode(value);
    assert!(bytes.is_ascii(), "{name}");
    let again: T = decode(std::str::from_utf8(&bytes).unwrap(), mode)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    assert_eq!(encode(&again), bytes, "{name}");
}

/// Replace every string in `v` by `f(string)`.
fn map_strings(v: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| map_strings(x, f)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), map_strings(x, f)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn has_string(v: &Value) -> bool {
    match v {
        Value::String(_) => true,
        Value::Array(a) => a.iter().any(has_string),
        Value::Object(o) => o.values().any(has_string),
        _ => false,
    }
}

#[derive(Default)]
struct Hostile {
    types: Vec<&'static str>,
    enums: usize,
    objects: usize,
}

const DEEP: usize = 1000;

impl TypeVisitor for Hostile {
    fn visit<T: Decode + Encode + Default + std::fmt::Debug + 'static>(
        &mut self,
        name: &'static str,
    ) {
        self.types.push(name);
        let sample_bytes = encode(&T::default());
        let sample = sj(&sample_bytes);
        let sample_text = String::from_utf8(sample_bytes).unwrap();
        let kind = kind_of(&sample);
        for mode in [Mode::Lenient, Mode::Strict] {
            // The default round-trips.
            let d: T = decode(&sample_text, mode).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert!(json_eq(&sj(&encode(&d)), &sample), "{name}");
            // Every other JSON type is a type error (numbers as strings etc.).
            for other in [
                "1",
                "-1.5e300",
                "\"s\"",
                "true",
                "null",
                "[]",
                "{}",
                "[[[[[]]]]]",
            ] {
                if kind_of(&sj(other.as_bytes())) == kind {
                    continue;
                }
                let (k, msg) = decode::<T>(other, mode).unwrap_err();
                assert!(
                    matches!(k, DecodeErrorKind::WrongType(_)),
                    "{name} {other}: {k:?}"
                );
                assert!(
                    msg.starts_with("Invalid parameter type for '<anonymous>', expected: "),
                    "{msg}"
                );
            }
            // Deeply nested input where the value should be.
            let deep = format!("{}{}", "[".repeat(DEEP), "]".repeat(DEEP));
            if kind != "array" {
                assert!(decode::<T>(&deep, mode).is_err(), "{name}");
            }
        }
        if kind == "string" {
            // An enum: unknown values are kept in lenient mode, rejected in
            // strict mode; an unknown value over capacity is an error.
            self.enums += 1;
            let v: T = decode("\"zz-from-a-newer-qemu\"", Mode::Lenient).unwrap();
            assert_eq!(encode(&v), b"\"zz-from-a-newer-qemu\"", "{name}");
            let (k, msg) = decode::<T>("\"zz-from-a-newer-qemu\"", Mode::Strict).unwrap_err();
            assert_eq!(k, DecodeErrorKind::BadEnum, "{name}");
            assert_eq!(
                msg,
                "Parameter '<anonymous>' does not accept value 'zz-from-a-newer-qemu'"
            );
            let long = format!("\"{}\"", "z".repeat(100_000));
            let (k, _) = decode::<T>(&long, Mode::Lenient).unwrap_err();
            assert!(
                matches!(k, DecodeErrorKind::StringTooLong { .. }),
                "{name}: {k:?}"
            );
            // Escapes and a surrogate pair in an unknown value.
            let v: T = decode("\"\\ud83d\\ude00\\u00e9\\n\"", Mode::Lenient).unwrap();
            assert_eq!(encode(&v), b"\"\\uD83D\\uDE00\\u00E9\\n\"", "{name}");
        }
        if kind == "object" {
            self.objects += 1;
            let obj = sample.as_object().unwrap();
            // An unknown member: ignored leniently, unexpected strictly, and
            // skipped without looking inside however deep it is.
            for extra in ["1".to_string(), deep_object()] {
                let text = with_member(&sample_text, "zz-unknown", &extra);
                let v: T = decode(&text, Mode::Lenient).unwrap_or_else(|e| panic!("{name}: {e:?}"));
                assert!(json_eq(&sj(&encode(&v)), &sample), "{name}");
                let (k, msg) = decode::<T>(&text, Mode::Strict).unwrap_err();
                assert_eq!(k, DecodeErrorKind::Unexpected, "{name}");
                assert_eq!(msg, "Parameter 'zz-unknown' is unexpected");
            }
            // Each member in turn: missing (if it is in the sample it is
            // required, or an optional one written by default), and given
            // a value of every wrong type.
            for (key, value) in obj {
                let mut without = obj.clone();
                without.remove(key);
                let text = Value::Object(without).to_string();
                if let Err((k, msg)) = decode::<T>(&text, Mode::Strict) {
                    assert_eq!(k, DecodeErrorKind::Missing, "{name}.{key}");
                    assert!(
                        msg.starts_with("Parameter '") && msg.ends_with("' is missing"),
                        "{msg}"
                    );
                }
                for wrong in ["\"s\"", "1", "true", "null", "[]", "{}"] {
                    let wrong_v = sj(wrong.as_bytes());
                    if kind_of(&wrong_v) == kind_of(value)
                        || (value.is_string() && wrong_v.is_string())
                    {
                        continue;
                    }
                    let mut with = obj.clone();
                    with.insert(key.clone(), wrong_v);
                    let text = Value::Object(with).to_string();
                    for mode in [Mode::Lenient, Mode::Strict] {
                        let (_, msg) = decode::<T>(&text, mode).unwrap_err();
                        assert!(
                            msg.contains(&format!("'{key}")),
                            "{name}.{key} = {wrong}: {msg}"
                        );
                    }
                }
                // A duplicate member.
                let dup = with_member(&sample_text, key, &value.to_string());
                let (k, _) = decode::<T>(&dup, Mode::Strict).unwrap_err();
                assert_eq!(k, DecodeErrorKind::Duplicate, "{name}.{key}");
                assert!(decode::<T>(&dup, Mode::Lenient).is_ok(), "{name}.{key}");
            }
        }
        if has_string(&sample) {
            // Over-long strings are errors, never truncated.
            let long = map_strings(&sample, &|_| "x".repeat(100_000));
            let text = long.to_string();
            for mode in [Mode::Lenient, Mode::Strict] {
                match decode::<T>(&text, mode) {
                    Err((DecodeErrorKind::StringTooLong { capacity }, msg)) => {
                        assert!(capacity < 100_000);
                        assert!(
                            msg.ends_with(&format!("is longer than {capacity} bytes")),
                            "{msg}"
                        );
                    }
                    // Enum-typed strings reject it as a value first.
                    Err((DecodeErrorKind::BadEnum, _)) if mode == Mode::Strict => {}
                    other => panic!("{name}: {other:?}"),
                }
            }
            // Escapes and surrogate pairs decode; output is pure ASCII.
            let fancy = map_strings(&sample, &|s| {
                if s.is_empty() {
                    "\u{1F600}é\"\\\n".into()
                } else {
                    s.into()
                }
            });
            if let Ok(v) = decode::<T>(&fancy.to_string(), Mode::Lenient) {
                let out = encode(&v);
                assert!(out.is_ascii());
                assert!(json_eq(&sj(&out), &fancy), "{name}");
                stable(&v, Mode::Lenient, name);
            }
        }
    }
}

fn with_member(object_text: &str, key: &str, value: &str) -> String {
    let body = object_text.trim_start_matches('{');
    if body == "}" {
        format!("{{\"{key}\":{value}}}")
    } else {
        format!("{{\"{key}\":{value},{body}")
    }
}

fn deep_object() -> String {
    format!("{}1{}", "{\"a\":[".repeat(DEEP / 2), "]}".repeat(DEEP / 2))
}

#[test]
fn every_generated_type_rejects_hostile_input() {
    with_big_stack(|| {
        let mut qmp = Hostile::default();
        qwire::qmp::schema::visit_types(&mut qmp);
        // 24 structs + 2 enums + 1 union + inline args/data + list returns.
        assert_eq!(qmp.enums, 2);
        assert!(qmp.types.contains(&"CpuInfo") && qmp.types.contains(&"add_client:args"));
        assert!(qmp.types.contains(&"query-commands:returns"));
        let mut qga = Hostile::default();
        qwire::qga::schema::visit_types(&mut qga);
        assert_eq!(qga.enums, 3);
        assert!(qga.types.contains(&"guest-set-vcpus:args"));
        println!(
            "qmp: {} types ({} objects); qga: {} types ({} objects)",
            qmp.types.len(),
            qmp.objects,
            qga.types.len(),
            qga.objects
        );
    });
}

#[test]
fn lists_over_capacity_are_errors() {
    with_big_stack(|| {
        let entries =
            |n: usize, f: &dyn Fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>().join(",");
        let cmds = |n| format!("[{}]", entries(n, &|i| format!("{{\"name\":\"c{i}\"}}")));
        type Cmds = <qwire::qmp::schema::QueryCommands as qwire::codec::Command>::Returns;
        assert_eq!(
            decode::<Cmds>(&cmds(320), Mode::Lenient).unwrap().len(),
            320
        );
        let (k, msg) = decode::<Cmds>(&cmds(321), Mode::Lenient).unwrap_err();
        assert_eq!(k, DecodeErrorKind::TooManyElements { capacity: 320 });
        assert_eq!(
            msg,
            "Parameter '<anonymous>' has more than 320 list elements"
        );
        // Inside arguments, with QEMU's path syntax.
        let vcpus = |n| {
            format!(
                "{{\"vcpus\":[{}]}}",
                entries(n, &|i| format!("{{\"logical-id\":{i},\"online\":true}}"))
            )
        };
        let name = Json::parse(b"\"guest-set-vcpus\"")
            .unwrap()
            .as_str()
            .unwrap();
        let args = vcpus(257);
        let e = qwire::qga::schema::decode_request(
            name,
            Some(Json::parse(args.as_bytes()).unwrap()),
            Mode::Strict,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Parameter 'vcpus' has more than 256 list elements"
        );
        let bad = "{\"vcpus\":[{\"logical-id\":0,\"online\":true},{\"logical-id\":1,\"online\":true},{\"logical-id\":2,\"online\":\"yes\"}]}";
        let e = qwire::qga::schema::decode_request(
            name,
            Some(Json::parse(bad.as_bytes()).unwrap()),
            Mode::Strict,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid parameter type for 'vcpus[2].online', expected: boolean"
        );
    });
}

/// Every command by name: no arguments, its default arguments, and hostile
/// arguments, in both modes.
#[test]
fn every_command_through_decode_request() {
    with_big_stack(|| {
        for (commands, decode_request) in [
            (
                qwire::qmp::schema::COMMANDS,
                qmp_request
                    as fn(qwire::json::Str<'_>, Option<Json<'_>>, Mode) -> Result<Vec<u8>, String>,
            ),
            (qwire::qga::schema::COMMANDS, qga_request),
        ] {
            for c in commands {
                let quoted = format!("\"{}\"", c.name);
                let name = Json::parse(quoted.as_bytes()).unwrap().as_str().unwrap();
                let none = decode_request(name, None, Mode::Strict);
                if c.has_args {
                    if let Err(e) = &none {
                        assert!(e.ends_with("' is missing"), "{}: {e}", c.name);
                    }
                } else {
                    assert_eq!(none.unwrap(), b"{}");
                    let e = decode_request(
                        name,
                        Some(Json::parse(b"{\"bogus\":1}").unwrap()),
                        Mode::Strict,
                    )
                    .unwrap_err();
                    assert_eq!(e, "Parameter 'bogus' is unexpected");
                    assert!(decode_request(
                        name,
                        Some(Json::parse(b"{\"bogus\":1}").unwrap()),
                        Mode::Lenient
                    )
                    .is_ok());
                }
                for hostile in ["[]", "1", "\"x\"", "null", "true"] {
                    let e = decode_request(
                        name,
                        Some(Json::parse(hostile.as_bytes()).unwrap()),
                        Mode::Strict,
                    )
                    .unwrap_err();
                    assert_eq!(
                        e, "Invalid parameter type for '<anonymous>', expected: object",
                        "{}",
                        c.name
                    );
                }
            }
            let unknown = Json::parse(b"\"no-such-command\"")
                .unwrap()
                .as_str()
                .unwrap();
            assert_eq!(
                decode_request(unknown, None, Mode::Lenient).unwrap_err(),
                "The command no-such-command has not been found"
            );
        }
    });
}

fn qmp_request(
    name: qwire::json::Str<'_>,
    args: Option<Json<'_>>,
    mode: Mode,
) -> Result<Vec<u8>, String> {
    let r = qwire::qmp::schema::decode_request(name, args, mode).map_err(|e| e.to_string())?;
    assert!(name.eq_str(r.name()));
    Ok(r.arguments().map_or_else(|| b"{}".to_vec(), encode))
}

fn qga_request(
    name: qwire::json::Str<'_>,
    args: Option<Json<'_>>,
    mode: Mode,
) -> Result<Vec<u8>, String> {
    let r = qwire::qga::schema::decode_request(name, args, mode).map_err(|e| e.to_string())?;
    assert!(name.eq_str(r.name()));
    Ok(r.arguments().map_or_else(|| b"{}".to_vec(), encode))
}

/// Random JSON decodes into every type without panicking; what decodes
/// re-encodes stably.
struct Random<'v>(&'v [u8]);

impl TypeVisitor for Random<'_> {
    fn visit<T: Decode + Encode + Default + std::fmt::Debug + 'static>(
        &mut self,
        name: &'static str,
    ) {
        let v = Json::parse(self.0).unwrap();
        for mode in [Mode::Lenient, Mode::Strict] {
            if let Ok(t) = T::decode(v, mode) {
                stable(&t, mode, name);
            }
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300)
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("ipv4".to_string()),
            Just("x86".to_string()),
            Just("virtio".to_string()),
            Just("".to_string()),
            "\\PC{0,12}",
            "[a-z_-]{1,10}"
        ]
        .prop_map(Value::String),
    ];
    let keys = prop_oneof![
        Just("name".to_string()),
        Just("arch".to_string()),
        Just("id".to_string()),
        Just("enabled".to_string()),
        Just("supported_commands".to_string()),
        Just("qemu".to_string()),
        Just("major".to_string()),
        Just("ip-address-type".to_string()),
        Just("devices".to_string()),
        Just("bus".to_string()),
        Just("vcpus".to_string()),
        Just("logical-id".to_string()),
        Just("online".to_string()),
        "[a-z-]{1,8}"
    ];
    leaf.prop_recursive(5, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
    #[test]
    fn random_json_never_panics(v in arb_json()) {
        let text = v.to_string().into_bytes();
        with_big_stack(move || {
            qwire::qmp::schema::visit_types(&mut Random(&text));
            qwire::qga::schema::visit_types(&mut Random(&text));
        });
    }
}
