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
use crate::{admin, erasure, http, reports, rollup, site_config};
use daytwo_shared::query::{self, ReportKind};
use serde::{Deserialize, Serialize};
use worker::wasm_bindgen::{self, JsValue};
use worker::{DurableObject, Env, Request, Response, State, durable_object};

/// The binding in wrangler.toml.
pub const BINDING: &str = "SITE_STATE";
/// The header the object's KV operation count travels in.
pub const OPS_HEADER: &str = "x-daytwo-kv-ops";

/// The platform's limit on one object's SQLite database (10 GB); `MAX_STATE_BYTES` lowers it.
const DEFAULT_STATE_CAP: u64 = 10_000_000_000;

/// Sizes the object works within. Defaults are the platform's and this project's measured ones; tests lower
/// them through vars to reach their paths with a small site.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes the site's database may hold (`MAX_STATE_BYTES`): a rollup that would pass it stops with 507.
    pub state_cap: u64,
    /// Identity rows per page of a read-model rebuild (`REBUILD_PAGE_ROWS`).
    pub rebuild_page_rows: usize,
    /// Overrides every site's `ingest.anonymous_window_days` (`ANONYMOUS_WINDOW_SECONDS`): for tests and
    /// operators; a site's own setting applies otherwise.
    pub anonymous_window_ms: Option<i64>,
    /// Raw keys an erasure's scrub step reads at most (`SCRUB_PAGE_KEYS`).
    pub scrub_page_keys: usize,
    /// How long reports reuse a listing of the raw batches after the rollup (`TAIL_REUSE_SECONDS`).
    pub tail_reuse_ms: i64,
}

impl Limits {
    fn from_env(env: &Env) -> Limits {
        let var = |name: &str| env.var(name).ok().and_then(|v| v.to_string().trim().parse::<u64>().ok());
        Limits {
            state_cap: var("MAX_STATE_BYTES").unwrap_or(DEFAULT_STATE_CAP),
            rebuild_page_rows: var("REBUILD_PAGE_ROWS")
                .map_or(crate::read_model::REBUILD_PAGE_ROWS, |n| n.clamp(1, 100_000) as usize),
            scrub_page_keys: var("SCRUB_PAGE_KEYS").map_or(crate::erasure::SCRUB_PAGE_KEYS, |n| {
                n.clamp(1, crate::erasure::SCRUB_PAGE_KEYS as u64) as usize
            }),
            anonymous_window_ms: var("ANONYMOUS_WINDOW_SECONDS").map(|s| s.min(10 * 365 * 86_400) as i64 * 1000),
            tail_reuse_ms: var("TAIL_REUSE_SECONDS").map_or(reports::TAIL_REUSE_MS, |s| s.min(3_600) as i64 * 1000),
        }
    }
}

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
    /// Erase one person: a user and the ids that became them (`Call::account`).
    ErasePerson,
    /// What is stored.
    Stats,
    /// Create or update the site (`Call::body`, `Call::rotate`); an admin change.
    PutSite,
    /// The site's public record.
    GetSite,
    /// Add or replace spend entries (`Call::body`, `Call::content_type`); an admin change.
    PostSpend,
    /// Delete one spend entry (`Call::entry`); an admin change.
    DeleteSpend,
    /// The spend ledger (`Call::query`: `format=csv`).
    GetSpend,
    /// Revoke every embed token minted so far; an admin change.
    RevokeEmbed,
}

impl Op {
    const ALL: [Op; 12] = [
        Op::Rollup,
        Op::Report,
        Op::Account,
        Op::Erase,
        Op::ErasePerson,
        Op::Stats,
        Op::PutSite,
        Op::GetSite,
        Op::PostSpend,
        Op::DeleteSpend,
        Op::GetSpend,
        Op::RevokeEmbed,
    ];

