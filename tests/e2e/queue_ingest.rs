//! Ingest through Cloudflare Queues (issue "Scale"): with `INGEST = "queue"` the handler validates and
//! enqueues, the `daytwo-events` consumer writes one raw KV key per consumer batch, and every message counts
//! once across client retries; the reports equal those of the same requests ingested directly. The cron fans
//! out one rollup per site through `daytwo-rollups`. Runs a server of its own in queue mode (Miniflare runs
//! the producers and consumers locally); the direct-ingest twin site lives on the shared server.

use crate::harness::{Server, Site, basic, request, scratch, server, wait_for};
use serde_json::{Value, json};
use std::time::Duration;

fn batch(req: usize, size: usize) -> Vec<Value> {
    (0..size)
        .map(|i| {
            let user = format!("u{}", (req * size + i) % 90);
            let (event, props) = match i % 5 {
                0 => ("Order Completed", json!({"revenue": 100 + i})),
                1 => ("Signed Up", json!({})),
                _ => ("Logged In", json!({})),
            };
            json!({"type": "track", "userId": user, "event": event, "properties": props,
                   "messageId": format!("q-{req}-{i}"),
                   "timestamp": format!("2026-10-{:02}T10:00:00Z", 1 + (req % 28))})
        })
        .collect()
}

fn without_status(mut v: Value) -> Value {
    v.as_object_mut().and_then(|o| o.remove("data_status"));
    v
}

/// Rolls up until every one of `expected` messages is in the state (the consumer writes asynchronously).
fn rolled_up(site: &Site, expected: u64) -> Value {
    wait_for(&format!("{expected} messages rolled up on {}", site.id), Duration::from_secs(90), || {
        site.rollup();
        let stats = site.stats();
        (stats["rolled_up_messages"].as_u64() == Some(expected)).then_some(stats)
    })
}

