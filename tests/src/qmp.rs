//! Helpers for the QMP session tests: the client's events as owned values
//! (so tests can collect and compare them), and a small blocking driver of
//! [`qwire::qmp::Client`] over a Unix socket.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use qwire::envelope::{Message, Timestamp};
use qwire::json::{Json, Str};
use qwire::qmp::{Client, ClientEvent, SendOptions, Sent};

/// A [`ClientEvent`] as an owned value.
#[derive(Clone, Debug, PartialEq)]
pub enum Got {
    /// `ClientEvent::Greeting`: version triple, `oob` offered.
    Greeting(Option<(u64, u64, u64)>, bool),
    /// `ClientEvent::Negotiated`.
    Negotiated {
        /// `oob` on.
        oob: bool,
    },
    /// `ClientEvent::NegotiationFailed`.
    NegotiationFailed {
        /// Class.
        class: String,
        /// Description.
        desc: String,
    },
    /// `ClientEvent::Return`.
    Return {
        /// Id.
        id: u64,
        /// The value.
        value: serde_json::Value,
        /// The value's bytes, for typed decoding.
        raw: Vec<u8>,
    },
    /// `ClientEvent::Error`.
    Error {
        /// Id.
        id: u64,
        /// Class.
        class: String,
        /// Description.
        desc: String,
    },
    /// `ClientEvent::TooLarge`.
    TooLarge {
        /// Owner.
        id: Option<u64>,
        /// Length.
        len: u64,
    },
    /// `ClientEvent::Event`.
    Event {
        /// Name.
        name: String,
        /// Data.
        data: Option<serde_json::Value>,
        /// Timestamp.
        timestamp: Option<Timestamp>,
    },
    /// `ClientEvent::Late`: id, and the reply's kind (`None`: too large).
    Late {
        /// Id.
        id: u64,
        /// Kind of the reply.
        kind: Option<&'static str>,
    },
    /// `ClientEvent::Unsolicited`: the message's kind, id and (for errors)
    /// class and description.
    Unsolicited {
        /// Kind name.
        kind: &'static str,
        /// Its id.
        id: Option<serde_json::Value>,
        /// Error class and description, for errors.
        error: Option<(String, String)>,
    },
    /// `ClientEvent::Malformed` at this offset.
    Malformed(u64),
}

/// A string's unescaped text.
pub fn text(s: Str<'_>) -> String {
    s.chars().collect()
}

/// A value as serde_json sees it.
pub fn value(v: Json<'_>) -> serde_json::Value {
    crate::sj(v.as_bytes())
}

/// The owned form of an event (`None` for `NeedMore`).
pub fn owned(ev: &ClientEvent<'_>) -> Option<Got> {
    Some(match *ev {
        ClientEvent::NeedMore => return None,
        ClientEvent::Greeting(g) => Got::Greeting(g.qemu_version(), g.has_capability("oob")),
        ClientEvent::Negotiated { oob } => Got::Negotiated { oob },
        ClientEvent::NegotiationFailed { class, desc } => Got::NegotiationFailed {
            class: text(class),
            desc: text(desc),
        },
        ClientEvent::Return { id, value: v } => Got::Return {
            id,
            value: value(v),
            raw: v.as_bytes().to_vec(),
        },
        ClientEvent::Error { id, class, desc } => Got::Error {
            id,
            class: text(class),
            desc: text(desc),
        },
        ClientEvent::TooLarge { id, len } => Got::TooLarge { id, len },
        ClientEvent::Event(e) => Got::Event {
            name: text(e.name),
            data: e.data.map(value),
            timestamp: e.timestamp,
        },
        ClientEvent::Late { id, reply } => Got::Late {
            id,
            kind: reply.map(|m| m.kind().name()),
        },
        ClientEvent::Unsolicited(m) => Got::Unsolicited {
            kind: m.kind().name(),
            id: m.id().map(value),
            error: match m {
                Message::Error(e) => Some((text(e.class), text(e.desc))),
                _ => None,
            },
        },
        ClientEvent::Malformed { at, .. } => Got::Malformed(at),
    })
}

/// Feed `input` to `client` completely; the owned events in order.
pub fn feed_all<const N: usize>(client: &mut Client<'_, N>, mut input: &[u8]) -> Vec<Got> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let r = client.feed(input);
        out.extend(owned(&r.event));
        input = &input[r.consumed..];
    }
    out
}

