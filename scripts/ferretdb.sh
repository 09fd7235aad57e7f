#!/usr/bin/env bash
# Dev/test database: FerretDB 1.24 (SQLite backend) on 127.0.0.1.
#
#   scripts/ferretdb.sh install
#   scripts/ferretdb.sh start  [--port P] [--data DIR] [--fresh]
#   scripts/ferretdb.sh stop   [--port P] [--data DIR]
#   scripts/ferretdb.sh status [--port P] [--data DIR]
#   scripts/ferretdb.sh uri    [--port P]
#
# Defaults: port 27117, data in .data/ferretdb (gitignored). The pid file and the log sit next to the
# data folder (.data/ferretdb.pid, .data/ferretdb.log). `--fresh` wipes the data folder first.
#
# With MONGODB_URI set, nothing is started or stopped: that database is used.
# With ODDXER_DB=mongod (and `mongod` on PATH), a local mongod is run instead of FerretDB.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

cmd=${1:-}
[ -n "$cmd" ] || { usage; exit 2; }
shift
port=${FERRETDB_PORT:-27117}
data=""
fresh=0
while [ $# -gt 0 ]; do
  case $1 in
    --port) port=$2; shift 2 ;;
    --port=*) port=${1#*=}; shift ;;
    --data) data=$2; shift 2 ;;
    --data=*) data=${1#*=}; shift ;;
    --fresh) fresh=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) err "unknown argument: $1"; usage; exit 2 ;;
  esac
done
[[ $port =~ ^[0-9]+$ ]] || die "--port must be a number"
data=${data:-$ODDXER_DATA/ferretdb}
mkdir -p "$(dirname "$data")"
data="$(cd "$(dirname "$data")" && pwd)/$(basename "$data")"
pidfile="$data.pid"
logfile="$data.log"
uri="mongodb://127.0.0.1:$port"

engine=ferretdb
if [ "${ODDXER_DB:-}" = mongod ]; then
  have mongod || die "ODDXER_DB=mongod but mongod is not on PATH"
  engine=mongod
fi

external_uri() {
  if [ -n "${MONGODB_URI:-}" ]; then
    info "MONGODB_URI is set ($MONGODB_URI): using it, nothing to $cmd"
    return 0
  fi
  return 1
}

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

do_start() {
  external_uri && return 0
  local pid
  pid=$(our_pid)
  if [ -n "$pid" ]; then
    if [ "$fresh" = 1 ]; then
      info "restarting (--fresh) $engine on port $port"
      stop_pid "$pid" 15
    elif ready; then
      ok "$engine already running on port $port (pid $pid, data $data)"
      echo "$uri"
      return 0
    fi
  fi
  if tcp_open 127.0.0.1 "$port"; then
    die "port $port is already in use by another process; pick another with --port (or set MONGODB_URI)"
  fi
  if [ "$fresh" = 1 ]; then rm -rf "$data"; fi
  mkdir -p "$data"
  : >"$logfile"
  if [ "$engine" = mongod ]; then
    # mongod forks itself and writes its own pid file.
    mongod --dbpath "$data" --port "$port" --bind_ip 127.0.0.1 --fork \
      --logpath "$logfile" --pidfilepath "$pidfile" >/dev/null
    pid=$(pidfile_pid "$pidfile")
  else
    ensure_ferretdb
    # Its own session: a Ctrl-C in the terminal does not hit it; the scripts stop it explicitly.
    # --state-dir=- and --debug-addr=- keep it from writing a state file into the cwd and from
    # binding 127.0.0.1:8088 (parallel instances would collide).
    (cd "$data" && exec setsid "$FERRETDB_BIN" \
      --handler=sqlite \
      --sqlite-url="file:$data/" \
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
      ok "$engine on $uri (pid $pid, data $data, log $logfile)"
      echo "$uri"
      return 0
    fi
    sleep 0.1
  done
  err "$engine did not answer on port $port within 30s; last lines of $logfile:"
  tail -n 20 "$logfile" >&2 || true
  stop_pid "$pid" 5
  rm -f "$pidfile"
  exit 1
}

do_stop() {
  external_uri && return 0
  local pid
  pid=$(our_pid)
  if [ -z "$pid" ]; then
    info "$engine (port $port, pid file $pidfile) is not running"
    rm -f "$pidfile"
    return 0
  fi
  stop_pid "$pid" 15
  rm -f "$pidfile"
  ok "$engine on port $port stopped (pid $pid)"
}

do_status() {
  if [ -n "${MONGODB_URI:-}" ]; then
    echo "external: $MONGODB_URI"
    return 0
  fi
  local pid
  pid=$(our_pid)
  if [ -n "$pid" ] && ready; then
    echo "running: $uri (pid $pid, data $data)"
    return 0
  fi
  if [ -n "$pid" ]; then echo "starting or unresponsive: pid $pid on port $port"; return 1; fi
  echo "stopped ($pidfile)"
  return 3
}

case $cmd in
  install) if [ "$engine" = ferretdb ]; then ensure_ferretdb; fi ;;
  start) do_start ;;
  stop) do_stop ;;
  restart) do_stop; do_start ;;
  status) do_status ;;
  uri) echo "${MONGODB_URI:-$uri}" ;;
  *) err "unknown command: $cmd"; usage; exit 2 ;;
esac
