#!/usr/bin/env bash
# Parse throughput per format, this checkout against another commit, in one
# run: `cargo bench --bench parse` (benches/parse.rs) built here and at
# BASE (default 74c0a0c, main before issue 17), run alternately format by
# format. Prints, per format, the median over rounds of each
# one's MB/s (criterion's middle estimate) and this / base.
#
#   bash benches/parse_compare.sh                    # 2 rounds, base 74c0a0c
#   ROUNDS=3 bash benches/parse_compare.sh 74c0a0c
#   BASE_EXE=path/to/parse-bench bash benches/parse_compare.sh
#                                                    # a base bench already built
#   THIS_EXE=... BASE_EXE=... bash benches/parse_compare.sh
#                                                    # both already built
#   IR=1 bash benches/parse_compare.sh               # and instructions per
#                                                    # pass (valgrind); ROUNDS=0: only those
#
# The base is built from `git archive BASE` in a scratch directory next to
# this checkout's target directory, its target a hard-linked copy of this
# one's release build (dependencies built once), and deleted at the end.
# The bench reads `../shared/data` beside its checkout when present: the
# scratch directory gets a link to this checkout's.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${1:-74c0a0c}
ROUNDS=${ROUNDS:-2}
OUT=$(mktemp -d)
: >"$OUT/figures" # ROUNDS=0 (instructions only): no times, an empty table
SCRATCH=
cleanup() {
    rm -rf "$OUT"
    if [ -n "$SCRATCH" ]; then rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT

bench_exe() {
    cargo bench --bench parse --no-run 2>&1 | grep -o 'target/release/deps/parse-[0-9a-f]*' | tail -1
}

if [ -n "${THIS_EXE:-}" ]; then
    EXE=$THIS_EXE
else
    EXE=$(bench_exe)
    [ -x "$EXE" ] || { echo "the parse bench did not build" >&2; exit 1; }
    EXE=$PWD/$EXE
fi
if [ -z "${BASE_EXE:-}" ]; then
    SCRATCH=$(mktemp -d "$PWD/target/parse-base.XXXXXX")
    mkdir -p "$SCRATCH/checkout/target"
    git archive "$BASE" | tar -x -C "$SCRATCH/checkout"
    [ -d ../shared ] && ln -s "$(cd ../shared && pwd)" "$SCRATCH/shared"
    cp -al target/release "$SCRATCH/checkout/target/release"
    BASE_EXE=$(cd "$SCRATCH/checkout" && bench_exe)
    BASE_EXE=$SCRATCH/checkout/$BASE_EXE
    [ -x "$BASE_EXE" ] || { echo "the parse bench did not build at $BASE" >&2; exit 1; }
fi

# Interleaved per format (this, base, this, base for one format, then the
# next), so that a change of load on the machine falls on both alike.
formats=$("$EXE" --bench --list 2>/dev/null | sed -n 's/^parse\/\(.*\): benchmark$/\1/p')
for round in $(seq "$ROUNDS"); do
    for format in $formats; do
        for which in this base; do
            exe=$EXE
            [ "$which" = base ] && exe=$BASE_EXE
            echo "round $round: $format: $which" >&2
            # criterion's lines: `parse/NAME  time: [...]` then `thrpt: [lo mid hi]`
            # (a `change:` block after it, against a saved run, has one too).
            "$exe" --bench --noplot --discard-baseline "^parse/$format\$" 2>/dev/null | awk -v which="$which" '
                /^parse\// { name = $1; sub(/^parse\//, "", name); taken = 0 }
                /thrpt:/ && !taken {
                    taken = 1
                    gsub(/[\[\]]/, "")
                    for (i = 1; i <= NF; i++) if ($i == "thrpt:") { v = $(i + 3); u = $(i + 4) }
                    if (u ~ /^GiB/) v *= 1024; else if (u ~ /^KiB/) v /= 1024
                    printf "%s %s %.1f\n", which, name, v * 1.048576
                }' >>"$OUT/figures"
        done
    done
done

# Instructions (IR=1, needs valgrind): one pass over each format's bytes
# under callgrind, counted inside the bench's `parse_all` less the one-time
# set-up of lazily built statics (regexes compiled on first use); a count
# does not depend on load from elsewhere on the machine, as times do.
if [ "${IR:-0}" = 1 ]; then
    command -v valgrind >/dev/null || { echo "IR=1 needs valgrind" >&2; exit 1; }
    per_pass() {
        local total once
        total=$(awk '/^summary:/ { print $2 }' "$1")
        once=$(callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
            grep -E 'call_once_force::\{\{closure\}\}$' | head -1 | awk '{ gsub(",", "", $1); print $1 }')
        echo $((total - ${once:-0}))
    }
    echo "| format | base instructions | this instructions | base / this |"
    echo "|---|---|---|---|"
    for format in $formats; do
        for which in this base; do
            exe=$EXE
            [ "$which" = base ] && exe=$BASE_EXE
            echo "instructions: $format: $which" >&2
            valgrind --tool=callgrind --callgrind-out-file="$OUT/$which.cg" \
                --toggle-collect='parse::parse_all*' "$exe" --bench --test "^parse/$format\$" >/dev/null 2>&1
        done
        awk -v f="$format" -v b="$(per_pass "$OUT/base.cg")" -v t="$(per_pass "$OUT/this.cg")" \
            'BEGIN { printf "| %s | %.1f M | %.1f M | %.2f× |\n", f, b / 1e6, t / 1e6, b / t }'
    done
    echo
fi

echo "| format | base MB/s | this MB/s | this / base |"
echo "|---|---|---|---|"
awk '
    { key = $2; vals[$1, key] = vals[$1, key] " " $3; if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
    function median(s,   a, k, i, j, t) {
        k = split(s, a, " ")
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
    }
    END {
        for (i = 1; i <= n; i++) {
            b = median(vals["base", order[i]]); t = median(vals["this", order[i]])
            printf "| %s | %.0f | %.0f | %.2f× |\n", order[i], b, t, (b > 0 ? t / b : 0)
        }
    }' "$OUT/figures"
