//! Inputs and workloads shared by the criterion benchmarks
//! (`benches/framing.rs`, `benches/typed.rs`, `benches/roundtrip.rs`) and
//! the fixed-workload binaries for instruction counting (`src/bin/*`, run
//! under `valgrind --tool=callgrind`; see docs/BENCHMARKS.md).
//!
//! Every peer is given the same bytes, taken from the corpus in
//! `../shared/corpus`.

use std::hint::black_box;
use std::path::PathBuf;

use qwire::codec::{self, CommandInfo, Decode, DecodeError, Mode, NoArgs};
use qwire::dispatch::{Answered, Call, Handler, Reply};
use qwire::envelope::{classify, Message, VersionRef};
use qwire::framer::{Config, Event, Framer};
use qwire::json::{Json, JsonWriter, WriteError};
use serde::de::IgnoredAny;

/// `../shared/corpus/<rel>`, read whole.
pub fn corpus(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The six libvirt replies files concatenated (about 4.6 MB of
/// pretty-printed QMP traffic, QEMU 4.2 to 10.0), each followed by a blank
/// line: messages are separated by blank lines throughout.
pub fn libvirt() -> Vec<u8> {
    let mut all = Vec::new();
    for v in [
        "4.2.0.x86_64",
        "6.2.0_x86_64",
        "7.2.0_x86_64",
        "8.2.0_x86_64",
        "9.2.0_x86_64",
        "10.0.0_x86_64",
    ] {
        all.extend(corpus(&format!("libvirt/caps_{v}.replies")));
        all.extend(b"\n\n");
    }
    all
}

/// QEMU 7.2's QMP server output (greeting, replies, events, the 207 kB
/// schema) from the `-M none` and `-M pc` sessions, CRLF-terminated lines.
pub fn qemu_transcripts() -> Vec<u8> {
    let mut all = corpus("qemu-7.2/qmp-none/session.s2c.bin");
    all.extend(corpus("qemu-7.2/qmp-pc-tcg/session.s2c.bin"));
    all
}

/// A corpus by name: `libvirt` or `qemu-7.2`.
pub fn named(name: &str) -> Vec<u8> {
    match name {
        "libvirt" => libvirt(),
        "qemu-7.2" => qemu_transcripts(),
        other => panic!("unknown corpus {other} (libvirt, qemu-7.2)"),
    }
}

// ---------------------------------------------------------------------------
// Framing and validation.

/// qwire's framer over `input`, fed in `chunk`-byte pieces; the number of
/// frames.
pub fn qwire_frames(input: &[u8], buf: &mut [u8], chunk: usize) -> usize {
    let mut framer = Framer::new(buf, Config::DEFAULT);
    let mut frames = 0;
    for piece in input.chunks(chunk) {
        let mut rest = piece;
        while !rest.is_empty() {
            let fed = framer.feed(rest);
            if let Event::Frame(f) = fed.event {
                black_box(f.bytes);
                frames += 1;
            }
            rest = &rest[fed.consumed..];
        }
    }
    frames
}

/// serde_json's `StreamDeserializer<IgnoredAny>`: validates every byte and
/// finds value boundaries, builds nothing.
pub fn serde_json_stream(input: &[u8]) -> usize {
    let mut n = 0;
    for v in serde_json::Deserializer::from_slice(input).into_iter::<IgnoredAny>() {
        black_box(v.expect("valid corpus"));
        n += 1;
    }
    n
}

/// How the line-splitting peers cut a stream: QEMU's compact output on
/// `\n` (a `\r` before it is JSON whitespace); libvirt's pretty-printed
/// files on blank lines (`\n\n`), as libvirt's own test harness does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// On each `\n`.
    Lines,
    /// On each blank line.
    BlankLines,
}

impl Split {
    /// The split for a corpus by name.
    pub fn for_corpus(name: &str) -> Split {
        if name == "libvirt" {
            Split::BlankLines
        } else {
            Split::Lines
        }
    }
}

/// Call `each` with every message of `input` cut as `split` says (empty
/// pieces skipped).
pub fn split_messages(input: &[u8], split: Split, mut each: impl FnMut(&[u8])) {
    let mut rest = input;
    while !rest.is_empty() {
        let end = match split {
            Split::Lines => memchr_byte(b'\n', rest),
            Split::BlankLines => rest.windows(2).position(|w| w == b"\n\n"),
        };
        let (piece, next) = match end {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        if piece.iter().any(|b| !b.is_ascii_whitespace()) {
            each(piece);
        }
        rest = next;
    }
}

fn memchr_byte(b: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&c| c == b)
}

/// Line splitting + `serde_json::from_slice::<IgnoredAny>` per message:
/// validation only, like the framer.
pub fn lines_ignored(input: &[u8], split: Split) -> usize {
    let mut n = 0;
    split_messages(input, split, |m| {
        black_box(serde_json::from_slice::<IgnoredAny>(m).expect("valid corpus"));
        n += 1;
    });
    n
}

/// Line splitting + `serde_json::from_slice::<serde_json::Value>` per
/// message: what the line-based peers actually do (a tree per message).
pub fn lines_value(input: &[u8], split: Split) -> usize {
    let mut n = 0;
    split_messages(input, split, |m| {
        black_box(serde_json::from_slice::<serde_json::Value>(m).expect("valid corpus"));
        n += 1;
    });
    n
}

// ---------------------------------------------------------------------------
// Typed decoding: the messages.

/// One reply or event, as QEMU 7.2 or qemu-ga 7.2 sent it.
pub struct Sample {
    /// Short name.
    pub name: &'static str,
    /// The message, without its line terminator.
    pub bytes: Vec<u8>,
}

fn first_line(rel: &str) -> Vec<u8> {
    let all = corpus(rel);
    let all = all.strip_prefix(b"\xff").unwrap_or(&all);
    let end = all.iter().position(|&b| b == b'\n').unwrap_or(all.len());
    let line = &all[..end];
    line.strip_suffix(b"\r").unwrap_or(line).to_vec()
}

/// The five messages of the typed-decode benchmark: QEMU 7.2's replies to
/// `query-version`, `query-status`, `query-commands` (6.5 KB, 216
/// commands), qemu-ga 7.2's `guest-info` (3.2 KB, 42 commands), and a
/// `BALLOON_CHANGE` event in QEMU's exact spelling (the only event type in
/// qwire's QMP seed schema; the corpus has none, so it is written here the
/// way QEMU's `qobject_to_json` writes the transcripts' `STOP` event).
pub fn samples() -> Vec<Sample> {
    vec![
        Sample {
            name: "query-version",
            bytes: first_line("qemu-7.2/qmp-none/03-query-version.s2c.bin"),
        },
        Sample {
            name: "query-status",
            bytes: first_line("qemu-7.2/qmp-none/04-query-status.s2c.bin"),
        },
        Sample {
            name: "query-commands",
            bytes: first_line("qemu-7.2/qmp-none/08-query-commands.s2c.bin"),
        },
        Sample {
            name: "guest-info",
            bytes: first_line("qemu-7.2/qga/01-guest-info.s2c.bin"),
        },
        Sample {
            name: "event",
            bytes: br#"{"timestamp": {"seconds": 1795307874, "microseconds": 143202}, "event": "BALLOON_CHANGE", "data": {"actual": 33554432}}"#.to_vec(),
        },
    ]
}

// ---------------------------------------------------------------------------
// Typed decoding: qwire.

/// `query-status`'s return value. qwire's QMP seed schema has no
/// `query-status`, so this is the small hand-written [`Decode`] impl an
/// embedder would write, on qwire's raw reader.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StatusInfo {
    /// `running`.
    pub running: bool,
    /// `singlestep` (QEMU 7.2 still sends it).
    pub singlestep: bool,
    /// `status`, e.g. `running`, `paused`.
    pub status: codec::String<32>,
}

