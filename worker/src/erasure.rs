//! Erasure that holds (runs in the site's object): of an account (`DELETE …/accounts/{id}`: every identity
//! of it) or of one person (`DELETE …/people/{id}`: a user and the visitor and previous ids that became them,
//! leaving their account to its other members).
//!
//! | where | what | why |
//! |---|---|---|
//! | `erased(digest, at)` | SHA-256 of the site's salt and an erased identity key | a durable record every later fold and report applies: a message naming an erased identity (`shared::rollup::identity_keys`) is dropped, whether it was in flight during the erasure, redelivered, or ingested later; no id is kept in clear |
//! | `scrub_key(key)` | a raw batch a fold found erased messages in | rewritten without them by the next scrub step |
//! | `unfolded(id)` | the `messageId` of an erased message whose contribution is not in the rows: dropped by a fold, or taken back out by the walk | the walk takes a message out once, whatever batches repeat it, and never one that was not folded |
//! | `meta('scrub')` | [`Scrub`]: the walk over the raw batches folded before the erasure | resumable: a step reads a page of keys (a KV list cursor) and rewrites those holding erased messages, so no run outgrows 1,000 KV operations whatever the site's history; a rollup run takes a step after its backlog and answers `more` until the walk is done |
//!
//! The erasure itself is one transaction: the identity rows and their links go, the record is written, the
//! walk restarts, the read model is retired. Requests to the object interleave only at awaits, and a rollup
//! chunk reads the record after its last await, so a rollup that read raw batches before the erasure cannot
//! bring the data back. A rewritten raw batch keeps its original expiry (from the KV listing), so erasure
//! never extends how long anything is kept.

use crate::auth::sha256_hex;
use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::site_object::Limits;
use crate::sql_state::{SqlState, Write, from_text, text, to_text};
use crate::store::{self, SiteRecord, Store};
use daytwo_shared::identity::{self, IdentityKey, IdentityKind};
use daytwo_shared::message::Message;
use daytwo_shared::order;
use daytwo_shared::rollup::{Classifier, IdentityRecord, RollupState, identity_keys, identity_of};
use daytwo_shared::time::Day;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use worker::Response;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS erased(digest TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS scrub_key(key TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS unfolded(id TEXT PRIMARY KEY);
";

/// Raw keys a scrub step reads at most (one KV list page; the object's `Limits` may lower it).
pub const SCRUB_PAGE_KEYS: usize = 1000;
/// KV lists a step makes at most (empty days cost one each).
const SCRUB_LISTS_PER_STEP: usize = 30;

/// What is erased: a whole account, or one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Account,
    Person,
}

/// The site's erasure record, loaded for one fold (after its last await).
///
/// A person's activity inside an account that stays (a message with their user id and the account's group
/// id is recorded under the account) is taken back out of the account's rows by the walk
/// (`RollupState::unfold`), so the figures are those of never having received it.
pub struct Erased {
    salt: String,
    digests: HashSet<String>,
}

fn digest(salt: &str, key: &str) -> String {
    sha256_hex(&format!("{salt}\n{key}"))
}

impl Erased {
    pub fn load(db: &SqlState, site: &SiteRecord) -> ApiResult<Erased> {
        let rows = db.rows("SELECT digest FROM erased", Vec::new())?;
        let digests = rows.iter().filter_map(|r| r.first().and_then(text).map(str::to_owned)).collect();
        Ok(Erased { salt: site.email_salt.clone(), digests })
    }

    fn is_erased(&self, key: &str) -> bool {
        self.digests.contains(&digest(&self.salt, key))
    }

    /// Whether `m` names an erased identity.
    pub fn hits(&self, m: &Message) -> bool {
        !self.digests.is_empty() && identity_keys(m).iter().any(|k| self.digests.contains(&digest(&self.salt, k)))
    }
}

/// The walk over raw batches folded before the last erasure.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Scrub {
    /// The last raw key it must read (the checkpoint when the erasure was made; later keys are scrubbed as
    /// they are folded).
    through: String,
    /// The receipt day being walked, and the KV list cursor within it; `None` before the first step.
    day: Option<Day>,
    cursor: Option<String>,
}

