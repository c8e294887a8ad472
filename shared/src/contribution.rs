//! What one account adds to each report, and the sums of many accounts.
//!
//! Every report is a sum over accounts: the budget figures, the funnel, the lifecycle and engagement counts.
//! An account's share of each is a `*Part` here, and the reports are computed from `*Sums` of parts, whether
//! a report folds every account (the CLI, or the Worker's slower path) or the Worker keeps one
//! [`AccountEntry`] per account and the [`SiteTotals`] of all of them as a read model, and corrects the totals
//! by whole accounts (removing an account's stored entry and adding its fresh one). Sums are integers
//! (counts, minor units, indicator values in billionths) so adding and removing is exact: both ways give
//! the same figures by construction.

use crate::config::Settings;
use crate::engagement::Band;
use crate::lifecycle::{self, CustomerHistory, FunnelStep, Stage};
use crate::read_model::{IndexEntry, IndexPlan, Selection};
use crate::report::{
    AcquisitionFigures, BandCounts, BudgetFigures, EngagementReport, Evaluated, FunnelConversion, FunnelReport,
    IndicatorAverage, LifecycleReport, Period, RetentionFigures, StageCounts, ratio, ratio_i, sat_sum,
};
use crate::rollup::AccountHistory;
use crate::spend::{SpendEntry, allocate};
use crate::time::Day;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Indicator values (0..=1) are summed in billionths, exactly.
const NANO: f64 = 1e9;

fn clamp_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn count(v: i64) -> u64 {
    v.max(0) as u64
}

/// One account's part in the budget figures (and the funnel) of one period. Stored in the read model for
/// several periods per account, so what is false, zero or absent (most accounts: nobody bought) is left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetPart {
    /// A customer by the period's end (first purchase on or before its last day).
    #[serde(default, skip_serializing_if = "is_false")]
    pub customer_ever: bool,
    /// First purchase inside the period.
    #[serde(default, skip_serializing_if = "is_false")]
    pub new_customer: bool,
    /// A paying customer at the end of the day before the period (and not new in it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub at_start: bool,
    /// Of those, still paying at the end of the period's last day.
    #[serde(default, skip_serializing_if = "is_false")]
    pub retained: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revenue_new: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revenue_existing: i64,
    /// Revenue up to the period's last day, if a customer by then.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lifetime_revenue: i64,
    /// The funnel step reached by the period's end, if the account is in the period's funnel population
    /// (not a customer before it, active in it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funnel: Option<FunnelStep>,
    /// Revenue in the period that came with the public write key, counted or not (`TrustSettings`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub public_revenue: i64,
}

impl BudgetPart {
    pub fn of(h: &AccountHistory, settings: &Settings, period: Period) -> BudgetPart {
        let h = &*h.counted(&settings.trust);
        let lapse = settings.lifecycle.lapse_days;
        let end = CustomerHistory::of(h, lapse, period.last_day());
        let mut p = BudgetPart {
            public_revenue: sat_sum(h.days.range(period.from..period.to).map(|(_, c)| c.public_revenue())),
            ..BudgetPart::default()
        };
        if h.days.range(period.from..period.to).next().is_some() && end.first_purchase.is_none_or(|d| d >= period.from)
        {
            p.funnel = lifecycle::funnel_step(h, settings, period.last_day());
        }
        let Some(first) = end.first_purchase else { return p };
        p.customer_ever = true;
        p.lifetime_revenue = sat_sum(h.until(period.last_day()).map(|(_, c)| c.revenue_minor));
        let in_period = sat_sum(h.days.range(period.from..period.to).map(|(_, c)| c.revenue_minor));
        if period.contains(first) {
            p.new_customer = true;
            p.revenue_new = in_period;
        } else {
            p.revenue_existing = in_period;
            let start_day = period.from.plus(-1);
            if CustomerHistory::of(h, lapse, start_day).is_customer(lapse, start_day) {
                p.at_start = true;
                p.retained = end.is_customer(lapse, period.last_day());
            }
        }
        p
    }
}

