//! A site's rolled-up state as rows of its Durable Object's SQLite database (one table per part of
//! `shared::rollup::RollupState`), so a rollup reads and writes only the rows its batches touch and no
//! value grows with the site's history.
//!
//! | table | row | why |
//! |---|---|---|
//! | `seen(id, received)` | a folded `messageId` and when it arrived | dedup: a message is folded once, whatever redelivers it |
//! | `identity(key, record)` | one raw identity's [`IdentityRecord`] (day cells, modules, name), JSON | bounded by one identity's activity |
//! | `user_link(k, v)` | visitor or previous id → the user it became ([`First`]) | identity resolution at report time |
//! | `group_link(k, v)` | member → its account ([`Latest`]) | idem |
//! | `daily(day, v)` | the site's [`DailyTotals`] of one day | site-wide series |
//! | `meta(k, v)` | `checkpoint` (last raw key folded), `rolled_at` | moves in the same transaction as the rows |
//!
//! Every number is still decided by `shared`: a chunk of messages folds into a delta `RollupState`, the rows
//! it touches are loaded into another, `RollupState::merge` joins them, and the merged rows are written back,
//! all in one `transactionSync` (committed whole or not at all).

use crate::error::{ApiError, ApiResult};
use daytwo_shared::rollup::{DailyTotals, First, IdentityRecord, Latest, RollupState};
use daytwo_shared::time::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use worker::wasm_bindgen::{self, JsCast, JsValue};
use worker::{SqlStorage, SqlStorageValue, js_sys};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen(id TEXT PRIMARY KEY, received INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_received ON seen(received);
CREATE TABLE IF NOT EXISTS identity(key TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS user_link(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS group_link(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS daily(day INTEGER PRIMARY KEY, v TEXT NOT NULL);
";

/// Durable Object SQL accepts at most 100 bound parameters per statement.
const MAX_PARAMS: usize = 100;

fn sql_err(context: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(&format!("state database: {context}"), e)
}

/// One write, run later inside the chunk's transaction.
pub struct Write {
    sql: &'static str,
    args: Vec<SqlStorageValue>,
}

impl Write {
    /// Bytes this write may add to the database (for the storage cap, checked before anything is written).
    fn weight(&self) -> usize {
        self.args
            .iter()
            .map(|a| match a {
                SqlStorageValue::String(s) => s.len(),
                SqlStorageValue::Blob(b) => b.len(),
                _ => 8,
            })
            .sum::<usize>()
            + 16
    }
}

pub struct SqlState {
    sql: SqlStorage,
    storage: worker::Storage,
}

/// What `GET …/stats` shows about the stored state.
#[derive(Debug, Serialize)]
pub struct StateCounts {
    pub identities: u64,
    pub dedup_index: u64,
    pub rolled_up_messages: u64,
    pub database_bytes: usize,
}

fn text(v: &SqlStorageValue) -> Option<&str> {
    match v {
        SqlStorageValue::String(s) => Some(s),
        _ => None,
    }
}

fn int(v: &SqlStorageValue) -> Option<i64> {
    match v {
        SqlStorageValue::Integer(i) => Some(*i),
        SqlStorageValue::Float(f) => Some(*f as i64),
        _ => None,
    }
}

fn to_text<T: Serialize>(v: &T) -> ApiResult<SqlStorageValue> {
    serde_json::to_string(v).map(SqlStorageValue::String).map_err(|e| sql_err("serialise", e))
}

fn from_text<T: DeserializeOwned>(v: Option<&SqlStorageValue>, table: &str) -> ApiResult<T> {
    let s = v.and_then(text).ok_or_else(|| sql_err(table, "missing value"))?;
    serde_json::from_str(s).map_err(|e| sql_err(table, e))
}

impl SqlState {
    /// Opens the database, creating the tables on first use.
    pub fn open(storage: worker::Storage) -> ApiResult<SqlState> {
        let sql = storage.sql();
        sql.exec(SCHEMA, None).map_err(|e| sql_err("schema", e))?;
        Ok(SqlState { sql, storage })
    }

    fn rows(&self, query: &str, args: Vec<SqlStorageValue>) -> ApiResult<Vec<Vec<SqlStorageValue>>> {
        let cursor = self.sql.exec(query, Some(args)).map_err(|e| sql_err(query, e))?;
        cursor.raw().collect::<worker::Result<Vec<_>>>().map_err(|e| sql_err(query, e))
    }

    fn meta(&self, key: &str) -> ApiResult<Option<String>> {
        let rows = self.rows("SELECT v FROM meta WHERE k = ?", vec![key.into()])?;
        Ok(rows.first().and_then(|r| r.first()).and_then(text).map(str::to_owned))
    }

    /// The last raw key folded in.
    pub fn checkpoint(&self) -> ApiResult<Option<String>> {
        self.meta("checkpoint")
    }

    pub fn rolled_at(&self) -> ApiResult<Option<Timestamp>> {
        Ok(self.meta("rolled_at")?.and_then(|s| s.parse().ok()).map(Timestamp))
    }

    pub fn set_meta(key: &'static str, value: String) -> Write {
        let sql = match key {
            "checkpoint" => {
                "INSERT INTO meta(k, v) VALUES ('checkpoint', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v"
            }
            _ => "INSERT INTO meta(k, v) VALUES ('rolled_at', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
        };
        Write { sql, args: vec![value.into()] }
    }

    /// Which of `ids` were already folded.
    pub fn already_seen(&self, ids: &[&str]) -> ApiResult<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        for chunk in ids.chunks(MAX_PARAMS) {
            let marks = vec!["?"; chunk.len()].join(",");
            let query = format!("SELECT id FROM seen WHERE id IN ({marks})");
            let args = chunk.iter().map(|s| SqlStorageValue::from(*s)).collect();
            for row in self.rows(&query, args)? {
                if let Some(id) = row.first().and_then(text) {
                    out.insert(id.to_owned());
                }
            }
        }
        Ok(out)
    }

    pub fn mark_seen(id: &str, received: Timestamp) -> Write {
        Write {
            sql: "INSERT OR IGNORE INTO seen(id, received) VALUES (?, ?)",
            args: vec![id.into(), received.0.into()],
        }
    }

    /// Forgets dedup entries received before `cutoff` (older duplicates count again, as in Segment).
    pub fn prune_seen(cutoff: Timestamp) -> Write {
        Write { sql: "DELETE FROM seen WHERE received < ?", args: vec![cutoff.0.into()] }
    }

    /// The stored rows of every identity, link and day `delta` touches, as a state `delta` can merge into.
    pub fn load_touched(&self, delta: &RollupState) -> ApiResult<RollupState> {
        let mut base = RollupState::default();
        for key in delta.identities.keys() {
            if let Some(row) =
                self.rows("SELECT record FROM identity WHERE key = ?", vec![key.as_str().into()])?.first()
            {
                base.identities.insert(key.clone(), from_text::<IdentityRecord>(row.first(), "identity")?);
            }
        }
        for key in delta.user_of.keys() {
            if let Some(row) = self.rows("SELECT v FROM user_link WHERE k = ?", vec![key.as_str().into()])?.first() {
                base.user_of.insert(key.clone(), from_text::<First<String>>(row.first(), "user_link")?);
            }
        }
        for key in delta.group_of.keys() {
            if let Some(row) = self.rows("SELECT v FROM group_link WHERE k = ?", vec![key.as_str().into()])?.first() {
                base.group_of.insert(key.clone(), from_text::<Latest<String>>(row.first(), "group_link")?);
            }
        }
        for day in delta.daily.keys() {
            if let Some(row) = self.rows("SELECT v FROM daily WHERE day = ?", vec![day.0.into()])?.first() {
                base.daily.insert(*day, from_text::<DailyTotals>(row.first(), "daily")?);
            }
        }
        Ok(base)
    }

    /// Upserts every row of `state` (a merged set of touched rows).
    pub fn save_rows(state: &RollupState, out: &mut Vec<Write>) -> ApiResult<()> {
        const IDENTITY: &str =
            "INSERT INTO identity(key, record) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET record = excluded.record";
        const USER: &str = "INSERT INTO user_link(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v";
        const GROUP: &str = "INSERT INTO group_link(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v";
        const DAILY: &str = "INSERT INTO daily(day, v) VALUES (?, ?) ON CONFLICT(day) DO UPDATE SET v = excluded.v";
        for (k, r) in &state.identities {
            out.push(Write { sql: IDENTITY, args: vec![k.as_str().into(), to_text(r)?] });
        }
        for (k, v) in &state.user_of {
            out.push(Write { sql: USER, args: vec![k.as_str().into(), to_text(v)?] });
        }
        for (k, v) in &state.group_of {
            out.push(Write { sql: GROUP, args: vec![k.as_str().into(), to_text(v)?] });
        }
        for (d, v) in &state.daily {
            out.push(Write { sql: DAILY, args: vec![d.0.into(), to_text(v)?] });
        }
        Ok(())
    }

    /// Deletes the rows `before` has and `after` lacks (erasure).
    pub fn delete_missing(before: &RollupState, after: &RollupState, out: &mut Vec<Write>) {
        for k in before.identities.keys().filter(|k| !after.identities.contains_key(*k)) {
            out.push(Write { sql: "DELETE FROM identity WHERE key = ?", args: vec![k.as_str().into()] });
        }
        for k in before.user_of.keys().filter(|k| !after.user_of.contains_key(*k)) {
            out.push(Write { sql: "DELETE FROM user_link WHERE k = ?", args: vec![k.as_str().into()] });
        }
        for k in before.group_of.keys().filter(|k| !after.group_of.contains_key(*k)) {
            out.push(Write { sql: "DELETE FROM group_link WHERE k = ?", args: vec![k.as_str().into()] });
        }
    }

    /// Every identity and link: what account resolution and the reports read. Day totals are left out.
    pub fn load_accounts_state(&self) -> ApiResult<RollupState> {
        let mut state = RollupState::default();
        for row in self.rows("SELECT key, record FROM identity", Vec::new())? {
            let key = row.first().and_then(text).ok_or_else(|| sql_err("identity", "missing key"))?;
            state.identities.insert(key.to_owned(), from_text(row.get(1), "identity")?);
        }
        let links = |table: &str| -> ApiResult<Vec<(String, String)>> {
            let rows = self.rows(&format!("SELECT k, v FROM {table}"), Vec::new())?;
            Ok(rows
                .into_iter()
                .filter_map(|r| Some((text(r.first()?)?.to_owned(), text(r.get(1)?)?.to_owned())))
                .collect())
        };
        for (k, v) in links("user_link")? {
            state.user_of.insert(k, serde_json::from_str(&v).map_err(|e| sql_err("user_link", e))?);
        }
        for (k, v) in links("group_link")? {
            state.group_of.insert(k, serde_json::from_str(&v).map_err(|e| sql_err("group_link", e))?);
        }
        Ok(state)
    }

    /// Bytes the database holds now.
    pub fn size(&self) -> usize {
        self.sql.database_size()
    }

    /// Runs the writes in one `transactionSync`: all of them or, if any fails, none. Refuses (507, nothing
    /// written) when they could take the database over `cap` bytes.
    pub fn commit(&self, writes: Vec<Write>, cap: u64) -> ApiResult<()> {
        let size = self.size() as u64;
        let growth: u64 = writes.iter().map(|w| w.weight() as u64).sum();
        if size.saturating_add(growth) > cap {
            return Err(ApiError::new(
                507,
                "state_too_large",
                format!(
                    "the rolled-up state of this site would exceed its storage cap ({size} + {growth} bytes > {cap}); \
                     nothing was stored, and reports fold the pending events themselves, up to their limit"
                ),
            ));
        }
        let sql = self.sql.clone();
        let failure: std::rc::Rc<std::cell::RefCell<Option<String>>> = Default::default();
        let seen_failure = failure.clone();
        let body = wasm_bindgen::closure::Closure::once_into_js(move || -> Result<JsValue, JsValue> {
            for w in writes {
                if let Err(e) = sql.exec(w.sql, Some(w.args)) {
                    *seen_failure.borrow_mut() = Some(format!("{}: {e}", w.sql));
                    // Throwing rolls the whole transaction back.
                    return Err(JsValue::from_str("write failed"));
                }
            }
            Ok(JsValue::UNDEFINED)
        });
        let raw: &JsValue = self.storage.as_raw().as_ref();
        let run = js_sys::Reflect::get(raw, &"transactionSync".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .ok_or_else(|| sql_err("transactionSync", "not available"))?;
        match run.call1(raw, &body) {
            Ok(_) => Ok(()),
            Err(e) => {
                Err(sql_err("transaction rolled back", failure.borrow().clone().unwrap_or_else(|| format!("{e:?}"))))
            }
        }
    }

    /// Counts for `GET …/stats`.
    pub fn counts(&self) -> ApiResult<StateCounts> {
        let one = |q: &str| -> ApiResult<u64> {
            Ok(self.rows(q, Vec::new())?.first().and_then(|r| r.first()).and_then(int).unwrap_or(0).max(0) as u64)
        };
        let mut messages = 0u64;
        for row in self.rows("SELECT v FROM daily", Vec::new())? {
            messages += from_text::<DailyTotals>(row.first(), "daily")?.messages;
        }
        Ok(StateCounts {
            identities: one("SELECT COUNT(*) FROM identity")?,
            dedup_index: one("SELECT COUNT(*) FROM seen")?,
            rolled_up_messages: messages,
            database_bytes: self.size(),
        })
    }
}
