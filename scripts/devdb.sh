#!/usr/bin/env bash
# Dev/test database: FerretDB 1.24 on its PostgreSQL backend, over a PostgreSQL cluster of its own.
#
#   scripts/devdb.sh start  [--port P] [--data DIR] [--fresh] [--fast]
#   scripts/devdb.sh stop   [--port P] [--data DIR]
#   scripts/devdb.sh status [--port P] [--data DIR]
#   scripts/devdb.sh psql   [--data DIR] [-- psql arguments]   (superuser shell into the cluster)
#   scripts/devdb.sh uri    [--port P]
#   scripts/devdb.sh install                                    (PostgreSQL + FerretDB, nothing started)
#
# Defaults: port 27117 (DEVDB_PORT, or FERRETDB_PORT), data in .data/devdb (gitignored). Everything of
# an instance lives in its data folder: the cluster (pg/), its port (pg.port), passwords (0600),
# ferretdb.pid and ferretdb.log. `--fresh` wipes the data folder first. `--fast` (or DEVDB_FAST=1)
# turns durability off (fsync, synchronous_commit, full_page_writes) for throwaway test databases.
#
# With MONGODB_URI set, nothing is started or stopped: that database is used.
# With ODDXER_DB=mongod (and `mongod` on PATH), a local mongod is run instead.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

cmd=${1:-}
[ -n "$cmd" ] || { usage; exit 2; }
case $cmd in -h|--help|help) usage; exit 0 ;; esac
shift
port=${DEVDB_PORT:-${FERRETDB_PORT:-27117}}
data=""
fresh=0
fast=${DEVDB_FAST:-0}
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --port) port=$2; shift 2 ;;
    --port=*) port=${1#*=}; shift ;;
    --data) data=$2; shift 2 ;;
    --data=*) data=${1#*=}; shift ;;
    --fresh) fresh=1; shift ;;
    --fast) fast=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) err "unknown argument: $1"; usage; exit 2 ;;
  esac
done
[[ $port =~ ^[0-9]+$ ]] || die "--port must be a number"
data=${data:-$ODDXER_DATA/devdb}
mkdir -p "$(dirname "$data")"
data="$(cd "$(dirname "$data")" && pwd)/$(basename "$data")"
uri="mongodb://127.0.0.1:$port"

engine=ferretdb
if [ "${ODDXER_DB:-}" = mongod ]; then
  have mongod || die "ODDXER_DB=mongod but mongod is not on PATH"
  engine=mongod
fi
pidfile="$data/$engine.pid"
logfile="$data/$engine.log"

# The PostgreSQL database FerretDB keeps its data in, and the role it connects as.
PG_DB=ferretdb
PG_ROLE=ferret

external_uri() {
  if [ -n "${MONGODB_URI:-}" ]; then
    info "MONGODB_URI is set ($MONGODB_URI): using it, nothing to $cmd"
    return 0
  fi
  return 1
}

# ---------------------------------------------------------------------------------------------
# The PostgreSQL cluster

# The cluster folder. Normally <data>/pg. When we are root and the postgres user cannot reach the
# data folder (e.g. a clone under /root, mode 700), the cluster lives under /var/tmp and <data>/pg is
# a symlink to it; PostgreSQL is always given the real path.
pg_dir() {
  if [ -L "$data/pg" ]; then readlink -f "$data/pg"; else echo "$data/pg"; fi
}

# Runs a PostgreSQL server program as the cluster owner: the postgres user when we are root
# (initdb and postgres refuse to run as root), ourselves otherwise.
pg_run() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_port() { if [ -f "$data/pg.port" ]; then tr -dc '0-9' <"$data/pg.port"; fi; }

pg_running() {
  local dir
  dir=$(pg_dir)
  [ -f "$dir/PG_VERSION" ] || return 1
  pg_run "$PG_BIN/pg_ctl" status -D "$dir" >/dev/null 2>&1
}

