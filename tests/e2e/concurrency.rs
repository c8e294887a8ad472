//! Admin changes made at the same time all hold (issue "Privacy and trust", item 5): each one reads, changes
//! and writes a whole record, and used to run in the Worker, so two at once both read the old record and the
//! later write dropped the earlier change. They now run one at a time inside the site's object
//! (`worker/src/site_config.rs`). Checked with the calls really in flight together (a thread each):
//! - spend entries posted at once all land, and deletions at once all take;
//! - a site created by several calls at once gets one write key and read token: one call answers 201, the
//!   others 200 with that key, and only that key is accepted;
//! - revocations at once each move the embed generation on;
//! - rollups at once equal one (the object runs them one after the other).
//!
//! A body sent without `Content-Length` (chunked) is refused with 413 once it passes the limit, while the
//! client is still sending (item 6): the Worker reads it a chunk at a time instead of buffering it whole.

use crate::harness::{basic, request, server};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::time::Duration;

const AT_ONCE: usize = 12;

fn spend_entry(i: usize) -> Value {
    json!({"id": format!("c{i:02}"), "from": "2026-10-01", "to": "2026-11-01", "channel": "ads",
           "amount_minor": 1000 + i, "currency": "USD", "purpose": "acquisition"})
}

#[test]
fn concurrent_spend_changes_all_hold() {
    let site = server().create_site("concurrent-spend", json!({"currency": "USD"}));
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..AT_ONCE)
            .map(|i| {
                let site = &site;
                s.spawn(move || site.admin("POST", "spend", Some(&json!([spend_entry(i)]))))
            })
            .collect();
        for h in handles {
            let r = h.join().unwrap_or_else(|_| panic!("a spend call panicked"));
            assert_eq!(r.status, 200, "{}", r.text());
        }
    });
    let ledger = site.admin("GET", "spend", None).json();
    let ids: Vec<&str> =
        ledger["entries"].as_array().map_or(Vec::new(), |e| e.iter().filter_map(|e| e["id"].as_str()).collect());
    let want: Vec<String> = (0..AT_ONCE).map(|i| format!("c{i:02}")).collect();
    assert_eq!(ids, want, "every entry posted at once is in the ledger");

    // Half of them deleted at once, while the other half are replaced.
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..AT_ONCE)
            .map(|i| {
                let site = &site;
                s.spawn(move || {
                    if i % 2 == 0 {
                        site.admin("DELETE", &format!("spend/c{i:02}"), None)
                    } else {
                        let mut e = spend_entry(i);
                        e["amount_minor"] = json!(5);
                        site.admin("POST", "spend", Some(&json!([e])))
                    }
                })
            })
            .collect();
        for h in handles {
            let r = h.join().unwrap_or_else(|_| panic!("a spend call panicked"));
            assert_eq!(r.status, 200, "{}", r.text());
        }
    });
    let ledger = site.admin("GET", "spend", None).json();
    let left: Vec<(String, Value)> = ledger["entries"].as_array().map_or(Vec::new(), |e| {
        e.iter().map(|e| (e["id"].as_str().unwrap_or_default().to_owned(), e["amount_minor"].clone())).collect()
    });
    let want: Vec<(String, Value)> =
        (0..AT_ONCE).filter(|i| i % 2 == 1).map(|i| (format!("c{i:02}"), json!(5))).collect();
    assert_eq!(left, want, "the deletions and replacements made at once all took");
    // The budget report reads the same ledger.
    let r = site.admin("GET", "stats", None).json();
    assert_eq!(r["spend_entries"], json!(AT_ONCE / 2), "{r}");
}

#[test]
fn a_site_created_by_calls_at_once_gets_one_write_key() {
    let srv = server();
    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..AT_ONCE)
            .map(|_| s.spawn(|| srv.admin("PUT", "/v1/sites/concurrent-create", Some(&json!({"currency": "EUR"})))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("a PUT panicked")))
            .map(|r| (r.status, r.json()))
            .collect()
    });
    let created: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 201).map(|(_, v)| v).collect();
    assert_eq!(created.len(), 1, "one call creates the site, the others update it: {answers:?}");
    assert!(answers.iter().all(|(s, _)| *s == 201 || *s == 200), "{answers:?}");
    let key = created[0]["write_key"].as_str().unwrap_or_default().to_owned();
    assert!(answers.iter().all(|(_, v)| v["write_key"] == json!(key)), "every answer names the one key: {answers:?}");
    assert!(
        answers.iter().filter(|(_, v)| v.get("read_token").is_some()).count() == 1,
        "one read token was minted: {answers:?}"
    );
    let site = srv.admin("GET", "/v1/sites/concurrent-create", None).json();
    assert_eq!(site["write_key"], json!(key), "{site}");
    let event = json!({"type": "track", "userId": "u", "event": "x", "messageId": "m1"});
    let r = request(
        "POST",
        &srv.url("/v1/track"),
        &[("authorization", &basic(&key)), ("content-type", "application/json")],
        Some(event.to_string().as_bytes()),
    );
    assert_eq!(r.status, 200, "the site's write key is accepted: {}", r.text());
}

