//! QMP, the QEMU Machine Protocol.
//!
//! [`schema`] holds the typed codecs generated from the QMP seed schema.

pub mod schema;
