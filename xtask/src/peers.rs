//! `cargo xtask bench`: the "Prove it" rows, each measured beside its peer in the same run, as one table.
//!
//! - **Offline engine**: `daytwo report budget` on a million generated events (one thread, as the CLI is)
//!   against DuckDB from PyPI (`read_ndjson` and a GROUP BY account, day and event, `threads = 1`), each a whole
//!   process timed with its peak memory (`/usr/bin/time`), alternated, median of [`ENGINE_RUNS`].
//! - **Ingest**: `/v1/batch` of 20 events with the secret key on the real Worker against a bare JS Worker that
//!   does one KV put per request, both on `wrangler dev` with local KV on disk and the same `[assets]` block
//!   (wrangler.toml's: locally every request to a Worker with assets first passes Miniflare's asset router, in
//!   the same workerd, which costs about a quarter of the throughput; a bare Worker without it would measure the
//!   router, not the Worker), loaded by `wrk` (Debian's) with [`WRK_CONNECTIONS`] connections on 127.0.0.1,
//!   alternated, [`INGEST_ROUNDS`] rounds of [`WRK_SECONDS`] s. Only 2xx answers count. The same pair also
//!   runs without the asset layer (Daytwo from a copy of wrangler.toml without `[assets]`), in the same rounds;
//!   the goal is met only when both pairs meet it, judged on the median of each round's ratio (Daytwo's rate
//!   over the bare Worker's measured right after it: the machine's speed drifts by ±10 % between rounds, and
//!   a paired ratio cancels what moves both; the ratio of the medians is printed beside it).
//! - **Sizes**: the Worker bundle and the widget as built, the snippet against Plausible's npm tracker bundled
//!   and minified by the same esbuild.
//!
//! Writes the table into BENCHMARKS.md (`<!-- peers -->`). The cost, first-chart and scale rows have commands
//! of their own (`--cost`, `--first-chart`, `--scale N`), each writing its section. Every loop is bounded.

use crate::scale::{ADMIN, Server, call, free_port, median, start_server_with, write_section};
use crate::{Result, daytwo_bin, root};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const ENGINE_RUNS: usize = 3;
const INGEST_ROUNDS: usize = 5;
const WRK_SECONDS: u32 = 15;
const WRK_CONNECTIONS: u32 = 4;
/// DuckDB's release on PyPI that the anchor uses.
const DUCKDB: &str = "duckdb==2.0.0";
/// Plausible's npm tracker, the snippet's peer.
const PLAUSIBLE: &str = "plausible-tracker@0.3.9";

