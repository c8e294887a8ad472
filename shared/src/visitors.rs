//! Anonymous visitors past their window: kept as counts, not as rows.
//!
//! Why: the snippet mints a visitor id per visit by default, so ordinary traffic alone adds an identity per
//! visit, forever. A visitor who never identified, was seen on one day only, did nothing that makes them a
//! lead or a customer, and has sent nothing for `ingest.anonymous_window_days` is *compacted*: their row goes
//! and their day's activity joins the site's visitor pool, a multiset of `(day, cell)` with a count. Identical
//! one-day histories give identical figures in every report, so a report that adds each pool row once with
//! weight `n` ([`crate::query::ReportBuilder::add_weighted`]) equals one that adds the `n` visitors one by one:
//! compaction changes no figure (property test below). The pool holds no id: what a visitor did, never who.
//!
//! What changes: a compacted visitor is no longer listed in the account list or found by id; an identify that
//! arrives after the window no longer brings that visit into the user's history, and a visitor id seen again
//! after the window counts as a new visitor (as a new visit does with the snippet's per-visit id).

use crate::identity::{self, IdentityKind};
use crate::rollup::{AccountHistory, DayCell, IdentityRecord};
use crate::signals::Signal;
use crate::time::Day;
use std::collections::BTreeMap;

/// The key pool histories are evaluated under: anonymous, like the visitors they stand for.
pub const POOL_KEY: &str = IdentityKind::Visitor.prefix();

/// Signals a compactable visitor may have: browsing and reading, nothing that makes a lead or a customer.
const BROWSING: [Signal; 5] =
    [Signal::Activity, Signal::PageView, Signal::ConsiderationPage, Signal::ContentEngaged, Signal::ContentDownloaded];

/// The one day and cell an identity is compacted to, if it may be: an anonymous id (`a:…`) that resolves
/// to itself (the caller checks it has no link), seen on exactly one day, with no name, module, revenue,
/// survey score or version, and only browsing signals.
pub fn compactable(key: &str, record: &IdentityRecord) -> Option<(Day, DayCell)> {
    if !identity::is(key, IdentityKind::Visitor)
        || record.name.is_some()
        || !record.modules.is_empty()
        || record.days.len() != 1
    {
        return None;
    }
    let (day, cell) = record.days.iter().next()?;
    let browsing_only = Signal::ALL.iter().all(|s| cell.count(*s) == 0 || BROWSING.contains(s));
    (browsing_only && cell.revenue_minor == 0 && cell.public.is_none() && cell.nps.is_none() && cell.version.is_none())
        .then(|| (*day, cell.clone()))
}

/// The history a pool row is evaluated as.
pub fn pool_history(day: Day, cell: DayCell) -> AccountHistory {
    AccountHistory::new(POOL_KEY, BTreeMap::from([(day, cell)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::query::{ReportBuilder, ReportKind, parse_query};
    use crate::rollup::Latest;
    use crate::signals::Signal::*;
    use crate::testkit::{day, history};
    use proptest::prelude::*;

    fn record(h: &AccountHistory) -> IdentityRecord {
        IdentityRecord { days: h.days.clone(), ..IdentityRecord::default() }
    }

    #[test]
    fn only_one_day_browsing_visitors_are_compactable() {
        let cases: &[(&str, AccountHistory, bool)] = &[
            ("one day of pages", history("a:v", &[("2026-01-01", &[Activity, PageView], 0)]), true),
            (
                "pricing and a download",
                history("a:v", &[("2026-01-01", &[ConsiderationPage, ContentDownloaded], 0)]),
                true,
            ),
            ("two days", history("a:v", &[("2026-01-01", &[PageView], 0), ("2026-01-02", &[PageView], 0)]), false),
            ("a lead event", history("a:v", &[("2026-01-01", &[PageView, Lead], 0)]), false),
            ("a purchase", history("a:v", &[("2026-01-01", &[Purchase], 100)]), false),
            ("a user", history("u:1", &[("2026-01-01", &[PageView], 0)]), false),
            ("an account", history("g:1", &[("2026-01-01", &[PageView], 0)]), false),
        ];
        for (case, h, expected) in cases {
            assert_eq!(compactable(&h.key, &record(h)).is_some(), *expected, "{case}");
        }
        let named = IdentityRecord {
            name: Some(Latest { at: day("2026-01-01").start(), value: "Ada".into() }),
            ..record(&cases[0].1)
        };
        assert!(compactable("a:v", &named).is_none(), "a named visitor keeps their row");
    }

    fn browsing() -> impl Strategy<Value = Vec<Signal>> {
        prop::collection::vec(prop::sample::select(BROWSING.to_vec()), 1..4)
    }

    proptest! {
        /// Compaction changes no figure: every report over the accounts with the compactable visitors
        /// replaced by weighted pool rows equals the report over all of them.
        #[test]
        fn reports_over_the_pool_equal_reports_over_the_visitors(
            visitors in prop::collection::vec((0i64..120, browsing()), 1..40),
            as_of_offset in 0i64..150,
        ) {
            let base = day("2026-01-01");
            let mut accounts = vec![
                history("g:buyer", &[("2026-01-05", &[Purchase], 9_000), ("2026-03-01", &[Renewal], 9_000)]),
                history("u:lead", &[("2026-02-01", &[PageView], 0)]),
            ];
            let mut pool: BTreeMap<(Day, String), (DayCell, i64)> = BTreeMap::new();
            for (i, (offset, signals)) in visitors.iter().enumerate() {
                let d = base.plus(*offset as i32);
                let mut h = AccountHistory::new(&format!("a:{i}"), BTreeMap::new());
                let cell = h.days.entry(d).or_default();
                for s in signals {
                    cell.counts[s.index()] += 1;
                }
                let (pd, pc) = compactable(&h.key, &record(&h)).expect("browsing visitors are compactable");
                let slot = pool.entry((pd, serde_json::to_string(&pc).unwrap_or_default())).or_insert((pc, 0));
                slot.1 += 1;
                accounts.push(h);
            }
            let identified: Vec<&AccountHistory> = accounts.iter().filter(|h| h.is_identified()).collect();
            let as_of = base.plus(as_of_offset as i32);
            let settings = Settings::default();
            for kind in [ReportKind::Budget, ReportKind::Funnel, ReportKind::Lifecycle, ReportKind::Engagement] {
                let q = parse_query(&[("as_of".into(), as_of.to_string())], as_of).expect("query");
                let mut all = ReportBuilder::new(kind, &settings, &q);
                accounts.iter().for_each(|h| all.add(h));
                let mut compacted = ReportBuilder::new(kind, &settings, &q);
                identified.iter().for_each(|h| compacted.add(h));
                for ((d, _), (cell, n)) in &pool {
                    compacted.add_weighted(&pool_history(*d, cell.clone()), *n);
                }
                let currency = crate::money::Currency::parse("EUR").expect("currency");
                prop_assert_eq!(format!("{:?}", all.finish(&[], &currency)), format!("{:?}", compacted.finish(&[], &currency)), "{:?}", kind);
            }
        }
    }
}
