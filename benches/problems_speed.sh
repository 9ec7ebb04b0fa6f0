#!/usr/bin/env bash
# The speed targets of unknown-failure detection (issue 16), measured in one
# run on compare.sh's corpus (generated there, or here, deterministic by
# --seed), as ratios to the reference measured in the same run:
#   1. `triage scan --summary` — every signature of the default library and
#      problem detection (problem-like events no signature matched, grouped
#      by template: always on in scan) — against `rg -c -f` with the
#      library's regexes, on the corpus files: default threads, then one
#      thread each (hyperfine, median of --runs);
#   2. the template miner on one thread (examples/template_mine.rs: each
#      line's message start and Miner::add, reading not counted) on the
#      whole corpus, and on a 100,000-line sample of it next to logpai's
#      Drain (Python, logparser3: PYTHON names an interpreter that has it;
#      `pip install logparser3`), lines/s and MB/s.
# Prints a Markdown block for benches/RESULTS.md on stdout.
#
#   benches/problems_speed.sh                 # the 800 MB corpus
#   benches/problems_speed.sh --size 50M      # quicker
set -euo pipefail
cd "$(dirname "$0")/.."

size=800M
seed=1
runs=3
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "problems_speed.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
say() { printf '\033[1m%s\033[0m\n' "$*" >&2; }
for tool in rg hyperfine; do
    command -v "$tool" >/dev/null || { echo "problems_speed.sh: $tool is missing (compare.sh installs it)" >&2; exit 2; }
done

say "building triage, the corpus generator and the miner's example (release)"
cargo build --release --quiet --bin triage --example gen_corpus --example template_mine
triage=target/release/triage
gen=target/release/examples/gen_corpus
mine=target/release/examples/template_mine

source benches/support/corpus.sh
"$gen" regexes --rg "$work/rg.pats" --grep "$work/grep.pats" >/dev/null
cat "${files[@]}" "$work/mixed.log" >/dev/null

declare -A median_s cpu_s
q() { printf '%q ' "$@"; }
bench() {
    local name="$1" command="$2"
    say "measuring: $name"
    local csv="$work/p-${name// /_}.csv"
    hyperfine --style none --ignore-failure --warmup 1 --runs "$runs" \
        --export-csv "$csv" "$command > $(q "$work/p-out-${name// /_}.txt")" >/dev/null 2>&1
    median_s[$name]=$(awk -F, 'NR == 2 { print $4 }' "$csv")
    # Mean user + system time: what the run cost in CPU, which a loaded
    # machine's other work does not add to (wall time it does).
    cpu_s[$name]=$(awk -F, 'NR == 2 { print $5 + $6 }' "$csv")
}
bench "triage" "$(q "$triage" scan --summary "${files[@]}")"
bench "rg" "$(q rg -c -f "$work/rg.pats" "${files[@]}")"
bench "triage 1 thread" "$(q "$triage" scan --summary --threads 1 "${files[@]}")"
bench "rg -j1" "$(q rg -j1 -c -f "$work/rg.pats" "${files[@]}")"
problems=$(grep -c '^[0-9a-f]\{12\} ' "$work/p-out-triage.txt" || true)

say "measuring: the miner on the whole corpus and on a sample, Drain on the sample"
mine_all=$("$mine" "$work/mixed.log" | sed -n 2p)
sample="$work/template-sample.log"
[ -f "$sample" ] || shuf -n 100000 --random-source=<(yes) "$work/mixed.log" >"$sample"
mine_sample=$("$mine" "$sample" | sed -n 2p)
python="${PYTHON:-python3}"
drain_sample=""
if "$python" -c 'import logparser.Drain' 2>/dev/null; then
    drain_sample=$("$python" benches/drain_ga.py speed "$sample" "$work/drain-out" | sed -n 2p)
fi
field() { printf '%s\n' "$1" | awk -F'\t' -v f="$2" '{ print $f }'; }
mbps() { awk -v b="$bytes" -v s="${median_s[$1]}" 'BEGIN { printf "%.0f", b / 1e6 / s }'; }
ratio() { awk -v a="${median_s[$2]}" -v b="${median_s[$1]}" 'BEGIN { printf "%.2f", a / b }'; }
cpu_ratio() { awk -v a="${cpu_s[$2]}" -v b="${cpu_s[$1]}" 'BEGIN { printf "%.2f", a / b }'; }

printf 'Measured by `benches/problems_speed.sh --size %s` on %s (%s cores, load average %s at the end).\n' \
    "$size" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)"
printf 'Corpus: %s MB, %s lines, seed %s; `scan --summary` reported %s problem templates.\n\n' \
    "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')" "$lines" "$seed" "$problems"
printf '| what | median wall s | MB/s (wall) | CPU s (user + system) |\n|---|---|---|---|\n'
for name in "triage" "rg" "triage 1 thread" "rg -j1"; do
    printf '| %s | %.3f | %s | %.3f |\n' "$name" "${median_s[$name]}" "$(mbps "$name")" "${cpu_s[$name]}"
done
printf '\n| comparison (triage / rg throughput) | by wall time | by CPU time | target |\n|---|---|---|---|\n'
printf '| scan (signatures + problems) vs rg -c -f, default threads | %s× | %s× | ≥ 1.5× |\n' \
    "$(ratio triage rg)" "$(cpu_ratio triage rg)"
printf '| scan vs rg -c -f, one thread each | %s× | %s× | ≥ 1.5× |\n' \
    "$(ratio "triage 1 thread" "rg -j1")" "$(cpu_ratio "triage 1 thread" "rg -j1")"
printf '\n| miner, one thread | lines | lines/s | MB/s | templates |\n|---|---|---|---|---|\n'
printf '| triage, whole corpus | %s | %s | %s | %s |\n' \
    "$(field "$mine_all" 1)" "$(field "$mine_all" 4)" "$(field "$mine_all" 5)" "$(field "$mine_all" 6)"
printf '| triage, 100,000-line sample | %s | %s | %s | %s |\n' \
    "$(field "$mine_sample" 1)" "$(field "$mine_sample" 4)" "$(field "$mine_sample" 5)" "$(field "$mine_sample" 6)"
if [ -n "$drain_sample" ]; then
    printf '| logpai Drain (Python), same sample | %s | %s | %s | |\n' \
        "$(field "$drain_sample" 1)" "$(field "$drain_sample" 4)" "$(field "$drain_sample" 5)"
    printf '\ntriage / Drain on the same sample: %s×; the target is 1,000,000 lines/s.\n' \
        "$(awk -v a="$(field "$mine_sample" 4)" -v b="$(field "$drain_sample" 4)" 'BEGIN { printf "%.0f", a / b }')"
else
    printf '\nDrain not run: %s has no logparser3 (`pip install logparser3`, or PYTHON=...).\n' "$python"
fi
