#!/usr/bin/env bash
# Runs `make test` several times in a row while N busy loops keep the CPUs occupied, to
# show the suite does not depend on timing (issue 12: no test asserts a time, rate or
# latency; no test sleeps a fixed time waiting for another process).
#
# Usage: scripts/test_under_load.sh [N_BUSY=2] [RUNS=3]
#   N_BUSY  busy loops to start (plain shell loops: `while :; do :; done`), >= 0
#   RUNS    how many times to run `make test`, >= 1
# Environment: MAKE_TARGET (default "test"), LOG (default out/test-under-load/<UTC time>.log),
#              and anything `make test` reads (JOBS, BUILD, ...).
# Each run's exit code, wall time and load average go to the log (one line per run, plus
# the run's full output in <log>.run<i>); the loops are killed on exit, whatever happens.
# Exit code: 0 when every run passed, 1 when any failed, 2 on bad arguments.
set -uo pipefail

n_busy=${1:-2}
runs=${2:-3}
target=${MAKE_TARGET:-test}
case "$n_busy" in '' | *[!0-9]*)
  echo "test_under_load.sh: N_BUSY must be a whole number, got '$n_busy'" >&2
  exit 2
  ;;
esac
case "$runs" in '' | *[!0-9]* | 0)
  echo "test_under_load.sh: RUNS must be a whole number >= 1, got '$runs'" >&2
  exit 2
  ;;
esac

cd "$(dirname "$0")/.." || exit 2
log=${LOG:-out/test-under-load/$(date -u +%Y%m%dT%H%M%SZ).log}
mkdir -p "$(dirname "$log")" || exit 2

busy_pids=()
stop_busy() {
  for pid in "${busy_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${busy_pids[@]}"; do wait "$pid" 2>/dev/null; done
  busy_pids=()
}
trap stop_busy EXIT
trap 'stop_busy; exit 130' INT
trap 'stop_busy; exit 143' TERM

for ((i = 0; i < n_busy; i++)); do
  sh -c 'while :; do :; done' &
  busy_pids+=("$!")
done

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
{
  echo "# make $target under load: $n_busy busy loops on $(nproc) CPUs, $runs runs, $(date -u +%FT%TZ)"
  echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "# run exit_code wall_s loadavg_before(1,5,15) loadavg_after(1,5,15)"
} | tee "$log"

failed=0
for ((r = 1; r <= runs; r++)); do
  before=$(loadavg)
  start=$(date +%s.%N)
  make "$target" >"$log.run$r" 2>&1
  code=$?
  end=$(date +%s.%N)
  after=$(loadavg)
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  echo "$r $code $wall $before $after" | tee -a "$log"
  if [ "$code" -ne 0 ]; then
    failed=1
    echo "#   run $r failed; its last lines ($log.run$r):" | tee -a "$log"
    tail -n 20 "$log.run$r" | sed 's/^/#   /' | tee -a "$log"
  fi
done

stop_busy
if [ "$failed" -ne 0 ]; then
  echo "# FAILED: at least one run of make $target failed under load" | tee -a "$log"
  exit 1
fi
echo "# all $runs runs passed" | tee -a "$log"
exit 0
