//! The synthetic site's spend ledger: one entry per month per spend line, written as CSV.

use super::rng::Rng;
use super::world::{World, quarter};
use daytwo_shared::time::Day;
use std::io::{self, Write};

/// Header line of the spend CSV.
pub(super) const SPEND_HEADER: &str = "id,from,to,channel,campaign,amount_minor,currency,purpose,acquisition_pct";

#[derive(Debug, Clone, Copy)]
enum CampaignName {
    /// `q{quarter}-{suffix}`.
    Quarterly(&'static str),
    /// `{prefix}-{year}`.
    Yearly(&'static str),
    Fixed(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct SpendLine {
    slug: &'static str,
    channel: &'static str,
    campaign: CampaignName,
    purpose: &'static str,
    acquisition_pct: Option<u32>,
    /// Share of the monthly budget, in percent.
    weight: u32,
    /// Month (1–12) when a seasonal line spends most, with the multiplier there and elsewhere (averaging 1).
    season: Option<(&'static [u32], f64, f64)>,
}

/// Roughly 71% of the money goes to acquisition once the mixed lines are split, as is typical.
pub(super) const SPEND_LINES: [SpendLine; 11] = [
    SpendLine {
        slug: "search-brand",
        channel: "search-ads",
        campaign: CampaignName::Quarterly("brand"),
        purpose: "acquisition",
        acquisition_pct: None,
        weight: 12,
        season: None,
    },
    SpendLine {
        slug: "search-generic",
        channel: "search-ads",
        campaign: CampaignName::Quarterly("generic"),
        purpose: "acquisition",
        acquisition_pct: None,
        weight: 19,
        season: None,
    },
    SpendLine {
        slug: "social",
        channel: "social-ads",
        campaign: CampaignName::Quarterly("abm"),
        purpose: "acquisition",
        acquisition_pct: None,
        weight: 14,
        season: None,
    },
    SpendLine {
        slug: "trade-shows",
        channel: "trade-shows",
        campaign: CampaignName::Yearly("saas-expo"),
        purpose: "acquisition",
        acquisition_pct: None,
        weight: 12,
        season: Some((&[3, 9], 2.2, 0.76)),
    },
    SpendLine {
        slug: "partners",
        channel: "partner-referrals",
        campaign: CampaignName::Fixed("partner-referrals"),
        purpose: "acquisition",
        acquisition_pct: None,
        weight: 8,
        season: None,
    },
    SpendLine {
        slug: "customer-success",
        channel: "customer-success",
        campaign: CampaignName::Fixed("customer-success-programme"),
        purpose: "retention",
        acquisition_pct: None,
        weight: 11,
        season: None,
    },
    SpendLine {
        slug: "newsletter",
        channel: "newsletter",
        campaign: CampaignName::Fixed("customer-newsletter"),
        purpose: "retention",
        acquisition_pct: None,
        weight: 3,
        season: None,
    },
    SpendLine {
        slug: "community",
        channel: "community",
        campaign: CampaignName::Fixed("community"),
        purpose: "retention",
        acquisition_pct: None,
        weight: 4,
        season: None,
    },
    SpendLine {
        slug: "user-conference",
        channel: "user-conference",
        campaign: CampaignName::Yearly("customer-summit"),
        purpose: "retention",
        acquisition_pct: None,
        weight: 5,
        season: Some((&[10], 3.2, 0.8)),
    },
    SpendLine {
        slug: "content",
        channel: "content-marketing",
        campaign: CampaignName::Fixed("content-hub"),
        purpose: "mixed",
        acquisition_pct: Some(60),
        weight: 8,
        season: None,
    },
    SpendLine {
        slug: "webinars",
        channel: "webinars",
        campaign: CampaignName::Fixed("webinar-series"),
        purpose: "mixed",
        acquisition_pct: Some(40),
        weight: 4,
        season: None,
    },
];

/// One row per month per campaign; returns the rows written. Nothing but the header when there are no accounts.
pub(super) fn write_spend(w: &World, out: &mut dyn Write) -> io::Result<u32> {
    out.write_all(SPEND_HEADER.as_bytes())?;
    out.write_all(b"\n")?;
    if w.accounts == 0 {
        return Ok(0);
    }
    let mut rng = Rng::stream(w.seed, u64::MAX);
    // About 1,400 major units per account over the window, spread over its months.
    let monthly_budget = f64::from(w.accounts) * 140_000.0 / f64::from(w.months);
    let (lo, hi) = (Day(w.lo), Day(w.hi));
    let mut rows = 0u32;
    let mut month = lo.month_start();
    let mut line = String::new();
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
            let amount = w.to_minor(hundredths.max(1));
            let campaign = match s.campaign {
                CampaignName::Quarterly(suffix) => format!("q{}-{suffix}", quarter(m)),
                CampaignName::Yearly(prefix) => format!("{prefix}-{y}"),
                CampaignName::Fixed(name) => name.to_owned(),
            };
            let pct = s.acquisition_pct.map(|p| p.to_string()).unwrap_or_default();
            line.clear();
            use std::fmt::Write as _;
            let _ = writeln!(
                line,
                "sp-{y:04}-{m:02}-{},{from},{to},{},{campaign},{amount},{},{},{pct}",
                s.slug, s.channel, w.currency, s.purpose
            );
            out.write_all(line.as_bytes())?;
            rows += 1;
        }
        month = next;
    }
    Ok(rows)
}
