#!/usr/bin/env bash
# The installed library used from outside the project (issue 14): installs BUILD into a
# scratch prefix, configures and builds examples/monitor_window against it with
# find_package(jouleperf), and runs it on the CPU-time model (every machine has it).
# Usage: scripts/test_install_consumer.sh BUILD_DIR EXAMPLE_DIR SCRATCH_DIR
# Exit code: 0 when the consumer built and measured a window, else non-zero (the failing
# step's output is printed).
set -euo pipefail
build=$1 example=$2 scratch=$3
rm -rf "$scratch"
mkdir -p "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" >"$scratch/install.log" || {
  cat "$scratch/install.log"
  exit 1
}
cmake -S "$example" -B "$scratch/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" >"$scratch/configure.log" 2>&1 || {
  cat "$scratch/configure.log"
  exit 1
}
cmake --build "$scratch/build" >"$scratch/build.log" 2>&1 || {
  cat "$scratch/build.log"
  exit 1
}
out=$("$scratch/build/monitor_window" cpu-model)
echo "$out"
case "$out" in
  "window busy: "*" J over "*" s (cpu-time-model, ESTIMATED) from cpu-model "*) exit 0 ;;
  *)
    echo "test_install_consumer.sh: unexpected output" >&2
    exit 1
    ;;
esac
