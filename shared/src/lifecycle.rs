//! Lifecycle stages (docs/design.md §3.2) as a pure function of an account's history, the settings and a day.
//!
//! Customer status is decided by walking the account's purchase, renewal and churn days in order: that is
//! what tells a lapse followed by a new purchase (Reactivated) from a continuing customer.

use crate::config::Settings;
use crate::engagement::Band;
use crate::rollup::AccountHistory;
use crate::signals::Signal;
use crate::time::Day;
use serde::{Deserialize, Serialize};

/// Where an account stands. Exactly one per account per day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Prospect,
    Lead,
    NewCustomer,
    Active,
    AtRisk,
    Lapsed,
}

impl Stage {
    pub const ALL: [Stage; 6] =
        [Stage::Prospect, Stage::Lead, Stage::NewCustomer, Stage::Active, Stage::AtRisk, Stage::Lapsed];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Prospect => "prospect",
            Stage::Lead => "lead",
            Stage::NewCustomer => "new_customer",
            Stage::Active => "active",
            Stage::AtRisk => "at_risk",
            Stage::Lapsed => "lapsed",
        }
    }

    /// Paying customers: new, active and at risk.
    pub fn is_customer(self) -> bool {
        matches!(self, Stage::NewCustomer | Stage::Active | Stage::AtRisk)
    }
}

/// The paying history of an account up to a day, before engagement is considered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
pub struct CustomerHistory {
    /// First purchase or renewal day.
    pub first_purchase: Option<Day>,
    /// Latest purchase or renewal day.
    pub last_purchase: Option<Day>,
    /// A churn event after the latest purchase.
    pub churned: bool,
    /// The latest purchase run began after a lapse.
    pub reactivated: bool,
    /// Start of the current customer run (first purchase, or the re-purchase after a lapse).
    pub run_start: Option<Day>,
}

impl CustomerHistory {
    /// Walks purchases, renewals and churns up to and including `as_of`.
    pub fn of(h: &AccountHistory, lapse_days: i32, as_of: Day) -> CustomerHistory {
        let mut c = CustomerHistory::default();
        for (day, cell) in h.until(as_of) {
            if cell.count(Signal::Purchase) + cell.count(Signal::Renewal) > 0 {
                // Lapsed at the end of the previous day: (day − 1) − last ≥ lapse_days.
                let lapsed_before = match c.last_purchase {
                    Some(last) => c.churned || day.days_since(last) > lapse_days,
                    None => false,
                };
                if c.first_purchase.is_none() {
                    c.first_purchase = Some(*day);
                    c.run_start = Some(*day);
                } else if lapsed_before {
                    c.reactivated = true;
                    c.run_start = Some(*day);
                }
                c.last_purchase = Some(*day);
                // A cancellation on the day of a purchase is a plan change, not a churn.
                c.churned = false;
            } else if cell.count(Signal::Churn) > 0 && c.first_purchase.is_some() {
                c.churned = true;
            }
        }
        c
    }

    /// Whether the account is a paying customer (not lapsed) at the end of `as_of`.
    pub fn is_customer(&self, lapse_days: i32, as_of: Day) -> bool {
        match self.last_purchase {
            Some(last) => !self.churned && as_of.days_since(last) < lapse_days,
            None => false,
        }
    }
}

/// An account's lifecycle position on a day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub stage: Stage,
    /// Purchased again after lapsing (counts as active).
    pub reactivated: bool,
    /// Reference, referral, review, community or advisory-board activity in the engagement window.
    pub advocate: bool,
    pub first_seen: Day,
    pub first_purchase: Option<Day>,
    pub last_purchase: Option<Day>,
}

/// Lifecycle status of `h` at the end of `as_of`, or `None` if the account was not yet seen.
///
/// `band` is the account's engagement band on that day; only Active customers become At risk through it
/// (a New customer is onboarding: its score shows, its stage stays New).
pub fn status(h: &AccountHistory, settings: &Settings, as_of: Day, band: Option<Band>) -> Option<Status> {
    let first_seen = h.first_seen().filter(|d| *d <= as_of)?;
    let l = &settings.lifecycle;
    let c = CustomerHistory::of(h, l.lapse_days, as_of);
    let stage = match c.first_purchase {
        None if h.is_identified() || h.until(as_of).any(|(_, cell)| cell.count(Signal::Lead) > 0) => Stage::Lead,
        None => Stage::Prospect,
        Some(_) if !c.is_customer(l.lapse_days, as_of) => Stage::Lapsed,
        Some(first) if !c.reactivated && as_of.days_since(first) < l.new_customer_days => Stage::NewCustomer,
        Some(_) if band == Some(Band::Disengaged) => Stage::AtRisk,
        Some(_) => Stage::Active,
    };
    let window = settings.engagement.window_days;
    let advocate = h.window(as_of, window).any(|(_, cell)| cell.count(Signal::Advocacy) > 0);
    Some(Status {
        stage,
        reactivated: c.reactivated && stage.is_customer(),
        advocate,
        first_seen,
        first_purchase: c.first_purchase,
        last_purchase: c.last_purchase,
    })
}

