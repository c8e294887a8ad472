//! Reports (docs/design.md §3.4 and §6): budget split, lifecycle, funnel, engagement and accounts, computed from
//! resolved account histories and the spend ledger. Ratios are `None` (JSON `null`) when undefined.

use crate::config::Settings;
use crate::contribution::{BudgetPart, BudgetSums, EngagementPart, EngagementSums, LifecyclePart, LifecycleSums};
use crate::engagement::{self, Band, Score};
use crate::lifecycle::{self, Stage};
use crate::money::{Currency, div_round};
use crate::playbook::{Action, actions_for};
use crate::rollup::AccountHistory;
use crate::signals::Signal;
use crate::spend::{ChannelSpend, SpendEntry};
use crate::time::Day;
use serde::{Deserialize, Serialize};

/// A half-open day range [from, to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: Day,
    pub to: Day,
}

impl Period {
    pub fn days(&self) -> i32 {
        self.to.days_since(self.from)
    }
    /// The period of equal length just before this one.
    pub fn previous(&self) -> Period {
        Period { from: self.from.plus(-self.days()), to: self.from }
    }
    /// The last day inside the period.
    pub fn last_day(&self) -> Day {
        self.to.plus(-1)
    }
    pub fn contains(&self, d: Day) -> bool {
        self.from <= d && d < self.to
    }
}

/// `a / b` as a finite ratio, `None` when `b` is zero.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    let r = a / b;
    (b != 0.0 && r.is_finite()).then_some(r)
}

pub(crate) fn ratio_i(a: i64, b: i64) -> Option<f64> {
    ratio(a as f64, b as f64)
}

// ---------------------------------------------------------------------------------------------------------
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

/// What moving spend from one purpose to the other would do, at the measured return per dollar of each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    pub from_purpose: Purpose,
    pub to_purpose: Purpose,
    pub moved_minor: i64,
    pub moved_pct_of_total: Option<f64>,
    pub acquisition_spend_minor: i64,
    pub retention_spend_minor: i64,
    pub acquisition_share: Option<f64>,
    /// Projected revenue of each side; `None` where that side had no spend to measure a return on.
    pub acquisition_revenue_minor: Option<i64>,
    pub retention_revenue_minor: Option<i64>,
    pub revenue_delta_minor: Option<i64>,
    pub new_revenue_share: Option<f64>,
    /// The verdict the projected figures would give.
    pub verdict_kind: VerdictKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Acquisition,
    Retention,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    OverweightAcquisition,
    OverweightRetention,
    Balanced,
    /// No spend or no revenue in the period: nothing to weigh.
    InsufficientData,
}

/// "Are you overweight in acquisition?" (seed 002), with the numbers behind the answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub message: String,
    pub acquisition_spend_share: Option<f64>,
    pub new_revenue_share: Option<f64>,
    /// (acquisition spend share − new revenue share) in percentage points.
    pub difference_points: Option<f64>,
    pub tolerance_points: f64,
    pub what_if: WhatIf,
    pub reference: crate::config::Reference,
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

