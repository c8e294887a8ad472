//! `cargo xtask bench --scale N`: a generated site of N accounts × 12 months through the real Worker.
//!
//! Generates the site with `daytwo generate`, starts the Worker (`cargo xtask serve`, wrangler dev with local KV on
//! disk) on a free loopback port, imports the files with `daytwo import`, runs the rollup until it is done or
//! fails, and measures what the "Scale" issue asks for: the largest stored KV value (the largest file of the
//! local KV store), the rollup's time and outcome, workerd's peak memory and the site's object's WebAssembly
//! memory (the Rust heap's high-water mark), each report's latency beside `/health` with its `data_status`,
//! the CPU time workerd spent per report, and whether each report equals `daytwo report` on the same files. Prints a Markdown table and writes it into BENCHMARKS.md between markers
//! of its own, so runs for several N stand side by side. Loopback only; every loop is bounded.

use crate::{Result, daytwo_bin, root, run};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const ADMIN: &str = "scale-bench-admin-token-0123456789";
/// The generated window ends here, so every run measures the same history.
const END: &str = "2026-11-01";

/// (status, body, seconds)
pub(crate) fn call(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> Result<(u16, String, f64)> {
    let a = crate::demo::agent();
    let auth = token.map(|t| format!("Bearer {t}"));
    let t = Instant::now();
    let res = match (method, body) {
        ("PUT", Some(b)) => {
            let mut r = a.put(url).header("content-type", "application/json");
            if let Some(h) = &auth {
                r = r.header("authorization", h);
            }
            r.send(b)
        }
        ("POST", _) => {
            let mut r = a.post(url);
            if let Some(h) = &auth {
                r = r.header("authorization", h);
            }
            r.send_empty()
        }
        _ => {
            let mut r = a.get(url);
            if let Some(h) = &auth {
                r = r.header("authorization", h);
            }
            r.call()
        }
    };
    let mut r = res.map_err(|e| format!("{method} {url}: {e}"))?;
    let status = r.status().as_u16();
    let text = r.body_mut().with_config().limit(256 << 20).read_to_string().unwrap_or_default();
    Ok((status, text, t.elapsed().as_secs_f64()))
}

/// A report GET: (status, body, seconds, the path that answered: `x-daytwo-read-model`, the ms its tail
/// listing took: `Server-Timing`'s `tail-list`).
fn call_report(url: &str, token: &str) -> Result<(u16, String, f64, String, f64)> {
    let t = Instant::now();
    let mut r = crate::demo::agent()
        .get(url)
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .map_err(|e| format!("GET {url}: {e}"))?;
    let read_model = r
        .headers()
        .get("x-daytwo-read-model")
        .and_then(|v| v.to_str().ok())
        .map_or("path unknown", |p| if p == "index" { "read model" } else { "full fold" })
        .to_owned();
    let listing_ms = r
        .headers()
        .get_all("server-timing")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|m| m.trim().strip_prefix("tail-list;dur=").and_then(|d| d.parse::<f64>().ok()))
        .unwrap_or(f64::NAN);
    let status = r.status().as_u16();
    let text = r.body_mut().with_config().limit(256 << 20).read_to_string().unwrap_or_default();
    Ok((status, text, t.elapsed().as_secs_f64(), read_model, listing_ms))
}

pub(crate) fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).map_err(|e| e.to_string())
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The largest value file under `dir` (the local KV store keeps each value as a file in a `blobs` folder).
fn largest_file(dir: &Path) -> (u64, PathBuf) {
    let mut best = (0, PathBuf::new());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(m) = e.metadata()
                && d.file_name().is_some_and(|n| n == "blobs")
                && m.len() > best.0
            {
                best = (m.len(), p);
            }
        }
    }
    best
}

/// The workerd processes in process group `pgid`, each with the fields of `/proc/{pid}/stat` after the
/// parenthesised command (state, ppid, pgrp, …).
pub(crate) fn workerd_processes(pgid: u32) -> Vec<(u32, Vec<String>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let Some(rest) = stat.rsplit_once(") ").map(|(_, r)| r) else { continue };
        let fields: Vec<String> = rest.split(' ').map(str::to_owned).collect();
        let pgrp = fields.get(2).and_then(|g| g.parse::<u32>().ok());
        let cmd = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if pgrp == Some(pgid) && cmd.contains("workerd") {
            out.push((pid, fields));
        }
    }
    out
}

/// Peak resident memory (VmHWM, kB) of the workerd processes in process group `pgid`.
fn workerd_peak_kb(pgid: u32) -> u64 {
    let mut peak = 0;
    for (pid, _) in workerd_processes(pgid) {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let hwm = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
        peak = peak.max(hwm);
    }
    peak
}

/// CPU time (user + system, seconds) the workerd processes of group `pgid` have used so far. It covers the
/// Worker, the site's object and Miniflare's local KV (which runs in workerd too): an upper bound of what a
/// request costs the Worker itself.
fn workerd_cpu_s(pgid: u32) -> f64 {
    let tick = crate::output("getconf", &["CLK_TCK"]).ok().and_then(|t| t.trim().parse::<f64>().ok()).unwrap_or(100.0);
    let ticks: u64 = workerd_processes(pgid)
        .iter()
        // utime and stime: fields 14 and 15 of stat, 11 and 12 after the command.
        .map(|(_, f)| {
            f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
                + f.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
        })
        .sum();
    ticks as f64 / tick
}

/// The same report computed offline by `daytwo report` from the files (`data_status` left out on both sides,
/// it describes the Worker's storage).
fn cli_report(bin: &str, data: &Path, args: &[&str]) -> Result<serde_json::Value> {
    let events = data.join("events.ndjson").to_string_lossy().into_owned();
    let spend = data.join("spend.csv").to_string_lossy().into_owned();
    let mut all = vec!["report"];
    all.extend_from_slice(&args[..1]);
    all.extend(["--events", &events, "--spend", &spend, "--json"]);
    all.extend_from_slice(&args[1..]);
    let out = Command::new(bin).args(&all).output().map_err(|e| format!("daytwo report: {e}"))?;
    if !out.status.success() {
        return Err(format!("daytwo {all:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let mut v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("daytwo report JSON: {e}"))?;
    v.as_object_mut().and_then(|o| o.remove("data_status"));
    Ok(v)
}

/// The Worker started by a bench, in its own process group, stopped (TERM, then KILL) when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
}

/// Builds and starts the Worker (`cargo xtask serve`) on a free loopback port with its state in `dir/state`
/// and its log in `dir/server.log`, admin token [`ADMIN`]; returns it with its base URL once `/health` answers.
pub(crate) fn start_server(dir: &Path) -> Result<(Server, String)> {
    start_server_with(dir, &[])
}

/// [`start_server`] with extra environment for `cargo xtask serve` (e.g. `DAYTWO_INGEST=queue`).
pub(crate) fn start_server_with(dir: &Path, env: &[(&str, &str)]) -> Result<(Server, String)> {
    crate::worker::build()?;
    crate::assets::build()?;
    let port = free_port()?;
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["xtask", "serve", "--port", &port.to_string(), "--state"])
        .arg(dir.join("state"))
        .env("DAYTWO_ADMIN_TOKEN", ADMIN)
        .envs(env.iter().copied())
        .current_dir(root());
    spawn_server(cmd, dir, port, Duration::from_secs(600))
}

/// Starts `cmd` (a wrangler dev on `port`) in a process group of its own, its output in `dir/server.log`, and
/// waits up to `limit` for `/health` to answer; dropping the [`Server`] stops the whole group.
pub(crate) fn spawn_server(mut cmd: Command, dir: &Path, port: u16, limit: Duration) -> Result<(Server, String)> {
    let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
    let mut server = Server { child };
    let base = format!("http://127.0.0.1:{port}");
    crate::demo::wait_healthy(&base, &mut server.child, limit)?;
    Ok((server, base))
}

impl Drop for Server {
    fn drop(&mut self) {
        let pgid = self.child.id();
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{pgid}")]).status();
        std::thread::sleep(Duration::from_secs(2));
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).status();
        let _ = self.child.wait();
    }
}

