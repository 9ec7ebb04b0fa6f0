#!/usr/bin/env bash
# The stress harness of tests/integration/stress/, run longer: every mode
# (rename to a matching / non-matching name, copytruncate paused / concurrent
# / with a slow copy, truncate, delete and re-create, symlink switch, ingest)
# with every compression (none, gzip, delayed gzip), `kill -9` at random,
# each for STRESS_SECS of writing; one table at the end.
#
#   bash benches/stress.sh                  # 60 s per run, the release build
#   STRESS_SECS=300 bash benches/stress.sh  # five minutes per run
#   TRIAGE_STRESS_MODES=truncate,symlink TRIAGE_STRESS_COMPRESS=none bash benches/stress.sh
#   TRIAGE_STRESS_SEED=1234 ...             # replay a run (each prints its seed)
#   TRIAGE_STRESS_KILL_MS=0 ...             # no kills; see tests/integration/stress/mod.rs
#   TRIAGE_STRESS_READ_COMPRESSED=1 ...     # watch --read-compressed in the compressed modes
#
# A run's row says PASS when the acceptance line of
# tests/integration/stress/account.rs holds; failures are detailed above the
# table (which sequence numbers, in which file generation, how far from a
# kill). The exit status is 1 when any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."

export TRIAGE_STRESS_SECS=${STRESS_SECS:-${TRIAGE_STRESS_SECS:-60}}
cargo build --release --quiet || exit 2
export TRIAGE_STRESS_BIN=${TRIAGE_BIN:-$(realpath target/release/triage)}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --quiet --test integration stress::stress_from_env -- --ignored --nocapture 2>&1 | tee "$log" | grep -v '^STRESS|'
status=${PIPESTATUS[0]}
echo
echo "binary: $TRIAGE_STRESS_BIN, ${TRIAGE_STRESS_SECS} s of writing per run"
# The table: the header and one row per run (each row is printed twice by
# the test, once as it ends and once in the table; keep the table's).
awk '/^STRESS\| mode/ { table = 1 } table && /^STRESS\|/ { sub(/^STRESS\| /, ""); print }' "$log" |
    column -t -s '|'
exit $((status != 0))
