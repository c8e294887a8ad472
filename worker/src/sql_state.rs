//! A site's rolled-up state as rows of its Durable Object's SQLite database (one table per part of
//! `shared::rollup::RollupState`), so a rollup reads and writes only the rows its batches touch and no
//! value grows with the site's history.
//!
//! | table | row | why |
//! |---|---|---|
//! | `seen(id, received)` | a folded `messageId` and when it arrived | dedup: a message is folded once, whatever redelivers it |
//! | `identity(key, account, record)` | one raw identity's [`IdentityRecord`] (day cells, modules, name), JSON, and the account it resolves to now | bounded by one identity's activity; reports read the site an account at a time, in `account` order |
//! | `user_link(k, user, v)` | visitor or previous id → the user it became ([`First`]) | resolution; `user` is indexed to find who a changed link moves |
//! | `group_link(k, grp, v)` | member → its account ([`Latest`]) | idem |
//! | `daily(day, v)` | the site's [`DailyTotals`] of one day | site-wide series |
//! | `folded_key(key)` | a raw key folded within the relist margin before the checkpoint | a run re-lists that margin (KV lists are eventually consistent) but reads only keys it has not folded, so a backlog inside the margin cannot stall it |
//! | `meta(k, v)` | `checkpoint` (last raw key folded), `rolled_at`, and the read model's header (`index`, see `read_model`) | moves in the same transaction as the rows |
//!
//! Every number is still decided by `shared`: a chunk of messages folds into a delta `RollupState`, the rows
//! it touches are loaded into another, `RollupState::merge` joins them, and the merged rows are written back,
//! all in one `transactionSync` (committed whole or not at all). The `account` column is
//! `shared::rollup::account_of` over the links ([`SqlLinks`]), recomputed in the same transaction for every
//! identity a chunk's links can move ([`SqlState::affected`]).