/// Funnel position reached by the end of a day (docs/design.md §3.2): each step implies the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunnelStep {
    Awareness,
    Consideration,
    Lead,
    Purchase,
}

/// The furthest funnel step `h` reached by the end of `as_of`.
pub fn funnel_step(h: &AccountHistory, settings: &Settings, as_of: Day) -> Option<FunnelStep> {
    h.first_seen().filter(|d| *d <= as_of)?;
    let mut page_views = 0u64;
    let mut considered = false;
    let mut lead = h.is_identified();
    for (_, cell) in h.until(as_of) {
        if cell.count(Signal::Purchase) + cell.count(Signal::Renewal) > 0 {
            return Some(FunnelStep::Purchase);
        }
        page_views += u64::from(cell.count(Signal::PageView));
        considered |= cell.count(Signal::ConsiderationPage) > 0 || cell.count(Signal::ContentDownloaded) > 0;
        lead |= cell.count(Signal::Lead) > 0;
    }
    considered |= page_views >= u64::from(settings.lifecycle.consideration_pageviews);
    Some(if lead {
        FunnelStep::Lead
    } else if considered {
        FunnelStep::Consideration
    } else {
        FunnelStep::Awareness
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::Signal::{Advocacy, Churn, Lead as LeadSig, PageView, Purchase, Renewal};
    use crate::testkit::*;

    type Row<'a> = (&'a str, &'a [Signal], i64);
    /// (case, account key, history, as_of, band, expected stage, reactivated).
    type Case<'a> = (&'a str, &'a str, &'a [Row<'a>], &'a str, Option<Band>, Stage, bool);

    /// (case, account key, history, as_of, band, expected stage, reactivated). Defaults: new 90 d, lapse 365 d.
    #[test]
    fn every_stage_transition() {
        let cases: &[Case<'_>] = &[
            ("anonymous visitor", "a:v", &[("2026-01-01", &[PageView], 0)], "2026-01-10", None, Stage::Prospect, false),
            ("anonymous lead event", "a:v", &[("2026-01-01", &[LeadSig], 0)], "2026-01-10", None, Stage::Lead, false),
            (
                "lead event only counts once it happened",
                "a:v",
                &[("2026-01-01", &[PageView], 0), ("2026-01-11", &[LeadSig], 0)],
                "2026-01-10",
                None,
                Stage::Prospect,
                false,
            ),
            ("identified user", "u:1", &[("2026-01-01", &[PageView], 0)], "2026-01-10", None, Stage::Lead, false),
            (
                "first purchase 59 days ago",
                "g:1",
                &[("2026-01-01", &[Purchase], 100)],
                "2026-03-01",
                None,
                Stage::NewCustomer,
                false,
            ),
            (
                "day 89 is still new",
                "g:1",
                &[("2026-01-01", &[Purchase], 100)],
                "2026-03-31",
                None,
                Stage::NewCustomer,
                false,
            ),
            ("day 90 is active", "g:1", &[("2026-01-01", &[Purchase], 100)], "2026-04-01", None, Stage::Active, false),
            (
                "new customer stays new when disengaged",
                "g:1",
                &[("2026-01-01", &[Purchase], 100)],
                "2026-02-01",
                Some(Band::Disengaged),
                Stage::NewCustomer,
                false,
            ),
            (
                "active and disengaged is at risk",
                "g:1",
                &[("2026-01-01", &[Purchase], 100)],
                "2026-06-01",
                Some(Band::Disengaged),
                Stage::AtRisk,
                false,
            ),
            (
                "active and neutral stays active",
                "g:1",
                &[("2026-01-01", &[Purchase], 100)],
                "2026-06-01",
                Some(Band::Neutral),
                Stage::Active,
                false,
            ),
            (
                "364 days after the purchase",
                "g:1",
                &[("2025-01-01", &[Purchase], 100)],
                "2025-12-31",
                None,
                Stage::Active,
                false,
            ),
            (
                "365 days after the purchase: lapsed",
                "g:1",
                &[("2025-01-01", &[Purchase], 100)],
                "2026-01-01",
                None,
                Stage::Lapsed,
                false,
            ),
            (
                "a renewal keeps it active",
                "g:1",
                &[("2025-01-01", &[Purchase], 100), ("2025-06-01", &[Renewal], 100)],
                "2026-01-01",
                None,
                Stage::Active,
                false,
            ),
            (
                "cancelled",
                "g:1",
                &[("2026-01-01", &[Purchase], 100), ("2026-02-01", &[Churn], 0)],
                "2026-02-01",
                None,
                Stage::Lapsed,
                false,
            ),
            (
                "churn before any purchase means nothing",
                "u:1",
                &[("2026-01-01", &[Churn], 0)],
                "2026-02-01",
                None,
                Stage::Lead,
                false,
            ),
            (
                "bought again after cancelling",
                "g:1",
                &[("2026-01-01", &[Purchase], 100), ("2026-02-01", &[Churn], 0), ("2026-03-01", &[Purchase], 100)],
                "2026-03-02",
                None,
                Stage::Active,
                true,
            ),
            (
                "bought again after a lapse",
                "g:1",
                &[("2024-01-01", &[Purchase], 100), ("2025-03-01", &[Purchase], 100)],
                "2025-03-10",
                None,
                Stage::Active,
                true,
            ),
            (
                "reactivated and disengaged",
                "g:1",
                &[("2024-01-01", &[Purchase], 100), ("2025-03-01", &[Purchase], 100)],
                "2025-03-10",
                Some(Band::Disengaged),
                Stage::AtRisk,
                true,
            ),
            (
                "lapsed again after reactivating",
                "g:1",
                &[("2024-01-01", &[Purchase], 100), ("2025-03-01", &[Purchase], 100), ("2025-04-01", &[Churn], 0)],
                "2025-05-01",
                None,
                Stage::Lapsed,
                false,
            ),
            (
                "same-day churn and purchase: purchase wins",
                "g:1",
                &[("2026-01-01", &[Purchase], 100), ("2026-02-01", &[Churn, Purchase], 100)],
                "2026-02-02",
                None,
                Stage::NewCustomer,
                false,
            ),
        ];
        let settings = Settings::default();
        for (case, key, rows, as_of, band, stage, reactivated) in cases {
            let h = history(key, rows);
            let s = status(&h, &settings, day(as_of), *band).unwrap_or_else(|| panic!("{case}: no status"));
            assert_eq!((s.stage, s.reactivated), (*stage, *reactivated), "{case}");
        }
    }

    #[test]
    fn not_seen_yet_and_advocacy_window() {
        let settings = Settings::default();
        let h = history("g:1", &[("2026-01-01", &[Purchase], 100), ("2026-03-01", &[Advocacy], 0)]);
        assert_eq!(status(&h, &settings, day("2025-12-31"), None), None);
        let adv = |d: &str| status(&h, &settings, day(d), None).map(|s| s.advocate);
        assert_eq!(adv("2026-02-28"), Some(false));
        assert_eq!(adv("2026-03-01"), Some(true));
        assert_eq!(adv("2026-05-29"), Some(true)); // 89 days later: inside the 90-day window
        assert_eq!(adv("2026-05-30"), Some(false)); // 90 days later: out
    }

    #[test]
    fn funnel_steps() {
        use crate::signals::Signal::{ConsiderationPage, ContentDownloaded};
        let settings = Settings::default();
        let step = |key: &str, rows: &[Row<'_>]| funnel_step(&history(key, rows), &settings, day("2026-02-01"));
        assert_eq!(step("a:1", &[("2026-01-01", &[PageView], 0)]), Some(FunnelStep::Awareness));
        assert_eq!(
            step("a:1", &[("2026-01-01", &[PageView], 0), ("2026-01-02", &[PageView], 0)]),
            Some(FunnelStep::Awareness)
        );
        assert_eq!(
            step(
                "a:1",
                &[("2026-01-01", &[PageView], 0), ("2026-01-02", &[PageView], 0), ("2026-01-03", &[PageView], 0)]
            ),
            Some(FunnelStep::Consideration)
        );
        assert_eq!(step("a:1", &[("2026-01-01", &[PageView, ConsiderationPage], 0)]), Some(FunnelStep::Consideration));
        assert_eq!(step("a:1", &[("2026-01-01", &[ContentDownloaded], 0)]), Some(FunnelStep::Consideration));
        assert_eq!(step("u:1", &[("2026-01-01", &[PageView], 0)]), Some(FunnelStep::Lead));
        assert_eq!(step("a:1", &[("2026-01-01", &[Purchase], 1)]), Some(FunnelStep::Purchase));
        assert_eq!(step("a:1", &[("2026-03-01", &[Purchase], 1)]), None);
    }
}
