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

use crate::money::{Currency, MAX_ABS_MINOR};
use crate::time::Day;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use thiserror::Error;

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

/// Where in a request a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Position {
    /// The JSON body was a single object.
    Object,
    /// Element `n` (0-based) of a JSON array.
    Item(usize),
    /// A CSV line, 1-based, the header being line 1 (the line a quoted multi-line record starts on).
    Line(usize),
}

impl Position {
    /// Path of a field as an API client would address it: `[3].amount_minor` for JSON, the column for CSV.
    fn path(self, field: &str) -> String {
        match self {
            Position::Item(i) => format!("[{i}].{field}"),
            Position::Object | Position::Line(_) => field.to_owned(),
        }
    }

    /// Human-readable location for messages: `[3].amount_minor`, `line 4, amount_minor`.
    fn describe(self, field: &str) -> String {
        match self {
            Position::Line(n) => format!("line {n}, {field}"),
            _ => self.path(field),
        }
    }
}

fn describe_opt(at: Option<Position>) -> String {
    match at {
        None => "request".to_owned(),
        Some(Position::Object) => "entry".to_owned(),
        Some(Position::Item(i)) => format!("[{i}]"),
        Some(Position::Line(n)) => format!("line {n}"),
    }
}

/// Why a spend upload was refused. [`SpendError::code`] is stable for clients; messages may change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpendError {
    #[error("{}: {reason}", describe_opt(*.at))]
    InvalidJson { at: Option<Position>, reason: &'static str },
    #[error("{}: {reason}", describe_opt(.line.map(Position::Line)))]
    InvalidCsv { line: Option<usize>, reason: String },
    #[error("{}: more than {max} entries in one request", describe_opt(*.at))]
    TooManyEntries { at: Option<Position>, max: usize },
    #[error("{}: required", .at.describe(.field))]
    MissingField { at: Position, field: &'static str },
    #[error("{}: expected a real date as YYYY-MM-DD", .at.describe(.field))]
    InvalidDate { at: Position, field: &'static str },
    #[error("{}: must be after `from` (`to` is exclusive)", .at.describe("to"))]
    EmptyRange { at: Position },
    #[error("{}: the range covers {days} days, more than {max}", .at.describe("to"))]
    RangeTooLong { at: Position, days: i64, max: i64 },
    #[error("{}: expected an integer number of minor units (e.g. cents), without quotes", .at.describe("amount_minor"))]
    InvalidAmount { at: Position },
    #[error("{}: must not be negative", .at.describe("amount_minor"))]
    NegativeAmount { at: Position },
    #[error("{}: larger than {}", .at.describe("amount_minor"), MAX_ABS_MINOR)]
    AmountOutOfRange { at: Position },
    #[error("{}: expected a three-letter ISO 4217 code such as USD", .at.describe("currency"))]
    InvalidCurrency { at: Position },
    #[error("{}: {found} differs from the site currency {expected}; spend is never converted", .at.describe("currency"))]
    CurrencyMismatch { at: Position, found: String, expected: String },
    #[error("{}: {reason}", .at.describe("channel"))]
    InvalidChannel { at: Position, reason: &'static str },
    #[error("{}: {reason}", .at.describe("campaign"))]
    InvalidCampaign { at: Position, reason: &'static str },
    #[error("{}: expected acquisition, retention or mixed", .at.describe("purpose"))]
    InvalidPurpose { at: Position },
    #[error("{}: {reason}", .at.describe("acquisition_pct"))]
    InvalidAcquisitionPct { at: Position, reason: &'static str },
    #[error("{}: expected at most 64 characters of A-Z, a-z, 0-9, '_', '.', '-'", .at.describe("id"))]
    InvalidId { at: Position },
    #[error("{}: {id} is used twice in this request (first at {})", .at.describe("id"), describe_opt(Some(*.first)))]
    DuplicateId { at: Position, id: String, first: Position },
}

impl SpendError {
    /// Stable snake_case code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            SpendError::InvalidJson { .. } => "invalid_json",
            SpendError::InvalidCsv { .. } => "invalid_csv",
            SpendError::TooManyEntries { .. } => "too_many_entries",
            SpendError::MissingField { .. } => "missing_field",
            SpendError::InvalidDate { .. } => "invalid_date",
            SpendError::EmptyRange { .. } => "empty_range",
            SpendError::RangeTooLong { .. } => "range_too_long",
            SpendError::InvalidAmount { .. } => "invalid_amount",
            SpendError::NegativeAmount { .. } => "negative_amount",
            SpendError::AmountOutOfRange { .. } => "amount_out_of_range",
            SpendError::InvalidCurrency { .. } => "invalid_currency",
            SpendError::CurrencyMismatch { .. } => "currency_mismatch",
            SpendError::InvalidChannel { .. } => "invalid_channel",
            SpendError::InvalidCampaign { .. } => "invalid_campaign",
            SpendError::InvalidPurpose { .. } => "invalid_purpose",
            SpendError::InvalidAcquisitionPct { .. } => "invalid_acquisition_pct",
            SpendError::InvalidId { .. } => "invalid_id",
            SpendError::DuplicateId { .. } => "duplicate_id",
        }
    }

    /// Where the problem is, if it concerns one entry.
    pub fn position(&self) -> Option<Position> {
        match self {
            SpendError::InvalidJson { at, .. } | SpendError::TooManyEntries { at, .. } => *at,
            SpendError::InvalidCsv { line, .. } => line.map(Position::Line),
            SpendError::MissingField { at, .. }
            | SpendError::InvalidDate { at, .. }
            | SpendError::EmptyRange { at }
            | SpendError::RangeTooLong { at, .. }
            | SpendError::InvalidAmount { at }
            | SpendError::NegativeAmount { at }
            | SpendError::AmountOutOfRange { at }
            | SpendError::InvalidCurrency { at }
            | SpendError::CurrencyMismatch { at, .. }
            | SpendError::InvalidChannel { at, .. }
            | SpendError::InvalidCampaign { at, .. }
            | SpendError::InvalidPurpose { at }
            | SpendError::InvalidAcquisitionPct { at, .. }
            | SpendError::InvalidId { at }
            | SpendError::DuplicateId { at, .. } => Some(*at),
        }
    }

    /// The offending field: `[3].amount_minor` (JSON array), `amount_minor` (single JSON object or CSV column,
    /// the CSV line being [`SpendError::row`]), `[3]` for a JSON element that is not an object.
    pub fn field(&self) -> Option<String> {
        let name = match self {
            SpendError::InvalidJson { at: Some(Position::Item(i)), .. } => return Some(format!("[{i}]")),
            SpendError::InvalidJson { .. } | SpendError::InvalidCsv { .. } | SpendError::TooManyEntries { .. } => {
                return None;
            }
            SpendError::MissingField { field, .. } | SpendError::InvalidDate { field, .. } => field,
            SpendError::EmptyRange { .. } | SpendError::RangeTooLong { .. } => "to",
            SpendError::InvalidAmount { .. }
            | SpendError::NegativeAmount { .. }
            | SpendError::AmountOutOfRange { .. } => "amount_minor",
            SpendError::InvalidCurrency { .. } | SpendError::CurrencyMismatch { .. } => "currency",
            SpendError::InvalidChannel { .. } => "channel",
            SpendError::InvalidCampaign { .. } => "campaign",
            SpendError::InvalidPurpose { .. } => "purpose",
            SpendError::InvalidAcquisitionPct { .. } => "acquisition_pct",
            SpendError::InvalidId { .. } | SpendError::DuplicateId { .. } => "id",
        };
        self.position().map(|at| at.path(name))
    }

    /// The 1-based CSV line (header = line 1) for CSV errors; `None` for JSON.
    pub fn row(&self) -> Option<usize> {
        match self.position() {
            Some(Position::Line(n)) => Some(n),
            _ => None,
        }
    }
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

fn to_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// `part` spread evenly over `[start, end)`, share of `[from, to)`; see [`SpendEntry::prorated`].
fn prorate_part(part: i64, start: Day, end: Day, from: Day, to: Day) -> i64 {
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
        ch.campaigns.sort_by(|x, y| y.total_minor.cmp(&x.total_minor).then_with(|| x.campaign.cmp(&y.campaign)));
        out.acquisition_minor = out.acquisition_minor.saturating_add(ch.acquisition_minor);
        out.retention_minor = out.retention_minor.saturating_add(ch.retention_minor);
        out.channels.push(ch);
    }
    out.total_minor = out.acquisition_minor.saturating_add(out.retention_minor);
    out.channels.sort_by(|x, y| y.total_minor.cmp(&x.total_minor).then_with(|| x.channel.cmp(&y.channel)));
    out
}

/// One raw input value, before validation; lets JSON and CSV share every rule.
#[derive(Clone, Copy)]
enum Cell<'a> {
    /// Absent, null, or blank text.
    Blank,
    Text(&'a str),
    /// A JSON value that is neither null nor a string.
    Json(&'a Value),
}

impl<'a> Cell<'a> {
    fn json(v: Option<&'a Value>) -> Cell<'a> {
        match v {
            None | Some(Value::Null) => Cell::Blank,
            Some(Value::String(s)) => Cell::text(s),
            Some(other) => Cell::Json(other),
        }
    }

    fn text(s: &'a str) -> Cell<'a> {
        let t = s.trim();
        if t.is_empty() { Cell::Blank } else { Cell::Text(t) }
    }
}

/// The fields of one entry in input order, which is also the order they are checked in.
struct Raw<'a> {
    id: Cell<'a>,
    from: Cell<'a>,
    to: Cell<'a>,
    channel: Cell<'a>,
    campaign: Cell<'a>,
    amount_minor: Cell<'a>,
    currency: Cell<'a>,
    purpose: Cell<'a>,
    acquisition_pct: Cell<'a>,
}

fn valid_id(s: &str) -> bool {
    s.len() <= MAX_ID_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn parse_date(cell: Cell<'_>, field: &'static str, at: Position) -> Result<Day, SpendError> {
    match cell {
        Cell::Blank => Err(SpendError::MissingField { at, field }),
        Cell::Text(s) => Day::parse(s).map_err(|_| SpendError::InvalidDate { at, field }),
        Cell::Json(_) => Err(SpendError::InvalidDate { at, field }),
    }
}

/// Checks a label; `Ok(None)` when blank.
fn parse_label(
    cell: Cell<'_>,
    max_chars: usize,
    invalid: fn(Position, &'static str) -> SpendError,
    at: Position,
) -> Result<Option<String>, SpendError> {
    match cell {
        Cell::Blank => Ok(None),
        Cell::Json(_) => Err(invalid(at, "expected a string")),
        Cell::Text(s) if s.chars().count() > max_chars => Err(invalid(at, "too long")),
        Cell::Text(s) if s.chars().any(char::is_control) => Err(invalid(at, "must not contain control characters")),
        Cell::Text(s) => Ok(Some(s.to_owned())),
    }
}

/// Amount in minor units: a JSON integer, or in CSV a decimal integer literal.
fn parse_amount(cell: Cell<'_>, at: Position) -> Result<i64, SpendError> {
    let checked = |v: i128| {
        if v < 0 {
            Err(SpendError::NegativeAmount { at })
        } else if v > i128::from(MAX_ABS_MINOR) {
            Err(SpendError::AmountOutOfRange { at })
        } else {
            Ok(to_i64(v))
        }
    };
    match (cell, at) {
        (Cell::Blank, _) => Err(SpendError::MissingField { at, field: "amount_minor" }),
        (Cell::Json(Value::Number(n)), _) => {
            if let Some(i) = n.as_i64() {
                checked(i128::from(i))
            } else if n.as_u64().is_some() {
                Err(SpendError::AmountOutOfRange { at })
            } else {
                Err(SpendError::InvalidAmount { at })
            }
        }
        (Cell::Text(s), Position::Line(_)) => {
            let (negative, digits) = match s.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, s),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SpendError::InvalidAmount { at });
            }
            let v = i128::from(decimal_digits(digits));
            checked(if negative { -v } else { v })
        }
        // JSON strings and other JSON types: amounts are numbers, not text.
        _ => Err(SpendError::InvalidAmount { at }),
    }
}

/// Value of an all-digit string, saturating so that absurdly long numbers still read as out of range.
fn decimal_digits(digits: &str) -> u64 {
    digits.bytes().fold(0u64, |acc, b| acc.saturating_mul(10).saturating_add(u64::from(b - b'0')))
}

fn parse_currency(cell: Cell<'_>, site: &Currency, at: Position) -> Result<Currency, SpendError> {
    let currency = match cell {
        Cell::Blank => {
            return Err(SpendError::MissingField { at, field: "currency" });
        }
        Cell::Json(_) => return Err(SpendError::InvalidCurrency { at }),
        Cell::Text(s) => Currency::parse(s).map_err(|_| SpendError::InvalidCurrency { at })?,
    };
    if &currency != site {
        return Err(SpendError::CurrencyMismatch {
            at,
            found: currency.code().to_owned(),
            expected: site.code().to_owned(),
        });
    }
    Ok(currency)
}

fn parse_pct(cell: Cell<'_>, at: Position) -> Result<Option<u8>, SpendError> {
    const NOT_INTEGER: &str = "expected an integer percentage from 0 to 100";
    let value = match (cell, at) {
        (Cell::Blank, _) => return Ok(None),
        (Cell::Json(Value::Number(n)), _) => n.as_u64(),
        (Cell::Text(s), Position::Line(_)) if s.bytes().all(|b| b.is_ascii_digit()) => Some(decimal_digits(s)),
        _ => None,
    };
    match value {
        Some(v) if v <= 100 => Ok(Some(v as u8)),
        _ => Err(SpendError::InvalidAcquisitionPct { at, reason: NOT_INTEGER }),
    }
}

fn parse_purpose(purpose: Cell<'_>, pct: Cell<'_>, at: Position) -> Result<Purpose, SpendError> {
    let name = match purpose {
        Cell::Blank => {
            return Err(SpendError::MissingField { at, field: "purpose" });
        }
        Cell::Json(_) => return Err(SpendError::InvalidPurpose { at }),
        Cell::Text(s) => s.to_ascii_lowercase(),
    };
    let pct = parse_pct(pct, at)?;
    match (name.as_str(), pct) {
        ("acquisition", None | Some(100)) => Ok(Purpose::Acquisition),
        ("retention", None | Some(0)) => Ok(Purpose::Retention),
        ("mixed", Some(acquisition_pct)) => Ok(Purpose::Mixed { acquisition_pct }),
        ("mixed", None) => Err(SpendError::MissingField { at, field: "acquisition_pct" }),
        ("acquisition", Some(_)) => {
            Err(SpendError::InvalidAcquisitionPct { at, reason: "must be empty or 100 for acquisition spend" })
        }
        ("retention", Some(_)) => {
            Err(SpendError::InvalidAcquisitionPct { at, reason: "must be empty or 0 for retention spend" })
        }
        _ => Err(SpendError::InvalidPurpose { at }),
    }
}

fn build(raw: &Raw<'_>, at: Position, site: &Currency) -> Result<SpendEntry, SpendError> {
    let id = match raw.id {
        Cell::Blank => None,
        Cell::Text(s) if valid_id(s) => Some(s.to_owned()),
        Cell::Text(_) | Cell::Json(_) => return Err(SpendError::InvalidId { at }),
    };
    let from = parse_date(raw.from, "from", at)?;
    let to = parse_date(raw.to, "to", at)?;
    let days = i64::from(to.0) - i64::from(from.0);
    if days <= 0 {
        return Err(SpendError::EmptyRange { at });
    }
    if days > MAX_RANGE_DAYS {
        return Err(SpendError::RangeTooLong { at, days, max: MAX_RANGE_DAYS });
    }
    let channel =
        parse_label(raw.channel, MAX_CHANNEL_CHARS, |at, reason| SpendError::InvalidChannel { at, reason }, at)?
            .ok_or(SpendError::MissingField { at, field: "channel" })?;
    let campaign =
        parse_label(raw.campaign, MAX_CAMPAIGN_CHARS, |at, reason| SpendError::InvalidCampaign { at, reason }, at)?
            .unwrap_or_default();
    let amount_minor = parse_amount(raw.amount_minor, at)?;
    let currency = parse_currency(raw.currency, site, at)?;
    let purpose = parse_purpose(raw.purpose, raw.acquisition_pct, at)?;
    let mut entry = SpendEntry { id: String::new(), from, to, channel, campaign, amount_minor, currency, purpose };
    entry.id = id.unwrap_or_else(|| entry.derived_id());
    Ok(entry)
}

/// Refuses a repeated id; remembers where each id was first seen so the message can point at both.
fn check_duplicate(seen: &mut HashMap<String, Position>, entry: &SpendEntry, at: Position) -> Result<(), SpendError> {
    if let Some(first) = seen.get(&entry.id) {
        return Err(SpendError::DuplicateId { at, id: entry.id.clone(), first: *first });
    }
    seen.insert(entry.id.clone(), at);
    Ok(())
}

/// Parses a JSON body: an array of entries or one entry object. All or nothing.
pub fn parse_spend_json(body: &Value, site_currency: &Currency) -> Result<Vec<SpendEntry>, SpendError> {
    let items: Vec<(Position, &Value)> = match body {
        Value::Array(items) => {
            if items.len() > MAX_ENTRIES {
                return Err(SpendError::TooManyEntries { at: None, max: MAX_ENTRIES });
            }
            items.iter().enumerate().map(|(i, v)| (Position::Item(i), v)).collect()
        }
        Value::Object(_) => vec![(Position::Object, body)],
        _ => {
            return Err(SpendError::InvalidJson {
                at: None,
                reason: "expected an array of spend entries or one entry",
            });
        }
    };
    let mut seen = HashMap::with_capacity(items.len());
    let mut entries = Vec::with_capacity(items.len());
    for (at, value) in items {
        let Value::Object(obj) = value else {
            return Err(SpendError::InvalidJson { at: Some(at), reason: "each spend entry must be a JSON object" });
        };
        let cell = |k: &str| Cell::json(obj.get(k));
        let raw = Raw {
            id: cell("id"),
            from: cell("from"),
            to: cell("to"),
            channel: cell("channel"),
            campaign: cell("campaign"),
            amount_minor: cell("amount_minor"),
            currency: cell("currency"),
            purpose: cell("purpose"),
            acquisition_pct: cell("acquisition_pct"),
        };
        let entry = build(&raw, at, site_currency)?;
        check_duplicate(&mut seen, &entry, at)?;
        entries.push(entry);
    }
    Ok(entries)
}

/// Characters that make a spreadsheet treat a cell as a formula.
fn is_formula_trigger(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// Parses the spend CSV.
///
/// A header row is required; column names are matched case-insensitively, in any order, and unknown columns
/// are ignored. `id`, `campaign` and `acquisition_pct` columns may be left out. Rows whose cells are all blank
/// (including empty lines) are skipped. A row may omit trailing cells (read as blank) but may not have
/// non-blank cells beyond the header's width. A UTF-8 BOM is tolerated. An `id` cell written by [`to_csv`]
/// with a protective apostrophe (`'-abc`) reads back without it; apostrophes are legal in channel and campaign
/// names, so there they are kept.
pub fn parse_spend_csv(text: &str, site_currency: &Currency) -> Result<Vec<SpendEntry>, SpendError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    // Column index of each known field in CSV_HEADER order.
    let mut columns: Option<[Option<usize>; 9]> = None;
    let mut width = 0;
    let mut seen = HashMap::new();
    let mut entries = Vec::new();
    let mut lines = LineCounter { text: text.as_bytes(), byte: 0, line: 1 };
    for record in reader.records() {
        let record = record.map_err(|e| SpendError::InvalidCsv {
            line: e.position().map(|p| lines.line_at(p.byte())),
            reason: format!("unreadable CSV: {e}"),
        })?;
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        let at = Position::Line(line);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let Some(cols) = &columns else {
            columns = Some(parse_header(&record, line)?);
            width = record.len();
            continue;
        };
        if record.iter().skip(width).any(|c| !c.trim().is_empty()) {
            return Err(SpendError::InvalidCsv {
                line: Some(line),
                reason: format!("row has more cells than the header's {width}"),
            });
        }
        if entries.len() >= MAX_ENTRIES {
            return Err(SpendError::TooManyEntries { at: Some(at), max: MAX_ENTRIES });
        }
        let cell = |k: usize| match cols[k].and_then(|i| record.get(i)) {
            Some(s) => Cell::text(s),
            None => Cell::Blank,
        };
        let id = match cell(0) {
            Cell::Text(s) => match s.strip_prefix('\'') {
                Some(rest) if rest.starts_with(is_formula_trigger) => Cell::text(rest),
                _ => Cell::Text(s),
            },
            other => other,
        };
        let raw = Raw {
            id,
            from: cell(1),
            to: cell(2),
            channel: cell(3),
            campaign: cell(4),
            amount_minor: cell(5),
            currency: cell(6),
            purpose: cell(7),
            acquisition_pct: cell(8),
        };
        let entry = build(&raw, at, site_currency)?;
        check_duplicate(&mut seen, &entry, at)?;
        entries.push(entry);
    }
    if columns.is_none() {
        return Err(SpendError::InvalidCsv { line: None, reason: "a header row is required".to_owned() });
    }
    Ok(entries)
}

/// The csv crate's own line numbers skip blank lines; users read line numbers in an editor, so count `\n`s.
struct LineCounter<'a> {
    text: &'a [u8],
    byte: usize,
    line: usize,
}

impl LineCounter<'_> {
    /// 1-based line of the record at a byte offset. csv reports a record as starting right after the previous
    /// one, before the blank lines it skipped, so line breaks there are stepped over first. Records arrive in
    /// order, so counting resumes where it stopped.
    fn line_at(&mut self, byte: u64) -> usize {
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        while matches!(self.text.get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        if byte < self.byte {
            self.byte = 0;
            self.line = 1;
        }
        self.line += self.text[self.byte..byte].iter().filter(|b| **b == b'\n').count();
        self.byte = byte;
        self.line
    }
}

fn parse_header(record: &csv::StringRecord, line: usize) -> Result<[Option<usize>; 9], SpendError> {
    let mut cols = [None; 9];
    for (i, name) in record.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        if let Some(k) = CSV_HEADER.iter().position(|h| *h == name) {
            if cols[k].is_some() {
                return Err(SpendError::InvalidCsv {
                    line: Some(line),
                    reason: format!("column {name} appears twice"),
                });
            }
            cols[k] = Some(i);
        }
    }
    for k in [1, 2, 3, 5, 6, 7] {
        if cols[k].is_none() {
            return Err(SpendError::MissingField { at: Position::Line(line), field: CSV_HEADER[k] });
        }
    }
    Ok(cols)
}

/// Quotes a cell when CSV needs it and defuses spreadsheet formulas with a leading apostrophe.
fn csv_cell(out: &mut String, value: &str, text: bool) {
    let guarded;
    let value = if text && value.starts_with(is_formula_trigger) {
        guarded = format!("'{value}");
        guarded.as_str()
    } else {
        value
    };
    if value.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Writes entries in the upload format.
///
/// `parse_spend_csv(&to_csv(x), currency) == x` for valid entries whose channel and campaign do not start
/// with `=`, `+`, `-`, `@`, tab or CR: those cells get a leading apostrophe so spreadsheets show them as text,
/// and it stays part of the name when read back. Ids round-trip regardless.
pub fn to_csv(entries: &[SpendEntry]) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push('\n');
    for e in entries {
        csv_cell(&mut out, &e.id, true);
        out.push(',');
        out.push_str(&format!("{},{},", e.from, e.to));
        csv_cell(&mut out, &e.channel, true);
        out.push(',');
        csv_cell(&mut out, &e.campaign, true);
        out.push_str(&format!(",{},{},{},", e.amount_minor, e.currency.code(), e.purpose.as_str()));
        if let Purpose::Mixed { acquisition_pct } = e.purpose {
            out.push_str(&acquisition_pct.to_string());
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::money::div_round;
    use proptest::prelude::*;
    use serde_json::json;

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn entry(channel: &str, campaign: &str, from: &str, to: &str, amount: i64, purpose: Purpose) -> SpendEntry {
        let mut e = SpendEntry {
            id: String::new(),
            from: day(from),
            to: day(to),
            channel: channel.to_owned(),
            campaign: campaign.to_owned(),
            amount_minor: amount,
            currency: usd(),
            purpose,
        };
        e.id = e.derived_id();
        e
    }

    fn split(acquisition_minor: i64, retention_minor: i64) -> Split {
        Split { acquisition_minor, retention_minor }
    }

    #[test]
    fn thirty_day_entry_over_ten_days() {
        let e = entry("google", "", "2026-04-01", "2026-05-01", 300_000, Purpose::Acquisition);
        assert_eq!(e.prorated(day("2026-04-11"), day("2026-04-21")), split(100_000, 0));
        // Window sticking out on both sides: only the 30 days of the entry count.
        assert_eq!(e.prorated(day("2026-03-01"), day("2026-06-01")), split(300_000, 0));
        // Half in: 2026-04-26..2026-05-01 is 5 days = 50_000.
        assert_eq!(e.prorated(day("2026-04-26"), day("2026-05-10")), split(50_000, 0));
    }

    #[test]
    fn thirty_one_days_of_100_telescope() {
        let e = entry("meta", "", "2026-01-01", "2026-02-01", 100, Purpose::Retention);
        // Day k gets floor(100(k+1)/31) - floor(100k/31); worked by hand, e.g. k=4: 16 - 12 = 4, k=30: 100 - 96 = 4.
        let want = [3, 3, 3, 3, 4, 3, 3, 3, 4, 3, 3, 3, 3, 4, 3, 3, 3, 4, 3, 3, 3, 3, 4, 3, 3, 3, 4, 3, 3, 3, 4];
        let start = day("2026-01-01");
        let got: Vec<i64> = (0..31).map(|k| e.prorated(start.plus(k), start.plus(k + 1)).retention_minor).collect();
        assert_eq!(got, want);
        assert_eq!(got.iter().sum::<i64>(), 100);
        assert_eq!(e.prorated(start, start.plus(5)), split(0, 16));
        assert_eq!(e.prorated(start.plus(5), start.plus(31)), split(0, 84));
        for k in 0..31 {
            assert_eq!(e.prorated(start.plus(k), start.plus(k + 1)).acquisition_minor, 0);
        }
    }

    #[test]
    fn mixed_rounds_half_away_from_zero() {
        let m = |amount, pct| {
            let e = entry("x", "", "2026-01-01", "2026-01-02", amount, Purpose::Mixed { acquisition_pct: pct });
            (e.acquisition_total_minor(), e.retention_total_minor())
        };
        assert_eq!(m(1001, 60), (601, 400)); // 600.6 -> 601
        assert_eq!(m(1, 50), (1, 0)); // 0.5 -> 1
        assert_eq!(m(3, 50), (2, 1)); // 1.5 -> 2
        assert_eq!(m(1005, 10), (101, 904)); // 100.5 -> 101
        assert_eq!(m(1004, 10), (100, 904)); // 100.4 -> 100
        assert_eq!(m(777, 0), (0, 777));
        assert_eq!(m(777, 100), (777, 0));
        assert_eq!(m(0, 60), (0, 0));
        // A hand-built percentage above 100 is capped so retention never goes negative.
        assert_eq!(m(10, 250), (10, 0));
        let a = entry("x", "", "2026-01-01", "2026-01-02", 999, Purpose::Acquisition);
        assert_eq!((a.acquisition_total_minor(), a.retention_total_minor()), (999, 0));
        let r = entry("x", "", "2026-01-01", "2026-01-02", 999, Purpose::Retention);
        assert_eq!((r.acquisition_total_minor(), r.retention_total_minor()), (0, 999));
    }

    #[test]
    fn mixed_parts_prorate_separately() {
        let e = entry("x", "", "2026-04-01", "2026-05-01", 1001, Purpose::Mixed { acquisition_pct: 60 });
        let p = |a: &str, b: &str| e.prorated(day(a), day(b));
        // acquisition 601: floor(6010/30)=200, floor(12020/30)=400; retention 400: floor(4000/30)=133, floor(8000/30)=266.
        assert_eq!(p("2026-04-01", "2026-04-11"), split(200, 133));
        assert_eq!(p("2026-04-11", "2026-04-21"), split(200, 133));
        assert_eq!(p("2026-04-21", "2026-05-01"), split(201, 134));
    }

    #[test]
    fn outside_the_period_is_zero() {
        let e = entry("x", "", "2026-04-01", "2026-05-01", 300_000, Purpose::Mixed { acquisition_pct: 50 });
        assert_eq!(e.prorated(day("2026-03-01"), day("2026-04-01")), Split::default()); // ends where it starts
        assert_eq!(e.prorated(day("2026-05-01"), day("2026-06-01")), Split::default()); // `to` is exclusive
        assert_eq!(e.prorated(day("2025-01-01"), day("2025-12-31")), Split::default());
        assert_eq!(e.prorated(day("2026-04-20"), day("2026-04-10")), Split::default()); // reversed period
        assert_eq!(e.prorated(day("2026-04-10"), day("2026-04-10")), Split::default()); // empty period
        let inverted = SpendEntry { to: e.from, ..e.clone() };
        assert_eq!(inverted.prorated(day("2000-01-01"), day("2100-01-01")), Split::default());
    }

    #[test]
    fn allocation_breakdown_and_order() {
        let entries = vec![
            // 31 days, 15 in the period: floor(3100*15/31) = 1500.
            entry("google", "brand", "2026-01-01", "2026-02-01", 3100, Purpose::Acquisition),
            // 10 days, 5 in the period: 500.
            entry("google", "generic", "2026-01-11", "2026-01-21", 1000, Purpose::Retention),
            // 2001 at 50%: acquisition 1001 (1000.5 rounds up), retention 1000; last 5 of 10 days in the period:
            // acquisition 1001 - floor(5005/10) = 501, retention 1000 - 500 = 500.
            entry("meta", "lookalike", "2025-12-27", "2026-01-06", 2001, Purpose::Mixed { acquisition_pct: 50 }),
            entry("meta", "", "2026-01-01", "2026-01-16", 1200, Purpose::Acquisition),
            entry("meta", "zero", "2026-01-01", "2026-01-16", 0, Purpose::Acquisition),
            entry("tiktok", "later", "2026-02-01", "2026-03-01", 5000, Purpose::Acquisition),
        ];
        let got = allocate(&entries, day("2026-01-01"), day("2026-01-16"));
        let camp = |campaign: &str, a: i64, r: i64| CampaignSpend {
            campaign: campaign.to_owned(),
            acquisition_minor: a,
            retention_minor: r,
            total_minor: a + r,
        };
        let want = SpendAllocation {
            acquisition_minor: 3201,
            retention_minor: 1000,
            total_minor: 4201,
            channels: vec![
                ChannelSpend {
                    channel: "meta".into(),
                    acquisition_minor: 1701,
                    retention_minor: 500,
                    total_minor: 2201,
                    campaigns: vec![camp("", 1200, 0), camp("lookalike", 501, 500)],
                },
                ChannelSpend {
                    channel: "google".into(),
                    acquisition_minor: 1500,
                    retention_minor: 500,
                    total_minor: 2000,
                    campaigns: vec![camp("brand", 1500, 0), camp("generic", 0, 500)],
                },
            ],
        };
        assert_eq!(got, want);
        assert_eq!(allocate(&entries, day("2027-01-01"), day("2027-02-01")), SpendAllocation::default());
        assert_eq!(allocate(&[], day("2026-01-01"), day("2026-02-01")), SpendAllocation::default());
    }

    #[test]
    fn allocation_ties_sort_by_name() {
        let entries = vec![
            entry("b", "y", "2026-01-01", "2026-01-02", 100, Purpose::Acquisition),
            entry("b", "x", "2026-01-01", "2026-01-02", 100, Purpose::Retention),
            entry("a", "z", "2026-01-01", "2026-01-02", 200, Purpose::Acquisition),
            // Same channel and campaign twice: merged.
            entry("c", "w", "2026-01-01", "2026-01-02", 150, Purpose::Acquisition),
            entry("c", "w", "2026-01-01", "2026-01-03", 100, Purpose::Retention),
        ];
        let got = allocate(&entries, day("2026-01-01"), day("2026-01-02"));
        let names: Vec<&str> = got.channels.iter().map(|c| c.channel.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        let b: Vec<&str> = got.channels[1].campaigns.iter().map(|c| c.campaign.as_str()).collect();
        assert_eq!(b, ["x", "y"]);
        assert_eq!(
            got.channels[2].campaigns,
            vec![CampaignSpend { campaign: "w".into(), acquisition_minor: 150, retention_minor: 50, total_minor: 200 }]
        );
        assert_eq!(got.total_minor, 600);
    }

    #[test]
    fn serialization_shapes() {
        let mut e = entry("google", "brand", "2026-01-01", "2026-02-01", 1001, Purpose::Mixed { acquisition_pct: 60 });
        e.id = "s1".into();
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"id": "s1", "from": "2026-01-01", "to": "2026-02-01", "channel": "google", "campaign": "brand",
                   "amount_minor": 1001, "currency": "USD", "purpose": "mixed", "acquisition_pct": 60})
        );
        e.purpose = Purpose::Retention;
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"id": "s1", "from": "2026-01-01", "to": "2026-02-01", "channel": "google", "campaign": "brand",
                   "amount_minor": 1001, "currency": "USD", "purpose": "retention"})
        );
        let alloc = allocate(&[e], day("2026-01-01"), day("2026-01-02"));
        assert_eq!(
            serde_json::to_value(&alloc).unwrap(),
            json!({"acquisition_minor": 0, "retention_minor": 32, "total_minor": 32, "channels": [
                {"channel": "google", "acquisition_minor": 0, "retention_minor": 32, "total_minor": 32, "campaigns": [
                    {"campaign": "brand", "acquisition_minor": 0, "retention_minor": 32, "total_minor": 32}]}]})
        );
    }

    #[test]
    fn derived_ids() {
        let e = entry("google", "brand", "2026-01-01", "2026-02-01", 1000, Purpose::Acquisition);
        assert_eq!(e.id.len(), 19);
        assert!(e.id.starts_with("sp_") && e.id[3..].bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        let a = entry("a|b", "c", "2026-01-01", "2026-02-01", 1000, Purpose::Acquisition);
        let b = entry("a", "b|c", "2026-01-01", "2026-02-01", 1000, Purpose::Acquisition);
        assert_ne!(a.id, b.id);
        let m = entry("google", "brand", "2026-01-01", "2026-02-01", 1000, Purpose::Mixed { acquisition_pct: 100 });
        assert_ne!(e.id, m.id);
        // Same entry, differently written: same id.
        let body = json!([
            {"from": "2026-01-01", "to": "2026-02-01", "channel": " google ", "campaign": "brand",
             "amount_minor": 1000, "currency": "usd", "purpose": "Acquisition"},
        ]);
        assert_eq!(parse_spend_json(&body, &usd()).unwrap(), vec![e.clone()]);
        let csv = "channel,campaign,from,to,amount_minor,currency,purpose,id\ngoogle,brand,2026-01-01,2026-02-01,1000,USD,acquisition,\n";
        assert_eq!(parse_spend_csv(csv, &usd()).unwrap(), vec![e]);
    }

    #[test]
    fn json_accepts_and_normalises() {
        let body = json!([
            {"id": "a-1", "from": "2026-01-01", "to": "2036-01-09", "channel": "google", "amount_minor": 0,
             "currency": "USD", "purpose": "acquisition", "acquisition_pct": 100, "note": "ignored"},
            {"id": "a.2", "from": "2026-01-01", "to": "2026-01-02", "channel": "c".repeat(100), "campaign": "d".repeat(200),
             "amount_minor": MAX_ABS_MINOR, "currency": "USD", "purpose": "RETENTION", "acquisition_pct": 0},
            {"id": null, "from": "2026-01-01", "to": "2026-01-02", "channel": "x", "campaign": null,
             "amount_minor": 5, "currency": "USD", "purpose": " mixed ", "acquisition_pct": 0},
            {"id": "", "from": "2026-01-01", "to": "2026-01-02", "channel": "日本語", "campaign": "  ",
             "amount_minor": 5, "currency": "USD", "purpose": "retention", "acquisition_pct": null},
        ]);
        let got = parse_spend_json(&body, &usd()).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!((got[0].id.as_str(), got[0].campaign.as_str(), got[0].days()), ("a-1", "", 3660));
        assert_eq!((got[1].purpose, got[1].amount_minor), (Purpose::Retention, MAX_ABS_MINOR));
        assert_eq!(got[2].purpose, Purpose::Mixed { acquisition_pct: 0 });
        assert_eq!(got[2].id, got[2].derived_id());
        assert_eq!((got[3].channel.as_str(), got[3].campaign.as_str()), ("日本語", ""));
        assert_eq!(got[3].id, got[3].derived_id());
        let one = json!({"from": "2026-01-01", "to": "2026-01-02", "channel": "x", "amount_minor": 5,
                         "currency": "USD", "purpose": "acquisition"});
        assert_eq!(parse_spend_json(&one, &usd()).unwrap().len(), 1);
        assert_eq!(parse_spend_json(&json!([]), &usd()).unwrap(), vec![]);
    }

    fn valid_json() -> Value {
        json!({"from": "2026-01-01", "to": "2026-02-01", "channel": "google", "campaign": "brand",
               "amount_minor": 1000, "currency": "USD", "purpose": "acquisition"})
    }

    /// A two-entry array whose second entry is the valid one with `changes` applied (`"<remove>"` deletes a key).
    fn with(changes: &[(&str, Value)]) -> Value {
        let mut bad = valid_json();
        for (k, v) in changes {
            if let Some(obj) = bad.as_object_mut() {
                if *v == json!("<remove>") {
                    obj.remove(*k);
                } else {
                    obj.insert((*k).to_owned(), v.clone());
                }
            }
        }
        let mut first = valid_json();
        first["id"] = json!("first");
        json!([first, bad])
    }

    #[test]
    fn json_bad_input_table() {
        let gone = || json!("<remove>");
        let cases: Vec<(Value, &str, Option<&str>)> = vec![
            (json!(42), "invalid_json", None),
            (json!("text"), "invalid_json", None),
            (json!(null), "invalid_json", None),
            (json!([1]), "invalid_json", Some("[0]")),
            (json!([valid_json(), [valid_json()]]), "invalid_json", Some("[1]")),
            (with(&[("from", gone())]), "missing_field", Some("[1].from")),
            (with(&[("from", json!(null))]), "missing_field", Some("[1].from")),
            (with(&[("from", json!("2026-02-30"))]), "invalid_date", Some("[1].from")),
            (with(&[("from", json!("2026-1-1"))]), "invalid_date", Some("[1].from")),
            (with(&[("from", json!(20260101))]), "invalid_date", Some("[1].from")),
            (with(&[("to", json!(""))]), "missing_field", Some("[1].to")),
            (with(&[("to", json!("01/02/2026"))]), "invalid_date", Some("[1].to")),
            (with(&[("to", json!("2026-01-01"))]), "empty_range", Some("[1].to")),
            (with(&[("to", json!("2025-12-01"))]), "empty_range", Some("[1].to")),
            (with(&[("to", json!("2036-01-10"))]), "range_too_long", Some("[1].to")),
            (with(&[("channel", gone())]), "missing_field", Some("[1].channel")),
            (with(&[("channel", json!("   "))]), "missing_field", Some("[1].channel")),
            (with(&[("channel", json!(5))]), "invalid_channel", Some("[1].channel")),
            (with(&[("channel", json!("c".repeat(101)))]), "invalid_channel", Some("[1].channel")),
            (with(&[("channel", json!("a\u{0}b"))]), "invalid_channel", Some("[1].channel")),
            (with(&[("campaign", json!("d".repeat(201)))]), "invalid_campaign", Some("[1].campaign")),
            (with(&[("campaign", json!(true))]), "invalid_campaign", Some("[1].campaign")),
            (with(&[("campaign", json!("two\nlines"))]), "invalid_campaign", Some("[1].campaign")),
            (with(&[("amount_minor", gone())]), "missing_field", Some("[1].amount_minor")),
            (with(&[("amount_minor", json!(10.5))]), "invalid_amount", Some("[1].amount_minor")),
            (with(&[("amount_minor", json!(1000.0))]), "invalid_amount", Some("[1].amount_minor")),
            (with(&[("amount_minor", json!("1000"))]), "invalid_amount", Some("[1].amount_minor")),
            (with(&[("amount_minor", json!([1000]))]), "invalid_amount", Some("[1].amount_minor")),
            (with(&[("amount_minor", json!(-1))]), "negative_amount", Some("[1].amount_minor")),
            (with(&[("amount_minor", json!(MAX_ABS_MINOR + 1))]), "amount_out_of_range", Some("[1].amount_minor")),
            (with(&[("amount_minor", json!(u64::MAX))]), "amount_out_of_range", Some("[1].amount_minor")),
            (with(&[("currency", gone())]), "missing_field", Some("[1].currency")),
            (with(&[("currency", json!("US"))]), "invalid_currency", Some("[1].currency")),
            (with(&[("currency", json!(840))]), "invalid_currency", Some("[1].currency")),
            (with(&[("currency", json!("EUR"))]), "currency_mismatch", Some("[1].currency")),
            (with(&[("purpose", gone())]), "missing_field", Some("[1].purpose")),
            (with(&[("purpose", json!("brand"))]), "invalid_purpose", Some("[1].purpose")),
            (with(&[("purpose", json!(1))]), "invalid_purpose", Some("[1].purpose")),
            (with(&[("purpose", json!("mixed"))]), "missing_field", Some("[1].acquisition_pct")),
            (
                with(&[("purpose", json!("mixed")), ("acquisition_pct", json!(101))]),
                "invalid_acquisition_pct",
                Some("[1].acquisition_pct"),
            ),
            (
                with(&[("purpose", json!("mixed")), ("acquisition_pct", json!(-1))]),
                "invalid_acquisition_pct",
                Some("[1].acquisition_pct"),
            ),
            (
                with(&[("purpose", json!("mixed")), ("acquisition_pct", json!(50.5))]),
                "invalid_acquisition_pct",
                Some("[1].acquisition_pct"),
            ),
            (
                with(&[("purpose", json!("mixed")), ("acquisition_pct", json!("60"))]),
                "invalid_acquisition_pct",
                Some("[1].acquisition_pct"),
            ),
            (with(&[("acquisition_pct", json!(50))]), "invalid_acquisition_pct", Some("[1].acquisition_pct")),
            (
                with(&[("purpose", json!("retention")), ("acquisition_pct", json!(100))]),
                "invalid_acquisition_pct",
                Some("[1].acquisition_pct"),
            ),
            (with(&[("id", json!("has space"))]), "invalid_id", Some("[1].id")),
            (with(&[("id", json!("x".repeat(65)))]), "invalid_id", Some("[1].id")),
            (with(&[("id", json!("é"))]), "invalid_id", Some("[1].id")),
            (with(&[("id", json!(7))]), "invalid_id", Some("[1].id")),
            (with(&[("id", json!("first"))]), "duplicate_id", Some("[1].id")),
            // The same entry twice without ids: same derived id.
            (json!([valid_json(), valid_json()]), "duplicate_id", Some("[1].id")),
            // A single object has no index in its paths.
            (
                {
                    let mut v = valid_json();
                    v["amount_minor"] = json!(-5);
                    v
                },
                "negative_amount",
                Some("amount_minor"),
            ),
            (json!(vec![valid_json(); MAX_ENTRIES + 1]), "too_many_entries", None),
        ];
        for (body, code, field) in cases {
            match parse_spend_json(&body, &usd()) {
                Ok(v) => panic!("accepted {body}: {v:?}"),
                Err(e) => {
                    assert_eq!((e.code(), e.field().as_deref(), e.row()), (code, field, None), "{e}");
                    assert!(!e.to_string().is_empty());
                }
            }
        }
    }

    const HEADER: &str = "id,from,to,channel,campaign,amount_minor,currency,purpose,acquisition_pct";

    #[test]
    fn csv_accepts_messy_but_valid_input() {
        let text = "\u{feff}Channel, FROM ,to,amount_minor,currency,purpose,acquisition_pct,notes\r\n\
                    \r\n\
                    \" google , ads\",2026-01-01,2026-02-01, 1000 ,usd,Mixed,60,whatever\r\n\
                    ,,,,,,,\r\n\
                    meta,2026-01-01,2026-01-02,007,USD,acquisition\r\n";
        let got = parse_spend_csv(text, &usd()).unwrap();
        let mut a = entry("google , ads", "", "2026-01-01", "2026-02-01", 1000, Purpose::Mixed { acquisition_pct: 60 });
        a.id = a.derived_id();
        let b = entry("meta", "", "2026-01-01", "2026-01-02", 7, Purpose::Acquisition);
        assert_eq!(got, vec![a, b]);
        assert_eq!(parse_spend_csv(HEADER, &usd()).unwrap(), vec![]);
    }

    #[test]
    fn csv_bad_input_table() {
        let ok = "2026-01-01,2026-02-01,google,brand,1000,USD,acquisition,";
        let cases: Vec<(String, &str, Option<usize>, Option<&str>)> = vec![
            (String::new(), "invalid_csv", None, None),
            ("\n\n  \n".into(), "invalid_csv", None, None),
            (
                "from,to,channel,currency,purpose\n2026-01-01,2026-02-01,g,USD,acquisition\n".into(),
                "missing_field",
                Some(1),
                Some("amount_minor"),
            ),
            (format!("{HEADER},amount_minor\n"), "invalid_csv", Some(1), None),
            (
                format!("{HEADER}\na,{ok}\nb,2026-01-01,2026-02-01,g,,-5,USD,retention,\n"),
                "negative_amount",
                Some(3),
                Some("amount_minor"),
            ),
            (
                format!("{HEADER}\na,{ok}\n\n\nb,2026-01-01,2026-02-01,g,,12.50,USD,retention,\n"),
                "invalid_amount",
                Some(5),
                Some("amount_minor"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-02-01,g,,1e3,USD,retention,\n"),
                "invalid_amount",
                Some(2),
                Some("amount_minor"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-02-01,g,,\"1,000\",USD,retention,\n"),
                "invalid_amount",
                Some(2),
                Some("amount_minor"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-02-01,g,,-,USD,retention,\n"),
                "invalid_amount",
                Some(2),
                Some("amount_minor"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-02-01,g,,,USD,retention,\n"),
                "missing_field",
                Some(2),
                Some("amount_minor"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-02-01,g,,99999999999999999999999999999999999,USD,retention,\n"),
                "amount_out_of_range",
                Some(2),
                Some("amount_minor"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-02-01,g,,1000000000000001,USD,retention,\n"),
                "amount_out_of_range",
                Some(2),
                Some("amount_minor"),
            ),
            (format!("{HEADER}\na,{ok},extra\n"), "invalid_csv", Some(2), None),
            (format!("{HEADER}\na,2026-01-01,2026-01-01,g,,1,USD,retention,\n"), "empty_range", Some(2), Some("to")),
            (format!("{HEADER}\na,2026-01-01,2026-13-01,g,,1,USD,retention,\n"), "invalid_date", Some(2), Some("to")),
            (format!("{HEADER}\na,,2026-01-02,g,,1,USD,retention,\n"), "missing_field", Some(2), Some("from")),
            (
                format!("{HEADER}\na,2026-01-01,2026-01-02, ,,1,USD,retention,\n"),
                "missing_field",
                Some(2),
                Some("channel"),
            ),
            // A multi-line campaign is refused at the line its record starts on.
            (
                format!("{HEADER}\na,{ok}\nb,2026-01-01,2026-01-02,g,\"two\nlines\",1,USD,retention,\n"),
                "invalid_campaign",
                Some(3),
                Some("campaign"),
            ),
            // Line numbers stay physical after a quoted multi-line cell in an ignored column.
            (
                format!("{HEADER},notes\na,{ok},\"x\ny\"\nb,2026-01-01,2026-01-02,g,,-1,USD,retention,,\n"),
                "negative_amount",
                Some(4),
                Some("amount_minor"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,EUR,retention,\n"),
                "currency_mismatch",
                Some(2),
                Some("currency"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,dollars,retention,\n"),
                "invalid_currency",
                Some(2),
                Some("currency"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,brand,\n"),
                "invalid_purpose",
                Some(2),
                Some("purpose"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,mixed,\n"),
                "missing_field",
                Some(2),
                Some("acquisition_pct"),
            ),
            (
                "from,to,channel,amount_minor,currency,purpose\n2026-01-01,2026-01-02,g,1,USD,mixed\n".into(),
                "missing_field",
                Some(2),
                Some("acquisition_pct"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,mixed,sixty\n"),
                "invalid_acquisition_pct",
                Some(2),
                Some("acquisition_pct"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,mixed,60%\n"),
                "invalid_acquisition_pct",
                Some(2),
                Some("acquisition_pct"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,mixed,101\n"),
                "invalid_acquisition_pct",
                Some(2),
                Some("acquisition_pct"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,mixed,-1\n"),
                "invalid_acquisition_pct",
                Some(2),
                Some("acquisition_pct"),
            ),
            (
                format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,acquisition,0\n"),
                "invalid_acquisition_pct",
                Some(2),
                Some("acquisition_pct"),
            ),
            (format!("{HEADER}\na b,{ok}\n"), "invalid_id", Some(2), Some("id")),
            (format!("{HEADER}\n'=cmd,{ok}\n"), "invalid_id", Some(2), Some("id")),
            (format!("{HEADER}\n'abc,{ok}\n"), "invalid_id", Some(2), Some("id")),
            (
                format!("{HEADER}\na,{ok}\nb,{ok}\na,2026-01-01,2026-01-02,g,,1,USD,retention,\n"),
                "duplicate_id",
                Some(4),
                Some("id"),
            ),
            (format!("{HEADER}\n,{ok}\n,{ok}\n"), "duplicate_id", Some(3), Some("id")),
        ];
        let cases = cases.into_iter().chain([
            // Blank and whitespace-only lines still count as lines, with CRLF too.
            (
                format!("\r\n\r\n{HEADER}\r\n   \r\na,2026-01-01,2026-01-02,g,,-1,USD,retention,\r\n"),
                "negative_amount",
                Some(5),
                Some("amount_minor"),
            ),
            ("\nfrom,to\n".to_owned(), "missing_field", Some(2), Some("channel")),
        ]);
        for (text, code, row, field) in cases {
            match parse_spend_csv(&text, &usd()) {
                Ok(v) => panic!("accepted {text:?}: {v:?}"),
                Err(e) => {
                    assert_eq!((e.code(), e.row(), e.field().as_deref()), (code, row, field), "{text:?}: {e}");
                    assert!(!e.to_string().is_empty());
                }
            }
        }
    }

    #[test]
    fn csv_too_many_entries() {
        let mut text = format!("{HEADER}\n");
        for i in 0..=MAX_ENTRIES {
            text.push_str(&format!("e{i},2026-01-01,2026-01-02,g,,1,USD,retention,\n"));
        }
        let e = parse_spend_csv(&text, &usd()).unwrap_err();
        assert_eq!((e.code(), e.row(), e.field()), ("too_many_entries", Some(MAX_ENTRIES + 2), None));
    }

    #[test]
    fn csv_defuses_formulas() {
        let mut e = entry("=HYPERLINK(\"x\")", "-20% off", "2026-01-01", "2026-01-02", 5, Purpose::Acquisition);
        e.id = "-x1".into();
        let mut plain = entry("@home", "+1", "2026-01-01", "2026-01-02", 6, Purpose::Retention);
        plain.id = "p".into();
        let text = to_csv(&[e.clone(), plain]);
        assert_eq!(
            text,
            format!(
                "{HEADER}\n'-x1,2026-01-01,2026-01-02,\"'=HYPERLINK(\"\"x\"\")\",'-20% off,5,USD,acquisition,\n\
                     p,2026-01-01,2026-01-02,'@home,'+1,6,USD,retention,\n"
            )
        );
        let back = parse_spend_csv(&text, &usd()).unwrap();
        // The id comes back intact; labels keep the apostrophe, as documented.
        assert_eq!(back[0].id, "-x1");
        assert_eq!(back[0].channel, "'=HYPERLINK(\"x\")");
        assert_eq!(back[0].campaign, "'-20% off");
        assert_eq!((back[1].channel.as_str(), back[1].campaign.as_str()), ("'@home", "'+1"));
        assert_ne!(back[0], e);
    }

    fn purpose_strategy() -> impl Strategy<Value = Purpose> {
        prop_oneof![
            Just(Purpose::Acquisition),
            Just(Purpose::Retention),
            (0u8..=100).prop_map(|acquisition_pct| Purpose::Mixed { acquisition_pct }),
        ]
    }

    /// Valid entries; labels never start with a formula character (the round-trip precondition).
    fn entry_strategy() -> impl Strategy<Value = SpendEntry> {
        (
            proptest::option::of("[A-Za-z0-9_.-]{1,64}"),
            -719_000i32..2_900_000,
            1i32..=3660,
            "[A-Za-z0-9é日][A-Za-z0-9é日 ,;'\"|_=+@-]{0,30}",
            "([A-Za-z0-9é日][A-Za-z0-9é日 ,;'\"|_=+@-]{0,30})?",
            0..=MAX_ABS_MINOR,
            purpose_strategy(),
        )
            .prop_map(|(id, start, days, channel, campaign, amount_minor, purpose)| {
                let mut e = SpendEntry {
                    id: id.unwrap_or_default(),
                    from: Day(start),
                    to: Day(start + days),
                    channel: channel.trim().to_owned(),
                    campaign: campaign.trim().to_owned(),
                    amount_minor,
                    currency: usd(),
                    purpose,
                };
                if e.id.is_empty() {
                    e.id = e.derived_id();
                }
                e
            })
    }

    fn unique_entries() -> impl Strategy<Value = Vec<SpendEntry>> {
        proptest::collection::vec(entry_strategy(), 0..20).prop_map(|mut v| {
            let mut seen = std::collections::HashSet::new();
            v.retain(|e| seen.insert(e.id.clone()));
            v
        })
    }

    proptest! {
        #[test]
        fn prorating_any_partition_sums_exactly(
            e in entry_strategy(),
            before in 0i32..400,
            after in 0i32..400,
            cuts in proptest::collection::vec(0.0f64..1.0, 0..12),
        ) {
            let lo = e.from.0 - before;
            let hi = e.to.0 + after;
            let mut bounds: Vec<i32> = cuts.iter().map(|c| lo + (c * f64::from(hi - lo)) as i32).collect();
            bounds.push(lo);
            bounds.push(hi);
            bounds.sort_unstable();
            let (acq_total, ret_total) = (e.acquisition_total_minor(), e.retention_total_minor());
            let (mut acq, mut ret) = (0i64, 0i64);
            for w in bounds.windows(2) {
                let s = e.prorated(Day(w[0]), Day(w[1]));
                prop_assert!(s.acquisition_minor >= 0 && s.acquisition_minor <= acq_total);
                prop_assert!(s.retention_minor >= 0 && s.retention_minor <= ret_total);
                acq += s.acquisition_minor;
                ret += s.retention_minor;
            }
            prop_assert_eq!(acq, acq_total);
            prop_assert_eq!(ret, ret_total);
        }

        #[test]
        fn parts_sum_to_amount(amount in 0..=MAX_ABS_MINOR, purpose in purpose_strategy()) {
            let e = SpendEntry { amount_minor: amount, purpose, ..entry("x", "", "2026-01-01", "2026-01-02", 0, purpose) };
            prop_assert_eq!(e.acquisition_total_minor() + e.retention_total_minor(), amount);
            let pct = i64::from(purpose.acquisition_pct());
            prop_assert_eq!(Some(e.acquisition_total_minor()), div_round(amount * pct, 100));
            prop_assert!(e.retention_total_minor() >= 0);
        }

        #[test]
        fn allocations_over_a_partition_sum_to_the_ledger(
            entries in unique_entries(),
            cuts in proptest::collection::vec(-719_000i32..2_904_000, 0..6),
        ) {
            let mut bounds = cuts;
            bounds.push(-719_000);
            bounds.push(2_904_000);
            bounds.sort_unstable();
            let (mut acq, mut total) = (0i64, 0i64);
            for w in bounds.windows(2) {
                let a = allocate(&entries, Day(w[0]), Day(w[1]));
                prop_assert_eq!(a.total_minor, a.acquisition_minor + a.retention_minor);
                prop_assert_eq!(a.total_minor, a.channels.iter().map(|c| c.total_minor).sum::<i64>());
                for c in &a.channels {
                    prop_assert!(c.total_minor > 0);
                    prop_assert_eq!(c.total_minor, c.campaigns.iter().map(|x| x.total_minor).sum::<i64>());
                }
                prop_assert!(a.channels.windows(2).all(|p| p[0].total_minor >= p[1].total_minor));
                acq += a.acquisition_minor;
                total += a.total_minor;
            }
            prop_assert_eq!(acq, entries.iter().map(SpendEntry::acquisition_total_minor).sum::<i64>());
            prop_assert_eq!(total, entries.iter().map(|e| e.amount_minor).sum::<i64>());
        }

        #[test]
        fn csv_roundtrips(entries in unique_entries()) {
            prop_assert_eq!(parse_spend_csv(&to_csv(&entries), &usd()), Ok(entries));
        }

        #[test]
        fn json_roundtrips(entries in unique_entries()) {
            let body = serde_json::to_value(&entries).unwrap();
            prop_assert_eq!(parse_spend_json(&body, &usd()), Ok(entries));
        }
    }
}
