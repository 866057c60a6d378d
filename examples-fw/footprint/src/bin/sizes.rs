//! `size_of` of qwire's state objects on thumbv7em (32-bit), printed on
//! UART0 under `qemu-system-arm -M mps2-an386 -nographic -semihosting`.
//! The buffers are the caller's and not included.

#![no_std]
#![no_main]

use core::mem::size_of;

use cortex_m_rt::entry;
use qwire_footprint::{exit, send, uart_init, write_dec};

fn line(name: &str, n: usize) {
    send(name.as_bytes());
    send(b" ");
    write_dec(n);
    send(b"\n");
}

#[entry]
fn main() -> ! {
    uart_init();
    line("Framer", size_of::<qwire::framer::Framer<'static>>());
    line("JsonWriter", size_of::<qwire::json::JsonWriter<'static>>());
    line("qga::Agent", size_of::<qwire::qga::Agent<'static>>());
    line(
        "qga::SyncClient",
        size_of::<qwire::qga::SyncClient<'static>>(),
    );
    line(
        "qmp::Client<1>",
        size_of::<qwire::qmp::Client<'static, 1>>(),
    );
    line(
        "qmp::Client<4>",
        size_of::<qwire::qmp::Client<'static, 4>>(),
    );
    line(
        "qmp::Client<8>",
        size_of::<qwire::qmp::Client<'static, 8>>(),
    );
    line(
        "qmp::Client<16>",
        size_of::<qwire::qmp::Client<'static, 16>>(),
    );
    line("qmp::Server", size_of::<qwire::qmp::Server<'static>>());
    exit()
}
