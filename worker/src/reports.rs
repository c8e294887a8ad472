//! Reports, computed inside the site's Durable Object: read the rolled-up rows, fold the not-yet-rolled tail,
//! and let `shared` compute.
//!
//! KV cost per report: site record (1 read, by the Worker), spend ledger (1 read, budget only, until the
//! object holds the ledger: `site_config`), tail listing (from where the last complete rollup's listing
//! ended, `rollup::TailHint`) and tail batches (1 bulk read per 100 keys, at most `MAX_TAIL_KEYS`). The last
//! rollup's outcome is the object's own copy (`rollup::last_run`), not a KV read. Every report says in
//! `data_status` whether its figures are complete.

use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::read_model;
use crate::rollup;
use crate::sql_state::{Overlay, SqlState};
use crate::store::{SiteRecord, Store};
use daytwo_shared::data_status::DataStatus;
use daytwo_shared::query::{self, Rendered, ReportBuilder, ReportKind, ReportQuery};
use daytwo_shared::rollup::{Classifier, RollupState};
use daytwo_shared::time::Timestamp;
use worker::Response;

/// Most raw batches, and most bytes of them (by the sizes in their names), a report folds on top of the rollup;
/// beyond either `data_status.complete` is false.
pub const MAX_TAIL_KEYS: usize = 500;
pub const MAX_TAIL_BYTES: u64 = 16 * 1024 * 1024;

/// What arrived since the last rollup, folded into a state of its own, and whether the figures will
/// include every accepted batch.
pub struct Tail {
    pub state: RollupState,
    pub status: DataStatus,
    /// Wall time of the tail's listing and of its reads, in ms (a report's `Server-Timing`).
    pub list_ms: i64,
    pub read_ms: i64,
}

/// The last listing of the site's raw batches after the rollup, kept in the object's memory so the reports of
/// the next few seconds (a dashboard asks for four or five at once) share it instead of listing again. A
/// listing costs KV list operations (US$5 a million) and, in Miniflare, a scan of the whole namespace (about
/// 30 ms a list at 114,000 raw keys: BENCHMARKS.md). Any change of the object's rows drops it
/// ([`ListingCache::clear`]); a rollup moves the checkpoint it is kept for.
pub struct ListingCache {
    /// How long a listing is reused (`TAIL_REUSE_SECONDS`, default [`TAIL_REUSE_MS`]; 0: never).
    reuse_ms: i64,
    last: std::cell::RefCell<Option<Listing>>,
}

/// Default reuse of a tail listing: one dashboard's requests share it, and it is short beside KV's own
/// listing delay (up to 60 s).
pub const TAIL_REUSE_MS: i64 = 10_000;

#[derive(Clone)]
struct Listing {
    checkpoint: Option<String>,
    at: Timestamp,
    /// Every pending batch, in order (at most [`MAX_TAIL_KEYS`] kept) and how many there are.
    keys: Vec<String>,
    pending: u64,
}

impl ListingCache {
    pub fn new(reuse_ms: i64) -> ListingCache {
        ListingCache { reuse_ms, last: std::cell::RefCell::new(None) }
    }

    pub fn clear(&self) {
        self.last.replace(None);
    }

    fn fresh(&self, checkpoint: &Option<String>, now: Timestamp) -> Option<Listing> {
        let last = self.last.borrow();
        last.as_ref().filter(|l| l.checkpoint == *checkpoint && now.0 - l.at.0 < self.reuse_ms).cloned()
    }

    fn keep(&self, listing: Listing) {
        self.last.replace(Some(listing));
    }
}

/// Reads the tail (the raw batches after the checkpoint, at most [`MAX_TAIL_KEYS`]), from `cache`'s listing
/// while it is young enough and the request did not ask for a `fresh` one (a new listing is kept either way). Messages already folded (by the `seen` table) are left out, so a batch the rollup folds
/// meanwhile is not counted twice.
pub async fn tail(
    store: &Store,
    db: &SqlState,
    site: &SiteRecord,
    cache: &ListingCache,
    fresh: bool,
) -> ApiResult<Tail> {
    let now = http::now();
    let checkpoint = db.checkpoint()?;
    let last_run = rollup::last_run(store, db, &site.site).await?;
    let listing = match cache.fresh(&checkpoint, now).filter(|_| !fresh) {
        Some(listing) => listing,
        None => {
            let hint = rollup::TailHint::load(db, checkpoint.as_deref())?;
            let pending =
                rollup::pending_keys(store, &site.site, checkpoint.as_deref(), now, false, hint.as_ref()).await?;
            let mut keys: Vec<String> =
                pending.keys.into_iter().filter(|k| checkpoint.as_ref().is_none_or(|c| k > c)).collect();
            let pending = keys.len() as u64;
            keys.truncate(MAX_TAIL_KEYS);
            let listing = Listing { checkpoint: checkpoint.clone(), at: now, keys, pending };
            // A rollup that moved the checkpoint while this listed made the listing stale: not kept.
            if db.checkpoint()? == checkpoint {
                cache.keep(listing.clone());
            }
            listing
        }
    };
    let listed = http::now();
    let mut keys = listing.keys;
    let included = crate::store::raw_read_prefix(&keys, MAX_TAIL_KEYS, MAX_TAIL_BYTES);
    keys.truncate(included);
    let (batches, unreadable) = store.get_raw_batches(&keys).await?;
    let (list_ms, read_ms) = (listed.0 - now.0, http::now().0 - listed.0);
    let classifier = Classifier::new(&site.settings.mapping);
    let mut state = RollupState::default();
    let mut fresh = rollup::fresh_messages(db, &batches)?;
    // Erased identities stay erased in the tail too (the next rollup scrubs their batches).
    crate::erasure::filter(&crate::erasure::Erased::load(db, site)?, &batches, &mut fresh);
    for m in fresh {
        state.fold_unindexed(m, &classifier);
    }
    let rolled_up_to = db.checkpoint()?.as_deref().and_then(crate::store::raw_key_time);
    let status = DataStatus::new(rolled_up_to, listing.pending, keys.len() as u64, unreadable, last_run.as_ref())
        .listed_at(listing.at);
    Ok(Tail { state, status, list_ms, read_ms })
}