/// `in_app`: in-app events after each sign-in (`daytwo generate --in-app`), 0 for the default history; a
/// run with them has its own BENCHMARKS.md section. `reports_only`: measure the reports again on the state
/// and files an earlier run left in `.daytwo/scale-{name}` (an import at 100,000 accounts takes most of an
/// hour), without comparing them with `daytwo report`.
pub fn run_scale(n: u32, in_app: u32, reports_only: bool) -> Result {
    let name = if in_app == 0 { n.to_string() } else { format!("{n}-in-app-{in_app}") };
    let dir = root().join(format!(".daytwo/scale-{name}"));
    let flags = if in_app == 0 { String::new() } else { format!(" --in-app {in_app}") };
    if reports_only {
        if !dir.join("state").is_dir() || !dir.join("data/events.ndjson").is_file() {
            return Err(format!("{}: no earlier run; run `cargo xtask bench --scale {n}{flags}` first", dir.display()));
        }
        let (server, base) = start_server(&dir)?;
        let rows = measure_reports(&server, &base, ADMIN, None)?;
        return write_reports(&name, &format!("{flags} --reports-only"), &rows);
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let bin = daytwo_bin()?.to_string_lossy().into_owned();
    let data = dir.join("data");
    let data_s = data.to_string_lossy().into_owned();
    let accounts = n.to_string();
    let t = Instant::now();
    let in_app_s = in_app.to_string();
    let generate = ["generate", "--seed", "3", "--accounts", &accounts, "--months", "12", "--end", END];
    run(&bin, &[&generate[..], &["--in-app", &in_app_s, "--out", &data_s]].concat())?;
    let generated = t.elapsed().as_secs_f64();
    let events_file = data.join("events.ndjson");
    let events = count_lines(&events_file)?;
    let file_mb = std::fs::metadata(&events_file).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);

    let state = dir.join("state");
    let (server, base) = start_server(&dir)?;

    let (status, body, _) = call("PUT", &format!("{base}/v1/sites/scale"), Some(ADMIN), Some(r#"{"currency":"USD"}"#))?;
    if status != 201 {
        return Err(format!("creating the site: {status} {body}"));
    }
    let site: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    let write_key = site["secret_write_key"].as_str().unwrap_or_default().to_owned();
    let read_token = site["read_token"].as_str().unwrap_or_default().to_owned();
    let t = Instant::now();
    crate::demo::import_generated(&bin, &base, &write_key, &data, "scale", ADMIN)?;
    let imported = t.elapsed().as_secs_f64();

    // Rollup until done or failed (bounded).
    let (mut rollup_s, mut longest_s, mut runs, mut rollup_outcome) = (0.0, 0.0f64, 0, String::from("not run"));
    for _ in 0..400 {
        let (status, body, secs) = call("POST", &format!("{base}/v1/sites/scale/rollup"), Some(ADMIN), None)?;
        rollup_s += secs;
        longest_s = longest_s.max(secs);
        runs += 1;
        if status != 200 {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            rollup_outcome = format!(
                "{status} {}: {}",
                v["error"]["code"].as_str().unwrap_or("?"),
                v["error"]["message"].as_str().unwrap_or("").split(';').next().unwrap_or("")
            );
            break;
        }
        rollup_outcome = "200 ok".into();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if v["more"] != serde_json::json!(true) {
            break;
        }
    }
    let (_, stats, _) = call("GET", &format!("{base}/v1/sites/scale/stats"), Some(ADMIN), None)?;
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap_or_default();
    // The KV namespace's own files (not Miniflare's caches or request traces).
    let (largest, largest_path) = largest_file(&state.join("kv/v3/kv"));
    let peak_kb = workerd_peak_kb(server.child.id());
    let rows = measure_reports(&server, &base, &read_token, Some((&bin, &data)))?;

    let date = crate::output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let cpu = crate::output("nproc", &[]).unwrap_or_default();
    let title = if in_app == 0 { String::new() } else { format!(", {in_app} in-app events after each sign-in") };
    let section = format!(
        "<!-- scale:{name} -->\n### {n} accounts × 12 months{title}\n\n\
         Command: `cargo xtask bench --scale {n}{flags}` ({}; {} cores; wrangler dev, local KV on disk)\n\n\
         | measure | value |\n|---|---|\n\
         | events | {events} ({file_mb:.1} MB NDJSON, generated in {generated:.1} s) |\n\
         | import (`daytwo import`, batches of 100) | {imported:.1} s ({:.0} events/s) |\n\
         | rollup | {rollup_outcome} after {runs} run(s), {rollup_s:.1} s (longest run {longest_s:.1} s; the last one rebuilds the read model) |\n\
         | largest stored KV value | {:.1} KB (KV blob {}…) |\n\
         | rolled-up state (the site's Durable Object, SQLite) | {:.1} MB: {} identities, {} messages, {} dedup entries |\n\
         | workerd peak memory (VmHWM) | {:.0} MB |\n\
         | the site's object's WebAssembly memory after the rollup (the Rust heap's high-water mark; it never shrinks) | {:.1} MB |\n\
         | reports | the next section, `scale:{name}:reports` |\n<!-- /scale:{name} -->\n",
        date.trim(),
        cpu.trim(),
        events as f64 / imported,
        largest as f64 / 1e3,
        largest_path.file_name().map(|f| f.to_string_lossy().chars().take(12).collect::<String>()).unwrap_or_default(),
        stats["state_bytes"].as_f64().unwrap_or(0.0) / 1e6,
        stats["identities"],
        stats["rolled_up_messages"],
        stats["dedup_index"],
        peak_kb as f64 / 1024.0,
        stats["wasm_memory_bytes"].as_f64().unwrap_or(0.0) / 1_048_576.0,
    );
    println!("{section}");
    write_section(&format!("scale:{name}"), &section)?;
    write_reports(&name, &flags, &rows)?;
    drop(server);
    Ok(())
}

/// Repeats of each report after its listing request.
const REPEATS: usize = 5;
/// A little over the Worker's default tail reuse (`reports::TAIL_REUSE_MS`, 10 s): the next report lists again.
const LISTING_EXPIRED: Duration = Duration::from_secs(11);

/// Each report's latency beside `/health`: one request that lists the tail, then [`REPEATS`] that reuse the
/// listing; with `cli` (the `daytwo` binary and the files) each answer is compared with `daytwo report`.
fn measure_reports(server: &Server, base: &str, token: &str, cli: Option<(&str, &Path)>) -> Result<Reports> {
    let health =
        median((0..15).map(|_| call("GET", &format!("{base}/health"), None, None).map_or(f64::NAN, |r| r.2)).collect());
    let bold = |x: f64| if x > 10.0 { format!("**{x:.1}×**") } else { format!("{x:.1}×") };
    // Today's reports over the preset periods come from the read model; a custom `as_of` or period
    // folds every account (ARCHITECTURE.md, "Read model"). Both are measured, and each report but the account
    // pages is compared with `daytwo report` on the same files (its arguments: kind, then options).
    // The other presets of the widget's period picker come from the read model too: the last 365 days, and the
    // last quarter (evaluated on its last day, the index's second day).
    let today = daytwo_shared::time::Day(
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) / 86_400) as i32,
    );
    let quarter = daytwo_shared::read_model::PeriodPreset::LastQuarter.period(today);
    let year = daytwo_shared::read_model::PeriodPreset::Days(365).period(today);
    let (qf, qt, ql) = (quarter.from.to_string(), quarter.to.to_string(), quarter.last_day().to_string());
    let (yf, yt) = (year.from.to_string(), year.to.to_string());
    let row = |name: String, path: String, cli: &[&str]| (name, path, cli.iter().map(|a| (*a).to_owned()).collect());
    let reports: Vec<(String, String, Vec<String>)> = vec![
        row("budget, default (today, last 90 days)".into(), "reports/budget".into(), &["budget"]),
        row("lifecycle, default (today)".into(), "reports/lifecycle".into(), &["lifecycle"]),
        row("funnel, default".into(), "reports/funnel".into(), &["funnel"]),
        row("engagement, default".into(), "reports/engagement".into(), &["engagement"]),
        row("accounts page, default order".into(), "accounts?limit=50".into(), &[]),
        row("accounts page, at risk by score".into(), "accounts?stage=at_risk&sort=score&limit=50".into(), &[]),
        row(
            format!("budget, last 365 days (preset, {yf}..{yt})"),
            format!("reports/budget?from={yf}&to={yt}"),
            &["budget", "--from", &yf, "--to", &yt],
        ),
        row(
            format!("budget, last quarter (preset, {qf}..{qt})"),
            format!("reports/budget?from={qf}&to={qt}"),
            &["budget", "--from", &qf, "--to", &qt],
        ),
        row(
            format!("lifecycle, last quarter (as of {ql})"),
            format!("reports/lifecycle?from={qf}&to={qt}"),
            &["lifecycle", "--from", &qf, "--to", &qt],
        ),
        row(
            format!("engagement, last quarter (as of {ql})"),
            format!("reports/engagement?from={qf}&to={qt}"),
            &["engagement", "--from", &qf, "--to", &qt],
        ),
        row(
            "accounts page, last quarter, at risk by score".into(),
            format!("accounts?from={qf}&to={qt}&stage=at_risk&sort=score&limit=50"),
            &[],
        ),
        row(
            "budget, Aug–Oct (custom)".into(),
            format!("reports/budget?from=2026-08-01&to={END}"),
            &["budget", "--from", "2026-08-01", "--to", END],
        ),
        row(
            "lifecycle, as of 2026-10-31 (custom)".into(),
            "reports/lifecycle?as_of=2026-10-31".into(),
            &["lifecycle", "--as-of", "2026-10-31"],
        ),
        row(
            "funnel, Aug–Oct (custom)".into(),
            format!("reports/funnel?from=2026-08-01&to={END}"),
            &["funnel", "--from", "2026-08-01", "--to", END],
        ),
        row(
            "engagement, as of 2026-10-31 (custom)".into(),
            "reports/engagement?as_of=2026-10-31".into(),
            &["engagement", "--as-of", "2026-10-31"],
        ),
        row(
            "accounts page, as of 2026-10-31 (custom)".into(),
            "accounts?as_of=2026-10-31&stage=at_risk&sort=score&limit=50".into(),
            &[],
        ),
    ];
    let pgid = server.child.id();
    // One discarded request first: the runtime's first report loads the site's object and reads Miniflare's
    // KV table from disk (a cold start, 2–3× a warm listing), which `/health` beside it never pays.
    if let Some((_, path, _)) = reports.first() {
        call_report(&format!("{base}/v1/sites/scale/{path}"), token)?;
    }
    let mut rows = Vec::new();
    for (name, path, cli_args) in &reports {
        let url = format!("{base}/v1/sites/scale/{path}");
        // The first request after the site's listing expired lists the tail; the next ones reuse its listing.
        std::thread::sleep(LISTING_EXPIRED);
        let (_, _, listing_s, _, list_ms) = call_report(&url, token)?;
        let mut times = Vec::new();
        let mut status_note = String::new();
        let mut api = serde_json::Value::Null;
        let cpu_before = workerd_cpu_s(pgid);
        for _ in 0..REPEATS {
            let (status, body, secs, read_model, _) = call_report(&url, token)?;
            times.push(secs);
            api = serde_json::from_str(&body).unwrap_or_default();
            let ds = &api["data_status"];
            status_note = format!(
                "{status}, {read_model}, complete: {}, pending {}/{} included",
                ds["complete"], ds["pending_included"], ds["pending_batches"]
            );
        }
        let cpu_ms = (workerd_cpu_s(pgid) - cpu_before) * 1000.0 / REPEATS as f64;
        let same = match (cli, cli_args.is_empty()) {
            (Some((bin, data)), false) => {
                api.as_object_mut().and_then(|o| o.remove("data_status"));
                let args: Vec<&str> = cli_args.iter().map(String::as_str).collect();
                if cli_report(bin, data, &args)? == api { "yes".to_owned() } else { "**no**".to_owned() }
            }
            (None, false) => "not compared".to_owned(),
            _ => "—".to_owned(),
        };
        let m = median(times);
        rows.push(format!(
            "| {name} | {:.3} s, {} (list {list_ms:.0} ms) | {:.3} s, {} | {cpu_ms:.0} ms | {same} | {status_note} |",
            listing_s,
            bold(listing_s / health),
            m,
            bold(m / health)
        ));
    }
    Ok(Reports { health, rows })
}

