//! Money is integer minor units of one ISO 4217 currency per site; never floats.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use thiserror::Error;

/// Largest absolute amount accepted anywhere, in minor units (10^15: a quadrillion cents is absurd already).
pub const MAX_ABS_MINOR: i64 = 1_000_000_000_000_000;

/// An ISO 4217 code: three upper-case ASCII letters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Currency(String);

/// Why an amount or currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    #[error("currency must be a three-letter ISO 4217 code such as USD")]
    BadCurrency,
    #[error("amount must be a decimal number")]
    NotANumber,
    #[error("amount is out of range")]
    OutOfRange,
    #[error("amount must not be negative")]
    Negative,
}

impl Currency {
    /// Validates and upper-cases a currency code.
    pub fn parse(s: &str) -> Result<Currency, MoneyError> {
        let t = s.trim();
        if t.len() == 3 && t.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(Currency(t.to_ascii_uppercase()))
        } else {
            Err(MoneyError::BadCurrency)
        }
    }

    pub fn code(&self) -> &str {
        &self.0
    }

    /// Decimal places of the currency's minor unit (ISO 4217); 2 for codes not listed as different.
    pub fn exponent(&self) -> u32 {
        match self.0.as_str() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND"
            | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            "CLF" | "UYW" => 4,
            _ => 2,
        }
    }
}

impl Default for Currency {
    fn default() -> Self {
        Currency("USD".to_owned())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Currency, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Converts a decimal string in major units (`"1200.50"`, `"-3"`, `"1e3"`) to minor units, exactly.
///
/// Digits beyond the currency's exponent are rounded half away from zero. No float arithmetic is involved.
pub fn decimal_to_minor(text: &str, exponent: u32) -> Result<i64, MoneyError> {
    let s = text.trim();
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp10) = match body.find(['e', 'E']) {
        Some(i) => {
            let e: i32 = body[i + 1..].parse().map_err(|_| MoneyError::NotANumber)?;
            (&body[..i], e)
        }
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(MoneyError::NotANumber);
    }
    // All digits as one integer string, with the decimal point `point` digits from the left.
    let digits: String = format!("{int_part}{frac_part}");
    let point = int_part.len() as i64 + i64::from(exp10) + i64::from(exponent);
    let digits = digits.trim_start_matches('0');
    let leading_zeros_removed = (int_part.len() + frac_part.len() - digits.len()) as i64;
    let point = point - leading_zeros_removed;
    if digits.is_empty() {
        return Ok(0);
    }
    if point > 18 {
        return Err(MoneyError::OutOfRange);
    }
    let mut value: i64 = 0;
    for (i, c) in digits.bytes().enumerate() {
        let i = i as i64;
        if i < point {
            value =
                value.checked_mul(10).and_then(|v| v.checked_add(i64::from(c - b'0'))).ok_or(MoneyError::OutOfRange)?;
        } else {
            if i == point && c >= b'5' {
                value = value.checked_add(1).ok_or(MoneyError::OutOfRange)?;
            }
            break;
        }
    }
    for _ in digits.len() as i64..point.max(0) {
        value = value.checked_mul(10).ok_or(MoneyError::OutOfRange)?;
    }
    if value > MAX_ABS_MINOR {
        return Err(MoneyError::OutOfRange);
    }
    Ok(if negative { -value } else { value })
}

/// Converts a JSON number or numeric string in major units to minor units.
///
/// A JSON float is turned back into its shortest decimal text first, so `1200.5` becomes 120050 exactly.
pub fn json_to_minor(value: &serde_json::Value, exponent: u32) -> Result<i64, MoneyError> {
    match value {
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                decimal_to_minor(&i.to_string(), exponent)
            } else if let Some(u) = n.as_u64() {
                decimal_to_minor(&u.to_string(), exponent)
            } else {
                let f = n.as_f64().ok_or(MoneyError::NotANumber)?;
                if !f.is_finite() {
                    return Err(MoneyError::NotANumber);
                }
                decimal_to_minor(&format!("{f:e}"), exponent)
            }
        }
        serde_json::Value::String(s) => decimal_to_minor(s, exponent),
        _ => Err(MoneyError::NotANumber),
    }
}

/// Formats minor units as a major-unit decimal string (`120050`, 2 → `"1200.50"`).
pub fn format_minor(minor: i64, exponent: u32) -> String {
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(exponent);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = scale as u64;
    format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exponent as usize)
}

