//! The image without qwire: cortex-m-rt's vector table and start-up, and a
//! loop that copies UART input to the UART. Its size is subtracted from the
//! others to get qwire's share.

#![no_std]
#![no_main]

use cortex_m_rt::entry;
use qwire_footprint::{read_chunk, send};

#[entry]
fn main() -> ! {
    let mut chunk = [0u8; 64];
    loop {
        let n = read_chunk(&mut chunk);
        send(chunk.get(..n).unwrap_or_default());
    }
}
