// The tracking snippet (/s.js) in real headless Chromium against the real Worker (docs/design.md §8).
//
// Driven by tests/e2e/browser_snippet.rs, which starts the Worker, creates one site per scenario and runs
//   node tests/browser/snippet.mjs
// with these variables:
//   BASE         the Worker, e.g. http://127.0.0.1:18901 (the only host any page here talks to, besides the
//                static server below and a closed 127.0.0.1 port for the unreachable-endpoint case)
//   STATIC_PORT  a free 127.0.0.1 port for the other origin: a static server (static_server.mjs) serving the
//                test pages and the demo shop (assets/demo/), as a customer's web site would; the sites list
//                its origin in allowed_origins
//   KEYS         JSON {"shop": "wk_…", "stub": …, "beacon": …, "utm": …, "privacy": …, "plain": …, "errors": …}
//   SHOP_SITE    the shop site's id (only for /demo/config.js)
//   SHOTS        a folder for screenshots
//   CHROMIUM     the browser (default /usr/bin/chromium)
//   ONLY         optional: a comma-separated list of scenarios to run
//   EXIT_WITH_STDIN=1  exit (closing the browser) as soon as stdin closes: the Rust side holds it open, so
//                no browser outlives a test process that died
// It prints one JSON line (the last line of stdout) with what each scenario saw; the Rust side asserts on it
// and on what the Worker stored. Test pages and the demo shop come from the static server, another origin than
// the Worker's (the snippet's tag is <script src="BASE/s.js">, its events go to BASE); /demo/config.js there
// carries the test site's write key. Two scenarios run on the Worker's own origin (page routes on BASE): the
// utm one (a same-origin embed still works) and the demo shop without config.

import { chromium } from "playwright-core";
import { startStaticServer } from "./static_server.mjs";
import net from "node:net";
import fs from "node:fs";
import path from "node:path";

const BASE = process.env.BASE;
const KEYS = JSON.parse(process.env.KEYS || "{}");
const SHOTS = process.env.SHOTS || "";
const SHOP_SITE = process.env.SHOP_SITE || "demo";
const STATIC_PORT = Number(process.env.STATIC_PORT || 0);
/** The other origin (a static server), started in main(). */
let SITE = null;
if (!BASE) {
  console.error("BASE is not set");
  process.exit(2);
}
if (SHOTS) fs.mkdirSync(SHOTS, { recursive: true });

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The stub documented at the top of frontend/snippet/s.js, verbatim.
const STUB =
  'window.daytwo=window.daytwo||[];["page","track","identify","group"].forEach(function(m){daytwo[m]=daytwo[m]||function(){daytwo.push([m].concat([].slice.call(arguments)))}})';

/** A test page: the snippet tag (from the Worker, with `attrs`) after `head` (inline scripts), and `body`. */
function testPage({ key, attrs = "", head = "", body = "", title = "Snippet test" }) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<link rel="icon" href="data:,">${head}
<script async src="${BASE}/s.js" data-write-key="${key}"${attrs}></script></head>
<body><h1>${title}</h1>${body}</body></html>`;
}

/** A port on 127.0.0.1 that nothing listens on. */
function closedPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Messages of every body sent, in order, with how each left: `fetch` requests as the network saw them, and
 * `beacon` calls as navigator.sendBeacon saw them. Neither Playwright nor CDP reports a beacon sent while
 * its page unloads (the Worker does get it), so sendBeacon is wrapped to tell (see newContext); a beacon the
 * network log does show, type `ping`, is left out as a duplicate.
 */
function messagesOf(log) {
  const out = [];
  const sent = Array.isArray(log) ? log : [...log.requests.filter((r) => r.type !== "ping"), ...log.beacons];
  sent.sort((a, b) => a.at - b.at);
  for (const r of sent) {
    let body = null;
    try {
      body = JSON.parse(r.body || "null");
    } catch (e) {
      out.push({ unparsable: r.body });
      continue;
    }
    for (const m of (body && body.batch) || []) {
      out.push({ ...m, _writeKey: body.writeKey, _sentAt: body.sentAt, _via: r.type, _contentType: r.contentType });
    }
  }
  return out;
}

/**
 * A fresh browser context with its own observers: every request to a /v1/ path (any host), page errors,
 * console errors, failed requests. Test pages are served from `pages` (path under /__daytwo_test/ → HTML) by
 * the static server (another origin), or with `sameOrigin` by page routes on the Worker's origin; `at(name)`
 * is a test page's URL and `origin` the pages' origin. /demo/config.js there is `config` (null: a 404).
 */
async function newContext(browser, { pages = {}, init = [], config = null, keepBeacons = false, sameOrigin = false } = {}) {
  const origin = sameOrigin ? BASE : SITE.origin;
  const at = (name) => `${origin}/__daytwo_test/${name}`;
  const ctx = await browser.newContext();
  const log = { requests: [], beacons: [], statuses: [], pageErrors: [], consoleErrors: [], failed: [], pending: [] };
  // Every sendBeacon call is reported through a binding, which works when the page is hidden or closed but
  // not when it navigates away; with keepBeacons the call is also appended to sessionStorage, which the next
  // page of the same origin hands over (collectBeacons). (Off by default: the storage scenario checks that
  // sessionStorage stays empty.)
  await ctx.exposeBinding("__daytwoBeacon", (_source, rec) => addBeacon(log, rec));
  await ctx.addInitScript((keep) => {
    const send = Navigator.prototype.sendBeacon;
    Navigator.prototype.sendBeacon = function (url, data) {
      const ok = send.call(this, url, data);
      const rec = { id: Math.random().toString(36).slice(2), at: Date.now(), url: String(url), ok };
      rec.body = typeof data == "string" ? data : null;
      try {
        window.__daytwoBeacon(rec);
      } catch (e) {}
      if (keep) {
        try {
          const k = "__daytwo_test_beacons";
          sessionStorage[k] = JSON.stringify([...JSON.parse(sessionStorage[k] || "[]"), rec]);
        } catch (e) {}
      }
      return ok;
    };
  }, keepBeacons);
  for (const script of init) await ctx.addInitScript(script);
  // What the host page itself would see: uncaught errors and unhandled rejections.
  await ctx.addInitScript(() => {
    window.__hostErrors = [];
    addEventListener("error", (e) => window.__hostErrors.push("error: " + (e.message || e.type)));
    addEventListener("unhandledrejection", (e) => window.__hostErrors.push("unhandledrejection: " + e.reason));
  });
  const configJs = config && `window.DAYTWO_DEMO = ${JSON.stringify(config)};`;
  if (sameOrigin) {
    await ctx.route(`${BASE}/__daytwo_test/**`, (route) => {
      const name = new URL(route.request().url()).pathname.replace("/__daytwo_test/", "");
      const html = pages[name];
      if (html === undefined) return route.fulfill({ status: 404, contentType: "text/plain", body: "no such test page" });
      return route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: html });
    });
    // Absent unless given, whatever an earlier `cargo xtask run` left in assets/.
    await ctx.route(`${BASE}/demo/config.js`, (route) =>
      configJs
        ? route.fulfill({ status: 200, contentType: "text/javascript; charset=utf-8", body: configJs })
        : route.fulfill({ status: 404, contentType: "text/plain", body: "" }),
    );
  } else {
    // Scenarios run one after another, so the server's pages are this context's.
    SITE.clear("/__daytwo_test/");
    for (const [name, html] of Object.entries(pages)) SITE.set(`/__daytwo_test/${name}`, html);
    SITE.set("/demo/config.js", configJs, { type: "text/javascript; charset=utf-8" });
  }
  ctx.on("request", (req) => {
    if (new URL(req.url()).pathname.startsWith("/v1/")) {
      const rec = {
        at: Date.now(),
        url: req.url(),
        method: req.method(),
        type: req.resourceType(),
        contentType: req.headers()["content-type"] || null,
        origin: null, // below: the Origin header is added by the network stack, so only allHeaders() has it
        pageOrigin: (() => {
          try {
            return new URL(req.frame().url()).origin;
          } catch (_) {
            return null;
          }
        })(),
        body: req.postData(),
      };
      log.requests.push(rec);
      log.pending.push(req.allHeaders().then((h) => (rec.origin = h["origin"] || null), () => {}));
    }
  });
  ctx.on("response", (res) => {
    if (new URL(res.url()).pathname.startsWith("/v1/")) log.statuses.push(res.status());
  });
  ctx.on("requestfailed", (req) => log.failed.push({ url: req.url(), error: req.failure() && req.failure().errorText }));
  ctx.on("page", (page) => watchPage(page, log));
  return { ctx, log, at, origin };
}

function addBeacon(log, rec) {
  if (rec && !log.beacons.some((b) => b.id === rec.id)) log.beacons.push({ ...rec, type: "beacon", contentType: null });
}

/** Takes over the beacons an earlier page of this tab left in sessionStorage (keepBeacons). */
async function collectBeacons(page, log) {
  const recs = await page.evaluate(() => {
    const k = "__daytwo_test_beacons";
    const v = JSON.parse(sessionStorage[k] || "[]");
    sessionStorage.removeItem(k);
    return v;
  });
  for (const rec of recs) addBeacon(log, rec);
}

