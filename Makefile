# jouleperf — the two commands a fresh machine needs are `make demo` and `make test`.
# Everything else here is what they are made of.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
CTEST      := ctest --output-on-failure --timeout 300 -j$(JOBS)

.PHONY: all bootstrap llama-lib llama build program python demo test test-unit test-asan test-tsan test-under-load fuzz bench format format-check clean

all: build

bootstrap:
	@scripts/bootstrap.sh

# llama.cpp from the pinned npm bundle (third_party/llama.cpp.lock), one build directory
# for both; each a no-op once built. llama-lib: the library jouleperf links (all that the
# program and `make demo` need). llama: also llama.cpp's llama-bench, llama-batched-bench
# and llama-server (the tests and benchmarks); after llama-lib it compiles only those.
llama-lib: bootstrap
	@scripts/build_llama.sh --lib

llama: bootstrap
	@scripts/build_llama.sh

# The release build also makes the Python package (python/, docs/python.md) for PYTHON
# (set on the command line: `make python PYTHON=...`; a PYTHON in the environment is not
# taken). A build directory configured before the package existed is reconfigured once.
PYTHON := /usr/bin/python3
JP_PYTHON_FLAGS := -DJOULEPERF_PYTHON=ON -DPython_EXECUTABLE=$(PYTHON)
$(BUILD)/build.ninja: | bootstrap llama-lib
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DJOULEPERF_WERROR=ON $(JP_PYTHON_FLAGS)
JP_PYTHON_CONFIGURED = grep -qx 'JOULEPERF_PYTHON:BOOL=ON' $(BUILD)/CMakeCache.txt && \
	grep -qx 'Python_EXECUTABLE:[A-Z]*=$(PYTHON)' $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(JP_PYTHON_FLAGS)

build: bootstrap llama $(BUILD)/build.ninja
	@$(JP_PYTHON_CONFIGURED)
	cmake --build $(BUILD) -j$(JOBS)

# The program alone (what the demo needs; `build` also builds the tests, the benchmarks
# and llama.cpp's tools).
program: bootstrap llama-lib $(BUILD)/build.ninja
	cmake --build $(BUILD) -j$(JOBS) --target jouleperf

# The Python package in $(BUILD)/python/jouleperf (PYTHONPATH=$(BUILD)/python), for the
# interpreter PYTHON (default Debian's /usr/bin/python3). `pip install ./python` runs this.
python: bootstrap llama-lib $(BUILD)/build.ninja
	@$(JP_PYTHON_CONFIGURED)
	cmake --build $(BUILD) -j$(JOBS) --target _jouleperf
	@echo "python: PYTHONPATH=$(BUILD)/python $(PYTHON) -c 'import jouleperf'  (or: pip install ./python)"

# The main job: `jouleperf study` on the embedded defaults (docs/method.md). DEMO_OUT holds
# the results store, the synthetic models and report.html; a second run resumes the store.
# DEMO_MAX_REPS caps the repetitions --until-ci adds to a cell (`jouleperf study` alone: 20):
# on a noisy machine nearly every cell reaches the cap, and the demo should end in minutes;
# the report's intervals say how wide that leaves them (docs/performance.md).
DEMO_OUT ?= out/demo
DEMO_MAX_REPS ?= 8
demo: program
	$(BUILD)/jouleperf sensors
	$(BUILD)/jouleperf study --out $(DEMO_OUT) --max-reps $(DEMO_MAX_REPS)

# Every test: the release build, unit tests under ASan+UBSan, sampler tests under
# TSan, a short run of every fuzz target, and the format check.
test: build test-unit test-asan test-tsan fuzz format-check

test-unit: build
	$(CTEST) --test-dir $(BUILD)

test-asan: bootstrap llama-lib
	cmake -S . -B $(BUILD_ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DJOULEPERF_WERROR=ON \
	  -DJOULEPERF_SANITIZE=address,undefined -DJOULEPERF_BUILD_BENCH=OFF
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(CTEST) --test-dir $(BUILD_ASAN) -LE 'server|llama|install'

test-tsan: bootstrap llama-lib
	cmake -S . -B $(BUILD_TSAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DJOULEPERF_WERROR=ON \
	  -DJOULEPERF_SANITIZE=thread -DJOULEPERF_BUILD_BENCH=OFF
	cmake --build $(BUILD_TSAN) -j$(JOBS) --target test_sampler
	TSAN_OPTIONS=halt_on_error=1 $(CTEST) --test-dir $(BUILD_TSAN) -L '^sampler$$'

# `make test` RUNS times in a row with N_BUSY busy loops on the CPUs (issue 12: the suite
# must not depend on timing); a log per run under out/test-under-load/. docs/performance.md.
N_BUSY ?= 2
RUNS   ?= 3
test-under-load:
	scripts/test_under_load.sh $(N_BUSY) $(RUNS)

# Builds the libFuzzer targets with clang and runs each for a bounded number of inputs.
fuzz: bootstrap llama-lib
	CC=clang CXX=clang++ cmake -S . -B $(BUILD_FUZZ) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
	  -DJOULEPERF_BUILD_FUZZ=ON -DJOULEPERF_BUILD_TESTS=OFF -DJOULEPERF_BUILD_BENCH=OFF
	cmake --build $(BUILD_FUZZ) -j$(JOBS) --target fuzz_all
	@set -e; for f in $(BUILD_FUZZ)/fuzz/*_fuzz; do \
	  [ -x "$$f" ] || continue; name=$$(basename $$f); \
	  corpus=fuzz/corpus/$${name%_fuzz}; mkdir -p $(BUILD_FUZZ)/corpus-$$name; \
	  echo "fuzz: $$name"; \
	  $$f -runs=20000 -max_total_time=30 -max_len=4096 $(BUILD_FUZZ)/corpus-$$name $$( [ -d $$corpus ] && echo $$corpus ) 2>&1 | tail -n 2; \
	done

bench: build
	@for b in $(BUILD)/bench/*_bench; do echo "== $$b"; $$b; done

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp' '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.hpp' '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_FUZZ)
