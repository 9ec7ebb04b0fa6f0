#!/usr/bin/env bash
# Measures triage against rg, grep and lnav, in one run, on a generated
# corpus, and writes the figures (absolute, and as ratios against the
# reference measured in the same run) to benches/RESULTS.md:
#   1. matching the full default library (below);
#   2. ingest to a searchable index vs a naive single-thread tantivy loop
#      (`cargo bench --bench index` in corpus mode), and `triage ingest`
#      through the binary (MB/s, peak memory);
#   3. search latency: in-process p50/p99 (term, phrase, field + time range,
#      histogram) and through the binary, next to `rg` and `lnav` doing the
#      same search on the raw bytes;
#   4. detection latency of `triage watch`, idle and under 50,000 lines/s
#      (`cargo bench --bench latency`);
#   5. time to first screen of `triage ui` vs `lnav` on the corpus as one
#      file (`benches/first_screen.sh`), and memory while following it;
#   6. peak memory (max RSS) of each triage command;
#   7. template mining on one thread, whole corpus and a sample, next to
#      logpai's Drain (Python) on the sample when logparser3 is installed
#      (grouping accuracy is benches/template_ga.sh's, kept as it was).
#
#   benches/compare.sh                 # ~800 MB corpus, over 5 M lines (about 20 minutes)
#   benches/compare.sh --quick         # ~50 MB corpus (about 3 minutes)
#   benches/compare.sh --size 2G --seed 7 --runs 5
#
# What is compared, each over the same bytes with the page cache warm:
#   triage scan --summary     every signature of the default library, with
#                             thresholds, suppression and parsing of the
#                             lines that match (all cores, then one thread)
#   rg -c -f REGEXES          the library's regexes, counting matching lines
#                             (default threads, then -j1)
#   grep -E -c -f REGEXES     the regexes rewritten as POSIX ERE (all but the
#                             few ERE cannot say), LC_ALL=C
# on the corpus as several files (rg searches files in parallel), on the same
# bytes as one file, and with 500 synthetic signatures added.
#
# Installs ripgrep and hyperfine with apt-get if they are missing. The corpus
# is generated under target/bench-corpus/ (deterministic by --seed; reused
# when present) and never committed.
set -euo pipefail
cd "$(dirname "$0")/.."

size=800M
seed=1
runs=3
out=benches/RESULTS.md
quick=0
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --quick) quick=1; size=50M; shift ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

say() { printf '\033[1m%s\033[0m\n' "$*" >&2; }

# -- tools -------------------------------------------------------------------
missing=()
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
command -v lnav >/dev/null 2>&1 || missing+=(lnav)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    sudo=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo=sudo; fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

say "building triage and the corpus generator (release)"
cargo build --release --quiet --bin triage --example gen_corpus
triage=target/release/triage
gen=target/release/examples/gen_corpus

# -- corpus --------------------------------------------------------------------
source benches/support/corpus.sh
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')

"$gen" regexes --rg "$work/rg.pats" --grep "$work/grep.pats" >"$work/regexes.txt"
"$gen" synthetic --count 500 --out "$work/synthetic"
"$gen" regexes --patterns "$work/synthetic" --rg "$work/rg500.pats" --grep "$work/grep500.pats" >"$work/regexes500.txt"
library_regexes=$(cat "$work/regexes.txt")
regexes500=$(cat "$work/regexes500.txt")
shape() {
    { "$triage" -vv "$@" scan --summary /dev/null 2>&1 || true; } |
        sed 's/\x1b\[[0-9;]*m//g' | sed -n 's/.*prefilter built shape=//p'
}
shape_default=$(shape)
shape500=$(shape --patterns "$work/synthetic")

say "warming the page cache (${mb} MB)"
cat "${files[@]}" "$work/mixed.log" >/dev/null

