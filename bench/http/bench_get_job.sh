#!/usr/bin/env bash
# GET /api/jobs/{id} for jobs the server has not cached: 100,000 finished jobs are seeded into
# a fresh workspace's store, the server is started (its read cache is empty after a start),
# and wrk -t2 -c50 requests ids drawn at random from all of them (the path users hit after a
# restart or on older jobs: the store row turned into JSON). In the same run, the reference:
# one job this server ran itself, requested over and over (served from the read cache).
# Rounds alternate the two; the medians over the rounds and the ratio uncached / cached are
# printed at the end (and appended to $ALPHALAB_BENCH_JSONL when set, like bench_report.hpp).
#   bench/http/bench_get_job.sh [BUILD_DIR] [JOBS] [SECONDS] [ROUNDS]   (defaults: build 100000 5 3)
# PORT=N in the environment serves on that port (default 0: one the kernel picks).
set -euo pipefail
BUILD=${1:-build}
JOBS=${2:-100000}
DURATION=${3:-5}
ROUNDS=${4:-3}
BIN=$BUILD/bin
command -v wrk >/dev/null || { echo "wrk is not installed"; exit 0; }
WS=$(mktemp -d /tmp/alphalab_bench_get_job.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; [ -n "$PID" ] && wait $PID 2>/dev/null; rm -rf "$WS"' EXIT
. "$(dirname "$0")/bench_workspace.sh"
bench_workspace "$WS"
"$BIN/bench_seed_jobs" --workspace "$WS" --jobs "$JOBS" --ids-out "$WS/ids.txt" --threads 8
"$BIN/alphalab" serve --workspace "$WS" --port "${PORT:-0}" > "$WS/server.out" 2> "$WS/server.err" &
PID=$!
for _ in $(seq 200); do grep -q "http://" "$WS/server.out" 2>/dev/null && break; sleep 0.05; done
URL=$(grep -o "http://127.0.0.1:[0-9]*" "$WS/server.out")
# Requests are built once per wrk thread (wrk.format at start), so a request costs the client a
# table lookup; both runs use this script (the reference with a file of one id), so the client
# does the same work per request in both and the ratio is the server's.
cat > "$WS/random.lua" <<'LUA'
local reqs = {}
for line in io.lines(os.getenv("IDS_FILE")) do reqs[#reqs + 1] = wrk.format("GET", "/api/jobs/" .. line) end
math.randomseed(math.floor(os.clock() * 1e6) + os.time())
local n = #reqs
request = function() return reqs[math.random(n)] end
LUA
FIRST=$(head -1 "$WS/ids.txt")
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/jobs/$FIRST")
[ "$code" = 200 ] || { echo "GET /api/jobs/$FIRST (seeded) returned $code"; exit 1; }
# The reference: a job this server ran (a dry-run train job), held in its read cache.
ONE=$(curl -s -XPOST "$URL/api/jobs/train" -H 'Content-Type: application/json' \
  -d '{"config_path":"configs/base.yaml","dry_run":true}' | grep -o 'job_[0-9_]*__[0-9a-f]*' | head -1)
[ -n "$ONE" ] || { echo "could not submit the reference job"; exit 1; }
echo "$ONE" > "$WS/one.txt"
echo "server $URL, $JOBS seeded jobs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# wrk's Requests/sec and 99th percentile (in ms) of one run, appended to $1 as "rps p99_ms".
run_wrk() {
  local out=$1
  shift
  wrk -t2 -c50 -d"${DURATION}s" --latency "$@" > "$WS/wrk.out"
  grep -E "Requests/sec|Latency  |99%|50%|Non-2xx" "$WS/wrk.out"
  awk '/Requests\/sec/ {rps=$2}
       /^ +99%/ {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                 ms = u=="us" ? v/1000 : u=="s" ? v*1000 : v}
       END {print rps, ms}' "$WS/wrk.out" >> "$out"
}
: > "$WS/uncached.txt"
: > "$WS/cached.txt"
for round in $(seq "$ROUNDS"); do
  echo "== round $round: wrk -t2 -c50 -d${DURATION}s --latency, random ids over $JOBS jobs (mostly uncached)"
  IDS_FILE="$WS/ids.txt" run_wrk "$WS/uncached.txt" -s "$WS/random.lua" "$URL"
  echo "== round $round: reference, one cached job ($ONE), same script"
  IDS_FILE="$WS/one.txt" run_wrk "$WS/cached.txt" -s "$WS/random.lua" "$URL"
done
python3 - "$WS/uncached.txt" "$WS/cached.txt" "$JOBS" <<'PY'
import json, os, statistics, sys
def load(path):
    rows = [tuple(map(float, l.split())) for l in open(path) if len(l.split()) == 2]
    return [r[0] for r in rows], [r[1] for r in rows]
u_rps, u_p99 = load(sys.argv[1])
c_rps, c_p99 = load(sys.argv[2])
um, cm = statistics.median(u_rps), statistics.median(c_rps)
ratio = um / cm if cm else 0
print(f"GET /api/jobs/{{id}} over {sys.argv[3]} jobs, not cached: median {um:.0f} req/s (rounds {', '.join(f'{x:.0f}' for x in u_rps)}), "
      f"p99 median {statistics.median(u_p99):.2f} ms (worst {max(u_p99):.2f})")
print(f"    reference, one cached job: median {cm:.0f} req/s (rounds {', '.join(f'{x:.0f}' for x in c_rps)}), "
      f"p99 median {statistics.median(c_p99):.2f} ms -> ratio {ratio:.2f} (uncached / cached)")
path = os.environ.get("ALPHALAB_BENCH_JSONL")
if path:
    with open(path, "a") as f:
        f.write(json.dumps({"bench": "bench_get_job", "figure": "GET /api/jobs/{id}, random ids, not cached, wrk -t2 -c50",
                            "unit": "req/s", "median": um, "best": max(u_rps), "reps": len(u_rps),
                            "p99_ms_median": statistics.median(u_p99), "reference": "one cached job",
                            "reference_median": cm, "ratio": ratio}) + "\n")
PY
echo "server RSS after the runs: $(grep VmRSS /proc/$PID/status | tr -s ' ')"
