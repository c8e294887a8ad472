//! How figures read on screen. Money goes through the domain's `format_minor` (exact, integer minor units)
//! plus digit grouping and the ISO code; an undefined ratio (`null` in the JSON) is "—", never NaN.
//!
//! Floats are formatted by hand (scaled, rounded half away from zero, then integer formatting), which keeps
//! the rule explicit (the end-to-end test formats the API's numbers the same way) and the wasm small.

use daytwo_shared::money::{Currency, format_minor};
use daytwo_shared::report::{Period, VerdictKind};
use daytwo_shared::time::Day;

/// What an undefined figure shows.
pub const NONE: &str = "—";
/// The typographic minus sign.
pub const MINUS: &str = "\u{2212}";

/// Groups the integer digits of a plain decimal (`"-1234567.89"` → `"-1,234,567.89"`).
pub fn group(plain: &str) -> String {
    let (sign, rest) = match plain.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", plain),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut out = String::with_capacity(plain.len() + int.len() / 3);
    out.push_str(sign);
    let n = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// `x` with `decimals` places, rounded half away from zero, digits grouped (`1234.5`, 1 → `"1,234.5"`).
pub fn fixed(x: f64, decimals: u32) -> String {
    let scale = 10i64.pow(decimals);
    let scaled = (x * scale as f64).round();
    if !scaled.is_finite() || scaled.abs() > 9.0e15 {
        return NONE.to_owned();
    }
    let n = scaled as i64;
    // `format_minor` is exactly "an integer with `decimals` implied places".
    group(&format_minor(n, decimals))
}

/// `x` with `decimals` places and no grouping, for SVG geometry and CSS (`12.3456`, 2 → `"12.35"`).
pub fn plain(x: f64, decimals: u32) -> String {
    let scaled = (x * 10i64.pow(decimals) as f64).round();
    if scaled.is_finite() { format_minor(scaled as i64, decimals) } else { "0".to_owned() }
}

/// A percentage for SVG geometry: `12.3456` → `"12.35%"`.
pub fn at(x: f64) -> String {
    format!("{}%", plain(x, 2))
}

/// Replaces a leading `-` by the typographic minus.
fn minus(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) => format!("{MINUS}{rest}"),
        None => s,
    }
}

/// An amount: `"USD 1,234.56"`, `"−USD 12.00"`.
pub fn money(minor: i64, currency: &Currency) -> String {
    let s = group(&format_minor(minor, currency.exponent()));
    match s.strip_prefix('-') {
        Some(abs) => format!("{MINUS}{} {abs}", currency.code()),
        None => format!("{} {s}", currency.code()),
    }
}

pub fn money_opt(minor: Option<i64>, currency: &Currency) -> String {
    minor.map_or_else(|| NONE.to_owned(), |m| money(m, currency))
}

/// A change in money: `"+USD 5.00"`, `"−USD 5.00"`, `"USD 0.00"`.
pub fn money_delta(minor: Option<i64>, currency: &Currency) -> String {
    match minor {
        None => NONE.to_owned(),
        Some(m) if m > 0 => format!("+{}", money(m, currency)),
        Some(m) => money(m, currency),
    }
}

/// A share or rate in 0..1 as a percentage with one decimal: `0.7268` → `"72.7%"`.
pub fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| NONE.to_owned(), |v| format!("{}%", minus(fixed(v * 100.0, 1))))
}

/// A share as a whole percentage, for chart labels: `0.7268` → `"73%"`.
pub fn pct0(x: Option<f64>) -> String {
    x.map_or_else(|| NONE.to_owned(), |v| format!("{}%", minus(fixed(v * 100.0, 0))))
}

/// A difference of two shares, in percentage points: `0.0105` → `"+1.1 pts"`.
pub fn points_delta(x: Option<f64>) -> String {
    points(x.map(|v| v * 100.0))
}

/// A value already in points: `69.3` → `"+69.3 pts"`.
pub fn points(x: Option<f64>) -> String {
    match x {
        None => NONE.to_owned(),
        Some(v) => {
            let s = fixed(v, 1);
            if s.starts_with('-') {
                format!("{} pts", minus(s))
            } else if s == "0.0" {
                "0.0 pts".to_owned()
            } else {
                format!("+{s} pts")
            }
        }
    }
}

/// A multiple: `1.4889` → `"1.49×"`.
pub fn times(x: Option<f64>) -> String {
    x.map_or_else(|| NONE.to_owned(), |v| format!("{}×", minus(fixed(v, 2))))
}

