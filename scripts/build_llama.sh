#!/usr/bin/env bash
# Builds the pinned llama.cpp that jouleperf links, and llama.cpp's own llama-bench,
# llama-batched-bench and llama-server, from the npm package recorded in
# third_party/llama.cpp.lock. Nothing but that one npm tarball is downloaded.
#
#   1. npm pack node-llama-cpp@VERSION into third_party/_src/ (skipped when the
#      tarball is already there and verifies), and check its sha512 against the lock;
#   2. extract llama/gitRelease.bundle, check its tag and commit against the lock, and
#      git clone it into third_party/_src/llama.cpp;
#   3. configure and build it with CMake into third_party/_build/llama.cpp-VARIANT and
#      install the libraries, headers and the three tools into
#      third_party/_build/llama-VARIANT (what jouleperf's CMake finds).
#
# A stamp file keyed on the lock's contents and the build flags makes a second run
# a no-op. Usage: scripts/build_llama.sh [--cuda] [--force]
# Environment: JOULEPERF_CUDA=ON is the same as --cuda; JOBS (default: nproc);
# CUDA_ARCHITECTURES (with --cuda: the GPUs to compile for, e.g. 90; required where no GPU
# is visible).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
lock="$root/third_party/llama.cpp.lock"
src_dir="$root/third_party/_src"
build_root="$root/third_party/_build"

cuda="${JOULEPERF_CUDA:-OFF}"
force=0
for arg in "$@"; do
  case "$arg" in
    --cuda) cuda=ON ;;
    --force) force=1 ;;
    *) echo "build_llama: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
case "$cuda" in
  ON | on | 1 | TRUE | true) cuda=ON ;;
  *) cuda=OFF ;;
