// A static file server for the built app: serves DIST under PREFIX (as
// GitHub Pages serves a project site under /<repo>/), answers 404 to
// anything else, and remembers every request it got, so tests can check
// that nothing but the app's own files was ever asked for.
import { createServer } from "node:http";
import { createReadStream, statSync } from "node:fs";
import { extname, join, normalize, resolve } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * Starts the server; resolves to {url, port, requests, close}. `headers`
 * are added to every file served (a test serves the app cross-origin
 * isolated, as a service worker could on GitHub Pages).
 */
export function serve({ dist, prefix = "/heaplens/", port = 0, host = "127.0.0.1", quiet = true, headers = {} }) {
  const root = resolve(dist);
  const requests = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    requests.push({ method: req.method, path: url.pathname });
    if (!quiet) console.log(`${req.method} ${url.pathname}`);
    if (url.pathname === prefix.slice(0, -1)) {
      res.writeHead(301, { Location: prefix });
      return res.end();
    }
    if (!url.pathname.startsWith(prefix)) {
      res.writeHead(404);
      return res.end("not found");
    }
    let rel = decodeURIComponent(url.pathname.slice(prefix.length)) || "index.html";
    if (rel.endsWith("/")) rel += "index.html";
    const file = normalize(join(root, rel));
    if (!file.startsWith(root)) {
      res.writeHead(403);
      return res.end();
    }
    let st;
    try {
      st = statSync(file);
    } catch {
      res.writeHead(404);
      return res.end("not found");
    }
    if (!st.isFile()) {
      res.writeHead(404);
      return res.end("not found");
    }
    res.writeHead(200, {
      "Content-Type": TYPES[extname(file)] || "application/octet-stream",
      "Content-Length": st.size,
      "Cache-Control": "no-cache",
      ...headers,
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => {
    server.listen(port, host, () => {
      const p = server.address().port;
      ok({
        port: p,
        url: `http://${host}:${p}${prefix}`,
        requests,
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}

// `node tests/e2e/server.mjs [dist] [port]`: serve the app for people.
if (import.meta.url === `file://${process.argv[1]}`) {
  const dist = process.argv[2] || "dist";
  const port = Number(process.argv[3] || process.env.PORT || 8080);
  const prefix = process.env.HEAPLENS_PREFIX || "/heaplens/";
  const s = await serve({ dist, prefix, port, quiet: false });
  console.log(`heaplens is at ${s.url}  (Ctrl-C stops it)`);
}
