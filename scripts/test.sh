#!/usr/bin/env bash
# The whole test suite, as CI runs it (`.ci/run`):
#
#   deps       scripts/install-deps.sh (apt packages, wasm target, FerretDB)
#   services   a throwaway dev database (scripts/devdb.sh --fresh --fast: FerretDB on PostgreSQL, port
#              27118, .data/devdb-test, durability off) and redis-server (port 6380, no persistence);
#              MONGODB_URI / REDIS_URL exported for everything below
#   lint       quick checks that fail fast: python3 scripts/check-cycles.py (no import cycles between
#              backend domain modules), cargo clippy --workspace --all-targets -D warnings (the
#              workspace lints of Cargo.toml included), `cargo fmt -- --check` of the workspace and
#              of app/ui (rustfmt.toml)
#   promtool   promtool check + test rules on backend/ops/alerts.yml (alerts.test.yml)
#   semantics  backend/tests/ferretdb_semantics.rs with --nocapture (prints what the database loses)
#   build-ui   scripts/build-ui.sh (Dioxus -> wasm -> app/ui/dist, which the Tauri shells embed)
#   cargo-test cargo test --workspace --no-fail-fast
#   schemathesis
#              a backend on port 6795 (fresh DB_NAME, dev settings, demo data, rate limits and the
#              daily withdrawal limit raised),
#              then scripts/schemathesis/run.sh: schemathesis (pinned, cached venv) with --checks all and
#              a fixed seed against /api/v1/openapi.json, signed out and as the demo buyer, seller and
#              admin; any failure or 5xx fails the stage
#   desktop    cargo build -p oddxer-desktop
#   e2e        a backend on port 6794 (fresh DB_NAME, dev settings), then e2e/run.sh against it
#   web        a backend on port 6796 serving the built UI (app/ui/dist) at `/`, then e2e/web_run.sh:
#              the web app in headless Chromium (manifest, service worker, sign-in to purchase,
#              offline reading, reconnect)
#
# Stages whose crates or files do not exist yet are skipped. Every stage is timed; the last line is
# `N passed, N failed, N skipped`; the exit status is non-zero when anything failed. Everything
# started here is stopped on exit (also on Ctrl-C).
#
# Environment: MONGODB_URI (use that database, start no dev database), REDIS_URL (use that Redis),
# ODDXER_TEST_DB_PORT (27118), ODDXER_TEST_REDIS_PORT (6380), ODDXER_TEST_BACKEND_PORT (6794),
# ODDXER_TEST_SCHEMATHESIS_PORT (6795), ODDXER_TEST_WEB_PORT (6796) (the
# defaults move up to the next free port when taken; explicitly set ports must be free),
# ODDXER_TEST_ONLY="stage stage..." (run only these stages; deps and services always run),
# ODDXER_CARGO_TEST_TIMEOUT (2400 s), ODDXER_E2E_TIMEOUT (1200 s), ODDXER_SCHEMATHESIS_TIMEOUT
# (900 s) and ODDXER_WEB_TIMEOUT (600 s) limit the long stages.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ODDXER_ROOT"

# Default ports move up to the next free one when taken (other checkouts or other tools may run
# their own servers); ports set explicitly are used as given.
DB_PORT=${ODDXER_TEST_DB_PORT:-27118}
REDIS_PORT=${ODDXER_TEST_REDIS_PORT:-6380}
BACKEND_PORT=${ODDXER_TEST_BACKEND_PORT:-6794}
ST_PORT=${ODDXER_TEST_SCHEMATHESIS_PORT:-6795}
WEB_PORT=${ODDXER_TEST_WEB_PORT:-6796}
RUN_DIR="$ODDXER_DATA/test-run"
LOG_DIR="$RUN_DIR/logs"
DB_DATA="$ODDXER_DATA/devdb-test"
mkdir -p "$RUN_DIR" "$LOG_DIR"

# One test run per checkout at a time: they share ports and data folders.
# (fd 9 holds the lock; the servers started below get `9>&-` so they never inherit it.)
exec 9>"$ODDXER_DATA/test.lock"
if have flock && ! flock -n 9; then
  log "another scripts/test.sh is running in this checkout; waiting for it"
  flock 9
fi

USER_MONGODB_URI=${MONGODB_URI:-}
USER_REDIS_URL=${REDIS_URL:-}
STARTED_DB=0

