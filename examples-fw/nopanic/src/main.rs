//! Drives qwire's layers on input the optimizer cannot see (a volatile
//! "UART" register), so every code path a real device would exercise is
//! compiled in: the framer with typed decoding and QEMU's request checks,
//! the QGA agent loop (built-ins plus a handler with typed arguments), and
//! the QMP client (negotiation, typed and raw commands, deadlines, every
//! event). The panic handler refers to a symbol that exists nowhere: the
//! image links only if no panic is reachable. docs/NOPANIC.md explains the
//! proof and how to find a panic path when the link fails.

#![no_std]
#![no_main]

use core::panic::PanicInfo;
use core::ptr::{read_volatile, write_volatile};

use cortex_m_rt::entry;
use qwire::codec::{CommandInfo, Decode, Mode, NoArgs};
use qwire::dispatch::{Answered, Call, ErrorClass, Handler, Reply};
use qwire::envelope::{classify, Message};
use qwire::framer::{Config, Event, Framer};
use qwire::json::JsonWriter;
use qwire::qga::schema::{GuestFileOpen, GuestGetTime, GuestSetTime};
use qwire::qga::Agent;
use qwire::qmp::schema::{QueryVersion, VersionInfo};
use qwire::qmp::{Client, ClientEvent, ClientState, SendOptions};

#[cfg(not(feature = "find-panics"))]
extern "C" {
    /// Deliberately undefined.
    fn qwire_panic_is_reachable() -> !;
}

/// With `--features find-panics` the image links, and the callers of the
/// panic machinery can be found in its disassembly.
#[cfg(feature = "find-panics")]
#[no_mangle]
pub extern "C" fn qwire_panic_is_reachable() -> ! {
    loop {}
}

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    // SAFETY: never called in a linked image; that is the point.
    unsafe { qwire_panic_is_reachable() }
}

const RX: *const u8 = 0x4000_4000 as *const u8;
const TX: *mut u8 = 0x4000_4004 as *mut u8;

fn read_chunk(buf: &mut [u8]) -> usize {
    // SAFETY: a device register; any value is fine for this check.
    let n = usize::from(unsafe { read_volatile(RX) }) % (buf.len() + 1);
    for b in buf.iter_mut().take(n) {
        // SAFETY: as above.
        *b = unsafe { read_volatile(RX) };
    }
    n
}

fn send(bytes: &[u8]) {
    for &b in bytes {
        // SAFETY: a device register.
        unsafe { write_volatile(TX, b) };
    }
}

fn read_u8() -> u8 {
    // SAFETY: a device register.
    unsafe { read_volatile(RX) }
}

static mut FRAME: [u8; 4096] = [0; 4096];
static mut AGENT_IN: [u8; 1024] = [0; 1024];
static mut AGENT_OUT: [u8; 2048] = [0; 2048];
static mut CLIENT_FRAME: [u8; 4096] = [0; 4096];

/// A small guest-side handler: typed arguments, an error with formatted
/// text, a time from the device.
struct Guest {
    now: u64,
}

const GUEST_COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: "guest-get-time",
        success_response: true,
        allow_oob: false,
        has_args: false,
    },
    CommandInfo {
        name: "guest-set-time",
        success_response: true,
        allow_oob: false,
        has_args: true,
    },
    CommandInfo {
        name: "guest-file-open",
        success_response: true,
        allow_oob: false,
        has_args: true,
    },
];

impl Handler for Guest {
    fn commands(&self) -> &[CommandInfo] {
        GUEST_COMMANDS
    }
    fn enabled(&self, index: usize) -> bool {
        index != usize::from(read_u8() % 3)
    }
    fn call(&mut self, call: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        if call.is::<GuestGetTime>() {
            match call.args::<GuestGetTime>() {
                Ok(_) => reply.ok(&self.now),
                Err(e) => reply.invalid_arguments(&e),
            }
        } else if call.is::<GuestSetTime>() {
            match call.args::<GuestSetTime>() {
                Ok(a) => {
                    self.now = a.time.unwrap_or(0) as u64;
                    reply.ok_empty()
                }
                Err(e) => reply.invalid_arguments(&e),
            }
        } else {
            match call.args::<GuestFileOpen>() {
                Ok(_) if read_u8() == 0 => reply.ok(&1000u64),
                Ok(a) => reply.error(
                    ErrorClass::GenericError,
                    format_args!("failed to open file '{}'", a.path.as_str()),
                ),
                Err(e) => reply.invalid_arguments(&e),
            }
        }
    }
}

/// The QGA agent loop over the device, until it reads a zero-length chunk.
fn agent_loop() {
    // SAFETY: the only references to the buffers, taken once.
    let (input, output) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(AGENT_IN),
            &mut *core::ptr::addr_of_mut!(AGENT_OUT),
        )
    };
    let Ok(mut agent) = Agent::new(input, output, "1.0") else {
        return;
    };
    let mut guest = Guest { now: 0 };
    let mut chunk = [0u8; 64];
    loop {
        let n = read_chunk(&mut chunk);
        if n == 0 {
            return;
        }
        let mut rest = chunk.get(..n).unwrap_or_default();
        while !rest.is_empty() {
            let step = agent.feed(rest, &mut guest);
            send(step.reply);
            rest = rest.get(step.consumed..).unwrap_or_default();
            if read_u8() == 0xAA {
                agent.reset();
            }
        }
    }
}

