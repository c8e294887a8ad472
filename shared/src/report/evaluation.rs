//! Accounts evaluated on a day (stage and engagement score), and the lifecycle and engagement reports
//! that count them.

use super::ratio;
use crate::config::Settings;
use crate::contribution::{EngagementPart, EngagementSums, LifecyclePart, LifecycleSums};
use crate::engagement::{self, Score};
use crate::lifecycle::{self, Stage};
use crate::rollup::AccountHistory;
use crate::time::Day;
use serde::{Deserialize, Serialize};

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

impl LifecycleReport {
    /// The share of all accounts that `stage` holds; `None` without accounts.
    pub fn share(&self, stage: Stage) -> Option<f64> {
        ratio(self.stages.get(stage) as f64, self.total as f64)
    }
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

impl EngagementReport {
    /// The share of scored customers that `n` of them are (a band's share); `None` without customers.
    pub fn share_of_customers(&self, n: u64) -> Option<f64> {
        ratio(n as f64, self.customers as f64)
    }
}

pub fn engagement_report(evaluated: &[Evaluated<'_>], settings: &Settings, as_of: Day) -> EngagementReport {
    let mut sums = EngagementSums::default();
    for part in evaluated.iter().filter_map(EngagementPart::of) {
        sums.add(&part, 1);
    }
    sums.report(settings, as_of)
}
