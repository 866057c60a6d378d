//! QGA test helpers: a deterministic fault-injecting relay between a host
//! client and an agent (in-process [`qwire::qga::Agent`] or a real
//! qemu-ga), a driver that runs a [`SyncClient`] through it, an
//! `embedded-io` adapter for std streams, base64, and an in-memory file
//! handler that answers the `guest-file-*` commands like qemu-ga.
//!
//! # What the relay does
//!
//! Host → agent: every write is cut into pieces of 1..=`max_piece` bytes,
//! with a short pause between some of them (real peer only); before a
//! sync request (which starts with the client's 0xFF) it may also slip in
//! half a request, which that 0xFF must flush.
//!
//! Agent → host: the agent's output is cut into its lines (one message
//! each, 0xFF-prefixed for the `guest-sync-delimited` reply); before some
//! lines the relay injects junk, then cuts everything into pieces.
//!
//! * Before a 0xFF line anything goes: the sentinel resets the client.
//! * Before other lines the junk is *line-safe*: a stale reply, a reply
//!   with a foreign `id`, an `id`-less error, garbage, or half a reply
//!   that ends with `\n` or after a `,` in an object, so that the next
//!   `{` cannot be taken as part of it. A fragment that leaves the stream
//!   inside a string or expecting a value would swallow the next reply;
//!   no client can see through that, so the relay only does it when asked
//!   ([`Relay::swallow_next`]), to test the timeout and resync path.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use qwire::codec::CommandInfo;
use qwire::dispatch::{Answered, Call, ErrorClass, Handler, Reply};
use qwire::json::{Encode, Json, JsonWriter, WriteError};
use qwire::qga::schema::{
    GuestFileClose, GuestFileFlush, GuestFileOpen, GuestFileRead, GuestFileReadCommand,
    GuestFileSeek, GuestFileSeekCommand, GuestFileWrite, GuestFileWriteCommand, GuestGetTime,
};
use qwire::qga::{Agent, CommandError, Event, SendError, Sent, State, SyncClient};

/// xorshift64*: small, seeded, the same on every machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// Random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// Junk that cannot swallow a following `{`-line.
pub const LINE_SAFE_JUNK: &[&[u8]] = &[
    b"{\"return\": 999}\n",
    b"{\"return\": {}, \"id\": 987654321}\n",
    b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '\\uFFFD'\"}}\n",
    b"{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"stale\"}, \"id\": 424242}\n",
    b"{\"return\": {\"count\": 3, \"buf-b64\": \"QUJ\n",
    b"{\"return\": {\"count\": 3,\n",
    b"{\"return\": 12",
    b"{\"return\": tr\n",
    b"garbage !! @@ \x01\x02\n",
    b"\x00\x1b[0m\n",
    b"}}]]\n",
    b"\"a string\"\n",
    b"12345\n",
    b"\xc3\x28 bad utf-8\n",
    b"{\"QMP\": {\"version\": {}}}\n",
    b"{\"event\": \"STALE\"}\n",
];

/// Junk that only a 0xFF can clean up after.
pub const NASTY_JUNK: &[&[u8]] = &[
    b"{\"execute\": \"guest-sy",
    b"{\"return\": \"abc",
    b"[1, {\"a\": ",
    b"{\"return\": ",
    b"\"\\u12",
    b"{\"return\": 4242}\n{\"return\": [",
];

/// The fault-injecting relay (see the module docs). Deterministic for a
/// seed: the same bytes in give the same bytes out.
#[derive(Clone, Debug)]
pub struct Relay {
    rng: Rng,
    /// Largest piece a write is cut into.
    pub max_piece: usize,
    /// Inject before about one line in `inject_one_in` (0: never).
    pub inject_one_in: usize,
    /// Pause up to this many microseconds between some pieces (real peer).
    pub max_pause_us: u64,
    swallow: bool,
    /// Junk lines injected so far.
    pub injected: usize,
}

impl Relay {
    /// A relay with the given seed: pieces of up to 16 bytes, junk before
    /// about half the lines, no pauses.
    pub fn new(seed: u64) -> Relay {
        Relay {
            rng: Rng::new(seed),
            max_piece: 16,
            inject_one_in: 2,
            max_pause_us: 0,
            swallow: false,
            injected: 0,
        }
    }

