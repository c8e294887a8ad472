//! The mergeable rollup state: what every report is computed from.
//!
//! Messages fold into per-identity, per-day cells (signal counters, revenue, latest NPS and version), identity
//! links and per-day site totals. The state is a set-union over messages: `merge` is associative and
//! commutative, and a `messageId` already seen (within the dedup window) changes nothing, whether it arrives
//! through `fold` or through `merge`. Additive parts can be un-counted because the dedup index remembers
//! what each recent message added; lattice parts (min/max registers) are idempotent by construction.

use crate::config::TrustSettings;
use crate::identity::{self, IdentityKey, IdentityKind};
use crate::message::{KeyKind, Message, MessageType};
use crate::signals::{ConsiderationPaths, EventMapping, Signal};
use crate::time::{Day, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A register that keeps the latest value (ties broken by value, so the join is deterministic).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Latest<T> {
    pub at: Timestamp,
    pub value: T,
}

/// A register that keeps the earliest value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct First<T> {
    pub at: Timestamp,
    pub value: T,
}

fn join_latest<T: Ord + Clone>(slot: &mut Option<Latest<T>>, other: &Option<Latest<T>>) {
    if let Some(o) = other
        && slot.as_ref().is_none_or(|s| o > s)
    {
        *slot = Some(o.clone());
    }
}

/// One identity's activity on one UTC day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCell {
    /// Messages per signal, indexed by `Signal::index`.
    pub counts: [u32; Signal::COUNT],
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revenue_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps: Option<Latest<u8>>,
    /// Boxed: most cells carry no version report, and cells are the bulk of the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Box<Latest<String>>>,
    /// The part of the purchases, renewals, churns and revenue above that came with the public write key
    /// (boxed: absent from every cell a browser sent no such event for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<Box<PublicShare>>,
}

/// What of a cell's lifecycle events and revenue came with the site's public write key: what a site that
/// trusts only its secret key leaves out (`AccountHistory::counted`), and what the budget report shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicShare {
    /// Messages per lifecycle signal, in `PublicShare::SIGNALS` order.
    pub counts: [u32; 3],
    #[serde(default, skip_serializing_if = "is_zero")]
    pub revenue_minor: i64,
    /// Already taken out of the cell's counts and revenue (`counted`), so taking it out twice does nothing.
    #[serde(skip)]
    pub excluded: bool,
}

impl PublicShare {
    /// The signals only the secret key may move when the site says so.
    pub const SIGNALS: [Signal; 3] = [Signal::Purchase, Signal::Renewal, Signal::Churn];

    fn is_empty(&self) -> bool {
        self.counts == [0; 3] && self.revenue_minor == 0
    }
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

impl DayCell {
    pub fn count(&self, s: Signal) -> u32 {
        self.counts[s.index()]
    }

    /// Adds (sign = 1) or removes (sign = -1) one message's additive contribution.
    fn apply(&mut self, signals: u32, revenue_minor: i64, via: KeyKind, sign: i64) {
        let step = |c: &mut u32| *c = if sign > 0 { c.saturating_add(1) } else { c.saturating_sub(1) };
        for s in Signal::ALL {
            if signals & (1 << s.index()) != 0 {
                step(&mut self.counts[s.index()]);
            }
        }
        self.revenue_minor = self.revenue_minor.saturating_add(sign * revenue_minor);
        let lifecycle = PublicShare::SIGNALS.iter().any(|s| has(signals, *s));
        if via == KeyKind::Public && (lifecycle || revenue_minor != 0) {
            let share = self.public.get_or_insert_with(Box::default);
            for (i, s) in PublicShare::SIGNALS.iter().enumerate() {
                if has(signals, *s) {
                    step(&mut share.counts[i]);
                }
            }
            share.revenue_minor = share.revenue_minor.saturating_add(sign * revenue_minor);
            if share.is_empty() {
                self.public = None;
            }
        }
    }

    /// The cell's revenue that came with the public write key.
    pub fn public_revenue(&self) -> i64 {
        self.public.as_ref().map_or(0, |p| p.revenue_minor)
    }

    /// Takes the public share out of the counts and revenue (once).
    fn exclude_public(&mut self) {
        let Some(share) = self.public.as_mut().filter(|p| !p.excluded) else { return };
        for (i, s) in PublicShare::SIGNALS.iter().enumerate() {
            let c = &mut self.counts[s.index()];
            *c = c.saturating_sub(share.counts[i]);
        }
        self.revenue_minor = self.revenue_minor.saturating_sub(share.revenue_minor);
        share.excluded = true;
    }

