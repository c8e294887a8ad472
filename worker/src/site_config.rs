//! A site's configuration and spend ledger, changed only inside the site's object (`site_object`), one change
//! at a time.
//!
//! Why: each change reads, changes and writes a whole record (the site's, or its ledger). Done by the Worker
//! directly, two concurrent admin calls both read the old record and the second write dropped the first's
//! change (spend entries lost, two write keys minted and the loser left valid). In the object they run
//! under its admin lock (`SiteState::admin`), which is held across their KV writes so those land in order too,
//! and they read the object's own copy of what they last wrote (SQLite is read-your-writes; a KV read may be
//! up to a minute stale elsewhere):
//!
//! | where | what |
//! |---|---|
//! | `meta('site')` | the site's record as last written (JSON); absent until the object first changes it, then KV's is read |
//! | `spend(id, entry)` | one row per spend entry; filled from KV's ledger the first time (`meta('spend_loaded')`) |
//!
//! KV keeps what the Worker reads without calling the object: `site/{id}`, `writekey/{key}`,
//! `readtoken/{sha}` and the ledger under `spend/{id}` (written whole after every change).

use crate::auth::{mint_key, random_hex, sha256_hex};
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::sql_state::{SqlState, Write, from_text, to_text};
use crate::store::{self, IngestRecord, SiteRecord, Store};
use daytwo_shared::config::Settings;
use daytwo_shared::message::KeyKind;
use daytwo_shared::money::Currency;
use daytwo_shared::site_rules::{READ_TOKEN, SECRET_KEY, WRITE_KEY, parse_allowed_origins};
use daytwo_shared::spend::{MAX_ENTRIES, SpendEntry, parse_spend_csv, parse_spend_json};
use serde::Serialize;
use serde_json::{Value, json};
use worker::Response;

pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS spend(id TEXT PRIMARY KEY, entry TEXT NOT NULL);";

/// The site's record: the object's copy if it has one, else KV's.
pub async fn current_site(store: &Store, db: &SqlState, site_id: &str) -> ApiResult<Option<SiteRecord>> {
    let rows = db.rows("SELECT v FROM meta WHERE k = 'site'", Vec::new())?;
    match rows.first() {
        Some(row) => Ok(Some(from_text(row.first(), "site")?)),
        None => store.site(site_id).await,
    }
}

fn remember_site(record: &SiteRecord) -> ApiResult<Write> {
    Ok(Write::new(
        "INSERT INTO meta(k, v) VALUES ('site', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
        vec![to_text(record)?],
    ))
}

/// The site's record, or 404.
pub async fn existing_site(store: &Store, db: &SqlState, site_id: &str) -> ApiResult<SiteRecord> {
    current_site(store, db, site_id)
        .await?
        .ok_or_else(|| ApiError::not_found("site_not_found", format!("no site {site_id:?}")))
}

/// The request body as JSON (`{}` when empty).
fn json_value(body: &str) -> ApiResult<Value> {
    if body.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str(body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")))
}

/// A site as the API shows it: never the digests or the salt, and a credential only in the answer that minted
/// it. A struct written straight to text, not a `json!` value: building the settings as a `Value` was 8 KB of
/// the Worker's code. The same JSON as that value's (test); the settings' keys now come in their declared
/// order, as the stored record has them, where the value sorted them.
#[derive(Serialize)]
struct PublicView<'a> {
    allowed_origins: &'a [String],
    created_at: &'a str,
    currency: &'a Currency,
    has_secret_write_key: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_write_key: Option<String>,
    settings: &'a Settings,
    site: &'a str,
    updated_at: &'a str,
    write_key: &'a str,
}

fn public_view(site: &SiteRecord) -> PublicView<'_> {
    PublicView {
        allowed_origins: &site.allowed_origins,
        created_at: &site.created_at,
        currency: &site.currency,
        has_secret_write_key: site.secret_key_sha256.is_some(),
        read_token: None,
        secret_write_key: None,
        settings: &site.settings,
        site: &site.site,
        updated_at: &site.updated_at,
        write_key: &site.write_key,
    }
}

/// `GET /v1/sites/{site}`.
pub async fn get_site(store: &Store, db: &SqlState, site_id: &str) -> ApiResult<Response> {
    http::json(200, &public_view(&existing_site(store, db, site_id).await?))
}

