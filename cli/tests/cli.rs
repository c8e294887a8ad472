//! End-to-end tests of the `daytwo` binary: real files, real process, exit codes and outputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use daytwo_shared::config::Settings;
use daytwo_shared::message::{IngestContext, Receipt, parse_value};
use daytwo_shared::money::Currency;
use daytwo_shared::report::{Period, budget_report, evaluate, lifecycle_report};
use daytwo_shared::rollup::{Classifier, RollupState};
use daytwo_shared::spend::parse_spend_csv;
use daytwo_shared::time::Day;
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
        let mut v = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
        // A file's report is complete by construction, and says so like the API's.
        let status = v.as_object_mut().unwrap().remove("data_status").unwrap();
        assert_eq!(status["complete"], serde_json::json!(true), "{status}");
        assert_eq!(status["notice"], serde_json::Value::Null, "{status}");
        v
    };
    let settings = Settings::default();
    let currency = Currency::default();
    let classifier = Classifier::new(&settings.mapping);
    let mut state = RollupState::default();
    let ctx = IngestContext {
        receipt: Receipt::File,
        email_salt: "x",
        currency: &currency,
        settings: &settings.ingest,
        path_type: None,
        via: daytwo_shared::message::KeyKind::Secret,
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

/// Generates the seed-4 site in one time shape into its own folder; returns the events file.
fn generate_shape(shape: &str) -> PathBuf {
    let dir = tmp(&format!("shape-{shape}"));
    let out = daytwo(&[
        "generate",
        "--seed",
        "4",
        "--accounts",
        "60",
        "--months",
        "12",
        "--end",
        "2026-11-01",
        "--time-shape",
        shape,
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir.join("events.ndjson")
}

fn report_json(kind: &str, events: &[&str], stdin: Option<&[u8]>) -> serde_json::Value {
    let mut args = vec!["report", kind, "--from", "2026-05-01", "--to", "2026-11-01", "--json", "--events"];
    args.extend(events);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_daytwo"));
    cmd.args(&args).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    cmd.stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let input = stdin.map(<[u8]>::to_vec).unwrap_or_default();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut pipe, &input));
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    assert!(out.status.success(), "{kind} {events:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every shape real sources write (`sentAt` beside `timestamp`, a slow device clock as Segment exports it,
/// `originalTimestamp` only, Segment's archive with the corrected `timestamp`) is the same history, and
/// `daytwo report` reads each the same: the clock is never taken as a file's receive time.
#[test]
fn every_time_shape_gives_the_same_reports() {
    let base = generate_shape("timestamp");
    let base_s = base.to_str().unwrap().to_owned();
    let want: Vec<serde_json::Value> =
        ["budget", "lifecycle", "accounts"].iter().map(|k| report_json(k, &[&base_s], None)).collect();
    // Not a vacuous comparison: the history has customers in the period.
    assert!(want[1]["stages"]["active"].as_u64() > Some(0), "{}", want[1]);
    assert!(want[0]["acquisition"]["new_customers"].as_u64() > Some(0), "{}", want[0]);
    for shape in ["sent-at", "skewed", "original", "archive"] {
        let events = generate_shape(shape);
        let text = std::fs::read_to_string(&events).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        let has = |f: &str| first.get(f).is_some();
        let expected_fields = match shape {
            "sent-at" => has("sentAt") && has("timestamp"),
            "skewed" => has("sentAt") && has("receivedAt") && has("timestamp"),
            "original" => has("originalTimestamp") && !has("timestamp"),
            _ => has("originalTimestamp") && has("timestamp") && has("receivedAt"),
        };
        assert!(expected_fields, "{shape}: unexpected first line {first}");
        assert_ne!(text, std::fs::read_to_string(&base).unwrap(), "{shape} wrote the same file");
        let events_s = events.to_str().unwrap().to_owned();
        for (i, kind) in ["budget", "lifecycle", "accounts"].iter().enumerate() {
            assert_eq!(report_json(kind, &[&events_s], None), want[i], "{shape}: {kind} differs");
        }
        if shape == "skewed" {
            // The correction is what makes it equal: without it (a window of 0 h) the figures move.
            let dir = events.parent().unwrap();
            let settings = dir.join("no-correction.json");
            std::fs::write(&settings, r#"{"ingest":{"max_clock_skew_hours":0}}"#).unwrap();
            let settings = settings.to_str().unwrap().to_owned();
            let uncorrected = report_json("accounts", &[&events_s, "--settings", &settings], None);
            assert_ne!(uncorrected, want[2], "an uncorrected 25-hour skew left the account list unchanged");
        }
    }
}

/// Event files as they exist: gzipped (Segment's archive writes `.gz`), split over several files, and piped
/// through standard input; all read as the one plain file is.
#[test]
fn gzip_several_files_and_stdin_read_as_one_file() {
    use std::io::Write;
    let events = generate_shape("archive");
    let text = std::fs::read_to_string(&events).unwrap();
    let dir = events.parent().unwrap().to_path_buf();
    let want = report_json("budget", &[events.to_str().unwrap()], None);
    // Gzipped, with a name that does not say so: recognised by its magic bytes.
    let gz = dir.join("archive.part");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();
    assert_eq!(report_json("budget", &[gz.to_str().unwrap()], None), want, "gzip");
    // Split in two files, the second gzipped.
    let lines: Vec<&str> = text.lines().collect();
    let (a, b) = lines.split_at(lines.len() / 2);
    let (fa, fb) = (dir.join("a.ndjson"), dir.join("b.ndjson.gz"));
    std::fs::write(&fa, a.join("\n")).unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b.join("\n").as_bytes()).unwrap();
    std::fs::write(&fb, e.finish().unwrap()).unwrap();
    assert_eq!(report_json("budget", &[fa.to_str().unwrap(), fb.to_str().unwrap()], None), want, "two files");
    // Standard input, plain, beside a file.
    assert_eq!(report_json("budget", &["-", fb.to_str().unwrap()], Some(a.join("\n").as_bytes())), want, "stdin");
    // A file with no time at all is refused with its line number, not dated by the clock.
    let undated = dir.join("undated.ndjson");
    std::fs::write(&undated, "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"x\"}\n").unwrap();
    let out = daytwo(&["report", "budget", "--events", undated.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1") && err.contains("missing_timestamp"), "{err}");
}
