//! Tests of the whole generator through [`generate`]: determinism, well-formed Segment calls, the group
//! context, the spend ledger, odd windows, bad options, whole-unit currencies, lifecycle coverage and the
//! engagement signals, plus a property test that any small window stays inside itself.

use super::catalogue::{IN_APP_EVENTS, VERSIONS};
use super::spend::SPEND_LINES;
use super::{GenerateOptions, GenerateSummary, TimeShape, generate};
use daytwo_shared::money::Currency;
use daytwo_shared::spend::{CSV_HEADER, parse_spend_csv};
use daytwo_shared::time::{Day, MS_PER_DAY, Timestamp};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::error::Error;
use std::io;

type TestResult = Result<(), Box<dyn Error>>;

fn opts(seed: u64, accounts: u32, months: u32) -> Result<GenerateOptions, Box<dyn Error>> {
    Ok(GenerateOptions {
        seed,
        accounts,
        months,
        end: Day::parse("2026-07-01")?,
        currency: "USD".into(),
        time_shape: TimeShape::Timestamp,
        in_app: 0,
    })
}

struct Output {
    events: Vec<u8>,
    spend: Vec<u8>,
    summary: GenerateSummary,
}

fn run(o: &GenerateOptions) -> Result<Output, Box<dyn Error>> {
    let (mut events, mut spend) = (Vec::new(), Vec::new());
    let summary = generate(o, &mut events, &mut spend)?;
    Ok(Output { events, spend, summary })
}

fn parse_lines(bytes: &[u8]) -> Result<Vec<Value>, Box<dyn Error>> {
    let text = std::str::from_utf8(bytes)?;
    text.lines().map(|l| serde_json::from_str(l).map_err(Into::into)).collect()
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str)
}

/// Account number from a messageId `g{seed}-{account}-{n}`.
fn account_of(v: &Value) -> Option<u32> {
    str_at(v, &["messageId"])?.split('-').nth(1)?.parse().ok()
}

const PURCHASE: [&str; 3] = ["Order Completed", "Subscription Started", "Contract Signed"];
const RENEWAL: [&str; 2] = ["Subscription Renewed", "Contract Renewed"];
const CHURN: [&str; 2] = ["Subscription Cancelled", "Account Churned"];
const ADVOCACY: [&str; 5] =
    ["Reference Given", "Referral Made", "Review Posted", "Community Post Created", "Advisory Board Joined"];

/// A message's (time, kind and event, user, anonymous id): what stays when message ids are renumbered.
type Beat = (String, String, String, String);

fn story(events: &[u8]) -> Result<Vec<Beat>, Box<dyn Error>> {
    let s = |v: &Value, k: &str| v.get(k).map(Value::to_string).unwrap_or_default();
    Ok(parse_lines(events)?
        .iter()
        .map(|v| (s(v, "timestamp"), format!("{}{}", s(v, "type"), s(v, "event")), s(v, "userId"), s(v, "anonymousId")))
        .collect())
}

#[test]
fn in_app_events_add_usage_after_each_sign_in_and_change_nothing_else() -> TestResult {
    let base = run(&opts(5, 40, 12)?)?;
    let busy = run(&GenerateOptions { in_app: 3, ..opts(5, 40, 12)? })?;
    let usage = |e: &Beat| IN_APP_EVENTS.iter().any(|n| e.1 == format!("\"track\"\"{n}\""));
    let (base, busy_story) = (story(&base.events)?, story(&busy.events)?);
    assert!(!base.iter().any(usage));
    let sign_ins = base.iter().filter(|e| e.1 == "\"track\"\"Signed In\"").count();
    assert!(sign_ins > 100, "{sign_ins} sign-ins");
    let added: Vec<_> = busy_story.iter().filter(|e| usage(e)).collect();
    assert_eq!(added.len(), 3 * sign_ins);
    assert_eq!(busy_story.iter().filter(|e| !usage(e)).cloned().collect::<Vec<_>>(), base);
    assert_eq!(busy.summary.events, (base.len() + added.len()) as u64);
    Ok(())
}