    /// Adds another cell (counters and revenue add, registers join).
    pub fn absorb(&mut self, other: &DayCell) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a = a.saturating_add(*b);
        }
        self.revenue_minor = self.revenue_minor.saturating_add(other.revenue_minor);
        if let Some(o) = &other.public {
            let share = self.public.get_or_insert_with(Box::default);
            for (a, b) in share.counts.iter_mut().zip(o.counts.iter()) {
                *a = a.saturating_add(*b);
            }
            share.revenue_minor = share.revenue_minor.saturating_add(o.revenue_minor);
        }
        join_latest(&mut self.nps, &other.nps);
        if let Some(o) = &other.version
            && self.version.as_ref().is_none_or(|s| o > s)
        {
            self.version = Some(o.clone());
        }
    }
}

/// Everything known about one raw identity (`a:` anonymous id, `u:` user id, `g:` group id).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRecord {
    pub days: BTreeMap<Day, DayCell>,
    /// Module → first day it was licensed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub modules: BTreeMap<String, Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Latest<String>>,
}

impl IdentityRecord {
    /// Adds a message's count to its day and joins what it says of the identity: its name, a survey score, a
    /// version, a module's first day.
    fn add(&mut self, m: &Message, s: &Seen) {
        let (at, signals) = (m.timestamp, s.signals);
        let mapping = |key: &str| m.properties.get(key).and_then(Value::as_str).map(str::to_owned);
        let cell = self.days.entry(s.day).or_default();
        cell.apply(signals, s.revenue_minor, s.via, 1);
        if has(signals, Signal::SurveyResponded)
            && let Some(n) = m.properties.get("nps").and_then(Value::as_u64).filter(|n| *n <= 10)
        {
            join_latest(&mut cell.nps, &Some(Latest { at, value: n as u8 }));
        }
        if has(signals, Signal::VersionReported)
            && let Some(v) = mapping("version")
        {
            let candidate = Box::new(Latest { at, value: v });
            if cell.version.as_ref().is_none_or(|s| candidate > *s) {
                cell.version = Some(candidate);
            }
        }
        if let Some(name) = m.display_name()
            && self.name.as_ref().is_none_or(|n| (at, name) > (n.at, n.value.as_str()))
        {
            self.name = Some(Latest { at, value: name.to_owned() });
        }
        if has(signals, Signal::ModuleLicensed)
            && let Some(module) = mapping("module")
        {
            let first = self.modules.entry(module).or_insert(s.day);
            *first = (*first).min(s.day);
        }
    }
}

/// Site-wide totals of one day (by event time).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyTotals {
    pub messages: u64,
    /// Messages per type, in `MessageType` order: track, identify, page, screen, group, alias.
    pub by_type: [u64; 6],
    pub revenue_minor: i64,
}

/// What one recent message added, so a duplicate met in `merge` can be counted once.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Seen {
    pub received: Timestamp,
    pub identity: String,
    pub day: Day,
    pub kind: MessageType,
    /// Bit set of `Signal` indexes counted.
    pub signals: u32,
    pub revenue_minor: i64,
    #[serde(default, skip_serializing_if = "KeyKind::is_public")]
    pub via: KeyKind,
}

impl Seen {
    /// What folding `m` adds.
    fn of(m: &Message, classifier: &Classifier) -> Seen {
        let signals = classifier.signals(m);
        let revenue = if has(signals, Signal::Purchase) || has(signals, Signal::Renewal) {
            m.revenue_minor.unwrap_or(0)
        } else {
            0
        };
        Seen {
            received: m.received_at,
            identity: identity_of(m),
            day: m.timestamp.day(),
            kind: m.kind,
            signals,
            revenue_minor: revenue,
            via: m.via,
        }
    }
}

/// The whole rolled-up state of one site.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollupState {
    pub identities: BTreeMap<String, IdentityRecord>,
    /// Anonymous or previous id (`a:…`, `u:…`) → the user id it became; the first link wins.
    pub user_of: BTreeMap<String, First<String>>,
    /// User or anonymous id → the account (group) it belongs to; the latest `group` call wins.
    pub group_of: BTreeMap<String, Latest<String>>,
    pub daily: BTreeMap<Day, DailyTotals>,
    /// Dedup index: messageId → what it added. Pruned by `prune_seen` once older than the window.
    pub seen: BTreeMap<String, Seen>,
}

