#!/usr/bin/env bash
# Remakes the report screenshots in docs/img/ (docs/report.md): the first screen and one
# chart section of a study's HTML report, at 1400 x 900, in headless Chromium.
#
#   scripts/report_screenshots.sh [REPORT.html]     (default: out/demo/report.html, from `make demo`)
#
# Environment: SECTION (default fig-energy-per-batch) is the element scrolled to for the
# second screenshot; OUT (default docs/img).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
report="${1:-$root/out/demo/report.html}"
section="${SECTION:-fig-energy-per-batch}"
out="${OUT:-$root/docs/img}"
chromium="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$chromium" ] || { echo "report_screenshots: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
[ -f "$report" ] || { echo "report_screenshots: no report at $report (run \`make demo\` first)" >&2; exit 1; }
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# A copy of the page showing only one figure (the headless screenshot is taken at the top
# of the page, so everything above the figure is hidden rather than scrolled past).
shot() { # shot NAME FIGURE-ID-or-empty
  local page="$tmp/$1.html"
  cp "$report" "$page"
  if [ -n "$2" ]; then
    printf '<style>body > *:not(section.part), section.part > :not(#%s), #%s ~ *, #compare, #fidelity, #tables { display: none !important; } section.part:not(:has(#%s)) { display: none !important; }</style>\n' \
      "$2" "$2" "$2" >>"$page"
  fi
  "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
    --user-data-dir="$tmp/profile-$1" --window-size=1400,900 --virtual-time-budget=30000 \
    --screenshot="$out/$1.png" "file://$page" >/dev/null 2>"$tmp/$1.log" ||
    { cat "$tmp/$1.log" >&2; exit 1; }
  echo "report_screenshots: wrote $out/$1.png"
}

shot report-first-screen ""
shot report-chart-section "$section"
