//! The spend CSV parser (`daytwo_shared::spend::parse_spend_csv`), its writer (`to_csv`) and `allocate`.
//!
//! Properties, for any text:
//! - parsing never panics; an error has a stable code;
//! - every entry it accepts obeys the ledger's rules (a real range of at most `MAX_RANGE_DAYS`, an amount in
//!   `0..=MAX_ABS_MINOR`, the site's currency, trimmed labels without control characters within their
//!   lengths, a protective apostrophe not counted, unique ids);
//! - `to_csv` of the entries parses back to the same entries, except the documented one: a channel or
//!   campaign that starts like a formula (`=`, `+`, `-`, `@`) is written with a protective apostrophe, which
//!   stays part of the name when read back; writing and reading again from there changes nothing;
//! - `allocate` over any period never panics, its parts sum to its totals (channel = its campaigns, the
//!   whole = its channels, total = acquisition + retention), every part is within the entry's own amount,
//!   and two adjacent periods add up to the period they make (the proration telescopes). Sums saturate
//!   rather than wrap (documented), so the sums are compared when the exact (`i128`) sum fits an `i64`.

#![no_main]

use daytwo_shared::export::neutralise;
use daytwo_shared::money::{Currency, MAX_ABS_MINOR};
use daytwo_shared::spend::{
    MAX_CAMPAIGN_CHARS, MAX_CHANNEL_CHARS, MAX_RANGE_DAYS, SpendAllocation, SpendEntry, allocate, parse_spend_csv,
    to_csv,
};
use daytwo_shared::time::Day;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;

const CURRENCIES: [&str; 3] = ["USD", "JPY", "BHD"];

fn check_entry(e: &SpendEntry, site: &Currency) {
    let days = i64::from(e.to.0) - i64::from(e.from.0);
    assert!((1..=MAX_RANGE_DAYS).contains(&days), "{e:?}");
    assert!((0..=MAX_ABS_MINOR).contains(&e.amount_minor), "{e:?}");
    assert_eq!(&e.currency, site);
    for (label, max, required) in [(&e.channel, MAX_CHANNEL_CHARS, true), (&e.campaign, MAX_CAMPAIGN_CHARS, false)] {
        assert!(!required || !label.is_empty(), "{e:?}");
        assert_eq!(label.trim(), label.as_str(), "{e:?}");
        // A protective apostrophe before a name that starts like a formula is not counted (documented).
        let protective = label.strip_prefix('\'').is_some_and(|rest| neutralise(rest) != rest);
        let chars = label.chars().count() - usize::from(protective);
        assert!(chars <= max && !label.chars().any(char::is_control), "{e:?}");
    }
    let pct = e.purpose.acquisition_pct();
    assert!(pct <= 100);
    assert_eq!(
        i128::from(e.acquisition_total_minor()) + i128::from(e.retention_total_minor()),
        i128::from(e.amount_minor)
    );
}

/// What reading `to_csv`'s output gives for an entry: its labels as a spreadsheet-safe writer wrote them.
fn as_written(e: &SpendEntry) -> SpendEntry {
    SpendEntry { channel: neutralise(&e.channel), campaign: neutralise(&e.campaign), ..e.clone() }
}

fn fits(v: i128) -> Option<i64> {
    i64::try_from(v).ok()
}

