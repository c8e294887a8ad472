//! End-to-end tests of the `daytwo` binary: real files, real process, exit codes and outputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use daytwo_shared::config::Settings;
use daytwo_shared::message::{IngestContext, parse_value};
use daytwo_shared::money::Currency;
use daytwo_shared::report::{Period, budget_report, evaluate, lifecycle_report};
use daytwo_shared::rollup::{Classifier, RollupState};
use daytwo_shared::spend::parse_spend_csv;
use daytwo_shared::time::{Day, Timestamp};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn daytwo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_daytwo")).args(args).output().expect("run daytwo")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("daytwo-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn generate(dir: &Path, seed: &str) {
    let out = daytwo(&[
        "generate",
        "--seed",
        seed,
        "--accounts",
        "120",
        "--months",
        "12",
        "--end",
        "2026-11-01",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn generate_is_deterministic() {
    let (a, b, c) = (tmp("det-a"), tmp("det-b"), tmp("det-c"));
    generate(&a, "5");
    generate(&b, "5");
    generate(&c, "6");
    for f in ["events.ndjson", "spend.csv"] {
        let (x, y, z) =
            (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), std::fs::read(c.join(f)).unwrap());
        assert_eq!(x, y, "{f} differs between identical runs");
        assert!(!x.is_empty());
        if f == "events.ndjson" {
            assert_ne!(x, z, "a different seed gave the same events");
        }
    }
}

/// The CLI's JSON equals what the library computes from the same files: it is a thin shell.
#[test]
fn report_json_matches_the_library() {
    let dir = tmp("cross");
    generate(&dir, "9");
    let events = dir.join("events.ndjson");
    let spend = dir.join("spend.csv");
    let run = |kind: &str| {
        let out = daytwo(&[
            "report",
            kind,
            "--events",
            events.to_str().unwrap(),
            "--spend",
            spend.to_str().unwrap(),
            "--from",
            "2026-08-01",
            "--to",
            "2026-11-01",
            "--json",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let settings = Settings::default();
    let currency = Currency::default();
    let classifier = Classifier::new(&settings.mapping);
    let mut state = RollupState::default();
    let ctx = IngestContext {
        received_at: Timestamp::parse_rfc3339("2026-11-01T00:00:00Z").unwrap(),
        email_salt: "x",
        currency: &currency,
        settings: &settings.ingest,
        path_type: None,
        trust_received_at: true,
    };
    for line in std::fs::read_to_string(&events).unwrap().lines() {
        for m in parse_value(serde_json::from_str(line).unwrap(), &ctx).unwrap().messages {
            state.fold(&m, &classifier);
        }
    }
    let ledger = parse_spend_csv(&std::fs::read_to_string(&spend).unwrap(), &currency).unwrap();
    let accounts = state.accounts();
    let period = Period { from: Day::parse("2026-08-01").unwrap(), to: Day::parse("2026-11-01").unwrap() };
    let budget = serde_json::to_value(budget_report(&accounts, &ledger, &settings, &currency, period)).unwrap();
    assert_eq!(run("budget"), budget);
    let as_of = Day::parse("2026-10-31").unwrap();
    let lifecycle = serde_json::to_value(lifecycle_report(&evaluate(&accounts, &settings, as_of), as_of)).unwrap();
    assert_eq!(run("lifecycle"), lifecycle);
    // The generated site is realistic: customers exist and spend is split both ways.
    assert!(budget["acquisition"]["spend_minor"].as_i64().unwrap() > 0);
    assert!(budget["retention"]["spend_minor"].as_i64().unwrap() > 0);
    assert!(lifecycle["stages"]["active"].as_u64().unwrap() > 0);
}

#[test]
fn bad_input_fails_with_the_line_number() {
    let dir = tmp("bad");
    let events = dir.join("events.ndjson");
    std::fs::write(
        &events,
        "{\"type\":\"page\",\"anonymousId\":\"a\",\"timestamp\":\"2026-10-01T00:00:00Z\"}\n\n{\"type\":\"track\",\"userId\":\"u\"}\n",
    )
    .unwrap();
    let out = daytwo(&["report", "lifecycle", "--events", events.to_str().unwrap(), "--to", "2026-11-01"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("missing_event"), "{err}");

    let out = daytwo(&[
        "report",
        "lifecycle",
        "--events",
        events.to_str().unwrap(),
        "--to",
        "2026-11-01",
        "--skip-invalid",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stages"]["prospect"], 1);

    let spend = dir.join("spend.csv");
    std::fs::write(&spend, "from,to,channel,amount_minor,currency,purpose\n2026-10-01,2026-11-01,ads,100,USD,acquisition\n2026-10-01,2026-11-01,ads,-5,USD,acquisition\n").unwrap();
    let out = daytwo(&[
        "report",
        "budget",
        "--events",
        events.to_str().unwrap(),
        "--spend",
        spend.to_str().unwrap(),
        "--skip-invalid",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3"), "{err}");

    let out = daytwo(&[
        "report",
        "budget",
        "--events",
        events.to_str().unwrap(),
        "--from",
        "2026-11-01",
        "--to",
        "2026-10-01",
    ]);
    assert!(!out.status.success());
}

#[test]
fn csv_and_table_outputs() {
    let dir = tmp("csv");
    let events = dir.join("events.ndjson");
    std::fs::write(
        &events,
        "{\"type\":\"group\",\"userId\":\"u\",\"groupId\":\"=cmd|calc\",\"traits\":{\"name\":\"=HYPERLINK(1)\"},\"timestamp\":\"2026-10-01T00:00:00Z\"}\n",
    )
    .unwrap();
    let out = daytwo(&["report", "accounts", "--events", events.to_str().unwrap(), "--to", "2026-11-01", "--csv"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("id,name,stage,score"), "{text}");
    assert!(text.contains("'=HYPERLINK(1)"), "{text}");
    let out = daytwo(&["report", "lifecycle", "--events", events.to_str().unwrap(), "--to", "2026-11-01"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Lifecycle as of 2026-10-31 (1 accounts)") && text.contains("lead"), "{text}");
}
