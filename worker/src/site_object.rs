//! `SiteState`: one Durable Object per site (named by the site id), the single writer of its rolled-up state.
//!
//! Why a Durable Object: the state used to be one KV value per site, which capped a site near 3,400 accounts
//! a year (25 MiB) and made every rollup read and rewrite all of it. In the object's SQLite database
//! (`sql_state`) a rollup touches only the rows of its batches, in chunks (`rollup::CHUNK_KEYS`), so its
//! memory is bounded by a chunk and no stored value grows with the site's history. Requests to one object
//! run one at a time between awaits, so the rollup, erasure and reports never see half of another's write.
//!
//! The Worker authenticates and validates, then calls the object with [`call`]: an internal `POST` of a
//! [`Call`] to `https://site-state/{op}`, where op is one of [`Op`]. The object's answer (JSON, CSV or the
//! error body) goes back to the client as it is, and its KV operations are added to the request's
//! `x-daytwo-kv-ops` count.

use crate::error::{ApiError, ApiResult};
use crate::sql_state::SqlState;
use crate::store::{KvOps, SiteRecord, Store};
use crate::{admin, http, reports, rollup};
use daytwo_shared::query::{self, ReportKind};
use serde::{Deserialize, Serialize};
use worker::wasm_bindgen::{self, JsValue};
use worker::{DurableObject, Env, Method, Request, RequestInit, Response, State, durable_object};

/// The binding in wrangler.toml.
pub const BINDING: &str = "SITE_STATE";
/// The header the object's KV operation count travels in.
pub const OPS_HEADER: &str = "x-daytwo-kv-ops";

/// The platform's limit on one object's SQLite database (10 GB); `MAX_STATE_BYTES` lowers it.
const DEFAULT_STATE_CAP: u64 = 10_000_000_000;

/// What the Worker asks of a site's object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Fold new raw batches (`rollup::run_and_record`).
    Rollup,
    /// A report (`Call::report`, `Call::query`).
    Report,
    /// One account (`Call::account`, `Call::query`).
    Account,
    /// Erase one account (`Call::account`).
    Erase,
    /// What is stored.
    Stats,
}

impl Op {
    const ALL: [Op; 5] = [Op::Rollup, Op::Report, Op::Account, Op::Erase, Op::Stats];

    fn name(self) -> &'static str {
        match self {
            Op::Rollup => "rollup",
            Op::Report => "report",
            Op::Account => "account",
            Op::Erase => "erase",
            Op::Stats => "stats",
        }
    }
}

/// The body of a call: the site's record (already read and checked by the Worker) and the op's arguments.
#[derive(Debug, Serialize, Deserialize)]
pub struct Call {
    pub site: SiteRecord,
    #[serde(default)]
    pub report: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    /// The request's query pairs, parsed again by the object (they were validated by the Worker).
    #[serde(default)]
    pub query: Vec<(String, String)>,
}

impl Call {
    pub fn new(site: &SiteRecord) -> Call {
        Call { site: site.clone(), report: None, account: None, query: Vec::new() }
    }
}

#[durable_object]
pub struct SiteState {
    state: State,
    env: Env,
}

impl std::fmt::Debug for SiteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteState").finish_non_exhaustive()
    }
}

impl DurableObject for SiteState {
    fn new(state: State, env: Env) -> Self {
        SiteState { state, env }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        let store = match self.env.kv(crate::KV_BINDING) {
            Ok(kv) => Store::new(kv),
            Err(e) => return Ok(ApiError::internal("KV binding", e).to_response()),
        };
        let mut resp = self.handle(req, &store).await.unwrap_or_else(|e| e.to_response());
        let _ = resp.headers_mut().set(OPS_HEADER, &store.ops().to_string());
        Ok(resp)
    }
}

