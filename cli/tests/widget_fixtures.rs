//! The widget's test fixtures (`frontend/tests/fixtures/*.json`) are real answers of the API over a generated
//! site: `daytwo generate --seed 3 --accounts 80 --months 12 --end 2026-10-01`, each report computed by
//! `shared` exactly as the Worker computes it for the query the widget sends. This test fails when a committed
//! fixture differs from what it would write; `DAYTWO_WRITE_FIXTURES=1 cargo test -p daytwo-cli --test
//! widget_fixtures` rewrites them (`frontend/tests/fixtures/README.md`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use daytwo_shared::config::Settings;
use daytwo_shared::data_status::DataStatus;
use daytwo_shared::lifecycle::Stage;
use daytwo_shared::message::{IngestContext, KeyKind, Receipt, parse_value};
use daytwo_shared::money::Currency;
use daytwo_shared::query::{self, Rendered, ReportKind};
use daytwo_shared::report::VerdictKind;
use daytwo_shared::rollup::{AccountHistory, Classifier, RollupState};
use daytwo_shared::spend::{SpendEntry, parse_spend_csv};
use daytwo_shared::time::Day;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Each fixture: its file, what the widget requests (`budget`, … or `account/{id}`) and the query string.
const FIXTURES: [(&str, &str, &str); 11] = [
    ("budget.json", "budget", "from=2026-07-03&to=2026-10-01"),
    ("budget_q4_2025.json", "budget", "from=2025-10-01&to=2026-01-01"),
    ("budget_no_data.json", "budget", "from=2025-07-03&to=2025-10-01"),
    ("lifecycle.json", "lifecycle", "as_of=2026-09-30"),
    ("engagement.json", "engagement", "as_of=2026-09-30"),
    ("funnel.json", "funnel", "from=2026-07-03&to=2026-10-01"),
    ("at_risk.json", "accounts", "stage=at_risk&sort=score&limit=20&as_of=2026-09-30"),
    ("lapsed.json", "accounts", "stage=lapsed&sort=score&limit=20&as_of=2026-09-30"),
    ("accounts.json", "accounts", "sort=last_seen&limit=12&as_of=2026-09-30"),
    ("account_detail.json", "account/g:acct-0039", "as_of=2026-09-30"),
    ("prospect_detail.json", "account/a:006aba7b-ac5d-478f-9bb0-e796f004ecdf", "as_of=2026-09-30"),
];

/// The day the queries are answered on (their defaults count from it).
const TODAY: &str = "2026-09-30";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/tests/fixtures")
}

/// The generated site's accounts and spend ledger, folded as `daytwo report` folds them.
fn site() -> (Vec<AccountHistory>, Vec<SpendEntry>) {
    let dir = std::env::temp_dir().join(format!("daytwo-widget-fixtures-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_daytwo"))
        .args(["generate", "--seed", "3", "--accounts", "80", "--months", "12", "--end", "2026-10-01", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let settings = Settings::default();
    let currency = Currency::default();
    let ctx = IngestContext {
        receipt: Receipt::File,
        email_salt: "daytwo-offline",
        currency: &currency,
        settings: &settings.ingest,
        path_type: None,
        via: KeyKind::Secret,
    };
    let classifier = Classifier::new(&settings.mapping);
    let mut state = RollupState::default();
    for line in std::fs::read_to_string(dir.join("events.ndjson")).unwrap().lines() {
        for m in parse_value(serde_json::from_str(line).unwrap(), &ctx).unwrap().messages {
            state.fold(&m, &classifier);
        }
    }
    let ledger = parse_spend_csv(&std::fs::read_to_string(dir.join("spend.csv")).unwrap(), &currency).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (state.accounts(), ledger)
}

/// The API's answer to `what?query` on [`TODAY`], with the `data_status` of complete figures.
fn answer(accounts: &[AccountHistory], ledger: &[SpendEntry], what: &str, query: &str) -> Value {
    let pairs: Vec<(String, String)> =
        query.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    let q = query::parse_query(&pairs, Day::parse(TODAY).unwrap()).unwrap();
    let settings = Settings::default();
    let rendered = match what.strip_prefix("account/") {
        Some(id) => Rendered::Json(query::account_detail(accounts, &settings, id, q.as_of).expect("a known account")),
        None => {
            let kind = ReportKind::from_name(what).unwrap();
            query::compute(kind, accounts, ledger, &settings, &Currency::default(), &q)
        }
    };
    match query::with_data_status(rendered, &DataStatus::offline()) {
        Rendered::Json(v) => v,
        Rendered::Csv(_) => unreachable!("the queries ask for JSON"),
    }
}

#[test]
fn widget_fixtures_are_what_the_api_answers_on_the_generated_site() {
    let (accounts, ledger) = site();
    let write = std::env::var_os("DAYTWO_WRITE_FIXTURES").is_some();
    let mut stale = Vec::new();
    let mut stages = Vec::new();
    let mut verdicts = Vec::new();
    for (file, what, query) in FIXTURES {
        let v = answer(&accounts, &ledger, what, query);
        for a in v["accounts"].as_array().into_iter().flatten() {
            stages.push(a["stage"].as_str().unwrap().to_owned());
        }
        if let Some(kind) = v["verdict"]["kind"].as_str() {
            verdicts.push(kind.to_owned());
        }
        let text = serde_json::to_string_pretty(&v).unwrap() + "\n";
        let path = fixtures_dir().join(file);
        if write {
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "fixtures differ from the API's answers: {stale:?}; rewrite them with \
         `DAYTWO_WRITE_FIXTURES=1 cargo test -p daytwo-cli --test widget_fixtures` and review the diff"
    );
    // More than one variant each: the account lists show every stage, the budgets three verdicts.
    for stage in Stage::ALL {
        assert!(stages.iter().any(|s| s == stage.as_str()), "no fixture shows a {stage:?} account");
    }
    let kinds: Vec<&str> =
        VerdictKind::ALL.iter().map(|k| k.as_str()).filter(|k| verdicts.iter().any(|v| v == k)).collect();
    assert!(kinds.len() >= 3, "the budget fixtures show only {kinds:?}");
    // Nothing else lies in the folder but its README.
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|(f, _, _)| (*f).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "a fixture no command writes");
}
