//! Stress (issue 7, item 4): a 100 MB stream of mixed valid, oversized,
//! corrupt and 0xFF-interrupted messages through the framer and through
//! each session (QMP client, QMP server, QGA sync client, QGA agent), and
//! 1,000,000 nested brackets through each of them on a 64 KiB stack.
//!
//! What is asserted (never speed: that is `cargo bench -p qwire-bench`):
//!
//! * **Exact outcome counts.** The stream is generated unit by unit from a
//!   seeded PRNG, and every unit is built so that its outcome is known in
//!   advance: a valid message is one frame (one reply, one event), an
//!   oversized one is one `TooLarge`, a corrupt one (a cut message, one byte
//!   that is invalid anywhere in JSON, then `\n`) is exactly one error, a
//!   0xFF-interrupted one (a cut message, then 0xFF) exactly one sentinel.
//!   The totals over 100 MB must equal the generator's tally, so no message
//!   is lost or invented however the stream is cut (every unit is fed in
//!   pieces of random size, 1 byte to whole).
//! * **Constant memory.** A counting global allocator: after the buffers
//!   are set up, the 100 MB pass makes **zero** heap allocations on its
//!   thread (the sessions have none, and the generator reuses one unit
//!   buffer). The sessions' own state is fixed-size by construction.
//! * **Bounded stack.** Each pass runs on a thread with a fixed 256 KiB
//!   stack (debug builds have large frames); the nesting tests use 64 KiB.
//!   Overflowing it aborts the test binary.
//!
//! Size: 100 MB (10^8 bytes) per consumer in release builds
//! (`cargo test --release -p qwire-tests --test stress`). In debug builds
//! (`cargo test --workspace`, the test command) each consumer gets 10 MB,
//! so the file stays well under a minute on two loaded cores; set
//! `QWIRE_STRESS_MB` to choose another size in either build. Measured on
//! the project's 2-core machine (2026-11-22): the whole file takes 11 s in
//! release (5 × 100 MB) and 29 s in debug (5 × 10 MB; the two nesting tests
//! that answer 10^6 errors, QGA agent and QMP server, are 12–14 s each).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write as _;

use qwire::codec::{CommandInfo, NoArgs};
use qwire::dispatch::{Answered, Call, Handler, Reply};
use qwire::envelope::{classify, Message, VersionRef};
use qwire::framer::{Config, Event, Framer};
use qwire::json::{Encode, Json, JsonWriter, WriteError};
use qwire::qga::{self, Agent, Discard, SyncClient};
use qwire::qmp::{Client, ClientEvent, SendOptions, Server};
use qwire_tests::shared_file;

// ---------------------------------------------------------------------------
// Allocation counting, per thread.

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> u64 {
    ALLOCS.with(Cell::get)
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------------------
// Sizes and the generator.

/// Bytes per consumer.
fn stream_bytes() -> u64 {
    let mb = std::env::var("QWIRE_STRESS_MB")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(if cfg!(debug_assertions) { 10 } else { 100 });
    mb * 1_000_000
}

/// The frame buffer of every consumer: QEMU's replies up to 4 KiB fit,
/// `query-commands` (6.5 KB), `query-qmp-schema` (207 KB), qemu-ga's
/// `guest-info` (3.2 KB, with the 2 KiB QGA client buffer) do not.
const FRAME: usize = 4096;
const QGA_RX: usize = 2048;

/// SplitMix64: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn pick_bytes<'a>(&mut self, items: &'a [Vec<u8>]) -> &'a [u8] {
        &items[self.below(items.len())]
    }
}

/// Bytes that are invalid at every point of a JSON text: control bytes
/// other than tab, LF and CR, bytes that never occur in UTF-8. (0xFF is
/// the sentinel, not an error.)
const BAD: &[u8] = &[
    0x00, 0x01, 0x02, 0x07, 0x08, 0x0b, 0x0c, 0x0e, 0x1b, 0x1f, 0xc0, 0xc1, 0xf5, 0xfe,
];

/// A corrupt unit: the first `1..len` bytes of `msg`, one bad byte, `\n`.
/// The framer reports exactly one error (at the bad byte), skips to the
/// `\n` and is back at the top level.
fn corrupt(rng: &mut Rng, msg: &[u8], unit: &mut Vec<u8>) {
    let cut = 1 + rng.below(msg.len() - 1);
    unit.extend_from_slice(&msg[..cut]);
    unit.push(*rng.pick(BAD));
    unit.push(b'\n');
}