/// A [`Client`] driven over a blocking Unix socket.
pub struct Conn<const N: usize = 8> {
    /// The socket.
    pub stream: UnixStream,
    /// The session.
    pub client: Client<'static, N>,
    /// Bytes read but not yet fed.
    pending: Vec<u8>,
    /// Every event seen so far, in order.
    pub log: Vec<Got>,
    /// The server closed the connection.
    pub eof: bool,
}

impl<const N: usize> Conn<N> {
    /// A client with a `frame_cap`-byte frame buffer over `stream`.
    pub fn new(stream: UnixStream, frame_cap: usize) -> Self {
        let buf: &'static mut [u8] = Box::leak(vec![0u8; frame_cap].into_boxed_slice());
        Conn {
            stream,
            client: Client::new(buf),
            pending: Vec::new(),
            log: Vec::new(),
            eof: false,
        }
    }

    /// Read the greeting and negotiate (`oob` if asked and offered). The
    /// events up to and including `Negotiated`.
    pub fn handshake(&mut self, want_oob: bool) -> Vec<Got> {
        let mut got = self.until(|g| matches!(g, Got::Greeting(..)));
        let mut out = [0u8; 256];
        let n = self
            .client
            .negotiate(want_oob, &mut out)
            .expect("negotiate");
        self.write(&out[..n]);
        got.extend(
            self.until(|g| matches!(g, Got::Negotiated { .. } | Got::NegotiationFailed { .. })),
        );
        got
    }

    /// Write bytes to the server.
    pub fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to server");
    }

    /// Send a raw command; its id.
    pub fn send_raw(&mut self, name: &str, args: Option<&str>, opts: SendOptions) -> u64 {
        let mut out = vec![0u8; 4096];
        let args = args.map(|a| Json::parse(a.as_bytes()).expect("arguments JSON"));
        let sent: Sent = self
            .client
            .send_raw(
                name,
                args.as_ref().map(|a| a as &dyn qwire::json::Encode),
                opts,
                &mut out,
            )
            .expect("send_raw");
        self.write(&out[..sent.len]);
        sent.id
    }

    /// Feed what is pending, then read until `stop` matches an event (or
    /// the server closes). The events seen, the matching one last.
    pub fn until(&mut self, mut stop: impl FnMut(&Got) -> bool) -> Vec<Got> {
        let mut got = Vec::new();
        loop {
            // Feed what we have.
            let mut used = 0usize;
            let mut done = false;
            while used < self.pending.len() {
                let r = self.client.feed(&self.pending[used..]);
                used += r.consumed;
                if let Some(g) = owned(&r.event) {
                    let hit = stop(&g);
                    self.log.push(g.clone());
                    got.push(g);
                    if hit {
                        done = true;
                        break;
                    }
                }
            }
            self.pending.drain(..used);
            if done || self.eof {
                return got;
            }
            let mut chunk = vec![0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read from server");
            if n == 0 {
                self.eof = true;
            }
            self.pending.extend_from_slice(&chunk[..n]);
        }
    }

    /// Read until the reply (or too-large report) for `id` arrives.
    pub fn reply(&mut self, id: u64) -> Vec<Got> {
        self.until(|g| match g {
            Got::Return { id: i, .. } | Got::Error { id: i, .. } => *i == id,
            Got::TooLarge { id: Some(i), .. } => *i == id,
            _ => false,
        })
    }

    /// Read until the server closes the connection.
    pub fn to_end(&mut self) -> Vec<Got> {
        self.until(|_| false)
    }
}

/// A std Unix socket as an `embedded_io` / `embedded_io_async` byte
/// stream (the async methods complete at once: they do blocking I/O).
pub struct Stream(pub UnixStream);

fn kind(e: std::io::Error) -> embedded_io::ErrorKind {
    match e.kind() {
        std::io::ErrorKind::BrokenPipe => embedded_io::ErrorKind::BrokenPipe,
        std::io::ErrorKind::ConnectionReset => embedded_io::ErrorKind::ConnectionReset,
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            embedded_io::ErrorKind::TimedOut
        }
        _ => embedded_io::ErrorKind::Other,
    }
}

impl embedded_io::ErrorType for Stream {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.0.read(buf).map_err(kind)
    }
}

impl embedded_io::Write for Stream {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0.write(buf).map_err(kind)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.flush().map_err(kind)
    }
}

impl embedded_io_async::Read for Stream {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.0.read(buf).map_err(kind)
    }
}

impl embedded_io_async::Write for Stream {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0.write(buf).map_err(kind)
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.flush().map_err(kind)
    }
}

/// Run a future to completion on this thread (no executor needed: the
/// futures here never wait on anything but blocking I/O).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
