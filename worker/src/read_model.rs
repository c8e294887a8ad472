//! The read model: what every account adds to today's reports, kept by the rollup, so the reports the
//! widget asks for first (as of today, over the default 90 days) never fold the site's history.
//!
//! | where | what |
//! |---|---|
//! | `account_index(account, stage, band, score, revenue, last_seen, name, entry)` | one row per account: its `shared::contribution::AccountEntry` for the index's day and period (JSON), and the columns the account list filters and sorts by |
//! | `meta('index')` | [`IndexMeta`]: the day, the settings it was built with, ready or not, and the `SiteTotals` of every entry |
//!
//! Kept exact by whole accounts: when a rollup chunk changes accounts, their stored entries are removed from
//! the totals and their fresh entries added, in the chunk's transaction; a report corrects the totals the
//! same way for the accounts its tail changes. `shared` decides every figure (`AccountEntry::of`, the sums
//! and `ReportBuilder::finish`), so a report from the index equals a full fold (tests compare both with the
//! CLI). The index is for one day: the first complete rollup of a new day (or the first after a settings
//! change or an erasure) starts rebuilding it, streaming the site an account at a time in pages of
//! [`REBUILD_PAGE_ROWS`] identity rows, one transaction per page, at most [`REBUILD_ROWS_PER_RUN`] rows per
//! run: the header keeps a cursor (accounts up to it are in the index), so a large site's rebuild resumes
//! across runs like the rollup itself, and rollup chunks in between keep the rebuilt part current. Until it
//! is ready, and for any other `as_of` or period, reports take the full path: the same result, at the cost
//! of reading every account.

use crate::error::ApiResult;
use crate::sql_state::{Overlay, SqlState, Write, from_text, int, sql_err, text, to_text};
use crate::store::SiteRecord;
use daytwo_shared::contribution::{AccountEntry, SiteTotals};
use daytwo_shared::query::{ReportBuilder, ReportKind, ReportQuery, default_period};
use daytwo_shared::report::{AccountSort, Period};
use daytwo_shared::rollup::{AccountHistory, IdentityRecord};
use daytwo_shared::time::Day;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use worker::SqlStorageValue;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS account_index(account TEXT PRIMARY KEY, stage TEXT, band TEXT, score INTEGER,
  revenue INTEGER NOT NULL, last_seen INTEGER, name TEXT, entry TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS account_index_score ON account_index(score, account);
CREATE INDEX IF NOT EXISTS account_index_stage ON account_index(stage, score, account);
CREATE INDEX IF NOT EXISTS account_index_band ON account_index(band, score, account);
";

/// Identity rows per page of a rebuild (and per transaction); the object's `Limits` may lower it.
pub const REBUILD_PAGE_ROWS: usize = 2000;
/// Pages one rollup run rebuilds at most when it had no raw batches to fold (fewer when it had; at least
/// one): about the CPU of a full run of raw batches (BENCHMARKS.md), so no run outgrows the platform's
/// limits whatever the site's size.
pub const REBUILD_PAGES_PER_RUN: usize = 20;

/// The read model's header, one row of `meta`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndexMeta {
    pub as_of: Day,
    pub period: Period,
    /// The site settings the entries were computed with (their JSON): a change invalidates the index.
    pub settings: String,
    pub ready: bool,
    /// While rebuilding: the last account whose entry is in the index (accounts sort as SQLite's `TEXT`
    /// and Rust's `str` both do, byte-wise); `None` before the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub totals: SiteTotals,
    /// Rows of the index that the account list lists (`entry.list` present): the list's unfiltered total
    /// without counting 100,000 rows per request.
    #[serde(default)]
    pub listed: i64,
}

impl IndexMeta {
    /// Whether `account`'s entry belongs in the index now (all of them once it is ready).
    fn covers(&self, account: &str) -> bool {
        self.ready || self.after.as_deref().is_some_and(|after| account <= after)
    }
}

/// The settings an index was built with, and the layout of its header: either changing retires it.
fn settings_key(site: &SiteRecord) -> String {
    format!("v3:{}", serde_json::to_string(&site.settings).unwrap_or_default())
}

fn listed(e: &AccountEntry) -> i64 {
    i64::from(e.list.is_some())
}

/// The index as stored, if any.
pub fn meta(db: &SqlState) -> ApiResult<Option<IndexMeta>> {
    let rows = db.rows("SELECT v FROM meta WHERE k = 'index'", Vec::new())?;
    match rows.first() {
        Some(row) => Ok(from_text(row.first(), "index").ok()),
        None => Ok(None),
    }
}

