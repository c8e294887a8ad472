//! The read model (issue "Scale": reports never re-fold history). After a rollup, today's reports over the
//! default period come from the site's account index (`x-daytwo-read-model: index`), corrected by whole
//! accounts for what arrived since, and equal `daytwo report` on the same events: right after the rollup,
//! with a tail that links a visitor into an account, moves a user to another account and adds a customer,
//! and after the next rollup has folded that tail into the index. Every account-list order and filter from
//! the index equals the full fold of every account (forced by a settings change, which retires the index).
//! A rebuild too large for one run resumes across runs, with rollups of new events in between.

use crate::cross_check::first_difference;
use crate::harness::{Server, Site, daytwo, rfc3339, scratch, server, unix_now};
use daytwo_shared::read_model::PeriodPreset;
use daytwo_shared::time::Day;
use serde_json::{Value, json};

const KINDS: [&str; 5] = ["budget", "lifecycle", "funnel", "engagement", "accounts"];

/// The default request of each report (the CLI lists every account: so does the API's largest page).
fn path(kind: &str) -> String {
    if kind == "accounts" { "accounts?limit=500".to_owned() } else { format!("reports/{kind}") }
}

/// A report with its `data_status` removed, and the path that answered it.
fn api(site: &Site, rest: &str) -> (Value, String) {
    let r = site.read_raw(rest, &site.read_token);
    assert_eq!(r.status, 200, "{rest}: {}", r.text());
    let mut v = r.json();
    v.as_object_mut().and_then(|o| o.remove("data_status"));
    (v, r.header("x-daytwo-read-model").unwrap_or("none").to_owned())
}

/// Today (UTC), as the Worker sees it.
fn today() -> Day {
    Day((unix_now() / 86_400) as i32)
}

/// `from=…&to=…` of `preset` today.
fn preset_query(preset: PeriodPreset) -> String {
    let p = preset.period(today());
    format!("from={}&to={}", p.from, p.to)
}

/// Every report of every preset period (the widget's period picker) from the API equals the CLI's over
/// `files`, and came from the index; so does the default request (no parameters).
fn same_as_cli(site: &Site, files: &[&str], when: &str) {
    for preset in PeriodPreset::ALL {
        let period = preset.period(today());
        for kind in KINDS {
            let sep = if kind == "accounts" { '&' } else { '?' };
            let (answer, path_used) = api(site, &format!("{}{sep}{}", path(kind), preset_query(preset)));
            assert_eq!(path_used, "index", "{when}: {preset:?} {kind} did not come from the read model");
            if preset == PeriodPreset::ALL[0] {
                let (default, _) = api(site, &path(kind));
                assert_eq!(default, answer, "{when}: {kind}: the default request is the first preset");
            }
            let (from, to) = (period.from.to_string(), period.to.to_string());
            let mut args = vec!["report", kind, "--from", &from, "--to", &to, "--events"];
            args.extend_from_slice(files);
            args.push("--json");
            let mut cli: Value = serde_json::from_str(&daytwo(&args)).unwrap_or_else(|e| panic!("{kind}: {e}"));
            cli.as_object_mut().and_then(|o| o.remove("data_status"));
            if let Some(diff) = first_difference(&answer, &cli, kind) {
                panic!("{when}: {preset:?} {kind} from the read model differs from the CLI at {diff}");
            }
        }
    }
}

/// A user who is a member of some group in the generated events, with that group.
fn grouped_users(events: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in events.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_default();
        if let (Some(u), Some(g)) = (v["userId"].as_str(), v["groupId"].as_str())
            && !out.iter().any(|(_, og)| og == g)
        {
            out.push((u.to_owned(), g.to_owned()));
        }
    }
    out
}