# -- measurements -------------------------------------------------------------
declare -A median_s
# Output goes to a file, not /dev/null: GNU grep notices /dev/null and stops
# at the first match.
bench() {
    local name="$1" command="$2"
    say "measuring: $name"
    local csv="$work/h-${name// /_}.csv"
    hyperfine --style none --ignore-failure --warmup 1 --runs "$runs" \
        --export-csv "$csv" "$command > $(q "$work/out-${name// /_}.txt")" >/dev/null 2>&1
    median_s[$name]=$(awk -F, 'NR == 2 { print $4 }' "$csv")
}
q() { printf '%q ' "$@"; }

bench "triage files" "$(q "$triage" scan --summary "${files[@]}")"
bench "triage files 1 thread" "$(q "$triage" scan --summary --threads 1 "${files[@]}")"
bench "rg files" "$(q rg -c -f "$work/rg.pats" "${files[@]}")"
bench "rg files -j1" "$(q rg -j1 -c -f "$work/rg.pats" "${files[@]}")"
bench "grep files" "LC_ALL=C $(q grep -E -c -f "$work/grep.pats" "${files[@]}")"
bench "triage one file" "$(q "$triage" scan --summary "$work/mixed.log")"
bench "triage one file 1 thread" "$(q "$triage" scan --summary --threads 1 "$work/mixed.log")"
bench "rg one file" "$(q rg -c -f "$work/rg.pats" "$work/mixed.log")"
bench "triage +500 files" "$(q "$triage" --patterns "$work/synthetic" scan --summary "${files[@]}")"
bench "triage +500 files 1 thread" "$(q "$triage" --patterns "$work/synthetic" scan --summary --threads 1 "${files[@]}")"
bench "rg +500 files" "$(q rg -c -f "$work/rg500.pats" "${files[@]}")"
bench "rg +500 files -j1" "$(q rg -j1 -c -f "$work/rg500.pats" "${files[@]}")"
bench "grep +500 files" "LC_ALL=C $(q grep -E -c -f "$work/grep500.pats" "${files[@]}")"

# -- 2, 3. the index: ingest and search ---------------------------------------
say "measuring: ingest and search in-process (cargo bench --bench index, corpus mode)"
index_table=$(TRIAGE_BENCH_CORPUS="$work/files" cargo bench --quiet --bench index 2>/dev/null | grep -E '^[a-z]' || echo "index benchmark failed")
bench_value() { printf '%s\n' "$index_table" | awk -v k="$1" 'index($0, k) == 1 { print $(NF-1); exit }'; }

declare -A rss_kb
# Runs a command under /usr/bin/time; keeps its max RSS (KB) and seconds.
timed() {
    local name="$1"; shift
    /usr/bin/time -f '%e %M' -o "$work/time-$name.txt" "$@" >"$work/out-$name.txt" 2>/dev/null || true
    # (GNU time puts "Command exited with non-zero status N" first.)
    read -r secs kb < <(tail -n 1 "$work/time-$name.txt") || true
    rss_kb[$name]=${kb:-NA}
    median_s[$name]=${secs:-NA}
}
say "measuring: triage ingest through the binary (peak memory)"
rm -rf "$work/data"
timed ingest "$triage" --data-dir "$work/data" ingest "${files[@]}"
timed scan "$triage" scan --summary "${files[@]}"

say "measuring: search through the binary vs rg vs lnav"
term=CrashLoopBackOff
phrase="too many clients"
bench "triage search term" "$(q "$triage" --data-dir "$work/data" search --count "$term")"
bench "rg term" "$(q rg -c -w -i "$term" "$work/mixed.log")"
bench "lnav term" "$(q lnav -n -c ":filter-in $term" "$work/mixed.log")"
bench "triage search phrase" "$(q "$triage" --data-dir "$work/data" search --count "\"$phrase\"")"
bench "rg phrase" "$(q rg -c -i "$phrase" "$work/mixed.log")"
bench "triage search level" "$(q "$triage" --data-dir "$work/data" search --count --level error --since 2026-11-21T12:00:00Z --until 2026-11-21T13:00:00Z '*')"
bench "triage histogram" "$(q "$triage" --data-dir "$work/data" search --histogram 1m '*')"
bench "triage histogram word" "$(q "$triage" --data-dir "$work/data" search --histogram 1m error)"
timed search "$triage" --data-dir "$work/data" search --count "$term"

# -- 4. detection latency ------------------------------------------------------
say "measuring: detection latency (cargo bench --bench latency)"
latency_args=()
[ "$quick" = 1 ] && latency_args=(-- --quick)
latency_table=$(cargo bench --quiet --bench latency "${latency_args[@]}" 2>/dev/null | grep '^|' || echo "latency benchmark failed")

# -- 5. first screen -----------------------------------------------------------
say "measuring: time to first screen, triage ui vs lnav (benches/first_screen.sh)"
cp "$work/mixed.log" "$work/screen.log"
screen_out=$(bash benches/first_screen.sh "$work/screen.log" --triage "$triage" --runs 5 --follow-rss 50 2>/dev/null || true)
rm -f "$work/screen.log"
screen_line=$(printf '%s\n' "$screen_out" | grep '^first_screen' | tail -1)
follow_line=$(printf '%s\n' "$screen_out" | grep '^follow_rss' | tail -1)
triage_screen_ms=$(printf '%s\n' "$screen_line" | sed -n 's/.*triage_ms=\([0-9.]*\).*/\1/p')
lnav_screen_ms=$(printf '%s\n' "$screen_line" | sed -n 's/.*lnav_ms=\([0-9.NA]*\).*/\1/p')
follow_peak_kb=$(printf '%s\n' "$follow_line" | sed -n 's/.*peak_kb=\([0-9]*\).*/\1/p')

