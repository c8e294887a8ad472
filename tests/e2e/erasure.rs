//! Erasure that holds (issue "Privacy and trust", item 2). A person (a user, the visitor id that became them,
//! inside a team account they share with a colleague) and a whole account are erased while their events keep
//! arriving and rollups keep running (a thread each); then their ids are ingested once more, later. After the
//! rollups have finished the scrub (a server of its own reads 4 raw keys per step, so the scrub resumes
//! across many runs), no file of the local state folder (KV and the sites' Durable Object databases) holds
//! any of their ids, the colleague and the team account are still there, every raw batch still present keeps
//! the expiry it was written with, and every report (and the team account's detail) equals that of a site
//! that was only ever sent the messages that name none of them: the person's activity is taken back out of
//! the team account that stays.

use crate::harness::{Server, Site, scratch};
use crate::privacy::files;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

const PERSON: &str = "prs-2b9f-erase-user";
const VISITOR: &str = "prs-2b9f-erase-visitor";
const ACCOUNT: &str = "corp-5c1d-erase";
const MEMBER: &str = "corp-5c1d-member";
const COLLEAGUE: &str = "keep-3e7a-colleague";
const TEAM: &str = "keep-3e7a-team";

/// One request's messages: the person, their colleague, the erased account's member and a stranger. Message
/// ids carry none of the ids searched for.
fn batch(n: usize) -> Vec<Value> {
    let at = format!("2026-10-{:02}T10:00:00Z", 1 + n % 28);
    let id = |k: &str| format!("m{n}-{k}");
    let mut out = vec![
        json!({"type": "page", "userId": PERSON, "groupId": TEAM, "messageId": id("p"), "timestamp": at,
               "properties": {"path": "/docs"}}),
        json!({"type": "track", "userId": COLLEAGUE, "groupId": TEAM, "event": "Feature Used",
               "messageId": id("c"), "timestamp": at}),
        json!({"type": "track", "userId": MEMBER, "groupId": ACCOUNT, "event": "Order Completed",
               "properties": {"revenue": 10}, "messageId": id("m"), "timestamp": at}),
        json!({"type": "page", "anonymousId": format!("stranger-{n}"), "messageId": id("s"), "timestamp": at,
               "properties": {"path": "/"}}),
    ];
    if n.is_multiple_of(5) {
        out.push(json!({"type": "page", "anonymousId": VISITOR, "messageId": id("v"), "timestamp": at,
                        "properties": {"path": "/pricing"}}));
        out.push(json!({"type": "identify", "anonymousId": VISITOR, "userId": PERSON, "messageId": id("i"),
                        "timestamp": at}));
    }
    out
}

/// Every raw key of the local KV with its expiry and the blob holding its value (Miniflare's SQLite index,
/// read with Python's standard library).
fn raw_keys(state: &Path) -> BTreeMap<String, (i64, String)> {
    let mut dbs = Vec::new();
    files(state, &mut dbs);
    let dbs: Vec<String> = dbs
        .into_iter()
        .filter(|p| {
            p.parent().is_some_and(|d| d.ends_with("miniflare-KVNamespaceObject"))
                && p.extension().is_some_and(|e| e == "sqlite")
                && !p.ends_with("metadata.sqlite")
        })
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert!(!dbs.is_empty(), "no local KV database under {}", state.display());
    let script = "import sqlite3, sys, json\nout = {}\nfor db in sys.argv[1:]:\n    c = sqlite3.connect('file:' + db + '?mode=ro', uri=True)\n    for k, e, b in c.execute(\"SELECT key, expiration, blob_id FROM _mf_entries WHERE key LIKE 'raw/%'\"):\n        out[k] = [e or 0, b]\nprint(json.dumps(out))\n";
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(&dbs)
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(out.status.success(), "reading the KV index: {}", String::from_utf8_lossy(&out.stderr));
    let v: BTreeMap<String, (i64, String)> =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("KV index: {e}"));
    v
}