esac
variant=cpu
[ "$cuda" = ON ] && variant=cuda
cuda_flags=()
if [ "$cuda" = ON ]; then
  # nvcc where the toolkit installs it, when it is not on PATH.
  if ! command -v nvcc >/dev/null 2>&1 && [ -z "${CUDACXX:-}" ] && [ -x /usr/local/cuda/bin/nvcc ]; then
    export CUDACXX=/usr/local/cuda/bin/nvcc
  fi
  # GPU architectures to compile for: CUDA_ARCHITECTURES (e.g. "90" for H100/H200, "89"
  # for L40S / RTX 6000 Ada, "86" for A6000, "80" for A100, "100" for B200; several as
  # "80;90"), else the GPU of this machine. A build host without a GPU must name them:
  # llama.cpp's default, "native", fails there at configure time.
  if [ -n "${CUDA_ARCHITECTURES:-}" ]; then
    cuda_flags=(-DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCHITECTURES")
  elif ! { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; }; then
    echo "build_llama: --cuda on a machine without a visible NVIDIA GPU: set CUDA_ARCHITECTURES to the" >&2
    echo "  target GPUs' compute capabilities, e.g. CUDA_ARCHITECTURES=90 (H100/H200) or \"80;86;89;90\"" >&2
    exit 2
  fi
fi

lock_value() {
  local v
  v="$(sed -n "s/^$1=//p" "$lock")"
  if [ -z "$v" ]; then
    echo "build_llama: $lock has no '$1=' line" >&2
    exit 1
  fi
  printf '%s' "$v"
}
package="$(lock_value package)"
version="$(lock_value version)"
integrity="$(lock_value integrity)"
tag="$(lock_value llama_cpp_tag)"
commit="$(lock_value llama_cpp_commit)"

# What the build is: everything that changes the result goes into the stamp key.
# LLAMA_BUILD_IS_DEV=OFF: the lock pins a release tag, so llama_version() is that tag.
# GGML_OPENMP=OFF: ggml's own thread pool, so the libraries link into gcc and clang
# (fuzz) builds alike without an OpenMP runtime; llama-bench and llama-batched-bench
# are built from the same libraries, so side-by-side comparisons stay fair.
cmake_flags=(
  -DCMAKE_BUILD_TYPE=Release
  -DBUILD_SHARED_LIBS=OFF
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  -DGGML_NATIVE=ON
  -DGGML_OPENMP=OFF
  -DGGML_CUDA="$cuda"
  -DLLAMA_BUILD_TESTS=OFF
  -DLLAMA_BUILD_EXAMPLES=OFF
  -DLLAMA_BUILD_TOOLS=ON
  -DLLAMA_BUILD_SERVER=ON
  -DLLAMA_BUILD_APP=OFF
  -DLLAMA_TOOLS_INSTALL=OFF
  -DLLAMA_USE_PREBUILT_UI=OFF
  -DLLAMA_BUILD_UI=OFF
  -DLLAMA_CURL=OFF
  -DLLAMA_OPENSSL=OFF
  -DLLAMA_LLGUIDANCE=OFF
  -DLLAMA_BUILD_IS_DEV=OFF
  -DLLAMA_BUILD_NUMBER=0
  -DLLAMA_BUILD_COMMIT="${commit:0:8}"
  "${cuda_flags[@]}"
)
tools=(llama-bench llama-batched-bench llama-server)

build_dir="$build_root/llama.cpp-$variant"
prefix="$build_root/llama-$variant"
stamp="$prefix/.stamp"
key="$({ cat "$lock"; printf '%s\n' "${cmake_flags[@]}" "${tools[@]}"; } | sha256sum | cut -d' ' -f1)"

# One build of a variant at a time (make -j may run several targets that need llama.cpp);
# the CPU and CUDA variants build side by side (separate directories, separate locks).
mkdir -p "$build_root"
exec 9>"$build_root/.lock-$variant"
flock 9

if [ "$force" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
  exit 0
fi

for tool in npm node git cmake tar; do
  command -v "$tool" >/dev/null || { echo "build_llama: '$tool' is not installed (run scripts/bootstrap.sh)" >&2; exit 1; }
done

# sha512 of a file as an npm integrity string (Subresource Integrity: "sha512-" + base64).
sri_sha512() {
  node -e 'const c=require("crypto"),f=require("fs");
    process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

mkdir -p "$src_dir" "$build_root"
tarball="$src_dir/$package-$version.tgz"
if [ ! -f "$tarball" ] || [ "$(sri_sha512 "$tarball")" != "$integrity" ]; then
  rm -f "$tarball"
  echo "build_llama: npm pack $package@$version"
  (cd "$src_dir" && npm pack --silent "$package@$version" >/dev/null)
fi
actual="$(sri_sha512 "$tarball")"
if [ "$actual" != "$integrity" ]; then
  echo "build_llama: integrity mismatch for $tarball" >&2
  echo "  expected $integrity" >&2
  echo "  actual   $actual" >&2
  exit 1
fi

# The bundle and the tag it was made from.
extract="$src_dir/npm-$version-$variant"
rm -rf "$extract"
mkdir -p "$extract"
tar -xzf "$tarball" -C "$extract" package/llama/gitRelease.bundle package/llama/binariesGithubRelease.json
bundle="$extract/package/llama/gitRelease.bundle"
bundle_tag="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1])).release)' \
  "$extract/package/llama/binariesGithubRelease.json")"
if [ "$bundle_tag" != "$tag" ]; then
  echo "build_llama: bundle carries llama.cpp $bundle_tag, the lock says $tag" >&2
  exit 1
fi

source="$src_dir/llama.cpp"
if [ ! -d "$source/.git" ] || [ "$(git -C "$source" rev-parse HEAD 2>/dev/null)" != "$commit" ]; then
  rm -rf "$source"
  git -c advice.detachedHead=false clone --quiet "$bundle" "$source"
fi
head="$(git -C "$source" rev-parse HEAD)"
if [ "$head" != "$commit" ]; then
  echo "build_llama: bundle HEAD is $head, the lock says $commit" >&2
  exit 1
fi
rm -rf "$extract"

jobs="${JOBS:-$(nproc)}"
echo "build_llama: building llama.cpp $tag ($variant) with $jobs jobs into $build_dir"
start=$(date +%s)
rm -f "$stamp"
# ccache (when installed) makes a rebuild from a fresh clone cheap; paths are taken
# relative to the project root so another checkout of it hits the same cache. It is not
# part of the stamp key: it changes how fast the build is, not what it builds.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$source" -B "$build_dir" -G Ninja "${cmake_flags[@]}" "${launcher[@]}" -DCMAKE_INSTALL_PREFIX="$prefix" >"$build_root/configure-$variant.log" 2>&1 ||
  { tail -n 40 "$build_root/configure-$variant.log" >&2; exit 1; }
cmake --build "$build_dir" -j "$jobs" --target llama "${tools[@]}"
rm -rf "$prefix"
cmake --install "$build_dir" >/dev/null
mkdir -p "$prefix/bin"
for tool in "${tools[@]}"; do
  cp "$build_dir/bin/$tool" "$prefix/bin/"
done
# The vocabulary-only GGUFs (tokenizers for synthetic models) ship with the source.
mkdir -p "$prefix/share/llama.cpp"
cp "$source/models/ggml-vocab-llama-spm.gguf" "$prefix/share/llama.cpp/"
printf '%s\n' "$key" >"$stamp"
echo "build_llama: done in $(($(date +%s) - start)) s"
