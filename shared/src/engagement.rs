//! Engagement scoring (docs/design.md §3.3): weighted indicators, each a measurement over a rolling window
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::{DayCell, Latest};
    use crate::signals::Signal as S;
    use crate::testkit::*;
    use crate::time::Timestamp;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn normalisations_by_hand() {
        let cases = [
            (Normalisation::Saturate { target: 4.0 }, 0.0, 0.0),
            (Normalisation::Saturate { target: 4.0 }, 1.0, 0.25),
            (Normalisation::Saturate { target: 4.0 }, 9.0, 1.0),
            (Normalisation::Range { lo: 2.0, hi: 4.0 }, 0.0, 0.0),
            (Normalisation::Range { lo: 2.0, hi: 4.0 }, 1.0, 0.5),
            (Normalisation::Range { lo: 2.0, hi: 4.0 }, 3.0, 1.0),
            (Normalisation::Range { lo: 2.0, hi: 4.0 }, 4.0, 1.0),
            (Normalisation::Range { lo: 2.0, hi: 4.0 }, 6.0, 0.5),
            (Normalisation::Range { lo: 2.0, hi: 4.0 }, 8.0, 0.0),
            (Normalisation::Range { lo: 2.0, hi: 4.0 }, 20.0, 0.0),
            (Normalisation::Inverse { max: 3.0 }, 0.0, 1.0),
            (Normalisation::Inverse { max: 3.0 }, 1.0, 2.0 / 3.0),
            (Normalisation::Inverse { max: 3.0 }, 5.0, 0.0),
            (Normalisation::Recency { half_life_days: 14.0 }, 0.0, 1.0),
            (Normalisation::Recency { half_life_days: 14.0 }, 14.0, 0.5),
            (Normalisation::Recency { half_life_days: 14.0 }, 28.0, 0.25),
            (Normalisation::Saturate { target: 4.0 }, f64::NAN, 0.0),
            (Normalisation::Saturate { target: 4.0 }, -3.0, 0.0),
        ];
        for (n, x, want) in cases {
            assert!(close(n.apply(x), want), "{n:?}({x}) = {} want {want}", n.apply(x));
        }
    }

    fn two_indicator_settings() -> EngagementSettings {
        let spec = |id: &str, metric, normalisation, weight| IndicatorSpec {
            id: id.into(),
            name: id.into(),
            metric,
            normalisation,
            weight,
            window_days: None,
        };
        EngagementSettings {
            indicators: vec![
                spec(
                    "webinars",
                    Metric::Count { signals: vec![S::Webinar] },
                    Normalisation::Saturate { target: 2.0 },
                    1.0,
                ),
                spec("active", Metric::ActiveDays, Normalisation::Saturate { target: 4.0 }, 3.0),
                spec(
                    "surveys",
                    Metric::Ratio { numerator: vec![S::SurveyResponded], denominator: vec![S::SurveySent] },
                    Normalisation::Saturate { target: 1.0 },
                    5.0,
                ),
            ],
            ..EngagementSettings::default()
        }
    }

    #[test]
    fn score_by_hand() {
        // Two webinars (2/2 → 1.0, weight 1) and three active days (3/4 → 0.75, weight 3); no survey was sent,
        // so the survey indicator (weight 5) is left out: 100 · (1·1 + 3·0.75) / 4 = 81.25 → 81.
        let e = two_indicator_settings();
        let h = history(
            "g:1",
            &[("2026-01-01", &[S::Webinar], 0), ("2026-01-02", &[S::Webinar], 0), ("2026-01-03", &[], 0)],
        );
        let s = score(&h, &e, day("2026-01-10")).unwrap_or_else(|| panic!("no score"));
        assert_eq!(s.score, 81);
        assert_eq!(s.band, Band::Engaged);
        assert!(close(s.breakdown[0].contribution, 25.0));
        assert!(close(s.breakdown[1].contribution, 56.25));
        assert!(close(s.breakdown[1].shortfall, 18.75));
        assert_eq!(s.breakdown[2].raw, None);
        assert!(close(s.breakdown[2].contribution, 0.0));
        // Once a survey is sent and ignored, it weighs in at 0: 100 · 3.25 / 9 = 36.1 → 36, disengaged.
        let h2 = history(
            "g:1",
            &[
                ("2026-01-01", &[S::Webinar], 0),
                ("2026-01-02", &[S::Webinar, S::SurveySent], 0),
                ("2026-01-03", &[], 0),
            ],
        );
        let s2 = score(&h2, &e, day("2026-01-10")).unwrap_or_else(|| panic!("no score"));
        assert_eq!((s2.score, s2.band), (36, Band::Disengaged));
        // The window is 90 days: on day 91 after the last event, nothing counts any more.
        assert_eq!(score(&h, &e, day("2026-04-03")).map(|s| s.score), Some(0));
        assert_eq!(score(&h, &e, day("2025-12-31")), None);
    }

    #[test]
    fn default_catalogue_metrics_by_hand() {
        let e = EngagementSettings::default();
        let mut h = history(
            "g:1",
            &[
                ("2026-01-01", &[S::Purchase, S::ModuleLicensed], 100),
                ("2026-02-01", &[S::SupportCase, S::SurveySent, S::VersionReported], 0),
                ("2026-02-15", &[S::SurveyResponded, S::Advocacy], 0),
                ("2026-03-01", &[S::Login], 0),
            ],
        );
        h.modules.insert("crm".into(), day("2026-01-01"));
        h.modules.insert("billing".into(), day("2026-01-01"));
        h.modules.insert("not-in-catalogue".into(), day("2026-01-01"));
        let at = |d: &str| Timestamp(day(d).start().0);
        if let Some(c) = h.days.get_mut(&day("2026-02-01")) {
            c.version = Some(Box::new(Latest { at: at("2026-02-01"), value: "4.0".into() }));
        }
        if let Some(c) = h.days.get_mut(&day("2026-02-15")) {
            c.nps = Some(Latest { at: at("2026-02-15"), value: 8 });
        }
        let as_of = day("2026-03-11");
        let raw = |id: &str| {
            let spec = e.indicators.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("{id}"));
            measure(spec, &h, &e, as_of)
        };
        assert_eq!(raw("modules_licensed"), Some(2.0 / 8.0));
        assert_eq!(raw("version_currency"), Some(2.0)); // 4.0 → 4.1 → 4.2
        assert_eq!(raw("support_cases"), Some(1.0));
        assert_eq!(raw("survey_response_rate"), Some(1.0));
        assert_eq!(raw("nps"), Some(8.0));
        assert_eq!(raw("active_days"), Some(4.0));
        assert_eq!(raw("logins"), Some(1.0));
        assert_eq!(raw("advocacy"), Some(1.0));
        assert_eq!(raw("days_since_activity"), Some(10.0));
        assert_eq!(raw("days_since_purchase"), Some(69.0));
        assert_eq!(raw("webinars"), Some(0.0));
        let s = score(&h, &e, as_of).unwrap_or_else(|| panic!("no score"));
        let expected: f64 = s.breakdown.iter().map(|b| b.contribution).sum();
        assert!(close(f64::from(s.score), expected.round()));
        assert!(s.breakdown.iter().all(|b| close(b.contribution + b.shortfall, b.weight / 17.0 * 100.0)));
    }

    #[test]
    fn trend_compares_with_thirty_days_earlier() {
        let e = two_indicator_settings();
        let rows: Vec<(String, Vec<S>)> = (1..=4).map(|d| (format!("2026-01-0{d}"), vec![])).collect();
        let rows: Vec<(&str, &[S], i64)> = rows.iter().map(|(d, s)| (d.as_str(), s.as_slice(), 0)).collect();
        let h = history("g:1", &rows);
        // Webinars measure 0 (weight 1), active days 4/4 (weight 3), no survey: 100 · 3 / 4 = 75 on Jan 4,
        // and still 75 on Feb 3 (Jan 1-4 are inside its window): trend 0.
        assert_eq!(score(&h, &e, day("2026-01-04")).map(|s| s.score), Some(75));
        assert_eq!(trend(&h, &e, day("2026-02-03")), Some(0));
        // Thirty days before Jan 4 the account did not exist.
        assert_eq!(trend(&h, &e, day("2026-01-04")), None);
        // Apr 2: the window (Jan 3 .. Apr 2) holds 2 active days → 100 · 1.5 / 4 = 37.5 → 38; Mar 3 → 75.
        assert_eq!(trend(&h, &e, day("2026-04-02")), Some(-37));
    }

    proptest! {
        #[test]
        fn scores_stay_in_range_and_never_nan(
            cells in prop::collection::vec((0i32..200, 0usize..S::COUNT, 0u32..50, prop::option::of(0u8..=10)), 1..30),
            target in 0.001f64..1e6, lo in 0.001f64..100.0, span in 0.0f64..100.0, half in 0.001f64..1e4,
            weights in prop::collection::vec(0.0f64..1000.0, 4),
            as_of in 0i32..400,
        ) {
            let mut days = std::collections::BTreeMap::new();
            for (d, sig, n, nps) in cells {
                let c: &mut DayCell = days.entry(crate::time::Day(20_000 + d)).or_default();
                c.counts[S::Activity.index()] += 1;
                c.counts[sig] += n;
                if let Some(v) = nps { c.nps = Some(Latest { at: Timestamp(0), value: v }); }
            }
            let h = AccountHistory::new("g:p", days);
            let mut e = EngagementSettings::default();
            let norms = [
                Normalisation::Saturate { target },
                Normalisation::Range { lo, hi: lo + span },
                Normalisation::Inverse { max: target },
                Normalisation::Recency { half_life_days: half },
            ];
            for (i, spec) in e.indicators.iter_mut().enumerate() {
                spec.normalisation = norms[i % 4];
                spec.weight = weights[i % 4];
            }
            if let Some(s) = score(&h, &e, crate::time::Day(20_000 + as_of)) {
                prop_assert!(s.score <= 100);
                for b in &s.breakdown {
                    prop_assert!(b.contribution.is_finite() && b.shortfall.is_finite());
                    prop_assert!(b.normalised.is_none_or(|n| (0.0..=1.0).contains(&n)));
                    prop_assert!(b.raw.is_none_or(f64::is_finite));
                }
                prop_assert_eq!(s.band, e.band(s.score));
            }
        }
    }
}
