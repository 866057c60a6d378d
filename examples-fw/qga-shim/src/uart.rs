//! The CMSDK APB UART of the MPS2 boards (UART0 at 0x4000_4000), polled,
//! as an `embedded_io` byte stream.
//!
//! Register layout (Arm DDI0479, and QEMU's `hw/char/cmsdk-apb-uart.c`):
//! `DATA` 0x0, `STATE` 0x4 (bit 0 TX buffer full, bit 1 RX buffer full),
//! `CTRL` 0x8 (bit 0 TX enable, bit 1 RX enable), `BAUDDIV` 0x10 (QEMU
//! ignores values below 16). Each direction has a one-byte buffer; QEMU
//! hands over the next received byte only once `DATA` was read, so nothing
//! is lost while the shim is busy: the host's bytes wait in the socket.

use core::convert::Infallible;
use core::ptr::{read_volatile, write_volatile};

use embedded_io::{ErrorType, Read, Write};

const DATA: usize = 0x0;
const STATE: usize = 0x4;
const CTRL: usize = 0x8;
const BAUDDIV: usize = 0x10;

const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;

/// UART0 of the MPS2 boards.
pub const UART0: usize = 0x4000_4000;

/// One CMSDK APB UART, polled.
pub struct Uart {
    base: usize,
}

impl Uart {
    /// Take the UART at `base`, set `BAUDDIV` for `baud` from the `pclk`
    /// clock, and enable both directions (8N1 is fixed in this UART).
    ///
    /// # Safety
    ///
    /// `base` must be the address of a CMSDK APB UART, and the caller must
    /// not create a second `Uart` for it (the registers are not shared).
    pub unsafe fn new(base: usize, pclk: u32, baud: u32) -> Uart {
        let uart = Uart { base };
        // At least 16, which QEMU (and the hardware) requires.
        uart.write_reg(BAUDDIV, (pclk / baud).max(16));
        uart.write_reg(CTRL, CTRL_TX_EN | CTRL_RX_EN);
        uart
    }

    fn read_reg(&self, offset: usize) -> u32 {
        // SAFETY: `new`'s contract: `base` is a CMSDK UART owned by `self`,
        // and `offset` is one of its 32-bit registers.
        unsafe { read_volatile((self.base + offset) as *const u32) }
    }

    fn write_reg(&self, offset: usize, value: u32) {
        // SAFETY: as in `read_reg`.
        unsafe { write_volatile((self.base + offset) as *mut u32, value) }
    }

    fn rx_ready(&self) -> bool {
        self.read_reg(STATE) & STATE_RX_FULL != 0
    }

    /// Send one byte, waiting for room in the transmit buffer.
    pub fn send(&mut self, byte: u8) {
        while self.read_reg(STATE) & STATE_TX_FULL != 0 {
            core::hint::spin_loop();
        }
        self.write_reg(DATA, u32::from(byte));
    }
}

impl ErrorType for Uart {
    type Error = Infallible;
}

impl Read for Uart {
    /// Wait for the first byte, then take what else is already there
    /// without waiting. Never returns 0 for a non-empty `buf`: a serial
    /// line has no end of stream.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        while !self.rx_ready() {
            core::hint::spin_loop();
        }
        let mut n = 0;
        for slot in buf.iter_mut() {
            if !self.rx_ready() {
                break;
            }
            *slot = self.read_reg(DATA) as u8;
            n += 1;
        }
        Ok(n)
    }
}

impl Write for Uart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &b in buf {
            self.send(b);
        }
        Ok(buf.len())
    }

    /// Each byte was handed to the UART by `write`; nothing is buffered
    /// here.
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
