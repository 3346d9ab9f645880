#!/usr/bin/env bash
# ctest lint_test_labels: every label given to alphalab_test (cmake/AlphalabHelpers.cmake)
# reaches its tests, the second one too (`LABELS slurm slow`: `ctest -L slow` once selected
# nothing), and the folder label stays (the TSan selection, Makefile TSAN_LABELS, uses it).
set -euo pipefail
build=${1:?usage: check-test-labels.sh BUILD_DIR}
has() {  # has LABEL_REGEX TEST_PREFIX: `ctest -N -L LABEL_REGEX` lists a test named TEST_PREFIX*
  local listed
  listed=$(ctest --test-dir "$build" -N -L "$1")
  if ! grep -qF ": $2" <<<"$listed"; then
    echo "ctest -L '$1' does not list $2* (a label was lost)" >&2
    return 1
  fi
}
has '^slow$' LoadSpeedTest.            # engine_data_slow_test: LABELS slow
has '^slow$' SlurmExecutorTest.        # exec_slurm_executor_test: LABELS slurm slow (the second)
has '^slurm$' SlurmExecutorTest.       # ... and the first
has '^exec$' SlurmExecutorTest.        # the folder label
has '^cli$' FastPathTest.              # optimize_fast_path_test: LABELS cli, folder optimize
has '^optimize$' FastPathTest.
echo "test labels: ok"
