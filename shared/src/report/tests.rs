use super::*;
use crate::config::Settings;
use crate::lifecycle::Stage;
use crate::money::Currency;
use crate::rollup::AccountHistory;
use crate::signals::Signal::{Activity, Churn, PageView, Purchase, Renewal};
use crate::spend::SpendEntry;
use crate::spend::parse_spend_csv;
use crate::testkit::{day, history};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn period(from: &str, to: &str) -> Period {
    Period { from: day(from), to: day(to) }
}

fn ledger(acq: i64, ret: i64) -> Vec<SpendEntry> {
    let csv = format!(
        "from,to,channel,amount_minor,currency,purpose\n2026-01-01,2026-04-01,ads,{acq},USD,acquisition\n2026-01-01,2026-04-01,crm,{ret},USD,retention\n"
    );
    parse_spend_csv(&csv, &Currency::default()).unwrap_or_default()
}

#[test]
fn verdict_kinds_and_what_if() {
    let s = Settings::default();
    let q1 = period("2026-01-01", "2026-04-01");
    // One new customer (1,000) and one existing (9,000): 10 % of revenue is new.
    let accounts = [
        history("g:new", &[("2026-02-01", &[Purchase], 1000)]),
        history("g:old", &[("2025-06-01", &[Purchase], 500), ("2026-02-01", &[Renewal], 9000)]),
    ];
    let f = budget_figures(&accounts, &ledger(8000, 2000), &s, q1);
    assert_eq!((f.acquisition.spend_minor, f.retention.spend_minor), (8000, 2000));
    assert_eq!((f.acquisition.revenue_minor, f.retention.revenue_minor), (1000, 9000));
    assert_eq!((f.retention.customers_at_start, f.retention.retained), (1, 1));
    let v = verdict(&f, &s);
    // 80 % of spend vs 10 % of revenue: 70 points over.
    assert_eq!(v.kind, VerdictKind::OverweightAcquisition);
    assert!(v.difference_points.is_some_and(|d| (d - 70.0).abs() < 1e-9));
    // Move 10 % of 10,000 = 1,000 to retention: acquisition revenue −1,000·1,000/8,000 = −125,
    // retention revenue +1,000·9,000/2,000 = +4,500.
    let w = &v.what_if;
    assert_eq!(
        (w.moved_minor, w.acquisition_revenue_minor, w.retention_revenue_minor),
        (1000, Some(875), Some(13_500))
    );
    assert_eq!(w.revenue_delta_minor, Some(4375));
    // Spend mirrored: overweight in retention.
    let f2 = budget_figures(&accounts, &ledger(500, 9500), &s, q1);
    let v2 = verdict(&f2, &s);
    assert_eq!(v2.kind, VerdictKind::Balanced); // 5 % vs 10 %: within 15 points
    let accounts3 = [history("g:new", &[("2026-02-01", &[Purchase], 9000)]), accounts[1].clone()];
    let f3 = budget_figures(&accounts3, &ledger(1000, 9000), &s, q1);
    assert_eq!(verdict(&f3, &s).kind, VerdictKind::OverweightRetention); // 10 % spend vs 50 % revenue
    // No spend at all: nothing to weigh, and no ratio is made up.
    let f4 = budget_figures(&accounts, &[], &s, q1);
    let v4 = verdict(&f4, &s);
    assert_eq!(v4.kind, VerdictKind::InsufficientData);
    assert_eq!(
        (f4.acquisition.share, f4.acquisition.cac_minor, f4.acquisition.return_per_dollar),
        (None, Some(0), None)
    );
    assert_eq!(v4.what_if.moved_minor, 0);
    // A what-if never moves more than a side has.
    assert_eq!(what_if_bounds(&f), (-2000, 8000));
    assert_eq!(what_if_at(&f, 20_000, 15.0).moved_minor, 8000);
    assert_eq!(what_if_at(&f, -20_000, 15.0).moved_minor, 2000);
    assert_eq!(what_if_at(&f, -20_000, 15.0).from_purpose, Side::Retention);
    assert_eq!(what_if_at(&f, -20_000, 15.0).position_bp, -2000);
    // What the widget's tiles show beside each projected figure: its change from now.
    let c = w.changes_from(&f);
    assert_eq!((c.acquisition_spend_minor, c.retention_spend_minor), (-1000, 1000));
    assert_eq!((c.revenue_new_minor, c.revenue_existing_minor), (Some(-125), Some(4500)));
    assert_eq!(f.share_of_spend(2000), Some(0.2));
}

