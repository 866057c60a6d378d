#!/usr/bin/env bash
# Fuzz smoke run: build every target in fuzz/fuzz_targets/ and run each for
# a bounded time (FUZZ_SECONDS, default 20) on its seed corpus.
#
# * Installs cargo-fuzz when it is missing (`cargo install cargo-fuzz --locked`).
# * Uses `cargo +nightly fuzz` when a nightly toolchain is installed, else
#   `RUSTC_BOOTSTRAP=1 cargo fuzz` on the default toolchain (ASan works
#   there too; `--sanitizer none` is the fallback).
# * If fuzzing cannot work here at all, prints a loud banner saying why and
#   exits 0: the rest of the test suite still decides.
# * A crash (or a build error in qwire's own code) exits non-zero, printing
#   the path of the crashing input.
#
# New inputs found go to a scratch directory, so the seed corpora in
# fuzz/corpus/ stay as seed-corpora.sh made them (plus earlier long runs).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ=$ROOT/fuzz
SECS=${FUZZ_SECONDS:-20}
start=$(date +%s)

banner() {
    echo
    echo "######################################################################"
    echo "##"
    echo "##  FUZZING SKIPPED: $*"
    echo "##  (no fuzz target was run; see scripts/fuzz-smoke.sh)"
    echo "##"
    echo "######################################################################"
    echo
}

if ! command -v cargo >/dev/null; then
    banner "cargo is not installed"
    exit 0
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: cargo-fuzz is missing; installing it: cargo install cargo-fuzz --locked"
    if ! cargo install cargo-fuzz --locked; then
        banner "cargo-fuzz is missing and 'cargo install cargo-fuzz --locked' failed"
        exit 0
    fi
fi

# Which toolchain: nightly if present, else the default one with
# RUSTC_BOOTSTRAP=1 (cargo-fuzz passes -Z flags).
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
    how="cargo +nightly fuzz"
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
    how="RUSTC_BOOTSTRAP=1 cargo fuzz"
fi

cd "$FUZZ"
targets=()
for f in fuzz_targets/*.rs; do
    targets+=("$(basename "$f" .rs)")
done

if ! ./seed-corpora.sh; then
    echo "fuzz-smoke: WARNING: could not seed the corpora; fuzzing from empty corpora" >&2
fi

log=$(mktemp)
scratch=$(mktemp -d)
trap 'rm -rf "$log" "$scratch"' EXIT

# Build all targets once; `run` below reuses the build (same flags).
sanitizer=()
echo "fuzz-smoke: building ${#targets[@]} targets with $how (ASan)"
if ! "${fuzz[@]}" build >"$log" 2>&1; then
    if grep -q "could not compile \`qwire" "$log"; then
        cat "$log"
        echo "fuzz-smoke: FAILED: the fuzz targets do not compile" >&2
        exit 1
    fi
    echo "fuzz-smoke: the ASan build failed; trying --sanitizer none"
    sanitizer=(--sanitizer none)
    if ! "${fuzz[@]}" build "${sanitizer[@]}" >"$log" 2>&1; then
        tail -20 "$log"
        banner "'$how build' failed with ASan and without (log above)"
        exit 0
    fi
    how="$how --sanitizer none"
fi

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "$scratch/$t"
    dirs=("$scratch/$t" "corpus/$t")
    [ -d "regressions/$t" ] && dirs+=("regressions/$t")
    echo "fuzz-smoke: $t: ${SECS}s"
    # New units go to the first directory; the kept regressions seed too.
    if "${fuzz[@]}" run "${sanitizer[@]}" "$t" "${dirs[@]}" -- \
        -max_total_time="$SECS" -dict=dicts/json.dict -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec)' "$log" |
            sed "s/^/fuzz-smoke: $t: /" || true
    else
        tail -40 "$log"
        crash=$(grep -o 'Test unit written to .*' "$log" | sed 's/Test unit written to //' || true)
        echo "fuzz-smoke: $t: CRASH; input: ${crash:-(see the log above)}" >&2
        failed+=("$t")
    fi
done

echo "fuzz-smoke: ${#targets[@]} targets, ${SECS}s each, $how; total $(($(date +%s) - start))s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz-smoke: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz-smoke: OK"
