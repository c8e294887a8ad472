//! What a read model keeps, so the reports people ask for never fold a site's history.
//!
//! A read model built on `today` holds, for every account, its share of the reports of each standard period
//! ([`PeriodPreset`]: the widget's period picker, the API's default) and each day those reports are
//! evaluated at: an [`IndexEntry`] per account and the [`IndexTotals`] of all of them. An [`IndexPlan`] says
//! which periods and days those are; [`IndexPlan::select`] says whether (and from which slots) a request can
//! be answered, and the slots' [`SiteTotals`]/[`AccountEntry`] are what `query::ReportBuilder` already sums.
//! So "Last 30 days", "Last 90 days", "Last 365 days" and "Last quarter", as of their default day, are all
//! answered from sums; any other period or day takes the slower path (a fold of every account).
//!
//! Why presets rather than per-day series: the budget figures are not sums of per-day figures (customers at
//! a period's start who are still customers at its end, revenue of accounts whose first purchase falls in
//! the period, the funnel's population), so an arbitrary period needs each account's history; a fixed set of
//! periods can be kept exact by whole accounts, like the default one was.

use crate::config::Settings;
use crate::contribution::{
    AccountEntry, BudgetPart, BudgetSums, EngagementPart, EngagementSums, LifecyclePart, LifecycleSums, ListKeys,
    SiteTotals,
};
use crate::query::{DEFAULT_PERIOD_DAYS, ReportKind, ReportQuery, default_as_of};
use crate::report::{Evaluated, Period, sat_sum};
use crate::rollup::AccountHistory;
use crate::time::Day;
use serde::{Deserialize, Serialize};

/// A period named by what it means on any day: the choices of the widget's period picker, and the periods a
/// read model keeps figures for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeriodPreset {
    /// The last `n` days, today included.
    Days(i32),
    /// The last full calendar quarter.
    LastQuarter,
}

impl PeriodPreset {
    /// Every preset, the default first: what the widget offers (besides a custom period) and what a read
    /// model keeps.
    pub const ALL: [PeriodPreset; 4] = [
        PeriodPreset::Days(DEFAULT_PERIOD_DAYS),
        PeriodPreset::Days(30),
        PeriodPreset::Days(365),
        PeriodPreset::LastQuarter,
    ];

    /// The period this preset means on `today`.
    pub fn period(self, today: Day) -> Period {
        let to = today.plus(1);
        match self {
            PeriodPreset::Days(n) => Period { from: to.plus(-n), to },
            PeriodPreset::LastQuarter => {
                let (y, m, _) = today.ymd();
                // The first day of the running quarter always exists; the fallback is never taken.
                let start = Day::from_ymd(y, (m - 1) / 3 * 3 + 1, 1).unwrap_or(today);
                Period { from: start.add_months(-3), to: start }
            }
        }
    }
}

/// The periods and days a read model built on `today` keeps: each preset's period and the one before it
/// (the budget report compares them), and each preset's default `as_of`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexPlan {
    pub today: Day,
    /// Days accounts are evaluated at (stage, score, list keys), in slot order, distinct.
    pub days: Vec<Day>,
    /// Periods accounts' budget parts are kept for, in slot order, distinct.
    pub periods: Vec<Period>,
}

/// Where a request's figures are in a read model: slots of [`IndexPlan::days`] and [`IndexPlan::periods`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    pub day: Option<usize>,
    pub current: Option<usize>,
    pub previous: Option<usize>,
}

impl IndexPlan {
    pub fn of(today: Day) -> IndexPlan {
        let mut plan = IndexPlan { today, days: Vec::new(), periods: Vec::new() };
        for preset in PeriodPreset::ALL {
            let period = preset.period(today);
            for p in [period, period.previous()] {
                if !plan.periods.contains(&p) {
                    plan.periods.push(p);
                }
            }
            let day = default_as_of(period, today);
            if !plan.days.contains(&day) {
                plan.days.push(day);
            }
        }
        plan
    }

    /// The slots a report of `kind` for `q` reads, or `None` when the read model does not hold them (another
    /// period or day: the caller folds every account instead). Lifecycle, engagement and the account list
    /// need `q.as_of`; the funnel `q.period`; the budget `q.period` and the one before it.
    pub fn select(&self, kind: ReportKind, q: &ReportQuery) -> Option<Selection> {
        let day = self.days.iter().position(|d| *d == q.as_of);
        let slot = |p: Period| self.periods.iter().position(|x| *x == p);
        let (current, previous) = (slot(q.period), slot(q.period.previous()));
        let ok = match kind {
            ReportKind::Lifecycle | ReportKind::Engagement | ReportKind::Accounts => day.is_some(),
            ReportKind::Funnel => current.is_some(),
            ReportKind::Budget => current.is_some() && previous.is_some(),
        };
        ok.then_some(Selection { day, current, previous })
    }
}

/// One account evaluated on one of the plan's days.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayPart {
    /// `None` when the account was not seen yet that day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<LifecyclePart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engagement: Option<EngagementPart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListKeys>,
}