impl codec::Object for StatusInfo {
    const FIELDS: &'static [codec::Field] = &[
        codec::Field::required("running"),
        codec::Field::optional("singlestep"),
        codec::Field::required("status"),
    ];

    fn decode_field<'a>(
        &mut self,
        index: usize,
        value: Option<Json<'a>>,
        mode: Mode,
    ) -> Result<(), DecodeError<'a>> {
        match index {
            0 => codec::required(&mut self.running, value, mode),
            1 => codec::required(&mut self.singlestep, value, mode),
            _ => codec::required(&mut self.status, value, mode),
        }
    }

    fn encode_fields(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        codec::member(w, "running", &self.running)?;
        codec::member(w, "singlestep", &self.singlestep)?;
        codec::member(w, "status", &self.status)
    }
}

impl Decode for StatusInfo {
    fn decode_into<'a>(&mut self, v: Json<'a>, mode: Mode) -> Result<(), DecodeError<'a>> {
        codec::decode_object(self, v, mode)
    }
}

/// How qwire gets from the message's bytes to a [`Json`] value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// The client's way: the framer validates and frames the message
    /// (zero copy, the whole message in one feed).
    Framer,
    /// `Json::parse`, the one-shot validator for a standalone message.
    Parse,
    /// `Json::trusted`: no validation (bytes already validated, e.g. by a
    /// framer); what typed decoding alone costs.
    Trusted,
}

