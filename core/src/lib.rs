//! # qwire — QEMU's QMP and QGA wire protocols, without a heap
//!
//! qwire speaks the two JSON protocols QEMU uses for control: **QMP**, the
//! QEMU Machine Protocol on QEMU's monitor socket, and **QGA**, the protocol
//! of the QEMU Guest Agent inside a guest. It is `#![no_std]`, never
//! allocates, never panics on any input, and keeps all of its state in
//! fixed-size structs and buffers that the caller provides. That makes it
//! usable in firmware and bare-metal guest shims as well as in hypervisor
//! components (through the C ABI of the `qwire-ffi` crate).
//!
//! ## Layers
//!
//! Each layer uses only the ones below it.
//!
//! 1. [`framer`] — splits a raw byte stream into complete JSON values,
//!    validating every byte once as it goes (grammar, UTF-8, escapes). It
//!    treats 0xFF as QGA's resynchronisation sentinel, recovers from bad
//!    bytes the way QEMU does, and skips values too large for the caller's
//!    buffer while keeping the stream in step.
//! 2. [`json`] — reading a validated value without copying (members,
//!    elements, strings with surrogate pairs, 64-bit integers) and writing
//!    JSON into a caller's buffer as pure ASCII.
//! 3. [`envelope`] — classifies a message by its top-level keys (greeting,
//!    command, out-of-band command, return, error, event) and builds each
//!    kind. Unknown command and event names are data, not errors.
//!
//! ## Contracts
//!
//! * No heap and no `std`: the crate builds for `thumbv7em-none-eabihf`, and a
//!   `#![no_std]` binary with no global allocator links against it.
//! * No panic on any input; indexing is checked throughout
//!   (`#![forbid(unsafe_code)]`, and the fuzz targets in `fuzz/` enforce it).
//! * Bounded memory and stack: every buffer is the caller's, and nothing
//!   recurses on the nesting of the input.
//! * Bad input is reported with a small `Copy` error carrying a byte offset,
//!   and never costs the messages around it.
//!
//! ## Dependencies
//!
//! None at run time. serde and serde-json-core were considered and left out
//! of this layer: see the [`json`] module documentation for the evidence.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Checked access only, outside tests: these lints back the no-panic contract.
#![cfg_attr(
    not(test),
    warn(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod dispatch;
pub mod envelope;
pub mod framer;
pub mod json;

#[cfg(test)]
extern crate std;
