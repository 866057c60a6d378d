//! What the shim needs from the mps2-an386 board besides the UART: a clock
//! (the FPGAIO 100 Hz counter), a running SysTick to keep QEMU polling the
//! UART, the stack watermark and its repaint, and a system reset.

use core::ptr::{addr_of, read_volatile, write_volatile};

/// Frequency of the APB clock that drives the UART (QEMU: `SYSCLK_FRQ`).
pub const PCLK_HZ: u32 = 25_000_000;

/// `CLK100HZ` of the MPS2 FPGAIO block (at 0x4002_8000, register 0x14): a
/// free-running counter of 10 ms ticks since reset (QEMU's virtual clock).
const FPGAIO_CLK100HZ: usize = 0x4002_8000 + 0x14;

/// Ticks of the 100 Hz counter since reset.
pub fn ticks_100hz() -> u32 {
    // SAFETY: a read-only counter register of the FPGAIO block, which is
    // present on mps2-an386; reading it has no side effect.
    unsafe { read_volatile(FPGAIO_CLK100HZ as *const u32) }
}

/// Run SysTick from the core clock with a 1 ms period, without its
/// interrupt.
///
/// The shim does not need a tick itself; QEMU does. QEMU's CMSDK UART model
/// does not tell the character device when its one-byte receive buffer
/// frees up (or when the receiver is enabled), so QEMU only hands over the
/// next byte from the host at its main loop's next wake-up. A running
/// SysTick is a QEMU timer that wakes that loop every period, which bounds
/// the wait; without one, bytes that arrived before the UART was enabled
/// were seen to sit unread for more than 20 s. Real hardware needs none of
/// this.
pub fn start_systick_1ms() {
    const SYST_CSR: usize = 0xe000_e010;
    const SYST_RVR: usize = 0xe000_e014;
    const SYST_CVR: usize = 0xe000_e018;
    const ENABLE: u32 = 1 << 0;
    const CLKSOURCE_CORE: u32 = 1 << 2;
    // SAFETY: the architectural SysTick registers of every Armv7-M core;
    // nothing else in the shim uses SysTick, and TICKINT stays 0, so no
    // exception is raised.
    unsafe {
        write_volatile(SYST_RVR as *mut u32, PCLK_HZ / 1000 - 1);
        write_volatile(SYST_CVR as *mut u32, 0);
        write_volatile(SYST_CSR as *mut u32, ENABLE | CLKSOURCE_CORE);
    }
}

/// The value cortex-m-rt's `paint-stack` writes over the stack region.
const PAINT: u32 = 0xcccc_cccc;

extern "C" {
    // From memory.x: the stack region is `_stack_end.._stack_start`.
    static _stack_end: u32;
    static _stack_start: u32;
}

/// The stack high-water mark: bytes of the stack region used since it was
/// last painted, and the region's size. The deepest word that no longer
/// holds the paint marks the deepest the stack pointer has been (a frame
/// that wrote the paint value itself would be missed by at most that word).
pub fn stack_watermark() -> (u32, u32) {
    let bottom = addr_of!(_stack_end) as usize;
    let top = addr_of!(_stack_start) as usize;
    let mut at = bottom;
    while at < top {
        // SAFETY: `at` is a word-aligned address inside the stack region
        // (RAM, 4-byte aligned per cortex-m-rt's link.x). Words below the
        // stack pointer are free; the scan stops at the first used word.
        if unsafe { read_volatile(at as *const u32) } != PAINT {
            break;
        }
        at += 4;
    }
    ((top - at) as u32, (top - bottom) as u32)
}

/// Paint the free part of the stack again (everything below the caller's
/// stack pointer), so that later watermarks measure only what runs after
/// this call. The shim calls it once set-up is done, before the agent loop.
#[inline(never)]
pub fn repaint_free_stack() {
    let sp: usize;
    // SAFETY: reads the stack pointer; no memory access, no flags changed.
    unsafe {
        core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    let mut at = addr_of!(_stack_end) as usize;
    while at + 4 <= sp {
        // SAFETY: `at` is word-aligned, inside the stack region and below
        // this function's stack pointer: memory no live frame uses. No
        // interrupt is enabled that could run on it meanwhile.
        unsafe { write_volatile(at as *mut u32, PAINT) };
        at += 4;
    }
}

/// Reset the whole system (`SYSRESETREQ` in the SCB's AIRCR); QEMU boots the
/// image again.
pub fn system_reset() -> ! {
    const AIRCR: usize = 0xe000_ed0c;
    const VECTKEY_SYSRESETREQ: u32 = 0x05fa_0004;
    // SAFETY: AIRCR is the architectural reset control register of every
    // Armv7-M core; writing the key with SYSRESETREQ requests a reset.
    unsafe {
        core::arch::asm!("dsb");
        write_volatile(AIRCR as *mut u32, VECTKEY_SYSRESETREQ);
        core::arch::asm!("dsb");
    }
    loop {
        core::hint::spin_loop();
    }
}
