//! Workers KV layout (docs/design.md §5). Every key the Worker touches is named here, by the functions below
//! the [`Store`]: other modules never spell a key or a prefix.
//!
//! | key | value | written by |
//! |---|---|---|
//! | `site/{site}` | [`SiteRecord`]; the cron lists `site/` for every site ([`Store::site_ids`]) | admin PUT |
//! | `writekey/{key}` | [`IngestRecord`]: what ingest needs, so it costs one read | admin PUT |
//! | `secretkey/{sha256}` | [`IngestRecord`] of the secret write key (`via: secret`), by the key's SHA-256 | admin PUT |
//! | `readtoken/{sha256}` | site id, to tell "another site's token" (403) from "no token" (401) | admin PUT |
//! | `raw/{site}/{yyyy-mm-dd}/{ms}-{rand}-{bytes}` | one accepted request's (or consumer batch's) validated messages; `bytes` is the value's size, so reads are grouped under KV's bulk limit without a lookup | ingest, queue consumer |
//! | `spend/{site}` | the spend ledger (array) | admin spend routes |
//! | `rollup/{site}` | [`RollupRun`]: the last rollup's outcome (error or success), shown in reports and stats | rollup |
//!
//! The rolled-up state is not in KV: it is rows in the site's Durable Object (`site_object`, `sql_state`).

use crate::error::{ApiError, ApiResult};
use daytwo_shared::config::{IngestSettings, Settings};
use daytwo_shared::data_status::RollupRun;
use daytwo_shared::message::{KeyKind, Message};
use daytwo_shared::money::Currency;
use daytwo_shared::site_rules::{SECRET_KEY, WRITE_KEY};
use daytwo_shared::spend::SpendEntry;
use daytwo_shared::time::{Day, Timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::kv::KvStore;

/// Raw batches expire after this long; the rollup state keeps their aggregates.
pub const RAW_TTL_SECONDS: u64 = 400 * 86_400;

/// A site's configuration and credentials.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SiteRecord {
    pub site: String,
    pub currency: Currency,
    pub allowed_origins: Vec<String>,
    #[serde(deserialize_with = "via_value")]
    pub settings: Settings,
    pub write_key: String,
    /// SHA-256 of the read token; the token itself is shown once, at creation or rotation.
    pub read_token_sha256: String,
    /// Salt of the e-mail digests (secret, per site).
    pub email_salt: String,
    pub created_at: String,
    pub updated_at: String,
    /// Embed tokens carry the generation they were minted in; revoking (or rotating the site) moves it on, and
    /// every token of an earlier generation answers 401.
    #[serde(default)]
    pub embed_generation: u32,
    /// SHA-256 of the secret write key (`sk_…`, for servers: `KeyKind::Secret`); the key itself is shown once,
    /// when minted. `None` for a site created before secret keys: its next update mints one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_sha256: Option<String>,
}

/// The slice of a site's record that ingest needs, stored under its write key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IngestRecord {
    pub site: String,
    pub currency: Currency,
    pub allowed_origins: Vec<String>,
    #[serde(deserialize_with = "via_value")]
    pub ingest: IngestSettings,
    pub email_salt: String,
    /// Which of the site's keys this record is stored under: every message it brings carries it.
    #[serde(default)]
    pub via: KeyKind,
}

/// Reads a settings part through a `serde_json::Value`, as `Settings::from_json` reads a site's new settings:
/// the settings types' decoders are then compiled for one deserialiser only (they are the largest decoders of
/// the bundle, the Worker's cold start). Numbers come out the same (`float_roundtrip`); a stored record that
/// fails to read is an internal error either way.
fn via_value<'de, D: serde::Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<T, D::Error> {
    serde_json::from_value(serde_json::Value::deserialize(d)?).map_err(serde::de::Error::custom)
}

pub struct Store {
    kv: KvStore,
    ops: std::cell::Cell<KvOps>,
}

/// KV operations one request made; sent back in the `x-daytwo-kv-ops` header so costs are measured, not guessed.
#[derive(Debug, Clone, Copy, Default)]
pub struct KvOps {
    pub reads: u32,
    pub writes: u32,
    pub lists: u32,
    pub deletes: u32,
}

