#!/usr/bin/env bash
# Times `make demo` as a newcomer runs it: a fresh clone, no compiler cache (CCACHE_DISABLE=1)
# and an empty npm cache (so the pinned llama.cpp and Vega tarballs come from the
# registry). The Debian packages are not reinstalled: `make demo` finds them installed.
# docs/performance.md records the figures.
#
# Usage: scripts/time_cold_demo.sh [DIR [BRANCH]]
#   DIR (default /tmp/jouleperf-cold) is removed, then made a clone of this repository's
#   BRANCH (default: the branch checked out here; commit first).
# Writes DIR/demo-timed.log: every line of `make demo`, prefixed with the seconds since
# it started, followed by the load before and after and a breakdown by step.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-/tmp/jouleperf-cold}"
branch="${2:-$(git -C "$root" rev-parse --abbrev-ref HEAD)}"

rm -rf "$dir"
git clone -q -b "$branch" "$root" "$dir"
cd "$dir"
log="$dir/demo-timed.log"
npm_cache="$(mktemp -d)"
trap 'rm -rf "$npm_cache"' EXIT
export CCACHE_DISABLE=1 npm_config_cache="$npm_cache"

{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit $(git rev-parse --short HEAD) ($branch), $(nproc) CPUs, $(uname -m)"
  echo "# load before: $(uptime)"
} | tee "$log"
t0=${EPOCHREALTIME/./}
set +e
make demo 2>&1 | while IFS= read -r line; do
  t=$(((${EPOCHREALTIME/./} - t0) / 100000))
  printf '%5d.%d %s\n' $((t / 10)) $((t % 10)) "$line"
done | tee -a "$log"
rc=${PIPESTATUS[0]}
set -e
t=$(((${EPOCHREALTIME/./} - t0) / 100000))
{
  echo "# make demo exited $rc after $((t / 10)).$((t % 10)) s"
  echo "# load after: $(uptime)"
} | tee -a "$log"

# The breakdown: the time stamp of the first line of each step.
at() { grep -m1 -E "^ *[0-9]+\.[0-9] $1" "$log" | awk '{ print $1 }'; }
steps=(
  "llama.cpp: npm pack, check, clone|build_llama: npm pack"
  "llama.cpp: configure + library build + install|build_llama: building"
  "jouleperf: cmake configure (incl. Vega fetch)|cmake -S \\. -B build"
  "jouleperf: build of the program|cmake --build build"
  "jouleperf sensors|build/jouleperf sensors"
  "jouleperf study|build/jouleperf study"
)
{
  echo "# step starts (s since make demo started):"
  for s in "${steps[@]}"; do
    printf '#   %-50s %s\n' "${s%%|*}" "$(at "${s#*|}")"
  done
  grep -E '^ *[0-9]+\.[0-9] build_llama: .* in [0-9.]+ s$' "$log" | sed 's/^/#   /'
} | tee -a "$log"
exit "$rc"