/// One process's wall time (s) and peak resident memory (MB), from `/usr/bin/time -f "%e %M"`.
fn timed(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(f64, f64)> {
    let report = dir.join("time.txt");
    let out = Command::new("/usr/bin/time")
        .arg("-o")
        .arg(&report)
        .args(["-f", "%e %M", program])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("/usr/bin/time {program}: {e} (Debian's package `time`)"))?;
    if !out.status.success() {
        return Err(format!("{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = std::fs::read_to_string(&report).map_err(|e| e.to_string())?;
    let mut f = text.split_whitespace().rev().take(2).collect::<Vec<_>>().into_iter().rev();
    let secs = f.next().and_then(|s| s.parse::<f64>().ok()).ok_or("time: no seconds")?;
    let kb = f.next().and_then(|s| s.parse::<f64>().ok()).ok_or("time: no memory")?;
    Ok((secs, kb / 1024.0))
}

/// Installs a Debian package when its program is missing (the bench machine reaches Debian's mirror).
fn ensure_debian(program: &str, package: &str) -> Result {
    if Path::new(program).exists() {
        return Ok(());
    }
    crate::run("apt-get", &["update", "-qq"])?;
    crate::run("apt-get", &["install", "-y", "-qq", package])
}

/// A Python virtual environment in `.daytwo/duckdb-venv` with [`DUCKDB`]; returns its interpreter.
fn duckdb_python() -> Result<String> {
    let venv = root().join(".daytwo/duckdb-venv");
    let python = venv.join("bin/python");
    let python_s = python.to_string_lossy().into_owned();
    let ok = |p: &str| Command::new(p).args(["-c", "import duckdb"]).output().is_ok_and(|o| o.status.success());
    if !ok(&python_s) {
        crate::run("python3", &["-m", "venv", &venv.to_string_lossy()])?;
        crate::run(&python_s, &["-m", "pip", "install", "--quiet", DUCKDB])?;
    }
    Ok(python_s)
}

/// The DuckDB anchor: read the file (the columns named, so no sampling pass), group by account (or person), day
/// and event, count; prints the number of groups.
const DUCKDB_SCRIPT: &str = r#"import sys, duckdb
con = duckdb.connect()
con.execute("SET threads = 1")
n = con.execute("""
  SELECT count(*) FROM (
    SELECT coalesce(context.groupId, userId, anonymousId) AS who, CAST("timestamp" AS DATE) AS day,
           coalesce(event, "type") AS what, count(*) AS n
    FROM read_ndjson(?, ignore_errors = true, columns = {
      'type': 'VARCHAR', 'event': 'VARCHAR', 'userId': 'VARCHAR', 'anonymousId': 'VARCHAR',
      'timestamp': 'TIMESTAMP', 'context': 'STRUCT(groupId VARCHAR)'})
    GROUP BY ALL)""", [sys.argv[1]]).fetchone()[0]
print(n)
"#;

/// (requests/s of 2xx answers, non-2xx answers and socket errors) from `wrk`'s report.
fn wrk(url: &str, script: &Path) -> Result<(f64, u64)> {
    let out = Command::new("wrk")
        .args(["-t2", &format!("-c{WRK_CONNECTIONS}"), &format!("-d{WRK_SECONDS}s"), "-s"])
        .arg(script)
        .arg(url)
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!("wrk: {text}{}", String::from_utf8_lossy(&out.stderr)));
    }
    let number = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|v| v.trim_end_matches(',').parse::<f64>().ok())
    };
    let duration = WRK_SECONDS as f64;
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("wrk: no request count in {text}"))?;
    let bad = number("Non-2xx or 3xx responses:").unwrap_or(0.0);
    let errors: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map(|r| r.split(',').filter_map(|p| p.split_whitespace().last()?.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    Ok(((requests - bad) / duration, (bad + errors) as u64))
}

/// A wrk script that POSTs `body` as JSON.
fn wrk_script(path: &Path, body: &str) -> Result {
    let lua = format!(
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[{body}]==]\n"
    );
    std::fs::write(path, lua).map_err(|e| e.to_string())
}

/// The bare JS Worker: one KV put of the request's body per POST, `ok` to anything else.
const BARE_WORKER: &str = r#"export default {
  async fetch(request, env) {
    if (request.method !== "POST") return new Response("ok");
    const body = await request.text();
    await env.RAW.put(`raw/${Date.now()}-${crypto.randomUUID()}`, body);
    return Response.json({ success: true });
  },
};
"#;

/// Whether the bare Worker runs behind the asset layer Daytwo's own wrangler.toml configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BareAssets {
    /// Daytwo's `[assets]` block, its directory made absolute: the same local request path as Daytwo's.
    SameAsDaytwo,
    None,
}

/// The `[assets]` table of the repository's wrangler.toml, its `directory` made absolute, so another Worker can
/// be run behind the very same asset layer.
fn daytwo_assets_block() -> Result<String> {
    let toml = std::fs::read_to_string(root().join("wrangler.toml")).map_err(|e| e.to_string())?;
    assets_block(&toml, &crate::assets::out_dir())
}

/// Each line of `toml` with the header of the table it is in (`""` before the first header).
fn lines_by_table(toml: &str) -> Vec<(&str, &str)> {
    let mut table = "";
    toml.lines()
        .map(|line| {
            if line.starts_with('[') {
                table = line;
            }
            (table, line)
        })
        .collect()
}

/// `line`, or `key = value` when it sets `key`.
fn with_value(line: &str, key: &str, value: &str) -> String {
    match line.split_once('=') {
        Some((k, _)) if k.trim() == key => format!("{key} = {value:?}\n"),
        _ => format!("{line}\n"),
    }
}

