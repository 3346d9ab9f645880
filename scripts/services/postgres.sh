#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for the test suites (scripts/with-test-services.sh).
#   postgres.sh start DIR  -> initdb into DIR/data, start on the first free port of
#                             55432..55439 (unix socket in DIR, TCP on 127.0.0.1 only, trust
#                             auth), create database alphalab_test, print
#                             `export ALPHALAB_TEST_PG_URL=postgresql://postgres@127.0.0.1:PORT/alphalab_test`
#   postgres.sh stop DIR   -> fast shutdown.
# Works as root without systemd (the server runs as the `postgres` user, which owns DIR) and
# as an ordinary user (the server runs as that user). Everything but the export goes to stderr.
set -euo pipefail
cmd=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[[ -x "$bin/pg_ctl" ]] || { echo "postgres.sh: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {  # runs a command as the user that owns the cluster
  if [[ $(id -u) -eq 0 ]]; then
    su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    for port in 55432 55433 55434 55435 55436 55437 55438 55439; do
      port_free "$port" || continue
      [[ -e "/tmp/.s.PGSQL.$port.lock" ]] && continue
      # fsync off: a test database that dies with the run needs no durability.
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
          -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
          -w -t 30 start >&2; then
        as_owner "$bin/createdb" -h "$dir" -p "$port" -U postgres alphalab_test >&2
        echo "$port" >"$dir/port"
        echo "export ALPHALAB_TEST_PG_URL=postgresql://postgres@127.0.0.1:$port/alphalab_test"
        exit 0
      fi
      cat "$dir/server.log" >&2 || true
    done
    echo "postgres.sh: no free port in 55432..55439" >&2
    exit 1
    ;;
  stop)
    [[ -d "$dir/data" ]] || exit 0
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    ;;
  *)
    echo "usage: postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
