#!/usr/bin/env bash
# Grouping accuracy of triage's template miner on the 16 Loghub 2k samples,
# next to logpai's Drain with its per-system tuned settings, in one run.
#
#   benches/template_ga.sh LOGHUB_DIR      (or LOGHUB=DIR benches/template_ga.sh)
#
# LOGHUB_DIR is a checkout of github.com/logpai/loghub (each system's
# S/S_2k.log and S/S_2k.log_structured.csv). triage runs with the same
# settings on every system, on the Content column and on the raw lines
# through its own parser (examples/template_ga.rs). Drain runs when Python
# has logparser3 (`pip install logparser3`; PYTHON selects the interpreter).
# Needs no network; CI does not run it (no Loghub checkout there).
set -euo pipefail
cd "$(dirname "$0")/.."
loghub="${1:-${LOGHUB:-}}"
if [ -z "$loghub" ] || [ ! -d "$loghub/HDFS" ]; then
    echo "usage: benches/template_ga.sh LOGHUB_DIR (a logpai/loghub checkout)" >&2
    exit 2
fi
python="${PYTHON:-python3}"
cargo build --release --quiet --example template_ga
ours=$(mktemp)
drain=$(mktemp)
trap 'rm -f "$ours" "$drain"' EXIT
target/release/examples/template_ga "$loghub" >"$ours"
if "$python" -c 'import logparser.Drain' 2>/dev/null; then
    "$python" benches/drain_ga.py ga "$loghub" >"$drain"
else
    echo "(no logparser3 for $python: Drain not run; pip install logparser3)" >&2
    : >"$drain"
fi
# system, triage on Content, triage on raw lines, Drain (tuned per system)
awk -F'\t' '
    NR == FNR { if (FNR > 1) drain[$1] = $2; next }
    FNR == 1 { print "system\ttriage_content\ttriage_raw\tdrain_tuned\ttemplates\ttrue_templates"; next }
    { d = ($1 in drain) ? drain[$1] : "-"; t = ($1 == "average") ? "" : $4 "\t" $6;
      print $1 "\t" $2 "\t" $3 "\t" d "\t" t }
' "$drain" "$ours"
