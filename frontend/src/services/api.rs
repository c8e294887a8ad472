//! The Worker's read API over `fetch` (web-sys, no extra HTTP crate: every dependency counts in the wasm).
//!
//! Reports are decoded straight into the domain's types ([`super::decode`]); unknown keys are ignored, except
//! `data_status`, whose notice travels beside the report ([`Fetched`]) so the widget can say when figures are
//! incomplete. Errors keep the API's `{"error":{"code","message"}}` so the widget can say what went wrong.

use super::decode::{self, Decode};
use daytwo_shared::report::{AccountDetail, AccountPage, BudgetReport, EngagementReport, LifecycleReport, Period};
use daytwo_shared::time::Day;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Where to read from and with which credential (the custom element's attributes).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub endpoint: String,
    pub site: String,
    pub token: String,
}

impl Config {
    pub fn new(endpoint: &str, site: &str, token: &str) -> Config {
        Config {
            endpoint: endpoint.trim().trim_end_matches('/').to_owned(),
            site: site.trim().to_owned(),
            token: token.trim().to_owned(),
        }
    }

    /// The first missing setting, as an error the widget shows instead of calling the API.
    pub fn check(&self) -> Result<(), ApiError> {
        if self.endpoint.is_empty() {
            Err(ApiError::NotConfigured("endpoint"))
        } else if self.site.is_empty() {
            Err(ApiError::NotConfigured("site"))
        } else if self.token.is_empty() {
            Err(ApiError::NotConfigured("token"))
        } else {
            Ok(())
        }
    }

    /// `{endpoint}/v1/sites/{site}/{rest}`, the site percent-encoded.
    pub fn url(&self, rest: &str) -> String {
        let site: String = js_sys::encode_uri_component(&self.site).into();
        format!("{}/v1/sites/{site}/{rest}", self.endpoint)
    }
}

/// Why a request gave no report.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// An attribute of the tag is missing: nothing was requested.
    NotConfigured(&'static str),
    /// 401 or 403: the token is missing, invalid, expired or for another site.
    Auth { status: u16, code: String, message: String },
    /// No HTTP answer: the Worker is down or unreachable (or CORS refused the call).
    Network(String),
    /// Any other non-2xx answer.
    Http { status: u16, code: String, message: String },
    /// A 2xx answer that is not the expected JSON.
    BadResponse(String),
}

impl ApiError {
    /// Errors that no retry can fix and that concern the whole dashboard.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ApiError::NotConfigured(_) | ApiError::Auth { .. })
    }

    pub fn retryable(&self) -> bool {
        !self.is_fatal()
    }

    /// A short headline.
    pub fn title(&self) -> String {
        match self {
            ApiError::NotConfigured(_) => "This dashboard is not set up yet".into(),
            ApiError::Auth { code, .. } => match code.as_str() {
                "token_expired" => "Your access token has expired".into(),
                "token_revoked" => "Your access token was revoked".into(),
                "missing_token" => "No access token".into(),
                "wrong_site" => "This token is for another site".into(),
                _ => "Your access token was not accepted".into(),
            },
            ApiError::Network(_) => "Daytwo cannot be reached".into(),
            ApiError::Http { status, .. } if *status >= 500 => "Daytwo had a problem".into(),
            ApiError::Http { .. } => "The report could not be loaded".into(),
            ApiError::BadResponse(_) => "Daytwo sent an answer the dashboard does not understand".into(),
        }
    }

    /// What happened and what to do, in words.
    pub fn detail(&self, config: &Config) -> String {
        match self {
            ApiError::NotConfigured(what) => format!(
                "The <daytwo-dashboard> tag has no `{what}` attribute. Ask your intranet admin to add it \
                 (`endpoint`, `site` and an embed `token`)."
            ),
            ApiError::Auth { code, message, .. } => {
                let advice = match code.as_str() {
                    "token_expired" | "token_revoked" => "Ask your Daytwo admin for a fresh embed token.",
                    "wrong_site" => "Check the tag's `site` attribute, or ask for a token for this site.",
                    _ => "Check the tag's `token` attribute, or ask your Daytwo admin for a new embed token.",
                };
                format!("{message} ({code}, site “{}”). {advice}", config.site)
            }
            ApiError::Network(why) => format!(
                "No answer from {}. The service may be down or unreachable from this page. ({why})",
                config.endpoint
            ),
            ApiError::Http { status, code, message } => format!("{message} ({status} {code})"),
            ApiError::BadResponse(why) => why.clone(),
        }
    }
}

fn js_text(v: &JsValue) -> String {
    v.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| v.as_string())
        .unwrap_or_else(|| "request failed".into())
}

