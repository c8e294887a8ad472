//! The simulation of one account ([`Sim`]): its company, its contacts and its day-by-day story, turned into
//! Segment messages in memory.
//!
//! The `impl Sim` is split by concern across this module's files: `contacts` (who visits, becomes a lead, is
//! invited, identifies and joins the account), `emit` (recording a message), `browsing` (page views and
//! sessions), `sales` (demo, purchase, renewals, modules, cancellation, reactivation), `nurture` (a lead's and a
//! lapsed account's days), `customer` (a customer's days: logins, e-mails, support, telemetry, surveys,
//! advocacy) and `calendar` (the company's newsletter, webinars and events). This file holds the account's
//! state, its drawing and the day loop that calls the others, in an order that is part of the output: every
//! step draws from the account's PRNG.

mod browsing;
mod calendar;
mod contacts;
mod customer;
mod emit;
mod nurture;
mod sales;

pub(super) use contacts::Contact;

use super::catalogue::{BLOG_POSTS, COMPANY_KINDS, COMPANY_WORDS, PAGES};
use super::plan::{Fate, NEVER, Plan, Source, Stage, draw_plan};
use super::rng::Rng;
use super::wire::Ev;
use super::world::World;
use daytwo_shared::time::MS_PER_DAY;

/// Who sent a message: a contact's ids.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// Anonymous visitor: `anonymousId` only.
    Anon(usize),
    /// Browser after identify: `userId` and `anonymousId`.
    Browser(usize),
    /// Server side (billing, CRM, product telemetry, e-mail): `userId` only.
    Server(usize),
}

/// One account being simulated: drawn by [`Sim::new`], played by [`Sim::run`], its messages then in `evs`.
pub(super) struct Sim<'a> {
    w: &'a World,
    /// The account's own stream: accounts do not depend on one another.
    rng: Rng,
    /// Draws of the in-app events only (`World::in_app`): a stream of its own, so adding product usage leaves
    /// the rest of the story as it was.
    usage_rng: Rng,
    /// Account number, 1-based: in its group id, user ids and order ids.
    number: u32,
    pub(super) group_id: String,
    company: String,
    industry: &'static str,
    employees: u32,
    /// Company size, 0 (10–49 employees) to 3 (1,000 and more).
    bucket: usize,
    /// Where the main contact came from on the first visit (its UTM parameters).
    source: Source,
    plan: Plan,
    /// The account's people, the main contact first, then colleagues, then passers-by.
    pub(super) contacts: Vec<Contact>,
    /// Messages recorded so far, in recording order.
    pub(super) evs: Vec<Ev>,
    /// Recording counter: the next message's `Ev::seq`.
    seq: u32,
    /// Index in `catalogue::VERSIONS` of the release last reported.
    version: Option<usize>,
    /// Bit set of the licensed `catalogue::MODULES`.
    modules: u8,
    /// Orders placed, for order ids.
    orders: u32,
    /// Day of the next renewal (`NEVER` when none is due).
    next_renewal: i32,
    /// An advocate joins the advisory board once.
    advisory: bool,
}

impl<'a> Sim<'a> {
    /// Draws account `number`: its company, its plan and its contacts, and the passers-by of its site visits.
    pub(super) fn new(w: &'a World, number: u32) -> Sim<'a> {
        let mut rng = Rng::stream(w.seed, u64::from(number));
        let word = rng.pick(&COMPANY_WORDS);
        let (suffix, industry) = rng.pick(&COMPANY_KINDS);
        let domain = format!("{}-{}.example", word.to_ascii_lowercase(), number);
        let bucket = rng.weighted(&[40, 32, 20, 8]);
        let employees = match bucket {
            0 => rng.range(10, 49),
            1 => rng.range(50, 199),
            2 => rng.range(200, 999),
            _ => rng.range(1000, 5000),
        } as u32;
        let source = match rng.weighted(&[38, 15, 15, 12, 8, 6, 6]) {
            0 => Source::Direct,
            1 => Source::SearchBrand,
            2 => Source::SearchGeneric,
            3 => Source::Social,
            4 => Source::Partner,
            5 => Source::TradeShow,
            _ => Source::Content,
        };
        let plan = draw_plan(&mut rng, w.lo, w.hi, bucket);
        let n_contacts = match bucket {
            0 => rng.range(1, 2),
            1 => rng.range(1, 3),
            2 => rng.range(2, 4),
            _ => rng.range(3, 4),
        } as usize;

        let contacts = (0..n_contacts).map(|k| Contact::draw(&mut rng, number, k, &domain)).collect();
        let mut sim = Sim {
            w,
            rng,
            usage_rng: Rng::stream(!w.seed, u64::from(number)),
            number,
            group_id: format!("acct-{number:04}"),
            company: format!("{word} {suffix}"),
            industry,
            employees,
            bucket,
            source,
            plan,
            contacts,
            evs: Vec::new(),
            seq: 0,
            version: None,
            modules: 0,
            orders: 0,
            next_renewal: NEVER,
            advisory: false,
        };
        sim.plan_contacts();
        sim.add_passers_by();
        if plan.installed {
            // Billed monthly since before the window; modules licensed back then are not in the data.
            sim.next_renewal = w.lo + sim.rng.range(0, 29);
            sim.modules = 1;
            let extra = if plan.e0 > 0.8 { sim.rng.range(1, 3) } else { sim.rng.range(0, 1) };
            for _ in 0..extra {
                sim.modules |= 1 << sim.rng.range(1, 7);
            }
        }
        sim
    }

    /// Plays the story day by day, from the first visit to the end of the window (a prospect's, to its last
    /// visit).
    pub(super) fn run(&mut self) {
        let p = self.plan;
        let last = if p.fate == Fate::Prospect {
            let latest = self.contacts.iter().flat_map(|c| c.visits.iter().copied()).max().unwrap_or(p.arrival);
            latest.saturating_add(1).min(self.w.hi)
        } else {
            self.w.hi
        };
        let first = self.contacts.iter().flat_map(|c| c.visits.iter().copied()).fold(p.arrival, i32::min);
        for d in first.max(self.w.lo)..last {
            self.day(d);
        }
    }

    /// One day of the account: visits, joins, the story's key events, the stage's routine, the calendar.
    fn day(&mut self, d: i32) {
        let p = self.plan;
        let n = self.contacts.len();
        for c in 0..n {
            if self.contacts[c].visits.contains(&d) {
                if self.contacts[c].drive_by {
                    let ts = self.clock(d);
                    let (path, title) =
                        if self.rng.chance(0.65) { self.rng.pick(&BLOG_POSTS) } else { self.rng.pick(&PAGES[..2]) };
                    self.page(ts, c, false, path, title);
                } else {
                    self.session(d, c, false, d > p.arrival && p.fate != Fate::Prospect);
                }
            }
        }
        for c in 0..n {
            if self.contacts[c].identify_day == d {
                self.join(d, c);
            }
        }
        if d == p.demo {
            self.demo(d);
        }
        if d == p.purchase {
            self.purchase(d);
        }
        if d == p.cancel {
            self.cancel(d);
        }
        if d == p.reactivate {
            self.reactivation(d);
        }
        match p.stage(d) {
            Stage::Prospect => {}
            Stage::Lead => self.lead_day(d),
            Stage::Customer => self.customer_day(d),
            Stage::Lapsed => self.lapsed_day(d),
        }
        self.calendar(d);
    }

    /// Whether contact `c` belonged to the account before day `d` began.
    fn member(&self, c: usize, d: i32) -> bool {
        self.contacts[c].group_ts < i64::from(d) * MS_PER_DAY
    }
}
