#!/bin/bash
# Instruction count (user space, valgrind callgrind) of the server for one sma_cross grid through
# the API, from the POST to `succeeded` (docs/benchmarks.md, "Per-task cost vs the number of
# existing jobs"). Run it on a fresh workspace and on one with many earlier jobs (e.g. kept by
# `build/bin/bench_optimize --grid 10000 --repeat 1 --only grid --keep --dir /dev/shm`) and
# compare the per-task figures.
#
#   bench/optimize/grid_instructions.sh WORKSPACE TASKS OUT [PORT]
#   callgrind_annotate OUT.1 | grep 'PROGRAM TOTALS'
set -eu
WS=$1; N=$2; OUT=$3; PORT=${4:-8104}
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
# OMP_WAIT_POLICY set: `alphalab serve` does not re-execute itself (/proc/self/exe is valgrind's).
OMP_WAIT_POLICY=passive valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT" \
  "$BIN/alphalab" serve --workspace "$WS" --port "$PORT" --slots 2 --no-access-log >"$OUT.serve.log" 2>&1 &
VPID=$!
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 && break; sleep 1; done
# The bench's grid shape: N = A x B, A the largest divisor of N not above sqrt(N).
BODY=$(python3 - "$N" <<'PY'
import json, math, sys
n = int(sys.argv[1])
a = max(d for d in range(1, math.isqrt(n) + 1) if n % d == 0)
b = n // a
print(json.dumps({"name": "instructions", "project": "bench", "job_type": "backtest",
                  "base_params": {"config_path": "configs/backtest/base.yaml"},
                  "param_space": {"strategy.params.fast": {"min": 2, "max": a + 1, "step": 1},
                                  "strategy.params.slow": {"min": a + 2, "max": a + b + 1, "step": 1}},
                  "sampler": {"type": "grid"}, "objective": {"metric": "final_equity", "direction": "max"},
                  "top_n": 10}))
PY
)
callgrind_control -i on "$VPID" >/dev/null
ID=$(curl -sf -X POST -H 'Content-Type: application/json' -d "$BODY" "http://127.0.0.1:$PORT/api/v1/optimizations" |
  python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
ST=""
for _ in $(seq 1 36000); do
  ST=$(curl -sf "http://127.0.0.1:$PORT/api/v1/optimizations/$ID/status" |
    python3 -c 'import json,sys;d=json.load(sys.stdin);print(d["status"],d["summary"]["finished"])')
  case "$ST" in succeeded*|failed*|canceled*|early-stopped*) break ;; esac
  sleep 1
done
callgrind_control -i off "$VPID" >/dev/null
callgrind_control -d "$VPID" >/dev/null
sleep 2
kill "$VPID"
wait "$VPID" || true
echo "$ID: $ST"
callgrind_annotate "$OUT.1" | grep 'PROGRAM TOTALS'
