//! What the operator relies on: the cron handler rolls every site up, and KV costs per request are what
//! ARCHITECTURE.md says (the Worker reports each request's operations in `x-daytwo-kv-ops`).

use crate::harness::{request, server};
use serde_json::json;

fn ops(r: &crate::harness::Resp) -> String {
    r.header("x-daytwo-kv-ops").unwrap_or("missing").to_owned()
}

#[test]
fn the_scheduled_handler_rolls_every_site_up() {
    let s = server();
    let site = s.create_site("cron-site", json!({"currency": "USD"}));
    site.send_batch(&[json!({"type":"track","userId":"c1","event":"Order Completed","messageId":"cron-1",
        "timestamp":"2026-10-01T10:00:00Z","properties":{"revenue": 10}})]);
    assert_eq!(site.stats()["pending_raw_keys"], 1);
    // wrangler dev exposes the scheduled handler here (cron triggers never fire by themselves locally).
    let r = request("GET", &s.url("/cdn-cgi/handler/scheduled?cron=*/5+*+*+*+*"), &[], None);
    let r = if r.status == 404 {
        request("GET", &s.url("/cdn-cgi/local/scheduled?cron=*/5+*+*+*+*"), &[], None)
    } else {
        r
    };
    assert_eq!(r.status, 200, "scheduled trigger: {}", r.text());
    // The cron fans out one `daytwo-rollups` message per site; the consumer rolls the site up shortly after.
    let stats = crate::harness::wait_for("the cron's rollup", std::time::Duration::from_secs(60), || {
        let stats = site.stats();
        (stats["pending_raw_keys"] == json!(0)).then_some(stats)
    });
    assert_eq!(stats["rolled_up_messages"].as_u64(), Some(1), "{stats}");
    assert_eq!(stats["last_rollup"]["error"], serde_json::Value::Null, "{stats}");
}

#[test]
fn kv_operations_per_request() {
    let s = server();
    let site = s.create_site("kv-costs", json!({"currency": "USD"}));
    // Ingest: one read (the write key's record) and one write (the raw batch), whatever the batch size.
    let batch: Vec<_> = (0..50)
        .map(|i| json!({"type":"page","anonymousId":format!("v{i}"),"messageId":format!("kv-{i}"),"timestamp":"2026-10-01T10:00:00Z"}))
        .collect();
    let r = site.ingest("batch", &json!({ "batch": batch }));
    assert_eq!(r.status, 200);
    assert_eq!(ops(&r), "reads=1;writes=1;lists=0;deletes=0");
    // A rejected request reads the write key's record and writes nothing.
    let r = site.ingest("batch", &json!({"batch":[{"type":"track","userId":"u"}]}));
    assert_eq!((r.status, ops(&r)), (400, "reads=1;writes=0;lists=0;deletes=0".to_owned()));
    // Rollup: the site (the admin token is checked without KV), then in the site's Durable Object one list
    // per day since the checkpoint (none yet: one list of the site's raw keys), one bulk read per 10 batches
    // (`rollup::CHUNK_KEYS`) and one write of the run's outcome. The state itself is SQLite rows, not KV.
    let r = site.admin("POST", "rollup", None);
    assert_eq!(r.status, 200);
    assert_eq!(ops(&r), "reads=2;writes=1;lists=1;deletes=0", "site + 1 bulk read, 1 list, 1 write");
    // A report after the rollup: the site and the spend ledger (budget only; the last rollup's outcome is the
    // object's copy), and one list: the tail from where the rollup's listing ended (`rollup::TailHint`); no
    // raw batch is read when the tail is empty.
    let r = site.read_raw("reports/budget", &site.read_token);
    assert_eq!(r.status, 200);
    assert_eq!(ops(&r), "reads=2;writes=0;lists=1;deletes=0");
    let r = site.read_raw("reports/lifecycle", &site.read_token);
    assert_eq!(ops(&r), "reads=1;writes=0;lists=1;deletes=0");
}
