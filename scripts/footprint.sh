#!/usr/bin/env bash
# Rebuild the footprint images of examples-fw/footprint (thumbv7em-none-eabihf,
# opt-level "z", fat LTO, panic = abort) and print the tables of
# docs/FOOTPRINT.md ("Core on thumbv7em"): flash and static RAM per image,
# qwire's share over the baseline image, the largest symbols, size_of of the
# state objects (thumbv7em, run under QEMU; x86_64, run on the host; the C
# ABI's published QW_*_SIZE), and the agent loop's measured stack.
#
#   scripts/footprint.sh            # tables
#   scripts/footprint.sh --symbols  # also the 12 largest symbols per image
#
# Needs the thumbv7em-none-eabihf target and rustup's llvm-tools component;
# qemu-system-arm for the two figures measured by running an image.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

tools="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin"
size="$tools/llvm-size"
nm="$tools/llvm-nm"
if [ ! -x "$size" ]; then
    echo "llvm-size missing: rustup component add llvm-tools" >&2
    exit 1
fi

(cd examples-fw/footprint && cargo build --quiet --release)
dir=examples-fw/footprint/target/thumbv7em-none-eabihf/release

# name vector text rodata data bss
sections() {
    "$size" -A "$dir/$1" | awk -v b="$1" '
        $1 == ".vector_table" { v = $2 } $1 == ".text" { t = $2 } $1 == ".rodata" { r = $2 }
        $1 == ".data" { d = $2 } $1 == ".bss" { s = $2 } $1 == ".uninit" { u = $2 }
        END { print b, v + 0, t + 0, r + 0, d + 0, s + u + 0 }'
}

echo "## Linked images (bytes; llvm-size -A)"
echo
echo "| image | .vector_table | .text | .rodata | .text + .rodata | over baseline | static RAM (.data + .bss) | of which the caller's buffers |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
read -r _ bv bt br bd bs < <(sections baseline)
base=$((bt + br))
for img in baseline framer agent qmp-client; do
    read -r name v t r d s < <(sections "$img")
    case $img in
        framer) bufs="4,096 (frame)" ;;
        agent) bufs="3,072 (1 KiB in, 2 KiB out)" ;;
        qmp-client) bufs="4,352 (4 KiB frame, 256 out)" ;;
        *) bufs="0" ;;
    esac
    share=$((t + r - base))
    [ "$img" = baseline ] && share="—"
    printf '| %s | %d | %d | %d | %d | %s | %d | %s |\n' "$name" "$v" "$t" "$r" "$((t + r))" "$share" "$((d + s))" "$bufs"
done

if [ "${1:-}" = "--symbols" ]; then
    for img in framer agent qmp-client; do
        echo
        echo "### Largest symbols: $img"
        echo
        "$nm" --size-sort -S -C --radix=d "$dir/$img" | tail -12 |
            awk '{ printf "    %6d %s %s\n", $2, $3, substr($0, index($0, $4)) }'
    done
fi

echo
echo "## size_of of the state objects (bytes; buffers are the caller's)"
echo
host=$(cargo run --quiet --release -p qwire-bench --bin sizes)
if command -v qemu-system-arm >/dev/null; then
    thumb=$(timeout 60 qemu-system-arm -M mps2-an386 -nographic -semihosting -kernel "$dir/sizes")
else
    thumb=$(echo "$host" | awk '{ print $1, "(no qemu-system-arm)" }')
fi
echo "| object | thumbv7em | x86_64 |"
echo "| --- | ---: | ---: |"
awk 'NR == FNR { t[$1] = $2; next } { printf "| `%s` | %s | %s |\n", $1, t[$1], $2 }' \
    <(echo "$thumb" | tr -d '\r') <(echo "$host")
echo
echo "C ABI (include/qwire.h):"
echo
grep -E '^#define QW_[A-Z_]+_SIZE ' include/qwire.h | awk '{ printf "* `%s` = %s\n", $2, $3 }'

echo
echo "## Stack of the QGA agent loop (painted, qemu-system-arm -M mps2-an386)"
echo
if command -v qemu-system-arm >/dev/null; then
    timeout 120 qemu-system-arm -M mps2-an386 -nographic -semihosting -kernel "$dir/agent-stack" |
        tr -d '\r' | sed 's/^/    /'
else
    echo "SKIPPED: qemu-system-arm missing"
fi
cd "$root"