/// `numerator / denominator` rounded half away from zero, in integers; `None` when the denominator is zero.
pub fn div_round(numerator: i64, denominator: i64) -> Option<i64> {
    if denominator == 0 {
        return None;
    }
    let n = i128::from(numerator);
    let d = i128::from(denominator);
    let q = (2 * n.abs() + d.abs()) / (2 * d.abs());
    let q = if (n < 0) != (d < 0) { -q } else { q };
    i64::try_from(q).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn decimals_convert_exactly() {
        let cases: &[(&str, u32, Result<i64, MoneyError>)] = &[
            ("1200.50", 2, Ok(120_050)),
            ("1200.5", 2, Ok(120_050)),
            ("0.1", 2, Ok(10)),
            ("0.005", 2, Ok(1)),
            ("0.004", 2, Ok(0)),
            ("-2.345", 2, Ok(-235)),
            ("12", 0, Ok(12)),
            ("12.5", 0, Ok(13)),
            ("1.2345", 3, Ok(1235)),
            ("1e3", 2, Ok(100_000)),
            ("1.5E-1", 2, Ok(15)),
            ("000123.40", 2, Ok(12_340)),
            (".5", 2, Ok(50)),
            ("5.", 2, Ok(500)),
            ("0", 2, Ok(0)),
            ("1e300", 2, Err(MoneyError::OutOfRange)),
            ("10000000000000.01", 2, Err(MoneyError::OutOfRange)),
            ("lots", 2, Err(MoneyError::NotANumber)),
            ("", 2, Err(MoneyError::NotANumber)),
            (".", 2, Err(MoneyError::NotANumber)),
            ("1.2.3", 2, Err(MoneyError::NotANumber)),
            ("NaN", 2, Err(MoneyError::NotANumber)),
            ("1e", 2, Err(MoneyError::NotANumber)),
        ];
        for (text, exp, want) in cases {
            assert_eq!(&decimal_to_minor(text, *exp), want, "{text}");
        }
    }

    #[test]
    fn json_numbers_convert_exactly() {
        assert_eq!(json_to_minor(&json!(1200.5), 2), Ok(120_050));
        assert_eq!(json_to_minor(&json!(0.1), 2), Ok(10));
        assert_eq!(json_to_minor(&json!(19.99), 2), Ok(1999));
        assert_eq!(json_to_minor(&json!(1e20), 2), Err(MoneyError::OutOfRange));
        assert_eq!(json_to_minor(&json!(42), 2), Ok(4200));
        assert_eq!(json_to_minor(&json!("42.10"), 2), Ok(4210));
        assert_eq!(json_to_minor(&json!(true), 2), Err(MoneyError::NotANumber));
        assert_eq!(json_to_minor(&json!(null), 2), Err(MoneyError::NotANumber));
    }

    #[test]
    fn currencies() {
        assert_eq!(Currency::parse("usd").map(|c| c.to_string()), Ok("USD".into()));
        assert_eq!(Currency::parse("US"), Err(MoneyError::BadCurrency));
        assert_eq!(Currency::parse("U$D"), Err(MoneyError::BadCurrency));
        assert_eq!(Currency::parse("JPY").map(|c| c.exponent()), Ok(0));
        assert_eq!(Currency::parse("KWD").map(|c| c.exponent()), Ok(3));
    }

    #[test]
    fn formatting_and_division() {
        assert_eq!(format_minor(120_050, 2), "1200.50");
        assert_eq!(format_minor(-5, 2), "-0.05");
        assert_eq!(format_minor(7, 0), "7");
        assert_eq!(div_round(10, 4), Some(3));
        assert_eq!(div_round(-10, 4), Some(-3));
        assert_eq!(div_round(9, 4), Some(2));
        assert_eq!(div_round(1, 0), None);
    }

    proptest! {
        #[test]
        fn format_then_parse_roundtrips(minor in -MAX_ABS_MINOR..MAX_ABS_MINOR, exp in 0u32..4) {
            prop_assert_eq!(decimal_to_minor(&format_minor(minor, exp), exp), Ok(minor));
        }

        #[test]
        fn decimal_parsing_never_panics(t in "\\PC{0,30}", u in "[-+0-9.eE]{0,30}") {
            let _ = decimal_to_minor(&t, 2);
            let _ = decimal_to_minor(&u, 3);
        }

        #[test]
        fn cents_as_json_floats_are_exact(minor in 0i64..100_000_000_000) {
            let f = minor as f64 / 100.0;
            prop_assert_eq!(json_to_minor(&json!(f), 2), Ok(minor));
        }
    }
}
