#!/usr/bin/env bash
# Proves scripts/check-concrete-includes.sh can fail: runs it on temporary copies of src/ with a
# planted violation (it must exit 1 and name the file) and with includes where they are allowed
# (it must pass).   scripts/test-check-concrete-includes.sh REPO_ROOT
set -euo pipefail
root="${1:?repo root}"
lint="$root/scripts/check-concrete-includes.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test-check-concrete-includes: $*" >&2; exit 1; }

copy() { rm -rf "$tmp/repo"; mkdir -p "$tmp/repo"; cp -r "$root/src" "$tmp/repo/src"; }

copy
"$lint" "$tmp/repo" >/dev/null || fail "the clean tree must pass"

for planted in 'src/http/planted.cpp:#include "store/sqlite/sqlite_db.hpp"' \
               'src/registry/planted.hpp:  #  include <exec/local/local_executor.hpp>' \
               'src/cli/planted.cpp:#include "../store/sqlite/sqlite_job_store.hpp"' \
               'src/jobs/planted.cpp:#include "store/postgres/pg_job_store.hpp"' \
               'src/jobs/planted.cpp:#include "exec/slurm/slurm_executor.hpp"'; do
  copy
  file="${planted%%:*}"
  printf '%s\n' "${planted#*:}" > "$tmp/repo/$file"
  set +e
  out=$("$lint" "$tmp/repo" 2>&1)
  rc=$?
  set -e
  [[ $rc -eq 1 ]] || fail "a planted include in $file must fail the lint (exit $rc)"
  grep -q "$file" <<<"$out" || fail "the lint output must name $file: $out"
done

copy
printf '#include "store/sqlite/sqlite_db.hpp"\n#include "store/postgres/pg_db.hpp"\n' > "$tmp/repo/src/app/planted.cpp"
printf '#include "exec/local/supervisor_protocol.hpp"\n' > "$tmp/repo/src/exec/shim/planted.cpp"
printf '#include "exec/slurm/slurm_parse.hpp"\n' > "$tmp/repo/src/app/planted2.cpp"
printf '// #include "store/sqlite/sqlite_db.hpp" is not an include\n' > "$tmp/repo/src/http/planted.cpp"
"$lint" "$tmp/repo" >/dev/null || fail "includes in src/app and src/exec/shim and comments must pass"
echo "test-check-concrete-includes: OK"