#[test]
fn todays_reports_come_from_the_read_model_and_equal_a_full_fold() {
    let dir = scratch("read-model");
    let d = dir.to_string_lossy().into_owned();
    // Ends today, so the index's day (today) has a year of history behind it.
    daytwo(&["generate", "--seed", "11", "--accounts", "80", "--months", "12", "--out", &d]);
    let events = format!("{d}/events.ndjson");
    let site = server().create_site("read-model", json!({"currency": "USD"}));
    daytwo(&["import", "--url", &site.server.base, "--write-key", &site.secret_key, "--events", &events]);
    site.rollup();
    same_as_cli(&site, &[&events], "after the rollup");

    // A tail: a visitor identified into a grouped user's account, a user moved to a new account, a new customer.
    let text = std::fs::read_to_string(&events).unwrap();
    let users = grouped_users(&text);
    assert!(users.len() >= 2, "the generated site has grouped users: {users:?}");
    let ((u1, _), (u2, _)) = (&users[0], &users[1]);
    let at = rfc3339(unix_now() as i64 - 60);
    let tail = [
        json!({"type": "page", "anonymousId": "tail-visitor", "messageId": "tail-1", "timestamp": at,
               "properties": {"path": "/pricing"}}),
        json!({"type": "identify", "anonymousId": "tail-visitor", "userId": u1, "messageId": "tail-2",
               "timestamp": at}),
        json!({"type": "group", "userId": u2, "groupId": "tail-new", "messageId": "tail-3", "timestamp": at,
               "traits": {"name": "Tail Corp"}}),
        json!({"type": "track", "userId": u2, "groupId": "tail-new", "event": "Order Completed",
               "properties": {"revenue": 500}, "messageId": "tail-4", "timestamp": at}),
    ];
    let extra = format!("{d}/tail.ndjson");
    std::fs::write(&extra, tail.iter().map(|m| format!("{m}\n")).collect::<String>()).unwrap();
    site.send_batch(&tail);
    let (accounts, _) = api(&site, "accounts?stage=new_customer&limit=500");
    assert!(
        accounts["accounts"].as_array().is_some_and(|a| a.iter().any(|r| r["id"] == json!("g:tail-new"))),
        "the tail's new customer is listed: {accounts}"
    );
    same_as_cli(&site, &[&events, &extra], "with a tail");

    // The next rollup folds the tail into the index, account by account.
    site.rollup();
    same_as_cli(&site, &[&events, &extra], "after the tail's rollup");

    // Every order and filter of the list: from the index, then from the full fold (a settings change retires
    // the index until the next rollup), equal.
    // Today's list and the last quarter's (evaluated on its last day: the index's other day).
    let quarter = preset_query(PeriodPreset::LastQuarter);
    let mut variants: Vec<String> = [
        "accounts?sort=score&limit=7",
        "accounts?sort=score_desc&limit=7&cursor=7",
        "accounts?sort=revenue&limit=10",
        "accounts?sort=last_seen&limit=10",
        "accounts?sort=name&limit=10&cursor=20",
        "accounts?stage=active&limit=5",
        "accounts?band=disengaged&sort=score",
        "accounts?stage=lead&band=neutral",
    ]
    .map(str::to_owned)
    .into();
    variants.extend(
        ["accounts?sort=score_desc&limit=9&cursor=9", "accounts?stage=lapsed&sort=revenue", "accounts?band=engaged"]
            .map(|v| format!("{v}&{quarter}")),
    );
    let from_index: Vec<Value> = variants
        .iter()
        .map(|v| {
            let (page, used) = api(&site, v);
            assert_eq!(used, "index", "{v}");
            page
        })
        .collect();
    let r = site.admin("PUT", "", Some(&json!({"settings": {"ingest": {"dedup_window_hours": 96}}})));
    assert_eq!(r.status, 200, "{}", r.text());
    for (v, indexed) in variants.iter().zip(&from_index) {
        let (page, used) = api(&site, v);
        assert_eq!(used, "full", "{v}: the settings changed, so the index is not used");
        if let Some(diff) = first_difference(indexed, &page, v) {
            panic!("{v}: the read model and the full fold differ at {diff}");
        }
    }
    site.rollup();
    assert_eq!(api(&site, "reports/lifecycle").1, "index", "the rollup rebuilt the index");
}

/// A rebuild larger than one run's budget resumes where it stopped (a cursor in the index's header), and the
/// events folded between its runs, on either side of the cursor, are in the finished index: its reports equal
/// `daytwo report`. A server of its own rebuilds pages of 3 identity rows (`DAYTWO_REBUILD_PAGE_ROWS`; a run
/// rebuilds at most 20 pages), so a site of 80 accounts takes several runs.
#[test]
fn a_rebuild_resumes_across_runs_and_keeps_what_arrives_meanwhile() {
    let state = scratch("rebuild-resumes");
    let server: &'static Server = Box::leak(Box::new(
        Server::start_with_env(&state, &[("DAYTWO_REBUILD_PAGE_ROWS", "3")])
            .unwrap_or_else(|e| panic!("server with small rebuild pages: {e}")),
    ));
    let dir = scratch("rebuild-resumes-data");
    let d = dir.to_string_lossy().into_owned();
    daytwo(&["generate", "--seed", "12", "--accounts", "80", "--months", "12", "--out", &d]);
    let events = format!("{d}/events.ndjson");
    let site = server.create_site("rebuild", json!({"currency": "USD"}));
    daytwo(&["import", "--url", &site.server.base, "--write-key", &site.secret_key, "--events", &events]);
    let text = std::fs::read_to_string(&events).unwrap();
    let users = grouped_users(&text);
    assert!(users.len() >= 8, "the generated site has grouped users: {}", users.len());

    // Run by run: each partial run is followed by an order from another account, folded by the next run.
    let mut files = vec![events.clone()];
    let mut partial_runs = 0;
    loop {
        let r = site.admin("POST", "rollup", None);
        assert_eq!(r.status, 200, "{}", r.text());
        let out = r.json();
        if out["more"] != json!(true) {
            assert_eq!(out["read_model_ready"], json!(true), "{out}");
            break;
        }
        assert_eq!(api(&site, "reports/lifecycle").1, "full", "an unfinished index answered a report");
        partial_runs += 1;
        assert!(partial_runs < 60, "the rebuild does not finish: {out}");
        let (user, group) = &users[partial_runs % users.len()];
        let order = json!({"type": "track", "userId": user, "groupId": group, "event": "Order Completed",
            "properties": {"revenue": 100 + partial_runs}, "messageId": format!("rebuild-tail-{partial_runs}"),
            "timestamp": rfc3339(unix_now() as i64 - 60)});
        let file = format!("{d}/tail-{partial_runs}.ndjson");
        std::fs::write(&file, format!("{order}\n")).unwrap();
        files.push(file);
        site.send_batch(&[order]);
    }
    assert!(partial_runs >= 3, "the rebuild took {partial_runs} partial runs: it did not need to resume");
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    same_as_cli(&site, &files, "after a rebuild across runs");
}
