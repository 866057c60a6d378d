//! (a) The framer alone: frame the UART's bytes (QEMU's dialect, 4 KiB
//! frame buffer in static RAM) and send each frame, and a one-byte code
//! per sentinel, error and too-large value.

#![no_std]
#![no_main]

use cortex_m_rt::entry;
use qwire::framer::{Config, Event, Framer};
use qwire_footprint::{read_chunk, send};

static mut FRAME: [u8; 4096] = [0; 4096];

#[entry]
fn main() -> ! {
    // SAFETY: the only reference to FRAME, taken once.
    let frame_buf = unsafe { &mut *core::ptr::addr_of_mut!(FRAME) };
    let mut framer = Framer::new(frame_buf, Config::QEMU_INPUT);
    let mut chunk = [0u8; 64];
    loop {
        let n = read_chunk(&mut chunk);
        let mut rest = chunk.get(..n).unwrap_or_default();
        while !rest.is_empty() {
            let fed = framer.feed(rest);
            match fed.event {
                Event::Frame(f) => send(f.bytes),
                Event::Sentinel { .. } => send(b"S"),
                Event::Error { error, .. } => send(error.kind.name().as_bytes()),
                Event::TooLarge { .. } => send(b"L"),
                Event::NeedMore => {}
            }
            rest = rest.get(fed.consumed..).unwrap_or_default();
        }
    }
}
