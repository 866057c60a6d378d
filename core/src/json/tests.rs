use super::*;
use std::string::String;
use std::vec::Vec;

fn parse(s: &str) -> Json<'_> {
    Json::parse(s.as_bytes()).unwrap()
}

#[test]
fn kinds_and_scalars() {
    assert_eq!(parse("{}").kind(), Kind::Object);
    assert_eq!(parse("[]").kind(), Kind::Array);
    assert_eq!(parse("\"x\"").kind(), Kind::String);
    assert_eq!(parse("-0").kind(), Kind::Number);
    assert_eq!(parse("true").as_bool(), Some(true));
    assert_eq!(parse("false").as_bool(), Some(false));
    assert!(parse("null").is_null());
    assert_eq!(parse("-0").as_i64(), Some(0));
    assert_eq!(parse("9223372036854775807").as_i64(), Some(i64::MAX));
    assert_eq!(parse("-9223372036854775808").as_i64(), Some(i64::MIN));
    assert_eq!(parse("9223372036854775808").as_i64(), None);
    assert_eq!(parse("18446744073709551615").as_u64(), Some(u64::MAX));
    assert_eq!(parse("18446744073709551616").as_u64(), None);
    assert_eq!(parse("-1").as_u64(), None);
    assert_eq!(parse("1.0").as_i64(), None);
    assert_eq!(parse("1e400").as_f64(), Some(f64::INFINITY));
    assert_eq!(parse("-32.20e-10").as_f64(), Some(-32.20e-10));
}

#[test]
fn number_errors_are_precise() {
    use number::*;
    assert_eq!(parse_i64(b"1.5"), Err(NumberError::NotInteger));
    assert_eq!(parse_i64(b"1e3"), Err(NumberError::NotInteger));
    assert_eq!(
        parse_i64(b"99999999999999999999"),
        Err(NumberError::OutOfRange)
    );
    assert_eq!(parse_i64(b"01"), Err(NumberError::Invalid));
    assert_eq!(parse_i64(b"1."), Err(NumberError::Invalid));
    assert_eq!(parse_i64(b""), Err(NumberError::Invalid));
    assert_eq!(parse_u64(b"-0"), Ok(0));
    assert_eq!(parse_f64(b"abc"), Err(NumberError::Invalid));
}

