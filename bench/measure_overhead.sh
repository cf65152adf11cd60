#!/usr/bin/env bash
# Wall-time overhead of `jouleperf measure -- CMD` on a fixed-work CMD, measured side by
# side: the plain command and the measured one alternate, N runs each, medians compared.
# Usage: bench/measure_overhead.sh [BUILD_DIR] [RUNS] [GFLOP]
set -euo pipefail
build=${1:-build}
runs=${2:-11}
gflop=${3:-20}
jp="$build/jouleperf"
cmd=("$jp" burn --gflop "$gflop" --threads "$(nproc)")
plain=()
measured=()
now() { date +%s.%N; }
for ((i = 0; i < runs; i++)); do
  t0=$(now); "${cmd[@]}" >/dev/null; t1=$(now)
  plain+=("$(echo "$t1 - $t0" | bc -l)")
  t0=$(now); "$jp" measure -- "${cmd[@]}" >/dev/null 2>&1; t1=$(now)
  measured+=("$(echo "$t1 - $t0" | bc -l)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mp=$(median "${plain[@]}")
mm=$(median "${measured[@]}")
echo "command: ${cmd[*]}  (runs: $runs, alternating)"
printf 'median wall, plain:    %.3f s\n' "$mp"
printf 'median wall, measured: %.3f s\n' "$mm"
printf 'overhead: %+.2f %%\n' "$(echo "($mm - $mp) / $mp * 100" | bc -l)"
