//! The rollup: folds new raw batches into the site's state through `shared`, then records a checkpoint.
//!
//! Idempotent by construction: it re-lists a safety margin before the checkpoint (KV lists are eventually
//! consistent) and the state's dedup index drops anything already folded. State and checkpoint are one KV
//! value, so two rollups at once write the same result, and a late one can only set the state back to a
//! consistent earlier point that the next run re-folds.

use crate::error::{ApiError, ApiResult};
use crate::store::{self, SiteRecord, Store, StoredState};
use daytwo_shared::data_status::RollupRun;
use daytwo_shared::rollup::{Classifier, RollupState};
use daytwo_shared::time::{Day, Timestamp};
use serde::Serialize;

/// Keys within this much before the checkpoint are listed again.
const RELIST_MARGIN_MS: i64 = 10 * 60 * 1000;
/// Most raw batches one run folds (bounds CPU per invocation; the next run continues).
pub const MAX_KEYS_PER_RUN: usize = 5000;

#[derive(Debug, Serialize)]
pub struct RollupOutcome {
    pub site: String,
    pub raw_keys_read: usize,
    pub messages_folded: u64,
    pub duplicates_ignored: u64,
    pub checkpoint: Option<String>,
    /// More raw batches are waiting (the run stopped at its limit).
    pub more: bool,
}

/// Raw keys of `site` newer than `after` (minus the margin), in order; all keys when there is no checkpoint.
pub async fn pending_keys(store: &Store, site: &str, after: Option<&str>, now: Timestamp) -> ApiResult<Vec<String>> {
    let Some(checkpoint) = after else { return store.list_all(&store::raw_prefix(site)).await };
    let from_time = store::raw_key_time(checkpoint).map_or(Timestamp(0), |t| Timestamp(t.0 - RELIST_MARGIN_MS));
    let from_key = store::raw_key(site, from_time, "");
    let mut keys = Vec::new();
    let mut day: Day = from_time.day();
    while day <= now.day() {
        keys.extend(store.list_all(&store::raw_day_prefix(site, day)).await?.into_iter().filter(|k| *k >= from_key));
        day = day.plus(1);
    }
    Ok(keys)
}

/// Folds batches into a state; returns (folded, duplicates).
pub fn fold_batches(
    state: &mut RollupState,
    classifier: &Classifier,
    batches: &[(String, Vec<daytwo_shared::message::Message>)],
) -> (u64, u64) {
    let (mut folded, mut dupes) = (0, 0);
    for (_, batch) in batches {
        for m in batch {
            if state.fold(m, classifier) {
                folded += 1;
            } else {
                dupes += 1;
            }
        }
    }
    (folded, dupes)
}

pub async fn run(store: &Store, site: &SiteRecord, now: Timestamp) -> ApiResult<RollupOutcome> {
    let mut stored: StoredState = store.state(&site.site).await?;
    let mut keys = pending_keys(store, &site.site, stored.checkpoint.as_deref(), now).await?;
    let more = keys.len() > MAX_KEYS_PER_RUN;
    keys.truncate(MAX_KEYS_PER_RUN);
    let (batches, _unreadable) = store.get_raw_batches(&keys).await?;
    let classifier = Classifier::new(&site.settings.mapping);
    let (folded, dupes) = fold_batches(&mut stored.state, &classifier, &batches);
    if let Some(last) = keys.last() {
        stored.checkpoint = Some(stored.checkpoint.take().map_or_else(|| last.clone(), |c| c.max(last.clone())));
    }
    // Forget dedup entries relative to the checkpoint, not the clock: the next run re-lists keys just
    // before the checkpoint, and their messages must still be known however long the site was quiet.
    let horizon = stored.checkpoint.as_deref().and_then(store::raw_key_time).map_or(now, |t| t.min(now));
    stored.state.prune_seen(horizon, site.settings.ingest.dedup_window_hours);
    stored.rolled_at = Some(now);
    // One value, written whole or not at all: check KV's limit first, so the failure says what it is.
    let text = serde_json::to_string(&stored).map_err(|e| ApiError::internal("serialise state", e))?;
    if text.len() > store.max_value_bytes {
        return Err(ApiError::new(
            507,
            "state_too_large",
            format!(
                "the rolled-up state of this site is {} bytes, over the {}-byte limit of one KV value; nothing \
                 was stored, and reports fold the pending events themselves, up to their limit",
                text.len(),
                store.max_value_bytes
            ),
        ));
    }
    store.put_text(&store::state_key(&site.site), text, None).await?;
    Ok(RollupOutcome {
        site: site.site.clone(),
        raw_keys_read: keys.len(),
        messages_folded: folded,
        duplicates_ignored: dupes,
        checkpoint: stored.checkpoint,
        more,
    })
}

/// Runs the rollup and records its outcome under `rollup/{site}` whether it worked or not, so reports and
/// stats show a failing rollup instead of only the log. A failed run stores no state (nothing half-written).
pub async fn run_and_record(store: &Store, site: &SiteRecord, now: Timestamp) -> ApiResult<RollupOutcome> {
    let result = run(store, site, now).await;
    let record = RollupRun {
        at: now,
        error: result.as_ref().err().map(|e| format!("{}: {}", e.code, e.message)),
        more: result.as_ref().is_ok_and(|o| o.more),
    };
    if let Err(e) = &result {
        worker::console_error!("rollup of {} failed: {} {}", site.site, e.code, e.message);
    }
    // Recording is best effort: the run's own result (and error) is what the caller gets.
    if let Err(e) = store.put_json(&store::rollup_run_key(&site.site), &record).await {
        worker::console_error!("recording the rollup of {} failed: {}", site.site, e.message);
    }
    result
}