/// A 0xFF-interrupted unit: the first `1..len` bytes of `msg`, then 0xFF.
fn interrupted(rng: &mut Rng, msg: &[u8], unit: &mut Vec<u8>) {
    let cut = 1 + rng.below(msg.len() - 1);
    unit.extend_from_slice(&msg[..cut]);
    unit.push(0xff);
}

/// Feed `unit` to `consume` in pieces of random size; `consume` returns how
/// many bytes it used of what it was given.
fn feed_pieces(rng: &mut Rng, unit: &[u8], mut consume: impl FnMut(&[u8]) -> usize) {
    let mut rest = unit;
    while !rest.is_empty() {
        let size = match rng.below(8) {
            0 => 1 + rng.below(16),
            1 | 2 => 1 + rng.below(512),
            3 | 4 => 1 + rng.below(4096),
            _ => rest.len(),
        }
        .min(rest.len());
        let mut piece = &rest[..size];
        while !piece.is_empty() {
            let used = consume(piece);
            piece = &piece[used..];
        }
        rest = &rest[size..];
    }
}

/// Run `pass` on a thread with a `stack`-byte stack; it returns its tally.
fn on_small_stack<T: Send + 'static>(stack: usize, pass: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(pass)
        .expect("spawn")
        .join()
        .expect("the pass panicked")
}

const STACK: usize = 256 * 1024;

/// Outcome counters; `Expected` and `Seen` are compared whole.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    valid: u64,
    oversized: u64,
    corrupt: u64,
    interrupted: u64,
    other: u64,
    bytes: u64,
    allocations: u64,
}

// ---------------------------------------------------------------------------
// The corpus, split into messages.

/// Lines of a CRLF or LF stream (a leading 0xFF dropped) that are one JSON
/// object each (transcripts of bad input have others).
fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .map(|l| l.strip_prefix(b"\xff").unwrap_or(l))
        .filter(|l| is_object(l))
        .map(<[u8]>::to_vec)
        .collect()
}

/// One JSON object and nothing else (in QEMU's dialect).
fn is_object(m: &[u8]) -> bool {
    m.first() == Some(&b'{') && Json::parse_with(m, Config::QEMU_INPUT).is_ok()
}

/// The libvirt replies files split on blank lines, as libvirt's tests do.
fn libvirt_messages() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for v in ["4.2.0.x86_64", "7.2.0_x86_64", "10.0.0_x86_64"] {
        let file = shared_file(&format!("corpus/libvirt/caps_{v}.replies"));
        let text = String::from_utf8(file).expect("utf-8");
        out.extend(
            text.split("\n\n")
                .map(str::trim)
                .filter(|m| is_object(m.as_bytes()))
                .map(|m| m.as_bytes().to_vec()),
        );
    }
    out
}

fn qmp_server_output() -> Vec<Vec<u8>> {
    let mut all = lines(&shared_file("corpus/qemu-7.2/qmp-none/session.s2c.bin"));
    all.extend(lines(&shared_file(
        "corpus/qemu-7.2/qmp-pc-tcg/session.s2c.bin",
    )));
    all
}

/// `return` values (raw JSON text, QEMU's own spacing) and events of the
/// QMP corpus.
struct QmpPool {
    values: Vec<Vec<u8>>,
    events: Vec<Vec<u8>>,
}

fn qmp_pool() -> QmpPool {
    let mut values = Vec::new();
    let mut events = Vec::new();
    for m in qmp_server_output().into_iter().chain(libvirt_messages()) {
        let v = Json::parse(&m).expect("corpus message");
        match classify(v) {
            Message::Return(r) => values.push(r.value.as_bytes().to_vec()),
            Message::Event(_) => events.push(m.clone()),
            _ => {}
        }
    }
    assert!(
        values.len() > 200 && events.len() >= 5,
        "{} {}",
        values.len(),
        events.len()
    );
    QmpPool { values, events }
}

// ---------------------------------------------------------------------------
// The framer alone.