# -- 7. template mining ---------------------------------------------------------
# One thread, examples/template_mine.rs (message start + miner, default
# bounds): the whole corpus as one file (speed, peak memory), then a sample of
# 100,000 of its lines (drawn deterministically) next to logpai's Drain in
# Python on the same sample, when Python has logparser3 (PYTHON selects it).
say "measuring: template mining (one thread), and Drain on a sample when Python has logparser3"
cargo build --release --quiet --example template_mine
timed template_all target/release/examples/template_mine "$work/mixed.log"
mine_all=$(sed -n 2p "$work/out-template_all.txt")
sample="$work/template-sample.log"
shuf -n 100000 --random-source=<(yes) "$work/mixed.log" >"$sample"
mine_sample=$(target/release/examples/template_mine "$sample" | sed -n 2p)
python="${PYTHON:-python3}"
drain_sample="not run (no logparser3 for $python: pip install logparser3)"
if "$python" -c 'import logparser.Drain' 2>/dev/null; then
    drain_sample=$("$python" benches/drain_ga.py speed "$sample" "$work/drain-out" | sed -n 2p)
fi
field() { printf '%s\n' "$1" | awk -F'\t' -v f="$2" '{ print $f }'; }
template_section() {
    local ours_lps ours_mbps all_lps all_mbps drain_lps drain_mbps
    ours_lps=$(field "$mine_sample" 4); ours_mbps=$(field "$mine_sample" 5)
    all_lps=$(field "$mine_all" 4); all_mbps=$(field "$mine_all" 5)
    printf '| what | lines/s | MB/s |\n|---|---|---|\n'
    printf '| triage miner, whole corpus (%s lines, %s templates) | %s | %s |\n' \
        "$(field "$mine_all" 1)" "$(field "$mine_all" 6)" "$all_lps" "$all_mbps"
    printf '| triage miner, 100,000-line sample | %s | %s |\n' "$ours_lps" "$ours_mbps"
    if [[ "$drain_sample" == not* ]]; then
        printf '| logpai Drain (Python), same sample | %s | |\n' "$drain_sample"
    else
        drain_lps=$(field "$drain_sample" 4); drain_mbps=$(field "$drain_sample" 5)
        printf '| logpai Drain (Python), same sample | %s | %s |\n' "$drain_lps" "$drain_mbps"
        printf '\ntriage / Drain on the same sample: %s×.\n' \
            "$(awk -v a="$ours_lps" -v b="$drain_lps" 'BEGIN { printf "%.0f", a / b }')"
    fi
    printf '\nPeak memory mining the whole corpus: %s.\n' \
        "$(awk -v k="${rss_kb[template_all]}" 'BEGIN { printf "%.0f MB", k / 1024 }')"
}
template_table=$(template_section)
# The grouping-accuracy block (benches/template_ga.sh, needs a Loghub
# checkout) is kept from the previous RESULTS.md as it was.
ga_block=$(sed -n '/^<!-- template-ga -->$/,/^<!-- \/template-ga -->$/p' "$out" 2>/dev/null || true)
# So is the parse-throughput block (benches/parse_compare.sh, against an
# older commit).
parse_block=$(sed -n '/^<!-- parse-compare -->$/,/^<!-- \/parse-compare -->$/p' "$out" 2>/dev/null || true)

mbps() { awk -v b="$bytes" -v s="${median_s[$1]}" 'BEGIN { printf "%.0f", b / 1e6 / s }'; }
ms() { awk -v s="${median_s[$1]}" 'BEGIN { printf "%.1f ms", s * 1000 }'; }
ratio() { awk -v a="${median_s[$2]}" -v b="${median_s[$1]}" 'BEGIN { printf "%.2f", a / b }'; }

# -- report -------------------------------------------------------------------
cores=$(nproc)
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
triage_version=$("$triage" --version)
rg_version=$(rg --version | sed -n 1p)
grep_version=$(grep --version | sed -n 1p)
hyperfine_version=$(hyperfine --version)
rustc_version=$(rustc --version)
mode=$([ "$quick" = 1 ] && echo " (--quick)" || echo "")
corpus_rows=$(while IFS=$'\t' read -r n path; do
    printf '| `%s` | %s |\n' "${path#"$work"/files/}" "$(awk -v b="$n" 'BEGIN { printf "%.1f MB", b / 1e6 }')"
done <"$work/files.txt")

