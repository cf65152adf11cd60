#!/usr/bin/env bash
# Fetches the chart scripts the HTML report inlines: the npm packages pinned in
# third_party/vega.lock (vega, vega-lite, vega-embed). For each one:
#   1. npm pack PACKAGE@VERSION into DEST/tarballs (skipped when the tarball is there
#      and verifies), and check its sha512 against the lock's integrity;
#   2. extract package/build/PACKAGE.min.js (and the package's LICENSE, when it ships
#      one) into DEST.
# DEST (default third_party/_vega, ignored by git) then holds vega.min.js,
# vega-lite.min.js, vega-embed.min.js, LICENSE and a stamp keyed on the lock; a second
# run with the same lock is a no-op. CMake runs this at configure time when the stamp
# is missing or stale (so `make build` on a fresh clone does it) and embeds the files
# into the program (cmake/report_assets.cmake). Nothing is fetched at run time.
# Usage: scripts/fetch_vega.sh [DEST] [--force]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
lock="$root/third_party/vega.lock"
dest="$root/third_party/_vega"
force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -*) echo "fetch_vega: unknown argument '$arg'" >&2; exit 2 ;;
    *) dest="$arg" ;;
  esac
done

key="$(sha256sum "$lock" | cut -d' ' -f1)"
stamp="$dest/.stamp"
mkdir -p "$dest/tarballs"
exec 9>"$dest/.lock"
flock 9
if [ "$force" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
  exit 0
fi

for tool in npm node tar; do
  command -v "$tool" >/dev/null || { echo "fetch_vega: '$tool' is not installed (run scripts/bootstrap.sh)" >&2; exit 1; }
done

# sha512 of a file as an npm integrity string (Subresource Integrity: "sha512-" + base64).
sri_sha512() {
  node -e 'const c=require("crypto"),f=require("fs");
    process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

rm -f "$stamp"
count=0
while read -r package version integrity rest; do
  case "$package" in '' | '#'*) continue ;; esac
  if [ -z "$version" ] || [ -z "$integrity" ] || [ -n "$rest" ]; then
    echo "fetch_vega: $lock: malformed line '$package $version $integrity $rest' (want: package version integrity)" >&2
    exit 1
  fi
  tarball="$dest/tarballs/$package-$version.tgz"
  if [ ! -f "$tarball" ] || [ "$(sri_sha512 "$tarball")" != "$integrity" ]; then
    rm -f "$tarball"
    echo "fetch_vega: npm pack $package@$version"
    (cd "$dest/tarballs" && npm pack --silent "$package@$version" >/dev/null) ||
      { echo "fetch_vega: cannot pack $package@$version from the npm registry" >&2; exit 1; }
  fi
  actual="$(sri_sha512 "$tarball")"
  if [ "$actual" != "$integrity" ]; then
    echo "fetch_vega: integrity mismatch for $tarball" >&2
    echo "  expected $integrity" >&2
    echo "  actual   $actual" >&2
    exit 1
  fi
  tmp="$(mktemp -d "$dest/extract.XXXXXX")"
  tar -xzf "$tarball" -C "$tmp" "package/build/$package.min.js"
  mv "$tmp/package/build/$package.min.js" "$dest/$package.min.js"
  if tar -xzf "$tarball" -C "$tmp" package/LICENSE 2>/dev/null; then
    mv "$tmp/package/LICENSE" "$dest/LICENSE-$package"
  fi
  rm -rf "$tmp"
  # The scripts are inlined in <script> elements: a "</script" inside would end them.
  if grep -qi '</script' "$dest/$package.min.js"; then
    echo "fetch_vega: $package.min.js contains '</script' and cannot be inlined" >&2
    exit 1
  fi
  count=$((count + 1))
done <"$lock"
if [ "$count" != 3 ]; then
  echo "fetch_vega: $lock lists $count packages, want vega, vega-lite and vega-embed" >&2
  exit 1
fi
# One BSD-3-Clause text for all three (vega's tarball ships none; vega-lite's is the same).
cp "$dest/LICENSE-vega-lite" "$dest/LICENSE"
printf '%s\n' "$key" >"$stamp"
