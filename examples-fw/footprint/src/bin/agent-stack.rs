//! Stack use of the QGA agent loop, measured by stack painting on QEMU's
//! `mps2-an386` (Cortex-M4):
//!
//! 1. `main` paints 16 KiB below its stack pointer with a pattern;
//! 2. `run` (not inlined) creates the agent and feeds it everything below,
//!    in 7-byte and whole pieces: qemu-ga 7.2's recorded session (every
//!    built-in, typed arguments, file commands, unknown commands), two
//!    handler commands with typed arguments (one with a bad argument), a
//!    request longer than the 1 KiB input buffer, 1,100 nested brackets
//!    (depth error), garbage, 0xFF, a long token in an error;
//! 3. `main` finds the lowest word no longer holding the pattern.
//!
//! It prints (UART0) the peak stack below `main`'s frame, i.e. what the
//! agent loop itself needs (the `Agent` struct, which `run` holds on its
//! stack, included), and the peak from the top of RAM (reset handler and
//! `main` included), then exits through semihosting.
//!
//! ```sh
//! qemu-system-arm -M mps2-an386 -nographic -semihosting \
//!     -kernel target/thumbv7em-none-eabihf/release/agent-stack
//! ```

#![no_std]
#![no_main]

use core::arch::asm;
use core::ptr::{read_volatile, write_volatile};

use cortex_m_rt::entry;
use qwire::codec::CommandInfo;
use qwire::dispatch::{Answered, Call, Handler, Reply};
use qwire::qga::schema::{GuestFileOpen, GuestGetTime};
use qwire::qga::Agent;
use qwire_footprint::{exit, send, uart_init, write_dec};

const PATTERN: u32 = 0xC0DE_57AC;
const PAINT: usize = 16 * 1024;

static mut INPUT: [u8; 1024] = [0; 1024];
static mut OUTPUT: [u8; 2048] = [0; 2048];

/// qemu-ga 7.2's recorded session: everything a host sent.
static SESSION: &[u8] = include_bytes!("../../../../../shared/corpus/qemu-7.2/qga/session.c2s.bin");

static EXTRA: &[&[u8]] = &[
    b"{\"execute\": \"guest-file-open\", \"arguments\": {\"path\": \"/tmp/f\", \"mode\": \"r\"}, \"id\": [1, {\"a\": \"b\"}]}",
    b"{\"execute\": \"guest-file-open\", \"arguments\": {\"path\": 7}}",
    b"{\"execute\": \"guest-get-time\", \"arguments\": {\"x\": 1}}",
    b"{'execute': 'guest-info', 'id': 'single'}",
    b"\x00\x01garbage!!@@ \xfe\xfd{\"execute\": \"guest-ping\"}",
    b"{\"execute\": \"guest-sync\", \"arguments\": {\"id\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xff",
    b"{\"execute\": \"guest-ping\", \"arguments\": {\"a\": \"\\uD83D\\uDE00\\u00e9\"}}",
    b"{\"execute\": \"qmp_capabilities\", \"exec-oob\": \"x\"}\n[1, 2]\n\"str\"\n",
];

struct Small {
    now: u64,
}

const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: "guest-get-time",
        success_response: true,
        allow_oob: false,
        has_args: false,
    },
    CommandInfo {
        name: "guest-file-open",
        success_response: true,
        allow_oob: false,
        has_args: true,
    },
];

impl Handler for Small {
    fn commands(&self) -> &[CommandInfo] {
        COMMANDS
    }
    fn call(&mut self, call: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        if call.is::<GuestGetTime>() {
            if let Err(e) = call.args::<GuestGetTime>() {
                return reply.invalid_arguments(&e);
            }
            self.now = self.now.wrapping_add(1_000);
            reply.ok(&self.now)
        } else {
            match call.args::<GuestFileOpen>() {
                Ok(a) if a.path.as_str() == "/tmp/f" => reply.ok(&1000u64),
                Ok(a) => reply.error(
                    qwire::dispatch::ErrorClass::GenericError,
                    format_args!("failed to open file '{}'", a.path.as_str()),
                ),
                Err(e) => reply.invalid_arguments(&e),
            }
        }
    }
}

fn feed_all(agent: &mut Agent<'_>, handler: &mut Small, bytes: &[u8], piece: usize) -> u32 {
    let mut replies = 0;
    for chunk in bytes.chunks(piece) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let step = agent.feed(rest, handler);
            if !step.reply.is_empty() {
                replies += 1;
            }
            rest = rest.get(step.consumed..).unwrap_or_default();
        }
    }
    replies
}

/// The agent loop over the whole workload; returns the replies counted.
#[inline(never)]
fn run() -> u32 {
    // SAFETY: the only references to the buffers, taken once.
    let (input, output) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(INPUT),
            &mut *core::ptr::addr_of_mut!(OUTPUT),
        )
    };
    let Ok(mut agent) = Agent::new(input, output, "7.2.22") else {
        return 0;
    };
    let mut handler = Small {
        now: 1_795_307_918_897_404_000,
    };
    let mut replies = 0;
    for piece in [7, usize::MAX] {
        replies += feed_all(&mut agent, &mut handler, SESSION, piece);
        for extra in EXTRA {
            replies += feed_all(&mut agent, &mut handler, extra, piece);
        }
        let mut big = [b' '; 64];
        big[0] = b'"';
        replies += feed_all(
            &mut agent,
            &mut handler,
            b"{\"execute\": \"guest-ping\", \"id\": ",
            piece,
        );
        for _ in 0..40 {
            replies += feed_all(&mut agent, &mut handler, &big[1..], piece);
        }
        replies += feed_all(&mut agent, &mut handler, b"1}", piece);
        for _ in 0..1100 {
            replies += feed_all(&mut agent, &mut handler, b"[", piece);
        }
        for _ in 0..1100 {
            replies += feed_all(&mut agent, &mut handler, b"]", piece);
        }
        replies += feed_all(&mut agent, &mut handler, b"\n", piece);
    }
    replies
}

fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer register.
    unsafe { asm!("mov {}, sp", out(reg) sp) };
    sp
}

extern "C" {
    /// Top of the stack (cortex-m-rt's linker script).
    static _stack_start: u32;
}

#[entry]
fn main() -> ! {
    uart_init();
    let sp = stack_pointer();
    let low = sp - PAINT;
    let mut p = low;
    while p < sp {
        // SAFETY: unused stack below this frame, inside RAM.
        unsafe { write_volatile(p as *mut u32, PATTERN) };
        p += 4;
    }
    let replies = run();
    let mut lowest = sp;
    let mut p = low;
    while p < sp {
        // SAFETY: as above.
        if unsafe { read_volatile(p as *const u32) } != PATTERN {
            lowest = p;
            break;
        }
        p += 4;
    }
    // Only the symbol's address is used.
    let top = core::ptr::addr_of!(_stack_start) as usize;
    send(b"replies ");
    write_dec(replies as usize);
    send(b"\nagent loop stack (below main) ");
    write_dec(sp - lowest);
    send(b"\ntotal stack from top of RAM ");
    write_dec(top - lowest);
    send(b"\npainted ");
    write_dec(PAINT);
    send(b"\n");
    exit()
}
