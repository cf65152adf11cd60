#!/usr/bin/env bash
# Builds the pinned llama.cpp that jouleperf links, and llama.cpp's own llama-bench,
# llama-batched-bench and llama-server, from the npm package recorded in
# third_party/llama.cpp.lock. Nothing but that one npm tarball is downloaded.
#
#   1. npm pack node-llama-cpp@VERSION into third_party/_src/ (skipped when the
#      tarball is already there and verifies), and check its sha512 against the lock;
#   2. extract llama/gitRelease.bundle, check its tag and commit against the lock, and
#      git clone it into third_party/_src/llama.cpp (steps 1 and 2 are skipped when
#      that clone is already at the locked commit);
#   3. configure it with CMake into third_party/_build/llama.cpp-VARIANT (skipped when
#      build.ninja is there and was configured with the same flags), build and install
#      into third_party/_build/llama-VARIANT (what jouleperf's CMake finds).
#
# Two levels, one build directory and one configuration:
#   --lib  the `llama` library and ggml only, with their headers, CMake package files
#          and the vocabulary GGUFs (what the jouleperf program and `make demo` need);
#   (default) also llama-common, mtmd and the three tools into bin/ (`make build`,
#          `make test`, the benchmarks). After a --lib build it compiles only the tools:
#          the library objects are reused and nothing is reconfigured.
# Stamps keyed on the lock's contents and the build flags (.stamp-lib, .stamp) make a
# second run of either a no-op; a full build satisfies --lib.
# Usage: scripts/build_llama.sh [--lib] [--cuda] [--force]
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
level=full
for arg in "$@"; do
  case "$arg" in
    --lib) level=lib ;;
    --cuda) cuda=ON ;;
    --force) force=1 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "build_llama: unknown argument '$arg' (usage: $0 [--lib] [--cuda] [--force])" >&2; exit 2 ;;
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
# The library's key: the lock and the flags. The full build's key adds the tools (it is
# the key the script used before the split, so a checkout it built stays a no-op).
lib_key="$({ cat "$lock"; printf '%s\n' "${cmake_flags[@]}"; } | sha256sum | cut -d' ' -f1)"
full_key="$({ cat "$lock"; printf '%s\n' "${cmake_flags[@]}" "${tools[@]}"; } | sha256sum | cut -d' ' -f1)"
stamp_lib="$prefix/.stamp-lib"
stamp_full="$prefix/.stamp"

# One build of a variant at a time (make -j may run several targets that need llama.cpp);
# the CPU and CUDA variants build side by side (separate directories, separate locks).
mkdir -p "$build_root"
exec 9>"$build_root/.lock-$variant"
flock 9

stamp_is() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
if [ "$force" = 0 ]; then
  stamp_is "$stamp_full" "$full_key" && exit 0
  [ "$level" = lib ] && stamp_is "$stamp_lib" "$lib_key" && exit 0
fi
# The library already installed for these flags stays in place while a full build adds
# the tools next to it (another target may be compiling against it).
lib_in_place=0
[ "$force" = 0 ] && [ "$level" = full ] && stamp_is "$stamp_lib" "$lib_key" && lib_in_place=1
rm -f "$stamp_full"
[ "$lib_in_place" = 1 ] || rm -f "$stamp_lib"

for tool in npm node git cmake tar; do
  command -v "$tool" >/dev/null || { echo "build_llama: '$tool' is not installed (run scripts/bootstrap.sh)" >&2; exit 1; }
done