/// Sums money without wrapping: at the extremes a total saturates instead of turning negative (release
/// builds wrap on overflow, debug builds panic; neither may reach a report).
pub(crate) fn sat_sum(values: impl Iterator<Item = i64>) -> i64 {
    values.fold(0i64, i64::saturating_add)
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

fn classify(acq_share: Option<f64>, new_rev_share: Option<f64>, tolerance: f64) -> (VerdictKind, Option<f64>) {
    match (acq_share, new_rev_share) {
        (Some(a), Some(r)) => {
            let diff = (a - r) * 100.0;
            let kind = if diff > tolerance {
                VerdictKind::OverweightAcquisition
            } else if diff < -tolerance {
                VerdictKind::OverweightRetention
            } else {
                VerdictKind::Balanced
            };
            (kind, Some(diff))
        }
        _ => (VerdictKind::InsufficientData, None),
    }
}

/// Projects the figures after moving `moved_minor` of spend from one purpose to the other (negative moves
/// from retention to acquisition), at each side's measured return per dollar. The widget's budget slider
/// calls this directly, so its numbers are the Worker's.
pub fn what_if(f: &BudgetFigures, moved_minor: i64, tolerance_points: f64) -> WhatIf {
    let a = &f.acquisition;
    let r = &f.retention;
    // Never move more than a side has.
    let moved = moved_minor.clamp(-r.spend_minor.max(0), a.spend_minor.max(0));
    let acq_spend = a.spend_minor - moved;
    let ret_spend = r.spend_minor + moved;
    // revenue' = revenue + Δspend · revenue / spend, in integers, rounded half away from zero.
    let project = |revenue: i64, spend: i64, delta: i64| -> Option<i64> {
        if spend == 0 {
            return if delta == 0 { Some(revenue) } else { None };
        }
        let (n, d) = (i128::from(delta) * i128::from(revenue), i128::from(spend));
        let extra = (2 * n.abs() + d.abs()) / (2 * d.abs()) * if (n < 0) != (d < 0) { -1 } else { 1 };
        i64::try_from(i128::from(revenue) + extra).ok()
    };
    let acq_rev = project(a.revenue_minor, a.spend_minor, -moved);
    let ret_rev = project(r.revenue_minor, r.spend_minor, moved);
    let total_spend = acq_spend + ret_spend;
    let acq_share = ratio_i(acq_spend, total_spend);
    let new_share = match (acq_rev, ret_rev) {
        (Some(x), Some(y)) => ratio_i(x, x + y),
        _ => None,
    };
    let (from_purpose, to_purpose) = if moved >= 0 {
        (Purpose::Acquisition, Purpose::Retention)
    } else {
        (Purpose::Retention, Purpose::Acquisition)
    };
    WhatIf {
        from_purpose,
        to_purpose,
        moved_minor: moved.abs(),
        moved_pct_of_total: ratio_i(moved.abs(), total_spend),
        acquisition_spend_minor: acq_spend,
        retention_spend_minor: ret_spend,
        acquisition_share: acq_share,
        acquisition_revenue_minor: acq_rev,
        retention_revenue_minor: ret_rev,
        revenue_delta_minor: match (acq_rev, ret_rev) {
            (Some(x), Some(y)) => Some(x.saturating_add(y).saturating_sub(f.total_revenue_minor)),
            _ => None,
        },
        new_revenue_share: new_share,
        verdict_kind: classify(acq_share, new_share, tolerance_points).0,
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

/// The verdict for a period, with its what-if.
pub fn verdict(f: &BudgetFigures, settings: &Settings) -> Verdict {
    let b = &settings.budget;
    let acq_share = f.acquisition.share;
    let new_share = f.acquisition.revenue_share;
    let (kind, diff) = classify(acq_share, new_share, b.tolerance_points);
    let amount =
        div_round(f.total_spend_minor.saturating_mul((b.what_if_pct * 100.0).round() as i64), 10_000).unwrap_or(0);
    // Move against the imbalance; when balanced, towards the side with the better measured return.
    let towards_retention = match kind {
        VerdictKind::OverweightAcquisition => true,
        VerdictKind::OverweightRetention => false,
        _ => match (f.acquisition.return_per_dollar, f.retention.return_per_dollar) {
            (Some(a), Some(r)) => r >= a,
            _ => true,
        },
    };
    let what_if = what_if(f, if towards_retention { amount } else { -amount }, b.tolerance_points);
    let message = match kind {
        VerdictKind::InsufficientData => {
            "Not enough data to judge the split: the period needs both spend and revenue.".to_owned()
        }
        _ => {
            let head = format!(
                "Acquisition takes {} of spend while new customers brought {} of revenue",
                pct(acq_share),
                pct(new_share)
            );
            let d = diff.unwrap_or(0.0);
            match kind {
                VerdictKind::OverweightAcquisition => format!(
                    "{head}: overweight in acquisition by {:.0} points (tolerance {:.0}).",
                    d, b.tolerance_points
                ),
                VerdictKind::OverweightRetention => format!(
                    "{head}: overweight in retention by {:.0} points (tolerance {:.0}).",
                    -d, b.tolerance_points
                ),
                _ => format!("{head}: balanced within {:.0} points.", b.tolerance_points),
            }
        }
    };
    Verdict {
        kind,
        message,
        acquisition_spend_share: acq_share,
        new_revenue_share: new_share,
        difference_points: diff,
        tolerance_points: b.tolerance_points,
        what_if,
        reference: b.reference.clone(),
    }
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
    };
    let public_key_revenue_counted = !settings.trust.lifecycle_events_need_secret_key;
    BudgetReport { currency: currency.clone(), current, verdict, previous, deltas, public_key_revenue_counted }
}

// ---------------------------------------------------------------------------------------------------------
// Funnel

/// The prospect funnel for `period`: accounts that were not customers before it and were active in it.
pub fn funnel_report(accounts: &[AccountHistory], settings: &Settings, period: Period) -> FunnelReport {
    let mut sums = BudgetSums::default();
    for h in accounts {
        sums.add(&BudgetPart::of(h, settings, period), 1);
    }
    sums.funnel(period)
}

// ---------------------------------------------------------------------------------------------------------
// Lifecycle, engagement, accounts

/// One account evaluated on a day: its stage and score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluated<'a> {
    /// The history as the site counts it (`AccountHistory::counted`).
    #[serde(skip)]
    pub history: std::borrow::Cow<'a, AccountHistory>,
    pub status: lifecycle::Status,
    pub score: Option<Score>,
}

/// Stage and score of one account at the end of `as_of`, or `None` if it was not seen yet.
pub fn evaluate_one<'a>(h: &'a AccountHistory, settings: &Settings, as_of: Day) -> Option<Evaluated<'a>> {
    let h = h.counted(&settings.trust);
    let score = engagement::score(&h, &settings.engagement, as_of);
    let status = lifecycle::status(&h, settings, as_of, score.as_ref().map(|s| s.band))?;
    Some(Evaluated { history: h, status, score })
}