#[test]
fn same_options_same_bytes_other_seed_other_bytes() -> TestResult {
    let a = run(&opts(7, 60, 6)?)?;
    let b = run(&opts(7, 60, 6)?)?;
    assert!(!a.events.is_empty());
    assert_eq!(a.events, b.events);
    assert_eq!(a.spend, b.spend);
    assert_eq!(a.summary, b.summary);
    let c = run(&opts(8, 60, 6)?)?;
    assert_ne!(a.events, c.events);
    assert_ne!(a.spend, c.spend);
    Ok(())
}

#[test]
fn messages_are_well_formed_segment_calls() -> TestResult {
    let o = opts(3, 200, 12)?;
    let out = run(&o)?;
    let lines = parse_lines(&out.events)?;
    assert_eq!(lines.len() as u64, out.summary.events);
    assert_eq!(out.summary.first_day, Day::parse("2025-07-01")?);
    assert_eq!(out.summary.last_day, Day::parse("2026-06-30")?);
    let (lo, hi) = (out.summary.first_day.start(), o.end.start());
    let mut ids = HashSet::new();
    let mut users = HashSet::new();
    for v in &lines {
        let kind = str_at(v, &["type"]).ok_or("type")?;
        let id = str_at(v, &["messageId"]).ok_or("messageId")?;
        assert!(id.starts_with("g3-"), "{id}");
        assert!(ids.insert(id.to_owned()), "duplicate {id}");
        let ts = Timestamp::parse_rfc3339(str_at(v, &["timestamp"]).ok_or("timestamp")?)?;
        assert!(lo <= ts && ts < hi, "{v}");
        assert!(v.get("sentAt").is_none());
        let user = str_at(v, &["userId"]);
        assert!(user.is_some() || str_at(v, &["anonymousId"]).is_some(), "{v}");
        if let Some(u) = user {
            users.insert(u.to_owned());
        }
        match kind {
            "page" => assert!(str_at(v, &["properties", "path"]).is_some_and(|p| p.starts_with('/'))),
            "identify" => {
                let email = str_at(v, &["traits", "email"]).ok_or("email")?;
                assert!(email.contains('@') && email.ends_with(".example"), "{email}");
                assert!(str_at(v, &["anonymousId"]).is_some() && user.is_some());
            }
            "group" => {
                assert!(str_at(v, &["groupId"]).is_some_and(|g| g.starts_with("acct-")));
                assert!(v.pointer("/traits/employees").and_then(Value::as_u64).is_some());
            }
            "track" => {
                let event = str_at(v, &["event"]).ok_or("event")?;
                if let Some(r) = v.pointer("/properties/revenue") {
                    assert!(r.is_number() && r.as_f64().is_some_and(|x| x > 0.0), "{v}");
                    let text = r.to_string();
                    let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
                    assert!(decimals <= 2, "{text}");
                    assert_eq!(str_at(v, &["properties", "currency"]), Some("USD"));
                    assert!(PURCHASE.contains(&event) || RENEWAL.contains(&event), "{event}");
                }
                if PURCHASE.contains(&event) || RENEWAL.contains(&event) {
                    assert!(v.pointer("/properties/revenue").is_some(), "{v}");
                }
                if event == "Order Completed" {
                    assert!(str_at(v, &["properties", "order_id"]).is_some());
                }
                if let Some(g) = v.pointer("/context/groupId") {
                    assert!(g.as_str().is_some_and(|g| g.starts_with("acct-")));
                }
            }
            "alias" => assert!(str_at(v, &["previousId"]).is_some() && user.is_some()),
            other => panic!("unexpected type {other}"),
        }
    }
    assert_eq!(users.len() as u32, out.summary.users);
    Ok(())
}

#[test]
fn track_events_carry_the_group_only_after_the_group_call() -> TestResult {
    let out = run(&opts(11, 150, 12)?)?;
    let mut grouped: BTreeMap<String, String> = BTreeMap::new();
    let mut with_context = 0;
    for v in parse_lines(&out.events)? {
        let user = str_at(&v, &["userId"]).map(str::to_owned);
        match str_at(&v, &["type"]) {
            Some("group") => {
                let (u, g) = (user.ok_or("group without user")?, str_at(&v, &["groupId"]).ok_or("groupId")?);
                grouped.insert(u, g.to_owned());
            }
            Some("track") => {
                let expected = user.as_ref().and_then(|u| grouped.get(u)).map(String::as_str);
                assert_eq!(str_at(&v, &["context", "groupId"]), expected, "{v}");
                with_context += usize::from(expected.is_some());
            }
            _ => {}
        }
    }
    assert!(with_context > 100);
    Ok(())
}

