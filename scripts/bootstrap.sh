#!/usr/bin/env bash
# Installs jouleperf's build and test dependencies from Debian 12's packages.
# As root it runs apt-get; otherwise it prints the exact command and fails.
# Usage: scripts/bootstrap.sh [--check]   (--check: only report what is missing)
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  clang clang-format libclang-rt-14-dev   # libFuzzer targets, sanitizer runtimes, format check
  nlohmann-json3-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev libsqlite3-dev zlib1g-dev
  libyaml-cpp-dev                  # study files
  chromium                         # the HTML report's test renders it headless
  ccache                           # compiler cache: rebuilds (llama.cpp, sanitizer builds) reuse objects
  python3                          # test helpers: local HTTP exporters, side-by-side baselines
  # The Python package (python/, docs/python.md) for Debian's own /usr/bin/python3.
  pybind11-dev python3-dev python3-pybind11 python3-numpy python3-pandas python3-pytest
  python3-setuptools python3-pip python3-venv   # pip install ./python, offline
  slurm-wlm munge                  # the one-node Slurm cluster of the tests (docs/cluster.md)
)
# npm packs llama.cpp's source (scripts/build_llama.sh). Debian's nodejs + npm, unless a
# node with npm is already installed (NodeSource's nodejs bundles npm and conflicts with
# Debian's npm package).
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "missing packages: ${missing[*]}"
  exit 1
fi
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "jouleperf needs these Debian packages: ${missing[*]}" >&2
  echo "run as root:  apt-get update && $cmd" >&2
  exit 1
fi
echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd
