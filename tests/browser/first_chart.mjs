// `cargo xtask bench --first-chart` (xtask/src/first_chart.rs), the browser side: how long an executive waits
// for the first chart when the intranet page that embeds the widget opens, in headless Chromium
// (playwright-core, Debian's /usr/bin/chromium).
//
// Configuration in the FIRST_CHART environment variable (JSON):
//   { base, site, token, staticPort, runs, out, timeoutMs }
// The intranet page is served by static_server.mjs on 127.0.0.1:staticPort, another origin than the Worker's
// (`base`), and embeds the widget with one tag, as the README shows:
//   <daytwo-dashboard site=… token=…></daytwo-dashboard> <script type="module" src="BASE/widget/daytwo.js">
// so the module, its glue, the wasm and every API call are cross-origin requests, as users have them.
//
// One warm-up navigation (reported apart, not in the figures), then `runs` navigations, each in a fresh
// browser context (its own empty HTTP cache), each followed by a reload in the same context (the second visit:
// the widget's files revalidated, `Cache-Control: max-age=0, must-revalidate`). Every time is the page's own
// clock: `performance.now()`, milliseconds since the navigation started. An init script (before any page
// script) watches every shadow root the page attaches with a MutationObserver and records when
//   - the first KPI value is in the DOM with its text (`[data-kpi=cac] .dt-kpi-value`),
//   - the first chart is in the DOM (`#panel-overview svg[role=img]`),
// and, for each, the end of the next frame (requestAnimationFrame, then a message: after that frame's paint),
// and times WebAssembly.instantiateStreaming/instantiate (the widget's compile + instantiate). Resource
// Timing gives each file's and each API call's start and end and, where the browser exposes them, the widget
// files' sizes; Playwright's request sizes give the bytes received whatever the page may see.
// Writes the measurements as JSON to `out`; exits non-zero (with the reason) if a chart never shows.

import { chromium } from "playwright-core";
import { writeFileSync } from "node:fs";
import { startStaticServer } from "./static_server.mjs";

const cfg = JSON.parse(process.env.FIRST_CHART || "{}");
if (process.env.EXIT_WITH_STDIN === "1") {
  // The Rust side holds stdin open: when it goes away, exit (Playwright closes the browser on exit).
  process.stdin.on("end", () => process.exit(3));
  process.stdin.on("error", () => process.exit(3));
  process.stdin.resume();
}
const RUNS = cfg.runs || 7;
const TIMEOUT = cfg.timeoutMs || 60_000;
const KPI = "[data-kpi=cac] .dt-kpi-value";
const CHART = "#panel-overview svg[role=img]";

// Runs in the page before any of its scripts.
function instrument([KPI, CHART]) {
  const fc = (window.__fc = { kpi: null, chart: null, kpiFrame: null, chartFrame: null, shadow: null, error: null, wasm: [], done: false });
  const roots = [];
  const settle = () => {
    fc.done = fc.error !== null || (fc.kpiFrame !== null && fc.chartFrame !== null);
  };
  // The end of the frame that shows what is in the DOM now: the next animation frame, then a task after it.
  const afterFrame = (key) =>
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        fc[key] = performance.now();
        settle();
      };
      ch.port2.postMessage(0);
    });
  const check = () => {
    const t = performance.now();
    for (const r of roots) {
      if (fc.kpi === null) {
        const el = r.querySelector(KPI);
        if (el && el.textContent.trim() !== "") {
          fc.kpi = t;
          afterFrame("kpiFrame");
        }
      }
      if (fc.chart === null && r.querySelector(CHART)) {
        fc.chart = t;
        afterFrame("chartFrame");
      }
      if (fc.error === null) {
        // An error panel (`data-error`), the module's load error (a bare alert), or no data for the period.
        const e = r.querySelector("[data-error], :scope > p[role=alert], #panel-overview .dt-empty");
        if (e) fc.error = { t, text: (e.getAttribute("data-error") || "") + " " + e.textContent.trim().slice(0, 300) };
      }
    }
    settle();
  };
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    if (fc.shadow === null) fc.shadow = performance.now();
    roots.push(root);
    new MutationObserver(check).observe(root, { childList: true, subtree: true, characterData: true, attributes: true });
    return root;
  };
  for (const name of ["instantiateStreaming", "instantiate"]) {
    const f = WebAssembly[name];
    if (typeof f !== "function") continue;
    WebAssembly[name] = function (...args) {
      const start = performance.now();
      const p = f.apply(this, args);
      p.then(() => fc.wasm.push({ name, start, end: performance.now() }), () => {});
      return p;
    };
  }
}