function watchPage(page, log) {
  page.on("pageerror", (e) => log.pageErrors.push(String(e && e.message ? e.message : e)));
  page.on("console", (m) => {
    if (m.type() === "error") log.consoleErrors.push(m.text());
  });
}

/** Waits (up to 3 s) for the requests' full headers (their Origin). */
const settled = (log) => Promise.race([Promise.allSettled(log.pending), sleep(3000)]);

/** Waits until /s.js has replaced the stub with the real API. */
const snippetLoaded = (page) =>
  page.waitForFunction(() => window.daytwo && !Array.isArray(window.daytwo) && typeof window.daytwo.track === "function");

/** How many sends (fetch requests and beacons) `log` holds. */
const sends = (log) => log.requests.filter((r) => r.type !== "ping").length + log.beacons.length;

/** Waits until `n` sends have been seen in `log` (or the timeout). */
async function sent(log, n, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  while (sends(log) < n && Date.now() < end) await sleep(50);
  return sends(log);
}

async function hostErrors(page) {
  try {
    return await page.evaluate(() => window.__hostErrors || []);
  } catch (e) {
    return [`(could not read: ${e.message})`];
  }
}

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

const summary = (m) => ({
  type: m.type,
  event: m.event,
  name: m.name,
  path: m.context && m.context.page && m.context.page.path,
  anonymousId: m.anonymousId,
  userId: m.userId,
  groupId: (m.context && m.context.groupId) || m.groupId,
  messageId: m.messageId,
  timestamp: m.timestamp,
  properties: m.properties,
  traits: m.traits,
  campaign: m.context && m.context.campaign,
  library: m.context && m.context.library,
  via: m._via,
  writeKey: m._writeKey,
  sentAt: m._sentAt,
  contentType: m._contentType,
});

// ---------------------------------------------------------------------------------------------------------
// Scenarios. Each returns a plain object; the Rust side asserts.