/// `PUT /v1/sites/{site}`: create (201, with fresh credentials) or update (200). `rotate` issues new
/// credentials for an existing site (and revokes its embed tokens).
pub async fn put_site(store: &Store, db: &SqlState, site_id: &str, body: &str, rotate: bool) -> ApiResult<Response> {
    let body = json_value(body)?;
    let Value::Object(fields) = &body else {
        return Err(ApiError::bad_request("invalid_body", "the body must be a JSON object"));
    };
    if let Some(unknown) = fields.keys().find(|k| !["currency", "allowed_origins", "settings"].contains(&k.as_str())) {
        return Err(
            ApiError::bad_request("unknown_field", format!("unknown field {unknown:?}")).with_field(unknown.clone())
        );
    }
    let existing = current_site(store, db, site_id).await?;
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
    let allowed_origins = match fields.get("allowed_origins") {
        None | Some(Value::Null) => existing.as_ref().map(|s| s.allowed_origins.clone()).unwrap_or_default(),
        Some(v) => parse_allowed_origins(v)?,
    };
    let settings = match fields.get("settings") {
        None | Some(Value::Null) => existing.as_ref().map(|s| s.settings.clone()).unwrap_or_default(),
        Some(v) => Settings::from_json(v)?,
    };
    let now = http::now().to_rfc3339();
    let fresh = existing.is_none() || rotate;
    let (write_key, read_token) = if fresh {
        (mint_key(WRITE_KEY)?, Some(mint_key(READ_TOKEN)?))
    } else {
        (existing.as_ref().map(|s| s.write_key.clone()).unwrap_or_default(), None)
    };
    // The secret key: minted with the other credentials, or for a site created before secret keys existed.
    let kept_secret = existing.as_ref().and_then(|s| s.secret_key_sha256.clone()).filter(|_| !fresh);
    let secret_key = match kept_secret {
        Some(_) => None,
        None => Some(mint_key(SECRET_KEY)?),
    };
    let secret_key_sha256 = secret_key.as_deref().map(sha256_hex).or(kept_secret);
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
        secret_key_sha256: secret_key_sha256.clone(),
    };
    let ingest = IngestRecord {
        site: record.site.clone(),
        currency: record.currency.clone(),
        allowed_origins: record.allowed_origins.clone(),
        ingest: record.settings.ingest.clone(),
        email_salt: record.email_salt.clone(),
        via: KeyKind::Public,
    };
    // Credentials first, the site record last: a failure half-way leaves no site pointing at missing keys.
    // Both keys' records carry the site's current ingest settings, so both are rewritten on every change.
    store.put_json(&store::write_key_key(&write_key), &ingest).await?;
    if let Some(sha) = &secret_key_sha256 {
        store.put_json(&store::secret_key_key(sha), &IngestRecord { via: KeyKind::Secret, ..ingest.clone() }).await?;
    }
    if let Some(t) = &read_token {
        store.put_json(&store::read_token_key(&sha256_hex(t)), &record.site).await?;
    }
    store.put_json(&store::site_key(site_id), &record).await?;
    db.commit(vec![remember_site(&record)?], u64::MAX)?;
    if let Some(old) = existing.as_ref().filter(|_| rotate) {
        store.delete(&store::write_key_key(&old.write_key)).await?;
        store.delete(&store::read_token_key(&old.read_token_sha256)).await?;
        if let Some(sha) = &old.secret_key_sha256 {
            store.delete(&store::secret_key_key(sha)).await?;
        }
    }
    let view = PublicView { read_token, secret_write_key: secret_key, ..public_view(&record) };
    http::json(if existing.is_none() { 201 } else { 200 }, &view)
}

/// `POST …/embed-tokens/revoke`: every embed token minted before answers 401 (`token_revoked`).
pub async fn revoke_embed_tokens(store: &Store, db: &SqlState, site_id: &str) -> ApiResult<Response> {
    let mut record = existing_site(store, db, site_id).await?;
    record.embed_generation = record.embed_generation.saturating_add(1);
    record.updated_at = http::now().to_rfc3339();
    store.put_json(&store::site_key(site_id), &record).await?;
    db.commit(vec![remember_site(&record)?], u64::MAX)?;
    http::json(200, &json!({"site": site_id, "revoked": true, "generation": record.embed_generation}))
}

/// Whether the object holds the ledger (else it is still only in KV).
fn ledger_loaded(db: &SqlState) -> ApiResult<bool> {
    Ok(!db.rows("SELECT 1 FROM meta WHERE k = 'spend_loaded'", Vec::new())?.is_empty())
}

/// The object's ledger rows, read back through `shared`'s own parser (the form `POST …/spend` accepts).
fn ledger_rows(db: &SqlState, site: &SiteRecord) -> ApiResult<Vec<SpendEntry>> {
    let rows: Vec<Value> = db
        .rows("SELECT entry FROM spend ORDER BY id", Vec::new())?
        .iter()
        .map(|r| from_text(r.first(), "spend"))
        .collect::<ApiResult<_>>()?;
    parse_spend_json(&Value::Array(rows), &site.currency).map_err(|e| ApiError::internal("stored ledger", e))
}

/// The site's spend ledger, ordered by id: the object's rows once it holds them, else KV's value.
pub async fn ledger(store: &Store, db: &SqlState, site: &SiteRecord) -> ApiResult<Vec<SpendEntry>> {
    if ledger_loaded(db)? { ledger_rows(db, site) } else { store.ledger(site).await }
}

fn upsert_entry(e: &SpendEntry) -> ApiResult<Write> {
    Ok(Write::new(
        "INSERT INTO spend(id, entry) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET entry = excluded.entry",
        vec![e.id.as_str().into(), to_text(e)?],
    ))
}

