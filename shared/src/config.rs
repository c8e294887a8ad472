//! Site configuration: every tunable of docs/design.md §3 in one serde document, with defaults and validation.
//!
//! A site stores only what it changes; everything else comes from `Default`. `validate` turns a bad
//! document into a typed error naming the offending field, so the Worker can answer 400 with that field.

use crate::engagement::{Band, IndicatorSpec, Metric, Normalisation, default_indicators};
use crate::lifecycle::Stage;
use crate::playbook::{PlaybookRule, default_playbooks};
use crate::signals::EventMapping;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use thiserror::Error;

/// All tunables of one site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub lifecycle: LifecycleSettings,
    pub engagement: EngagementSettings,
    pub budget: BudgetSettings,
    pub mapping: EventMapping,
    pub playbooks: Vec<PlaybookRule>,
    pub ingest: IngestSettings,
    pub trust: TrustSettings,
}

/// Which events may move the executive figures (`crate::rollup::AccountHistory::counted`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustSettings {
    /// Count purchases, renewals, churns and revenue only when they came with the site's secret write key
    /// (a server library, the billing system, `daytwo import`): the public key is in every visitor's browser,
    /// so anyone can send an `Order Completed` with it. Off by default, so a site that sends orders from the
    /// browser keeps counting them; recommended for every site whose billing backend can send events.
    pub lifecycle_events_need_secret_key: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lifecycle: LifecycleSettings::default(),
            engagement: EngagementSettings::default(),
            budget: BudgetSettings::default(),
            mapping: EventMapping::default(),
            playbooks: default_playbooks(),
            ingest: IngestSettings::default(),
            trust: TrustSettings::default(),
        }
    }
}

/// Lifecycle thresholds (docs/design.md §3.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleSettings {
    pub new_customer_days: i32,
    pub lapse_days: i32,
    pub consideration_pageviews: u32,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        LifecycleSettings { new_customer_days: 90, lapse_days: 365, consideration_pageviews: 3 }
    }
}

/// Engagement model (docs/design.md §3.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngagementSettings {
    /// Rolling window of the count indicators, in days.
    pub window_days: i32,
    /// Scores at or above this are Engaged.
    pub engaged_min: u8,
    /// Scores at or above this (and below `engaged_min`) are Neutral; below it, Disengaged.
    pub neutral_min: u8,
    /// The trend compares the score now with the score this many days earlier.
    pub trend_days: i32,
    pub indicators: Vec<IndicatorSpec>,
    /// Product modules on offer; "modules licensed" is a share of this catalogue.
    pub module_catalogue: Vec<String>,
    /// Released versions, oldest first; "versions behind" counts from the last one.
    pub versions: Vec<String>,
}

impl Default for EngagementSettings {
    fn default() -> Self {
        EngagementSettings {
            window_days: 90,
            engaged_min: 65,
            neutral_min: 40,
            trend_days: 30,
            indicators: default_indicators(),
            module_catalogue: [
                "core",
                "analytics",
                "billing",
                "crm",
                "support",
                "automation",
                "reporting",
                "integrations",
            ]
            .map(String::from)
            .to_vec(),
            versions: ["3.0", "3.1", "3.2", "4.0", "4.1", "4.2"].map(String::from).to_vec(),
        }
    }
}

impl EngagementSettings {
    /// The band of a score.
    pub fn band(&self, score: u8) -> Band {
        if score >= self.engaged_min {
            Band::Engaged
        } else if score >= self.neutral_min {
            Band::Neutral
        } else {
            Band::Disengaged
        }
    }
}

/// Budget verdict and what-if (docs/design.md §3.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetSettings {
    /// Percentage points by which the acquisition spend share may differ from the new-revenue share.
    pub tolerance_points: f64,
    /// Percentage of total spend the what-if moves to the other purpose.
    pub what_if_pct: f64,
    /// The seed's context line: purchase probability of an existing customer and of a prospect.
    pub reference: Reference,
}

impl Default for BudgetSettings {
    fn default() -> Self {
        BudgetSettings { tolerance_points: 15.0, what_if_pct: 10.0, reference: Reference::default() }
    }
}

