//! `size_of` of qwire's state objects on the host (x86_64); the thumbv7em
//! figures come from `examples-fw/footprint` (`scripts/footprint.sh`).

use std::mem::size_of;

fn main() {
    for (name, n) in [
        ("Framer", size_of::<qwire::framer::Framer<'static>>()),
        ("JsonWriter", size_of::<qwire::json::JsonWriter<'static>>()),
        ("qga::Agent", size_of::<qwire::qga::Agent<'static>>()),
        (
            "qga::SyncClient",
            size_of::<qwire::qga::SyncClient<'static>>(),
        ),
        (
            "qmp::Client<1>",
            size_of::<qwire::qmp::Client<'static, 1>>(),
        ),
        (
            "qmp::Client<4>",
            size_of::<qwire::qmp::Client<'static, 4>>(),
        ),
        (
            "qmp::Client<8>",
            size_of::<qwire::qmp::Client<'static, 8>>(),
        ),
        (
            "qmp::Client<16>",
            size_of::<qwire::qmp::Client<'static, 16>>(),
        ),
        ("qmp::Server", size_of::<qwire::qmp::Server<'static>>()),
    ] {
        println!("{name} {n}");
    }
}
