#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on loopback, for the PostgresTokenStore tests.
#
#   Scripts/postgres-test-cluster.sh start <folder> <port>   initdb into <folder>/data and start it
#   Scripts/postgres-test-cluster.sh stop <folder>           stop it (immediate) and delete <folder>
#   Scripts/postgres-test-cluster.sh bin                     print the folder of initdb/pg_ctl, or fail
#
# Trust authentication for the `postgres` user on 127.0.0.1 only; the socket lives in <folder>.
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
set -euo pipefail

bin_dir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$found" ] && [ -x "$found/initdb" ] || found=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
    [ -x "$found/initdb" ] || { echo "no PostgreSQL server binaries (initdb) found" >&2; return 1; }
    echo "$found"
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
bin)
    bin_dir
    ;;
start)
    folder=$2 port=$3
    bin=$(bin_dir)
    mkdir -p "$folder"
    [ "$(id -u)" = 0 ] && chown postgres "$folder"
    as_owner "$bin/initdb" -D "$folder/data" -A trust -U postgres --no-sync >/dev/null
    as_owner "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $folder -c fsync=off -c max_connections=100" start >/dev/null
    ;;
stop)
    folder=$2
    bin=$(bin_dir)
    [ -d "$folder/data" ] && as_owner "$bin/pg_ctl" -D "$folder/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$folder"
    ;;
*)
    echo "usage: $0 start <folder> <port> | stop <folder> | bin" >&2
    exit 64
    ;;
esac
