# alphalab — `make run` serves the example workspace; `make test` builds and runs every test.
SHELL := /bin/bash
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
HOST ?= 127.0.0.1
PORT ?= 8000
WORKSPACE ?= examples/workspace
ALPHALAB := $(BUILD_DIR)/bin/alphalab
CMAKE_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
ifeq ($(CI),true)
CMAKE_FLAGS += -DALPHALAB_WERROR=ON
endif

.PHONY: run test deps build ui data bench bench-full clean fuzz test-sanitize test-asan test-tsan test-sanitize-core

run: deps ui build data
	@echo "alphalab: open http://$(HOST):$(PORT)/ (Ctrl-C stops the server)"
	@# The RD-Agent stand-in (src/tools) answers to `rdagent` only when no real one is on PATH (docs/rdagent.md).
	PATH="$$PATH:$(abspath $(BUILD_DIR))/standin/bin" $(ALPHALAB) serve --workspace $(WORKSPACE) --host $(HOST) --port $(PORT)

# The suites run against real services started for the run (scripts/services/*.sh: a throwaway
# PostgreSQL, a single-node Slurm) and stopped after it (scripts/with-test-services.sh).
test: deps ui build data
	scripts/with-test-services.sh bash -c 'cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600'

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The web UI: npm ci only when the lock file changed, then a production build.
ui: deps
	@if [ -f ui/package.json ]; then \
	  if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then \
	    (cd ui && npm ci --no-audit --no-fund --loglevel=error); fi; \
	  (cd ui && npm run --silent build); fi

# Sample data for the example workspace (real S&P 500 daily OHLCV from vega-datasets).
data: build ui
	@scripts/prepare-data.sh $(WORKSPACE) $(ALPHALAB)

# Long fuzzing runs (FUZZ_SECONDS per target; `make test` runs a bounded 10,000 inputs each).
# New inputs land in $(BUILD_DIR)/tests/fuzz/<target>.long/, crashes next to them.
FUZZ_SECONDS ?= 300
fuzz: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) --target alphalab_fuzzers
	@for t in fuzz_json:json fuzz_http_request:http fuzz_config:config fuzz_csv:csv fuzz_qlib:qlib fuzz_log_reader:log; do \
	  name=$${t%%:*}; corpus=$${t##*:}; work=$(BUILD_DIR)/tests/fuzz/$$name.long; mkdir -p $$work/new; \
	  echo "fuzzing $$name for $(FUZZ_SECONDS) s"; \
	  $(BUILD_DIR)/tests/fuzz/targets/$$name -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -max_len=65536 -artifact_prefix=$$work/ $$work/new tests/fuzz/corpus/$$corpus || exit 1; \
	done

# ASan + UBSan: the whole C++ suite (unit, integration, cli, flows; not fuzz/ui/lint). TSan: the
# concurrency-heavy suites, the tests of jobs, http, exec, store and optimize and those labelled
# tsan (the hardening suite) (ctest labels; the target tsan_suites builds just them and the
# programs they start). GCC, each in its own build
# folder (build-asan, build-tsan; CMakePresets.json). Not part of `make test` (slow: duration in
# docs/testing.md). SAN_JOBS compile and test jobs (niced); SAN_REGEX limits the tests (ctest -R). Suppressions (third-party code only): tests/sanitizers/*.supp. Reports from every
# sanitized process (test binaries and the alphalab/alphalab-shim processes they start) go to
# build-*/sanitizer-logs/ and fail the run (scripts/run-sanitized-tests.sh).
SAN_JOBS ?= 2
SAN_REGEX ?=
test-sanitize: test-asan test-tsan

# The server's concurrent core alone (tests/sanitizers/CMakeLists.txt), both sanitizers, in minutes.
test-sanitize-core:
	for p in asan tsan; do cmake --preset $$p && nice cmake --build build-$$p -j $(SAN_JOBS) --target sanitize_http_core_test && \
	  SAN_SERVICES=0 scripts/run-sanitized-tests.sh $$p -j $(SAN_JOBS) -R SanCore --repeat until-fail:3 || exit 1; done

TSAN_LABELS ?= ^(jobs|http|exec|store|optimize|tsan)$$

test-asan: deps ui
	cmake --preset asan
	nice -n 10 cmake --build build-asan -j $(SAN_JOBS)
	nice -n 10 scripts/run-sanitized-tests.sh asan -j $(SAN_JOBS) --timeout 1200 $(if $(SAN_REGEX),-R '$(SAN_REGEX)')

test-tsan: deps ui
	cmake --preset tsan
	nice -n 10 cmake --build build-tsan -j $(SAN_JOBS) --target tsan_suites
	nice -n 10 scripts/run-sanitized-tests.sh tsan -j $(SAN_JOBS) --timeout 1200 -L '$(TSAN_LABELS)' $(if $(SAN_REGEX),-R '$(SAN_REGEX)')

bench: build
	@scripts/run-benchmarks.sh $(BUILD_DIR) quick
	@scripts/bench-compare.py $(BUILD_DIR)/bench-results.json

bench-full: build
	@scripts/run-benchmarks.sh $(BUILD_DIR) full
	@scripts/bench-compare.py $(BUILD_DIR)/bench-results.json

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan ui/dist