#[test]
fn revocations_at_once_each_count() {
    let site = server().create_site("concurrent-revoke", json!({"currency": "USD"}));
    std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..AT_ONCE).map(|_| s.spawn(|| site.admin("POST", "embed-tokens/revoke", None))).collect();
        let mut generations: Vec<u64> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("a revoke panicked")))
            .map(|r| {
                assert_eq!(r.status, 200, "{}", r.text());
                r.json()["generation"].as_u64().unwrap_or_default()
            })
            .collect();
        generations.sort_unstable();
        let want: Vec<u64> = (1..=AT_ONCE as u64).collect();
        assert_eq!(generations, want, "each revocation moved the generation on once");
    });
}

/// Rollups started at once (an admin's call beside the cron's, or several admins) equal one (issue "Prove it",
/// item 3): the site's object runs them one after the other, every message counts once and every report
/// matches a site of the same events rolled up once.
#[test]
fn rollups_at_once_equal_one() {
    let srv = server();
    let (at_once, once) = (
        srv.create_site("concurrent-rollup", json!({"currency": "USD"})),
        srv.create_site("single-rollup", json!({"currency": "USD"})),
    );
    let batches: Vec<Vec<Value>> = (0..60)
        .map(|b| {
            (0..20)
                .map(|i| {
                    let event = if i % 7 == 0 { "Order Completed" } else { "Feature Used" };
                    json!({"type": "track", "userId": format!("u{}", (b * 20 + i) % 37), "event": event,
                           "properties": {"revenue": 12.5}, "messageId": format!("m-{b}-{i}"),
                           "timestamp": format!("2026-10-{:02}T10:00:00Z", 1 + b % 28)})
                })
                .collect()
        })
        .collect();
    for batch in &batches {
        at_once.send_batch(batch);
        once.send_batch(batch);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| at_once.rollup())).collect();
        for h in handles {
            let outcome = h.join().unwrap_or_else(|_| panic!("a rollup call panicked"));
            assert_eq!(outcome["more"], json!(false), "{outcome}");
        }
    });
    once.rollup();
    let stats = at_once.stats();
    assert_eq!(stats["rolled_up_messages"], json!(60 * 20), "{stats}");
    assert_eq!(stats["pending_raw_keys"], json!(0), "{stats}");
    for path in ["reports/budget?from=2026-09-01&to=2026-11-01", "reports/lifecycle?as_of=2026-10-31", "accounts"] {
        let (mut a, mut b) = (at_once.read(path), once.read(path));
        for v in [&mut a, &mut b] {
            v.as_object_mut().and_then(|o| o.remove("data_status"));
        }
        assert_eq!(a, b, "{path}: rollups at once differ from one rollup");
    }
}

/// A chunked body that passes the ingest limit, and never ends: the answer is 413 without waiting for an end.
#[test]
fn a_chunked_body_past_the_limit_is_refused_while_it_is_sent() {
    let site = server().create_site("chunked", json!({"currency": "USD"}));
    let addr = site.server.base.trim_start_matches("http://").to_owned();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    conn.set_read_timeout(Some(Duration::from_secs(60))).unwrap_or_default();
    let head = format!(
        "POST /v1/batch HTTP/1.1\r\nhost: {addr}\r\nauthorization: {}\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\n\r\n",
        basic(&site.write_key)
    );
    conn.write_all(head.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    // 1.5 MB in chunks of 64 KiB (the ingest limit is 2 × 500 KiB on the wire), then nothing more.
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..24 {
        let sent = conn
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .and_then(|()| conn.write_all(&chunk))
            .and_then(|()| conn.write_all(b"\r\n"));
        if sent.is_err() {
            break; // The Worker answered and closed: read the answer.
        }
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) => panic!("no answer while the body was still open ({e}): the Worker waited for its end"),
        }
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "a chunked body past the limit: {text}");
    drop(conn);
    let stats = site.admin("GET", "stats", None).json();
    assert_eq!(stats["raw_keys"], json!(0), "nothing stored: {stats}");
}