/// `toml`'s `[assets]` table, its `directory` set to `dir`.
fn assets_block(toml: &str, dir: &Path) -> Result<String> {
    let dir = dir.display().to_string();
    let block: String = lines_by_table(toml)
        .into_iter()
        .filter(|(table, _)| *table == "[assets]")
        .map(|(_, line)| with_value(line, "directory", &dir))
        .collect();
    if block.is_empty() { Err("wrangler.toml has no [assets] table".into()) } else { Ok(block) }
}

/// Starts the bare Worker on `wrangler dev` (local KV on disk in `dir/state`) in its own process group.
pub(crate) fn start_bare(dir: &Path, assets: BareAssets) -> Result<(Server, String)> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("index.js"), BARE_WORKER).map_err(|e| e.to_string())?;
    let mut toml = "name = \"bare\"\nmain = \"index.js\"\ncompatibility_date = \"2026-11-01\"\n\n\
                    [[kv_namespaces]]\nbinding = \"RAW\"\nid = \"bare-raw\"\n"
        .to_owned();
    if assets == BareAssets::SameAsDaytwo {
        crate::assets::build()?;
        toml.push('\n');
        toml.push_str(&daytwo_assets_block()?);
    }
    std::fs::write(dir.join("wrangler.toml"), toml).map_err(|e| e.to_string())?;
    let node = crate::tools::ensure_node_tools()?;
    let port = free_port()?;
    let mut cmd = Command::new(node.tool("wrangler"));
    cmd.args(["dev", "--local", "--ip", "127.0.0.1", "--port", &port.to_string()])
        .args(["--inspector-ip", "127.0.0.1", "--inspector-port", &free_port()?.to_string()])
        .arg("--persist-to")
        .arg(dir.join("state"))
        .args(["--show-interactive-dev-session=false", "--log-level", "warn"])
        .envs(crate::worker::wrangler_env(&node))
        .current_dir(dir);
    crate::scale::spawn_server(cmd, dir, port, Duration::from_secs(300))
}

/// A `/v1/batch` body of 20 events of one account, as a Segment library sends it.
fn batch_body(write_key: &str) -> String {
    let batch: Vec<serde_json::Value> = (0..20)
        .map(|i| {
            serde_json::json!({"type": "track", "userId": "user-1", "event": "Dashboard Viewed",
                "properties": {"module": "core"}, "context": {"groupId": "acct-1"},
                "timestamp": "2026-11-30T10:00:00.000Z", "messageId": format!("bench-{i}")})
        })
        .collect();
    serde_json::json!({"batch": batch, "writeKey": write_key, "sentAt": "2026-11-30T10:00:01.000Z"}).to_string()
}

/// Requests/s of each round and failed answers (all rounds) of one server.
type Rate = (Vec<f64>, u64);

/// Daytwo's rate over the bare Worker's, round by round (each pair measured back to back, so the machine's
/// drift between rounds, which moves both alike, cancels): (median, lowest, highest).
fn paired_ratio(ours: &Rate, bare: &Rate) -> (f64, f64, f64) {
    let ratios: Vec<f64> = ours.0.iter().zip(&bare.0).map(|(o, b)| if *b > 0.0 { o / b } else { 0.0 }).collect();
    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ratios.iter().copied().fold(0.0, f64::max);
    (median(ratios), lo, hi)
}

/// The ingest rows' figures: Daytwo and the bare Worker, each behind the asset layer and without it.
#[derive(Debug)]
struct IngestRates {
    ours: Rate,
    bare: Rate,
    ours_no_assets: Rate,
    bare_no_assets: Rate,
}

/// The repository's wrangler.toml without `[build]` (the bench builds first) and `[assets]`, its `main` made
/// absolute, written into `dir`: the same Worker and bindings without Miniflare's asset router in front.
fn config_without_assets(dir: &Path) -> Result<std::path::PathBuf> {
    let toml = std::fs::read_to_string(root().join("wrangler.toml")).map_err(|e| e.to_string())?;
    let main = crate::worker::bundle_wasm().with_file_name("index.js");
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let path = dir.join("wrangler.toml");
    std::fs::write(&path, without_build_and_assets(&toml, &main.display().to_string())).map_err(|e| e.to_string())?;
    Ok(path)
}

/// `toml` without its `[build]` and `[assets]` tables, `main` set to `main`.
fn without_build_and_assets(toml: &str, main: &str) -> String {
    lines_by_table(toml)
        .into_iter()
        .filter(|(table, _)| *table != "[build]" && *table != "[assets]")
        .map(|(_, line)| with_value(line, "main", main))
        .collect()
}

