//! Recording a message: the one place that keeps events inside the window, numbers them, and decides which
//! carry the account's group; plus the time of day and money values every phase uses.

use super::{Sim, Who};
use crate::generate::wire::{Ev, Kind, Props, Val};
use daytwo_shared::time::MS_PER_DAY;

impl Sim<'_> {
    /// Records a message of contact `who` at `ts`, unless it falls outside the window; says whether it did.
    /// A track call of a contact whose group call came earlier carries the account's group.
    pub(super) fn push(&mut self, ts: i64, kind: Kind, who: Who, name: &'static str, props: Props) -> bool {
        let lo = i64::from(self.w.lo) * MS_PER_DAY;
        let hi = i64::from(self.w.hi) * MS_PER_DAY;
        if ts < lo || ts >= hi {
            return false;
        }
        let (user, anon) = match who {
            Who::Anon(c) => (None, Some(c)),
            Who::Browser(c) => (Some(c), Some(c)),
            Who::Server(c) => (Some(c), None),
        };
        let ctx_group = kind == Kind::Track && user.is_some_and(|u| self.contacts[u].group_ts < ts);
        self.evs.push(Ev { ts, seq: self.seq, kind, user, anon, name, props, ctx_group });
        self.seq += 1;
        true
    }

    /// Records a track call named `event`.
    pub(super) fn track(&mut self, ts: i64, who: Who, event: &'static str, props: Props) {
        self.push(ts, Kind::Track, who, event, props);
    }

    /// A random time on day `d`, weighted to office hours; leaves room for a few minutes of follow-ups.
    pub(super) fn clock(&mut self, d: i32) -> i64 {
        let hour = if self.rng.chance(0.8) { self.rng.range(8, 17) } else { self.rng.range(6, 21) };
        i64::from(d) * MS_PER_DAY + i64::from(hour) * 3_600_000 + self.rng.below(3_600_000) as i64
    }

    /// A money property, rounded to what the currency can express.
    pub(super) fn money(&self, hundredths: i64) -> Val {
        Val::Money(self.w.round_money(hundredths))
    }
}