/// `/health`'s median latency and a table row per report.
struct Reports {
    health: f64,
    rows: Vec<String>,
}

/// Writes the report rows into BENCHMARKS.md (`scale:{name}:reports`); `flags` as given to the command.
fn write_reports(name: &str, flags: &str, r: &Reports) -> Result {
    let date = crate::output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let n = name.split('-').next().unwrap_or(name);
    let section = format!(
        "<!-- scale:{name}:reports -->\n#### Reports at {n} accounts{}\n\n\
         Command: `cargo xtask bench --scale {n}{flags}` ({}). `/health`: {:.4} s (median of 15). Per report: one \
         request after the site's tail listing expired (it lists the raw batches after the rollup; `Server-Timing` \
         gives the list's share), then the median of {REPEATS} that reuse the listing (a dashboard's requests); one \
         discarded request before the first row (the runtime's cold start). CPU: all workerd processes (the Worker, \
         the site's object and Miniflare's own services) per reusing request.\n\n\
         | report | listing (vs `/health`) | reusing it, median (vs `/health`) | workerd CPU per request | = `daytwo report` | answer |\n\
         |---|---|---|---|---|---|\n{}\n<!-- /scale:{name}:reports -->\n",
        name.split_once("-in-app-").map_or(String::new(), |(_, k)| format!(", {k} in-app events after each sign-in")),
        date.trim(),
        r.health,
        r.rows.join("\n"),
    );
    println!("{section}");
    write_section_after(&format!("scale:{name}:reports"), &format!("scale:{name}"), &section)
}

