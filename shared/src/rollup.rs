//! The mergeable rollup state: what every report is computed from.
//!
//! Messages fold into per-identity, per-day cells (signal counters, revenue, latest NPS and version), identity
//! links and per-day site totals. The state is a set-union over messages: `merge` is associative and
//! commutative, and a `messageId` already seen (within the dedup window) changes nothing, whether it arrives
//! through `fold` or through `merge`. Additive parts can be un-counted because the dedup index remembers
//! what each recent message added; lattice parts (min/max registers) are idempotent by construction.

use crate::config::TrustSettings;
use crate::message::{KeyKind, Message, MessageType};
use crate::signals::{EventMapping, Signal};
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
    mapping: EventMapping,
}

impl Classifier {
    pub fn new(mapping: &EventMapping) -> Classifier {
        let mut by_name = HashMap::new();
        for (name, signals) in &mapping.events {
            let bits = signals.iter().fold(0u32, |b, s| b | (1 << s.index()));
            *by_name.entry(name.trim().to_lowercase()).or_insert(0) |= bits;
        }
        Classifier { by_name, mapping: mapping.clone() }
    }

    /// Signal bits of a message (Activity always).
    pub fn signals(&self, m: &Message) -> u32 {
        let mut bits = 1 << Signal::Activity.index();
        let mut set = |s: Signal| bits |= 1 << s.index();
        match m.kind {
            MessageType::Page | MessageType::Screen => {
                set(Signal::PageView);
                if m.page_path().is_some_and(|p| self.mapping.is_consideration_path(&p)) {
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
        (Some(g), _, _) => format!("g:{g}"),
        (None, Some(u), _) => format!("u:{u}"),
        (None, None, Some(a)) => format!("a:{a}"),
        (None, None, None) => "a:".to_owned(),
    }
}

/// Every identity a message names: the one its activity is recorded under ([`identity_of`]) and each id it
/// carries (user, visitor, account, previous id as a user or a visitor). An erased identity among them
/// means the message is erased too: it is that person's, or that account's, or links to them.
pub fn identity_keys(m: &Message) -> Vec<String> {
    let mut keys = vec![identity_of(m)];
    keys.extend(m.user_id.iter().map(|u| format!("u:{u}")));
    keys.extend(m.anonymous_id.iter().map(|a| format!("a:{a}")));
    keys.extend(m.group_id.iter().map(|g| format!("g:{g}")));
    if let Some(p) = &m.previous_id {
        keys.push(format!("u:{p}"));
        keys.push(format!("a:{p}"));
    }
    keys.sort();
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

    /// Adds a message's contribution and returns it.
    fn add(&mut self, m: &Message, classifier: &Classifier) -> Seen {
        let seen = Seen::of(m, classifier);
        self.apply_additive(&seen, 1);
        self.join_lattice(m, seen.signals, &seen.identity);
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
        let d = self.daily.entry(s.day).or_default();
        let step = |v: u64| if sign > 0 { v.saturating_add(1) } else { v.saturating_sub(1) };
        d.messages = step(d.messages);
        d.by_type[s.kind as usize] = step(d.by_type[s.kind as usize]);
        d.revenue_minor = d.revenue_minor.saturating_add(sign * s.revenue_minor);
        if d.messages == 0 {
            self.daily.remove(&s.day);
        }
    }

    fn join_lattice(&mut self, m: &Message, signals: u32, identity: &str) {
        let at = m.timestamp;
        let day = at.day();
        let mapping = |key: &str| m.properties.get(key).and_then(Value::as_str).map(str::to_owned);
        if let Some(rec) = self.identities.get_mut(identity) {
            if let Some(name) = m.display_name() {
                join_latest(&mut rec.name, &Some(Latest { at, value: name.to_owned() }));
            }
            if let Some(cell) = rec.days.get_mut(&day) {
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
            }
            if has(signals, Signal::ModuleLicensed)
                && let Some(module) = mapping("module")
            {
                let first = rec.modules.entry(module).or_insert(day);
                *first = (*first).min(day);
            }
        }
        let mut link_user = |from: String, user: &str| {
            if from != format!("u:{user}") {
                let candidate = First { at, value: user.to_owned() };
                let slot = self.user_of.entry(from).or_insert_with(|| candidate.clone());
                if candidate < *slot {
                    *slot = candidate;
                }
            }
        };
        if let Some(u) = &m.user_id {
            if let Some(a) = &m.anonymous_id {
                link_user(format!("a:{a}"), u);
            }
            if let (MessageType::Alias, Some(p)) = (m.kind, &m.previous_id) {
                link_user(format!("a:{p}"), u);
                link_user(format!("u:{p}"), u);
            }
        }
        if let Some(g) = &m.group_id {
            let member = m
                .user_id
                .as_ref()
                .map(|u| format!("u:{u}"))
                .or_else(|| m.anonymous_id.as_ref().map(|a| format!("a:{a}")));
            if let Some(member) = member {
                join_latest_map(&mut self.group_of, member, Latest { at, value: g.clone() });
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
        self.user_of.retain(|k, v| link_survives_erasure(&doomed, k, &format!("u:{}", v.value)));
        self.group_of.retain(|k, v| link_survives_erasure(&doomed, k, &format!("g:{}", v.value)));
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
        if key.starts_with("g:") {
            return key;
        }
        match links.user_of(&key) {
            Some(u) if format!("u:{u}") != key => key = format!("u:{u}"),
            _ => break,
        }
    }
    if let Some(g) = links.group_of(&key).or(group_direct) {
        return format!("g:{g}");
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
        !self.key.starts_with("a:")
    }

    /// The id without its kind prefix.
    pub fn raw_id(&self) -> &str {
        self.key.get(2..).unwrap_or("")
    }

    /// `group`, `user` or `anonymous`.
    pub fn kind(&self) -> &'static str {
        match self.key.as_bytes().first() {
            Some(b'g') => "group",
            Some(b'u') => "user",
            _ => "anonymous",
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
mod tests {
    use super::*;
    use crate::testkit::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn anonymous_history_merges_into_the_identified_account_once() {
        let ms = [
            msg(
                json!({"type":"page","anonymousId":"v1","messageId":"1","timestamp":"2026-01-01T10:00:00Z","properties":{"path":"/"}}),
            ),
            msg(
                json!({"type":"page","anonymousId":"v1","messageId":"2","timestamp":"2026-01-02T10:00:00Z","properties":{"path":"/pricing"}}),
            ),
            msg(
                json!({"type":"identify","anonymousId":"v1","userId":"u1","messageId":"3","timestamp":"2026-01-03T10:00:00Z","traits":{"email":"A@x.io"}}),
            ),
            msg(
                json!({"type":"group","userId":"u1","groupId":"acme","messageId":"4","timestamp":"2026-01-04T10:00:00Z","traits":{"name":"Acme"}}),
            ),
            msg(
                json!({"type":"track","userId":"u1","event":"Order Completed","messageId":"5","timestamp":"2026-01-05T10:00:00Z","properties":{"revenue":100}}),
            ),
        ];
        let s = fold_all(&ms);
        let accounts = s.accounts();
        assert_eq!(accounts.len(), 1, "{accounts:?}");
        let a = &accounts[0];
        assert_eq!(a.key, "g:acme");
        assert_eq!(a.name.as_deref(), Some("Acme"));
        let total = |sig: Signal| a.days.values().map(|c| c.count(sig)).sum::<u32>();
        assert_eq!(total(Signal::Activity), 5);
        assert_eq!(total(Signal::PageView), 2);
        assert_eq!(total(Signal::ConsiderationPage), 1);
        assert_eq!(total(Signal::Lead), 1);
        assert_eq!(total(Signal::Purchase), 1);
        assert_eq!(a.days.values().map(|c| c.revenue_minor).sum::<i64>(), 10_000);
        assert_eq!(s.account_of("a:v1"), "g:acme");
        // The raw e-mail address is gone; its salted digest remains.
        assert!(ms[2].traits.get("email").is_none());
        assert_eq!(ms[2].traits.get("email_sha256").and_then(Value::as_str).map(str::len), Some(64));
    }

    #[test]
    fn alias_links_previous_ids_and_cycles_terminate() {
        let ms = [
            msg(
                json!({"type":"track","userId":"old","event":"Signed In","messageId":"1","timestamp":"2026-01-01T10:00:00Z"}),
            ),
            msg(
                json!({"type":"alias","previousId":"old","userId":"new","messageId":"2","timestamp":"2026-01-02T10:00:00Z"}),
            ),
            msg(
                json!({"type":"alias","previousId":"new","userId":"old","messageId":"3","timestamp":"2026-01-03T10:00:00Z"}),
            ),
        ];
        let s = fold_all(&ms);
        let a = s.account_of("u:old");
        assert!(a == "u:new" || a == "u:old");
        assert_eq!(
            s.accounts().iter().map(|a| a.days.values().map(|c| c.count(Signal::Activity)).sum::<u32>()).sum::<u32>(),
            3
        );
    }

    #[test]
    fn duplicates_count_once_and_erasure_forgets() {
        let m = msg(
            json!({"type":"track","userId":"u1","event":"Order Completed","messageId":"same","timestamp":"2026-01-05T10:00:00Z","properties":{"revenue":5}}),
        );
        let classifier = Classifier::new(&EventMapping::default());
        let mut s = RollupState::default();
        assert!(s.fold(&m, &classifier));
        let once = s.clone();
        assert!(!s.fold(&m, &classifier));
        assert_eq!(s, once);
        s.erase_account("u:u1");
        assert!(s.identities.is_empty() && s.seen.is_empty());
    }

    #[test]
    fn prune_keeps_the_window() {
        let m1 = msg_at(
            json!({"type":"track","userId":"u","event":"x","messageId":"a","timestamp":"2026-01-01T00:00:00Z"}),
            "2026-01-01T00:00:00Z",
        );
        let m2 = msg_at(
            json!({"type":"track","userId":"u","event":"x","messageId":"b","timestamp":"2026-01-03T00:00:00Z"}),
            "2026-01-03T00:00:00Z",
        );
        let mut s = fold_all(&[m1, m2]);
        s.prune_seen(ts("2026-01-04T00:00:00Z"), 48);
        assert_eq!(s.seen.keys().cloned().collect::<Vec<_>>(), vec!["b".to_owned()]);
    }

    /// A small message universe with few ids, so duplicates, links and shared days are common.
    fn arb_message() -> impl Strategy<Value = Message> {
        let kinds = prop_oneof![
            Just("page"),
            Just("identify"),
            Just("group"),
            Just("alias"),
            Just("Order Completed"),
            Just("Subscription Renewed"),
            Just("Subscription Cancelled"),
            Just("Survey Responded"),
            Just("Version Reported"),
            Just("Module Licensed"),
            Just("Webinar Attended"),
        ];
        (0u8..40, kinds, 0u8..4, 0u8..3, 0u8..3, 0i64..20, 0u32..100_000, 0u8..11).prop_map(
            |(id, kind, user, anon, group, day, revenue, nps)| {
                let t = Timestamp(ts("2026-01-01T00:00:00Z").0 + day * 86_400_000 + i64::from(id) * 1000);
                let mut v = json!({
                    "messageId": format!("m{id}"),
                    "userId": format!("u{user}"),
                    "anonymousId": format!("a{anon}"),
                    "timestamp": t.to_rfc3339(),
                });
                match kind {
                    "page" | "identify" => {
                        v["type"] = json!(kind);
                        v["properties"] = json!({"path": "/pricing"});
                        v["traits"] = json!({"email": "x@y.z"});
                    }
                    "group" => {
                        v["type"] = json!("group");
                        v["groupId"] = json!(format!("g{group}"));
                        v["traits"] = json!({"name": format!("G{group}")});
                    }
                    "alias" => {
                        v["type"] = json!("alias");
                        v["previousId"] = json!(format!("a{anon}"));
                    }
                    event => {
                        v["type"] = json!("track");
                        v["event"] = json!(event);
                        v["properties"] = json!({"revenue": f64::from(revenue) / 100.0, "nps": nps, "version": "4.1", "module": "crm"});
                    }
                }
                // The messageId decides the content, as for a real retry.
                let _ = (user, anon);
                msg(v)
            },
        )
    }

    /// Messages with the same id get the same content (a retry re-sends the same message).
    fn consistent(ms: Vec<Message>) -> Vec<Message> {
        let mut first: BTreeMap<String, Message> = BTreeMap::new();
        ms.into_iter().map(|m| first.entry(m.message_id.clone()).or_insert(m).clone()).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn merge_is_associative_commutative_and_counts_duplicates_once(
            ms in prop::collection::vec(arb_message(), 0..40),
            cut1 in 0usize..40, cut2 in 0usize..40, overlap in 0usize..10,
        ) {
            let ms = consistent(ms);
            let n = ms.len();
            let (c1, c2) = (cut1.min(n), cut2.min(n));
            let (lo, hi) = (c1.min(c2), c1.max(c2));
            // Three overlapping slices: duplicates appear across states as well as within them.
            let a = fold_all(&ms[..hi.min(n)]);
            let b = fold_all(&ms[lo.saturating_sub(overlap)..]);
            let c = fold_all(&ms[lo..hi]);
            let whole = fold_all(&ms);

            let mut ab = a.clone(); ab.merge(&b);
            let mut ba = b.clone(); ba.merge(&a);
            prop_assert_eq!(&ab, &ba);
            prop_assert_eq!(&ab, &whole);

            let mut ab_c = ab.clone(); ab_c.merge(&c);
            let mut bc = b.clone(); bc.merge(&c);
            let mut a_bc = a.clone(); a_bc.merge(&bc);
            prop_assert_eq!(&ab_c, &a_bc);
            prop_assert_eq!(&ab_c, &whole);

            let mut aa = a.clone(); aa.merge(&a);
            prop_assert_eq!(&aa, &a);
        }

        #[test]
        fn fold_order_does_not_matter_and_refolding_changes_nothing(
            ms in prop::collection::vec(arb_message(), 0..40),
            seed in any::<u64>(),
        ) {
            let ms = consistent(ms);
            let forward = fold_all(&ms);
            let mut shuffled = ms.clone();
            // Deterministic shuffle from the seed.
            let mut x = seed | 1;
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                shuffled.swap(i, (x % (i as u64 + 1)) as usize);
            }
            prop_assert_eq!(&fold_all(&shuffled), &forward);
            let twice: Vec<Message> = ms.iter().chain(ms.iter()).cloned().collect();
            prop_assert_eq!(&fold_all(&twice), &forward);
            // Accounts never double count: total activity equals the distinct messages.
            let distinct = ms.iter().map(|m| &m.message_id).collect::<BTreeSet<_>>().len() as u64;
            let activity: u64 = forward.accounts().iter().flat_map(|a| a.days.values()).map(|c| u64::from(c.count(Signal::Activity))).sum();
            prop_assert_eq!(activity, distinct);
            let daily: u64 = forward.daily.values().map(|d| d.messages).sum();
            prop_assert_eq!(daily, distinct);
        }

        /// Erasing a person inside an account that stays: taking their folded messages back out leaves the
        /// counts, revenue and site totals of never having folded them.
        #[test]
        fn unfolding_messages_equals_never_folding_them(
            ms in prop::collection::vec(arb_message(), 0..40),
            mask in any::<u64>(),
        ) {
            let ms = consistent(ms);
            let classifier = Classifier::new(&crate::config::Settings::default().mapping);
            let ids: Vec<&String> = ms.iter().map(|m| &m.message_id).collect::<BTreeSet<_>>().into_iter().collect();
            let removed: BTreeSet<&String> = ids.iter().enumerate().filter(|(i, _)| mask >> (i % 64) & 1 == 1).map(|(_, id)| *id).collect();
            let mut unfolded = fold_all(&ms);
            let mut done = BTreeSet::new();
            for m in ms.iter().filter(|m| removed.contains(&m.message_id)) {
                if done.insert(&m.message_id) {
                    unfolded.unfold(m, &classifier);
                }
            }
            let kept: Vec<Message> = ms.iter().filter(|m| !removed.contains(&m.message_id)).cloned().collect();
            let never = fold_all(&kept);
            let additive = |s: &RollupState| -> BTreeMap<String, BTreeMap<Day, ([u32; Signal::COUNT], i64)>> {
                s.identities.iter().map(|(k, r)| {
                    (k.clone(), r.days.iter().map(|(d, c)| (*d, (c.counts, c.revenue_minor))).collect())
                }).collect()
            };
            prop_assert_eq!(additive(&unfolded), additive(&never));
            prop_assert_eq!(&unfolded.daily, &never.daily);
        }

        #[test]
        fn state_survives_a_json_roundtrip(ms in prop::collection::vec(arb_message(), 0..20)) {
            let s = fold_all(&consistent(ms));
            let text = serde_json::to_string(&s).unwrap_or_default();
            let back: RollupState = serde_json::from_str(&text).unwrap_or_default();
            prop_assert_eq!(back, s);
        }
    }

    /// Reports over `state` with `trust`, as JSON, for every kind (the public-key revenue fields left out
    /// where `strip` says so: they say what came through the public key, which differs by construction).
    fn every_report(state: &RollupState, trust: bool, strip: bool) -> Vec<Value> {
        use crate::query::{Rendered, ReportKind, compute, parse_query};
        let mut settings = crate::config::Settings::default();
        settings.trust.lifecycle_events_need_secret_key = trust;
        let pairs: Vec<(String, String)> = [("from", "2026-01-05"), ("to", "2026-01-19"), ("as_of", "2026-01-25")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let q = parse_query(&pairs, crate::time::Day::parse("2026-01-25").unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        let accounts = state.accounts();
        [ReportKind::Budget, ReportKind::Funnel, ReportKind::Lifecycle, ReportKind::Engagement, ReportKind::Accounts]
            .into_iter()
            .map(|kind| {
                let Rendered::Json(mut v) = compute(kind, &accounts, &[], &settings, &Default::default(), &q) else {
                    panic!("json asked")
                };
                if strip && let Some(o) = v.as_object_mut() {
                    o.remove("public_key_revenue_minor");
                    o.remove("public_key_revenue_counted");
                    if let Some(p) = o.get_mut("previous").and_then(Value::as_object_mut) {
                        p.remove("public_key_revenue_minor");
                    }
                }
                v
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// A site that trusts only its secret key reports exactly what it would if the public key's purchases,
        /// renewals and churns had been plain events without revenue; a site that trusts both reports what it
        /// would if every event had come with the secret key. Either way the budget report says how much of
        /// the period's revenue the public key brought.
        #[test]
        fn only_the_secret_key_moves_lifecycle_and_revenue_when_the_site_says_so(
            ms in prop::collection::vec(arb_message(), 0..40),
            public_ids in any::<u64>(),
        ) {
            let ms: Vec<Message> = consistent(ms)
                .into_iter()
                .map(|mut m| {
                    let id: u32 = m.message_id[1..].parse().unwrap_or(0);
                    m.via = if public_ids & (1 << id) != 0 { KeyKind::Public } else { KeyKind::Secret };
                    m
                })
                .collect();
            let classifier = Classifier::new(&EventMapping::default());
            let lifecycle = |m: &Message| PublicShare::SIGNALS.iter().any(|s| has(classifier.signals(m), *s));
            let all_secret: Vec<Message> = ms.iter().cloned().map(|mut m| { m.via = KeyKind::Secret; m }).collect();
            let forged_as_plain: Vec<Message> = ms
                .iter()
                .cloned()
                .map(|mut m| {
                    if m.via == KeyKind::Public && lifecycle(&m) {
                        m.event = Some("Forged Event".to_owned());
                        m.revenue_minor = None;
                    }
                    m.via = KeyKind::Secret;
                    m
                })
                .collect();
            let state = fold_all(&ms);
            prop_assert_eq!(every_report(&state, true, true), every_report(&fold_all(&forged_as_plain), true, true));
            prop_assert_eq!(every_report(&state, false, true), every_report(&fold_all(&all_secret), false, true));

            // The figure itself: revenue of public purchases and renewals dated in the period.
            let (from, to) = (crate::time::Day::parse("2026-01-05").unwrap_or_default(), crate::time::Day::parse("2026-01-19").unwrap_or_default());
            let mut once = BTreeSet::new();
            let expected: i64 = ms
                .iter()
                .filter(|m| once.insert(m.message_id.clone()))
                .filter(|m| m.via == KeyKind::Public && (from..to).contains(&m.timestamp.day()))
                .filter(|m| has(classifier.signals(m), Signal::Purchase) || has(classifier.signals(m), Signal::Renewal))
                .map(|m| m.revenue_minor.unwrap_or(0))
                .sum();
            for trust in [true, false] {
                let budget = &every_report(&state, trust, false)[0];
                prop_assert_eq!(budget["public_key_revenue_minor"].as_i64(), Some(expected));
                prop_assert_eq!(budget["public_key_revenue_counted"].as_bool(), Some(!trust));
            }
        }
    }
}