/// Stage and score of every account seen by the end of `as_of`.
pub fn evaluate<'a>(accounts: &'a [AccountHistory], settings: &Settings, as_of: Day) -> Vec<Evaluated<'a>> {
    accounts.iter().filter_map(|h| evaluate_one(h, settings, as_of)).collect()
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct StageCounts {
    pub prospect: u64,
    pub lead: u64,
    pub new_customer: u64,
    pub active: u64,
    pub at_risk: u64,
    pub lapsed: u64,
}

impl StageCounts {
    pub fn set(&mut self, s: Stage, n: u64) {
        *match s {
            Stage::Prospect => &mut self.prospect,
            Stage::Lead => &mut self.lead,
            Stage::NewCustomer => &mut self.new_customer,
            Stage::Active => &mut self.active,
            Stage::AtRisk => &mut self.at_risk,
            Stage::Lapsed => &mut self.lapsed,
        } = n;
    }
    pub fn get(&self, s: Stage) -> u64 {
        match s {
            Stage::Prospect => self.prospect,
            Stage::Lead => self.lead,
            Stage::NewCustomer => self.new_customer,
            Stage::Active => self.active,
            Stage::AtRisk => self.at_risk,
            Stage::Lapsed => self.lapsed,
        }
    }
}

/// Accounts per stage on a day (docs/design.md §6 shape).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LifecycleReport {
    pub as_of: Day,
    pub stages: StageCounts,
    /// Customers who purchased again after lapsing (included in active / at_risk).
    pub reactivated: u64,
    /// Accounts with advocacy in the engagement window (an overlay: they also have a stage).
    pub advocates: u64,
    pub total: u64,
}

pub fn lifecycle_report(evaluated: &[Evaluated<'_>], as_of: Day) -> LifecycleReport {
    let mut sums = LifecycleSums::default();
    for e in evaluated {
        sums.add(&LifecyclePart::of(e), 1);
    }
    sums.report(as_of)
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct BandCounts {
    pub engaged: u64,
    pub neutral: u64,
    pub disengaged: u64,
}

/// Mean normalised value of one indicator over the scored customers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndicatorAverage {
    pub id: String,
    pub name: String,
    pub weight: f64,
    pub average_normalised: Option<f64>,
    /// Customers for whom the indicator had data.
    pub measured: u64,
}

/// Engagement of paying customers on a day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngagementReport {
    pub as_of: Day,
    /// Customers scored (new, active and at-risk).
    pub customers: u64,
    pub bands: BandCounts,
    /// Scores in ten buckets: 0–9, 10–19, …, 90–100.
    pub histogram: [u64; 10],
    pub average_score: Option<f64>,
    pub indicators: Vec<IndicatorAverage>,
}

