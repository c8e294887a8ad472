//! The synthetic site's spend ledger: one entry per month per spend line, built as
//! `daytwo_shared::spend::SpendEntry` values and written by `daytwo_shared::spend::to_csv`, the one CSV writer
//! of the ledger, so the generated file is in the upload format by construction.

use super::rng::Rng;
use super::world::{World, quarter};
use daytwo_shared::spend::{Purpose, SpendEntry, to_csv};
use daytwo_shared::time::Day;
use std::io::{self, Write};

/// How a spend line names its campaign each month.
#[derive(Debug, Clone, Copy)]
enum CampaignName {
    /// `q{quarter}-{suffix}`.
    Quarterly(&'static str),
    /// `{prefix}-{year}`.
    Yearly(&'static str),
    /// The same name every month.
    Fixed(&'static str),
}

/// A budget line: one ledger entry a month, in one channel and campaign, for one purpose.
#[derive(Debug, Clone, Copy)]
pub(super) struct SpendLine {
    /// Last part of the entries' ids, `sp-{year}-{month}-{slug}`.
    slug: &'static str,
    channel: &'static str,
    campaign: CampaignName,
    purpose: Purpose,
    /// Share of the monthly budget, in percent.
    weight: u32,
    /// Months (1–12) when a seasonal line spends most, with the multiplier there and elsewhere (averaging 1).
    season: Option<(&'static [u32], f64, f64)>,
}

/// Roughly 71% of the money goes to acquisition once the mixed lines are split, as is typical.
pub(super) const SPEND_LINES: [SpendLine; 11] = [
    SpendLine {
        slug: "search-brand",
        channel: "search-ads",
        campaign: CampaignName::Quarterly("brand"),
        purpose: Purpose::Acquisition,
        weight: 12,
        season: None,
    },
    SpendLine {
        slug: "search-generic",
        channel: "search-ads",
        campaign: CampaignName::Quarterly("generic"),
        purpose: Purpose::Acquisition,
        weight: 19,
        season: None,
    },
    SpendLine {
        slug: "social",
        channel: "social-ads",
        campaign: CampaignName::Quarterly("abm"),
        purpose: Purpose::Acquisition,
        weight: 14,
        season: None,
    },
    SpendLine {
        slug: "trade-shows",
        channel: "trade-shows",
        campaign: CampaignName::Yearly("saas-expo"),
        purpose: Purpose::Acquisition,
        weight: 12,
        season: Some((&[3, 9], 2.2, 0.76)),
    },
    SpendLine {
        slug: "partners",
        channel: "partner-referrals",
        campaign: CampaignName::Fixed("partner-referrals"),
        purpose: Purpose::Acquisition,
        weight: 8,
        season: None,
    },
    SpendLine {
        slug: "customer-success",
        channel: "customer-success",
        campaign: CampaignName::Fixed("customer-success-programme"),
        purpose: Purpose::Retention,
        weight: 11,
        season: None,
    },
    SpendLine {
        slug: "newsletter",
        channel: "newsletter",
        campaign: CampaignName::Fixed("customer-newsletter"),
        purpose: Purpose::Retention,
        weight: 3,
        season: None,
    },
    SpendLine {
        slug: "community",
        channel: "community",
        campaign: CampaignName::Fixed("community"),
        purpose: Purpose::Retention,
        weight: 4,
        season: None,
    },
    SpendLine {
        slug: "user-conference",
        channel: "user-conference",
        campaign: CampaignName::Yearly("customer-summit"),
        purpose: Purpose::Retention,
        weight: 5,
        season: Some((&[10], 3.2, 0.8)),
    },
    SpendLine {
        slug: "content",
        channel: "content-marketing",
        campaign: CampaignName::Fixed("content-hub"),
        purpose: Purpose::Mixed { acquisition_pct: 60 },
        weight: 8,
        season: None,
    },
    SpendLine {
        slug: "webinars",
        channel: "webinars",
        campaign: CampaignName::Fixed("webinar-series"),
        purpose: Purpose::Mixed { acquisition_pct: 40 },
        weight: 4,
        season: None,
    },
];

/// Writes the ledger through `daytwo_shared::spend::to_csv`; returns the entries written. Nothing but the header
/// when there are no accounts.
pub(super) fn write_spend(w: &World, out: &mut dyn Write) -> io::Result<u32> {
    let entries = spend_entries(w);
    out.write_all(to_csv(&entries).as_bytes())?;
    Ok(entries.len() as u32)
}

/// One entry per month of the window (partial months prorated) per spend line, the lines in `SPEND_LINES` order.
fn spend_entries(w: &World) -> Vec<SpendEntry> {
    let mut entries = Vec::new();
    if w.accounts == 0 {
        return entries;
    }
    let mut rng = Rng::stream(w.seed, u64::MAX);
    // About 1,400 major units per account over the window, spread over its months.
    let monthly_budget = f64::from(w.accounts) * 140_000.0 / f64::from(w.months);
    let (lo, hi) = (Day(w.lo), Day(w.hi));
    let mut month = lo.month_start();
    while month < hi {
        let next = month.add_months(1);
        let from = month.max(lo);
        let to = next.min(hi);
        let share = f64::from(to.days_since(from)) / f64::from(next.days_since(month));
        let (y, m, _) = month.ymd();
        for s in &SPEND_LINES {
            let season = match s.season {
                Some((months, peak, rest)) => {
                    if months.contains(&m) {
                        peak
                    } else {
                        rest
                    }
                }
                None => 1.0,
            };
            let jitter = rng.between(0.85, 1.15);
            let hundredths = (monthly_budget * f64::from(s.weight) / 100.0 * season * jitter * share).round() as i64;
            let campaign = match s.campaign {
                CampaignName::Quarterly(suffix) => format!("q{}-{suffix}", quarter(m)),
                CampaignName::Yearly(prefix) => format!("{prefix}-{y}"),
                CampaignName::Fixed(name) => name.to_owned(),
            };
            entries.push(SpendEntry {
                id: format!("sp-{y:04}-{m:02}-{}", s.slug),
                from,
                to,
                channel: s.channel.to_owned(),
                campaign,
                amount_minor: w.to_minor(hundredths.max(1)),
                currency: w.currency.clone(),
                purpose: s.purpose,
            });
        }
        month = next;
    }
    entries
}
