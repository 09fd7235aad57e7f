#!/usr/bin/env bash
# Schemathesis against a running backend: the OpenAPI document (`/api/v1/openapi.json`) must
# describe the wire exactly (DESIGN.md section 5), with `--checks all` and zero 5xx.
#
#   ODDXER_API_URL=http://127.0.0.1:6794 bash scripts/schemathesis/run.sh
#
# The backend must run with development settings and the demo seed (APP_ENV=development,
# SMS_PROVIDER=outbox, SEED_DEMO=true, ADMIN_PHONE_NUMBERS=+256700000001): four passes run, signed
# out and then signed in (through /auth/login, /dev/sms and /auth/verify-otp) as the demo buyer,
# seller and admin. Each pass uses the same fixed seed, so a run is reproducible.
#
# `GET /ws` is left out: an HTTP fuzzer cannot speak WebSocket (backend/tests/api/websocket.rs
# covers it; a plain GET of it answers 400 UPGRADE_REQUIRED as documented).
#
# ODDXER_SCHEMATHESIS_EXAMPLES (30) cases per operation and phase, ODDXER_SCHEMATHESIS_SEED
# (20261201), ODDXER_SCHEMATHESIS_PASSES ("anonymous buyer seller admin"), ODDXER_SCHEMATHESIS_DEBUG=1
# (show tokens and phone numbers in the reproduction commands instead of masking them). Schemathesis (pinned
# below) is installed into $ODDXER_CACHE/schemathesis-<version> on first use. Reports (JUnit and
# NDJSON per pass) go to .data/schemathesis/. The exit status is non-zero when any pass fails.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

VERSION=4.32.5
HERE="$ODDXER_ROOT/scripts/schemathesis"
VENV="$ODDXER_CACHE/schemathesis-$VERSION"
REPORTS="$ODDXER_DATA/schemathesis"
EXAMPLES=${ODDXER_SCHEMATHESIS_EXAMPLES:-30}
SEED=${ODDXER_SCHEMATHESIS_SEED:-20261201}
PASSES=${ODDXER_SCHEMATHESIS_PASSES:-anonymous buyer seller admin}

: "${ODDXER_API_URL:?set ODDXER_API_URL to a running backend, e.g. http://127.0.0.1:6794}"
API="${ODDXER_API_URL%/}"
curl -fsS --max-time 5 "$API/api/v1/health" >/dev/null || die "no healthy backend at $API (GET /api/v1/health failed)"

if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$VERSION"; then
  log "installing schemathesis $VERSION into $VENV (once)"
  have python3 || die "python3 missing (scripts/install-deps.sh installs python3-venv)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

phone_of() {
  case $1 in
    buyer) echo +256700000003 ;;
    seller) echo +256700000002 ;;
    admin) echo +256700000001 ;;
  esac
}

rm -rf "$REPORTS"
mkdir -p "$REPORTS"
failed=()
total=0
for pass in $PASSES; do
  auth=()
  if [ "$pass" != anonymous ]; then
    token=$("$VENV/bin/python" "$HERE/signin.py" "$API" "$(phone_of "$pass")") || die "could not sign in as the demo $pass"
    auth=(-H "Authorization: Bearer $token")
  fi
  log "schemathesis: $pass (seed $SEED, $EXAMPLES examples per operation)"
  rc=0
  # One worker: with several, CPython 3.11's AST compiler fails now and then when two threads
  # compile at once (Hypothesis describing a lambda, a lazy import): "AST constructor recursion
  # depth mismatch". Run from the reports folder: schemathesis keeps its state (.schemathesis/) in the current one.
  (cd "$REPORTS" && SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$HERE" "$VENV/bin/st" --config-file "$HERE/schemathesis.toml" run \
    "$API/api/v1/openapi.json" --url "$API/api/v1" \
    --exclude-path /ws --checks all --seed "$SEED" --max-examples "$EXAMPLES" --workers 1 \
    --report junit,ndjson --report-dir "$REPORTS/$pass" --output-truncate false ${ODDXER_SCHEMATHESIS_DEBUG:+--output-sanitize false} \
    "${auth[@]}") 2>&1 | tee "$REPORTS/$pass.log" || rc=$?
  cases=$(sed -n 's/^ *\([0-9][0-9]*\) generated.*/\1/p' "$REPORTS/$pass.log" | tail -n 1)
  total=$((total + ${cases:-0}))
  if [ "$rc" = 0 ]; then ok "schemathesis $pass: ${cases:-?} cases, no failures"; else err "schemathesis $pass failed (exit $rc); log: $REPORTS/$pass.log"; failed+=("$pass"); fi
done
echo "schemathesis: $total cases in $(echo "$PASSES" | wc -w) passes; failed passes: ${failed[*]:-none}"
[ "${#failed[@]}" = 0 ]