/** (1) The demo shop: home → pricing → sign-up (identify + Signed Up) → checkout (group + Order Completed). */
async function shop(browser) {
  const config = { endpoint: BASE, site: SHOP_SITE, writeKey: KEYS.shop, token: "" };
  const { ctx, log, origin } = await newContext(browser, { config, keepBeacons: true });
  const page = await ctx.newPage();
  const visited = [];
  await page.goto(`${origin}/demo/shop/`);
  await snippetLoaded(page);
  await collectBeacons(page, log);
  visited.push(new URL(page.url()).pathname);
  await shot(page, "shop-1-home");
  await page.click("#see-pricing");
  await page.waitForURL(/\/pricing/);
  await snippetLoaded(page);
  await collectBeacons(page, log);
  visited.push(new URL(page.url()).pathname);
  await shot(page, "shop-2-pricing");
  await page.click("#start");
  await page.waitForURL(/\/signup/);
  await snippetLoaded(page);
  await collectBeacons(page, log);
  visited.push(new URL(page.url()).pathname);
  await page.fill("input[name=name]", "Grace Hopper");
  await page.fill("input[name=email]", "Grace@Example.com");
  await page.fill("input[name=company]", "Compiler Works");
  await shot(page, "shop-3-signup");
  // Submitting tracks and navigates at once: identify + Signed Up leave with the page-hide beacon.
  await page.click("button[type=submit]");
  await page.waitForURL(/\/checkout/);
  await snippetLoaded(page);
  await collectBeacons(page, log);
  visited.push(new URL(page.url()).pathname);
  const before = sends(log);
  await page.click("button[type=submit]");
  await page.waitForSelector("#done", { state: "visible" });
  await sent(log, before + 1);
  // Let the last batch's answer come back before looking.
  await sleep(300);
  await shot(page, "shop-4-checkout-done");
  await collectBeacons(page, log);
  const cookies = await ctx.cookies();
  const storage = await page.evaluate(() => Object.keys(localStorage));
  const errors = await hostErrors(page);
  await settled(log);
  await ctx.close();
  return {
    visited,
    messages: messagesOf(log).map(summary),
    pageOrigin: origin,
    requests: log.requests.map((r) => ({ url: r.url, type: r.type, contentType: r.contentType, origin: r.origin, pageOrigin: r.pageOrigin })),
    cookies,
    localStorageKeys: storage,
    statuses: log.statuses,
    pageErrors: log.pageErrors,
    consoleErrors: log.consoleErrors,
    hostErrors: errors,
    failed: log.failed,
  };
}

/** (1b) Without /demo/config.js (no `cargo xtask run`), the shop still loads and works, sending nothing. */
async function noconfig(browser) {
  // On the Worker's own origin: the demo pages it serves at /demo/ (config.js answers 404 there).
  const { ctx, log, origin } = await newContext(browser, { sameOrigin: true });
  const page = await ctx.newPage();
  await page.goto(`${origin}/demo/shop/signup`);
  const note = await page.textContent(".note");
  await page.click("button[type=submit]"); // the stub queues identify + track, then checkout
  await page.waitForURL(/\/checkout/);
  await page.click("button[type=submit]");
  await page.waitForSelector("#done", { state: "visible" });
  await sleep(1200);
  const queued = await page.evaluate(() => (Array.isArray(window.daytwo) ? window.daytwo.length : -1));
  await shot(page, "shop-5-no-config");
  const errors = await hostErrors(page);
  await ctx.close();
  return {
    note,
    queued,
    v1Requests: log.requests.length + log.beacons.length,
    pageErrors: log.pageErrors,
    consoleErrors: log.consoleErrors,
    hostErrors: errors,
  };
}

/** (2) Calls made through the inline stub before /s.js has loaded arrive, in order, after the page view. */
async function stub(browser) {
  const head = `<script>${STUB};
window.__wasStub = Array.isArray(daytwo);
daytwo.identify("stub-user", {plan: "pro"});
daytwo.track("Stub First", {n: 1});
daytwo.track("Stub Second", {n: 2});
daytwo.group("stub-co", {name: "Stub Co"});
daytwo.track("Stub Third", {n: 3});
window.__queued = daytwo.length;
</script>`;
  const { ctx, log, at } = await newContext(browser, { pages: { "stub.html": testPage({ key: KEYS.stub, head }) } });
  // Hold /s.js back a little, so the calls above are certainly made before it runs.
  let scriptRequestedAt = 0;
  await ctx.route(`${BASE}/s.js`, async (route) => {
    scriptRequestedAt = Date.now();
    await sleep(400);
    await route.continue();
  });
  const page = await ctx.newPage();
  await page.goto(at("stub.html"));
  const wasStub = await page.evaluate(() => window.__wasStub);
  const queued = await page.evaluate(() => window.__queued);
  await snippetLoaded(page);
  await sent(log, 1);
  await sleep(300);
  const errors = await hostErrors(page);
  await ctx.close();
  return {
    wasStub,
    queued,
    scriptDelayed: scriptRequestedAt > 0,
    requests: log.requests.length,
    messages: messagesOf(log).map(summary),
    statuses: log.statuses,
    pageErrors: log.pageErrors,
    consoleErrors: log.consoleErrors,
    hostErrors: errors,
  };
}

