#!/usr/bin/env bash
# Long fuzzing campaign: every target (or those named) for SECONDS each,
# JOBS at a time, on the kept corpus (fuzz/corpus/<target>, which grows)
# plus the regressions. Prints one markdown row per target for
# docs/FUZZING.md; logs go to fuzz/logs/<target>.log (git-ignored).
#
#   SECONDS_EACH=600 JOBS=2 fuzz/long-run.sh [target...]
#   REPORT_ONLY=1 fuzz/long-run.sh [target...]   # table from existing logs
#
# Needs cargo-fuzz and a nightly toolchain (scripts/fuzz-smoke.sh explains
# the fallbacks). A crash leaves its input in fuzz/artifacts/<target>/ and
# makes the script exit 1 after the other targets have run.
set -euo pipefail
cd "$(dirname "$0")"
secs=${SECONDS_EACH:-600}
jobs=${JOBS:-2}
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi
report_only=${REPORT_ONLY:-}
if [ -z "$report_only" ]; then
    ./seed-corpora.sh >/dev/null
    cargo +nightly fuzz build >/dev/null
    mkdir -p logs
fi

one() {
    local t=$1 dirs=("corpus/$1")
    [ -d "regressions/$t" ] && dirs+=("regressions/$t")
    mkdir -p "corpus/$t"
    cargo +nightly fuzz run "$t" "${dirs[@]}" -- -max_total_time="$secs" \
        -dict=dicts/json.dict -print_final_stats=1 >"logs/$t.log" 2>&1
}

pids=()
names=()
for t in "${targets[@]}"; do
    [ -n "$report_only" ] && break
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 5; done
    one "$t" &
    pids+=($!)
    names+=("$t")
done

failed=()
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${names[$i]}")
done

echo "| target | seconds | executions | exec/s | cov (start → end) | ft (start → end) | corpus units | crashes |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for t in "${targets[@]}"; do
    log=logs/$t.log
    execs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo '?')
    rate=$(grep -ao 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo '?')
    last=$(grep -aE '^#[0-9]+' "$log" | tail -1)
    first=$(grep -a 'INITED' "$log" | head -1)
    cov0=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$first")
    ft0=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$first")
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
    crash=$(find "artifacts/$t" -type f 2>/dev/null | wc -l)
    echo "| \`$t\` | $secs | $execs | $rate | $cov0 → $cov | $ft0 → $ft | $corp | $crash |"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "long-run: CRASHED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