/// Pre-computed event classification, so folding a million events does not rescan the mapping.
#[derive(Debug, Clone)]
pub struct Classifier {
    by_name: HashMap<String, u32>,
    consideration: ConsiderationPaths,
}

impl Classifier {
    pub fn new(mapping: &EventMapping) -> Classifier {
        let mut by_name = HashMap::new();
        for (name, signals) in &mapping.events {
            let bits = signals.iter().fold(0u32, |b, s| b | (1 << s.index()));
            *by_name.entry(name.trim().to_lowercase()).or_insert(0) |= bits;
        }
        Classifier { by_name, consideration: mapping.consideration_matcher() }
    }

    /// Signal bits of a message (Activity always).
    pub fn signals(&self, m: &Message) -> u32 {
        let mut bits = 1 << Signal::Activity.index();
        let mut set = |s: Signal| bits |= 1 << s.index();
        match m.kind {
            MessageType::Page | MessageType::Screen => {
                set(Signal::PageView);
                if m.page_path().is_some_and(|p| self.consideration.matches(&p)) {
                    set(Signal::ConsiderationPage);
                }
            }
            MessageType::Identify if m.has_contact() => set(Signal::Lead),
            MessageType::Track => {
                if let Some(e) = &m.event {
                    bits |= self.by_name.get(&e.trim().to_lowercase()).copied().unwrap_or(0);
                }
            }
            _ => {}
        }
        bits
    }
}

fn has(bits: u32, s: Signal) -> bool {
    bits & (1 << s.index()) != 0
}

/// The raw identity a message's activity is recorded under: its account if named, else its user, else its visitor.
pub fn identity_of(m: &Message) -> String {
    match (&m.group_id, &m.user_id, &m.anonymous_id) {
        (Some(g), _, _) => IdentityKey::account(g),
        (None, Some(u), _) => IdentityKey::user(u),
        (None, None, Some(a)) => IdentityKey::visitor(a),
        (None, None, None) => IdentityKey::visitor(""),
    }
    .into()
}

/// Every identity a message names: the one its activity is recorded under ([`identity_of`]) and each id it
/// carries (user, visitor, account, previous id as a user or a visitor). An erased identity among them
/// means the message is erased too: it is that person's, or that account's, or links to them.
pub fn identity_keys(m: &Message) -> Vec<String> {
    let mut keys = vec![identity_of(m)];
    keys.extend(m.user_id.iter().map(|u| IdentityKey::user(u).into()));
    keys.extend(m.anonymous_id.iter().map(|a| IdentityKey::visitor(a).into()));
    keys.extend(m.group_id.iter().map(|g| IdentityKey::account(g).into()));
    if let Some(p) = &m.previous_id {
        keys.push(IdentityKey::user(p).into());
        keys.push(IdentityKey::visitor(p).into());
    }
    crate::order::sort(&mut keys);
    keys.dedup();
    keys
}

impl RollupState {
    /// Folds one validated message. Returns false (and changes nothing) when its messageId was already seen.
    pub fn fold(&mut self, m: &Message, classifier: &Classifier) -> bool {
        if self.seen.contains_key(&m.message_id) {
            return false;
        }
        let seen = self.add(m, classifier);
        self.seen.insert(m.message_id.clone(), seen);
        true
    }

    /// Folds a message without recording it in the dedup index, for one-shot offline reports over files too
    /// big to index: the caller drops duplicates itself, and `merge` cannot un-count such messages later.
    pub fn fold_unindexed(&mut self, m: &Message, classifier: &Classifier) {
        self.add(m, classifier);
    }

    /// Adds a message's contribution and returns it: what `apply_additive(…, 1)` and the joins would do, with
    /// one search for its identity's record (and its key copied only for a new one).
    fn add(&mut self, m: &Message, classifier: &Classifier) -> Seen {
        let seen = Seen::of(m, classifier);
        match self.identities.get_mut(&seen.identity) {
            Some(rec) => rec.add(m, &seen),
            None => {
                let mut rec = IdentityRecord::default();
                rec.add(m, &seen);
                self.identities.insert(seen.identity.clone(), rec);
            }
        }
        self.add_daily(&seen, 1);
        self.join_links(m);
        seen
    }

