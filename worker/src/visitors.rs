//! Anonymous visitors past their window, in the site's object: `shared::visitors` decides who may be
//! compacted and that it changes no figure; this module keeps the two tables and runs the compaction.
//!
//! | table | row | why |
//! |---|---|---|
//! | `visitor_seen(key, at)` | an anonymous identity and when its last message was received (the raw key's time) | the candidates, oldest first; a row leaves when examined (an identity touched again comes back) |
//! | `visitor_pool(day, cell, n)` | `n` compacted visitors whose one day of activity was `cell` (JSON) on `day` | every report adds each row once with weight `n`; no id is kept |
//!
//! The window is measured against the checkpoint's time (the receipt time of the last raw batch folded),
//! not the clock, so a rollup catching up on a backlog never compacts a visitor whose identify is still in
//! the backlog; a bulk import (everything received at once) compacts nothing until the window has passed.

use crate::error::ApiResult;
use crate::sql_state::{SqlState, Write, from_text, int, sql_err, text};
use crate::store::SiteRecord;
use daytwo_shared::identity::{self, IdentityKind};
use daytwo_shared::rollup::{AccountHistory, DayCell, IdentityRecord, RollupState};
use daytwo_shared::time::{Day, Timestamp};
use daytwo_shared::visitors::{compactable, pool_history};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS visitor_seen(key TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS visitor_seen_at ON visitor_seen(at);
CREATE TABLE IF NOT EXISTS visitor_pool(day INTEGER NOT NULL, cell TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY(day, cell));
";

/// Candidates examined per transaction, and transactions per rollup run: a run compacts at most
/// 5 × 1,000 visitors (the next run goes on), so its time stays bounded whatever the traffic.
pub const COMPACT_PAGE: usize = 1000;
pub const COMPACT_PAGES_PER_RUN: usize = 5;

/// In a rollup chunk: records when the anonymous identities the chunk touched were last received.
pub fn touch(merged: &RollupState, received: Timestamp, out: &mut Vec<Write>) {
    for key in merged.identities.keys().filter(|k| identity::is(k, IdentityKind::Visitor)) {
        out.push(Write::new(
            "INSERT INTO visitor_seen(key, at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET at = max(at, excluded.at)",
            vec![key.as_str().into(), received.0.into()],
        ));
    }
}

/// A visitor compacted in this transaction: the account key it had, and its one day.
pub struct Compacted {
    pub account: String,
    pub day: Day,
    pub cell: DayCell,
}

/// Compacts the anonymous visitors last received before `horizon` that `shared::visitors::compactable`
/// allows and that have no link of their own (an identify or a group call keeps the row). Returns how many.
pub fn compact(db: &SqlState, site: &SiteRecord, today: Day, horizon: Timestamp) -> ApiResult<usize> {
    let mut total = 0;
    for _ in 0..COMPACT_PAGES_PER_RUN {
        let rows = db.rows(
            "SELECT v.key, i.account, i.record FROM visitor_seen v LEFT JOIN identity i ON i.key = v.key \
             WHERE v.at < ? ORDER BY v.at, v.key LIMIT ?",
            vec![horizon.0.into(), (COMPACT_PAGE as i64).into()],
        )?;
        let examined = rows.len();
        let mut writes = Vec::new();
        let mut done = Vec::new();
        for row in &rows {
            let key = row.first().and_then(text).ok_or_else(|| sql_err("visitor_seen", "missing key"))?;
            writes.push(Write::new("DELETE FROM visitor_seen WHERE key = ?", vec![key.into()]));
            // An erased identity leaves only its candidate row.
            if row.get(1).and_then(text) != Some(key) || has_links(db, key)? {
                continue;
            }
            let record: IdentityRecord = from_text(row.get(2), "identity")?;
            if let Some((day, cell)) = compactable(key, &record) {
                writes.push(Write::new("DELETE FROM identity WHERE key = ?", vec![key.into()]));
                done.push(Compacted { account: key.to_owned(), day, cell });
            }
        }
        drop(rows);
        let mut pool: BTreeMap<(i32, String), i64> = BTreeMap::new();
        for c in &done {
            *pool.entry((c.day.0, to_text_string(&c.cell)?)).or_default() += 1;
        }
        for ((day, cell), n) in pool {
            writes.push(Write::new(
                "INSERT INTO visitor_pool(day, cell, n) VALUES (?, ?, ?) \
                 ON CONFLICT(day, cell) DO UPDATE SET n = n + excluded.n",
                vec![day.into(), cell.into(), n.into()],
            ));
        }
        crate::read_model::compacted(db, site, today, &done, &mut writes)?;
        // Compaction only removes rows: no cap applies.
        db.commit(writes, u64::MAX)?;
        total += done.len();
        if examined < COMPACT_PAGE {
            break;
        }
    }
    Ok(total)
}

fn to_text_string(cell: &DayCell) -> ApiResult<String> {
    serde_json::to_string(cell).map_err(|e| sql_err("visitor_pool", e))
}

/// Whether `key` links to a user or an account, or anything resolves to it besides itself.
fn has_links(db: &SqlState, key: &str) -> ApiResult<bool> {
    let rows = db.rows(
        "SELECT (SELECT COUNT(*) FROM user_link WHERE k = ?) + (SELECT COUNT(*) FROM group_link WHERE k = ?) \
         + (SELECT COUNT(*) FROM identity WHERE account = ? AND key <> account)",
        vec![key.into(), key.into(), key.into()],
    )?;
    Ok(rows.first().and_then(|r| r.first()).and_then(int).unwrap_or(1) > 0)
}

/// Every pool row as the history it stands for and its count.
pub fn for_each_pool_row(db: &SqlState, mut f: impl FnMut(&AccountHistory, i64)) -> ApiResult<()> {
    let rows = db.rows("SELECT day, cell, n FROM visitor_pool ORDER BY day, cell", Vec::new())?;
    for row in &rows {
        let day = row.first().and_then(int).ok_or_else(|| sql_err("visitor_pool", "missing day"))?;
        let cell: DayCell = from_text(row.get(1), "visitor_pool")?;
        let n = row.get(2).and_then(int).unwrap_or(0);
        f(&pool_history(Day(day as i32), cell), n);
    }
    Ok(())
}

/// Compacted visitors and pool rows, for `stats`.
pub fn counts(db: &SqlState) -> ApiResult<(i64, i64)> {
    let rows = db.rows("SELECT COALESCE(SUM(n), 0), COUNT(*) FROM visitor_pool", Vec::new())?;
    let row = rows.first();
    Ok((row.and_then(|r| r.first()).and_then(int).unwrap_or(0), row.and_then(|r| r.get(1)).and_then(int).unwrap_or(0)))
}
