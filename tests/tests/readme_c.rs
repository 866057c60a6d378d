//! The C example in README.md compiles cleanly against include/qwire.h
//! (C99, -Wall -Wextra -Werror -pedantic).

use std::process::Command;

#[test]
fn readme_c_example_compiles() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme.find("```c\n").expect("a C block in the README") + 5;
    let end = start + readme[start..].find("```").unwrap();
    let dir = qwire_tests::peers::TempDir::new("readme-c");
    let src = dir.path().join("example.c");
    std::fs::write(&src, &readme[start..end]).unwrap();
    let out = Command::new("cc")
        .args([
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-c",
            "-o",
        ])
        .arg(dir.path().join("example.o"))
        .arg("-I")
        .arg(root.join("include"))
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
