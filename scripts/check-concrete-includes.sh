#!/usr/bin/env bash
# Lint: only the composition root names concrete store / executor classes. Fails (exit 1) when
# a file under src/ outside src/app (the composition root) and outside the implementations
# themselves (src/store/sqlite, src/store/postgres, src/exec/local, src/exec/slurm, and src/exec/shim,
# the local executor's supervisor) includes store/sqlite/*, store/postgres/*, exec/local/* or exec/slurm/*.
# tests/ and bench/ may include them.
#   scripts/check-concrete-includes.sh [REPO_ROOT]
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
if [[ ! -d "$root/src" ]]; then
  echo "check-concrete-includes: no src/ under $root" >&2
  exit 2
fi
pattern='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][^">]*(store/sqlite/|store/postgres/|exec/local/|exec/slurm/)'
violations=$(cd "$root" && grep -rnE "$pattern" src \
               --include='*.cpp' --include='*.hpp' --include='*.h' --include='*.cc' --include='*.ipp' \
             | grep -vE '^src/(app|store/sqlite|store/postgres|exec/local|exec/slurm|exec/shim)/' || true)
if [[ -n "$violations" ]]; then
  echo "check-concrete-includes: only src/app (the composition root) may include store/sqlite/*, store/postgres/*, exec/local/* or exec/slurm/*:" >&2
  echo "$violations" >&2
  exit 1
fi
echo "check-concrete-includes: OK"