/// A change of a multiple: `"+0.12×"`.
pub fn times_delta(x: Option<f64>) -> String {
    match x {
        None => NONE.to_owned(),
        Some(v) => {
            let s = fixed(v, 2);
            if s.starts_with('-') { format!("{}×", minus(s)) } else { format!("+{s}×") }
        }
    }
}

/// Revenue per unit of spend: `0.1492` → `"0.15"`.
pub fn per_unit(x: Option<f64>) -> String {
    x.map_or_else(|| NONE.to_owned(), |v| minus(fixed(v, 2)))
}

/// A count with grouped digits.
pub fn count(n: u64) -> String {
    group(&n.to_string())
}

pub fn count_opt(n: Option<u64>) -> String {
    n.map_or_else(|| NONE.to_owned(), count)
}

/// A signed change in a count: `"+2"`, `"−3"`, `"0"`.
pub fn count_delta(n: i64) -> String {
    if n > 0 { format!("+{}", group(&n.to_string())) } else { minus(group(&n.to_string())) }
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `"3 Jul 2026"`.
pub fn date(d: Day) -> String {
    let (y, m, day) = d.ymd();
    format!("{day} {} {y}", MONTHS[(m as usize).saturating_sub(1).min(11)])
}

pub fn date_opt(d: Option<Day>) -> String {
    d.map_or_else(|| NONE.to_owned(), date)
}

/// A period by its first and last day (`to` is exclusive): `"3 Jul – 30 Sep 2026"`.
pub fn period(p: Period) -> String {
    let (first, last) = (p.from, p.last_day());
    let (fy, fm, fd) = first.ymd();
    let (ly, lm, _) = last.ymd();
    if first == last {
        date(first)
    } else if fy == ly && fm == lm {
        format!("{fd}–{}", date(last))
    } else if fy == ly {
        format!("{fd} {} – {}", MONTHS[(fm as usize).saturating_sub(1).min(11)], date(last))
    } else {
        format!("{} – {}", date(first), date(last))
    }
}

/// The verdict as a phrase: "overweight in acquisition".
pub fn verdict_phrase(kind: VerdictKind) -> &'static str {
    match kind {
        VerdictKind::OverweightAcquisition => "overweight in acquisition",
        VerdictKind::OverweightRetention => "overweight in retention",
        VerdictKind::Balanced => "balanced",
        VerdictKind::InsufficientData => "not measurable (no spend or no revenue)",
    }
}

/// The verdict as a headline: "Overweight in acquisition".
pub fn verdict_title(kind: VerdictKind) -> &'static str {
    match kind {
        VerdictKind::OverweightAcquisition => "Overweight in acquisition",
        VerdictKind::OverweightRetention => "Overweight in retention",
        VerdictKind::Balanced => "Balanced",
        VerdictKind::InsufficientData => "Not enough data",
    }
}

/// A CSS modifier for a verdict.
pub fn verdict_class(kind: VerdictKind) -> &'static str {
    match kind {
        VerdictKind::OverweightAcquisition | VerdictKind::OverweightRetention => "dt-verdict-warn",
        VerdictKind::Balanced => "dt-verdict-ok",
        VerdictKind::InsufficientData => "dt-verdict-none",
    }
}

/// The positions of `keys` in ascending order (a stable insertion sort: lists here are short, and one
/// non-generic sort keeps the wasm smaller than `sort_by` instantiated per element type).
pub fn order(keys: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = Vec::with_capacity(keys.len());
    for i in 0..keys.len() {
        let mut at = idx.len();
        while at > 0 && keys[idx[at - 1]] > keys[i] {
            at -= 1;
        }
        idx.insert(at, i);
    }
    idx
}

/// A message as a sentence: first letter capitalised (ASCII), as the API's messages start in lower case.
pub fn sentence(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// Capitalises the first letter (ASCII only: stage and indicator ids).
pub fn title_case(s: &str) -> String {
    sentence(&s.replace('_', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_fixed() {
        assert_eq!(group("1234567.89"), "1,234,567.89");
        assert_eq!(group("-123"), "-123");
        assert_eq!(group("-1234"), "-1,234");
        assert_eq!(fixed(72.675_896, 1), "72.7");
        assert_eq!(fixed(-0.04, 1), "0.0");
        assert_eq!(fixed(1234.5, 0), "1,235");
        assert_eq!(pct(Some(0.726_758_968)), "72.7%");
        assert_eq!(pct(None), "—");
        assert_eq!(times(Some(1.488_944_931)), "1.49×");
        assert_eq!(points(Some(-3.25)), "−3.3 pts");
    }
}
