#!/usr/bin/env bash
# End-to-end test of the web app in a real headless Chromium (chromedriver + Python selenium),
# against a running backend that serves the built UI at `/`:
#
#   ODDXER_WEB_URL=http://127.0.0.1:6796 e2e/web_run.sh
#
# The backend must run with dev routes (APP_ENV=development, SMS_PROVIDER=outbox,
# PAYMENT_PROVIDER=sandbox) and serve app/ui/dist (scripts/build-ui.sh). Needs Debian's `chromium`
# and `chromium-driver` (scripts/install-deps.sh); selenium comes from e2e/.venv (shared with
# e2e/run.sh). ODDXER_E2E_ONLY=<part of a test name> runs only the matching tests. Screenshots,
# console and chromedriver logs: e2e/artifacts/web-*.
# Output ends with `web: N passed, M failed`; the exit status is non-zero on failure.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

E2E="$ODDXER_ROOT/e2e"
ARTIFACTS="$E2E/artifacts"
VENV="$E2E/.venv"

: "${ODDXER_WEB_URL:?set ODDXER_WEB_URL to a running backend serving the web app, e.g. http://127.0.0.1:6796}"
ODDXER_WEB_URL="${ODDXER_WEB_URL%/}"
export ODDXER_WEB_URL

curl -fsS --max-time 5 "$ODDXER_WEB_URL/api/v1/health" >/dev/null ||
  die "no healthy backend at $ODDXER_WEB_URL (GET /api/v1/health failed)"
curl -fsS --max-time 5 "$ODDXER_WEB_URL/" | grep -q 'id="main"' ||
  die "$ODDXER_WEB_URL/ does not serve the web app (build it: bash scripts/build-ui.sh; WEB_DIST)"

chromedriver=${ODDXER_CHROMEDRIVER:-$(command -v chromedriver || true)}
[ -n "$chromedriver" ] || die "chromedriver missing: run scripts/install-deps.sh (apt: chromium chromium-driver)"
export ODDXER_CHROMEDRIVER="$chromedriver"

if ! "$VENV/bin/python" -c 'import selenium' >/dev/null 2>&1; then
  log "creating $VENV with selenium"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$E2E/requirements.txt"
fi

mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/web-*
log "web e2e against $ODDXER_WEB_URL with $("$chromedriver" --version 2>/dev/null | head -n 1)"
ODDXER_E2E_ARTIFACTS="$ARTIFACTS" "$VENV/bin/python" -u "$E2E/web_test.py"