/// Budget parts summed over accounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetSums {
    pub customers_ever: i64,
    pub new_customers: i64,
    pub at_start: i64,
    pub retained: i64,
    pub revenue_new: i128,
    pub revenue_existing: i128,
    pub lifetime_revenue: i128,
    /// Accounts in the funnel population that reached each step (awareness, consideration, lead, purchase).
    pub funnel: [i64; 4],
    #[serde(default)]
    pub public_revenue: i128,
}

impl BudgetSums {
    /// Adds (`sign` 1) or removes (`sign` -1) one account's part.
    pub fn add(&mut self, p: &BudgetPart, sign: i64) {
        self.customers_ever += sign * i64::from(p.customer_ever);
        self.new_customers += sign * i64::from(p.new_customer);
        self.at_start += sign * i64::from(p.at_start);
        self.retained += sign * i64::from(p.retained);
        self.revenue_new += i128::from(sign) * i128::from(p.revenue_new);
        self.revenue_existing += i128::from(sign) * i128::from(p.revenue_existing);
        self.lifetime_revenue += i128::from(sign) * i128::from(p.lifetime_revenue);
        self.public_revenue += i128::from(sign) * i128::from(p.public_revenue);
        if let Some(step) = p.funnel {
            for slot in self.funnel.iter_mut().take(step as usize + 1) {
                *slot += sign;
            }
        }
    }

    pub fn funnel(&self, period: Period) -> FunnelReport {
        let c = self.funnel.map(count);
        let r = |a: u64, b: u64| ratio(a as f64, b as f64);
        FunnelReport {
            period,
            awareness: c[0],
            consideration: c[1],
            lead: c[2],
            purchase: c[3],
            conversion: FunnelConversion {
                awareness_to_consideration: r(c[1], c[0]),
                consideration_to_lead: r(c[2], c[1]),
                lead_to_purchase: r(c[3], c[2]),
                overall: r(c[3], c[0]),
            },
        }
    }

    /// The budget figures of `period` with the spend `ledger` allocates to it.
    pub fn figures(&self, period: Period, ledger: &[SpendEntry]) -> BudgetFigures {
        let spend = allocate(ledger, period.from, period.to);
        let (new_customers, at_start, retained) =
            (count(self.new_customers), count(self.at_start), count(self.retained));
        let (revenue_new, revenue_existing) = (clamp_i64(self.revenue_new), clamp_i64(self.revenue_existing));
        let total_spend = spend.acquisition_minor.saturating_add(spend.retention_minor);
        let total_revenue = clamp_i64(self.revenue_new + self.revenue_existing);
        let cac = crate::money::div_round(spend.acquisition_minor, new_customers as i64);
        let ltv = crate::money::div_round(clamp_i64(self.lifetime_revenue), count(self.customers_ever) as i64);
        BudgetFigures {
            period,
            acquisition: AcquisitionFigures {
                spend_minor: spend.acquisition_minor,
                share: ratio_i(spend.acquisition_minor, total_spend),
                new_customers,
                cac_minor: cac,
                revenue_minor: revenue_new,
                revenue_share: ratio_i(revenue_new, total_revenue),
                return_per_dollar: ratio_i(revenue_new, spend.acquisition_minor),
            },
            retention: RetentionFigures {
                spend_minor: spend.retention_minor,
                share: ratio_i(spend.retention_minor, total_spend),
                customers_at_start: at_start,
                retained,
                retention_rate: ratio(retained as f64, at_start as f64),
                cost_per_retained_minor: crate::money::div_round(spend.retention_minor, retained as i64),
                revenue_minor: revenue_existing,
                revenue_share: ratio_i(revenue_existing, total_revenue),
                return_per_dollar: ratio_i(revenue_existing, spend.retention_minor),
            },
            total_spend_minor: total_spend,
            total_revenue_minor: total_revenue,
            ltv_minor: ltv,
            ltv_to_cac: match (ltv, cac) {
                (Some(l), Some(c)) => ratio_i(l, c),
                _ => None,
            },
            funnel: self.funnel(period),
            channels: spend.channels,
            public_key_revenue_minor: clamp_i64(self.public_revenue),
        }
    }
}

/// One evaluated account's part in the lifecycle report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecyclePart {
    pub stage: Stage,
    pub reactivated: bool,
    pub advocate: bool,
}