    /// Takes a folded message's additive contribution (its counts and revenue, and its day's site totals)
    /// back out of the rows held here: erasing a person whose activity was recorded under an account that
    /// stays. Registers the message joined (the account's name, a survey score, a version, a module's first
    /// day) stay: they are the account's and hold nothing of the person. A row left without activity is
    /// dropped, as one never folded would be absent.
    pub fn unfold(&mut self, m: &Message, classifier: &Classifier) {
        self.apply_additive(&Seen::of(m, classifier), -1);
    }

    fn apply_additive(&mut self, s: &Seen, sign: i64) {
        let rec = self.identities.entry(s.identity.clone()).or_default();
        let cell = rec.days.entry(s.day).or_default();
        cell.apply(s.signals, s.revenue_minor, s.via, sign);
        if cell.count(Signal::Activity) == 0 {
            rec.days.remove(&s.day);
        }
        if rec.days.is_empty() {
            self.identities.remove(&s.identity);
        }
        self.add_daily(s, sign);
    }

    /// A message's part of its day's site totals.
    fn add_daily(&mut self, s: &Seen, sign: i64) {
        let d = self.daily.entry(s.day).or_default();
        let step = |v: u64| if sign > 0 { v.saturating_add(1) } else { v.saturating_sub(1) };
        d.messages = step(d.messages);
        d.by_type[s.kind as usize] = step(d.by_type[s.kind as usize]);
        d.revenue_minor = d.revenue_minor.saturating_add(sign * s.revenue_minor);
        if d.messages == 0 {
            self.daily.remove(&s.day);
        }
    }

    /// Joins the links a message makes: a visitor or previous id to the user it became (the first link wins),
    /// a member to its account (the latest wins). A candidate is compared before it is copied.
    fn join_links(&mut self, m: &Message) {
        let at = m.timestamp;
        let mut link_user = |from: IdentityKey, user: &str| {
            if identity::id_of(from.as_str(), IdentityKind::User) == Some(user) {
                return;
            }
            match self.user_of.get_mut(from.as_str()) {
                Some(slot) if (at, user) < (slot.at, slot.value.as_str()) => {
                    *slot = First { at, value: user.to_owned() }
                }
                Some(_) => {}
                None => {
                    self.user_of.insert(from.into_string(), First { at, value: user.to_owned() });
                }
            }
        };
        if let Some(u) = &m.user_id {
            if let Some(a) = &m.anonymous_id {
                link_user(IdentityKey::visitor(a), u);
            }
            if let (MessageType::Alias, Some(p)) = (m.kind, &m.previous_id) {
                link_user(IdentityKey::visitor(p), u);
                link_user(IdentityKey::user(p), u);
            }
        }
        if let Some(g) = &m.group_id {
            let member = match (&m.user_id, &m.anonymous_id) {
                (Some(u), _) => IdentityKey::user(u),
                (None, Some(a)) => IdentityKey::visitor(a),
                (None, None) => return,
            };
            match self.group_of.get_mut(member.as_str()) {
                Some(slot) if (at, g.as_str()) > (slot.at, slot.value.as_str()) => {
                    *slot = Latest { at, value: g.clone() };
                }
                Some(_) => {}
                None => {
                    self.group_of.insert(member.into_string(), Latest { at, value: g.clone() });
                }
            }
        }
    }

    /// Merges another state into this one. A message present in both is counted once.
    pub fn merge(&mut self, other: &RollupState) {
        let mut theirs = other.clone();
        for (id, their_seen) in &other.seen {
            if let Some(mine) = self.seen.get(id).cloned() {
                // Keep the lesser copy (deterministic winner), un-count the other side's.
                if *their_seen < mine {
                    self.apply_additive(&mine, -1);
                    self.seen.insert(id.clone(), their_seen.clone());
                } else {
                    theirs.apply_additive(their_seen, -1);
                    theirs.seen.remove(id);
                }
            }
        }
        for (key, rec) in theirs.identities {
            let mine = self.identities.entry(key).or_default();
            for (day, cell) in rec.days {
                mine.days.entry(day).or_default().absorb(&cell);
            }
            for (module, day) in rec.modules {
                let first = mine.modules.entry(module).or_insert(day);
                *first = (*first).min(day);
            }
            join_latest(&mut mine.name, &rec.name);
        }
        for (k, v) in theirs.user_of {
            let slot = self.user_of.entry(k).or_insert_with(|| v.clone());
            if v < *slot {
                *slot = v;
            }
        }
        for (k, v) in theirs.group_of {
            join_latest_map(&mut self.group_of, k, v);
        }
        for (day, d) in theirs.daily {
            let mine = self.daily.entry(day).or_default();
            mine.messages += d.messages;
            for (a, b) in mine.by_type.iter_mut().zip(d.by_type) {
                *a += b;
            }
            mine.revenue_minor = mine.revenue_minor.saturating_add(d.revenue_minor);
        }
        self.seen.extend(theirs.seen);
    }