impl KvOps {
    /// Reads the header form written by `Display` (missing or bad fields count 0).
    pub fn parse(text: &str) -> KvOps {
        let mut ops = KvOps::default();
        for (name, value) in text.split(';').filter_map(|kv| kv.split_once('=')) {
            let n = value.trim().parse().unwrap_or(0);
            match name.trim() {
                "reads" => ops.reads = n,
                "writes" => ops.writes = n,
                "lists" => ops.lists = n,
                "deletes" => ops.deletes = n,
                _ => {}
            }
        }
        ops
    }
}

impl std::fmt::Display for KvOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reads={};writes={};lists={};deletes={}", self.reads, self.writes, self.lists, self.deletes)
    }
}

fn kv_err(context: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(&redact(context), e)
}

/// A KV key as it may appear in a log: a write key is a credential, so its key is never logged whole.
fn redact(key: &str) -> String {
    match key.strip_prefix(WRITE_KEY_PREFIX) {
        Some(k) => format!("{WRITE_KEY_PREFIX}{}…", k.chars().take(6).collect::<String>()),
        None => key.to_owned(),
    }
}

impl Store {
    pub fn new(kv: KvStore) -> Store {
        Store { kv, ops: std::cell::Cell::new(KvOps::default()) }
    }

    /// Adds operations made on this request's behalf elsewhere (by the site's Durable Object).
    pub fn add_ops(&self, other: KvOps) {
        self.count(|o| {
            o.reads += other.reads;
            o.writes += other.writes;
            o.lists += other.lists;
            o.deletes += other.deletes;
        });
    }

    pub fn ops(&self) -> KvOps {
        self.ops.get()
    }

