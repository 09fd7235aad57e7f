// Loads the wasm UI. A separate file (not an inline script) so the CSP needs no inline scripts.
import init from "./oddxer_ui.js";

init().catch((err) => {
  const main = document.getElementById("main");
  if (main) main.textContent = "Oddxer could not start: " + err;
});
