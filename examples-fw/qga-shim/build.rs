//! Put `memory.x` where cortex-m-rt's `link.x` finds it, and check that the
//! statics end below the stack region.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    fs::write(
        out.join("stack-check.x"),
        "ASSERT(__euninit <= _stack_end, \"qga-shim: the statics overlap the 16 KiB stack region\");\n",
    )
    .expect("write stack-check.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-arg=-Tlink.x");
    println!("cargo:rustc-link-arg=-Tstack-check.x");
}
