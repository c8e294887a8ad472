//! The rollup: folds new raw batches into the site's rows (`sql_state`) through `shared`, with a checkpoint.
//!
//! It runs inside the site's Durable Object (`site_object`), the one writer of those rows. Idempotent by
//! construction: it re-lists a safety margin before the checkpoint (KV lists are eventually consistent) and
//! the `seen` table drops anything already folded, so two runs at once, or a run repeated after a crash,
//! count every message once.

use crate::erasure;
use crate::error::{ApiError, ApiResult};
use crate::read_model;
use crate::site_object::Limits;
use crate::sql_state::{Overlay, SqlState, Write};
use crate::store::{self, SiteRecord, Store};
use daytwo_shared::data_status::RollupRun;
use daytwo_shared::message::Message;
use daytwo_shared::rollup::{Classifier, RollupState};
use daytwo_shared::time::{Day, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Keys within this much before the checkpoint are listed again.
const RELIST_MARGIN_MS: i64 = 10 * 60 * 1000;
/// Most raw batches one run folds: at 100 messages a batch about 20 s of CPU on this project's machines
/// (BENCHMARKS.md), under the platform's 30 s default per request; `more: true` and the next run continues.
pub const MAX_KEYS_PER_RUN: usize = 1000;

#[derive(Debug, Serialize, Deserialize)]
pub struct RollupOutcome {
    pub site: String,
    pub raw_keys_read: usize,
    pub messages_folded: u64,
    pub duplicates_ignored: u64,
    pub checkpoint: Option<String>,
    /// More is waiting: raw batches (the run stopped at its limit) or the rest of the read model's rebuild.
    pub more: bool,
    /// Today's read model is ready (else reports take the full path until a later run completes it).
    #[serde(default)]
    pub read_model_ready: bool,
    /// Anonymous visitors moved into the site's visitor pool by this run (`visitors`).
    #[serde(default)]
    pub visitors_compacted: usize,
}

/// The receive time the next run lists from: the margin before the checkpoint.
fn relist_from(checkpoint: &str) -> Timestamp {
    store::raw_key_time(checkpoint).map_or(Timestamp(0), |t| Timestamp(t.0 - RELIST_MARGIN_MS))
}

/// How far behind a write KV's listing may show it (Cloudflare documents up to 60 s).
const LISTING_LAG_MS: i64 = 60_000;

/// What a complete rollup run learnt about the raw keys after its checkpoint (`meta('tail_hint')`), so a
/// report lists a few seconds of keys instead of everything since the checkpoint: nothing unfolded was received
/// up to `listed_through` (the run's clock less [`LISTING_LAG_MS`]), and whether the checkpoint's day holds
/// more keys than one page (`large_day`: then the report skips that page and lists by prefixes at once).
/// Valid only while the checkpoint is the one it names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TailHint {
    pub checkpoint: String,
    pub listed_through: Timestamp,
    pub large_day: Option<i32>,
}

impl TailHint {
    /// The hint for `checkpoint`, if the last complete run left one for it.
    pub fn load(db: &SqlState, checkpoint: Option<&str>) -> ApiResult<Option<TailHint>> {
        let Some(cp) = checkpoint else { return Ok(None) };
        let hint: Option<TailHint> = db.meta("tail_hint")?.and_then(|t| serde_json::from_str(&t).ok());
        Ok(hint.filter(|h| h.checkpoint == cp))
    }
}

/// The last run's outcome as the object recorded it, else as KV holds it (a run recorded before the object
/// kept a copy).
pub async fn last_run(store: &Store, db: &SqlState, site: &str) -> ApiResult<Option<RollupRun>> {
    match db.meta("last_run")?.and_then(|t| serde_json::from_str(&t).ok()) {
        Some(run) => Ok(Some(run)),
        None => store.last_rollup(site).await,
    }
}

/// Raw keys listed since a checkpoint, and whether the first day listed needed more than one page.
pub struct Listed {
    pub keys: Vec<String>,
    pub large_day: Option<Day>,
}

