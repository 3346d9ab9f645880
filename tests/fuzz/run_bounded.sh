#!/usr/bin/env bash
# A bounded libFuzzer run for ctest: run_bounded.sh FUZZER CORPUS_DIR WORK_DIR RUNS
# New inputs go to WORK_DIR (recreated), never into the committed corpus. Fails on a crash,
# a leak, a timeout, or fewer executions than asked.
set -euo pipefail
fuzzer=$1 corpus=$2 work=$3 runs=$4
rm -rf "$work" && mkdir -p "$work/new"
log="$work/fuzz.log"
if ! "$fuzzer" -runs="$runs" -seed=1 -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
     -artifact_prefix="$work/" "$work/new" "$corpus" >"$log" 2>&1; then
  tail -n 60 "$log"
  echo "fuzzer $fuzzer failed (artifacts in $work)" >&2
  exit 1
fi
done_line=$(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1 || true)
echo "$done_line"
execs=$(sed -E 's/^Done ([0-9]+) runs.*/\1/' <<<"$done_line")
if [[ -z "$execs" || "$execs" -lt "$runs" ]]; then
  tail -n 20 "$log"
  echo "fuzzer $fuzzer ran ${execs:-0} inputs, fewer than $runs" >&2
  exit 1
fi
