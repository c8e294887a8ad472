//! Anonymous visitors past their window (issue "Scale"): a one-day visitor who never identified and sent
//! nothing for the window leaves their row for the site's visitor pool, and no figure moves. A server of its
//! own has a 10-second window (`DAYTWO_ANONYMOUS_WINDOW_SECONDS`; sites default to 30 days): a generated
//! year is imported, rolled up, and once the window has passed a later batch lets the next rollup compact
//! the visitors. Every report still equals `daytwo report` on the same files, from the read model, from a
//! full fold, and from a rebuilt read model; the account list leaves exactly the pooled visitors out; a
//! visitor id seen again after the window counts as a new visitor (documented in ARCHITECTURE.md).

use crate::cross_check::first_difference;
use crate::harness::{Server, Site, daytwo, rfc3339, scratch, unix_now};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

const WINDOW_SECONDS: u64 = 10;

/// A report's JSON without `data_status`, and the path that answered it.
fn api(site: &Site, rest: &str) -> (Value, String) {
    let r = site.read_raw(rest, &site.read_token);
    assert_eq!(r.status, 200, "{rest}: {}", r.text());
    let mut v = r.json();
    v.as_object_mut().and_then(|o| o.remove("data_status"));
    (v, r.header("x-daytwo-read-model").unwrap_or("none").to_owned())
}

fn cli(kind: &str, files: &[&str], extra: &[&str]) -> Value {
    let mut args = vec!["report", kind, "--events"];
    args.extend_from_slice(files);
    args.extend_from_slice(extra);
    args.push("--json");
    let mut v: Value = serde_json::from_str(&daytwo(&args)).unwrap_or_else(|e| panic!("{kind}: {e}"));
    v.as_object_mut().and_then(|o| o.remove("data_status"));
    v
}

/// Budget, lifecycle, funnel and engagement, today (from `expect_path`) and on a past day (a full fold),
/// equal the CLI's.
fn figures_equal_cli(site: &Site, files: &[&str], expect_path: &str, when: &str) {
    for kind in ["budget", "lifecycle", "funnel", "engagement"] {
        let (got, used) = api(site, &format!("reports/{kind}"));
        assert_eq!(used, expect_path, "{when}: {kind}");
        if let Some(diff) = first_difference(&got, &cli(kind, files, &[]), kind) {
            panic!("{when}: {kind} differs from the CLI at {diff}");
        }
    }
    // Not a quarter's last day: the read model keeps the last quarter's (a preset), so this day is always a fold.
    let (got, used) = api(site, "reports/lifecycle?as_of=2026-09-29");
    assert_eq!(used, "full", "{when}: a past day is a full fold");
    if let Some(diff) = first_difference(&got, &cli("lifecycle", files, &["--as-of", "2026-09-29"]), "lifecycle") {
        panic!("{when}: lifecycle of a past day differs from the CLI at {diff}");
    }
    let (got, _) = api(site, "reports/funnel?from=2026-06-01&to=2026-09-01");
    let want = cli("funnel", files, &["--from", "2026-06-01", "--to", "2026-09-01"]);
    if let Some(diff) = first_difference(&got, &want, "funnel") {
        panic!("{when}: funnel of a past period differs from the CLI at {diff}");
    }
}

fn ids(list: &Value) -> BTreeSet<String> {
    list["accounts"].as_array().into_iter().flatten().filter_map(|a| a["id"].as_str().map(str::to_owned)).collect()
}

