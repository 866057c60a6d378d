#!/usr/bin/env bash
# Regenerate include/qwire.h from the ffi crate with cbindgen (0.29.4, as in CI).
# With --check, fail if the committed header differs from a fresh one.
set -euo pipefail
cd "$(dirname "$0")/.."
out=include/qwire.h
if [ "${1:-}" = "--check" ]; then
    tmp=$(mktemp)
    trap 'rm -f "$tmp"' EXIT
    cbindgen --quiet --config ffi/cbindgen.toml --crate qwire-ffi --output "$tmp" ffi
    if ! diff -u "$out" "$tmp"; then
        echo "include/qwire.h is stale: run scripts/gen-header.sh and commit it" >&2
        exit 1
    fi
    echo "include/qwire.h is up to date"
else
    cbindgen --quiet --config ffi/cbindgen.toml --crate qwire-ffi --output "$out" ffi
fi
