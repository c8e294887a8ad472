//! An account's contacts: who visits anonymously and when, who becomes a lead through which form, who is
//! invited after the purchase, and their identify and group calls.

use super::{Sim, Who};
use crate::generate::catalogue::{BLOG_POSTS, FIRST_NAMES, LAST_NAMES, LOGIN_METHODS, RESOURCES, TITLES};
use crate::generate::plan::{Fate, NEVER, Stage};
use crate::generate::rng::Rng;
use crate::generate::wire::{Kind, Props, Val};

/// How a contact comes to be identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Joins {
    /// Stays anonymous.
    Never,
    /// Leaves details through a lead form; the event named.
    Lead(&'static str),
    /// Invited to the product by a colleague after the purchase.
    Invited,
}

/// A person of the account (or a passer-by on its site visits) and where they are in the story.
#[derive(Debug)]
pub(in crate::generate) struct Contact {
    first: &'static str,
    last: &'static str,
    title: &'static str,
    /// `userId` once identified (empty for a passer-by).
    pub(in crate::generate) user_id: String,
    /// The browser's `anonymousId`.
    pub(in crate::generate) anon_id: String,
    email: String,
    /// Days of anonymous visits before identification.
    pub(super) visits: Vec<i32>,
    pub(super) joins: Joins,
    /// Day of the lead form or of the first login after an invitation (`NEVER` for none).
    pub(super) identify_day: i32,
    /// How often this contact logs in compared with the main contact.
    pub(super) login_factor: f64,
    /// A passer-by unrelated to the account's story: one page view, gone.
    pub(super) drive_by: bool,
    /// Nurture responsiveness as a lead, decaying.
    pub(super) nurture: f64,
    /// Has viewed a page already (the first page view carries the account's UTM parameters).
    pub(super) seen: bool,
    /// An identify call was recorded: the contact counts as a user.
    pub(in crate::generate) identified: bool,
    /// Time of the contact's group call (`i64::MAX` before it).
    pub(super) group_ts: i64,
}

impl Contact {
    /// Contact `k` (0-based, 0 the main contact) of account `number`, whose e-mail domain is `domain`.
    pub(super) fn draw(rng: &mut Rng, number: u32, k: usize, domain: &str) -> Contact {
        let first = rng.pick(&FIRST_NAMES);
        let last = rng.pick(&LAST_NAMES);
        // Field order is draw order: keep it.
        Contact {
            first,
            last,
            title: rng.pick(&TITLES),
            user_id: format!("user-{number:04}-{}", k + 1),
            anon_id: rng.uuid(),
            email: format!("{}.{}@{domain}", first.to_ascii_lowercase(), last.to_ascii_lowercase()),
            visits: Vec::new(),
            joins: Joins::Never,
            identify_day: NEVER,
            login_factor: if k == 0 { 1.0 } else { rng.between(0.3, 0.9) },
            drive_by: false,
            nurture: 1.0,
            seen: false,
            identified: false,
            group_ts: i64::MAX,
        }
    }

    /// A visitor who views one page on `day` and never returns.
    fn passer_by(day: i32, anon_id: String) -> Contact {
        Contact {
            first: "",
            last: "",
            title: "",
            user_id: String::new(),
            anon_id,
            email: String::new(),
            visits: vec![day],
            joins: Joins::Never,
            identify_day: NEVER,
            login_factor: 0.0,
            drive_by: true,
            nurture: 0.0,
            seen: false,
            identified: false,
            group_ts: i64::MAX,
        }
    }
}