#[test]
fn visitors_past_their_window_leave_their_rows_and_no_figure_moves() {
    let state = scratch("visitor-window");
    let server: &'static Server = Box::leak(Box::new(
        Server::start_with_env(&state, &[("DAYTWO_ANONYMOUS_WINDOW_SECONDS", &WINDOW_SECONDS.to_string())])
            .unwrap_or_else(|e| panic!("server with a short visitor window: {e}")),
    ));
    let dir = scratch("visitor-window-data");
    let d = dir.to_string_lossy().into_owned();
    daytwo(&["generate", "--seed", "21", "--accounts", "80", "--months", "12", "--out", &d]);
    let events = format!("{d}/events.ndjson");
    let site = server.create_site("visitors", json!({"currency": "USD"}));
    daytwo(&["import", "--url", &site.server.base, "--write-key", &site.secret_key, "--events", &events]);
    site.rollup();
    let before = site.stats();

    // The window passes; a later batch moves the checkpoint past it, so the next rollup compacts.
    std::thread::sleep(Duration::from_secs(WINDOW_SECONDS + 1));
    let late = json!({"type": "page", "anonymousId": "late-visitor", "messageId": "visitors-late-1",
        "timestamp": rfc3339(unix_now() as i64 - 30), "properties": {"path": "/"}});
    let late_file = format!("{d}/late.ndjson");
    std::fs::write(&late_file, format!("{late}\n")).unwrap();
    site.send_batch(std::slice::from_ref(&late));
    site.rollup();
    let after = site.stats();
    let pooled = after["pooled_visitors"].as_i64().unwrap_or(0);
    let identities = |s: &Value| s["identities"].as_i64().unwrap_or(0);
    eprintln!(
        "identities {} → {} (+1 late visitor), pooled visitors {pooled} in {} pool rows",
        identities(&before),
        identities(&after),
        after["visitor_pool_rows"]
    );
    assert!(pooled >= 20, "the generated year's one-day visitors were pooled: {after}");
    assert_eq!(identities(&after), identities(&before) + 1 - pooled, "each pooled visitor left one row: {after}");
    assert!(after["visitor_pool_rows"].as_i64() < Some(pooled), "identical visits share a pool row: {after}");

    // No figure moved: from the read model the compaction kept, from a full fold, and from a rebuild.
    let files = [events.as_str(), late_file.as_str()];
    figures_equal_cli(&site, &files, "index", "after compaction");
    let r = site.admin("PUT", "", Some(&json!({"settings": {"ingest": {"dedup_window_hours": 96}}})));
    assert_eq!(r.status, 200, "{}", r.text());
    figures_equal_cli(&site, &files, "full", "after compaction, full fold");
    site.rollup();
    figures_equal_cli(&site, &files, "index", "after compaction, rebuilt read model");

    // The list leaves out exactly the pooled visitors: anonymous ids only, as many as the pool holds.
    let (list, _) = api(&site, "accounts?limit=500");
    let want = cli("accounts", &files, &[]);
    let (listed, everyone) = (ids(&list), ids(&want));
    let missing: Vec<&String> = everyone.difference(&listed).collect();
    assert!(listed.is_subset(&everyone), "the API lists only accounts the CLI lists");
    assert!(missing.iter().all(|id| id.starts_with("a:")), "only anonymous visitors leave the list: {missing:?}");
    assert_eq!(missing.len() as i64, pooled, "the list leaves out the pooled visitors");
    assert_eq!(list["total"].as_i64(), want["total"].as_i64().map(|t| t - pooled), "{}", list["total"]);

    // A pooled visitor's id seen again counts as a new visitor: one more prospect than the CLI, which
    // merges the two visits into one history.
    let returning = missing[0].trim_start_matches("a:").to_owned();
    let again = json!({"type": "page", "anonymousId": returning, "messageId": "visitors-again-1",
        "timestamp": rfc3339(unix_now() as i64 - 30), "properties": {"path": "/"}});
    let again_file = format!("{d}/again.ndjson");
    std::fs::write(&again_file, format!("{again}\n")).unwrap();
    site.send_batch(std::slice::from_ref(&again));
    site.rollup();
    let (life, _) = api(&site, "reports/lifecycle");
    let cli_life = cli("lifecycle", &[&events, &late_file, &again_file], &[]);
    assert_eq!(life["total"].as_i64(), cli_life["total"].as_i64().map(|t| t + 1), "{life}");
    server.stop();
}
