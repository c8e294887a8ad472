//! Engagement scoring (DESIGN §3.3): weighted indicators, each a measurement over a rolling window
//! normalised to 0..1; the score is their weighted mean on a 0..100 scale.
//!
//! An indicator with nothing to measure (no survey sent, no version ever reported) is left out of both sums
//! rather than counted as zero: no data is not bad news.

use crate::config::EngagementSettings;
use crate::rollup::AccountHistory;
use crate::signals::Signal;
use crate::time::Day;
use serde::{Deserialize, Serialize};

/// Engagement bands (seed 001: "Engaged … OR Disengaged"), with Neutral between.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Engaged,
    Neutral,
    Disengaged,
}

impl Band {
    pub const ALL: [Band; 3] = [Band::Engaged, Band::Neutral, Band::Disengaged];
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Engaged => "engaged",
            Band::Neutral => "neutral",
            Band::Disengaged => "disengaged",
        }
    }
}

/// What an indicator measures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Metric {
    /// Events carrying any of these signals, in the window.
    Count { signals: Vec<Signal> },
    /// Distinct days with any activity, in the window.
    ActiveDays,
    /// Σ numerator ÷ Σ denominator in the window (survey response rate); undefined without a denominator.
    Ratio { numerator: Vec<Signal>, denominator: Vec<Signal> },
    /// Share of the module catalogue licensed so far.
    ModulesLicensed,
    /// Released versions between the latest reported one and the newest release.
    VersionsBehind,
    /// The latest NPS answer (0..10) in the window.
    LatestNps,
    /// Days since the last event with one of these signals (any activity when empty).
    DaysSince {
        #[serde(default)]
        signals: Vec<Signal>,
    },
}

/// How a raw measurement becomes 0..1 (1 is best).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Normalisation {
    /// More is better up to `target`: min(x / target, 1).
    Saturate { target: f64 },
    /// Best inside [lo, hi]: x / lo below, 1 inside, falling linearly to 0 at 2·hi above.
    Range { lo: f64, hi: f64 },
    /// Less is better: max(0, 1 − x / max).
    Inverse { max: f64 },
    /// Recent is better: 0.5^(x / half_life_days).
    Recency { half_life_days: f64 },
}

impl Normalisation {
    /// Maps a raw value into 0..=1; never NaN for finite parameters that passed validation.
    pub fn apply(self, x: f64) -> f64 {
        let x = if x.is_finite() { x.max(0.0) } else { 0.0 };
        let v = match self {
            Normalisation::Saturate { target } => x / target,
            Normalisation::Range { lo, hi } => {
                if x < lo {
                    x / lo
                } else if x <= hi {
                    1.0
                } else {
                    1.0 - (x - hi) / hi
                }
            }
            Normalisation::Inverse { max } => 1.0 - x / max,
            Normalisation::Recency { half_life_days } => 0.5f64.powf(x / half_life_days),
        };
        if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 }
    }
}

/// One configured indicator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSpec {
    pub id: String,
    pub name: String,
    pub metric: Metric,
    pub normalisation: Normalisation,
    pub weight: f64,
    /// Overrides the engagement window for this indicator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<i32>,
}

/// The default catalogue: seed 001's examples plus the usual activity and recency signals.
pub fn default_indicators() -> Vec<IndicatorSpec> {
    use Metric::*;
    use Normalisation::*;
    use Signal as S;
    let ind = |id: &str, name: &str, metric: Metric, normalisation: Normalisation, weight: f64| IndicatorSpec {
        id: id.into(),
        name: name.into(),
        metric,
        normalisation,
        weight,
        window_days: None,
    };
    vec![
        ind("modules_licensed", "Modules licensed", ModulesLicensed, Saturate { target: 0.5 }, 2.0),
        ind("version_currency", "Software version currency", VersionsBehind, Inverse { max: 3.0 }, 1.0),
        ind(
            "support_cases",
            "Support cases opened",
            Count { signals: vec![S::SupportCase] },
            Range { lo: 1.0, hi: 4.0 },
            1.0,
        ),
        ind("webinars", "Webinars attended", Count { signals: vec![S::Webinar] }, Saturate { target: 2.0 }, 1.0),
        ind("events", "Events attended", Count { signals: vec![S::EventAttended] }, Saturate { target: 1.0 }, 1.0),
        ind(
            "survey_response_rate",
            "Survey response rate",
            Ratio { numerator: vec![S::SurveyResponded], denominator: vec![S::SurveySent] },
            Saturate { target: 1.0 },
            1.0,
        ),
        ind("nps", "Latest NPS", LatestNps, Saturate { target: 9.0 }, 2.0),
        ind("active_days", "Active days", ActiveDays, Saturate { target: 20.0 }, 2.0),
        ind("logins", "Logins", Count { signals: vec![S::Login] }, Saturate { target: 12.0 }, 1.0),
        ind("content", "Content engagement", Count { signals: vec![S::ContentEngaged] }, Saturate { target: 6.0 }, 1.0),
        ind("advocacy", "Advocacy", Count { signals: vec![S::Advocacy] }, Saturate { target: 1.0 }, 1.0),
        ind(
            "days_since_activity",
            "Days since last activity",
            DaysSince { signals: vec![] },
            Recency { half_life_days: 14.0 },
            2.0,
        ),
        ind(
            "days_since_purchase",
            "Days since last purchase",
            DaysSince { signals: vec![S::Purchase, S::Renewal] },
            Recency { half_life_days: 180.0 },
            1.0,
        ),
    ]
}

