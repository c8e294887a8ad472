//! `cargo xtask bench --cost`: what a million events cost on Cloudflare, from the operations the real Worker
//! counts (issue "Prove it").
//!
//! Generates a small site (`daytwo generate`), starts the Worker (`cargo xtask serve`: wrangler dev, local KV on
//! disk), once with direct ingest and once with Queue ingest (`DAYTWO_INGEST=queue`), and sends the site's
//! events through `/v1/batch` twice per path: one message a request (what analytics.js does in a browser) and
//! 20 a request (a server library's batch). It adds up the KV operations each answer reports
//! (`x-daytwo-kv-ops`), then rolls the site up until every event is folded, adding up the rollups' operations
//! and the raw keys they read (KV bills a bulk read per key, so those are the billed reads; through the queue
//! they are also the consumer's writes: one raw key per consumer batch). A last rollup with nothing to fold
//! gives the fixed cost of a cron tick. Prices are Cloudflare's published list prices beyond a plan's included
//! amounts (constants below, with their date); storage, CPU time and Durable Object duration and SQL rows are
//! not counted (not measurable locally). Loopback only; every wait is bounded.

use crate::Result;
use crate::scale::{ADMIN, call, start_server_with};
use std::time::{Duration, Instant};

/// List prices in US dollars per million, as published on developers.cloudflare.com (Workers, KV, Queues and
/// Durable Objects pricing pages, read 2026-12-07), beyond the Workers Paid plan's included amounts.
const WORKER_REQUEST: f64 = 0.30;
const KV_READ: f64 = 0.50;
const KV_WRITE: f64 = 5.00;
const KV_LIST: f64 = 5.00;
const KV_DELETE: f64 = 5.00;
/// Per operation: a queue message is written, read and deleted (3 operations per 64 KB).
const QUEUE_OPERATION: f64 = 0.40;
const DO_REQUEST: f64 = 0.15;
/// Cron ticks a month per site (every 5 minutes, 30 days).
const TICKS_PER_MONTH: f64 = 8_640.0;

/// KV operations added up from `x-daytwo-kv-ops` answers.
#[derive(Clone, Copy, Debug, Default)]
struct Ops {
    reads: u64,
    writes: u64,
    lists: u64,
    deletes: u64,
}

impl Ops {
    fn add_header(&mut self, h: Option<&str>) {
        for part in h.unwrap_or_default().split(';') {
            let (k, v) = part.split_once('=').unwrap_or((part, "0"));
            let n = v.trim().parse::<u64>().unwrap_or(0);
            match k.trim() {
                "reads" => self.reads += n,
                "writes" => self.writes += n,
                "lists" => self.lists += n,
                "deletes" => self.deletes += n,
                _ => {}
            }
        }
    }
}

/// What one scenario counted.
#[derive(Debug, Default)]
struct Tally {
    events: u64,
    requests: u64,
    /// Queue messages the handler sent (one per request here: every body is under Queues' 128 KB).
    queue_messages: u64,
    largest_body: usize,
    ingest: Ops,
    rollup: Ops,
    rollup_runs: u64,
    raw_keys_read: u64,
    folded: u64,
    idle_run: Ops,
}

impl Tally {
    /// Dollars per million events, by item, and the total.
    fn cost_per_million(&self, queue: bool) -> Vec<(&'static str, f64)> {
        let per_event = |n: u64| n as f64 / self.events.max(1) as f64;
        // The rollup's bulk reads are billed per key returned: its counted reads less one per bulk read is at
        // least its single reads; adding every key read gives an upper bound.
        let kv_reads = self.ingest.reads + self.rollup.reads + self.raw_keys_read;
        // Through the queue the consumer writes the raw keys (one per consumer batch), outside any answer.
        let consumer_writes = if queue { self.raw_keys_read } else { 0 };
        let kv_writes = self.ingest.writes + self.rollup.writes + consumer_writes;
        vec![
            ("Worker requests", per_event(self.requests + self.rollup_runs) * WORKER_REQUEST),
            ("KV reads", per_event(kv_reads) * KV_READ),
            ("KV writes", per_event(kv_writes) * KV_WRITE),
            ("KV lists", per_event(self.ingest.lists + self.rollup.lists) * KV_LIST),
            ("KV deletes", per_event(self.ingest.deletes + self.rollup.deletes) * KV_DELETE),
            ("Queue operations", per_event(3 * self.queue_messages) * QUEUE_OPERATION),
            ("Durable Object requests", per_event(self.rollup_runs) * DO_REQUEST),
        ]
    }
}