/// Sets its flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Whether a file is one of the Durable Objects' SQLite databases (or its journal).
fn object_database(p: &Path) -> bool {
    p.components().any(|c| c.as_os_str() == "do")
}

/// Files of the state folder holding `needle`: every KV file byte for byte; the objects' databases by their
/// live rows (every table dumped, read-only). SQLite leaves a deleted row's bytes in free pages until it reuses
/// them, and workerd refuses `PRAGMA secure_delete` (SQLITE_AUTH), so those bytes are the storage engine's,
/// as they are Cloudflare's on the platform (ARCHITECTURE.md, "Erasure").
fn files_holding(state: &Path, needle: &str) -> Vec<String> {
    let mut all = Vec::new();
    files(state, &mut all);
    let mut out: Vec<String> = all
        .iter()
        .filter(|p| !object_database(p))
        .filter(|p| std::fs::read(p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes())))
        .map(|p| p.display().to_string())
        .collect();
    let dbs: Vec<String> = all
        .iter()
        .filter(|p| object_database(p) && p.extension().is_some_and(|e| e == "sqlite"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert!(dbs.len() >= 2, "the objects' databases are searched: {dbs:?}");
    let script = "import sqlite3, sys\nfor db in sys.argv[2:]:\n    c = sqlite3.connect('file:' + db + '?mode=ro', uri=True)\n    if any(sys.argv[1] in line for line in c.iterdump()):\n        print(db)\n";
    let found = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(needle)
        .args(&dbs)
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(found.status.success(), "dumping the objects' databases: {}", String::from_utf8_lossy(&found.stderr));
    out.extend(String::from_utf8_lossy(&found.stdout).lines().map(|l| format!("{l} (a live row)")));
    out
}

/// Whether a message names none of the erased ids.
fn survives(m: &Value) -> bool {
    let named = |field: &str, ids: &[&str]| m[field].as_str().is_some_and(|v| ids.contains(&v));
    !(named("userId", &[PERSON, MEMBER]) || named("anonymousId", &[VISITOR]) || named("groupId", &[ACCOUNT]))
}

/// A report without its `data_status`.
fn report(site: &Site, rest: &str) -> Value {
    let mut v = site.read(rest);
    v.as_object_mut().and_then(|o| o.remove("data_status"));
    v
}

#[test]
fn erasure_holds_under_concurrent_ingest_and_rollup() {
    let state = scratch("erasure-holds");
    let server: &'static Server = Box::leak(Box::new(
        Server::start_with_env(&state, &[("DAYTWO_SCRUB_PAGE_KEYS", "4")])
            .unwrap_or_else(|e| panic!("server with small scrub steps: {e}")),
    ));
    let site = server.create_site("erasure", json!({}));
    let reference = server.create_site("erasure-reference", json!({}));
    for n in 0..=60 {
        let kept: Vec<Value> = batch(n).into_iter().filter(survives).collect();
        reference.send_batch(&kept);
    }
    reference.rollup();
    for n in 0..30 {
        site.send_batch(&batch(n));
    }
    site.rollup();
    let before = raw_keys(&server.state_dir());
    assert!(before.len() >= 30, "{} raw keys", before.len());
    assert!(before.values().all(|(e, _)| *e > 0), "raw batches expire");

    // Erase while events keep arriving and rollups keep running.
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let ingest = s.spawn(|| {
            for n in 30..60 {
                site.send_batch(&batch(n));
            }
        });
        let rollups = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let r = site.admin("POST", "rollup", None);
                assert_eq!(r.status, 200, "{}", r.text());
            }
        });
        // The rollup thread stops however this closure ends (a failed assertion included), so a failure
        // reports instead of leaving the scope waiting for it.
        let _stop = StopOnDrop(&stop);
        let person = site.admin("DELETE", &format!("people/{PERSON}"), None);
        assert_eq!(person.status, 200, "{}", person.text());
        let p = person.json();
        assert_eq!(p["erased"], json!(format!("u:{PERSON}")), "{p}");
        assert!(p["identities"].as_u64() >= Some(2), "the user and the visitor that became them: {p}");
        assert_eq!(p["raw_scrub_complete"], json!(false), "4 keys a step: the scrub goes on in later runs: {p}");
        let account = site.admin("DELETE", &format!("accounts/{ACCOUNT}"), None);
        assert_eq!(account.status, 200, "{}", account.text());
        assert_eq!(account.json()["erased"], json!(format!("g:{ACCOUNT}")), "{}", account.text());
        ingest.join().unwrap_or_else(|_| panic!("ingest thread"));
        drop(_stop);
        rollups.join().unwrap_or_else(|_| panic!("rollup thread"));
    });

    // Later ingest of the same ids is applied against the record, then everything is rolled up.
    site.send_batch(&batch(60));
    let mut runs = 0;
    loop {
        let r = site.admin("POST", "rollup", None);
        assert_eq!(r.status, 200, "{}", r.text());
        runs += 1;
        if r.json()["more"] != json!(true) {
            break;
        }
        assert!(runs < 200, "the scrub does not finish: {}", r.text());
    }
    let stats = site.stats();
    eprintln!("scrub finished after {runs} runs: {stats}");
    assert_eq!(stats["raw_scrub_pending"], json!(false), "{stats}");
    assert!(stats["erased_identities"].as_i64() >= Some(4), "{stats}");

    // No file of the state folder holds an erased id; the colleague's is still there.
    let state_dir = server.state_dir();
    for id in [PERSON, VISITOR, ACCOUNT, MEMBER] {
        let holding = files_holding(&state_dir, id);
        assert!(holding.is_empty(), "{id} is still stored in {holding:?}");
    }
    // Both searches find what is stored: the colleague's id is in raw batches and in the object's links.
    let colleague = files_holding(&state_dir, COLLEAGUE);
    assert!(colleague.iter().any(|f| f.ends_with("(a live row)")), "{colleague:?}");
    assert!(colleague.iter().any(|f| !f.ends_with("(a live row)")), "{colleague:?}");

    // Rewritten batches kept their expiry.
    let after = raw_keys(&state_dir);
    let rewritten: Vec<&String> =
        after.iter().filter(|(k, (_, blob))| before.get(*k).is_some_and(|(_, b)| b != blob)).map(|(k, _)| k).collect();
    assert!(!rewritten.is_empty(), "erasure rewrote raw batches");
    for k in &rewritten {
        assert_eq!(after[*k].0, before[*k].0, "{k} kept its expiry");
    }

    // The figures: the team is the colleague alone, the erased account is gone, strangers are all counted.
    let team = site.read(&format!("accounts/{TEAM}?as_of=2026-10-31"));
    assert!(!team.to_string().contains(PERSON), "{team}");
    let gone = site.read_raw(&format!("accounts/{ACCOUNT}?as_of=2026-10-31"), &site.read_token);
    assert_eq!(gone.status, 404, "{}", gone.text());
    let gone = site.read_raw(&format!("accounts/{PERSON}?as_of=2026-10-31"), &site.read_token);
    assert_eq!(gone.status, 404, "{}", gone.text());
    // Every figure is that of never having received their messages.
    for rest in [
        "reports/budget?from=2026-10-01&to=2026-11-01".to_owned(),
        "reports/lifecycle?as_of=2026-10-31".to_owned(),
        "reports/funnel?from=2026-10-01&to=2026-11-01".to_owned(),
        "reports/engagement?as_of=2026-10-31".to_owned(),
        "accounts?as_of=2026-10-31&limit=500".to_owned(),
        format!("accounts/{TEAM}?as_of=2026-10-31"),
    ] {
        assert_eq!(report(&site, &rest), report(&reference, &rest), "{rest}");
    }
    assert_eq!(report(&site, "reports/lifecycle?as_of=2026-10-31")["total"], json!(62), "61 strangers and the team");
    let again = site.admin("DELETE", &format!("people/{PERSON}"), None);
    assert_eq!((again.status, again.code().as_deref()), (404, Some("person_not_found")), "{}", again.text());
    server.stop();
}
