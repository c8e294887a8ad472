//! The API's JSON into the domain's report types, read from a [`JsonSource`]: in the browser the output of
//! `JSON.parse`, in native tests `serde_json::Value`.
//!
//! Why not `serde`: the reports derive `Deserialize`, but the generated code for these six report types,
//! instantiated for a deserializer and again for `#[serde(flatten)]`'s buffered path, was 43 KB of the
//! widget's gzip transfer (measured: 211 KB → 169 KB without it), over a third of the 150 KB budget. These
//! decoders build the same values with struct literals, so a field added to a report type fails to compile
//! here, and take enum names from `shared` (`Stage::as_str`…), so no name is spelled twice. `tests/decode.rs`
//! checks natively that they equal serde's result on generated reports of every variant and on the
//! fixtures, `tests/components.rs` on the fixtures in the browser. Like serde they ignore unknown keys (the
//! Worker's `tail`), read a missing or `null` optional as `None`, and refuse a missing required field or a
//! value of the wrong type.

use super::source::JsonSource;
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
use wasm_bindgen::JsValue;

/// Why a value could not be decoded: the path of the field and what was wrong.
pub type Error = String;
type R<T> = Result<T, Error>;

/// A type the widget reads from the API's JSON.
pub trait Decode: Sized {
    /// Reads the fields of `o` (a value that is not an object has none: a required one is missing).
    fn decode<S: JsonSource>(o: &S) -> R<Self>;
}

/// A report and its `data_status.notice` (present when figures are incomplete or the rollup is failing).
pub fn decode_with_notice<T: Decode, S: JsonSource>(v: &S) -> R<(T, Option<String>)> {
    let notice = v.key("data_status").key("notice").string();
    Ok((T::decode(v)?, notice))
}

/// `(code, message)` of an API error body `{"error":{"code","message"}}` (empty when absent).
pub fn error_fields_of<S: JsonSource>(v: &S) -> (String, String) {
    let e = v.key("error");
    (e.key("code").string().unwrap_or_default(), e.key("message").string().unwrap_or_default())
}

/// The browser's `JSON.parse`.
fn parse(text: &str) -> R<JsValue> {
    js_sys::JSON::parse(text).map_err(|_| "the answer is not JSON".to_owned())
}

/// Parses JSON text and decodes it.
pub fn from_json<T: Decode>(text: &str) -> R<T> {
    T::decode(&parse(text)?)
}

/// [`decode_with_notice`] of JSON text.
pub fn from_json_with_notice<T: Decode>(text: &str) -> R<(T, Option<String>)> {
    decode_with_notice(&parse(text)?)
}

/// [`error_fields_of`] JSON text (empty when it is not JSON).
pub fn error_fields(text: &str) -> (String, String) {
    parse(text).map(|v| error_fields_of(&v)).unwrap_or_default()
}

/// What was wrong with the field `key` (not generic, so there is one copy in the wasm).
fn wrong(key: &str, what: &str) -> Error {
    format!("`{key}`: expected {what}")
}

/// Checks that `o` is an object, for a type whose fields are all optional (or defaulted): absent, `null`
/// or a number would otherwise read as all `None`, where serde refuses it.
fn object<S: JsonSource>(o: &S) -> R<()> {
    if o.is_object() { Ok(()) } else { Err("expected an object".into()) }
}

/// Absent or `null`: an optional field that is `None`.
fn missing<S: JsonSource>(v: &S) -> bool {
    v.is_absent() || v.is_null()
}

// Readers of one value, naming the field `k` in their errors.

fn number<S: JsonSource>(v: &S, k: &str) -> R<f64> {
    match v.number() {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(wrong(k, "a number")),
    }
}

const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// An integer within `lo..=hi` (JSON numbers are exact up to 2^53, beyond any amount the API sends).
fn integer<S: JsonSource>(v: &S, k: &str, lo: f64, hi: f64) -> R<i64> {
    match v.number() {
        Some(x) if x.fract() == 0.0 && (lo..=hi).contains(&x) => Ok(x as i64),
        _ => Err(wrong(k, "an integer")),
    }
}
fn text<S: JsonSource>(v: &S, k: &str) -> R<String> {
    v.string().ok_or_else(|| wrong(k, "a string"))
}
fn date<S: JsonSource>(v: &S, k: &str) -> R<Day> {
    Day::parse(&text(v, k)?).map_err(|_| wrong(k, "a date as YYYY-MM-DD"))
}
/// One of `T`'s names.
fn known<S: JsonSource, T: Named>(v: &S, k: &str) -> R<T> {
    let s = text(v, k)?;
    T::ALL.iter().copied().find(|t| t.name() == s).ok_or_else(|| wrong(k, "a known value"))
}

// Readers of one field of `o`: one call per field keeps the wasm small.

