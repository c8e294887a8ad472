// End-to-end test of the dashboard widget in headless Chromium (playwright-core), driven by
// tests/e2e/browser_widget.rs, which starts the Worker, loads a generated site and passes the
// configuration in the WIDGET_E2E environment variable (JSON):
//   { base, site, token, readToken, expiredToken, emptySite, emptyToken, partialSite, partialToken, screenshots, userDataDir,
//     xssName, xssCampaign, staticPort, cspWriteKey, csp }
// Intranet pages come from another origin than the Worker's, as in production: a static server
// (static_server.mjs) on 127.0.0.1:staticPort, an origin the sites list in allowed_origins. Their tag is
// <script type="module" src="BASE/widget/daytwo.js">, so the module, its glue, the wasm and every API call are
// cross-origin (CORS) requests. One page (the plain reference page) and the demo intranet page also run on the
// Worker's own origin (page routes), the same-origin embed. A page served with the Content-Security-Policy
// the README documents (`csp`, with WORKER standing for the Worker's origin) shows the figures and sends the
// snippet's events (site of cspWriteKey) without a violation; without 'wasm-unsafe-eval' it shows the widget's
// load error. The widget and the API are real.
// Prints one line per check; exits non-zero if any failed.

import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startStaticServer } from "./static_server.mjs";

const cfg = JSON.parse(process.env.WIDGET_E2E || "{}");
if (process.env.EXIT_WITH_STDIN === "1") {
  // The Rust side holds stdin open: when it goes away, exit (Playwright closes the browser on exit).
  process.stdin.on("end", () => process.exit(3));
  process.stdin.on("error", () => process.exit(3));
  process.stdin.resume();
}
const SHOTS = cfg.screenshots;
mkdirSync(SHOTS, { recursive: true });
const TIMEOUT = 90_000;

// ---------------------------------------------------------------------------------------------------
// The widget's formatting rules (frontend/src/format.rs), to compare the API's numbers with the screen.
const MINUS = "\u2212";
function group(plain) {
  const neg = plain.startsWith("-");
  const s = neg ? plain.slice(1) : plain;
  const [i, f] = s.split(".");
  const g = i.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (neg ? "-" : "") + g + (f !== undefined ? "." + f : "");
}
function fixed(x, d) {
  const n = Math.sign(x) * Math.round(Math.abs(x) * 10 ** d);
  const neg = n < 0;
  const digits = String(Math.abs(n)).padStart(d + 1, "0");
  const plain = d === 0 ? digits : digits.slice(0, -d) + "." + digits.slice(-d);
  return group((neg ? "-" : "") + plain);
}
const minus = (s) => (s.startsWith("-") ? MINUS + s.slice(1) : s);
function money(minor, code = "USD") {
  const abs = Math.abs(minor);
  const s = group(`${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`);
  return minor < 0 ? `${MINUS}${code} ${s}` : `${code} ${s}`;
}
const moneyOpt = (m) => (m === null ? "—" : money(m));
const pct = (x) => (x === null ? "—" : minus(fixed(x * 100, 1)) + "%");
const times = (x) => (x === null ? "—" : minus(fixed(x, 2)) + "×");
const count = (n) => group(String(n));

// ---------------------------------------------------------------------------------------------------
let failures = 0;
function check(ok, what, detail = "") {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? " — " + detail : ""}`);
  if (!ok) failures++;
  return ok;
}
function eq(actual, expected, what) {
  return check(actual === expected, what, actual === expected ? actual : `got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`);
}

async function api(path, token = cfg.token, site = cfg.site) {
  const r = await fetch(`${cfg.base}/v1/sites/${site}/${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

const HOSTILE_CSS = `
  * { font-family: "Comic Sans MS", cursive !important; color: purple !important; }
  body { background: #fffbe6; font-size: 19px; line-height: 2.4; letter-spacing: .1em; text-transform: uppercase; }
  h2 { color: red !important; font-size: 44px; }
  h3 { color: red !important; text-decoration: underline; }
  button, select, input { background: yellow !important; border: 4px ridge orange !important; padding: 14px; }
  table { border: 5px dashed green; } td, th { padding: 22px; border: 2px dotted blue; }
  div { margin: 3px; } svg { display: none; } p { margin: 40px 0; }
`;

// The intranet page: the widget's module comes from the Worker (`src`: absolute, cross-origin by default).
function page(body, css = HOSTILE_CSS, src = `${cfg.base}/widget/daytwo.js`) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Intranet</title><style>${css}</style></head><body>
<h2>Intranet: marketing review</h2><table><tr><td>An intranet table</td></tr></table>
${body}
<script type="module" src="${src}"></script></body></html>`;
}

const tag = (attrs) => `<daytwo-dashboard ${Object.entries(attrs).map(([k, v]) => `${k}="${v}"`).join(" ")}></daytwo-dashboard>`;

// Styles that host CSS would change if it leaked into the widget.
const STYLE_PROBES = ["h2.dt-title", ".dt-tab[aria-selected=true]", ".dt-btn", ".dt-table", ".dt-kpi-value", ".dt-verdict-msg", "svg.dt-chart", ".dt-select"];
const STYLE_PROPS = ["color", "font-family", "font-size", "background-color", "border-top-style", "border-top-width", "text-transform", "letter-spacing", "line-height", "display", "text-decoration-line"];

async function computedStyles(dash) {
  return dash.evaluate(
    (host, [probes, props]) => {
      const out = {};
      for (const sel of probes) {
        const el = host.shadowRoot.querySelector(sel);
        if (!el) { out[sel] = null; continue; }
        const cs = getComputedStyle(el);
        out[sel] = Object.fromEntries(props.map((p) => [p, cs.getPropertyValue(p)]));
      }
      return out;
    },
    [STYLE_PROBES, STYLE_PROPS],
  );
}

async function waitFor(fn, what, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what} (${last})`);
}

