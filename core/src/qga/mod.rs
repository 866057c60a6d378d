//! QGA, the QEMU Guest Agent protocol.
//!
//! [`schema`] holds the typed codecs generated from the QGA seed schema.

pub mod schema;
