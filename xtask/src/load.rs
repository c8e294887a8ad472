//! `cargo xtask fault`: the fault and load checks of issue "Prove it" (items 3, 4 and 6), run on demand.
//!
//! - Fault (item 3): the end-to-end tests that kill the runtime under load and retry (`tests/e2e/fault.rs`),
//!   restart it (`restart.rs`) and run rollups at once (`concurrency.rs`). The queue path's kill is not run:
//!   Miniflare keeps a queue's undelivered messages in memory (see `fault.rs`).
//! - Load (item 4): [`CLIENTS`] clients post batches of [`PER_BATCH`] events to `/v1/batch` on 127.0.0.1 for
//!   [`SECONDS`] seconds, each waiting for its answer before the next (bounded: at most [`CLIENTS`] requests in
//!   flight), while workerd's resident memory is sampled every second. Then the site is rolled up and every
//!   acknowledged event must be in it. Then the same load runs against a bare JS Worker (one KV put per
//!   request, behind the same asset layer, `peers::start_bare`) on the same wrangler dev, as a control for the
//!   runtime's own memory. Writes
//!   the figures into BENCHMARKS.md (`<!-- load -->`).

use crate::scale::{ADMIN, call, start_server, workerd_processes, write_section};
use crate::{Result, root};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;
const PER_BATCH: usize = 20;
/// The load's default length (item 4 asks for 60 s); `--seconds N` runs longer to see whether memory levels off.
const SECONDS: u64 = 60;

/// Resident memory (VmRSS, kB) of the workerd processes in process group `pgid`, summed.
fn workerd_rss_kb(pgid: u32) -> u64 {
    workerd_processes(pgid)
        .iter()
        .map(|(pid, _)| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}

fn batch_body(write_key: &str, client: usize, n: usize) -> String {
    let batch: Vec<serde_json::Value> = (0..PER_BATCH)
        .map(|i| {
            serde_json::json!({"type": "track", "userId": format!("load-{client}-{}", n % 500),
                "event": if i == 0 { "Order Completed" } else { "Feature Used" }, "properties": {"revenue": 1},
                "messageId": format!("load-{client}-{n}-{i}")})
        })
        .collect();
    serde_json::json!({"batch": batch, "writeKey": write_key}).to_string()
}

/// Per client: (requests answered 200, requests answered otherwise or failed, the first such answer).
type ClientTally = (u64, u64, Option<String>);

fn run_client(url: &str, write_key: &str, client: usize, stop: &AtomicBool) -> ClientTally {
    let agent = crate::demo::agent();
    let (mut ok, mut failed, mut first_failure) = (0, 0, None);
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        let body = batch_body(write_key, client, n);
        n += 1;
        match agent.post(url).header("content-type", "application/json").send(&body) {
            Ok(r) if r.status() == 200 => ok += 1,
            Ok(r) => {
                failed += 1;
                first_failure.get_or_insert_with(|| format!("status {}", r.status()));
            }
            Err(e) => {
                failed += 1;
                first_failure.get_or_insert_with(|| e.to_string());
            }
        }
    }
    (ok, failed, first_failure)
}

/// Whether memory levels off: the highest sample of the run's last third is within 10 % of the highest of its
/// middle third (a heuristic over a finite run, stated as such in the output). `None` for runs too short to say.
fn levels_off(samples: &[u64]) -> Option<bool> {
    let third = samples.len() / 3;
    if third < 3 {
        return None;
    }
    let max = |w: &[u64]| w.iter().copied().max().unwrap_or(0);
    Some(max(&samples[2 * third..]) as f64 <= 1.1 * max(&samples[third..2 * third]) as f64)
}

/// What one run of the load gave: its length, requests answered 200 and otherwise (the first such answer), and
/// workerd's resident memory (kB) every second.
struct Driven {
    elapsed: f64,
    ok: u64,
    failed: u64,
    first_failure: Option<String>,
    rss: Vec<u64>,
}

/// [`CLIENTS`] clients posting to `url` for `seconds`, while the workerd processes of group `pgid` are sampled.
fn drive(url: &str, write_key: &str, seconds: u64, pgid: u32) -> Driven {
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (tallies, rss) = std::thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                s.spawn({
                    let stop = &stop;
                    move || run_client(url, write_key, c, stop)
                })
            })
            .collect();
        let mut rss = Vec::new();
        while started.elapsed() < Duration::from_secs(seconds) {
            std::thread::sleep(Duration::from_secs(1));
            rss.push(workerd_rss_kb(pgid));
        }
        stop.store(true, Ordering::SeqCst);
        let tallies: Vec<ClientTally> =
            clients.into_iter().map(|h| h.join().unwrap_or((0, 1, Some("client panicked".into())))).collect();
        (tallies, rss)
    });
    Driven {
        elapsed: started.elapsed().as_secs_f64(),
        ok: tallies.iter().map(|t| t.0).sum(),
        failed: tallies.iter().map(|t| t.1).sum(),
        first_failure: tallies.iter().find_map(|t| t.2.clone()),
        rss,
    }
}

/// The verdict of [`levels_off`] in words.
fn verdict(samples: &[u64]) -> &'static str {
    match levels_off(samples) {
        Some(true) => "levels off (the last third's highest sample within 10 % of the middle third's)",
        Some(false) => "**still growing** (the last third's highest sample over 110 % of the middle third's)",
        None => "run too short to say",
    }
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Memory every 10 s, in MB.
fn series(rss: &[u64]) -> String {
    rss.iter().step_by(10).map(|kb| format!("{:.0}", mb(*kb))).collect::<Vec<_>>().join(", ")
}