#[test]
fn framer_100mb_mixed() {
    let total = stream_bytes();
    let mut messages = qmp_server_output();
    messages.extend(libvirt_messages());
    messages.extend(lines(&shared_file(
        "corpus/qemu-7.2/qmp-none/session.c2s.bin",
    )));
    let (small, large): (Vec<_>, Vec<_>) = messages.into_iter().partition(|m| m.len() <= FRAME);
    assert!(large.len() >= 10, "{}", large.len());
    let (expected, seen) = on_small_stack(STACK, move || {
        let mut buf = vec![0u8; FRAME];
        let mut unit = Vec::with_capacity(1 << 20);
        let mut rng = Rng(1);
        let (mut want, mut got) = (Tally::default(), Tally::default());
        let (mut want_sum, mut got_sum) = (0u64, 0u64);
        let mut framer = Framer::new(&mut buf, Config::DEFAULT);
        let before = allocations();
        while want.bytes < total {
            unit.clear();
            match rng.below(20) {
                0 => {
                    unit.extend_from_slice(rng.pick_bytes(&large));
                    want.oversized += 1;
                }
                1..=2 => {
                    let m = rng.below(small.len());
                    corrupt(&mut rng, &small[m], &mut unit);
                    want.corrupt += 1;
                }
                3..=4 => {
                    let m = rng.below(small.len());
                    interrupted(&mut rng, &small[m], &mut unit);
                    want.interrupted += 1;
                }
                _ => {
                    let m = &small[rng.below(small.len())];
                    unit.extend_from_slice(m);
                    want_sum += m.len() as u64 + u64::from(m[m.len() / 2]);
                    want.valid += 1;
                }
            }
            const SEPARATORS: [&[u8]; 4] = [b"", b"\n", b"\r\n", b" "];
            let sep: &[u8] = SEPARATORS[rng.below(SEPARATORS.len())];
            unit.extend_from_slice(sep);
            want.bytes += unit.len() as u64;
            feed_pieces(&mut rng, &unit, |piece| {
                let fed = framer.feed(piece);
                match fed.event {
                    Event::Frame(f) => {
                        let b = f.bytes;
                        got_sum += b.len() as u64 + u64::from(b[b.len() / 2]);
                        got.valid += 1;
                    }
                    Event::TooLarge { .. } => got.oversized += 1,
                    Event::Error { .. } => got.corrupt += 1,
                    Event::Sentinel { .. } => got.interrupted += 1,
                    Event::NeedMore => {}
                }
                fed.consumed
            });
        }
        got.bytes = want.bytes;
        got.allocations = allocations() - before;
        assert_eq!(want_sum, got_sum, "frame contents");
        (want, got)
    });
    report("framer", &expected);
    assert_eq!(seen, expected);
}

fn report(what: &str, t: &Tally) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(
        e,
        "stress {what}: {} bytes: {} valid, {} oversized, {} corrupt, {} 0xFF-interrupted, {} other; {} allocations",
        t.bytes, t.valid, t.oversized, t.corrupt, t.interrupted, t.other, t.allocations
    );
}

// ---------------------------------------------------------------------------
// Session helpers.

/// Every message in `out` (each ends with `\r\n` or `\n`; a leading 0xFF is
/// the sync-delimited sentinel), classified.
fn replies(out: &[u8], mut each: impl FnMut(Message<'_>)) {
    for line in out.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = line.strip_prefix(b"\xff").unwrap_or(line);
        if !line.is_empty() {
            each(classify(
                Json::parse(line).expect("the session writes valid JSON"),
            ));
        }
    }
}

/// A reply to command `id` with the raw JSON `value`, in QEMU's spacing.
fn write_return(unit: &mut Vec<u8>, value: &[u8], id: u64, end: &[u8]) {
    unit.extend_from_slice(b"{\"return\": ");
    unit.extend_from_slice(value);
    let _ = write!(unit, ", \"id\": {id}}}");
    unit.extend_from_slice(end);
}

/// Handler for the QMP server and the QGA agent: two commands of its own.
struct Machine;

const QUERY_STATUS: CommandInfo = CommandInfo {
    name: "query-status",
    success_response: true,
    allow_oob: false,
    has_args: false,
};
const GET_TIME: CommandInfo = CommandInfo {
    name: "guest-get-time",
    success_response: true,
    allow_oob: false,
    has_args: false,
};

struct Status;
impl Encode for Status {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.begin_object()?;
        w.key("status")?;
        w.string("running")?;
        w.key("singlestep")?;
        w.bool(false)?;
        w.key("running")?;
        w.bool(true)?;
        w.end_object()
    }
}

impl Handler for Machine {
    fn commands(&self) -> &[CommandInfo] {
        &[QUERY_STATUS, GET_TIME]
    }
    fn call(&mut self, call: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        if let Err(e) = call.args_into(&mut NoArgs) {
            return reply.invalid_arguments(&e);
        }
        if call.name.eq_str("query-status") {
            reply.ok(&Status)
        } else {
            reply.ok(&1_795_307_803_558_142_000u64)
        }
    }
}

