//! Playbooks: pre-defined actions for an account's situation (seed 001: "a pre-defined set of actions").
//!
//! A rule matches on stage, band and optionally one indicator's normalised value; an account's actions are
//! the matching rules' actions in rule order, each action once.

use crate::engagement::{Band, Score};
use crate::lifecycle::Stage;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One recommended action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub id: String,
    pub title: String,
    /// Where it happens: email, call, event, community…
    pub channel: String,
    /// Why this action, in the seed essays' words.
    pub why: String,
}

/// A condition on one indicator's normalised value (0..1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorCondition {
    pub indicator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
}

/// When a rule applies. Empty lists mean "any".
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Condition {
    pub stages: Vec<Stage>,
    pub bands: Vec<Band>,
    pub indicator: Option<IndicatorCondition>,
}

/// A playbook rule: a condition and its ordered actions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookRule {
    pub id: String,
    #[serde(default)]
    pub when: Condition,
    pub actions: Vec<Action>,
}

impl PlaybookRule {
    /// Checks the rule against the configured indicator ids; errors are (field, reason).
    pub fn validate(&self, indicator_ids: &BTreeSet<&str>) -> Result<(), (String, String)> {
        if self.id.is_empty() {
            return Err(("id".into(), "must not be empty".into()));
        }
        if self.actions.is_empty() {
            return Err(("actions".into(), "needs at least one action".into()));
        }
        if let Some(c) = &self.when.indicator {
            if !indicator_ids.contains(c.indicator.as_str()) {
                return Err(("when.indicator.indicator".into(), format!("unknown indicator {:?}", c.indicator)));
            }
            let ok = |v: Option<f64>| v.is_none_or(|x| x.is_finite() && (0.0..=1.0).contains(&x));
            if !ok(c.below) || !ok(c.above) || (c.below.is_none() && c.above.is_none()) {
                return Err(("when.indicator".into(), "needs below and/or above within 0..1".into()));
            }
        }
        for (i, a) in self.actions.iter().enumerate() {
            if a.id.is_empty() || a.title.is_empty() {
                return Err((format!("actions[{i}]"), "id and title are required".into()));
            }
        }
        Ok(())
    }

    fn matches(&self, stage: Stage, score: Option<&Score>) -> bool {
        let w = &self.when;
        if !w.stages.is_empty() && !w.stages.contains(&stage) {
            return false;
        }
        if !w.bands.is_empty() && !score.is_some_and(|s| w.bands.contains(&s.band)) {
            return false;
        }
        if let Some(c) = &w.indicator {
            let value = score.and_then(|s| s.breakdown.iter().find(|b| b.id == c.indicator)).and_then(|b| b.normalised);
            let Some(v) = value else { return false };
            if c.below.is_some_and(|b| v >= b) || c.above.is_some_and(|a| v <= a) {
                return false;
            }
        }
        true
    }
}

/// The actions for an account in `stage` with `score`, in rule order, without repeats.
pub fn actions_for(rules: &[PlaybookRule], stage: Stage, score: Option<&Score>) -> Vec<Action> {
    let mut seen = BTreeSet::new();
    rules
        .iter()
        .filter(|r| r.matches(stage, score))
        .flat_map(|r| r.actions.iter())
        .filter(|a| seen.insert(a.id.clone()))
        .cloned()
        .collect()
}

fn action(id: &str, title: &str, channel: &str, why: &str) -> Action {
    Action { id: id.into(), title: title.into(), channel: channel.into(), why: why.into() }
}

fn rule(id: &str, stages: &[Stage], bands: &[Band], actions: Vec<Action>) -> PlaybookRule {
    PlaybookRule {
        id: id.into(),
        when: Condition { stages: stages.to_vec(), bands: bands.to_vec(), indicator: None },
        actions,
    }
}

