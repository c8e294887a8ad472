//! The API's JSON (parsed by the browser's `JSON.parse`) into the domain's report types.
//!
//! Why not `serde`: the reports derive `Deserialize`, but the generated code for these six report types,
//! instantiated for a deserializer and again for `#[serde(flatten)]`'s buffered path, was 43 KB of the
//! widget's gzip transfer (measured: 211 KB → 169 KB without it), over a third of the 150 KB budget. These
//! decoders build the same values with struct literals, so a field added to a report type fails to
//! compile here; `tests/components.rs` checks they equal `serde_json`'s result on real reports. Like serde
//! they ignore unknown keys (the Worker's `tail`), read a missing or `null` optional as `None`, and refuse
//! a missing required field or a value of the wrong type.

use daytwo_shared::config::Reference;
use daytwo_shared::engagement::{Band, IndicatorScore};
use daytwo_shared::lifecycle::Stage;
use daytwo_shared::money::Currency;
use daytwo_shared::playbook::Action;
use daytwo_shared::report::{
    AccountDetail, AccountPage, AccountSummary, AcquisitionFigures, BandCounts, BudgetDeltas, BudgetFigures,
    BudgetReport, EngagementReport, FunnelConversion, FunnelReport, IndicatorAverage, LifecycleReport, Period,
    RetentionFigures, Side, StageCounts, Verdict, VerdictKind, WhatIf,
};
use daytwo_shared::spend::{CampaignSpend, ChannelSpend};
use daytwo_shared::time::Day;
use wasm_bindgen::{JsCast, JsValue};

/// Why a value could not be decoded: the path of the field and what was wrong.
pub type Error = String;
type R<T> = Result<T, Error>;

/// A type the widget reads from the API's JSON.
pub trait Decode: Sized {
    fn decode(v: &JsValue) -> R<Self>;
}

/// Parses JSON text and decodes it.
pub fn from_json<T: Decode>(text: &str) -> R<T> {
    let v = js_sys::JSON::parse(text).map_err(|_| "the answer is not JSON".to_owned())?;
    T::decode(&v)
}

/// A report and its `data_status.notice` (present when figures are incomplete or the rollup is failing).
pub fn from_json_with_notice<T: Decode>(text: &str) -> R<(T, Option<String>)> {
    let v = js_sys::JSON::parse(text).map_err(|_| "the answer is not JSON".to_owned())?;
    let notice = get(&get(&v, "data_status"), "notice").as_string();
    Ok((T::decode(&v)?, notice))
}

/// `(code, message)` of an API error body `{"error":{"code","message"}}` (empty when absent).
pub fn error_fields(text: &str) -> (String, String) {
    let e = js_sys::JSON::parse(text).map(|v| get(&v, "error")).unwrap_or(JsValue::UNDEFINED);
    (get(&e, "code").as_string().unwrap_or_default(), get(&e, "message").as_string().unwrap_or_default())
}

/// `o[key]`; `undefined` when `o` is not an object or has no such key.
fn get(o: &JsValue, key: &str) -> JsValue {
    if !o.is_object() {
        return JsValue::UNDEFINED;
    }
    js_sys::Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn missing(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

fn err<T>(key: &str, what: &str) -> R<T> {
    Err(format!("`{key}`: expected {what}"))
}

fn f64_of(v: &JsValue, key: &str) -> R<f64> {
    match v.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        _ => err(key, "a number"),
    }
}

/// An integer within `lo..=hi` (JSON numbers are exact up to 2^53, beyond any amount the API sends).
fn int_of(v: &JsValue, key: &str, lo: f64, hi: f64) -> R<i64> {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && (lo..=hi).contains(&x) => Ok(x as i64),
        _ => err(key, "an integer"),
    }
}

