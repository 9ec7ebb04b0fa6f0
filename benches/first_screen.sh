#!/usr/bin/env bash
# Time to first screen: from launch until the terminal shows FILE's last
# line, for `triage ui FILE` and for `lnav FILE`, measured the same way.
#
#   benches/first_screen.sh FILE [--runs N] [--triage PATH] [--follow-rss MB]
#
# Each viewer is started in a window of a tmux server of its own (socket
# `bench`, 250x50) and the pane is read with `capture-pane -p` about every
# 10 ms until a word of FILE's last line that no earlier line near the end
# holds is on the screen; the window is then killed (the viewer gets
# SIGHUP) and the next run starts. N runs each (default 5), median in ms.
# triage runs with a fresh data directory per run, its default options
# (the first screen, then detection over the file in the background).
#
# With --follow-rss MB, memory while following: triage ui FILE runs once
# more, and once its detection over FILE is done, MB megabytes of FILE's
# own first lines are appended to FILE in ten steps over about five
# seconds while its resident memory is sampled; FILE is truncated back to
# its size afterwards (so FILE must be a scratch copy: a generated corpus).
# That prints `follow_rss before_kb=<n> peak_kb=<n> appended_mb=<n>`.
#
# Prints one line per run, then, last, one machine-readable line:
#   first_screen triage_ms=<n> lnav_ms=<n>
# (`lnav_ms=NA` when lnav is missing and cannot be installed). Installs tmux
# and lnav with apt-get when missing. Uses the release binary
# (target/release/triage, built when missing) unless --triage is given.
set -euo pipefail
cd "$(dirname "$0")/.."

file=""
runs=5
triage=""
timeout_s=120
follow_mb=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --triage) triage="$2"; shift 2 ;;
        --timeout) timeout_s="$2"; shift 2 ;;
        --follow-rss) follow_mb="$2"; shift 2 ;;
        -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
        -*) echo "first_screen.sh: unknown option $1" >&2; exit 2 ;;
        *) file="$1"; shift ;;
    esac
done
if [ -z "$file" ] || [ ! -f "$file" ]; then
    echo "usage: benches/first_screen.sh FILE [--runs N] [--triage PATH]" >&2
    exit 2
fi
file="$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"

say() { printf '%s\n' "$*" >&2; }

missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v lnav >/dev/null 2>&1 || missing+=(lnav)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    sudo=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo=sudo; fi
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}"; } >/dev/null 2>&1 ||
        say "could not install ${missing[*]}"
fi
command -v tmux >/dev/null 2>&1 || { say "tmux is needed"; exit 2; }
if [ -z "$triage" ]; then
    triage=target/release/triage
    [ -x "$triage" ] || cargo build --release --quiet --bin triage
fi
triage="$(cd "$(dirname "$triage")" && pwd)/$(basename "$triage")"

