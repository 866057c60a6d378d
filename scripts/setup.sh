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

# Miri (nightly) for the core's unit tests, when a nightly toolchain exists.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    if ! cargo +nightly miri --version >/dev/null 2>&1; then
        rustup component add --toolchain nightly miri rust-src >/dev/null 2>&1 \
            || loud "could not add Miri to the nightly toolchain: the Miri run is skipped"
    fi
else
    loud "no nightly toolchain: Miri and the fuzz smoke run cannot run"
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

# ---- QMP sessions (issue 5): Python's qemu.qmp as a real QMP client --------
# tests/tests/qmp_python.rs drives the example QMP server with qemu.qmp 0.0.6
# from this virtualenv (outside the checkout, so `cargo clean` keeps it), and
# fails when it is missing.
QWIRE_QMP_VENV=${QWIRE_QMP_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/qwire/qemu-qmp-venv}
qmp_venv_ok() { "$QWIRE_QMP_VENV/bin/python" -c 'import qemu.qmp' >/dev/null 2>&1; }
if ! qmp_venv_ok; then
    echo "set-up: creating $QWIRE_QMP_VENV with qemu.qmp 0.0.6..."
    command -v python3 >/dev/null || apt_install python3 || true
    # Debian's python3 needs python3-venv for ensurepip.
    python3 -c 'import ensurepip' >/dev/null 2>&1 || apt_install python3-venv || true
    rm -rf "$QWIRE_QMP_VENV"
    { python3 -m venv "$QWIRE_QMP_VENV" && "$QWIRE_QMP_VENV/bin/pip" install -q 'qemu.qmp==0.0.6'; } >/dev/null 2>&1
    qmp_venv_ok || loud "could not create the qemu.qmp virtualenv at $QWIRE_QMP_VENV: the test qmp_python will fail"
fi
export QWIRE_QMP_VENV

# ---- Bare-metal guest shim (issue 8): qemu-system-arm runs the firmware ----
# tests/tests/fw_qga_shim.rs boots examples-fw/qga-shim on -M mps2-an386 and
# fails when qemu-system-arm is missing. Its own apt transaction: installing
# it together with qemu-system-x86 fails on this image.
if ! command -v qemu-system-arm >/dev/null; then
    apt_install qemu-system-arm || loud "could not install qemu-system-arm: the test fw_qga_shim will fail"
fi

# ---- Bare-metal guest shim in C (issue 8): arm-none-eabi-gcc ----------------
# examples-fw/qga-shim-c is C99 firmware linked against libqwire.a for
# thumbv7em-none-eabihf; tests/tests/fw_qga_shim.rs builds it and runs it on
# mps2-an386 like the Rust shim. Debian's gcc-arm-none-eabi (about 48 MB),
# in its own apt transaction, without recommends.
if ! command -v arm-none-eabi-gcc >/dev/null; then
    echo "set-up: installing gcc-arm-none-eabi (about 48 MB)..."
    apt_install gcc-arm-none-eabi || loud "could not install gcc-arm-none-eabi: the C shim test will fail"
fi
