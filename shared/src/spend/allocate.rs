//! Spend attributed to a period: each entry prorated by the days it shares with the period, split into
//! acquisition and retention by its purpose, and broken down by channel and campaign.

use super::*;
use crate::time::Day;
use std::collections::BTreeMap;

pub(super) fn to_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// `part` spread evenly over `[start, end)`, share of `[from, to)`; see [`SpendEntry::prorated`].
pub(super) fn prorate_part(part: i64, start: Day, end: Day, from: Day, to: Day) -> i64 {
    let n = i64::from(end.0) - i64::from(start.0);
    if n <= 0 || from >= to {
        return 0;
    }
    let a = from.clamp(start, end);
    let b = to.clamp(start, end);
    let cumulative =
        |d: Day| (i128::from(part) * i128::from(i64::from(d.0) - i64::from(start.0))).div_euclid(i128::from(n));
    to_i64(cumulative(b) - cumulative(a))
}

/// Spend falling in `[from, to)`, by channel and campaign. Sums saturate rather than wrap.
pub fn allocate(entries: &[SpendEntry], from: Day, to: Day) -> SpendAllocation {
    let mut by_channel: BTreeMap<&str, BTreeMap<&str, Split>> = BTreeMap::new();
    for entry in entries {
        let split = entry.prorated(from, to);
        if split == Split::default() {
            continue;
        }
        let slot = by_channel.entry(&entry.channel).or_default().entry(&entry.campaign).or_default();
        slot.acquisition_minor = slot.acquisition_minor.saturating_add(split.acquisition_minor);
        slot.retention_minor = slot.retention_minor.saturating_add(split.retention_minor);
    }
    let mut out = SpendAllocation::default();
    for (channel, campaigns) in by_channel {
        let mut ch = ChannelSpend { channel: channel.to_owned(), ..ChannelSpend::default() };
        for (campaign, split) in campaigns {
            if split == Split::default() {
                continue;
            }
            ch.acquisition_minor = ch.acquisition_minor.saturating_add(split.acquisition_minor);
            ch.retention_minor = ch.retention_minor.saturating_add(split.retention_minor);
            ch.campaigns.push(CampaignSpend {
                campaign: campaign.to_owned(),
                acquisition_minor: split.acquisition_minor,
                retention_minor: split.retention_minor,
                total_minor: split.total_minor(),
            });
        }
        if ch.campaigns.is_empty() {
            continue;
        }
        ch.total_minor = ch.acquisition_minor.saturating_add(ch.retention_minor);
        crate::order::sort_by(&mut ch.campaigns, |x, y| {
            y.total_minor.cmp(&x.total_minor).then_with(|| x.campaign.cmp(&y.campaign))
        });
        out.acquisition_minor = out.acquisition_minor.saturating_add(ch.acquisition_minor);
        out.retention_minor = out.retention_minor.saturating_add(ch.retention_minor);
        out.channels.push(ch);
    }
    out.total_minor = out.acquisition_minor.saturating_add(out.retention_minor);
    crate::order::sort_by(&mut out.channels, |x, y| {
        y.total_minor.cmp(&x.total_minor).then_with(|| x.channel.cmp(&y.channel))
    });
    out
}