/// Raw keys of `site` newer than `after`, in order; all keys when there is no checkpoint. A rollup lists
/// from the relist margin before the checkpoint (`margin`: keys an eventually consistent listing showed
/// late); a report's tail from the checkpoint itself, or from where the last complete run's `hint` says
/// nothing is left.
pub async fn pending_keys(
    store: &Store,
    site: &str,
    after: Option<&str>,
    now: Timestamp,
    margin: bool,
    hint: Option<&TailHint>,
) -> ApiResult<Listed> {
    let Some(checkpoint) = after else {
        return Ok(Listed { keys: store.list_all(&store::raw_prefix(site)).await?, large_day: None });
    };
    // Without the hint, everything from `quiet` on is wanted; with it, nothing unfolded was received from
    // `quiet` up to its `listed_through`, so listing may start anywhere in that quiet stretch.
    let quiet = if margin { relist_from(checkpoint) } else { store::raw_key_time(checkpoint).unwrap_or(Timestamp(0)) };
    let mut from_time = quiet;
    if let Some(h) = hint {
        from_time = from_time.max(h.listed_through);
    }
    let from_key = store::raw_key(site, from_time, "");
    let mut keys = Vec::new();
    let mut large_day = None;
    let mut day: Day = from_time.day();
    while day <= now.day() {
        let whole_day = store::raw_day_prefix(site, day);
        if day == from_time.day() {
            // The first day: one page of it first, unless the hint says it is larger; a day of more keys
            // than that is listed from `from_time` on (`raw_prefixes_between`; a minute's slack past `now`
            // keeps keys of an isolate whose clock runs a little ahead).
            let known_large = hint.is_some_and(|h| h.large_day == Some(day.0));
            let (page, more) = if known_large {
                (Vec::new(), Some(String::new()))
            } else {
                store.list_page(&whole_day, None, 1000).await?
            };
            if more.is_none() {
                keys.extend(page.into_iter().map(|(k, _)| k).filter(|k| *k >= from_key));
            } else {
                large_day = Some(day);
                let day_end = Timestamp(day.plus(1).start().0 - 1);
                let to = if day == now.day() { Timestamp((now.0 + 60_000).min(day_end.0)) } else { day_end };
                for prefix in store::raw_prefixes_after_quiet(site, from_time, quiet, to) {
                    keys.extend(store.list_all(&prefix).await?.into_iter().filter(|k| *k >= from_key));
                }
            }
        } else {
            keys.extend(store.list_all(&whole_day).await?);
        }
        day = day.plus(1);
    }
    Ok(Listed { keys, large_day })
}

/// Raw batches per bulk read and per transaction, and the most bytes they hold together (by the sizes in their
/// names, `store::raw_read_groups`): the rollup holds at most 10 raw values and 8 MiB of them (or one value, at
/// most 4 MiB) and the rows they touch, whatever the backlog or the shape of the batches (a direct request's
/// value is at most 500 KB, a queue consumer batch's up to 4 MiB).
pub const CHUNK_KEYS: usize = 10;
pub const CHUNK_BYTES: u64 = 8 * 1024 * 1024;

/// The messages of `batches` not folded before (by the `seen` table) and not repeated among themselves.
pub fn fresh_messages<'a>(db: &SqlState, batches: &'a [(String, Vec<Message>)]) -> ApiResult<Vec<&'a Message>> {
    let ids: Vec<&str> = batches.iter().flat_map(|(_, b)| b.iter().map(|m| m.message_id.as_str())).collect();
    let seen = db.already_seen(&ids)?;
    let mut taken = HashSet::new();
    Ok(batches
        .iter()
        .flat_map(|(_, b)| b.iter())
        .filter(|m| !seen.contains(&m.message_id) && taken.insert(m.message_id.as_str()))
        .collect())
}