use crate::error::{ApiError, ApiResult};
use daytwo_shared::identity::{self, IdentityKey, IdentityKind};
use daytwo_shared::order;
use daytwo_shared::rollup::{
    self, AccountHistory, DailyTotals, First, IdentityRecord, Latest, Links, MAX_LINK_HOPS, RollupState,
};
use daytwo_shared::time::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use worker::wasm_bindgen::{self, JsCast, JsValue};
use worker::{SqlStorage, SqlStorageValue, js_sys};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen(id TEXT PRIMARY KEY, received INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_received ON seen(received);
CREATE TABLE IF NOT EXISTS identity(key TEXT PRIMARY KEY, account TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS identity_account ON identity(account, key);
CREATE TABLE IF NOT EXISTS user_link(k TEXT PRIMARY KEY, user TEXT NOT NULL, v TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS user_link_user ON user_link(user);
CREATE TABLE IF NOT EXISTS group_link(k TEXT PRIMARY KEY, grp TEXT NOT NULL, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS daily(day INTEGER PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folded_key(key TEXT PRIMARY KEY);
";

/// Durable Object SQL accepts at most 100 bound parameters per statement.
const MAX_PARAMS: usize = 100;

pub(crate) fn sql_err(context: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(&format!("state database: {context}"), e)
}

/// One write, run later inside the chunk's transaction.
pub struct Write {
    sql: &'static str,
    args: Vec<SqlStorageValue>,
}

impl Write {
    pub fn new(sql: &'static str, args: Vec<SqlStorageValue>) -> Write {
        Write { sql, args }
    }

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

pub(crate) fn text(v: &SqlStorageValue) -> Option<&str> {
    match v {
        SqlStorageValue::String(s) => Some(s),
        _ => None,
    }
}

pub(crate) fn int(v: &SqlStorageValue) -> Option<i64> {
    match v {
        SqlStorageValue::Integer(i) => Some(*i),
        SqlStorageValue::Float(f) => Some(*f as i64),
        _ => None,
    }
}

pub(crate) fn to_text<T: Serialize>(v: &T) -> ApiResult<SqlStorageValue> {
    serde_json::to_string(v).map(SqlStorageValue::String).map_err(|e| sql_err("serialise", e))
}

pub(crate) fn from_text<T: DeserializeOwned>(v: Option<&SqlStorageValue>, table: &str) -> ApiResult<T> {
    let s = v.and_then(text).ok_or_else(|| sql_err(table, "missing value"))?;
    serde_json::from_str(s).map_err(|e| sql_err(table, e))
}

impl SqlState {
    /// Opens the database, creating the tables on first use.
    pub fn open(storage: worker::Storage) -> ApiResult<SqlState> {
        let sql = storage.sql();
        sql.exec(SCHEMA, None).map_err(|e| sql_err("schema", e))?;
        sql.exec(crate::read_model::SCHEMA, None).map_err(|e| sql_err("schema", e))?;
        sql.exec(crate::site_config::SCHEMA, None).map_err(|e| sql_err("schema", e))?;
        sql.exec(crate::visitors::SCHEMA, None).map_err(|e| sql_err("schema", e))?;
        sql.exec(crate::erasure::SCHEMA, None).map_err(|e| sql_err("schema", e))?;
        Ok(SqlState { sql, storage })
    }

    pub(crate) fn rows(&self, query: &str, args: Vec<SqlStorageValue>) -> ApiResult<Vec<Vec<SqlStorageValue>>> {
        let cursor = self.sql.exec(query, Some(args)).map_err(|e| sql_err(query, e))?;
        cursor.raw().collect::<worker::Result<Vec<_>>>().map_err(|e| sql_err(query, e))
    }

    pub fn meta(&self, key: &str) -> ApiResult<Option<String>> {
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
        Write {
            sql: "INSERT INTO meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
            args: vec![key.into(), value.into()],
        }
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

    /// Which of `keys` (raw keys) were folded already.
    pub fn folded_keys(&self, keys: &[String]) -> ApiResult<HashSet<String>> {
        let mut out = HashSet::new();
        for chunk in keys.chunks(MAX_PARAMS) {
            let marks = vec!["?"; chunk.len()].join(",");
            let query = format!("SELECT key FROM folded_key WHERE key IN ({marks})");
            let args = chunk.iter().map(|s| SqlStorageValue::from(s.as_str())).collect();
            for row in self.rows(&query, args)? {
                out.extend(row.first().and_then(text).map(str::to_owned));
            }
        }
        Ok(out)
    }

    pub fn mark_folded(key: &str) -> Write {
        Write { sql: "INSERT OR IGNORE INTO folded_key(key) VALUES (?)", args: vec![key.into()] }
    }

    /// Forgets folded raw keys listed before `from_key` (outside the relist margin: never listed again).
    pub fn prune_folded(from_key: String) -> Write {
        Write { sql: "DELETE FROM folded_key WHERE key < ?", args: vec![from_key.into()] }
    }

    /// Forgets dedup entries received before `cutoff` (older duplicates count again, as in Segment).
    pub fn prune_seen(cutoff: Timestamp) -> Write {
        Write { sql: "DELETE FROM seen WHERE received < ?", args: vec![cutoff.0.into()] }
    }

    /// Joins `delta` (new messages folded by `shared`) with the stored rows it touches, and works out where every
    /// identity it can move belongs now: identities new to the site, and every identity a link whose target
    /// changed can move ([`SqlState::affected`]), are resolved again; the others keep their stored account.
    pub fn fold_in(&self, delta: &RollupState) -> ApiResult<Folded> {
        let mut merged = RollupState::default();
        let mut previous = BTreeMap::new();
        for key in delta.identities.keys() {
            let rows = self.rows("SELECT account, record FROM identity WHERE key = ?", vec![key.as_str().into()])?;
            if let Some(row) = rows.first() {
                let account = row.first().and_then(text).ok_or_else(|| sql_err("identity", "missing account"))?;
                previous.insert(key.clone(), account.to_owned());
                merged.identities.insert(key.clone(), from_text::<IdentityRecord>(row.get(1), "identity")?);
            }
        }
        for key in delta.user_of.keys() {
            if let Some(row) = self.rows("SELECT v FROM user_link WHERE k = ?", vec![key.as_str().into()])?.first() {
                merged.user_of.insert(key.clone(), from_text::<First<String>>(row.first(), "user_link")?);
            }
        }
        for key in delta.group_of.keys() {
            if let Some(row) = self.rows("SELECT v FROM group_link WHERE k = ?", vec![key.as_str().into()])?.first() {
                merged.group_of.insert(key.clone(), from_text::<Latest<String>>(row.first(), "group_link")?);
            }
        }
        for day in delta.daily.keys() {
            if let Some(row) = self.rows("SELECT v FROM daily WHERE day = ?", vec![day.0.into()])?.first() {
                merged.daily.insert(*day, from_text::<DailyTotals>(row.first(), "daily")?);
            }
        }
        let stored_user = order::map(merged.user_of.iter().map(|(k, v)| (k.clone(), v.value.clone())));
        let stored_group = order::map(merged.group_of.iter().map(|(k, v)| (k.clone(), v.value.clone())));
        merged.merge(delta);
        // A link repeated with the same target (every message of a grouped user repeats its group) moves nobody.
        let changed = |stored: &BTreeMap<String, String>, k: &String, v: &String| stored.get(k) != Some(v);
        let seeds: Vec<String> = merged
            .identities
            .keys()
            .filter(|k| !previous.contains_key(*k))
            .chain(merged.user_of.iter().filter(|(k, v)| changed(&stored_user, k, &v.value)).map(|(k, _)| k))
            .chain(merged.group_of.iter().filter(|(k, v)| changed(&stored_group, k, &v.value)).map(|(k, _)| k))
            .cloned()
            .collect();
        let mut accounts = self.resolve(&self.affected(seeds)?, &merged);
        for key in merged.identities.keys() {
            if let (false, Some(account)) = (accounts.contains_key(key), previous.get(key)) {
                accounts.insert(key.clone(), account.clone());
            }
        }
        for key in accounts.keys().filter(|k| !merged.identities.contains_key(*k)) {
            let rows = self.rows("SELECT account FROM identity WHERE key = ?", vec![key.as_str().into()])?;
            if let Some(account) = rows.first().and_then(|r| r.first()).and_then(text) {
                previous.insert(key.clone(), account.to_owned());
            }
        }
        Ok(Folded { merged, accounts, previous })
    }

    /// Upserts every row of `state` (a merged set of touched rows), with each identity's account from
    /// `accounts`, and moves every other identity of `accounts` to its (new) account.
    pub fn save_rows(state: &RollupState, accounts: &BTreeMap<String, String>, out: &mut Vec<Write>) -> ApiResult<()> {
        const IDENTITY: &str = "INSERT INTO identity(key, account, record) VALUES (?, ?, ?) \
                                ON CONFLICT(key) DO UPDATE SET account = excluded.account, record = excluded.record";
        const MOVE: &str = "UPDATE identity SET account = ? WHERE key = ?";
        const USER: &str = "INSERT INTO user_link(k, user, v) VALUES (?, ?, ?) \
                            ON CONFLICT(k) DO UPDATE SET user = excluded.user, v = excluded.v";
        const GROUP: &str = "INSERT INTO group_link(k, grp, v) VALUES (?, ?, ?) \
                             ON CONFLICT(k) DO UPDATE SET grp = excluded.grp, v = excluded.v";
        const DAILY: &str = "INSERT INTO daily(day, v) VALUES (?, ?) ON CONFLICT(day) DO UPDATE SET v = excluded.v";
        for (k, r) in &state.identities {
            let account = accounts.get(k).cloned().unwrap_or_else(|| k.clone());
            out.push(Write { sql: IDENTITY, args: vec![k.as_str().into(), account.into(), to_text(r)?] });
        }
        for (k, account) in accounts.iter().filter(|(k, _)| !state.identities.contains_key(*k)) {
            out.push(Write { sql: MOVE, args: vec![account.as_str().into(), k.as_str().into()] });
        }
        for (k, v) in &state.user_of {
            out.push(Write { sql: USER, args: vec![k.as_str().into(), v.value.as_str().into(), to_text(v)?] });
        }
        for (k, v) in &state.group_of {
            out.push(Write { sql: GROUP, args: vec![k.as_str().into(), v.value.as_str().into(), to_text(v)?] });
        }
        for (d, v) in &state.daily {
            out.push(Write { sql: DAILY, args: vec![d.0.into(), to_text(v)?] });
        }
        Ok(())
    }

    /// Every identity whose account can change when the links of `seeds` change: the seeds, and whoever
    /// became (through up to [`MAX_LINK_HOPS`] user links) a user among them.
    pub fn affected(&self, seeds: impl IntoIterator<Item = String>) -> ApiResult<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        let mut frontier: Vec<String> = seeds.into_iter().collect();
        for _ in 0..=MAX_LINK_HOPS {
            let mut next = Vec::new();
            for key in frontier {
                if out.contains(&key) {
                    continue;
                }
                if let Some(user) = identity::id_of(&key, IdentityKind::User) {
                    for row in self.rows("SELECT k FROM user_link WHERE user = ?", vec![user.into()])? {
                        next.extend(row.first().and_then(text).filter(|k| !out.contains(*k)).map(str::to_owned));
                    }
                }
                out.insert(key);
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        Ok(out)
    }

    /// The accounts of `keys` now, with `overlay`'s links (a chunk's, not written yet) over the stored ones.
    pub fn resolve(&self, keys: &BTreeSet<String>, overlay: &RollupState) -> BTreeMap<String, String> {
        let none = HashSet::new();
        let links = SqlLinks { db: self, overlay, removed: &none };
        order::map(keys.iter().map(|k| (k.clone(), rollup::account_of(&links, k))))
    }

    /// The stored identities of one account, in key order.
    fn members(&self, account: &str) -> ApiResult<Vec<(String, IdentityRecord)>> {
        let rows =
            self.rows("SELECT key, record FROM identity WHERE account = ? ORDER BY key", vec![account.into()])?;
        rows.iter()
            .map(|r| {
                let key = r.first().and_then(text).ok_or_else(|| sql_err("identity", "missing key"))?;
                Ok((key.to_owned(), from_text(r.get(1), "identity")?))
            })
            .collect()
    }

    /// The stored identity keys of one account.
    pub fn member_keys(&self, account: &str) -> ApiResult<BTreeSet<String>> {
        let rows = self.rows("SELECT key FROM identity WHERE account = ?", vec![account.into()])?;
        Ok(order::set(rows.iter().filter_map(|r| r.first().and_then(text).map(str::to_owned))))
    }

    /// Streams every account of the site, one resolved history at a time, with `overlay` (a report's tail)
    /// laid over the stored rows. Memory: one account, plus the
    /// identities the tail touches.
    pub fn for_each_account(&self, overlay: &Overlay, mut f: impl FnMut(&AccountHistory)) -> ApiResult<()> {
        let cursor = self
            .sql
            .exec("SELECT account, key, record FROM identity ORDER BY account, key", None)
            .map_err(|e| sql_err("stream", e))?;
        let mut current: Option<(String, Vec<(String, IdentityRecord)>)> = None;
        let mut emitted = HashSet::new();
        let mut flush = |current: Option<(String, Vec<(String, IdentityRecord)>)>| {
            if let Some((account, members)) = current {
                if let Some(h) = overlay.history(&account, members) {
                    f(&h);
                }
                emitted.insert(account);
            }
        };
        for row in cursor.raw() {
            let row = row.map_err(|e| sql_err("stream", e))?;
            let account = row.first().and_then(text).ok_or_else(|| sql_err("identity", "missing account"))?;
            let key = row.get(1).and_then(text).ok_or_else(|| sql_err("identity", "missing key"))?;
            if current.as_ref().is_none_or(|(a, _)| a != account) {
                flush(current.take());
                current = Some((account.to_owned(), Vec::new()));
            }
            if !overlay.moved.contains_key(key)
                && let Some((_, members)) = current.as_mut()
            {
                members.push((key.to_owned(), from_text(row.get(2), "identity")?));
            }
        }
        flush(current.take());
        // Accounts only the tail knows (new ones, or formed by the tail's links).
        let rest = order::set(overlay.moved.values().filter(|a| !emitted.contains(*a)));
        for account in rest {
            if let Some(h) = overlay.history(account, Vec::new()) {
                f(&h);
            }
        }
        Ok(())
    }

    /// One account by its key, with `overlay` laid over it; `None` if it has no identity.
    pub fn account(&self, overlay: &Overlay, account: &str) -> ApiResult<Option<AccountHistory>> {
        let members: Vec<_> =
            self.members(account)?.into_iter().filter(|(k, _)| !overlay.moved.contains_key(k)).collect();
        Ok(overlay.history(account, members))
    }

    /// The identity keys that became user `user` (raw id) through user links, however many hops: the
    /// visitor ids and previous ids of one person.
    pub fn person_keys(&self, user: &str) -> ApiResult<BTreeSet<String>> {
        let mut out = BTreeSet::from([IdentityKey::user(user).into_string()]);
        let mut frontier = vec![user.to_owned()];
        for _ in 0..=MAX_LINK_HOPS {
            let mut next = Vec::new();
            for u in frontier {
                for row in self.rows("SELECT k FROM user_link WHERE user = ?", vec![u.as_str().into()])? {
                    if let Some(k) = row.first().and_then(text)
                        && out.insert(k.to_owned())
                        && let Some(previous) = identity::id_of(k, IdentityKind::User)
                    {
                        next.push(previous.to_owned());
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        Ok(out)
    }

    /// Every identity of account `account`: the rows resolved to it, the identities placed in it by a group
    /// call (a member whose activity is all recorded under the account has no row of its own), and the ids
    /// that became those members.
    pub fn account_keys(&self, account: &str) -> ApiResult<BTreeSet<String>> {
        let mut out = self.member_keys(account)?;
        out.insert(account.to_owned());
        if let Some(group) = identity::id_of(account, IdentityKind::Account) {
            for row in self.rows("SELECT k FROM group_link WHERE grp = ?", vec![group.into()])? {
                let Some(k) = row.first().and_then(text) else { continue };
                match identity::id_of(k, IdentityKind::User) {
                    Some(user) => out.extend(self.person_keys(user)?),
                    None => {
                        out.insert(k.to_owned());
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether any identity row or link names `key`.
    pub fn knows(&self, key: &str) -> ApiResult<bool> {
        let rows = self.rows(
            "SELECT (SELECT COUNT(*) FROM identity WHERE key = ?) + (SELECT COUNT(*) FROM user_link WHERE k = ?) \
             + (SELECT COUNT(*) FROM group_link WHERE k = ?)",
            vec![key.into(), key.into(), key.into()],
        )?;
        Ok(rows.first().and_then(|r| r.first()).and_then(int).unwrap_or(0) > 0)
    }

    /// The writes that erase the identities `doomed`: their rows and every link from or to them (the rule is
    /// `shared::rollup::link_survives_erasure`), and the new accounts of identities left behind whose links
    /// go. Returns the writes and the identities erased.
    pub fn erase_identities(&self, doomed: BTreeSet<String>) -> ApiResult<(Vec<Write>, BTreeSet<String>)> {
        let mut dropped: Vec<(&'static str, String)> = Vec::new();
        for table in ["user_link", "group_link"] {
            let (column, kind) =
                if table == "user_link" { ("user", IdentityKind::User) } else { ("grp", IdentityKind::Account) };
            // A scan of the links (erasure is a rare admin operation), row by row, never all in memory.
            let query = format!("SELECT k, {column} FROM {table}");
            let cursor = self.sql.exec(&query, None).map_err(|e| sql_err(&query, e))?;
            for row in cursor.raw() {
                let row = row.map_err(|e| sql_err(table, e))?;
                let (Some(k), Some(to)) = (row.first().and_then(text), row.get(1).and_then(text)) else { continue };
                if !rollup::link_survives_erasure(&doomed, k, IdentityKey::new(kind, to).as_str()) {
                    dropped.push((table, k.to_owned()));
                }
            }
        }
        let mut writes = Vec::new();
        for key in &doomed {
            writes.push(Write { sql: "DELETE FROM identity WHERE key = ?", args: vec![key.as_str().into()] });
        }
        for (table, k) in &dropped {
            let sql = if *table == "user_link" {
                "DELETE FROM user_link WHERE k = ?"
            } else {
                "DELETE FROM group_link WHERE k = ?"
            };
            writes.push(Write { sql, args: vec![k.as_str().into()] });
        }
        // Whoever is left behind with a link gone resolves again, without the erased links.
        let removed: HashSet<String> = dropped.iter().map(|(_, k)| k.clone()).collect();
        let survivors = self.affected(removed.iter().filter(|k| !doomed.contains(*k)).cloned())?;
        let links = SqlLinks { db: self, overlay: &RollupState::default(), removed: &removed };
        for key in survivors.iter().filter(|k| !doomed.contains(*k)) {
            writes.push(Write {
                sql: "UPDATE identity SET account = ? WHERE key = ?",
                args: vec![rollup::account_of(&links, key).into(), key.as_str().into()],
            });
        }
        Ok((writes, doomed))
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

/// A delta joined with the stored rows it touches ([`SqlState::fold_in`]).
pub struct Folded {
    /// The touched rows with the delta merged in (`RollupState::merge`).
    pub merged: RollupState,
    /// Identity → its account now: every identity of `merged`, and every stored identity a changed link moves.
    pub accounts: BTreeMap<String, String>,
    /// Identity → the account it was stored under (absent for identities new to the site).
    pub previous: BTreeMap<String, String>,
}

/// The links as `shared::rollup::account_of` reads them: `overlay`'s (a chunk's or a tail's, not written)
/// over the stored rows, without the `removed` ones (an erasure's).
pub struct SqlLinks<'a> {
    db: &'a SqlState,
    overlay: &'a RollupState,
    removed: &'a HashSet<String>,
}

impl SqlLinks<'_> {
    fn stored(&self, query: &str, key: &str) -> Option<String> {
        let rows = self.db.rows(query, vec![key.into()]).ok()?;
        rows.first().and_then(|r| r.first()).and_then(text).map(str::to_owned)
    }
}

impl Links for SqlLinks<'_> {
    fn user_of(&self, identity: &str) -> Option<String> {
        if self.removed.contains(identity) {
            return None;
        }
        match self.overlay.user_of.get(identity) {
            Some(u) => Some(u.value.clone()),
            None => self.stored("SELECT user FROM user_link WHERE k = ?", identity),
        }
    }

    fn group_of(&self, identity: &str) -> Option<String> {
        if self.removed.contains(identity) {
            return None;
        }
        match self.overlay.group_of.get(identity) {
            Some(g) => Some(g.value.clone()),
            None => self.stored("SELECT grp FROM group_link WHERE k = ?", identity),
        }
    }
}

/// Changes not written yet laid over the stored rows (a report's tail, or a rollup chunk while it updates the
/// read model): every identity they can move, with its merged record, its account now and its account
/// before. Stored rows of these identities are skipped while streaming; they join their account from here.
pub struct Overlay {
    /// identity → its account now.
    pub moved: BTreeMap<String, String>,
    /// identity → the account it was stored under (absent for identities new to the site).
    pub previous: BTreeMap<String, String>,
    /// Merged records of the moved identities (stored row + changes).
    records: BTreeMap<String, IdentityRecord>,
}

impl Overlay {
    pub fn empty() -> Overlay {
        Overlay { moved: BTreeMap::new(), previous: BTreeMap::new(), records: BTreeMap::new() }
    }

    /// A report's tail over the stored rows.
    pub fn of(db: &SqlState, tail: &RollupState) -> ApiResult<Overlay> {
        if tail.identities.is_empty() && tail.user_of.is_empty() && tail.group_of.is_empty() {
            return Ok(Overlay::empty());
        }
        Overlay::from_folded(db, db.fold_in(tail)?)
    }

    /// A joined delta ([`SqlState::fold_in`]) over the stored rows.
    pub fn from_folded(db: &SqlState, folded: Folded) -> ApiResult<Overlay> {
        let Folded { mut merged, accounts, previous } = folded;
        let mut records = BTreeMap::new();
        for key in accounts.keys() {
            if let Some(r) = merged.identities.remove(key) {
                records.insert(key.clone(), r);
            } else if let Some(row) =
                db.rows("SELECT record FROM identity WHERE key = ?", vec![key.as_str().into()])?.first()
            {
                records.insert(key.clone(), from_text(row.first(), "identity")?);
            }
        }
        Ok(Overlay { moved: accounts, previous, records })
    }

    /// Every account whose history the overlay changes: where its identities are now and where they were.
    pub fn accounts(&self) -> BTreeSet<String> {
        order::set(self.moved.values().chain(self.previous.values()).cloned())
    }

    /// The history of `account` from its stored members (moved ones already left out) and the moved
    /// identities now in it, absorbed in key order as `RollupState::accounts` does; `None` without members.
    pub fn history(&self, account: &str, mut members: Vec<(String, IdentityRecord)>) -> Option<AccountHistory> {
        for (key, acc) in &self.moved {
            if acc == account
                && let Some(r) = self.records.get(key)
            {
                members.push((key.clone(), r.clone()));
            }
        }
        if members.is_empty() {
            return None;
        }
        order::sort_by(&mut members, |a, b| a.0.cmp(&b.0));
        let mut h = AccountHistory { key: account.to_owned(), ..AccountHistory::default() };
        for (key, rec) in members {
            h.absorb_member(key, rec);
        }
        Some(h)
    }
}
