//! One account's story before it is played: its fate, its key days and its engagement curve ([`Plan`]), drawn
//! once by [`draw_plan`] so the day-by-day simulation only has to follow it.

use super::rng::Rng;

/// A key day that never comes: later than every day of any window.
pub(super) const NEVER: i32 = i32::MAX;

/// Where an account's story goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    /// Browses anonymously, never leaves contact details.
    Prospect,
    /// Becomes a lead, never buys.
    Lead,
    /// Buys and stays reasonably engaged.
    Healthy,
    /// Buys, stays highly engaged, gives references, reviews and referrals.
    Advocate,
    /// Buys, then fades: fewer logins, old versions, low NPS; keeps paying.
    Disengaged,
    /// Buys, fades and cancels.
    Lapsed,
    /// Buys, fades, cancels, and buys again later.
    Reactivated,
}

impl Fate {
    /// Whether the account buys at some point.
    fn is_customer(self) -> bool {
        !matches!(self, Fate::Prospect | Fate::Lead)
    }
}

/// How a customer pays: the `plan` property of its purchase, renewal and churn events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Billing {
    /// Self-serve monthly subscription.
    Monthly,
    /// Annual subscription bought online.
    Annual,
    /// Sales-led annual contract.
    Enterprise,
}

impl Billing {
    /// The `plan` property's value.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Billing::Monthly => "monthly",
            Billing::Annual => "annual",
            Billing::Enterprise => "enterprise",
        }
    }
}

/// Where a visitor came from on the first visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Direct,
    SearchBrand,
    SearchGeneric,
    Social,
    Partner,
    TradeShow,
    Content,
}

/// The account's key days (day numbers; `NEVER` when it does not happen) and engagement curve.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    pub(super) fate: Fate,
    /// Bought before the window (the installed base); its story starts mid-way.
    pub(super) installed: bool,
    /// First visit of the main contact.
    pub(super) arrival: i32,
    /// The main contact fills in a lead form.
    pub(super) lead: i32,
    /// A demo or trial shortly before the purchase.
    pub(super) demo: i32,
    pub(super) purchase: i32,
    pub(super) cancel: i32,
    /// Buys again after cancelling, monthly.
    pub(super) reactivate: i32,
    /// An advocate's first reference, review or referral.
    pub(super) advocacy: i32,
    /// How the first purchase is paid.
    pub(super) billing: Billing,
    /// "Subscription Cancelled" or "Account Churned".
    pub(super) churn_event: &'static str,
    /// Annual contract value, hundredths of a major unit.
    pub(super) acv: i64,
    /// Monthly price, hundredths.
    pub(super) monthly: i64,
    /// Engagement (0..1) after the purchase, until the decline.
    pub(super) e0: f64,
    /// Engagement declines linearly from `e0` on this day…
    decline_on: i32,
    /// …to `floor` on this one.
    decline_until: i32,
    floor: f64,
    /// Engagement after a reactivation.
    e_re: f64,
}

impl Plan {
    /// Latent engagement (0..1) on a day of the customer life.
    pub(super) fn engagement(&self, d: i32) -> f64 {
        if d >= self.reactivate {
            self.e_re
        } else if d < self.decline_on {
            self.e0
        } else if d >= self.decline_until {
            self.floor
        } else {
            let f = f64::from(d - self.decline_on) / f64::from(self.decline_until - self.decline_on);
            self.e0 + (self.floor - self.e0) * f
        }
    }

    /// The account's stage on day `d`, as its story has it.
    pub(super) fn stage(&self, d: i32) -> Stage {
        if d < self.lead {
            Stage::Prospect
        } else if d < self.purchase {
            Stage::Lead
        } else if d < self.cancel || d >= self.reactivate {
            Stage::Customer
        } else {
            Stage::Lapsed
        }
    }

    /// The subscription running on day `d`: its start day and billing.
    pub(super) fn subscription(&self, d: i32) -> (i32, Billing) {
        if d >= self.reactivate { (self.reactivate, Billing::Monthly) } else { (self.purchase, self.billing) }
    }
}

/// The stage an account's story is in on a day (what the simulation does that day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Prospect,
    Lead,
    Customer,
    Lapsed,
}