// What the page's clock and Resource Timing say once the chart is shown.
function collect() {
  const nav = performance.getEntriesByType("navigation")[0] || {};
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const resources = performance.getEntriesByType("resource").map((r) => ({
    name: r.name,
    initiatorType: r.initiatorType,
    startTime: r.startTime,
    responseEnd: r.responseEnd,
    transferSize: r.transferSize,
    encodedBodySize: r.encodedBodySize,
    decodedBodySize: r.decodedBodySize,
  }));
  const { done, ...marks } = window.__fc;
  return {
    marks,
    navigation: { responseEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd },
    fcp: fcp ? fcp.startTime : null,
    resources,
  };
}

const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Intranet: marketing review</title>
<style>body{font:16px system-ui,sans-serif;margin:24px;max-width:1100px}</style></head><body>
<h1>Marketing review</h1><p>Where the budget goes, and what it brings back.</p>
<daytwo-dashboard site="${cfg.site}" token="${cfg.token}"></daytwo-dashboard>
<script type="module" src="${cfg.base}/widget/daytwo.js"></script>
</body></html>`;

const SITE = await startStaticServer({ port: cfg.staticPort || 0 });
const url = `${SITE.origin}/intranet/review.html`;
SITE.set("/intranet/review.html", page);
if (SITE.origin === cfg.base) throw new Error("the intranet page must be on another origin than the Worker");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

/** One navigation of `p` (goto or reload) to the first chart; its measurements. */
async function measure(p, navigate) {
  // Bytes received per widget file (Playwright's view, whatever the page's Resource Timing exposes).
  const sizes = [];
  const onFinished = (req) => {
    if (req.url().startsWith(`${cfg.base}/widget/`)) {
      const sized = async () => {
        const res = await req.response();
        return { url: req.url(), status: res?.status(), encoding: (await res?.allHeaders())?.["content-encoding"] || null, ...(await req.sizes()) };
      };
      sizes.push(sized().catch(() => null));
    }
  };
  // The API's answers: status and which path answered (`x-daytwo-read-model`: the read model or a full fold).
  const api = [];
  const onResponse = (res) => {
    if (res.url().startsWith(`${cfg.base}/v1/`)) {
      api.push(res.allHeaders().then((h) => ({ path: new URL(res.url()).pathname, status: res.status(), readModel: h["x-daytwo-read-model"] || null })).catch(() => null));
    }
  };
  p.on("requestfinished", onFinished);
  p.on("response", onResponse);
  await navigate();
  try {
    await p.waitForFunction(() => window.__fc && window.__fc.done, null, { timeout: TIMEOUT, polling: 50 });
  } catch (e) {
    const fc = await p.evaluate(() => window.__fc).catch(() => null);
    const why = !fc || fc.shadow === null ? "the widget never mounted: its module or wasm did not load" : fc.chart === null ? "the widget mounted but drew no chart" : "the chart was never painted";
    throw new Error(`no chart after ${TIMEOUT} ms on ${p.url()}: ${why} (page state: ${JSON.stringify(fc)})`);
  }
  const error = await p.evaluate(() => window.__fc.error);
  if (error) throw new Error(`the widget shows an error instead of the chart: ${error.text}`);
  // The times are recorded; let the last requests finish (Resource Timing lists finished ones only), then read.
  await p.waitForLoadState("networkidle", { timeout: TIMEOUT });
  const m = await p.evaluate(collect);
  p.off("requestfinished", onFinished);
  p.off("response", onResponse);
  m.sizes = (await Promise.all(sizes)).filter(Boolean);
  m.api = (await Promise.all(api)).filter(Boolean);
  return m;
}

async function visit() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  context.setDefaultTimeout(TIMEOUT);
  await context.addInitScript(instrument, [KPI, CHART]);
  const p = await context.newPage();
  const errors = [];
  p.on("pageerror", (e) => errors.push(String(e)));
  p.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  try {
    const cold = await measure(p, () => p.goto(url, { waitUntil: "commit", timeout: TIMEOUT }));
    const warm = await measure(p, () => p.reload({ waitUntil: "commit", timeout: TIMEOUT }));
    return { cold, warm, errors };
  } finally {
    await context.close();
  }
}

let exit = 0;
try {
  const warmup = await visit();
  console.error(`warm-up: first chart at ${warmup.cold.marks.chart.toFixed(0)} ms`);
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await visit();
    runs.push(r);
    console.error(`run ${i + 1}/${RUNS}: KPI ${r.cold.marks.kpi.toFixed(0)} ms, chart ${r.cold.marks.chart.toFixed(0)} ms, painted ${r.cold.marks.chartFrame.toFixed(0)} ms; second visit: chart ${r.warm.marks.chart.toFixed(0)} ms`);
  }
  writeFileSync(cfg.out, JSON.stringify({ url, base: cfg.base, chromium: browser.version(), warmup, runs }, null, 1));
} catch (e) {
  console.error(`first_chart: ${e.message || e}`);
  exit = 1;
} finally {
  await browser.close().catch(() => {});
  await SITE.close();
}
process.exit(exit);