/// One indicator's part in a score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndicatorScore {
    pub id: String,
    pub name: String,
    /// The measurement; `null` when there was nothing to measure.
    pub raw: Option<f64>,
    pub normalised: Option<f64>,
    pub weight: f64,
    /// Points this indicator adds to the score (the contributions sum to the unrounded score).
    pub contribution: f64,
    /// Points lost against a perfect value: what pulls the score down.
    pub shortfall: f64,
}

/// A score with its breakdown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score {
    /// round(100 · Σ wᵢ·nᵢ / Σ wᵢ) over the indicators that had data.
    pub score: u8,
    pub band: Band,
    pub breakdown: Vec<IndicatorScore>,
}

fn signal_sum(cells: &[(&Day, &crate::rollup::DayCell)], signals: &[Signal]) -> u64 {
    cells.iter().map(|(_, c)| signals.iter().map(|s| u64::from(c.count(*s))).sum::<u64>()).sum()
}

/// Measures one indicator for `h` at the end of `as_of`.
pub fn measure(spec: &IndicatorSpec, h: &AccountHistory, e: &EngagementSettings, as_of: Day) -> Option<f64> {
    let window = spec.window_days.unwrap_or(e.window_days);
    let cells: Vec<_> = h.window(as_of, window).collect();
    match &spec.metric {
        Metric::Count { signals } => Some(signal_sum(&cells, signals) as f64),
        Metric::ActiveDays => Some(cells.iter().filter(|(_, c)| c.count(Signal::Activity) > 0).count() as f64),
        Metric::Ratio { numerator, denominator } => {
            let d = signal_sum(&cells, denominator);
            (d > 0).then(|| signal_sum(&cells, numerator) as f64 / d as f64)
        }
        Metric::ModulesLicensed => {
            let licensed = e.module_catalogue.iter().filter(|m| h.modules.get(*m).is_some_and(|d| *d <= as_of)).count();
            (!e.module_catalogue.is_empty()).then(|| licensed as f64 / e.module_catalogue.len() as f64)
        }
        Metric::VersionsBehind => {
            let latest = h.until(as_of).filter_map(|(_, c)| c.version.as_ref()).max()?;
            let idx = e.versions.iter().position(|v| *v == latest.value)?;
            Some((e.versions.len() - 1 - idx) as f64)
        }
        Metric::LatestNps => cells.iter().filter_map(|(_, c)| c.nps.as_ref()).max().map(|n| f64::from(n.value)),
        Metric::DaysSince { signals } => {
            let hit = |c: &crate::rollup::DayCell| {
                if signals.is_empty() { c.count(Signal::Activity) > 0 } else { signals.iter().any(|s| c.count(*s) > 0) }
            };
            h.until(as_of).rev().find(|(_, c)| hit(c)).map(|(d, _)| f64::from(as_of.days_since(*d)))
        }
    }
}

/// The engagement score of `h` at the end of `as_of`; `None` when the account was not seen yet or no
/// indicator had data.
pub fn score(h: &AccountHistory, e: &EngagementSettings, as_of: Day) -> Option<Score> {
    h.first_seen().filter(|d| *d <= as_of)?;
    let measured: Vec<(&IndicatorSpec, Option<f64>, Option<f64>)> = e
        .indicators
        .iter()
        .map(|spec| {
            let raw = measure(spec, h, e, as_of).filter(|x| x.is_finite());
            (spec, raw, raw.map(|x| spec.normalisation.apply(x)))
        })
        .collect();
    let total_weight: f64 = measured.iter().filter(|(_, _, n)| n.is_some()).map(|(s, _, _)| s.weight).sum();
    if total_weight <= 0.0 {
        return None;
    }
    let breakdown: Vec<IndicatorScore> = measured
        .into_iter()
        .map(|(spec, raw, normalised)| {
            let share = spec.weight / total_weight * 100.0;
            IndicatorScore {
                id: spec.id.clone(),
                name: spec.name.clone(),
                raw,
                normalised,
                weight: spec.weight,
                contribution: normalised.map_or(0.0, |n| share * n),
                shortfall: normalised.map_or(0.0, |n| share * (1.0 - n)),
            }
        })
        .collect();
    let total: f64 = breakdown.iter().map(|b| b.contribution).sum();
    let score = total.round().clamp(0.0, 100.0) as u8;
    Some(Score { score, band: e.band(score), breakdown })
}

/// Score now and `trend_days` earlier; the trend is their difference (`None` if the account is newer).
pub fn trend(h: &AccountHistory, e: &EngagementSettings, as_of: Day) -> Option<i16> {
    let now = score(h, e, as_of)?;
    let before = score(h, e, as_of.plus(-e.trend_days))?;
    Some(i16::from(now.score) - i16::from(before.score))
}
