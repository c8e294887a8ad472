//! `cargo xtask run`: the whole product locally in one step.
//!
//! Starts the Worker on `wrangler dev` (127.0.0.1, KV on disk in `.daytwo/run`), creates the `demo` site,
//! imports a generated demo site through the public API (`daytwo import`, once per state folder), runs the
//! rollup, mints an embed token and prints working `curl` examples. The Worker then stays in the foreground.

use crate::worker::{self, ServeOptions};
use crate::{Result, root};
use serde_json::Value;
use std::process::Child;
use std::time::{Duration, Instant};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn call(method: &str, url: &str, token: &str, body: Option<&str>) -> Result<Value> {
    let a = agent();
    let auth = format!("Bearer {token}");
    let res = match (method, body) {
        ("PUT", Some(b)) => {
            a.put(url).header("authorization", &auth).header("content-type", "application/json").send(b)
        }
        ("POST", Some(b)) => {
            a.post(url).header("authorization", &auth).header("content-type", "application/json").send(b)
        }
        ("POST", None) => a.post(url).header("authorization", &auth).send_empty(),
        _ => a.get(url).header("authorization", &auth).call(),
    };
    let mut r = res.map_err(|e| format!("{method} {url}: {e}"))?;
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    if status >= 300 {
        return Err(format!("{method} {url} answered {status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{method} {url}: {e}: {text}"))
}

/// Waits for `/health`, failing early if the child exits.
pub fn wait_healthy(base: &str, child: &mut Child, limit: Duration) -> Result {
    let started = Instant::now();
    let a = agent();
    loop {
        if let Ok(r) = a.get(&format!("{base}/health")).call()
            && r.status().as_u16() == 200
        {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("wrangler dev exited before answering ({status})"));
        }
        if started.elapsed() > limit {
            return Err(format!("no answer from {base}/health after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

pub fn run(port: u16) -> Result {
    let state = root().join(".daytwo/run");
    worker::build()?;
    crate::assets::build()?;
    // wrangler dev serves assets that change while it runs but not files created after it started: the
    // per-run config must exist (as a placeholder) before it starts, and is rewritten once the site exists.
    let config_path = crate::assets::out_dir().join("demo/config.js");
    if let Some(dir) = config_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    if !config_path.exists() {
        std::fs::write(&config_path, "window.DAYTWO_DEMO = null;\n").map_err(|e| e.to_string())?;
    }
    let (mut cmd, admin) = worker::wrangler_dev(&ServeOptions { port, state: state.clone() })?;
    // The same secrets as `.dev.vars` (git-ignored), so a plain `npx wrangler dev` works against this state too.
    let secrets = std::fs::read_to_string(state.join("secrets.env")).map_err(|e| e.to_string())?;
    std::fs::write(root().join(".dev.vars"), secrets).map_err(|e| format!(".dev.vars: {e}"))?;
    let mut child = cmd.spawn().map_err(|e| format!("wrangler: {e}"))?;
    let base = format!("http://127.0.0.1:{port}");
    let mut setup = || -> Result<()> {
        wait_healthy(&base, &mut child, Duration::from_secs(300))?;
        let exists = call("GET", &format!("{base}/v1/sites/demo"), &admin, None).is_ok();
        let body = r#"{"currency":"USD","allowed_origins":[]}"#;
        let url = if exists { format!("{base}/v1/sites/demo?rotate=true") } else { format!("{base}/v1/sites/demo") };
        let site = call("PUT", &url, &admin, Some(body))?;
        let write_key = site["write_key"].as_str().unwrap_or_default().to_owned();
        let read_token = site["read_token"].as_str().unwrap_or_default().to_owned();
        let marker = state.join("demo-imported");
        if !marker.exists() {
            let data = state.join("demo-data");
            let data_s = data.to_string_lossy().into_owned();
            let bin = crate::daytwo_bin()?.to_string_lossy().into_owned();
            crate::run(&bin, &["generate", "--seed", "42", "--accounts", "300", "--months", "18", "--out", &data_s])?;
            crate::run(
                &bin,
                &[
                    "import",
                    "--url",
                    &base,
                    "--write-key",
                    &write_key,
                    "--events",
                    &format!("{data_s}/events.ndjson"),
                    "--spend",
                    &format!("{data_s}/spend.csv"),
                    "--site",
                    "demo",
                    "--admin-token",
                    &admin,
                ],
            )?;
            std::fs::write(&marker, "imported\n").map_err(|e| e.to_string())?;
        }
        let rolled = call("POST", &format!("{base}/v1/sites/demo/rollup"), &admin, None)?;
        let embed =
            call("POST", &format!("{base}/v1/sites/demo/embed-tokens"), &admin, Some(r#"{"ttl_seconds":86400}"#))?;
        let embed_token = embed["token"].as_str().unwrap_or_default();
        // Per-run values for the demo pages (served from assets/demo/, a git-ignored build output).
        let config = serde_json::json!({"endpoint": base, "site": "demo", "writeKey": write_key, "token": embed_token});
        let config_js = format!("window.DAYTWO_DEMO = {config};\n");
        std::fs::write(&config_path, config_js).map_err(|e| format!("{}: {e}", config_path.display()))?;
        println!(
            "\nDemo intranet page (the widget): {base}/demo/intranet/\n\
             Demo customer site (the snippet): {base}/demo/shop/  (its clicks show after a rollup)"
        );
        println!(
            "\nDaytwo is running at {base} (state in {}).\n\
             Rollup: {} messages folded from {} raw batches.\n\n\
             Admin token:  {admin}\nWrite key:    {write_key}\nRead token:   {read_token}\nEmbed token:  {embed_token} (24 h)\n\n\
             Try:\n\
             curl -s {base}/v1/sites/demo/reports/budget -H 'Authorization: Bearer {read_token}'\n\
             curl -s '{base}/v1/sites/demo/reports/lifecycle' -H 'Authorization: Bearer {read_token}'\n\
             curl -s '{base}/v1/sites/demo/accounts?stage=at_risk' -H 'Authorization: Bearer {read_token}'\n\
             curl -s '{base}/v1/sites/demo/reports/funnel?format=csv' -H 'Authorization: Bearer {embed_token}'\n\
             curl -s {base}/v1/track -u '{write_key}:' -H 'Content-Type: application/json' \\\n  \
             -d '{{\"userId\":\"u-1\",\"event\":\"Webinar Attended\"}}'\n\
             curl -s -X POST {base}/v1/sites/demo/rollup -H 'Authorization: Bearer {admin}'\n\n\
             Stop with Ctrl-C.",
            state.display(),
            rolled["messages_folded"],
            rolled["raw_keys_read"],
        );
        Ok(())
    };
    if let Err(e) = setup() {
        let _ = child.kill();
        return Err(e);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() { Ok(()) } else { Err(format!("wrangler dev exited ({status})")) }
}
