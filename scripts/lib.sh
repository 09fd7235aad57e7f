# shellcheck shell=bash
# Shared helpers for the Oddxer scripts. Source it: `. "$(dirname "$0")/lib.sh"`.
#
# Sets (and exports) ODDXER_ROOT, ODDXER_CACHE, ODDXER_BIN, ODDXER_DATA, CARGO_TARGET_DIR and puts
# the tool folders on PATH. Defines logging, process, port and install helpers.

if [ -n "${ODDXER_LIB_LOADED:-}" ]; then return 0; fi
ODDXER_LIB_LOADED=1

ODDXER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ODDXER_ROOT
export ODDXER_CACHE="${ODDXER_CACHE:-$HOME/.cache/oddxer}"
export ODDXER_BIN="$ODDXER_CACHE/bin"
# Gitignored (`/.data/`): databases, pid files, logs, the dev JWT secret.
export ODDXER_DATA="$ODDXER_ROOT/.data"
# Native builds live outside the clone so that reruns (and fresh clones) reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ODDXER_CACHE/target}"

FERRETDB_VERSION="v1.24.2"
FERRETDB_MODULE="github.com/FerretDB/FerretDB"
FERRETDB_BIN="$ODDXER_BIN/ferretdb"

# (Must return 0: this file is sourced under `set -e`.)
_oddxer_path_add() {
  case ":$PATH:" in *":$1:"*) ;; *) if [ -d "$1" ]; then PATH="$1:$PATH"; fi ;; esac
  return 0
}
mkdir -p "$ODDXER_BIN"
_oddxer_path_add /usr/local/go/bin
_oddxer_path_add "$HOME/go/bin"
_oddxer_path_add "$HOME/.cargo/bin"
_oddxer_path_add "$ODDXER_BIN"
export PATH

# ---------------------------------------------------------------------------------------------
# Logging

if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then
  _C_DIM=$'\033[2m'; _C_RED=$'\033[31m'; _C_GRN=$'\033[32m'; _C_YEL=$'\033[33m'; _C_BLD=$'\033[1m'; _C_OFF=$'\033[0m'
else
  _C_DIM=; _C_RED=; _C_GRN=; _C_YEL=; _C_BLD=; _C_OFF=
fi

log()  { printf '%s==>%s %s\n' "$_C_BLD" "$_C_OFF" "$*" >&2; }
info() { printf '%s    %s%s\n' "$_C_DIM" "$*" "$_C_OFF" >&2; }
ok()   { printf '%s ok%s %s\n' "$_C_GRN" "$_C_OFF" "$*" >&2; }
warn() { printf '%swarn:%s %s\n' "$_C_YEL" "$_C_OFF" "$*" >&2; }
err()  { printf '%serror:%s %s\n' "$_C_RED" "$_C_OFF" "$*" >&2; }
die()  { err "$*"; exit 1; }

have() { command -v "$1" >/dev/null 2>&1; }

# Run as root: directly when we are root (CI), through sudo otherwise.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif have sudo; then sudo "$@"
  else die "need root for: $* (install sudo or run as root)"
  fi
}