/// Lines of a file, read in blocks (a generated file can be gigabytes).
pub(crate) fn count_lines(path: &Path) -> Result<usize> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (mut buf, mut lines) = (vec![0u8; 1 << 20], 0);
    loop {
        match file.read(&mut buf).map_err(|e| e.to_string())? {
            0 => return Ok(lines),
            k => lines += buf[..k].iter().filter(|&&b| b == b'\n').count(),
        }
    }
}

/// Writes `section` into BENCHMARKS.md between `<!-- {marker} -->` and `<!-- /{marker} -->`, replacing an
/// earlier run of the same bench (for the scale bench, the same N), or at the end.
pub(crate) fn write_section(marker: &str, section: &str) -> Result {
    write_section_after(marker, "", section)
}

/// [`write_section`], a new section going right after the section `after` when there is one.
fn write_section_after(marker: &str, after: &str, section: &str) -> Result {
    let path = root().join("BENCHMARKS.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        "# Benchmarks\n\nFigures measured on this project's 2-core machines by `cargo xtask bench`; each section \
         names the command that reproduces it.\n\n## Scale (issue \"Scale\")\n\n"
            .to_owned()
    });
    let (start, end) = (format!("<!-- {marker} -->"), format!("<!-- /{marker} -->\n"));
    match (text.find(&start), text.find(&end)) {
        (Some(a), Some(b)) if b > a => text.replace_range(a..b + end.len(), section),
        _ if !after.is_empty() && text.contains(&format!("<!-- /{after} -->\n")) => {
            let closing = format!("<!-- /{after} -->\n");
            let at = text.find(&closing).map_or(text.len(), |i| i + closing.len());
            text.insert_str(at, section);
        }
        _ => {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(section);
        }
    }
    std::fs::write(&path, text).map_err(|e| e.to_string())
}
