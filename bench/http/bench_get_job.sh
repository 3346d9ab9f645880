#!/usr/bin/env bash
# GET /api/jobs/{id} for jobs the server has not cached: 100,000 finished jobs are seeded into
# a fresh workspace's store, the server is started (its read cache is empty after a start),
# and wrk -t2 -c50 requests ids drawn at random from all of them (the path users hit after a
# restart or on older jobs: the store row turned into JSON). In the same run, the reference:
# one job this server ran itself, requested over and over (served from the read cache).
#   bench/http/bench_get_job.sh [BUILD_DIR] [JOBS] [SECONDS]   (defaults: build 100000 5)
set -euo pipefail
BUILD=${1:-build}
JOBS=${2:-100000}
DURATION=${3:-5}
BIN=$BUILD/bin
command -v wrk >/dev/null || { echo "wrk is not installed"; exit 0; }
WS=$(mktemp -d /tmp/alphalab_bench_get_job.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; [ -n "$PID" ] && wait $PID 2>/dev/null; rm -rf "$WS"' EXIT
mkdir -p "$WS/configs"
echo "dataset: demo" > "$WS/configs/base.yaml"
"$BIN/bench_seed_jobs" --workspace "$WS" --jobs "$JOBS" --ids-out "$WS/ids.txt" --threads 8
"$BIN/alphalab" serve --workspace "$WS" --port 0 > "$WS/server.out" 2> "$WS/server.err" &
PID=$!
for _ in $(seq 200); do grep -q "http://" "$WS/server.out" 2>/dev/null && break; sleep 0.05; done
URL=$(grep -o "http://127.0.0.1:[0-9]*" "$WS/server.out")
cat > "$WS/random.lua" <<'LUA'
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
math.randomseed(math.floor(os.clock() * 1e6) + os.time())
request = function() return wrk.format("GET", "/api/jobs/" .. ids[math.random(#ids)]) end
LUA
FIRST=$(head -1 "$WS/ids.txt")
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/jobs/$FIRST")
[ "$code" = 200 ] || { echo "GET /api/jobs/$FIRST (seeded) returned $code"; exit 1; }
# The reference: a job this server ran (a dry-run train job), held in its read cache.
ONE=$(curl -s -XPOST "$URL/api/jobs/train" -H 'Content-Type: application/json' \
  -d '{"config_path":"configs/base.yaml","dry_run":true}' | grep -o 'job_[0-9_]*__[0-9a-f]*' | head -1)
[ -n "$ONE" ] || { echo "could not submit the reference job"; exit 1; }
echo "server $URL, $JOBS seeded jobs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in 1 2; do
  echo "== round $round: wrk -t2 -c50 -d${DURATION}s --latency, random ids over $JOBS jobs (mostly uncached)"
  IDS_FILE="$WS/ids.txt" wrk -t2 -c50 -d"${DURATION}s" --latency -s "$WS/random.lua" "$URL" |
    grep -E "Requests/sec|Latency  |99%|50%|Non-2xx"
  echo "== round $round: reference, one cached job: wrk -t2 -c50 -d${DURATION}s --latency $URL/api/jobs/$ONE"
  wrk -t2 -c50 -d"${DURATION}s" --latency "$URL/api/jobs/$ONE" | grep -E "Requests/sec|Latency  |99%|50%|Non-2xx"
done
echo "server RSS after the runs: $(grep VmRSS /proc/$PID/status | tr -s ' ')"
