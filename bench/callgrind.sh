#!/usr/bin/env bash
# Deterministic instruction counts (valgrind --tool=callgrind) for the
# headline comparisons of docs/BENCHMARKS.md. Builds the release binaries
# of qwire-bench, runs each fixed workload under callgrind and prints
# markdown tables. Takes a few minutes.
#
#   bench/callgrind.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p qwire-bench --bins
bin=target/release
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Instructions executed by one run (callgrind's "Collected" total).
count() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$@" >/dev/null 2>"$tmp/err"
    grep -o 'Collected : [0-9]*' "$tmp/err" | grep -o '[0-9]*$'
}

# awk helper: thousands separators.
AWKSEP='function c(n,  s, r) { s = sprintf("%d", n); r = "";
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    return s r }'

bytes() {
    "$bin/frame-corpus" "$1" | awk '{print $3}'
}

echo "## Framing + validation (one pass over the corpus, file reading included)"
echo
echo "| corpus | peer | instructions | per byte | ratio to qwire |"
echo "| --- | --- | ---: | ---: | ---: |"
for corpus in libvirt qemu-7.2; do
    n=$(bytes "$corpus")
    base=$(count "$bin/frame-corpus" "$corpus")
    row() { awk -v corpus="$corpus" -v p="$1" -v i="$2" -v n="$n" -v b="$base" "$AWKSEP"'
        BEGIN { printf "| %s | %s | %s | %.1f | %.2f |\n", corpus, p, c(i), i / n, i / b }'; }
    row "qwire framer, whole input" "$base"
    row "qwire framer, 4 KiB chunks" "$(count "$bin/frame-corpus" "$corpus" 4096)"
    row "serde_json StreamDeserializer<IgnoredAny>" "$(count "$bin/serde-json-corpus" "$corpus")"
    row "split + serde_json from_slice<IgnoredAny>" "$(count "$bin/lines-corpus" "$corpus" ignored)"
    row "split + serde_json from_slice<Value>" "$(count "$bin/lines-corpus" "$corpus" value)"
done

N=200
echo
echo "## Typed decode (instructions per message: (run of $N - run of 0) / $N)"
echo
echo "qwire: framer + classify + decode (a client's path); parse: the same with"
echo "Json::parse instead of the framer; decode only: classify + decode of"
echo "bytes already validated (Json::trusted)."
echo
echo "| message | bytes | qwire | qwire, parse | qwire, decode only | serde_json, std structs | qapi-qmp / qapi-qga | qwire / serde std | qwire / qapi |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for s in query-version query-status query-commands guest-info event; do
    per() {
        local a b
        a=$(count "$bin/typed-decode" "$1" "$s" "$N")
        b=$(count "$bin/typed-decode" "$1" "$s" 0)
        echo $(((a - b) / N))
    }
    len=$("$bin/typed-decode" qwire "$s" 0 | awk '{print $3}')
    q=$(per qwire); qp=$(per qwire-parse); qt=$(per qwire-trusted); j=$(per serde); p=$(per qapi)
    awk -v s="$s" -v l="$len" -v q="$q" -v qp="$qp" -v qt="$qt" -v j="$j" -v p="$p" "$AWKSEP"'
        BEGIN { printf "| %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f |\n", s, c(l), c(q), c(qp), c(qt), c(j), c(p), q / j, q / p }'
done

N=2000
echo
echo "## Round trips in memory (instructions per round trip: (run of $N - run of 0) / $N)"
echo
echo "| round trip | instructions |"
echo "| --- | ---: |"
for w in qga qmp; do
    a=$(count "$bin/roundtrip" "$w" "$N")
    b=$(count "$bin/roundtrip" "$w" 0)
    awk -v w="$w" -v i=$(((a - b) / N)) "$AWKSEP"'BEGIN { printf "| %s | %s |\n", w, c(i) }'
done