fn scrub_meta(db: &SqlState) -> ApiResult<Option<Scrub>> {
    let rows = db.rows("SELECT v FROM meta WHERE k = 'scrub'", Vec::new())?;
    rows.first().map(|r| from_text(r.first(), "scrub")).transpose()
}

fn write_scrub(s: &Scrub) -> ApiResult<Write> {
    Ok(SqlState::set_meta("scrub", serde_json::to_string(s).map_err(|e| ApiError::internal("scrub", e))?))
}

/// Records that a folded raw batch held erased messages (in the fold's transaction).
pub fn mark_for_scrub(key: &str) -> Write {
    Write::new("INSERT OR IGNORE INTO scrub_key(key) VALUES (?)", vec![key.into()])
}

/// `DELETE …/accounts/{id}` or `DELETE …/people/{id}`: rolls up, erases in one transaction, and takes the
/// first scrub step; later rollup runs finish the walk.
pub async fn erase(
    store: &Store,
    db: &SqlState,
    site: &SiteRecord,
    id: &str,
    target: Target,
    limits: &Limits,
) -> ApiResult<Response> {
    let now = http::now();
    crate::rollup::run_and_record(store, db, site, now, limits).await?;
    // Ids sent as e-mail addresses are stored under their digest token.
    let id = &daytwo_shared::privacy::stored_id(id, &site.email_salt);
    let (key, doomed) = match target {
        Target::Account => {
            let mut found = None;
            for candidate in daytwo_shared::query::account_key_candidates(id) {
                if !db.member_keys(&candidate)?.is_empty() {
                    found = Some(candidate);
                    break;
                }
            }
            let key = found.ok_or_else(|| ApiError::not_found("account_not_found", format!("no account {id:?}")))?;
            let doomed = db.account_keys(&key)?;
            (key, doomed)
        }
        Target::Person => {
            let user = identity::id_of(id, IdentityKind::User).or_else(|| id.strip_prefix("user:")).unwrap_or(id);
            let doomed = db.person_keys(user)?;
            if !doomed.iter().any(|k| db.knows(k).unwrap_or(false)) {
                return Err(ApiError::not_found("person_not_found", format!("no user {user:?}")));
            }
            (IdentityKey::user(user).into_string(), doomed)
        }
    };
    // No await from here to the commit.
    let (mut writes, doomed) = db.erase_identities(doomed)?;
    for k in &doomed {
        writes.push(Write::new(
            "INSERT OR IGNORE INTO erased(digest, at) VALUES (?, ?)",
            vec![digest(&site.email_salt, k).into(), now.0.into()],
        ));
        writes.push(Write::new("DELETE FROM visitor_seen WHERE key = ?", vec![k.as_str().into()]));
    }
    let through = match (scrub_meta(db)?, db.checkpoint()?) {
        (Some(s), Some(c)) => s.through.max(c),
        (Some(s), None) => s.through,
        (None, c) => c.unwrap_or_default(),
    };
    writes.push(write_scrub(&Scrub { through, day: None, cursor: None })?);
    // The read model held the erased identities: the next rollup rebuilds it.
    writes.push(crate::read_model::invalidate());
    // Deleting never grows the database: no cap applies.
    db.commit(writes, u64::MAX)?;
    let (complete, removed) = scrub_step(store, db, site, limits.scrub_page_keys).await?;
    http::json(
        200,
        &json!({
            "erased": key,
            "identities": doomed.len(),
            "raw_messages_removed": removed,
            "raw_scrub_complete": complete,
        }),
    )
}

/// Rewrites `key` without erased messages, keeping its expiry; returns how many messages went.
///
/// The walk (`unfold`: a batch folded before the erasure) first takes the erased messages' contributions out
/// of the rows that stay, in one transaction with their ids in `unfolded`, before the batch is rewritten:
/// cut between the two, the next step finds the batch unchanged and `unfolded` says what is done.
async fn scrub_key(
    store: &Store,
    db: &SqlState,
    site: &SiteRecord,
    key: &str,
    batch: Vec<Message>,
    expiration: Option<u64>,
    unfold: bool,
) -> ApiResult<u64> {
    let erased = Erased::load(db, site)?;
    if unfold {
        unfold_once(db, site, &erased, batch.iter().filter(|m| erased.hits(m)).collect())?;
    }
    let before = batch.len();
    let keep: Vec<Message> = batch.into_iter().filter(|m| !erased.hits(m)).collect();
    let removed = (before - keep.len()) as u64;
    if removed == 0 {
        return Ok(0);
    }
    if keep.is_empty() {
        store.delete(key).await?;
    } else {
        let text = serde_json::to_string(&keep).map_err(|e| ApiError::internal("serialise", e))?;
        store.put_text_expiring(key, text, expiration).await?;
    }
    Ok(removed)
}

