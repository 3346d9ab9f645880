#!/usr/bin/env bash
# Server instructions per GET /api/jobs/{id} (valgrind callgrind, user space, every server
# thread): a figure that does not depend on the machine's load. The server runs under callgrind
# on WORKSPACE (one `bench_seed_jobs` made, e.g. with --ids-out IDS); after 200 warm-up requests
# N requests go over one keep-alive connection, with instrumentation on only around them.
#   bench/http/get_job_instructions.sh BIN WORKSPACE IDS|cached PORT [N]
# IDS: a file of job ids, one per line, requested at random (not cached after a start);
# "cached": one dry-run train job the server runs itself (its read cache).
# KEEP=FILE in the environment keeps the profile for callgrind_annotate.
# Prints "<instructions> total, <per request> per request". Run it for two binaries on the same
# workspace to compare them (docs/benchmarks.md, issue 14 server side part 2).
set -euo pipefail
BIN=$1; WS=$2; IDS=$3; PORT=$4; N=${5:-2000}
OUT=$(mktemp /tmp/alphalab_cg.XXXXXX)
# "cached" submits a dry-run training job: its config and dataset must exist (bench_workspace).
if [ "$IDS" = cached ]; then . "$(dirname "$0")/bench_workspace.sh"; bench_workspace "$WS"; fi
OMP_WAIT_POLICY=passive valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT" \
  "$BIN" serve --workspace "$WS" --port "$PORT" > "$OUT.server" 2>&1 &
VPID=$!
trap 'kill $VPID 2>/dev/null; wait $VPID 2>/dev/null; rm -f "$OUT" "$OUT".*' EXIT
# Under valgrind the start takes long on a busy machine: up to 5 minutes.
for _ in $(seq 1500); do grep -q "http://" "$OUT.server" && break; sleep 0.2; done
# ... and answers (any HTTP status) before the first request.
for _ in $(seq 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$PORT/api/health")" != 000 ] && break
  sleep 0.2
done
if [ "$IDS" = cached ]; then
  curl -s -XPOST "127.0.0.1:$PORT/api/jobs/train" -H 'Content-Type: application/json' \
    -d '{"config_path":"configs/base.yaml","dry_run":true}' | grep -o 'job_[0-9_]*__[0-9a-f]*' | head -1 > "$OUT.ids"
  sleep 3
  IDS="$OUT.ids"
fi
drive() {
  python3 - "$PORT" "$IDS" "$1" <<'PY'
import http.client, random, sys
port, ids_file, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ids = [l.strip() for l in open(ids_file) if l.strip()]
random.seed(1)
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("GET", "/api/jobs/" + ids[random.randrange(len(ids))])
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
PY
}
drive 200
callgrind_control -i on "$VPID" > /dev/null 2>&1
drive "$N"
callgrind_control -i off "$VPID" > /dev/null 2>&1
callgrind_control -d "$VPID" > /dev/null 2>&1
sleep 1
TOTAL=$(callgrind_annotate "$OUT.1" | grep 'PROGRAM TOTALS' | tr -d ',' | awk '{print $1}')
echo "$TOTAL total, $((TOTAL / N)) per request ($N requests, $BIN)"
# KEEP=FILE keeps the callgrind profile (for callgrind_annotate).
if [ -n "${KEEP:-}" ]; then cp "$OUT.1" "$KEEP"; fi
