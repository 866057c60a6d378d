//! `c_json`: the C ABI's JSON access (`qw_json_parse`, `qw_json_pointer`,
//! the typed reads, iteration) on arbitrary documents and paths, against
//! the Rust readers it wraps. The functions are compiled from
//! `ffi/src/json.rs` itself (see the crate root), so this is the code C
//! programs link.
//!
//! Input: byte 0: bit 0 single quotes; bits 1..7: string buffer size; then
//! the document, a NUL, the path (split at the last NUL). Checked: parsing
//! agrees with `Json::parse_with`; a path found in C is found in Rust at the
//! same span and vice versa; every typed read agrees with the Rust reader;
//! a string read is the unescaped text plus a NUL, or `BUFFER_TOO_SMALL`
//! exactly when it does not fit; iteration yields the same items as
//! `members()` / `elements()`; NULL outputs are refused.

use qwire::framer::Config;
use qwire::json::{Json, Kind};

use crate::json::*;
use crate::status::qw_status::{self, *};

fn span(v: Json<'_>) -> (usize, usize) {
    (v.as_bytes().as_ptr() as usize, v.as_bytes().len())
}

fn c_span(v: &qw_json) -> (usize, usize) {
    (v.ptr as usize, v.len)
}

/// Compare every typed read of `c` (from C) with the Rust reader of `v`.
fn same_reads(c: qw_json, v: Json<'_>, string_cap: usize) {
    let mut t = qw_json_type::QW_JSON_NULL;
    // SAFETY: `c` points into the live document.
    assert_eq!(unsafe { qw_json_type_of(c, &mut t) }, QW_OK);
    let want = match v.kind() {
        Kind::Object => qw_json_type::QW_JSON_OBJECT,
        Kind::Array => qw_json_type::QW_JSON_ARRAY,
        Kind::String => qw_json_type::QW_JSON_STRING,
        Kind::Number => qw_json_type::QW_JSON_NUMBER,
        Kind::Bool => qw_json_type::QW_JSON_BOOL,
        Kind::Null => qw_json_type::QW_JSON_NULL,
    };
    assert_eq!(t, want);
    let (mut i, mut u, mut d, mut b) = (7i64, 7u64, 7.5f64, false);
    // SAFETY: as above; outputs are locals.
    unsafe {
        let st = qw_json_int(c, &mut i);
        assert_eq!(st == QW_OK, v.as_i64().is_some());
        if st == QW_OK {
            assert_eq!(Some(i), v.as_i64());
        }
        let st = qw_json_uint(c, &mut u);
        assert_eq!(st == QW_OK, v.as_u64().is_some());
        let st = qw_json_double(c, &mut d);
        assert_eq!(st == QW_OK, v.as_f64().is_some());
        let st = qw_json_bool(c, &mut b);
        assert_eq!(st == QW_OK, v.as_bool().is_some());
        assert_eq!(qw_json_int(c, core::ptr::null_mut()), QW_ERR_NULL);
    }
    if let Some(s) = v.as_str() {
        let text: String = s.chars().collect();
        let mut len = 0usize;
        // SAFETY: as above.
        assert_eq!(unsafe { qw_json_string_len(c, &mut len) }, QW_OK);
        assert_eq!(len, text.len());
        let mut buf = vec![0xAAu8; string_cap + 4];
        let mut got = usize::MAX;
        // SAFETY: `buf` holds `string_cap` bytes plus a guard.
        let st = unsafe { qw_json_string(c, buf.as_mut_ptr(), string_cap, &mut got) };
        if text.len() < string_cap {
            assert_eq!(st, QW_OK);
            assert_eq!(got, text.len());
            assert_eq!(&buf[..got], text.as_bytes());
            assert_eq!(buf[got], 0);
        } else {
            assert_eq!(st, QW_ERR_BUFFER_TOO_SMALL);
            assert_eq!(got, usize::MAX, "output written on failure");
        }
        assert!(
            buf[string_cap..].iter().all(|&g| g == 0xAA),
            "wrote past the buffer"
        );
    }
}

fn same_items(c: qw_json, v: Json<'_>) {
    let mut it = qw_json_iter {
        container: c,
        position: 0,
        done: true,
    };
    // SAFETY: `c` points into the live document.
    let st = unsafe { qw_json_iter_init(c, &mut it) };
    match v.kind() {
        Kind::Object | Kind::Array => assert_eq!(st, QW_OK),
        _ => return assert_eq!(st, QW_ERR_WRONG_TYPE),
    }
    let want: Vec<((usize, usize), (usize, usize))> = match v.kind() {
        Kind::Object => v
            .members()
            .map(|(k, m)| ((k.raw().as_ptr() as usize, k.raw().len()), span(m)))
            .collect(),
        _ => v.elements().map(|e| ((0, 0), span(e))).collect(),
    };
    let mut got = Vec::new();
    loop {
        let mut key = qw_json {
            ptr: core::ptr::null(),
            len: 0,
        };
        let mut value = key;
        // SAFETY: `it` was set up by qw_json_iter_init on the live document.
        match unsafe { qw_json_iter_next(&mut it, &mut key, &mut value) } {
            QW_OK => got.push((
                if v.kind() == Kind::Object {
                    c_span(&key)
                } else {
                    (0, 0)
                },
                c_span(&value),
            )),
            QW_END => break,
            other => panic!("iteration failed: {other:?}"),
        }
        assert!(got.len() <= want.len(), "more items than Rust sees");
    }
    assert_eq!(got, want);
}

pub fn check(data: &[u8]) {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let single_quotes = head & 1 != 0;
    let string_cap = usize::from(head >> 1);
    let (doc, path) = match rest.iter().rposition(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &b""[..]),
    };
    let config = Config {
        single_quotes,
        ..Config::DEFAULT
    };
    let rust = Json::parse_with(doc, config);
    let mut c = qw_json {
        ptr: core::ptr::null(),
        len: 0,
    };
    // SAFETY: `doc` lives for the whole check.
    let st: qw_status = unsafe { qw_json_parse(doc.as_ptr(), doc.len(), single_quotes, &mut c) };
    let Ok(v) = rust else {
        assert_eq!(st, QW_ERR_INVALID_JSON);
        return;
    };
    assert_eq!(st, QW_OK);
    assert_eq!(c_span(&c), span(v));
    same_reads(c, v, string_cap);
    same_items(c, v);
    let mut found = qw_json {
        ptr: core::ptr::null(),
        len: 0,
    };
    // SAFETY: as above.
    let st = unsafe { qw_json_pointer(c, path.as_ptr(), path.len(), &mut found) };
    match core::str::from_utf8(path) {
        Err(_) => assert_eq!(st, QW_ERR_INVALID_UTF8),
        Ok(p) => match v.pointer(p) {
            Some(target) => {
                assert_eq!(st, QW_OK);
                assert_eq!(c_span(&found), span(target));
                same_reads(found, target, string_cap);
                same_items(found, target);
            }
            None => assert_eq!(st, QW_ERR_NOT_FOUND),
        },
    }
    // SAFETY: NULL output, checked by the callee.
    assert_eq!(
        unsafe { qw_json_pointer(c, path.as_ptr(), path.len(), core::ptr::null_mut()) },
        QW_ERR_NULL
    );
}
