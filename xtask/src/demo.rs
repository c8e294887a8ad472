//! `cargo xtask run`: the whole product locally in one step.
//!
//! Starts the Worker on `wrangler dev` (127.0.0.1, KV on disk in `.daytwo/run`), creates the `demo` site,
//! imports a generated demo site through the public API (`daytwo import`, once per state folder), runs the
//! rollup, mints an embed token and prints working `curl` examples. The Worker then stays in the foreground.
//!
//! The demo pages are served twice: by the Worker (`/demo/…`, same origin) and by a tiny static file server
//! on a second local origin (port + 1), which stands for a real intranet or customer site: there the widget
//! and the snippet are cross-origin embeds (CORS from `frontend/_headers`, the site's `allowed_origins`).

use crate::worker::{self, ServeOptions};
use crate::{Result, root};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// `daytwo import` of a generated site (`events.ndjson` and `spend.csv` in `data`) into a running Worker.
pub fn import_generated(bin: &str, base: &str, write_key: &str, data: &Path, site: &str, admin: &str) -> Result {
    let file = |name: &str| data.join(name).to_string_lossy().into_owned();
    let (events, spend) = (file("events.ndjson"), file("spend.csv"));
    let args = ["import", "--url", base, "--write-key", write_key, "--events", &events, "--spend", &spend];
    let mut args = args.to_vec();
    args.extend(["--site", site, "--admin-token", admin]);
    crate::run(bin, &args)
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .http_status_as_error(false)
        .build()
        .into()
}

pub(crate) fn call(method: &str, url: &str, token: &str, body: Option<&str>) -> Result<Value> {
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

/// The second origin: serves `dir` (`assets/demo/`, with the per-run `config.js`) under `/demo/` on
/// `listener`, one thread per connection, for as long as the process runs.
fn serve_second_origin(listener: TcpListener, dir: PathBuf) {
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let _ = answer(stream, &dir);
            });
        }
    });
}

/// (status line, content type, extra header, body) for a GET of `path` on the second origin.
fn resolve(dir: &Path, path: &str) -> (&'static str, &'static str, String, Vec<u8>) {
    const NOT_FOUND: &str = "404 Not Found";
    if path == "/" {
        return ("302 Found", "text/plain", "Location: /demo/intranet/\r\n".into(), Vec::new());
    }
    let Some(rel) = path.strip_prefix("/demo/") else {
        return (NOT_FOUND, "text/plain", String::new(), b"not found".to_vec());
    };
    // No way out of the folder, and nothing encoded.
    if rel.split('/').any(|seg| seg == ".." || seg.starts_with('.')) || rel.contains(['%', '\\']) {
        return (NOT_FOUND, "text/plain", String::new(), b"not found".to_vec());
    }
    // As Workers static assets serve them: `x/` → `x/index.html`, `x/page` → `x/page.html`, `x` → `x/`.
    let candidates = if rel.is_empty() || rel.ends_with('/') {
        vec![format!("{rel}index.html")]
    } else {
        vec![rel.to_owned(), format!("{rel}.html")]
    };
    for c in candidates {
        let file = dir.join(&c);
        if file.is_file()
            && let Ok(body) = std::fs::read(&file)
        {
            let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
            let ctype = match ext {
                "html" => "text/html; charset=utf-8",
                "js" => "text/javascript; charset=utf-8",
                "css" => "text/css; charset=utf-8",
                "json" => "application/json",
                "svg" => "image/svg+xml",
                "png" => "image/png",
                _ => "application/octet-stream",
            };
            return ("200 OK", ctype, String::new(), body);
        }
    }
    if dir.join(rel).is_dir() {
        return ("301 Moved Permanently", "text/plain", format!("Location: /demo/{rel}/\r\n"), Vec::new());
    }
    (NOT_FOUND, "text/plain", String::new(), b"not found".to_vec())
}

/// Answers one HTTP/1.1 request (GET or HEAD) and closes the connection.
fn answer(mut stream: TcpStream, dir: &Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let path = parts.next().unwrap_or("/").split(['?', '#']).next().unwrap_or("/");
    let (status, ctype, extra, body) = if matches!(method, "GET" | "HEAD") {
        resolve(dir, path)
    } else {
        ("405 Method Not Allowed", "text/plain", "Allow: GET, HEAD\r\n".into(), Vec::new())
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        stream.write_all(&body)?;
    }
    stream.flush()
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
        std::fs::write(&config_path, crate::assets::DEMO_CONFIG_PLACEHOLDER).map_err(|e| e.to_string())?;
    }
    // The second origin, bound before anything starts (if the port is taken, the demo runs without it).
    let second = port.checked_add(1).and_then(|p| TcpListener::bind(("127.0.0.1", p)).ok().map(|l| (p, l)));
    let second_base = second.as_ref().map(|(p, _)| format!("http://127.0.0.1:{p}"));
    match second {
        Some((_, listener)) => serve_second_origin(listener, crate::assets::out_dir().join("demo")),
        None => eprintln!("note: port {} is taken: the demo pages are served by the Worker only", u32::from(port) + 1),
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
        // The origins the demo pages are served from: the widget reads reports and the snippet sends events
        // from them (a browser sends its Origin; listed origins only).
        let mut origins = vec![base.clone(), format!("http://localhost:{port}")];
        if let Some(b) = &second_base {
            origins.push(b.clone());
            origins.push(b.replace("127.0.0.1", "localhost"));
        }
        let body = serde_json::json!({"currency": "USD", "allowed_origins": origins}).to_string();
        let body = body.as_str();
        let url = if exists { format!("{base}/v1/sites/demo?rotate=true") } else { format!("{base}/v1/sites/demo") };
        let site = call("PUT", &url, &admin, Some(body))?;
        let write_key = site["write_key"].as_str().unwrap_or_default().to_owned();
        let read_token = site["read_token"].as_str().unwrap_or_default().to_owned();
        // The secret key brings the demo's orders, as a billing backend's would; the pages get the public one.
        let secret_key = site["secret_write_key"].as_str().unwrap_or_default().to_owned();
        let marker = state.join("demo-imported");
        if !marker.exists() {
            let data = state.join("demo-data");
            let data_s = data.to_string_lossy().into_owned();
            let bin = crate::daytwo_bin()?.to_string_lossy().into_owned();
            crate::run(&bin, &["generate", "--seed", "42", "--accounts", "300", "--months", "18", "--out", &data_s])?;
            import_generated(&bin, &base, &secret_key, &data, "demo", &admin)?;
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
        if let Some(b) = &second_base {
            println!(
                "The same pages on a second origin, embedding the widget and the snippet cross-origin as a real \
                 intranet or shop does:\n  {b}/demo/intranet/\n  {b}/demo/shop/"
            );
        }
        println!(
            "\nDaytwo is running at {base} (state in {}).\n\
             Rollup: {} messages folded from {} raw batches.\n\n\
             Admin token:  {admin}\nWrite key:    {write_key} (public, in the snippet)\nSecret key:   {secret_key} (servers: billing, `daytwo import`)\nRead token:   {read_token}\nEmbed token:  {embed_token} (24 h)\n\n\
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