#[test]
fn members_elements_get_pointer() {
    let v = parse(
        r#" { "return" : { "qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "v7.2" } , "id" : [1, "a\"]", {"b": []}] } "#,
    );
    let keys: Vec<String> = v.members().map(|(k, _)| std::format!("{k}")).collect();
    assert_eq!(keys, ["return", "id"]);
    assert_eq!(
        v.pointer("/return/qemu/major").and_then(|j| j.as_u64()),
        Some(7)
    );
    assert_eq!(
        v.pointer("/id/1").map(|j| j.as_bytes()),
        Some(&br#""a\"]""#[..])
    );
    assert_eq!(v.pointer("/id/2/b").map(|j| j.kind()), Some(Kind::Array));
    assert_eq!(v.pointer("/id/3"), None);
    assert_eq!(v.pointer("/id/01"), None);
    assert_eq!(v.pointer(""), Some(v));
    assert_eq!(v.get("missing"), None);
    assert_eq!(v.pointer("/id").unwrap().elements().count(), 3);
    let odd = parse(r#"{"a/b": 1, "c~d": 2, "\u0065": 3}"#);
    assert_eq!(odd.pointer("/a~1b").and_then(|j| j.as_i64()), Some(1));
    assert_eq!(odd.pointer("/c~0d").and_then(|j| j.as_i64()), Some(2));
    assert_eq!(odd.pointer("/e").and_then(|j| j.as_i64()), Some(3));
    // An invalid escape names nothing, even a key holding U+FFFE (found by
    // reading the json_pointer fuzz target's check; fuzz/regressions too).
    let fffe = parse(r#"{"\uFFFE": 1, "~": 2, "~2": 3}"#);
    assert_eq!(fffe.pointer("/~2"), None);
    assert_eq!(fffe.pointer("/~"), None);
    assert_eq!(fffe.pointer("/~0").and_then(|j| j.as_i64()), Some(2));
    assert_eq!(parse("[]").elements().count(), 0);
    assert_eq!(parse("{}").members().count(), 0);
    assert_eq!(parse("5").members().count(), 0);
}

#[test]
fn strings_decode_with_surrogate_pairs() {
    let s = parse(r#""/m\uD83D\uDE00\u00e9A\n\t\"\\\/""#)
        .as_str()
        .unwrap();
    let text: String = s.chars().collect();
    assert_eq!(text, "/m\u{1F600}\u{e9}A\n\t\"\\/");
    assert!(s.eq_str("/m😀éA\n\t\"\\/"));
    assert!(!s.eq_str("/m😀éA"));
    assert_eq!(s.decoded_len(), text.len());
    let mut buf = [0u8; 64];
    assert_eq!(s.unescape_into(&mut buf), Ok(text.as_str()));
    let mut small = [0u8; 4];
    assert!(matches!(
        s.unescape_into(&mut small),
        Err(UnescapeError::BufferTooSmall { .. })
    ));
    let plain = parse(r#""guest-ping""#).as_str().unwrap();
    assert_eq!(plain.as_plain(), Some("guest-ping"));
    let raw_utf8 = Json::parse("\"é😀\"".as_bytes()).unwrap().as_str().unwrap();
    assert_eq!(raw_utf8.chars().collect::<String>(), "é😀");
}

#[test]
fn unescape_rejects_what_is_invalid() {
    let mut out = [0u8; 32];
    assert_eq!(
        unescape(br"\uD800", &mut out),
        Err(UnescapeError::Escape(0))
    );
    assert_eq!(
        unescape(br"a\uDC00", &mut out),
        Err(UnescapeError::Escape(1))
    );
    assert_eq!(
        unescape(br"\uDC00\uD800", &mut out),
        Err(UnescapeError::Escape(0))
    );
    assert_eq!(
        unescape(br"\uD800\u0041", &mut out),
        Err(UnescapeError::Escape(0))
    );
    assert_eq!(unescape(br"\x", &mut out), Err(UnescapeError::Escape(0)));
    assert_eq!(unescape(b"a\x01", &mut out), Err(UnescapeError::Control(1)));
    assert_eq!(unescape(b"\xc3(", &mut out), Err(UnescapeError::Utf8(0)));
    assert_eq!(unescape(b"a\"b", &mut out), Err(UnescapeError::Quote(1)));
    assert_eq!(unescape(br"\u12345", &mut out), Ok("\u{1234}5"));
    assert_eq!(unescape(br"\'", &mut out), Ok("'"));
    assert_eq!(unescape(b"", &mut out), Ok(""));
}

fn write(
    f: impl FnOnce(&mut JsonWriter<'_>) -> Result<(), WriteError>,
) -> Result<String, WriteError> {
    let mut buf = [0u8; 256];
    let mut w = JsonWriter::new(&mut buf);
    f(&mut w)?;
    let out = w.finish()?;
    Ok(String::from_utf8(out.to_vec()).unwrap())
}

#[test]
fn writer_escapes_to_pure_ascii() {
    let out = write(|w| w.string("a\"\\\u{8}\u{c}\n\r\t\u{1}\u{7f}é€😀/")).unwrap();
    assert_eq!(
        out,
        r#""a\"\\\b\f\n\r\t\u0001\u007F\u00E9\u20AC\uD83D\uDE00/""#
    );
    assert!(out.is_ascii());
    let lossy = write(|w| w.string_lossy(b"\"argu\xff\x00".iter().copied())).unwrap();
    assert_eq!(lossy, r#""\"argu\uFFFD\u0000""#);
    let fmt =
        write(|w| w.string_fmt(format_args!("The command {} has not been found", "x\"y"))).unwrap();
    assert_eq!(fmt, r#""The command x\"y has not been found""#);
}

#[test]
fn writer_numbers_and_structure() {
    let out = write(|w| {
        w.begin_array()?;
        w.i64(i64::MIN)?;
        w.u64(u64::MAX)?;
        w.f64(0.1)?;
        w.f64(1e300)?;
        w.f64(f64::NAN)?;
        w.bool(true)?;
        w.null()?;
        w.begin_object()?;
        w.key("k")?;
        w.begin_array()?;
        w.end_array()?;
        w.key("l")?;
        w.i64(0)?;
        w.end_object()?;
        w.end_array()
    })
    .unwrap();
    assert_eq!(
        out,
        r#"[-9223372036854775808,18446744073709551615,0.1,1e300,null,true,null,{"k":[],"l":0}]"#
    );
}

#[test]
fn writer_reports_misuse_and_full_buffers_without_overrunning() {
    assert_eq!(
        write(|w| {
            w.begin_object()?;
            w.i64(1)
        }),
        Err(WriteError::Misuse)
    );
    assert_eq!(write(|w| w.key("a")), Err(WriteError::Misuse));
    assert_eq!(
        write(|w| {
            w.begin_array()?;
            w.end_object()
        }),
        Err(WriteError::Misuse)
    );
    assert_eq!(write(|w| w.begin_array()), Err(WriteError::Misuse)); // unclosed at finish
    assert_eq!(
        write(|w| {
            w.i64(1)?;
            w.i64(2)
        }),
        Err(WriteError::Misuse)
    );
    assert_eq!(
        write(|w| (0..65).try_for_each(|_| w.begin_array())),
        Err(WriteError::TooDeep)
    );
    for cap in 0..20 {
        let mut buf = std::vec![0xAAu8; cap + 8];
        let (inside, guard) = buf.split_at_mut(cap);
        let mut w = JsonWriter::new(inside);
        let r = w.string("héllo \u{1F600} world");
        let r = r.and_then(|_| w.finish().map(|_| ()));
        assert_eq!(r.is_err(), cap < 30, "cap {cap}");
        assert!(guard.iter().all(|&b| b == 0xAA));
    }
}

#[test]
fn writer_value_normalises_like_qemu() {
    let v = Json::parse_with(
        br#" { 'a' : [ 1 , -1.5 , "\u00e9" , 123456789012345678901234567890 , null ] } "#,
        crate::framer::Config::QEMU_INPUT,
    )
    .unwrap();
    let out = write(|w| w.value(v)).unwrap();
    assert_eq!(
        out,
        r#"{"a":[1,-1.5,"\u00E9",1.2345678901234567890123456789e29,null]}"#
    );
}