/// Requests for the QMP server or the QGA agent: `(bytes, answered with a
/// return)`. Commands from the QEMU 7.2 and libvirt corpora (most unknown
/// to [`Machine`], so answered `CommandNotFound` or an argument error) and
/// the handler's and built-ins' own, in several spellings.
fn requests(own: &[(&[u8], bool)], corpus: Vec<Vec<u8>>) -> Vec<(Vec<u8>, Option<bool>)> {
    let mut out: Vec<_> = own.iter().map(|(b, r)| (b.to_vec(), Some(*r))).collect();
    out.extend(
        corpus
            .into_iter()
            .filter(|m| m.len() <= FRAME && is_object(m))
            .map(|m| (m, None)),
    );
    out
}

/// An oversized request: a known command with 6,000 bytes of padding.
fn oversized_request() -> Vec<u8> {
    let mut r = b"{\"execute\": \"query-status\", \"arguments\": {\"pad\": \"".to_vec();
    r.extend(std::iter::repeat_n(b'x', 6000));
    r.extend_from_slice(b"\"}, \"id\": 1}");
    r
}

// ---------------------------------------------------------------------------
// QMP client.

#[test]
fn qmp_client_100mb_mixed() {
    let total = stream_bytes();
    let pool = qmp_pool();
    // Values of at least 2 bytes, so that every cut leaves a partial value.
    let (small, large): (Vec<_>, Vec<_>) = pool
        .values
        .into_iter()
        .filter(|v| v.len() >= 2)
        .partition(|v| v.len() + 32 <= FRAME);
    let events = pool.events;
    let greeting = qmp_server_output().remove(0);
    let (want, got) = on_small_stack(STACK, move || {
        let mut frame = vec![0u8; FRAME];
        let mut out = vec![0u8; 512];
        let mut unit = Vec::with_capacity(1 << 21);
        let mut rng = Rng(2);
        let mut client: Client<'_, 8> = Client::new(&mut frame);
        let mut rest: &[u8] = &greeting;
        while !rest.is_empty() {
            let r = client.feed(rest);
            rest = &rest[r.consumed..];
        }
        let n = client.negotiate(true, &mut out).expect("negotiate");
        assert!(n > 0);
        let r = client.feed(b"{\"return\": {}, \"id\": 0}\r\n");
        assert_eq!(r.event, ClientEvent::Negotiated { oob: true });
        let (mut want, mut got) = (Tally::default(), Tally::default());
        let before = allocations();
        while want.bytes < total {
            unit.clear();
            let mut expect_id = None;
            match rng.below(20) {
                0 | 1 => {
                    let sent = client
                        .send_raw("query-x", None, SendOptions::new(), &mut out)
                        .expect("send");
                    expect_id = Some(sent.id);
                    let big = rng.below(10) == 0;
                    let v = if big {
                        rng.pick_bytes(&large)
                    } else {
                        rng.pick_bytes(&small)
                    };
                    write_return(&mut unit, v, sent.id, b"\r\n");
                    if big {
                        want.oversized += 1;
                    } else {
                        want.valid += 1;
                    }
                }
                2 => {
                    let m = rng.below(events.len());
                    corrupt(&mut rng, &events[m], &mut unit);
                    want.corrupt += 1;
                }
                3 => {
                    let m = rng.below(small.len());
                    interrupted(&mut rng, &small[m], &mut unit);
                    want.interrupted += 1;
                }
                4..=7 => {
                    let sent = client
                        .send_raw("query-y", None, SendOptions::new(), &mut out)
                        .expect("send");
                    expect_id = Some(sent.id);
                    let _ = write!(
                        unit,
                        "{{\"id\": {}, \"error\": {{\"class\": \"GenericError\", \"desc\": \"stress\"}}}}\r\n",
                        sent.id
                    );
                    want.valid += 1;
                }
                8..=11 => {
                    unit.extend_from_slice(rng.pick_bytes(&events));
                    unit.extend_from_slice(b"\r\n");
                    want.valid += 1;
                }
                _ => {
                    let sent = client
                        .send_raw("query-z", None, SendOptions::new(), &mut out)
                        .expect("send");
                    expect_id = Some(sent.id);
                    write_return(&mut unit, rng.pick_bytes(&small), sent.id, b"\r\n");
                    want.valid += 1;
                }
            }
            want.bytes += unit.len() as u64;
            feed_pieces(&mut rng, &unit, |piece| {
                let r = client.feed(piece);
                match r.event {
                    ClientEvent::NeedMore => {}
                    ClientEvent::Return { id, .. } | ClientEvent::Error { id, .. }
                        if Some(id) == expect_id =>
                    {
                        got.valid += 1
                    }
                    ClientEvent::Event(_) => got.valid += 1,
                    ClientEvent::TooLarge { id: Some(id), .. } if Some(id) == expect_id => {
                        got.oversized += 1
                    }
                    ClientEvent::Malformed { error: Some(_), .. } => got.corrupt += 1,
                    ClientEvent::Malformed { error: None, .. } => got.interrupted += 1,
                    _ => got.other += 1,
                }
                r.consumed
            });
            assert_eq!(client.in_flight(), 0);
        }
        got.bytes = want.bytes;
        got.allocations = allocations() - before;
        (want, got)
    });
    report("QMP client", &want);
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------
// QMP server.

/// What a server or agent pass tallies per unit: the unit's category and
/// whether its one reply was a return.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `returns`: the reply is a return (`Some(true)`), an error
    /// (`Some(false)`), or either (`None`: a corpus request).
    Valid {
        returns: Option<bool>,
    },
    Oversized,
    Corrupt,
    Interrupted,
}