    /// A relay that does nothing but pass bytes through whole.
    pub fn transparent() -> Relay {
        Relay {
            max_piece: usize::MAX,
            inject_one_in: 0,
            ..Relay::new(0)
        }
    }

    /// Before the next line that is not a sync reply, inject a fragment
    /// that swallows it (the client can only time out and resync).
    pub fn swallow_next(&mut self) {
        self.swallow = true;
    }

    /// Cut `bytes` into pieces of 1..=`max_piece` bytes.
    pub fn split(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = if self.max_piece == usize::MAX {
                rest.len()
            } else {
                1 + self.rng.below(self.max_piece.max(1))
            }
            .min(rest.len());
            out.push(rest[..n].to_vec());
            rest = &rest[n..];
        }
        out
    }

    /// A pause before the next piece (zero most of the time).
    pub fn pause(&mut self) -> Duration {
        if self.max_pause_us == 0 || !self.rng.one_in(4) {
            return Duration::ZERO;
        }
        Duration::from_micros(self.rng.next_u64() % self.max_pause_us)
    }

    /// What the agent receives for a host write.
    pub fn to_agent(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut stream = Vec::new();
        if bytes.first() == Some(&0xff) && self.inject_one_in != 0 && self.rng.one_in(2) {
            // Half a request of a former client, flushed by the 0xFF.
            let half = b"{\"execute\": \"guest-file-open\", \"arguments\": {\"path\": \"/x";
            stream.extend_from_slice(&half[..1 + self.rng.below(half.len() - 1)]);
            self.injected += 1;
        }
        stream.extend_from_slice(bytes);
        self.split(&stream)
    }

    /// What the host receives for one line of agent output.
    pub fn to_client(&mut self, line: &[u8]) -> Vec<Vec<u8>> {
        let sync_reply = line.first() == Some(&0xff);
        let mut stream = Vec::new();
        if self.swallow && !sync_reply {
            self.swallow = false;
            stream.extend_from_slice(b"{\"return\": \"swallowing ");
            self.injected += 1;
        } else if self.inject_one_in != 0 && self.rng.one_in(self.inject_one_in) {
            let k = 1 + self.rng.below(3);
            for _ in 0..k {
                let junk = if sync_reply && self.rng.one_in(2) {
                    NASTY_JUNK[self.rng.below(NASTY_JUNK.len())].to_vec()
                } else if sync_reply && self.rng.one_in(3) {
                    let n = self.rng.below(40);
                    self.rng.bytes(n)
                } else {
                    LINE_SAFE_JUNK[self.rng.below(LINE_SAFE_JUNK.len())].to_vec()
                };
                stream.extend_from_slice(&junk);
                self.injected += 1;
            }
            // A number left open must be ended before the line.
            if !sync_reply {
                stream.push(b'\n');
            }
        }
        stream.extend_from_slice(line);
        self.split(&stream)
    }
}

/// Cuts an agent's output into its lines (each with its `\n`).
#[derive(Debug, Default)]
pub struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    /// Add output; return the lines it completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
            out.push(self.pending.drain(..=i).collect());
        }
        out
    }
}

/// The far end of the relay.
pub trait Peer {
    /// Deliver bytes (one piece of a write).
    fn send(&mut self, bytes: &[u8]);
    /// Bytes from the agent, or `None` when nothing came within the
    /// peer's patience (the caller's timeout).
    fn recv(&mut self) -> Option<Vec<u8>>;
}

/// A real qemu-ga behind a Unix socket.
pub struct SocketPeer {
    /// The connection.
    pub stream: UnixStream,
}

impl SocketPeer {
    /// Use `stream`, waiting at most `patience` for each read.
    pub fn new(stream: UnixStream, patience: Duration) -> SocketPeer {
        stream.set_read_timeout(Some(patience)).unwrap();
        SocketPeer { stream }
    }
}

