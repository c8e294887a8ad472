//! Fault test (issue "Prove it", item 3), direct ingest: under bounded load from several clients, with rollups
//! running, the runtime is killed at once (`kill -9` of wrangler and workerd, no shutdown), restarted on the same
//! state folder, and each client retries what it saw no acknowledgement for, with the same `messageId`s, as
//! Segment's libraries do. Then two rollups run at once. Every event is counted exactly once: each one is a
//! first order of its own account worth 1.00, so one event lost or counted twice moves the count of new
//! customers, the revenue and the number of messages folded.
//!
//! The queue path is not killed here: Miniflare keeps a queue's undelivered messages in memory (its queue
//! broker's message list), so locally a `kill -9` loses what was enqueued and not yet consumed, which Cloudflare
//! Queues keep. What the queue path adds after the enqueue (the consumer's write, redelivery) is counted once by
//! `messageId` (`queue_ingest.rs`).

use crate::harness::{Server, Site, basic, scratch, try_request};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 3;
const PER_BATCH: usize = 20;
/// Batches each client sends at most before the kill (a bound, not a target).
const MAX_BATCHES: usize = 400;
/// Acknowledged batches (all clients) after which the runtime is killed.
const KILL_AFTER: usize = 45;

fn batch(client: usize, n: usize) -> Vec<Value> {
    (0..PER_BATCH)
        .map(|i| {
            json!({"type": "track", "userId": format!("f{client}-{n}-{i}"), "event": "Order Completed",
                   "properties": {"revenue": 1}, "messageId": format!("f{client}-{n}-{i}"),
                   "timestamp": "2026-10-10T10:00:00Z"})
        })
        .collect()
}

/// Sends one batch with the secret key; whether it was acknowledged (`200 {"success":true}`).
fn send(site: &Site, messages: &[Value]) -> bool {
    let body = json!({ "batch": messages }).to_string();
    let auth = basic(&site.secret_key);
    try_request(
        "POST",
        &site.server.url("/v1/batch"),
        &[("authorization", &auth), ("content-type", "application/json")],
        Some(body.as_bytes()),
    )
    .is_ok_and(|r| r.status == 200)
}

#[test]
fn a_killed_runtime_loses_nothing_acknowledged_and_retries_count_once() {
    let state = scratch("fault-state");
    let first: &'static Server =
        Box::leak(Box::new(Server::start(&state).unwrap_or_else(|e| panic!("fault test server: {e}"))));
    let site = first.create_site("fault", json!({"currency": "USD"}));
    let (acked_total, killed) = (AtomicUsize::new(0), AtomicBool::new(false));

    // Each client: batches in order until the runtime goes away; (acknowledged, not acknowledged).
    let outcomes: Vec<(Vec<usize>, Vec<usize>)> = std::thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (site, acked_total, killed) = (&site, &acked_total, &killed);
                s.spawn(move || {
                    let (mut acked, mut unacked) = (Vec::new(), Vec::new());
                    for n in 0..MAX_BATCHES {
                        if killed.load(Ordering::SeqCst) {
                            break;
                        }
                        if send(site, &batch(c, n)) {
                            acked.push(n);
                            acked_total.fetch_add(1, Ordering::SeqCst);
                        } else {
                            // The runtime is gone: this batch waits for the retry, as does a client's queue.
                            unacked.push(n);
                            break;
                        }
                    }
                    (acked, unacked)
                })
            })
            .collect();
        // Rollups all along, so the kill may land inside one.
        let roller = s.spawn(|| {
            while !killed.load(Ordering::SeqCst) {
                let _ = try_request(
                    "POST",
                    &site.server.url(&format!("/v1/sites/{}/rollup", site.id)),
                    &[("authorization", &format!("Bearer {}", crate::harness::ADMIN_TOKEN))],
                    None,
                );
            }
        });
        let t = Instant::now();
        while acked_total.load(Ordering::SeqCst) < KILL_AFTER && t.elapsed() < Duration::from_secs(300) {
            std::thread::sleep(Duration::from_millis(10));
        }
        first.kill();
        killed.store(true, Ordering::SeqCst);
        let _ = roller.join();
        clients.into_iter().map(|h| h.join().unwrap_or_else(|_| panic!("a client panicked"))).collect()
    });
    let acked: usize = outcomes.iter().map(|(a, _)| a.len()).sum();
    let unacked: usize = outcomes.iter().map(|(_, u)| u.len()).sum();
    assert!(acked >= KILL_AFTER, "only {acked} batches acknowledged before the kill");
    eprintln!("fault: {acked} batches acknowledged, {unacked} not, before the kill");

    // Same state folder, new process; the clients retry what was not acknowledged.
    let second: &'static Server =
        Box::leak(Box::new(Server::start(&state).unwrap_or_else(|e| panic!("fault test server again: {e}"))));
    let site = Site { server: second, ..site };
    for (c, (_, unacked)) in outcomes.iter().enumerate() {
        for &n in unacked {
            assert!(send(&site, &batch(c, n)), "retry of batch {n} of client {c} after the restart was refused");
        }
    }
    // Two rollups at once equal one.
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..2).map(|_| s.spawn(|| site.rollup())).collect();
        for r in runs {
            let outcome = r.join().unwrap_or_else(|_| panic!("a rollup panicked"));
            assert_eq!(outcome["more"], json!(false), "{outcome}");
        }
    });

    let events = (acked + unacked) * PER_BATCH;
    let stats = site.stats();
    assert_eq!(stats["rolled_up_messages"], json!(events), "{stats}");
    assert_eq!(stats["pending_raw_keys"], json!(0), "{stats}");
    let life = site.read("reports/lifecycle?as_of=2026-10-31");
    assert_eq!(life["stages"]["new_customer"], json!(events), "{life}");
    let budget = site.read("reports/budget?from=2026-10-01&to=2026-11-01");
    assert_eq!(budget["acquisition"]["revenue_minor"], json!(events * 100), "{budget}");
    second.stop();
    let _ = std::fs::remove_dir_all(&state);
}
