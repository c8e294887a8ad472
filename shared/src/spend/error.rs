//! Why a spend upload was refused, and where in the request.

use crate::money::MAX_ABS_MINOR;
use thiserror::Error;

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
