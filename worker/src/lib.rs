//! The Daytwo Worker: a thin shell over `daytwo-shared` (docs/design.md §4-§7).
//!
//! `fetch` resolves every request in the route table (`routes::ROUTES`, the Worker's map of its API), checks
//! the credential its row names and calls its handler; every error becomes the JSON error body with its
//! status, so no input reaches a panic or an unhandled 5xx. `scheduled` runs the rollup of every site (the
//! cron trigger in `wrangler.toml`).

/// The allocator: talc instead of the standard library's dlmalloc (a Worker's wasm is single-threaded).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

mod admin;
mod auth;
mod erasure;
mod error;
mod gzip;
mod http;
mod ingest;
mod key_cache;
mod openapi;
mod queues;
mod read_model;
mod reports;
mod rollup;
mod routes;
mod site_config;
mod site_object;
mod sql_state;
mod store;
mod visitors;

pub use site_object::SiteState;

/// The embed-token functions, for the fuzz targets (`fuzz/`). The crate is a cdylib only (with an rlib beside
/// it cargo skips LTO), so `fuzz/` compiles this same source as a native library of its own and calls the
/// real minting and verifying code through here. Not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::auth::{EmbedCheck, Secrets, mint_embed, verify_embed};
}

use auth::Secrets;
use daytwo_shared::query;
use daytwo_shared::site_rules;
use error::{ApiError, ApiResult};
use routes::{
    Access, AdminHandler, CrossOrigin, Matched, Params, PublicHandler, ReadHandler, Resolved, WriteKeyHandler,
};
use site_object::{Call, Op};
use store::Store;
use worker::{Context, Env, MessageBatch, Request, Response, ScheduleContext, ScheduledEvent, event};

pub(crate) const KV_BINDING: &str = "DAYTWO";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let store = match env.kv(KV_BINDING) {
        Ok(kv) => Store::new(kv),
        Err(e) => return Ok(ApiError::internal("KV binding", e).to_response()),
    };
    let started = http::now();
    let mut resp = match route(req, &env, &store).await {
        Ok(resp) => resp,
        Err(e) => e.to_response(),
    };
    let _ = resp.headers_mut().set("x-daytwo-kv-ops", &store.ops().to_string());
    let total = format!("total;dur={}", http::now().0 - started.0);
    let _ = resp.headers_mut().append(http::SERVER_TIMING, &total);
    Ok(resp)
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match env.kv(KV_BINDING) {
        Ok(kv) => queues::fan_out(&env, &Store::new(kv)).await,
        Err(_) => worker::console_error!("KV binding {KV_BINDING} missing"),
    }
}

/// Both queues' consumers (wrangler.toml): events into raw KV keys, and one site's rollup per message.
#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> worker::Result<()> {
    let store = Store::new(env.kv(KV_BINDING)?);
    match batch.queue().as_str() {
        queues::EVENTS_QUEUE => queues::consume_events(batch, &store).await,
        queues::ROLLUPS_QUEUE => queues::consume_rollups(batch, &env, &store).await,
        other => {
            worker::console_error!("no consumer for queue {other}");
            Ok(())
        }
    }
}

async fn route(req: Request, env: &Env, store: &Store) -> ApiResult<Response> {
    match routes::resolve(&req.method(), &req.path())? {
        Resolved::Call(route, matched) => match route.access {
            Access::Public(PublicHandler::Health) => http::json(200, &serde_json::json!({"status": "ok"})),
            Access::Public(PublicHandler::OpenApi) => openapi::response(env).await,
            Access::WriteKey(WriteKeyHandler::Ingest) => ingest_route(req, env, store, &matched).await,
            Access::Admin(handler) => {
                let site_id = matched.params.get("site");
                site_rules::check_site_id(site_id)?;
                let secrets = Secrets::from_env(env);
                auth::require_admin(&req, &secrets, store).await?;
                admin_route(handler, req, env, &secrets, store, site_id, &matched.params).await
            }
            Access::Read(handler) => {
                let site_id = matched.params.get("site");
                site_rules::check_site_id(site_id)?;
                read_route(handler, &req, env, store, site_id, &matched).await
            }
        },
        Resolved::Preflight(CrossOrigin::AnyOrigin, matched) => match http::origin(&req) {
            Some(o) => http::preflight(&o, &matched.cors_methods(CrossOrigin::AnyOrigin)),
            // No `Origin`: no browser asks, so nothing to allow; a bare 204 (a 204 cannot carry a body: the
            // `{}` this answered made the runtime throw, a 500, found by `cargo xtask fuzz-api`).
            None => http::no_content(),
        },
        Resolved::Preflight(cross_origin @ (CrossOrigin::SiteOrigins | CrossOrigin::Refused), matched) => {
            preflight_for_site(&req, store, cross_origin, &matched).await
        }
    }
}