const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn f64_(o: &JsValue, k: &str) -> R<f64> {
    f64_of(&get(o, k), k)
}
fn opt_f64(o: &JsValue, k: &str) -> R<Option<f64>> {
    let v = get(o, k);
    if missing(&v) { Ok(None) } else { f64_of(&v, k).map(Some) }
}
fn i64_(o: &JsValue, k: &str) -> R<i64> {
    int_of(&get(o, k), k, -MAX_SAFE, MAX_SAFE)
}
fn opt_i64(o: &JsValue, k: &str) -> R<Option<i64>> {
    let v = get(o, k);
    if missing(&v) { Ok(None) } else { int_of(&v, k, -MAX_SAFE, MAX_SAFE).map(Some) }
}
fn u64_(o: &JsValue, k: &str) -> R<u64> {
    int_of(&get(o, k), k, 0.0, MAX_SAFE).map(|x| x as u64)
}
fn string(o: &JsValue, k: &str) -> R<String> {
    get(o, k).as_string().map_or_else(|| err(k, "a string"), Ok)
}
fn opt_string(o: &JsValue, k: &str) -> R<Option<String>> {
    let v = get(o, k);
    if missing(&v) { Ok(None) } else { v.as_string().map_or_else(|| err(k, "a string"), |s| Ok(Some(s))) }
}
fn bool_(o: &JsValue, k: &str) -> R<bool> {
    get(o, k).as_bool().map_or_else(|| err(k, "true or false"), Ok)
}
fn day(o: &JsValue, k: &str) -> R<Day> {
    let s = string(o, k)?;
    Day::parse(&s).or_else(|_| err(k, "a date as YYYY-MM-DD"))
}
fn opt_day(o: &JsValue, k: &str) -> R<Option<Day>> {
    let v = get(o, k);
    if missing(&v) { Ok(None) } else { day(o, k).map(Some) }
}
fn field<T: Decode>(o: &JsValue, k: &str) -> R<T> {
    T::decode(&get(o, k)).map_err(|e| format!("{k}.{e}"))
}
fn list<T: Decode>(o: &JsValue, k: &str) -> R<Vec<T>> {
    let v = get(o, k);
    let Some(a) = v.dyn_ref::<js_sys::Array>() else { return err(k, "an array") };
    a.iter().enumerate().map(|(i, x)| T::decode(&x).map_err(|e| format!("{k}[{i}].{e}"))).collect()
}
fn strings(o: &JsValue, k: &str) -> R<Vec<String>> {
    let v = get(o, k);
    let Some(a) = v.dyn_ref::<js_sys::Array>() else { return err(k, "an array") };
    a.iter().map(|x| x.as_string().map_or_else(|| err(k, "strings"), Ok)).collect()
}
/// A snake_case enum value among `options`.
fn variant<T: Copy>(o: &JsValue, k: &str, options: &[(&str, T)]) -> R<T> {
    let s = string(o, k)?;
    options.iter().find(|(name, _)| *name == s).map_or_else(|| err(k, "a known value"), |(_, t)| Ok(*t))
}
fn opt_variant<T: Copy>(o: &JsValue, k: &str, options: &[(&str, T)]) -> R<Option<T>> {
    let v = get(o, k);
    if missing(&v) { Ok(None) } else { variant(o, k, options).map(Some) }
}

const STAGES: [(&str, Stage); 6] = [
    ("prospect", Stage::Prospect),
    ("lead", Stage::Lead),
    ("new_customer", Stage::NewCustomer),
    ("active", Stage::Active),
    ("at_risk", Stage::AtRisk),
    ("lapsed", Stage::Lapsed),
];
const BANDS: [(&str, Band); 3] =
    [("engaged", Band::Engaged), ("neutral", Band::Neutral), ("disengaged", Band::Disengaged)];
const PURPOSES: [(&str, Side); 2] = [("acquisition", Side::Acquisition), ("retention", Side::Retention)];
const VERDICTS: [(&str, VerdictKind); 4] = [
    ("overweight_acquisition", VerdictKind::OverweightAcquisition),
    ("overweight_retention", VerdictKind::OverweightRetention),
    ("balanced", VerdictKind::Balanced),
    ("insufficient_data", VerdictKind::InsufficientData),
];

impl Decode for Period {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(Period { from: day(o, "from")?, to: day(o, "to")? })
    }
}

