#!/usr/bin/env bash
# Idempotent set-up for qwire's tests on a fresh Debian machine with only the
# Rust toolchain preinstalled. Sourced by scripts/test-all.sh; safe to run
# again. Whatever cannot be installed is reported loudly and recorded in
# QWIRE_MISSING so the test run can say what it skipped.
set -uo pipefail

QWIRE_MISSING=${QWIRE_MISSING:-}

loud() {
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
    printf '!!! qwire set-up: %s\n' "$*" >&2
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' >&2
    QWIRE_MISSING="${QWIRE_MISSING}${QWIRE_MISSING:+; }$*"
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

apt_updated=
apt_install() {
    # One package set per call: installing qemu-system-x86 and -arm in one
    # transaction fails on this image ("held broken packages").
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$apt_updated" ]; then
        as_root apt-get update -qq >/dev/null 2>&1 || true
        apt_updated=1
    fi
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1
}

# Real protocol peers (QEMU 7.2 and qemu-ga 7.2 on Debian 12).
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v qemu-ga >/dev/null; then
    apt_install qemu-system-x86 qemu-guest-agent || loud "could not install qemu-system-x86 / qemu-guest-agent: real-peer tests cannot run"
fi

# Bare-metal target for the no_std proof.
if ! rustup target list --installed 2>/dev/null | grep -qx thumbv7em-none-eabihf; then
    rustup target add thumbv7em-none-eabihf >/dev/null 2>&1 || loud "could not add the thumbv7em-none-eabihf target: the no_std build check is skipped"
fi

# cbindgen, pinned: the committed header is compared with its output.
CBINDGEN_VERSION=0.29.4
if ! cbindgen --version 2>/dev/null | grep -qx "cbindgen $CBINDGEN_VERSION"; then
    echo "set-up: installing cbindgen $CBINDGEN_VERSION (about 3 minutes on 2 cores)..."
    cargo install --quiet --locked cbindgen --version "$CBINDGEN_VERSION" >/dev/null 2>&1 \
        || loud "could not install cbindgen $CBINDGEN_VERSION: the header freshness check is skipped"
fi

# C toolchain pieces for the C tests (gcc with ASan/UBSan, make, valgrind).
for tool in make valgrind; do
    command -v "$tool" >/dev/null || apt_install "$tool" || loud "could not install $tool"
done

export QWIRE_MISSING