/// Segment ingest. Every answer carries CORS for any browser origin: an accepted request's origin was
/// checked against the site's list, and errors hold nothing secret, so a page can read why its events were
/// refused (instead of a CORS failure in its console).
async fn ingest_route(req: Request, env: &Env, store: &Store, matched: &Matched) -> ApiResult<Response> {
    let origin = http::origin(&req);
    let result = match queues::IngestSink::from_env(env) {
        Ok(sink) => ingest::handle(req, store, &sink, matched.params.get("type")).await,
        Err(e) => Err(e),
    };
    let mut resp = result.unwrap_or_else(|e| e.to_response());
    if let Some(o) = origin {
        http::allow_origin(&mut resp, &o, &matched.cors_methods(CrossOrigin::AnyOrigin));
    }
    Ok(resp)
}

/// An admin route (the admin token checked). Changes to the site's record and ledger run inside its object,
/// one at a time (`site_config`); so do reads of them, which see every change the object made. The other
/// routes need the site to exist, and pass its record along.
async fn admin_route(
    handler: AdminHandler,
    mut req: Request,
    env: &Env,
    secrets: &Secrets,
    store: &Store,
    site_id: &str,
    params: &Params,
) -> ApiResult<Response> {
    let by_id = Call::by_id(site_id);
    let query = http::query_pairs(&req)?;
    let id = || Some(params.get("id").to_owned());
    match handler {
        AdminHandler::GetSite => site_object::call(env, store, Op::GetSite, &by_id).await,
        AdminHandler::PutSite => {
            let body = admin::body_text(&mut req, admin::MAX_JSON_BODY).await?;
            let rotate = query.iter().any(|(k, v)| k == "rotate" && v == "true");
            let answer = site_object::call(env, store, Op::PutSite, &Call { body, rotate, ..by_id }).await;
            // Whatever the outcome (a failure may come after some keys were rewritten).
            key_cache::forget_site(site_id, http::now());
            answer
        }
        AdminHandler::GetSpend => site_object::call(env, store, Op::GetSpend, &Call { query, ..by_id }).await,
        AdminHandler::PostSpend => {
            let content_type = req.headers().get("content-type").ok().flatten().unwrap_or_default();
            let body = admin::body_text(&mut req, admin::MAX_SPEND_BODY).await?;
            site_object::call(env, store, Op::PostSpend, &Call { body, content_type, ..by_id }).await
        }
        AdminHandler::DeleteSpend => {
            site_object::call(env, store, Op::DeleteSpend, &Call { entry: id(), ..by_id }).await
        }
        AdminHandler::RevokeEmbedTokens => site_object::call(env, store, Op::RevokeEmbed, &by_id).await,
        AdminHandler::Rollup => {
            let site = store.existing_site(site_id).await?;
            site_object::call(env, store, Op::Rollup, &Call::new(&site)).await
        }
        AdminHandler::MintEmbedToken => admin::embed_token(req, secrets, &store.existing_site(site_id).await?).await,
        AdminHandler::Stats => {
            let site = store.existing_site(site_id).await?;
            site_object::call(env, store, Op::Stats, &Call::new(&site)).await
        }
        AdminHandler::EraseAccount | AdminHandler::ErasePerson => {
            let site = store.existing_site(site_id).await?;
            let op = if handler == AdminHandler::EraseAccount { Op::Erase } else { Op::ErasePerson };
            site_object::call(env, store, op, &Call { account: id(), ..Call::new(&site) }).await
        }
    }
}