work="$(mktemp -d "${TMPDIR:-/tmp}/first-screen.XXXXXX")"
tmux_() { tmux -L bench -f /dev/null "$@"; }
orig_size=""
cleanup() {
    tmux_ kill-server >/dev/null 2>&1 || true
    if [ -n "$orig_size" ]; then truncate -s "$orig_size" "$file"; fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The word to wait for: from FILE's last line, the longest word (at least
# 4 characters) that none of the 300 lines before it holds, among the line's
# first 100 characters (both viewers show the start of a line).
last="$(tail -n 1 "$file" | tr -d '\r' | cut -c1-100)"
before="$(tail -n 301 "$file" | head -n 300)"
marker=""
for word in $(printf '%s\n' "$last" | tr -c '[:alnum:]._:=-' ' '); do
    [ ${#word} -ge 4 ] || continue
    if ! grep -qF -- "$word" <<<"$before" && [ ${#word} -gt ${#marker} ]; then
        marker="$word"
    fi
done
if [ -z "$marker" ]; then
    say "no word of the last line is unique near the end of $file: $last"
    exit 2
fi
say "file: $file ($(du -h "$file" | cut -f1)); waiting for \"$marker\" of its last line"

# A server kept up with an idle window, so that each run pays only for a
# new window, the same for both viewers.
tmux_ new-session -d -s bench -x 250 -y 50 "sleep 100000"

now_ms() { date +%s%3N; }

# One run of a viewer: prints the ms until the marker is on the screen.
measure() {
    local name="$1" cmd="$2" start t
    start=$(now_ms)
    # Run in the scratch directory: nothing a viewer writes lands in the
    # repository.
    tmux_ new-window -d -c "$work" -t bench -n "$name" "$cmd"
    while :; do
        if tmux_ capture-pane -p -t "bench:$name" 2>/dev/null | grep -qF -- "$marker"; then
            t=$(( $(now_ms) - start ))
            break
        fi
        if [ $(( $(now_ms) - start )) -gt $(( timeout_s * 1000 )) ]; then
            t=NA
            break
        fi
        sleep 0.01
    done
    tmux_ kill-window -t "bench:$name" >/dev/null 2>&1 || true
    # The viewer got SIGHUP: give it a moment to go before the next run.
    sleep 0.5
    echo "$t"
}

median() {
    local values
    values="$(printf '%s\n' "$@" | grep -v NA | sort -n)" || true
    local n
    n=$(printf '%s\n' "$values" | grep -c . || true)
    if [ "$n" -eq 0 ]; then echo NA; return; fi
    printf '%s\n' "$values" | sed -n "$(( (n + 1) / 2 ))p"
}

# Warm the page cache for both alike.
cat "$file" >/dev/null

triage_times=()
for i in $(seq 1 "$runs"); do
    data="$work/data-$i"
    t=$(measure triage "env -u TRIAGE_DATA_DIR '$triage' --data-dir '$data' ui '$file'")
    say "triage run $i: $t ms"
    triage_times+=("$t")
done
lnav_times=()
if command -v lnav >/dev/null 2>&1; then
    for i in $(seq 1 "$runs"); do
        # A home of its own: no saved session or config changes the start.
        mkdir -p "$work/home-$i"
        t=$(measure lnav "env HOME='$work/home-$i' lnav '$file'")
        say "lnav run $i: $t ms"
        lnav_times+=("$t")
    done
else
    lnav_times=(NA)
fi

# Memory while following the file as it grows.
rss_line=""
if [ "$follow_mb" -gt 0 ]; then
    head -c "$((follow_mb * 1024 * 1024))" "$file" | head -n -1 >"$work/append"
    split -n l/10 "$work/append" "$work/chunk."
    tmux_ new-window -d -c "$work" -t bench -n follow \
        "env -u TRIAGE_DATA_DIR '$triage' --data-dir '$work/data-rss' ui '$file'"
    pid=""
    for _ in $(seq 1 200); do
        pid="$(tmux_ display -p -t bench:follow '#{pane_pid}' 2>/dev/null || true)"
        # The pane's shell may have exec'd triage, or may run it as a child.
        if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != triage ]; then
            pid="$(pgrep -P "$pid" -x triage | head -n 1 || true)"
        fi
        [ -n "$pid" ] && break
        sleep 0.05
    done
    rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; }
    # Wait for detection over what the file holds to be done.
    for _ in $(seq 1 $((timeout_s * 10))); do
        tmux_ capture-pane -p -t bench:follow | grep -q "detection over the existing" && break
        sleep 0.1
    done
    before=$(rss)
    peak=$before
    orig_size=$(stat -c %s "$file")
    for chunk in "$work"/chunk.*; do
        cat "$chunk" >>"$file"
        for _ in 1 2 3 4 5; do
            sleep 0.1
            r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
        done
    done
    for _ in $(seq 1 30); do
        sleep 0.1
        r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
    done
    tmux_ kill-window -t bench:follow >/dev/null 2>&1 || true
    sleep 0.5
    truncate -s "$orig_size" "$file"
    orig_size=""
    rss_line="follow_rss before_kb=$before peak_kb=$peak appended_mb=$follow_mb"
    say "following: resident memory $before KB before, $peak KB at most while $follow_mb MB were appended"
fi
[ -z "$rss_line" ] || echo "$rss_line"
echo "first_screen triage_ms=$(median "${triage_times[@]}") lnav_ms=$(median "${lnav_times[@]}")"
