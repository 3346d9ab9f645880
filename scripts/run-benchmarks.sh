#!/usr/bin/env bash
# `make bench`: runs the quick benchmark programs and prints their figures.
# The long ones (training on 500 x 20 years, 1M-row registry) are listed in docs/benchmarks.md.
set -euo pipefail
BUILD_DIR=${1:-build}
BIN="$BUILD_DIR/bin"
run() { echo; echo "== $*"; "$@"; }
run "$BIN/bench_log_tail" --size-gb 1
run "$BIN/bench_exec_spawn"
run "$BIN/bench_store_write"
run "$BIN/bench_engine_bt" --quick
# The jobs benchmark keeps its workspace (deleting thousands of files slows the next file
# creations on ext4 without a journal for a minute or more); it is removed at the very end.
JOBS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/alphalab_bench_jobs_runs.XXXXXX")
trap 'rm -rf "$JOBS_DIR"' EXIT
run "$BIN/bench_jobs" --jobs 5000 --clients 4 --slots 32 --keep --dir "$JOBS_DIR"
run "$BIN/bench_file_replace" --dir "$JOBS_DIR" --no-wait
run "$BIN/bench_registry" --rows 100000 --runs-to-index 1000
# Optimizations through the API: a 1,000-task sma_cross grid (fast path) against single
# backtest processes in the same run, and the queue wait of 1,000 process tasks on 2 slots.
run "$BIN/bench_optimize" --grid 1000 --repeat 3 --only grid
run "$BIN/bench_optimize" --only queue
if command -v wrk >/dev/null; then run bash bench/http/bench_http.sh "$BUILD_DIR"; fi