    fn count(&self, f: impl FnOnce(&mut KvOps)) {
        let mut o = self.ops.get();
        f(&mut o);
        self.ops.set(o);
    }

    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> ApiResult<Option<T>> {
        self.count(|o| o.reads += 1);
        match self.kv.get(key).text().await.map_err(|e| kv_err(key, e))? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| kv_err(key, e)),
        }
    }

    pub async fn put_json<T: Serialize>(&self, key: &str, value: &T) -> ApiResult<()> {
        let text = serde_json::to_string(value).map_err(|e| kv_err(key, e))?;
        self.put_text(key, text, None).await
    }

    pub async fn put_text(&self, key: &str, text: String, ttl: Option<u64>) -> ApiResult<()> {
        self.count(|o| o.writes += 1);
        let mut put = self.kv.put(key, text).map_err(|e| kv_err(key, e))?;
        if let Some(ttl) = ttl {
            put = put.expiration_ttl(ttl);
        }
        put.execute().await.map_err(|e| kv_err(key, e))
    }

    /// Writes `text` under `key` expiring at `expiration` (Unix seconds) if given: a rewrite that keeps the
    /// original expiry instead of starting a new one.
    pub async fn put_text_expiring(&self, key: &str, text: String, expiration: Option<u64>) -> ApiResult<()> {
        self.count(|o| o.writes += 1);
        let mut put = self.kv.put(key, text).map_err(|e| kv_err(key, e))?;
        if let Some(at) = expiration {
            put = put.expiration(at);
        }
        put.execute().await.map_err(|e| kv_err(key, e))
    }

    /// One page of keys under `prefix` (at most `limit`), each with its expiry, and the cursor of the next
    /// page if there is one.
    pub async fn list_page(
        &self,
        prefix: &str,
        cursor: Option<String>,
        limit: usize,
    ) -> ApiResult<(Vec<(String, Option<u64>)>, Option<String>)> {
        let mut req = self.kv.list().prefix(prefix.to_owned()).limit(limit.clamp(1, 1000) as u64);
        if let Some(c) = cursor {
            req = req.cursor(c);
        }
        self.count(|o| o.lists += 1);
        let page = req.execute().await.map_err(|e| kv_err(prefix, e))?;
        let next = page.cursor.filter(|c| !page.list_complete && !c.is_empty());
        Ok((page.keys.into_iter().map(|k| (k.name, k.expiration)).collect(), next))
    }

    pub async fn delete(&self, key: &str) -> ApiResult<()> {
        self.count(|o| o.deletes += 1);
        self.kv.delete(key).await.map_err(|e| kv_err(key, e))
    }

    /// Every key under a prefix, in key order (KV lists lexicographically), following cursors.
    pub async fn list_all(&self, prefix: &str) -> ApiResult<Vec<String>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut req = self.kv.list().prefix(prefix.to_owned()).limit(1000);
            if let Some(c) = cursor.take() {
                req = req.cursor(c);
            }
            self.count(|o| o.lists += 1);
            let page = req.execute().await.map_err(|e| kv_err(prefix, e))?;
            out.extend(page.keys.into_iter().map(|k| k.name));
            match page.cursor {
                Some(c) if !page.list_complete && !c.is_empty() => cursor = Some(c),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Reads many raw batches: up to 100 keys and [`BULK_READ_BYTES`] (by the sizes in their names) per KV bulk
    /// read. A bulk read KV refuses (a group larger than its sizes said) is split in halves and read again, down
    /// to single reads, so one large value never fails the rest. Also returns how many stored batches could not
    /// be read (left out, logged, and counted in reports' `data_status`).
    pub async fn get_raw_batches(&self, keys: &[String]) -> ApiResult<(Vec<(String, Vec<Message>)>, u64)> {
        let mut out = Vec::with_capacity(keys.len());
        let mut unreadable = 0;
        // Groups still to read, the next one last.
        let mut todo: Vec<&[String]> = raw_read_groups(keys, 100, BULK_READ_BYTES);
        todo.reverse();
        while let Some(group) = todo.pop() {
            self.count(|o| o.reads += 1);
            let texts: Vec<(String, Option<String>)> = if let [key] = group {
                vec![(key.clone(), self.kv.get(key).text().await.map_err(|e| kv_err("raw read", e))?)]
            } else {
                match self.kv.get_bulk(group).text().await {
                    Ok(mut values) => group.iter().map(|k| (k.clone(), values.remove(k).flatten())).collect(),
                    Err(e) => {
                        worker::console_log!(
                            "bulk read of {} raw batches refused ({e}); reading it in halves",
                            group.len()
                        );
                        let (first, second) = group.split_at(group.len() / 2);
                        todo.extend([second, first]);
                        continue;
                    }
                }
            };
            for (key, text) in texts {
                let Some(text) = text else { continue };
                match serde_json::from_str::<Vec<Message>>(&text) {
                    Ok(batch) => out.push((key, batch)),
                    // A stored batch was validated at ingest; an unreadable one is logged and skipped.
                    Err(e) => {
                        unreadable += 1;
                        worker::console_error!("unreadable raw batch {key}: {e}");
                    }
                }
            }
        }
        Ok((out, unreadable))
    }

    /// The last rollup's outcome, if a rollup ever ran.
    pub async fn last_rollup(&self, site: &str) -> ApiResult<Option<RollupRun>> {
        self.get_json(&rollup_run_key(site)).await
    }

    /// The id of every site, in id order (the cron's fan-out).
    pub async fn site_ids(&self) -> ApiResult<Vec<String>> {
        let keys = self.list_all(SITE_PREFIX).await?;
        Ok(keys.iter().filter_map(|k| site_id_of_key(k)).map(str::to_owned).collect())
    }

    /// The site a read token belongs to, by the token's SHA-256.
    pub async fn read_token_site(&self, sha256: &str) -> ApiResult<Option<String>> {
        self.get_json(&read_token_key(sha256)).await
    }

    pub async fn site(&self, site: &str) -> ApiResult<Option<SiteRecord>> {
        self.get_json(&site_key(site)).await
    }

    pub async fn existing_site(&self, site: &str) -> ApiResult<SiteRecord> {
        self.site(site).await?.ok_or_else(|| ApiError::not_found("site_not_found", format!("no site {site:?}")))
    }

    /// The record of a public (`wk_…`) or secret (`sk_…`) write key; anything else is unknown without a lookup
    /// (`site_rules::KeyFormat::fits`), so arbitrary bearer strings never become KV keys.
    pub async fn ingest_record(&self, write_key: &str) -> ApiResult<Option<IngestRecord>> {
        if WRITE_KEY.fits(write_key) {
            return self.get_json(&write_key_key(write_key)).await;
        }
        if SECRET_KEY.fits(write_key) {
            return self.get_json(&secret_key_key(&crate::auth::sha256_hex(write_key))).await;
        }
        Ok(None)
    }

    /// The spend ledger, re-validated through `shared` on the way in (it is stored in its public JSON shape).
    pub async fn ledger(&self, site: &SiteRecord) -> ApiResult<Vec<SpendEntry>> {
        let Some(value) = self.get_json::<serde_json::Value>(&spend_key(&site.site)).await? else {
            return Ok(Vec::new());
        };
        daytwo_shared::spend::parse_spend_json(&value, &site.currency)
            .map_err(|e| ApiError::internal("stored ledger", e))
    }
}