// The other origin: the intranet's own web server.
const SITE = await startStaticServer({ port: cfg.staticPort || 0, dirs: { "/demo/": join(process.cwd(), "assets/demo") } });
const ORIGIN = SITE.origin;

/** Serves `html` at `path` on the intranet's origin (another origin than the Worker's); its URL. */
function serve(path, html, headers = {}) {
  SITE.set(path, html, { headers });
  return `${ORIGIN}${path}`;
}

/** Serves `html` at `path` on the Worker's own origin (a page route), for the same-origin embed; its URL. */
async function serveSameOrigin(context, path, html) {
  await context.route(`${cfg.base}${path}`, (route) => route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: html }));
  return `${cfg.base}${path}`;
}

// Every response from the Worker, with the request's Origin and the answer's Access-Control-Allow-Origin.
// Reading headers is asynchronous, so each response is recorded as a promise, pushed synchronously when the
// response event fires; `settled()` gives the records of all responses seen so far, none missing.
function watchWorkerRequests(p) {
  const pending = [];
  p.on("response", (res) => {
    if (!res.url().startsWith(cfg.base + "/")) return;
    pending.push((async () => ({
      path: new URL(res.url()).pathname,
      status: res.status(),
      origin: (await res.request().allHeaders())["origin"] || null,
      allowOrigin: (await res.allHeaders())["access-control-allow-origin"] || null,
    }))());
  });
  return { settled: () => Promise.all(pending) };
}

function watchConsole(p) {
  const errors = [];
  p.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  p.on("pageerror", (e) => errors.push(String(e)));
  return errors;
}

const kpi = (dash, id) => dash.locator(`[data-kpi=${id}] .dt-kpi-value`).textContent();
const tab = (dash, name) => dash.locator("[role=tab]", { hasText: name });

// ---------------------------------------------------------------------------------------------------
const context = await chromium.launchPersistentContext(cfg.userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
  acceptDownloads: true,
  deviceScaleFactor: 1,
});
context.setDefaultTimeout(TIMEOUT);