impl Peer for SocketPeer {
    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to qemu-ga");
    }

    fn recv(&mut self) -> Option<Vec<u8>> {
        let mut buf = [0u8; 65536];
        match self.stream.read(&mut buf) {
            Ok(0) => panic!("qemu-ga closed the connection"),
            Ok(n) => Some(buf[..n].to_vec()),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(e) => panic!("read from qemu-ga: {e}"),
        }
    }
}

/// qwire's own agent, in process: what it wrote is what `recv` returns.
pub struct AgentPeer<'b, H: Handler> {
    /// The agent.
    pub agent: Agent<'b>,
    /// Its handler.
    pub handler: H,
    output: VecDeque<u8>,
}

impl<'b, H: Handler> AgentPeer<'b, H> {
    /// Wrap an agent and its handler.
    pub fn new(agent: Agent<'b>, handler: H) -> Self {
        AgentPeer {
            agent,
            handler,
            output: VecDeque::new(),
        }
    }
}

impl<H: Handler> Peer for AgentPeer<'_, H> {
    fn send(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let step = self.agent.feed(rest, &mut self.handler);
            self.output.extend(step.reply);
            rest = &rest[step.consumed..];
        }
    }

    fn recv(&mut self) -> Option<Vec<u8>> {
        if self.output.is_empty() {
            None
        } else {
            Some(self.output.drain(..).collect())
        }
    }
}

/// How an exchange through the relay ended, copied out of the client.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Synchronised with this id.
    Synced(i64),
    /// The command's `return` value (normalised JSON text).
    Return(Vec<u8>),
    /// The agent's error.
    Error {
        /// Class.
        class: String,
        /// Description.
        desc: String,
    },
    /// The reply was too large for the client's buffer.
    TooLarge(u64),
    /// Sent; no reply expected.
    NoReply,
    /// Nothing came in time: the caller's timeout (the client was told).
    TimedOut,
}

impl Outcome {
    /// The return value as a [`Json`] span, for typed decoding.
    pub fn json(&self) -> Json<'_> {
        match self {
            Outcome::Return(bytes) => Json::parse(bytes).expect("normalised JSON"),
            other => panic!("expected a return value, got {other:?}"),
        }
    }
}

/// Runs a [`SyncClient`] against a [`Peer`] through a [`Relay`].
pub struct Driver<P: Peer> {
    /// The far end.
    pub peer: P,
    /// The relay.
    pub relay: Relay,
    lines: Lines,
    /// Pieces on their way to the client, fed before anything else.
    backlog: VecDeque<Vec<u8>>,
    /// Events the client reported as discards.
    pub discarded: usize,
    /// Late errors of `success-response: false` commands.
    pub late_errors: Vec<String>,
    tx: Vec<u8>,
}

impl<P: Peer> Driver<P> {
    /// A driver over `peer` and `relay`.
    pub fn new(peer: P, relay: Relay) -> Self {
        Driver {
            peer,
            relay,
            lines: Lines::default(),
            backlog: VecDeque::new(),
            discarded: 0,
            late_errors: Vec::new(),
            tx: vec![0u8; 64 * 1024],
        }
    }

    fn deliver(&mut self, len: usize) {
        let bytes = self.tx[..len].to_vec();
        for piece in self.relay.to_agent(&bytes) {
            let pause = self.relay.pause();
            if !pause.is_zero() {
                std::thread::sleep(pause);
            }
            self.peer.send(&piece);
        }
    }

    /// Send 0xFF + `guest-sync-delimited` with `id` and wait for the sync.
    pub fn sync(&mut self, client: &mut SyncClient<'_>, id: i64) -> Outcome {
        let len = client.sync(id, &mut self.tx).expect("sync request fits");
        self.deliver(len);
        self.wait(client)
    }