const SITE_PREFIX: &str = "site/";
const WRITE_KEY_PREFIX: &str = "writekey/";

pub fn site_key(site: &str) -> String {
    format!("{SITE_PREFIX}{site}")
}

/// The site id a `site/{site}` key names; `None` for any other key.
pub fn site_id_of_key(key: &str) -> Option<&str> {
    key.strip_prefix(SITE_PREFIX)
}

/// A write key's record (what ingest needs of its site).
pub fn write_key_key(write_key: &str) -> String {
    format!("{WRITE_KEY_PREFIX}{write_key}")
}

/// A secret write key's record, by the key's SHA-256 (the key itself is never stored).
pub fn secret_key_key(sha256: &str) -> String {
    format!("secretkey/{sha256}")
}

/// A read token's site, by the token's SHA-256.
pub fn read_token_key(sha256: &str) -> String {
    format!("readtoken/{sha256}")
}

pub fn rollup_run_key(site: &str) -> String {
    format!("rollup/{site}")
}

pub fn spend_key(site: &str) -> String {
    format!("spend/{site}")
}

pub fn raw_prefix(site: &str) -> String {
    format!("raw/{site}/")
}

pub fn raw_day_prefix(site: &str, day: Day) -> String {
    format!("raw/{site}/{day}/")
}

/// `raw/{site}/{receive day}/{ms, 13 digits}-{random}`: names sort by receive time. With `random` empty, the
/// lowest name received at `received` (a listing's lower bound).
pub fn raw_key(site: &str, received: Timestamp, random: &str) -> String {
    format!("raw/{site}/{}/{:013}-{random}", received.day(), received.0.max(0))
}

/// The name of a raw batch of `value_bytes` bytes: [`raw_key`] with the size after a second `-`, so a reader
/// knows how much a group of keys holds before reading it ([`raw_read_groups`]).
pub fn raw_batch_key(site: &str, received: Timestamp, random: &str, value_bytes: usize) -> String {
    raw_key(site, received, &format!("{random}-{value_bytes}"))
}

/// The value size a raw key's name records; `None` for names written before sizes were recorded.
pub fn raw_value_bytes(key: &str) -> Option<u64> {
    let last = key.rsplit('/').next()?;
    let mut parts = last.split('-');
    parts.nth(2)?.parse().ok()
}

/// What a raw value without a recorded size is assumed to hold: direct ingest's largest body (500 KB) with
/// room. A group that turns out larger than KV allows is split when read (`Store::get_raw_batches`).
pub const UNKNOWN_RAW_BYTES: u64 = 512 * 1024;

/// Most bytes one KV bulk read asks for: KV answers a bulk read of more than 25 MB in total with an error
/// (Miniflare enforces the same), and a consumer batch's value can be 4 MiB.
pub const BULK_READ_BYTES: u64 = 16 * 1024 * 1024;

