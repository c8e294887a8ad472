//! Past the old wall (issue "Scale"): a site of 10,000 accounts × 12 months (383,991 events) used to top out
//! at one 74.6 MB KV value that the rollup could not store, so every report was partial. Through the
//! site's Durable Object it rolls up whole, and its reports equal `daytwo report` on the same file, on both
//! ingest paths (direct on the shared server, through Queues on a server of its own).
//!
//! The slowest test of the suite (about a minute of import per path on 2 cores): it is the one that proves a
//! real-size site works, so it is not made smaller than the wall it crosses.

use crate::cross_check::first_difference;
use crate::harness::{ADMIN_TOKEN, Server, Site, daytwo, scratch, server, wait_for};
use serde_json::{Value, json};
use std::time::Duration;

const ACCOUNTS: &str = "10000";

fn import(site: &Site, events: &str, spend: &str) {
    daytwo(&[
        "import",
        "--url",
        &site.server.base,
        "--write-key",
        &site.secret_key,
        "--events",
        events,
        "--spend",
        spend,
        "--site",
        &site.id,
        "--admin-token",
        ADMIN_TOKEN,
    ]);
}

/// Rolls up until all `expected` messages are in (queue ingest writes its raw keys asynchronously).
fn roll_up_all(site: &Site, expected: u64) -> Value {
    wait_for(&format!("{expected} messages rolled up on {}", site.id), Duration::from_secs(900), || {
        site.rollup();
        let stats = site.stats();
        (stats["rolled_up_messages"].as_u64() == Some(expected) && stats["pending_raw_keys"] == json!(0))
            .then_some(stats)
    })
}

/// Every report, over a past period (every account folded) and by default (today, from the read model),
/// equals the CLI's over the same files.
fn compare_with_cli(site: &Site, events: &str, spend: &str) {
    let (from, to, as_of) = ("2025-11-01", "2026-11-01", "2026-10-31");
    for (dates, path_used) in [(true, "full"), (false, "index")] {
        for kind in ["budget", "lifecycle", "funnel", "engagement", "accounts"] {
            let path = if kind == "accounts" { "accounts?limit=500".to_owned() } else { format!("reports/{kind}") };
            let query = if dates { format!("&from={from}&to={to}&as_of={as_of}") } else { String::new() };
            let sep = if path.contains('?') { "" } else { "?" };
            let r = site.read_raw(&format!("{path}{sep}{query}"), &site.read_token);
            assert_eq!((r.status, r.header("x-daytwo-read-model")), (200, Some(path_used)), "{kind}: {}", r.text());
            let mut api = r.json();
            let status = api.as_object_mut().and_then(|o| o.remove("data_status")).unwrap_or_default();
            assert_eq!(status["complete"], json!(true), "{} {kind}: {status}", site.id);
            let mut args = vec!["report", kind, "--events", events, "--spend", spend, "--json"];
            if dates {
                args.extend(["--from", from, "--to", to, "--as-of", as_of]);
            }
            let mut cli: Value =
                serde_json::from_str(&daytwo(&args)).unwrap_or_else(|e| panic!("{kind}: CLI JSON: {e}"));
            cli.as_object_mut().and_then(|o| o.remove("data_status"));
            if let Some(diff) = first_difference(&api, &cli, kind) {
                panic!("{} {kind} ({path_used}): API and CLI differ at {diff}", site.id);
            }
        }
    }
    let life = site.read(&format!("reports/lifecycle?as_of={as_of}"));
    assert!(life["total"].as_u64() >= Some(10_000), "{life}");
}

#[test]
fn a_site_of_ten_thousand_accounts_rolls_up_whole_on_both_ingest_paths() {
    let dir = scratch("scale");
    let d = dir.to_string_lossy().into_owned();
    daytwo(&["generate", "--seed", "3", "--accounts", ACCOUNTS, "--months", "12", "--end", "2026-11-01", "--out", &d]);
    let (events, spend) = (format!("{d}/events.ndjson"), format!("{d}/spend.csv"));
    let lines = std::fs::read_to_string(&events).unwrap().lines().filter(|l| !l.trim().is_empty()).count() as u64;
    assert!(lines > 350_000, "{lines} events");

    let direct = server().create_site("scale-direct", json!({"currency": "USD"}));
    import(&direct, &events, &spend);
    let stats = roll_up_all(&direct, lines);
    assert_eq!(stats["last_rollup"]["error"], Value::Null, "{stats}");
    compare_with_cli(&direct, &events, &spend);

    let queue_server: &'static Server = Box::leak(Box::new(
        Server::start_with_env(&scratch("scale-queue"), &[("DAYTWO_INGEST", "queue")])
            .unwrap_or_else(|e| panic!("server in queue mode: {e}")),
    ));
    let queued = queue_server.create_site("scale-queued", json!({"currency": "USD"}));
    import(&queued, &events, &spend);
    let stats = roll_up_all(&queued, lines);
    assert_eq!(stats["last_rollup"]["error"], Value::Null, "{stats}");
    compare_with_cli(&queued, &events, &spend);
    queue_server.stop();
}
