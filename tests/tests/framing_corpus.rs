//! The framer and envelope over real traffic: QEMU 7.2 and qemu-ga 7.2
//! transcripts, libvirt's recorded replies, with serde_json as the oracle
//! for what the values are.

use qwire::envelope::classify;
use qwire::framer::{Config, ErrorKind};
use qwire::json::Json;
use qwire_tests::{
    frame_all, frame_stream, json_eq, oracle_kind, oracle_values, shared_file, shared_files, sj, Ev,
};

const BIG: usize = 1 << 20;
const CHUNKINGS: &[&[usize]] = &[&[1], &[2, 3, 5], &[7, 64, 1], &[4096], &[100_000]];

/// What the oracle says the framer must produce for a stream of valid
/// values and 0xFF sentinels.
fn expected(input: &[u8]) -> Vec<Ev> {
    let values = oracle_values(input).expect("serde_json accepts the stream");
    let mut ev: Vec<(u64, Ev)> = values
        .iter()
        .map(|(s, e, _)| (*s as u64, Ev::Frame(*s as u64, input[*s..*e].to_vec())))
        .collect();
    for (i, _) in input.iter().enumerate().filter(|(_, &b)| b == 0xff) {
        ev.push((i as u64, Ev::Sentinel(i as u64)));
    }
    ev.sort_by_key(|(at, _)| *at);
    ev.into_iter().map(|(_, e)| e).collect()
}

fn check_classification(frames: &[Ev]) -> std::collections::BTreeMap<&'static str, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for ev in frames {
        if let Ev::Frame(_, bytes) = ev {
            let ours = classify(Json::parse_with(bytes, Config::QEMU_INPUT).unwrap())
                .kind()
                .name();
            assert_eq!(
                ours,
                oracle_kind(&sj(bytes)),
                "{}",
                String::from_utf8_lossy(bytes)
            );
            *counts.entry(ours).or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn every_qemu_and_qemu_ga_server_stream() {
    let mut files = 0;
    for dir in ["qmp-none", "qmp-pc-tcg", "qmp-extra", "qga"] {
        for path in shared_files(&format!("corpus/qemu-7.2/{dir}"), ".s2c.bin") {
            let input = std::fs::read(&path).unwrap();
            let want = expected(&input);
            for chunks in CHUNKINGS {
                assert_eq!(
                    frame_stream(&input, BIG, Config::DEFAULT, chunks),
                    want,
                    "{}",
                    path.display()
                );
            }
            check_classification(&want);
            files += 1;
        }
    }
    assert!(files > 150, "only {files} transcript files");
}

#[test]
fn whole_sessions_have_the_expected_message_kinds() {
    let qmp = shared_file("corpus/qemu-7.2/qmp-none/session.s2c.bin");
    let counts = check_classification(&frame_all(&qmp, BIG, Config::DEFAULT));
    // One greeting; STOP, RESUME and SHUTDOWN; every other line a reply.
    assert_eq!(counts["greeting"], 1);
    assert_eq!(counts["event"], 3);
    let lines = qmp.windows(2).filter(|w| w == b"\r\n").count();
    assert_eq!(counts.values().sum::<usize>(), lines);

    let qga = shared_file("corpus/qemu-7.2/qga/session.s2c.bin");
    let events = frame_all(&qga, BIG, Config::DEFAULT);
    let counts = check_classification(&events);
    assert!(!counts.contains_key("greeting") && !counts.contains_key("event"));
    let sentinels = events
        .iter()
        .filter(|e| matches!(e, Ev::Sentinel(_)))
        .count();
    assert_eq!(sentinels, qga.iter().filter(|&&b| b == 0xff).count());
    assert_eq!(sentinels, 1, "one guest-sync-delimited reply");
    assert_eq!(
        counts.values().sum::<usize>(),
        qga.iter().filter(|&&b| b == b'\n').count()
    );
}

/// Client streams whose bytes serde_json accepts frame to exactly its values;
/// the deliberately malformed ones produce the outcomes worked out by hand
/// from the recovery rule.
#[test]
fn every_client_stream() {
    let mut hand_checked = 0;
    for dir in ["qmp-none", "qmp-pc-tcg", "qmp-extra", "qga"] {
        for path in shared_files(&format!("corpus/qemu-7.2/{dir}"), ".c2s.bin") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let input = std::fs::read(&path).unwrap();
            let got = frame_all(&input, BIG, Config::QEMU_INPUT);
            for chunks in CHUNKINGS {
                assert_eq!(
                    frame_stream(&input, BIG, Config::QEMU_INPUT, chunks),
                    got,
                    "{name}"
                );
            }
            if name.starts_with("session")
                || name.starts_with("A-session")
                || name.starts_with("B-pretty-session")
            {
                continue; // the steps are checked one by one
            }
            if let Some(want) = hand_expected(&name, &input) {
                assert_eq!(got, want, "{dir}/{name}");
                hand_checked += 1;
            } else {
                assert_eq!(got, expected(&input), "{dir}/{name}");
            }
        }
    }
    assert_eq!(
        hand_checked,
        2 * 8 + 5,
        "every malformed step has an expectation"
    );
}