/**
 * (3) What is queued when the page goes away leaves with sendBeacon: on navigation, on closing the tab, and
 * when the page becomes hidden. Each case sends an Order Completed with its own revenue, so the Rust side can
 * tell from the Worker's account list which ones arrived: 1.01 (navigate), 2.02 (close), 3.03 (hidden).
 */
async function beacon(browser) {
  const pages = {
    "beacon.html": testPage({ key: KEYS.beacon, title: "Beacon test" }),
    "next.html": '<!doctype html><title>next</title><link rel=icon href="data:,"><p>next page (no snippet)</p>',
  };
  const { ctx, log, at } = await newContext(browser, { pages, keepBeacons: true });
  const out = {};
  const since = (n) => messagesOf(log).slice(n).map(summary);

  /** Opens the test page, waits for its page view to be sent, then runs `leave` right after a track. */
  async function one(name, revenue, leave) {
    const page = await ctx.newPage();
    await page.goto(at("beacon.html"));
    await snippetLoaded(page);
    const n0 = sends(log);
    await sent(log, n0 + 1); // the automatic page view, by fetch after ~1 s
    const before = sends(log);
    const m0 = messagesOf(log).length;
    // The page's clock, as the beacon records (and the batch timer) use it.
    const t0 = await page.evaluate((r) => {
      daytwo.track("Order Completed", { revenue: r, currency: "USD" });
      return Date.now();
    }, revenue);
    const errors = await leave(page);
    await sent(log, before + 1, 5000);
    const beaconAt = log.beacons.filter((b) => b.at >= t0).map((b) => b.at);
    const sendMs = beaconAt.length ? Math.min(...beaconAt) - t0 : null;
    out[name] = { revenue, sendMs, messages: since(m0), hostErrors: errors };
    return page;
  }

  // a) navigate away at once (the 1 s batch timer never fires on that page).
  const p1 = await one("navigate", 1.01, async (page) => {
    const e = await hostErrors(page);
    await page.goto(at("next.html"));
    await collectBeacons(page, log);
    return e;
  });
  // b) close the tab (runs pagehide).
  await one("close", 2.02, async (page) => {
    const e = await hostErrors(page);
    await page.close({ runBeforeUnload: true });
    return e;
  });
  // c) the page becomes hidden (a tab switch): visibilitychange → hidden sends at once, before the timer.
  const p3 = await one("hidden", 3.03, async (page) => {
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
      Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
      document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
    });
    return hostErrors(page);
  });
  await sleep(300);
  out.pingRequests = log.requests.filter((r) => r.type === "ping").map((r) => ({ url: r.url, contentType: r.contentType }));
  out.beacons = log.beacons.map((b) => ({ url: b.url, ok: b.ok }));
  out.messages = messagesOf(log).map(summary);
  out.statuses = log.statuses;
  out.pageErrors = log.pageErrors;
  out.consoleErrors = log.consoleErrors;
  await p1.close();
  await p3.close();
  await ctx.close();
  return out;
}

/** (4) utm_* parameters of the landing URL end up in context.campaign. On the Worker's own origin. */
async function utm(browser) {
  const { ctx, log, at, origin } = await newContext(browser, {
    pages: { "landing.html": testPage({ key: KEYS.utm, title: "Landing" }) },
    sameOrigin: true,
  });
  const page = await ctx.newPage();
  await page.goto(
    `${at("landing.html")}?utm_source=newsletter&utm_medium=email&utm_campaign=spring%20sale&utm_term=inventory+software&utm_content=hero&ref=x`,
  );
  await snippetLoaded(page);
  await page.evaluate(() => daytwo.track("Landing CTA Clicked"));
  await sent(log, 1);
  await sleep(300);
  const errors = await hostErrors(page);
  await settled(log);
  await ctx.close();
  return {
    pageOrigin: origin,
    requests: log.requests.map((r) => ({ url: r.url, type: r.type, origin: r.origin, pageOrigin: r.pageOrigin })),
    messages: messagesOf(log).map(summary),
    statuses: log.statuses,
    pageErrors: log.pageErrors,
    consoleErrors: log.consoleErrors,
    hostErrors: errors,
  };
}

