//! (c) The QMP client: greeting, negotiation, then `query-version` (typed,
//! decoded into the generated `VersionInfo`) and `query-status` (raw, read
//! with the `Json` reader) in turn, events counted. Frame buffer 4 KiB,
//! output buffer 256 bytes, both static; up to 8 commands in flight.

#![no_std]
#![no_main]

use cortex_m_rt::entry;
use qwire::codec::{Decode, Mode, NoArgs};
use qwire::qmp::schema::{QueryVersion, VersionInfo};
use qwire::qmp::{Client, ClientEvent, ClientState, SendOptions};
use qwire_footprint::{read_chunk, send};

static mut FRAME: [u8; 4096] = [0; 4096];
static mut OUT: [u8; 256] = [0; 256];

#[entry]
fn main() -> ! {
    // SAFETY: the only references to the buffers, taken once.
    let (frame, out) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(FRAME),
            &mut *core::ptr::addr_of_mut!(OUT),
        )
    };
    let mut client: Client<'_, 8> = Client::new(frame);
    let mut version = VersionInfo::default();
    let mut chunk = [0u8; 64];
    let mut events = 0u32;
    let mut typed = true;
    loop {
        if client.state() == ClientState::Greeted {
            if let Ok(n) = client.negotiate(true, out) {
                send(out.get(..n).unwrap_or_default());
            }
        }
        if client.state() == ClientState::Ready && client.in_flight() == 0 {
            let sent = if typed {
                client.send::<QueryVersion>(&NoArgs, SendOptions::new(), out)
            } else {
                client.send_raw("query-status", None, SendOptions::new(), out)
            };
            typed = !typed;
            if let Ok(s) = sent {
                send(out.get(..s.len).unwrap_or_default());
            }
        }
        let n = read_chunk(&mut chunk);
        let mut rest = chunk.get(..n).unwrap_or_default();
        while !rest.is_empty() {
            let r = client.feed(rest);
            let consumed = r.consumed;
            match r.event {
                ClientEvent::Return { value, .. } => {
                    if let Some(running) = value.get("running").and_then(|v| v.as_bool()) {
                        send(&[u8::from(running)]);
                    } else if version.decode_into(value, Mode::Lenient).is_ok() {
                        send(&[version.qemu.major as u8]);
                    }
                }
                ClientEvent::Error { desc, .. } => send(desc.raw()),
                ClientEvent::Event(e) => {
                    events = events.wrapping_add(1);
                    send(e.name.raw());
                    send(&events.to_le_bytes());
                }
                ClientEvent::TooLarge { .. } | ClientEvent::Malformed { .. } => send(b"!"),
                _ => {}
            }
            rest = rest.get(consumed..).unwrap_or_default();
        }
    }
}