# Seconds per step, printed as each ends (docs/performance.md breaks `make demo` down by them).
start=$EPOCHREALTIME
mark=$start
seconds_since() { awk -v a="$EPOCHREALTIME" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
step_done() {
  echo "build_llama: $1 in $(seconds_since "$mark") s"
  mark=$EPOCHREALTIME
}

# sha512 of a file as an npm integrity string (Subresource Integrity: "sha512-" + base64).
sri_sha512() {
  node -e 'const c=require("crypto"),f=require("fs");
    process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

source="$src_dir/llama.cpp"
source_at_commit() { [ -d "$source/.git" ] && [ "$(git -C "$source" rev-parse HEAD 2>/dev/null)" = "$commit" ]; }
# The source: cloned once from the verified bundle. A clone already at the locked commit
# is that source (the commit id covers every file), so nothing is packed or extracted again.
if ! source_at_commit; then
  mkdir -p "$src_dir"
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
  rm -rf "$source"
  git -c advice.detachedHead=false clone --quiet "$bundle" "$source"
  head="$(git -C "$source" rev-parse HEAD)"
  if [ "$head" != "$commit" ]; then
    echo "build_llama: bundle HEAD is $head, the lock says $commit" >&2
    exit 1
  fi
  rm -rf "$extract"
  step_done "npm pack, check and clone of the source"
fi

jobs="${JOBS:-$(nproc)}"
targets=(llama ggml)
[ "$level" = full ] && targets+=("${tools[@]}")
echo "build_llama: building llama.cpp $tag ($variant; targets ${targets[*]}) with $jobs jobs into $build_dir"
# ccache (when installed) makes a rebuild from a fresh clone cheap; paths are taken
# relative to the project root so another checkout of it hits the same cache. It is not
# part of the stamp key: it changes how fast the build is, not what it builds.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# One configuration serves both levels (--lib configures the tools but does not build
# them), so a full build after a library build only compiles the tools. CMake runs again
# only when its arguments or the lock change or build.ninja is missing (ninja itself
# reruns CMake when llama.cpp's CMake files change).
configure_args=(-S "$source" -B "$build_dir" -G Ninja "${cmake_flags[@]}" "${launcher[@]}" -DCMAKE_INSTALL_PREFIX="$prefix")
configure_key="$({ cat "$lock"; printf '%s\n' "${configure_args[@]}"; } | sha256sum | cut -d' ' -f1)"
configured="$build_dir/.jouleperf-configure-key"
if [ "$force" = 0 ] && [ -f "$build_dir/build.ninja" ] && stamp_is "$configured" "$configure_key"; then
  echo "build_llama: $build_dir is already configured with these flags"
else
  rm -f "$configured"
  cmake "${configure_args[@]}" >"$build_root/configure-$variant.log" 2>&1 ||
    { tail -n 40 "$build_root/configure-$variant.log" >&2; exit 1; }
  printf '%s\n' "$configure_key" >"$configured"
  step_done "cmake configure"
fi
cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}"
step_done "build of ${targets[*]}"

if [ "$level" = lib ]; then
  # llama.cpp's own install rules also install llama-common and mtmd, which --lib does
  # not build: run ggml's install script (ggml, its backends, headers, CMake package)
  # and install the llama library's files as llama.cpp's top-level rules do.
  rm -rf "$prefix"
  install_lib="$build_dir/jouleperf-install-lib.cmake"
  {
    echo "include(\"$build_dir/ggml/cmake_install.cmake\")"
    echo "file(INSTALL DESTINATION \"$prefix/lib\" TYPE STATIC_LIBRARY FILES \"$build_dir/src/libllama.a\")"
    echo "file(INSTALL DESTINATION \"$prefix/include\" TYPE FILE FILES"
    echo "     \"$source/include/llama.h\" \"$source/include/llama-cpp.h\")"
    echo "file(INSTALL DESTINATION \"$prefix/lib/cmake/llama\" TYPE FILE FILES"
    echo "     \"$build_dir/llama-config.cmake\" \"$build_dir/llama-config-version.cmake\")"
    echo "file(INSTALL DESTINATION \"$prefix/lib/pkgconfig\" TYPE FILE FILES \"$build_dir/llama.pc\")"
  } >"$install_lib"
  cmake -DCMAKE_INSTALL_PREFIX="$prefix" -P "$install_lib" >/dev/null
else
  [ "$lib_in_place" = 1 ] || rm -rf "$prefix"
  cmake --install "$build_dir" >/dev/null
  mkdir -p "$prefix/bin"
  for tool in "${tools[@]}"; do
    cp "$build_dir/bin/$tool" "$prefix/bin/"
  done
fi
# The vocabulary-only GGUFs (tokenizers for synthetic models) ship with the source.
mkdir -p "$prefix/share/llama.cpp"
cp "$source/models/ggml-vocab-llama-spm.gguf" "$prefix/share/llama.cpp/"
printf '%s\n' "$lib_key" >"$stamp_lib"
[ "$level" = lib ] || printf '%s\n' "$full_key" >"$stamp_full"
step_done "install into $prefix"
echo "build_llama: done in $(seconds_since "$start") s"
