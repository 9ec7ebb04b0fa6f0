#!/usr/bin/env bash
# Idle cost and descriptors of `triage watch` and the console (issue 14,
# item 3): what a follower costs when nothing is written, and how many files
# it can follow under systemd's default descriptor limit.
#
#   bash benches/idle.sh              # the release build (built if missing)
#   TRIAGE_BIN=path/to/triage bash benches/idle.sh
#   IDLE_SECS=10 IDLE_COUNTS="1 100 1000 5000" bash benches/idle.sh
#
# 1. idle CPU: `watch` on a glob over N idle files (1, 100, 1,000, 5,000),
#    CPU seconds (user + system, /proc/PID/stat) over IDLE_SECS after a
#    settling pause, as a share of one core; `tail -F` on the same files is
#    the reference measured in the same run.
# 2. the console: `triage ui` on one idle file in tmux (skipped without tmux).
# 3. descriptors: open descriptors of `watch` (ls /proc/PID/fd) over 2,000
#    files with `--max-open 64`, then with the default budget under
#    `ulimit -n 1024` over 2,000 and 10,000 files: one kernel-OOM line
#    appended to each file once `watch` follows, alerts delivered vs written,
#    and whether `watch` was still running.
#
# Prints one table; every figure comes from this run.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${TRIAGE_BIN:-target/release/triage}
if [ ! -x "$BIN" ]; then
    cargo build --release --quiet
fi
BIN=$(realpath "$BIN")
SECS=${IDLE_SECS:-10}
COUNTS=${IDLE_COUNTS:-1 100 1000 5000}
SETTLE=${IDLE_SETTLE:-3}
TICK=$(getconf CLK_TCK)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    tmux kill-session -t triage-idle 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
export TZ=UTC NO_COLOR=1

# CPU ticks (user + system) of a process so far.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Share of a core a process used over SECS, in percent.
cpu_share() {
    local pid=$1 before after
    before=$(ticks "$pid")
    sleep "$SECS"
    after=$(ticks "$pid")
    awk -v d=$((after - before)) -v t="$TICK" -v s="$SECS" 'BEGIN { printf "%.1f", 100 * d / t / s }'
}

# make_files DIR N: N files of one line each.
make_files() {
    mkdir -p "$1"
    local i
    for ((i = 0; i < $2; i++)); do
        printf '2026-11-21T03:00:00Z INFO started file %d\n' "$i" > "$1/f$i.log"
    done
}

oom_line() { printf '2026-11-21T03:00:01Z ERROR kernel: Out of memory: Killed process %d (w) total-vm:1kB\n' "$1"; }

printf '%-44s %10s %10s %10s\n' "idle for ${SECS} s" "triage" "tail -F" "open fds"
for n in $COUNTS; do
    dir="$WORK/idle-$n"
    make_files "$dir/logs" "$n"
    "$BIN" --data-dir "$dir/data" watch "$dir/logs/*.log" > /dev/null 2> "$dir/watch.err" &
    wpid=$!
    PIDS+=("$wpid")
    # tail -F's reference: the same files (it opens each one).
    (cd "$dir/logs" && exec tail -q -n 0 -F -- *.log > /dev/null 2>&1) &
    tpid=$!
    PIDS+=("$tpid")
    sleep "$SETTLE"
    w=$(cpu_share "$wpid")
    fd=$(ls "/proc/$wpid/fd" 2> /dev/null | wc -l)
    t=$(cpu_share "$tpid")
    printf '%-44s %9s%% %9s%% %10s\n' "watch 'logs/*.log', $n idle files, CPU" "$w" "$t" "$fd"
    kill -9 "$wpid" "$tpid" 2>/dev/null || true
    wait "$wpid" "$tpid" 2>/dev/null || true
done

if command -v tmux > /dev/null 2>&1; then
    dir="$WORK/ui"
    make_files "$dir/logs" 1
    tmux new-session -d -s triage-idle -x 160 -y 48 \
        "cd '$dir' && exec '$BIN' --data-dir '$dir/data' ui --no-backfill 'logs/*.log'"
    sleep "$SETTLE"
    upid=$(tmux display-message -p -t triage-idle '#{pane_pid}')
    u=$(cpu_share "$upid")
    printf '%-44s %9s%%\n' "ui 'logs/*.log' in tmux, 1 idle file, CPU" "$u"
    tmux kill-session -t triage-idle 2> /dev/null || true
else
    echo "ui: skipped (no tmux)"
fi

echo
printf '%-44s %10s %12s %10s\n' "descriptors" "open fds" "delivered" "running"
# fds NAME N LIMIT EXTRA...: watch over N files under `ulimit -n LIMIT` (-:
# the limit this shell has).
fds() {
    local name=$1 n=$2 limit=$3
    shift 3
    local dir="$WORK/fd-$n-$limit-$#"
    make_files "$dir/logs" "$n"
    (if [ "$limit" != - ]; then ulimit -n "$limit"; fi && exec "$BIN" --data-dir "$dir/data" watch --json "$@" "$dir/logs/*.log") \
        > "$dir/out.json" 2> "$dir/watch.err" &
    local pid=$!
    PIDS+=("$pid")
    sleep "$SETTLE"
    local i
    for ((i = 0; i < n; i++)); do oom_line "$i" >> "$dir/logs/f$i.log"; done
    # Give it time to deliver (a poll over every file at least twice).
    sleep $((SETTLE + n / 1000))
    local open="-" running="no"
    if kill -0 "$pid" 2> /dev/null; then
        open=$(ls "/proc/$pid/fd" | wc -l)
        running="yes"
    fi
    local got
    got=$(grep -c '"linux-oom-killer"' "$dir/out.json" || true)
    printf '%-44s %10s %12s %10s\n' "$name" "$open" "$got/$n" "$running"
    if [ "$running" = no ]; then
        echo "  its stderr: $(tail -n 2 "$dir/watch.err" | tr '\n' ' ' | cut -c1-200)"
    fi
    kill -9 "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
}
fds "2,000 files, --max-open 64 (ulimit -n $(ulimit -n))" 2000 - --max-open 64
fds "2,000 files, ulimit -n 1024" 2000 1024
fds "10,000 files, ulimit -n 1024" 10000 1024
