//! Stop and restart the runtime on the same state folder: nothing acknowledged is lost, rolled up or not.

use crate::harness::{Server, Site, scratch, try_request};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Owns a server of this test: stops it when dropped (also when an assertion fails).
struct Owned(&'static Server);

impl Drop for Owned {
    fn drop(&mut self) {
        self.0.stop();
    }
}

fn start(state: &std::path::Path) -> Owned {
    // Leaked so sites can borrow it for 'static; `Owned` stops it, the watchdog covers a crash.
    let server = Server::start(state).unwrap_or_else(|e| panic!("restart test server: {e}"));
    Owned(Box::leak(Box::new(server)))
}

fn customers(prefix: &str, range: std::ops::Range<usize>) -> Vec<Value> {
    range
        .flat_map(|i| {
            let u = format!("{prefix}-{i}");
            [
                json!({"type":"identify","userId":u,"messageId":format!("{u}-id"),"timestamp":"2026-10-05T10:00:00Z",
                       "traits":{"email":format!("{u}@example.com")}}),
                json!({"type":"track","userId":u,"event":"Order Completed","messageId":format!("{u}-oc"),
                       "timestamp":"2026-10-06T10:00:00Z","properties":{"revenue":10}}),
            ]
        })
        .collect()
}

fn account_ids(site: &Site) -> BTreeSet<String> {
    let page = site.read("accounts?as_of=2026-10-31&limit=500");
    assert!(page["next_cursor"].is_null(), "more than one page: {page}");
    page["accounts"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn restart_keeps_every_acknowledged_event() {
    let state = scratch("restart-state");
    let first = start(&state);
    let site = first.0.create_site("restart", json!({"currency":"USD"}));

    // Rolled up before the stop.
    site.send_batch(&customers("rs-rolled", 0..10));
    assert_eq!(site.rollup()["messages_folded"], json!(20));
    // Acknowledged before the stop, never rolled up.
    site.send_batch(&customers("rs-pending", 0..10));

    // Acknowledged one by one while the server is being stopped.
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let sender = {
        let (acked, count, site) = (acked.clone(), count.clone(), site.clone());
        std::thread::spawn(move || {
            let url = site.server.url("/v1/track");
            let auth = crate::harness::basic(&site.write_key);
            for i in 0..100_000 {
                let user = format!("rs-live-{i}");
                let body = json!({"userId":user,"event":"Signed Up","messageId":format!("{user}-su"),
                                  "timestamp":"2026-10-07T10:00:00Z"});
                let r = try_request(
                    "POST",
                    &url,
                    &[("authorization", &auth), ("content-type", "application/json")],
                    Some(body.to_string().as_bytes()),
                );
                match r {
                    Ok(r) if r.status == 200 => {
                        acked.lock().unwrap().insert(format!("u:{user}"));
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    // The server is going away: this one and the rest are not acknowledged.
                    _ => return i + 1,
                }
            }
            100_000
        })
    };
    let t = Instant::now();
    while count.load(Ordering::SeqCst) < 10 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(first); // TERM to the whole group, KILL after 10 s: a normal stop.
    let attempted = sender.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 10, "only {} live events were acknowledged", acked.len());
    eprintln!("restart: {} live events acknowledged of {attempted} attempted before the stop", acked.len());

    // Same state folder, new process (and port).
    let second = start(&state);
    let site = Site { server: second.0, ..site };
    let config = site.admin("GET", "", None);
    assert_eq!(config.status, 200, "the site survived the restart: {}", config.text());
    assert_eq!(config.json()["write_key"], json!(site.write_key));
    let stats = site.stats();
    assert!(stats["raw_keys"].as_u64() >= Some(2 + acked.len() as u64), "{stats}");
    assert!(stats["pending_raw_keys"].as_u64() >= Some(1 + acked.len() as u64), "{stats}");
    assert_eq!(stats["rolled_up_messages"], json!(20), "the rollup state survived: {stats}");

    // The pending batch and the live events show in reports through the tail, then through the rollup.
    let tail_ids = account_ids(&site);
    let out = site.rollup();
    assert!(out["messages_folded"].as_u64() >= Some(20 + acked.len() as u64), "{out}");
    let ids = account_ids(&site);
    assert_eq!(ids, tail_ids, "tail before the rollup and rollup after it agree");
    for i in 0..10 {
        for prefix in ["rs-rolled", "rs-pending"] {
            assert!(ids.contains(&format!("u:{prefix}-{i}")), "{prefix}-{i} lost in the restart");
        }
    }
    let missing: Vec<&String> = acked.iter().filter(|id| !ids.contains(*id)).collect();
    assert!(missing.is_empty(), "acknowledged live events lost in the restart: {missing:?}");
    let extra: Vec<&String> =
        ids.iter().filter(|id| !id.starts_with("u:rs-rolled-") && !id.starts_with("u:rs-pending-")).collect();
    assert!(extra.iter().all(|id| id.starts_with("u:rs-live-")), "unexpected accounts: {extra:?}");
    assert!(extra.len() <= attempted, "more live accounts than events sent");

    let life = site.read("reports/lifecycle?as_of=2026-10-31");
    assert_eq!(life["stages"]["new_customer"], json!(20), "{life}");
    assert_eq!(life["stages"]["lead"].as_u64(), Some(extra.len() as u64), "{life}");
    let b = site.read("reports/budget?from=2026-10-01&to=2026-11-01");
    assert_eq!(b["acquisition"]["revenue_minor"], json!(20 * 1000), "{b}");

    // The credentials still work after the restart.
    site.send_batch(&customers("rs-after", 0..1));
    site.rollup();
    assert!(account_ids(&site).contains("u:rs-after-0"));
    drop(second);
    let _ = std::fs::remove_dir_all(&state);
}
