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

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    // Never reached: examples-fw/nopanic proves the core has no reachable
    // panic. An infinite loop costs nothing in the image.
    loop {
        core::hint::spin_loop();
    }
}