#[test]
fn spend_ledger_is_valid_and_mostly_acquisition() -> TestResult {
    let o = opts(5, 200, 12)?;
    let out = run(&o)?;
    let text = String::from_utf8(out.spend)?;
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(CSV_HEADER.join(",").as_str()));
    let (mut acquisition, mut total) = (0.0, 0.0);
    let mut ids = HashSet::new();
    let mut rows = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 9, "{line}");
        assert!(ids.insert(f[0].to_owned()), "duplicate id {line}");
        assert!(f[0].starts_with("sp-20"), "{line}");
        let (from, to) = (Day::parse(f[1])?, Day::parse(f[2])?);
        assert!(from < to, "{line}");
        assert!(out.summary.first_day <= from && to <= o.end, "{line}");
        assert!(!f[3].is_empty() && !f[4].is_empty());
        let amount: i64 = f[5].parse()?;
        assert!(amount > 0, "{line}");
        assert_eq!(f[6], "USD");
        let share = match f[7] {
            "acquisition" => {
                assert_eq!(f[8], "");
                1.0
            }
            "retention" => {
                assert_eq!(f[8], "");
                0.0
            }
            "mixed" => {
                let pct: u32 = f[8].parse()?;
                assert!(pct <= 100);
                f64::from(pct) / 100.0
            }
            other => panic!("purpose {other}"),
        };
        acquisition += share * amount as f64;
        total += amount as f64;
        rows += 1;
    }
    assert_eq!(rows, out.summary.spend_entries);
    assert_eq!(rows, 12 * SPEND_LINES.len() as u32);
    // The upload format, by construction: the server's parser reads every entry back.
    assert_eq!(parse_spend_csv(&text, &Currency::parse("USD")?)?.len() as u32, rows);
    assert!(text.contains("sp-2026-01-search-brand,2026-01-01,2026-02-01,search-ads,q1-brand,"));
    let share = acquisition / total;
    assert!((0.65..=0.8).contains(&share), "acquisition share {share}");
    // Scales with accounts.
    let small = run(&opts(5, 20, 12)?)?;
    let sum = |b: &[u8]| -> i64 {
        String::from_utf8_lossy(b).lines().skip(1).filter_map(|l| l.split(',').nth(5)?.parse::<i64>().ok()).sum()
    };
    let (big_total, small_total) = (sum(text.as_bytes()), sum(&small.spend));
    assert!(big_total > 8 * small_total && big_total < 12 * small_total, "{big_total} vs {small_total}");
    Ok(())
}

#[test]
fn partial_months_and_odd_windows() -> TestResult {
    let o = GenerateOptions { end: Day::parse("2026-03-31")?, ..opts(1, 30, 1)? };
    let out = run(&o)?;
    assert_eq!(out.summary.first_day, Day::parse("2026-02-28")?);
    let text = String::from_utf8(out.spend)?;
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 2 * SPEND_LINES.len());
    assert!(rows[0].starts_with("sp-2026-02-search-brand,2026-02-28,2026-03-01,"), "{}", rows[0]);
    for v in parse_lines(&out.events)? {
        let ts = Timestamp::parse_rfc3339(str_at(&v, &["timestamp"]).ok_or("timestamp")?)?;
        assert!(out.summary.first_day.start() <= ts && ts < o.end.start());
    }
    Ok(())
}

