//! The dashboard widget in headless Chromium against the real Worker (issue 4): a generated site imported
//! through the public API, an embed token, and intranet pages with hostile CSS served from another origin
//! than the Worker's (a static server the script starts on a port chosen here, listed in the site's
//! `allowed_origins`), as a real intranet embeds it; one plain page and the demo intranet page also run on
//! the Worker's own origin. A page with the Content-Security-Policy the README documents (read from
//! README.md, so the documentation is what is tested) renders the widget and sends the snippet's events
//! without a violation. The browser side is `tests/browser/widget.mjs`; it prints one line per check and
//! saves a screenshot of every view to `target/screenshots/`.
//!
//! `widget_assets_allow_cross_origin_embeds` checks the headers `frontend/_headers` gives the widget's files
//! and the snippet (CORS, `application/wasm`).
//!
//! Needs the widget's assets (`cargo xtask build-assets`; the server's build does it too), Debian's
//! `/usr/bin/chromium` and the project's Node 22 and `playwright-core` (installed by `cargo xtask`).

use crate::browser_support::{chromium_bin, free_port, node_bin, origin, run_node};
use crate::harness::*;
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

const XSS: &str = "<img src=x onerror=window.__xss=1>";
/// The longest the browser run may take.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(420);

/// Today (UTC) `offset` days away, as YYYY-MM-DD.
fn day(offset: i64) -> String {
    rfc3339(unix_now() as i64 + offset * 86_400)[..10].to_owned()
}

#[test]
fn widget_in_a_hostile_intranet_page() {
    assert!(chromium_bin().exists(), "{} is missing (apt-get install chromium)", chromium_bin().display());
    assert!(node_bin().exists(), "Node 22 is missing: run `cargo xtask test` once (it installs node_modules)");
    assert!(root().join("node_modules/playwright-core").exists(), "npm playwright-core is missing");
    let csp = documented_csp();

    let s = server();
    // The intranet's origin: a static server widget.mjs starts on this port.
    let port = free_port();
    let intranet = origin(port);
    let site = s.create_site("widget-e2e", json!({"currency": "USD", "allowed_origins": [intranet]}));

    // A generated year of data up to today, imported through the public API.
    let data = scratch("widget-data");
    let data_s = data.to_string_lossy().into_owned();
    daytwo(&["generate", "--seed", "3", "--accounts", "80", "--months", "12", "--end", &day(1), "--out", &data_s]);
    daytwo(&[
        "import",
        "--url",
        &s.base,
        "--write-key",
        &site.secret_key,
        "--events",
        &format!("{data_s}/events.ndjson"),
        "--spend",
        &format!("{data_s}/spend.csv"),
        "--site",
        &site.id,
        "--admin-token",
        ADMIN_TOKEN,
    ]);

    // Untrusted strings: an account named with markup (a new customer, so it is listed), and a campaign.
    let now = now_rfc3339();
    site.send_batch(&[
        json!({"type": "identify", "userId": "xss-user", "traits": {"email": "xss@example.com"}, "timestamp": now}),
        json!({"type": "group", "userId": "xss-user", "groupId": "xss-acct", "traits": {"name": XSS}, "timestamp": now}),
        json!({"type": "track", "userId": "xss-user", "event": "Order Completed", "properties": {"revenue": 1200.5, "note": XSS}, "timestamp": now}),
    ]);
    let spend = json!([{
        "from": day(-20), "to": day(1), "channel": "intranet-ads", "campaign": XSS,
        "amount_minor": 12345, "currency": "USD", "purpose": "retention"
    }]);
    let r = site.admin("POST", "spend", Some(&spend));
    assert!(r.status < 300, "spend: {} {}", r.status, r.text());
    site.rollup();

    // A signed embed token minted by the Worker, and an expired one.
    let r = site.admin("POST", "embed-tokens", Some(&json!({"ttl_seconds": 3600})));
    assert!(r.status < 300, "embed token: {} {}", r.status, r.text());
    let token = r.json()["token"].as_str().unwrap_or_else(|| panic!("no token in {}", r.text())).to_owned();
    let expired = embed_token(&site.id, unix_now() - 60);
    // A site with no data yet, for the empty state.
    let empty = s.create_site("widget-e2e-empty", json!({"currency": "EUR", "allowed_origins": [intranet]}));
    // The site the snippet on the Content-Security-Policy page sends to.
    let csp_site = s.create_site("widget-e2e-csp", json!({"currency": "USD", "allowed_origins": [intranet]}));
    let r = empty.admin("POST", "embed-tokens", Some(&json!({"ttl_seconds": 3600})));
    assert!(r.status < 300, "embed token: {} {}", r.status, r.text());
    let empty_token = r.json()["token"].as_str().unwrap_or_default().to_owned();
    // A site whose reports are incomplete: more batches pending than a report folds (500), no rollup yet.
    let partial = s.create_site("widget-e2e-partial", json!({"currency": "USD", "allowed_origins": [intranet]}));
    for i in 0..501 {
        partial.send_batch(&[json!({"type": "track", "userId": format!("p{}", i % 40), "event": "Order Completed",
            "properties": {"revenue": 10}, "messageId": format!("partial-{i}"), "timestamp": now_rfc3339()})]);
    }
    let r = partial.admin("POST", "embed-tokens", Some(&json!({"ttl_seconds": 3600})));
    assert!(r.status < 300, "embed token: {} {}", r.status, r.text());
    let partial_token = r.json()["token"].as_str().unwrap_or_default().to_owned();

    let screenshots = root().join("target/screenshots");
    let profile = scratch("chromium-profile");
    let cfg: Value = json!({
        "base": s.base,
        "site": site.id,
        "token": token,
        "readToken": site.read_token,
        "expiredToken": expired,
        "emptySite": empty.id,
        "emptyToken": empty_token,
        "partialSite": partial.id,
        "partialToken": partial_token,
        "screenshots": screenshots,
        "userDataDir": profile,
        "xssName": XSS,
        "xssCampaign": XSS,
        "staticPort": port,
        "cspWriteKey": csp_site.write_key,
        "csp": csp.replace(WORKER_PLACEHOLDER, &s.base),
    });
    // Screenshots of this run only.
    for shot in SHOTS {
        let _ = std::fs::remove_file(screenshots.join(format!("{shot}.png")));
    }
    let mut cmd = Command::new(node_bin());
    cmd.arg(root().join("tests/browser/widget.mjs"))
        .current_dir(root())
        .env("WIDGET_E2E", cfg.to_string())
        .env("CHROMIUM", chromium_bin());
    let run = run_node(cmd, BROWSER_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let output = format!("{}{}", run.stdout, run.stderr);
    eprintln!("{output}");
    assert!(run.success, "browser checks failed:\n{output}");
    let passed = run.stdout.lines().filter(|l| l.starts_with("ok  ")).count();
    assert!(run.stdout.contains("all checks passed") && passed >= 110, "{passed} checks passed:\n{output}");
    println!("browser_widget: {passed} browser checks passed");
    for shot in SHOTS {
        let path = screenshots.join(format!("{shot}.png"));
        assert!(path.exists(), "no screenshot {}", path.display());
    }

    // The snippet on the three CSP pages (the documented policy, then without 'wasm-unsafe-eval', then without
    // style-src): each page view and the first page's track call arrived, from the intranet's origin.
    let rolled = csp_site.rollup();
    let stats = csp_site.stats();
    assert_eq!(stats["rolled_up_messages"], 4, "3 page views + \"CSP Checked\": {stats} {rolled}");
    assert_eq!(stats["identities"], 3, "three anonymous visitors (memory-only ids, one per page): {stats}");
}

/// Screenshots widget.mjs must leave.
const SHOTS: [&str; 13] = [
    "overview",
    "lifecycle",
    "engagement",
    "account-detail",
    "spend",
    "what-if",
    "error-bad-token",
    "two-widgets",
    "demo-intranet",
    "demo-intranet-same-origin",
    "csp",
    "csp-no-wasm",
    "csp-no-style",
];

/// How README.md writes the Worker's origin in the documented policy.
const WORKER_PLACEHOLDER: &str = "https://DAYTWO";

/// The example `Content-Security-Policy:` line of README.md's section on embedding on another origin.
fn documented_csp() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap_or_else(|e| panic!("README.md: {e}"));
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Embedding on another origin"))
        .unwrap_or_else(|| panic!("README.md has no section \"## Embedding on another origin\""));
    let line = section
        .lines()
        .find_map(|l| l.trim().strip_prefix("Content-Security-Policy: "))
        .unwrap_or_else(|| panic!("README's embedding section has no `Content-Security-Policy: …` line"));
    assert!(
        line.contains(WORKER_PLACEHOLDER),
        "the documented policy names the Worker as {WORKER_PLACEHOLDER}: {line}"
    );
    line.to_owned()
}

