#!/bin/bash
# What fuel and epoch interruption cost, in instructions executed (cachegrind's "I refs"),
# which a loaded machine does not disturb the way it disturbs wall-clock time. Splits each
# sightglass program's run into compilation and execution, for ours and for Wasmtime:
#   ours:     execution = whole run - a run that compiles and instantiates, then stops
#             (`--invoke` of a missing export);
#   wasmtime: compilation = `wasmtime compile`; execution = a precompiled run - the noop
#             program's precompiled run (startup). Both under valgrind, so the compiled code
#             suits the CPU valgrind presents.
# Prints per program the with/without ratios, then their geometric means. gcc-loops is left
# out (too slow under valgrind). Takes about an hour on two cores.
#
# usage: xtask/bench/instructions.sh [SIGHTGLASS_DIR]   (after cargo build --release -p runtime)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/../shared/bench/sightglass}
ours=$root/target/release/runtime
bench=$root/xtask/bench/bench.wat
wasmtime=${WASMTIME:-wasmtime}
fuel=1152921504606846976
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }

# Instructions executed by a command (its output discarded).
count() {
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        "$@" 2>&1 >/dev/null | awk '/I *refs/ { gsub(",", "", $NF); print $NF }'
}

# Our flags and Wasmtime's for running with CONFIG (an hour's timeout never expires: only the
# epoch checks cost); Wasmtime's for compiling with it.
run_flags() {
    case $1 in off) ;; fuel) echo -W fuel=$fuel ;; epoch) echo -W timeout=3600s ;; esac
}
wt_compile() {
    case $1 in off) ;; fuel) echo -W fuel=$fuel ;; epoch) echo -W epoch-interruption=y ;; esac
}

# measure PROGRAM_DIR CONFIG: "ours_compile ours_exec wasmtime_compile wasmtime_run".
measure() {
    local d=$1 c=$2 whole comp wcomp wrun
    cd "$d"
    # shellcheck disable=SC2046
    whole=$(count "$ours" run $(run_flags "$c") --dir . --preload bench="$bench" benchmark.wasm)
    # shellcheck disable=SC2046
    comp=$(count "$ours" run $(run_flags "$c") --dir . --preload bench="$bench" \
        --invoke __compile_only__ benchmark.wasm)
    # shellcheck disable=SC2046
    wcomp=$(count "$wasmtime" compile $(wt_compile "$c") benchmark.wasm -o "$tmp/$c.cwasm")
    # shellcheck disable=SC2046
    wrun=$(count "$wasmtime" run --allow-precompiled $(run_flags "$c") --dir . \
        --preload bench="$bench" "$tmp/$c.cwasm")
    echo "$comp $((whole - comp)) $wcomp $wrun"
}

results=$tmp/results
for d in "$dir"/*/; do
    d=${d%/}
    name=$(basename "$d")
    [ -f "$d/benchmark.wasm" ] && [ "$name" != gcc-loops ] || continue
    for c in off fuel epoch; do echo "$name $c $(measure "$d" "$c")"; done >>"$results"
    echo "measured $name" >&2
done

awk '
{ comp[$1,$2] = $3; exec_[$1,$2] = $4; wcomp[$1,$2] = $5; wrun[$1,$2] = $6; names[$1] = 1 }
END {
    printf "%-20s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "program", "exec Mi", \
        "fuel", "wt fuel", "epoch", "wt epoch", "fuel C", "wt fuel C", "epoch C", "wt epoch C"
    n = 0
    for (p in names) {
        if (p == "noop") continue
        n++
        r[1] = exec_[p,"fuel"] / exec_[p,"off"]
        r[2] = (wrun[p,"fuel"] - wrun["noop","fuel"]) / (wrun[p,"off"] - wrun["noop","off"])
        r[3] = exec_[p,"epoch"] / exec_[p,"off"]
        r[4] = (wrun[p,"epoch"] - wrun["noop","epoch"]) / (wrun[p,"off"] - wrun["noop","off"])
        r[5] = comp[p,"fuel"] / comp[p,"off"]
        r[6] = wcomp[p,"fuel"] / wcomp[p,"off"]
        r[7] = comp[p,"epoch"] / comp[p,"off"]
        r[8] = wcomp[p,"epoch"] / wcomp[p,"off"]
        printf "%-20s %9.1f", p, exec_[p,"off"] / 1e6
        for (i = 1; i <= 8; i++) { printf " %9.3f", r[i]; logs[i] += log(r[i]) }
        printf "\n"
    }
    printf "%-20s %9s", "geometric mean", ""
    for (i = 1; i <= 8; i++) printf " %9.3f", exp(logs[i] / n)
    printf "\n(exec: execution only, ratio with/without; C: compilation only; wt: wasmtime)\n"
}' "$results"