# psql as the cluster superuser over TCP (no peer authentication needed, works for any OS user).
pg_psql() {
  PGPASSWORD=$(cat "$data/pg.pass") PGCONNECT_TIMEOUT=5 PGOPTIONS='-c client_min_messages=warning' "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$(pg_port)" -U postgres "$@"
}

# A port for the cluster: the recorded one if free, else FerretDB's port + 10000 (or the next free).
choose_pg_port() {
  local p
  p=$(pg_port)
  if [ -n "$p" ] && ! tcp_open 127.0.0.1 "$p"; then echo "$p"; return 0; fi
  p=$((port + 10000))
  if [ "$p" -gt 65000 ]; then p=$((port - 10000)); fi
  free_port "$p" || die "no free port for PostgreSQL near $p"
}

pg_init() {
  local dir="$data/pg"
  mkdir -p "$data"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$data"; then
    # The postgres user cannot traverse to the data folder: keep the cluster where it can.
    local alt
    alt="/var/tmp/oddxer-devdb/$(printf '%s' "$data" | md5sum | cut -c1-16)"
    rm -rf "$alt"
    mkdir -p "$alt"
    chmod 755 /var/tmp/oddxer-devdb
    ln -sfn "$alt" "$dir"
    info "postgres cannot reach $data: cluster kept in $alt"
    dir=$alt
  fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  (umask 077 && rand_hex 16 >"$data/pg.pass" && rand_hex 16 >"$data/ferret.pass")
  # initdb (running as postgres) reads the superuser password from a file it can open: beside the
  # cluster folder, which postgres can reach.
  local pwfile
  pwfile="$(dirname "$dir")/.initdb-pw.$$"
  cp "$data/pg.pass" "$pwfile"
  if [ "$(id -u)" = 0 ]; then chown postgres "$pwfile"; fi
  # UTF8 with the C locale: what FerretDB wants, and byte-order comparisons like MongoDB's.
  if ! pg_run "$PG_BIN/initdb" -D "$dir" -U postgres -A scram-sha-256 --pwfile="$pwfile" \
    -E UTF8 --no-locale --no-instructions >"$data/initdb.log" 2>&1; then
    rm -f "$pwfile"
    tail -n 20 "$data/initdb.log" >&2
    die "initdb failed (log: $data/initdb.log)"
  fi
  rm -f "$pwfile"
  echo "include_if_exists = 'oddxer.conf'" >>"$dir/postgresql.conf"
}