/** (5) With Global Privacy Control or Do Not Track on, no request to /v1/ at all; the API stays callable. */
async function privacy(browser) {
  const results = {};
  const variants = {
    gpc: () => Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { configurable: true, get: () => true }),
    dnt: () => Object.defineProperty(Navigator.prototype, "doNotTrack", { configurable: true, get: () => "1" }),
    windowDnt: () => Object.defineProperty(window, "doNotTrack", { configurable: true, get: () => "1" }),
  };
  for (const [name, init] of Object.entries(variants)) {
    const head = `<script>${STUB};daytwo.track("Queued Before Load");</script>`;
    const { ctx, log, at } = await newContext(browser, {
      init: [init],
      pages: { "private.html": testPage({ key: KEYS.privacy, head }), "next.html": "<!doctype html><title>n</title><link rel=icon href=\"data:,\">" },
    });
    const page = await ctx.newPage();
    await page.goto(at("private.html"));
    await snippetLoaded(page);
    const seen = await page.evaluate(() => ({
      gpc: navigator.globalPrivacyControl,
      dnt: navigator.doNotTrack,
      windowDnt: window.doNotTrack,
    }));
    const calls = await page.evaluate(() => {
      const r = [];
      for (const f of [
        () => daytwo.page(),
        () => daytwo.track("Private Event", { a: 1 }),
        () => daytwo.identify("private-user", { email: "p@example.com" }),
        () => daytwo.group("private-co", { name: "P" }),
        ...Array.from({ length: 12 }, (_, i) => () => daytwo.track("Burst " + i)),
      ]) {
        try {
          r.push(f() === undefined ? "ok" : "returned something");
        } catch (e) {
          r.push("threw " + e);
        }
      }
      return r;
    });
    await sleep(1500); // past the batch timer
    await page.goto(at("next.html")); // and a page hide
    await sleep(500);
    const storage = await page.evaluate(() => localStorage.length);
    const errors = await hostErrors(page);
    await ctx.close();
    results[name] = {
      signal: seen,
      calls,
      v1Requests: log.requests.length,
      localStorage: storage,
      statuses: log.statuses,
      pageErrors: log.pageErrors,
      consoleErrors: log.consoleErrors,
      hostErrors: errors,
    };
  }
  return results;
}

/** (6) No cookies, nothing in localStorage or sessionStorage by default; data-storage="local" opts in. */
async function storage(browser) {
  const pages = {
    "plain.html": testPage({ key: KEYS.plain, title: "Plain" }),
    "local.html": testPage({ key: KEYS.plain, title: "Local storage", attrs: ' data-storage="local"' }),
  };
  const { ctx, log, at } = await newContext(browser, { pages });
  const page = await ctx.newPage();
  const anon = [];
  for (let i = 0; i < 2; i++) {
    const n = sends(log);
    await page.goto(at("plain.html"));
    await snippetLoaded(page);
    await page.evaluate(() => daytwo.identify("plain-user-" + Math.random()));
    await sent(log, n + 1);
  }
  await sleep(300);
  const plain = {
    cookies: await ctx.cookies(),
    documentCookie: await page.evaluate(() => document.cookie),
    localStorage: await page.evaluate(() => Object.keys(localStorage)),
    sessionStorage: await page.evaluate(() => Object.keys(sessionStorage)),
  };
  for (const m of messagesOf(log)) if (m.type === "page") anon.push(m.anonymousId);
  // Opt-in: the ids survive a reload through localStorage, and still no cookie.
  const before = messagesOf(log).length;
  for (let i = 0; i < 2; i++) {
    const n = sends(log);
    await page.goto(at("local.html"));
    await snippetLoaded(page);
    if (i === 0) await page.evaluate(() => daytwo.identify("local-user"));
    await sent(log, n + 1);
  }
  await sleep(300);
  const local = {
    cookies: await ctx.cookies(),
    localStorage: await page.evaluate(() => Object.keys(localStorage)),
    messages: messagesOf(log).slice(before).map(summary),
  };
  const errors = await hostErrors(page);
  await ctx.close();
  return {
    plain: { ...plain, pageViewAnonymousIds: anon },
    local,
    statuses: log.statuses,
    pageErrors: log.pageErrors,
    consoleErrors: log.consoleErrors,
    hostErrors: errors,
  };
}