/// Check the replies written for one unit and count it.
fn count_unit(kind: Kind, messages: &[Option<bool>], got: &mut Tally) {
    // One reply per unit; `Some(true)` a return, `Some(false)` an error
    // (with an id for valid requests, without for bad input).
    let ok = match (kind, messages) {
        (Kind::Valid { returns }, [Some(r)]) => returns.is_none_or(|want| want == *r),
        (Kind::Oversized | Kind::Corrupt | Kind::Interrupted, [Some(false)]) => true,
        _ => false,
    };
    if !ok {
        got.other += 1;
        return;
    }
    match kind {
        Kind::Valid { .. } => got.valid += 1,
        Kind::Oversized => got.oversized += 1,
        Kind::Corrupt => got.corrupt += 1,
        Kind::Interrupted => got.interrupted += 1,
    }
}

fn reply_kind(m: Message<'_>, want_id: bool) -> Option<bool> {
    match m {
        Message::Return(_) => Some(true),
        Message::Error(e) if e.id.is_some() == want_id => Some(false),
        _ => None,
    }
}

/// Generate the next request unit for a server or agent.
fn request_unit(
    rng: &mut Rng,
    pool: &[(Vec<u8>, Option<bool>)],
    oversized: &[u8],
    end: &[u8],
    unit: &mut Vec<u8>,
) -> Kind {
    unit.clear();
    let kind = match rng.below(20) {
        0 => {
            unit.extend_from_slice(oversized);
            Kind::Oversized
        }
        1 | 2 => {
            let m = rng.below(pool.len());
            corrupt(rng, &pool[m].0, unit);
            Kind::Corrupt
        }
        3 | 4 => {
            let m = rng.below(pool.len());
            interrupted(rng, &pool[m].0, unit);
            Kind::Interrupted
        }
        _ => {
            let (m, returns) = rng.pick(pool);
            unit.extend_from_slice(m);
            Kind::Valid { returns: *returns }
        }
    };
    unit.extend_from_slice(end);
    kind
}

fn tally_want(kind: Kind, want: &mut Tally) {
    match kind {
        Kind::Valid { .. } => want.valid += 1,
        Kind::Oversized => want.oversized += 1,
        Kind::Corrupt => want.corrupt += 1,
        Kind::Interrupted => want.interrupted += 1,
    }
}

