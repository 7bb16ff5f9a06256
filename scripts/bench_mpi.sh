#!/usr/bin/env bash
# Scale-out figures of `tracekit run --mpi`: 64 inputs of 262,144 samples
# through lowpass -> fft -> spectral_metrics, the sequential executor on each
# rank, 1 rank against 2 (or RANKS="1 2 4 ..."). Prints, per rank count, the
# best of REPEAT runs of: the time rank 0 reports from after MPI
# initialisation to the last result, and the whole mpiexec command.
#
# Needs a binary built with the feature (cargo build --release -p
# tracekit-cli --features mpi), MPICH, and python3 with numpy for the inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-${CARGO_TARGET_DIR:-target}/release/tracekit}"
RANKS="${RANKS:-1 2}"
REPEAT="${REPEAT:-3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK" <<'PY'
import sys, numpy as np
work = sys.argv[1]
t = np.arange(262144) / 1e6
for k in range(64):
    rng = np.random.default_rng(k)
    x = np.sin(2 * np.pi * 10e3 * t) + 0.1 * np.sin(2 * np.pi * 30e3 * t) + 0.01 * rng.standard_normal(t.size)
    np.save(f"{work}/in{k:02d}.npy", x)
PY
cat > "$WORK/spec.toml" <<'TOML'
executor = "sequential"
[[steps]]
name = "lowpass"
kind = "lowpass"
cutoff = 50000.0
[[steps]]
name = "fft"
kind = "fft"
[[steps]]
name = "metrics"
kind = "spectral_metrics"
inputs = ["lowpass"]
TOML

for n in $RANKS; do
    best_inner=""; best_whole=""
    for _ in $(seq "$REPEAT"); do
        rm -rf "$WORK/out"
        start=$(date +%s.%N)
        line=$(mpiexec -n "$n" "$BIN" run "$WORK/spec.toml" "$WORK"/in*.npy --sample-rate 1e6 \
            --executor sequential --out "$WORK/out" --mpi 2>/dev/null | grep 'handed out in')
        end=$(date +%s.%N)
        inner=$(sed -E 's/.*handed out in ([0-9.]+) s.*/\1/' <<<"$line")
        whole=$(echo "$end - $start" | bc)
        if [ -z "$best_inner" ] || (( $(echo "$inner < $best_inner" | bc) )); then best_inner=$inner; fi
        if [ -z "$best_whole" ] || (( $(echo "$whole < $best_whole" | bc) )); then best_whole=$whole; fi
    done
    echo "ranks $n: after MPI init $best_inner s, whole mpiexec command $best_whole s (best of $REPEAT; $line)"
done
