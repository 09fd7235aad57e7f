#!/usr/bin/env bash
# Runs Oddxer locally:
#
#   1. installs what is missing (scripts/install-deps.sh),
#   2. starts the dev database (scripts/devdb.sh: FerretDB on PostgreSQL, 127.0.0.1:27117, data in
#      .data/devdb, durable) unless MONGODB_URI is set,
#   3. builds the UI (scripts/build-ui.sh), then builds and starts the backend on
#      http://127.0.0.1:6793 with demo data (SEED_DEMO=true), outbox SMS, sandbox payments and a dev
#      JWT secret generated once into .data/dev-jwt-secret; the backend serves the web app at `/`,
#   4. prints the web app's URL and the demo accounts, then builds the desktop app and opens it when
#      there is a display ($DISPLAY or $WAYLAND_DISPLAY); without one it waits for Ctrl-C.
#
# Everything it started is stopped when the app window closes or on Ctrl-C.
# HOST=0.0.0.0 makes it reachable from a phone on the same network (the LAN URL is printed).
#
#   --backend-only   do not build the UI or the desktop app (the web app is served if already built)
#
# Settings: a `.env` file in the repo root and the environment override the dev defaults
# (PORT, DB_NAME, MONGODB_URI, JWT_SECRET, ...; see README.md).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ODDXER_ROOT"

backend_only=0
for a in "$@"; do
  case $a in
    --backend-only) backend_only=1 ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $a (try --help)" ;;
  esac
done

if [ -f .env ]; then
  info "loading .env"
  set -a
  # shellcheck disable=SC1091
  . ./.env
  set +a
fi

mkdir -p "$ODDXER_DATA"
RUN_DIR="$ODDXER_DATA/run"
mkdir -p "$RUN_DIR"
DB_PORT=${DEVDB_PORT:-${FERRETDB_PORT:-27117}}
export PORT=${PORT:-6793}
API_URL_LOCAL="http://127.0.0.1:$PORT"

STARTED_DB=0
BACKEND_PID=""
APP_PID=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  printf '\n' >&2
  if [ -n "$APP_PID" ] && pid_alive "$APP_PID"; then stop_pid "$APP_PID" 10; info "desktop app closed"; fi
  if [ -n "$BACKEND_PID" ]; then stop_pid "$BACKEND_PID" 15; info "backend stopped"; fi
  rm -f "$RUN_DIR/backend.pid"
  if [ "$STARTED_DB" = 1 ]; then env -u MONGODB_URI bash scripts/devdb.sh stop --port "$DB_PORT" >/dev/null 2>&1; info "dev database stopped (data kept in .data/devdb)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. dependencies (a quick check when everything is there)
bash scripts/install-deps.sh
export ODDXER_DEPS_CHECKED=1

# 2. database
if [ -n "${MONGODB_URI:-}" ]; then
  info "using MONGODB_URI=$MONGODB_URI"
else
  if bash scripts/devdb.sh status --port "$DB_PORT" >/dev/null 2>&1; then
    info "dev database already running on port $DB_PORT (left running at exit)"
  else
    bash scripts/devdb.sh start --port "$DB_PORT" >/dev/null
    STARTED_DB=1
  fi
  export MONGODB_URI="mongodb://127.0.0.1:$DB_PORT"
fi

# 3. backend
if [ -z "${JWT_SECRET:-}" ]; then
  secret_file="$ODDXER_DATA/dev-jwt-secret"
  if [ ! -s "$secret_file" ]; then
    (umask 077 && rand_hex 32 >"$secret_file")
    info "generated a dev JWT secret in .data/dev-jwt-secret"
  fi
  JWT_SECRET=$(cat "$secret_file")
  export JWT_SECRET
fi
export APP_ENV=${APP_ENV:-development}
export DB_NAME=${DB_NAME:-oddxer}
export SEED_DEMO=${SEED_DEMO:-true}
export SMS_PROVIDER=${SMS_PROVIDER:-outbox}
export PAYMENT_PROVIDER=${PAYMENT_PROVIDER:-sandbox}
export ADMIN_PHONE_NUMBERS=${ADMIN_PHONE_NUMBERS:-+256700000001}
export RUST_LOG=${RUST_LOG:-info}

if tcp_open 127.0.0.1 "$PORT"; then
  die "port $PORT is already in use (another backend?); stop it or run with PORT=<other port>"
