#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the test suite.
#
#   scripts/pg_test_server.sh run COMMAND [ARGS...]   start a server, run COMMAND with ATLAS_TEST_DB set, stop it
#   scripts/pg_test_server.sh start                   start a server; print its URL (line 1) and its folder (line 2)
#   scripts/pg_test_server.sh stop FOLDER             stop the server started in FOLDER and delete it
#
# With ATLAS_TEST_DB already set (a server you run yourself), `run` starts nothing and uses it.
# The cluster lives in a fresh temporary folder, listens on a free port of 127.0.0.1 only, trusts
# local connections (it holds nothing but test data) and trades durability for speed (fsync off).
# PostgreSQL refuses to run as root, so under root (as in CI) the cluster belongs to the `postgres`
# user that Debian's postgresql package creates. Its collation is ICU English, not C, so that a
# query whose order depends on the server's locale shows up as a failing test.
set -euo pipefail

pg_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
    echo "$dir"
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  else
    echo "pg_test_server: PostgreSQL server binaries not found; install Debian's postgresql package (make test does)" >&2
    exit 1
  fi
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local bin dir port
  bin=$(pg_bindir)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/atlas-pg.XXXXXX")
  chmod 755 "$dir"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "pg_test_server: running as root needs the 'postgres' user (Debian's postgresql package)" >&2; exit 1; }
    chown postgres: "$dir"
  fi
  if ! as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
        --locale-provider=icu --icu-locale=en --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
    # Older servers (before 15) have no ICU default collation.
    rm -rf "$dir/data"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  port=$(free_port)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB" \
    >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "$bin" >"$dir/bindir"
  echo "postgresql://postgres@127.0.0.1:$port/postgres"
  echo "$dir"
}

stop() {
  local dir=$1
  [ -d "$dir/data" ] || return 0
  as_owner "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start)
    start
    ;;
  stop)
    stop "${2:?usage: $0 stop FOLDER}"
    ;;
  run)
    shift
    [ $# -gt 0 ] || { echo "usage: $0 run COMMAND [ARGS...]" >&2; exit 2; }
    if [ -n "${ATLAS_TEST_DB:-}" ]; then
      exec "$@"
    fi
    out=$(start)
    url=$(echo "$out" | sed -n 1p)
    dir=$(echo "$out" | sed -n 2p)
    trap 'stop "$dir"' EXIT
    echo "PostgreSQL test server: $url"
    ATLAS_TEST_DB="$url" "$@"
    ;;
  *)
    echo "usage: $0 run COMMAND [ARGS...] | start | stop FOLDER" >&2
    exit 2
    ;;
esac
