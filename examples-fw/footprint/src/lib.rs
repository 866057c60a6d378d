//! What the footprint images share: a "UART" the optimizer cannot see
//! through (volatile reads and writes of a device register, so every code
//! path stays in the image) and the panic handler.
//!
//! On QEMU's `mps2-an386` the addresses are the CMSDK UART0 (data at
//! 0x4000_4000, state at +4, control at +8), which `agent-stack` uses to
//! print its result.

#![no_std]

use core::panic::PanicInfo;
use core::ptr::{read_volatile, write_volatile};

const DATA: *mut u8 = 0x4000_4000 as *mut u8;
const CTRL: *mut u32 = 0x4000_4008 as *mut u32;

/// Fill `buf` with up to `buf.len()` bytes from the device; returns how
/// many.
pub fn read_chunk(buf: &mut [u8]) -> usize {
    // SAFETY: a device register; any value is fine for a size measurement.
    let n = usize::from(unsafe { read_volatile(DATA) }) % (buf.len() + 1);
    for b in buf.iter_mut().take(n) {
        // SAFETY: as above.
        *b = unsafe { read_volatile(DATA) };
    }
    n
}

/// Enable the UART's transmitter (needed on QEMU's CMSDK UART).
pub fn uart_init() {
    // SAFETY: the CMSDK UART0 control register: TX enable.
    unsafe { write_volatile(CTRL, 1) };
}

/// Send bytes to the device.
pub fn send(bytes: &[u8]) {
    for &b in bytes {
        // SAFETY: a device register.
        unsafe { write_volatile(DATA, b) };
    }
}

/// Send `n` in decimal.
pub fn write_dec(mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    send(digits.get(i..).unwrap_or_default());
}

/// End the program under QEMU: semihosting `SYS_EXIT_EXTENDED` with
/// `ADP_Stopped_ApplicationExit` (run QEMU with `-semihosting`).
pub fn exit() -> ! {
    let block: [u32; 2] = [0x20026, 0];
    // SAFETY: the semihosting call; QEMU runs with -semihosting.
    unsafe {
        core::arch::asm!("bkpt 0xab", in("r0") 0x20u32, in("r1") block.as_ptr(), options(nostack));
    }
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    // Never reached: examples-fw/nopanic proves the core has no reachable
    // panic. An infinite loop costs nothing in the image.
    loop {
        core::hint::spin_loop();
    }
}
