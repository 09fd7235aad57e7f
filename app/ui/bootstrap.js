// Loads the wasm UI. A separate file (not an inline script) so the CSP needs no inline scripts.
// A template: scripts/build-ui.sh replaces the bundle placeholder with this build's
// content-addressed folder (bundle-<hash>).
import init from "./__BUNDLE__/oddxer_ui.js";

// In a browser (not inside the Tauri shells, whose webview serves the files itself) a service
// worker keeps the app shell so Oddxer starts without a network; see sw.js. Browsers allow service
// workers only in a secure context (https, or http on localhost).
const inTauri = "__TAURI_INTERNALS__" in window || "__TAURI__" in window;
if (!inTauri && "serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("sw.js").catch((err) => console.warn("Oddxer: service worker not registered:", err));
}

init().catch((err) => {
  const main = document.getElementById("main");
  if (main) main.textContent = "Oddxer could not start: " + err;
});
