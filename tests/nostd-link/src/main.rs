//! Links qwire into a binary with no `std`, no `alloc` and no allocator,
//! then frames a small stream and exits 0 only if every outcome is right.

#![no_std]
#![no_main]

use core::panic::PanicInfo;

use qwire::envelope::{classify, MessageKind};
use qwire::framer::{Config, Event, Framer};

#[link(name = "c")]
extern "C" {
    fn exit(code: i32) -> !;
}

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    // SAFETY: libc's exit is always safe to call.
    unsafe { exit(101) }
}

/// The host's precompiled `core` is built for unwinding and refers to this
/// symbol; with `panic = "abort"` nothing ever calls it. (Bare-metal targets
/// such as thumbv7em do not need it.)
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// Called by the C runtime's startup code.
#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let mut buf = [0u8; 64];
    let mut framer = Framer::new(&mut buf, Config::DEFAULT);
    let mut input: &[u8] = b"{\"return\": {}}\r\n@\n\xff{\"event\": \"STOP\"}";
    let mut kinds = [MessageKind::Other; 2];
    let (mut frames, mut errors, mut sentinels) = (0usize, 0, 0);
    while !input.is_empty() {
        let fed = framer.feed(input);
        match fed.event {
            Event::Frame(f) => {
                if let Some(slot) = kinds.get_mut(frames) {
                    *slot = classify(f.json()).kind();
                }
                frames += 1;
            }
            Event::Error { .. } => errors += 1,
            Event::Sentinel { .. } => sentinels += 1,
            _ => {}
        }
        input = input.get(fed.consumed..).unwrap_or_default();
    }
    let ok = frames == 2
        && errors == 1
        && sentinels == 1
        && kinds == [MessageKind::Return, MessageKind::Event];
    if ok {
        0
    } else {
        1
    }
}