/// The QMP client over the device: negotiate, alternate a typed and a raw
/// command (some out-of-band, some with deadlines), read every event.
fn client_loop() {
    // SAFETY: the only reference to the buffer, taken once.
    let frame = unsafe { &mut *core::ptr::addr_of_mut!(CLIENT_FRAME) };
    let mut client: Client<'_, 4> = Client::new(frame);
    let mut out = [0u8; 256];
    let mut version = VersionInfo::default();
    let mut chunk = [0u8; 64];
    let mut clock = 0u64;
    loop {
        clock = clock.wrapping_add(u64::from(read_u8()));
        if client.state() == ClientState::Greeted {
            if let Ok(n) = client.negotiate(read_u8() & 1 == 1, &mut out) {
                send(out.get(..n).unwrap_or_default());
            }
        }
        if client.state() == ClientState::Ready {
            let mut opts = SendOptions::new().deadline(clock.wrapping_add(1000));
            if read_u8() & 1 == 1 {
                opts = opts.oob();
            }
            if read_u8() & 2 == 2 {
                opts = opts.anonymous();
            }
            let sent = if read_u8() & 1 == 1 {
                client.send::<QueryVersion>(&NoArgs, opts, &mut out)
            } else {
                client.send_raw("query-status", Some(&NoArgs), opts, &mut out)
            };
            if let Ok(s) = sent {
                send(out.get(..s.len).unwrap_or_default());
            }
        }
        if let Some(id) = client.expire(clock) {
            send(&id.to_le_bytes());
        }
        let n = read_chunk(&mut chunk);
        if n == 0 {
            let ended = client.finish();
            send(&[u8::from(ended.truncated)]);
            client.reset();
            return;
        }
        let mut rest = chunk.get(..n).unwrap_or_default();
        while !rest.is_empty() {
            let r = client.feed(rest);
            let consumed = r.consumed;
            match r.event {
                ClientEvent::Return { value, .. } => {
                    if version.decode_into(value, Mode::Lenient).is_ok() {
                        send(&[version.qemu.major as u8]);
                    }
                }
                ClientEvent::Error { class, desc, .. }
                | ClientEvent::NegotiationFailed { class, desc } => {
                    send(class.raw());
                    send(desc.raw());
                }
                ClientEvent::Event(e) => {
                    send(e.name.raw());
                    if let Some(t) = e.timestamp {
                        send(&t.seconds.to_le_bytes());
                    }
                }
                ClientEvent::Greeting(g) => {
                    if let Some((major, _, _)) = g.qemu_version() {
                        send(&major.to_le_bytes());
                    }
                }
                ClientEvent::TooLarge { id, len } => {
                    send(&id.unwrap_or(len).to_le_bytes());
                }
                ClientEvent::Late { id, .. } => send(&id.to_le_bytes()),
                ClientEvent::Unsolicited(m) => send(&[m.kind() as u8]),
                ClientEvent::Malformed { at, .. } => send(&at.to_le_bytes()),
                ClientEvent::Negotiated { oob } => send(&[u8::from(oob)]),
                ClientEvent::NeedMore => {}
            }
            rest = rest.get(consumed..).unwrap_or_default();
        }
    }
}

#[entry]
fn main() -> ! {
    // SAFETY: the only reference to FRAME, taken once before the loop.
    let frame_buf = unsafe { &mut *core::ptr::addr_of_mut!(FRAME) };
    let mut framer = Framer::new(frame_buf, Config::QEMU_INPUT);
    let mut chunk = [0u8; 64];
    let mut out = [0u8; 512];
    let mut version = qwire::qmp::schema::VersionInfo::default();
    loop {
        match read_u8() {
            1 => agent_loop(),
            2 => client_loop(),
            _ => {}
        }
        let n = read_chunk(&mut chunk);
        let mut rest = chunk.get(..n).unwrap_or_default();
        while !rest.is_empty() {
            let fed = framer.feed(rest);
            let mut w = JsonWriter::new(&mut out);
            let _ = qwire::dispatch::write_framing_error(&mut w, &fed.event);
            if let Event::Frame(f) = fed.event {
                match classify(f.json()) {
                    Message::Return(r) => {
                        if version.decode_into(r.value, Mode::Lenient).is_ok() {
                            send(&[version.qemu.major as u8]);
                        }
                    }
                    Message::Command(_) | Message::OobCommand(_) => {
                        match qwire::dispatch::check_request(f.json(), false) {
                            Ok(req) => {
                                let args = qwire::qga::schema::decode_request(
                                    req.name,
                                    req.arguments,
                                    Mode::Strict,
                                );
                                send(&[args.is_ok() as u8]);
                            }
                            Err(refused) => {
                                let _ = qwire::dispatch::write_refusal(&mut w, &refused);
                            }
                        }
                    }
                    _ => {}
                }
            }
            send(w.as_bytes());
            rest = rest.get(fed.consumed..).unwrap_or_default();
        }
    }
}
