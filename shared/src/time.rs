//! Calendar time without a clock: UTC days and millisecond timestamps.
//!
//! Everything in `shared` receives "now" as a parameter, so these types only convert and compare.
//! Day numbers use Howard Hinnant's civil-from-days algorithm (proleptic Gregorian calendar).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use thiserror::Error;

/// Milliseconds in one UTC day.
pub const MS_PER_DAY: i64 = 86_400_000;

/// A UTC calendar day, stored as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Day(pub i32);

/// An instant, in milliseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// Why a date or timestamp string was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimeError {
    #[error("expected a date as YYYY-MM-DD")]
    BadDate,
    #[error("expected an RFC 3339 timestamp such as 2026-10-05T10:00:00Z")]
    BadTimestamp,
    #[error("year must be between 1 and 9999")]
    YearOutOfRange,
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl Day {
    /// The day of a calendar date; `None` when the date does not exist.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Day> {
        if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(i64::from(y), m) {
            return None;
        }
        Some(Day(days_from_civil(i64::from(y), m, d) as i32))
    }

    /// Year, month and day of month.
    pub fn ymd(self) -> (i32, u32, u32) {
        let (y, m, d) = civil_from_days(i64::from(self.0));
        (y as i32, m, d)
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Day, TimeError> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(TimeError::BadDate);
        }
        let y = digits(&b[0..4]).ok_or(TimeError::BadDate)?;
        let m = digits(&b[5..7]).ok_or(TimeError::BadDate)?;
        let d = digits(&b[8..10]).ok_or(TimeError::BadDate)?;
        Day::from_ymd(y as i32, m, d).ok_or(TimeError::BadDate)
    }

    /// The first millisecond of this day.
    pub fn start(self) -> Timestamp {
        Timestamp(i64::from(self.0) * MS_PER_DAY)
    }

    /// `self + n` days (saturating, so absurd inputs cannot overflow).
    pub fn plus(self, n: i32) -> Day {
        Day(self.0.saturating_add(n))
    }

    /// Whole days from `earlier` to `self` (negative when `earlier` is later).
    pub fn days_since(self, earlier: Day) -> i32 {
        self.0.saturating_sub(earlier.0)
    }

    /// First day of this day's calendar month.
    pub fn month_start(self) -> Day {
        let (y, m, _) = self.ymd();
        Day(days_from_civil(i64::from(y), m, 1) as i32)
    }

    /// First day of the month `n` months after this day's month (n may be negative).
    pub fn add_months(self, n: i32) -> Day {
        let (y, m, _) = self.ymd();
        let total = i64::from(y) * 12 + i64::from(m) - 1 + i64::from(n);
        Day(days_from_civil(total.div_euclid(12), (total.rem_euclid(12) + 1) as u32, 1) as i32)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
        let s = String::deserialize(d)?;
        Day::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0')))
}

impl Timestamp {
    /// The UTC day this instant falls on.
    pub fn day(self) -> Day {
        Day(self.0.div_euclid(MS_PER_DAY) as i32)
    }

