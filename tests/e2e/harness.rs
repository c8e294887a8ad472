//! The harness: the real Worker on `wrangler dev` (workerd, local KV on disk), an HTTP client, site helpers.
//!
//! One server is shared by the whole binary ([`server`]); each test uses its own site ids, so tests run in
//! parallel on it. A server runs `cargo xtask serve` in its own process group. Statics are never dropped, so
//! every server also gets a watchdog (`sh`, in a process group of its own) that holds the read end of a pipe
//! whose write end only this process holds: when the test process exits, however it exits, the pipe closes
//! and the watchdog kills the server's group (SIGKILL). `Server::stop` (also run by `Drop`) stops the servers
//! a test owns gracefully (SIGTERM, then SIGKILL after 10 s). Process-group ids are also recorded under the
//! target folder with the test process's id, and a group whose test process is gone but which still runs
//! `cargo xtask`/`wrangler` is killed when the next run starts.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The admin token and embed-token secret every test server runs with (`DAYTWO_ADMIN_TOKEN`, `DAYTWO_EMBED_SECRET`).
pub const ADMIN_TOKEN: &str = "e2e-admin-token-0123456789abcdef";
pub const EMBED_SECRET: &str = "e2e-embed-secret-0123456789abcdef";

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// Scratch space of this test process: `target/tmp/daytwo-e2e/run-{pid}/`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = e2e_dir().join(format!("run-{}", std::process::id())).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("daytwo-e2e")
}

/// Serialises the cargo builds this process starts (the machine has two cores: one build at a time), and
/// server start-ups, which build too (`cargo xtask serve` runs `cargo xtask build-worker`).
fn build_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Once per process: kill server groups an earlier run left behind (its test process is gone and the watchdog
/// did not run), and remove the scratch folders of finished runs.
fn clean_stale() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let pgids = e2e_dir().join("pgids");
        let _ = std::fs::create_dir_all(&pgids);
        for entry in std::fs::read_dir(&pgids).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Only groups whose test process is gone: another test run may be going on right now.
            let owner = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if Path::new(&format!("/proc/{}", owner.trim())).exists() && !owner.trim().is_empty() {
                continue;
            }
            if let Ok(pgid) = name.parse::<u32>() {
                let cmdline = std::fs::read(format!("/proc/{pgid}/cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline);
                if cmdline.contains("xtask") || cmdline.contains("wrangler") {
                    eprintln!("e2e: killing stale server group {pgid}");
                    kill_group(pgid, "KILL");
                }
            }
            let _ = std::fs::remove_file(entry.path());
        }
        for entry in std::fs::read_dir(e2e_dir()).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("run-").and_then(|p| p.parse::<u32>().ok())
                && pid != std::process::id()
                && !Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
}

fn kill_group(pgid: u32, signal: &str) -> bool {
    Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn group_alive(pgid: u32) -> bool {
    kill_group(pgid, "0")
}

/// A port P with P and P+1000 (wrangler's inspector) free on 127.0.0.1.
fn free_port() -> Result<u16, String> {
    for _ in 0..100 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = l.local_addr().map_err(|e| e.to_string())?.port();
        if port > 64_000 {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port + 1000)).is_ok() {
            return Ok(port);
        }
    }
    Err("no free port pair found".into())
}

/// A watchdog that kills `pgid` once the returned pipe closes (when the test process exits, or on `stop`).
fn spawn_watchdog(pgid: u32) -> Result<ChildStdin, String> {
    // `env kill`: the external kill (dash's builtin does not take `--` before a negative pid). KILL at once: a
    // server still running when its test process has gone is only scratch state, and nothing may outlive the run.
    let script = format!("read _eof; env kill -KILL -- -{pgid} 2>/dev/null; exit 0");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("watchdog: {e}"))?;
    child.stdin.take().ok_or_else(|| "watchdog without stdin".to_owned())
}