/// Reusable destinations for qwire's typed decoding (qwire decodes in
/// place; the largest here is `query-commands`' 23 KB list).
#[derive(Default)]
pub struct QwireTyped {
    frame_buf: Vec<u8>,
    version: qwire::qmp::schema::VersionInfo,
    status: StatusInfo,
    commands: codec::Vec<qwire::qmp::schema::CommandInfo, 320>,
    info: qwire::qga::schema::GuestAgentInfo,
    balloon: qwire::qmp::schema::BalloonChangeData,
}

impl QwireTyped {
    /// Boxed: the destinations are 30 KB.
    pub fn new() -> Box<Self> {
        let mut q = Box::<Self>::default();
        q.frame_buf = vec![0; 8192];
        q
    }

    /// Validate `bytes` as one message with the framer, classify it and
    /// decode it into its type; returns a number derived from the result.
    pub fn decode(&mut self, which: &str, bytes: &[u8]) -> usize {
        self.decode_via(Path::Framer, which, bytes)
    }

    /// [`QwireTyped::decode`], getting the value the way `path` says.
    pub fn decode_via(&mut self, path: Path, which: &str, bytes: &[u8]) -> usize {
        let mut buf = std::mem::take(&mut self.frame_buf);
        let n = match path {
            Path::Framer => {
                let mut framer = Framer::new(&mut buf, Config::DEFAULT);
                match framer.feed(bytes).event {
                    Event::Frame(f) => self.decode_value(which, f.json()),
                    other => panic!("{other:?}"),
                }
            }
            Path::Parse => self.decode_value(which, Json::parse(bytes).expect("valid message")),
            Path::Trusted => self.decode_value(which, Json::trusted(bytes)),
        };
        self.frame_buf = buf;
        n
    }

