// heaplens service worker: keeps the app's own files (the "app shell":
// the page, its script, wasm and styles, the engine worker's script and
// wasm) so that the page opens and reads dumps with no network at all, and
// serves them from the cache first. It never touches a URL outside the
// site's own directory, and a dump is never in it: dumps are read from the
// File the user chose, never fetched.
//
// web/sw-build.mjs (a Trunk post_build hook) fills in the list of files
// and a version made from their contents. A new version of the site is a
// new sw.js: the browser installs it beside the running one, and it takes
// over on the next visit (no skipWaiting), so a page never mixes files of
// two builds; the page says an update is ready.
const VERSION = "HEAPLENS_SW_VERSION";
const FILES = HEAPLENS_SW_FILES;
const CACHE = `heaplens-${VERSION}`;
const HOME = new URL("./", self.location).href;
const SCOPE = new URL("./", self.location).pathname;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(FILES.map((f) => new URL(f, self.location).href))),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("heaplens-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The page cross-origin isolated: GitHub Pages sends no headers of the
// site's choosing, so the page this worker serves gets COOP and COEP here.
// Isolated, the page shares memory with the engine's worker, and Cancel
// stops the engine at its next report while the worker keeps the dump
// (without it the worker is ended and the dump read again). The page's
// files are all of this origin and the engine's worker comes from a blob:
// URL, so COEP blocks nothing the page uses.
function isolated(resp) {
  if (!resp || resp.type === "opaque" || resp.status === 0) return resp;
  const headers = new Headers(resp.headers);
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Cross-Origin-Embedder-Policy", "require-corp");
  return new Response(resp.body, { status: resp.status, statusText: resp.statusText, headers });
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  // The page itself, whatever its query and fragment: the cached page.
  const key = req.mode === "navigate" ? HOME : req;
  const served = caches.open(CACHE).then((cache) =>
    cache.match(key, { ignoreSearch: true }).then((hit) => hit || fetch(req)),
  );
  event.respondWith(req.mode === "navigate" ? served.then(isolated) : served);
});
