#!/usr/bin/env bash
# End-to-end test of the real desktop app: a real window under Xvfb, driven over WebDriver
# (tauri-driver + WebKitWebDriver) with Python selenium, against a running backend.
#
#   ODDXER_API_URL=http://127.0.0.1:6794 e2e/run.sh
#
# The backend must run with dev routes (APP_ENV=development, SMS_PROVIDER=outbox,
# PAYMENT_PROVIDER=sandbox): the test reads the OTP from /dev/sms and approves the deposit
# through /dev/payments/{reference}/complete, as a tester with a phone would. The admin test signs
# in as the demo seed's admin (SEED_DEMO=true; ODDXER_E2E_ADMIN_PHONE, default +256700000001).
# ODDXER_E2E_ONLY=<part of a test name> runs only the matching tests.
#
# Builds the UI and the desktop app first (no-ops when up to date) unless ODDXER_DESKTOP_BIN
# names a built binary. Installs tauri-driver into $ODDXER_CACHE/bin and selenium into
# e2e/.venv on first use. Screenshots and app logs: e2e/artifacts/.
# Output ends with `e2e: N passed, M failed`; the exit status is non-zero on failure.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

E2E="$ODDXER_ROOT/e2e"
ARTIFACTS="$E2E/artifacts"
VENV="$E2E/.venv"
TAURI_DRIVER="$ODDXER_BIN/tauri-driver"

: "${ODDXER_API_URL:?set ODDXER_API_URL to a running backend, e.g. http://127.0.0.1:6794}"
ODDXER_API_URL="${ODDXER_API_URL%/}"
export ODDXER_API_URL

curl -fsS --max-time 5 "$ODDXER_API_URL/api/v1/health" >/dev/null ||
  die "no healthy backend at $ODDXER_API_URL (GET /api/v1/health failed)"

have xvfb-run || die "xvfb-run missing: run scripts/install-deps.sh (apt: xvfb xauth)"
have WebKitWebDriver || die "WebKitWebDriver missing: run scripts/install-deps.sh (apt: webkit2gtk-driver)"

if ! "$TAURI_DRIVER" --help >/dev/null 2>&1; then
  log "installing tauri-driver into $ODDXER_BIN (about 30 s, once)"
  cargo install tauri-driver --version '^2' --locked --root "$ODDXER_CACHE"
fi

if ! "$VENV/bin/python" -c 'import selenium' >/dev/null 2>&1; then
  log "creating $VENV with selenium"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$E2E/requirements.txt"
fi

if [ -z "${ODDXER_DESKTOP_BIN:-}" ]; then
  bash "$ODDXER_ROOT/scripts/build-ui.sh"
  log "building the desktop app"
  cargo build -p oddxer-desktop
  ODDXER_DESKTOP_BIN="$CARGO_TARGET_DIR/debug/oddxer-desktop"
fi
[ -x "$ODDXER_DESKTOP_BIN" ] || die "not an executable: $ODDXER_DESKTOP_BIN"

rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"
data=$(mktemp -d "${TMPDIR:-/tmp}/oddxer-e2e-data.XXXXXX")
trap 'rm -rf "$data"' EXIT

log "e2e against $ODDXER_API_URL with $ODDXER_DESKTOP_BIN"
# No `exec`: the trap must still remove the data dir afterwards. xvfb-run keeps its X auth file
# under TMPDIR; a private one means no other job's /tmp clean-up can break its exit.
ODDXER_DESKTOP_BIN="$(cd "$(dirname "$ODDXER_DESKTOP_BIN")" && pwd)/$(basename "$ODDXER_DESKTOP_BIN")" \
  ODDXER_TAURI_DRIVER="$TAURI_DRIVER" ODDXER_E2E_DATA="$data" ODDXER_E2E_ARTIFACTS="$ARTIFACTS" \
  TMPDIR="$data" xvfb-run -a -s '-screen 0 1280x800x24' "$VENV/bin/python" -u "$E2E/desktop_test.py"