impl Decode for AcquisitionFigures {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(AcquisitionFigures {
            spend_minor: i64_(o, "spend_minor")?,
            share: opt_f64(o, "share")?,
            new_customers: u64_(o, "new_customers")?,
            cac_minor: opt_i64(o, "cac_minor")?,
            revenue_minor: i64_(o, "revenue_minor")?,
            revenue_share: opt_f64(o, "revenue_share")?,
            return_per_dollar: opt_f64(o, "return_per_dollar")?,
        })
    }
}

impl Decode for RetentionFigures {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(RetentionFigures {
            spend_minor: i64_(o, "spend_minor")?,
            share: opt_f64(o, "share")?,
            customers_at_start: u64_(o, "customers_at_start")?,
            retained: u64_(o, "retained")?,
            retention_rate: opt_f64(o, "retention_rate")?,
            cost_per_retained_minor: opt_i64(o, "cost_per_retained_minor")?,
            revenue_minor: i64_(o, "revenue_minor")?,
            revenue_share: opt_f64(o, "revenue_share")?,
            return_per_dollar: opt_f64(o, "return_per_dollar")?,
        })
    }
}

impl Decode for FunnelConversion {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(FunnelConversion {
            awareness_to_consideration: opt_f64(o, "awareness_to_consideration")?,
            consideration_to_lead: opt_f64(o, "consideration_to_lead")?,
            lead_to_purchase: opt_f64(o, "lead_to_purchase")?,
            overall: opt_f64(o, "overall")?,
        })
    }
}

impl Decode for FunnelReport {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(FunnelReport {
            period: field(o, "period")?,
            awareness: u64_(o, "awareness")?,
            consideration: u64_(o, "consideration")?,
            lead: u64_(o, "lead")?,
            purchase: u64_(o, "purchase")?,
            conversion: field(o, "conversion")?,
        })
    }
}

impl Decode for CampaignSpend {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(CampaignSpend {
            campaign: string(o, "campaign")?,
            acquisition_minor: i64_(o, "acquisition_minor")?,
            retention_minor: i64_(o, "retention_minor")?,
            total_minor: i64_(o, "total_minor")?,
        })
    }
}

impl Decode for ChannelSpend {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(ChannelSpend {
            channel: string(o, "channel")?,
            acquisition_minor: i64_(o, "acquisition_minor")?,
            retention_minor: i64_(o, "retention_minor")?,
            total_minor: i64_(o, "total_minor")?,
            campaigns: list(o, "campaigns")?,
        })
    }
}

impl Decode for BudgetFigures {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(BudgetFigures {
            period: field(o, "period")?,
            acquisition: field(o, "acquisition")?,
            retention: field(o, "retention")?,
            total_spend_minor: i64_(o, "total_spend_minor")?,
            total_revenue_minor: i64_(o, "total_revenue_minor")?,
            ltv_minor: opt_i64(o, "ltv_minor")?,
            ltv_to_cac: opt_f64(o, "ltv_to_cac")?,
            funnel: field(o, "funnel")?,
            channels: list(o, "channels")?,
            public_key_revenue_minor: i64_(o, "public_key_revenue_minor")?,
        })
    }
}

impl Decode for WhatIf {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(WhatIf {
            from_purpose: variant(o, "from_purpose", &PURPOSES)?,
            to_purpose: variant(o, "to_purpose", &PURPOSES)?,
            moved_minor: i64_(o, "moved_minor")?,
            position_bp: i32::try_from(i64_(o, "position_bp")?).or_else(|_| err("position_bp", "basis points"))?,
            moved_pct_of_total: opt_f64(o, "moved_pct_of_total")?,
            acquisition_spend_minor: i64_(o, "acquisition_spend_minor")?,
            retention_spend_minor: i64_(o, "retention_spend_minor")?,
            acquisition_share: opt_f64(o, "acquisition_share")?,
            acquisition_revenue_minor: opt_i64(o, "acquisition_revenue_minor")?,
            retention_revenue_minor: opt_i64(o, "retention_revenue_minor")?,
            revenue_delta_minor: opt_i64(o, "revenue_delta_minor")?,
            new_revenue_share: opt_f64(o, "new_revenue_share")?,
            verdict_kind: variant(o, "verdict_kind", &VERDICTS)?,
        })
    }
}

