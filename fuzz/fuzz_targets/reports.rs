//! Every report from arbitrary events and ledgers (`daytwo_shared::query::compute`, as the CLI and the
//! Worker call it).
//!
//! The input is structured (`arbitrary`): messages over small alphabets of ids and event names, on days in a
//! window of about eight months, with revenue; a spend ledger; a few settings within their valid ranges; two
//! periods with their `as_of` days; what-if positions. The messages are validated like a file's lines
//! and folded into a `RollupState`; then, for each period, every report in JSON and CSV. Properties:
//! - no panic (the fuzz build has overflow checks on, so an arithmetic overflow is one);
//! - no NaN or infinity anywhere in a report (checked on the typed reports, since JSON writes them as null);
//! - shares, rates and normalised averages within 0..=1, their deltas within -1..=1, scores within 0..=100,
//!   counts that add up (stages to the total, bands and the histogram to the customers);
//! - the typed reports (the CLI's tables) serialise to exactly the JSON `compute` gives (the API's);
//! - the sums-by-contribution path (`AccountEntry` per account, their `SiteTotals`, then
//!   `ReportBuilder::from_totals`, the Worker's read model) gives the same JSON as folding every account,
//!   also after removing some accounts' entries and adding them back;
//! - every what-if position is clamped to its bounds, moves no more than a side has, and keeps its shares
//!   within 0..=1.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use daytwo_shared::config::Settings;
use daytwo_shared::contribution::{AccountEntry, SiteTotals};
use daytwo_shared::message::{IngestContext, KeyKind, Message, Receipt, parse_value};
use daytwo_shared::money::{Currency, MAX_ABS_MINOR};
use daytwo_shared::query::{Format, Rendered, ReportBuilder, ReportKind, ReportQuery, account_detail_of, compute};
use daytwo_shared::report::{self, AccountQuery, AccountSort, Period, basis_points_of_pct, what_if_at, what_if_bounds};
use daytwo_shared::rollup::{AccountHistory, Classifier, RollupState};
use daytwo_shared::spend::{Purpose, SpendEntry};
use daytwo_shared::time::{Day, MS_PER_DAY};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use std::fmt::Debug;

/// 2026-01-01: the first day of the window the events fall in.
const BASE: Day = Day(20_454);

const EVENTS: [&str; 16] = [
    "Order Completed",
    "Subscription Renewed",
    "Subscription Cancelled",
    "Signed Up",
    "Demo Requested",
    "Content Downloaded",
    "Module Licensed",
    "Version Reported",
    "Survey Responded",
    "Webinar Attended",
    "Logged In",
    "Support Case Opened",
    "Reference Given",
    "Newsletter Opened",
    "Event Attended",
    "Something Else",
];
const PATHS: [&str; 4] = ["/pricing", "/", "/blog/post", "/request-demo"];
const MODULES: [&str; 4] = ["core", "crm", "billing", "unknown"];
const VERSIONS: [&str; 4] = ["4.2", "3.0", "4.1", "9.9"];
const CHANNELS: [&str; 4] = ["search", "email", "events", "=cmd"];

#[derive(Arbitrary, Debug)]
enum Kind {
    Page(u8),
    Identify,
    Group,
    Alias,
    Track(u8),
}

#[derive(Arbitrary, Debug)]
struct Event {
    id: u8,
    user: Option<u8>,
    anonymous: u8,
    group: Option<u8>,
    kind: Kind,
    day: u8,
    minute: u16,
    /// Minor units; most events carry none.
    revenue: Option<u32>,
    value: u8,
    secret_key: bool,
}

#[derive(Arbitrary, Debug)]
struct Spend {
    from: i8,
    days: u16,
    channel: u8,
    campaign: u8,
    amount: u64,
    purpose: u8,
    pct: u8,
}

#[derive(Arbitrary, Debug)]
struct View {
    from: u8,
    days: u8,
    as_of: i16,
    sort: u8,
    stage: u8,
    limit: u8,
}

#[derive(Arbitrary, Debug)]
struct Knobs {
    lapse_days: u16,
    new_customer_days: u16,
    window_days: u16,
    trend_days: u8,
    engaged_min: u8,
    neutral_min: u8,
    secret_only: bool,
    tolerance_points: u8,
    what_if_pct: i8,
}