# ---------------------------------------------------------------------------------------------
# Cleanup: stop whatever this run started, newest first.

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  local pid
  pid=$(pidfile_pid "$RUN_DIR/backend.pid")
  if [ -n "$pid" ]; then stop_pid "$pid" 15; info "stopped the e2e backend"; fi
  rm -f "$RUN_DIR/backend.pid"
  pid=$(pidfile_pid "$RUN_DIR/web-backend.pid")
  if [ -n "$pid" ]; then stop_pid "$pid" 15; info "stopped the web backend"; fi
  rm -f "$RUN_DIR/web-backend.pid"
  pid=$(pidfile_pid "$RUN_DIR/st-backend.pid")
  if [ -n "$pid" ]; then stop_pid "$pid" 15; info "stopped the schemathesis backend"; fi
  rm -f "$RUN_DIR/st-backend.pid"
  pid=$(pidfile_pid "$RUN_DIR/redis.pid")
  if [ -n "$pid" ]; then stop_pid "$pid" 10; info "stopped redis-server"; fi
  rm -f "$RUN_DIR/redis.pid"
  if [ "$STARTED_DB" = 1 ]; then
    env -u MONGODB_URI bash "$ODDXER_ROOT/scripts/devdb.sh" stop --port "$DB_PORT" --data "$DB_DATA" >/dev/null 2>&1
    info "stopped the test database"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Stage bookkeeping

NAMES=()
RESULTS=()
TIMES=()
ABORTED=""

record() { NAMES+=("$1"); RESULTS+=("$2"); TIMES+=("$3"); }

wanted() {
  case $1 in deps | services) return 0 ;; esac
  [ -z "${ODDXER_TEST_ONLY:-}" ] && return 0
  case " $ODDXER_TEST_ONLY " in *" $1 "*) return 0 ;; esac
  return 1
}

# stage NAME FUNCTION [ARGS...]: runs FUNCTION in a subshell with `set -e`, output also in LOG_DIR.
stage() {
  local name=$1; shift
  if [ -n "$ABORTED" ]; then
    record "$name" "failed (not run: $ABORTED failed)" 0
    return 0
  fi
  if ! wanted "$name"; then record "$name" "skipped (ODDXER_TEST_ONLY)" 0; return 0; fi
  local t0 rc=0 dt
  t0=$(date +%s)
  printf '\n' >&2
  log "stage $name"
  set +e
  ( set -euo pipefail; "$@" ) 2>&1 | tee "$LOG_DIR/$name.log"
  rc=${PIPESTATUS[0]}
  set -e
  dt=$(($(date +%s) - t0))
  if [ "$rc" = 0 ]; then
    ok "stage $name passed in $(fmt_duration "$dt")"
    record "$name" passed "$dt"
  elif [ "$rc" = 200 ]; then
    record "$name" "skipped ($(tail -n 1 "$LOG_DIR/$name.log" | sed 's/^.*skip: //'))" "$dt"
  else
    err "stage $name FAILED (exit $rc) after $(fmt_duration "$dt"); log: $LOG_DIR/$name.log"
    record "$name" "failed" "$dt"
  fi
  return 0
}

stage_passed() {
  local i
  for i in "${!NAMES[@]}"; do [ "${NAMES[$i]}" = "$1" ] && [ "${RESULTS[$i]}" = passed ] && return 0; done
  return 1
}

# Inside a stage: run a command with a time limit (the whole process group is killed when it is
# exceeded, so a hung test cannot eat the CI budget) that still stops at once on Ctrl-C / SIGTERM.
run_limited() {
  local secs=$1; shift
  timeout -k 30 "$secs" "$@" &
  local pid=$! rc=0
  # `wait` (unlike a foreground command) returns as soon as a trapped signal arrives.
  trap 'kill -TERM "$pid" 2>/dev/null' INT TERM
  wait "$pid" || rc=$?
  while pid_alive "$pid"; do rc=0; wait "$pid" || rc=$?; done
  trap - INT TERM
  if [ "$rc" = 124 ]; then err "timed out after $(fmt_duration "$secs"): $*"; fi
  return "$rc"
}

# Inside a stage: skip it (not a failure), with a reason.
skip() { printf 'skip: %s\n' "$*"; exit 200; }