try {
  // -------------------------------------------------------------------------------------------------
  // 1. A plain page on the Worker's own origin (the same-origin embed, `/widget/daytwo.js`): the reference
  //    look (and computed styles) of the widget.
  {
    const p = await context.newPage();
    const errs = watchConsole(p);
    const url = await serveSameOrigin(context, "/e2e/plain.html", page(tag({ site: cfg.site, token: cfg.token }), "", "/widget/daytwo.js"));
    await p.goto(url);
    const dash = p.locator("daytwo-dashboard");
    await dash.locator("[data-kpi=cac] .dt-kpi-value").waitFor();
    eq(new URL(p.url()).origin, cfg.base, "same-origin page: served by the Worker's origin");
    const b = await api("reports/budget");
    eq(await kpi(dash, "acquisition_spend"), money(b.acquisition.spend_minor), "same-origin page: the widget renders the figures (acquisition spend = API)");
    eq(errs.join("\n"), "", "same-origin page: no console errors");
    globalThis.referenceStyles = await computedStyles(dash);
    await p.close();
  }

  // -------------------------------------------------------------------------------------------------
  // 2. The hostile intranet page: figures, views, XSS, styles, CSV, print.
  const p = await context.newPage();
  const errors = watchConsole(p);
  const watcher = watchWorkerRequests(p);
  let wasmLoads = 0;
  p.on("request", (r) => { if (r.url().endsWith("/daytwo_widget_bg.wasm")) wasmLoads++; });
  const url = serve("/e2e/intranet.html", page(tag({ site: cfg.site, token: cfg.token })));
  await p.goto(url);
  const dash = p.locator("daytwo-dashboard");
  await dash.locator("[data-kpi=cac] .dt-kpi-value").waitFor();

  // A cross-origin embed: the page on the intranet's origin, the widget and the API on the Worker's.
  const workerRequests = await watcher.settled();
  check(ORIGIN !== cfg.base && new URL(p.url()).origin === ORIGIN, "the intranet page is on another origin than the Worker", `${ORIGIN} vs ${cfg.base}`);
  for (const file of ["/widget/daytwo.js", "/widget/daytwo_widget_bg.wasm"]) {
    const r = workerRequests.find((w) => w.path === file);
    check(r && r.status === 200 && r.origin === ORIGIN && r.allowOrigin === "*", `${file} loaded cross-origin (Origin ${ORIGIN}, Access-Control-Allow-Origin *)`, JSON.stringify(r));
  }
  const apiCalls = workerRequests.filter((w) => w.path.startsWith("/v1/"));
  check(apiCalls.length > 0 && apiCalls.every((w) => w.status === 200 && w.origin === ORIGIN && w.allowOrigin === ORIGIN), "API calls are CORS requests the Worker allows for this origin", JSON.stringify(apiCalls.slice(0, 2)));

  // The period the widget shows, and the API's report for it.
  const [from, to] = (await dash.locator(".dt-sub").getAttribute("data-period")).split("/");
  check(/^\d{4}-\d\d-\d\d$/.test(from) && /^\d{4}-\d\d-\d\d$/.test(to) && from < to, `period ${from} .. ${to}`);
  const budget = await api(`reports/budget?from=${from}&to=${to}`);
  const a = budget.acquisition, r = budget.retention;
  eq(await kpi(dash, "acquisition_spend"), money(a.spend_minor), "acquisition spend = API");
  eq(await kpi(dash, "retention_spend"), money(r.spend_minor), "retention spend = API");
  eq(await kpi(dash, "revenue_new"), money(a.revenue_minor), "revenue from new customers = API");
  eq(await kpi(dash, "revenue_existing"), money(r.revenue_minor), "revenue from existing customers = API");
  eq(await kpi(dash, "cac"), moneyOpt(a.cac_minor), "CAC = API");
  eq(await kpi(dash, "retention_rate"), pct(r.retention_rate), "retention rate = API");
  eq(await kpi(dash, "ltv"), moneyOpt(budget.ltv_minor), "LTV = API");
  eq(await kpi(dash, "ltv_to_cac"), times(budget.ltv_to_cac), "LTV:CAC = API");
  eq(await dash.locator(".dt-verdict-msg").first().textContent(), budget.verdict.message, "verdict sentence = API");
  eq(await dash.locator("[data-fact=acquisition_share]").textContent(), pct(budget.verdict.acquisition_spend_share), "verdict: acquisition share = API");
  eq(await dash.locator("[data-fact=new_revenue_share]").textContent(), pct(budget.verdict.new_revenue_share), "verdict: new revenue share = API");
  eq(await dash.locator("[data-verdict]").getAttribute("data-verdict"), budget.verdict.kind, "verdict kind = API");
  const compare = await dash.locator("#panel-overview table").last().innerText();
  check(compare.includes(money(budget.previous.acquisition.spend_minor)), "previous period's acquisition spend shown", money(budget.previous.acquisition.spend_minor));
  const splitLabel = await dash.locator("#panel-overview svg[role=img]").first().getAttribute("aria-label");
  check(splitLabel.includes(money(a.spend_minor)), "split chart has an accessible name with the figures", splitLabel.slice(0, 90) + "…");
  const overviewText = await dash.locator("#panel-overview").innerText();
  check(!/NaN|Infinity|undefined/.test(overviewText), "no NaN/Infinity/undefined on screen");
  check(budget.data_status.complete === true && (await dash.locator(".dt-notice").count()) === 0, "complete figures carry no notice");
  await dash.screenshot({ path: join(SHOTS, "overview.png") });

  // Host CSS does not restyle the widget: the same computed styles as on the plain page.
  const hostile = await computedStyles(dash);
  for (const sel of STYLE_PROBES) {
    eq(JSON.stringify(hostile[sel]), JSON.stringify(globalThis.referenceStyles[sel]), `computed style of ${sel} unaffected by host CSS`);
  }
  check(!hostile["h2.dt-title"]["font-family"].includes("Comic"), "title font is not the host's Comic Sans", hostile["h2.dt-title"]["font-family"]);
  check(hostile["h2.dt-title"].color !== "rgb(255, 0, 0)", "title is not the host's red", hostile["h2.dt-title"].color);
  check(hostile[".dt-btn"]["background-color"] !== "rgb(255, 255, 0)", "buttons are not the host's yellow", hostile[".dt-btn"]["background-color"]);
  check(hostile["svg.dt-chart"].display !== "none", "charts are not hidden by the host's svg rule");

  // Keyboard: the tabs follow the arrow keys, with a visible focus ring.
  await tab(dash, "Overview").focus();
  await p.keyboard.press("ArrowRight");
  eq(await dash.locator("[role=tab][aria-selected=true]").textContent(), "Lifecycle", "ArrowRight selects the next tab");
  const outline = await dash.locator("[role=tab][aria-selected=true]").evaluate((el) => getComputedStyle(el).outlineStyle);
  check(outline !== "none", "the focused tab shows a focus outline", outline);

  // Lifecycle: stage counts and the funnel, as the API says.
  await dash.locator("#panel-lifecycle svg[role=img]").first().waitFor();
  const asOf = await api(`reports/lifecycle?as_of=${addDays(to, -1) < today() ? addDays(to, -1) : today()}`);
  const stagesLabel = await dash.locator("#panel-lifecycle svg[role=img]").first().getAttribute("aria-label");
  for (const [key, label] of [["prospect", "Prospect"], ["lead", "Lead"], ["new_customer", "New customer"], ["active", "Active customer"], ["at_risk", "At risk"], ["lapsed", "Lapsed"]]) {
    check(stagesLabel.includes(`${label}: ${count(asOf.stages[key])} ·`), `stage ${key} = API (${asOf.stages[key]})`);
  }
  eq(await dash.locator("[data-fact=overall_conversion]").textContent(), `Overall conversion from awareness to purchase: ${pct(budget.funnel.conversion.overall)}.`, "funnel overall conversion = API");
  await dash.screenshot({ path: join(SHOTS, "lifecycle.png") });

  // Engagement: bands and the at-risk table (names, playbook actions), then a drill-down.
  await tab(dash, "Engagement").click();
  const engagement = await api(`reports/engagement?as_of=${asOf.as_of}`);
  const atRisk = await api(`accounts?stage=at_risk&sort=score&limit=20&as_of=${asOf.as_of}`);
  await waitFor(async () => (await dash.locator("#panel-engagement .dt-loading").count()) === 0, "engagement to load");
  const bandsLabel = await dash.locator("#panel-engagement svg[role=img]").first().getAttribute("aria-label");
  check(bandsLabel.includes(`Engaged: ${count(engagement.bands.engaged)} ·`) && bandsLabel.includes(`Disengaged: ${count(engagement.bands.disengaged)} ·`), "bands = API", bandsLabel);
  const rows = dash.locator("table.dt-accounts tbody tr");
  eq(await rows.count(), atRisk.accounts.length, "at-risk rows = API");
  if (atRisk.accounts.length > 0) {
    const first = atRisk.accounts[0];
    eq(await rows.first().locator("th").textContent(), first.name || first.id, "first at-risk account = API");
    await waitFor(async () => !(await rows.first().locator("td").last().innerText()).includes("Loading"), "playbook actions");
    const detail = await api(`accounts/${encodeURIComponent(first.id)}?as_of=${asOf.as_of}`);
    const actionsCell = await rows.first().locator("td").last().innerText();
    check(detail.actions.length === 0 || actionsCell.includes(detail.actions[0].title), "playbook action shown in the table", actionsCell.replace(/\s+/g, " "));
  }
  await dash.screenshot({ path: join(SHOTS, "engagement.png") });

  // The XSS account (a new customer whose name is markup) renders as text and runs nothing.
  await dash.locator("#panel-engagement select").selectOption("new_customer");
  const xssRow = dash.locator("table.dt-accounts tbody tr", { hasText: cfg.xssName });
  await xssRow.waitFor();
  eq(await xssRow.locator("th button").textContent(), cfg.xssName, "a markup account name shows as text");
  await xssRow.locator("th button").click();
  await dash.locator("#dt-account-detail table").waitFor();
  eq(await dash.locator("#dt-detail-title").textContent(), cfg.xssName, "the drill-down heading shows the name as text");
  const breakdownRows = await dash.locator("#dt-account-detail tbody tr").count();
  check(breakdownRows >= 12, "drill-down shows the full score breakdown", `${breakdownRows} indicators`);
  const focused = await p.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.id);
  eq(focused, "dt-detail-title", "focus moves to the opened account");
  await dash.locator("#dt-account-detail").scrollIntoViewIfNeeded();
  await dash.screenshot({ path: join(SHOTS, "account-detail.png") });

  // Spend: channels and campaigns = API; the markup campaign name is text.
  await tab(dash, "Spend").click();
  await dash.locator("#panel-spend tr[data-channel]").first().waitFor();
  const channels = budget.channels;
  eq(await dash.locator("#panel-spend tr[data-channel]").count(), channels.length, "one row per channel = API");
  const spendText = await dash.locator("#panel-spend").innerText();
  check(channels.every((c) => spendText.includes(c.channel) && spendText.includes(money(c.total_minor))), "every channel with its total = API");
  check(spendText.includes(cfg.xssCampaign), "a markup campaign name shows as text");
  await dash.screenshot({ path: join(SHOTS, "spend.png") });

  // CSV export: each view's file is the API's CSV of its reports, fetched with the tag's token and offered as
  // a Blob download. Its text must be the API's own answer, byte for byte.
  const apiCsv = async (path) => {
    const r = await fetch(`${cfg.base}/v1/sites/${cfg.site}/${path}`, { headers: { authorization: `Bearer ${cfg.token}` } });
    check(r.ok, `the API answers ${path}`, r.status);
    return r.text();
  };
  const exportCsv = async (name) => {
    const [d] = await Promise.all([p.waitForEvent("download"), dash.locator("button", { hasText: "Export CSV" }).click()]);
    const path = join(SHOTS, "..", `widget-${name}.csv`);
    await d.saveAs(path);
    check(d.suggestedFilename().startsWith(`daytwo-${cfg.site}-${name}-`), `${name}: the file is named after the site and view`, d.suggestedFilename());
    return readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  };
  const csv = await exportCsv("spend");
  check(csv.startsWith("channel,campaign,acquisition_minor,retention_minor,total_minor\r\n"), "CSV header");
  check(csv.includes(`total,,${a.spend_minor},${r.spend_minor},${budget.total_spend_minor}\r\n`), "CSV totals = API");
  eq(csv, await apiCsv(`reports/budget?from=${from}&to=${to}&format=csv`), "the Spend view's file = the API's spend table");
  // A failed export says why above the figures, until an export succeeds.
  const csvRequest = (url) => url.pathname.endsWith("/reports/budget") && url.searchParams.get("format") === "csv";
  await p.route(csvRequest, (route) => route.abort("connectionrefused"));
  const errorsBefore = errors.length;
  await dash.locator("button", { hasText: "Export CSV" }).click();
  await dash.locator("[data-export-error]").waitFor();
  const why = await dash.locator("[data-export-error]").innerText();
  check(why.startsWith("The CSV export failed:") && why.includes("No answer from"), "a failed export says why", why);
  // The refused request is the browser's one console error here, and it is this test's doing.
  await waitFor(async () => errors.length > errorsBefore, "the refused request's console error");
  const refused = errors.splice(errorsBefore);
  check(refused.every((e) => e.includes("ERR_CONNECTION_REFUSED")), "the only console error is the refused request", refused.join(" | "));
  await p.unroute(csvRequest);
  await exportCsv("spend");
  await waitFor(async () => (await dash.locator("[data-export-error]").count()) === 0, "the failure notice to go");
  // The Lifecycle view's file: the lifecycle table, then the funnel with its conversion rates.
  await tab(dash, "Lifecycle").click();
  const lifecycleCsv = await exportCsv("lifecycle");
  const funnelResponse = await fetch(`${cfg.base}/v1/sites/${cfg.site}/reports/funnel?from=${from}&to=${to}&format=csv`, { headers: { authorization: `Bearer ${cfg.token}` } });
  const apiFunnelCsv = await funnelResponse.text();
  check(funnelResponse.ok && /,0\.\d+\r\n/.test(apiFunnelCsv), "the API's funnel CSV has conversion rates", apiFunnelCsv.replace(/\r\n/g, " | "));
  check(lifecycleCsv.endsWith(apiFunnelCsv), "the widget's funnel CSV = the API's, floats included", lifecycleCsv.slice(-160).replace(/\r\n/g, " | "));
  check(lifecycleCsv.startsWith("stage,accounts\r\n"), "the Lifecycle view's file starts with the stages", lifecycleCsv.slice(0, 40));
  // The Overview's file: every figure against the previous period, then the verdict.
  await tab(dash, "Overview").click();
  const overviewCsv = await exportCsv("overview");
  eq(overviewCsv, await apiCsv(`reports/budget?from=${from}&to=${to}&format=csv&table=comparison`), "the Overview's file = the API's comparison");
  check(overviewCsv.includes(`\r\nacquisition_spend_minor,${a.spend_minor},`) && overviewCsv.includes(budget.verdict.kind), "the comparison holds the figures and the verdict", overviewCsv.slice(0, 120));

  // What-if: the slider recomputes live (keyboard: arrow keys move it by 1% of spend).
  await tab(dash, "What-if").click();
  const slider = dash.locator("input[type=range]");
  await slider.focus();
  const before = await dash.locator("[data-kpi=wi_acquisition_spend] .dt-kpi-value").textContent();
  for (let i = 0; i < 12; i++) await p.keyboard.press("ArrowRight");
  const moved = await dash.locator("[data-whatif=movement]").textContent();
  check(/^Move USD [\d,.]+ \(1[12]\.\d% of spend\) from acquisition to retention$/.test(moved), "slider moves spend", moved);
  const after = await dash.locator("[data-kpi=wi_acquisition_spend] .dt-kpi-value").textContent();
  check(before !== after, "projected acquisition spend changes live", `${before} → ${after}`);
  const verdictKind = await dash.locator("[data-whatif-verdict]").getAttribute("data-whatif-verdict");
  check(["overweight_acquisition", "overweight_retention", "balanced", "insufficient_data"].includes(verdictKind), "projected verdict shown", verdictKind);
  // The verdict's own what-if (10% of spend) gives the API's projection exactly.
  const suggestion = dash.locator("button", { hasText: "verdict's suggestion" });
  if (await suggestion.count()) {
    await suggestion.click();
    const w = budget.verdict.what_if;
    eq(await dash.locator("[data-kpi=wi_acquisition_spend] .dt-kpi-value").textContent(), money(w.acquisition_spend_minor), "suggested move: acquisition spend = API what-if");
    eq(await dash.locator("[data-kpi=wi_revenue_new] .dt-kpi-value").textContent(), moneyOpt(w.acquisition_revenue_minor), "suggested move: new revenue = API what-if");
    eq(await dash.locator("[data-whatif-verdict]").getAttribute("data-whatif-verdict"), w.verdict_kind, "suggested move: verdict = API what-if");
  }
  // The What-if view's file: the figures now and after the move the slider is at.
  const position = await slider.inputValue();
  const whatIfCsv = await exportCsv("what-if");
  eq(whatIfCsv, await apiCsv(`reports/budget?from=${from}&to=${to}&format=csv&table=what_if&move_bp=${position}`), "the What-if view's file = the API's what-if at the slider's position");
  check(whatIfCsv.includes(`\r\nposition_bp,0,${position}\r\n`) && position !== "0", "the what-if file is at the slider's position", position);
  await dash.screenshot({ path: join(SHOTS, "what-if.png") });

  // Period picker: the last 30 days.
  await tab(dash, "Overview").click();
  await dash.locator(".dt-head select").selectOption("d30");
  await waitFor(async () => (await dash.locator(".dt-sub").getAttribute("data-period")) !== `${from}/${to}`, "the period to change");
  await dash.locator("[data-kpi=cac] .dt-kpi-value").waitFor();
  const [from30, to30] = (await dash.locator(".dt-sub").getAttribute("data-period")).split("/");
  const budget30 = await api(`reports/budget?from=${from30}&to=${to30}`);
  eq(await kpi(dash, "acquisition_spend"), money(budget30.acquisition.spend_minor), "30-day acquisition spend = API");
  eq(await kpi(dash, "retention_rate"), pct(budget30.retention.retention_rate), "30-day retention rate = API");
  await dash.locator(".dt-head select").selectOption("d90");
  await dash.locator("[data-kpi=cac] .dt-kpi-value").waitFor();

  // Print: every view but the what-if stacks up; controls are hidden. Saved as PDF too.
  await p.emulateMedia({ media: "print" });
  check(await dash.locator("#panel-lifecycle").isVisible(), "print shows the hidden views");
  check(!(await dash.locator("[role=tablist]").isVisible()), "print hides the tabs");
  await p.screenshot({ path: join(SHOTS, "print.png"), fullPage: true });
  await p.pdf({ path: join(SHOTS, "print.pdf"), format: "A4", printBackground: true });
  await p.emulateMedia({ media: "screen" });

  eq(errors.join("\n"), "", "no console errors in normal use");
  eq(wasmLoads, 1, "the wasm loads once");
  eq(await p.evaluate(() => window.__xss), undefined, "no injected script ran");
  eq(await dash.evaluate((h) => h.shadowRoot.querySelectorAll("img").length), 0, "no element created from untrusted strings");

  // Attribute changes remount the widget: a bad token, then the good one again.
  await dash.evaluate((h) => h.setAttribute("token", "not-a-token"));
  await dash.locator("[data-error]").first().waitFor();
  const code = await dash.locator("[role=alert]").first().getAttribute("data-error");
  check(code === "invalid_token", "changing the token attribute remounts (bad token → error)", code);
  await dash.evaluate((h, t) => h.setAttribute("token", t), cfg.token);
  await dash.locator("[data-kpi=cac] .dt-kpi-value").waitFor();
  eq(await kpi(dash, "acquisition_spend"), money(a.spend_minor), "setting the good token back shows the figures again (acquisition spend = API)");
  await p.close();

  // -------------------------------------------------------------------------------------------------
  // 3. Bad and expired tokens say so in words.
  for (const [token, code, words, shot] of [
    ["et1.bogus.1.00", "invalid_token", "not accepted", "error-bad-token.png"],
    [cfg.expiredToken, "token_expired", "expired", "error-expired-token.png"],
  ]) {
    const q = await context.newPage();
    const u = serve(`/e2e/${code}.html`, page(tag({ site: cfg.site, token })));
    await q.goto(u);
    const d = q.locator("daytwo-dashboard");
    await d.locator("[role=alert]").waitFor();
    eq(await d.locator("[role=alert]").getAttribute("data-error"), code, `${code}: error state`);
    const text = await d.locator("[role=alert]").innerText();
    check(text.toLowerCase().includes(words), `${code}: says "${words}"`, text.replace(/\s+/g, " "));
    check((await d.locator("[role=tablist]").count()) === 0, `${code}: no empty dashboard behind the error`);
    await d.screenshot({ path: join(SHOTS, shot) });
    await q.close();
  }

  // A Worker that does not answer: the error offers Retry.
  {
    const q = await context.newPage();
    const u = serve("/e2e/down.html", page(tag({ site: cfg.site, token: cfg.token, endpoint: "http://127.0.0.1:9" })));
    await q.goto(u);
    const d = q.locator("daytwo-dashboard");
    await d.locator("#panel-overview [data-error=network]").waitFor();
    check((await d.locator("#panel-overview button", { hasText: "Retry" }).count()) === 1, "a down Worker offers Retry");
    await d.screenshot({ path: join(SHOTS, "error-worker-down.png") });
    await q.close();
  }

  // A site without any data yet: the empty state, in words.
  {
    const q = await context.newPage();
    const errs = watchConsole(q);
    const u = serve("/e2e/empty.html", page(tag({ site: cfg.emptySite, token: cfg.emptyToken })));
    await q.goto(u);
    const d = q.locator("daytwo-dashboard");
    await d.locator("#panel-overview .dt-empty").waitFor();
    check((await d.locator("#panel-overview .dt-empty").innerText()).includes("No data for this period yet"), "a site without data shows the empty state");
    await tab(d, "Lifecycle").click();
    // The panel holds two empty states: the funnel's (from the budget, already loaded) and the stages' (from
    // the lifecycle report, still on its way): wait for the stages' own.
    const noAccounts = d.locator("#panel-lifecycle .dt-empty", { hasText: "No accounts yet" });
    await noAccounts.waitFor().catch(() => {});
    check((await noAccounts.count()) === 1, "lifecycle says there are no accounts yet");
    eq(errs.join("\n"), "", "no console errors on an empty site");
    await tab(d, "Overview").click();
    await d.screenshot({ path: join(SHOTS, "empty.png") });
    await q.close();
  }

  // A read token in the tag works (it is a valid credential) but warns the admin in the console, once.
  {
    const q = await context.newPage();
    const warnings = [];
    q.on("console", (m) => { if (m.type() === "warning") warnings.push(m.text()); });
    const errs = watchConsole(q);
    const u = serve("/e2e/read-token.html", page(tag({ site: cfg.site, token: cfg.readToken })));
    await q.goto(u);
    const d = q.locator("daytwo-dashboard");
    await d.locator("[data-kpi=cac] .dt-kpi-value").waitFor();
    const mine = warnings.filter((w) => w.includes("read token"));
    check(mine.length === 1 && mine[0].includes("embed-tokens"), "a read token in the tag warns once in the console", mine.join(" | "));
    eq(errs.join("\n"), "", "no console errors with a read token");
    await q.close();
  }

  // A site whose figures are incomplete (more pending batches than a report folds): a visible alert above
  // the figures, worded by the API's data_status; a complete site shows none (checked on the pages above).
  {
    const q = await context.newPage();
    const errs = watchConsole(q);
    const u = serve("/e2e/partial.html", page(tag({ site: cfg.partialSite, token: cfg.partialToken })));
    await q.goto(u);
    const d = q.locator("daytwo-dashboard");
    const alert = d.locator(".dt-notice[role=alert]");
    await alert.waitFor();
    const text = await alert.innerText();
    const status = (await api("reports/lifecycle", cfg.partialToken, cfg.partialSite)).data_status;
    check(status.complete === false && status.pending_batches > status.pending_included && text.includes(status.notice),
      "incomplete figures show the API's notice above them", text);
    check(await alert.isVisible(), "the notice is visible");
    eq(errs.join("\n"), "", "no console errors with incomplete figures");
    await d.screenshot({ path: join(SHOTS, "incomplete.png") });
    await q.close();
  }

  // -------------------------------------------------------------------------------------------------
  // 4. Two widgets on one page (one themed), one wasm instance.
  {
    const q = await context.newPage();
    const errs = watchConsole(q);
    let loads = 0;
    q.on("request", (r) => { if (r.url().endsWith("/daytwo_widget_bg.wasm")) loads++; });
    const body = `<div style="display:grid;grid-template-columns:1fr 1fr;gap:16px">
      ${tag({ site: cfg.site, token: cfg.token })}
      <daytwo-dashboard site="${cfg.site}" token="${cfg.token}" style="--daytwo-accent: rgb(124, 58, 237); --daytwo-font: Georgia, serif"></daytwo-dashboard></div>`;
    const u = serve("/e2e/two.html", page(body));
    await q.goto(u);
    const both = q.locator("daytwo-dashboard");
    eq(await both.count(), 2, "two widgets on the page");
    for (let i = 0; i < 2; i++) {
      await both.nth(i).locator("[data-kpi=cac] .dt-kpi-value").waitFor();
      eq(await kpi(both.nth(i), "acquisition_spend"), money(a.spend_minor), `widget ${i + 1} renders the figures`);
    }
    const accent = await both.nth(1).locator("[role=tab][aria-selected=true]").evaluate((el) => getComputedStyle(el).color);
    eq(accent, "rgb(124, 58, 237)", "--daytwo-accent themes the second widget");
    const font = await both.nth(1).locator("h2.dt-title").evaluate((el) => getComputedStyle(el).fontFamily);
    eq(font, "Georgia, serif", "--daytwo-font themes the second widget");
    await both.nth(1).locator("[role=tab]", { hasText: "Lifecycle" }).click();
    eq(await both.nth(0).locator("[role=tab][aria-selected=true]").textContent(), "Overview", "the widgets keep separate state");
    eq(loads, 1, "two widgets share one wasm load");
    eq(errs.join("\n"), "", "no console errors with two widgets");
    await q.screenshot({ path: join(SHOTS, "two-widgets.png"), fullPage: true });
    await q.close();
  }

  // -------------------------------------------------------------------------------------------------
  // 5. The demo intranet page, with /demo/config.js as `cargo xtask run` writes it, from the intranet's origin
  //    (as `cargo xtask run` serves it on its second port) and from the Worker's own /demo/.
  {
    const config = `window.DAYTWO_DEMO = ${JSON.stringify({ endpoint: cfg.base, site: cfg.site, writeKey: "wk", token: cfg.token })};\n`;
    SITE.set("/demo/config.js", config, { type: "text/javascript; charset=utf-8" });
    await context.route(`${cfg.base}/demo/config.js`, (route) => route.fulfill({ status: 200, contentType: "text/javascript", body: config }));
    for (const [where, origin, shot] of [["other origin", ORIGIN, "demo-intranet.png"], ["Worker origin", cfg.base, "demo-intranet-same-origin.png"]]) {
      const q = await context.newPage();
      const errs = watchConsole(q);
      await q.goto(`${origin}/demo/intranet/`);
      const d = q.locator("daytwo-dashboard");
      await d.locator("[data-kpi=cac] .dt-kpi-value").waitFor();
      eq(new URL(q.url()).origin, origin, `demo intranet page (${where}): served by ${origin}`);
      eq(await kpi(d, "acquisition_spend"), money(a.spend_minor), `demo intranet page (${where}) renders the figures`);
      eq(errs.join("\n"), "", `no console errors on the demo page (${where})`);
      await q.screenshot({ path: join(SHOTS, shot), fullPage: true });
      await q.close();
    }
  }

  // -------------------------------------------------------------------------------------------------
  // 6. The Content-Security-Policy the README documents, exactly (cfg.csp), on a page of the intranet's origin
  //    with the widget and the snippet: the figures render, the events arrive, no violation is reported.
  //    Then the same policy without 'wasm-unsafe-eval': the widget's own load error, and the violation.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"}${e.sample ? " " + e.sample.slice(0, 60) : ""}`), true);
  });
  const cspPage = (title) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<script async src="${cfg.base}/s.js" data-write-key="${cfg.cspWriteKey}"></script>
