//! The API and the CLI agree: a generated site imported with `daytwo import` and rolled up gives the same
//! reports over HTTP as `daytwo report … --json` computes offline from the same files.

use crate::harness::{ADMIN_TOKEN, daytwo, scratch, server};
use serde_json::Value;

/// The first place two JSON values differ, as a path, or `None` when equal.
pub fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = first_difference(u, v, &p) {
                            return Some(d);
                        }
                    }
                    (u, v) => return Some(format!("{p}: {u:?} vs {v:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                if let Some(d) = first_difference(u, v, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (x.len() != y.len()).then(|| format!("{path}: {} vs {} elements", x.len(), y.len()))
        }
        _ => (a != b).then(|| format!("{path}: {a} vs {b}")),
    }
}

#[test]
fn api_reports_equal_cli_reports() {
    let dir = scratch("cross-check");
    let d = dir.to_string_lossy().into_owned();
    daytwo(&["generate", "--seed", "7", "--accounts", "60", "--months", "12", "--end", "2026-11-01", "--out", &d]);
    let events = format!("{d}/events.ndjson");
    let spend = format!("{d}/spend.csv");
    let s = server();
    let site = s.create_site("cross-check", serde_json::json!({"currency":"USD"}));
    daytwo(&[
        "import",
        "--url",
        &s.base,
        "--write-key",
        &site.secret_key,
        "--events",
        &events,
        "--spend",
        &spend,
        "--site",
        "cross-check",
        "--admin-token",
        ADMIN_TOKEN,
    ]);
    site.rollup();
    let stats = site.stats();
    assert_eq!(stats["pending_raw_keys"], serde_json::json!(0), "{stats}");
    let lines = std::fs::read_to_string(&events).unwrap().lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(stats["rolled_up_messages"].as_u64(), Some(lines as u64), "every generated event rolled up once");

    let periods = [("2025-11-01", "2026-11-01", "2026-10-31"), ("2026-08-01", "2026-11-01", "2026-09-15")];
    let mut compared = 0;
    for (from, to, as_of) in periods {
        for kind in ["budget", "lifecycle", "funnel", "engagement", "accounts"] {
            let path = if kind == "accounts" { "accounts".to_owned() } else { format!("reports/{kind}") };
            let mut api = site.read(&format!("{path}?from={from}&to={to}&as_of={as_of}&limit=500"));
            let status = api.as_object_mut().and_then(|o| o.remove("data_status")).unwrap_or_default();
            assert_eq!(status["complete"], serde_json::json!(true), "{kind}: {status}");
            assert_eq!(status["pending_batches"], serde_json::json!(0), "{kind}: nothing pending after the rollup");
            let cli_out = daytwo(&[
                "report", kind, "--events", &events, "--spend", &spend, "--from", from, "--to", to, "--as-of", as_of,
                "--json",
            ]);
            let mut cli: Value = serde_json::from_str(&cli_out).unwrap_or_else(|e| panic!("{kind}: CLI JSON: {e}"));
            let offline = cli.as_object_mut().and_then(|o| o.remove("data_status")).unwrap_or_default();
            assert_eq!(offline["complete"], serde_json::json!(true), "{kind}: a file's report is complete");
            if let Some(diff) = first_difference(&api, &cli, kind) {
                panic!("{kind} {from}..{to} as of {as_of}: API and CLI differ at {diff}");
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 10);
    // The data is not trivial.
    let life = site.read("reports/lifecycle?as_of=2026-10-31");
    assert!(life["total"].as_u64() >= Some(60), "{life}");

    // CSV exports agree too.
    let (from, to, as_of) = periods[0];
    for kind in ["budget", "lifecycle", "funnel", "engagement", "accounts"] {
        let path = if kind == "accounts" { "accounts".to_owned() } else { format!("reports/{kind}") };
        let r =
            site.read_raw(&format!("{path}?from={from}&to={to}&as_of={as_of}&limit=500&format=csv"), &site.read_token);
        assert_eq!(r.status, 200, "{kind} CSV: {}", r.text());
        let cli = daytwo(&[
            "report", kind, "--events", &events, "--spend", &spend, "--from", from, "--to", to, "--as-of", as_of,
            "--csv",
        ]);
        assert_eq!(r.text(), cli, "{kind}: API and CLI CSV differ");
    }

    // The site's settings drive its reports: change them, and pass the same settings to the CLI.
    let settings =
        serde_json::json!({"lifecycle":{"new_customer_days":30,"lapse_days":120,"consideration_pageviews":2}});
    let r = site.admin("PUT", "", Some(&serde_json::json!({ "settings": settings })));
    assert_eq!(r.status, 200, "{}", r.text());
    let settings_file = dir.join("settings.json");
    std::fs::write(&settings_file, settings.to_string()).unwrap();
    let settings_path = settings_file.to_string_lossy().into_owned();
    let before_change: Value = serde_json::from_str(&daytwo(&[
        "report",
        "lifecycle",
        "--events",
        &events,
        "--from",
        from,
        "--to",
        to,
        "--as-of",
        as_of,
        "--json",
    ]))
    .unwrap();
    for kind in ["budget", "lifecycle", "funnel", "engagement", "accounts"] {
        let path = if kind == "accounts" { "accounts".to_owned() } else { format!("reports/{kind}") };
        let mut api = site.read(&format!("{path}?from={from}&to={to}&as_of={as_of}&limit=500"));
        api.as_object_mut().and_then(|o| o.remove("data_status"));
        let mut cli: Value = serde_json::from_str(&daytwo(&[
            "report",
            kind,
            "--events",
            &events,
            "--spend",
            &spend,
            "--from",
            from,
            "--to",
            to,
            "--as-of",
            as_of,
            "--settings",
            &settings_path,
            "--json",
        ]))
        .unwrap();
        cli.as_object_mut().and_then(|o| o.remove("data_status"));
        if let Some(diff) = first_difference(&api, &cli, kind) {
            panic!("{kind} with custom settings: API and CLI differ at {diff}");
        }
        if kind == "lifecycle" {
            assert_ne!(api["stages"], before_change["stages"], "the settings change moved no account between stages");
        }
    }
}
