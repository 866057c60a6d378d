//! N round trips through qwire's sessions in memory: a fixed workload for
//! instruction counting (run with N and with 0; the difference over N is
//! the cost of one round trip).
//!
//! `valgrind --tool=callgrind target/release/roundtrip <qga|qmp> <N>`

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [which, n] = &args[..] else {
        panic!("usage: roundtrip <qga|qmp> <N>");
    };
    let n: u64 = n.parse().expect("N");
    let sum = match which.as_str() {
        "qga" => qwire_bench::QgaPair::default().run(n),
        "qmp" => qwire_bench::QmpPair::default().run(n),
        other => panic!("{other}"),
    };
    println!("{which} x{n}: {sum}");
}