# Seconds -> "1m23s" / "45s".
fmt_duration() {
  local s=$1
  if [ "$s" -ge 60 ]; then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

# Random hex string of $1 bytes (default 32), without needing openssl.
rand_hex() { od -An -vtx1 -N"${1:-32}" /dev/urandom | tr -d ' \n'; }

# ---------------------------------------------------------------------------------------------
# Processes and ports

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# pid from a pid file, empty when the file is missing or the process is gone.
pidfile_pid() {
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(tr -dc '0-9' <"$f")
  if pid_alive "$pid"; then echo "$pid"; fi
}

# True when something accepts TCP connections on host:port.
tcp_open() {
  local host=$1 port=$2
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# The first port from $1 upwards (at most 200 tried) on which nothing listens on 127.0.0.1.
free_port() {
  local p=$1
  while [ "$p" -lt $(($1 + 200)) ]; do
    if ! tcp_open 127.0.0.1 "$p"; then echo "$p"; return 0; fi
    p=$((p + 1))
  done
  return 1
}

# Stop a process: SIGTERM (to its process group when it leads one), wait up to $2 s, then SIGKILL.
stop_pid() {
  local pid=$1 timeout=${2:-15} i
  pid_alive "$pid" || return 0
  local pgid
  # Field 5 of /proc/PID/stat (no `ps` needed: minimal images lack procps).
  pgid=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f3)
  if [ -n "$pgid" ] && [ "$pgid" = "$pid" ]; then kill -TERM -- "-$pid" 2>/dev/null || true
  else kill -TERM "$pid" 2>/dev/null || true
  fi
  for ((i = 0; i < timeout * 10; i++)); do
    pid_alive "$pid" || return 0
    # Reap it if it is our child (otherwise it lingers as a zombie and looks alive).
    wait "$pid" 2>/dev/null || true
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  warn "pid $pid did not stop after ${timeout}s, sending SIGKILL"
  if [ -n "$pgid" ] && [ "$pgid" = "$pid" ]; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Wait until host:port accepts connections; fail early if pid $4 (optional) dies.
wait_tcp() {
  local host=$1 port=$2 timeout=${3:-30} pid=${4:-} i
  for ((i = 0; i < timeout * 10; i++)); do
    tcp_open "$host" "$port" && return 0
    if [ -n "$pid" ] && ! pid_alive "$pid"; then return 1; fi
    sleep 0.1
  done
  return 1
}

# Wait until an HTTP URL answers 2xx; fail early if pid $3 (optional) dies.
wait_http() {
  local url=$1 timeout=${2:-60} pid=${3:-} i
  for ((i = 0; i < timeout * 5; i++)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    if [ -n "$pid" ] && ! pid_alive "$pid"; then return 1; fi
    sleep 0.2
  done
  return 1
}

# A real MongoDB-wire ping (OP_MSG {ping: 1}) to host:port. Returns 0 when the server says ok: 1.
# Needs python3; without it returns 2 (the caller falls back to a TCP check).
mongo_ping() {
  local host=$1 port=$2
  have python3 || return 2
  python3 - "$host" "$port" <<'PY' 2>/dev/null
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
def cstr(s): return s.encode() + b"\0"
body = b"\x10" + cstr("ping") + struct.pack("<i", 1)
body += b"\x02" + cstr("$db") + struct.pack("<i", 6) + cstr("admin")
doc = struct.pack("<i", len(body) + 5) + body + b"\0"
msg = struct.pack("<I", 0) + b"\x00" + doc
hdr = struct.pack("<iiii", 16 + len(msg), 1, 0, 2013)
s = socket.create_connection((host, port), timeout=3)
s.sendall(hdr + msg)
def recv(n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk: raise SystemExit(1)
        buf += chunk
    return buf
length, _, _, opcode = struct.unpack("<iiii", recv(16))
reply = recv(length - 16)
# Look for the double field "ok" equal to 1.0 in the reply document.
ok = b"\x01ok\x00" + struct.pack("<d", 1.0)
sys.exit(0 if opcode == 2013 and ok in reply else 1)
PY
}

# ---------------------------------------------------------------------------------------------
# Installing things

# Debian packages from the arguments that are not installed yet.
apt_missing() {
  local p out=()
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then out+=("$p"); fi
  done
  echo "${out[*]}"
}

# apt-get install only what is missing (apt-get update first, only when something is missing).
apt_install_missing() {
  local missing
  missing=$(apt_missing "$@")
  if [ -z "$missing" ]; then info "apt packages already installed"; return 0; fi
  have apt-get || die "apt-get not found; install these packages by hand: $missing"
  log "apt-get install $missing"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  # With recommends, as on the machines where this was tried (WebKitGTK recommends Mesa's
  # software GL, which the webview uses under Xvfb).
  # shellcheck disable=SC2086
  as_root apt-get install -y -qq $missing >/dev/null
}

# Sets PG_BIN to a folder with PostgreSQL's server programs (initdb, pg_ctl, postgres, psql): DEVDB_PG_BIN,
# else the newest Debian /usr/lib/postgresql/N/bin, else `pg_config --bindir`. Fails when none is found.
find_pg_bin() {
  PG_BIN=${DEVDB_PG_BIN:-}
  if [ -n "$PG_BIN" ]; then [ -x "$PG_BIN/initdb" ]; return; fi
  local d
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    if [ -x "$d/initdb" ]; then PG_BIN=$d; return 0; fi
  done
  if have pg_config && [ -x "$(pg_config --bindir)/initdb" ]; then PG_BIN=$(pg_config --bindir); return 0; fi
  PG_BIN=""
  return 1
}

# PostgreSQL for scripts/devdb.sh: Debian's `postgresql` package (15 on Debian 12) when missing.
ensure_postgres() {
  if find_pg_bin; then return 0; fi
  if [ "${ODDXER_SKIP_APT:-}" = 1 ] || ! have apt-get; then
    die "PostgreSQL's server programs (initdb, pg_ctl) not found: install PostgreSQL 15 (Debian: apt-get install postgresql) or set DEVDB_PG_BIN"
  fi
  apt_install_missing postgresql
  find_pg_bin || die "postgresql installed but no initdb found under /usr/lib/postgresql/*/bin"
}

# True when $FERRETDB_BIN is a working FerretDB of the pinned version.
ferretdb_ok() {
  [ -x "$FERRETDB_BIN" ] || return 1
  # Not `| grep -q`: with pipefail an early grep exit can fail the pipeline through SIGPIPE.
  local out
  out=$("$FERRETDB_BIN" --version 2>/dev/null) || return 1
  [[ $out == *"version: $FERRETDB_VERSION"* ]]
}

# Build FerretDB into $ODDXER_BIN unless a working one is there.
#
# A plain `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` produces a binary that panics
# at start-up ("Invalid build/version/version.txt file content"): the module zip lacks the generated
# build/version/version.txt. So we take the same module source from the Go module proxy
# (`go mod download`), add that one file, and `go build` it.
ensure_ferretdb() {
  # Said once per command: scripts that call others export ODDXER_DEPS_CHECKED after the check.
  if ferretdb_ok; then [ -n "${ODDXER_DEPS_CHECKED:-}" ] || info "FerretDB $FERRETDB_VERSION at $FERRETDB_BIN"; return 0; fi
  have go || die "Go is needed to build FerretDB (https://go.dev/dl/); or set MONGODB_URI to a running MongoDB"
  log "building FerretDB $FERRETDB_VERSION into $ODDXER_BIN (Go module proxy, about 1 min)"
  mkdir -p "$ODDXER_BIN"
  local dir src
  dir=$(go mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || die "go mod download $FERRETDB_MODULE@$FERRETDB_VERSION failed"
  src=$(mktemp -d "${TMPDIR:-/tmp}/oddxer-ferretdb-src.XXXXXX")
  cp -R "$dir/." "$src/"
  chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  if ! (cd "$src" && GOFLAGS=-buildvcs=false go build -trimpath -o "$FERRETDB_BIN.tmp.$$" ./cmd/ferretdb); then
    rm -rf "$src" "$FERRETDB_BIN.tmp.$$"
    die "building FerretDB failed"
  fi
  rm -rf "$src"
  mv -f "$FERRETDB_BIN.tmp.$$" "$FERRETDB_BIN"
  ferretdb_ok || die "the built FerretDB does not report $FERRETDB_VERSION"
  ok "FerretDB $FERRETDB_VERSION built"
}