#[derive(Arbitrary, Debug)]
struct Input {
    events: Vec<Event>,
    spend: Vec<Spend>,
    knobs: Knobs,
    views: [View; 2],
    positions: Vec<i16>,
    removed: u64,
}

fn message_json(e: &Event) -> Value {
    let at = BASE.start().0 + i64::from(e.day) * MS_PER_DAY + i64::from(e.minute % 1440) * 60_000;
    let at = daytwo_shared::time::Timestamp(at).to_rfc3339();
    let mut v = json!({
        "messageId": format!("m{}", e.id % 48),
        "anonymousId": format!("a{}", e.anonymous % 6),
        "timestamp": at,
    });
    if let Some(u) = e.user {
        v["userId"] = json!(format!("u{}", u % 5));
    }
    if let Some(g) = e.group {
        v["context"] = json!({"groupId": format!("g{}", g % 3)});
    }
    match &e.kind {
        Kind::Page(p) => {
            v["type"] = json!("page");
            v["properties"] = json!({"path": PATHS[usize::from(*p) % PATHS.len()]});
        }
        Kind::Identify => {
            v["type"] = json!("identify");
            v["traits"] =
                json!({"email": format!("p{}@example.com", e.value % 4), "name": format!("P{}", e.value % 4)});
        }
        Kind::Group => {
            v["type"] = json!("group");
            v["groupId"] = json!(format!("g{}", e.value % 3));
            v["traits"] = json!({"name": format!("Company {}", e.value % 3)});
        }
        Kind::Alias => {
            v["type"] = json!("alias");
            v["previousId"] = json!(format!("a{}", e.value % 6));
            v["userId"] = json!(format!("u{}", e.user.unwrap_or(0) % 5));
        }
        Kind::Track(n) => {
            v["type"] = json!("track");
            v["event"] = json!(EVENTS[usize::from(*n) % EVENTS.len()]);
            let i = usize::from(e.value) % 4;
            let mut props = json!({"nps": e.value % 12, "module": MODULES[i], "version": VERSIONS[i]});
            if let Some(r) = e.revenue {
                props["revenue"] = json!(f64::from(r) / 100.0);
            }
            v["properties"] = props;
        }
    }
    v
}

fn fold(events: &[Event], settings: &Settings, currency: &Currency) -> Vec<AccountHistory> {
    let classifier = Classifier::new(&settings.mapping);
    let mut state = RollupState::default();
    for e in events {
        let ctx = IngestContext {
            receipt: Receipt::File,
            email_salt: "fuzz",
            currency,
            settings: &settings.ingest,
            path_type: None,
            via: if e.secret_key { KeyKind::Secret } else { KeyKind::Public },
        };
        let parsed = parse_value(message_json(e), &ctx).unwrap_or_else(|err| panic!("{err} {e:?}"));
        let messages: &[Message] = &parsed.messages;
        for m in messages {
            state.fold(m, &classifier);
        }
    }
    state.into_accounts()
}

fn ledger(spend: &[Spend], currency: &Currency) -> Vec<SpendEntry> {
    spend
        .iter()
        .map(|s| {
            let from = BASE.plus(i32::from(s.from) * 2);
            let purpose = match s.purpose % 3 {
                0 => Purpose::Acquisition,
                1 => Purpose::Retention,
                _ => Purpose::Mixed { acquisition_pct: s.pct % 101 },
            };
            let mut e = SpendEntry {
                id: String::new(),
                from,
                to: from.plus(1 + i32::from(s.days % 400)),
                channel: CHANNELS[usize::from(s.channel) % CHANNELS.len()].to_owned(),
                campaign: format!("c{}", s.campaign % 3),
                amount_minor: i64::try_from(s.amount % (MAX_ABS_MINOR as u64 + 1)).unwrap_or(0),
                currency: currency.clone(),
                purpose,
            };
            e.id = e.derived_id();
            e
        })
        .collect()
}

