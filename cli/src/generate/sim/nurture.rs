//! The days of an account that is not a customer: a lead's nurture e-mails, content, return visits and trial
//! logins, fading unless a purchase is near; after a cancellation, an occasional look at the site.

use super::contacts::Joins;
use super::{Sim, Who};
use crate::generate::catalogue::{CONTENT, IN_APP_EVENTS, LOGIN_METHODS, MODULES, NURTURE_SUBJECTS, RESOURCES};
use crate::generate::plan::NEVER;
use crate::generate::wire::Val;

impl Sim<'_> {
    /// Nurture: identified contacts of a not-yet-customer open e-mails, read content, come back to the site.
    pub(super) fn lead_day(&mut self, d: i32) {
        let p = self.plan;
        for c in 0..self.contacts.len() {
            let ct = &mut self.contacts[c];
            if !ct.identified || d <= ct.identify_day {
                continue;
            }
            ct.nurture *= 0.985;
            if p.purchase != NEVER && d + 30 >= p.purchase {
                ct.nurture = ct.nurture.max(0.8);
            }
            let act = ct.nurture;
            let trial = ct.joins == Joins::Lead("Trial Started") && d <= ct.identify_day + 14;
            if self.rng.chance(0.05 * act) {
                let evaluating = self.rng.chance(0.6);
                self.session(d, c, true, evaluating);
            }
            if self.rng.chance(0.04 * act) {
                let ts = self.clock(d);
                let subject = self.rng.pick(&NURTURE_SUBJECTS);
                let props = vec![("campaign", Val::Static("nurture")), ("subject", Val::Static(subject))];
                self.track(ts, Who::Server(c), "Email Opened", props);
            }
            if self.rng.chance(0.03 * act) {
                self.content_viewed(d, c);
            }
            if self.rng.chance(0.004 * act) {
                let ts = self.clock(d);
                let (path, title) = self.rng.pick(&RESOURCES);
                self.page(ts, c, true, path, title);
                let props = vec![("title", Val::Static(title)), ("format", Val::Static("pdf"))];
                self.track(ts + 20_000, Who::Browser(c), "Content Downloaded", props);
            }
            if trial && self.rng.chance(0.45) {
                self.sign_in(d, c);
            }
        }
    }

    /// Contact `c` views a piece of content (from a nurture or customer e-mail).
    pub(super) fn content_viewed(&mut self, d: i32, c: usize) {
        let ts = self.clock(d);
        let (title, kind) = self.rng.pick(&CONTENT);
        let props = vec![("title", Val::Static(title)), ("content_type", Val::Static(kind))];
        self.track(ts, Who::Browser(c), "Content Viewed", props);
    }

    /// Contact `c` signs in to the product.
    pub(super) fn sign_in(&mut self, d: i32, c: usize) {
        let ts = self.clock(d);
        let method = self.rng.pick(&LOGIN_METHODS);
        self.track(ts, Who::Browser(c), "Signed In", vec![("method", Val::Static(method))]);
        self.product_usage(ts, c);
    }

    /// What contact `c` does in the product after signing in at `ts`: `World::in_app` events a minute apart,
    /// drawn from their own stream (none by default).
    pub(super) fn product_usage(&mut self, ts: i64, c: usize) {
        for k in 1..=i64::from(self.w.in_app) {
            let event = self.usage_rng.pick(&IN_APP_EVENTS);
            let module = self.usage_rng.pick(&MODULES);
            self.track(ts + k * 60_000, Who::Browser(c), event, vec![("module", Val::Static(module))]);
        }
    }

    /// After cancelling: almost silent, an occasional look at the site.
    pub(super) fn lapsed_day(&mut self, d: i32) {
        if self.rng.chance(0.004) {
            self.session(d, 0, true, true);
        }
    }
}
