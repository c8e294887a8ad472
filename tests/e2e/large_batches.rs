//! Raw batches that together are larger than one KV bulk read may return (25 MB; Miniflare refuses it as
//! Cloudflare does). A queue consumer writes values of up to 4 MiB, and direct ingest up to 500 KB a request:
//! reading them 100 (reports) or 10 (the rollup) at a time used to fail the whole request with 503, the CI
//! failure of the 10,000-account test on the queue path. Reads are now grouped by the sizes recorded in the
//! raw keys' names (`store::raw_read_groups`), a report folds at most 16 MiB of tail and says when it
//! left some out, and the rollup holds at most 8 MiB of raw values at a time.

use crate::harness::server;
use serde_json::{Value, json};

#[test]
fn batches_past_one_bulk_read_are_reported_honestly_and_rolled_up_whole() {
    let site = server().create_site("large-batches", json!({"currency": "USD"}));
    let note = "x".repeat(28_000);
    let (batches, per_batch) = (70, 15);
    for b in 0..batches {
        let batch: Vec<Value> = (0..per_batch)
            .map(|i| {
                json!({"type": "track", "userId": format!("user-{}", i % 5), "event": "Report Exported",
                       "properties": {"note": note}, "messageId": format!("m-{b}-{i}"),
                       "timestamp": "2026-10-01T10:00:00Z"})
            })
            .collect();
        site.send_batch(&batch);
    }
    let stats = site.stats();
    assert_eq!(stats["raw_keys"], json!(batches), "{stats}");

    // About 30 MB waits in 70 raw values: the report folds what fits its bound and says it is partial.
    let r = site.read_raw("reports/engagement?as_of=2026-10-01", &site.read_token);
    assert_eq!(r.status, 200, "{}", r.text());
    let status = r.json()["data_status"].clone();
    assert_eq!(status["pending_batches"], json!(batches), "{status}");
    let included = status["pending_included"].as_u64().unwrap_or_default();
    assert!((20..batches).contains(&included), "{included} of {batches} batches folded: {status}");
    assert_eq!(status["complete"], json!(false), "{status}");

    // The rollup reads them all, a bounded chunk at a time, and then the report is whole.
    let outcome = site.rollup();
    assert_eq!(outcome["more"], json!(false), "{outcome}");
    let stats = site.stats();
    assert_eq!(stats["rolled_up_messages"], json!(batches * per_batch), "{stats}");
    let life = site.read("reports/lifecycle?as_of=2026-10-01");
    assert_eq!(life["data_status"]["complete"], json!(true), "{life}");
    assert_eq!(life["total"], json!(5), "{life}");
}
