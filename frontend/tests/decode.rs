//! The widget's report decoders, natively (no browser): read through the `serde_json::Value` source, they
//! must give exactly what serde's derived `Deserialize` gives. `cargo test -p daytwo-widget`.
//!
//! - generated reports of every variant and optional field decode to themselves;
//! - a report damaged in one place (a key removed, a value made `null`, text, a fraction…) is refused by
//!   both or decoded alike, and a refusal names the damaged field;
//! - the fixtures (`tests/fixtures/README.md`) decode as serde decodes them.
//!
//! `tests/components.rs` runs the fixtures through the browser's `JSON.parse` source as well.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod strategies;

use daytwo_shared::report::{
    AccountDetail, AccountPage, BudgetReport, EngagementReport, FunnelReport, LifecycleReport,
};
use daytwo_widget::services::decode::{Decode, decode_with_notice, error_fields_of};
use proptest::prelude::*;
use proptest::sample::Index;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::fmt::Debug;
use std::path::Path;

/// The widget's decoder over a parsed JSON value.
fn decode<T: Decode>(v: &Value) -> Result<T, String> {
    T::decode(&Some(v))
}

/// Writes `report` as the API does, parses the text as the browser would, and decodes it both ways.
fn decodes_to_itself<T>(report: &T) -> Result<(), TestCaseError>
where
    T: Decode + Serialize + DeserializeOwned + PartialEq + Debug,
{
    let text = serde_json::to_string(report).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    let decoded: T = decode(&value).map_err(TestCaseError::fail)?;
    prop_assert_eq!(&decoded, report);
    prop_assert_eq!(decoded, serde_json::from_str::<T>(&text).unwrap());
    Ok(())
}

proptest! {
    #[test]
    fn budget_reports_decode_to_themselves(r in strategies::budget()) {
        decodes_to_itself(&r)?;
    }

    #[test]
    fn lifecycle_reports_decode_to_themselves(r in strategies::lifecycle()) {
        decodes_to_itself(&r)?;
    }

    #[test]
    fn engagement_reports_decode_to_themselves(r in strategies::engagement()) {
        decodes_to_itself(&r)?;
    }

    #[test]
    fn funnel_reports_decode_to_themselves(r in strategies::funnel()) {
        decodes_to_itself(&r)?;
    }

    #[test]
    fn account_pages_decode_to_themselves(r in strategies::page()) {
        decodes_to_itself(&r)?;
    }

    #[test]
    fn account_details_decode_to_themselves(r in strategies::detail()) {
        decodes_to_itself(&r)?;
    }
}

/// One step into a JSON value.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Item(usize),
}

/// The path of every value inside `v` (not `v` itself).
fn paths(v: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    let children: Vec<(Step, &Value)> = match v {
        Value::Object(o) => o.iter().map(|(k, c)| (Step::Key(k.clone()), c)).collect(),
        Value::Array(a) => a.iter().enumerate().map(|(i, c)| (Step::Item(i), c)).collect(),
        _ => Vec::new(),
    };
    for (step, child) in children {
        at.push(step);
        out.push(at.clone());
        paths(child, at, out);
        at.pop();
    }
}

fn at_mut<'v>(v: &'v mut Value, path: &[Step]) -> &'v mut Value {
    path.iter().fold(v, |v, step| match step {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Item(i) => &mut v[*i],
    })
}

/// What one place of a report is made into. Only values the browser reads as the API wrote them: no integers
/// beyond 2^53 (JavaScript numbers cannot hold them) and no whole numbers written as `7.0` (`JSON.parse`
/// cannot tell them from `7`, serde refuses them for integer fields).
#[derive(Clone, Copy, Debug)]
enum Damage {
    Removed,
    Null,
    Text,
    Fraction,
    Negative,
    Flag,
    EmptyObject,
}

fn damage() -> impl Strategy<Value = Damage> {
    use Damage::*;
    proptest::sample::select(vec![Removed, Null, Text, Fraction, Negative, Flag, EmptyObject])
}

/// Damages `report` at one place and checks the decoder and serde agree: both refuse, or both give the same
/// value. A refusal names the damaged field (the last key of its path).
fn damaged_alike<T>(report: &T, place: Index, damage: Damage) -> Result<(), TestCaseError>
where
    T: Decode + Serialize + DeserializeOwned + PartialEq + Debug,
{
    let mut value = serde_json::to_value(report).unwrap();
    let mut all = Vec::new();
    paths(&value, &mut Vec::new(), &mut all);
    let path = place.get(&all).clone();
    let (last, parent) = path.split_last().unwrap();
    match damage {
        Damage::Removed => match (at_mut(&mut value, parent), last) {
            (Value::Object(o), Step::Key(k)) => drop(o.remove(k)),
            (Value::Array(a), Step::Item(i)) => drop(a.remove(*i)),
            _ => unreachable!("a path's parent holds its last step"),
        },
        Damage::Null => *at_mut(&mut value, &path) = Value::Null,
        Damage::Text => *at_mut(&mut value, &path) = json!("x"),
        Damage::Fraction => *at_mut(&mut value, &path) = json!(0.5),
        Damage::Negative => *at_mut(&mut value, &path) = json!(-1),
        Damage::Flag => *at_mut(&mut value, &path) = json!(true),
        Damage::EmptyObject => *at_mut(&mut value, &path) = json!({}),
    }
    // Through text, as the browser receives it.
    let text = value.to_string();
    let value: Value = serde_json::from_str(&text).unwrap();
    let decoded = decode::<T>(&value);
    let by_serde = serde_json::from_str::<T>(&text);
    match (&decoded, &by_serde) {
        (Ok(d), Ok(s)) => prop_assert_eq!(d, s),
        (Err(e), Err(_)) => {
            if let Some(key) = path.iter().rev().find_map(|s| if let Step::Key(k) = s { Some(k) } else { None }) {
                prop_assert!(e.contains(key.as_str()), "{e} does not name {key} ({path:?}, {damage:?})");
            }
        }
        _ => prop_assert!(false, "{path:?} {damage:?}: decoder {decoded:?}, serde {by_serde:?}"),
    }
    Ok(())
}