/// Draws an account's fate and fits its key days into the window.
///
/// 45% stay prospects, 25% become leads who never buy, 15% buy during the window (37.5% of leads) and 15% are
/// the installed base: customers who bought before the window and are billed monthly throughout it.
pub(super) fn draw_plan(rng: &mut Rng, lo: i32, hi: i32, bucket: usize) -> Plan {
    let span = (hi - lo).max(1);
    let u = rng.below(1000);
    let installed = u >= 850;
    let fate = if u < 450 {
        Fate::Prospect
    } else if u < 700 {
        Fate::Lead
    } else if !installed {
        match rng.below(100) {
            0..=19 => Fate::Advocate,
            20..=49 => Fate::Healthy,
            50..=67 => Fate::Disengaged,
            68..=83 => Fate::Lapsed,
            _ => Fate::Reactivated,
        }
    } else {
        match rng.below(100) {
            0..=24 => Fate::Advocate,
            25..=69 => Fate::Healthy,
            70..=87 => Fate::Disengaged,
            _ => Fate::Lapsed,
        }
    };
    let mut d1 = rng.range(0, 40);
    let mut d2 = rng.range(14, 120);
    let (mut x, mut y, tail) = match fate {
        Fate::Advocate => (rng.range(45, 150), 0, 15),
        Fate::Lapsed => (rng.range(60, 240), 0, 15),
        Fate::Reactivated => (rng.range(45, 150), rng.range(30, 120), 30),
        _ => (0, 0, 0),
    };
    let arrival = if installed {
        lo
    } else if matches!(fate, Fate::Advocate | Fate::Lapsed | Fate::Reactivated) {
        // Long stories start early enough to finish; in short windows they are compressed.
        let room = (span - 1) * 9 / 10;
        let need = d1 + d2 + x + y + tail;
        if need > room {
            let room = room.max(0);
            d1 = d1 * room / need;
            d2 = (d2 * room / need).max(1);
            x = (x * room / need).max(1);
            if y > 0 {
                y = (y * room / need).max(1);
            }
        }
        let need = d1 + d2 + x + y + tail;
        lo + rng.range(0, (span - need).max(1) - 1)
    } else {
        lo + rng.range(0, span - 1)
    };
    let (lead, purchase) = if installed {
        let purchase = lo - rng.range(30, 900);
        (purchase - rng.range(14, 120), purchase)
    } else if fate == Fate::Prospect {
        (NEVER, NEVER)
    } else if fate == Fate::Lead {
        (arrival + d1, NEVER)
    } else {
        (arrival + d1, arrival + d1 + d2)
    };
    let demo = if fate.is_customer() && !installed && d2 > 6 && rng.chance(0.6) {
        purchase - rng.range(3, (d2 - 1).min(21))
    } else {
        NEVER
    };
    let (cancel, reactivate) = match fate {
        Fate::Lapsed if installed => (lo + rng.range(45, (span * 3 / 4).max(46)), NEVER),
        Fate::Lapsed => (purchase + x, NEVER),
        Fate::Reactivated => (purchase + x, purchase + x + y),
        _ => (NEVER, NEVER),
    };
    let advocacy = match fate {
        Fate::Advocate if installed => lo + rng.range(0, 60),
        Fate::Advocate => purchase + x,
        _ => NEVER,
    };
    let e0 = match fate {
        Fate::Advocate => rng.between(0.82, 0.97),
        Fate::Healthy => rng.between(0.55, 0.85),
        Fate::Disengaged => rng.between(0.4, 0.6),
        Fate::Lapsed => rng.between(0.3, 0.55),
        Fate::Reactivated => rng.between(0.35, 0.6),
        Fate::Prospect | Fate::Lead => 0.3,
    };
    let (decline_on, decline_until, floor) = match fate {
        Fate::Disengaged => {
            let on = if installed { lo + rng.range(-120, span / 2) } else { purchase + rng.range(20, 90) };
            (on, on + rng.range(45, 150), rng.between(0.02, 0.08))
        }
        Fate::Lapsed if installed => {
            let until = cancel - rng.range(5, 20);
            (until - rng.range(45, 150), until, rng.between(0.04, 0.12))
        }
        Fate::Lapsed | Fate::Reactivated => {
            let on = purchase + x / 4;
            (on, (purchase + x * 85 / 100).max(on + 1), rng.between(0.04, 0.12))
        }
        _ => (NEVER, NEVER, 0.0),
    };
    let billing = match fate {
        _ if installed => Billing::Monthly,
        Fate::Reactivated => Billing::Monthly,
        Fate::Lapsed => match rng.below(100) {
            0..=49 => Billing::Monthly,
            50..=64 => Billing::Annual,
            _ => Billing::Enterprise,
        },
        _ => match bucket {
            0 if rng.chance(0.7) => Billing::Monthly,
            1 if rng.chance(0.4) => Billing::Monthly,
            0 | 1 => Billing::Annual,
            2 if rng.chance(0.6) => Billing::Annual,
            2 => Billing::Enterprise,
            _ if rng.chance(0.8) => Billing::Enterprise,
            _ => Billing::Annual,
        },
    };
    let churn_event = if billing == Billing::Enterprise || (installed && bucket >= 2 && rng.chance(0.7)) {
        "Account Churned"
    } else {
        "Subscription Cancelled"
    };
    let (lo_acv, hi_acv) = match bucket {
        0 => (200, 800),
        1 => (600, 2000),
        2 => (1500, 4000),
        _ => (3000, 6000),
    };
    // Whole tens of the major unit; the monthly price is a twelfth, to the cent.
    let acv = i64::from(rng.range(lo_acv, hi_acv)) * 1000;
    let monthly = (acv + 6) / 12;
    Plan {
        fate,
        installed,
        arrival,
        lead,
        demo,
        purchase,
        cancel,
        reactivate,
        advocacy,
        billing,
        churn_event,
        acv,
        monthly,
        e0,
        decline_on,
        decline_until,
        floor,
        e_re: rng.between(0.45, 0.75),
    }
}
