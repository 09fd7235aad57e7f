// Oddxer's service worker: keeps the app shell (index.html, bootstrap.js, the wasm bundle, the
// stylesheet, the manifest and icons) so the web app starts without a network. The data it shows
// offline (purchased codes, the wallet) lives in the browser core's IndexedDB, not here.
//
// A template: scripts/build-ui.sh writes dist/sw.js with the version (a hash of every file of the
// build) and the precache list (those files) filled in, so a new build installs a new cache and
// drops the old one.
//
// - The API and the WebSocket (/api/...) always go to the network: money and sync are never faked.
// - The bundle (bundle-<hash>/: wasm, JS glue, CSS) is answered from the cache first: its names
//   change with its content, so a cached copy is never stale.
// - Page loads and the other shell files go to the network first (a new build is seen at once) and
//   fall back to the cache without one; a page load then gets the cached index.html.
const CACHE = "oddxer-shell-__VERSION__";
const PRECACHE = __PRECACHE__;
// The backend's answers carry `Vary: origin, ...` (its CORS layer), and module scripts are fetched
// with an `Origin` header that the install's requests lacked: match on the URL alone.
const MATCH = { ignoreVary: true };

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((path) => new Request(path, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("oddxer-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const scope = new URL(self.registration.scope);
  if (url.pathname.startsWith(scope.pathname + "api/")) return;
  // The content-addressed bundle never changes under its name: the cache answers first.
  if (url.pathname.startsWith(scope.pathname + "bundle-")) {
    event.respondWith(caches.match(request, MATCH).then((hit) => hit || fetch(request)));
    return;
  }
  // Pages and the other shell files: the network first, so a new build is seen at once; the
  // cached copy without a network (a page load gets the cached index.html, the app routes itself).
  const fallback = request.mode === "navigate" ? new URL("index.html", scope).href : request;
  event.respondWith(fetch(request).catch(() => caches.match(fallback, MATCH).then((hit) => hit || Response.error())));
});