    /// Send a request written by `write` and wait for its outcome.
    pub fn run(
        &mut self,
        client: &mut SyncClient<'_>,
        write: impl FnOnce(&mut SyncClient<'_>, &mut [u8]) -> Result<Sent, SendError>,
    ) -> Outcome {
        let sent = write(client, &mut self.tx).expect("request written");
        self.deliver(sent.len);
        if !sent.expects_reply {
            // Let a late error (if any) be seen by the next exchange.
            return Outcome::NoReply;
        }
        self.wait(client)
    }

    /// Sync with `id` when needed, then run the request; on a timeout,
    /// resync (ids counting up from `id`) and retry, up to `tries` times.
    pub fn run_retrying(
        &mut self,
        client: &mut SyncClient<'_>,
        id: &mut i64,
        tries: usize,
        write: impl Fn(&mut SyncClient<'_>, &mut [u8]) -> Result<Sent, SendError>,
    ) -> (Outcome, usize) {
        let mut timeouts = 0;
        for _ in 0..tries {
            while client.state() != State::Ready {
                *id += 1;
                match self.sync(client, *id) {
                    Outcome::Synced(got) => assert_eq!(got, *id),
                    Outcome::TimedOut => timeouts += 1,
                    other => panic!("sync: {other:?}"),
                }
                assert!(timeouts < tries, "no sync after {timeouts} timeouts");
            }
            match self.run(client, &write) {
                Outcome::TimedOut => timeouts += 1,
                done => return (done, timeouts),
            }
        }
        panic!("no result after {tries} tries");
    }

    /// Feed the client until it stops waiting (or the peer times out).
    pub fn wait(&mut self, client: &mut SyncClient<'_>) -> Outcome {
        loop {
            while let Some(piece) = self.backlog.pop_front() {
                let mut rest: &[u8] = &piece;
                while !rest.is_empty() {
                    let fed = client.feed(rest);
                    let consumed = fed.consumed;
                    let done = match fed.event {
                        Event::Nothing => None,
                        Event::Synced { id } => Some(Outcome::Synced(id)),
                        Event::Reply(Ok(v)) => Some(Outcome::Return(crate::encode(&v))),
                        Event::Reply(Err(CommandError::Agent { class, desc })) => {
                            Some(Outcome::Error {
                                class: class.chars().collect(),
                                desc: desc.chars().collect(),
                            })
                        }
                        Event::Reply(Err(CommandError::TooLarge { len })) => {
                            Some(Outcome::TooLarge(len))
                        }
                        Event::LateError { id, error } => {
                            self.late_errors.push(format!("{id}: {error}"));
                            None
                        }
                        Event::Discarded(_) => {
                            self.discarded += 1;
                            None
                        }
                    };
                    rest = &rest[consumed..];
                    if let Some(done) = done {
                        if !rest.is_empty() {
                            self.backlog.push_front(rest.to_vec());
                        }
                        return done;
                    }
                }
            }
            match self.peer.recv() {
                Some(bytes) => {
                    for line in self.lines.push(&bytes) {
                        let pieces = self.relay.to_client(&line);
                        self.backlog.extend(pieces);
                    }
                }
                None => {
                    client.timeout();
                    return Outcome::TimedOut;
                }
            }
        }
    }
}

/// Standard base64 (with padding).
pub fn base64_encode(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decode standard base64; `None` if malformed.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = n << 6 | val(c)?;
        }
        n <<= 6 * pad as u32;
        let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&got[..3 - pad]);
    }
    Some(out)
}

/// An open file of [`FileHandler`].
#[derive(Debug)]
struct OpenFile {
    data: Vec<u8>,
    pos: usize,
}

/// Answers `guest-file-open/write/flush/seek/read/close` and
/// `guest-get-time` the way qemu-ga 7.2 words them, over in-memory files
/// (handles count from 1000, as in qemu-ga's fresh state). Typed
/// arguments via [`Call::args`]; `whence` also accepts qemu-ga's symbolic
/// `set`/`cur`/`end` (newer than the seed schema's integer).
#[derive(Debug)]
pub struct FileHandler {
    files: Vec<(i64, OpenFile)>,
    existing: Vec<String>,
    next: i64,
    /// What `guest-get-time` returns.
    pub clock: i64,
    table: Vec<CommandInfo>,
    /// Names the handler lists but has disabled (qemu-ga's block list).
    pub blocked: Vec<&'static str>,
}

impl Default for FileHandler {
    fn default() -> Self {
        FileHandler::new(&[])
    }
}

