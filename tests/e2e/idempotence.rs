//! Idempotence: a retried batch counts once; two rollups at the same time give the state one gives.

use crate::harness::{Site, server};
use serde_json::{Value, json};
use std::sync::{Arc, Barrier};

fn retried_batch() -> Vec<Value> {
    vec![
        json!({"type":"identify","userId":"r-1","messageId":"r-m1","timestamp":"2026-10-03T09:00:00Z",
               "traits":{"email":"r1@example.com","name":"Retry Co"}}),
        json!({"type":"track","userId":"r-1","event":"Order Completed","messageId":"r-m2",
               "timestamp":"2026-10-04T09:00:00Z","properties":{"revenue":250}}),
        json!({"type":"page","userId":"r-1","messageId":"r-m3","timestamp":"2026-10-04T09:05:00Z",
               "properties":{"path":"/pricing"}}),
    ]
}

fn counted_once(site: &Site, when: &str) {
    let b = site.read("reports/budget?from=2026-10-01&to=2026-11-01");
    assert_eq!(b["acquisition"]["revenue_minor"], json!(25000), "{when}: revenue counted once: {b}");
    assert_eq!(b["acquisition"]["new_customers"], json!(1), "{when}: {b}");
    let life = site.read("reports/lifecycle?as_of=2026-10-10");
    assert_eq!(life["stages"]["new_customer"], json!(1), "{when}: {life}");
    assert_eq!(life["total"], json!(1), "{when}: {life}");
    let acct = site.read("accounts/r-1?as_of=2026-10-10");
    assert_eq!(acct["revenue_minor"], json!(25000), "{when}: {acct}");
}

#[test]
fn a_batch_sent_three_times_counts_once() {
    let site = server().create_site("retry", json!({}));
    for _ in 0..3 {
        site.send_batch(&retried_batch());
    }
    // The same message again, alone, on another path.
    let mut single = retried_batch()[1].clone();
    single.as_object_mut().unwrap().remove("type");
    assert_eq!(site.ingest("track", &single).status, 200);
    assert_eq!(site.stats()["raw_keys"], json!(4), "every accepted request is stored");
    counted_once(&site, "before the rollup (tail)");

    let out = site.rollup();
    assert_eq!((out["messages_folded"].clone(), out["duplicates_ignored"].clone()), (json!(3), json!(7)), "{out}");
    let stats = site.stats();
    assert_eq!((stats["rolled_up_messages"].clone(), stats["dedup_index"].clone()), (json!(3), json!(3)), "{stats}");
    counted_once(&site, "after the rollup");

    // A retry that arrives after the rollup is still a duplicate.
    site.send_batch(&retried_batch());
    counted_once(&site, "late retry in the tail");
    let out = site.rollup();
    // The rollup re-reads a safety margin before its checkpoint, so earlier copies count as duplicates too.
    assert_eq!(out["messages_folded"], json!(0), "{out}");
    assert!(out["duplicates_ignored"].as_u64() >= Some(3), "{out}");
    counted_once(&site, "late retry rolled up");

    // Without a messageId, the same content is the same message (a content-derived id).
    let idless = json!({"type":"track","userId":"r-1","event":"Webinar Attended","timestamp":"2026-10-05T09:00:00Z"});
    site.send_batch(std::slice::from_ref(&idless));
    site.send_batch(std::slice::from_ref(&idless));
    let out = site.rollup();
    assert_eq!(out["messages_folded"], json!(1), "{out}");
    assert!(out["duplicates_ignored"].as_u64() >= Some(1), "{out}");
    assert_eq!(site.stats()["rolled_up_messages"], json!(4));
    counted_once(&site, "after id-less retries");
}

