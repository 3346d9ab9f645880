#!/usr/bin/env bash
# GET /api/jobs/{id} and the 1 GiB log tail over HTTP with wrk against a real server.
#   bench/http/bench_http.sh [BUILD_DIR] [--no-access-log]   (default: build; access log on,
#   as users run the server, written to the workspace's server.err)
set -euo pipefail
BUILD=${1:-build}
ACCESS_LOG_FLAG=${2:-}
BIN=$BUILD/bin
WS=$(mktemp -d /tmp/alphalab_bench_http.XXXXXX)
. "$(dirname "$0")/bench_workspace.sh"
bench_workspace "$WS"
"$BIN/alphalab" serve --workspace "$WS" --port 0 $ACCESS_LOG_FLAG > "$WS/server.out" 2> "$WS/server.err" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WS"' EXIT
for _ in $(seq 100); do grep -q "http://" "$WS/server.out" 2>/dev/null && break; sleep 0.05; done
URL=$(grep -o "http://127.0.0.1:[0-9]*" "$WS/server.out")
ID=$(curl -s -XPOST "$URL/api/jobs/train" -H 'Content-Type: application/json' -d '{"config_path":"configs/base.yaml","dry_run":true}' | grep -o 'job_[0-9_]*__[0-9a-f]*' | head -1)
echo "server $URL, job $ID, access log ${ACCESS_LOG_FLAG:-on}"
echo "== wrk -t2 -c50 -d5s --latency $URL/api/jobs/$ID"
wrk -t2 -c50 -d5s --latency "$URL/api/jobs/$ID" | grep -E "Requests/sec|Latency|99%|50%|Transfer"
# 1 GiB sparse log behind the same job, then the default tail over HTTP.
LOG="$WS/reports/jobs/runtime/$ID.log"
truncate -s 1G "$LOG"; printf 'last line\n' >> "$LOG"
echo "== wrk -t2 -c50 -d5s --latency $URL/api/jobs/$ID/log?offset=0&tail=20000 (1 GiB log)"
wrk -t2 -c50 -d5s --latency "$URL/api/jobs/$ID/log?offset=0&tail=20000" | grep -E "Requests/sec|Latency|99%|50%"
echo "== single request time (curl), 1 GiB log tail"
curl -s -o /dev/null -w "time_total %{time_total}s size %{size_download} bytes\n" "$URL/api/jobs/$ID/log?offset=0&tail=20000"
