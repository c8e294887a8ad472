// The "other origin" of the browser tests: a static HTTP server on its own 127.0.0.1 port standing for an
// intranet or a customer's web site, whose pages embed the widget and the snippet from the Worker's origin
// (a different port, so a different origin: every widget file, the wasm and every API call are cross-origin,
// as in production). Shared by widget.mjs and snippet.mjs.
//
//   const site = await startStaticServer({ port, dirs: { "/demo/": "assets/demo" } });
//   site.set("/intranet.html", html, { headers: { "content-security-policy": "…" } });
//   site.set("/demo/config.js", null);   // a 404, whatever the folder holds
//   await page.goto(site.origin + "/intranet.html"); … await site.close();
//
// Pages set with `set` win over files; files are served from `dirs` (URL prefix → folder) the way Workers
// static assets serve them: `/x/` → `x/index.html`, `/x/page` → `x/page.html`. Every response is `no-store`.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
};

const typeOf = (file) => TYPES[path.extname(file).toLowerCase()] || "application/octet-stream";

/** The file `urlPath` names under `dirs`, or null. Never leaves a folder. */
function fileFor(dirs, urlPath) {
  for (const [prefix, dir] of Object.entries(dirs)) {
    if (!urlPath.startsWith(prefix)) continue;
    const base = path.resolve(dir);
    const rel = urlPath.slice(prefix.length);
    const candidates = rel === "" || rel.endsWith("/") ? [rel + "index.html"] : [rel, rel + ".html"];
    for (const c of candidates) {
      const file = path.resolve(base, c);
      if (file !== base && !file.startsWith(base + path.sep)) continue;
      try {
        if (fs.statSync(file).isFile()) return file;
      } catch (_) {}
    }
  }
  return null;
}

/**
 * Starts the server on 127.0.0.1:`port` (0: any free port). Resolves to
 * `{ origin, port, set(path, body, {type, headers, status}), clear(prefix), requests, close() }`;
 * `requests` lists every path asked for, in order.
 */
export async function startStaticServer({ port = 0, dirs = {} } = {}) {
  const pages = new Map();
  const requests = [];
  const server = http.createServer((req, res) => {
    let urlPath;
    try {
      urlPath = decodeURIComponent(new URL(req.url, "http://127.0.0.1").pathname);
    } catch (_) {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end("bad path");
      return;
    }
    requests.push(urlPath);
    const send = (status, type, body, headers = {}) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...headers });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (pages.has(urlPath)) {
      const page = pages.get(urlPath);
      if (page === null) return send(404, "text/plain; charset=utf-8", "not found");
      return send(page.status || 200, page.type || "text/html; charset=utf-8", page.body, page.headers || {});
    }
    const file = fileFor(dirs, urlPath);
    if (file) return send(200, typeOf(file), fs.readFileSync(file));
    if (!urlPath.endsWith("/") && fileFor(dirs, urlPath + "/")) {
      return send(307, "text/plain; charset=utf-8", "", { location: urlPath + "/" });
    }
    send(404, "text/plain; charset=utf-8", "not found");
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const actual = server.address().port;
  return {
    origin: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    /** Serves `body` at `urlPath` (null: a 404). */
    set(urlPath, body, { type, headers, status } = {}) {
      pages.set(urlPath, body === null ? null : { body, type, headers, status });
    },
    /** Forgets the pages set under `prefix`. */
    clear(prefix = "/") {
      for (const k of [...pages.keys()]) if (k.startsWith(prefix)) pages.delete(k);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