impl LifecyclePart {
    pub fn of(e: &Evaluated<'_>) -> LifecyclePart {
        LifecyclePart { stage: e.status.stage, reactivated: e.status.reactivated, advocate: e.status.advocate }
    }
}

/// Lifecycle parts summed over accounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleSums {
    /// Accounts per stage, in `Stage::ALL` order.
    pub stages: [i64; 6],
    pub reactivated: i64,
    pub advocates: i64,
    pub total: i64,
}

impl LifecycleSums {
    pub fn add(&mut self, p: &LifecyclePart, sign: i64) {
        if let Some(i) = Stage::ALL.iter().position(|s| *s == p.stage) {
            self.stages[i] += sign;
        }
        self.reactivated += sign * i64::from(p.reactivated);
        self.advocates += sign * i64::from(p.advocate);
        self.total += sign;
    }

    pub fn report(&self, as_of: Day) -> LifecycleReport {
        let mut stages = StageCounts::default();
        for (s, n) in Stage::ALL.iter().zip(self.stages) {
            stages.set(*s, count(n));
        }
        LifecycleReport {
            as_of,
            stages,
            reactivated: count(self.reactivated),
            advocates: count(self.advocates),
            total: count(self.total),
        }
    }
}

/// One scored customer's part in the engagement report (`None` for an account that is not one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementPart {
    pub band: Band,
    pub score: u8,
    /// Normalised value of each measured indicator, in billionths, by indicator id.
    pub indicators: Vec<(String, i64)>,
}

impl EngagementPart {
    pub fn of(e: &Evaluated<'_>) -> Option<EngagementPart> {
        if !e.status.stage.is_customer() {
            return None;
        }
        let s = e.score.as_ref()?;
        let indicators = s
            .breakdown
            .iter()
            .filter_map(|b| b.normalised.map(|v| (b.id.clone(), (v * NANO).round() as i64)))
            .collect();
        Some(EngagementPart { band: s.band, score: s.score, indicators })
    }
}

/// Engagement parts summed over accounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementSums {
    /// Customers per band: engaged, neutral, disengaged.
    pub bands: [i64; 3],
    pub histogram: [i64; 10],
    pub score_sum: i64,
    pub scored: i64,
    /// Indicator id → (sum of normalised values in billionths, customers measured).
    pub indicators: BTreeMap<String, (i128, i64)>,
}

impl EngagementSums {
    pub fn add(&mut self, p: &EngagementPart, sign: i64) {
        let band = match p.band {
            Band::Engaged => 0,
            Band::Neutral => 1,
            Band::Disengaged => 2,
        };
        self.bands[band] += sign;
        self.histogram[usize::from(p.score / 10).min(9)] += sign;
        self.score_sum += sign * i64::from(p.score);
        self.scored += sign;
        for (id, v) in &p.indicators {
            if !self.indicators.contains_key(id) {
                self.indicators.insert(id.clone(), (0, 0));
            }
            if let Some(slot) = self.indicators.get_mut(id) {
                slot.0 += i128::from(sign) * i128::from(*v);
                slot.1 += sign;
                // Canonical: an indicator nobody is measured on has no entry, however it got there.
                if *slot == (0, 0) {
                    self.indicators.remove(id);
                }
            }
        }
    }

    pub fn report(&self, settings: &Settings, as_of: Day) -> EngagementReport {
        let indicators = settings
            .engagement
            .indicators
            .iter()
            .map(|spec| {
                let (total, measured) = self.indicators.get(spec.id.as_str()).copied().unwrap_or((0, 0));
                IndicatorAverage {
                    id: spec.id.clone(),
                    name: spec.name.clone(),
                    weight: spec.weight,
                    average_normalised: ratio(total as f64 / NANO, measured as f64),
                    measured: count(measured),
                }
            })
            .collect();
        EngagementReport {
            as_of,
            customers: count(self.scored),
            bands: BandCounts {
                engaged: count(self.bands[0]),
                neutral: count(self.bands[1]),
                disengaged: count(self.bands[2]),
            },
            histogram: self.histogram.map(count),
            average_score: ratio(self.score_sum as f64, self.scored as f64),
            indicators,
        }
    }
}