/// Applies `changes` to the ledger (taking it over from KV the first time) and writes the whole ledger back
/// to KV for reports; returns it.
async fn change_ledger(
    store: &Store,
    db: &SqlState,
    site: &SiteRecord,
    mut changes: Vec<Write>,
) -> ApiResult<Vec<SpendEntry>> {
    if !ledger_loaded(db)? {
        let mut load: Vec<Write> = store.ledger(site).await?.iter().map(upsert_entry).collect::<ApiResult<_>>()?;
        load.push(SqlState::set_meta("spend_loaded", "1".into()));
        load.append(&mut changes);
        changes = load;
    }
    // The ledger is the admin's own data, bounded by the body limit per call: no state cap applies.
    db.commit(changes, u64::MAX)?;
    let all = ledger_rows(db, site)?;
    store.put_json(&store::spend_key(&site.site), &all).await?;
    Ok(all)
}

/// `POST …/spend`: a JSON array (or one object), or CSV when the body is `text/csv`. Upserts by id.
pub async fn post_spend(
    store: &Store,
    db: &SqlState,
    site_id: &str,
    content_type: &str,
    body: &str,
) -> ApiResult<Response> {
    let site = existing_site(store, db, site_id).await?;
    let entries = if content_type.to_ascii_lowercase().starts_with("text/csv") {
        parse_spend_csv(body, &site.currency)?
    } else {
        let v: Value = serde_json::from_str(body)
            .map_err(|e| ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")))?;
        parse_spend_json(&v, &site.currency)?
    };
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    // The stored ledger is read back through the same parser, which takes at most `MAX_ENTRIES`: refuse a
    // change that would make it unreadable.
    let stored = daytwo_shared::order::set(ledger(store, db, &site).await?.into_iter().map(|e| e.id));
    let size = stored.len() + ids.iter().filter(|id| !stored.contains(*id)).count();
    if size > MAX_ENTRIES {
        return Err(ApiError::new(
            413,
            "ledger_full",
            format!("the ledger would hold {size} entries, more than {MAX_ENTRIES}: delete old entries first"),
        ));
    }
    let writes = entries.iter().map(upsert_entry).collect::<ApiResult<Vec<_>>>()?;
    let all = change_ledger(store, db, &site, writes).await?;
    http::json(200, &json!({"stored": ids.len(), "ids": ids, "ledger_size": all.len()}))
}

/// `DELETE …/spend/{id}`.
pub async fn delete_spend(store: &Store, db: &SqlState, site_id: &str, id: &str) -> ApiResult<Response> {
    let site = existing_site(store, db, site_id).await?;
    if !ledger(store, db, &site).await?.iter().any(|e| e.id == id) {
        return Err(ApiError::not_found("spend_not_found", format!("no spend entry {id:?}")));
    }
    change_ledger(store, db, &site, vec![Write::new("DELETE FROM spend WHERE id = ?", vec![id.into()])]).await?;
    http::json(200, &json!({"deleted": id}))
}

/// `GET …/spend` (JSON, or CSV with `?format=csv`).
pub async fn get_spend(store: &Store, db: &SqlState, site_id: &str, csv: bool) -> ApiResult<Response> {
    let site = existing_site(store, db, site_id).await?;
    let ledger = ledger(store, db, &site).await?;
    if csv {
        return http::csv(daytwo_shared::spend::to_csv(&ledger), &format!("{}-spend.csv", site.site));
    }
    http::json(200, &json!({"currency": site.currency, "entries": ledger}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The view written straight from the record is the JSON the `json!` map gave: the same keys and values,
    /// floats to the bit, the credentials only when set.
    #[test]
    fn the_public_view_writes_what_the_json_map_wrote() {
        let mut settings = Settings::default();
        settings.budget.tolerance_points = 0.1 + 0.2;
        settings.engagement.indicators[0].weight = 2.5e-7;
        let record = SiteRecord {
            currency: Currency::parse("JPY").unwrap_or_default(),
            allowed_origins: vec!["https://acme.example".into(), "https://*.acme.example".into()],
            secret_key_sha256: Some("cd".into()),
            ..SiteRecord::sample(settings)
        };
        let mut map = json!({
            "site": record.site,
            "currency": record.currency,
            "allowed_origins": record.allowed_origins,
            "settings": record.settings,
            "write_key": record.write_key,
            "has_secret_write_key": true,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
        });
        let json = |v: &PublicView<'_>| serde_json::to_string(v).and_then(|t| serde_json::from_str::<Value>(&t)).ok();
        assert_eq!(json(&public_view(&record)), Some(map.clone()));
        map["read_token"] = json!("rt_1");
        map["secret_write_key"] = json!("sk_1");
        let minted = PublicView {
            read_token: Some("rt_1".into()),
            secret_write_key: Some("sk_1".into()),
            ..public_view(&record)
        };
        assert_eq!(json(&minted), Some(map));
        assert!(!serde_json::to_string(&minted).unwrap_or_default().contains("salt"));
    }
}