/// One bounded step of scrubbing: the raw batches folds marked, then a page of the walk. Returns whether
/// nothing is left to scrub, and how many messages went.
pub async fn scrub_step(store: &Store, db: &SqlState, site: &SiteRecord, page: usize) -> ApiResult<(bool, u64)> {
    let mut removed = 0u64;
    let marked: Vec<String> = db
        .rows("SELECT key FROM scrub_key ORDER BY key LIMIT ?", vec![(page as i64).into()])?
        .iter()
        .filter_map(|r| r.first().and_then(text).map(str::to_owned))
        .collect();
    for key in &marked {
        let (listed, _) = store.list_page(key, None, 1).await?;
        let expiration = listed.iter().find(|(k, _)| k == key).and_then(|(_, e)| *e);
        let (batches, _) = store.get_raw_batches(std::slice::from_ref(key)).await?;
        for (k, batch) in batches {
            removed += scrub_key(store, db, site, &k, batch, expiration, false).await?;
        }
        db.commit(vec![Write::new("DELETE FROM scrub_key WHERE key = ?", vec![key.as_str().into()])], u64::MAX)?;
    }
    let Some(mut walk) = scrub_meta(db)? else {
        return Ok((marked.len() < page && pending_marks(db)? == 0, removed));
    };
    let last_day = store::raw_key_time(&walk.through).map(|t| t.day());
    let mut read = 0usize;
    let mut finished = last_day.is_none();
    for _ in 0..SCRUB_LISTS_PER_STEP {
        if finished || read >= page {
            break;
        }
        let day = match walk.day {
            Some(d) => d,
            None => {
                // The first receipt day that still holds raw batches.
                let (first, _) = store.list_page(&store::raw_prefix(&site.site), None, 1).await?;
                match first.first().and_then(|(k, _)| store::raw_key_time(k)) {
                    Some(t) => t.day(),
                    None => {
                        finished = true;
                        break;
                    }
                }
            }
        };
        if last_day.is_some_and(|l| day > l) {
            finished = true;
            break;
        }
        let (keys, next) =
            store.list_page(&store::raw_day_prefix(&site.site, day), walk.cursor.take(), page - read).await?;
        // Keys sort by receipt time: one past `through` ends the walk.
        let past_through = keys.iter().any(|(k, _)| *k > walk.through);
        let wanted: Vec<(String, Option<u64>)> = keys.into_iter().filter(|(k, _)| *k <= walk.through).collect();
        read += wanted.len();
        let names: Vec<String> = wanted.iter().map(|(k, _)| k.clone()).collect();
        // At most a rollup chunk's bytes at a time, so a page of large consumer batches stays within memory.
        for group in store::raw_read_groups(&names, 100, crate::rollup::CHUNK_BYTES) {
            let (batches, _) = store.get_raw_batches(group).await?;
            for (k, batch) in batches {
                let expiration = wanted.iter().find(|(w, _)| *w == k).and_then(|(_, e)| *e);
                removed += scrub_key(store, db, site, &k, batch, expiration, true).await?;
            }
        }
        match next {
            Some(c) if !past_through => {
                walk.day = Some(day);
                walk.cursor = Some(c);
            }
            _ => {
                walk.day = Some(day.plus(1));
                walk.cursor = None;
                finished = past_through || last_day.is_some_and(|l| day >= l);
            }
        }
        db.commit(vec![write_scrub(&walk)?], u64::MAX)?;
    }
    if finished {
        db.commit(vec![Write::new("DELETE FROM meta WHERE k = 'scrub'", Vec::new())], u64::MAX)?;
    }
    Ok((finished && pending_marks(db)? == 0, removed))
}

fn pending_marks(db: &SqlState) -> ApiResult<i64> {
    Ok(db
        .rows("SELECT COUNT(*) FROM scrub_key", Vec::new())?
        .first()
        .and_then(|r| r.first())
        .and_then(crate::sql_state::int)
        .unwrap_or(0))
}

