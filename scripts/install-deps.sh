#!/usr/bin/env bash
# Installs what building, running and testing Oddxer needs. Idempotent: a second run only checks.
#
#   - Debian/Ubuntu packages (Tauri's WebKitGTK stack, Xvfb + WebKitWebDriver for the e2e tests,
#     redis-server, python3-venv for the e2e client, postgresql under the dev database, prometheus
#     for promtool); apt-get runs only when something is missing.
#   - the wasm32-unknown-unknown Rust target (the UI is compiled to wasm).
#   - FerretDB 1.24.2 (dev/test database, scripts/devdb.sh) into $ODDXER_CACHE/bin, built from the Go
#     module proxy.
#
# ODDXER_SKIP_APT=1 skips the apt step (e.g. without root; install the packages yourself).
# wasm-bindgen-cli and tauri-driver are installed on demand by scripts/build-ui.sh and e2e/run.sh.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_PACKAGES=(
  # Tauri 2 on Linux
  libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev librsvg2-dev libayatana-appindicator3-dev
  libxdo-dev libssl-dev build-essential pkg-config file
  # headless window + WebDriver for the end-to-end tests, screenshots
  xvfb xauth webkit2gtk-driver imagemagick
  # headless Chromium + chromedriver for the web app tests (stage `web`)
  chromium chromium-driver
  # multi-instance fan-out in tests; Python venv for the e2e WebDriver client
  redis-server python3-venv
  # the dev/test database: FerretDB's PostgreSQL backend (scripts/devdb.sh runs its own clusters)
  postgresql
  # used by the scripts themselves
  curl ca-certificates
)

log "dependencies"
if [ "${ODDXER_SKIP_APT:-}" = 1 ]; then
  info "ODDXER_SKIP_APT=1: not touching apt"
elif have dpkg-query && have apt-get; then
  apt_install_missing "${APT_PACKAGES[@]}"
  # promtool for the alert rule tests (test stage `promtool`): Debian's `prometheus` package (about
  # 19 MB), without its recommended node exporter. Only promtool is used: a Prometheus server the
  # package starts on a systemd machine is stopped and disabled again.
  if [ -n "$(apt_missing prometheus)" ]; then
    log "apt-get install prometheus (for promtool)"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    if have systemctl && systemctl is-active --quiet prometheus 2>/dev/null; then
      as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
  fi
else
  warn "no apt-get here: install the equivalents of these packages yourself: ${APT_PACKAGES[*]}"
fi

have cargo || die "cargo not found: install Rust with rustup (https://rustup.rs)"
if have rustup; then
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  else
    info "rust target wasm32-unknown-unknown installed"
  fi
else
  warn "rustup not found: make sure the wasm32-unknown-unknown target is installed for the UI build"
fi

if [ -n "${MONGODB_URI:-}" ] || [ "${ODDXER_DB:-}" = mongod ]; then
  info "MONGODB_URI/ODDXER_DB set: the dev database (FerretDB) is not needed"
else
  ensure_ferretdb
fi
ok "dependencies ready"