/// The Worker on `wrangler dev`, started by `cargo xtask serve`.
#[derive(Debug)]
pub struct Server {
    pub base: String,
    pub log: PathBuf,
    pgid: u32,
    child: Mutex<Option<Child>>,
    watchdog: Mutex<Option<ChildStdin>>,
}

/// The server shared by every test of this binary, started on first use.
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    match SERVER.get_or_init(|| Server::start(&scratch("shared-state"))) {
        Ok(s) => s,
        Err(e) => panic!("the shared Worker did not start: {e}"),
    }
}

impl Server {
    /// Starts a server on a free port with its KV kept in `state`, and waits (up to 600 s, or
    /// `E2E_SERVER_WAIT_S`) for `/health`.
    pub fn start(state: &Path) -> Result<Server, String> {
        Server::start_with_env(state, &[])
    }

    /// [`Server::start`] with extra environment for `cargo xtask serve` (e.g. `DAYTWO_MAX_STATE_BYTES`).
    pub fn start_with_env(state: &Path, env: &[(&str, &str)]) -> Result<Server, String> {
        clean_stale();
        let _build = build_lock();
        let port = free_port()?;
        std::fs::create_dir_all(state).map_err(|e| format!("{}: {e}", state.display()))?;
        let log = state.with_extension("log");
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let child = Command::new(cargo)
            .args(["xtask", "serve", "--port", &port.to_string(), "--state"])
            .arg(state)
            .current_dir(root())
            .env("DAYTWO_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("DAYTWO_EMBED_SECRET", EMBED_SECRET)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cargo xtask serve: {e}"))?;
        let pgid = child.id();
        let pgid_file = e2e_dir().join("pgids").join(pgid.to_string());
        let _ = std::fs::create_dir_all(e2e_dir().join("pgids"));
        let _ = std::fs::write(&pgid_file, std::process::id().to_string());
        let watchdog = spawn_watchdog(pgid);
        // From here on, dropping `server` (an early return) stops the group.
        let server = Server {
            base: format!("http://127.0.0.1:{port}"),
            log,
            pgid,
            child: Mutex::new(Some(child)),
            watchdog: Mutex::new(None),
        };
        *server.watchdog.lock().unwrap_or_else(|e| e.into_inner()) = Some(watchdog?);
        let wait_s = std::env::var("E2E_SERVER_WAIT_S").ok().and_then(|s| s.parse().ok()).unwrap_or(600);
        let deadline = Instant::now() + Duration::from_secs(wait_s);
        loop {
            if try_request("GET", &format!("{}/health", server.base), &[], None)
                .is_ok_and(|r| r.status == 200 && r.json()["status"] == "ok")
            {
                return Ok(server);
            }
            let exited = server
                .child
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                return Err(format!(
                    "`cargo xtask serve` exited ({status}) before /health answered:\n{}",
                    server.log_tail()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!("no /health after {wait_s} s:\n{}", server.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// The server's state folder (local KV on disk lives under it).
    pub fn state_dir(&self) -> PathBuf {
        self.log.with_extension("")
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    }

    /// Stops the whole process group (TERM, then KILL after 10 s) and waits for it.
    pub fn stop(&self) {
        self.end(false);
    }

    /// Kills the whole process group at once (`kill -9` of wrangler, workerd and all): a crash, no shutdown.
    pub fn kill(&self) {
        self.end(true);
    }

    fn end(&self, hard: bool) {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = child {
            kill_group(self.pgid, if hard { "KILL" } else { "TERM" });
            let deadline = Instant::now() + Duration::from_secs(10);
            while group_alive(self.pgid) && Instant::now() < deadline {
                let _ = child.try_wait();
                std::thread::sleep(Duration::from_millis(100));
            }
            if group_alive(self.pgid) {
                kill_group(self.pgid, "KILL");
            }
            let _ = child.wait();
            let _ = std::fs::remove_file(e2e_dir().join("pgids").join(self.pgid.to_string()));
        }
        // Closing the pipe ends the watchdog.
        drop(self.watchdog.lock().unwrap_or_else(|e| e.into_inner()).take());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the admin token.
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let text = body.map(Value::to_string);
        let mut headers = vec![("authorization", format!("Bearer {ADMIN_TOKEN}"))];
        if text.is_some() {
            headers.push(("content-type", "application/json".into()));
        }
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        request(method, &self.url(path), &h, text.as_deref().map(str::as_bytes))
    }

    /// Creates a site (`PUT /v1/sites/{id}` must answer 201 with credentials).
    pub fn create_site(&'static self, id: &str, config: Value) -> Site {
        let r = self.admin("PUT", &format!("/v1/sites/{id}"), Some(&config));
        assert_eq!(r.status, 201, "creating site {id}: {}", r.text());
        let v = r.json();
        let field = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("site {id}: no {k} in {v}")).to_owned();
        Site {
            id: id.to_owned(),
            write_key: field("write_key"),
            secret_key: field("secret_write_key"),
            read_token: field("read_token"),
            server: self,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One site's credentials and shortcuts to its routes.
#[derive(Debug, Clone)]
pub struct Site {
    pub id: String,
    /// The public write key (the snippet's).
    pub write_key: String,
    /// The secret write key (servers, the billing system, `daytwo import`).
    pub secret_key: String,
    pub read_token: String,
    pub server: &'static Server,
}

impl Site {
    /// `POST /v1/{path}` with the secret write key as HTTP Basic user, as Segment's server SDKs send it.
    pub fn ingest(&self, path: &str, body: &Value) -> Resp {
        let auth = basic(&self.secret_key);
        request(
            "POST",
            &self.server.url(&format!("/v1/{path}")),
            &[("authorization", &auth), ("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        )
    }

    /// Sends a batch and requires `200 {"success":true}`.
    pub fn send_batch(&self, messages: &[Value]) {
        let r = self.ingest("batch", &json!({ "batch": messages }));
        assert_eq!((r.status, r.json()), (200, json!({"success": true})), "batch to {}: {}", self.id, r.text());
    }

    /// Runs the rollup until nothing is left; returns the last outcome.
    pub fn rollup(&self) -> Value {
        loop {
            let r = self.server.admin("POST", &format!("/v1/sites/{}/rollup", self.id), None);
            assert_eq!(r.status, 200, "rollup of {}: {}\nserver log:\n{}", self.id, r.text(), self.server.log_tail());
            let v = r.json();
            if v["more"] != json!(true) {
                return v;
            }
        }
    }

    pub fn stats(&self) -> Value {
        let r = self.server.admin("GET", &format!("/v1/sites/{}/stats", self.id), None);
        assert_eq!(r.status, 200, "stats of {}: {}", self.id, r.text());
        r.json()
    }

    /// The path of one of this site's routes: `route("reports/budget")` is `/v1/sites/{id}/reports/budget`.
    pub fn route(&self, rest: &str) -> String {
        if rest.is_empty() { format!("/v1/sites/{}", self.id) } else { format!("/v1/sites/{}/{rest}", self.id) }
    }

    /// GET a read route with the read token; requires 200 and returns the JSON.
    pub fn read(&self, rest: &str) -> Value {
        let r = self.read_raw(rest, &self.read_token);
        assert_eq!(r.status, 200, "GET {}: {}", self.route(rest), r.text());
        r.json()
    }

    /// GET a read route with a bearer token, whatever the answer. It asks for a fresh answer
    /// (`Cache-Control: no-cache`), so what a test sent just before is listed; [`Site::read_shared`] reads as
    /// the widget does, reusing the site's listing of the last seconds.
    pub fn read_raw(&self, rest: &str, token: &str) -> Resp {
        let auth = format!("Bearer {token}");
        let headers = [("authorization", auth.as_str()), ("cache-control", "no-cache")];
        request("GET", &self.server.url(&self.route(rest)), &headers, None)
    }

    /// GET a read route with the read token and no `Cache-Control`, as the widget reads; requires 200.
    pub fn read_shared(&self, rest: &str) -> Resp {
        let auth = format!("Bearer {}", self.read_token);
        let r = request("GET", &self.server.url(&self.route(rest)), &[("authorization", &auth)], None);
        assert_eq!(r.status, 200, "GET {}: {}", self.route(rest), r.text());
        r
    }

    pub fn admin(&self, method: &str, rest: &str, body: Option<&Value>) -> Resp {
        self.server.admin(method, &self.route(rest), body)
    }
}

/// `Basic base64("key:")`.
pub fn basic(key: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:")))
}

/// An embed token as the Worker mints it: `et1.{site}.{expires}.{hex(HMAC-SHA256(secret, payload))}`.
pub fn embed_token(site: &str, expires_unix: u64) -> String {
    let payload = format!("et1.{site}.{expires_unix}");
    let mut mac = Hmac::<Sha256>::new_from_slice(EMBED_SECRET.as_bytes()).unwrap_or_else(|e| panic!("hmac: {e}"));
    mac.update(payload.as_bytes());
    let sig: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("{payload}.{sig}")
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Now as RFC 3339, for `sentAt`.
pub fn now_rfc3339() -> String {
    rfc3339(unix_now() as i64)
}

/// Unix seconds as RFC 3339 (UTC).
pub fn rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`Value::Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// `error.code` of a JSON error body.
    pub fn code(&self) -> Option<String> {
        self.json()["error"]["code"].as_str().map(str::to_owned)
    }
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(180)))
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .max_redirects(0)
            .build()
            .into()
    })
}

/// Sends one request; `Err` only when no HTTP answer came back.
pub fn try_request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Result<Resp, String> {
    let mut b = ureq::http::Request::builder().method(method).uri(url);
    // Uncompressed answers: workerd sends `content-encoding: gzip` with the empty body of a HEAD or a 204, which
    // a client asking for gzip then fails to decode.
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept-encoding")) {
        b = b.header("accept-encoding", "identity");
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let res = match body {
        Some(bytes) => {
            b.body(bytes.to_vec()).map_err(|e| e.to_string()).and_then(|r| agent().run(r).map_err(|e| e.to_string()))
        }
        None => b.body(()).map_err(|e| e.to_string()).and_then(|r| agent().run(r).map_err(|e| e.to_string())),
    };
    let mut r = res.map_err(|e| format!("{method} {url}: {e}"))?;
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let mut body = Vec::new();
    r.body_mut().as_reader().read_to_end(&mut body).map_err(|e| format!("{method} {url}: reading the body: {e}"))?;
    Ok(Resp { status, headers, body })
}

/// Sends one request; panics when no HTTP answer came back.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
    try_request(method, url, headers, body).unwrap_or_else(|e| panic!("{e}"))
}

/// Polls `f` every 250 ms until it gives a value, or panics after `limit` naming `what`.
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The `daytwo` CLI, built once (`cargo build -p daytwo-cli`) under the build lock.
pub fn daytwo_bin() -> &'static Path {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BIN.get_or_init(|| {
        let _build = build_lock();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--quiet", "-p", "daytwo-cli", "--message-format", "json"])
            .current_dir(root())
            .output()
            .map_err(|e| format!("cargo build -p daytwo-cli: {e}"))?;
        if !out.status.success() {
            return Err(format!("cargo build -p daytwo-cli failed:\n{}", String::from_utf8_lossy(&out.stderr)));
        }
        // The executable's path from cargo's own report, wherever the target folder is.
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "daytwo")
            .find_map(|v| v["executable"].as_str().map(PathBuf::from))
            .ok_or_else(|| "cargo build -p daytwo-cli named no daytwo executable".to_owned())
    });
    match built {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// Runs the CLI; requires success and returns stdout.
pub fn daytwo(args: &[&str]) -> String {
    let out = Command::new(daytwo_bin())
        .args(args)
        .env("DAYTWO_ADMIN_TOKEN", ADMIN_TOKEN)
        .output()
        .unwrap_or_else(|e| panic!("daytwo {args:?}: {e}"));
    assert!(out.status.success(), "daytwo {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