impl SiteState {
    async fn handle(&self, mut req: Request, store: &Store) -> ApiResult<Response> {
        let path = req.path();
        let op = Op::ALL
            .into_iter()
            .find(|op| path.trim_start_matches('/') == op.name())
            .ok_or_else(|| ApiError::not_found("not_found", "no such operation"))?;
        let call: Call = req.json().await.map_err(|e| ApiError::internal("site object call", e))?;
        let db = SqlState::open(self.state.storage())?;
        let cap = state_cap(&self.env);
        let site = &call.site;
        let now = http::now();
        let query = || query::parse_query(&call.query, now.day()).map_err(ApiError::from);
        let account = || call.account.as_deref().ok_or_else(|| ApiError::bad_request("invalid_call", "no account"));
        match op {
            Op::Rollup => http::json(200, &rollup::run_and_record(store, &db, site, now, cap).await?),
            Op::Report => {
                let kind = call
                    .report
                    .as_deref()
                    .and_then(ReportKind::from_name)
                    .ok_or_else(|| ApiError::not_found("not_found", "no such report"))?;
                reports::report(store, &db, site, kind, &query()?).await
            }
            Op::Account => reports::account(store, &db, site, account()?, &query()?).await,
            Op::Erase => admin::erase(store, &db, site, account()?, cap).await,
            Op::Stats => admin::stats(store, &db, site).await,
        }
    }
}

/// The storage cap of one site's state: the `MAX_STATE_BYTES` var (tests reach the "too large" path with a
/// small site that way), else the platform's own limit.
fn state_cap(env: &Env) -> u64 {
    env.var("MAX_STATE_BYTES").ok().and_then(|v| v.to_string().trim().parse().ok()).unwrap_or(DEFAULT_STATE_CAP)
}

/// Calls the site's object with `call` and returns its answer as the client should get it.
pub async fn call(env: &Env, store: &Store, op: Op, call: &Call) -> ApiResult<Response> {
    let stub = env
        .durable_object(BINDING)
        .and_then(|ns| ns.get_by_name(&call.site.site))
        .map_err(|e| ApiError::internal("site object", e))?;
    let body = serde_json::to_string(call).map_err(|e| ApiError::internal("site object call", e))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(JsValue::from_str(&body)));
    let req = Request::new_with_init(&format!("https://site-state/{}", op.name()), &init)
        .map_err(|e| ApiError::internal("site object call", e))?;
    let mut resp = stub.fetch_with_request(req).await.map_err(|e| ApiError::internal("site object", e))?;
    // A fetched response's headers are immutable: copy it into one the Worker can still add headers to
    // (CORS, the KV operation count).
    let headers = worker::Headers::new();
    for (name, value) in resp.headers().entries() {
        if name == OPS_HEADER {
            store.add_ops(KvOps::parse(&value));
        } else {
            let _ = headers.append(&name, &value);
        }
    }
    let status = resp.status_code();
    let body = resp.bytes().await.map_err(|e| ApiError::internal("site object answer", e))?;
    Ok(Response::from_bytes(body)
        .map_err(|e| ApiError::internal("response", e))?
        .with_status(status)
        .with_headers(headers))
}

/// Rolls a site up through its object (the cron and the rollup queue). Returns whether more is waiting;
/// failures are logged here and recorded for reports and stats by the object.
pub async fn roll_up(env: &Env, store: &Store, site: &SiteRecord) -> bool {
    match call(env, store, Op::Rollup, &Call::new(site)).await {
        Ok(mut resp) if resp.status_code() == 200 => match resp.json::<rollup::RollupOutcome>().await {
            Ok(outcome) => outcome.more,
            Err(e) => {
                worker::console_error!("rollup of {}: unreadable outcome: {e}", site.site);
                false
            }
        },
        Ok(mut resp) => {
            let text = resp.text().await.unwrap_or_default();
            worker::console_error!("rollup of {} failed: {} {text}", site.site, resp.status_code());
            false
        }
        Err(e) => {
            worker::console_error!("rollup of {} failed: {}", site.site, e.message);
            false
        }
    }
}