fn write_meta(m: &IndexMeta) -> ApiResult<Write> {
    Ok(Write::new(
        "INSERT INTO meta(k, v) VALUES ('index', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
        vec![to_text(m)?],
    ))
}

/// Forgets the index (an erasure removes accounts; the next rollup rebuilds it).
pub fn invalidate() -> Write {
    Write::new("DELETE FROM meta WHERE k = 'index'", Vec::new())
}

/// The index if it is ready for `day` with the site's current settings.
pub fn usable(db: &SqlState, site: &SiteRecord, day: Day) -> ApiResult<Option<IndexMeta>> {
    Ok(meta(db)?.filter(|m| m.ready && m.as_of == day && m.settings == settings_key(site)))
}

fn stored_entry(db: &SqlState, account: &str) -> ApiResult<Option<AccountEntry>> {
    let rows = db.rows("SELECT entry FROM account_index WHERE account = ?", vec![account.into()])?;
    rows.first().map(|r| from_text(r.first(), "account_index")).transpose()
}

fn upsert(account: &str, entry: &AccountEntry) -> ApiResult<Write> {
    let list = entry.list.as_ref();
    let opt_text = |v: Option<String>| v.map_or(SqlStorageValue::Null, SqlStorageValue::String);
    Ok(Write::new(
        "INSERT INTO account_index(account, stage, band, score, revenue, last_seen, name, entry) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(account) DO UPDATE SET stage = excluded.stage, \
         band = excluded.band, score = excluded.score, revenue = excluded.revenue, \
         last_seen = excluded.last_seen, name = excluded.name, entry = excluded.entry",
        vec![
            account.into(),
            opt_text(list.map(|l| l.stage.as_str().to_owned())),
            opt_text(list.and_then(|l| l.band).map(|b| b.as_str().to_owned())),
            list.and_then(|l| l.score).map_or(SqlStorageValue::Null, |s| i64::from(s).into()),
            list.map_or(0, |l| l.revenue_minor).into(),
            list.and_then(|l| l.last_seen).map_or(SqlStorageValue::Null, |d| d.0.into()),
            opt_text(list.and_then(|l| l.name.clone())),
            to_text(entry)?,
        ],
    ))
}

/// The index for `day` and the site's settings, ready or being rebuilt.
fn current(db: &SqlState, site: &SiteRecord, day: Day) -> ApiResult<Option<IndexMeta>> {
    Ok(meta(db)?.filter(|m| m.as_of == day && m.settings == settings_key(site)))
}

/// In a rollup chunk: replaces the entries of every account `overlay` (the chunk, not written yet) changes,
/// and moves the totals by the difference. While a rebuild is under way only the accounts it has passed
/// are kept current (it reads the others later, as they are then); nothing to do without an index for `day`.
pub fn apply(db: &SqlState, overlay: &Overlay, site: &SiteRecord, day: Day, writes: &mut Vec<Write>) -> ApiResult<()> {
    let Some(mut m) = current(db, site, day)? else { return Ok(()) };
    let covered: Vec<String> = overlay.accounts().into_iter().filter(|a| m.covers(a)).collect();
    for account in covered {
        if let Some(old) = stored_entry(db, &account)? {
            m.totals.add(&old, -1);
            m.listed -= listed(&old);
        }
        match db.account(overlay, &account)? {
            Some(h) => {
                let entry = AccountEntry::of(&h, &site.settings, m.as_of, m.period);
                m.totals.add(&entry, 1);
                m.listed += listed(&entry);
                writes.push(upsert(&account, &entry)?);
            }
            None => writes.push(Write::new("DELETE FROM account_index WHERE account = ?", vec![account.into()])),
        }
    }
    writes.push(write_meta(&m)?);
    Ok(())
}