    /// Forgets dedup entries received before `now - window_hours`: older duplicates count again (as in Segment).
    pub fn prune_seen(&mut self, now: Timestamp, window_hours: i64) {
        let cutoff = Timestamp(now.0.saturating_sub(window_hours.saturating_mul(3_600_000)));
        self.seen.retain(|_, s| s.received >= cutoff);
    }

    /// The account an identity belongs to: its group if linked, else the user it became, else itself.
    pub fn account_of(&self, identity: &str) -> String {
        account_of(self, identity)
    }

    /// Resolves identities into accounts, merging their histories (each message counted once).
    pub fn accounts(&self) -> Vec<AccountHistory> {
        let keys: Vec<String> = self.identities.keys().map(|k| self.account_of(k)).collect();
        Self::group(keys.into_iter().zip(self.identities.iter().map(|(k, r)| (k.clone(), r.clone()))))
    }

    /// Like `accounts`, consuming the state so records move instead of being copied (large offline reports).
    pub fn into_accounts(mut self) -> Vec<AccountHistory> {
        let identities = std::mem::take(&mut self.identities);
        let keys: Vec<String> = identities.keys().map(|k| self.account_of(k)).collect();
        Self::group(keys.into_iter().zip(identities))
    }

    fn group(pairs: impl Iterator<Item = (String, (String, IdentityRecord))>) -> Vec<AccountHistory> {
        let mut by_account: BTreeMap<String, AccountHistory> = BTreeMap::new();
        for (key, (identity, rec)) in pairs {
            by_account
                .entry(key.clone())
                .or_insert_with(|| AccountHistory { key, ..AccountHistory::default() })
                .absorb_member(identity, rec);
        }
        by_account.into_values().collect()
    }

    /// Removes everything recorded about the account `account` and its identities. Returns the identities removed.
    pub fn erase_account(&mut self, account: &str) -> BTreeSet<String> {
        let doomed: BTreeSet<String> = self
            .identities
            .keys()
            .filter(|k| self.account_of(k) == account)
            .cloned()
            .chain([account.to_owned()])
            .collect();
        self.identities.retain(|k, _| !doomed.contains(k));
        self.user_of.retain(|k, v| link_survives_erasure(&doomed, k, IdentityKey::user(&v.value).as_str()));
        self.group_of.retain(|k, v| link_survives_erasure(&doomed, k, IdentityKey::account(&v.value).as_str()));
        self.seen.retain(|_, s| !doomed.contains(&s.identity));
        doomed
    }
}

/// Whether the link `from` → `to` (`u:…` or `g:…`) is kept when the identities `doomed` are erased: a link
/// from or to an erased identity goes with it.
pub fn link_survives_erasure(doomed: &BTreeSet<String>, from: &str, to: &str) -> bool {
    !doomed.contains(from) && !doomed.contains(to)
}

/// Where identity links are looked up: a whole state in memory (the CLI, tests), or the rows of a site's
/// Durable Object, read as needed. Account resolution is this one rule, whichever holds the links.
pub trait Links {
    /// The user id `identity` became (`user_of`), if it was linked to one.
    fn user_of(&self, identity: &str) -> Option<String>;
    /// The group `identity` was last placed in (`group_of`), if any.
    fn group_of(&self, identity: &str) -> Option<String>;
}

impl Links for RollupState {
    fn user_of(&self, identity: &str) -> Option<String> {
        self.user_of.get(identity).map(|u| u.value.clone())
    }
    fn group_of(&self, identity: &str) -> Option<String> {
        self.group_of.get(identity).map(|g| g.value.clone())
    }
}

/// Longest chain of user links followed (an alias of an alias …); longer chains stop where they are.
pub const MAX_LINK_HOPS: usize = 8;