/// Starts Daytwo with direct ingest in `dir` and creates a site; returns the server and a wrk script posting
/// batches with its secret write key.
fn start_daytwo(dir: &Path, env: &[(&str, &str)]) -> Result<(Server, String, std::path::PathBuf)> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut env = env.to_vec();
    env.push(("DAYTWO_INGEST", "direct"));
    let (server, base) = start_server_with(dir, &env)?;
    let (status, body, _) = call("PUT", &format!("{base}/v1/sites/bench"), Some(ADMIN), Some(r#"{"currency":"USD"}"#))?;
    if status != 201 {
        return Err(format!("creating the site: {status} {body}"));
    }
    let site: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    let key = site["secret_write_key"].as_str().ok_or("no secret write key")?;
    let script = dir.join("batch.lua");
    wrk_script(&script, &batch_body(key))?;
    Ok((server, base, script))
}

/// Each server's [`Rate`] over alternating rounds.
fn ingest(dir: &Path) -> Result<IngestRates> {
    ensure_debian("/usr/bin/wrk", "wrk")?;
    let config = config_without_assets(&dir.join("ingest-daytwo-no-assets-config"))?;
    let config_s = config.display().to_string();
    let ours = start_daytwo(&dir.join("ingest-daytwo"), &[])?;
    let ours_plain = start_daytwo(&dir.join("ingest-daytwo-no-assets"), &[("DAYTWO_WRANGLER_CONFIG", &config_s)])?;
    let mut servers = vec![ours, ours_plain];
    for (name, assets) in [("ingest-bare", BareAssets::SameAsDaytwo), ("ingest-bare-no-assets", BareAssets::None)] {
        let bare_dir = dir.join(name);
        let _ = std::fs::remove_dir_all(&bare_dir);
        let (server, base) = start_bare(&bare_dir, assets)?;
        // The bare Worker ignores the body's contents; Daytwo's script (with a write key) does for it.
        let script = servers[0].2.clone();
        servers.push((server, base, script));
    }
    // One short warm-up each (first requests compile and open the stores), then alternating rounds.
    for (_, base, script) in &servers {
        wrk(&format!("{base}/v1/batch"), script)?;
    }
    let mut rates = vec![(Vec::new(), 0); servers.len()];
    for _ in 0..INGEST_ROUNDS {
        for ((_, base, script), (r, failed)) in servers.iter().zip(rates.iter_mut()) {
            let (rps, f) = wrk(&format!("{base}/v1/batch"), script)?;
            r.push(rps);
            *failed += f;
        }
    }
    drop(servers);
    let mut rates = rates.into_iter();
    let mut next = || rates.next().ok_or_else(|| "a server without rounds".to_owned());
    let (ours, ours_no_assets) = (next()?, next()?);
    Ok(IngestRates { ours, ours_no_assets, bare: next()?, bare_no_assets: next()? })
}

/// Gzip size of Plausible's npm tracker, bundled and minified by the esbuild that builds the snippet.
fn plausible_gzip(dir: &Path) -> Result<usize> {
    let node = crate::tools::ensure_node_tools()?;
    let pkg = dir.join("plausible");
    let _ = std::fs::remove_dir_all(&pkg);
    std::fs::create_dir_all(&pkg).map_err(|e| e.to_string())?;
    let path_env = node.path_env();
    let env = [("PATH", path_env.as_str())];
    let pkg_s = pkg.to_string_lossy().into_owned();
    crate::run_env("npm", &["pack", PLAUSIBLE, "--silent", "--pack-destination", &pkg_s], &env)?;
    let tgz = std::fs::read_dir(&pkg)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "tgz"))
        .ok_or("npm pack wrote no archive")?;
    crate::run("tar", &["xzf", &tgz.to_string_lossy(), "-C", &pkg_s])?;
    let out = pkg.join("plausible.min.js");
    let entry = pkg.join("package/build/module/index.js");
    let esbuild = node.tool("esbuild").display().to_string();
    let (entry_s, out_arg) = (entry.to_string_lossy().into_owned(), format!("--outfile={}", out.display()));
    crate::run_env(&esbuild, &[&entry_s, "--bundle", "--minify", "--format=esm", "--target=es2017", &out_arg], &env)?;
    Ok(crate::assets::sizes(&out)?.1)
}