/// "An existing customer buys with 60–80% probability, a prospect with 5–20%."
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Reference {
    pub existing_customer_purchase_probability: [f64; 2],
    pub prospect_purchase_probability: [f64; 2],
    pub source: String,
}

impl Default for Reference {
    fn default() -> Self {
        Reference {
            existing_customer_purchase_probability: [0.6, 0.8],
            prospect_purchase_probability: [0.05, 0.2],
            source: "Marketing Metrics, as quoted in \"Customer Acquisition vs. Customer Engagement\"".into(),
        }
    }
}

/// Ingest behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSettings {
    /// A repeated `messageId` received within this many hours of the first is ignored (Segment: ~24 h).
    pub dedup_window_hours: i64,
    /// Accept events whose time lies at most this far in the future (after clock-skew correction).
    pub max_future_hours: i64,
    /// Oldest accepted event day (backfills may go this far back).
    pub oldest_event: crate::time::Day,
    /// Largest `receivedAt − sentAt` taken for a client's clock error and corrected; a larger gap is a replay
    /// and the message's own time is kept (see `event_time`).
    pub max_clock_skew_hours: i64,
    /// Query parameters kept in `url`/`referrer`/`path` besides `utm_*` (everything else is dropped: `privacy`).
    pub keep_query_params: Vec<String>,
    /// IP addresses: dropped (default) or truncated to the network.
    pub ip: crate::privacy::IpPolicy,
    /// An anonymous one-day visitor who sent nothing for this many days is kept as a count in the site's
    /// visitor pool instead of a row of their own (`crate::visitors`).
    pub anonymous_window_days: i32,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            dedup_window_hours: 72,
            max_future_hours: 24,
            oldest_event: crate::time::Day(10_957),
            max_clock_skew_hours: 48,
            keep_query_params: Vec::new(),
            ip: crate::privacy::IpPolicy::Drop,
            anonymous_window_days: 30,
        }
    }
}

/// A configuration document that cannot be used, and where.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{field}: {reason}")]
pub struct ConfigError {
    pub field: String,
    pub reason: String,
}

impl ConfigError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError { field: field.into(), reason: reason.into() }
    }
}