#[test]
fn queue_ingest_counts_every_message_once_with_fewer_kv_writes() {
    let queued_server: &'static Server = Box::leak(Box::new(
        Server::start_with_env(&scratch("queue-ingest"), &[("DAYTWO_INGEST", "queue")])
            .unwrap_or_else(|e| panic!("server in queue mode: {e}")),
    ));
    let queued = queued_server.create_site("queued", json!({"currency": "USD"}));
    let direct = server().create_site("queued-direct", json!({"currency": "USD"}));

    // 40 requests of 25 messages; the first 5 are sent twice (a client retrying).
    let (mut requests, mut record_reads) = (0, 0);
    for req in 0..40 {
        let body = json!({ "batch": batch(req, 25) });
        for _ in 0..if req < 5 { 2 } else { 1 } {
            let r = queued.ingest("batch", &body);
            assert_eq!((r.status, r.json()), (200, json!({"success": true})), "{}", r.text());
            // Validated and enqueued: the request path writes nothing to KV; it reads the write key's record
            // unless the isolate read it in the last 30 s (`key_cache`).
            let ops = r.header("x-daytwo-kv-ops").unwrap_or_default();
            assert!(
                matches!(ops, "reads=0;writes=0;lists=0;deletes=0" | "reads=1;writes=0;lists=0;deletes=0"),
                "{ops}"
            );
            record_reads += u32::from(ops.starts_with("reads=1"));
            requests += 1;
        }
        direct.send_batch(&batch(req, 25));
    }
    assert!(record_reads >= 1 && record_reads < requests / 2, "{record_reads} record reads for {requests} requests");
    // analytics-next's text/plain path with the write key in the body.
    let one = json!({"writeKey": queued.write_key, "type": "track", "userId": "beacon", "event": "Order Completed",
        "properties": {"revenue": 42}, "messageId": "q-beacon", "timestamp": "2026-10-05T12:00:00Z"});
    let r = request(
        "POST",
        &queued_server.url("/v1/t"),
        &[("content-type", "text/plain")],
        Some(one.to_string().as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let mut one_direct = one.clone();
    one_direct["writeKey"] = json!(direct.write_key);
    let r = request(
        "POST",
        &server().url("/v1/t"),
        &[("content-type", "text/plain")],
        Some(one_direct.to_string().as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // A batch near Segment's 500 KB limit travels as several queue messages (128 KB each at most).
    let big: Vec<Value> = (0..30)
        .map(|i| json!({"type": "page", "anonymousId": format!("big-{i}"), "messageId": format!("q-big-{i}"),
                        "properties": {"path": "/pricing", "note": "x".repeat(14_000)}, "timestamp": "2026-10-06T09:00:00Z"}))
        .collect();
    let auth = basic(&queued.write_key);
    let body = json!({ "batch": big }).to_string();
    assert!(body.len() > 400_000, "{}", body.len());
    let r = request(
        "POST",
        &queued_server.url("/v1/batch"),
        &[("authorization", &auth), ("content-type", "application/json")],
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    direct.send_batch(&json!({ "batch": big })["batch"].as_array().cloned().unwrap_or_default());
    requests += 2;

    let expected = 40 * 25 + 1 + 30;
    let stats = rolled_up(&queued, expected);
    let direct_stats = rolled_up(&direct, expected);
    let (raw_queued, raw_direct) =
        (stats["raw_keys"].as_u64().unwrap_or(0), direct_stats["raw_keys"].as_u64().unwrap_or(0));
    eprintln!(
        "KV writes for {requests} accepted requests ({expected} distinct messages): queue {raw_queued} raw keys, direct {raw_direct}"
    );
    assert_eq!(raw_direct, 42, "direct ingest writes one raw key per request");
    assert!(
        raw_queued >= 1 && raw_queued < raw_direct,
        "queue ingest wrote {raw_queued} raw keys for {requests} requests"
    );

    // The same figures either way.
    for path in [
        "reports/budget?from=2026-10-01&to=2026-11-01",
        "reports/lifecycle?as_of=2026-10-31",
        "reports/funnel?from=2026-10-01&to=2026-11-01",
        "accounts?as_of=2026-10-31&limit=500",
    ] {
        assert_eq!(without_status(queued.read(path)), without_status(direct.read(path)), "{path}");
    }
    // Which key brought a message survives the queue: the batches came with the secret key, the beacon's
    // order (42.00) with the public one.
    let budget = queued.read("reports/budget?from=2026-10-01&to=2026-11-01");
    assert_eq!(budget["public_key_revenue_minor"], json!(4200), "{budget}");
    let life = queued.read("reports/lifecycle?as_of=2026-10-31");
    assert!(life["total"].as_u64() >= Some(90), "{life}");

    // The cron fans out one rollup per site through `daytwo-rollups`.
    let others: Vec<Site> = (0..3).map(|i| queued_server.create_site(&format!("fan-{i}"), json!({}))).collect();
    for (i, site) in others.iter().enumerate() {
        site.send_batch(&batch(100 + i, 10));
    }
    wait_for("the consumer's raw keys", Duration::from_secs(60), || {
        others.iter().all(|s| s.stats()["pending_raw_keys"].as_u64() > Some(0)).then_some(())
    });
    let r = request("GET", &queued_server.url("/cdn-cgi/handler/scheduled?cron=*/5+*+*+*+*"), &[], None);
    assert_eq!(r.status, 200, "scheduled: {}", r.text());
    for site in &others {
        let stats = wait_for(&format!("the fan-out rollup of {}", site.id), Duration::from_secs(60), || {
            let stats = site.stats();
            (stats["rolled_up_messages"].as_u64() == Some(10)).then_some(stats)
        });
        assert_eq!(stats["pending_raw_keys"], json!(0), "{stats}");
        assert_eq!(stats["last_rollup"]["error"], Value::Null, "{stats}");
    }
    queued_server.stop();
}
