#!/usr/bin/env bash
# `make test-asan` / `make test-tsan`: runs the C++ suites of build-asan or build-tsan (ctest
# preset asan|tsan, extra arguments passed to ctest) with the test services, then fails when any
# sanitized process wrote a report. The presets point every sanitizer's log_path into
# build-<preset>/sanitizer-logs/, so a finding in a process the tests start (a server, the
# process supervisor, a CLI run), whose stderr no test reads, is seen too. SAN_SERVICES=0 runs
# ctest without the test services.
set -uo pipefail
cd "$(dirname "$0")/.."
preset=${1:?usage: run-sanitized-tests.sh asan|tsan [ctest args...]}
shift
logs="build-$preset/sanitizer-logs"
mkdir -p "$logs"
rm -f "$logs"/*
start=$(date +%s)
if [[ "${SAN_SERVICES:-1}" == 0 ]]; then  # suites that need no PostgreSQL/Slurm (SanCore)
  ctest --preset "$preset" "$@"
else
  scripts/with-test-services.sh ctest --preset "$preset" "$@"
fi
rc=$?
echo "ctest --preset $preset: exit $rc after $(($(date +%s) - start)) s"
shopt -s nullglob
reports=("$logs"/*)
if ((${#reports[@]} > 0)); then
  echo "sanitizer reports (${#reports[@]}):"
  for f in "${reports[@]}"; do
    echo "==== $f"
    head -n 80 "$f"
  done
  rc=1
fi
exit "$rc"
