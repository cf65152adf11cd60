#!/usr/bin/env bash
# Runs the C++ generator (loadgen_bench, run_open_loop) and the standard-library Python
# asyncio client (loadgen_asyncio.py) against ONE minimal streaming server (a separate
# process, `loadgen_bench --serve`), same rates, same Poisson settings, one after the
# other; prints both tables and the load average. docs/performance.md, "Open-loop load
# generator", has the figures.
#
#   bench/loadgen_compare.sh [BUILD_DIR] [extra flags for both, e.g. --rates 1000,2000 --duration 3]
# Prefix with `chrt -f 50` (root or CAP_SYS_NICE) to run client and server under SCHED_FIFO.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build}"
shift || true
bin="$build/bench/loadgen_bench"
[ -x "$bin" ] || { echo "no $bin: build the loadgen_bench target" >&2; exit 2; }
fifo="$(mktemp -u)"
mkfifo "$fifo"
"$bin" --serve >"$fifo" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$fifo"' EXIT
read -r _ port <"$fifo"
url="http://127.0.0.1:$port"
echo "# server pid $server at $url; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" --server "$url" "$@"
python3 "$here/loadgen_asyncio.py" --url "$url" "$@"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