#[test]
fn bad_options_are_refused() -> TestResult {
    let (mut e, mut s) = (Vec::new(), Vec::new());
    for bad in [opts(1, 5, 0)?, opts(1, 5, 1201)?, GenerateOptions { currency: "dollars".into(), ..opts(1, 5, 3)? }] {
        let err = generate(&bad, &mut e, &mut s).err().ok_or("accepted")?;
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
    let none = run(&opts(1, 0, 3)?)?;
    assert!(none.events.is_empty());
    assert_eq!(String::from_utf8(none.spend)?, format!("{}\r\n", CSV_HEADER.join(",")));
    Ok(())
}

#[test]
fn whole_unit_currencies_get_whole_revenue() -> TestResult {
    let o = GenerateOptions { currency: "jpy".into(), ..opts(2, 80, 12)? };
    let out = run(&o)?;
    let mut seen = 0;
    for v in parse_lines(&out.events)? {
        if let Some(r) = v.pointer("/properties/revenue") {
            assert!(r.is_u64(), "{r}");
            assert_eq!(str_at(&v, &["properties", "currency"]), Some("JPY"));
            seen += 1;
        }
    }
    assert!(seen > 0);
    Ok(())
}

/// The lifecycle really moves: every stage of the product is populated in a year of 200 accounts.
#[test]
fn a_year_of_200_accounts_covers_the_lifecycle() -> TestResult {
    let o = opts(42, 200, 12)?;
    let out = run(&o)?;
    let lines = parse_lines(&out.events)?;
    let mut names = BTreeSet::new();
    let mut types = BTreeSet::new();
    let mut by_account: BTreeMap<u32, Vec<&Value>> = BTreeMap::new();
    for v in &lines {
        types.insert(str_at(v, &["type"]).ok_or("type")?.to_owned());
        if let Some(e) = str_at(v, &["event"]) {
            names.insert(e.to_owned());
        }
        by_account.entry(account_of(v).ok_or("messageId")?).or_default().push(v);
    }
    for t in ["page", "identify", "group", "track", "alias"] {
        assert!(types.contains(t), "no {t} call");
    }
    let families: [&[&str]; 13] = [
        &["Signed Up", "Lead Captured", "Form Submitted", "Content Downloaded", "Demo Requested", "Trial Started"],
        &PURCHASE,
        &RENEWAL,
        &CHURN,
        &["Module Licensed"],
        &["Version Reported"],
        &["Support Case Opened"],
        &["Webinar Attended", "Event Attended"],
        &["Survey Sent"],
        &["Survey Responded"],
        &["Newsletter Opened", "Email Opened", "Content Viewed"],
        &ADVOCACY,
        &["Signed In"],
    ];
    for family in families {
        assert!(family.iter().any(|n| names.contains(*n)), "no event of {family:?}");
    }

    let end = o.end.start().0;
    let day_ms = MS_PER_DAY;
    let mut stages: BTreeMap<&str, u32> = BTreeMap::new();
    for events in by_account.values() {
        let mut purchases = Vec::new();
        let mut renewals = 0;
        let mut churned_at = None;
        let mut reactivated = false;
        let mut identified = false;
        let mut advocacy = false;
        let mut last_login = None;
        // Purchase, Renewal and Churn in time order, to find "bought, renewed, cancelled, bought again".
        let mut story = String::new();
        for v in events {
            let ts = Timestamp::parse_rfc3339(str_at(v, &["timestamp"]).ok_or("timestamp")?)?.0;
            identified |= v.get("userId").is_some();
            let Some(e) = str_at(v, &["event"]) else { continue };
            if PURCHASE.contains(&e) {
                story.push('P');
                reactivated |= churned_at.is_some();
                churned_at = None;
                purchases.push(ts);
            } else if RENEWAL.contains(&e) {
                story.push('R');
                renewals += 1;
                // The installed base shows up by its renewals (it bought before the window).
                if purchases.is_empty() {
                    purchases.push(ts);
                }
            } else if CHURN.contains(&e) {
                story.push('C');
                churned_at = Some(ts);
            } else if ADVOCACY.contains(&e) {
                advocacy = true;
            } else if e == "Signed In" {
                last_login = Some(ts);
            }
        }
        let stage = match purchases.first() {
            None if identified => "lead",
            None => "prospect",
            Some(_) if churned_at.is_some() => "lapsed",
            Some(first) if !reactivated && end - first < 90 * day_ms => "new customer",
            Some(_) if last_login.is_none_or(|l| end - l > 45 * day_ms) => "disengaged customer",
            Some(_) => "active customer",
        };
        *stages.entry(stage).or_default() += 1;
        if reactivated {
            *stages.entry("reactivated").or_default() += 1;
        }
        let full_circle = story
            .find('P')
            .and_then(|p| story[p..].find('R').map(|r| p + r))
            .and_then(|r| story[r..].find('C').map(|c| r + c).and_then(|c| story[c..].find('P')));
        if full_circle.is_some() {
            *stages.entry("bought, renewed, cancelled, bought again").or_default() += 1;
        }
        if advocacy {
            *stages.entry("advocate").or_default() += 1;
        }
        if renewals > 0 {
            *stages.entry("renewed").or_default() += 1;
        }
    }
    for stage in [
        "prospect",
        "lead",
        "new customer",
        "active customer",
        "disengaged customer",
        "lapsed",
        "reactivated",
        "advocate",
        "renewed",
        "bought, renewed, cancelled, bought again",
    ] {
        assert!(stages.get(stage).is_some_and(|n| *n > 0), "no {stage}: {stages:?}");
    }
    Ok(())
}

#[test]
fn engaged_customers_run_newer_versions_and_score_higher_nps() -> TestResult {
    let out = run(&opts(9, 300, 18)?)?;
    let mut latest_version: BTreeMap<u32, String> = BTreeMap::new();
    let mut logins: BTreeMap<u32, u32> = BTreeMap::new();
    let mut nps: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
    for v in parse_lines(&out.events)? {
        let a = account_of(&v).ok_or("messageId")?;
        match str_at(&v, &["event"]) {
            Some("Version Reported") => {
                latest_version.insert(a, str_at(&v, &["properties", "version"]).ok_or("version")?.to_owned());
            }
            Some("Signed In") => *logins.entry(a).or_default() += 1,
            Some("Survey Responded") => {
                let n = v.pointer("/properties/nps").and_then(Value::as_i64).ok_or("nps")?;
                assert!((0..=10).contains(&n));
                nps.entry(a).or_default().push(n);
            }
            _ => {}
        }
    }
    let mut ranked: Vec<(u32, u32)> = latest_version.keys().map(|a| (*logins.get(a).unwrap_or(&0), *a)).collect();
    ranked.sort_unstable();
    let half = ranked.len() / 2;
    assert!(half >= 5);
    let avg = |xs: &[(u32, u32)], f: &dyn Fn(u32) -> Option<f64>| {
        let v: Vec<f64> = xs.iter().filter_map(|(_, a)| f(*a)).collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let version = |a: u32| latest_version.get(&a).and_then(|v| VERSIONS.iter().position(|x| x == v)).map(|i| i as f64);
    let score = |a: u32| nps.get(&a).and_then(|v| v.last()).map(|n| *n as f64);
    let (low, high) = ranked.split_at(half);
    assert!(avg(high, &version) > avg(low, &version), "versions");
    assert!(avg(high, &score) > avg(low, &score), "nps");
    Ok(())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    #[test]
    fn any_small_window_stays_inside_it(seed in 0u64..1000, accounts in 0u32..25, months in 1u32..30,
                                       end in 11_000i32..25_000) {
        let o = GenerateOptions { seed, accounts, months, end: Day(end), currency: "EUR".into(), time_shape: TimeShape::default(), in_app: 0 };
        let (mut e, mut s) = (Vec::new(), Vec::new());
        let summary = generate(&o, &mut e, &mut s).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
        let lo = summary.first_day.start();
        let text = String::from_utf8_lossy(&e);
        let mut ids = HashSet::new();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let ts = str_at(&v, &["timestamp"]).map(Timestamp::parse_rfc3339);
            proptest::prop_assert!(matches!(ts, Some(Ok(t)) if lo <= t && t < o.end.start()), "{}", line);
            proptest::prop_assert!(ids.insert(str_at(&v, &["messageId"]).unwrap_or_default().to_owned()));
        }
        proptest::prop_assert_eq!(ids.len() as u64, summary.events);
        proptest::prop_assert!(summary.first_day < o.end);
    }
}