impl FileHandler {
    /// A handler whose `guest-info` also lists `extra` commands (answered
    /// only when disabled, as a block list would).
    pub fn new(extra: &[CommandInfo]) -> FileHandler {
        let mut table: Vec<CommandInfo> = qwire::qga::schema::COMMANDS
            .iter()
            .copied()
            .filter(|c| {
                [
                    "guest-file-open",
                    "guest-file-close",
                    "guest-file-read",
                    "guest-file-write",
                    "guest-file-seek",
                    "guest-file-flush",
                    "guest-get-time",
                ]
                .contains(&c.name)
            })
            .collect();
        table.extend_from_slice(extra);
        FileHandler {
            files: Vec::new(),
            existing: Vec::new(),
            next: 1000,
            clock: 0,
            table,
            blocked: Vec::new(),
        }
    }

    fn file(&mut self, handle: i64) -> Option<&mut OpenFile> {
        self.files
            .iter_mut()
            .find(|(h, _)| *h == handle)
            .map(|(_, f)| f)
    }
}

fn not_found(reply: Reply<'_, '_, '_>, handle: i64) -> Answered {
    reply.error(
        ErrorClass::GenericError,
        format_args!("handle '{handle}' has not been found"),
    )
}

impl Handler for FileHandler {
    fn commands(&self) -> &[CommandInfo] {
        &self.table
    }

    fn enabled(&self, index: usize) -> bool {
        self.table
            .get(index)
            .is_some_and(|c| !self.blocked.contains(&c.name))
    }

    fn call(&mut self, call: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        if call.is::<GuestFileOpen>() {
            let args = match call.args::<GuestFileOpen>() {
                Ok(a) => a,
                Err(e) => return reply.invalid_arguments(&e),
            };
            let path = args.path.as_str().to_owned();
            let mode = args.mode.as_ref().map_or("r", |m| m.as_str()).to_owned();
            if mode.starts_with('r') && !self.existing.contains(&path) {
                return reply.error(
                    ErrorClass::GenericError,
                    format_args!(
                        "failed to open file '{path}' (mode: '{mode}'): No such file or directory"
                    ),
                );
            }
            self.existing.push(path);
            let handle = self.next;
            self.next += 1;
            self.files.push((
                handle,
                OpenFile {
                    data: Vec::new(),
                    pos: 0,
                },
            ));
            reply.ok(&handle)
        } else if call.is::<GuestFileWriteCommand>() {
            let args = match call.args::<GuestFileWriteCommand>() {
                Ok(a) => a,
                Err(e) => return reply.invalid_arguments(&e),
            };
            let Some(data) = base64_decode(args.buf_b64.as_str()) else {
                return reply.error(ErrorClass::GenericError, format_args!("Invalid base64"));
            };
            let Some(f) = self.file(args.handle) else {
                return not_found(reply, args.handle);
            };
            let end = f.pos + data.len();
            if f.data.len() < end {
                f.data.resize(end, 0);
            }
            f.data[f.pos..end].copy_from_slice(&data);
            f.pos = end;
            reply.ok(&GuestFileWrite {
                count: data.len() as i64,
                eof: false,
            })
        } else if call.is::<GuestFileFlush>() {
            match call.args::<GuestFileFlush>() {
                Ok(a) if self.file(a.handle).is_some() => reply.ok_empty(),
                Ok(a) => not_found(reply, a.handle),
                Err(e) => reply.invalid_arguments(&e),
            }
        } else if call.is::<GuestFileSeekCommand>() {
            let (handle, offset, whence) = match call.args::<GuestFileSeekCommand>() {
                Ok(a) => (a.handle, a.offset, a.whence),
                Err(e) => {
                    // qemu-ga 2.6+ also takes "set"/"cur"/"end".
                    let symbolic = call.arguments.and_then(|a| {
                        let w = a.get("whence")?.as_str()?;
                        let w = ["set", "cur", "end"].iter().position(|s| w.eq_str(s))?;
                        Some((
                            a.get("handle")?.as_i64()?,
                            a.get("offset")?.as_i64()?,
                            w as i64,
                        ))
                    });
                    match symbolic {
                        Some(t) => t,
                        None => return reply.invalid_arguments(&e),
                    }
                }
            };
            let Some(f) = self.file(handle) else {
                return not_found(reply, handle);
            };
            let base = match whence {
                0 => 0,
                1 => f.pos as i64,
                _ => f.data.len() as i64,
            };
            f.pos = (base + offset).max(0) as usize;
            reply.ok(&GuestFileSeek {
                position: f.pos as i64,
                eof: false,
            })
        } else if call.is::<GuestFileReadCommand>() {
            let args = match call.args::<GuestFileReadCommand>() {
                Ok(a) => a,
                Err(e) => return reply.invalid_arguments(&e),
            };
            let Some(f) = self.file(args.handle) else {
                return not_found(reply, args.handle);
            };
            let count = args.count.unwrap_or(4096).max(0) as usize;
            let end = (f.pos + count).min(f.data.len());
            let chunk = f.data[f.pos.min(end)..end].to_vec();
            f.pos = end;
            let eof = f.pos >= f.data.len();
            let mut value = GuestFileRead {
                count: chunk.len() as i64,
                eof,
                ..Default::default()
            };
            if value.buf_b64.push_str(&base64_encode(&chunk)).is_err() {
                return reply.error(ErrorClass::GenericError, format_args!("read too large"));
            }
            reply.ok(&value)
        } else if call.is::<GuestFileClose>() {
            match call.args::<GuestFileClose>() {
                Ok(a) if self.file(a.handle).is_some() => {
                    self.files.retain(|(h, _)| *h != a.handle);
                    reply.ok_empty()
                }
                Ok(a) => not_found(reply, a.handle),
                Err(e) => reply.invalid_arguments(&e),
            }
        } else if call.is::<GuestGetTime>() {
            match call.args::<GuestGetTime>() {
                Ok(_) => reply.ok(&self.clock),
                Err(e) => reply.invalid_arguments(&e),
            }
        } else {
            reply.error(
                ErrorClass::GenericError,
                format_args!("command {} not implemented here", call.name),
            )
        }
    }
}

