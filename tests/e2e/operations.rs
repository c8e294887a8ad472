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
    // Ingest: one read (the write key's record, which the isolate then keeps for 30 s: `key_cache`) and one
    // write (the raw batch), whatever the batch size.
    let batch: Vec<_> = (0..50)
        .map(|i| json!({"type":"page","anonymousId":format!("v{i}"),"messageId":format!("kv-{i}"),"timestamp":"2026-10-01T10:00:00Z"}))
        .collect();
    let r = site.ingest("batch", &json!({ "batch": batch }));
    assert_eq!(r.status, 200);
    assert_eq!(ops(&r), "reads=1;writes=1;lists=0;deletes=0");
    // The next request, rejected, finds the record kept and touches nothing (tests on other sites changing
    // theirs meanwhile do not drop it).
    let r = site.ingest("batch", &json!({"batch":[{"type":"track","userId":"u"}]}));
    assert_eq!((r.status, ops(&r)), (400, "reads=0;writes=0;lists=0;deletes=0".to_owned()));
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
    // Rotating the keys drops the kept record at once: the old key is refused on the next request (a KV read
    // that finds nothing), and the new one reads its record, then keeps it.
    let rotated = s.admin("PUT", &format!("{}?rotate=true", site.route("")), Some(&json!({}))).json();
    let r = site.ingest("batch", &json!({ "batch": batch }));
    assert_eq!((r.status, ops(&r)), (401, "reads=1;writes=0;lists=0;deletes=0".to_owned()), "{}", r.text());
    let secret_key = rotated["secret_write_key"].as_str().unwrap_or_else(|| panic!("{rotated}")).to_owned();
    let site = crate::harness::Site { secret_key, ..site };
    for reads in [1, 0] {
        let r = site.ingest("batch", &json!({ "batch": batch }));
        assert_eq!((r.status, ops(&r)), (200, format!("reads={reads};writes=1;lists=0;deletes=0")));
    }
}

/// A dashboard asks for several reports at once: they share one listing of the batches accepted since the
/// rollup (`reports::ListingCache`), `data_status.listed_at` says when it was made, `Cache-Control: no-cache`
/// lists anew, and a rollup drops it. A server of its own keeps listings for 300 s
/// (`DAYTWO_TAIL_REUSE_SECONDS`; 10 s by default), so no step depends on how fast this machine is.
#[test]
fn reports_share_one_listing_until_it_expires_or_the_state_changes() {
    let state = crate::harness::scratch("shared-listing");
    let s: &'static crate::harness::Server = Box::leak(Box::new(
        crate::harness::Server::start_with_env(&state, &[("DAYTWO_TAIL_REUSE_SECONDS", "300")])
            .unwrap_or_else(|e| panic!("server with a long listing reuse: {e}")),
    ));
    let site = s.create_site("shared-listing", json!({"currency": "USD"}));
    let order = |i: u32| {
        json!({"type": "track", "userId": format!("buyer-{i}"), "event": "Order Completed",
               "messageId": format!("shared-{i}"), "timestamp": "2026-10-01T10:00:00Z", "properties": {"revenue": 10}})
    };
    let path = "reports/lifecycle?as_of=2026-10-01";
    // KV list operations of a report (its reads vary: the tail's batches, the last run's record).
    let lists = |r: &crate::harness::Resp| {
        let header = ops(r);
        let n = header.split(';').find_map(|p| p.strip_prefix("lists=")).and_then(|n| n.parse::<u32>().ok());
        n.unwrap_or_else(|| panic!("no list count in {header:?}"))
    };
    let status = |r: &crate::harness::Resp| r.json()["data_status"].clone();
    let customers = |r: &crate::harness::Resp| r.json()["stages"]["new_customer"].clone();
    site.send_batch(&[order(1)]);

    let first = site.read_shared(path);
    assert_eq!(lists(&first), 1, "the first report lists");
    let listed_at = status(&first)["listed_at"].clone();
    assert!(listed_at.is_string(), "{}", status(&first));
    assert_eq!((status(&first)["pending_batches"].clone(), customers(&first)), (json!(1), json!(1)));

    // A batch accepted after the listing: a report that reuses it does not list, and says when its listing
    // was made; its figures are those of that listing.
    site.send_batch(&[order(2)]);
    let reused = site.read_shared(path);
    assert_eq!(lists(&reused), 0, "a report within the window reuses the listing");
    assert_eq!(status(&reused)["listed_at"], listed_at);
    assert_eq!((status(&reused)["pending_batches"].clone(), customers(&reused)), (json!(1), json!(1)));

    // `Cache-Control: no-cache` lists anew, and its listing is the one the next reports share.
    let fresh = site.read_raw(path, &site.read_token);
    assert_eq!(lists(&fresh), 1);
    assert_eq!((status(&fresh)["pending_batches"].clone(), customers(&fresh)), (json!(2), json!(2)));
    let after = site.read_shared(path);
    assert_eq!(lists(&after), 0);
    assert_eq!(
        (status(&after)["listed_at"].clone(), customers(&after)),
        (status(&fresh)["listed_at"].clone(), json!(2))
    );

    // A rollup drops the listing: the next report lists from the new checkpoint (nothing pending) and counts
    // each order once.
    site.send_batch(&[order(3)]);
    site.rollup();
    let rolled = site.read_shared(path);
    assert_eq!(lists(&rolled), 1, "a rollup dropped the listing");
    assert_eq!((status(&rolled)["pending_batches"].clone(), customers(&rolled)), (json!(0), json!(3)));
    assert_eq!(status(&rolled)["complete"], json!(true));
    s.stop();
}
