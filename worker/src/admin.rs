//! Admin routes: embed tokens, stats, request bodies (site config and the spend ledger: `site_config`).

use crate::auth::{Secrets, mint_embed};
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::sql_state::SqlState;
use crate::store::{self, SiteRecord, Store};
use daytwo_shared::site_rules::embed_token_ttl;
use serde_json::{Value, json};
use worker::{Request, Response};

/// Largest body of an admin JSON call (site config, embed token).
pub const MAX_JSON_BODY: usize = 1024 * 1024;
/// Largest spend upload (JSON or CSV).
pub const MAX_SPEND_BODY: usize = 5 * 1024 * 1024;

/// The request body as UTF-8 text, refused past `limit` bytes (413) before it is all read.
pub async fn body_text(req: &mut Request, limit: usize) -> ApiResult<String> {
    let too_large = || ApiError::new(413, "body_too_large", format!("the body is larger than {} MiB", limit >> 20));
    let bytes = http::body(req, limit, too_large).await?;
    String::from_utf8(bytes).map_err(|_| ApiError::bad_request("invalid_utf8", "the body is not valid UTF-8"))
}

async fn json_body(req: &mut Request) -> ApiResult<Value> {
    let text = body_text(req, MAX_JSON_BODY).await?;
    if text.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str(&text)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")))
}

/// `POST …/embed-tokens {"ttl_seconds": N}`: 60 s to 30 days (`site_rules::embed_token_ttl`).
pub async fn embed_token(mut req: Request, secrets: &Secrets, site: &SiteRecord) -> ApiResult<Response> {
    let body = json_body(&mut req).await?;
    let ttl = embed_token_ttl(body.get("ttl_seconds"))?;
    let now_s = (http::now().0 / 1000) as u64;
    let expires = now_s + ttl;
    let token = mint_embed(&site.site, site.embed_generation, expires, secrets)?;
    let expires_at = daytwo_shared::time::Timestamp(expires as i64 * 1000).to_rfc3339();
    http::json(201, &json!({"token": token, "site": site.site, "expires_at": expires_at, "ttl_seconds": ttl}))
}

/// `GET …/stats` (inside the site's object): what is stored, for operators and tests ("a rejected request
/// stored nothing").
pub async fn stats(store: &Store, db: &SqlState, site: &SiteRecord) -> ApiResult<Response> {
    // Every KV read first; then the object's own figures, read together with no await between them, so a
    // rollup running in this object between two awaits cannot make the checkpoint and the counts disagree.
    let raw_keys = store.list_all(&store::raw_prefix(&site.site)).await?;
    let last_rollup = store.last_rollup(&site.site).await?;
    let spend_entries = crate::site_config::ledger(store, db, site).await?.len();
    let checkpoint = db.checkpoint()?;
    let pending_new = raw_keys.iter().filter(|k| checkpoint.as_ref().is_none_or(|c| *k > c)).count();
    let counts = db.counts()?;
    let (pooled_visitors, pool_rows) = crate::visitors::counts(db)?;
    let (erased_identities, scrub_pending) = crate::erasure::status(db)?;
    http::json(
        200,
        &json!({
            "site": site.site,
            "raw_keys": raw_keys.len(),
            "pending_raw_keys": pending_new,
            "rolled_up_messages": counts.rolled_up_messages,
            "identities": counts.identities,
            "dedup_index": counts.dedup_index,
            "state_bytes": counts.database_bytes,
            "checkpoint": checkpoint,
            "rolled_at": db.rolled_at()?,
            "last_rollup": last_rollup,
            "spend_entries": spend_entries,
            "pooled_visitors": pooled_visitors,
            "visitor_pool_rows": pool_rows,
            "erased_identities": erased_identities,
            "raw_scrub_pending": scrub_pending,
            "wasm_memory_bytes": wasm_memory_bytes(),
        }),
    )
}

/// Bytes of this instance's WebAssembly memory. It only grows, so it is the high-water mark of the Rust heap
/// over every request the instance has served, rollups included (`cargo xtask bench --scale` reports it).
fn wasm_memory_bytes() -> u64 {
    use worker::wasm_bindgen::JsCast;
    worker::wasm_bindgen::memory()
        .dyn_into::<worker::js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| m.buffer().dyn_into::<worker::js_sys::ArrayBuffer>().ok())
        .map_or(0, |b| u64::from(b.byte_length()))
}