/// The allocation's parts sum to its totals (when nothing saturated), and it stays within the ledger.
fn check_allocation(entries: &[SpendEntry], from: Day, to: Day) -> SpendAllocation {
    let a = allocate(entries, from, to);
    assert_eq!(a.total_minor, a.acquisition_minor.saturating_add(a.retention_minor));
    let (mut acq, mut ret) = (0i128, 0i128);
    for e in entries {
        let split = e.prorated(from, to);
        if from >= to {
            assert_eq!((split.acquisition_minor, split.retention_minor), (0, 0), "{e:?}");
        }
        assert!((0..=e.acquisition_total_minor()).contains(&split.acquisition_minor), "{e:?} {from}..{to}");
        assert!((0..=e.retention_total_minor()).contains(&split.retention_minor), "{e:?} {from}..{to}");
        acq += i128::from(split.acquisition_minor);
        ret += i128::from(split.retention_minor);
    }
    if let (Some(acq), Some(ret), Some(_)) = (fits(acq), fits(ret), fits(acq + ret)) {
        assert_eq!((a.acquisition_minor, a.retention_minor), (acq, ret));
        let (mut ch_acq, mut ch_ret) = (0i64, 0i64);
        for ch in &a.channels {
            assert!(!ch.campaigns.is_empty());
            assert_eq!(ch.total_minor, ch.acquisition_minor + ch.retention_minor, "{ch:?}");
            let sum = |f: fn(&daytwo_shared::spend::CampaignSpend) -> i64| ch.campaigns.iter().map(f).sum::<i64>();
            assert_eq!(ch.acquisition_minor, sum(|c| c.acquisition_minor), "{ch:?}");
            assert_eq!(ch.retention_minor, sum(|c| c.retention_minor), "{ch:?}");
            for c in &ch.campaigns {
                assert_eq!(c.total_minor, c.acquisition_minor + c.retention_minor, "{c:?}");
                assert!((c.acquisition_minor, c.retention_minor) != (0, 0), "{c:?}");
            }
            assert!(
                ch.campaigns
                    .windows(2)
                    .all(|w| (w[1].total_minor, &w[0].campaign) <= (w[0].total_minor, &w[1].campaign))
            );
            ch_acq += ch.acquisition_minor;
            ch_ret += ch.retention_minor;
        }
        assert_eq!((ch_acq, ch_ret), (a.acquisition_minor, a.retention_minor));
        assert!(a.channels.windows(2).all(|w| (w[1].total_minor, &w[0].channel) <= (w[0].total_minor, &w[1].channel)));
    }
    a
}

fn check(data: &[u8]) {
    let Some((&head, rest)) = data.split_first() else { return };
    let Some((period, rest)) = rest.split_at_checked(6) else { return };
    let text = String::from_utf8_lossy(rest);
    let site = Currency::parse(CURRENCIES[usize::from(head) % CURRENCIES.len()]).unwrap_or_default();
    let entries = match parse_spend_csv(&text, &site) {
        Ok(entries) => entries,
        Err(e) => {
            assert!(!e.code().is_empty() && !e.to_string().is_empty());
            return;
        }
    };
    let mut ids = BTreeSet::new();
    for e in &entries {
        check_entry(e, &site);
        assert!(ids.insert(e.id.clone()), "duplicate id {}", e.id);
    }

    let written = to_csv(&entries);
    let back = parse_spend_csv(&written, &site)
        .unwrap_or_else(|e| panic!("to_csv's own output is refused: {e}\n{written}\nfrom {entries:?}"));
    let expected: Vec<SpendEntry> = entries.iter().map(as_written).collect();
    assert_eq!(back, expected, "{written}");
    let again = parse_spend_csv(&to_csv(&back), &site).unwrap_or_else(|e| panic!("second round trip: {e}"));
    assert_eq!(again, back);

    // Periods around the ledger: offsets (in days) from its first day, so they overlap the entries.
    let base = entries.iter().map(|e| e.from).min().unwrap_or(Day(20_000));
    let offset = |i: usize| i32::from(i16::from_le_bytes([period[i], period[i + 1]])) / 8;
    let (a, b, c) = (base.plus(offset(0)), base.plus(offset(2)), base.plus(offset(4)));
    let whole = check_allocation(&entries, a, c);
    let left = check_allocation(&entries, a, b);
    let right = check_allocation(&entries, b, c);
    if a <= b && b <= c {
        let sum = |f: fn(&SpendAllocation) -> i64| fits(i128::from(f(&left)) + i128::from(f(&right)));
        let unsaturated = |x: &SpendAllocation| x.total_minor < i64::MAX;
        if unsaturated(&whole) && unsaturated(&left) && unsaturated(&right) {
            assert_eq!(sum(|x| x.acquisition_minor), Some(whole.acquisition_minor), "{a}..{b}..{c}");
            assert_eq!(sum(|x| x.retention_minor), Some(whole.retention_minor), "{a}..{b}..{c}");
        }
    }
}

fuzz_target!(|data: &[u8]| check(data));
