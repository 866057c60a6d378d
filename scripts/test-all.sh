#!/usr/bin/env bash
# qwire's whole test run: set-up, formatting, lints, every test (real peers
# included), and the no_std proofs. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/setup.sh
source scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test (unit, corpus, property, real-peer tests)"
cargo test --workspace --quiet

step "no_std: the core builds for thumbv7em-none-eabihf"
if rustup target list --installed 2>/dev/null | grep -qx thumbv7em-none-eabihf; then
    cargo build --quiet -p qwire --target thumbv7em-none-eabihf --release
else
    echo "SKIPPED: thumbv7em-none-eabihf target not installed (see set-up warnings)"
fi

step "no_std: a #![no_std] #![no_main] host binary without an allocator links and runs"
cargo build --quiet --release --manifest-path tests/nostd-link/Cargo.toml
tests/nostd-link/target/release/qwire-nostd-link

step "done"
if [ -n "${QWIRE_MISSING}" ]; then
    printf '\n!!! Parts of the run were skipped: %s\n' "$QWIRE_MISSING" >&2
fi
echo "all checks passed"
