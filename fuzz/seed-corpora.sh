#!/usr/bin/env bash
# Seed fuzz/corpus/<target>/ from ../shared/corpus. Idempotent: every seed
# has a fixed name (seed-*), so running it again rewrites the same files and
# leaves what libFuzzer added (named by content hash) alone.
#
# Sources: the byte-exact QEMU 7.2 transcripts (qemu-7.2/*/*.bin), the
# JSONTestSuite files, and a sample of libvirt's recorded replies split into
# single values (libvirt pretty-prints with blank lines between messages).
# Targets with a parameter header (framer, unescape, writer) get a neutral
# header in front of each seed, so the seed's own bytes stay whole.
set -euo pipefail

FUZZ=$(cd "$(dirname "$0")" && pwd)
SHARED=${QWIRE_SHARED:-$FUZZ/../../shared}
SRC=$SHARED/corpus
[ -d "$SRC/qemu-7.2" ] || { echo "seed-corpora: $SRC not found (set QWIRE_SHARED)" >&2; exit 1; }
OUT=$FUZZ/corpus
# Largest seed kept: bigger ones (query-qmp-schema is 207 kB) slow every run.
MAX=${SEED_MAX_BYTES:-16384}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Single values from the libvirt replies, those of at most $MAX bytes.
mkdir -p "$tmp/libvirt"
for f in "$SRC"/libvirt/caps_7.2.0_x86_64.replies "$SRC"/libvirt/caps_4.2.0.x86_64.replies; do
    [ -f "$f" ] || continue
    base=$(basename "$f" .replies)
    awk -v dir="$tmp/libvirt" -v base="$base" \
        'BEGIN { RS = "" } { f = sprintf("%s/%s-%03d.json", dir, base, NR); printf "%s", $0 > f; close(f) }' "$f"
done

# name → file, for every seed source: "<tag>-<name> <path>" lines.
list_seeds() {
    local f
    for f in "$SRC"/qemu-7.2/*/*.bin; do
        echo "qemu-$(basename "$(dirname "$f")")-$(basename "$f") $f"
    done
    for f in "$SRC"/jsontestsuite/test_parsing/*.json; do
        echo "jts-$(basename "$f") $f"
    done
    for f in "$tmp"/libvirt/*.json; do
        echo "libvirt-$(basename "$f") $f"
    done
}

# seed <target> <header-bytes-as-printf-format> — copy every source.
seed() {
    local target=$1 header=$2 name path size
    mkdir -p "$OUT/$target"
    while read -r name path; do
        size=$(stat -c %s "$path")
        [ "$size" -le "$MAX" ] || continue
        { printf "$header"; cat "$path"; } >"$OUT/$target/seed-$name"
    done < <(list_seeds)
    echo "seed-corpora: $target: $(find "$OUT/$target" -name 'seed-*' | wc -l) seeds"
}

# framer: 2368-byte buffer, QEMU's dialect, chunks of 7 and 64 bytes.
seed framer '\x64\x01\x02\x06\x3f'
seed envelope ''
seed differential ''
# json_pointer: the document alone (the target then checks every pointer
# into it); unescape: a 64-byte output buffer, then string content.
seed json_pointer ''
seed typed ''
mkdir -p "$OUT/unescape"
for f in "$SRC"/jsontestsuite/test_parsing/*string*.json; do
    # `["content"]` → content (approximate for the few that differ).
    { printf '\x40'; head -c -2 "$f" | tail -c +3; } >"$OUT/unescape/seed-$(basename "$f")"
done
echo "seed-corpora: unescape: $(find "$OUT/unescape" -name 'seed-*' | wc -l) seeds"
# writer: a 1020-byte buffer, then op 11 (`value`) with a 16-bit length.
mkdir -p "$OUT/writer"
while read -r name path; do
    size=$(stat -c %s "$path")
    [ "$size" -le 4096 ] || continue
    { printf '\xff\x0b'; printf "\\x$(printf %02x $((size & 255)))\\x$(printf %02x $((size >> 8)))"; cat "$path"; } \
        >"$OUT/writer/seed-$name"
done < <(list_seeds)
echo "seed-corpora: writer: $(find "$OUT/writer" -name 'seed-*' | wc -l) seeds"