/// Default playbooks, each action traced to the seed essay it comes from.
pub fn default_playbooks() -> Vec<PlaybookRule> {
    use Band::*;
    use Stage::*;
    let nurture = action(
        "nurture_content",
        "Drip helpful content to build trust",
        "email",
        "Prospects need trust built with content dripped over time before a call to action (seed 000, 004).",
    );
    let educate = action(
        "educate_industry",
        "Send a curated industry briefing",
        "email",
        "Be their expert: select the most important industry news so they stay well informed (seed 000).",
    );
    let inform = action(
        "inform_about_us",
        "Share what is new in our offering and team",
        "email",
        "Keep customers informed about your business offering and staffing to stay top of mind (seed 000).",
    );
    let social = action(
        "social_support",
        "Reach out on social channels and offer help",
        "social",
        "Someone is talking about your product right now: listen and be ready to engage (seed 002).",
    );
    let reference = action(
        "reference_programme",
        "Invite to the reference programme",
        "call",
        "Happy customers contribute to marketing through reference programmes (seed 002).",
    );
    let community = action(
        "community",
        "Invite to the customer community",
        "community",
        "Communities keep customers contributing after the purchase (seed 002).",
    );
    let advisory = action(
        "advisory_board",
        "Invite to the customer advisory board",
        "event",
        "Advisory boards and executive relationships deepen the relationship (seed 002).",
    );
    let checkin = action(
        "success_call",
        "Schedule a customer-success check-in",
        "call",
        "A disengaged customer needs a different set of pre-defined actions to re-engage (seed 001).",
    );
    let onboarding = action(
        "onboarding",
        "Run the onboarding sequence",
        "email",
        "The first weeks decide whether a one-time buyer returns (seed 004: the early phase of dating).",
    );
    let upgrade = action(
        "upgrade_assist",
        "Offer an upgrade to the current version",
        "call",
        "Customers on old versions miss what we built since; alignment must continue after the sale (seed 001).",
    );
    let survey = action(
        "survey_followup",
        "Follow up personally on the last survey",
        "call",
        "Communication is the key: if we don't know how their needs change, neither side can keep it healthy (seed 001).",
    );
    let winback = action(
        "win_back",
        "Start the win-back campaign",
        "email",
        "A past customer already knows you: an existing customer buys with 60-80% probability, a prospect 5-20% (seed 000).",
    );
    let webinar = action(
        "webinar_invite",
        "Invite to the next webinar",
        "event",
        "Webinar and event attendance is one of the engagement indicators worth raising (seed 001).",
    );
    let mut rules = vec![
        rule("prospects", &[Prospect, Lead], &[], vec![nurture.clone(), educate.clone()]),
        rule("new_customers", &[NewCustomer], &[], vec![onboarding, inform.clone(), social.clone()]),
        rule("engaged_customers", &[NewCustomer, Active], &[Engaged], vec![reference, community, advisory, inform]),
        rule("neutral_customers", &[Active], &[Neutral], vec![educate.clone(), webinar]),
        rule("at_risk", &[AtRisk], &[], vec![checkin, social, educate]),
        rule("lapsed", &[Lapsed], &[], vec![winback]),
    ];
    let customers = [NewCustomer, Active, AtRisk];
    rules.push(PlaybookRule {
        id: "old_version".into(),
        when: Condition {
            stages: customers.to_vec(),
            bands: vec![],
            indicator: Some(IndicatorCondition { indicator: "version_currency".into(), below: Some(0.5), above: None }),
        },
        actions: vec![upgrade],
    });
    rules.push(PlaybookRule {
        id: "silent_on_surveys".into(),
        when: Condition {
            stages: customers.to_vec(),
            bands: vec![],
            indicator: Some(IndicatorCondition {
                indicator: "survey_response_rate".into(),
                below: Some(0.34),
                above: None,
            }),
        },
        actions: vec![survey],
    });
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engagement::IndicatorScore;

    fn score(band: Band, version_currency: Option<f64>) -> Score {
        let ind = |id: &str, n: Option<f64>| IndicatorScore {
            id: id.into(),
            name: id.into(),
            raw: n,
            normalised: n,
            weight: 1.0,
            contribution: 0.0,
            shortfall: 0.0,
        };
        Score {
            score: 50,
            band,
            breakdown: vec![ind("version_currency", version_currency), ind("survey_response_rate", None)],
        }
    }

    fn ids(actions: &[Action]) -> Vec<&str> {
        actions.iter().map(|a| a.id.as_str()).collect()
    }

    #[test]
    fn default_actions_by_situation() {
        let rules = default_playbooks();
        assert_eq!(ids(&actions_for(&rules, Stage::Prospect, None)), ["nurture_content", "educate_industry"]);
        assert_eq!(ids(&actions_for(&rules, Stage::Lapsed, None)), ["win_back"]);
        // At risk on an old version: re-engage first, then the upgrade offer; nothing twice.
        assert_eq!(
            ids(&actions_for(&rules, Stage::AtRisk, Some(&score(Band::Disengaged, Some(0.2))))),
            ["success_call", "social_support", "educate_industry", "upgrade_assist"]
        );
        // Engaged active customers get the advocacy programme (seed 002).
        assert_eq!(
            ids(&actions_for(&rules, Stage::Active, Some(&score(Band::Engaged, Some(1.0))))),
            ["reference_programme", "community", "advisory_board", "inform_about_us"]
        );
        // An indicator without data never matches its condition.
        let a = actions_for(&rules, Stage::Active, Some(&score(Band::Neutral, None)));
        assert_eq!(ids(&a), ["educate_industry", "webinar_invite"]);
        // Every default action explains itself with a seed reference.
        for r in &rules {
            for a in &r.actions {
                assert!(a.why.contains("seed 00"), "{}", a.id);
            }
        }
    }

    #[test]
    fn rule_validation() {
        let known: BTreeSet<&str> = ["nps"].into_iter().collect();
        let mut r = PlaybookRule { id: "r".into(), when: Condition::default(), actions: vec![] };
        assert_eq!(r.validate(&known).map_err(|e| e.0), Err("actions".to_owned()));
        r.actions.push(Action { id: "a".into(), title: "A".into(), channel: "email".into(), why: String::new() });
        assert_eq!(r.validate(&known), Ok(()));
        r.when.indicator = Some(IndicatorCondition { indicator: "nope".into(), below: Some(0.5), above: None });
        assert_eq!(r.validate(&known).map_err(|e| e.0), Err("when.indicator.indicator".to_owned()));
        r.when.indicator = Some(IndicatorCondition { indicator: "nps".into(), below: Some(1.5), above: None });
        assert_eq!(r.validate(&known).map_err(|e| e.0), Err("when.indicator".to_owned()));
    }
}