fn settings(k: &Knobs) -> Option<Settings> {
    let mut s = Settings::default();
    s.lifecycle.lapse_days = 1 + i32::from(k.lapse_days % 400);
    s.lifecycle.new_customer_days = 1 + i32::from(k.new_customer_days % 200);
    s.engagement.window_days = 1 + i32::from(k.window_days % 200);
    s.engagement.trend_days = 1 + i32::from(k.trend_days);
    s.engagement.engaged_min = k.engaged_min;
    s.engagement.neutral_min = k.neutral_min;
    s.trust.lifecycle_events_need_secret_key = k.secret_only;
    s.budget.tolerance_points = f64::from(k.tolerance_points % 101);
    s.budget.what_if_pct = f64::from(k.what_if_pct) / 2.0;
    s.validate().ok().map(|()| s)
}

/// `Debug` writes non-finite floats as `NaN`, `inf` and `-inf`: none may appear outside string literals.
fn assert_finite(what: &str, report: &impl Debug) {
    let text = format!("{report:?}");
    let mut outside = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '"' {
            // Skip a string literal (Debug escapes `"` and `\` inside it).
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' => break,
                    _ => {}
                }
            }
            outside.push('"');
        } else {
            outside.push(c);
        }
    }
    for word in outside.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        assert!(!matches!(word, "NaN" | "inf"), "{what}: non-finite number in {text}");
    }
}

fn in_range(v: &Value, lo: f64, hi: f64) -> bool {
    v.is_null() || v.as_f64().is_some_and(|x| (lo..=hi).contains(&x))
}

/// Shares, rates and averages within their ranges, anywhere in a report's JSON.
fn assert_ranges(v: &Value, parent: &str) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let share = k.contains("share")
                    || k.ends_with("_rate")
                    || k.starts_with("average_normalised")
                    || k == "moved_pct_of_total"
                    || parent == "conversion";
                if parent == "deltas" {
                    if share {
                        assert!(in_range(x, -1.0, 1.0), "deltas.{k} = {x}");
                    }
                } else if share {
                    assert!(in_range(x, 0.0, 1.0), "{parent}.{k} = {x}");
                } else if k == "score" || k == "average_score" {
                    assert!(in_range(x, 0.0, 100.0), "{parent}.{k} = {x}");
                }
                assert_ranges(x, k);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| assert_ranges(i, parent)),
        _ => {}
    }
}

fn json_of<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| panic!("{e}"))
}

fn rendered_json(r: Rendered) -> Value {
    match r {
        Rendered::Json(v) => v,
        Rendered::Csv(_) => panic!("asked for JSON"),
    }
}