    fn name(self) -> &'static str {
        match self {
            Op::Rollup => "rollup",
            Op::Report => "report",
            Op::Account => "account",
            Op::Erase => "erase",
            Op::ErasePerson => "erase-person",
            Op::Stats => "stats",
            Op::PutSite => "put-site",
            Op::GetSite => "get-site",
            Op::PostSpend => "post-spend",
            Op::DeleteSpend => "delete-spend",
            Op::GetSpend => "get-spend",
            Op::RevokeEmbed => "revoke-embed",
        }
    }
}

/// The body of a call: the site (its id, and its record as the Worker read it, for the ops that need it) and
/// the op's arguments.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Call {
    pub site_id: String,
    /// Absent for the admin changes, which read the record themselves (`site_config::current_site`).
    #[serde(default)]
    pub site: Option<SiteRecord>,
    #[serde(default)]
    pub report: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    /// A report's request asked for a fresh answer (`Cache-Control: no-cache`): list the tail anew instead of
    /// reusing the site's listing of the last few seconds (`reports::ListingCache`).
    #[serde(default)]
    pub fresh: bool,
    /// The request's query pairs, parsed again by the object (they were validated by the Worker).
    #[serde(default)]
    pub query: Vec<(String, String)>,
    /// The request body, read by the Worker within its size limit.
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub content_type: String,
    /// `PUT …?rotate=true`.
    #[serde(default)]
    pub rotate: bool,
    /// The spend entry of `DeleteSpend`.
    #[serde(default)]
    pub entry: Option<String>,
}

impl Call {
    pub fn new(site: &SiteRecord) -> Call {
        Call { site_id: site.site.clone(), site: Some(site.clone()), ..Call::default() }
    }

    /// A call about a site by its id alone (the admin changes, which read the record under their lock).
    pub fn by_id(site_id: &str) -> Call {
        Call { site_id: site_id.to_owned(), ..Call::default() }
    }
}

#[durable_object]
pub struct SiteState {
    state: State,
    env: Env,
    /// Held by each admin change (`Op::PutSite`, `PostSpend`, `DeleteSpend`, `RevokeEmbed`) from its read to
    /// its last KV write: requests to an object interleave at every await, so without it two changes read
    /// the same record and the later write drops the earlier change. One object per site, so one lock.
    admin: futures_util::lock::Mutex<()>,
    /// Held by each rollup run: runs interleave at every KV read, and two at once would read the same chunks
    /// (the `seen` table would still count each message once) and could write an older checkpoint over a newer
    /// one. The cron, the rollup queue and an admin's call then wait for each other; two calls equal one.
    rollup: futures_util::lock::Mutex<()>,
    /// The reports' shared tail listing (`reports::ListingCache`); dropped by every op that changes state.
    listing: reports::ListingCache,
}

impl std::fmt::Debug for SiteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteState").finish_non_exhaustive()
    }
}

impl DurableObject for SiteState {
    fn new(state: State, env: Env) -> Self {
        let listing = reports::ListingCache::new(Limits::from_env(&env).tail_reuse_ms);
        SiteState {
            state,
            env,
            admin: futures_util::lock::Mutex::new(()),
            rollup: futures_util::lock::Mutex::new(()),
            listing,
        }
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
        // `serde_json`, not `Request::json` (JS `JSON.parse` + `serde_wasm_bindgen`): the call was written by
        // `serde_json`, and a second deserialiser would compile every type of the call (the site record and its
        // settings) once more into the bundle.
        let text = req.text().await.map_err(|e| ApiError::internal("site object call", e))?;
        let call: Call = serde_json::from_str(&text).map_err(|e| ApiError::internal("site object call", e))?;
        let db = SqlState::open(self.state.storage())?;
        let limits = Limits::from_env(&self.env);
        // An op that may change the rows, the erasures or the raw batches drops the reports' shared listing,
        // before (so no report during it takes the old one) and after (a report during it may have kept one).
        let changes = !matches!(op, Op::Report | Op::Account | Op::Stats | Op::GetSite | Op::GetSpend);
        if changes {
            self.listing.clear();
        }
        let answer = self.answer(op, &call, &db, store, &limits).await;
        if changes {
            self.listing.clear();
        }
        answer
    }