fn errors(kind: ErrorKind, offsets: &[u64]) -> Vec<Ev> {
    offsets.iter().map(|&at| Ev::Error(kind, at)).collect()
}

fn frame_from(input: &[u8], at: usize) -> Ev {
    Ev::Frame(at as u64, input[at..].to_vec())
}

fn hand_expected(name: &str, input: &[u8]) -> Option<Vec<Ev>> {
    let step = name.trim_end_matches(".c2s.bin");
    Some(match step {
        // `}` where a value belongs, then `} ] ]` each read afresh at the
        // top level; `garbage` is skipped up to `\x01`, an error itself,
        // then `, , ,` (QEMU answers one more: it reads `garbage` as a
        // keyword token).
        "19-malformed-then-valid" => {
            let mut v = errors(ErrorKind::Syntax, &[13, 14, 15, 16, 24, 26, 27, 28]);
            v.push(frame_from(input, 31));
            v
        }
        // `{` where a key belongs starts the next value at once.
        "19b-unbalanced-open-then-valid" => {
            vec![Ev::Error(ErrorKind::Syntax, 43), frame_from(input, 43)]
        }
        "19c-close-the-unbalanced" => errors(ErrorKind::Syntax, &[0, 1]),
        "20c-half-object-0xff-valid" => vec![Ev::Sentinel(21), frame_from(input, 22)],
        "20d-invalid-utf8-in-string" => {
            vec![
                Ev::Error(ErrorKind::Utf8, 36),
                Ev::Error(ErrorKind::Syntax, 38),
            ]
        }
        "20e-nul-byte" => vec![
            Ev::Error(ErrorKind::Control, 36),
            Ev::Error(ErrorKind::Syntax, 39),
        ],
        "25d-single-quotes" => vec![frame_from(input, 0)],
        // 2000 nested arrays inside the command object: the 1024th level is
        // too deep; that `[` starts a new value of 977 levels; the 1023 `]`
        // and the `}` left over are strays.
        "25f-deep-nesting" => {
            let mut v = vec![Ev::Error(ErrorKind::Depth, 34 + 1023)];
            v.push(Ev::Frame(1057, input[1057..1057 + 2 * 977].to_vec()));
            let strays = 1057 + 2 * 977;
            v.extend((strays..input.len()).map(|at| Ev::Error(ErrorKind::Syntax, at as u64)));
            v
        }
        "13-half-object-ff-then-valid" => vec![Ev::Sentinel(31), frame_from(input, 32)],
        "13c-half-object-newline-then-valid" => {
            vec![Ev::Error(ErrorKind::Control, 31), frame_from(input, 32)]
        }
        "14-garbage-then-command" => {
            let mut v = errors(ErrorKind::Syntax, &[0, 1, 14]);
            v.push(frame_from(input, 16));
            v
        }
        "14b-garbage-ff-then-command" => {
            let mut v = errors(ErrorKind::Syntax, &[0, 1]);
            v.push(Ev::Sentinel(14));
            v.push(frame_from(input, 15));
            v
        }
        "reconnect-session" => vec![Ev::Incomplete(0)],
        _ => return None,
    })
}

