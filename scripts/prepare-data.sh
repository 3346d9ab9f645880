#!/usr/bin/env bash
# Prepares the sample datasets of a workspace (idempotent; a second run does nothing):
#   data/demo/SPX.csv      real S&P 500 daily OHLCV 2000-2020 from the npm package
#                          vega-datasets (data/sp500-2000.csv, BSD-3-Clause), copied as is
#                          (its header date,open,high,low,close,adjclose,volume is read directly)
#   data/synthetic/*.csv   a seeded synthetic universe: SYN0001..SYN0050 + SYNMKT (market index),
#                          SYNBOND and SYNGOLD (defensive assets), 15 years of business days
# Usage: scripts/prepare-data.sh WORKSPACE ALPHALAB_BIN
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 WORKSPACE ALPHALAB_BIN" >&2
  exit 2
fi
workspace=$1
alphalab=$2
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -d $workspace ]] || { echo "error: workspace $workspace does not exist" >&2; exit 2; }
[[ -x $alphalab ]] || { echo "error: $alphalab is not an executable (build alphalab first)" >&2; exit 2; }

# --- demo: S&P 500 from vega-datasets -------------------------------------------------
demo_src=$repo/ui/node_modules/vega-datasets/data/sp500-2000.csv
demo_dst=$workspace/data/demo/SPX.csv
if [[ ! -f $demo_src ]]; then
  # The UI's npm install provides it; without it, fetch just this package.
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if command -v npm >/dev/null 2>&1 && (cd "$tmp" && npm pack --silent vega-datasets >/dev/null 2>&1); then
    tar -xzf "$tmp"/vega-datasets-*.tgz -C "$tmp" package/data/sp500-2000.csv
    demo_src=$tmp/package/data/sp500-2000.csv
  else
    echo "error: $demo_src is missing; run 'npm install' in $repo/ui first" >&2
    exit 1
  fi
fi
header=$(head -n 1 "$demo_src" | tr -d '\r')
if [[ $header != "date,open,high,low,close,adjclose,volume" ]]; then
  echo "error: unexpected header in $demo_src: $header" >&2
  exit 1
fi
if [[ -f $demo_dst ]] && cmp -s "$demo_src" "$demo_dst"; then
  echo "demo: $demo_dst is up to date"
else
  mkdir -p "$(dirname "$demo_dst")"
  cp "$demo_src" "$demo_dst.tmp"
  mv "$demo_dst.tmp" "$demo_dst"
  echo "demo: wrote $demo_dst ($(awk 'END {print NR - 1}' "$demo_dst") bars)"
fi

# --- synthetic universe -------------------------------------------------------------------
synth_args=(--instruments 50 --years 15 --seed 42 --start 2005-01-03)
stamp=$workspace/data/synthetic/.synth-args
if [[ -f $stamp && $(cat "$stamp") == "${synth_args[*]}" && -f $workspace/data/synthetic/SYNMKT.csv ]]; then
  echo "synthetic: $workspace/data/synthetic is up to date"
else
  "$alphalab" data synth --workspace "$workspace" --out data/synthetic "${synth_args[@]}"
  echo "${synth_args[*]}" > "$stamp"
fi