impl Sim<'_> {
    /// Who visits when, who becomes a lead, who is invited.
    pub(super) fn plan_contacts(&mut self) {
        let p = self.plan;
        let rng = &mut self.rng;
        let n = self.contacts.len();
        if p.installed {
            // Customers from before the window: the app identifies each user again at the first login.
            for (k, c) in self.contacts.iter_mut().enumerate() {
                c.identify_day = p.arrival + if k == 0 { rng.range(0, 6) } else { rng.range(3, 30) };
                c.joins = Joins::Invited;
                c.seen = true;
            }
            return;
        }
        // The first contact: anonymous visits from arrival, then (unless a prospect) a lead form.
        let c0 = &mut self.contacts[0];
        c0.visits.push(p.arrival);
        if p.fate == Fate::Prospect {
            for _ in 0..rng.weighted(&[60, 28, 12]) {
                c0.visits.push(p.arrival + rng.range(1, 45));
            }
        } else {
            if p.lead == p.arrival {
                c0.visits.clear();
            }
            for _ in 0..rng.range(0, 3) {
                if p.lead - 1 > p.arrival {
                    c0.visits.push(rng.range(p.arrival + 1, p.lead - 1));
                }
            }
            c0.identify_day = p.lead;
            c0.joins = Joins::Lead(pick_lead_event(rng, true));
        }
        for k in 1..n {
            let c = &mut self.contacts[k];
            match p.fate {
                Fate::Prospect => {
                    if k == 1 && rng.chance(0.3) {
                        let day = p.arrival + rng.range(0, 30);
                        c.visits.push(day);
                        if rng.chance(0.5) {
                            c.visits.push(day + rng.range(1, 20));
                        }
                    }
                }
                Fate::Lead => {
                    if k == 1 && rng.chance(0.3) {
                        let day = p.lead + rng.range(5, 90);
                        c.visits.push(day - rng.range(1, 4));
                        c.identify_day = day;
                        c.joins = Joins::Lead(pick_lead_event(rng, false));
                    }
                }
                _ => {
                    if p.purchase - p.lead >= 3 && rng.chance(0.35) {
                        let day = rng.range(p.lead + 1, p.purchase - 1);
                        if day - 1 > p.lead {
                            c.visits.push(rng.range(p.lead + 1, day - 1));
                        }
                        c.identify_day = day;
                        c.joins = Joins::Lead(pick_lead_event(rng, false));
                    } else {
                        c.identify_day = p.purchase + rng.range(1, 45);
                        c.joins = Joins::Invited;
                    }
                }
            }
            c.visits.sort_unstable();
            c.visits.dedup();
        }
        let c0 = &mut self.contacts[0];
        c0.visits.sort_unstable();
        c0.visits.dedup();
    }

    /// Most of a site's visitors glance at one page and never return; they become prospects of their own.
    pub(super) fn add_passers_by(&mut self) {
        for _ in 0..self.rng.weighted(&[35, 30, 20, 15]) {
            let day = self.rng.range(self.w.lo, self.w.hi - 1);
            let anon_id = self.rng.uuid();
            self.contacts.push(Contact::passer_by(day, anon_id));
        }
    }

    /// The contact's identify call, from the browser; the contact counts as identified once it is recorded.
    fn identify(&mut self, ts: i64, c: usize) {
        let ct = &self.contacts[c];
        let traits: Props = vec![
            ("email", Val::Str(ct.email.clone())),
            ("name", Val::Str(format!("{} {}", ct.first, ct.last))),
            ("firstName", Val::Static(ct.first)),
            ("lastName", Val::Static(ct.last)),
            ("title", Val::Static(ct.title)),
        ];
        if self.push(ts, Kind::Identify, Who::Browser(c), "", traits) {
            self.contacts[c].identified = true;
        }
    }

    /// The server's group call that puts the contact in the account.
    pub(super) fn group(&mut self, ts: i64, c: usize) {
        let traits: Props = vec![
            ("name", Val::Str(self.company.clone())),
            ("industry", Val::Static(self.industry)),
            ("employees", Val::Int(i64::from(self.employees))),
        ];
        self.push(ts, Kind::Group, Who::Server(c), "", traits);
        self.contacts[c].group_ts = ts;
    }

    /// A contact leaves details (lead form) or is invited by a colleague.
    pub(super) fn join(&mut self, d: i32, c: usize) {
        match self.contacts[c].joins {
            Joins::Never => {}
            Joins::Lead(event) => {
                let ts = self.clock(d);
                let (path, title, props): (&str, &'static str, Props) = match event {
                    "Signed Up" => ("/signup", "Sign up", vec![("method", Val::Static("email"))]),
                    "Trial Started" => ("/trial", "Start your free trial", vec![("trial_days", Val::Int(14))]),
                    "Demo Requested" => ("/demo", "Book a demo", vec![("source", Val::Static("website"))]),
                    "Form Submitted" => ("/contact", "Contact sales", vec![("form", Val::Static("contact-sales"))]),
                    "Content Downloaded" => {
                        let (path, title) = self.rng.pick(&RESOURCES);
                        (path, title, vec![("title", Val::Static(title)), ("format", Val::Static("pdf"))])
                    }
                    _ => {
                        let (path, title) = self.rng.pick(&BLOG_POSTS);
                        (path, title, vec![("form", Val::Static("newsletter-signup"))])
                    }
                };
                self.page(ts, c, false, path, title);
                if self.rng.chance(0.04) {
                    self.push(ts + 30_000, Kind::Alias, Who::Server(c), "", Vec::new());
                }
                self.identify(ts + 31_000, c);
                self.track(ts + 32_000, Who::Browser(c), event, props);
                // Someone joining an account that already bought belongs to it straight away.
                if self.plan.stage(d) == Stage::Customer && self.contacts[0].group_ts < ts {
                    self.group(ts + 33_000, c);
                }
            }
            Joins::Invited => {
                if self.plan.stage(d) != Stage::Customer {
                    return;
                }
                let ts = self.clock(d);
                self.identify(ts, c);
                self.group(ts + 1_000, c);
                let method = self.rng.pick(&LOGIN_METHODS);
                self.track(ts + 60_000, Who::Browser(c), "Signed In", vec![("method", Val::Static(method))]);
                self.product_usage(ts + 60_000, c);
            }
        }
    }
}

/// The lead form a contact fills in; the main contact (`first`) also uses the generic lead capture.
fn pick_lead_event(rng: &mut Rng, first: bool) -> &'static str {
    const EVENTS: [&str; 6] =
        ["Signed Up", "Lead Captured", "Form Submitted", "Content Downloaded", "Demo Requested", "Trial Started"];
    let weights: [u32; 6] = if first { [20, 20, 15, 20, 15, 10] } else { [25, 5, 20, 30, 20, 0] };
    EVENTS[rng.weighted(&weights)]
}
