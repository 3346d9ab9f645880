#!/usr/bin/env bash
# `make bench` (quick set, under 5 minutes) and `make bench-full` (everything: 1 GiB log,
# 1M-row registry, 500 x 20-year engine, long job runs). Usage:
#   scripts/run-benchmarks.sh [BUILD_DIR] [quick|full]
# The human table (every program's output) goes to stdout and BUILD_DIR/bench-results.txt;
# BUILD_DIR/bench-results.json holds the run's date, machine load, mode, every figure the
# programs report through bench/common/bench_report.hpp (median, p95, best, reps, in-run
# reference and ratio) and each program's raw output, so a later run can be compared.
set -euo pipefail
BUILD_DIR=${1:-build}
MODE=${2:-quick}
case "$MODE" in quick|full) ;; *) echo "mode must be quick or full, got '$MODE'" >&2; exit 2 ;; esac
BIN="$BUILD_DIR/bin"
TXT="$BUILD_DIR/bench-results.txt"
JSON="$BUILD_DIR/bench-results.json"
# The workspaces live on tmpfs (/dev/shm) when there is one, as in the commands documented in
# docs/benchmarks.md: the figures then measure alphalab, not the disk (on this VM's ext4 without a
# journal, creating thousands of files is slow and erratic for minutes after a large delete).
# BENCH_DIR=/some/disk/folder measures a disk instead.
if [ -z "${BENCH_DIR:-}" ]; then
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then BENCH_DIR=/dev/shm; else BENCH_DIR=${TMPDIR:-/tmp}; fi
fi
WORK=$(mktemp -d "$BENCH_DIR/alphalab_bench.XXXXXX")
# The jobs benchmark keeps its workspace (deleting thousands of files slows the next file
# creations on ext4 without a journal for a minute or more); it is removed at the very end.
trap 'rm -rf "$WORK"' EXIT
export ALPHALAB_BENCH_JSONL="$WORK/figures.jsonl"
: > "$ALPHALAB_BENCH_JSONL"
: > "$TXT"
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
SECONDS=0
n=0
run() {
  n=$((n + 1))
  local out="$WORK/out.$n"
  echo "$*" > "$WORK/cmd.$n"
  { echo; echo "== $*"; } | tee -a "$TXT"
  local t0=$SECONDS
  "$@" 2>&1 | tee "$out" | tee -a "$TXT"
  echo "$((SECONDS - t0))" > "$WORK/secs.$n"
  echo "($((SECONDS - t0)) s)" | tee -a "$TXT"
}
echo "alphalab benchmarks ($MODE), $STARTED, load average $LOAD_BEFORE, $(nproc) cores, workspaces under $BENCH_DIR" | tee -a "$TXT"
if [ "$MODE" = quick ]; then
  run "$BIN/bench_log_tail" --size-gb 0.125 --iterations 2000
  run "$BIN/bench_exec_spawn" --jobs 1000 --dir "$WORK"
  run "$BIN/bench_store_write" --dir "$WORK/store"
  run "$BIN/bench_engine_bt" --quick
  run "$BIN/bench_jobs" --jobs 10000 --reps 10 --clients 4 --slots 32 --keep --dir "$WORK/jobs"
  run "$BIN/bench_file_replace" --dir "$WORK/jobs" --no-wait --rounds 6
  run "$BIN/bench_registry" --rows 100000 --runs-to-index 1000 --iterations 300
  # Optimizations through the API: a 1,000-task sma_cross grid (fast path) against single
  # backtest processes in the same run, and the queue wait of 1,000 process tasks on 2 slots.
  run "$BIN/bench_optimize" --grid 1000 --repeat 3 --process-sample 40 --only grid --dir "$WORK"
  run "$BIN/bench_optimize" --only queue --dir "$WORK"
else
  run "$BIN/bench_log_tail" --size-gb 1 --iterations 5000 --dir "$WORK"
  run "$BIN/bench_exec_spawn" --jobs 1000 --dir "$WORK"
  run "$BIN/bench_store_write" --dir "$WORK/store"
  run "$BIN/bench_engine_bt" --workdir "$WORK/engine_bt"
  run "$BIN/bench_jobs" --jobs 20000 --reps 10 --clients 4 --slots 32 --keep --dir "$WORK/jobs"
  run "$BIN/bench_file_replace" --dir "$WORK/jobs" --no-wait --rounds 6
  run "$BIN/bench_registry" --rows 1000000 --runs-to-index 10000
  run "$BIN/bench_fast_path" --tasks 1000,10000 --process 20 --dir "$WORK/fast_path"
  run "$BIN/bench_optimize" --grid 1000,10000 --repeat 3 --only grid --dir "$WORK"
  run "$BIN/bench_optimize" --only queue --dir "$WORK"
  run "$BIN/bench_optimize" --only status --dir "$WORK"
  run "$BIN/bench_engine_ml_train" --instruments 500 --years 20 --rounds 200
  # PostgreSQL beside SQLite (registry at 1M rows, claims from two servers): needs a server.
  if [ -n "${ALPHALAB_TEST_PG_URL:-}" ]; then
    run "$BIN/bench_postgres" --rows 1000000 --iterations 100 --jobs 4000 --threads 4
  else
    echo "bench_postgres skipped: no PostgreSQL URL (set ALPHALAB_TEST_PG_URL, e.g. from scripts/services/postgres.sh start DIR)" |
      tee -a "$TXT"
  fi
fi
if command -v wrk >/dev/null; then
  run bash bench/http/bench_http.sh "$BUILD_DIR"
  run bash bench/http/bench_get_job.sh "$BUILD_DIR" 100000 5
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
echo | tee -a "$TXT"
echo "total ${SECONDS} s, load average before $LOAD_BEFORE, after $LOAD_AFTER" | tee -a "$TXT"
# Assemble the JSON with the standard library only (any python3).
python3 - "$WORK" "$n" "$MODE" "$STARTED" "$LOAD_BEFORE" "$LOAD_AFTER" "$SECONDS" "$(nproc)" > "$JSON" <<'PY'
import json, sys
work, n, mode, started, before, after, total, cores = sys.argv[1:9]
figures = [json.loads(l) for l in open(f"{work}/figures.jsonl", encoding="utf-8") if l.strip()]
programs = []
for i in range(1, int(n) + 1):
    programs.append({
        "command": open(f"{work}/cmd.{i}", encoding="utf-8").read().strip(),
        "seconds": int(open(f"{work}/secs.{i}").read()),
        "output": open(f"{work}/out.{i}", encoding="utf-8", errors="replace").read().splitlines(),
    })
json.dump({"mode": mode, "started": started, "cores": int(cores), "load_average_before": before,
           "load_average_after": after, "total_seconds": int(total), "figures": figures,
           "programs": programs}, sys.stdout, indent=1, ensure_ascii=False)
print()
PY
echo "wrote $TXT and $JSON"