fn f64_<S: JsonSource>(o: &S, k: &str) -> R<f64> {
    number(&o.key(k), k)
}
fn opt_f64<S: JsonSource>(o: &S, k: &str) -> R<Option<f64>> {
    let v = o.key(k);
    if missing(&v) { Ok(None) } else { number(&v, k).map(Some) }
}
fn i64_<S: JsonSource>(o: &S, k: &str) -> R<i64> {
    integer(&o.key(k), k, -MAX_SAFE, MAX_SAFE)
}
fn opt_i64<S: JsonSource>(o: &S, k: &str) -> R<Option<i64>> {
    opt_int(o, k, -MAX_SAFE, MAX_SAFE)
}
fn opt_int<S: JsonSource>(o: &S, k: &str, lo: f64, hi: f64) -> R<Option<i64>> {
    let v = o.key(k);
    if missing(&v) { Ok(None) } else { integer(&v, k, lo, hi).map(Some) }
}
fn i32_<S: JsonSource>(o: &S, k: &str) -> R<i32> {
    integer(&o.key(k), k, f64::from(i32::MIN), f64::from(i32::MAX)).map(|x| x as i32)
}
fn u64_<S: JsonSource>(o: &S, k: &str) -> R<u64> {
    integer(&o.key(k), k, 0.0, MAX_SAFE).map(|x| x as u64)
}
fn string<S: JsonSource>(o: &S, k: &str) -> R<String> {
    text(&o.key(k), k)
}
fn opt_string<S: JsonSource>(o: &S, k: &str) -> R<Option<String>> {
    let v = o.key(k);
    if missing(&v) { Ok(None) } else { text(&v, k).map(Some) }
}
fn bool_<S: JsonSource>(o: &S, k: &str) -> R<bool> {
    o.key(k).boolean().ok_or_else(|| wrong(k, "true or false"))
}
fn day<S: JsonSource>(o: &S, k: &str) -> R<Day> {
    date(&o.key(k), k)
}
fn opt_day<S: JsonSource>(o: &S, k: &str) -> R<Option<Day>> {
    let v = o.key(k);
    if missing(&v) { Ok(None) } else { date(&v, k).map(Some) }
}
fn currency<S: JsonSource>(o: &S, k: &str) -> R<Currency> {
    Currency::parse(&string(o, k)?).map_err(|_| wrong(k, "an ISO 4217 code"))
}
fn variant<S: JsonSource, T: Named>(o: &S, k: &str) -> R<T> {
    known(&o.key(k), k)
}
fn opt_variant<S: JsonSource, T: Named>(o: &S, k: &str) -> R<Option<T>> {
    let v = o.key(k);
    if missing(&v) { Ok(None) } else { known(&v, k).map(Some) }
}
/// A nested object (absent or not an object, it fails at its first required field).
fn field<S: JsonSource, T: Decode>(o: &S, k: &str) -> R<T> {
    T::decode(&o.key(k)).map_err(|e| format!("{k}.{e}"))
}
fn list<S: JsonSource, T: Decode>(o: &S, k: &str) -> R<Vec<T>> {
    let v = o.key(k);
    let Some(items) = v.elements() else { return Err(wrong(k, "an array")) };
    items.enumerate().map(|(i, x)| T::decode(&x).map_err(|e| format!("{k}[{i}].{e}"))).collect()
}
fn strings<S: JsonSource>(o: &S, k: &str) -> R<Vec<String>> {
    let v = o.key(k);
    let Some(items) = v.elements() else { return Err(wrong(k, "an array")) };
    items.map(|x| x.string().ok_or_else(|| wrong(k, "strings"))).collect()
}
/// Two numbers; absent is `default` (`null` is refused, as serde does).
fn pair<S: JsonSource>(o: &S, k: &str, default: [f64; 2]) -> R<[f64; 2]> {
    let v = o.key(k);
    if v.is_absent() {
        return Ok(default);
    }
    let Some(mut items) = v.elements() else { return Err(wrong(k, "two numbers")) };
    match (items.next(), items.next(), items.next()) {
        (Some(a), Some(b), None) => Ok([number(&a, k)?, number(&b, k)?]),
        _ => Err(wrong(k, "two numbers")),
    }
}
fn ten_counts<S: JsonSource>(o: &S, k: &str) -> R<[u64; 10]> {
    let mut counts = [0u64; 10];
    let v = o.key(k);
    let Some(mut items) = v.elements() else { return Err(wrong(k, "ten counts")) };
    for slot in &mut counts {
        let Some(x) = items.next() else { return Err(wrong(k, "ten counts")) };
        *slot = integer(&x, k, 0.0, MAX_SAFE)? as u64;
    }
    if items.next().is_some() {
        return Err(wrong(k, "ten counts"));
    }
    Ok(counts)
}

