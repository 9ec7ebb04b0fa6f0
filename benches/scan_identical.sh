#!/usr/bin/env bash
# Checks that `triage scan` prints byte for byte what a base commit's build
# prints, on the benchmark corpus (benches/support/corpus.sh) and on every
# file of ../shared/data (each file alone), in every output mode:
#   text, --json, --summary, --summary --json, --all --json (the line path)
# and with the same exit code and stderr. A refactoring that must not change
# behaviour runs this before it is merged.
#
#   benches/scan_identical.sh                 # base: the merge-base with main
#   benches/scan_identical.sh --base HEAD~3   # any commit
#   benches/scan_identical.sh --size 200M --seed 7 --release
#   benches/scan_identical.sh --keep         # keep the base's worktree
#
# The base is checked out in a git worktree under target/ (removed at the
# end unless --keep: kept, a second run checks it out again at the base and
# rebuilds only what changed) and built into this tree's target/ (its
# dependencies are shared; its own crate is a unit of its own, so nothing of
# the working tree's build is overwritten); the working tree is built after
# it. Each binary is copied aside right after its build.
#
# Prints one line per comparison and a verdict; exits 1 on any difference
# (the two outputs are left under target/scan-identical/ for `diff`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

base=""
size=20M
seed=1
profile=debug
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --base) base="$2"; shift 2 ;;
        --size) size="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --release) profile=release; shift ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "scan_identical.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

say() { printf '%s\n' "$*" >&2; }

if [ -z "$base" ]; then
    base=$(git merge-base HEAD main)
fi
base=$(git rev-parse --verify "$base^{commit}")

cargo_flags=(--quiet --bin triage)
[ "$profile" = release ] && cargo_flags+=(--release)
export CARGO_TARGET_DIR="$root/target"

out="$root/target/scan-identical"
rm -rf "$out"
mkdir -p "$out/base" "$out/new" "$out/bin"
tree=$(mktemp -d "${TMPDIR:-/tmp}/scan-identical.XXXXXX")
base_src="$root/target/scan-identical-base"
cleanup() {
    rm -rf "$tree"
    if [ "$keep" -eq 0 ]; then
        git -C "$root" worktree remove --force "$base_src" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

say "building the base ${base:0:12} ($profile)"
if ! git -C "$base_src" rev-parse --verify HEAD >/dev/null 2>&1; then
    rm -rf "$base_src"
    git -C "$root" worktree prune
    git -C "$root" worktree add --quiet --detach "$base_src" "$base"
elif [ "$(git -C "$base_src" rev-parse HEAD)" != "$base" ]; then
    git -C "$base_src" checkout --quiet --detach "$base"
fi
(cd "$base_src" && cargo build "${cargo_flags[@]}")
cp "$root/target/$profile/triage" "$out/bin/base"

say "building the working tree ($profile)"
cargo build "${cargo_flags[@]}" --example gen_corpus
cp "$root/target/$profile/triage" "$out/bin/new"
gen="$root/target/$profile/examples/gen_corpus"

# shellcheck source=benches/support/corpus.sh
source benches/support/corpus.sh

inputs=()
names=()
inputs+=("${files[*]}")
names+=("corpus-${size}-seed${seed}")
while IFS= read -r -d '' f; do
    inputs+=("$f")
    names+=("$(printf '%s' "${f#../shared/data/}" | tr '/' '_')")
done < <(find ../shared/data -type f ! -name 'LICENSE' ! -name '*.md' -print0 | sort -z)
say "corpus: ${#files[@]} files, $bytes bytes; ../shared/data: $((${#inputs[@]} - 1)) files"

modes=("text:" "json:--json" "summary:--summary" "summary-json:--summary --json" "all-json:--all --json")
data=$(mktemp -d "$tree/data.XXXXXX")
differ=0
compared=0
for i in "${!inputs[@]}"; do
    read -r -a paths <<<"${inputs[$i]}"
    for mode in "${modes[@]}"; do
        label=${mode%%:*}
        read -r -a flags <<<"${mode#*:}"
        name="${names[$i]}.$label"
        for side in base new; do
            set +e
            (cd "$tree" && "$out/bin/$side" scan --timezone UTC --data-dir "$data" \
                "${flags[@]}" "${paths[@]/#/$root/}" \
                >"$out/$side/$name.out" 2>"$out/$side/$name.err")
            echo "exit $?" >>"$out/$side/$name.err"
            set -e
        done
        compared=$((compared + 1))
        if cmp -s "$out/base/$name.out" "$out/new/$name.out" &&
            cmp -s "$out/base/$name.err" "$out/new/$name.err"; then
            printf 'same    %-60s %10s bytes\n' "$name" "$(wc -c <"$out/new/$name.out")"
        else
            differ=$((differ + 1))
            printf 'DIFFERS %-60s (diff target/scan-identical/{base,new}/%s.{out,err})\n' "$name" "$name"
        fi
    done
done

if [ "$differ" -eq 0 ]; then
    echo "identical: $compared outputs of ${base:0:12} and the working tree"
    rm -rf "$out/base" "$out/new"
else
    echo "$differ of $compared outputs differ between ${base:0:12} and the working tree"
    exit 1
fi
