#!/usr/bin/env bash
# qwire's whole test run: set-up, formatting, lints, every test (real peers
# included), and the no_std proofs. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/setup.sh
source scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

# Run a command with its output in target/<name>.log; show the log if it
# fails, else only its "test result" lines.
logged() {
    local name=$1
    shift
    mkdir -p target
    if ! "$@" > "target/$name.log" 2>&1; then
        cat "target/$name.log"
        echo "$name failed" >&2
        exit 1
    fi
    grep "^test result" "target/$name.log" || true
}

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test (unit, corpus, property, real-peer tests)"
cargo test --workspace --quiet

step "stress: 100 MB of mixed traffic through the framer and each session, constant memory (release)"
logged stress cargo test --release --quiet -p qwire-tests --test stress

step "Miri: the core's unit tests under the interpreter (undefined behaviour, out-of-bounds)"
if cargo +nightly miri --version >/dev/null 2>&1; then
    logged miri cargo +nightly miri test --quiet -p qwire --lib
else
    echo "SKIPPED: Miri is not available (see set-up warnings)"
fi

step "no_std: the core builds for thumbv7em-none-eabihf"
if rustup target list --installed 2>/dev/null | grep -qx thumbv7em-none-eabihf; then
    cargo build --quiet -p qwire --target thumbv7em-none-eabihf --release
else
    echo "SKIPPED: thumbv7em-none-eabihf target not installed (see set-up warnings)"
fi

step "no_std: a #![no_std] #![no_main] host binary without an allocator links and runs"
cargo build --quiet --release --manifest-path tests/nostd-link/Cargo.toml
tests/nostd-link/target/release/qwire-nostd-link

step "no panic: a thumbv7em image whose panic handler is an undefined symbol links"
if rustup target list --installed 2>/dev/null | grep -qx thumbv7em-none-eabihf; then
    (cd examples-fw/nopanic && cargo build --quiet --release)
else
    echo "SKIPPED: thumbv7em-none-eabihf target not installed (see set-up warnings)"
fi

step "C ABI: include/qwire.h is what cbindgen generates now"
if command -v cbindgen >/dev/null; then
    scripts/gen-header.sh --check
else
    echo "SKIPPED: cbindgen missing (see set-up warnings)"
fi

step "C ABI: C unit test plain (malloc aborts), under ASan+UBSan, under valgrind"
make -s -C examples-c test

step "C ABI: the demo (C programs against each other, QEMU and a locked-down qemu-ga)"
make -s -C examples-c demo > target/demo-transcript.txt 2>&1 || { cat target/demo-transcript.txt; exit 1; }
tail -1 target/demo-transcript.txt

step "C ABI: libqwire.a for thumbv7em-none-eabihf has no std or alloc objects"
if rustup target list --installed 2>/dev/null | grep -qx thumbv7em-none-eabihf; then
    cargo build --quiet -p qwire-ffi --release --target thumbv7em-none-eabihf 2>&1 \
        | grep -v "dropping unsupported crate type \`cdylib\`" || true
    lib=target/thumbv7em-none-eabihf/release/libqwire.a
    test -f "$lib"
    if ar t "$lib" | grep -E '^(std|alloc)-'; then
        echo "the no_std C library pulls in std/alloc" >&2
        exit 1
    fi
    # The check can tell: the host library does carry std.
    ar t target/release/libqwire.a | grep -E '^std-' >/dev/null
else
    echo "SKIPPED: thumbv7em-none-eabihf target not installed (see set-up warnings)"
fi

step "fuzz smoke: every cargo-fuzz target for ${FUZZ_SECONDS:-10} s on its seeds and kept regressions"
# A crash fails the run and names the input; if fuzzing cannot work on this
# machine the script says so in a banner and the other steps decide.
rc=0
FUZZ_SECONDS=${FUZZ_SECONDS:-10} scripts/fuzz-smoke.sh > target/fuzz-smoke.log 2>&1 || rc=$?
grep -E '^fuzz-smoke: ([a-z_]+: (Done|CRASH)|[0-9]+ targets|OK|FAILED)|SKIPPED' target/fuzz-smoke.log || true
if grep -q 'FUZZING SKIPPED' target/fuzz-smoke.log; then
    grep -A2 'FUZZING SKIPPED' target/fuzz-smoke.log
    QWIRE_MISSING="${QWIRE_MISSING}${QWIRE_MISSING:+; }fuzz smoke run"
fi
if [ "$rc" -ne 0 ]; then
    tail -60 target/fuzz-smoke.log
    echo "fuzz smoke failed" >&2
    exit 1
fi

step "done"
if [ -n "${QWIRE_MISSING}" ]; then
    printf '\n!!! Parts of the run were skipped: %s\n' "$QWIRE_MISSING" >&2
fi
echo "all checks passed"