/// A varied site: prospects, leads, customers, an account with members, engagement signals.
fn varied_batches(round: usize) -> Vec<Vec<Value>> {
    let mut batches = Vec::new();
    for i in 0..20 {
        let u = format!("c-user-{i}");
        let day = 1 + (i % 20);
        let ts = |h: usize| format!("2026-09-{day:02}T{:02}:00:00Z", 8 + h);
        let id = |n: usize| format!("c-{round}-{i}-{n}");
        let mut b = vec![json!({"type":"page","anonymousId":format!("c-anon-{i}"),"messageId":id(0),"timestamp":ts(0),
                                 "properties":{"path": if i % 3 == 0 { "/pricing" } else { "/blog" }}})];
        if i % 2 == 0 {
            b.push(json!({"type":"identify","userId":u,"anonymousId":format!("c-anon-{i}"),"messageId":id(1),
                           "timestamp":ts(1),"traits":{"email":format!("{u}@example.com")}}));
        }
        if i % 4 == 0 {
            b.push(json!({"type":"track","userId":u,"event":"Order Completed","messageId":id(2),"timestamp":ts(2),
                           "properties":{"revenue": 100 + i + round}}));
            b.push(json!({"type":"track","userId":u,"event":"Webinar Attended","messageId":id(3),"timestamp":ts(3)}));
        }
        if i % 5 == 0 {
            b.push(json!({"type":"group","userId":u,"groupId":format!("c-org-{}", i % 10),"messageId":id(4),
                           "timestamp":ts(4),"traits":{"name":format!("Org {}", i % 10)}}));
            b.push(json!({"type":"track","userId":u,"event":"Logged In","messageId":id(5),"timestamp":ts(5)}));
        }
        batches.push(b);
    }
    batches
}

fn reports(site: &Site) -> Vec<(String, Value)> {
    [
        "reports/budget?from=2026-09-01&to=2026-10-01",
        "reports/lifecycle?as_of=2026-09-30",
        "reports/funnel?from=2026-09-01&to=2026-10-01",
        "reports/engagement?as_of=2026-09-30",
        "accounts?as_of=2026-09-30&limit=500",
        "accounts/c-org-0?as_of=2026-09-30",
    ]
    .iter()
    .map(|q| {
        // The figures, and that they are complete; `data_status`'s times differ between two sites by nature.
        let mut v = site.read(q);
        let status = v.as_object_mut().and_then(|o| o.remove("data_status")).unwrap_or_default();
        assert_eq!(status["complete"], json!(true), "{q}: {status}");
        (q.to_string(), v)
    })
    .collect()
}

fn comparable_stats(site: &Site) -> Value {
    let s = site.stats();
    json!({
        "raw_keys": s["raw_keys"], "pending_raw_keys": s["pending_raw_keys"],
        "rolled_up_messages": s["rolled_up_messages"], "identities": s["identities"], "dedup_index": s["dedup_index"],
    })
}

#[test]
fn two_rollups_at_once_equal_one() {
    let s = server();
    let racing = s.create_site("race-two", json!({}));
    let single = s.create_site("race-one", json!({}));
    for round in 0..2 {
        for b in varied_batches(round) {
            racing.send_batch(&b);
            single.send_batch(&b);
        }
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (site, barrier) = (racing.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    site.admin("POST", "rollup", None)
                })
            })
            .collect();
        let outs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for r in &outs {
            assert_eq!(r.status, 200, "round {round}: concurrent rollup: {}", r.text());
        }
        single.rollup();
        assert_eq!(comparable_stats(&racing), comparable_stats(&single), "round {round}: stats");
        assert_eq!(racing.stats()["pending_raw_keys"], json!(0));
        for ((q, a), (_, b)) in reports(&racing).into_iter().zip(reports(&single)) {
            assert_eq!(a, b, "round {round}: {q} differs between two concurrent rollups and one");
        }
        // And once more: nothing left to fold.
        let again = racing.rollup();
        assert_eq!(again["messages_folded"], json!(0), "round {round}: {again}");
    }
    let life = racing.read("reports/lifecycle?as_of=2026-09-30");
    assert!(life["total"].as_u64() > Some(5), "the race site has data: {life}");
}
