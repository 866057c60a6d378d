//! (b) The QGA agent with the built-in commands only (`guest-sync`,
//! `guest-sync-delimited`, `guest-ping`, `guest-info`; everything else is
//! answered `CommandNotFound`): requests from the UART, replies to it.
//! Input buffer 1 KiB, output buffer 2 KiB (`dispatch::MIN_OUTPUT`), both
//! static.

#![no_std]
#![no_main]

use cortex_m_rt::entry;
use qwire::codec::CommandInfo;
use qwire::dispatch::{Answered, Call, Handler, Reply};
use qwire::qga::Agent;
use qwire_footprint::{read_chunk, send};

static mut INPUT: [u8; 1024] = [0; 1024];
static mut OUTPUT: [u8; 2048] = [0; 2048];

struct BuiltinsOnly;

impl Handler for BuiltinsOnly {
    fn commands(&self) -> &[CommandInfo] {
        &[]
    }
    fn call(&mut self, _: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        reply.ok_empty()
    }
}

#[entry]
fn main() -> ! {
    // SAFETY: the only references to the buffers, taken once.
    let (input, output) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(INPUT),
            &mut *core::ptr::addr_of_mut!(OUTPUT),
        )
    };
    let Ok(mut agent) = Agent::new(input, output, "1.0") else {
        loop {
            core::hint::spin_loop();
        }
    };
    let mut handler = BuiltinsOnly;
    let mut chunk = [0u8; 64];
    loop {
        let n = read_chunk(&mut chunk);
        let mut rest = chunk.get(..n).unwrap_or_default();
        while !rest.is_empty() {
            let step = agent.feed(rest, &mut handler);
            send(step.reply);
            rest = rest.get(step.consumed..).unwrap_or_default();
        }
    }
}