fn pair(o: &JsValue, k: &str, default: [f64; 2]) -> R<[f64; 2]> {
    let v = get(o, k);
    if v.is_undefined() {
        return Ok(default);
    }
    match v.dyn_ref::<js_sys::Array>() {
        Some(a) if a.length() == 2 => Ok([f64_of(&a.get(0), k)?, f64_of(&a.get(1), k)?]),
        _ => err(k, "two numbers"),
    }
}

impl Decode for Reference {
    /// Every field has a default, as in the settings.
    fn decode(o: &JsValue) -> R<Self> {
        let d = Reference::default();
        Ok(Reference {
            existing_customer_purchase_probability: pair(
                o,
                "existing_customer_purchase_probability",
                d.existing_customer_purchase_probability,
            )?,
            prospect_purchase_probability: pair(o, "prospect_purchase_probability", d.prospect_purchase_probability)?,
            source: if get(o, "source").is_undefined() { d.source } else { string(o, "source")? },
        })
    }
}

impl Decode for Verdict {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(Verdict {
            kind: variant(o, "kind", &VERDICTS)?,
            message: string(o, "message")?,
            acquisition_spend_share: opt_f64(o, "acquisition_spend_share")?,
            new_revenue_share: opt_f64(o, "new_revenue_share")?,
            difference_points: opt_f64(o, "difference_points")?,
            tolerance_points: f64_(o, "tolerance_points")?,
            what_if: field(o, "what_if")?,
            reference: field(o, "reference")?,
        })
    }
}

impl Decode for BudgetDeltas {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(BudgetDeltas {
            acquisition_spend_minor: i64_(o, "acquisition_spend_minor")?,
            retention_spend_minor: i64_(o, "retention_spend_minor")?,
            acquisition_share: opt_f64(o, "acquisition_share")?,
            new_customers: i64_(o, "new_customers")?,
            cac_minor: opt_i64(o, "cac_minor")?,
            retention_rate: opt_f64(o, "retention_rate")?,
            revenue_new_minor: i64_(o, "revenue_new_minor")?,
            revenue_existing_minor: i64_(o, "revenue_existing_minor")?,
            total_revenue_minor: i64_(o, "total_revenue_minor")?,
            ltv_minor: opt_i64(o, "ltv_minor")?,
            ltv_to_cac: opt_f64(o, "ltv_to_cac")?,
            customers_at_start: i64_(o, "customers_at_start")?,
            retained: i64_(o, "retained")?,
            cost_per_retained_minor: opt_i64(o, "cost_per_retained_minor")?,
            acquisition_return_per_dollar: opt_f64(o, "acquisition_return_per_dollar")?,
            retention_return_per_dollar: opt_f64(o, "retention_return_per_dollar")?,
        })
    }
}

impl Decode for BudgetReport {
    fn decode(o: &JsValue) -> R<Self> {
        let currency = string(o, "currency")?;
        Ok(BudgetReport {
            currency: Currency::parse(&currency).or_else(|_| err("currency", "an ISO 4217 code"))?,
            // `current` is flattened into the report's top level.
            current: BudgetFigures::decode(o)?,
            verdict: field(o, "verdict")?,
            previous: field(o, "previous")?,
            deltas: field(o, "deltas")?,
            public_key_revenue_counted: bool_(o, "public_key_revenue_counted")?,
        })
    }
}

impl Decode for StageCounts {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(StageCounts {
            prospect: u64_(o, "prospect")?,
            lead: u64_(o, "lead")?,
            new_customer: u64_(o, "new_customer")?,
            active: u64_(o, "active")?,
            at_risk: u64_(o, "at_risk")?,
            lapsed: u64_(o, "lapsed")?,
        })
    }
}

