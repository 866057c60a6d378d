#!/usr/bin/env bash
# The C programs against each other and, when installed, against QEMU and
# qemu-ga; run by `make -C examples-c demo`. Prints a readable transcript.
set -euo pipefail
cd "$(dirname "$0")/.."
B=examples-c/build
make -s -C examples-c all

RUN=$(mktemp -d /tmp/qwire-demo.XXXXXX)
chmod 755 "$RUN"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$RUN"
}
trap cleanup EXIT

wait_socket() {
    for _ in $(seq 400); do
        python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" "$1" 2>/dev/null && return 0
        sleep 0.025
    done
    echo "no socket at $1" >&2
    return 1
}

# Show a command and what it printed (stdout, stderr, exit status).
show() {
    local out err rc
    printf '\n$ %s\n' "$*"
    set +e
    out=$("$@" 2>"$RUN/stderr")
    rc=$?
    set -e
    err=$(cat "$RUN/stderr")
    [ -n "$out" ] && printf '  stdout: %s\n' "$out"
    [ -n "$err" ] && printf '%s\n' "$err" | sed 's/^/  stderr: /'
    printf '  exit %d\n' "$rc"
}

echo "=== qga-client <-> fault-injecting relay <-> qga-agent (C, static storage, no malloc)"
echo "    the relay leaves half a request in the agent, splits writes, and injects"
echo "    garbage, half messages and stale replies before the agent's answers"
$B/qga-agent --listen "$RUN/agent.sock" &
PIDS+=($!)
wait_socket "$RUN/agent.sock"
python3 scripts/fault-relay.py "$RUN/relay.sock" "$RUN/agent.sock" 7 &
PIDS+=($!)
wait_socket "$RUN/relay.sock"
show $B/qga-client "$RUN/relay.sock" guest-info
show $B/qga-client "$RUN/relay.sock" guest-get-time
show $B/qga-client "$RUN/relay.sock" guest-sync '{"id": 12345}'
show $B/qga-client "$RUN/relay.sock" guest-file-open '{"path": "/etc/passwd"}'
show $B/qga-client "$RUN/relay.sock" guest-shutdown

echo
echo "=== qmp-client <-> qmp-server (C, a toy VMM control plane)"
$B/qmp-server --listen "$RUN/qmp.sock" &
PIDS+=($!)
wait_socket "$RUN/qmp.sock"
show $B/qmp-client "$RUN/qmp.sock" query-status
show $B/qmp-client "$RUN/qmp.sock" stop
show $B/qmp-client "$RUN/qmp.sock" query-status
show $B/qmp-client "$RUN/qmp.sock" cont
show $B/qmp-client "$RUN/qmp.sock" query-kvm
show $B/qmp-client "$RUN/qmp.sock" quit

if command -v qemu-system-x86_64 >/dev/null; then
    echo
    echo "=== qmp-client <-> QEMU ($(qemu-system-x86_64 --version | head -1))"
    qemu-system-x86_64 -M none -nodefaults -no-user-config -display none \
        -qmp "unix:$RUN/qemu.sock,server=on,wait=off" &
    PIDS+=($!)
    wait_socket "$RUN/qemu.sock"
    show $B/qmp-client "$RUN/qemu.sock" query-version
    show $B/qmp-client "$RUN/qemu.sock" stop
    show $B/qmp-client "$RUN/qemu.sock" query-balloon
    show $B/qmp-client "$RUN/qemu.sock" quit
else
    echo; echo "!!! qemu-system-x86_64 not installed: skipping the QEMU part"
fi

if command -v qemu-ga >/dev/null; then
    echo
    echo "=== qga-client <-> relay <-> qemu-ga ($(qemu-ga -V | head -1)), locked down"
    # Safety first (reference/tooling.md §4, §8): everything outside a
    # read-only allow-list blocked, run as nobody, and a guest-info gate.
    ALLOW="guest-sync guest-sync-delimited guest-ping guest-info guest-get-time guest-get-host-name guest-get-osinfo guest-get-timezone"
    BLOCK=$(qemu-ga -b help | tr ' ' '\n' | grep -v '^$' | grep -vxF -f <(printf '%s\n' $ALLOW) | paste -sd, -)
    mkdir -p "$RUN/qga-state"
    touch "$RUN/qga.log"
    if [ "$(id -u)" = 0 ]; then
        chown nobody:nogroup "$RUN" "$RUN/qga-state" "$RUN/qga.log"
        setpriv --reuid=nobody --regid=nogroup --clear-groups \
            qemu-ga -m unix-listen -p "$RUN/qga.sock" -t "$RUN/qga-state" -b "$BLOCK" -l "$RUN/qga.log" &
    else
        qemu-ga -m unix-listen -p "$RUN/qga.sock" -t "$RUN/qga-state" -b "$BLOCK" -l "$RUN/qga.log" &
    fi
    QGA_PID=$!
    PIDS+=($QGA_PID)
    wait_socket "$RUN/qga.sock"
    $B/qga-client "$RUN/qga.sock" guest-info >"$RUN/info.json"
    if ! python3 - "$RUN/info.json" $ALLOW <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
bad = [c["name"] for c in info["supported_commands"] if c["enabled"] and c["name"] not in sys.argv[2:]]
sys.exit(f"UNSAFE qemu-ga: enabled {bad}" if bad else 0)
PY
    then
        kill "$QGA_PID"
        exit 1
    fi
    echo "    safety gate passed: only the read-only allow-list is enabled"
    python3 scripts/fault-relay.py "$RUN/relay-ga.sock" "$RUN/qga.sock" 11 &
    PIDS+=($!)
    wait_socket "$RUN/relay-ga.sock"
    show $B/qga-client "$RUN/relay-ga.sock" guest-ping
    show $B/qga-client "$RUN/relay-ga.sock" guest-get-host-name
    show $B/qga-client "$RUN/relay-ga.sock" guest-get-disks
else
    echo; echo "!!! qemu-ga not installed: skipping the qemu-ga part"
fi
echo
echo "demo done"
