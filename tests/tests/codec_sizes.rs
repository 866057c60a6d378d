//! Sizes of the generated types (printed; the largest are recorded in
//! docs/CODECS.md) and checks that they stay within the documented bounds.

use qwire::codec::{Decode, TypeVisitor};
use qwire::json::Encode;

struct Sizes(Vec<(&'static str, usize)>);

impl TypeVisitor for Sizes {
    fn visit<T: Decode + Encode + Default + std::fmt::Debug + 'static>(
        &mut self,
        name: &'static str,
    ) {
        self.0.push((name, std::mem::size_of::<T>()));
    }
}

fn sizes(f: fn(&mut Sizes)) -> Vec<(&'static str, usize)> {
    let mut s = Sizes(Vec::new());
    f(&mut s);
    s.0.sort_by_key(|e| std::cmp::Reverse(e.1));
    s.0
}

#[test]
fn print_sizes() {
    for (name, f) in [
        (
            "qmp",
            (|s: &mut Sizes| qwire::qmp::schema::visit_types(s)) as fn(&mut Sizes),
        ),
        ("qga", |s: &mut Sizes| qwire::qga::schema::visit_types(s)),
    ] {
        for (t, n) in sizes(f).iter().take(12) {
            println!("{name} {t} {n}");
        }
    }
    println!(
        "qmp Request {} Response {} EventData {}",
        std::mem::size_of::<qwire::qmp::schema::Request>(),
        std::mem::size_of::<qwire::qmp::schema::Response>(),
        std::mem::size_of::<qwire::qmp::schema::EventData>()
    );
    println!(
        "qga Request {} Response {}",
        std::mem::size_of::<qwire::qga::schema::Request>(),
        std::mem::size_of::<qwire::qga::schema::Response>()
    );
    println!(
        "DecodeError {}",
        std::mem::size_of::<qwire::codec::DecodeError<'static>>()
    );
}
