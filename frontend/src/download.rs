//! CSV export of what the current view shows: the layout is the domain's (`shared::export`, RFC 4180,
//! formula-injection safe, the same files the API's `format=csv` gives), built in the browser and
//! downloaded as a Blob.

use crate::components::what_if::projection;
use crate::state::{State, Tab};
use daytwo_shared::export::{self, Csv};
use wasm_bindgen::{JsCast, JsValue};

/// The API's CSV writer with the browser writing the floats: the same text (`tests/components.rs` compares
/// the two over a million values), and Rust's float printing stays out of the wasm (4.5 KB gzip less, measured).
const CSV: Csv = Csv { float: number_text };

/// [`export::FloatText`] by the browser, the same text as `f64`'s `Display`. `Number.prototype.toString`
/// writes the shortest text that reads back as the same number, as `Display` does; where two texts of that
/// length are equally close (the value lies exactly halfway, as 1658206780088562.25 between "…562.2" and
/// "…562.3") it takes the even last digit, `Display` the one further from zero, which is what `toPrecision`
/// takes at that length. It also writes an exponent below 1e-6 and from 1e21 on (spelled out here), and "0"
/// for −0 (which `Display` writes "-0").
pub fn number_text(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let n = js_sys::Number::from(v);
    let shortest = n.to_string_with_radix(10).map(String::from).unwrap_or_default();
    let length = significant_digits(&shortest);
    let tie_up = n.to_precision(length).map(String::from).unwrap_or_default();
    // At a power of two the gap below is half the gap above: there the closest text of that length may not
    // read back, and the shortest one stands.
    let text = if js_sys::Number::parse_float(&tie_up).to_bits() == v.to_bits() { tie_up } else { shortest };
    spell_out_exponent(&text)
}

/// How many significant digits a JavaScript number's text has ("-0.00123" → 3, "1.5e-7" → 2, "1200" → 2;
/// it writes no trailing zeros after a point).
fn significant_digits(text: &str) -> u8 {
    let mantissa = text.split('e').next().unwrap_or(text);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    u8::try_from(significant.clamp(1, 100)).unwrap_or(100)
}

/// `1.5e-7` → `0.00000015`, `-1e+21` → `-1000000000000000000000`; a number without an exponent as it is.
pub fn spell_out_exponent(text: &str) -> String {
    let Some((mantissa, exponent)) = text.split_once('e') else { return text.to_owned() };
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    // Where the decimal point falls in `digits` (before the first digit when 0, left of it when negative).
    let point = int.len() as i64 + exponent.parse::<i64>().unwrap_or(0);
    let mut out = sign.to_owned();
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
        out.push_str(&digits);
    } else if point as usize >= digits.len() {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    out
}

/// Whether the current view has loaded what its export needs.
pub fn can_export(state: &State) -> bool {
    match state.tab {
        Tab::Overview | Tab::Spend | Tab::WhatIf => state.budget.ready().is_some(),
        Tab::Lifecycle => state.lifecycle.ready().is_some(),
        Tab::Engagement => state.engagement.ready().is_some(),
    }
}

/// File name and CSV text for the current view, or `None` while its data is not loaded.
pub fn csv_for_view(state: &State, site: &str) -> Option<(String, String)> {
    let body = match state.tab {
        Tab::Overview => CSV.comparison(state.budget.ready()?),
        Tab::Lifecycle => {
            let lifecycle = CSV.lifecycle(state.lifecycle.ready()?);
            match state.budget.ready() {
                Some(b) => export::sections(&[lifecycle, CSV.funnel(&b.current.funnel)]),
                None => lifecycle,
            }
        }
        Tab::Engagement => {
            let engagement = CSV.engagement(state.engagement.ready()?);
            match state.accounts.ready() {
                Some(page) => export::sections(&[engagement, CSV.accounts(page)]),
                None => engagement,
            }
        }
        Tab::Spend => CSV.budget(state.budget.ready()?),
        Tab::WhatIf => {
            let r = state.budget.ready()?;
            CSV.what_if(&r.current, r.verdict.kind, &projection(r, state.moved_bp))
        }
    };
    let safe: String =
        site.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    let name = format!("daytwo-{safe}-{}-{}-to-{}.csv", state.tab.slug(), state.period.from, state.period.last_day());
    Some((name, body))
}

/// Offers `text` as a download named `name` (a Blob behind a temporary object URL).
pub fn download(name: &str, text: &str) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let document = window.document().ok_or_else(|| JsValue::from_str("no document"))?;
    // A byte-order mark so spreadsheet programs read the file as UTF-8.
    let parts = js_sys::Array::of1(&JsValue::from_str(&format!("\u{feff}{text}")));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv;charset=utf-8");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    // Revoke once the click has been handled.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    window.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 1000)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{significant_digits, spell_out_exponent};

    #[test]
    fn significant_digits_of_javascript_numbers() {
        for (text, n) in [("-0.00123", 3), ("1.5e-7", 2), ("1200", 2), ("1658206780088562.2", 17), ("5e-324", 1)] {
            assert_eq!(significant_digits(text), n, "{text}");
        }
    }

    #[test]
    fn exponents_are_spelled_out() {
        for (js, display) in [
            ("1.5e-7", "0.00000015"),
            ("-1.5e-7", "-0.00000015"),
            ("1e-7", "0.0000001"),
            ("5e-324", &format!("0.{}5", "0".repeat(323))),
            ("1e+21", "1000000000000000000000"),
            ("-1.2345e+22", "-12345000000000000000000"),
            ("1.7976931348623157e+308", &format!("17976931348623157{}", "0".repeat(292))),
            ("0.000001", "0.000001"),
            ("123.25", "123.25"),
            ("-7", "-7"),
        ] {
            assert_eq!(spell_out_exponent(js), display, "{js}");
        }
        assert_eq!(spell_out_exponent("5e-324"), 5e-324f64.to_string());
        assert_eq!(spell_out_exponent("1.7976931348623157e+308"), f64::MAX.to_string());
        assert_eq!(spell_out_exponent("-1.2345e+22"), (-1.2345e22f64).to_string());
    }
}
