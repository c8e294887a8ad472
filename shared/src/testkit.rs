//! Helpers for unit tests: validated messages from JSON literals with a fixed context.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::config::{IngestSettings, Settings};
use crate::message::{IngestContext, Message, Receipt, parse_value};
use crate::money::Currency;
use crate::rollup::{AccountHistory, Classifier, RollupState};
use crate::time::{Day, Timestamp};
use serde_json::Value;

pub fn day(s: &str) -> Day {
    Day::parse(s).expect("test date")
}

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("test timestamp")
}

/// Validates one message as if received at `received`.
pub fn msg_at(v: Value, received: &str) -> Message {
    let currency = Currency::default();
    let settings = IngestSettings::default();
    let ctx = IngestContext {
        receipt: Receipt::Live(ts(received)),
        email_salt: "salt",
        currency: &currency,
        settings: &settings,
        path_type: None,
        via: crate::message::KeyKind::Public,
    };
    let mut b = parse_value(v.clone(), &ctx).unwrap_or_else(|e| panic!("{v}: {e}"));
    b.messages.remove(0)
}

/// Validates one message received a day after its timestamp (a backfill).
pub fn msg(v: Value) -> Message {
    let received = v.get("timestamp").and_then(Value::as_str).map(|t| ts(t).0 + 86_400_000).unwrap_or(0);
    msg_at(v, &Timestamp(received).to_rfc3339())
}

pub fn fold_all(messages: &[Message]) -> RollupState {
    let classifier = Classifier::new(&Settings::default().mapping);
    let mut s = RollupState::default();
    for m in messages {
        s.fold(m, &classifier);
    }
    s
}

use crate::rollup::DayCell;
use crate::signals::Signal;
use std::collections::BTreeMap;

/// A history from (date, signals, revenue in minor units) rows; every row also counts one Activity.
pub fn history(key: &str, rows: &[(&str, &[Signal], i64)]) -> AccountHistory {
    let mut days: BTreeMap<Day, DayCell> = BTreeMap::new();
    for (d, signals, revenue) in rows {
        let cell = days.entry(day(d)).or_default();
        cell.counts[Signal::Activity.index()] += 1;
        for s in *signals {
            cell.counts[s.index()] += 1;
        }
        cell.revenue_minor += revenue;
    }
    AccountHistory::new(key, days)
}
