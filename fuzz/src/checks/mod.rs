//! One module per fuzz target. Each `check(data)` panics (an `assert!`)
//! when qwire breaks a promise on `data`, and is otherwise silent. Only
//! `qwire`, `serde_json` and `std` are used — plus, for `c_json`, the C
//! ABI's JSON functions compiled from `ffi/src/` at the crate root — so the
//! same files compile in the fuzz crate and, included by path, in the
//! stable test suite.

pub mod c_json;
pub mod differential;
pub mod envelope;
pub mod framer;
pub mod json_pointer;
pub mod oracle;
pub mod qga_agent;
pub mod qga_client;
pub mod qmp_client;
pub mod qmp_server;
pub mod sessions;
pub mod typed;
pub mod unescape;
pub mod writer;
