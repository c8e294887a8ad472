//! The budget split: what went to acquisition and to retention, what each brought back, against the
//! previous period of equal length.

use super::*;

use crate::config::Settings;
use crate::contribution::{BudgetPart, BudgetSums};
use crate::money::Currency;
use crate::rollup::AccountHistory;
use crate::spend::{ChannelSpend, SpendEntry};
use serde::{Deserialize, Serialize};

// Budget split

/// The acquisition side of the budget report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AcquisitionFigures {
    pub spend_minor: i64,
    /// Acquisition spend ÷ total spend.
    pub share: Option<f64>,
    /// Accounts whose first purchase falls in the period.
    pub new_customers: u64,
    /// Customer acquisition cost: acquisition spend ÷ new customers.
    pub cac_minor: Option<i64>,
    /// Revenue from new customers in the period.
    pub revenue_minor: i64,
    /// New-customer revenue ÷ total revenue.
    pub revenue_share: Option<f64>,
    /// Revenue from new customers per unit of acquisition spend.
    pub return_per_dollar: Option<f64>,
}

/// The retention side of the budget report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetentionFigures {
    pub spend_minor: i64,
    pub share: Option<f64>,
    /// Paying customers at the end of the day before the period.
    pub customers_at_start: u64,
    /// Of those, still paying at the end of the period's last day.
    pub retained: u64,
    pub retention_rate: Option<f64>,
    pub cost_per_retained_minor: Option<i64>,
    /// Revenue in the period from accounts that were customers before it.
    pub revenue_minor: i64,
    pub revenue_share: Option<f64>,
    pub return_per_dollar: Option<f64>,
}

/// Funnel counts and conversion rates (docs/design.md §3.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunnelReport {
    pub period: Period,
    /// Prospects in play: not customers before the period, active in it.
    pub awareness: u64,
    pub consideration: u64,
    pub lead: u64,
    /// First purchase inside the period.
    pub purchase: u64,
    pub conversion: FunnelConversion,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunnelConversion {
    pub awareness_to_consideration: Option<f64>,
    pub consideration_to_lead: Option<f64>,
    pub lead_to_purchase: Option<f64>,
    pub overall: Option<f64>,
}

/// Every figure of the budget report for one period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetFigures {
    pub period: Period,
    pub acquisition: AcquisitionFigures,
    pub retention: RetentionFigures,
    pub total_spend_minor: i64,
    pub total_revenue_minor: i64,
    /// Average lifetime revenue per customer acquired so far (revenue to the period's end ÷ customers ever).
    pub ltv_minor: Option<i64>,
    pub ltv_to_cac: Option<f64>,
    pub funnel: FunnelReport,
    pub channels: Vec<ChannelSpend>,
    /// Revenue of the period that came with the site's public write key, which every visitor's browser holds:
    /// included in the figures above unless the site counts only its secret key's (the report's
    /// `public_key_revenue_counted`).
    pub public_key_revenue_minor: i64,
}

impl BudgetFigures {
    /// The share of the period's total spend that `minor` is (a channel's or a campaign's); `None` without spend.
    pub fn share_of_spend(&self, minor: i64) -> Option<f64> {
        ratio_i(minor, self.total_spend_minor)
    }
}

/// Differences current − previous; `None` where either side is undefined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetDeltas {
    pub acquisition_spend_minor: i64,
    pub retention_spend_minor: i64,
    pub acquisition_share: Option<f64>,
    pub new_customers: i64,
    pub cac_minor: Option<i64>,
    pub retention_rate: Option<f64>,
    pub revenue_new_minor: i64,
    pub revenue_existing_minor: i64,
    pub total_revenue_minor: i64,
    pub ltv_minor: Option<i64>,
    pub ltv_to_cac: Option<f64>,
    pub customers_at_start: i64,
    pub retained: i64,
    pub cost_per_retained_minor: Option<i64>,
    pub acquisition_return_per_dollar: Option<f64>,
    pub retention_return_per_dollar: Option<f64>,
}