fn post(url: &str, body: &str) -> Result<(u16, Option<String>)> {
    let mut r = crate::demo::agent()
        .post(url)
        .header("content-type", "application/json")
        .send(body)
        .map_err(|e| format!("POST {url}: {e}"))?;
    let ops = r.headers().get("x-daytwo-kv-ops").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let _ = r.body_mut().read_to_string();
    Ok((r.status().as_u16(), ops))
}

/// Sends every message of `events` to a new site in requests of `per_request`, then rolls it up.
fn scenario(base: &str, site: &str, events: &[String], per_request: usize, queue: bool) -> Result<Tally> {
    let (status, body, _) =
        call("PUT", &format!("{base}/v1/sites/{site}"), Some(ADMIN), Some(r#"{"currency":"USD"}"#))?;
    if status != 201 {
        return Err(format!("creating {site}: {status} {body}"));
    }
    let created: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    let key = created["secret_write_key"].as_str().unwrap_or_default().to_owned();
    let mut t = Tally { events: events.len() as u64, ..Tally::default() };
    for chunk in events.chunks(per_request) {
        let body = format!(r#"{{"writeKey":"{key}","batch":[{}]}}"#, chunk.join(","));
        t.largest_body = t.largest_body.max(body.len());
        let (status, ops) = post(&format!("{base}/v1/batch"), &body)?;
        if status != 200 {
            return Err(format!("{site}: ingest answered {status}"));
        }
        t.requests += 1;
        t.queue_messages += u64::from(queue);
        t.ingest.add_header(ops.as_deref());
    }
    if t.largest_body >= 128 * 1024 {
        return Err(format!("{site}: a request of {} B would be several queue messages", t.largest_body));
    }
    // Roll up until every event is folded (the queue's consumer writes them a little later), bounded.
    let deadline = Instant::now() + Duration::from_secs(600);
    while t.folded < t.events {
        if Instant::now() > deadline {
            return Err(format!("{site}: {} of {} events folded after 600 s", t.folded, t.events));
        }
        let (ops, v) = rollup(base, site)?;
        let (folded, keys) = (v["messages_folded"].as_u64().unwrap_or(0), v["raw_keys_read"].as_u64().unwrap_or(0));
        if folded == 0 && keys == 0 {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        t.rollup.add_header(ops.as_deref());
        t.rollup_runs += 1;
        t.folded += folded;
        t.raw_keys_read += keys;
    }
    // Finish what the last run left (`more`: the read model's rebuild, part of rolling these events up), then
    // one idle tick.
    for _ in 0..50 {
        let (ops, v) = rollup(base, site)?;
        if v["more"] != serde_json::json!(true) {
            break;
        }
        t.rollup.add_header(ops.as_deref());
        t.rollup_runs += 1;
    }
    let (ops, _) = rollup(base, site)?;
    t.idle_run.add_header(ops.as_deref());
    Ok(t)
}

fn rollup(base: &str, site: &str) -> Result<(Option<String>, serde_json::Value)> {
    let url = format!("{base}/v1/sites/{site}/rollup");
    let mut r = crate::demo::agent()
        .post(&url)
        .header("authorization", &format!("Bearer {ADMIN}"))
        .send_empty()
        .map_err(|e| format!("POST {url}: {e}"))?;
    let ops = r.headers().get("x-daytwo-kv-ops").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    if status != 200 {
        return Err(format!("{site}: rollup answered {status}: {text}"));
    }
    Ok((ops, serde_json::from_str(&text).unwrap_or_default()))
}

pub fn run() -> Result {
    let dir = crate::root().join(".daytwo/bench-cost");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let bin = crate::daytwo_bin()?.to_string_lossy().into_owned();
    let data = dir.join("data");
    let data_s = data.to_string_lossy().into_owned();
    let gen_args = ["generate", "--seed", "7", "--accounts", "200", "--months", "2", "--end", "2026-11-01", "--out"];
    let mut args = gen_args.to_vec();
    args.push(&data_s);
    crate::run(&bin, &args)?;
    let events: Vec<String> = std::fs::read_to_string(data.join("events.ndjson"))
        .map_err(|e| e.to_string())?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    let mut idle = Vec::new();
    for (path, queue) in [("direct", false), ("queue", true)] {
        let run_dir = dir.join(path);
        std::fs::create_dir_all(&run_dir).map_err(|e| e.to_string())?;
        let env: &[(&str, &str)] = if queue { &[("DAYTWO_INGEST", "queue")] } else { &[("DAYTWO_INGEST", "direct")] };
        let (server, base) = start_server_with(&run_dir, env)?;
        for per_request in [1usize, 20] {
            let site = format!("cost-{path}-{per_request}");
            let t = scenario(&base, &site, &events, per_request, queue)?;
            let items = t.cost_per_million(queue);
            let total: f64 = items.iter().map(|(_, v)| v).sum();
            let detail = items
                .iter()
                .filter(|(_, v)| *v > 0.0)
                .map(|(k, v)| format!("{k} ${v:.2}"))
                .collect::<Vec<_>>()
                .join(", ");
            rows.push(format!(
                "| {path}, {per_request} a request | {} | {} | {} / {} / {} | {} run(s): {} reads, {} raw keys, {} writes, {} lists | {} | **${total:.2}** ({detail}) |",
                t.events,
                t.requests,
                t.ingest.reads,
                t.ingest.writes,
                t.ingest.lists,
                t.rollup_runs,
                t.rollup.reads,
                t.raw_keys_read,
                t.rollup.writes,
                t.rollup.lists,
                if queue { format!("{} messages, {} raw keys written by the consumer", t.queue_messages, t.raw_keys_read) } else { "—".into() },
            ));
            idle.push(t.idle_run);
        }
        drop(server);
    }
    let idle_run = idle.first().copied().unwrap_or_default();
    let idle_cost = TICKS_PER_MONTH
        * (WORKER_REQUEST
            + DO_REQUEST
            + idle_run.reads as f64 * KV_READ
            + idle_run.writes as f64 * KV_WRITE
            + idle_run.lists as f64 * KV_LIST)
        / 1e6;
    let date = crate::output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let section = format!(
        "<!-- cost -->\n### Cost per million events (issue \"Prove it\")\n\n\
         Command: `cargo xtask bench --cost` ({}; the real Worker on wrangler dev, local KV; {} generated events \
         sent through `/v1/batch`, then rolled up until every one is folded). Operations are the Worker's own \
         counts (`x-daytwo-kv-ops` of every answer, `raw_keys_read` of every rollup); prices are Cloudflare's \
         list prices beyond the Workers Paid plan's included amounts (US$ per million: requests {WORKER_REQUEST}, \
         KV reads {KV_READ}, writes {KV_WRITE}, lists {KV_LIST}, queue operations {QUEUE_OPERATION} (3 per \
         message), Durable Object requests {DO_REQUEST}). Not counted: storage, CPU time, Durable Object \
         duration and SQL rows. KV reads are an upper bound (every raw key a rollup read, plus its counted reads).\n\n\
         | ingest path, request size | events | requests | ingest KV reads / writes / lists | rollup (until all folded) | queue | $ per million events |\n\
         |---|---|---|---|---|---|---|\n{}\n\n\
         A cron tick with nothing to fold costs {} reads, {} writes and {} lists (plus a Worker and a Durable \
         Object request): about ${idle_cost:.2} a month per site at one tick every 5 minutes.\n<!-- /cost -->\n",
        date.trim(),
        events.len(),
        rows.join("\n"),
        idle_run.reads,
        idle_run.writes,
        idle_run.lists,
    );
    println!("{section}");
    crate::scale::write_section("cost", &section)
}