impl Settings {
    /// Parses a settings document (missing fields take defaults) and validates it.
    pub fn from_json(value: &serde_json::Value) -> Result<Settings, ConfigError> {
        let settings: Settings =
            serde_json::from_value(value.clone()).map_err(|e| ConfigError::new("settings", e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks every constraint the maths relies on (positive windows, ordered bands, positive weights…).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let l = &self.lifecycle;
        if !(1..=3650).contains(&l.new_customer_days) {
            return Err(ConfigError::new("lifecycle.new_customer_days", "must be between 1 and 3650"));
        }
        if !(1..=3650).contains(&l.lapse_days) {
            return Err(ConfigError::new("lifecycle.lapse_days", "must be between 1 and 3650"));
        }
        if l.consideration_pageviews == 0 || l.consideration_pageviews > 10_000 {
            return Err(ConfigError::new("lifecycle.consideration_pageviews", "must be between 1 and 10000"));
        }
        let e = &self.engagement;
        if !(1..=3650).contains(&e.window_days) {
            return Err(ConfigError::new("engagement.window_days", "must be between 1 and 3650"));
        }
        if !(1..=3650).contains(&e.trend_days) {
            return Err(ConfigError::new("engagement.trend_days", "must be between 1 and 3650"));
        }
        if e.engaged_min > 100 || e.neutral_min >= e.engaged_min || e.neutral_min == 0 {
            return Err(ConfigError::new(
                "engagement.neutral_min",
                "bands must satisfy 0 < neutral_min < engaged_min <= 100",
            ));
        }
        if e.indicators.is_empty() {
            return Err(ConfigError::new("engagement.indicators", "at least one indicator is needed"));
        }
        let mut ids = BTreeSet::new();
        let mut weight_sum = 0.0;
        for (i, ind) in e.indicators.iter().enumerate() {
            let at = |f: &str| format!("engagement.indicators[{i}].{f}");
            if ind.id.is_empty() || ind.id.len() > 64 || !ind.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(ConfigError::new(at("id"), "must be 1-64 characters of a-z, 0-9 and _"));
            }
            if !ids.insert(ind.id.as_str()) {
                return Err(ConfigError::new(at("id"), "duplicate indicator id"));
            }
            if !ind.weight.is_finite() || ind.weight < 0.0 || ind.weight > 1000.0 {
                return Err(ConfigError::new(at("weight"), "must be a number between 0 and 1000"));
            }
            weight_sum += ind.weight;
            if let Some(w) = ind.window_days
                && !(1..=3650).contains(&w)
            {
                return Err(ConfigError::new(at("window_days"), "must be between 1 and 3650"));
            }
            ind.normalisation.validate().map_err(|r| ConfigError::new(at("normalisation"), r))?;
            match &ind.metric {
                Metric::Count { signals } if signals.is_empty() => {
                    return Err(ConfigError::new(at("metric.signals"), "needs at least one signal"));
                }
                Metric::Ratio { numerator, denominator } if numerator.is_empty() || denominator.is_empty() => {
                    return Err(ConfigError::new(at("metric"), "a ratio needs numerator and denominator signals"));
                }
                Metric::ModulesLicensed if e.module_catalogue.is_empty() => {
                    return Err(ConfigError::new(
                        "engagement.module_catalogue",
                        "needed by the modules_licensed metric",
                    ));
                }
                Metric::VersionsBehind if e.versions.is_empty() => {
                    return Err(ConfigError::new("engagement.versions", "needed by the versions_behind metric"));
                }
                _ => {}
            }
        }
        if weight_sum <= 0.0 {
            return Err(ConfigError::new("engagement.indicators", "weights must not all be zero"));
        }
        let b = &self.budget;
        if !b.tolerance_points.is_finite() || !(0.0..=100.0).contains(&b.tolerance_points) {
            return Err(ConfigError::new("budget.tolerance_points", "must be between 0 and 100"));
        }
        if !b.what_if_pct.is_finite() || !(0.0..=100.0).contains(&b.what_if_pct) {
            return Err(ConfigError::new("budget.what_if_pct", "must be between 0 and 100"));
        }
        for (name, p) in [
            ("existing_customer_purchase_probability", b.reference.existing_customer_purchase_probability),
            ("prospect_purchase_probability", b.reference.prospect_purchase_probability),
        ] {
            if !p.iter().all(|x| x.is_finite() && (0.0..=1.0).contains(x)) || p[0] > p[1] {
                return Err(ConfigError::new(format!("budget.reference.{name}"), "must be [low, high] within 0..1"));
            }
        }
        for (i, rule) in self.playbooks.iter().enumerate() {
            rule.validate(&ids).map_err(|(f, r)| ConfigError::new(format!("playbooks[{i}].{f}"), r))?;
        }
        let g = &self.ingest;
        if !(24..=24 * 30).contains(&g.dedup_window_hours) {
            return Err(ConfigError::new("ingest.dedup_window_hours", "must be between 24 and 720"));
        }
        if !(1..=3650).contains(&g.anonymous_window_days) {
            return Err(ConfigError::new("ingest.anonymous_window_days", "must be between 1 and 3650"));
        }
        if !(0..=24 * 30).contains(&g.max_future_hours) {
            return Err(ConfigError::new("ingest.max_future_hours", "must be between 0 and 720"));
        }
        if !(0..=24 * 366).contains(&g.max_clock_skew_hours) {
            return Err(ConfigError::new("ingest.max_clock_skew_hours", "must be between 0 and 8784"));
        }
        Ok(())
    }

    /// Stages that count as paying customers.
    pub fn is_customer(stage: Stage) -> bool {
        matches!(stage, Stage::NewCustomer | Stage::Active | Stage::AtRisk)
    }
}

/// Checks shared by every normalisation's parameters.
impl Normalisation {
    pub fn validate(&self) -> Result<(), String> {
        let ok = |x: f64| x.is_finite() && x > 0.0 && x < 1e9;
        match *self {
            Normalisation::Saturate { target } if !ok(target) => Err("saturate.target must be positive".into()),
            Normalisation::Inverse { max } if !ok(max) => Err("inverse.max must be positive".into()),
            Normalisation::Recency { half_life_days } if !ok(half_life_days) => {
                Err("recency.half_life_days must be positive".into())
            }
            Normalisation::Range { lo, hi } if !(ok(lo) && ok(hi) && lo <= hi) => {
                Err("range needs 0 < lo <= hi".into())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_valid_and_roundtrip() {
        let s = Settings::default();
        assert_eq!(s.validate(), Ok(()));
        assert!(s.engagement.indicators.len() >= 12);
        assert!(!s.playbooks.is_empty());
        let back = Settings::from_json(&serde_json::to_value(&s).unwrap_or_default());
        assert_eq!(back, Ok(s));
        assert_eq!(Settings::from_json(&json!({})).map(|s| s.playbooks.len()), Ok(default_playbooks().len()));
        assert_eq!(Settings::from_json(&json!({"playbooks": []})).map(|s| s.playbooks.len()), Ok(0));
    }

    #[test]
    fn bad_documents_name_their_field() {
        let cases = [
            (json!({"lifecycle": {"lapse_days": 0}}), "lifecycle.lapse_days"),
            (json!({"lifecycle": {"new_customer_days": -5}}), "lifecycle.new_customer_days"),
            (json!({"engagement": {"engaged_min": 30, "neutral_min": 40}}), "engagement.neutral_min"),
            (json!({"engagement": {"indicators": []}}), "engagement.indicators"),
            (json!({"budget": {"tolerance_points": 150}}), "budget.tolerance_points"),
            (json!({"ingest": {"dedup_window_hours": 1}}), "ingest.dedup_window_hours"),
            (json!({"lifecycle": {"lapse_dayz": 3}}), "settings"),
            (json!({"engagement": {"window_days": "ninety"}}), "settings"),
            (
                json!({"engagement": {"indicators": [
                    {"id": "a", "name": "A", "metric": {"kind": "count", "signals": ["webinar"]}, "normalisation": {"kind": "saturate", "target": 0}, "weight": 1}
                ]}}),
                "engagement.indicators[0].normalisation",
            ),
            (
                json!({"engagement": {"indicators": [
                    {"id": "a", "name": "A", "metric": {"kind": "count", "signals": ["webinar"]}, "normalisation": {"kind": "saturate", "target": 2}, "weight": 1},
                    {"id": "a", "name": "B", "metric": {"kind": "active_days"}, "normalisation": {"kind": "saturate", "target": 2}, "weight": 1}
                ]}}),
                "engagement.indicators[1].id",
            ),
            (
                json!({"engagement": {"indicators": [
                    {"id": "a", "name": "A", "metric": {"kind": "active_days"}, "normalisation": {"kind": "range", "lo": 5, "hi": 2}, "weight": 1}
                ]}}),
                "engagement.indicators[0].normalisation",
            ),
            (
                json!({"engagement": {"indicators": [
                    {"id": "a", "name": "A", "metric": {"kind": "active_days"}, "normalisation": {"kind": "saturate", "target": 2}, "weight": 0}
                ]}}),
                "engagement.indicators",
            ),
        ];
        for (doc, field) in cases {
            match Settings::from_json(&doc) {
                Err(e) => assert_eq!(e.field, field, "{doc}: {e}"),
                Ok(_) => panic!("accepted {doc}"),
            }
        }
    }

    #[test]
    fn bands() {
        let e = EngagementSettings::default();
        assert_eq!(e.band(100), Band::Engaged);
        assert_eq!(e.band(65), Band::Engaged);
        assert_eq!(e.band(64), Band::Neutral);
        assert_eq!(e.band(40), Band::Neutral);
        assert_eq!(e.band(39), Band::Disengaged);
        assert_eq!(e.band(0), Band::Disengaged);
    }
}
