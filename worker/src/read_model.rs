//! The read model: what every account adds to the reports of the standard periods (`shared::read_model`:
//! the widget's presets, the API's default), kept by the rollup, so those reports never fold the site's
//! history.
//!
//! | where | what |
//! |---|---|
//! | `account_entry(account, entry)` | one row per account: its `shared::read_model::IndexEntry` (JSON): its part in each preset's period and the one before, and on each preset's default day |
//! | `account_list(slot, account, stage, band, score, revenue, last_seen, name)` | per day of the plan (`slot`), the columns the account list filters and sorts by, for the accounts it lists that day |
//! | `meta('index')` | [`IndexMeta`]: the plan (day, periods, days), the settings it was built with, ready or not, and the `IndexTotals` of every entry |
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
//! is ready, and for a period or day that is not a preset's, reports take the full path: the same result, at
//! the cost of reading every account.

use crate::error::ApiResult;
use crate::sql_state::{Overlay, SqlState, Write, from_text, int, sql_err, text, to_text};
use crate::store::SiteRecord;
use daytwo_shared::contribution::ListKeys;
use daytwo_shared::query::{ReportBuilder, ReportKind, ReportQuery};
use daytwo_shared::read_model::{IndexEntry, IndexPlan, IndexTotals, Selection};
use daytwo_shared::report::AccountSort;
use daytwo_shared::rollup::{AccountHistory, IdentityRecord};
use daytwo_shared::time::Day;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use worker::SqlStorageValue;

/// `account_index` was the layout of one day and period (before the presets); its index is rebuilt anyway
/// (the header's version changed), so the table goes.
pub const SCHEMA: &str = "
DROP TABLE IF EXISTS account_index;
CREATE TABLE IF NOT EXISTS account_entry(account TEXT PRIMARY KEY, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS account_list(slot INTEGER NOT NULL, account TEXT NOT NULL, stage TEXT NOT NULL,
  band TEXT, score INTEGER, revenue INTEGER NOT NULL, last_seen INTEGER, name TEXT, PRIMARY KEY(slot, account));
CREATE INDEX IF NOT EXISTS account_list_score ON account_list(slot, score, account);
CREATE INDEX IF NOT EXISTS account_list_stage ON account_list(slot, stage, score, account);
CREATE INDEX IF NOT EXISTS account_list_band ON account_list(slot, band, score, account);
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
    /// The day the index is for (`plan.today`), and the periods and days it holds.
    pub plan: IndexPlan,
    /// The site settings the entries were computed with (their JSON): a change invalidates the index.
    pub settings: String,
    pub ready: bool,
    /// While rebuilding: the last account whose entry is in the index (accounts sort as SQLite's `TEXT`
    /// and Rust's `str` both do, byte-wise); `None` before the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub totals: IndexTotals,
}

impl IndexMeta {
    /// Whether `account`'s entry belongs in the index now (all of them once it is ready).
    fn covers(&self, account: &str) -> bool {
        self.ready || self.after.as_deref().is_some_and(|after| account <= after)
    }
}

/// The settings an index was built with, and the layout of its header: either changing retires it.
fn settings_key(site: &SiteRecord) -> String {
    format!("v4:{}", serde_json::to_string(&site.settings).unwrap_or_default())
}

/// Whether `m` is the index of `day` with the site's current settings.
fn is_for(m: &IndexMeta, site: &SiteRecord, day: Day) -> bool {
    m.settings == settings_key(site) && m.plan == IndexPlan::of(day)
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
    Ok(meta(db)?.filter(|m| m.ready && is_for(m, site, day)))
}

fn stored_entry(db: &SqlState, account: &str) -> ApiResult<Option<IndexEntry>> {
    let rows = db.rows("SELECT entry FROM account_entry WHERE account = ?", vec![account.into()])?;
    rows.first().map(|r| from_text(r.first(), "account_entry")).transpose()
}

/// The writes that store `account`'s entry: the entry, and its list row on each day of the plan it is
/// listed on (none on the others).
fn upsert(account: &str, entry: &IndexEntry, plan: &IndexPlan, writes: &mut Vec<Write>) -> ApiResult<()> {
    writes.push(Write::new(
        "INSERT INTO account_entry(account, entry) VALUES (?, ?) \
         ON CONFLICT(account) DO UPDATE SET entry = excluded.entry",
        vec![account.into(), to_text(entry)?],
    ));
    for slot in 0..plan.days.len() {
        match entry.list(slot) {
            Some(l) => writes.push(list_row(slot, account, l)),
            None => writes.push(Write::new(
                "DELETE FROM account_list WHERE slot = ? AND account = ?",
                vec![(slot as i64).into(), account.into()],
            )),
        }
    }
    Ok(())
}