fn respond(rendered: Rendered, tail: &Tail, filename: &str) -> ApiResult<Response> {
    let status = &tail.status;
    let complete = if status.complete { "true" } else { "false" };
    let resp = match query::with_data_status(rendered, status) {
        Rendered::Csv(text) => http::csv(text, filename)?,
        Rendered::Json(v) => http::json(200, &v)?,
    };
    // CSV has no room for it in the body: a header says whether the figures are complete.
    let _ = resp.headers().set("x-daytwo-data-complete", complete);
    // Where a report's time goes (browser devtools and the benches read it). The runtime's clock moves only
    // across I/O, so these are the tail's KV waits; computing shows as the rest of `object` (`site_object`).
    let timing = format!("tail-list;dur={}, tail-read;dur={}", tail.list_ms, tail.read_ms);
    let _ = resp.headers().append(http::SERVER_TIMING, &timing);
    Ok(resp)
}

/// A report over every account of the site, streamed from the object's rows an account at a time.
pub async fn report(
    store: &Store,
    db: &SqlState,
    site: &SiteRecord,
    cache: &ListingCache,
    fresh: bool,
    kind: ReportKind,
    q: &ReportQuery,
) -> ApiResult<Response> {
    let tail = tail(store, db, site, cache, fresh).await?;
    let ledger =
        if kind == ReportKind::Budget { crate::site_config::ledger(store, db, site).await? } else { Vec::new() };
    // No await from here: the rows read belong to one committed state.
    let overlay = Overlay::of(db, &tail.state)?;
    let index = read_model::usable(db, site, http::now().day())?
        .and_then(|m| read_model::answers(&m, kind, q).map(|sel| (m, sel)));
    let (builder, path) = match index {
        Some((m, sel)) => (read_model::report(db, m, sel, &overlay, kind, site, q)?, "index"),
        None => {
            let mut builder = ReportBuilder::new(kind, &site.settings, q);
            db.for_each_account(&overlay, |h| builder.add(h))?;
            crate::visitors::for_each_pool_row(db, |h, n| builder.add_weighted(h, n))?;
            (builder, "full")
        }
    };
    let rendered = builder.finish(&ledger, &site.currency);
    let name = match kind {
        ReportKind::Budget => "budget",
        ReportKind::Lifecycle => "lifecycle",
        ReportKind::Funnel => "funnel",
        ReportKind::Engagement => "engagement",
        ReportKind::Accounts => "accounts",
    };
    let resp = respond(rendered, &tail, &format!("{}-{name}.csv", site.site))?;
    // Which path answered: the read model, or a fold of every account (tests and benchmarks read it).
    let _ = resp.headers().set("x-daytwo-read-model", path);
    Ok(resp)
}

/// One account in full: its identities' rows (and the tail's), resolved by the id or key given.
pub async fn account(
    store: &Store,
    db: &SqlState,
    site: &SiteRecord,
    cache: &ListingCache,
    fresh: bool,
    id: &str,
    q: &ReportQuery,
) -> ApiResult<Response> {
    let tail = tail(store, db, site, cache, fresh).await?;
    let overlay = Overlay::of(db, &tail.state)?;
    let id = &daytwo_shared::privacy::stored_id(id, &site.email_salt);
    let mut found = None;
    for key in query::account_key_candidates(id) {
        if let Some(h) = db.account(&overlay, &key)? {
            found = Some(h);
            break;
        }
    }
    let detail = found
        .and_then(|h| query::account_detail_of(&h, &site.settings, q.as_of))
        .ok_or_else(|| ApiError::not_found("account_not_found", format!("no account {id:?}")))?;
    respond(Rendered::Json(detail), &tail, "account.csv")
}
