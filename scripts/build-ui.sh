#!/usr/bin/env bash
# Builds the Dioxus UI (app/ui) to wasm32 and writes app/ui/dist/: index.html and bootstrap.js,
# bundle-<hash>/ (the .wasm, the wasm-bindgen JS glue, oddxer.css), and the web app's
# manifest.webmanifest, icons/ and service worker sw.js (with the list of files to precache).
# Both Tauri shells embed that folder (build.frontendDist); the backend serves it at `/`.
#
# No `dx` needed: plain cargo + the wasm-bindgen CLI of exactly the version in app/ui/Cargo.lock
# (installed into $ODDXER_CACHE/bin on first use). The wasm build has its own target folder so
# wasm-only features never mix with the native build graph.
#
#   ODDXER_UI_PROFILE=debug   faster compile, bigger wasm (default: release)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

UI="$ODDXER_ROOT/app/ui"
DIST="$UI/dist"
WASM_TARGET_DIR="${ODDXER_WASM_TARGET_DIR:-$ODDXER_CACHE/target-wasm}"
PROFILE="${ODDXER_UI_PROFILE:-release}"
started=$(date +%s)

# The CLI must match the wasm-bindgen crate the UI links, or the glue it writes is refused at load.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$UI/Cargo.lock")
[ -n "$bindgen_version" ] || die "no wasm-bindgen in $UI/Cargo.lock"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$("$ODDXER_BIN/wasm-bindgen" --version 2>/dev/null)" != "wasm-bindgen $bindgen_version" ]; then
  log "installing wasm-bindgen-cli $bindgen_version into $ODDXER_BIN (about 2 min, once)"
  # Not --locked: one of its locked dependency versions is not served by the registry here.
  cargo install wasm-bindgen-cli --version "=$bindgen_version" --root "$ODDXER_CACHE" --force
fi

log "building the UI ($PROFILE, wasm32)"
profile_flag=()
[ "$PROFILE" = release ] && profile_flag=(--release)
CARGO_TARGET_DIR="$WASM_TARGET_DIR" cargo build --manifest-path "$UI/Cargo.toml" \
  --target wasm32-unknown-unknown "${profile_flag[@]}"
wasm="$WASM_TARGET_DIR/wasm32-unknown-unknown/$PROFILE/oddxer-ui.wasm"
[ -f "$wasm" ] || die "expected $wasm after the build"

stage=$(mktemp -d "${TMPDIR:-/tmp}/oddxer-ui-dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# The wasm, its JS glue (and any snippets it imports) and the stylesheet go into a folder named
# after a hash of their content, bundle-<hash>/: the backend serves it as immutable for a year, and
# a changed build gets a new name, so no browser ever mixes old and new files.
"$ODDXER_BIN/wasm-bindgen" --target web --no-typescript --out-name oddxer_ui --out-dir "$stage/bundle" "$wasm"
cp "$ODDXER_ROOT/assets/oddxer.css" "$stage/bundle/oddxer.css"
tree_hash() { (cd "$1" && find . -type f | LC_ALL=C sort | while read -r f; do printf '%s\n' "$f"; cat "$f"; done) | sha256sum | cut -c1-16; }
bundle="bundle-$(tree_hash "$stage/bundle")"
mv "$stage/bundle" "$stage/$bundle"
sed "s#__BUNDLE__#$bundle#g" "$UI/index.html" >"$stage/index.html"
sed "s#__BUNDLE__#$bundle#g" "$UI/bootstrap.js" >"$stage/bootstrap.js"
# The web app's manifest and icons (Android wants 192 and 512 px, iOS a 180 px touch icon).
cp "$UI/manifest.webmanifest" "$stage/"
mkdir -p "$stage/icons"
cp "$ODDXER_ROOT/assets/icons/32x32.png" "$stage/favicon.png"
cp "$ODDXER_ROOT/assets/icons/web-192.png" "$stage/icons/icon-192.png"
cp "$ODDXER_ROOT/assets/icons/icon.png" "$stage/icons/icon-512.png"
cp "$ODDXER_ROOT/assets/icons/apple-touch-icon.png" "$stage/icons/apple-touch-icon.png"
# The service worker precaches every file of the build (relative to its own URL) under a cache
# named after the hash of them all: a new build installs a new cache and drops the old.
precache=$(cd "$stage" && find . -type f | LC_ALL=C sort | sed 's#^\./##' | awk 'BEGIN { printf "[" } { printf "%s\"%s\"", (NR > 1 ? ", " : ""), $0 } END { printf "]" }')
version=$(tree_hash "$stage")
sed -e "s#__VERSION__#$version#g" -e "s#__PRECACHE__#$precache#" "$UI/sw.js" >"$stage/sw.js"

# Replace dist only when something changed: the shells' build scripts watch it, and a needless
# rewrite would relink both apps.
if [ -d "$DIST" ] && diff -rq "$stage" "$DIST" >/dev/null 2>&1; then
  ok "app/ui/dist unchanged ($(fmt_duration $(($(date +%s) - started))))"
else
  rm -rf "$DIST"
  mkdir -p "$DIST"
  cp -R "$stage/." "$DIST/"
  ok "app/ui/dist written: $(du -sh "$DIST" | cut -f1) ($(fmt_duration $(($(date +%s) - started))))"
fi
