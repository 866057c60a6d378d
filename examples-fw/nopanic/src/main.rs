//! Drives qwire's layers on input the optimizer cannot see (a volatile
//! "UART" register), so every code path a real device would exercise is
//! compiled in. The panic handler refers to a symbol that exists nowhere:
//! the image links only if no panic is reachable.

#![no_std]
#![no_main]

use core::panic::PanicInfo;
use core::ptr::{read_volatile, write_volatile};

use cortex_m_rt::entry;
use qwire::codec::{Decode, Mode};
use qwire::envelope::{classify, Message};
use qwire::framer::{Config, Event, Framer};
use qwire::json::JsonWriter;

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

static mut FRAME: [u8; 4096] = [0; 4096];

#[entry]
fn main() -> ! {
    // SAFETY: the only reference to FRAME, taken once before the loop.
    let frame_buf = unsafe { &mut *core::ptr::addr_of_mut!(FRAME) };
    let mut framer = Framer::new(frame_buf, Config::QEMU_INPUT);
    let mut chunk = [0u8; 64];
    let mut out = [0u8; 512];
    let mut version = qwire::qmp::schema::VersionInfo::default();
    loop {
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
                                let args = qwire::qga::schema::decode_request(req.name, req.arguments, Mode::Strict);
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