pub fn run() -> Result {
    let dir = root().join(".daytwo/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let bin = daytwo_bin()?.to_string_lossy().into_owned();
    let data = dir.join("engine");
    let data_s = data.to_string_lossy().into_owned();
    crate::run(
        &bin,
        &["generate", "--seed", "1", "--accounts", "15000", "--months", "24", "--end", "2026-11-01", "--out", &data_s],
    )?;
    let events = data.join("events.ndjson");
    let (events_s, spend_s) =
        (events.to_string_lossy().into_owned(), data.join("spend.csv").to_string_lossy().into_owned());
    let lines = crate::scale::count_lines(&events)?;
    let file_mb = std::fs::metadata(&events).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);

    // Offline engine against DuckDB, alternating.
    ensure_debian("/usr/bin/time", "time")?;
    let python = duckdb_python()?;
    let script = dir.join("duckdb_anchor.py");
    std::fs::write(&script, DUCKDB_SCRIPT).map_err(|e| e.to_string())?;
    let script_s = script.to_string_lossy().into_owned();
    let report = ["report", "budget", "--events", &events_s, "--spend", &spend_s, "--to", "2026-11-01", "--json"];
    let (mut ours, mut duck) = (Vec::new(), Vec::new());
    for _ in 0..ENGINE_RUNS {
        ours.push(timed(&dir, &bin, &report, &[])?);
        duck.push(timed(&dir, &python, &[&script_s, &events_s], &[])?);
    }
    let pick = |v: &[(f64, f64)]| {
        let (t, m): (Vec<f64>, Vec<f64>) = v.iter().copied().unzip();
        let (lo, hi) = (t.iter().copied().fold(f64::INFINITY, f64::min), t.iter().copied().fold(0.0, f64::max));
        (median(t), lo, hi, m.into_iter().fold(0.0, f64::max))
    };
    let (o, d) = (pick(&ours), pick(&duck));

    let IngestRates { ours, bare, ours_no_assets, bare_no_assets } = ingest(&dir)?;
    // The goal is judged on the paired ratios; the ratio of the medians is printed beside them.
    let with_assets = paired_ratio(&ours, &bare);
    let without_assets = paired_ratio(&ours_no_assets, &bare_no_assets);
    let no_failures = [&ours, &bare, &ours_no_assets, &bare_no_assets].iter().all(|r| r.1 == 0);
    let rate = |r: &Rate| median(r.0.clone());

    let (_, bundle_gz) = crate::assets::sizes(&crate::worker::bundle_wasm())?;
    let widget_gz = crate::assets::widget_transfer()?.1;
    let (_, snippet_gz) = crate::assets::sizes(&crate::assets::out_dir().join("s.js"))?;
    let plausible_gz = plausible_gzip(&dir)?;

    let kb = |b: usize| format!("{:.1} KB", b as f64 / 1024.0);
    let verdict = |met: bool| if met { "met" } else { "**missed**" };
    let rows = [
        format!(
            "| offline engine: {lines} events ({file_mb:.0} MB NDJSON), one thread | `daytwo report budget` {:.2} s \
             ({:.2}–{:.2}), {:.0} MB peak | DuckDB ({DUCKDB}) `read_ndjson` + GROUP BY account, day, event, whole \
             process {:.2} s ({:.2}–{:.2}), {:.0} MB peak | faster than DuckDB, memory no higher: {} ({:.1}× its time) |",
            o.0,
            o.1,
            o.2,
            o.3,
            d.0,
            d.1,
            d.2,
            d.3,
            verdict(o.0 < d.0 && o.3 <= d.3),
            o.0 / d.0
        ),
        format!(
            "| ingest: `/v1/batch` of 20 events, `wrk -c{WRK_CONNECTIONS}`, 127.0.0.1, {INGEST_ROUNDS} alternated \
             rounds of {WRK_SECONDS} s, medians | {:.0} req/s ({} failed); without the asset layer {:.0} req/s ({} \
             failed) | a bare JS Worker, one KV put per request, same wrangler dev and the same `[assets]` layer: \
             {:.0} req/s ({} failed); without the asset layer {:.0} req/s ({} failed) | ≥ 0.8× the bare Worker, both \
             ways, median of the rounds' paired ratios: {} ({:.2}× ({:.2}–{:.2}) behind the asset layer, {:.2}× \
             ({:.2}–{:.2}) without; ratio of the medians {:.2}× and {:.2}×) |",
            rate(&ours),
            ours.1,
            rate(&ours_no_assets),
            ours_no_assets.1,
            rate(&bare),
            bare.1,
            rate(&bare_no_assets),
            bare_no_assets.1,
            verdict(with_assets.0 >= 0.8 && without_assets.0 >= 0.8 && no_failures),
            with_assets.0,
            with_assets.1,
            with_assets.2,
            without_assets.0,
            without_assets.1,
            without_assets.2,
            rate(&ours) / rate(&bare),
            rate(&ours_no_assets) / rate(&bare_no_assets)
        ),
        format!(
            "| Worker bundle (gzip) | {} | — (not rebuilt by this command) | ≤ 400 KB: {} |",
            kb(bundle_gz),
            verdict(bundle_gz <= 400 * 1024)
        ),
        format!(
            "| widget transfer (gzip, JS + wasm) | {} | — | ≤ 120 KB: {} |",
            kb(widget_gz),
            verdict(widget_gz <= 120 * 1024)
        ),
        format!(
            "| snippet (gzip) | {snippet_gz} B | Plausible's npm tracker ({PLAUSIBLE}, bundled and minified by the \
             same esbuild): {plausible_gz} B | < 1,000 B: {} |",
            verdict(snippet_gz < 1000)
        ),
    ];
    let date = crate::output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let cores = crate::output("nproc", &[]).unwrap_or_default();
    let section = format!(
        "<!-- peers -->\n### Against the peers (issue \"Prove it\")\n\n\
         Command: `cargo xtask bench` ({}; {} cores; each row beside its peer in the same run, alternated)\n\n\
         | measure | Daytwo | peer, same run | goal |\n|---|---|---|---|\n{}\n<!-- /peers -->\n",
        date.trim(),
        cores.trim(),
        rows.join("\n")
    );
    println!("{section}");
    write_section("peers", &section)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each round's rate is set against the bare Worker's of the same round, not the medians against each other.
    #[test]
    fn ingest_ratios_are_paired_by_round() {
        // The machine slows by half in round two: both servers alike, so each round's ratio stays 0.8 or 1.
        let ours = (vec![100.0, 50.0, 150.0], 0);
        let bare = (vec![125.0, 62.5, 150.0], 0);
        assert_eq!(paired_ratio(&ours, &bare), (0.8, 0.8, 1.0));
        // A bare round that answered nothing counts as a ratio of 0, never a division by zero.
        assert_eq!(paired_ratio(&(vec![10.0], 0), &(vec![0.0], 0)), (0.0, 0.0, 0.0));
    }

    /// The two runtime set-ups the ingest row compares are cut from the repository's own wrangler.toml.
    #[test]
    fn the_bench_configs_come_from_wrangler_toml() -> Result {
        let toml = std::fs::read_to_string(root().join("wrangler.toml")).map_err(|e| e.to_string())?;
        let plain = without_build_and_assets(&toml, "/abs/index.js");
        assert!(plain.contains("main = \"/abs/index.js\"\n"), "{plain}");
        for gone in ["[build]", "[assets]", "run_worker_first", "command = ", "directory = "] {
            assert!(!plain.lines().any(|l| l.starts_with(gone)), "{gone} left in:\n{plain}");
        }
        for kept in ["[[kv_namespaces]]", "[[durable_objects.bindings]]", "[[migrations]]", "[vars]", "[triggers]"] {
            assert!(plain.contains(kept), "{kept} lost from:\n{plain}");
        }
        let block = assets_block(&toml, Path::new("/abs/assets"))?;
        assert!(block.starts_with("[assets]\n"), "{block}");
        assert!(block.contains("directory = \"/abs/assets\"\n"), "{block}");
        assert!(block.contains("run_worker_first"), "{block}");
        assert!(!block.contains("directory = \"assets\""), "{block}");
        Ok(())
    }
}