/// What the account list sorts and filters by, for one account on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListKeys {
    pub stage: Stage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band: Option<Band>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revenue_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Everything one account adds to the reports of one day (`as_of`) and period: the read model's row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEntry {
    /// `None` when the account was not seen yet on `as_of`.
    pub lifecycle: Option<LifecyclePart>,
    pub engagement: Option<EngagementPart>,
    pub list: Option<ListKeys>,
    pub current: BudgetPart,
    pub previous: BudgetPart,
}

impl AccountEntry {
    /// The entry of one day and period: a read model of that day and period alone (`read_model`).
    pub fn of(h: &AccountHistory, settings: &Settings, as_of: Day, period: Period) -> AccountEntry {
        let plan = IndexPlan { today: as_of, days: vec![as_of], periods: vec![period, period.previous()] };
        IndexEntry::of(h, settings, &plan).view(Selection { day: Some(0), current: Some(0), previous: Some(1) })
    }
}

/// The sums of every account's entry: the site-wide part of the read model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteTotals {
    pub lifecycle: LifecycleSums,
    pub engagement: EngagementSums,
    pub current: BudgetSums,
    pub previous: BudgetSums,
    pub accounts: i64,
}

impl SiteTotals {
    pub fn add(&mut self, e: &AccountEntry, sign: i64) {
        if let Some(l) = &e.lifecycle {
            self.lifecycle.add(l, sign);
        }
        if let Some(g) = &e.engagement {
            self.engagement.add(g, sign);
        }
        self.current.add(&e.current, sign);
        self.previous.add(&e.previous, sign);
        self.accounts += sign;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::Signal::{Activity, Churn, PageView, Purchase, Renewal};
    use crate::testkit::{day, history};
    use proptest::prelude::*;

    fn sample() -> Vec<AccountHistory> {
        vec![
            history("g:new", &[("2026-02-01", &[Activity, Purchase], 1000)]),
            history("g:old", &[("2025-06-01", &[Purchase], 500), ("2026-02-01", &[Renewal], 9000)]),
            history("g:gone", &[("2025-03-01", &[Purchase], 700), ("2026-01-10", &[Churn], 0)]),
            history("a:v", &[("2026-02-03", &[Activity, PageView], 0)]),
        ]
    }

    /// Removing an account's entry from the totals and adding it back leaves them as they were, and the
    /// totals of a set do not depend on the order its entries are added in.
    #[test]
    fn totals_add_and_remove_exactly() {
        let s = Settings::default();
        let period = Period { from: day("2026-01-01"), to: day("2026-04-01") };
        let entries: Vec<AccountEntry> =
            sample().iter().map(|h| AccountEntry::of(h, &s, day("2026-03-31"), period)).collect();
        let mut forward = SiteTotals::default();
        entries.iter().for_each(|e| forward.add(e, 1));
        let mut backward = SiteTotals::default();
        entries.iter().rev().for_each(|e| backward.add(e, 1));
        assert_eq!(forward, backward);
        let mut churned = forward.clone();
        churned.add(&entries[1], -1);
        churned.add(&entries[1], 1);
        assert_eq!(churned, forward);
        assert_eq!(forward.current.new_customers, 1);
        assert_eq!(forward.current.at_start, 2, "g:old and g:gone (it churns inside the period)");
        assert_eq!(forward.current.retained, 1, "g:old");
        assert_eq!((forward.current.revenue_new, forward.current.revenue_existing), (1000, 9000));
    }

    proptest! {
        /// Whatever subset is removed, the totals equal those of the remaining accounts added afresh.
        #[test]
        fn removing_entries_equals_never_adding_them(mask in proptest::collection::vec(any::<bool>(), 4)) {
            let s = Settings::default();
            let period = Period { from: day("2026-01-01"), to: day("2026-04-01") };
            let entries: Vec<AccountEntry> =
                sample().iter().map(|h| AccountEntry::of(h, &s, day("2026-03-31"), period)).collect();
            let mut all = SiteTotals::default();
            entries.iter().for_each(|e| all.add(e, 1));
            let mut kept = SiteTotals::default();
            for (e, keep) in entries.iter().zip(&mask) {
                if *keep { kept.add(e, 1) } else { all.add(e, -1) }
            }
            prop_assert_eq!(all, kept);
        }
    }
}
