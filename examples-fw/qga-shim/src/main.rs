//! qga-shim: the QEMU Guest Agent as bare-metal Cortex-M4 firmware.
//!
//! Runs qwire's [`Agent`] over UART0 of QEMU's `mps2-an386` board through
//! qwire's blocking `embedded-io` driver ([`io::pump`]). Besides the
//! agent's built-ins (`guest-sync`, `guest-sync-delimited`, `guest-ping`,
//! `guest-info`) it answers:
//!
//! * `guest-get-time`: nanoseconds since the Unix epoch. The epoch comes
//!   from the host once, at boot (semihosting `SYS_TIME`, whole seconds);
//!   the time since boot from the board's FPGAIO 100 Hz counter. So the
//!   shim's clock runs 0 to 1 s behind the host's, in 10 ms steps.
//! * `guest-shutdown`: `powerdown` (the default) and `halt` stop the machine
//!   through semihosting `SYS_EXIT` with `ADP_Stopped_ApplicationExit`, so
//!   QEMU exits with status 0; `reboot` resets the system. No reply on
//!   success (`success-response: false`).
//! * `guest-x-stack-watermark` (vendor): `{"used": N, "size": M, "init":
//!   I}`: N bytes of the 16 KiB stack used by the agent loop so far, I bytes
//!   used by start-up (cortex-m-rt paints the stack at reset; the shim reads
//!   the start-up mark and paints the free part again before its loop).
//!
//! All memory is static: the agent's buffers live in `.bss`, and no
//! allocator is linked. A panic (none is expected: qwire does not panic)
//! ends QEMU with exit status 1 through semihosting.
//!
//! The board facts (memory map, UART, FPGAIO) are QEMU's `hw/arm/mps2.c`,
//! `hw/char/cmsdk-apb-uart.c` and `hw/misc/mps2-fpgaio.c`; see
//! docs/FIRMWARE.md.

#![no_std]
#![no_main]

mod board;
mod semihosting;
mod uart;

use core::panic::PanicInfo;

use cortex_m_rt::entry;
use qwire::codec::{Command, CommandInfo, NoArgs};
use qwire::dispatch::{Answered, Call, ErrorClass, Handler, Reply};
use qwire::json::{EncodeWith, JsonWriter};
use qwire::qga::schema::{GuestGetTime, GuestShutdown};
use qwire::qga::{io, Agent};

use crate::uart::{Uart, UART0};

/// What `guest-info` reports as the agent's version.
const VERSION: &str = concat!("qga-shim-", env!("CARGO_PKG_VERSION"));

/// The vendor command reporting the stack high-water mark.
const STACK_WATERMARK: &str = "guest-x-stack-watermark";

/// The shim's own commands (the agent's built-ins come on top).
const COMMANDS: &[CommandInfo] = &[
    info::<GuestGetTime>(),
    info::<GuestShutdown>(),
    CommandInfo {
        name: STACK_WATERMARK,
        success_response: true,
        allow_oob: false,
        has_args: false,
    },
];

const fn info<C: Command>() -> CommandInfo {
    CommandInfo {
        name: C::NAME,
        success_response: C::SUCCESS_RESPONSE,
        allow_oob: C::ALLOW_OOB,
        has_args: C::HAS_ARGS,
    }
}

/// How `guest-shutdown` asked the machine to stop.
#[derive(Clone, Copy)]
enum Halt {
    PowerOff,
    Reboot,
}

/// The shim's command handler.
struct Shim {
    /// Host time at boot, whole seconds since the Unix epoch.
    boot_epoch_s: u32,
    /// The 100 Hz counter when `boot_epoch_s` was read.
    boot_ticks: u32,
    /// Stack bytes used by start-up, before the agent loop.
    init_stack: u32,
    /// Set by a successful `guest-shutdown`; acted on once its input round
    /// is done (the command has no reply to send).
    halt: Option<Halt>,
}

impl Shim {
    fn now_ns(&self) -> i64 {
        let ticks = board::ticks_100hz().wrapping_sub(self.boot_ticks);
        i64::from(self.boot_epoch_s) * 1_000_000_000 + i64::from(ticks) * 10_000_000
    }
}