/// The budget-split report (docs/design.md §6 shape).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetReport {
    pub currency: Currency,
    #[serde(flatten)]
    pub current: BudgetFigures,
    pub verdict: Verdict,
    pub previous: BudgetFigures,
    pub deltas: BudgetDeltas,
    /// Whether revenue sent with the public write key is in the figures (`TrustSettings`).
    pub public_key_revenue_counted: bool,
}

fn sub_opt<T: std::ops::Sub<Output = T>>(a: Option<T>, b: Option<T>) -> Option<T> {
    Some(a? - b?)
}

/// Computes all budget figures for `period`.
pub fn budget_figures(
    accounts: &[AccountHistory],
    ledger: &[SpendEntry],
    settings: &Settings,
    period: Period,
) -> BudgetFigures {
    let mut sums = BudgetSums::default();
    for h in accounts {
        sums.add(&BudgetPart::of(h, settings, period), 1);
    }
    sums.figures(period, ledger)
}

/// The whole budget report: current period, previous period of equal length, deltas and verdict.
pub fn budget_report(
    accounts: &[AccountHistory],
    ledger: &[SpendEntry],
    settings: &Settings,
    currency: &Currency,
    period: Period,
) -> BudgetReport {
    let current = budget_figures(accounts, ledger, settings, period);
    let previous = budget_figures(accounts, ledger, settings, period.previous());
    budget_report_of(current, previous, settings, currency)
}

/// The budget report from the figures of its period and of the period before.
pub fn budget_report_of(
    current: BudgetFigures,
    previous: BudgetFigures,
    settings: &Settings,
    currency: &Currency,
) -> BudgetReport {
    let verdict = verdict(&current, settings);
    let (c, p) = (&current, &previous);
    let deltas = BudgetDeltas {
        acquisition_spend_minor: c.acquisition.spend_minor.saturating_sub(p.acquisition.spend_minor),
        retention_spend_minor: c.retention.spend_minor.saturating_sub(p.retention.spend_minor),
        acquisition_share: sub_opt(c.acquisition.share, p.acquisition.share),
        new_customers: c.acquisition.new_customers as i64 - p.acquisition.new_customers as i64,
        cac_minor: sub_opt(c.acquisition.cac_minor, p.acquisition.cac_minor),
        retention_rate: sub_opt(c.retention.retention_rate, p.retention.retention_rate),
        revenue_new_minor: c.acquisition.revenue_minor.saturating_sub(p.acquisition.revenue_minor),
        revenue_existing_minor: c.retention.revenue_minor.saturating_sub(p.retention.revenue_minor),
        total_revenue_minor: c.total_revenue_minor.saturating_sub(p.total_revenue_minor),
        ltv_minor: sub_opt(c.ltv_minor, p.ltv_minor),
        ltv_to_cac: sub_opt(c.ltv_to_cac, p.ltv_to_cac),
        customers_at_start: c.retention.customers_at_start as i64 - p.retention.customers_at_start as i64,
        retained: c.retention.retained as i64 - p.retention.retained as i64,
        cost_per_retained_minor: sub_opt(c.retention.cost_per_retained_minor, p.retention.cost_per_retained_minor),
        acquisition_return_per_dollar: sub_opt(c.acquisition.return_per_dollar, p.acquisition.return_per_dollar),
        retention_return_per_dollar: sub_opt(c.retention.return_per_dollar, p.retention.return_per_dollar),
    };
    let public_key_revenue_counted = !settings.trust.lifecycle_events_need_secret_key;
    BudgetReport { currency: currency.clone(), current, verdict, previous, deltas, public_key_revenue_counted }
}

/// The prospect funnel for `period`: accounts that were not customers before it and were active in it.
pub fn funnel_report(accounts: &[AccountHistory], settings: &Settings, period: Period) -> FunnelReport {
    let mut sums = BudgetSums::default();
    for h in accounts {
        sums.add(&BudgetPart::of(h, settings, period), 1);
    }
    sums.funnel(period)
}
