#!/usr/bin/env bash
# The CLI is a thin renderer over the library (issue 14): no function in src/cli longer
# than MAX_LINES (default 60) lines, and src/cli at most MAX_PCT (default 12) % of the
# lines of src/ (every .cpp and .hpp, as `wc -l` counts them).
# A definition is counted from its first line in column 0 to the next "}" in column 0
# (the layout clang-format gives this tree).
# Usage: scripts/check_cli_size.sh [ROOT] [MAX_LINES] [MAX_PCT]
# Exit code: 0 when both hold, 1 otherwise (naming each long function with file and line).
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
max_lines=${2:-60}
max_pct=${3:-12}

long=$(awk -v max="$max_lines" '
  FNR == 1 { open = 0; cand = 0 }
  /^(namespace|struct|class|enum|union|extern|#|\/\/|template)/ { cand = 0; next }
  /^\}/ { if (open) { n = FNR - start + 1; if (n > max) printf "%s:%d: %d lines: %s\n", FILENAME, start, n, name; open = 0 } cand = 0; next }
  /^[A-Za-z]/ { cand = 1; start = FNR; name = $0 }
  cand && /\{$/ { open = 1; cand = 0 }
  cand && /;$/ { cand = 0 }
' "$root"/src/cli/*.cpp)

count() { find "$@" \( -name '*.cpp' -o -name '*.hpp' \) -print0 | xargs -0 cat | wc -l; }
cli=$(count "$root/src/cli")
all=$(count "$root/src")
pct=$(awk -v c="$cli" -v a="$all" 'BEGIN { printf "%.1f", 100 * c / a }')

status=0
if [ -n "$long" ]; then
  echo "functions in src/cli longer than $max_lines lines:" >&2
  echo "${long//$root\//}" >&2
  status=1
fi
if awk -v p="$pct" -v m="$max_pct" 'BEGIN { exit !(p > m) }'; then
  echo "src/cli is $cli of $all lines of src/ ($pct %), more than $max_pct %" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "cli: $cli of $all lines of src/ ($pct %), no function over $max_lines lines"
exit "$status"