/// Splits `keys` (in order) into consecutive groups of at most `max_keys` keys and `max_bytes` bytes by their
/// recorded sizes; a key larger than `max_bytes` is a group of its own. Every key is in exactly one group.
pub fn raw_read_groups(keys: &[String], max_keys: usize, max_bytes: u64) -> Vec<&[String]> {
    let mut groups = Vec::new();
    let mut rest = keys;
    while !rest.is_empty() {
        let (group, after) = rest.split_at(raw_read_prefix(rest, max_keys, max_bytes));
        groups.push(group);
        rest = after;
    }
    groups
}

/// How many of `keys`, from the first, one read takes: at most `max_keys` keys and `max_bytes` (by the sizes
/// in their names), and at least one key whatever its size (0 only for no keys).
pub fn raw_read_prefix(keys: &[String], max_keys: usize, max_bytes: u64) -> usize {
    let mut bytes = 0u64;
    for (i, key) in keys.iter().enumerate() {
        let size = raw_value_bytes(key).unwrap_or(UNKNOWN_RAW_BYTES);
        if i > 0 && (i >= max_keys.max(1) || bytes.saturating_add(size) > max_bytes) {
            return i;
        }
        bytes = bytes.saturating_add(size);
    }
    keys.len()
}

/// Prefixes under `raw/{site}/{day of from}/` that together hold every raw key received from `from` to `to`
/// (same day; keys after `to` may be included) and none received more than a tenth of that span (at least
/// a second) before `from`: the receive time's leading digits, aligned blocks climbing from `from`, then one
/// block over the rest. At most 9 prefixes per decimal digit climbed, about 20 for any span. A day of many
/// keys (a bulk import: 39,000 at 100,000 accounts) is then listed from the checkpoint on, not whole.
pub fn raw_prefixes_between(site: &str, from: Timestamp, to: Timestamp) -> Vec<String> {
    let base = raw_day_prefix(site, from.day());
    let hi = to.0.max(from.0).max(0);
    let span = hi - from.0.max(0) + 1;
    let mut grain = 3u32;
    while grain < 13 && 10i64.pow(grain + 1) * 10 <= span {
        grain += 1;
    }
    let prefix = |start: i64, k: u32| format!("{base}{}", &format!("{start:013}")[..(13 - k) as usize]);
    let mut cur = from.0.max(0) / 10i64.pow(grain) * 10i64.pow(grain);
    let mut out = Vec::new();
    while cur <= hi {
        let rest = hi - cur + 1;
        let mut aligned = grain;
        while aligned < 13 && cur % 10i64.pow(aligned + 1) == 0 {
            aligned += 1;
        }
        if 10i64.pow(aligned) >= rest {
            // One block covers the rest: the smallest that does.
            let k = (grain..=aligned).find(|k| 10i64.pow(*k) >= rest).unwrap_or(aligned);
            out.push(prefix(cur, k));
            break;
        }
        out.push(prefix(cur, aligned));
        cur += 10i64.pow(aligned);
    }
    out
}

/// [`raw_prefixes_between`] `from` and `to` when nothing wanted was received from `quiet` to `from` (the last
/// rollup's hint: from its checkpoint's time, or its relist margin, up to what it listed through): the listing
/// may then start anywhere in that quiet stretch at no extra cost, and a span that starts on a round time (a
/// multiple of a large power of ten of milliseconds) is covered by a prefix or two instead of a climb of fine
/// ones. Of the round starts in the stretch (on `from`'s day) and `from` itself, the one needing the fewest
/// prefixes, the latest of those: never more than from `from`, and a quiet site's report after a bulk import
/// lists once instead of 5–6 times (each a scan of the whole namespace in Miniflare, a round trip in
/// production).
pub fn raw_prefixes_after_quiet(site: &str, from: Timestamp, quiet: Timestamp, to: Timestamp) -> Vec<String> {
    let floor = quiet.0.max(from.day().start().0);
    (0..=13u32)
        .map(|k| from.0.max(0) / 10i64.pow(k) * 10i64.pow(k))
        .filter(|start| *start >= floor)
        .chain([from.0])
        .map(|start| raw_prefixes_between(site, Timestamp(start), to))
        .enumerate()
        .min_by_key(|(i, p)| (p.len(), *i))
        .map_or_else(Vec::new, |(_, p)| p)
}