/// Folds new raw batches into the site's rows, a chunk per transaction: each commit moves the rows, the
/// dedup index and the checkpoint together, so a run cut anywhere (a crash, a limit, a full cap) leaves a
/// consistent state that the next run continues from.
pub async fn run(
    store: &Store,
    db: &SqlState,
    site: &SiteRecord,
    now: Timestamp,
    limits: &Limits,
) -> ApiResult<RollupOutcome> {
    let mut checkpoint = db.checkpoint()?;
    let Listed { keys: listed, large_day } =
        pending_keys(store, &site.site, checkpoint.as_deref(), now, true, None).await?;
    // Keys re-listed from the margin before the checkpoint are read only if they were never folded (late
    // arrivals of an eventually consistent listing): a backlog inside the margin cannot stall the run.
    let done = db.folded_keys(&listed)?;
    let mut keys: Vec<String> = listed.into_iter().filter(|k| !done.contains(k)).collect();
    let more = keys.len() > MAX_KEYS_PER_RUN;
    keys.truncate(MAX_KEYS_PER_RUN);
    let classifier = Classifier::new(&site.settings.mapping);
    let window_ms = site.settings.ingest.dedup_window_hours.saturating_mul(3_600_000);
    let (mut folded, mut dupes) = (0u64, 0u64);
    for chunk in store::raw_read_groups(&keys, CHUNK_KEYS, CHUNK_BYTES) {
        let (batches, _unreadable) = store.get_raw_batches(chunk).await?;
        // From here to the commit nothing awaits, so no other request to this object interleaves: an erasure
        // made while this chunk was being read is in the record loaded here.
        let mut fresh = fresh_messages(db, &batches)?;
        let (scrub, dropped) = erasure::filter(&erasure::Erased::load(db, site)?, &batches, &mut fresh);
        let mut delta = RollupState::default();
        for m in &fresh {
            delta.fold_unindexed(m, &classifier);
        }
        let joined = db.fold_in(&delta)?;
        let mut writes: Vec<Write> = fresh.iter().map(|m| SqlState::mark_seen(&m.message_id, m.received_at)).collect();
        writes.extend(chunk.iter().map(|k| SqlState::mark_folded(k)));
        writes.extend(scrub.iter().map(|k| erasure::mark_for_scrub(k)));
        writes.extend(dropped.iter().map(|id| erasure::never_folded(id)));
        SqlState::save_rows(&joined.merged, &joined.accounts, &mut writes)?;
        let last = chunk.last().cloned().unwrap_or_default();
        crate::visitors::touch(&joined.merged, store::raw_key_time(&last).unwrap_or(now), &mut writes);
        // The read model follows in the same transaction: the entries of every account the chunk changes.
        read_model::apply(db, &Overlay::from_folded(db, joined)?, site, now.day(), &mut writes)?;
        let cp = match checkpoint.take() {
            Some(c) => c.max(last),
            None => last,
        };
        // Forget dedup entries relative to the checkpoint, not the clock: the next run re-lists keys just
        // before the checkpoint, and their messages must still be known however long the site was quiet.
        let horizon = store::raw_key_time(&cp).map_or(now, |t| t.min(now));
        writes.push(SqlState::prune_seen(Timestamp(horizon.0.saturating_sub(window_ms))));
        writes.push(SqlState::prune_folded(store::raw_key(&site.site, relist_from(&cp), "")));
        writes.push(SqlState::set_meta("checkpoint", cp.clone()));
        writes.push(SqlState::set_meta("rolled_at", now.0.to_string()));
        db.commit(writes, limits.state_cap)?;
        checkpoint = Some(cp);
        let total: usize = batches.iter().map(|(_, b)| b.len()).sum();
        folded += fresh.len() as u64;
        dupes += (total - fresh.len()) as u64;
    }
    // Every key listed is folded: reports need list only what arrives after this run's listing.
    if let (false, Some(cp)) = (more, &checkpoint) {
        let hint = TailHint {
            checkpoint: cp.clone(),
            listed_through: Timestamp(now.0 - LISTING_LAG_MS),
            large_day: large_day.map(|d| d.0),
        };
        let text = serde_json::to_string(&hint).map_err(|e| ApiError::internal("tail hint", e))?;
        db.commit(vec![SqlState::set_meta("tail_hint", text)], limits.state_cap)?;
    }
    // Once the backlog is folded, raw batches holding erased messages are rewritten, a bounded step a run.
    let scrubbed = more || erasure::scrub_step(store, db, site, limits.scrub_page_keys).await?.0;
    // Once the backlog is folded, anonymous visitors past their window leave their rows for the pool
    // (`visitors`), measured from the checkpoint's receipt time, never the clock.
    let compacted = match (&checkpoint, more) {
        (Some(cp), false) => {
            let window = limits
                .anonymous_window_ms
                .unwrap_or(i64::from(site.settings.ingest.anonymous_window_days) * 86_400_000);
            let horizon = Timestamp(store::raw_key_time(cp).map_or(now, |t| t.min(now)).0.saturating_sub(window));
            crate::visitors::compact(db, site, now.day(), horizon)?
        }
        _ => 0,
    };
    // Once the backlog is folded, the first run of a day (or after a settings change or an erasure)
    // rebuilds the read model, with what is left of the run's budget; later runs resume it.
    // While a scrub is taking erased messages out of accounts, the index waits for it (reports take the full
    // path, `more` is true meanwhile).
    let read_model_ready = !more && scrubbed && {
        let page = limits.rebuild_page_rows;
        let budget = page * read_model::REBUILD_PAGES_PER_RUN * (MAX_KEYS_PER_RUN - keys.len()) / MAX_KEYS_PER_RUN;
        read_model::rebuild_step(db, site, now.day(), page, budget)?
    };
    Ok(RollupOutcome {
        site: site.site.clone(),
        raw_keys_read: keys.len(),
        messages_folded: folded,
        duplicates_ignored: dupes,
        checkpoint,
        more: more || !read_model_ready || !scrubbed,
        read_model_ready,
        visitors_compacted: compacted,
    })
}

/// Runs the rollup and records its outcome under `rollup/{site}` whether it worked or not, so reports and
/// stats show a failing rollup instead of only the log. A failed run stores no state (nothing half-written).
pub async fn run_and_record(
    store: &Store,
    db: &SqlState,
    site: &SiteRecord,
    now: Timestamp,
    limits: &Limits,
) -> ApiResult<RollupOutcome> {
    let result = run(store, db, site, now, limits).await;
    let record = RollupRun {
        at: now,
        error: result.as_ref().err().map(|e| format!("{}: {}", e.code, e.message)),
        more: result.as_ref().is_ok_and(|o| o.more),
    };
    if let Err(e) = &result {
        worker::console_error!("rollup of {} failed: {} {}", site.site, e.code, e.message);
    }
    // Recording is best effort: the run's own result (and error) is what the caller gets. The object keeps
    // its own copy, so a report reads it without a KV read (`last_run`); stats read KV's.
    if let Ok(text) = serde_json::to_string(&record)
        && let Err(e) = db.commit(vec![SqlState::set_meta("last_run", text)], u64::MAX)
    {
        worker::console_error!("recording the rollup of {} in its object failed: {}", site.site, e.message);
    }
    if let Err(e) = store.put_json(&store::rollup_run_key(&site.site), &record).await {
        worker::console_error!("recording the rollup of {} failed: {}", site.site, e.message);
    }
    result
}