/// A report and, when the API says its figures are incomplete or its rollup is failing, the sentence to show.
#[derive(Debug)]
pub struct Fetched<T> {
    pub report: T,
    pub notice: Option<String>,
}

/// GETs `url` with the bearer token and parses the JSON answer.
///
/// Only the decoding is generic: the request itself is one non-generic future ([`fetch_text`]), so its
/// state machine is compiled once rather than once per report type (measured 2026-12-08: five copies of it
/// were the largest functions of the wasm after yew's view).
pub async fn get_json<T: Decode>(config: &Config, url: &str) -> Result<Fetched<T>, ApiError> {
    let text = fetch_text(config, url).await?;
    let (report, notice) = decode::from_json_with_notice(&text)
        .map_err(|e| ApiError::BadResponse(format!("Unexpected report format: {e}")))?;
    Ok(Fetched { report, notice })
}

/// GETs `url` with the bearer token: the body of a 2xx answer, or the API's error.
async fn fetch_text(config: &Config, url: &str) -> Result<String, ApiError> {
    config.check()?;
    let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".into()))?;
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_mode(web_sys::RequestMode::Cors);
    let headers = web_sys::Headers::new().map_err(|e| ApiError::Network(js_text(&e)))?;
    headers.set("authorization", &format!("Bearer {}", config.token)).map_err(|_| ApiError::Auth {
        status: 401,
        code: "invalid_token".into(),
        message: "Malformed token".into(),
    })?;
    headers.set("accept", "application/json").map_err(|e| ApiError::Network(js_text(&e)))?;
    init.set_headers(&headers);
    let request =
        web_sys::Request::new_with_str_and_init(url, &init).map_err(|e| ApiError::BadResponse(js_text(&e)))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|e| ApiError::Network(js_text(&e)))?
        .unchecked_into();
    let status = response.status();
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    if !(200..300).contains(&status) {
        let (code, message) = decode::error_fields(&text);
        let message = if message.is_empty() { format!("HTTP {status}") } else { crate::format::sentence(&message) };
        return Err(if status == 401 || status == 403 {
            ApiError::Auth { status, code, message }
        } else {
            ApiError::Http { status, code, message }
        });
    }
    Ok(text)
}

/// `from=…&to=…` of a period.
pub fn range(period: Period) -> String {
    format!("from={}&to={}", period.from, period.to)
}

/// `reports/{name}?{query}`: a report's path under the site (the fetches and the CSV export use it).
pub fn report_path(name: &str, query: &str) -> String {
    format!("reports/{name}?{query}")
}

/// One page of the account list in `stage`, lowest score first.
pub fn accounts_path(stage: &str, as_of: Day, limit: usize, cursor: Option<&str>) -> String {
    let mut q = format!("accounts?stage={stage}&sort=score&limit={limit}&as_of={as_of}");
    if let Some(cursor) = cursor {
        q.push_str("&cursor=");
        q.push_str(&String::from(js_sys::encode_uri_component(cursor)));
    }
    q
}

pub async fn budget(c: &Config, period: Period) -> Result<Fetched<BudgetReport>, ApiError> {
    get_json(c, &c.url(&report_path("budget", &range(period)))).await
}

pub async fn lifecycle(c: &Config, as_of: Day) -> Result<Fetched<LifecycleReport>, ApiError> {
    get_json(c, &c.url(&report_path("lifecycle", &format!("as_of={as_of}")))).await
}

pub async fn engagement(c: &Config, as_of: Day) -> Result<Fetched<EngagementReport>, ApiError> {
    get_json(c, &c.url(&report_path("engagement", &format!("as_of={as_of}")))).await
}

/// One page of accounts in `stage`, lowest score first.
pub async fn accounts(
    c: &Config,
    stage: &str,
    as_of: Day,
    cursor: Option<&str>,
) -> Result<Fetched<AccountPage>, ApiError> {
    get_json(c, &c.url(&accounts_path(stage, as_of, crate::state::PAGE, cursor))).await
}

pub async fn account(c: &Config, id: &str, as_of: Day) -> Result<Fetched<AccountDetail>, ApiError> {
    let id: String = js_sys::encode_uri_component(id).into();
    get_json(c, &c.url(&format!("accounts/{id}?as_of={as_of}"))).await
}

/// The API's CSV of each path (under the site), one file: the tables in order, a blank line between them.
pub async fn csv(c: &Config, paths: &[String]) -> Result<String, ApiError> {
    let mut tables = Vec::with_capacity(paths.len());
    for path in paths {
        tables.push(fetch_text(c, &c.url(path)).await?);
    }
    Ok(tables.join("\r\n"))
}