/// Adapts a std stream to `embedded_io` (blocking) and `embedded_io_async`
/// (it simply blocks inside the future). A read that times out is
/// `ErrorKind::TimedOut`.
#[derive(Debug)]
pub struct Io<S>(pub S);

/// The adapter's error: the std error's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoError(pub std::io::ErrorKind);

impl std::fmt::Display for IoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for IoError {}

impl embedded_io::Error for IoError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self.0 {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                embedded_io::ErrorKind::TimedOut
            }
            _ => embedded_io::ErrorKind::Other,
        }
    }
}

impl<S> embedded_io::ErrorType for Io<S> {
    type Error = IoError;
}

impl<S: Read> embedded_io::Read for Io<S> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        self.0.read(buf).map_err(|e| IoError(e.kind()))
    }
}

impl<S: Write> embedded_io::Write for Io<S> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        self.0.write(buf).map_err(|e| IoError(e.kind()))
    }

    fn flush(&mut self) -> Result<(), IoError> {
        self.0.flush().map_err(|e| IoError(e.kind()))
    }
}

impl<S: Read> embedded_io_async::Read for Io<S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        self.0.read(buf).map_err(|e| IoError(e.kind()))
    }
}

impl<S: Write> embedded_io_async::Write for Io<S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        self.0.write(buf).map_err(|e| IoError(e.kind()))
    }

    async fn flush(&mut self) -> Result<(), IoError> {
        self.0.flush().map_err(|e| IoError(e.kind()))
    }
}

/// Run a future to completion on this thread (the adapters never pend).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

/// Encode a value with an ad-hoc closure (arguments for raw commands).
pub fn args_of(f: impl Fn(&mut JsonWriter<'_>) -> Result<(), WriteError>) -> impl Encode {
    qwire::json::EncodeWith(f)
}

/// docs/QGA.md's Rust examples, compiled and run as doctests.
#[doc = include_str!("../../docs/QGA.md")]
#[cfg(doctest)]
pub struct QgaDoctests;