/// The load check; returns an error when a request failed or an acknowledged event is missing.
fn load(seconds: u64) -> Result {
    let dir = root().join(".daytwo/load");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (server, base) = start_server(&dir)?;
    let pgid = server.child.id();
    let (status, body, _) = call("PUT", &format!("{base}/v1/sites/load"), Some(ADMIN), Some(r#"{"currency":"USD"}"#))?;
    if status != 201 {
        return Err(format!("creating the site: {status} {body}"));
    }
    let site: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    let write_key = site["secret_write_key"].as_str().unwrap_or_default().to_owned();
    let Driven { elapsed, ok, failed, first_failure, rss } =
        drive(&format!("{base}/v1/batch"), &write_key, seconds, pgid);

    // Every acknowledged event is rolled up (bounded number of runs).
    let t = Instant::now();
    for _ in 0..200 {
        let (status, body, _) = call("POST", &format!("{base}/v1/sites/load/rollup"), Some(ADMIN), None)?;
        if status != 200 {
            return Err(format!("rollup after the load: {status} {body}"));
        }
        if !body.contains("\"more\":true") {
            break;
        }
    }
    let rollup_s = t.elapsed().as_secs_f64();
    let after_rollup = workerd_rss_kb(pgid);
    let (_, stats, _) = call("GET", &format!("{base}/v1/sites/load/stats"), Some(ADMIN), None)?;
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap_or_default();
    let folded = stats["rolled_up_messages"].as_u64().unwrap_or(0);
    drop(server);

    // The control: the same load on a bare JS Worker that does one KV put per request, on the same wrangler
    // dev, so that what grows in the local runtime itself (Miniflare's KV, workerd) is told from what grows in
    // Daytwo's Worker.
    let (bare, bare_base) = crate::peers::start_bare(&dir.join("bare"), crate::peers::BareAssets::SameAsDaytwo)?;
    let bare_pgid = bare.child.id();
    let control = drive(&format!("{bare_base}/v1/batch"), &write_key, seconds, bare_pgid);
    drop(bare);

    let window =
        |from: usize, to: usize| rss.get(from..to.min(rss.len())).and_then(|w| w.iter().max().copied()).unwrap_or(0);
    let (early, late, peak) =
        (window(5, 15), window(rss.len().saturating_sub(10), rss.len()), rss.iter().copied().max().unwrap_or(0));
    let flags = if seconds == SECONDS { String::new() } else { format!(" --load-only --seconds {seconds}") };
    let date = crate::output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let cpu = crate::output("nproc", &[]).unwrap_or_default();
    let section = format!(
        "<!-- load -->\n### Sustained load (issue \"Prove it\", item 4)\n\n\
         Command: `cargo xtask fault{flags}` ({}; {} cores; wrangler dev, local KV on disk; {CLIENTS} clients on 127.0.0.1, \
         each waiting for its answer; batches of {PER_BATCH} events with the secret key, direct ingest)\n\n\
         | measure | value |\n|---|---|\n\
         | duration | {elapsed:.1} s |\n\
         | requests acknowledged (200) | {ok} ({:.0} req/s, {:.0} events/s) |\n\
         | requests failed (any other answer or a transport error) | {failed}{} |\n\
         | workerd resident memory, max over seconds 5–15 / last 10 s / peak | {:.0} MB / {:.0} MB / {:.0} MB |\n\
         | workerd resident memory every 10 s (MB) | {} |\n\
         | memory over the run | {} |\n\
         | workerd resident memory after the rollup | {:.0} MB |\n\
         | rollup after the load | {rollup_s:.1} s; {folded} messages folded of {} acknowledged |\n\
         | control: a bare JS Worker, one KV put per request, same load and wrangler dev | {} acknowledged ({:.0} req/s), {} failed |\n\
         | control: workerd resident memory every 10 s (MB) | {} |\n\
         | control: memory over the run | {} |\n\
         <!-- /load -->\n",
        date.trim(),
        cpu.trim(),
        ok as f64 / elapsed,
        (ok * PER_BATCH as u64) as f64 / elapsed,
        first_failure.map(|f| format!(" (first: {f})")).unwrap_or_default(),
        mb(early),
        mb(late),
        mb(peak),
        series(&rss),
        verdict(&rss),
        mb(after_rollup),
        ok * PER_BATCH as u64,
        control.ok,
        control.ok as f64 / control.elapsed,
        control.failed,
        series(&control.rss),
        verdict(&control.rss),
    );
    println!("{section}");
    write_section("load", &section)?;
    if failed > 0 {
        return Err(format!("{failed} requests failed under load"));
    }
    if folded != ok * PER_BATCH as u64 {
        return Err(format!("{folded} messages rolled up, {} acknowledged", ok * PER_BATCH as u64));
    }
    Ok(())
}

/// `cargo xtask fault`: the fault tests, then the load check (`--load-only`: the load check alone;
/// `--seconds N`: its length).
pub fn run(load_only: bool, seconds: Option<u64>) -> Result {
    if !load_only {
        crate::run(
            "cargo",
            &["test", "-p", "daytwo-tests", "--test", "e2e", "--", "fault::", "restart::", "concurrency::"],
        )?;
    }
    load(seconds.unwrap_or(SECONDS))
}

#[cfg(test)]
mod tests {
    use super::levels_off;

    #[test]
    fn memory_that_keeps_growing_does_not_level_off() {
        assert_eq!(levels_off(&[1, 2, 3]), None);
        assert_eq!(levels_off(&(0..30).map(|s| 700 + 12 * s).collect::<Vec<_>>()), Some(false));
        assert_eq!(levels_off(&(0..30).map(|s| 700 + 12 * s.min(12)).collect::<Vec<_>>()), Some(true));
        assert_eq!(levels_off(&(0..30).map(|s| if s % 2 == 0 { 900 } else { 1000 }).collect::<Vec<_>>()), Some(true));
    }
}
