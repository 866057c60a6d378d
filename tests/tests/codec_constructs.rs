//! The constructs the seed schemas do not use (alternates, simple unions,
//! a flat union branch without members, every built-in type, a
//! self-referencing type, boxed commands, events with and without data),
//! through the fixture `tools/qapi-gen/tests/data/constructs.json`, generated
//! into `qwire_tests::constructs` against the public runtime.

use qwire::codec::{self, Command, Decode, DecodeErrorKind, Event, Mode};
use qwire::json::{Json, JsonWriter};
use qwire_tests::constructs as c;
use qwire_tests::encode;

fn dec<T: Decode + Default>(text: &str, mode: Mode) -> Result<T, String> {
    T::decode(Json::parse(text.as_bytes()).unwrap(), mode).map_err(|e| e.to_string())
}

fn round<T: Decode + Default + qwire::json::Encode>(text: &str) -> T {
    let v: T = dec(text, Mode::Strict).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(String::from_utf8(encode(&v)).unwrap(), text);
    v
}

#[test]
fn flat_union_with_named_base() {
    let f: c::Figure = round(r#"{"kind":"circle","note":"n","radius":3}"#);
    assert_eq!(f.note.as_deref(), Some("n"));
    assert_eq!(f.variant, c::FigureVariant::Circle(c::Circle { radius: 3 }));
    assert_eq!(f.variant.kind(), c::Shape::Circle);
    // A branch without members; members in any order on input.
    let f: c::Figure = dec(r#"{"note":"x","kind":"square"}"#, Mode::Strict).unwrap();
    assert_eq!(f.variant, c::FigureVariant::Square);
    assert_eq!(encode(&f), br#"{"kind":"square","note":"x"}"#);
    // Unknown discriminator: kept leniently (branch members ignored), bad strictly.
    let f: c::Figure = dec(r#"{"kind":"hexagon","sides":6}"#, Mode::Lenient).unwrap();
    assert_eq!(f.variant.tag(), "hexagon");
    assert_eq!(encode(&f), br#"{"kind":"hexagon"}"#);
    assert_eq!(
        dec::<c::Figure>(r#"{"kind":"hexagon"}"#, Mode::Strict).unwrap_err(),
        "Parameter 'kind' does not accept value 'hexagon'"
    );
    assert_eq!(
        dec::<c::Figure>(r#"{"radius":1}"#, Mode::Strict).unwrap_err(),
        "Parameter 'kind' is missing"
    );
    assert_eq!(
        dec::<c::Figure>(r#"{"kind":"circle"}"#, Mode::Strict).unwrap_err(),
        "Parameter 'radius' is missing"
    );
    assert_eq!(
        dec::<c::Figure>(r#"{"kind":"circle","radius":300}"#, Mode::Strict).unwrap_err(),
        "Parameter 'radius' expects uint8"
    );
    // Strictly, a member of another branch is unexpected.
    assert_eq!(
        dec::<c::Figure>(r#"{"kind":"square","radius":1}"#, Mode::Strict).unwrap_err(),
        "Parameter 'radius' is unexpected"
    );
    assert!(dec::<c::Figure>(r#"{"kind":"square","radius":1}"#, Mode::Lenient).is_ok());
}

#[test]
fn simple_union() {
    let s: c::Simple = round(r#"{"type":"text","data":"hi"}"#);
    assert_eq!(s, c::Simple::Text("hi".try_into().unwrap()));
    let s: c::Simple = round(r#"{"type":"many","data":[1,2]}"#);
    assert!(matches!(&s, c::Simple::Many(v) if v.as_slice() == [1, 2]));
    let _: c::Simple = round(r#"{"type":"circle","data":{"radius":9}}"#);
    let s: c::Simple = dec(r#"{"type":"blob","data":0}"#, Mode::Lenient).unwrap();
    assert_eq!(s.type_name(), "blob");
    assert_eq!(
        dec::<c::Simple>(r#"{"type":"blob","data":0}"#, Mode::Strict).unwrap_err(),
        "Parameter 'type' does not accept value 'blob'"
    );
    assert_eq!(
        dec::<c::Simple>(r#"{"type":"text"}"#, Mode::Strict).unwrap_err(),
        "Parameter 'data' is missing"
    );
    assert_eq!(
        dec::<c::Simple>(r#"{"type":"text","data":1}"#, Mode::Strict).unwrap_err(),
        "Invalid parameter type for 'data', expected: string"
    );
    assert_eq!(
        dec::<c::Simple>(r#"{"type":"text","data":"x","z":1}"#, Mode::Strict).unwrap_err(),
        "Parameter 'z' is unexpected"
    );
}

#[test]
fn alternate_is_chosen_by_json_type() {
    assert_eq!(round::<c::Alt>("5"), c::Alt::Num(5));
    assert_eq!(round::<c::Alt>("true"), c::Alt::Flag(true));
    assert_eq!(
        round::<c::Alt>(r#"{"radius":1}"#),
        c::Alt::Obj(c::Circle { radius: 1 })
    );
    assert_eq!(round::<c::Alt>(r#""red""#), c::Alt::Name(c::Color::Red));
    assert_eq!(round::<c::Alt>("null"), c::Alt::Nothing(codec::Null));
    assert_eq!(
        dec::<c::Alt>("[]", Mode::Strict).unwrap_err(),
        "Invalid parameter type for '<anonymous>', expected: Alt"
    );
    assert_eq!(
        dec::<c::Alt>("1.5", Mode::Strict).unwrap_err(),
        "Invalid parameter type for '<anonymous>', expected: integer"
    );
}

#[test]
fn enum_value_named_like_the_catch_all() {
    assert_eq!(round::<c::Color>(r#""unknown""#), c::Color::Unknown);
    let v: c::Color = dec(r#""blue""#, Mode::Lenient).unwrap();
    assert_eq!(v, c::Color::UnknownValue("blue".try_into().unwrap()));
    assert_eq!(c::Color::NAMES, ["red", "unknown"]);
    let e = c::Color::decode(Json::parse(br#""ultraviolet""#).unwrap(), Mode::Lenient).unwrap_err();
    assert_eq!(e.kind(), DecodeErrorKind::StringTooLong { capacity: 8 });
}

#[test]
fn every_builtin_type() {
    let text = r#"{"i8":-128,"i16":32767,"i32":-1,"i64":-9223372036854775808,"u8":255,"u16":65535,"u32":4294967295,"u64":18446744073709551615,"sz":0,"f":1.5,"any":{"a":[1,"\uD83D\uDE00",null]},"n":null,"type":"t","return":true}"#;
    let n: c::Numbers = round(text);
    assert_eq!(
        (n.i8, n.u64, n.sz, n.type_.as_str(), n.return_),
        (-128, u64::MAX, codec::Size(0), "t", true)
    );
    assert_eq!(
        n.any
            .as_ref()
            .unwrap()
            .as_json()
            .pointer("/a/1")
            .unwrap()
            .as_str()
            .unwrap()
            .to_string(),
        "\u{1F600}"
    );
    let with = |k: &str, v: &str| {
        text.replacen(&format!("\"{k}\":"), &format!("\"{k}\":{v},\"x{k}\":"), 1)
    };
    let err = |k: &str, v: &str| dec::<c::Numbers>(&with(k, v), Mode::Lenient).unwrap_err();
    assert_eq!(err("i8", "128"), "Parameter 'i8' expects int8");
    assert_eq!(err("i16", "-32769"), "Parameter 'i16' expects int16");
    assert_eq!(err("i32", "2147483648"), "Parameter 'i32' expects int32");
    assert_eq!(
        err("i64", "9223372036854775808"),
        "Invalid parameter type for 'i64', expected: integer"
    );
    assert_eq!(err("u8", "-1"), "Parameter 'u8' expects uint8");
    assert_eq!(err("u16", "65536"), "Parameter 'u16' expects uint16");
    assert_eq!(err("u32", "1.5"), "Parameter 'u32' expects uint32");
    assert_eq!(
        err("u64", "18446744073709551616"),
        "Parameter 'u64' expects uint64"
    );
    assert_eq!(err("sz", "-1"), "Parameter 'sz' expects size");
    assert_eq!(
        err("sz", "\"1\""),
        "Invalid parameter type for 'sz', expected: integer"
    );
    assert_eq!(
        err("f", "\"1\""),
        "Invalid parameter type for 'f', expected: number"
    );
    assert_eq!(
        err("n", "0"),
        "Invalid parameter type for 'n', expected: null"
    );
    assert_eq!(
        err("return", "1"),
        "Invalid parameter type for 'return', expected: boolean"
    );
    assert_eq!(
        err("any", &format!("\"{}\"", "a".repeat(70))),
        "Parameter 'any' does not fit in 64 bytes"
    );
    // As QEMU, uint64 takes a negative int64 and wraps it.
    let n: c::Numbers = dec(&with("u64", "-1"), Mode::Lenient).unwrap();
    assert_eq!(n.u64, u64::MAX);
}

#[test]
fn self_referencing_type_keeps_the_back_edge_as_json() {
    let t: c::Tree = round(r#"{"name":"a","children":[{"name":"b","children":[]},{"name":"c"}]}"#);
    let raw = t.children.as_ref().unwrap();
    let kids = codec::Vec::<c::Tree, 4>::decode(raw.as_json(), Mode::Strict).unwrap();
    assert_eq!(
        kids.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
        ["b", "c"]
    );
    let big = format!(
        r#"{{"name":"a","children":[{}]}}"#,
        [r#"{"name":"bbbbbbbbbbbb"}"#; 8].join(",")
    );
    assert_eq!(
        dec::<c::Tree>(&big, Mode::Lenient).unwrap_err(),
        "Parameter 'children' does not fit in 128 bytes"
    );
}

#[test]
fn struct_base_members_come_first() {
    let d: c::Derived = dec(r#"{"label":"l","radius":2}"#, Mode::Strict).unwrap();
    assert_eq!(encode(&d), br#"{"radius":2,"label":"l"}"#);
}

#[test]
fn commands_and_events() {
    let flags = |has_args, success, oob| (has_args, success, oob);
    assert_eq!(
        flags(
            <c::DoBoxed as Command>::HAS_ARGS,
            <c::DoBoxed as Command>::SUCCESS_RESPONSE,
            <c::DoBoxed as Command>::ALLOW_OOB
        ),
        (true, true, true)
    );
    assert_eq!(
        flags(
            <c::DoAlt as Command>::HAS_ARGS,
            <c::DoAlt as Command>::SUCCESS_RESPONSE,
            <c::DoAlt as Command>::ALLOW_OOB
        ),
        (true, false, false)
    );
    assert_eq!(
        [<c::Tick as Event>::HAS_DATA, <c::Moved as Event>::HAS_DATA],
        [false, true]
    );
    let _: fn() -> <c::Tick as Event>::Data = codec::Empty::default;
    let mut buf = [0u8; 128];
    let mut w = JsonWriter::new(&mut buf);
    let args = c::Figure {
        variant: c::FigureVariant::Square,
        note: None,
    };
    codec::write_request_oob::<c::DoBoxed>(&mut w, &args, Some(&7i64)).unwrap();
    assert_eq!(
        w.finish().unwrap(),
        br#"{"exec-oob":"do-boxed","arguments":{"kind":"square"},"id":7}"#
    );
    assert_eq!(
        c::COMMANDS
            .iter()
            .map(|i| (i.name, i.success_response, i.allow_oob, i.has_args))
            .collect::<Vec<_>>(),
        [
            ("do-boxed", true, true, true),
            ("do-alt", false, false, true),
            ("grow", true, false, true),
        ]
    );
    let returned: <c::DoBoxed as Command>::Returns = dec(r#"["a","b"]"#, Mode::Lenient).unwrap();
    assert_eq!(returned.len(), 2);
    assert_eq!(
        dec::<<c::DoBoxed as Command>::Returns>(r#"["a","b","c"]"#, Mode::Lenient).unwrap_err(),
        "Parameter '<anonymous>' has more than 2 list elements"
    );
    assert_eq!(
        dec::<<c::DoBoxed as Command>::Returns>(r#"["a","bbbbbbbbb"]"#, Mode::Lenient).unwrap_err(),
        "Parameter '[1]' is longer than 8 bytes"
    );
    let name = Json::parse(br#""MOVED""#).unwrap().as_str().unwrap();
    let data = Json::parse(br#"{"radius":4}"#).unwrap();
    assert_eq!(
        c::decode_event(name, Some(data), Mode::Strict)
            .unwrap()
            .unwrap(),
        c::EventData::Moved(c::Circle { radius: 4 })
    );
    let tick = Json::parse(br#""TICK""#).unwrap().as_str().unwrap();
    let e = c::decode_event(tick, None, Mode::Strict).unwrap().unwrap();
    assert!(e.data().is_none());
    let other = Json::parse(br#""OTHER""#).unwrap().as_str().unwrap();
    assert!(c::decode_event(other, None, Mode::Lenient).is_none());
    let alt = Json::parse(br#""do-alt""#).unwrap().as_str().unwrap();
    let args = Json::parse(br#"{"alt":"red","simple":{"type":"text","data":"s"}}"#).unwrap();
    match c::decode_request(alt, Some(args), Mode::Strict).unwrap() {
        c::Request::DoAlt(a) => assert_eq!(a.alt, c::Alt::Name(c::Color::Red)),
        other => panic!("{other:?}"),
    }
}
