//! A report is never silently partial (issue "Works where its users are", item 3): every report carries
//! `data_status`, a rollup that cannot store its result fails visibly (status, stats, reports) and stores
//! nothing, and a tail too long to fold makes `complete` false with a notice.
//!
//! Runs a server of its own whose state cap is lowered to 300,000 bytes (`DAYTWO_MAX_STATE_BYTES`; by default
//! the cap is the platform's 10 GB per Durable Object), so the "state too large" path is reached with 200
//! identities whose names are 2,000 characters long.

use crate::harness::{Server, scratch};
use serde_json::{Value, json};

#[test]
fn a_failing_rollup_and_a_long_tail_are_never_silent() {
    let state = scratch("data-status");
    let server: &'static Server = Box::leak(Box::new(
        Server::start_with_env(&state, &[("DAYTWO_MAX_STATE_BYTES", "300000")])
            .unwrap_or_else(|e| panic!("server with a small value limit: {e}")),
    ));
    let site = server.create_site("limits", json!({"currency": "USD"}));
    for b in 0..2 {
        let batch: Vec<Value> = (0..100)
            .flat_map(|i| {
                [
                    json!({"type": "track", "userId": format!("user-{b}-{i}"), "event": "Order Completed",
                           "properties": {"revenue": 10}, "messageId": format!("m-{b}-{i}"),
                           "timestamp": "2026-10-01T10:00:00Z"}),
                    json!({"type": "identify", "userId": format!("user-{b}-{i}"),
                           "traits": {"name": format!("{i:04}").repeat(500)}, "messageId": format!("n-{b}-{i}"),
                           "timestamp": "2026-10-01T10:00:00Z"}),
                ]
            })
            .collect();
        site.send_batch(&batch);
    }

    // The rollup cannot store a state over the limit: a clear error, and nothing written.
    let r = site.admin("POST", "rollup", None);
    assert_eq!((r.status, r.code().as_deref()), (507, Some("state_too_large")), "{}", r.text());
    let stats = site.stats();
    assert_eq!(stats["checkpoint"], Value::Null, "a failed rollup moved the checkpoint: {stats}");
    assert_eq!(stats["rolled_up_messages"], json!(0), "a failed rollup stored a state: {stats}");
    assert_eq!(stats["pending_raw_keys"], json!(2), "{stats}");
    let error = stats["last_rollup"]["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("state_too_large"), "stats do not show the failure: {stats}");

    // Reports fold the two pending batches themselves: complete, but the failing rollup is shown.
    let life = site.read("reports/lifecycle?as_of=2026-10-01");
    let status = &life["data_status"];
    assert_eq!(status["complete"], json!(true), "{status}");
    assert_eq!((status["pending_batches"].clone(), status["pending_included"].clone()), (json!(2), json!(2)));
    assert!(status["last_rollup_error"].as_str().unwrap_or_default().starts_with("state_too_large"), "{status}");
    assert!(status["notice"].as_str().unwrap_or_default().contains("rollup failed"), "{status}");
    assert_eq!(life["stages"]["new_customer"], json!(200), "{life}");

    // Past what a report folds (500 batches), the figures are partial, and the report says so.
    for i in 0..500 {
        site.send_batch(&[json!({"type": "page", "anonymousId": format!("v{i}"), "messageId": format!("p-{i}"),
                                 "timestamp": "2026-10-01T11:00:00Z"})]);
    }
    for path in ["reports/lifecycle?as_of=2026-10-01", "reports/budget?from=2026-09-01&to=2026-11-01", "accounts"] {
        let report = site.read(path);
        let status = &report["data_status"];
        assert_eq!(status["complete"], json!(false), "{path}: {status}");
        assert_eq!(status["pending_batches"], json!(502), "{path}: {status}");
        assert_eq!(status["pending_included"], json!(500), "{path}: {status}");
        let notice = status["notice"].as_str().unwrap_or_default();
        assert!(notice.contains("2 of 502") && notice.contains("incomplete"), "{path}: {notice}");
    }
    let csv = site.read_raw("reports/lifecycle?as_of=2026-10-01&format=csv", &site.read_token);
    assert_eq!((csv.status, csv.header("x-daytwo-data-complete")), (200, Some("false")), "{}", csv.text());
    server.stop();
}