    fn decode_value(&mut self, which: &str, v: Json<'_>) -> usize {
        let lenient = Mode::Lenient;
        match classify(v) {
            Message::Return(r) => match which {
                "query-version" => {
                    self.version.decode_into(r.value, lenient).expect("decode");
                    self.version.qemu.micro as usize
                }
                "query-status" => {
                    self.status.decode_into(r.value, lenient).expect("decode");
                    self.status.status.len()
                }
                "query-commands" => {
                    self.commands.decode_into(r.value, lenient).expect("decode");
                    self.commands.len()
                }
                "guest-info" => {
                    self.info.decode_into(r.value, lenient).expect("decode");
                    self.info.supported_commands.len()
                }
                other => panic!("{other}"),
            },
            Message::Event(e) => {
                assert!(e.name.eq_str("BALLOON_CHANGE"));
                self.balloon
                    .decode_into(e.data.expect("data"), lenient)
                    .expect("decode");
                self.balloon.actual as usize + e.timestamp.map_or(0, |t| t.seconds as usize)
            }
            other => panic!("{other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Typed decoding: serde_json into std structs written here with derive.

/// Plain std structs with serde derive, equivalent to the types decoded
/// (unknown members ignored, as serde does by default).
pub mod std_types {
    use serde::Deserialize;

    /// `{"return": T, "id": ...}`
    #[derive(Deserialize, Debug)]
    pub struct Return<T> {
        /// The value.
        #[serde(rename = "return")]
        pub ret: T,
        /// The id, any JSON.
        #[serde(default)]
        pub id: Option<serde_json::Value>,
    }

    /// `query-version`.
    #[derive(Deserialize, Debug)]
    pub struct VersionInfo {
        /// Triple.
        pub qemu: VersionTriple,
        /// Package.
        pub package: String,
    }

    /// Major, minor, micro.
    #[derive(Deserialize, Debug)]
    pub struct VersionTriple {
        /// Major.
        pub major: i64,
        /// Minor.
        pub minor: i64,
        /// Micro.
        pub micro: i64,
    }

    /// `query-status`.
    #[derive(Deserialize, Debug)]
    pub struct StatusInfo {
        /// Running.
        pub running: bool,
        /// Singlestep.
        #[serde(default)]
        pub singlestep: bool,
        /// Status.
        pub status: String,
    }

    /// One of `query-commands`.
    #[derive(Deserialize, Debug)]
    pub struct CommandInfo {
        /// Name.
        pub name: String,
    }

    /// `guest-info`.
    #[derive(Deserialize, Debug)]
    pub struct GuestAgentInfo {
        /// Version.
        pub version: String,
        /// Commands.
        pub supported_commands: Vec<GuestAgentCommandInfo>,
    }

    /// One of `guest-info`'s commands.
    #[derive(Deserialize, Debug)]
    pub struct GuestAgentCommandInfo {
        /// Name.
        pub name: String,
        /// Enabled.
        pub enabled: bool,
        /// Success-response.
        #[serde(rename = "success-response")]
        pub success_response: bool,
    }

    /// An event with typed data.
    #[derive(Deserialize, Debug)]
    pub struct Event<T> {
        /// Name.
        pub event: String,
        /// Data.
        pub data: T,
        /// Timestamp.
        pub timestamp: Timestamp,
    }

    /// `BALLOON_CHANGE` data.
    #[derive(Deserialize, Debug)]
    pub struct BalloonChange {
        /// Actual.
        pub actual: i64,
    }

    /// Event timestamp.
    #[derive(Deserialize, Debug)]
    pub struct Timestamp {
        /// Seconds.
        pub seconds: i64,
        /// Microseconds.
        pub microseconds: i64,
    }
}

/// `serde_json::from_slice` into the [`std_types`].
pub fn serde_std_decode(which: &str, bytes: &[u8]) -> usize {
    use std_types::*;
    match which {
        "query-version" => {
            let r: Return<VersionInfo> = serde_json::from_slice(bytes).expect("decode");
            r.ret.qemu.micro as usize
        }
        "query-status" => {
            let r: Return<StatusInfo> = serde_json::from_slice(bytes).expect("decode");
            r.ret.status.len()
        }
        "query-commands" => {
            let r: Return<Vec<CommandInfo>> = serde_json::from_slice(bytes).expect("decode");
            r.ret.len()
        }
        "guest-info" => {
            let r: Return<GuestAgentInfo> = serde_json::from_slice(bytes).expect("decode");
            r.ret.supported_commands.len()
        }
        "event" => {
            let e: Event<BalloonChange> = serde_json::from_slice(bytes).expect("decode");
            assert_eq!(e.event, "BALLOON_CHANGE");
            e.data.actual as usize + e.timestamp.seconds as usize
        }
        other => panic!("{other}"),
    }
}

// ---------------------------------------------------------------------------
// Typed decoding: the qapi-rs crates' generated types.

/// `serde_json::from_slice` into the types of `qapi-qmp` 0.15 / `qapi-qga`
/// 0.13: a reply into `qapi_spec::Response<C::Ok>` (the crates' reply type,
/// an untagged `Err`/`Ok` enum), an event into `qapi_qmp::Event` (their
/// internally tagged enum of every event).
pub fn qapi_decode(which: &str, bytes: &[u8]) -> usize {
    use qapi_spec::{Command, Response};
    fn ok<T>(r: Response<T>) -> T {
        r.result().expect("a return")
    }
    match which {
        "query-version" => {
            let r: Response<<qapi_qmp::query_version as Command>::Ok> =
                serde_json::from_slice(bytes).expect("decode");
            ok(r).qemu.micro as usize
        }
        "query-status" => {
            let r: Response<<qapi_qmp::query_status as Command>::Ok> =
                serde_json::from_slice(bytes).expect("decode");
            usize::from(ok(r).running)
        }
        "query-commands" => {
            let r: Response<<qapi_qmp::query_commands as Command>::Ok> =
                serde_json::from_slice(bytes).expect("decode");
            ok(r).len()
        }
        "guest-info" => {
            let r: Response<<qapi_qga::guest_info as Command>::Ok> =
                serde_json::from_slice(bytes).expect("decode");
            ok(r).supported_commands.len()
        }
        "event" => match serde_json::from_slice::<qapi_qmp::Event>(bytes).expect("decode") {
            qapi_qmp::Event::BALLOON_CHANGE { data, .. } => data.actual as usize,
            other => panic!("{other:?}"),
        },
        other => panic!("{other}"),
    }
}

// ---------------------------------------------------------------------------
// Round trips.

/// A QGA round trip: the sync client writes `guest-sync` with an id, the
/// agent reads it and answers, the client reads the reply. Returns the id
/// echoed.
pub struct QgaPair {
    client_rx: Box<[u8; 4096]>,
    agent_in: Box<[u8; 4096]>,
    agent_out: Box<[u8; 4096]>,
}

struct NoCommands;

impl Handler for NoCommands {
    fn commands(&self) -> &[CommandInfo] {
        &[]
    }
    fn call(&mut self, _: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        reply.ok_empty()
    }
}

impl Default for QgaPair {
    fn default() -> Self {
        QgaPair {
            client_rx: Box::new([0; 4096]),
            agent_in: Box::new([0; 4096]),
            agent_out: Box::new([0; 4096]),
        }
    }
}

impl QgaPair {
    /// Run `n` round trips on one connection (after one sync); returns the
    /// sum of the ids echoed.
    pub fn run(&mut self, n: u64) -> u64 {
        use qwire::qga::schema::{GuestSync, GuestSyncArgs};
        use qwire::qga::{Agent, Event as QgaEvent, SyncClient};
        let mut client = SyncClient::new(&mut self.client_rx[..]);
        let mut agent =
            Agent::new(&mut self.agent_in[..], &mut self.agent_out[..], "7.2.22").expect("agent");
        let mut wire = [0u8; 512];
        let mut back = [0u8; 512];
        let mut handler = NoCommands;
        // One synchronisation: the agent answers the client's 0xFF with a
        // parse error, then the sync with 0xFF + its return.
        let len = client.sync(1, &mut wire).expect("sync");
        let mut back_len = 0;
        let mut request = &wire[..len];
        while !request.is_empty() {
            let step = agent.feed(request, &mut handler);
            request = &request[step.consumed..];
            back[back_len..back_len + step.reply.len()].copy_from_slice(step.reply);
            back_len += step.reply.len();
        }
        let mut rest = &back[..back_len];
        while !rest.is_empty() {
            let fed = client.feed(rest);
            rest = &rest[fed.consumed..];
        }
        assert_eq!(client.state(), qwire::qga::State::Ready);
        let mut sum = 0;
        for i in 0..n {
            let sent = client
                .send::<GuestSync>(&GuestSyncArgs { id: i as i64 }, &mut wire)
                .expect("send");
            let mut request = &wire[..sent.len];
            while !request.is_empty() {
                let step = agent.feed(request, &mut handler);
                request = &request[step.consumed..];
                let mut reply = step.reply;
                while !reply.is_empty() {
                    let fed = client.feed(reply);
                    reply = &reply[fed.consumed..];
                    if let QgaEvent::Reply(Ok(v)) = fed.event {
                        sum += v.as_u64().expect("id");
                    }
                }
            }
        }
        sum
    }
}

/// A QMP command/reply: the client writes `query-version`, the server
/// reads it and its handler answers with a typed `VersionInfo`, the client
/// reads the reply and decodes it into qwire's `VersionInfo`.
pub struct QmpPair {
    client_buf: Box<[u8; 4096]>,
    server_buf: Box<[u8; 4096]>,
}

impl Default for QmpPair {
    fn default() -> Self {
        QmpPair {
            client_buf: Box::new([0; 4096]),
            server_buf: Box::new([0; 4096]),
        }
    }
}

struct Versions(qwire::qmp::schema::VersionInfo);

const QUERY_VERSION: CommandInfo = CommandInfo {
    name: "query-version",
    success_response: true,
    allow_oob: false,
    has_args: false,
};

impl Handler for Versions {
    fn commands(&self) -> &[CommandInfo] {
        &[QUERY_VERSION]
    }
    fn call(&mut self, call: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        if let Err(e) = call.args_into(&mut NoArgs) {
            return reply.invalid_arguments(&e);
        }
        reply.ok(&self.0)
    }
}

impl QmpPair {
    /// Connect (greeting, negotiation), then run `n` `query-version` round
    /// trips; returns the sum of the micro versions decoded.
    pub fn run(&mut self, n: u64) -> u64 {
        use qwire::qmp::schema::{QueryVersion, VersionInfo, VersionTriple};
        use qwire::qmp::{Client, ClientEvent, SendOptions, Server};
        let version = VersionRef {
            major: 7,
            minor: 2,
            micro: 22,
            package: "Debian 1:7.2+dfsg-7+deb12u18+b3",
        };
        let mut info = VersionInfo {
            qemu: VersionTriple {
                major: 7,
                minor: 2,
                micro: 22,
            },
            ..VersionInfo::default()
        };
        info.package.push_str(version.package).expect("fits");
        let mut handler = Versions(info);
        let mut server = Server::new(&mut self.server_buf[..], version, true);
        let mut client: Client<'_, 8> = Client::new(&mut self.client_buf[..]);
        let mut wire = [0u8; 512];
        let mut back = [0u8; 4096];
        let mut decoded = VersionInfo::default();

        let len = server.greeting(&mut back).expect("greeting");
        let r = client.feed(&back[..len]);
        assert!(matches!(r.event, ClientEvent::Greeting(_)));
        let len = client.negotiate(true, &mut wire).expect("negotiate");
        let step = server.feed(&wire[..len], &mut back, &mut handler);
        let r = client.feed(&back[..step.written]);
        assert!(matches!(r.event, ClientEvent::Negotiated { .. }));

        let mut sum = 0;
        for _ in 0..n {
            let sent = client
                .send::<QueryVersion>(&NoArgs, SendOptions::new(), &mut wire)
                .expect("send");
            let mut request = &wire[..sent.len];
            while !request.is_empty() {
                let step = server.feed(request, &mut back, &mut handler);
                request = &request[step.consumed..];
                let mut reply = &back[..step.written];
                while !reply.is_empty() {
                    let r = client.feed(reply);
                    reply = &reply[r.consumed..];
                    if let ClientEvent::Return { value, .. } = r.event {
                        decoded.decode_into(value, Mode::Lenient).expect("decode");
                        sum += decoded.qemu.micro as u64;
                    }
                }
            }
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_agree() {
        let mut q = QwireTyped::new();
        for s in samples() {
            let a = q.decode(s.name, &s.bytes);
            assert_eq!(q.decode_via(Path::Parse, s.name, &s.bytes), a);
            assert_eq!(q.decode_via(Path::Trusted, s.name, &s.bytes), a);
            let b = serde_std_decode(s.name, &s.bytes);
            assert_eq!(a, b, "{}", s.name);
            if s.name != "query-status" && s.name != "event" {
                assert_eq!(qapi_decode(s.name, &s.bytes), a, "{}", s.name);
            }
            assert!(a > 0, "{}", s.name);
        }
        // qapi: `running` (its StatusInfo has no singlestep) and the event's
        // data alone.
        assert_eq!(qapi_decode("query-status", &samples()[1].bytes), 1);
        assert_eq!(qapi_decode("event", &samples()[4].bytes), 33554432);
    }

    #[test]
    fn framing_peers_agree() {
        let mut buf = vec![0u8; 1 << 20];
        for name in ["libvirt", "qemu-7.2"] {
            let input = named(name);
            let n = serde_json_stream(&input);
            assert_eq!(qwire_frames(&input, &mut buf, input.len()), n, "{name}");
            assert_eq!(qwire_frames(&input, &mut buf, 4096), n, "{name}");
            assert_eq!(lines_ignored(&input, Split::for_corpus(name)), n, "{name}");
            assert_eq!(lines_value(&input, Split::for_corpus(name)), n, "{name}");
        }
    }

    #[test]
    fn round_trips() {
        assert_eq!(QgaPair::default().run(10), 45);
        assert_eq!(QmpPair::default().run(10), 220);
    }
}