/// libvirt's replies files: pretty-printed values separated by one blank
/// line, so the blank lines count the messages independently of any parser.
#[test]
fn every_libvirt_replies_file() {
    let files = shared_files("corpus/libvirt", ".replies");
    assert_eq!(files.len(), 6);
    for path in files {
        let input = std::fs::read(&path).unwrap();
        let text = String::from_utf8(input.clone()).unwrap();
        let blocks = text.split("\n\n").filter(|b| !b.trim().is_empty()).count();
        let got = frame_all(&input, BIG, Config::DEFAULT);
        assert_eq!(got.len(), blocks, "{}", path.display());
        assert_eq!(got, expected(&input), "{}", path.display());
        let counts = check_classification(&got);
        assert_eq!(
            counts["command"] + counts["return"] + counts.get("error").unwrap_or(&0),
            blocks
        );
        for chunks in [&[1usize, 2, 3][..], &[777], &[65536]] {
            assert_eq!(
                frame_stream(&input, BIG, Config::DEFAULT, chunks),
                got,
                "{}",
                path.display()
            );
        }
    }
}

/// With a buffer smaller than the largest message, exactly the messages
/// larger than it are reported too large (with their spans), and all
/// others are still delivered.
#[test]
fn small_buffer_skips_only_the_large_messages() {
    let mut inputs: Vec<(String, Vec<u8>)> = shared_files("corpus/libvirt", ".replies")
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    for dir in ["qmp-none", "qga"] {
        let p = format!("corpus/qemu-7.2/{dir}/session.s2c.bin");
        inputs.push((p.clone(), shared_file(&p)));
    }
    for (name, input) in inputs {
        let values = oracle_values(&input).unwrap();
        let largest = values.iter().map(|(s, e, _)| e - s).max().unwrap();
        for cap in [largest / 2, largest - 1, 512] {
            let want: Vec<Ev> = expected(&input)
                .into_iter()
                .map(|ev| match ev {
                    Ev::Frame(at, bytes) if bytes.len() > cap => {
                        Ev::TooLarge(at, bytes.len() as u64)
                    }
                    other => other,
                })
                .collect();
            assert!(
                want.iter().any(|e| matches!(e, Ev::TooLarge(..))),
                "{name} cap {cap}"
            );
            for chunks in [&[1usize, 5][..], &[4096], &[1 << 20]] {
                assert_eq!(
                    frame_stream(&input, cap, Config::DEFAULT, chunks),
                    want,
                    "{name} cap {cap}"
                );
            }
        }
    }
}

/// The 207 kB `query-qmp-schema` reply QEMU 7.2 sends on one line.
#[test]
fn query_qmp_schema_reply_in_one_frame_or_skipped() {
    let schema = shared_file("corpus/qemu-7.2/qmp-none/10-query-qmp-schema.s2c.bin");
    let got = frame_all(&schema, BIG, Config::DEFAULT);
    let [Ev::Frame(0, bytes)] = &got[..] else {
        panic!("{got:?}")
    };
    assert_eq!(bytes.len(), schema.len() - 2);
    assert!(bytes.len() > 200_000);
    let entries = sj(bytes)["return"].as_array().unwrap().len();
    assert_eq!(
        Json::parse(bytes)
            .unwrap()
            .get("return")
            .unwrap()
            .elements()
            .count(),
        entries
    );
    assert_eq!(
        frame_all(&schema, 64 * 1024, Config::DEFAULT),
        [Ev::TooLarge(0, bytes.len() as u64)]
    );
}

#[test]
fn frames_agree_with_serde_json_values() {
    let input = shared_file("corpus/libvirt/caps_10.0.0_x86_64.replies");
    let values = oracle_values(&input).unwrap();
    let got = frame_all(&input, BIG, Config::DEFAULT);
    for ((_, _, want), ev) in values.iter().zip(&got) {
        let Ev::Frame(_, bytes) = ev else { panic!() };
        assert!(json_eq(&sj(bytes), want));
    }
}
