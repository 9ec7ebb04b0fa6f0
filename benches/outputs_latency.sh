#!/usr/bin/env bash
# Detection latency with and without an output configured (issue 21): the
# time from a line appended to its alert printed by `triage watch`, measured
# by the latency bench (benches/latency.rs) once without any `[[output]]`
# (the reference) and once with every alert also going to a webhook whose
# receiver accepts connections and never answers (`-- --with-output`).
#
#   bash benches/outputs_latency.sh            # 2 rounds of each, quick probes
#   ROUNDS=3 FULL=1 bash benches/outputs_latency.sh
#   BASE_BIN=path/to/older/triage bash benches/outputs_latency.sh
#                                              # the same two for another build too
#
# The two runs alternate (reference, output, reference, output, ...) so
# that load from elsewhere on the machine falls on both alike. Prints each
# run's table, then, per load (idle, 50,000 lines/s appended), the median
# over rounds of p50 and p99 with the output as a ratio to without.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-2}
QUICK=--quick
[ "${FULL:-0}" = 1 ] && QUICK=
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# Built once; each run starts the bench's executable itself.
EXE=$(cargo bench --bench latency --no-run 2>&1 | grep -o 'target/[^)]*/latency-[0-9a-f]*' | tail -1)
[ -x "$EXE" ] || { echo "the latency bench did not build" >&2; exit 1; }
MODES="none output"
[ -n "${BASE_BIN:-}" ] && MODES="$MODES base-none base-output"
for round in $(seq 1 "$ROUNDS"); do
    for mode in $MODES; do
        extra=
        case $mode in *output) extra=--with-output ;; esac
        bin=
        case $mode in base-*) bin=$(realpath "$BASE_BIN") ;; esac
        # (TRIAGE_BIN only for the base build: set empty, it names no binary.)
        # shellcheck disable=SC2086
        env ${bin:+TRIAGE_BIN="$bin"} "$EXE" --bench $QUICK $extra >"$OUT/$mode.$round"
        echo "== round $round, $mode"
        cat "$OUT/$mode.$round"
    done
done

python3 - "$OUT" "$ROUNDS" $MODES <<'EOF'
import re, statistics, sys
out, rounds, modes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def rows(path):
    # | load | p50 | p99 | max |  ->  {"idle": (p50, p99), "loaded": ...}
    found = {}
    for line in open(path):
        m = re.match(r"\| (.+?) \| ([\d.]+) ms \| ([\d.]+) ms \| ([\d.]+) ms \|", line)
        if m:
            name = "idle" if m.group(1) == "idle" else "loaded"
            found[name] = (float(m.group(2)), float(m.group(3)))
    return found

runs = {mode: [rows(f"{out}/{mode}.{r}") for r in range(1, rounds + 1)] for mode in modes}
print()
print("| build | load | p50 without | p50 with output | ratio | p99 without | p99 with output | ratio |")
print("|---|---|---|---|---|---|---|---|")
for build, prefix in (("this", ""), ("base", "base-")):
    if prefix + "none" not in runs:
        continue
    for load in ("idle", "loaded"):
        med = {
            mode: [statistics.median(run[load][i] for run in runs[prefix + mode]) for i in (0, 1)]
            for mode in ("none", "output")
        }
        (a50, a99), (b50, b99) = med["none"], med["output"]
        print(f"| {build} | {load} | {a50:.1f} ms | {b50:.1f} ms | {b50 / a50:.2f} | {a99:.1f} ms | {b99:.1f} ms | {b99 / a99:.2f} |")
EOF
