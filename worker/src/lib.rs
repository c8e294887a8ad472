//! The Daytwo Worker: a thin shell over `daytwo-shared` (docs/design.md §4-§7).
//!
//! `fetch` routes every request through [`route`], which returns `ApiResult<Response>`; every error becomes
//! the JSON error body with its status, so no input reaches a panic or an unhandled 5xx. `scheduled` runs the
//! rollup of every site (the cron trigger in `wrangler.toml`).

mod admin;
mod auth;
mod erasure;
mod error;
mod http;
mod ingest;
mod queues;
mod read_model;
mod reports;
mod rollup;
mod site_config;
mod site_object;
mod sql_state;
mod store;
mod visitors;

pub use site_object::SiteState;

use auth::Secrets;
use daytwo_shared::query::{self, ReportKind};
use daytwo_shared::site_rules;
use error::{ApiError, ApiResult};
use site_object::{Call, Op};
use store::Store;
use worker::{Context, Env, MessageBatch, Method, Request, Response, ScheduleContext, ScheduledEvent, event};

pub(crate) const KV_BINDING: &str = "DAYTWO";
const INGEST_SEGMENTS: [&str; 14] =
    ["batch", "track", "identify", "page", "screen", "group", "alias", "b", "t", "i", "p", "s", "g", "a"];

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let store = match env.kv(KV_BINDING) {
        Ok(kv) => Store::new(kv),
        Err(e) => return Ok(ApiError::internal("KV binding", e).to_response()),
    };
    let mut resp = match route(req, &env, &store).await {
        Ok(resp) => resp,
        Err(e) => e.to_response(),
    };
    let _ = resp.headers_mut().set("x-daytwo-kv-ops", &store.ops().to_string());
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

fn method_not_allowed(allowed: &str) -> ApiError {
    ApiError::new(405, "method_not_allowed", format!("this route accepts {allowed}"))
}

fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such route")
}

async fn route(req: Request, env: &Env, store: &Store) -> ApiResult<Response> {
    let path = req.path();
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(|s| urlencoding::decode(s).map(|c| c.into_owned()).unwrap_or_else(|_| s.to_owned()))
        .collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = req.method();
    match seg.as_slice() {
        ["health"] => match method {
            Method::Get | Method::Head => http::json(200, &serde_json::json!({"status": "ok"})),
            _ => Err(method_not_allowed("GET")),
        },
        ["v1", kind] if INGEST_SEGMENTS.contains(kind) => match method {
            Method::Post => {
                // Errors carry CORS for any browser origin: they hold nothing secret, and a page must be able to
                // read why its events were refused (instead of a CORS failure in its console).
                let origin = http::origin(&req);
                let result = match queues::IngestSink::from_env(env) {
                    Ok(sink) => ingest::handle(req, store, &sink, kind).await,
                    Err(e) => Err(e),
                };
                result.or_else(|e| {
                    let mut resp = e.to_response();
                    if let Some(o) = origin {
                        http::allow_origin(&mut resp, &o, "POST, OPTIONS");
                    }
                    Ok(resp)
                })
            }
            Method::Options => match http::origin(&req) {
                Some(o) => http::preflight(&o, "POST, OPTIONS"),
                None => http::json(204, &serde_json::json!({})),
            },
            _ => Err(method_not_allowed("POST")),
        },
        ["v1", "sites", site, rest @ ..] => site_route(req, env, store, site, rest).await,
        _ => Err(not_found()),
    }
}

/// Which credential a site route needs.
enum Access {
    Admin,
    Read,
}

async fn site_route(req: Request, env: &Env, store: &Store, site_id: &str, rest: &[&str]) -> ApiResult<Response> {
    let method = req.method();
    // (access, allowed methods) of the route, or 404.
    let (access, allowed): (Access, &[Method]) = match (rest, &method) {
        ([], _) => (Access::Admin, &[Method::Get, Method::Put]),
        (["spend"], _) => (Access::Admin, &[Method::Get, Method::Post]),
        (["spend", _], _) => (Access::Admin, &[Method::Delete]),
        (["rollup"], _) => (Access::Admin, &[Method::Post]),
        (["embed-tokens"], _) => (Access::Admin, &[Method::Post]),
        (["embed-tokens", "revoke"], _) => (Access::Admin, &[Method::Post]),
        (["stats"], _) => (Access::Admin, &[Method::Get]),
        (["people", _], _) => (Access::Admin, &[Method::Delete]),
        (["accounts", _], Method::Delete) => (Access::Admin, &[Method::Get, Method::Delete]),
        (["accounts", _], _) => (Access::Read, &[Method::Get, Method::Delete]),
        (["accounts"], _) => (Access::Read, &[Method::Get]),
        (["reports", kind], _) if ReportKind::from_path(kind).is_some() => (Access::Read, &[Method::Get]),
        _ => return Err(not_found()),
    };
    if method == Method::Options {
        return preflight_for_site(&req, store, site_id, &access).await;
    }
    if !allowed.contains(&method) {
        let names: Vec<String> = allowed.iter().map(|m| m.to_string()).collect();
        return Err(method_not_allowed(&names.join(", ")));
    }
    site_rules::check_site_id(site_id)?;
    let secrets = Secrets::from_env(env);
    let now = http::now();
    let origin = http::origin(&req);
    if let Access::Admin = access {
        auth::require_admin(&req, &secrets, store).await?;
        return admin_route(req, env, &secrets, store, site_id, rest, method).await;
    }
    // Read routes: the site's record decides which tokens are valid.
    let Some(site) = store.site(site_id).await? else {
        if auth::bearer(&req).is_none() {
            return Err(ApiError::unauthorized(
                "missing_token",
                "reports need a read token or embed token as a Bearer token",
            ));
        }
        auth::require_admin(&req, &secrets, store).await.map_err(|e| {
            if e.status == 403 { ApiError::forbidden("wrong_site", "this token is for another site") } else { e }
        })?;
        return Err(ApiError::not_found("site_not_found", format!("no site {site_id:?}")));
    };
    // Errors (a bad or expired token, a bad query) carry CORS headers too, so a widget on an allowed origin
    // can read them and say what is wrong instead of seeing an opaque network failure.
    let mut resp = read_route(&req, env, &secrets, store, &site, rest, now).await.unwrap_or_else(|e| e.to_response());
    if let Some(o) = origin.filter(|o| site_rules::origin_may_read(&site.allowed_origins, o)) {
        http::allow_origin(&mut resp, &o, "GET, OPTIONS");
    }
    Ok(resp)
}

