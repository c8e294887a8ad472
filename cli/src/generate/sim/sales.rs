//! The money events: the demo or trial before buying, the purchase, renewals, module licences, cancellation
//! and reactivation. Revenue is only ever written here.

use super::contacts::Joins;
use super::{Sim, Who};
use crate::generate::catalogue::{CHURN_REASONS, MODULES};
use crate::generate::plan::{Billing, NEVER};
use crate::generate::wire::{Props, Val};

impl Sim<'_> {
    /// Shortly before buying, the main contact asks for a demo (or a trial after a demo).
    pub(super) fn demo(&mut self, d: i32) {
        if !self.contacts[0].identified || d <= self.contacts[0].identify_day {
            return;
        }
        let ts = self.clock(d);
        let (event, path, title) = if self.contacts[0].joins == Joins::Lead("Demo Requested") {
            ("Trial Started", "/trial", "Start your free trial")
        } else {
            ("Demo Requested", "/demo", "Book a demo")
        };
        self.page(ts, 0, true, path, title);
        self.track(ts + 40_000, Who::Browser(0), event, vec![("source", Val::Static("website"))]);
    }

    /// The purchase itself, as billing records it: the event and revenue depend on how the account pays.
    fn purchase_event(&mut self, ts: i64, billing: Billing) {
        self.orders += 1;
        let currency = Val::Str(self.w.currency.code().to_owned());
        let (event, mut props): (&'static str, Props) = match billing {
            Billing::Monthly => ("Subscription Started", vec![("revenue", self.money(self.plan.monthly))]),
            Billing::Annual => ("Order Completed", vec![("revenue", self.money(self.plan.acv))]),
            Billing::Enterprise => ("Contract Signed", vec![("revenue", self.money(self.plan.acv))]),
        };
        props.push(("currency", currency));
        props.push(("plan", Val::Static(billing.as_str())));
        if event == "Order Completed" {
            props.push(("order_id", Val::Str(format!("ord-{:04}-{}", self.number, self.orders))));
        } else if event == "Contract Signed" {
            props.push(("term_months", Val::Int(12)));
        }
        self.track(ts, Who::Server(0), event, props);
    }

    /// The purchase day: pricing and checkout (not for a sales-led contract), the group calls, the purchase, the
    /// first modules.
    pub(super) fn purchase(&mut self, d: i32) {
        if !self.contacts[0].identified {
            return;
        }
        let billing = self.plan.billing;
        let t = self.clock(d);
        if billing != Billing::Enterprise {
            self.page(t, 0, true, "/pricing", "Pricing");
            self.page(t + 60_000, 0, true, "/checkout", "Checkout");
        }
        self.group(t + 120_000, 0);
        for c in 1..self.contacts.len() {
            if self.contacts[c].identified && self.contacts[c].identify_day < d {
                self.group(t + 121_000 + c as i64 * 1_000, c);
            }
        }
        self.purchase_event(t + 180_000, billing);
        self.license(t + 240_000, 0);
        let e = self.plan.e0;
        let extra = if e > 0.8 {
            self.rng.range(1, 3)
        } else if e > 0.5 {
            self.rng.range(0, 2)
        } else {
            0
        };
        for i in 0..extra {
            self.license(t + 241_000 + i64::from(i) * 1_000, 0);
        }
        self.next_renewal = self.renewal_after(d, billing);
    }

    /// Day of the renewal following one on `d`: 30 days for monthly plans; annual renewals are signed a little
    /// ahead of the anniversary, so consecutive purchases are always less than a year apart.
    fn renewal_after(&mut self, d: i32, billing: Billing) -> i32 {
        match billing {
            Billing::Monthly => d + 30,
            Billing::Annual | Billing::Enterprise => d + 365 - self.rng.range(3, 25),
        }
    }

    /// Licenses the next module (core first); nothing when all are licensed.
    pub(super) fn license(&mut self, ts: i64, c: usize) {
        let free: Vec<usize> = (0..MODULES.len()).filter(|i| self.modules & (1 << i) == 0).collect();
        if free.is_empty() {
            return;
        }
        let i = if self.modules == 0 { 0 } else { self.rng.pick(&free) };
        self.modules |= 1 << i;
        self.track(ts, Who::Server(c), "Module Licensed", vec![("module", Val::Static(MODULES[i]))]);
    }

    /// The main contact cancels; no renewal follows.
    pub(super) fn cancel(&mut self, d: i32) {
        let ts = self.clock(d);
        let reason = self.rng.pick(&CHURN_REASONS);
        let event = self.plan.churn_event;
        let props = vec![("reason", Val::Static(reason)), ("plan", Val::Static(self.plan.billing.as_str()))];
        self.track(ts, Who::Server(0), event, props);
        self.next_renewal = NEVER;
    }

    /// A lapsed account buys again, monthly.
    pub(super) fn reactivation(&mut self, d: i32) {
        let t = self.clock(d);
        self.page(t, 0, true, "/pricing", "Pricing");
        self.page(t + 50_000, 0, true, "/checkout", "Checkout");
        self.purchase_event(t + 120_000, Billing::Monthly);
        self.next_renewal = self.renewal_after(d, Billing::Monthly);
    }

    /// A renewal when due, at the subscription's price; schedules the next.
    pub(super) fn renew(&mut self, d: i32, billing: Billing) {
        let ts = self.clock(d);
        let (event, revenue) = match billing {
            Billing::Monthly => ("Subscription Renewed", self.plan.monthly),
            Billing::Annual => ("Subscription Renewed", self.plan.acv),
            Billing::Enterprise => ("Contract Renewed", self.plan.acv),
        };
        let props = vec![
            ("revenue", self.money(revenue)),
            ("currency", Val::Str(self.w.currency.code().to_owned())),
            ("plan", Val::Static(billing.as_str())),
        ];
        self.track(ts, Who::Server(0), event, props);
        self.next_renewal = self.renewal_after(d, billing);
    }
}