fn check_view(
    accounts: &[AccountHistory],
    entries_of: &dyn Fn(Day, Period) -> Vec<AccountEntry>,
    ledger: &[SpendEntry],
    settings: &Settings,
    currency: &Currency,
    view: &View,
    input: &Input,
) {
    let period = Period {
        from: BASE.plus(i32::from(view.from)),
        to: BASE.plus(i32::from(view.from) + 1 + i32::from(view.days)),
    };
    let as_of = period.last_day().plus(i32::from(view.as_of % 200));
    let stages = [None, Some("prospect"), Some("active"), Some("at_risk"), Some("lapsed")];
    let sorts =
        [AccountSort::Score, AccountSort::ScoreDesc, AccountSort::Revenue, AccountSort::LastSeen, AccountSort::Name];
    let accounts_query = AccountQuery {
        stage: stages[usize::from(view.stage) % stages.len()].and_then(|s| serde_json::from_value(json!(s)).ok()),
        sort: sorts[usize::from(view.sort) % sorts.len()],
        limit: Some(1 + usize::from(view.limit % 20)),
        ..AccountQuery::default()
    };
    let q = ReportQuery { period, as_of, format: Format::Json, accounts: accounts_query, table: Default::default() };
    let csv_q = ReportQuery { format: Format::Csv, ..q.clone() };

    // The typed reports: what the CLI's tables show.
    let evaluated = report::evaluate(accounts, settings, as_of);
    let budget = report::budget_report(accounts, ledger, settings, currency, period);
    let funnel = report::funnel_report(accounts, settings, period);
    let lifecycle = report::lifecycle_report(&evaluated, as_of);
    let engagement = report::engagement_report(&evaluated, settings, as_of);
    let page = report::account_page(&evaluated, settings, as_of, &q.accounts);
    assert_finite("budget", &budget);
    assert_finite("funnel", &funnel);
    assert_finite("engagement", &engagement);
    assert_finite("accounts", &page);
    let s = &lifecycle.stages;
    assert_eq!(s.prospect + s.lead + s.new_customer + s.active + s.at_risk + s.lapsed, lifecycle.total);
    let b = &engagement.bands;
    assert_eq!(b.engaged + b.neutral + b.disengaged, engagement.customers);
    assert_eq!(engagement.histogram.iter().sum::<u64>(), engagement.customers);
    let f = &funnel;
    assert!(f.awareness >= f.consideration && f.consideration >= f.lead && f.lead >= f.purchase, "{f:?}");

    let entries = entries_of(as_of, period);
    let mut totals = SiteTotals::default();
    entries.iter().for_each(|e| totals.add(e, 1));
    let mut churned = totals.clone();
    let removed: Vec<&AccountEntry> =
        entries.iter().enumerate().filter(|(i, _)| input.removed >> (i % 64) & 1 == 1).map(|(_, e)| e).collect();
    removed.iter().for_each(|e| churned.add(e, -1));
    removed.iter().for_each(|e| churned.add(e, 1));
    assert_eq!(churned, totals, "removing entries and adding them back changed the totals");

    let typed = [
        (ReportKind::Budget, json_of(&budget)),
        (ReportKind::Funnel, json_of(&funnel)),
        (ReportKind::Lifecycle, json_of(&lifecycle)),
        (ReportKind::Engagement, json_of(&engagement)),
        (ReportKind::Accounts, json_of(&page)),
    ];
    for (kind, typed) in typed {
        let full = rendered_json(compute(kind, accounts, ledger, settings, currency, &q));
        assert_eq!(full, typed, "{kind:?}: the typed report and compute differ");
        assert_ranges(&full, "");
        if kind != ReportKind::Accounts {
            let by_parts =
                rendered_json(ReportBuilder::from_totals(kind, settings, &q, totals.clone()).finish(ledger, currency));
            assert_eq!(by_parts, full, "{kind:?}: the sums of contributions and the full fold differ");
        }
        match compute(kind, accounts, ledger, settings, currency, &csv_q) {
            Rendered::Csv(text) => assert!(text.ends_with("\r\n"), "{kind:?}: {text}"),
            Rendered::Json(_) => panic!("asked for CSV"),
        }
    }

    let (lo, hi) = what_if_bounds(&budget.current);
    assert!(lo <= 0 && 0 <= hi && lo >= -10_000 && hi <= 10_000, "{lo}..{hi}");
    let verdict_position = basis_points_of_pct(settings.budget.what_if_pct);
    for position in input.positions.iter().map(|p| i32::from(*p)).chain([verdict_position, lo, hi]) {
        let w = what_if_at(&budget.current, position, settings.budget.tolerance_points);
        assert_finite("what-if", &w);
        assert!((lo..=hi).contains(&w.position_bp), "{position} → {}", w.position_bp);
        let side = if w.signed_moved_minor() >= 0 {
            &budget.current.acquisition.spend_minor
        } else {
            &budget.current.retention.spend_minor
        };
        assert!(w.moved_minor <= *side, "{w:?}");
        assert_ranges(&json_of(&w), "what_if");
        for share in [w.retention_share(), w.existing_revenue_share()].into_iter().flatten() {
            assert!((0.0..=1.0).contains(&share), "{w:?}");
        }
    }

    for h in accounts.iter().take(8) {
        if let Some(detail) = account_detail_of(h, settings, as_of) {
            assert_ranges(&detail, "");
        }
    }
}

fn check(input: Input) {
    let Some(settings) = settings(&input.knobs) else { return };
    let currency = Currency::default();
    let accounts = fold(&input.events, &settings, &currency);
    let ledger = ledger(&input.spend, &currency);
    let entries_of = |as_of: Day, period: Period| -> Vec<AccountEntry> {
        accounts.iter().map(|h| AccountEntry::of(h, &settings, as_of, period)).collect()
    };
    for view in &input.views {
        check_view(&accounts, &entries_of, &ledger, &settings, &currency, view, &input);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) {
        check(input);
    }
});