/// An admin route (the admin token checked). Changes to the site's record and ledger run inside its object,
/// one at a time (`site_config`); so do reads of them, which see every change the object made.
async fn admin_route(
    mut req: Request,
    env: &Env,
    secrets: &Secrets,
    store: &Store,
    site_id: &str,
    rest: &[&str],
    method: Method,
) -> ApiResult<Response> {
    let by_id = Call::by_id(site_id);
    let query = http::query_pairs(&req)?;
    match (rest, &method) {
        ([], Method::Put) => {
            let body = admin::body_text(&mut req, admin::MAX_JSON_BODY).await?;
            let rotate = query.iter().any(|(k, v)| k == "rotate" && v == "true");
            return site_object::call(env, store, Op::PutSite, &Call { body, rotate, ..by_id }).await;
        }
        ([], _) => return site_object::call(env, store, Op::GetSite, &by_id).await,
        (["spend"], Method::Post) => {
            let content_type = req.headers().get("content-type").ok().flatten().unwrap_or_default();
            let body = admin::body_text(&mut req, admin::MAX_SPEND_BODY).await?;
            return site_object::call(env, store, Op::PostSpend, &Call { body, content_type, ..by_id }).await;
        }
        (["spend"], _) => return site_object::call(env, store, Op::GetSpend, &Call { query, ..by_id }).await,
        (["spend", id], _) => {
            let call = Call { entry: Some((*id).to_owned()), ..by_id };
            return site_object::call(env, store, Op::DeleteSpend, &call).await;
        }
        (["embed-tokens", "revoke"], _) => return site_object::call(env, store, Op::RevokeEmbed, &by_id).await,
        _ => {}
    }
    // The rest need the site to exist, and pass its record along.
    let site = store.existing_site(site_id).await?;
    match rest {
        ["rollup"] => site_object::call(env, store, Op::Rollup, &Call::new(&site)).await,
        ["embed-tokens"] => admin::embed_token(req, secrets, &site).await,
        ["stats"] => site_object::call(env, store, Op::Stats, &Call::new(&site)).await,
        ["accounts", id] => {
            let call = Call { account: Some((*id).to_owned()), ..Call::new(&site) };
            site_object::call(env, store, Op::Erase, &call).await
        }
        ["people", id] => {
            let call = Call { account: Some((*id).to_owned()), ..Call::new(&site) };
            site_object::call(env, store, Op::ErasePerson, &call).await
        }
        _ => Err(not_found()),
    }
}

/// A read route of an existing site: the token, the query, the report.
async fn read_route(
    req: &Request,
    env: &Env,
    secrets: &Secrets,
    store: &Store,
    site: &store::SiteRecord,
    rest: &[&str],
    now: daytwo_shared::time::Timestamp,
) -> ApiResult<Response> {
    auth::require_reader(req, secrets, store, site, (now.0 / 1000) as u64).await?;
    let pairs = http::query_pairs(req)?;
    // Validated here, so a bad query costs no call to the site's object (which parses the pairs again).
    let q = query::parse_query(&pairs, now.day())?;
    if let ["accounts", _] = rest
        && q.format == query::Format::Csv
    {
        return Err(ApiError::bad_request("invalid_query", "one account is not tabular; use JSON").with_field("format"));
    }
    let (op, report, account) = match rest {
        ["accounts"] => (Op::Report, Some("accounts"), None),
        ["accounts", id] => (Op::Account, None, Some((*id).to_owned())),
        ["reports", kind] if ReportKind::from_path(kind).is_some() => (Op::Report, Some(*kind), None),
        _ => return Err(not_found()),
    };
    let call = Call { report: report.map(str::to_owned), account, query: pairs, ..Call::new(site) };
    site_object::call(env, store, op, &call).await
}

/// CORS preflight of a site route: only report routes, only for the site's listed origins.
async fn preflight_for_site(req: &Request, store: &Store, site_id: &str, access: &Access) -> ApiResult<Response> {
    let Some(origin) = http::origin(req) else { return Err(method_not_allowed("GET")) };
    if matches!(access, Access::Admin) || !site_rules::is_valid_site_id(site_id) {
        return Err(ApiError::forbidden("origin_not_allowed", "this route does not accept cross-origin calls"));
    }
    match store.site(site_id).await? {
        Some(site) if site_rules::origin_may_read(&site.allowed_origins, &origin) => {
            http::preflight(&origin, "GET, OPTIONS")
        }
        _ => Err(ApiError::forbidden("origin_not_allowed", format!("origin {origin} may not read this site"))),
    }
}
