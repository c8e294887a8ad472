//! Reading the spend ledger from JSON and from CSV: both go through one set of field rules (`Raw` cells),
//! so an upload behaves the same in either form.

use super::allocate::to_i64;
use super::*;
use crate::money::{Currency, MAX_ABS_MINOR};
use crate::time::Day;
use serde_json::Value;
use std::collections::HashMap;

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

/// Characters a label counts against its limit. The apostrophe [`to_csv`] puts before a name that starts like
/// a formula (`'-20% off`) is not counted: it stays part of the name when read back, and a name at its limit
/// must still read back from the CSV this module's own writer made of it.
fn label_chars(s: &str) -> usize {
    let n = s.chars().count();
    match s.strip_prefix('\'') {
        Some(rest) if crate::export::starts_like_formula(rest) => n - 1,
        _ => n,
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
        Cell::Text(s) if label_chars(s) > max_chars => Err(invalid(at, "too long")),
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
                Some(rest) if crate::export::starts_like_formula(rest) => Cell::text(rest),
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
