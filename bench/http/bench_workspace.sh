# Sourced by the HTTP bench scripts: bench_workspace DIR writes the workspace their server runs
# on: the example training config and a few bars of its dataset (demo, SPX). A job's config is
# checked at submit (docs/api.md, "Engine configs are checked at submit"), so the dry-run
# training job the scripts read back must name data that exists.
bench_workspace() {
  local ws=$1 here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  mkdir -p "$ws/configs" "$ws/data/demo"
  cp "$here/../../examples/workspace/configs/base.yaml" "$ws/configs/base.yaml"
  printf 'date,open,high,low,close,volume\n2020-01-02,10,11,9,10.5,1000\n2020-01-03,10.5,11,10,10.8,1200\n' \
    > "$ws/data/demo/SPX.csv"
}