row() {
    local name="$1" what="$2"
    printf '| %s | %s | %.3f | %s |\n' "$what" "$name" "${median_s[$name]}" "$(mbps "$name")"
}

report=$(cat <<EOF
# Benchmarks

Generated by \`benches/compare.sh${mode}\` on $(date -u +"%Y-%m-%d %H:%M UTC").
Reproduce with \`benches/compare.sh\` (\`--quick\` for a 50 MB corpus).

- Machine: ${cores} cores (${cpu}), ${mem} memory
- Versions: ${triage_version}; ${rg_version}; ${grep_version}; ${hyperfine_version}; ${rustc_version}
- Corpus: ${mb} MB, ${lines} lines, generated with seed ${seed} (\`examples/gen_corpus.rs\`): a day
  of a web shop's logs, mostly healthy traffic with rare incidents, Java stack
  traces, in seven files:

| file | size |
|---|---|
${corpus_rows}

- Regexes: ${library_regexes}; with the synthetic signatures: ${regexes500}.
- triage's prefilter: ${shape_default}; with the synthetic signatures:
  ${shape500}.
- Each figure is the median of ${runs} runs (hyperfine, one warm-up run, page
  cache warm, output to a file). MB/s = corpus bytes / median time, start-up
  included (triage loads and compiles its library: about 60 ms, 0.2 s with
  the 500 synthetic signatures).

## Figures

| what | run | median s | MB/s |
|---|---|---|---|
$(row "triage files" "triage, default library, all cores")
$(row "triage files 1 thread" "triage, default library, 1 thread")
$(row "rg files" "rg -c -f, same regexes, default threads")
$(row "rg files -j1" "rg -c -f, same regexes, -j1")
$(row "grep files" "grep -E -c -f, same regexes as ERE")
$(row "triage one file" "triage, the same bytes as one file, all cores")
$(row "triage one file 1 thread" "triage, one file, 1 thread")
$(row "rg one file" "rg -c -f, one file")
$(row "triage +500 files" "triage, library + 500 synthetic, all cores")
$(row "triage +500 files 1 thread" "triage, library + 500 synthetic, 1 thread")
$(row "rg +500 files" "rg -c -f, library + 500 synthetic")
$(row "rg +500 files -j1" "rg -c -f, library + 500 synthetic, -j1")
$(row "grep +500 files" "grep -E -c -f, library + 500 synthetic")

## Ratios (throughput of triage / throughput of the reference)

| comparison | ratio |
|---|---|
| triage vs rg, files, both with their default threads | $(ratio "triage files" "rg files")× |
| triage vs rg, files, both on one thread | $(ratio "triage files 1 thread" "rg files -j1")× |
| triage vs grep, files (grep is single-threaded) | $(ratio "triage files" "grep files")× |
| triage 1 thread vs grep | $(ratio "triage files 1 thread" "grep files")× |
| triage vs rg, one file | $(ratio "triage one file" "rg one file")× |
| triage 1 thread vs rg, one file | $(ratio "triage one file 1 thread" "rg one file")× |
| triage vs rg, + 500 synthetic signatures | $(ratio "triage +500 files" "rg +500 files")× |
| triage vs rg, + 500 synthetic signatures, one thread each | $(ratio "triage +500 files 1 thread" "rg +500 files -j1")× |

## What is measured, and where the time goes

rg and grep count lines that match any regex. triage does more: it runs every
signature (\`any\`/\`all\`/\`not\`, level and source filters), parses the
timestamp and level of each line that matches (and of the lines needed to time
the ones without a timestamp), applies thresholds and suppression, and keeps
per-signature tallies.

How triage gets there: each regex is reduced to a few literals one of which
every match must contain; all literals are searched for at once with Teddy
(SIMD, 64 literals per pass) over 2 MiB blocks; only where a literal occurs are
the regexes that own it run, on that line. Lines that are not valid UTF-8 or
are longer than the line cap are always taken. Blocks are searched on worker
threads, each with its own copy of the regexes; events and detection stay in
stream order.

Teddy tells literals apart by their first four bytes, in 8 or 16 buckets: a
place where those bytes fit a bucket's masks is checked against each literal
of the bucket. Two things keep those false candidates few: literals sharing
their first bytes share a bucket (the masks stay tight), and for each stream
the part of each literal searched for is the one whose first four bytes are
rarest in the stream's first 64 KiB (\`http: panic serving\` is searched as
\`: panic serving\` in an access log, where \`http\` starts every referrer).
On a profile of a one-thread run, the Teddy passes are about two fifths of
the time, the kernel copying file pages (\`read\`) about a fifth, the rest
line counting, UTF-8 validation and the per-line regex checks. The 500 synthetic signatures
add few literals (they share needles), but a quarter of them are
case-insensitive (\`(?i:...)\`): those have no usable literal and run as one
lazy-DFA automaton over every byte. Two threads give less than twice the speed
of one, for both tools, on this machine.

## Ingest to a searchable index

In-process (\`TRIAGE_BENCH_CORPUS=DIR cargo bench --bench index\`): triage's
ingest end to end (read → parse → match → index, committed and searchable)
against a naive loop (one thread adds each raw line, stored and indexed with
tantivy's default tokenizer, no parsing, no matching, a commit a second);
search latency over 50 runs each, in-process, on the index ingest built
(every event of the corpus; a histogram of everything reads the per-minute,
per-level counts from the term dictionary, one of a text query visits each
matching event):

\`\`\`
${index_table}
\`\`\`

Through the binary (\`triage ingest\` of the corpus files into a fresh data
directory): $(awk -v b="$bytes" -v s="${median_s[ingest]}" 'BEGIN { if (s > 0) printf "%.1f MB/s (%.1f s)", b / 1e6 / s, s; else print "NA" }'),
peak memory $(awk -v k="${rss_kb[ingest]}" 'BEGIN { printf "%.0f MB", k / 1024 }').

## Search through the binary, next to rg and lnav on the raw bytes

Each is a whole process run (start-up included), median of ${runs}; rg and
lnav read the corpus as one file (\`lnav -n -c ':filter-in WORD'\`), triage
reads its index.

| search | triage | rg | lnav | triage vs rg | triage vs lnav |
|---|---|---|---|---|---|
| term \`${term}\` (count) | $(ms "triage search term") | $(ms "rg term") | $(ms "lnav term") | $(ratio "triage search term" "rg term")× faster | $(ratio "triage search term" "lnav term")× faster |
| phrase \`"${phrase}"\` (count) | $(ms "triage search phrase") | $(ms "rg phrase") | — | $(ratio "triage search phrase" "rg phrase")× faster | — |
| level error + one hour (count) | $(ms "triage search level") | — | — | — | — |
| 1-minute histogram per level, all events | $(ms "triage histogram") | — | — | — | — |
| 1-minute histogram per level of \`error\` | $(ms "triage histogram word") | — | — | — | — |

## Detection latency (\`triage watch\`, line appended → alert printed)

${latency_table}

## Time to first screen (\`benches/first_screen.sh\`, the corpus as one file)

| viewer | first screen | ratio |
|---|---|---|
| \`triage ui\` | ${triage_screen_ms:-NA} ms | |
| \`lnav\` | ${lnav_screen_ms:-NA} ms | $(awk -v a="${lnav_screen_ms:-0}" -v b="${triage_screen_ms:-0}" 'BEGIN { if (a > 0 && b > 0) printf "triage %.0f× faster", a / b; else print "NA" }') |

Memory while \`triage ui\` follows the file as 50 MB more are appended:
${follow_line:-not measured}.

## Peak memory (max RSS)

| command | peak RSS |
|---|---|
| \`triage scan --summary\` (the corpus files) | $(awk -v k="${rss_kb[scan]}" 'BEGIN { printf "%.0f MB", k / 1024 }') |
| \`triage ingest\` (the corpus files) | $(awk -v k="${rss_kb[ingest]}" 'BEGIN { printf "%.0f MB", k / 1024 }') |
| \`triage search --count\` | $(awk -v k="${rss_kb[search]}" 'BEGIN { printf "%.0f MB", k / 1024 }') |
| \`triage ui\` following the file | $(awk -v k="${follow_peak_kb:-0}" 'BEGIN { if (k > 0) printf "%.0f MB", k / 1024; else print "NA" }') |

## Template mining (\`parse::template\`)

Speed on one thread (\`examples/template_mine.rs\`: each line's message
start and \`Miner::add\` with the default bounds; reading not counted), next
to logpai's Drain (\`benches/drain_ga.py speed\`, Python, no per-system
setting) on the same lines:

${template_table}

${ga_block}

${parse_block}
EOF
)
printf '%s\n' "$report" >"$out"
printf '%s\n' "$report"
say "written to $out"