/// The settings' `what_if_pct` and the slider share one unit: 12.5 % is 1,250 basis points, and the verdict's
/// what-if is the slider's at its position (before, the slider rounded to whole percent and the verdict did
/// not, so one `what_if_pct` gave two what-ifs).
#[test]
fn a_fractional_what_if_pct_is_one_position() {
    let mut s = Settings::default();
    s.budget.what_if_pct = 12.5;
    let q1 = period("2026-01-01", "2026-04-01");
    let accounts = [
        history("g:new", &[("2026-02-01", &[Purchase], 1000)]),
        history("g:old", &[("2025-06-01", &[Purchase], 500), ("2026-02-01", &[Renewal], 9000)]),
    ];
    let f = budget_figures(&accounts, &ledger(8001, 1999), &s, q1);
    let v = verdict(&f, &s);
    assert_eq!(v.what_if.position_bp, 1250);
    assert_eq!(v.what_if.moved_minor, 1250);
    assert_eq!(what_if_at(&f, v.what_if.position_bp, s.budget.tolerance_points), v.what_if);
    assert_eq!(basis_points_of_pct(12.5), 1250);
    assert_eq!(basis_points_of_pct(f64::NAN), 0);
    assert_eq!(moved_minor_at(&f, -1), -1);
}

/// Revenue at the extremes saturates instead of wrapping negative (or panicking in a debug build).
#[test]
fn money_sums_saturate() {
    let big = i64::MAX / 2 + 1;
    let accounts: Vec<AccountHistory> = (0..4)
        .map(|i| history(&format!("u:{i}"), &[("2026-10-02", &[Purchase], big), ("2026-10-03", &[Renewal], big)]))
        .collect();
    let period = Period { from: day("2026-10-01"), to: day("2026-11-01") };
    let r = budget_report(&accounts, &[], &Settings::default(), &Currency::default(), period);
    assert_eq!(r.current.acquisition.revenue_minor, i64::MAX);
    assert_eq!(r.current.total_revenue_minor, i64::MAX);
    assert_eq!(r.deltas.total_revenue_minor, i64::MAX);
    let ev = evaluate(&accounts, &Settings::default(), day("2026-10-31"));
    let page = account_page(&ev, &Settings::default(), day("2026-10-31"), &AccountQuery::default());
    assert!(page.accounts.iter().all(|a| a.revenue_minor == i64::MAX), "{:?}", page.accounts.first());
}

#[test]
fn lifecycle_engagement_and_account_pages() {
    let s = Settings::default();
    let accounts = [
        history("a:v1", &[("2026-03-01", &[PageView], 0)]),
        history("u:lead", &[("2026-03-01", &[PageView], 0)]),
        history("g:b", &[("2026-03-01", &[Purchase], 100)]),
        history("g:a", &[("2025-01-01", &[Purchase], 100), ("2026-01-01", &[Renewal], 100)]),
        history("g:gone", &[("2025-01-01", &[Purchase], 100), ("2025-02-01", &[Churn], 0)]),
    ];
    let as_of = day("2026-03-10");
    let ev = evaluate(&accounts, &s, as_of);
    let l = lifecycle_report(&ev, as_of);
    assert_eq!((l.stages.prospect, l.stages.lead, l.stages.new_customer, l.stages.lapsed), (1, 1, 1, 1));
    assert_eq!(l.stages.active + l.stages.at_risk, 1);
    assert_eq!(l.total, 5);
    let e = engagement_report(&ev, &s, as_of);
    assert_eq!(e.customers, 2);
    assert_eq!(e.histogram.iter().sum::<u64>(), 2);
    assert_eq!(e.bands.engaged + e.bands.neutral + e.bands.disengaged, 2);
    // Paging: 5 accounts, 2 per page, by name.
    let q = |cursor: Option<&str>| AccountQuery {
        sort: AccountSort::Name,
        limit: Some(2),
        cursor: cursor.map(str::to_owned),
        ..AccountQuery::default()
    };
    let p1 = account_page(&ev, &s, as_of, &q(None));
    let p2 = account_page(&ev, &s, as_of, &q(p1.next_cursor.as_deref()));
    let p3 = account_page(&ev, &s, as_of, &q(p2.next_cursor.as_deref()));
    let all: Vec<String> = [p1, p2, p3.clone()].iter().flat_map(|p| p.accounts.iter().map(|a| a.id.clone())).collect();
    assert_eq!(all.len(), 5);
    assert_eq!(p3.next_cursor, None);
    let lapsed = account_page(&ev, &s, as_of, &AccountQuery { stage: Some(Stage::Lapsed), ..AccountQuery::default() });
    assert_eq!(lapsed.accounts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["g:gone"]);
    let f = funnel_report(&accounts, &s, period("2026-03-01", "2026-04-01"));
    // In play: the visitor, the lead and g:b (first purchase in March); g:a and g:gone bought before.
    assert_eq!((f.awareness, f.consideration, f.lead, f.purchase), (3, 2, 2, 1));
}