impl Decode for LifecycleReport {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(LifecycleReport {
            as_of: day(o, "as_of")?,
            stages: field(o, "stages")?,
            reactivated: u64_(o, "reactivated")?,
            advocates: u64_(o, "advocates")?,
            total: u64_(o, "total")?,
        })
    }
}

impl Decode for BandCounts {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(BandCounts {
            engaged: u64_(o, "engaged")?,
            neutral: u64_(o, "neutral")?,
            disengaged: u64_(o, "disengaged")?,
        })
    }
}

impl Decode for IndicatorAverage {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(IndicatorAverage {
            id: string(o, "id")?,
            name: string(o, "name")?,
            weight: f64_(o, "weight")?,
            average_normalised: opt_f64(o, "average_normalised")?,
            measured: u64_(o, "measured")?,
        })
    }
}

impl Decode for EngagementReport {
    fn decode(o: &JsValue) -> R<Self> {
        let v = get(o, "histogram");
        let mut histogram = [0u64; 10];
        match v.dyn_ref::<js_sys::Array>() {
            Some(a) if a.length() == 10 => {
                for (i, slot) in histogram.iter_mut().enumerate() {
                    *slot = int_of(&a.get(i as u32), "histogram", 0.0, MAX_SAFE)? as u64;
                }
            }
            _ => return err("histogram", "ten counts"),
        }
        Ok(EngagementReport {
            as_of: day(o, "as_of")?,
            customers: u64_(o, "customers")?,
            bands: field(o, "bands")?,
            histogram,
            average_score: opt_f64(o, "average_score")?,
            indicators: list(o, "indicators")?,
        })
    }
}

impl Decode for AccountSummary {
    fn decode(o: &JsValue) -> R<Self> {
        let score = get(o, "score");
        let trend = get(o, "trend");
        Ok(AccountSummary {
            id: string(o, "id")?,
            kind: string(o, "kind")?,
            name: opt_string(o, "name")?,
            stage: variant(o, "stage", &STAGES)?,
            reactivated: bool_(o, "reactivated")?,
            advocate: bool_(o, "advocate")?,
            score: if missing(&score) { None } else { Some(int_of(&score, "score", 0.0, 255.0)? as u8) },
            band: opt_variant(o, "band", &BANDS)?,
            trend: if missing(&trend) { None } else { Some(int_of(&trend, "trend", -32768.0, 32767.0)? as i16) },
            first_seen: day(o, "first_seen")?,
            last_seen: opt_day(o, "last_seen")?,
            first_purchase: opt_day(o, "first_purchase")?,
            last_purchase: opt_day(o, "last_purchase")?,
            revenue_minor: i64_(o, "revenue_minor")?,
            pulling_down: strings(o, "pulling_down")?,
            actions: list(o, "actions")?,
        })
    }
}

impl Decode for AccountPage {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(AccountPage {
            as_of: day(o, "as_of")?,
            total: u64_(o, "total")? as usize,
            accounts: list(o, "accounts")?,
            next_cursor: opt_string(o, "next_cursor")?,
        })
    }
}

impl Decode for IndicatorScore {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(IndicatorScore {
            id: string(o, "id")?,
            name: string(o, "name")?,
            raw: opt_f64(o, "raw")?,
            normalised: opt_f64(o, "normalised")?,
            weight: f64_(o, "weight")?,
            contribution: f64_(o, "contribution")?,
            shortfall: f64_(o, "shortfall")?,
        })
    }
}

impl Decode for Action {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(Action {
            id: string(o, "id")?,
            title: string(o, "title")?,
            channel: string(o, "channel")?,
            why: string(o, "why")?,
        })
    }
}

impl Decode for AccountDetail {
    fn decode(o: &JsValue) -> R<Self> {
        Ok(AccountDetail {
            // The summary is flattened into the detail's top level.
            summary: AccountSummary::decode(o)?,
            as_of: day(o, "as_of")?,
            breakdown: list(o, "breakdown")?,
            identities: u64_(o, "identities")? as usize,
            modules: strings(o, "modules")?,
            activity_days_in_window: u64_(o, "activity_days_in_window")? as usize,
        })
    }
}