/// A read route: the site's record decides which tokens are valid; then the query, the report. Once the site
/// is known, errors (a bad or expired token, a bad query) carry CORS headers too, so a widget on an allowed
/// origin can read them and say what is wrong instead of seeing an opaque network failure.
async fn read_route(
    handler: ReadHandler,
    req: &Request,
    env: &Env,
    store: &Store,
    site_id: &str,
    matched: &Matched,
) -> ApiResult<Response> {
    let secrets = Secrets::from_env(env);
    let now = http::now();
    let origin = http::origin(req);
    let Some(site) = store.site(site_id).await? else {
        if auth::bearer(req).is_none() {
            return Err(ApiError::unauthorized(
                "missing_token",
                "reports need a read token or embed token as a Bearer token",
            ));
        }
        auth::require_admin(req, &secrets, store).await.map_err(|e| {
            if e.status == 403 { ApiError::forbidden("wrong_site", "this token is for another site") } else { e }
        })?;
        return Err(ApiError::not_found("site_not_found", format!("no site {site_id:?}")));
    };
    let params = &matched.params;
    let answer = async {
        auth::require_reader(req, &secrets, store, &site, (now.0 / 1000) as u64).await?;
        let pairs = http::query_pairs(req)?;
        // Validated here, so a bad query costs no call to the site's object (which parses the pairs again).
        let q = query::parse_query(&pairs, now.day())?;
        let (op, report, account) = match handler {
            ReadHandler::Report => (Op::Report, Some(params.get("report")), None),
            ReadHandler::AccountList => (Op::Report, Some("accounts"), None),
            ReadHandler::Account if q.format == query::Format::Csv => {
                return Err(
                    ApiError::bad_request("invalid_query", "one account is not tabular; use JSON").with_field("format")
                );
            }
            ReadHandler::Account => (Op::Account, None, Some(params.get("id").to_owned())),
        };
        // `Cache-Control: no-cache` (RFC 9111): the reader wants no reused answer, so the tail is listed anew.
        let fresh = req.headers().get("cache-control").ok().flatten().is_some_and(|v| v.contains("no-cache"));
        let call = Call { report: report.map(str::to_owned), account, query: pairs, fresh, ..Call::new(&site) };
        site_object::call(env, store, op, &call).await
    };
    let mut resp = answer.await.unwrap_or_else(|e| e.to_response());
    if let Some(o) = origin.filter(|o| site_rules::origin_may_read(&site.allowed_origins, o)) {
        http::allow_origin(&mut resp, &o, &matched.cors_methods(CrossOrigin::SiteOrigins));
    }
    Ok(resp)
}

/// CORS preflight of a site route: only read routes, only for the site's listed origins. (An `OPTIONS`
/// without `Origin` is no preflight: 405.)
async fn preflight_for_site(
    req: &Request,
    store: &Store,
    cross_origin: CrossOrigin,
    matched: &Matched,
) -> ApiResult<Response> {
    let Some(origin) = http::origin(req) else { return Err(routes::method_not_allowed("GET")) };
    let site_id = matched.params.get("site");
    if cross_origin != CrossOrigin::SiteOrigins || !site_rules::is_valid_site_id(site_id) {
        return Err(ApiError::forbidden("origin_not_allowed", "this route does not accept cross-origin calls"));
    }
    match store.site(site_id).await? {
        Some(site) if site_rules::origin_may_read(&site.allowed_origins, &origin) => {
            http::preflight(&origin, &matched.cors_methods(CrossOrigin::SiteOrigins))
        }
        _ => Err(ApiError::forbidden("origin_not_allowed", format!("origin {origin} may not read this site"))),
    }
}
