//! What every simulated account shares: the seed, the currency, the window and the product's release days, plus
//! the calendar arithmetic on day numbers the simulation and the spend ledger use.

use super::GenerateOptions;
use daytwo_shared::money::Currency;
use daytwo_shared::time::Day;

/// What all accounts share; built once per run from the options.
#[derive(Debug)]
pub(super) struct World {
    pub(super) seed: u64,
    /// Currency of revenue and spend.
    pub(super) currency: Currency,
    /// The currency's minor-unit exponent (2 for USD, 0 for JPY).
    exponent: u32,
    pub(super) accounts: u32,
    pub(super) months: u32,
    /// Window in days, `lo..hi`.
    pub(super) lo: i32,
    pub(super) hi: i32,
    /// Release day of each of `catalogue::VERSIONS`, oldest first.
    pub(super) releases: [i32; 6],
    /// In-app events after each sign-in (`GenerateOptions::in_app`).
    pub(super) in_app: u32,
}

impl World {
    pub(super) fn new(opts: &GenerateOptions, first: Day, currency: &Currency) -> World {
        let lo = first.0;
        let hi = opts.end.0;
        let span = (hi - lo).max(1);
        // A release every ~160 days; the newest ("4.2") a third of the way into the window.
        let mut releases = [0; 6];
        for (k, r) in releases.iter_mut().enumerate() {
            *r = lo + span / 3 - (5 - k as i32) * 160;
        }
        World {
            seed: opts.seed,
            currency: currency.clone(),
            exponent: currency.exponent(),
            accounts: opts.accounts,
            months: opts.months,
            lo,
            hi,
            releases,
            in_app: opts.in_app,
        }
    }

    /// Rounds hundredths of a major unit to what the currency can express.
    pub(super) fn round_money(&self, hundredths: i64) -> i64 {
        match self.exponent {
            0 => (hundredths + 50).div_euclid(100) * 100,
            1 => (hundredths + 5).div_euclid(10) * 10,
            _ => hundredths,
        }
    }

    /// Hundredths of a major unit as integer minor units of the currency.
    pub(super) fn to_minor(&self, hundredths: i64) -> i64 {
        match self.exponent {
            0 => (hundredths + 50).div_euclid(100),
            1 => (hundredths + 5).div_euclid(10),
            2 => hundredths,
            e => hundredths.saturating_mul(10i64.saturating_pow(e - 2)),
        }
    }
}

/// Day of the week of day number `d`, 0 for Monday.
pub(super) fn weekday(d: i32) -> i32 {
    // 1970-01-01 was a Thursday; 0 is Monday.
    (d + 3).rem_euclid(7)
}

/// Year, month and day of month of day number `d`.
pub(super) fn ymd(d: i32) -> (i32, u32, u32) {
    Day(d).ymd()
}

/// Calendar quarter (1–4) of a month (1–12).
pub(super) fn quarter(month: u32) -> u32 {
    (month - 1) / 3 + 1
}