/// In a compaction's transaction: each visitor leaves the index (if the index holds them yet) and joins the
/// pool, which the totals always include: the entries are equal (same one-day history, both anonymous), so
/// the totals of a ready index do not move; during a rebuild, a visitor the cursor has not reached yet is
/// one the rebuild will no longer find, so their pool entry is added now.
pub fn compacted(
    db: &SqlState,
    site: &SiteRecord,
    day: Day,
    visitors: &[crate::visitors::Compacted],
    writes: &mut Vec<Write>,
) -> ApiResult<()> {
    let Some(mut m) = current(db, site, day)? else { return Ok(()) };
    for v in visitors {
        if m.covers(&v.account) {
            if let Some(old) = stored_entry(db, &v.account)? {
                m.totals.add(&old, -1);
                m.listed -= listed(&old);
            }
            writes.push(Write::new("DELETE FROM account_index WHERE account = ?", vec![v.account.as_str().into()]));
        }
        let h = daytwo_shared::visitors::pool_history(v.day, v.cell.clone());
        m.totals.add(&AccountEntry::of(&h, &site.settings, m.as_of, m.period), 1);
    }
    writes.push(write_meta(&m)?);
    Ok(())
}

/// Rebuilds the index for `day` unless it is ready, resuming where the last run stopped: every account's
/// entry, a page of identity rows per transaction (entries, totals and cursor together), at most
/// `row_budget` rows (at least one page of `page_rows`). Returns whether the index is ready.
pub fn rebuild_step(
    db: &SqlState,
    site: &SiteRecord,
    day: Day,
    page_rows: usize,
    row_budget: usize,
) -> ApiResult<bool> {
    let mut m = match current(db, site, day)? {
        Some(m) if m.ready => return Ok(true),
        Some(m) => m,
        None => {
            // The visitor pool is part of the totals from the start; compaction keeps it so (`compacted`).
            let (period, mut totals) = (default_period(day), SiteTotals::default());
            crate::visitors::for_each_pool_row(db, |h, n| {
                totals.add(&AccountEntry::of(h, &site.settings, day, period), n);
            })?;
            let m = IndexMeta {
                as_of: day,
                period,
                settings: settings_key(site),
                ready: false,
                after: None,
                totals,
                listed: 0,
            };
            db.commit(vec![Write::new("DELETE FROM account_index", Vec::new()), write_meta(&m)?], u64::MAX)?;
            m
        }
    };
    let mut rows_read = 0usize;
    loop {
        if rows_read > 0 && rows_read + page_rows > row_budget {
            return Ok(false);
        }
        // Account keys are never empty, so the first page starts after ''.
        let after = m.after.clone().unwrap_or_default();
        let rows = db.rows(
            "SELECT account, key, record FROM identity WHERE account > ? ORDER BY account, key LIMIT ?",
            vec![after.as_str().into(), (page_rows as i64).into()],
        )?;
        rows_read += rows.len();
        let full = rows.len() == page_rows;
        let mut accounts: Vec<(String, Vec<(String, IdentityRecord)>)> = Vec::new();
        for row in &rows {
            let account = row.first().and_then(text).ok_or_else(|| sql_err("identity", "missing account"))?;
            let key = row.get(1).and_then(text).ok_or_else(|| sql_err("identity", "missing key"))?;
            let record: IdentityRecord = from_text(row.get(2), "identity")?;
            match accounts.last_mut() {
                Some((a, members)) if a == account => members.push((key.to_owned(), record)),
                _ => accounts.push((account.to_owned(), vec![(key.to_owned(), record)])),
            }
        }
        drop(rows);
        // A full page may end inside an account: that account starts the next page, unless it is the
        // page's only one (then its members are read whole).
        if full && accounts.len() > 1 {
            accounts.pop();
        }
        let Some(last) = accounts.last().map(|(a, _)| a.clone()) else {
            m.ready = true;
            m.after = None;
            db.commit(vec![write_meta(&m)?], u64::MAX)?;
            return Ok(true);
        };
        let mut writes = Vec::new();
        for (account, members) in accounts {
            let Some(h) = history(&account, members, page_rows, db)? else { continue };
            let entry = AccountEntry::of(&h, &site.settings, m.as_of, m.period);
            m.totals.add(&entry, 1);
            m.listed += listed(&entry);
            writes.push(upsert(&account, &entry)?);
        }
        m.ready = !full;
        m.after = if m.ready { None } else { Some(last) };
        writes.push(write_meta(&m)?);
        db.commit(writes, u64::MAX)?;
        if m.ready {
            return Ok(true);
        }
    }
}

/// One account's history from a page's members; an account larger than a page is read whole.
fn history(
    account: &str,
    members: Vec<(String, IdentityRecord)>,
    page_rows: usize,
    db: &SqlState,
) -> ApiResult<Option<AccountHistory>> {
    if members.len() >= page_rows {
        return db.account(&Overlay::empty(), account);
    }
    Ok(Overlay::empty().history(account, members))
}