<script type="module" src="${cfg.base}/widget/daytwo.js"></script></head><body>
<h1>${title}</h1>
${tag({ site: cfg.site, token: cfg.token })}
</body></html>`;
  SITE.set("/favicon.ico", "", { type: "image/x-icon" });
  check(typeof cfg.csp === "string" && cfg.csp.includes(cfg.base) && cfg.csp.includes("'wasm-unsafe-eval'"), "the documented policy names the Worker and 'wasm-unsafe-eval'", cfg.csp);
  {
    const q = await context.newPage();
    const errs = watchConsole(q);
    const batches = [];
    // The snippet's batches: its POSTs to /v1/ (the widget only reads, with GETs).
    q.on("response", (res) => { if (res.request().method() === "POST" && res.url().startsWith(`${cfg.base}/v1/`)) batches.push(res.status()); });
    const u = serve("/e2e/csp.html", cspPage("Intranet with a Content-Security-Policy"), { "content-security-policy": cfg.csp });
    const resp = await q.goto(u);
    eq(resp.headers()["content-security-policy"], cfg.csp, "CSP page: served with exactly the documented policy");
    const d = q.locator("daytwo-dashboard");
    await d.locator("[data-kpi=cac] .dt-kpi-value").waitFor();
    const b = await api("reports/budget");
    eq(await kpi(d, "acquisition_spend"), money(b.acquisition.spend_minor), "CSP page: the widget renders the figures (acquisition spend = API)");
    eq(await kpi(d, "retention_rate"), pct(b.retention.retention_rate), "CSP page: retention rate = API");
    eq(await d.locator(".dt-verdict-msg").first().textContent(), b.verdict.message, "CSP page: verdict = API");
    // The stylesheet applied (it is a <style> in the shadow root): the title is not in the page's default font size.
    const styled = await d.locator("h2.dt-title").evaluate((el) => getComputedStyle(el).fontSize);
    eq(styled, globalThis.referenceStyles["h2.dt-title"]["font-size"], "CSP page: the widget's stylesheet applies (title font size as on the plain page)");
    // The snippet: its page view went out on load; one more event, sent now.
    await q.waitForFunction(() => window.daytwo && typeof window.daytwo.track === "function");
    await waitFor(async () => batches.length >= 1, "the snippet's page view");
    await q.evaluate(() => window.daytwo.track("CSP Checked", { ok: true }));
    await waitFor(async () => batches.length >= 2, "the snippet's track call");
    check(batches.length === 2 && batches.every((st) => st === 200), "CSP page: the snippet's two batches were accepted", JSON.stringify(batches));
    // Every view under the policy, the account drill-down (its bars have style attributes) included.
    await tab(d, "Lifecycle").click();
    await d.locator("#panel-lifecycle svg[role=img]").first().waitFor();
    await tab(d, "Engagement").click();
    await waitFor(async () => (await d.locator("#panel-engagement .dt-loading").count()) === 0, "engagement to load");
    await d.locator("table.dt-accounts tbody tr th button").first().click();
    await d.locator("#dt-account-detail tbody tr").first().waitFor();
    // Each bar's width as its style attribute says (a refused attribute would leave every bar full width).
    const bars = await d.locator("#dt-account-detail .dt-mini > span").evaluateAll((els) =>
      els.map((e) => ({
        want: parseFloat(((e.getAttribute("style") || "").match(/width:\s*([\d.]+)%/) || [])[1]),
        got: (100 * e.getBoundingClientRect().width) / e.parentElement.getBoundingClientRect().width,
      })));
    check(
      bars.length >= 12 && bars.some((b) => b.want < 99) && bars.every((b) => Math.abs(b.want - b.got) < 2),
      "CSP page: the drill-down's bars are sized by their style attributes",
      bars.slice(0, 4).map((b) => `${b.want}%→${b.got.toFixed(1)}%`).join(", "),
    );
    await tab(d, "What-if").click();
    await d.locator("input[type=range]").waitFor();
    // CSV export under the policy (a Blob download).
    await tab(d, "Spend").click();
    const [download] = await Promise.all([q.waitForEvent("download"), d.locator("button", { hasText: "Export CSV" }).click()]);
    check(download.suggestedFilename().endsWith(".csv"), "CSP page: CSV export works", download.suggestedFilename());
    await new Promise((r) => setTimeout(r, 500)); // violation reports are queued tasks
    eq((await q.evaluate(() => window.__cspViolations)).join("\n"), "", "CSP page: no securitypolicyviolation event");
    eq(errs.join("\n"), "", "CSP page: no console errors");
    await tab(d, "Overview").click();
    await q.screenshot({ path: join(SHOTS, "csp.png"), fullPage: true });
    await q.close();
  }
  {
    const strict = cfg.csp.replace(/\s*'wasm-unsafe-eval'/, "");
    check(strict !== cfg.csp && !strict.includes("wasm-unsafe-eval"), "the policy without 'wasm-unsafe-eval'", strict);
    const q = await context.newPage();
    const errs = watchConsole(q);
    const u = serve("/e2e/csp-no-wasm.html", cspPage("Intranet whose policy forbids WebAssembly"), { "content-security-policy": strict });
    await q.goto(u);
    const d = q.locator("daytwo-dashboard");
    await d.locator("[role=alert]").waitFor();
    const text = await d.locator("[role=alert]").innerText();
    check(text.startsWith("The Daytwo dashboard could not load:"), "no 'wasm-unsafe-eval': the widget's load error says so", text);
    eq(await d.locator("[data-kpi]").count(), 0, "no 'wasm-unsafe-eval': no figures");
    await new Promise((r) => setTimeout(r, 300));
    const violations = await q.evaluate(() => window.__cspViolations);
    check(violations.some((v) => v.startsWith("script-src blocked wasm-eval")), "no 'wasm-unsafe-eval': the browser reports the blocked wasm", violations.join("; "));
    await q.screenshot({ path: join(SHOTS, "csp-no-wasm.png"), fullPage: true });
    await q.close();
  }
  {
    // Why the policy has style-src 'unsafe-inline': without it the widget's <style> is refused.
    const noStyle = cfg.csp.replace(/;\s*style-src 'unsafe-inline'/, "");
    check(noStyle !== cfg.csp && !noStyle.includes("style-src"), "the policy without style-src 'unsafe-inline'", noStyle);
    const q = await context.newPage();
    const u = serve("/e2e/csp-no-style.html", cspPage("Intranet whose policy forbids inline styles"), { "content-security-policy": noStyle });
    await q.goto(u);
    const d = q.locator("daytwo-dashboard");
    await d.locator("[data-kpi=cac] .dt-kpi-value").waitFor();
    await new Promise((r) => setTimeout(r, 300));
    const violations = await q.evaluate(() => window.__cspViolations);
    check(violations.some((v) => v.startsWith("style-src-elem blocked inline")), "no style-src 'unsafe-inline': the widget's <style> is refused", violations.slice(0, 3).join("; "));
    const size = await d.locator("h2.dt-title").evaluate((el) => getComputedStyle(el).fontSize);
    check(size !== globalThis.referenceStyles["h2.dt-title"]["font-size"], "no style-src 'unsafe-inline': the dashboard is unstyled", `title ${size}`);
    await q.screenshot({ path: join(SHOTS, "csp-no-style.png"), fullPage: true });
    await q.close();
  }
} catch (e) {
  check(false, "unexpected error", e && e.stack ? e.stack : String(e));
} finally {
  await context.close();
  await SITE.close();
}

function today() {
  return new Date().toISOString().slice(0, 10);
}
function addDays(day, n) {
  const d = new Date(day + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

console.log(failures ? `${failures} check(s) failed` : "all checks passed");
process.exit(failures ? 1 : 0);
