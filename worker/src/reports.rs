//! Reports, computed inside the site's Durable Object: read the rolled-up rows, fold the not-yet-rolled tail,
//! and let `shared` compute.
//!
//! KV cost per report: site record (1 read, by the Worker), last rollup outcome (1 read), spend ledger
//! (1 read, budget only), tail listing (1 list per day since the checkpoint) and tail batches (1 bulk read per
//! 100 keys, at most `MAX_TAIL_KEYS`). Every report says in `data_status` whether its figures are complete.

use crate::error::{ApiError, ApiResult};
use crate::http;
use crate::rollup;
use crate::sql_state::SqlState;
use crate::store::{SiteRecord, Store};
use daytwo_shared::data_status::DataStatus;
use daytwo_shared::query::{self, Rendered, ReportKind, ReportQuery};
use daytwo_shared::rollup::{AccountHistory, Classifier};
use worker::Response;

/// Most raw batches a report folds on top of the rollup; beyond it `data_status.complete` is false.
pub const MAX_TAIL_KEYS: usize = 500;

pub struct Snapshot {
    pub accounts: Vec<AccountHistory>,
    pub status: DataStatus,
}

/// The site's accounts now: the stored rows plus the tail not rolled up yet (messages already folded, by the
/// `seen` table, are not counted twice).
pub async fn snapshot(store: &Store, db: &SqlState, site: &SiteRecord) -> ApiResult<Snapshot> {
    let now = http::now();
    let checkpoint = db.checkpoint()?;
    let last_run = store.last_rollup(&site.site).await?;
    let pending = rollup::pending_keys(store, &site.site, checkpoint.as_deref(), now).await?;
    let mut tail: Vec<String> = pending.into_iter().filter(|k| checkpoint.as_ref().is_none_or(|c| k > c)).collect();
    let pending_batches = tail.len() as u64;
    tail.truncate(MAX_TAIL_KEYS);
    let (batches, unreadable) = store.get_raw_batches(&tail).await?;
    // No await from here: the rows and the checkpoint read above belong to one committed state.
    let checkpoint = db.checkpoint()?;
    let mut state = db.load_accounts_state()?;
    let classifier = Classifier::new(&site.settings.mapping);
    for m in rollup::fresh_messages(db, &batches)? {
        state.fold_unindexed(m, &classifier);
    }
    let rolled_up_to = checkpoint.as_deref().and_then(crate::store::raw_key_time);
    let status = DataStatus::new(rolled_up_to, pending_batches, tail.len() as u64, unreadable, last_run.as_ref());
    Ok(Snapshot { accounts: state.into_accounts(), status })
}

fn respond(rendered: Rendered, snap: &Snapshot, filename: &str) -> ApiResult<Response> {
    let complete = if snap.status.complete { "true" } else { "false" };
    let resp = match query::with_data_status(rendered, &snap.status) {
        Rendered::Csv(text) => http::csv(text, filename)?,
        Rendered::Json(v) => http::json(200, &v)?,
    };
    // CSV has no room for it in the body: a header says whether the figures are complete.
    let _ = resp.headers().set("x-daytwo-data-complete", complete);
    Ok(resp)
}

pub async fn report(
    store: &Store,
    db: &SqlState,
    site: &SiteRecord,
    kind: ReportKind,
    q: &ReportQuery,
) -> ApiResult<Response> {
    let snap = snapshot(store, db, site).await?;
    let ledger = if kind == ReportKind::Budget { store.ledger(site).await? } else { Vec::new() };
    let rendered = query::compute(kind, &snap.accounts, &ledger, &site.settings, &site.currency, q);
    let name = match kind {
        ReportKind::Budget => "budget",
        ReportKind::Lifecycle => "lifecycle",
        ReportKind::Funnel => "funnel",
        ReportKind::Engagement => "engagement",
        ReportKind::Accounts => "accounts",
    };
    respond(rendered, &snap, &format!("{}-{name}.csv", site.site))
}

pub async fn account(
    store: &Store,
    db: &SqlState,
    site: &SiteRecord,
    id: &str,
    q: &ReportQuery,
) -> ApiResult<Response> {
    let snap = snapshot(store, db, site).await?;
    let id = &daytwo_shared::privacy::stored_id(id, &site.email_salt);
    let detail = query::account_detail(&snap.accounts, &site.settings, id, q.as_of)
        .ok_or_else(|| ApiError::not_found("account_not_found", format!("no account {id:?}")))?;
    respond(Rendered::Json(detail), &snap, "account.csv")
}
