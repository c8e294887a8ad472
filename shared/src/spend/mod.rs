//! The spend ledger (docs/design.md §3.4): what a site paid, when, through which channel, and for which lifecycle stage.
//!
//! Amounts are integer minor units of the site's single currency; a mismatched currency is refused, never
//! converted, because any exchange rate would be a number the product invented.
//!
//! Input decisions (the same for JSON and CSV, so one upload behaves the same in either form):
//! - A blank value (absent, JSON `null`, empty or whitespace-only text) counts as absent. Required fields are
//!   `from`, `to`, `channel`, `amount_minor`, `currency`, `purpose`; `campaign` defaults to `""`; `id` is derived.
//! - `to` is exclusive. `from < to`, and a range may cover at most [`MAX_RANGE_DAYS`] days.
//! - `purpose` is matched case-insensitively. `acquisition_pct` is required for `mixed`; for `acquisition` it
//!   must be absent or 100 and for `retention` absent or 0, so a value that contradicts the purpose is refused
//!   instead of silently ignored. `mixed` with 0 or 100 is kept as given.
//! - Text is trimmed; channel and campaign must not contain control characters (they are labels in reports).
//! - Unknown JSON fields and unknown CSV columns are ignored, so exports from other tools can be uploaded as is.
//! - The first problem found stops the whole request: nothing is stored from a request with an error.
//! - Two entries with the same id in one request are refused; since a derived id hashes every field, this also
//!   refuses an entry repeated verbatim without ids (almost always a double paste).

mod allocate;
mod error;
mod parse;
#[cfg(test)]
mod tests;

pub use allocate::allocate;
pub use error::{Position, SpendError};
pub use parse::{parse_spend_csv, parse_spend_json};

use crate::money::Currency;
use crate::time::Day;
use allocate::{prorate_part, to_i64};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most entries accepted in one request; bounds the work one upload can cause.
pub const MAX_ENTRIES: usize = 10_000;
/// Longest accepted entry range in days (ten years and change); longer is almost surely a typo in a year.
pub const MAX_RANGE_DAYS: i64 = 3660;
/// Longest channel name, in characters.
pub const MAX_CHANNEL_CHARS: usize = 100;
/// Longest campaign name, in characters.
pub const MAX_CAMPAIGN_CHARS: usize = 200;
/// Longest explicit id, in bytes (ids are ASCII).
pub const MAX_ID_LEN: usize = 64;

/// The CSV columns, in the order [`to_csv`] writes them.
pub const CSV_HEADER: [&str; 9] =
    ["id", "from", "to", "channel", "campaign", "amount_minor", "currency", "purpose", "acquisition_pct"];

/// Which lifecycle stage the money was meant to move.
///
/// Serialized as the flat fields of an entry: `{"purpose":"mixed","acquisition_pct":60}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "purpose", rename_all = "snake_case")]
pub enum Purpose {
    Acquisition,
    Retention,
    /// Part acquisition, part retention; the percentage is the acquisition share (0..=100).
    Mixed {
        acquisition_pct: u8,
    },
}

impl Purpose {
    /// The wire name: `acquisition`, `retention` or `mixed`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Purpose::Acquisition => "acquisition",
            Purpose::Retention => "retention",
            Purpose::Mixed { .. } => "mixed",
        }
    }

    /// The effective acquisition share in percent; a hand-built `Mixed` above 100 counts as 100 so the
    /// retention part can never go negative.
    pub fn acquisition_pct(&self) -> u8 {
        match self {
            Purpose::Acquisition => 100,
            Purpose::Retention => 0,
            Purpose::Mixed { acquisition_pct } => (*acquisition_pct).min(100),
        }
    }
}

/// One line of the spend ledger. Build it with [`parse_spend_json`] or [`parse_spend_csv`], which validate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpendEntry {
    pub id: String,
    pub from: Day,
    /// Exclusive.
    pub to: Day,
    pub channel: String,
    pub campaign: String,
    pub amount_minor: i64,
    pub currency: Currency,
    #[serde(flatten)]
    pub purpose: Purpose,
}

/// Acquisition and retention parts of some spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Split {
    pub acquisition_minor: i64,
    pub retention_minor: i64,
}

impl Split {
    pub fn total_minor(&self) -> i64 {
        self.acquisition_minor.saturating_add(self.retention_minor)
    }
}