impl DayPart {
    fn of(h: &AccountHistory, e: Option<&Evaluated<'_>>, as_of: Day) -> DayPart {
        DayPart {
            lifecycle: e.map(LifecyclePart::of),
            engagement: e.and_then(EngagementPart::of),
            list: e.map(|e| ListKeys {
                stage: e.status.stage,
                band: e.score.as_ref().map(|s| s.band),
                score: e.score.as_ref().map(|s| s.score),
                revenue_minor: sat_sum(h.until(as_of).map(|(_, c)| c.revenue_minor)),
                last_seen: h.until(as_of).next_back().map(|(d, _)| *d),
                name: h.name.clone(),
            }),
        }
    }
}

/// Everything one account adds to the reports a read model keeps: a [`DayPart`] per day of the plan and a
/// [`BudgetPart`] per period, in slot order. The read model's row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub days: Vec<DayPart>,
    pub periods: Vec<BudgetPart>,
}

impl IndexEntry {
    pub fn of(h: &AccountHistory, settings: &Settings, plan: &IndexPlan) -> IndexEntry {
        let h = &*h.counted(&settings.trust);
        IndexEntry {
            days: plan
                .days
                .iter()
                .map(|d| DayPart::of(h, crate::report::evaluate_one(h, settings, *d).as_ref(), *d))
                .collect(),
            periods: plan.periods.iter().map(|p| BudgetPart::of(h, settings, *p)).collect(),
        }
    }

    /// The account's list keys on the plan's day `slot` (`None`: not listed that day).
    pub fn list(&self, slot: usize) -> Option<&ListKeys> {
        self.days.get(slot).and_then(|d| d.list.as_ref())
    }

    /// This account's share of one request's report (the slots `select` gave).
    pub fn view(&self, s: Selection) -> AccountEntry {
        let day = s.day.and_then(|i| self.days.get(i)).cloned().unwrap_or_default();
        let part = |i: Option<usize>| i.and_then(|i| self.periods.get(i)).copied().unwrap_or_default();
        AccountEntry {
            lifecycle: day.lifecycle,
            engagement: day.engagement,
            list: day.list,
            current: part(s.current),
            previous: part(s.previous),
        }
    }
}

/// The sums of every account's [`DayPart`] on one day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotals {
    pub lifecycle: LifecycleSums,
    pub engagement: EngagementSums,
    /// Accounts the account list lists that day (the list's unfiltered total, without counting rows).
    pub listed: i64,
}

/// The sums of every account's [`IndexEntry`]: the site-wide part of the read model, slot by slot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexTotals {
    pub days: Vec<DayTotals>,
    pub periods: Vec<BudgetSums>,
    pub accounts: i64,
}

impl IndexTotals {
    /// Empty sums for `plan`'s slots.
    pub fn new(plan: &IndexPlan) -> IndexTotals {
        IndexTotals {
            days: vec![DayTotals::default(); plan.days.len()],
            periods: vec![BudgetSums::default(); plan.periods.len()],
            accounts: 0,
        }
    }

    /// Adds (`sign` 1) or removes (`sign` -1) one account's entry.
    pub fn add(&mut self, e: &IndexEntry, sign: i64) {
        self.add_weighted(e, sign, true);
    }

    /// Adds `n` pooled visitors whose entry is `e` (a row of the site's visitor pool): in every figure, but
    /// not in the list's counts, since the account list lists accounts, not pooled visitors.
    pub fn add_pooled(&mut self, e: &IndexEntry, n: i64) {
        self.add_weighted(e, n, false);
    }

    /// `weight` copies of entry `e`; `listed`: whether they count in the account list's counts.
    fn add_weighted(&mut self, e: &IndexEntry, weight: i64, listed: bool) {
        for (t, d) in self.days.iter_mut().zip(&e.days) {
            if let Some(l) = &d.lifecycle {
                t.lifecycle.add(l, weight);
            }
            if let Some(g) = &d.engagement {
                t.engagement.add(g, weight);
            }
            if listed {
                t.listed += weight * i64::from(d.list.is_some());
            }
        }
        for (t, p) in self.periods.iter_mut().zip(&e.periods) {
            t.add(p, weight);
        }
        self.accounts += weight;
    }

    /// Accounts listed on the plan's day `slot`.
    pub fn listed(&self, slot: usize) -> i64 {
        self.days.get(slot).map_or(0, |d| d.listed)
    }

    /// The sums one request's report starts from (the slots `select` gave).
    pub fn view(&self, s: Selection) -> SiteTotals {
        let day = s.day.and_then(|i| self.days.get(i)).cloned().unwrap_or_default();
        let sums = |i: Option<usize>| i.and_then(|i| self.periods.get(i)).cloned().unwrap_or_default();
        SiteTotals {
            lifecycle: day.lifecycle,
            engagement: day.engagement,
            current: sums(s.current),
            previous: sums(s.previous),
            accounts: self.accounts,
        }
    }
}

#[cfg(test)]
mod tests;