/// An enum the API writes as its snake_case name: its variants and names come from `shared`.
trait Named: Copy + 'static {
    const ALL: &'static [Self];
    fn name(self) -> &'static str;
}
impl Named for Stage {
    const ALL: &'static [Self] = &Stage::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}
impl Named for Band {
    const ALL: &'static [Self] = &Band::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}
impl Named for Side {
    const ALL: &'static [Self] = &Side::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}
impl Named for VerdictKind {
    const ALL: &'static [Self] = &VerdictKind::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}
impl Decode for Period {
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
        Ok(Period { from: day(o, "from")?, to: day(o, "to")? })
    }
}

impl Decode for AcquisitionFigures {
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
        object(o)?;
        Ok(FunnelConversion {
            awareness_to_consideration: opt_f64(o, "awareness_to_consideration")?,
            consideration_to_lead: opt_f64(o, "consideration_to_lead")?,
            lead_to_purchase: opt_f64(o, "lead_to_purchase")?,
            overall: opt_f64(o, "overall")?,
        })
    }
}

impl Decode for FunnelReport {
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
        Ok(CampaignSpend {
            campaign: string(o, "campaign")?,
            acquisition_minor: i64_(o, "acquisition_minor")?,
            retention_minor: i64_(o, "retention_minor")?,
            total_minor: i64_(o, "total_minor")?,
        })
    }
}

impl Decode for ChannelSpend {
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
        Ok(WhatIf {
            from_purpose: variant(o, "from_purpose")?,
            to_purpose: variant(o, "to_purpose")?,
            moved_minor: i64_(o, "moved_minor")?,
            position_bp: i32_(o, "position_bp")?,
            moved_pct_of_total: opt_f64(o, "moved_pct_of_total")?,
            acquisition_spend_minor: i64_(o, "acquisition_spend_minor")?,
            retention_spend_minor: i64_(o, "retention_spend_minor")?,
            acquisition_share: opt_f64(o, "acquisition_share")?,
            acquisition_revenue_minor: opt_i64(o, "acquisition_revenue_minor")?,
            retention_revenue_minor: opt_i64(o, "retention_revenue_minor")?,
            revenue_delta_minor: opt_i64(o, "revenue_delta_minor")?,
            new_revenue_share: opt_f64(o, "new_revenue_share")?,
            verdict_kind: variant(o, "verdict_kind")?,
        })
    }
}

impl Decode for Reference {
    /// Every field has a default, as in the settings.
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
        object(o)?;
        let d = Reference::default();
        let source = o.key("source");
        Ok(Reference {
            existing_customer_purchase_probability: pair(
                o,
                "existing_customer_purchase_probability",
                d.existing_customer_purchase_probability,
            )?,
            prospect_purchase_probability: pair(o, "prospect_purchase_probability", d.prospect_purchase_probability)?,
            source: if source.is_absent() { d.source } else { text(&source, "source")? },
        })
    }
}

impl Decode for Verdict {
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
        Ok(Verdict {
            kind: variant(o, "kind")?,
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
        Ok(BudgetReport {
            currency: currency(o, "currency")?,
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
        Ok(BandCounts {
            engaged: u64_(o, "engaged")?,
            neutral: u64_(o, "neutral")?,
            disengaged: u64_(o, "disengaged")?,
        })
    }
}

impl Decode for IndicatorAverage {
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
        Ok(EngagementReport {
            as_of: day(o, "as_of")?,
            customers: u64_(o, "customers")?,
            bands: field(o, "bands")?,
            histogram: ten_counts(o, "histogram")?,
            average_score: opt_f64(o, "average_score")?,
            indicators: list(o, "indicators")?,
        })
    }
}

impl Decode for AccountSummary {
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
        Ok(AccountSummary {
            id: string(o, "id")?,
            kind: string(o, "kind")?,
            name: opt_string(o, "name")?,
            stage: variant(o, "stage")?,
            reactivated: bool_(o, "reactivated")?,
            advocate: bool_(o, "advocate")?,
            score: opt_int(o, "score", 0.0, 255.0)?.map(|x| x as u8),
            band: opt_variant(o, "band")?,
            trend: opt_int(o, "trend", -32768.0, 32767.0)?.map(|x| x as i16),
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
        Ok(AccountPage {
            as_of: day(o, "as_of")?,
            total: u64_(o, "total")? as usize,
            accounts: list(o, "accounts")?,
            next_cursor: opt_string(o, "next_cursor")?,
        })
    }
}

impl Decode for IndicatorScore {
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
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
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
        Ok(Action {
            id: string(o, "id")?,
            title: string(o, "title")?,
            channel: string(o, "channel")?,
            why: string(o, "why")?,
        })
    }
}

impl Decode for AccountDetail {
    fn decode<S: JsonSource>(o: &S) -> R<Self> {
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