/// The receive time encoded in a raw key's name.
pub fn raw_key_time(key: &str) -> Option<Timestamp> {
    let last = key.rsplit('/').next()?;
    last.split('-').next()?.parse::<i64>().ok().map(Timestamp)
}

#[cfg(test)]
impl SiteRecord {
    /// A site's record for tests, with the given settings.
    pub fn sample(settings: Settings) -> SiteRecord {
        SiteRecord {
            site: "acme".into(),
            currency: Currency::default(),
            allowed_origins: vec!["https://acme.example".into()],
            settings,
            write_key: "wk_1".into(),
            read_token_sha256: "ab".into(),
            email_salt: "salt".into(),
            created_at: "2026-12-07T00:00:00Z".into(),
            updated_at: "2026-12-07T00:00:00Z".into(),
            embed_generation: 3,
            secret_key_sha256: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings parts read through a `Value` (`via_value`) come back as written, floats to the bit, and a
    /// record that lacks them is refused as before.
    #[test]
    fn records_read_back_their_settings() {
        let mut settings = Settings::default();
        settings.budget.tolerance_points = 0.1 + 0.2;
        settings.budget.what_if_pct = 1.0 / 3.0;
        settings.engagement.indicators[0].weight = 2.5e-7;
        settings.ingest.dedup_window_hours = 48;
        let record = SiteRecord::sample(settings.clone());
        let text = serde_json::to_string(&record).unwrap();
        let back: SiteRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back.settings, settings);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        let ingest = IngestRecord {
            site: "acme".into(),
            currency: Currency::default(),
            allowed_origins: Vec::new(),
            ingest: settings.ingest.clone(),
            email_salt: "salt".into(),
            via: KeyKind::Secret,
        };
        let back: IngestRecord = serde_json::from_str(&serde_json::to_string(&ingest).unwrap()).unwrap();
        assert_eq!(back.ingest, settings.ingest);
        let without: serde_json::Value = serde_json::from_str(&text.replace(r#""settings""#, r#""other""#)).unwrap();
        let e = serde_json::from_value::<SiteRecord>(without).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("missing field `settings`"), "{e}");
    }

    #[test]
    fn write_keys_are_never_logged_whole() {
        let key = format!("wk_{}", "0123456789abcdef".repeat(2));
        let logged = redact(&write_key_key(&key));
        assert_eq!(logged, "writekey/wk_012…");
        assert_eq!(redact("site/acme"), "site/acme");
    }

    /// The exact spellings: they are what is stored, so changing one strands every key already written.
    #[test]
    fn every_key_is_spelled_here_and_reads_back() {
        let t = Timestamp(1_790_000_000_123);
        assert_eq!(site_key("acme"), "site/acme");
        assert_eq!(write_key_key("wk_01"), "writekey/wk_01");
        assert_eq!(secret_key_key("5e"), "secretkey/5e");
        assert_eq!(read_token_key("7f"), "readtoken/7f");
        assert_eq!(rollup_run_key("acme"), "rollup/acme");
        assert_eq!(spend_key("acme"), "spend/acme");
        assert_eq!(raw_prefix("acme"), "raw/acme/");
        assert_eq!(raw_day_prefix("acme", t.day()), "raw/acme/2026-09-21/");
        assert_eq!(raw_key("acme", t, ""), "raw/acme/2026-09-21/1790000000123-");
        assert_eq!(raw_batch_key("acme", t, "a1b2c3", 42), "raw/acme/2026-09-21/1790000000123-a1b2c3-42");
        // Before 1970 the time is clamped, so a name never holds a minus sign that would break its parsing.
        assert_eq!(raw_key("acme", Timestamp(-5), "r"), "raw/acme/1969-12-31/0000000000000-r");

        for id in ["acme", "a", "a-b_c", "0"] {
            assert_eq!(site_id_of_key(&site_key(id)), Some(id));
            let key = raw_batch_key(id, t, "r", 7);
            assert_eq!((raw_key_time(&key), raw_value_bytes(&key)), (Some(t), Some(7)), "{key}");
            assert!(key.starts_with(&raw_day_prefix(id, t.day())) && key.starts_with(&raw_prefix(id)), "{key}");
        }
        for other in [spend_key("acme"), rollup_run_key("acme"), raw_prefix("acme"), "sites/acme".into()] {
            assert_eq!(site_id_of_key(&other), None, "{other}");
        }
        // A site's raw prefix holds only its own batches, not those of a site whose id starts with its id.
        assert!(!raw_batch_key("acme-eu", t, "r", 1).starts_with(&raw_prefix("acme")));
        assert_eq!(
            (raw_key_time("raw/acme/2026-09-21/x-r"), raw_value_bytes("raw/acme/2026-09-21/1-r-x")),
            (None, None)
        );
    }

    #[test]
    fn prefixes_cover_every_key_received_since_a_time_and_little_before() {
        let day_start = Day(20_428).start().0;
        let cases = [
            (0, 1),
            (0, 86_399_999),
            (123_456, 123_456),
            (59_999, 60_001),
            (3_599_000, 4_200_000),
            (99, 86_000_000),
            (37_123_457, 37_303_457),
            (9_999_999, 13_703_000),
        ];
        for (from_off, to_off) in cases {
            let (from, to) = (Timestamp(day_start + from_off), Timestamp(day_start + to_off));
            let prefixes = raw_prefixes_between("s", from, to);
            assert!(!prefixes.is_empty() && prefixes.len() <= 40, "{}: {prefixes:?}", prefixes.len());
            let step = ((to.0 - from.0) / 997).max(1);
            let mut t = from.0;
            while t <= to.0 + step {
                let key = raw_key("s", Timestamp(t.min(to.0)), "r");
                assert!(prefixes.iter().any(|p| key.starts_with(p)), "{key} not under {prefixes:?}");
                t += step;
            }
            // Nothing received more than a tenth of the span (and a second) before `from`.
            let slack = ((to.0 - from.0 + 1) / 10).max(1000);
            let early = raw_key("s", Timestamp(from.0 - slack - 1), "r");
            assert!(!prefixes.iter().any(|p| early.starts_with(p)), "{early} under {prefixes:?}");
        }
    }

    /// A listing that may start anywhere in a quiet stretch covers every key from `from` to `to`, reaches back
    /// no further than the stretch (nor to the day before), never takes more prefixes than listing from `from`,
    /// and after a long quiet stretch takes a prefix or two where listing from `from` takes a climb of many.
    #[test]
    fn a_quiet_stretch_lets_the_listing_start_on_a_round_time() {
        let day_start = Day(20_428).start().0;
        // (quiet, from, to) as offsets into the day; the last number is the most prefixes expected.
        let cases = [
            (0, 18_000_123, 18_120_123, 2),
            (6_000_000, 25_321_987, 25_441_987, 2),
            (25_000_000, 25_321_987, 25_441_987, 3),
            (25_321_987, 25_321_987, 25_441_987, 40),
            (-5_000_000, 1_234, 121_234, 2),
            (86_000_000, 86_000_000, 86_399_999, 40),
            // A relist margin of 10 minutes before a checkpoint, the hint a minute before now.
            (40_000_000, 40_540_000, 40_660_000, 40),
            (40_012_345, 40_552_345, 40_672_345, 40),
        ];
        for (quiet_off, from_off, to_off, most) in cases {
            let (quiet, from, to) =
                (Timestamp(day_start + quiet_off), Timestamp(day_start + from_off), Timestamp(day_start + to_off));
            let prefixes = raw_prefixes_after_quiet("s", from, quiet, to);
            let fine = raw_prefixes_between("s", from, to);
            assert!(!prefixes.is_empty() && prefixes.len() <= most, "{} prefixes: {prefixes:?}", prefixes.len());
            assert!(
                prefixes.len() <= fine.len(),
                "{} prefixes after the quiet stretch, {} from `from`",
                prefixes.len(),
                fine.len()
            );
            let step = ((to.0 - from.0) / 997).max(1);
            let mut t = from.0;
            while t <= to.0 {
                let key = raw_key("s", Timestamp(t), "r");
                assert!(prefixes.iter().any(|p| key.starts_with(p)), "{key} not under {prefixes:?}");
                t += step;
            }
            // Nothing from before the stretch, beyond what listing from `from` itself would reach.
            let reach = |ps: &[String]| {
                (0..=from.0 - day_start)
                    .rev()
                    .step_by(997)
                    .take_while(|off| {
                        let key = raw_key("s", Timestamp(day_start + off), "r");
                        ps.iter().any(|p| key.starts_with(p))
                    })
                    .last()
                    .map_or(from.0, |off| day_start + off)
            };
            let earliest = quiet.0.max(day_start).min(reach(&fine));
            assert!(reach(&prefixes) >= earliest - 997, "reaches back to {} before {}", reach(&prefixes), earliest);
        }
    }

    #[test]
    fn raw_keys_carry_their_size_and_still_sort_and_parse_by_time() {
        let t = Timestamp(1_790_000_000_123);
        let key = raw_batch_key("s", t, "a1b2c3", 4_194_304);
        assert_eq!((raw_value_bytes(&key), raw_key_time(&key)), (Some(4_194_304), Some(t)));
        assert!(key.as_str() > raw_key("s", t, "").as_str(), "{key} sorts before its own time's lower bound");
        assert!(key < raw_batch_key("s", Timestamp(t.0 + 1), "000000", 1), "names no longer sort by time");
        // A name written before sizes were recorded has none.
        assert_eq!(raw_value_bytes(&raw_key("s", t, "a1b2c3")), None);
    }

    #[test]
    fn read_groups_keep_every_key_once_in_order_within_their_bounds() {
        let t = Timestamp(1_790_000_000_000);
        let sizes = [4_194_304u64, 4_194_304, 100, 3_000_000, 9_000_000, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10];
        let mut keys: Vec<String> = sizes
            .iter()
            .enumerate()
            .map(|(i, b)| raw_batch_key("s", Timestamp(t.0 + i as i64), "r", *b as usize))
            .collect();
        keys.push(raw_key("s", Timestamp(t.0 + 99), "old"));
        for (max_keys, max_bytes) in [(10, 8 * 1024 * 1024), (100, 16 * 1024 * 1024), (3, 1), (1, u64::MAX)] {
            let groups = raw_read_groups(&keys, max_keys, max_bytes);
            assert_eq!(groups.concat(), keys, "keys lost, repeated or reordered");
            for g in &groups {
                let bytes: u64 = g.iter().map(|k| raw_value_bytes(k).unwrap_or(UNKNOWN_RAW_BYTES)).sum();
                assert!(!g.is_empty() && g.len() <= max_keys, "{} keys in a group of at most {max_keys}", g.len());
                assert!(g.len() == 1 || bytes <= max_bytes, "{bytes} bytes in a group of at most {max_bytes}");
            }
        }
        // Two consumer batches of 4 MiB fill a rollup chunk; a third starts the next.
        let groups = raw_read_groups(&keys, 10, 8 * 1024 * 1024);
        assert_eq!(groups[0].len(), 2, "{groups:?}");
        assert!(raw_read_groups(&[], 10, 1).is_empty());
        // A report's tail is the first group: the prefix one read takes.
        assert_eq!(raw_read_prefix(&keys, 10, 8 * 1024 * 1024), 2);
        assert_eq!(raw_read_prefix(&keys[2..], 10, 8 * 1024 * 1024), groups[1].len());
        assert_eq!(raw_read_prefix(&keys, 3, 1), 1, "one key is read whatever its size");
        assert_eq!(raw_read_prefix(&[], 3, 1), 0);
    }

    #[test]
    fn operation_counts_travel_in_a_header_and_back() {
        let ops = KvOps { reads: 3, writes: 2, lists: 1, deletes: 7 };
        let back = KvOps::parse(&ops.to_string());
        assert_eq!((back.reads, back.writes, back.lists, back.deletes), (3, 2, 1, 7));
        let bad = KvOps::parse("reads=x;nonsense;lists=4");
        assert_eq!((bad.reads, bad.lists), (0, 4));
    }
}
