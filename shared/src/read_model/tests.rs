use super::*;
use crate::money::Currency;
use crate::query::{Format, ReportBuilder, compute};
use crate::report::AccountQuery;
use crate::rollup::DayCell;
use crate::signals::Signal::{self, Activity, Churn, PageView, Purchase, Renewal};
use crate::spend::{SpendEntry, parse_spend_csv};
use crate::testkit::{day, history};
use proptest::prelude::*;
use std::collections::BTreeMap;

const KINDS: [ReportKind; 4] = [ReportKind::Budget, ReportKind::Funnel, ReportKind::Lifecycle, ReportKind::Engagement];

fn query(period: Period, as_of: Day) -> ReportQuery {
    ReportQuery { period, as_of, format: Format::Json, accounts: AccountQuery::default(), table: Default::default() }
}

fn ledger() -> Vec<SpendEntry> {
    let csv = "from,to,channel,amount_minor,currency,purpose\n2024-01-01,2028-01-01,ads,9000000,USD,acquisition\n\
               2024-01-01,2028-01-01,crm,4000000,USD,retention\n";
    parse_spend_csv(csv, &Currency::default()).unwrap_or_default()
}

/// The report of `kind` for `q` from a read model of `accounts` built on `plan.today`, if it holds it.
fn from_index(
    accounts: &[AccountHistory],
    s: &Settings,
    plan: &IndexPlan,
    kind: ReportKind,
    q: &ReportQuery,
) -> Option<crate::query::Rendered> {
    let sel = plan.select(kind, q)?;
    let mut totals = IndexTotals::new(plan);
    for h in accounts {
        totals.add(&IndexEntry::of(h, s, plan), 1);
    }
    Some(ReportBuilder::from_totals(kind, s, q, totals.view(sel)).finish(&ledger(), &Currency::default()))
}

#[test]
fn the_plan_holds_every_preset_at_its_default_day() {
    let today = day("2026-12-06");
    let plan = IndexPlan::of(today);
    // Four periods and the four before them; today for the running ones, 30 September for the last quarter.
    assert_eq!(plan.periods.len(), 8);
    assert_eq!(plan.days, [today, day("2026-09-30")]);
    assert_eq!(PeriodPreset::LastQuarter.period(today), Period { from: day("2026-07-01"), to: day("2026-10-01") });
    assert_eq!(PeriodPreset::Days(30).period(today), Period { from: day("2026-11-07"), to: day("2026-12-07") });
    for preset in PeriodPreset::ALL {
        let period = preset.period(today);
        let q = query(period, default_as_of(period, today));
        for kind in KINDS.into_iter().chain([ReportKind::Accounts]) {
            assert!(plan.select(kind, &q).is_some(), "{preset:?} {kind:?}");
        }
    }
    // A custom period, or another day, is not held (the slower path answers it).
    let custom = query(Period { from: day("2026-11-01"), to: day("2026-12-01") }, day("2026-11-30"));
    for kind in KINDS.into_iter().chain([ReportKind::Accounts]) {
        assert_eq!(plan.select(kind, &custom), None, "{kind:?}");
    }
    let past_day = query(PeriodPreset::Days(90).period(today), day("2026-12-01"));
    assert_eq!(plan.select(ReportKind::Lifecycle, &past_day), None);
    assert!(plan.select(ReportKind::Budget, &past_day).is_some(), "the budget needs no day");
}

#[test]
fn quarters_turn_on_their_first_day() {
    for (today, from, to) in [
        ("2026-01-01", "2025-10-01", "2026-01-01"),
        ("2026-03-31", "2025-10-01", "2026-01-01"),
        ("2026-04-01", "2026-01-01", "2026-04-01"),
        ("2026-12-31", "2026-07-01", "2026-10-01"),
    ] {
        assert_eq!(PeriodPreset::LastQuarter.period(day(today)), Period { from: day(from), to: day(to) }, "{today}");
    }
}

#[test]
fn entries_of_accounts_nobody_bought_from_stay_small() {
    let plan = IndexPlan::of(day("2026-12-06"));
    let visitor = history("a:v", &[("2026-12-01", &[PageView], 0)]);
    let json = serde_json::to_string(&IndexEntry::of(&visitor, &Settings::default(), &plan)).unwrap_or_default();
    assert!(json.len() < 400, "{} bytes: {json}", json.len());
}

