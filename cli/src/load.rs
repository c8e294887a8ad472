//! Reading inputs for `daytwo report`: events are streamed line by line into the rollup state.

use crate::{input, render};
use daytwo_shared::config::Settings;
use daytwo_shared::data_status::DataStatus;
use daytwo_shared::message::{Body, IngestContext, Receipt, validate_body};
use daytwo_shared::money::Currency;
use daytwo_shared::query::{self, Format, Rendered, ReportKind, ReportQuery};
use daytwo_shared::report::{self, AccountQuery, Period};
use daytwo_shared::rollup::{Classifier, RollupState};
use daytwo_shared::spend::{SpendEntry, parse_spend_csv};
use daytwo_shared::time::Day;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;

#[derive(Debug)]
pub struct ReportArgs {
    pub kind: ReportKind,
    pub events: Vec<PathBuf>,
    pub spend: Option<PathBuf>,
    pub from: Day,
    pub to: Day,
    pub as_of: Day,
    pub settings: Option<PathBuf>,
    pub currency: String,
    pub skip_invalid: bool,
    /// JSON or CSV (the API's own output); `None` for the readable tables.
    pub format: Option<Format>,
}

/// Folds every message of NDJSON event files (one message or `{"batch":[…]}` per line; gzip or plain; `-`
/// for standard input) into a state. Each message's time is resolved the file's way
/// ([`Receipt::File`]): its own `receivedAt`, never the clock.
pub fn fold_files(
    paths: &[PathBuf],
    settings: &Settings,
    currency: &Currency,
    skip_invalid: bool,
) -> Result<(RollupState, u64, u64), String> {
    let classifier = Classifier::new(&settings.mapping);
    let mut state = RollupState::default();
    let ctx = IngestContext {
        receipt: Receipt::File,
        email_salt: "daytwo-offline",
        currency,
        settings: &settings.ingest,
        path_type: None,
        // The operator's own file: what the site's secret key would bring (`KeyKind`).
        via: daytwo_shared::message::KeyKind::Secret,
    };
    let (mut folded, mut skipped) = (0u64, 0u64);
    // A compact dedup set instead of the state's index: 8 bytes per message keeps a million events small.
    let mut seen: HashSet<u64> = HashSet::new();
    input::for_each_line(paths, |path, n, line| {
        let parsed = Body::from_text(line)
            .map_err(|e| e.to_string())
            .and_then(|b| validate_body(b, line.len(), &ctx).map_err(|e| format!("{} ({})", e, e.code())));
        match parsed {
            Ok(batch) => {
                for m in &batch.messages {
                    let mut h = DefaultHasher::new();
                    m.message_id.hash(&mut h);
                    if seen.insert(h.finish()) {
                        state.fold_unindexed(m, &classifier);
                        folded += 1;
                    }
                }
                Ok(())
            }
            Err(e) if skip_invalid => {
                skipped += 1;
                if skipped <= 5 {
                    eprintln!("daytwo: {}: line {n}: skipped: {e}", input::display(path));
                }
                Ok(())
            }
            Err(e) => Err(format!("{}: line {n}: {e}", input::display(path))),
        }
    })?;
    Ok((state, folded, skipped))
}

pub fn load_settings(path: Option<&PathBuf>) -> Result<Settings, String> {
    let Some(p) = path else { return Ok(Settings::default()) };
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
    Settings::from_json(&v).map_err(|e| format!("{}: {e}", p.display()))
}

pub fn load_spend(path: Option<&PathBuf>, currency: &Currency) -> Result<Vec<SpendEntry>, String> {
    let Some(p) = path else { return Ok(Vec::new()) };
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    parse_spend_csv(&text, currency).map_err(|e| format!("{}: {e}", p.display()))
}

pub fn run_report(a: &ReportArgs) -> Result<(), String> {
    if a.from >= a.to {
        return Err(format!("--from {} must be before --to {}", a.from, a.to));
    }
    let currency = Currency::parse(&a.currency).map_err(|e| format!("--currency: {e}"))?;
    let settings = load_settings(a.settings.as_ref())?;
    let ledger = load_spend(a.spend.as_ref(), &currency)?;
    let (state, folded, skipped) = fold_files(&a.events, &settings, &currency, a.skip_invalid)?;
    if skipped > 0 {
        eprintln!("daytwo: {folded} messages folded, {skipped} invalid lines skipped");
    }
    let accounts = state.into_accounts();
    let period = Period { from: a.from, to: a.to };
    let accounts_query = AccountQuery { limit: Some(report::MAX_PAGE), ..AccountQuery::default() };
    if let Some(format) = a.format {
        // Exactly what the Worker answers for the same query.
        let q = ReportQuery { period, as_of: a.as_of, format, accounts: accounts_query, table: Default::default() };
        let rendered = query::compute(a.kind, &accounts, &ledger, &settings, &currency, &q);
        // A file is read whole: its figures are complete by construction.
        match query::with_data_status(rendered, &DataStatus::offline()) {
            Rendered::Json(v) => println!("{}", serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?),
            Rendered::Csv(text) => print!("{text}"),
        }
        return Ok(());
    }
    let out = match a.kind {
        ReportKind::Budget => render::budget(&report::budget_report(&accounts, &ledger, &settings, &currency, period)),
        ReportKind::Funnel => render::funnel(&report::funnel_report(&accounts, &settings, period)),
        ReportKind::Lifecycle => {
            let ev = report::evaluate(&accounts, &settings, a.as_of);
            render::lifecycle(&report::lifecycle_report(&ev, a.as_of))
        }
        ReportKind::Engagement => {
            let ev = report::evaluate(&accounts, &settings, a.as_of);
            render::engagement(&report::engagement_report(&ev, &settings, a.as_of))
        }
        ReportKind::Accounts => {
            let ev = report::evaluate(&accounts, &settings, a.as_of);
            render::accounts(&report::account_page(&ev, &settings, a.as_of, &accounts_query), &currency)
        }
    };
    print!("{out}");
    Ok(())
}
