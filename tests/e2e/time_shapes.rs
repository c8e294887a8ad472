//! Event files keep their time through `daytwo import` (issue "Works where its users are", item 2), and the
//! live Worker's rule for `sentAt`: a clock's skew is corrected, a replay (a `sentAt` far before receipt)
//! keeps its `timestamp`.
//!
//! One history is generated in every time shape real sources write (`timestamp` only, `sentAt` beside it, a
//! slow device clock as Segment exports it, `originalTimestamp` only, Segment's archive with the corrected
//! `timestamp`); each is imported into its own site and rolled up, and every report equals `daytwo report`
//! over the plain file.

use crate::cross_check::first_difference;
use crate::harness::{ADMIN_TOKEN, daytwo, now_rfc3339, rfc3339, scratch, server, unix_now};
use serde_json::{Value, json};
use std::io::Write;

const SHAPES: [&str; 5] = ["timestamp", "sent-at", "skewed", "original", "archive"];
const QUERY: (&str, &str, &str) = ("2026-05-01", "2026-11-01", "2026-10-31");

fn without_status(mut v: Value) -> Value {
    let status = v.as_object_mut().and_then(|o| o.remove("data_status")).unwrap_or_default();
    assert_eq!(status["complete"], json!(true), "{status}");
    v
}

#[test]
fn every_time_shape_imports_to_the_offline_figures() {
    let dir = scratch("time-shapes");
    let d = |shape: &str| dir.join(shape).to_string_lossy().into_owned();
    for shape in SHAPES {
        daytwo(&[
            "generate",
            "--seed",
            "12",
            "--accounts",
            "40",
            "--months",
            "12",
            "--end",
            "2026-11-01",
            "--time-shape",
            shape,
            "--out",
            &d(shape),
        ]);
    }
    let (from, to, as_of) = QUERY;
    let plain = format!("{}/events.ndjson", d("timestamp"));
    let kinds = ["budget", "lifecycle", "accounts"];
    let offline: Vec<Value> = kinds
        .iter()
        .map(|k| {
            let out =
                daytwo(&["report", k, "--events", &plain, "--from", from, "--to", to, "--as-of", as_of, "--json"]);
            without_status(serde_json::from_str(&out).unwrap_or_else(|e| panic!("{k}: {e}")))
        })
        .collect();
    assert!(offline[1]["total"].as_u64() > Some(0), "{}", offline[1]);

    let s = server();
    for shape in SHAPES {
        let site = s.create_site(&format!("shape-{shape}"), json!({"currency": "USD"}));
        let events = format!("{}/events.ndjson", d(shape));
        // The archive arrives as Segment's S3 export does: gzipped, in two files.
        let files: Vec<String> = if shape == "archive" {
            let text = std::fs::read_to_string(&events).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let (a, b) = lines.split_at(lines.len() / 2);
            [("part-1.json.gz", a), ("part-2.json.gz", b)]
                .iter()
                .map(|(name, part)| {
                    let path = dir.join("archive").join(name);
                    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    e.write_all(part.join("\n").as_bytes()).unwrap();
                    std::fs::write(&path, e.finish().unwrap()).unwrap();
                    path.to_string_lossy().into_owned()
                })
                .collect()
        } else {
            vec![events]
        };
        let mut args = vec!["import", "--url", &s.base, "--write-key", &site.secret_key, "--events"];
        args.extend(files.iter().map(String::as_str));
        args.extend(["--site", &site.id, "--admin-token", ADMIN_TOKEN]);
        daytwo(&args);
        site.rollup();
        for (kind, want) in kinds.iter().zip(&offline) {
            let path = if *kind == "accounts" { "accounts".to_owned() } else { format!("reports/{kind}") };
            let api = without_status(site.read(&format!("{path}?from={from}&to={to}&as_of={as_of}&limit=500")));
            if let Some(diff) = first_difference(&api, want, kind) {
                panic!("{shape}: the Worker's {kind} differs from the offline report of the plain file at {diff}");
            }
        }
    }
}

/// New customers the budget report counts in `[from, to)`.
fn new_customers(site: &crate::harness::Site, from: &str, to: &str) -> Value {
    site.read(&format!("reports/budget?from={from}&to={to}"))["acquisition"]["new_customers"].clone()
}

#[test]
fn live_skew_is_corrected_and_replays_keep_their_time() {
    let s = server();
    let now = unix_now() as i64;
    let day = |secs: i64| rfc3339(secs)[..10].to_owned();
    // A device clock 25 hours slow: timestamp and sentAt both 25 h early. Corrected to now.
    let slow = s.create_site("live-skew", json!({"currency": "USD"}));
    let early = rfc3339(now - 25 * 3600);
    slow.send_batch(&[json!({"type": "track", "userId": "slow", "event": "Order Completed",
        "properties": {"revenue": 5}, "timestamp": early, "sentAt": early})]);
    assert_eq!(new_customers(&slow, &day(now), &day(now + 86_400)), json!(1), "the skew was not corrected");
    // A replay: a request recorded in June and sent again now. Its sentAt is months old: not a clock's error,
    // so the timestamp stands.
    let replay = s.create_site("live-replay", json!({"currency": "USD"}));
    replay.send_batch(&[json!({"type": "track", "userId": "replayed", "event": "Order Completed",
        "properties": {"revenue": 5}, "timestamp": "2026-06-15T12:00:00Z", "sentAt": "2026-06-15T12:00:01Z"})]);
    assert_eq!(new_customers(&replay, "2026-06-15", "2026-06-16"), json!(1), "the replay was moved");
    assert_eq!(new_customers(&replay, &day(now), &day(now + 86_400)), json!(0));
    // Segment's archived line (timestamp already corrected beside originalTimestamp) is not corrected again.
    let archived = s.create_site("live-archived", json!({"currency": "USD"}));
    archived.send_batch(&[json!({"type": "track", "userId": "archived", "event": "Order Completed",
        "properties": {"revenue": 5}, "timestamp": "2026-06-15T12:00:00Z",
        "originalTimestamp": "2026-06-14T11:00:00Z", "sentAt": now_rfc3339()})]);
    assert_eq!(new_customers(&archived, "2026-06-15", "2026-06-16"), json!(1), "the archived line was moved");
}