/// Whether `q` asks for what the index holds: its day, and (for budget and funnel) its period.
pub fn answers(m: &IndexMeta, kind: ReportKind, q: &ReportQuery) -> bool {
    q.as_of == m.as_of && (!matches!(kind, ReportKind::Budget | ReportKind::Funnel) || q.period == m.period)
}

/// A report from the index: the totals, corrected by whole accounts for what `overlay` (the report's tail)
/// changes; for the account list, the page's rows in index order, each evaluated afresh.
pub fn report<'q>(
    db: &SqlState,
    m: IndexMeta,
    overlay: &Overlay,
    kind: ReportKind,
    site: &'q SiteRecord,
    q: &'q ReportQuery,
) -> ApiResult<ReportBuilder<'q>> {
    let changed = overlay.accounts();
    let listed_rows = m.listed;
    let mut builder = ReportBuilder::from_totals(kind, &site.settings, q, m.totals);
    if kind != ReportKind::Accounts {
        for account in &changed {
            if let Some(old) = stored_entry(db, account)? {
                builder.add_entry(&old, -1);
            }
            if let Some(h) = db.account(overlay, account)? {
                builder.add_entry(&AccountEntry::of(&h, &site.settings, m.as_of, m.period), 1);
            }
        }
        return Ok(builder);
    }
    list(db, overlay, &changed, &mut builder, q, listed_rows)?;
    Ok(builder)
}

/// The account list from the index: the first `cursor + limit` rows in the requested order (accounts the
/// tail changes left out and evaluated afresh instead); the rest only counted.
fn list(
    db: &SqlState,
    overlay: &Overlay,
    changed: &BTreeSet<String>,
    builder: &mut ReportBuilder<'_>,
    q: &ReportQuery,
    listed_rows: i64,
) -> ApiResult<()> {
    let a = &q.accounts;
    let mut filter = String::from("stage IS NOT NULL");
    let mut args: Vec<SqlStorageValue> = Vec::new();
    if let Some(stage) = a.stage {
        filter.push_str(" AND stage = ?");
        args.push(stage.as_str().into());
    }
    if let Some(band) = a.band {
        filter.push_str(" AND band = ?");
        args.push(band.as_str().into());
    }
    // The order of `shared::report::AccountListTally::finish`, ties by account key. SQLite sorts NULL first
    // ascending and last descending, as Rust orders `None` before `Some`.
    let order = match a.sort {
        AccountSort::Score => "score ASC, account ASC",
        AccountSort::ScoreDesc => "score DESC, account ASC",
        AccountSort::Revenue => "revenue DESC, account ASC",
        AccountSort::LastSeen => "last_seen DESC, account ASC",
        AccountSort::Name => "name ASC, account ASC",
    };
    let start = a.cursor.as_deref().and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
    let want = start + a.limit.unwrap_or(daytwo_shared::report::DEFAULT_PAGE).clamp(1, daytwo_shared::report::MAX_PAGE);
    // Unfiltered, the header knows the count; a stage or band filter counts through its index.
    let total = if args.is_empty() {
        listed_rows.max(0) as usize
    } else {
        db.rows(&format!("SELECT COUNT(*) FROM account_index WHERE {filter}"), args.clone())?
            .first()
            .and_then(|r| r.first())
            .and_then(int)
            .unwrap_or(0)
            .max(0) as usize
    };
    let mut page_args = args.clone();
    page_args.push(((want + changed.len()) as i64).into());
    let rows =
        db.rows(&format!("SELECT account FROM account_index WHERE {filter} ORDER BY {order} LIMIT ?"), page_args)?;
    let mut listed = 0usize;
    for account in rows.iter().filter_map(|r| r.first().and_then(text)).filter(|a| !changed.contains(*a)).take(want) {
        if let Some(h) = db.account(overlay, account)? {
            builder.add(&h);
            listed += 1;
        }
    }
    // Accounts the tail changes: counted in `total` by their stored rows, listed by their fresh ones.
    let mut stored_changed = 0usize;
    for account in changed {
        let mut check_args = args.clone();
        check_args.push(account.as_str().into());
        let hit = db.rows(&format!("SELECT 1 FROM account_index WHERE {filter} AND account = ?"), check_args)?;
        stored_changed += usize::from(!hit.is_empty());
        if let Some(h) = db.account(overlay, account)? {
            builder.add(&h);
        }
    }
    builder.add_unlisted(total.saturating_sub(stored_changed).saturating_sub(listed));
    Ok(())
}