/// `frontend/_headers`, as `wrangler dev` applies it: what a page of another origin needs to load the widget
/// (a module script, its glue and its wasm are CORS requests) and the snippet.
#[test]
fn widget_assets_allow_cross_origin_embeds() {
    let s = server();
    let from = [("origin", "https://intranet.example")];
    for path in ["/widget/daytwo.js", "/widget/daytwo_widget_bg.wasm", "/s.js"] {
        let r = request("GET", &s.url(path), &from, None);
        assert_eq!(r.status, 200, "GET {path}: {}", r.status);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{path}: access-control-allow-origin");
        assert_eq!(r.header("cross-origin-resource-policy"), Some("cross-origin"), "{path}: CORP");
        assert!(r.header("cache-control").is_some_and(|c| c.starts_with("public")), "{path}: cache-control");
        let ct = r.header("content-type").unwrap_or("");
        if path.ends_with(".wasm") {
            assert_eq!(ct, "application/wasm", "{path}: content-type");
        } else {
            assert!(ct.contains("javascript"), "{path}: content-type {ct:?}");
        }
        assert!(!r.body.is_empty(), "{path}: empty body");
    }
    // The wasm really is a wasm module (magic number), so the content type describes it.
    let wasm = request("GET", &s.url("/widget/daytwo_widget_bg.wasm"), &from, None);
    assert_eq!(wasm.body.get(..4), Some(&b"\0asm"[..]), "the wasm module's magic number");
    // The same-origin demo pages get no CORS header (they are not embedded elsewhere).
    let demo = request("GET", &s.url("/demo/intranet/"), &[], None);
    assert_eq!(demo.status, 200, "GET /demo/intranet/");
    assert_eq!(demo.header("access-control-allow-origin"), None, "/demo/ pages need no CORS");
}
