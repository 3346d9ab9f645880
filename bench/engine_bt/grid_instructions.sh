#!/bin/sh
# Instructions per 100-combination grid (user space, callgrind), for the engine and its
# hand-written peers: the same bench binary run with --reps 0 and --reps N, the difference
# divided by N (so loading the demo data and the setup are not counted). Independent of the
# machine's load, unlike the wall times.
#   bench/engine_bt/grid_instructions.sh BUILD_DIR [N] [variants...]
# variants: engine1 engine2 arrays1 arrays2 prefix1 rungrid1 (default: engine1 arrays1 rungrid1)
set -eu
build=${1:?build dir}
reps=${2:-5}
shift 2 2>/dev/null || shift $#
variants=${*:-engine1 arrays1 rungrid1}
bench="$build/bin/bench_engine_bt"
demo=${DEMO:-}  # the demo CSV (default: the one bench_engine_bt finds under ui/node_modules)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count() {  # count VARIANT REPS -> instructions of the whole process
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" ${demo:+--demo "$demo"} \
    --workdir "$work/ws" --grid-only "$1" --reps "$2" 2>&1 >/dev/null | sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
for v in $variants; do
  base=$(count "$v" 0)
  full=$(count "$v" "$reps")
  echo "$v: $(( (full - base) / reps )) instructions per grid ($reps grids, callgrind)"
done
