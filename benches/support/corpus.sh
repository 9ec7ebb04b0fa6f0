# The generated benchmark corpus, shared by compare.sh and problems_speed.sh
# (sourced; needs `say`, `$gen`, `$size` and `$seed`): generated once per
# size and seed under target/bench-corpus/, then `work`, `files`, `bytes`
# and `lines` set for the caller.
work="target/bench-corpus/${size}-seed${seed}"
if [ ! -f "$work/.done" ]; then
    say "generating a ${size} corpus (seed ${seed}) in ${work}"
    rm -rf "$work"
    mkdir -p "$work"
    "$gen" corpus --size "$size" --seed "$seed" --out "$work/files" >"$work/files.txt"
    cat $(cut -f2 "$work/files.txt") >"$work/mixed.log"
    touch "$work/.done"
fi
mapfile -t files < <(cut -f2 "$work/files.txt")
bytes=$(cat "${files[@]}" | wc -c)
lines=$(cat "${files[@]}" | wc -l)