pub fn engagement_report(evaluated: &[Evaluated<'_>], settings: &Settings, as_of: Day) -> EngagementReport {
    let mut sums = EngagementSums::default();
    for part in evaluated.iter().filter_map(EngagementPart::of) {
        sums.add(&part, 1);
    }
    sums.report(settings, as_of)
}

/// One row of the account list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountSummary {
    /// `g:…` (account), `u:…` (user) or `a:…` (anonymous visitor).
    pub id: String,
    pub kind: String,
    pub name: Option<String>,
    pub stage: Stage,
    pub reactivated: bool,
    pub advocate: bool,
    pub score: Option<u8>,
    pub band: Option<Band>,
    /// Score now minus the score `trend_days` earlier.
    pub trend: Option<i16>,
    pub first_seen: Day,
    pub last_seen: Option<Day>,
    pub first_purchase: Option<Day>,
    pub last_purchase: Option<Day>,
    pub revenue_minor: i64,
    /// The indicators pulling the score down most, worst first.
    pub pulling_down: Vec<String>,
    /// The playbook actions for the account's situation, so a list needs no request per row.
    pub actions: Vec<Action>,
}

/// One account in full: its summary (with the playbook actions) and the score breakdown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountDetail {
    #[serde(flatten)]
    pub summary: AccountSummary,
    pub as_of: Day,
    pub breakdown: Vec<engagement::IndicatorScore>,
    pub identities: usize,
    pub modules: Vec<String>,
    pub activity_days_in_window: usize,
}

pub fn summary(e: &Evaluated<'_>, settings: &Settings, as_of: Day) -> AccountSummary {
    let h = &*e.history;
    let mut down: Vec<&engagement::IndicatorScore> = e
        .score
        .iter()
        .flat_map(|s| s.breakdown.iter())
        .filter(|b| b.normalised.is_some() && b.shortfall > 0.5)
        .collect();
    down.sort_by(|a, b| b.shortfall.total_cmp(&a.shortfall).then_with(|| a.id.cmp(&b.id)));
    AccountSummary {
        id: h.key.clone(),
        kind: h.kind().to_owned(),
        name: h.name.clone(),
        stage: e.status.stage,
        reactivated: e.status.reactivated,
        advocate: e.status.advocate,
        score: e.score.as_ref().map(|s| s.score),
        band: e.score.as_ref().map(|s| s.band),
        trend: engagement::trend(h, &settings.engagement, as_of),
        first_seen: e.status.first_seen,
        last_seen: h.until(as_of).next_back().map(|(d, _)| *d),
        first_purchase: e.status.first_purchase,
        last_purchase: e.status.last_purchase,
        revenue_minor: sat_sum(h.until(as_of).map(|(_, c)| c.revenue_minor)),
        pulling_down: down.iter().take(3).map(|b| b.id.clone()).collect(),
        actions: actions_for(&settings.playbooks, e.status.stage, e.score.as_ref()),
    }
}

pub fn detail(e: &Evaluated<'_>, settings: &Settings, as_of: Day) -> AccountDetail {
    let h = &*e.history;
    AccountDetail {
        summary: summary(e, settings, as_of),
        as_of,
        breakdown: e.score.as_ref().map(|s| s.breakdown.clone()).unwrap_or_default(),
        identities: h.identities.len(),
        modules: h.modules.iter().filter(|(_, d)| **d <= as_of).map(|(m, _)| m.clone()).collect(),
        activity_days_in_window: h
            .window(as_of, settings.engagement.window_days)
            .filter(|(_, c)| c.count(Signal::Activity) > 0)
            .count(),
    }
}

/// How the account list is filtered, sorted and paged.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct AccountQuery {
    pub stage: Option<Stage>,
    pub band: Option<Band>,
    pub sort: AccountSort,
    pub limit: Option<usize>,
    /// Opaque position returned as `next_cursor` by the previous page.
    pub cursor: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountSort {
    /// Lowest score first: the at-risk list.
    #[default]
    Score,
    ScoreDesc,
    Revenue,
    LastSeen,
    Name,
}

pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 500;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountPage {
    pub as_of: Day,
    pub total: usize,
    pub accounts: Vec<AccountSummary>,
    pub next_cursor: Option<String>,
}

/// The account list, accumulated one evaluated account at a time: the rows that pass the filters are kept
/// (one summary each), then sorted and paged.
#[derive(Clone, Debug)]
pub struct AccountListTally {
    as_of: Day,
    query: AccountQuery,
    rows: Vec<AccountSummary>,
    /// Accounts that pass the filters but sort after every row kept (a read model counts them for `total`).
    unlisted: usize,
}

impl AccountListTally {
    pub fn new(as_of: Day, query: &AccountQuery) -> AccountListTally {
        AccountListTally { as_of, query: query.clone(), rows: Vec::new(), unlisted: 0 }
    }

    pub fn add(&mut self, e: &Evaluated<'_>, settings: &Settings) {
        let q = &self.query;
        if q.stage.is_none_or(|s| e.status.stage == s)
            && q.band.is_none_or(|b| e.score.as_ref().is_some_and(|s| s.band == b))
        {
            self.rows.push(summary(e, settings, self.as_of));
        }
    }

    /// Counts `n` accounts that pass the filters and sort after every row added (for the page's `total`).
    pub fn add_unlisted(&mut self, n: usize) {
        self.unlisted += n;
    }

    pub fn finish(self) -> AccountPage {
        let (q, mut rows) = (self.query, self.rows);
        let key = |a: &AccountSummary| a.id.clone();
        match q.sort {
            AccountSort::Score => rows.sort_by(|a, b| a.score.cmp(&b.score).then_with(|| key(a).cmp(&key(b)))),
            AccountSort::ScoreDesc => rows.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| key(a).cmp(&key(b)))),
            AccountSort::Revenue => {
                rows.sort_by(|a, b| b.revenue_minor.cmp(&a.revenue_minor).then_with(|| key(a).cmp(&key(b))))
            }
            AccountSort::LastSeen => {
                rows.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then_with(|| key(a).cmp(&key(b))))
            }
            AccountSort::Name => rows.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| key(a).cmp(&key(b)))),
        }
        let total = rows.len() + self.unlisted;
        let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let start = q.cursor.as_deref().and_then(|c| c.parse::<usize>().ok()).unwrap_or(0).min(total);
        let end = (start + limit).min(total);
        let accounts = rows.drain(start.min(rows.len())..end.min(rows.len())).collect();
        AccountPage { as_of: self.as_of, total, accounts, next_cursor: (end < total).then(|| end.to_string()) }
    }
}

/// Filters, sorts and pages the evaluated accounts. A bad cursor restarts at the beginning.
pub fn account_page(evaluated: &[Evaluated<'_>], settings: &Settings, as_of: Day, q: &AccountQuery) -> AccountPage {
    let mut tally = AccountListTally::new(as_of, q);
    for e in evaluated {
        tally.add(e, settings);
    }
    tally.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::signals::Signal::{Activity, Churn, PageView, Purchase, Renewal};
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
        assert_eq!(what_if(&f, 1_000_000, 15.0).moved_minor, 8000);
        assert_eq!(what_if(&f, -1_000_000, 15.0).moved_minor, 2000);
        assert_eq!(what_if(&f, -1_000_000, 15.0).from_purpose, Purpose::Retention);
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
        let all: Vec<String> =
            [p1, p2, p3.clone()].iter().flat_map(|p| p.accounts.iter().map(|a| a.id.clone())).collect();
        assert_eq!(all.len(), 5);
        assert_eq!(p3.next_cursor, None);
        let lapsed =
            account_page(&ev, &s, as_of, &AccountQuery { stage: Some(Stage::Lapsed), ..AccountQuery::default() });
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
            for x in [w.acquisition_share, w.new_revenue_share].into_iter().flatten() {
                prop_assert!(x.is_finite() && (0.0..=1.0).contains(&x));
            }
        }
    }
}
