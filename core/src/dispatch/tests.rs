//! Expected texts are the exact replies QEMU 7.2 / qemu-ga 7.2 sent for the
//! same input (corpus/qemu-7.2, step named in each case).

use super::*;
use crate::framer::{Config, Framer};
use std::string::String;
use std::vec::Vec;

/// Every error reply the framer's events produce for `input`.
fn framing_replies(input: &[u8]) -> Vec<String> {
    let mut buf = [0u8; 256];
    let mut framer = Framer::new(&mut buf, Config::QEMU_INPUT);
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let fed = framer.feed(rest);
        let mut o = [0u8; 512];
        let mut w = JsonWriter::new(&mut o);
        if write_framing_error(&mut w, &fed.event).unwrap() {
            out.push(String::from_utf8(w.finish().unwrap().to_vec()).unwrap());
        }
        rest = &rest[fed.consumed..];
    }
    out
}

fn generic(desc: &str) -> String {
    std::format!(r#"{{"error":{{"class":"GenericError","desc":"{desc}"}}}}"#)
}

#[test]
fn lexical_errors_quote_the_token_like_qemu() {
    // qga/13-half-object-ff-then-valid
    assert_eq!(
        framing_replies(b"{\"execute\": \"guest-ping\", \"argu\xff{}"),
        [generic(r#"JSON parse error, stray '\"argu\uFFFD'"#)]
    );
    // qga/13b-ff-alone
    assert_eq!(
        framing_replies(b"\xff"),
        [generic(r"JSON parse error, stray '\uFFFD'")]
    );
    // qga/13c-half-object-newline-then-valid
    assert_eq!(
        framing_replies(b"{\"execute\": \"guest-ping\", \"argu\n{}"),
        [generic(r#"JSON parse error, stray '\"argu\n'"#)]
    );
    // qga/14-garbage-then-command: NUL quotes as '' (a C string ends there)
    assert_eq!(
        framing_replies(b"\x00\x01garbage!!@@ \xfe\xfd{}"),
        [
            generic("JSON parse error, stray ''"),
            generic(r"JSON parse error, stray '\u0001'"),
            generic(r"JSON parse error, stray '\uFFFD'"),
        ]
    );
    // qmp-none/20c-half-object-0xff-valid
    assert_eq!(
        framing_replies(b"{\"execute\": \"query-st\xff"),
        [generic(r#"JSON parse error, stray '\"query-st\uFFFD'"#)]
    );
    // qmp-none/20e-nul-byte: the NUL ends the quoted token; then `}` alone
    assert_eq!(
        framing_replies(b"{\"execute\": \"query-status\", \"id\": \"a\x00b\"}"),
        [
            generic(r#"JSON parse error, stray '\"a'"#),
            generic("JSON parse error, expecting value")
        ]
    );
    // reconnect2: `-s` is a lexical error inside a number token
    assert_eq!(
        framing_replies(b"[-s"),
        [generic("JSON parse error, stray '-s'")]
    );
}

#[test]
fn grammar_errors_name_what_was_expected() {
    // qmp-none/19-malformed-then-valid starts with four "expecting value"
    let got = framing_replies(b"{\"execute\": \n}}]]");
    assert_eq!(
        got,
        std::vec![generic("JSON parse error, expecting value"); 4]
    );
    assert_eq!(
        framing_replies(b"{1:2}")[0],
        generic("JSON parse error, key is not a string in object")
    );
    assert_eq!(
        framing_replies(b"{\"a\" 1}")[0],
        generic("JSON parse error, missing : in object pair")
    );
    assert_eq!(
        framing_replies(b"{\"a\":1 2}")[0],
        generic("JSON parse error, expected separator in dict")
    );
    assert_eq!(
        framing_replies(b"[1 2]")[0],
        generic("JSON parse error, expected separator in list")
    );
    // qmp-none/20d-invalid-utf8-in-string
    assert_eq!(
        framing_replies(b"{\"id\": \"\xc3(\"}")[0],
        generic("JSON parse error, invalid UTF-8 sequence in string")
    );
    assert_eq!(
        framing_replies(b"[\"\\z\"]")[0],
        generic("JSON parse error, invalid escape sequence in string")
    );
    assert_eq!(
        framing_replies(b"nul\n")[0],
        generic("JSON parse error, invalid keyword 'nul'")
    );
    let deep: Vec<u8> = core::iter::repeat_n(b'[', 1025).collect();
    assert_eq!(
        framing_replies(&deep)[0],
        generic("JSON nesting depth limit exceeded")
    );
}

#[test]
fn long_tokens_are_quoted_up_to_the_limit() {
    let mut input = std::vec![b'"'];
    input.extend(core::iter::repeat_n(b'x', 1000));
    input.push(0xff);
    let mut buf = [0u8; 2048];
    let mut framer = Framer::new(&mut buf, Config::DEFAULT);
    let fed = framer.feed(&input);
    let mut o = [0u8; 600];
    let mut w = JsonWriter::new(&mut o);
    assert!(write_framing_error(&mut w, &fed.event).unwrap());
    let out = w.finish().unwrap();
    let xs = out.iter().filter(|&&b| b == b'x').count();
    assert_eq!(xs, MAX_QUOTED_TOKEN - 1);
}

fn refusal(input: &str, allow_oob: bool) -> String {
    let v = Json::parse_with(input.as_bytes(), Config::QEMU_INPUT).unwrap();
    let refused = check_request(v, allow_oob).unwrap_err();
    let mut o = [0u8; 512];
    let mut w = JsonWriter::new(&mut o);
    write_refusal(&mut w, &refused).unwrap();
    String::from_utf8(w.finish().unwrap().to_vec()).unwrap()
}

#[test]
fn refusals_match_qemu_and_echo_the_id_when_qemu_does() {
    // qmp-none/18-non-object-array, qga/12f-non-object
    assert_eq!(
        refusal("[1,2]", false),
        generic("QMP input must be a JSON object")
    );
    // qmp-none/17c..17f
    assert_eq!(
        refusal(r#"{"execute": "query-status", "arguments": [1]}"#, true),
        generic("QMP input member 'arguments' must be an object")
    );
    assert_eq!(
        refusal(r#"{"execute": 1}"#, true),
        generic("QMP input member 'execute' must be a string")
    );
    assert_eq!(
        refusal(r#"{"arguments": {}}"#, true),
        generic("QMP input lacks member 'execute'")
    );
    assert_eq!(
        refusal(r#"{"execute": "query-status", "foo": 1}"#, true),
        generic("QMP input member 'foo' is unexpected")
    );
    // qga/12g-exec-oob and qmp-none/24-exec-oob-without-cap: id echoed first
    assert_eq!(
        refusal(r#"{"exec-oob": "guest-ping", "id": 1}"#, false),
        r#"{"id":1,"error":{"class":"GenericError","desc":"QMP input member 'exec-oob' is unexpected"}}"#
    );
    // qmp-none/24b-execute-and-exec-oob
    assert_eq!(
        refusal(
            r#"{"execute": "query-status", "exec-oob": "query-status"}"#,
            false
        ),
        generic("QMP input member 'exec-oob' is unexpected")
    );
    assert_eq!(
        refusal(r#"{"execute": "a", "exec-oob": "b"}"#, true),
        generic("QMP input member 'exec-oob' clashes with 'execute'")
    );
    // qmp-none/25c-dup-keys: a parse error, so no id
    assert_eq!(
        refusal(
            r#"{"execute": "no-such", "execute": "query-status", "id": 3}"#,
            true
        ),
        generic("JSON parse error, duplicate key")
    );
    // reconnect2: `{"id": 2024, ...}` without execute echoes the id
    assert_eq!(
        refusal(r#"{"arguments": {"id": 2024}, "id": 2024}"#, false),
        r#"{"id":2024,"error":{"class":"GenericError","desc":"QMP input lacks member 'execute'"}}"#
    );
}

#[test]
fn accepted_requests() {
    let v = Json::parse_with(
        br#"{'execute': 'query-\u0073tatus', 'id': {'a': [1]}}"#,
        Config::QEMU_INPUT,
    )
    .unwrap();
    let r = check_request(v, false).unwrap();
    assert!(r.name.eq_str("query-status"));
    assert!(!r.oob);
    assert_eq!(r.arguments, None);
    assert_eq!(r.id.unwrap().as_bytes(), b"{'a': [1]}");
    let v = Json::parse(br#"{"exec-oob": "migrate-pause", "arguments": {}, "id": 42}"#).unwrap();
    let r = check_request(v, true).unwrap();
    assert!(r.oob && r.name.eq_str("migrate-pause"));
    assert_eq!(r.arguments.unwrap().as_bytes(), b"{}");
}

mod handler {
    use super::super::*;
    use crate::codec::CommandInfo;
    use crate::framer::Config;
    use crate::qga::schema::{GuestShutdown, GuestSync};
    use std::string::String;

    struct Echo {
        disabled: bool,
    }

    const TABLE: &[CommandInfo] = &[
        CommandInfo {
            name: "guest-sync",
            success_response: true,
            allow_oob: false,
            has_args: true,
        },
        CommandInfo {
            name: "guest-shutdown",
            success_response: false,
            allow_oob: false,
            has_args: true,
        },
        CommandInfo {
            name: "x-oob",
            success_response: true,
            allow_oob: true,
            has_args: false,
        },
        CommandInfo {
            name: "big",
            success_response: true,
            allow_oob: false,
            has_args: false,
        },
    ];

    impl Handler for Echo {
        fn commands(&self) -> &[CommandInfo] {
            TABLE
        }
        fn enabled(&self, index: usize) -> bool {
            !(self.disabled && index == 0)
        }
        fn call(&mut self, call: &Call<'_>, mut reply: Reply<'_, '_, '_>) -> Answered {
            if call.is::<GuestSync>() {
                match call.args::<GuestSync>() {
                    Ok(args) => reply.ok(&args.id),
                    Err(e) => reply.invalid_arguments(&e),
                }
            } else if call.is::<GuestShutdown>() {
                reply.ok_empty()
            } else if call.name.eq_str("big") {
                reply.ok(&"b".repeat(200).as_str())
            } else {
                reply
                    .event(
                        "X",
                        None,
                        Timestamp {
                            seconds: 1,
                            microseconds: 2,
                        },
                    )
                    .unwrap();
                reply.ok_empty()
            }
        }
    }

    fn run(req: &str, disabled: bool, cap: usize) -> (Outcome, String) {
        let v = Json::parse_with(req.as_bytes(), Config::QEMU_INPUT).unwrap();
        let request = check_request(v, true).unwrap();
        let mut buf = std::vec![0u8; cap];
        let mut out = Output::new(&mut buf, b"\n");
        let answered = dispatch(&mut Echo { disabled }, &request, &mut out);
        (
            answered.outcome(),
            String::from_utf8(out.as_bytes().to_vec()).unwrap(),
        )
    }

    #[test]
    fn qemu_checks_then_the_handler() {
        assert_eq!(
            run(
                r#"{"execute": "guest-sync", "arguments": {"id": 7}, "id": "x"}"#,
                false,
                256
            ),
            (Outcome::Replied, "{\"return\":7,\"id\":\"x\"}\n".into())
        );
        assert_eq!(
            run(r#"{"execute": "nope", "id": 1}"#, false, 256).1,
            "{\"id\":1,\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command nope has not been found\"}}\n"
        );
        assert_eq!(
            run(r#"{"execute": "guest-sync", "arguments": {"id": 1}}"#, true, 256).1,
            "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Command guest-sync has been disabled\"}}\n"
        );
        assert_eq!(
            run(r#"{"exec-oob": "guest-sync", "arguments": {"id": 1}}"#, false, 256).1,
            "{\"error\":{\"class\":\"GenericError\",\"desc\":\"The command guest-sync does not support OOB\"}}\n"
        );
        assert_eq!(
            run(r#"{"execute": "guest-sync", "arguments": {"id": "str"}}"#, false, 256).1,
            "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid parameter type for 'id', expected: integer\"}}\n"
        );
        assert_eq!(
            run(r#"{"execute": "guest-shutdown"}"#, false, 256),
            (Outcome::Silent, String::new())
        );
        assert_eq!(
            run(r#"{"exec-oob": "x-oob", "id": 2}"#, false, 256).1,
            "{\"timestamp\":{\"seconds\":1,\"microseconds\":2},\"event\":\"X\"}\n{\"return\":{},\"id\":2}\n"
        );
    }

    #[test]
    fn replies_that_do_not_fit() {
        let big_id = std::format!(
            r#"{{"execute": "guest-sync", "arguments": {{"id": 1}}, "id": "{}"}}"#,
            "i".repeat(300)
        );
        // Neither the reply nor the error echoing the long id fits.
        assert_eq!(run(&big_id, false, 64), (Outcome::Overflow, String::new()));
        // The reply does not fit, the error (without a long id) does.
        let (outcome, text) = run(r#"{"execute": "big"}"#, false, 128);
        assert_eq!(outcome, Outcome::Replied);
        assert!(text.contains("does not fit"), "{text}");
    }
}