    /// Parses an RFC 3339 timestamp (`2026-10-05T10:00:00Z`, `…T10:00:00.123+02:00`); a space may stand for `T`.
    pub fn parse_rfc3339(s: &str) -> Result<Timestamp, TimeError> {
        let b = s.as_bytes();
        // ASCII only, so slicing by byte offsets below can never split a character.
        if b.len() < 20 || b.len() > 40 || !s.is_ascii() {
            return Err(TimeError::BadTimestamp);
        }
        let day = Day::parse(&s[..10]).map_err(|_| TimeError::BadTimestamp)?;
        if !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
            return Err(TimeError::BadTimestamp);
        }
        let hh = digits(&b[11..13]).ok_or(TimeError::BadTimestamp)?;
        let mm = digits(&b[14..16]).ok_or(TimeError::BadTimestamp)?;
        let ss = digits(&b[17..19]).ok_or(TimeError::BadTimestamp)?;
        // RFC 3339 allows a leap second (60); it is folded into the next second's neighbour.
        if hh > 23 || mm > 59 || ss > 60 {
            return Err(TimeError::BadTimestamp);
        }
        let mut i = 19;
        let mut millis = 0i64;
        if b[i] == b'.' {
            let start = i + 1;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            if end == start || end - start > 9 {
                return Err(TimeError::BadTimestamp);
            }
            for (k, c) in b[start..end].iter().take(3).enumerate() {
                millis += i64::from(c - b'0') * [100, 10, 1][k];
            }
            i = end;
        }
        let offset_min: i64 = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
                let oh = digits(&b[i + 1..i + 3]).ok_or(TimeError::BadTimestamp)?;
                let om = digits(&b[i + 4..i + 6]).ok_or(TimeError::BadTimestamp)?;
                if oh > 23 || om > 59 {
                    return Err(TimeError::BadTimestamp);
                }
                let v = i64::from(oh * 60 + om);
                if *sign == b'-' { -v } else { v }
            }
            _ => return Err(TimeError::BadTimestamp),
        };
        let secs = i64::from(hh) * 3600 + i64::from(mm) * 60 + i64::from(ss.min(59)) - offset_min * 60;
        Ok(Timestamp(day.start().0 + secs * 1000 + millis))
    }

    /// Formats as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub fn to_rfc3339(self) -> String {
        let day = self.day();
        let ms = self.0.rem_euclid(MS_PER_DAY);
        let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        format!("{day}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_days() {
        assert_eq!(Day::parse("1970-01-01"), Ok(Day(0)));
        assert_eq!(Day::parse("2026-10-05").map(|d| d.to_string()), Ok("2026-10-05".into()));
        assert_eq!(Day::parse("2000-03-01").map(|d| d.0), Ok(11_017));
        assert_eq!(Day::parse("2024-02-29").map(|d| d.ymd()), Ok((2024, 2, 29)));
        for bad in ["2023-02-29", "2026-13-01", "2026-00-10", "26-10-05", "2026/10/05", "2026-10-5 ", ""] {
            assert_eq!(Day::parse(bad), Err(TimeError::BadDate), "{bad}");
        }
    }

    #[test]
    fn months() {
        let d = Day::parse("2026-01-31").unwrap_or_default();
        assert_eq!(d.month_start().to_string(), "2026-01-01");
        assert_eq!(d.add_months(1).to_string(), "2026-02-01");
        assert_eq!(d.add_months(-1).to_string(), "2025-12-01");
        assert_eq!(d.add_months(12).to_string(), "2027-01-01");
    }

    #[test]
    fn timestamps() {
        let t = |s: &str| Timestamp::parse_rfc3339(s);
        assert_eq!(t("1970-01-01T00:00:00Z"), Ok(Timestamp(0)));
        assert_eq!(t("1970-01-01T00:00:01.5Z"), Ok(Timestamp(1500)));
        assert_eq!(t("1970-01-01T02:00:00+02:00"), Ok(Timestamp(0)));
        assert_eq!(t("1969-12-31T23:00:00-01:00"), Ok(Timestamp(0)));
        assert_eq!(t("2026-10-05T10:00:00.123456789Z").map(|t| t.0 % 1000), Ok(123));
        assert_eq!(t("2026-10-05T10:00:00Z").map(|t| t.to_rfc3339()), Ok("2026-10-05T10:00:00.000Z".into()));
        for bad in [
            "2026-10-05",
            "2026-10-05T10:00:00",
            "2026-10-05T25:00:00Z",
            "2026-10-05T10:00:00+2:00",
            "2026-10-05T10:00:00.Z",
            "yesterday",
            "2026-10-05T10:00:00Zjunk",
            "2026-02-30T10:00:00Z",
        ] {
            assert_eq!(t(bad), Err(TimeError::BadTimestamp), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn day_roundtrips(n in -700_000i32..2_900_000) {
            let d = Day(n);
            let (y, m, dd) = d.ymd();
            if (1..=9999).contains(&y) {
                prop_assert_eq!(Day::from_ymd(y, m, dd), Some(d));
                prop_assert_eq!(Day::parse(&d.to_string()), Ok(d));
            }
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}", t in "[0-9T:.Z+\\-é ]{18,32}") {
            let _ = Day::parse(&s);
            let _ = Timestamp::parse_rfc3339(&s);
            let _ = Timestamp::parse_rfc3339(&t);
        }

        #[test]
        fn timestamp_roundtrips(ms in 0i64..253_402_300_799_000) {
            let t = Timestamp(ms);
            prop_assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Ok(t));
        }
    }
}