/// The account an identity belongs to: its group if linked (its own, or that of the user it became), else
/// the user it became, else itself.
pub fn account_of(links: &impl Links, identity: &str) -> String {
    let mut key = identity.to_owned();
    let group_direct = links.group_of(identity);
    for _ in 0..MAX_LINK_HOPS {
        if identity::is(&key, IdentityKind::Account) {
            return key;
        }
        match links.user_of(&key).map(|u| IdentityKey::user(&u)) {
            Some(user) if user != key.as_str() => key = user.into(),
            _ => break,
        }
    }
    if let Some(g) = links.group_of(&key).or(group_direct) {
        return IdentityKey::account(&g).into();
    }
    key
}

fn join_latest_map(map: &mut BTreeMap<String, Latest<String>>, key: String, v: Latest<String>) {
    match map.get_mut(&key) {
        Some(slot) if v > *slot => *slot = v,
        Some(_) => {}
        None => {
            map.insert(key, v);
        }
    }
}

/// One account's merged history, as the lifecycle and engagement models read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountHistory {
    /// `g:…`, `u:…` or `a:…`.
    pub key: String,
    pub name: Option<String>,
    pub identities: Vec<String>,
    pub days: BTreeMap<Day, DayCell>,
    pub modules: BTreeMap<String, Day>,
}

impl AccountHistory {
    /// Adds one member identity's record (the account's own name wins over a member's).
    pub fn absorb_member(&mut self, identity: String, rec: IdentityRecord) {
        let own = identity == self.key;
        if let Some(n) = rec.name
            && (own || self.name.is_none())
        {
            self.name = Some(n.value);
        }
        self.identities.push(identity);
        if self.days.is_empty() {
            self.days = rec.days;
        } else {
            for (day, cell) in rec.days {
                match self.days.entry(day) {
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(cell);
                    }
                    std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().absorb(&cell),
                }
            }
        }
        for (module, day) in rec.modules {
            let first = self.modules.entry(module).or_insert(day);
            *first = (*first).min(day);
        }
    }

    /// Builds a history directly (tests and what-if tools).
    pub fn new(key: &str, days: BTreeMap<Day, DayCell>) -> AccountHistory {
        AccountHistory { key: key.to_owned(), days, ..AccountHistory::default() }
    }

    /// The history as the site counts it: with `lifecycle_events_need_secret_key`, purchases, renewals,
    /// churns and revenue that came with the public write key are taken out (the messages still count as
    /// activity, as any visit does). Every report reads histories through this, once: a history already
    /// counted comes back unchanged. Each cell keeps its `public` share, so the budget report can say how
    /// much revenue the public key brought either way.
    pub fn counted(&self, trust: &TrustSettings) -> std::borrow::Cow<'_, AccountHistory> {
        use std::borrow::Cow;
        let pending = |c: &DayCell| c.public.as_ref().is_some_and(|p| !p.excluded);
        if !trust.lifecycle_events_need_secret_key || !self.days.values().any(pending) {
            return Cow::Borrowed(self);
        }
        let mut h = self.clone();
        for cell in h.days.values_mut() {
            cell.exclude_public();
        }
        Cow::Owned(h)
    }

    /// Known by user or account id, not only by an anonymous visitor id.
    pub fn is_identified(&self) -> bool {
        !identity::is(&self.key, IdentityKind::Visitor)
    }

    /// The id without its kind prefix.
    pub fn raw_id(&self) -> &str {
        IdentityKind::of(&self.key).and_then(|k| identity::id_of(&self.key, k)).unwrap_or("")
    }

    /// `group`, `user` or `anonymous`.
    pub fn kind(&self) -> &'static str {
        match IdentityKind::of(&self.key) {
            Some(IdentityKind::Account) => "group",
            Some(IdentityKind::User) => "user",
            Some(IdentityKind::Visitor) | None => "anonymous",
        }
    }

    /// Cells on or before `day`.
    pub fn until(&self, day: Day) -> impl DoubleEndedIterator<Item = (&Day, &DayCell)> {
        self.days.range(..=day)
    }

    /// Cells in the window of `len` days ending with `day` (inclusive).
    pub fn window(&self, day: Day, len: i32) -> impl DoubleEndedIterator<Item = (&Day, &DayCell)> {
        self.days.range(day.plus(1 - len)..=day)
    }

    pub fn first_seen(&self) -> Option<Day> {
        self.days.keys().next().copied()
    }
}

#[cfg(test)]
mod tests;
