#!/usr/bin/env bash
# Runs a command (`make test`: ctest) with the throwaway services the suites need: every
# scripts/services/NAME.sh is called as `NAME.sh start DIR` (DIR: a fresh temp folder for all
# of that service's state), prints `export VAR=value` lines on stdout that are applied here
# (e.g. ALPHALAB_TEST_PG_URL, ALPHALAB_TEST_SLURM_CONF), and is stopped with `NAME.sh stop DIR`
# when the command ends, however it ends. A service that fails to start fails the run: in CI
# (CI=true) the suites that need a service fail without it instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d /tmp/alphalab-services.XXXXXX)
chmod 0755 "$root"
started=()
stop_all() {
  local i
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    bash "scripts/services/${started[i]}.sh" stop "$root/${started[i]}" >&2 || true
  done
  rm -rf "$root"
}
trap stop_all EXIT
shopt -s nullglob
for script in scripts/services/*.sh; do
  name=$(basename "$script" .sh)
  mkdir -p "$root/$name"
  chmod 0755 "$root/$name"
  started+=("$name")
  exports=$(bash "$script" start "$root/$name")
  while IFS= read -r line; do
    [[ "$line" =~ ^export\ [A-Z_][A-Z0-9_]*= ]] || continue
    eval "$line"
  done <<<"$exports"
done
"$@"