    /// What `op` answers.
    async fn answer(&self, op: Op, call: &Call, db: &SqlState, store: &Store, limits: &Limits) -> ApiResult<Response> {
        let now = http::now();
        let query = || query::parse_query(&call.query, now.day()).map_err(ApiError::from);
        let account = || call.account.as_deref().ok_or_else(|| ApiError::bad_request("invalid_call", "no account"));
        let id = call.site_id.as_str();
        let site = || call.site.as_ref().ok_or_else(|| ApiError::bad_request("invalid_call", "no site record"));
        match op {
            Op::Rollup => {
                let _one_at_a_time = self.rollup.lock().await;
                // The clock is read once the lock is held: a run that waited for another lists what arrived meanwhile.
                http::json(200, &rollup::run_and_record(store, db, site()?, http::now(), limits).await?)
            }
            Op::Report => {
                let kind = call
                    .report
                    .as_deref()
                    .and_then(ReportKind::from_name)
                    .ok_or_else(|| ApiError::not_found("not_found", "no such report"))?;
                reports::report(store, db, site()?, &self.listing, call.fresh, kind, &query()?).await
            }
            Op::Account => reports::account(store, db, site()?, &self.listing, call.fresh, account()?, &query()?).await,
            Op::Erase | Op::ErasePerson => {
                let _one_at_a_time = self.admin.lock().await;
                let target = if op == Op::Erase { erasure::Target::Account } else { erasure::Target::Person };
                erasure::erase(store, db, site()?, account()?, target, limits).await
            }
            Op::Stats => admin::stats(store, db, site()?).await,
            Op::GetSite => site_config::get_site(store, db, id).await,
            Op::GetSpend => {
                let csv = call.query.iter().any(|(k, v)| k == "format" && v == "csv");
                site_config::get_spend(store, db, id, csv).await
            }
            Op::PutSite => {
                let _one_at_a_time = self.admin.lock().await;
                site_config::put_site(store, db, id, &call.body, call.rotate).await
            }
            Op::PostSpend => {
                let _one_at_a_time = self.admin.lock().await;
                site_config::post_spend(store, db, id, &call.content_type, &call.body).await
            }
            Op::DeleteSpend => {
                let _one_at_a_time = self.admin.lock().await;
                let entry = call.entry.as_deref().ok_or_else(|| ApiError::bad_request("invalid_call", "no entry"))?;
                site_config::delete_spend(store, db, id, entry).await
            }
            Op::RevokeEmbed => {
                let _one_at_a_time = self.admin.lock().await;
                site_config::revoke_embed_tokens(store, db, id).await
            }
        }
    }
}

/// Calls the site's object with `call` and returns its answer as the client should get it.
pub async fn call(env: &Env, store: &Store, op: Op, call: &Call) -> ApiResult<Response> {
    let stub = env
        .durable_object(BINDING)
        .and_then(|ns| ns.get_by_name(&call.site_id))
        .map_err(|e| ApiError::internal("site object", e))?;
    let body = serde_json::to_string(call).map_err(|e| ApiError::internal("site object call", e))?;
    // The request as `worker::RequestInit` builds it for a POST with a body and default options (method,
    // `redirect: follow`, body; no headers, no `cf`), built directly: its conversion handles every option and
    // `cf` property (with `openapi::response`'s, 4.6 KB gzip of the bundle) for the two this call sets.
    let init = worker::web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_redirect(worker::web_sys::RequestRedirect::Follow);
    init.set_body(&JsValue::from_str(&body));
    let req: Request =
        worker::web_sys::Request::new_with_str_and_init(&format!("https://site-state/{}", op.name()), &init)
            .map_err(|e| ApiError::internal("site object call", e.as_string().unwrap_or_default()))?
            .into();
    let started = http::now();
    let mut resp = stub.fetch_with_request(req).await.map_err(|e| ApiError::internal("site object", e))?;
    let object_ms = http::now().0 - started.0;
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
    let _ = headers.append(http::SERVER_TIMING, &format!("object;dur={object_ms}"));
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