impl Handler for Shim {
    fn commands(&self) -> &[CommandInfo] {
        COMMANDS
    }

    fn call(&mut self, call: &Call<'_>, reply: Reply<'_, '_, '_>) -> Answered {
        if call.is::<GuestGetTime>() {
            match call.args::<GuestGetTime>() {
                Ok(_) => reply.ok(&self.now_ns()),
                Err(e) => reply.invalid_arguments(&e),
            }
        } else if call.is::<GuestShutdown>() {
            let args = match call.args::<GuestShutdown>() {
                Ok(args) => args,
                Err(e) => return reply.invalid_arguments(&e),
            };
            let halt = match args.mode.as_ref().map(|m| m.as_str()) {
                None | Some("powerdown") | Some("halt") => Halt::PowerOff,
                Some("reboot") => Halt::Reboot,
                // qemu-ga 7.2's words, unbalanced parenthesis included.
                Some(_) => {
                    return reply.error(
                        ErrorClass::GenericError,
                        format_args!("mode is invalid (valid values are: halt|powerdown|reboot"),
                    )
                }
            };
            self.halt = Some(halt);
            reply.ok_empty() // silent: success-response is false
        } else {
            // STACK_WATERMARK, the only other command in the table: it takes
            // no arguments, and any member is refused in QEMU's words.
            if let Err(e) = call.args_into(&mut NoArgs) {
                return reply.invalid_arguments(&e);
            }
            let (used, size) = board::stack_watermark();
            let init = self.init_stack;
            reply.ok(&EncodeWith(|w: &mut JsonWriter<'_>| {
                w.begin_object()?;
                w.key("used")?;
                w.u64(u64::from(used))?;
                w.key("size")?;
                w.u64(u64::from(size))?;
                w.key("init")?;
                w.u64(u64::from(init))?;
                w.end_object()
            }))
        }
    }
}

#[entry]
fn main() -> ! {
    // cortex-m-rt turns these into `&'static mut` references, handed out
    // once: the agent's buffers live in .bss, not on the stack.
    static mut INPUT: [u8; 2048] = [0; 2048]; // the largest request
    static mut OUTPUT: [u8; 2048] = [0; 2048]; // the largest reply
    static mut RX: [u8; 64] = [0; 64]; // one UART read

    let boot_ticks = board::ticks_100hz();
    let boot_epoch_s = semihosting::time();
    // SAFETY: UART0 of mps2-an386, and the only `Uart` made for it.
    let mut uart = unsafe { Uart::new(UART0, board::PCLK_HZ, 115_200) };
    board::start_systick_1ms();
    let Ok(mut agent) = Agent::new(INPUT, OUTPUT, VERSION) else {
        semihosting::exit(semihosting::RUNTIME_ERROR)
    };
    semihosting::print(format_args!(
        "qga-shim: {VERSION} on UART0, epoch {boot_epoch_s} s\n"
    ));
    // Start-up is done: keep its stack mark, and measure the loop alone.
    let (init_stack, _) = board::stack_watermark();
    board::repaint_free_stack();
    let mut shim = Shim {
        boot_epoch_s,
        boot_ticks,
        init_stack,
        halt: None,
    };
    loop {
        // The UART never fails (its error type is `Infallible`).
        let Ok(_) = io::pump(&mut agent, &mut uart, RX, &mut shim);
        match shim.halt.take() {
            None => {}
            Some(Halt::PowerOff) => {
                let (used, size) = board::stack_watermark();
                let init = shim.init_stack;
                semihosting::print(format_args!(
                    "qga-shim: guest-shutdown; stack high-water mark {used} of {size} bytes (start-up {init})\n"
                ));
                semihosting::exit(semihosting::APPLICATION_EXIT);
            }
            Some(Halt::Reboot) => board::system_reset(),
        }
    }
}

/// A panic ends the emulation with exit status 1 (QEMU maps any reason but
/// `ADP_Stopped_ApplicationExit` to 1). qwire itself never panics.
#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    semihosting::exit(semihosting::RUNTIME_ERROR)
}