#[test]
fn qmp_server_100mb_mixed() {
    let total = stream_bytes();
    let mut corpus = lines(&shared_file("corpus/qemu-7.2/qmp-none/session.c2s.bin"));
    corpus.extend(libvirt_messages());
    corpus.retain(|m| !m.windows(16).any(|w| w == b"qmp_capabilities"));
    let pool = requests(
        &[
            (b"{\"execute\": \"query-status\", \"id\": 7}", true),
            (b"{'execute': 'query-status', 'id': 'single-quoted'}", true),
            (b"{\"execute\":\"query-status\"}", true),
            (
                b"{\"execute\": \"query-nothing\", \"id\": [1, {\"a\": null}]}",
                false,
            ),
            (
                b"{\"execute\": \"query-status\", \"arguments\": {\"x\": 1}, \"id\": 2}",
                false,
            ),
            (b"{\"execute\": 1, \"id\": 3}", false),
            (b"{\"id\": 4, \"arguments\": {}}", false),
        ],
        corpus,
    );
    let oversized = oversized_request();
    let (want, got) = on_small_stack(STACK, move || {
        let mut frame = vec![0u8; FRAME];
        let mut out = vec![0u8; 16 * 1024];
        let mut unit = Vec::with_capacity(1 << 16);
        let mut rng = Rng(3);
        let version = VersionRef {
            major: 7,
            minor: 2,
            micro: 22,
            package: "stress",
        };
        let mut server = Server::new(&mut frame, version, true);
        let mut vm = Machine;
        let mut talk = |server: &mut Server<'_>, input: &[u8], out: &mut [u8]| -> usize {
            let step = server.feed(input, out, &mut vm);
            assert!(!step.overflow);
            step.written
        };
        let n = talk(
            &mut server,
            b"{\"execute\": \"qmp_capabilities\", \"id\": 0}",
            &mut out,
        );
        let mut seen = 0;
        replies(&out[..n], |_| seen += 1);
        assert_eq!(seen, 2, "greeting and the negotiation's return");
        let (mut want, mut got) = (Tally::default(), Tally::default());
        let mut messages: Vec<Option<bool>> = Vec::with_capacity(16);
        let before = allocations();
        while want.bytes < total {
            let kind = request_unit(&mut rng, &pool, &oversized, b"\r\n", &mut unit);
            tally_want(kind, &mut want);
            want.bytes += unit.len() as u64;
            messages.clear();
            feed_pieces(&mut rng, &unit, |piece| {
                let step = server.feed(piece, &mut out, &mut vm);
                assert!(!step.overflow);
                let want_id = matches!(kind, Kind::Valid { .. });
                replies(&out[..step.written], |m| {
                    messages.push(reply_kind(m, want_id))
                });
                step.consumed
            });
            count_unit(kind, &messages, &mut got);
        }
        got.bytes = want.bytes;
        got.allocations = allocations() - before;
        (want, got)
    });
    report("QMP server", &want);
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------
// QGA agent.