proptest! {
    #[test]
    fn damaged_budget_reports_are_read_as_serde_reads_them(
        r in strategies::budget(), place in any::<Index>(), d in damage(),
    ) {
        damaged_alike(&r, place, d)?;
    }

    #[test]
    fn damaged_lifecycle_reports_are_read_as_serde_reads_them(
        r in strategies::lifecycle(), place in any::<Index>(), d in damage(),
    ) {
        damaged_alike(&r, place, d)?;
    }

    #[test]
    fn damaged_engagement_reports_are_read_as_serde_reads_them(
        r in strategies::engagement(), place in any::<Index>(), d in damage(),
    ) {
        damaged_alike(&r, place, d)?;
    }

    #[test]
    fn damaged_account_pages_are_read_as_serde_reads_them(
        r in strategies::page(), place in any::<Index>(), d in damage(),
    ) {
        damaged_alike(&r, place, d)?;
    }

    #[test]
    fn damaged_account_details_are_read_as_serde_reads_them(
        r in strategies::detail(), place in any::<Index>(), d in damage(),
    ) {
        damaged_alike(&r, place, d)?;
    }
}

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

/// Checks one fixture file.
type CheckFixture = fn(&str);

fn agrees<T: Decode + DeserializeOwned + PartialEq + Debug>(name: &str) {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    let decoded: T = decode(&value).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(decoded, serde_json::from_str::<T>(&text).unwrap(), "{name}");
}

/// The fixtures are real reports, regenerated by command (`tests/fixtures/README.md`): each decodes as serde
/// decodes it, and none is left out.
#[test]
fn fixtures_decode_as_serde_decodes_them() {
    let checks: [(&str, CheckFixture); 11] = [
        ("budget.json", agrees::<BudgetReport>),
        ("budget_q4_2025.json", agrees::<BudgetReport>),
        ("budget_no_data.json", agrees::<BudgetReport>),
        ("lifecycle.json", agrees::<LifecycleReport>),
        ("engagement.json", agrees::<EngagementReport>),
        ("funnel.json", agrees::<FunnelReport>),
        ("at_risk.json", agrees::<AccountPage>),
        ("lapsed.json", agrees::<AccountPage>),
        ("accounts.json", agrees::<AccountPage>),
        ("account_detail.json", agrees::<AccountDetail>),
        ("prospect_detail.json", agrees::<AccountDetail>),
    ];
    for (name, check) in checks {
        check(name);
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = checks.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every fixture is checked");
}

#[test]
fn unknown_keys_are_ignored_and_nulls_read_as_none() {
    let text = std::fs::read_to_string(fixtures().join("budget.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["tail"] = json!({"keys": 3, "truncated": false});
    v["acquisition"]["cac_minor"] = Value::Null;
    let report: BudgetReport = decode(&v).unwrap();
    assert_eq!(report.current.acquisition.cac_minor, None);
    assert_eq!(report, serde_json::from_value::<BudgetReport>(v).unwrap());
}

#[test]
fn a_wrong_field_is_named_in_the_error() {
    let text = std::fs::read_to_string(fixtures().join("lifecycle.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["stages"]["lead"] = json!("many");
    let e = decode::<LifecycleReport>(&v).unwrap_err();
    assert_eq!(e, "stages.`lead`: expected an integer");
    let e = decode::<AccountPage>(&json!({})).unwrap_err();
    assert_eq!(e, "`as_of`: expected a string");
    let e = decode::<AccountPage>(&json!("not an object")).unwrap_err();
    assert_eq!(e, "`as_of`: expected a string");
}

#[test]
fn the_notice_and_the_error_body_are_read_beside_the_report() {
    let text = std::fs::read_to_string(fixtures().join("lifecycle.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["data_status"] = json!({"complete": false, "notice": "These figures are incomplete."});
    let (report, notice) = decode_with_notice::<LifecycleReport, _>(&Some(&v)).unwrap();
    assert_eq!(report, serde_json::from_str::<LifecycleReport>(&text).unwrap());
    assert_eq!(notice.as_deref(), Some("These figures are incomplete."));
    v["data_status"] = json!({"complete": true, "notice": null});
    assert_eq!(decode_with_notice::<LifecycleReport, _>(&Some(&v)).unwrap().1, None);

    let body = json!({"error": {"code": "token_expired", "message": "the token has expired"}});
    assert_eq!(error_fields_of(&Some(&body)), ("token_expired".into(), "the token has expired".into()));
    assert_eq!(error_fields_of(&Some(&json!([1, 2]))), (String::new(), String::new()));
}