fn list_row(slot: usize, account: &str, l: &ListKeys) -> Write {
    let opt_text = |v: Option<String>| v.map_or(SqlStorageValue::Null, SqlStorageValue::String);
    Write::new(
        "INSERT OR REPLACE INTO account_list(slot, account, stage, band, score, revenue, last_seen, name) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            (slot as i64).into(),
            account.into(),
            l.stage.as_str().into(),
            opt_text(l.band.map(|b| b.as_str().to_owned())),
            l.score.map_or(SqlStorageValue::Null, |s| i64::from(s).into()),
            l.revenue_minor.into(),
            l.last_seen.map_or(SqlStorageValue::Null, |d| d.0.into()),
            opt_text(l.name.clone()),
        ],
    )
}

/// The writes that remove `account` from the index.
fn remove(account: &str, plan: &IndexPlan, writes: &mut Vec<Write>) {
    writes.push(Write::new("DELETE FROM account_entry WHERE account = ?", vec![account.into()]));
    for slot in 0..plan.days.len() {
        writes.push(Write::new(
            "DELETE FROM account_list WHERE slot = ? AND account = ?",
            vec![(slot as i64).into(), account.into()],
        ));
    }
}

/// The index for `day` and the site's settings, ready or being rebuilt.
fn current(db: &SqlState, site: &SiteRecord, day: Day) -> ApiResult<Option<IndexMeta>> {
    Ok(meta(db)?.filter(|m| is_for(m, site, day)))
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
        }
        match db.account(overlay, &account)? {
            Some(h) => {
                let entry = IndexEntry::of(&h, &site.settings, &m.plan);
                m.totals.add(&entry, 1);
                upsert(&account, &entry, &m.plan, writes)?;
            }
            None => remove(&account, &m.plan, writes),
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
            }
            remove(&v.account, &m.plan, writes);
        }
        let h = daytwo_shared::visitors::pool_history(v.day, v.cell.clone());
        m.totals.add_pooled(&IndexEntry::of(&h, &site.settings, &m.plan), 1);
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
            let plan = IndexPlan::of(day);
            let mut totals = IndexTotals::new(&plan);
            crate::visitors::for_each_pool_row(db, |h, n| {
                totals.add_pooled(&IndexEntry::of(h, &site.settings, &plan), n);
            })?;
            let m = IndexMeta { plan, settings: settings_key(site), ready: false, after: None, totals };
            let clear = |sql: &'static str| Write::new(sql, Vec::new());
            let writes = vec![clear("DELETE FROM account_entry"), clear("DELETE FROM account_list"), write_meta(&m)?];
            db.commit(writes, u64::MAX)?;
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
            let entry = IndexEntry::of(&h, &site.settings, &m.plan);
            m.totals.add(&entry, 1);
            upsert(&account, &entry, &m.plan, &mut writes)?;
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

/// Where the index holds what `q` asks for (a preset's period, or day), if it does.
pub fn answers(m: &IndexMeta, kind: ReportKind, q: &ReportQuery) -> Option<Selection> {
    m.plan.select(kind, q)
}

/// A report from the index: the totals, corrected by whole accounts for what `overlay` (the report's tail)
/// changes; for the account list, the page's rows in index order, each evaluated afresh.
pub fn report<'q>(
    db: &SqlState,
    m: IndexMeta,
    sel: Selection,
    overlay: &Overlay,
    kind: ReportKind,
    site: &'q SiteRecord,
    q: &'q ReportQuery,
) -> ApiResult<ReportBuilder<'q>> {
    let changed = overlay.accounts();
    let mut builder = ReportBuilder::from_totals(kind, &site.settings, q, m.totals.view(sel));
    match (kind, sel.day) {
        (ReportKind::Accounts, Some(slot)) => {
            list(db, overlay, &changed, &mut builder, q, slot, m.totals.listed(slot))?;
        }
        _ => {
            for account in &changed {
                if let Some(old) = stored_entry(db, account)? {
                    builder.add_entry(&old.view(sel), -1);
                }
                if let Some(h) = db.account(overlay, account)? {
                    builder.add_entry(&IndexEntry::of(&h, &site.settings, &m.plan).view(sel), 1);
                }
            }
        }
    }
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
    slot: usize,
    listed_rows: i64,
) -> ApiResult<()> {
    let a = &q.accounts;
    let mut filter = String::from("slot = ?");
    let mut args: Vec<SqlStorageValue> = vec![(slot as i64).into()];
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
    let total = if args.len() == 1 {
        listed_rows.max(0) as usize
    } else {
        db.rows(&format!("SELECT COUNT(*) FROM account_list WHERE {filter}"), args.clone())?
            .first()
            .and_then(|r| r.first())
            .and_then(int)
            .unwrap_or(0)
            .max(0) as usize
    };
    let mut page_args = args.clone();
    page_args.push(((want + changed.len()) as i64).into());
    let rows =
        db.rows(&format!("SELECT account FROM account_list WHERE {filter} ORDER BY {order} LIMIT ?"), page_args)?;
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
        let hit = db.rows(&format!("SELECT 1 FROM account_list WHERE {filter} AND account = ?"), check_args)?;
        stored_changed += usize::from(!hit.is_empty());
        if let Some(h) = db.account(overlay, account)? {
            builder.add(&h);
        }
    }
    builder.add_unlisted(total.saturating_sub(stored_changed).saturating_sub(listed));
    Ok(())
}
