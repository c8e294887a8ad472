//! Admin routes: site config and credentials, spend ledger, rollup, embed tokens, erasure, stats.

use crate::auth::{Secrets, mint_embed, random_hex, sha256_hex};
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::rollup;
use crate::sql_state::SqlState;
use crate::store::{self, IngestRecord, SiteRecord, Store};
use daytwo_shared::config::Settings;
use daytwo_shared::money::Currency;
use daytwo_shared::rollup::identity_of;
use daytwo_shared::spend::{SpendEntry, parse_spend_csv, parse_spend_json, to_csv};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use worker::{Request, Response};

/// Site ids: 1-64 of a-z, 0-9, `-` and `_`, so they are safe inside KV keys and URLs.
pub fn valid_site_id(site: &str) -> bool {
    !site.is_empty()
        && site.len() <= 64
        && site.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

async fn json_body(req: &mut Request) -> ApiResult<Value> {
    let bytes = req
        .bytes()
        .await
        .map_err(|_| ApiError::bad_request("unreadable_body", "the request body could not be read"))?;
    if bytes.len() > 1024 * 1024 {
        return Err(ApiError::new(413, "body_too_large", "the body is larger than 1 MiB"));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::bad_request("invalid_utf8", "the body is not valid UTF-8"))?;
    serde_json::from_str(text)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")))
}

fn public_view(site: &SiteRecord) -> Value {
    json!({
        "site": site.site,
        "currency": site.currency,
        "allowed_origins": site.allowed_origins,
        "settings": site.settings,
        "write_key": site.write_key,
        "created_at": site.created_at,
        "updated_at": site.updated_at,
    })
}

/// `PUT /v1/sites/{site}`: create (201, with fresh credentials) or update (200). `?rotate=true` issues new
/// credentials for an existing site.
pub async fn put_site(mut req: Request, store: &Store, site_id: &str, rotate: bool) -> ApiResult<Response> {
    let body = json_body(&mut req).await?;
    let Value::Object(fields) = &body else {
        return Err(ApiError::bad_request("invalid_body", "the body must be a JSON object"));
    };
    if let Some(unknown) = fields.keys().find(|k| !["currency", "allowed_origins", "settings"].contains(&k.as_str())) {
        return Err(
            ApiError::bad_request("unknown_field", format!("unknown field {unknown:?}")).with_field(unknown.clone())
        );
    }
    let existing = store.site(site_id).await?;
    let currency = match fields.get("currency") {
        None | Some(Value::Null) => existing.as_ref().map(|s| s.currency.clone()).unwrap_or_default(),
        Some(Value::String(c)) => Currency::parse(c)
            .map_err(|e| ApiError::bad_request("invalid_currency", e.to_string()).with_field("currency"))?,
        Some(_) => {
            return Err(ApiError::bad_request("invalid_currency", "currency must be a string").with_field("currency"));
        }
    };
    if let Some(old) = &existing
        && old.currency != currency
    {
        return Err(
            ApiError::new(409, "currency_locked", "a site's currency cannot change once set").with_field("currency")
        );
    }
    let allowed_origins: Vec<String> = match fields.get("allowed_origins") {
        None | Some(Value::Null) => existing.as_ref().map(|s| s.allowed_origins.clone()).unwrap_or_default(),
        Some(v) => {
            let list: Vec<String> = serde_json::from_value(v.clone()).map_err(|_| {
                ApiError::bad_request("invalid_origins", "allowed_origins must be an array of strings")
                    .with_field("allowed_origins")
            })?;
            for (i, o) in list.iter().enumerate() {
                let host = o.strip_prefix("https://").or_else(|| o.strip_prefix("http://"));
                let ok = o == "*"
                    || host.is_some_and(|h| !h.is_empty() && !h.trim_end_matches('/').contains('/') && o.len() <= 200);
                if !ok {
                    return Err(ApiError::bad_request("invalid_origins", "an origin looks like https://example.com")
                        .with_field(format!("allowed_origins[{i}]")));
                }
            }
            list.into_iter().map(|o| o.trim_end_matches('/').to_owned()).collect()
        }
    };
    let settings = match fields.get("settings") {
        None | Some(Value::Null) => existing.as_ref().map(|s| s.settings.clone()).unwrap_or_default(),
        Some(v) => Settings::from_json(v)?,
    };
    let now = http::now().to_rfc3339();
    let fresh = existing.is_none() || rotate;
    let (write_key, read_token) = if fresh {
        (format!("wk_{}", random_hex(16)?), Some(format!("rt_{}", random_hex(24)?)))
    } else {
        (existing.as_ref().map(|s| s.write_key.clone()).unwrap_or_default(), None)
    };
    let record = SiteRecord {
        site: site_id.to_owned(),
        currency,
        allowed_origins,
        settings,
        write_key: write_key.clone(),
        read_token_sha256: match (&read_token, &existing) {
            (Some(t), _) => sha256_hex(t),
            (None, Some(old)) => old.read_token_sha256.clone(),
            (None, None) => String::new(),
        },
        email_salt: match &existing {
            Some(old) => old.email_salt.clone(),
            None => random_hex(16)?,
        },
        created_at: existing.as_ref().map_or_else(|| now.clone(), |s| s.created_at.clone()),
        updated_at: now,
        // Rotation revokes every embed token minted before it.
        embed_generation: existing.as_ref().map_or(0, |s| s.embed_generation + u32::from(rotate)),
    };
    let ingest = IngestRecord {
        site: record.site.clone(),
        currency: record.currency.clone(),
        allowed_origins: record.allowed_origins.clone(),
        ingest: record.settings.ingest.clone(),
        email_salt: record.email_salt.clone(),
    };
    // Credentials first, the site record last: a failure half-way leaves no site pointing at missing keys.
    store.put_json(&format!("writekey/{write_key}"), &ingest).await?;
    if let Some(t) = &read_token {
        store.put_json(&format!("readtoken/{}", sha256_hex(t)), &record.site).await?;
    }
    store.put_json(&store::site_key(site_id), &record).await?;
    if let Some(old) = existing.as_ref().filter(|_| rotate) {
        store.delete(&format!("writekey/{}", old.write_key)).await?;
        store.delete(&format!("readtoken/{}", old.read_token_sha256)).await?;
    }
    let mut view = public_view(&record);
    if let Some(t) = read_token {
        view["read_token"] = Value::String(t);
    }
    http::json(if existing.is_none() { 201 } else { 200 }, &view)
}

pub async fn get_site(store: &Store, site_id: &str) -> ApiResult<Response> {
    http::json(200, &public_view(&store.existing_site(site_id).await?))
}

/// `POST …/spend`: a JSON array (or one object), or CSV when the body is `text/csv`. Upserts by id.
pub async fn post_spend(mut req: Request, store: &Store, site: &SiteRecord) -> ApiResult<Response> {
    let content_type = req.headers().get("content-type").ok().flatten().unwrap_or_default().to_ascii_lowercase();
    let bytes = req
        .bytes()
        .await
        .map_err(|_| ApiError::bad_request("unreadable_body", "the request body could not be read"))?;
    if bytes.len() > 5 * 1024 * 1024 {
        return Err(ApiError::new(413, "body_too_large", "the body is larger than 5 MiB"));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::bad_request("invalid_utf8", "the body is not valid UTF-8"))?;
    let entries = if content_type.starts_with("text/csv") {
        parse_spend_csv(text, &site.currency)?
    } else {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")))?;
        parse_spend_json(&v, &site.currency)?
    };
    let mut ledger: BTreeMap<String, SpendEntry> =
        store.ledger(site).await?.into_iter().map(|e| (e.id.clone(), e)).collect();
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    for e in entries {
        ledger.insert(e.id.clone(), e);
    }
    let all: Vec<SpendEntry> = ledger.into_values().collect();
    store.put_json(&store::spend_key(&site.site), &all).await?;
    http::json(200, &json!({"stored": ids.len(), "ids": ids, "ledger_size": all.len()}))
}

pub async fn get_spend(store: &Store, site: &SiteRecord, csv: bool) -> ApiResult<Response> {
    let ledger = store.ledger(site).await?;
    if csv {
        return http::csv(to_csv(&ledger), &format!("{}-spend.csv", site.site));
    }
    http::json(200, &json!({"currency": site.currency, "entries": ledger}))
}

pub async fn delete_spend(store: &Store, site: &SiteRecord, id: &str) -> ApiResult<Response> {
    let mut ledger = store.ledger(site).await?;
    let before = ledger.len();
    ledger.retain(|e| e.id != id);
    if ledger.len() == before {
        return Err(ApiError::not_found("spend_not_found", format!("no spend entry {id:?}")));
    }
    store.put_json(&store::spend_key(&site.site), &ledger).await?;
    http::json(200, &json!({"deleted": id}))
}

/// `POST …/embed-tokens {"ttl_seconds": N}`: 60 s to 30 days.
pub async fn embed_token(mut req: Request, secrets: &Secrets, site: &SiteRecord) -> ApiResult<Response> {
    let body = json_body(&mut req).await?;
    let ttl = match body.get("ttl_seconds") {
        None | Some(Value::Null) => 3600,
        Some(v) => v.as_u64().filter(|t| (60..=30 * 86_400).contains(t)).ok_or_else(|| {
            ApiError::bad_request("invalid_ttl", "ttl_seconds must be an integer from 60 to 2592000")
                .with_field("ttl_seconds")
        })?,
    };
    let now_s = (http::now().0 / 1000) as u64;
    let expires = now_s + ttl;
    let token = mint_embed(&site.site, site.embed_generation, expires, secrets)?;
    let expires_at = daytwo_shared::time::Timestamp(expires as i64 * 1000).to_rfc3339();
    http::json(201, &json!({"token": token, "site": site.site, "expires_at": expires_at, "ttl_seconds": ttl}))
}

/// `POST …/embed-tokens/revoke`: every embed token minted before answers 401 (`token_revoked`).
pub async fn revoke_embed_tokens(store: &Store, site: &SiteRecord) -> ApiResult<Response> {
    let mut record = site.clone();
    record.embed_generation = record.embed_generation.saturating_add(1);
    record.updated_at = http::now().to_rfc3339();
    store.put_json(&store::site_key(&site.site), &record).await?;
    http::json(200, &json!({"site": site.site, "revoked": true, "generation": record.embed_generation}))
}

/// `DELETE …/accounts/{id}` (inside the site's object): rolls up, removes the account's rows, then its messages
/// from every raw batch.
pub async fn erase(store: &Store, db: &SqlState, site: &SiteRecord, id: &str, cap: u64) -> ApiResult<Response> {
    let now = http::now();
    rollup::run_and_record(store, db, site, now, cap).await?;
    // Accounts sent with an e-mail address as id are stored under its digest token.
    let id = &daytwo_shared::privacy::stored_id(id, &site.email_salt);
    let mut key = None;
    for candidate in daytwo_shared::query::account_key_candidates(id) {
        if !db.member_keys(&candidate)?.is_empty() {
            key = Some(candidate);
            break;
        }
    }
    let key = key.ok_or_else(|| ApiError::not_found("account_not_found", format!("no account {id:?}")))?;
    let (mut writes, identities) = db.erase(&key)?;
    // The read model held the erased account: the next rollup rebuilds it.
    writes.push(crate::read_model::invalidate());
    // Deleting never grows the database: no cap applies.
    db.commit(writes, u64::MAX)?;
    let mut removed = 0usize;
    for raw_key in store.list_all(&store::raw_prefix(&site.site)).await? {
        let Some(batch) = store.get_json::<Vec<daytwo_shared::message::Message>>(&raw_key).await? else { continue };
        let before = batch.len();
        let keep: Vec<_> = batch
            .into_iter()
            .filter(|m| {
                let mine = |k: String| identities.contains(&k);
                !(mine(identity_of(m))
                    || m.user_id.as_ref().is_some_and(|u| mine(format!("u:{u}")))
                    || m.anonymous_id.as_ref().is_some_and(|a| mine(format!("a:{a}"))))
            })
            .collect();
        if keep.len() != before {
            removed += before - keep.len();
            if keep.is_empty() {
                store.delete(&raw_key).await?;
            } else {
                let text = serde_json::to_string(&keep).map_err(|e| ApiError::internal("serialise", e))?;
                store.put_text(&raw_key, text, Some(store::RAW_TTL_SECONDS)).await?;
            }
        }
    }
    http::json(200, &json!({"erased": key, "identities": identities.len(), "raw_messages_removed": removed}))
}

/// `GET …/stats` (inside the site's object): what is stored, for operators and tests ("a rejected request
/// stored nothing").
pub async fn stats(store: &Store, db: &SqlState, site: &SiteRecord) -> ApiResult<Response> {
    let checkpoint = db.checkpoint()?;
    let raw_keys = store.list_all(&store::raw_prefix(&site.site)).await?;
    let pending = rollup::pending_keys(store, &site.site, checkpoint.as_deref(), http::now()).await?;
    let pending_new = pending.iter().filter(|k| checkpoint.as_ref().is_none_or(|c| *k > c)).count();
    let last_rollup = store.last_rollup(&site.site).await?;
    let spend_entries = store.ledger(site).await?.len();
    let counts = db.counts()?;
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
            "checkpoint": db.checkpoint()?,
            "rolled_at": db.rolled_at()?,
            "last_rollup": last_rollup,
            "spend_entries": spend_entries,
        }),
    )
}