/// Pooled visitors count in every figure but not in the account list's count (it lists accounts).
#[test]
fn pooled_visitors_count_in_the_figures_but_not_in_the_list() {
    let plan = IndexPlan::of(day("2026-12-06"));
    let visitor = IndexEntry::of(&history("a:v", &[("2026-12-01", &[PageView], 0)]), &Settings::default(), &plan);
    let (mut pooled, mut listed) = (IndexTotals::new(&plan), IndexTotals::new(&plan));
    pooled.add_pooled(&visitor, 3);
    listed.add(&visitor, 3);
    assert_eq!(pooled.listed(0), 0);
    assert_eq!(listed.listed(0), 3);
    assert_eq!(pooled.days[0].lifecycle, listed.days[0].lifecycle);
    assert_eq!((pooled.periods.clone(), pooled.accounts), (listed.periods.clone(), listed.accounts));
}

fn arb_history(i: usize) -> impl Strategy<Value = AccountHistory> {
    let sig = prop_oneof![Just(PageView), Just(Purchase), Just(Renewal), Just(Churn), Just(Activity)];
    prop::collection::vec((0i32..800, sig, 0i64..1_000_000), 1..10).prop_map(move |rows| {
        let mut days: BTreeMap<Day, DayCell> = BTreeMap::new();
        for (d, s, rev) in rows {
            let cell = days.entry(Day(20_200 + d)).or_default();
            cell.counts[Activity.index()] += 1;
            cell.counts[Signal::index(s)] += 1;
            if s.is_revenue() {
                cell.revenue_minor += rev;
            }
        }
        let key = if i.is_multiple_of(3) { format!("a:{i}") } else { format!("g:{i}") };
        AccountHistory::new(&key, days)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every report a read model holds (each preset's period at its default day, every kind) equals the
    /// report folded from the accounts themselves; the list's unfiltered count is the accounts listed.
    #[test]
    fn every_preset_from_the_read_model_equals_a_full_fold(
        accounts in (0usize..14).prop_flat_map(|n| (0..n).map(arb_history).collect::<Vec<_>>()),
        today in 0i32..900,
    ) {
        let (s, today) = (Settings::default(), Day(20_200 + today));
        let plan = IndexPlan::of(today);
        for preset in PeriodPreset::ALL {
            let period = preset.period(today);
            let q = query(period, default_as_of(period, today));
            for kind in KINDS {
                let full = compute(kind, &accounts, &ledger(), &s, &Currency::default(), &q);
                prop_assert_eq!(from_index(&accounts, &s, &plan, kind, &q), Some(full), "{:?} {:?}", preset, kind);
            }
            let sel = plan.select(ReportKind::Accounts, &q).and_then(|s| s.day);
            let mut totals = IndexTotals::new(&plan);
            accounts.iter().for_each(|h| totals.add(&IndexEntry::of(h, &s, &plan), 1));
            let listed = accounts.iter().filter(|h| crate::report::evaluate_one(h, &s, q.as_of).is_some()).count();
            prop_assert_eq!(sel.map(|d| totals.listed(d)), Some(listed as i64));
        }
    }

    /// Removing any accounts' entries from the totals equals never adding them, and the stored form reads
    /// back as it was.
    #[test]
    fn removing_entries_equals_never_adding_them(
        accounts in (0usize..10).prop_flat_map(|n| (0..n).map(arb_history).collect::<Vec<_>>()),
        mask in proptest::collection::vec(any::<bool>(), 10),
        today in 0i32..900,
    ) {
        let (s, plan) = (Settings::default(), IndexPlan::of(Day(20_200 + today)));
        let (mut all, mut kept) = (IndexTotals::new(&plan), IndexTotals::new(&plan));
        for (h, keep) in accounts.iter().zip(&mask) {
            let e = IndexEntry::of(h, &s, &plan);
            let stored: IndexEntry = serde_json::from_str(&serde_json::to_string(&e).unwrap_or_default())
                .unwrap_or_default();
            prop_assert_eq!(&stored, &e);
            all.add(&e, 1);
            if *keep { kept.add(&e, 1) } else { all.add(&stored, -1) }
        }
        prop_assert_eq!(all, kept);
    }
}