# Settings rewritten at every start, so that --fast can be switched on or off.
pg_write_conf() {
  local dir sock f
  dir=$(pg_dir)
  # The unix socket sits in the cluster folder (nothing in /var/run/postgresql); paths over the
  # 107-byte socket limit get no socket, TCP on 127.0.0.1 is what FerretDB and psql use anyway.
  sock=$dir
  if [ $((${#dir} + 20)) -gt 100 ]; then sock=""; fi
  f="$dir/oddxer.conf"
  {
    echo "# Written by scripts/devdb.sh at every start; edits are lost."
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $(pg_port)"
    echo "unix_socket_directories = '$sock'"
    # FerretDB's pool takes up to 50 connections; leave room for psql.
    echo "max_connections = 100"
    echo "shared_buffers = '256MB'"
    echo "log_min_messages = warning"
    echo "log_min_error_statement = panic"
    # Keep statistics current while collections grow quickly (tests and benches load in bulk).
    echo "autovacuum_naptime = 5s"
    echo "autovacuum_analyze_scale_factor = 0.02"
    if [ "$fast" = 1 ]; then
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } >"$f"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$f"; fi
}

pg_start() {
  local dir
  dir=$(pg_dir)
  if pg_running; then
    # fsync, synchronous_commit and full_page_writes take effect on reload.
    pg_write_conf
    pg_run "$PG_BIN/pg_ctl" reload -D "$dir" -s >/dev/null
    return 0
  fi
  choose_pg_port >"$data/pg.port.tmp"
  mv -f "$data/pg.port.tmp" "$data/pg.port"
  pg_write_conf
  if ! pg_run "$PG_BIN/pg_ctl" start -D "$dir" -l "$dir/server.log" -w -t 60 -s >/dev/null 2>&1; then
    tail -n 20 "$dir/server.log" >&2 || true
    die "PostgreSQL did not start (log: $dir/server.log)"
  fi
}

pg_stop() {
  pg_running || return 0
  pg_run "$PG_BIN/pg_ctl" stop -D "$(pg_dir)" -m fast -w -t 60 -s >/dev/null
}

# Role, database, settings and the index trigger; idempotent, run at every start (older data
# folders get the current trigger too).
pg_bootstrap() {
  local pass
  pass=$(cat "$data/ferret.pass")
  pg_psql -d postgres -v role="$PG_ROLE" -v pass="$pass" -v db="$PG_DB" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" PASSWORD :'pass';
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L LOCALE %L TEMPLATE template0', :'db', :'role', 'UTF8', 'C')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
-- FerretDB prepares its queries (pgx); after five runs PostgreSQL may switch a prepared statement to
-- a generic plan, where `_jsonb -> $1` is no longer the indexed expression `_jsonb -> 'f'`.
ALTER DATABASE :"db" SET plan_cache_mode = force_custom_plan;
-- Right after a bulk load the table statistics still describe a small table, and the planner
-- then prefers a sequential scan to the GIN index (seen in CI: 28 ms instead of 0.6 ms at 1M
-- documents until autovacuum analyzed the table). Index scans whenever an index applies; a query
-- that no index serves still scans.
ALTER DATABASE :"db" SET enable_seqscan = off;
SQL
  pg_psql -d "$PG_DB" -f "$ODDXER_ROOT/scripts/devdb-gin.sql" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# FerretDB (or mongod)

# The process in the pid file, if it is alive and really ours (a ferretdb/mongod process).
our_pid() {
  local pid
  pid=$(pidfile_pid "$pidfile")
  [ -n "$pid" ] || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq '(ferretdb|mongod)'; then echo "$pid"; fi
}

ready() {
  if ! tcp_open 127.0.0.1 "$port"; then return 1; fi
  local rc=0
  mongo_ping 127.0.0.1 "$port" || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 2 ]
}

stop_all() {
  local pid
  pid=$(our_pid)
  if [ -n "$pid" ]; then stop_pid "$pid" 15; fi
  rm -f "$pidfile"
  if [ "$engine" = ferretdb ]; then pg_stop; fi
}

wipe() {
  if [ -L "$data/pg" ]; then rm -rf "$(readlink -f "$data/pg")"; fi
  rm -rf "$data"
}

do_start() {
  external_uri && return 0
  local pid
  pid=$(our_pid)
  if [ -n "$pid" ] && [ "$fresh" = 0 ] && ready && { [ "$engine" = mongod ] || pg_running; }; then
    ok "$engine already running on port $port (pid $pid, data $data)"
    echo "$uri"
    return 0
  fi
  if [ "$engine" = ferretdb ]; then ensure_postgres; ensure_ferretdb; fi
  if [ -n "$pid" ] || [ "$fresh" = 1 ]; then
    if [ "$fresh" = 1 ]; then info "wiping $data (--fresh)"; fi
    stop_all
  fi
  if tcp_open 127.0.0.1 "$port"; then
    die "port $port is already in use by another process; pick another with --port (or set MONGODB_URI)"
  fi
  if [ "$fresh" = 1 ]; then wipe; fi
  mkdir -p "$data"
  : >"$logfile"
  if [ "$engine" = mongod ]; then
    mkdir -p "$data/db"
    # mongod forks itself and writes its own pid file.
    mongod --dbpath "$data/db" --port "$port" --bind_ip 127.0.0.1 --fork \
      --logpath "$logfile" --pidfilepath "$pidfile" >/dev/null
    pid=$(pidfile_pid "$pidfile")
  else
    if [ ! -f "$(pg_dir)/PG_VERSION" ]; then pg_init; fi
    pg_start
    pg_bootstrap
    # Its own session: a Ctrl-C in the terminal does not hit it; the scripts stop it explicitly.
    # --state-dir=- and --debug-addr=- keep it from writing a state file into the cwd and from
    # binding 127.0.0.1:8088 (parallel instances would collide). The URL (with the password) goes
    # through the environment, not the command line that `ps` shows.
    (cd "$data" && exec env \
      FERRETDB_POSTGRESQL_URL="postgres://$PG_ROLE:$(cat "$data/ferret.pass")@127.0.0.1:$(pg_port)/$PG_DB" \
      setsid "$FERRETDB_BIN" \
      --handler=postgresql \
      --listen-addr="127.0.0.1:$port" \
      --state-dir=- \
      --debug-addr=- \
      --telemetry=disable \
      --log-level="${FERRETDB_LOG_LEVEL:-WARN}" \
      </dev/null >>"$logfile" 2>&1) &
    pid=$!
    echo "$pid" >"$pidfile"
  fi
  local i
  for ((i = 0; i < 300; i++)); do
    if ! pid_alive "$pid"; then
      err "$engine exited during start-up; last lines of $logfile:"
      tail -n 20 "$logfile" >&2 || true
      rm -f "$pidfile"
      exit 1
    fi
    if ready; then
      local how=""
      if [ "$engine" = ferretdb ]; then how=", PostgreSQL on 127.0.0.1:$(pg_port)"; fi
      if [ "$fast" = 1 ] && [ "$engine" = ferretdb ]; then how="$how, durability off"; fi
      ok "$engine on $uri (pid $pid$how, data $data)"
      echo "$uri"
      return 0
    fi
    sleep 0.1
  done
  err "$engine did not answer on port $port within 30s; last lines of $logfile:"
  tail -n 20 "$logfile" >&2 || true
  stop_all
  exit 1
}

do_stop() {
  external_uri && return 0
  local pid was_pg=0
  pid=$(our_pid)
  if [ "$engine" = ferretdb ] && [ -n "${PG_BIN:-}" ] && pg_running; then was_pg=1; fi
  if [ -z "$pid" ] && [ "$was_pg" = 0 ]; then
    info "$engine (port $port, data $data) is not running"
    rm -f "$pidfile"
    return 0
  fi
  stop_all
  ok "$engine on port $port stopped${pid:+ (pid $pid)}$([ "$was_pg" = 1 ] && echo ', PostgreSQL stopped')"
}

do_status() {
  if [ -n "${MONGODB_URI:-}" ]; then
    echo "external: $MONGODB_URI"
    return 0
  fi
  local pid pg="" rc=0
  pid=$(our_pid)
  if [ "$engine" = ferretdb ]; then
    if [ -n "${PG_BIN:-}" ] && pg_running; then pg="PostgreSQL running on 127.0.0.1:$(pg_port)"
    elif [ -f "$(pg_dir)/PG_VERSION" ]; then pg="PostgreSQL stopped"; rc=1
    else pg="no PostgreSQL cluster yet"; rc=1
    fi
  fi
  if [ -n "$pid" ] && ready; then
    echo "running: $uri (pid $pid, data $data)${pg:+; $pg}"
    return "$rc"
  fi
  if [ -n "$pid" ]; then echo "starting or unresponsive: pid $pid on port $port${pg:+; $pg}"; return 1; fi
  echo "stopped: $engine on port $port (data $data)${pg:+; $pg}"
  return 3
}

do_psql() {
  [ "$engine" = ferretdb ] || die "psql: only for the FerretDB engine"
  pg_running || die "the PostgreSQL cluster of $data is not running (scripts/devdb.sh start)"
  pg_psql -d "$PG_DB" "${extra[@]}"
}

find_pg_bin || true
case $cmd in
  install) if [ "$engine" = ferretdb ]; then ensure_postgres; ensure_ferretdb; fi ;;
  start) do_start ;;
  stop) do_stop ;;
  restart) do_stop; do_start ;;
  status) do_status ;;
  psql) do_psql ;;
  uri) echo "${MONGODB_URI:-$uri}" ;;
  *) err "unknown command: $cmd"; usage; exit 2 ;;
esac