/// Spend attributed to one period, broken down by channel and campaign.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SpendAllocation {
    pub acquisition_minor: i64,
    pub retention_minor: i64,
    pub total_minor: i64,
    /// Largest total first, then by name; channels with nothing in the period are left out.
    pub channels: Vec<ChannelSpend>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChannelSpend {
    pub channel: String,
    pub acquisition_minor: i64,
    pub retention_minor: i64,
    pub total_minor: i64,
    /// Largest total first, then by name; campaigns with nothing in the period are left out.
    pub campaigns: Vec<CampaignSpend>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CampaignSpend {
    pub campaign: String,
    pub acquisition_minor: i64,
    pub retention_minor: i64,
    pub total_minor: i64,
}

impl SpendEntry {
    /// Length of the entry in days (0 for a hand-built entry whose range is empty).
    pub fn days(&self) -> i64 {
        (i64::from(self.to.0) - i64::from(self.from.0)).max(0)
    }

    /// For mixed spend the acquisition share is rounded half away from zero, the retention share takes the rest.
    pub fn acquisition_total_minor(&self) -> i64 {
        let pct = i128::from(self.purpose.acquisition_pct());
        let n = i128::from(self.amount_minor) * pct;
        let q = (2 * n.abs() + 100) / 200;
        to_i64(if n < 0 { -q } else { q })
    }

    /// `amount - acquisition part`, so the two parts always sum to the amount exactly.
    pub fn retention_total_minor(&self) -> i64 {
        to_i64(i128::from(self.amount_minor) - i128::from(self.acquisition_total_minor()))
    }

    /// The share of this entry falling in `[from, to)`.
    ///
    /// Each part is prorated by cumulative floors, `floor(P·(b−start)/N) − floor(P·(a−start)/N)`, so the
    /// shares of adjacent periods telescope: any partition of time sums exactly to the part totals, and no
    /// minor unit is lost or invented by rounding.
    pub fn prorated(&self, from: Day, to: Day) -> Split {
        Split {
            acquisition_minor: prorate_part(self.acquisition_total_minor(), self.from, self.to, from, to),
            retention_minor: prorate_part(self.retention_total_minor(), self.from, self.to, from, to),
        }
    }

    /// The id an entry gets when none was given: a hash of every field, so uploading the same entry twice
    /// yields the same id (an idempotent upsert) instead of double-counting the money.
    ///
    /// Text fields are length-prefixed so that `a|b` + `c` and `a` + `b|c` cannot collide.
    pub fn derived_id(&self) -> String {
        let canonical = format!(
            "{}|{}|{}:{}|{}:{}|{}|{}|{}|{}",
            self.from,
            self.to,
            self.channel.len(),
            self.channel,
            self.campaign.len(),
            self.campaign,
            self.amount_minor,
            self.currency.code(),
            self.purpose.as_str(),
            self.purpose.acquisition_pct(),
        );
        let digest = Sha256::digest(canonical.as_bytes());
        let mut id = String::with_capacity(19);
        id.push_str("sp_");
        for b in digest.iter().take(8) {
            id.push_str(&format!("{b:02x}"));
        }
        id
    }
}

/// Writes entries in the upload format, through the one CSV writer ([`crate::export::table`]).
///
/// `parse_spend_csv(&to_csv(x), currency) == x` for valid entries whose channel and campaign do not start
/// with `=`, `+`, `-`, `@`, tab or CR: those cells get a leading apostrophe so spreadsheets show them as text,
/// and it stays part of the name when read back (not counted against the name's length limit, so a name at
/// its limit reads back too). Ids round-trip regardless.
pub fn to_csv(entries: &[SpendEntry]) -> String {
    use crate::export::{Cell, table};
    let rows: Vec<Vec<Cell>> = entries
        .iter()
        .map(|e| {
            vec![
                e.id.as_str().into(),
                e.from.to_string().into(),
                e.to.to_string().into(),
                e.channel.as_str().into(),
                e.campaign.as_str().into(),
                e.amount_minor.into(),
                e.currency.code().into(),
                e.purpose.as_str().into(),
                match e.purpose {
                    Purpose::Mixed { acquisition_pct } => i64::from(acquisition_pct).into(),
                    _ => "".into(),
                },
            ]
        })
        .collect();
    table(&CSV_HEADER, &rows)
}
