#!/usr/bin/env bash
# The parts of the library depend on each other in one direction (DESIGN.md §2): a part
# may include the headers of the parts listed for it below and no others. Scans every
# `#include "jouleperf/<part>/..."` in src/<part>/ and include/jouleperf/<part>/ and fails
# naming file, line and the arrow that is not allowed.
# Usage: scripts/check_layers.sh [ROOT]   (ROOT: the tree to scan, default this checkout;
#        PARTS_FILE: the parts and their dependencies, default cmake/parts.txt beside this script)
# Exit code: 0 when every include follows the layers, 1 otherwise.
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}

# Allowed dependencies of each part, from cmake/parts.txt (the file the build's per-part
# targets are made from); transitive arrows are listed explicitly there.
parts_file=${PARTS_FILE:-$(cd "$(dirname "$0")/.." && pwd)/cmake/parts.txt}
declare -A allowed=()
while IFS= read -r line; do
  case "$line" in "#"* | "") continue ;; esac
  allowed[${line%%:*}]=$(sed -E 's/^[a-z_]+:[[:space:]]*//' <<<"$line")
done <"$parts_file"

status=0
for part in "${!allowed[@]}"; do
  for dir in "$root/src/$part" "$root/include/jouleperf/$part"; do
    [ -d "$dir" ] || continue
    while IFS=: read -r file line text; do
      [ -n "$file" ] || continue
      target=$(sed -E 's/.*#include "jouleperf\/([a-z_]+)\/([^"]+)".*/\1 \1\/\2/' <<<"$text")
      to_part=${target%% *}
      to_header=${target#* }
      [ "$to_part" = "$part" ] && continue
      ok=0
      for a in ${allowed[$part]}; do
        if [ "$a" = "$to_part" ] || [ "$a" = "$to_header" ]; then ok=1; fi
      done
      if [ "$ok" -eq 0 ]; then
        echo "${file#"$root"/}:$line: $part includes $to_header: $part may include only: ${allowed[$part]:-nothing}" >&2
        status=1
      fi
    done < <(grep -rnE '#include "jouleperf/[a-z_]+/' "$dir" 2>/dev/null)
  done
done
[ "$status" -eq 0 ] && echo "layers: every include follows the parts' order"
exit "$status"
