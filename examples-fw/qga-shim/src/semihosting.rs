//! ARM semihosting: the three host services the shim uses, through
//! `BKPT 0xAB` (the M-profile semihosting trap; QEMU answers it with
//! `-semihosting-config enable=on`).
//!
//! Operation numbers and exit reasons are from Arm's "Semihosting for
//! AArch32 and AArch64" specification.

use core::arch::asm;
use core::fmt;

const SYS_WRITE0: u32 = 0x04;
const SYS_TIME: u32 = 0x11;
const SYS_EXIT: u32 = 0x18;

/// `ADP_Stopped_ApplicationExit`: QEMU exits with status 0.
pub const APPLICATION_EXIT: u32 = 0x2_0026;
/// `ADP_Stopped_RunTimeErrorUnknown`: QEMU exits with status 1.
pub const RUNTIME_ERROR: u32 = 0x2_0023;

/// One semihosting call: operation in r0, argument in r1, result in r0.
fn call(op: u32, arg: u32) -> u32 {
    let result: u32;
    // SAFETY: `BKPT 0xAB` traps to the debugger/emulator, which performs the
    // operation and resumes after the instruction; only r0 changes. Every
    // caller passes an argument valid for its operation (a NUL-terminated
    // string for SYS_WRITE0, a plain value for the others). Without a
    // semihosting host the BKPT would fault: the shim is only run under
    // QEMU with semihosting enabled (docs/FIRMWARE.md).
    unsafe {
        asm!("bkpt #0xab", inout("r0") op => result, in("r1") arg, options(nostack, preserves_flags));
    }
    result
}

/// Seconds since 1970-01-01 00:00:00 UTC by the host's clock (`SYS_TIME`).
pub fn time() -> u32 {
    call(SYS_TIME, 0)
}

/// Stop the machine: QEMU exits, with status 0 for [`APPLICATION_EXIT`]
/// and 1 for any other reason (`SYS_EXIT`; on AArch32 the argument is the
/// reason itself).
pub fn exit(reason: u32) -> ! {
    call(SYS_EXIT, reason);
    // Only reached without a semihosting host that honours SYS_EXIT.
    loop {
        core::hint::spin_loop();
    }
}

/// Print formatted text on the host's console (QEMU's standard error)
/// with `SYS_WRITE0`, cut at 127 bytes.
pub fn print(args: fmt::Arguments<'_>) {
    let mut line = Line {
        buf: [0; 128],
        len: 0,
    };
    let _ = fmt::write(&mut line, args);
    let end = line.len.min(line.buf.len() - 1);
    line.buf[end] = 0;
    call(SYS_WRITE0, line.buf.as_ptr() as u32);
}

/// A NUL-terminated line on the stack.
struct Line {
    buf: [u8; 128],
    len: usize,
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            // Keep the last byte for the NUL; no NUL inside the text.
            if self.len + 1 >= self.buf.len() || b == 0 {
                return Err(fmt::Error);
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}