#[test]
fn qga_agent_100mb_mixed() {
    let total = stream_bytes();
    let mut corpus = Vec::new();
    for f in qwire_tests::shared_files("corpus/qemu-7.2/qga", ".c2s.bin") {
        corpus.extend(lines(&std::fs::read(f).expect("read")));
    }
    let pool = requests(
        &[
            (
                b"{\"execute\": \"guest-sync-delimited\", \"arguments\": {\"id\": 123456}}",
                true,
            ),
            (
                b"{\"execute\":\"guest-sync\",\"arguments\":{\"id\":-1},\"id\":\"s\"}",
                true,
            ),
            (b"{\"execute\": \"guest-ping\"}", true),
            (b"{\"execute\": \"guest-info\", \"id\": 1}", true),
            (b"{'execute': 'guest-get-time'}", true),
            (b"{\"execute\": \"guest-nothing\", \"id\": 9}", false),
            (
                b"{\"execute\": \"guest-sync\", \"arguments\": {\"id\": \"x\"}}",
                false,
            ),
            (
                b"{\"execute\": \"guest-ping\", \"exec-oob\": \"guest-ping\"}",
                false,
            ),
        ],
        corpus,
    );
    let oversized = oversized_request();
    let (want, got) = on_small_stack(STACK, move || {
        let mut input = vec![0u8; FRAME];
        let mut output = vec![0u8; 8192];
        let mut unit = Vec::with_capacity(1 << 16);
        let mut rng = Rng(4);
        let mut agent = Agent::new(&mut input, &mut output, "7.2.22").expect("agent");
        let mut handler = Machine;
        let (mut want, mut got) = (Tally::default(), Tally::default());
        let mut messages: Vec<Option<bool>> = Vec::with_capacity(16);
        let before = allocations();
        while want.bytes < total {
            let kind = request_unit(&mut rng, &pool, &oversized, b"\n", &mut unit);
            tally_want(kind, &mut want);
            want.bytes += unit.len() as u64;
            messages.clear();
            feed_pieces(&mut rng, &unit, |piece| {
                let step = agent.feed(piece, &mut handler);
                // qemu-ga echoes no id on a guest-sync* error, only an id given.
                replies(step.reply, |m| {
                    let k = match m {
                        Message::Return(_) => Some(true),
                        Message::Error(_) => Some(false),
                        _ => None,
                    };
                    messages.push(k);
                });
                step.consumed
            });
            count_unit(kind, &messages, &mut got);
        }
        got.bytes = want.bytes;
        got.allocations = allocations() - before;
        (want, got)
    });
    report("QGA agent", &want);
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------
// QGA sync client.

#[test]
fn qga_sync_client_100mb_mixed() {
    let total = stream_bytes();
    let (mut values, mut msgs) = (Vec::new(), Vec::new());
    for f in qwire_tests::shared_files("corpus/qemu-7.2/qga", ".s2c.bin") {
        for l in lines(&std::fs::read(f).expect("read")) {
            if let Message::Return(r) = classify(Json::parse(&l).expect("a JSON line")) {
                values.push(r.value.as_bytes().to_vec());
            }
            if l.len() <= QGA_RX {
                msgs.push(l);
            }
        }
    }
    let (small, large): (Vec<_>, Vec<_>) = values.into_iter().partition(|v| v.len() + 32 <= QGA_RX);
    assert!(
        !large.is_empty() && small.len() > 20,
        "{} {}",
        small.len(),
        large.len()
    );
    let (want, got) = on_small_stack(STACK, move || {
        let mut rx = vec![0u8; QGA_RX];
        let mut out = vec![0u8; 512];
        let mut unit = Vec::with_capacity(1 << 16);
        let mut rng = Rng(5);
        let mut client = SyncClient::new(&mut rx);
        let (mut want, mut got) = (Tally::default(), Tally::default());
        let mut sync_id = 0i64;
        let before = allocations();
        // Every pass starts with a sync: the first unit, and after each
        // simulated timeout.
        let mut need_sync = true;
        while want.bytes < total {
            unit.clear();
            if need_sync {
                need_sync = false;
                sync_id += 1;
                client.sync(sync_id, &mut out).expect("sync");
                // A late reply, the agent's parse error for our 0xFF, the
                // sentinel, the answer.
                unit.extend_from_slice(b"{\"return\": {}, \"id\": 77}\n");
                unit.extend_from_slice(b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '\\uFFFD'\"}}\n");
                unit.push(0xff);
                let _ = writeln!(unit, "{{\"return\": {sync_id}}}");
                want.other += 3; // two discarded before the sentinel, one Synced
            } else {
                match rng.below(20) {
                    0 => {
                        let id = client
                            .send_raw("guest-x", None, true, &mut out)
                            .expect("send")
                            .id;
                        write_return(&mut unit, rng.pick_bytes(&large), id, b"\n");
                        want.oversized += 1;
                    }
                    1 | 2 => {
                        let m = rng.below(msgs.len());
                        corrupt(&mut rng, &msgs[m], &mut unit);
                        want.corrupt += 1;
                    }
                    3 | 4 => {
                        let m = rng.below(msgs.len());
                        interrupted(&mut rng, &msgs[m], &mut unit);
                        want.interrupted += 1;
                    }
                    5 => {
                        // A command that times out: its reply never comes
                        // before the caller's deadline, so a new sync.
                        let _ = client
                            .send_raw("guest-y", None, true, &mut out)
                            .expect("send");
                        client.timeout();
                        need_sync = true;
                        continue;
                    }
                    6 | 7 => {
                        let id = client
                            .send_raw("guest-z", None, true, &mut out)
                            .expect("send")
                            .id;
                        // A stale reply first.
                        write_return(&mut unit, b"{}", id + 1_000_000, b"\n");
                        let _ = writeln!(
                            unit,
                            "{{\"error\": {{\"class\": \"CommandNotFound\", \"desc\": \"no\"}}, \"id\": {id}}}"
                        );
                        want.other += 1;
                        want.valid += 1;
                    }
                    _ => {
                        let id = client
                            .send_raw("guest-w", None, true, &mut out)
                            .expect("send")
                            .id;
                        write_return(&mut unit, rng.pick_bytes(&small), id, b"\n");
                        want.valid += 1;
                    }
                }
            }
            want.bytes += unit.len() as u64;
            feed_pieces(&mut rng, &unit, |piece| {
                let fed = client.feed(piece);
                match fed.event {
                    qga::Event::Nothing => {}
                    qga::Event::Reply(Ok(_)) => got.valid += 1,
                    qga::Event::Reply(Err(qga::CommandError::Agent { .. })) => got.valid += 1,
                    qga::Event::Reply(Err(qga::CommandError::TooLarge { .. })) => {
                        got.oversized += 1
                    }
                    qga::Event::Discarded(Discard::Garbage) => got.corrupt += 1,
                    qga::Event::Discarded(Discard::Sentinel) => got.interrupted += 1,
                    qga::Event::Synced { id } if id == sync_id => got.other += 1,
                    qga::Event::Discarded(Discard::BeforeSentinel | Discard::Stale) => {
                        got.other += 1
                    }
                    _ => got.other += 1_000_000,
                }
                fed.consumed
            });
            assert!(
                need_sync || client.state() == qga::State::Ready,
                "{:?}",
                client.state()
            );
        }
        got.bytes = want.bytes;
        got.allocations = allocations() - before;
        (want, got)
    });
    report("QGA sync client", &want);
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------
// 1,000,000 nested brackets on a 64 KiB stack.

const NEST: usize = 1_000_000;
/// Every 1025th `[` is a depth error and starts a fresh value; the last
/// value (576 levels) closes and is one frame (it fits 4 KiB); the other
/// `]` are strays, an error each.
const NEST_EVENTS: u64 = (NEST / 1024) as u64 + 1 + (NEST - 576) as u64;

/// Feed 10^6 `[` then 10^6 `]`, 64 KiB at a time; count what `consume`
/// reports (it returns the bytes used and whether something happened).
fn nested(mut consume: impl FnMut(&[u8]) -> (usize, bool)) -> u64 {
    static OPEN: [u8; 65536] = [b'['; 65536];
    static CLOSE: [u8; 65536] = [b']'; 65536];
    let mut events = 0;
    for bracket in [&OPEN, &CLOSE] {
        let mut left = NEST;
        while left > 0 {
            let mut piece = &bracket[..left.min(bracket.len())];
            left -= piece.len();
            while !piece.is_empty() {
                let (used, event) = consume(piece);
                events += u64::from(event);
                piece = &piece[used..];
            }
        }
    }
    events
}

const SMALL_STACK: usize = 64 * 1024;

#[test]
fn nesting_framer_small_stack() {
    let n = on_small_stack(SMALL_STACK, || {
        let mut buf = [0u8; FRAME];
        let mut framer = Framer::new(&mut buf, Config::DEFAULT);
        nested(|p| {
            let fed = framer.feed(p);
            (fed.consumed, fed.event != Event::NeedMore)
        })
    });
    assert_eq!(n, NEST_EVENTS);
}

#[test]
fn nesting_qga_agent_small_stack() {
    let n = on_small_stack(SMALL_STACK, || {
        let (mut input, mut output) = ([0u8; FRAME], [0u8; 2048]);
        let mut agent = Agent::new(&mut input, &mut output, "1").expect("agent");
        nested(|p| {
            let step = agent.feed(p, &mut Machine);
            (step.consumed, !step.reply.is_empty())
        })
    });
    assert_eq!(n, NEST_EVENTS);
}

#[test]
fn nesting_qmp_server_small_stack() {
    let n = on_small_stack(SMALL_STACK, || {
        let (mut frame, mut out) = ([0u8; FRAME], [0u8; 4096]);
        let version = VersionRef {
            major: 1,
            minor: 0,
            micro: 0,
            package: "",
        };
        let mut server = Server::new(&mut frame, version, false);
        let greeting = server.greeting(&mut out).expect("greeting");
        assert!(greeting > 0);
        nested(|p| {
            let step = server.feed(p, &mut out, &mut Machine);
            (step.consumed, step.written > 0)
        })
    });
    assert_eq!(n, NEST_EVENTS);
}

#[test]
fn nesting_qmp_client_small_stack() {
    let n = on_small_stack(SMALL_STACK, || {
        let mut frame = [0u8; FRAME];
        let mut client: Client<'_, 8> = Client::new(&mut frame);
        nested(|p| {
            let r = client.feed(p);
            (r.consumed, r.event != ClientEvent::NeedMore)
        })
    });
    assert_eq!(n, NEST_EVENTS);
}

#[test]
fn nesting_qga_sync_client_small_stack() {
    let n = on_small_stack(SMALL_STACK, || {
        let mut rx = [0u8; FRAME];
        let mut client = SyncClient::new(&mut rx);
        nested(|p| {
            let fed = client.feed(p);
            (fed.consumed, fed.event != qga::Event::Nothing)
        })
    });
    assert_eq!(n, NEST_EVENTS);
}
