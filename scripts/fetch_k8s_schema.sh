#!/usr/bin/env bash
# Installs the Kubernetes schema check of the tests (tests/k8s: kubernetes-models and
# js-yaml from the npm registry, exact versions and integrity pinned by its
# package-lock.json) into DEST with `npm ci`. A no-op when DEST already holds that lock's
# packages. Tests only: the program never needs it.
# Usage: scripts/fetch_k8s_schema.sh DEST
set -euo pipefail
src="$(cd "$(dirname "$0")/../tests/k8s" && pwd)"
dest=${1:?usage: fetch_k8s_schema.sh DEST}
command -v npm >/dev/null || { echo "fetch_k8s_schema: npm is not installed (run scripts/bootstrap.sh)" >&2; exit 1; }
mkdir -p "$dest"
if cmp -s "$src/package-lock.json" "$dest/package-lock.json" && [ -f "$dest/node_modules/.installed" ]; then
  exit 0
fi
cp "$src/package.json" "$src/package-lock.json" "$dest/"
(cd "$dest" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
touch "$dest/node_modules/.installed"