/** (7) Misuse and an unreachable endpoint never throw into the host page. */
async function errors(browser) {
  const port = await closedPort();
  const endpoint = `http://127.0.0.1:${port}`;
  const misuse = `<script>${STUB};daytwo.track();daytwo.identify();daytwo.group();daytwo.page(42,null);</script>`;
  const pages = {
    "down.html": testPage({ key: KEYS.errors, title: "Endpoint down", attrs: ` data-endpoint="${endpoint}"`, head: misuse }),
    "misuse.html": testPage({ key: KEYS.errors, title: "Misuse", head: misuse }),
    "bare.html": `<!doctype html><title>bare</title><link rel=icon href="data:,"><script async src="${BASE}/s.js"></script>`,
    "next.html": '<!doctype html><title>n</title><link rel=icon href="data:,">',
  };
  const out = {};
  for (const name of ["down", "misuse", "bare"]) {
    const { ctx, log, at } = await newContext(browser, { pages });
    const page = await ctx.newPage();
    await page.goto(at(`${name}.html`));
    await snippetLoaded(page);
    const calls = await page.evaluate(() => {
      const circular = { a: 1 };
      circular.self = circular;
      const r = [];
      for (const f of [
        () => daytwo.track(),
        () => daytwo.track(null, null),
        () => daytwo.track("String Props", "not an object"),
        () => daytwo.track("Circular", circular),
        () => daytwo.identify(),
        () => daytwo.identify(null, 5),
        () => daytwo.identify({ email: "anon@example.com" }),
        () => daytwo.group(undefined, "x"),
        () => daytwo.page({ section: "docs" }),
        () => daytwo.page(12345),
        () => daytwo.track(Symbol("nope")),
        () => daytwo.track("Normal", { ok: true }),
        ...Array.from({ length: 12 }, (_, i) => () => daytwo.track("Burst " + i)),
      ]) {
        try {
          f();
          r.push("ok");
        } catch (e) {
          r.push("threw " + e);
        }
      }
      return r;
    });
    await sleep(1500); // the batch timer fires (and its fetch fails, for "down")
    await page.evaluate(() => daytwo.track("Before Leaving"));
    const host = await hostErrors(page);
    await page.goto(at("next.html")); // page hide → sendBeacon (to nowhere, for "down")
    await sleep(500);
    await ctx.close();
    out[name] = {
      calls,
      hostErrors: host,
      statuses: log.statuses,
      pageErrors: log.pageErrors,
      consoleErrors: log.consoleErrors,
      requests: log.requests.map((r) => ({ url: r.url, type: r.type })),
      failed: log.failed,
      messages: messagesOf(log).map(summary),
    };
  }
  out.endpoint = endpoint;
  return out;
}

// ---------------------------------------------------------------------------------------------------------

const SCENARIOS = { shop, noconfig, stub, beacon, utm, privacy, storage, errors };

async function main() {
  if (process.env.EXIT_WITH_STDIN === "1") {
    process.stdin.on("end", () => process.exit(3)); // Playwright closes its browsers on exit
    process.stdin.on("error", () => process.exit(3));
    process.stdin.resume();
  }
  const only = (process.env.ONLY || "").split(",").filter(Boolean);
  SITE = await startStaticServer({ port: STATIC_PORT, dirs: { "/demo/": path.join(process.cwd(), "assets/demo") } });
  // launch() runs the browser on a fresh, temporary user-data dir of its own (and removes it on close).
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ARGS,
    headless: true,
  });
  const result = { base: BASE, origin: SITE.origin, chromium: browser.version(), scenarios: {} };
  try {
    for (const [name, run] of Object.entries(SCENARIOS)) {
      if (only.length && !only.includes(name)) continue;
      const started = Date.now();
      try {
        result.scenarios[name] = await run(browser);
      } catch (e) {
        result.scenarios[name] = { error: String((e && e.stack) || e) };
      }
      result.scenarios[name].ms = Date.now() - started;
      console.error(`snippet.mjs: ${name} done in ${Date.now() - started} ms`);
    }
  } finally {
    await browser.close();
    await SITE.close();
  }
  // Exit once the line is out (an open stdin would otherwise keep the process alive).
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