fi
# The UI first: the backend serves the built app/ui/dist at `/` from its start.
if [ "$backend_only" = 0 ] && [ -f scripts/build-ui.sh ] && [ -f app/ui/Cargo.toml ]; then
  bash scripts/build-ui.sh
fi
log "building the backend"
cargo build -p oddxer-backend --bin oddxer-backend
log "starting the backend on $API_URL_LOCAL (DB_NAME=$DB_NAME, log .data/backend.log)"
(exec setsid "$CARGO_TARGET_DIR/debug/oddxer-backend" </dev/null >>"$ODDXER_DATA/backend.log" 2>&1) &
BACKEND_PID=$!
echo "$BACKEND_PID" >"$RUN_DIR/backend.pid"
if ! wait_http "$API_URL_LOCAL/api/v1/health" 90 "$BACKEND_PID"; then
  tail -n 30 "$ODDXER_DATA/backend.log" >&2 || true
  die "the backend did not become healthy (log: .data/backend.log)"
fi
ok "backend up: $API_URL_LOCAL"

# The address a phone on the same network uses: only when the backend listens beyond loopback.
LAN_URL=""
case "${HOST:-127.0.0.1}" in
  127.* | localhost | ::1) ;;
  *)
    lan_ip=""
    if have ip; then lan_ip=$(ip -4 route get 1.1.1.1 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "src") { print $(i + 1); exit } }'); fi
    if [ -z "$lan_ip" ] && have hostname; then lan_ip=$(hostname -I 2>/dev/null | awk '{ print $1 }'); fi
    [ -n "$lan_ip" ] && LAN_URL="http://$lan_ip:$PORT/"
    ;;
esac

web_url() {
  if [ -f app/ui/dist/index.html ]; then
    printf '  Web app:        %s   (open it in any browser; installable as an app)\n' "$API_URL_LOCAL/"
    if [ -n "$LAN_URL" ]; then
      printf '  On a phone:     %s   (same network; see README "Oddxer on a phone")\n' "$LAN_URL"
    else
      printf '  On a phone:     run with HOST=0.0.0.0 to reach it from the same network\n'
    fi
  else
    printf '  Web app:        not built (bash scripts/build-ui.sh, then restart)\n'
  fi
}

show_help() {
  printf '\n' >&2
  web_url >&2
  cat >&2 <<EOF
  Oddxer backend: $API_URL_LOCAL   (health: $API_URL_LOCAL/api/v1/health)
  Database:       $MONGODB_URI  DB_NAME=$DB_NAME
  Backend log:    .data/backend.log   Desktop app log: .data/desktop.log

  Demo accounts (sign in with the phone number; the OTP goes to the dev SMS outbox):
    admin   +256700000001  (demo_admin)
    seller  +256700000002  (demo_seller)
    buyer   +256700000003  (demo_buyer)
  Read the OTP (the 6-digit code in the newest message):
    curl '$API_URL_LOCAL/api/v1/dev/sms?phoneNumber=%2B256700000003'
  Complete a sandbox deposit:
    curl -X POST '$API_URL_LOCAL/api/v1/dev/payments/<reference>/complete'

EOF
}

# 4. the web app's URL first (usable now), then the desktop app when there is a display
show_help
if [ "$backend_only" = 0 ] && [ -f desktop/Cargo.toml ]; then
  if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    log "building the desktop app"
    cargo build -p oddxer-desktop
    log "opening the desktop app (close the window or press Ctrl-C to stop everything; its log: .data/desktop.log)"
    info "the web app stays at $API_URL_LOCAL/ while the window is open"
    # The app's own log goes to a file, without colour codes: the terminal keeps what a person needs.
    NO_COLOR=1 ODDXER_API_URL="$API_URL_LOCAL" "$CARGO_TARGET_DIR/debug/oddxer-desktop" >>"$ODDXER_DATA/desktop.log" 2>&1 &
    APP_PID=$!
    wait "$APP_PID" || true
    APP_PID=""
    exit 0
  fi
  info "no \$DISPLAY/\$WAYLAND_DISPLAY: not opening the desktop app; use the web app above"
  info "(on a machine with a display: bash scripts/run.sh, or build it with cargo build -p oddxer-desktop)"
fi

log "running; press Ctrl-C to stop"
while pid_alive "$BACKEND_PID"; do sleep 1; done
err "the backend exited; last lines of .data/backend.log:"
tail -n 20 "$ODDXER_DATA/backend.log" >&2 || true
exit 1
