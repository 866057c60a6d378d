//! The sizes of the largest generated types, as docs/CODECS.md records them
//! (64-bit targets). A capacity change that moves them fails here, so the
//! documentation is updated with it. `--nocapture` prints the full list.

use qwire::codec::{Decode, DecodeError, TypeVisitor};
use qwire::json::Encode;
use std::mem::size_of;

struct Sizes(Vec<(&'static str, usize)>);

impl TypeVisitor for Sizes {
    fn visit<T: Decode + Encode + Default + std::fmt::Debug + 'static>(
        &mut self,
        name: &'static str,
    ) {
        self.0.push((name, size_of::<T>()));
    }
}

fn largest(visit: fn(&mut Sizes), n: usize) -> Vec<(&'static str, usize)> {
    let mut s = Sizes(Vec::new());
    visit(&mut s);
    s.0.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (t, size) in &s.0 {
        println!("{t}: {size}");
    }
    s.0.truncate(n);
    s.0
}

#[test]
#[cfg(target_pointer_width = "64")]
fn largest_types_are_as_documented() {
    assert_eq!(
        largest(qwire::qmp::schema::visit_types, 6),
        [
            ("query-pci:returns", 107_048),
            ("PciInfo", 53_520),
            ("query-commands:returns", 23_048),
            ("query-cpus:returns", 17_416),
            ("query-events:returns", 9_224),
            ("query-iothreads:returns", 3_336),
        ]
    );
    assert_eq!(
        largest(qwire::qga::schema::visit_types, 6),
        [
            ("guest-get-fsinfo:returns", 39_944),
            ("guest-network-get-interfaces:returns", 35_464),
            ("guest-fsfreeze-freeze-list:args", 8_464),
            ("guest-file-write:args", 8_224),
            ("GuestFileRead", 8_216),
            ("GuestAgentInfo", 5_200),
        ]
    );
    assert_eq!(size_of::<qwire::qmp::schema::Request>(), 152);
    assert_eq!(size_of::<qwire::qmp::schema::Response>(), 107_056);
    assert_eq!(size_of::<qwire::qga::schema::Request>(), 8_464);
    assert_eq!(size_of::<qwire::qga::schema::Response>(), 39_952);
    // Small enough to return by value from every decoder (clippy's
    // result_large_err limit is 128).
    assert_eq!(size_of::<DecodeError<'static>>(), 112);
}