fn arb_history(i: usize) -> impl Strategy<Value = AccountHistory> {
    let sig = prop_oneof![Just(PageView), Just(Purchase), Just(Renewal), Just(Churn)];
    prop::collection::vec((0i32..400, sig, 0i64..1_000_000), 1..8).prop_map(move |rows| {
        let mut days = BTreeMap::new();
        for (d, s, rev) in rows {
            let cell: &mut crate::rollup::DayCell = days.entry(Day(20_300 + d)).or_default();
            cell.counts[Activity.index()] += 1;
            cell.counts[s.index()] += 1;
            if s.is_revenue() {
                cell.revenue_minor += rev;
            }
        }
        AccountHistory::new(&format!("g:{i}"), days)
    })
}

proptest! {
    #[test]
    fn budget_figures_are_finite_bounded_and_shares_sum_to_one(
        accounts in (0usize..12).prop_flat_map(|n| (0..n).map(arb_history).collect::<Vec<_>>()),
        acq in 0i64..10_000_000, ret in 0i64..10_000_000, start in 0i32..300, len in 1i32..200,
    ) {
        let s = Settings::default();
        let p = Period { from: Day(20_300 + start), to: Day(20_300 + start + len) };
        let csv = format!(
            "from,to,channel,amount_minor,currency,purpose\n{},{},a,{acq},USD,acquisition\n{},{},r,{ret},USD,retention\n",
            Day(20_250), Day(20_800), Day(20_250), Day(20_800)
        );
        let ledger = parse_spend_csv(&csv, &Currency::default()).unwrap_or_default();
        let r = budget_report(&accounts, &ledger, &s, &Currency::default(), p);
        for f in [&r.current, &r.previous] {
            let shares = [f.acquisition.share, f.retention.share, f.acquisition.revenue_share, f.retention.revenue_share, f.retention.retention_rate];
            for x in shares.into_iter().flatten() {
                prop_assert!(x.is_finite() && (0.0..=1.0).contains(&x), "{x}");
            }
            if let (Some(a), Some(b)) = (f.acquisition.share, f.retention.share) {
                prop_assert!((a + b - 1.0).abs() < 1e-9);
            }
            if let (Some(a), Some(b)) = (f.acquisition.revenue_share, f.retention.revenue_share) {
                prop_assert!((a + b - 1.0).abs() < 1e-9);
            }
            for x in [f.acquisition.return_per_dollar, f.retention.return_per_dollar, f.ltv_to_cac].into_iter().flatten() {
                prop_assert!(x.is_finite() && x >= 0.0);
            }
            prop_assert!(f.retention.retained <= f.retention.customers_at_start);
            prop_assert!(f.funnel.purchase <= f.funnel.lead && f.funnel.lead <= f.funnel.consideration && f.funnel.consideration <= f.funnel.awareness);
            prop_assert_eq!(f.acquisition.spend_minor + f.retention.spend_minor, f.total_spend_minor);
        }
        let w = &r.verdict.what_if;
        prop_assert_eq!(w.acquisition_spend_minor + w.retention_spend_minor, r.current.total_spend_minor);
        // The verdict's what-if is the slider's at its position, and no position leaves the bounds.
        prop_assert_eq!(&what_if_at(&r.current, w.position_bp, s.budget.tolerance_points), w);
        let (lo, hi) = what_if_bounds(&r.current);
        prop_assert!(lo <= w.position_bp && w.position_bp <= hi);
        for position in [lo, hi, lo - 1, hi + 1, 0] {
            let at = what_if_at(&r.current, position, s.budget.tolerance_points);
            prop_assert!(at.acquisition_spend_minor >= 0 && at.retention_spend_minor >= 0);
            prop_assert_eq!(at.position_bp, position.clamp(lo, hi));
        }
        for x in [w.acquisition_share, w.new_revenue_share].into_iter().flatten() {
            prop_assert!(x.is_finite() && (0.0..=1.0).contains(&x));
        }
    }
}