/// For `stats`: erased identities, and whether raw batches are still being scrubbed.
pub fn status(db: &SqlState) -> ApiResult<(i64, bool)> {
    let erased = db
        .rows("SELECT COUNT(*) FROM erased", Vec::new())?
        .first()
        .and_then(|r| r.first())
        .and_then(crate::sql_state::int)
        .unwrap_or(0);
    Ok((erased, scrub_meta(db)?.is_some() || pending_marks(db)? > 0))
}

/// Drops the messages of erased identities from a fold's messages. Returns the raw keys that held any (to
/// rewrite) and the ids of those dropped (never folded: the walk must not take them out).
pub fn filter<'a>(
    erased: &Erased,
    batches: &'a [(String, Vec<Message>)],
    fresh: &mut Vec<&'a Message>,
) -> (BTreeSet<String>, Vec<String>) {
    if erased.digests.is_empty() {
        return (BTreeSet::new(), Vec::new());
    }
    let hit = order::set(fresh.iter().filter(|m| erased.hits(m)).map(|m| m.message_id.as_str()));
    fresh.retain(|m| !hit.contains(m.message_id.as_str()));
    let keys = order::set(batches.iter().filter(|(_, b)| b.iter().any(|m| erased.hits(m))).map(|(k, _)| k.clone()));
    (keys, hit.into_iter().map(str::to_owned).collect())
}

/// Records erased messages a fold dropped (in the fold's transaction).
pub fn never_folded(id: &str) -> Write {
    Write::new("INSERT OR IGNORE INTO unfolded(id) VALUES (?)", vec![id.into()])
}

/// Takes the erased messages `hits` (of a batch folded before the erasure) back out of the rows, each once.
fn unfold_once(db: &SqlState, site: &SiteRecord, erased: &Erased, hits: Vec<&Message>) -> ApiResult<()> {
    if hits.is_empty() {
        return Ok(());
    }
    let classifier = Classifier::new(&site.settings.mapping);
    let mut state = RollupState::default();
    let mut rows: BTreeMap<String, IdentityRecord> = BTreeMap::new();
    let mut days: BTreeSet<Day> = BTreeSet::new();
    let mut writes = Vec::new();
    let mut done = HashSet::new();
    for m in hits {
        let id = m.message_id.as_str();
        if !done.insert(id) || !db.rows("SELECT 1 FROM unfolded WHERE id = ?", vec![id.into()])?.is_empty() {
            continue;
        }
        writes.push(never_folded(id));
        let identity = identity_of(m);
        // An erased identity's own row is gone; the day's site totals still count the message.
        if !erased.is_erased(&identity) && !rows.contains_key(&identity) {
            let found = db.rows("SELECT record FROM identity WHERE key = ?", vec![identity.as_str().into()])?;
            if let Some(row) = found.first() {
                let record: IdentityRecord = from_text(row.first(), "identity")?;
                state.identities.insert(identity.clone(), record.clone());
                rows.insert(identity.clone(), record);
            }
        }
        let day = m.timestamp.day();
        if days.insert(day)
            && let Some(row) = db.rows("SELECT v FROM daily WHERE day = ?", vec![day.0.into()])?.first()
        {
            state.daily.insert(day, from_text(row.first(), "daily")?);
        }
        state.unfold(m, &classifier);
    }
    for (key, original) in rows {
        // A row left without activity keeps its name and modules, with no days: no report counts it.
        let record = state.identities.remove(&key).unwrap_or(IdentityRecord { days: Default::default(), ..original });
        writes.push(Write::new(
            "UPDATE identity SET record = ? WHERE key = ?",
            vec![to_text(&record)?, key.as_str().into()],
        ));
    }
    for day in days {
        match state.daily.get(&day) {
            Some(d) => writes.push(Write::new(
                "INSERT INTO daily(day, v) VALUES (?, ?) ON CONFLICT(day) DO UPDATE SET v = excluded.v",
                vec![day.0.into(), to_text(d)?],
            )),
            None => writes.push(Write::new("DELETE FROM daily WHERE day = ?", vec![day.0.into()])),
        }
    }
    // The accounts changed: the read model is rebuilt once the scrub is done.
    writes.push(crate::read_model::invalidate());
    db.commit(writes, u64::MAX)
}