# A stage whose failure makes the rest pointless.
critical() { local n=${#RESULTS[@]}; [ "$n" -gt 0 ] && [ "${RESULTS[$((n - 1))]}" = failed ] && ABORTED=$1; return 0; }

# ---------------------------------------------------------------------------------------------
# Stages

st_deps() { bash scripts/install-deps.sh; }

st_services() {
  if [ -n "$USER_MONGODB_URI" ]; then
    info "MONGODB_URI set: testing against $USER_MONGODB_URI"
  else
    # A test database left over by an earlier, killed run of this checkout goes first.
    local old_port
    old_port=$(cat "$RUN_DIR/db.port" 2>/dev/null || true)
    if [ -n "$old_port" ]; then
      env -u MONGODB_URI bash scripts/devdb.sh stop --port "$old_port" --data "$DB_DATA" >/dev/null 2>&1 9>&- || true
    fi
    if [ -z "${ODDXER_TEST_DB_PORT:-}" ]; then DB_PORT=$(free_port "$DB_PORT"); fi
    echo "$DB_PORT" >"$RUN_DIR/db.port"
    # Throwaway: wiped, durability off (fsync, synchronous_commit, full_page_writes).
    bash scripts/devdb.sh start --port "$DB_PORT" --data "$DB_DATA" --fresh --fast >/dev/null 9>&-
  fi
  if [ -n "$USER_REDIS_URL" ]; then
    info "REDIS_URL set: using $USER_REDIS_URL"
    return 0
  fi
  have redis-server || die "redis-server not found (scripts/install-deps.sh installs it)"
  local pid
  pid=$(pidfile_pid "$RUN_DIR/redis.pid")
  [ -z "$pid" ] || stop_pid "$pid" 10
  if [ -z "${ODDXER_TEST_REDIS_PORT:-}" ]; then REDIS_PORT=$(free_port "$REDIS_PORT"); fi
  if tcp_open 127.0.0.1 "$REDIS_PORT"; then
    die "port $REDIS_PORT is in use; set ODDXER_TEST_REDIS_PORT or REDIS_URL"
  fi
  echo "$REDIS_PORT" >"$RUN_DIR/redis.port"
  mkdir -p "$RUN_DIR/redis"
  (cd "$RUN_DIR/redis" && exec setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
    --save '' --appendonly no --daemonize no --dir "$RUN_DIR/redis" \
    --logfile "$LOG_DIR/redis-server.log" </dev/null >/dev/null 2>&1 9>&-) &
  pid=$!
  echo "$pid" >"$RUN_DIR/redis.pid"
  wait_tcp 127.0.0.1 "$REDIS_PORT" 15 "$pid" || die "redis-server did not start; see $LOG_DIR/redis-server.log"
  ok "redis-server on 127.0.0.1:$REDIS_PORT (pid $pid)"
}

has_package() { [ -f "$1/Cargo.toml" ] && grep -q "\"$1\"" Cargo.toml; }

st_lint() {
  python3 scripts/check-cycles.py
  # One style (rustfmt.toml): the workspace, and the UI crate that is built alone for wasm.
  cargo fmt --all -- --check
  cargo fmt --manifest-path app/ui/Cargo.toml -- --check
  # The Tauri shells embed app/ui/dist at compile time: without it clippy skips them (cargo-test
  # builds them after build-ui).
  local exclude=() d
  if [ ! -f app/ui/dist/index.html ]; then
    for d in desktop mobile; do
      if has_package "$d"; then
        warn "app/ui/dist missing: clippy skips $d"
        exclude+=(--exclude "$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$d/Cargo.toml" | head -n 1)")
      fi
    done
  fi
  cargo clippy --workspace "${exclude[@]}" --all-targets -- -D warnings
}

st_promtool() {
  [ -f backend/ops/alerts.test.yml ] || skip "backend/ops/alerts.test.yml not there yet"
  have promtool || die "promtool not found (scripts/install-deps.sh installs Debian's prometheus package)"
  promtool check rules backend/ops/alerts.yml
  (cd backend/ops && promtool test rules alerts.test.yml)
}

st_semantics() {
  [ -f backend/tests/ferretdb_semantics.rs ] && has_package backend || skip "backend crate not there yet"
  cargo test -p oddxer-backend --test ferretdb_semantics -- --nocapture --test-threads=1
}

st_build_ui() {
  [ -f scripts/build-ui.sh ] && [ -f app/ui/Cargo.toml ] || skip "app/ui or scripts/build-ui.sh not there yet"
  bash scripts/build-ui.sh
}

st_cargo_test() {
  local exclude=()
  # The Tauri shells embed app/ui/dist at compile time; without it they cannot build at all.
  if [ ! -f app/ui/dist/index.html ]; then
    local d
    for d in desktop mobile; do
      if has_package "$d"; then
        warn "app/ui/dist missing: not testing $d"
        exclude+=(--exclude "$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$d/Cargo.toml" | head -n 1)")
      fi
    done
  fi
  # The client's reconnect-storm test holds a few hundred clients (a SQLite file and sockets each)
  # and the backend their sockets: raise a low soft open-files limit (the test sizes itself to it).
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  run_limited "${ODDXER_CARGO_TEST_TIMEOUT:-2400}" cargo test --workspace --no-fail-fast "${exclude[@]}"
}

# start_test_backend NAME PORT PIDFILE [NAME=VALUE...]: builds and starts a backend with dev
# settings (outbox SMS, sandbox payments, demo data) on a fresh DB_NAME and PORT, from outside the
# repo (a developer's .env must not leak in), logs to $LOG_DIR/NAME-backend.log, waits until it is
# healthy and sets TEST_BACKEND_PID. Extra NAME=VALUE settings override the defaults.
start_test_backend() {
  local name=$1 port=$2 pidfile=$3
  shift 3
  cargo build -p oddxer-backend --bin oddxer-backend
  local bin="$CARGO_TARGET_DIR/debug/oddxer-backend" db="oddxer_${name}_$(date +%s)_$$"
  log "backend for $name on 127.0.0.1:$port (DB_NAME=$db)"
  (cd "$RUN_DIR" && exec env PORT="$port" HOST=127.0.0.1 DB_NAME="$db" APP_ENV=development \
    SMS_PROVIDER=outbox PAYMENT_PROVIDER=sandbox SEED_DEMO=true ADMIN_PHONE_NUMBERS=+256700000001 \
    JWT_SECRET="$(rand_hex 32)" RUST_LOG="${RUST_LOG:-info}" "$@" \
    setsid "$bin" </dev/null >"$LOG_DIR/$name-backend.log" 2>&1 9>&-) &
  TEST_BACKEND_PID=$!
  echo "$TEST_BACKEND_PID" >"$RUN_DIR/$pidfile"
  if ! wait_http "http://127.0.0.1:$port/api/v1/health" 90 "$TEST_BACKEND_PID"; then
    tail -n 30 "$LOG_DIR/$name-backend.log" >&2 || true
    die "the backend did not become healthy"
  fi
  ok "backend healthy (pid $TEST_BACKEND_PID)"
}

st_schemathesis() {
  [ -f scripts/schemathesis/run.sh ] || skip "scripts/schemathesis/run.sh not there yet"
  has_package backend || skip "backend crate not there yet"
  if [ -z "${ODDXER_TEST_SCHEMATHESIS_PORT:-}" ]; then ST_PORT=$(free_port "$ST_PORT"); fi
  if tcp_open 127.0.0.1 "$ST_PORT"; then
    die "port $ST_PORT is in use; set ODDXER_TEST_SCHEMATHESIS_PORT"
  fi
  # Rate limits and the daily withdrawal limit raised: the fuzzer sends thousands of sign-in and
  # money requests from one IP and one user. 429 and the limit's 422 are documented on those
  # routes; tests/api/rate_limits.rs and tests/api/withdrawals.rs test the limits themselves.
  start_test_backend schemathesis "$ST_PORT" st-backend.pid \
    RATE_LIMIT_AUTH_IP=1000000/1m RATE_LIMIT_AUTH_PHONE=1000000/1m RATE_LIMIT_MONEY_USER=1000000/1m \
    WITHDRAWAL_DAILY_LIMIT=1000000000000 RUST_LOG="${RUST_LOG:-warn}"
  local rc=0
  ODDXER_API_URL="http://127.0.0.1:$ST_PORT" run_limited "${ODDXER_SCHEMATHESIS_TIMEOUT:-900}" bash scripts/schemathesis/run.sh || rc=$?
  stop_pid "$TEST_BACKEND_PID" 15
  rm -f "$RUN_DIR/st-backend.pid"
  info "backend log: $LOG_DIR/schemathesis-backend.log"
  return "$rc"
}

st_desktop() {
  has_package desktop || skip "desktop crate not there yet"
  cargo build -p oddxer-desktop
  ok "desktop app: $CARGO_TARGET_DIR/debug/oddxer-desktop"
}

st_e2e() {
  [ -f e2e/run.sh ] || skip "e2e/run.sh not there yet"
  has_package backend || die "e2e/run.sh exists but the backend crate does not"
  if [ -z "${ODDXER_TEST_BACKEND_PORT:-}" ]; then BACKEND_PORT=$(free_port "$BACKEND_PORT"); fi
  if tcp_open 127.0.0.1 "$BACKEND_PORT"; then
    die "port $BACKEND_PORT is in use; set ODDXER_TEST_BACKEND_PORT"
  fi
  start_test_backend e2e "$BACKEND_PORT" backend.pid
  local rc=0
  # The desktop stage built the app already; e2e/run.sh builds it itself otherwise.
  if stage_passed desktop; then export ODDXER_DESKTOP_BIN="$CARGO_TARGET_DIR/debug/oddxer-desktop"; fi
  ODDXER_API_URL="http://127.0.0.1:$BACKEND_PORT" run_limited "${ODDXER_E2E_TIMEOUT:-1200}" bash e2e/run.sh || rc=$?
  stop_pid "$TEST_BACKEND_PID" 15
  rm -f "$RUN_DIR/backend.pid"
  info "backend log: $LOG_DIR/e2e-backend.log"
  return "$rc"
}

st_web() {
  [ -f e2e/web_run.sh ] || skip "e2e/web_run.sh not there yet"
  has_package backend || die "e2e/web_run.sh exists but the backend crate does not"
  # The build-ui stage wrote app/ui/dist; on its own this stage builds it (a no-op when current).
  stage_passed build-ui || bash scripts/build-ui.sh
  if [ -z "${ODDXER_TEST_WEB_PORT:-}" ]; then WEB_PORT=$(free_port "$WEB_PORT"); fi
  if tcp_open 127.0.0.1 "$WEB_PORT"; then
    die "port $WEB_PORT is in use; set ODDXER_TEST_WEB_PORT"
  fi
  start_test_backend web "$WEB_PORT" web-backend.pid WEB_DIST="$ODDXER_ROOT/app/ui/dist"
  local rc=0
  ODDXER_WEB_URL="http://127.0.0.1:$WEB_PORT" run_limited "${ODDXER_WEB_TIMEOUT:-600}" bash e2e/web_run.sh || rc=$?
  stop_pid "$TEST_BACKEND_PID" 15
  rm -f "$RUN_DIR/web-backend.pid"
  info "backend log: $LOG_DIR/web-backend.log"
  return "$rc"
}

# ---------------------------------------------------------------------------------------------

T0=$(date +%s)
log "Oddxer tests (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
stage deps st_deps; critical deps
stage services st_services; critical services
DB_PORT=$(cat "$RUN_DIR/db.port" 2>/dev/null || echo "$DB_PORT")
REDIS_PORT=$(cat "$RUN_DIR/redis.port" 2>/dev/null || echo "$REDIS_PORT")
[ -z "$USER_MONGODB_URI" ] && STARTED_DB=1
export MONGODB_URI="${USER_MONGODB_URI:-mongodb://127.0.0.1:$DB_PORT}"
export REDIS_URL="${USER_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"
info "MONGODB_URI=$MONGODB_URI REDIS_URL=$REDIS_URL"
stage lint st_lint; critical lint
stage promtool st_promtool
stage semantics st_semantics
stage build-ui st_build_ui
stage cargo-test st_cargo_test
stage schemathesis st_schemathesis
stage desktop st_desktop
stage e2e st_e2e
stage web st_web

# ---------------------------------------------------------------------------------------------
# Summary

passed=0 failed=0 skipped=0
printf '\n' >&2
log "summary"
for i in "${!NAMES[@]}"; do
  case ${RESULTS[$i]} in
    passed) passed=$((passed + 1)) ;;
    skipped*) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)) ;;
  esac
  printf '    %-12s %-8s %s\n' "${NAMES[$i]}" "$(fmt_duration "${TIMES[$i]}")" "${RESULTS[$i]}" >&2
done
total=$(fmt_duration $(($(date +%s) - T0)))
summary="$passed passed, $failed failed, $skipped skipped (total $total)"
if [ "$failed" -gt 0 ]; then
  err "$summary"
  echo "$summary"
  exit 1
fi
ok "$summary"
echo "$summary"
