#!/usr/bin/env bash
# Proves scripts/bench-compare.py judges what it should: ratios within the tolerance are "same",
# outside it "better"/"worse" (and --strict then exits 1), figures without a reference are
# "absolute" and not judged, a documented figure the run lacks is "missing", bad input exits 2.
#   scripts/test-bench-compare.sh REPO_ROOT
set -euo pipefail
root="${1:?repo root}"
cmp="$root/scripts/bench-compare.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test-bench-compare: $*" >&2; exit 1; }
fig() {  # fig BENCH FIGURE MEDIAN [REF_MEDIAN]: one figure as bench_report.hpp writes it
  if [ -n "${4:-}" ]; then
    python3 -c "import json,sys; m,r=float(sys.argv[3]),float(sys.argv[4]); print(json.dumps({'bench':sys.argv[1],'figure':sys.argv[2],'unit':'ms','median':m,'p95':m,'best':m,'reps':5,'reference':'ref','reference_median':r,'ratio':r/m}))" "$@"
  else
    python3 -c "import json,sys; m=float(sys.argv[3]); print(json.dumps({'bench':sys.argv[1],'figure':sys.argv[2],'unit':'ms','median':m,'p95':m,'best':m,'reps':5}))" "$@"
  fi
}
doc() {  # doc OUT FIGURE_LINES...: a bench-results.json around the figures
  local out=$1; shift
  printf '%s\n' "$@" | python3 -c "import json,sys; print(json.dumps({'mode':'quick','started':'t','cores':2,'load_average_before':'0.1','figures':[json.loads(l) for l in sys.stdin if l.strip()]}))" > "$out"
}
# Baseline: a 2.0 ratio, a 1.0 ratio, an absolute figure, a figure the new run will lack.
doc "$tmp/base.json" "$(fig e grid 1 2)" "$(fig e spawn 2 2)" "$(fig j rss 20)" "$(fig j gone 1 1)"
# Same machine twice as fast: every median halves, the ratios stay.
doc "$tmp/same.json" "$(fig e grid 0.5 1)" "$(fig e spawn 1 1)" "$(fig j rss 10)" "$(fig j gone 0.5 0.5)"
out=$("$cmp" "$tmp/same.json" "$tmp/base.json" --strict) || fail "equal ratios must pass --strict: $out"
grep -q "e / grid .* same" <<<"$out" || fail "grid must be 'same': $out"
grep -q "j / rss .* absolute" <<<"$out" || fail "rss has no reference, must be 'absolute': $out"
grep -q "3 of 3 ratios within 15%" <<<"$out" || fail "summary line wrong: $out"
# grid's ratio 2.0 -> 1.6 (-20%), spawn's 1.0 -> 1.1 (+10%, within), 'gone' missing.
doc "$tmp/worse.json" "$(fig e grid 1.25 2)" "$(fig e spawn 1 1.1)" "$(fig j rss 20)"
set +e
out=$("$cmp" "$tmp/worse.json" "$tmp/base.json" --strict); rc=$?
set -e
[ "$rc" = 1 ] || fail "a ratio 20% off must fail --strict (exit $rc): $out"
grep -q "e / grid .* -20% .*worse" <<<"$out" || fail "grid must be 'worse' by 20%: $out"
grep -q "e / spawn .* same" <<<"$out" || fail "spawn within 15% must be 'same': $out"
grep -q "j / gone .* missing" <<<"$out" || fail "'gone' must be 'missing': $out"
"$cmp" "$tmp/worse.json" "$tmp/base.json" >/dev/null || fail "without --strict the exit status is 0"
# (output captured first: `cmd | grep -q` under pipefail fails when grep exits before cmd ends)
out=$("$cmp" "$tmp/worse.json" "$tmp/base.json" --tolerance 0.25)
grep -q "e / grid .* same" <<<"$out" || fail "--tolerance 0.25 must take a 20% change: $out"
md=$("$cmp" "$tmp/same.json" "$tmp/base.json" --markdown)
grep -q "^| e | grid | 0.5 ms | 0.5 ms | ref: 1 ms | 2 |$" <<<"$md" || fail "markdown row wrong: $md"
set +e
"$cmp" "$tmp/nope.json" "$tmp/base.json" 2>/dev/null; rc=$?
set -e
[ "$rc" = 2 ] || fail "an unreadable file must exit 2 (got $rc)"
echo "bench-compare: ok"
