//! # The C ABI of qwire
//!
//! This crate builds `libqwire.a` and `libqwire.so` and, through cbindgen
//! (`ffi/cbindgen.toml`), the header `include/qwire.h`. It wraps the `qwire`
//! core for C programs and firmware with one set of conventions, applied to
//! every function:
//!
//! * Names start with `qw_`. Every fallible function returns `qw_status`:
//!   `QW_OK` (0) or a distinct, stable non-zero error; `qw_status_str()`
//!   names each.
//! * Outputs are trailing pointer parameters and are written only on
//!   success. A buffer pointer is always followed by its `size_t` length.
//!   Every pointer is checked for NULL (`QW_ERR_NULL`).
//! * Storage is the caller's: state objects (`qw_framer`, `qw_writer`,
//!   sessions) are opaque structs whose sizes the header publishes
//!   (`QW_FRAMER_SIZE`, ...), usable as `static` or on the stack and set up
//!   by an `_init` function. There is no `_new`/`_free`: the library never
//!   allocates (a C test links it with a `malloc` that aborts).
//! * Callbacks take `void *user` first.
//! * Nothing panics across the boundary: the core does not panic on any
//!   input, and the C artifacts are built with `panic = "abort"`.
//!
//! The crate is `no_std` for bare-metal targets (`target_os = "none"`),
//! where it carries its own panic handler; on hosted targets it links `std`
//! only for the panic runtime.

#![cfg_attr(target_os = "none", no_std)]
#![allow(non_camel_case_types)]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod framer;
mod handler;
mod json;
mod qga;
mod qmp;
mod status;
mod storage;
mod writer;

pub use framer::*;
pub use handler::*;
pub use json::*;
pub use qga::*;
pub use qmp::*;
pub use status::*;
pub use writer::*;

/// Major version of this library.
pub const QW_VERSION_MAJOR: u32 = 0;
/// Minor version of this library.
pub const QW_VERSION_MINOR: u32 = 1;
/// Patch version of this library.
pub const QW_VERSION_PATCH: u32 = 0;

/// The library's version as `"major.minor.patch"`, NUL-terminated.
#[no_mangle]
pub extern "C" fn qw_version() -> *const core::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // The core has no reachable panic; should one happen, stop here rather
    // than return into C with broken state.
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    /// The published sizes leave room on 64-bit hosts (32-bit targets use
    /// less); the compile-time assertions in each module guarantee the fit.
    #[test]
    fn state_sizes_fit_with_headroom() {
        use core::mem::size_of;
        let used = [
            (
                "qw_framer",
                size_of::<crate::storage::Slot<qw::framer::Framer<'static>>>(),
                crate::QW_FRAMER_SIZE,
            ),
            (
                "qw_writer",
                size_of::<crate::storage::Slot<qw::json::JsonWriter<'static>>>(),
                crate::QW_WRITER_SIZE,
            ),
            (
                "qw_qga_client",
                size_of::<crate::storage::Slot<qw::qga::SyncClient<'static>>>(),
                crate::QW_QGA_CLIENT_SIZE,
            ),
            (
                "qw_qmp_client",
                size_of::<crate::storage::Slot<qw::qmp::Client<'static, 8>>>(),
                crate::QW_QMP_CLIENT_SIZE,
            ),
            (
                "qw_qga_agent",
                size_of::<crate::storage::Slot<crate::qga::AgentState>>(),
                crate::QW_QGA_AGENT_SIZE,
            ),
            (
                "qw_qmp_server",
                size_of::<crate::storage::Slot<crate::qmp::ServerState>>(),
                crate::QW_QMP_SERVER_SIZE,
            ),
        ];
        for (name, rust, published) in used {
            std::println!("{name}: {rust} of {published} bytes");
            assert!(rust <= published);
        }
    }
}
