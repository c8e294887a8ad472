//! `daytwo generate`: a deterministic, realistic synthetic B2B site.
//!
//! Writes Segment-spec messages (one JSON object per line) and a monthly spend ledger (CSV). Each account is a
//! company whose contacts browse anonymously, become leads, some buy, and customers then renew, license modules,
//! upgrade, open support cases, attend webinars, answer surveys, advocate, fade, cancel and sometimes come back.
//!
//! Mix of accounts: 45% stay prospects, 25% become leads who never buy, 15% buy during the window (healthy,
//! advocates, fading, cancelling, cancelling and coming back) and 15% are the installed base, customers since
//! before the window who are billed monthly throughout it (they make retention revenue realistic). Besides each
//! account's contacts, 0–3 passers-by per account view a single page and never return. Spend is about 1,400 major
//! units per account over the window, ~71% of it for acquisition once the mixed lines are split.
//!
//! Determinism and streaming: every account is simulated on its own from a PRNG seeded by (seed, account number),
//! its events are sorted by time and written, and the next account starts from scratch, so memory is one
//! account's events. The generator uses its own SplitMix64, integer calendar arithmetic and only IEEE-exact
//! float operations (`+ - * /`, no `exp`/`ln`/`powf`), so the same options give byte-identical output everywhere.

use daytwo_shared::money::Currency;
use daytwo_shared::time::{Day, MS_PER_DAY, Timestamp};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::io::{self, Write};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    pub seed: u64,
    /// Companies simulated (prospects, leads and customers alike).
    pub accounts: u32,
    /// Length of the window in calendar months, 1..=1200.
    pub months: u32,
    /// Exclusive end of the window: the last generated day is `end - 1`.
    pub end: Day,
    /// ISO 4217 code of revenue and spend, e.g. "USD".
    pub currency: String,
    /// How each message carries its time.
    pub time_shape: TimeShape,
}

/// How each generated message carries its time: the shapes real sources write. Every shape describes the
/// same history: a correct reader resolves each to the same event time (the network is taken as instant, so
/// Segment's skew correction lands exactly on it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimeShape {
    /// `timestamp` only: a backfill, or a server-side library without `sentAt`.
    #[default]
    Timestamp,
    /// `timestamp` and `sentAt` equal: a Segment library sending at once.
    SentAt,
    /// A device clock a day and an hour slow, as a Segment export of a live request shows it: `timestamp` and
    /// `sentAt` 25 hours early (sent 2 s after the event), `receivedAt` on time. A day, so that a reader that
    /// skips the correction moves events to other days and shows it.
    Skewed,
    /// `originalTimestamp` only (RudderStack's field).
    Original,
    /// Segment's S3 archive: the corrected `timestamp` beside `originalTimestamp`, `sentAt` and `receivedAt`
    /// of the same slow device (a reader that corrects again moves every event by 25 hours).
    Archive,
}

impl TimeShape {
    pub const NAMES: [&'static str; 5] = ["timestamp", "sent-at", "skewed", "original", "archive"];

    pub fn parse(s: &str) -> Option<TimeShape> {
        let all = [TimeShape::Timestamp, TimeShape::SentAt, TimeShape::Skewed, TimeShape::Original, TimeShape::Archive];
        Self::NAMES.iter().position(|n| *n == s).map(|i| all[i])
    }

    /// The time fields of a message whose event happened at `t` (ms).
    fn fields(self, t: i64) -> Vec<(&'static str, String)> {
        const SLOW: i64 = 25 * 3_600_000;
        const SEND_DELAY: i64 = 2_000;
        let at = |ms: i64| Timestamp(ms).to_rfc3339();
        match self {
            TimeShape::Timestamp => vec![("timestamp", at(t))],
            TimeShape::SentAt => vec![("timestamp", at(t)), ("sentAt", at(t))],
            TimeShape::Skewed => vec![
                ("timestamp", at(t - SLOW)),
                ("sentAt", at(t - SLOW + SEND_DELAY)),
                ("receivedAt", at(t + SEND_DELAY)),
            ],
            TimeShape::Original => vec![("originalTimestamp", at(t))],
            TimeShape::Archive => vec![
                ("timestamp", at(t)),
                ("originalTimestamp", at(t - SLOW)),
                ("sentAt", at(t - SLOW + SEND_DELAY)),
                ("receivedAt", at(t + SEND_DELAY)),
            ],
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateSummary {
    /// Lines written to the events stream.
    pub events: u64,
    pub accounts: u32,
    /// Distinct `userId`s (identified contacts).
    pub users: u32,
    /// Data rows written to the spend CSV.
    pub spend_entries: u32,
    /// First day of the window: `end` minus `months` calendar months.
    pub first_day: Day,
    /// Last day of the window: `end - 1`.
    pub last_day: Day,
}

/// Header line of the spend CSV.
pub const SPEND_HEADER: &str = "id,from,to,channel,campaign,amount_minor,currency,purpose,acquisition_pct";

const MAX_MONTHS: u32 = 1200;

/// Writes the synthetic site: Segment messages as NDJSON to `events`, the spend ledger as CSV to `spend`.
///
/// Events get one `write_all` per account, the spend ledger one per row (wrap files in a `BufWriter`). Fails
/// with `InvalidInput` for `months` outside 1..=1200 or an invalid currency code, and with any error the writers
/// return. Streams: memory holds one account's events at a time.
pub fn generate(opts: &GenerateOptions, events: &mut dyn Write, spend: &mut dyn Write) -> io::Result<GenerateSummary> {
    if opts.months == 0 || opts.months > MAX_MONTHS {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("months must be between 1 and {MAX_MONTHS}")));
    }
    let currency =
        Currency::parse(&opts.currency).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let first = window_start(opts.end, opts.months);
    let world = World::new(opts, first, &currency);

    let mut summary = GenerateSummary {
        events: 0,
        accounts: opts.accounts,
        users: 0,
        spend_entries: 0,
        first_day: first,
        last_day: opts.end.plus(-1),
    };
    let mut buf = Vec::with_capacity(1 << 16);
    let mut id = String::new();
    for number in 1..=opts.accounts {
        let mut sim = Sim::new(&world, number);
        sim.run();
        sim.evs.sort_by_key(|e| (e.ts, e.seq));
        buf.clear();
        for (n, ev) in sim.evs.iter().enumerate() {
            id.clear();
            use std::fmt::Write as _;
            let _ = write!(id, "g{}-{}-{}", opts.seed, number, n + 1);
            let times = opts.time_shape.fields(ev.ts);
            serde_json::to_writer(&mut buf, &Line { ev, sim: &sim, id: &id, times: &times })?;
            buf.push(b'\n');
        }
        events.write_all(&buf)?;
        summary.events += sim.evs.len() as u64;
        summary.users += sim.contacts.iter().filter(|c| c.identified).count() as u32;
    }
    summary.spend_entries = write_spend(&world, spend)?;
    Ok(summary)
}

/// `end` minus `months` calendar months, keeping the day of month where it exists (else the month's last day).
fn window_start(end: Day, months: u32) -> Day {
    let month = end.month_start();
    let offset = end.days_since(month);
    let first = month.add_months(-(months as i32));
    let next = first.add_months(1);
    let day = first.plus(offset);
    if day < next { day } else { next.plus(-1) }
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic randomness.

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, and fixed forever, unlike a crate's default generator.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    /// A generator for one stream of a seed: `stream` is hashed in, so streams 1, 2, 3 are unrelated.
    fn stream(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let s = r.next_u64();
        Rng(s ^ stream)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (0 when n is 0), by Lemire's multiply-shift.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in lo..=hi (lo when hi < lo).
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        if hi <= lo {
            return lo;
        }
        let span = (i64::from(hi) - i64::from(lo) + 1) as u64;
        (i64::from(lo) + self.below(span) as i64) as i32
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform in [lo, hi).
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// An index drawn with the given weights (all weights zero: index 0).
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut x = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if x < u64::from(*w) {
                return i;
            }
            x -= u64::from(*w);
        }
        0
    }

    /// A version-4 UUID, as analytics.js uses for `anonymousId`.
    fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Catalogues.

const SITE: &str = "https://www.example.com";

const MODULES: [&str; 8] =
    ["core", "analytics", "billing", "crm", "support", "automation", "reporting", "integrations"];
const VERSIONS: [&str; 6] = ["3.0", "3.1", "3.2", "4.0", "4.1", "4.2"];

const COMPANY_WORDS: [&str; 32] = [
    "Acme",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Litware",
    "Proseware",
    "Woodgrove",
    "Lucerne",
    "Alpine",
    "Coho",
    "Wingtip",
    "Adatum",
    "Globex",
    "Initech",
    "Vandelay",
    "Bluebird",
    "Redwood",
    "Ironclad",
    "Brightline",
    "Clearwater",
    "Summit",
    "Harbor",
    "Keystone",
    "Silverline",
    "Oakridge",
    "Pinnacle",
    "Meridian",
    "Cobalt",
    "Granite",
    "Juniper",
    "Lakeside",
];
/// Company-name suffix and the industry it suggests.
const COMPANY_KINDS: [(&str, &str); 12] = [
    ("Software", "Software"),
    ("Labs", "Software"),
    ("Systems", "Technology"),
    ("Logistics", "Logistics"),
    ("Health", "Healthcare"),
    ("Capital", "Financial Services"),
    ("Insurance", "Financial Services"),
    ("Manufacturing", "Manufacturing"),
    ("Industries", "Manufacturing"),
    ("Retail", "Retail"),
    ("Media", "Media"),
    ("Learning", "Education"),
];
const FIRST_NAMES: [&str; 24] = [
    "Jane", "John", "Maria", "Ahmed", "Wei", "Priya", "Lucas", "Sofia", "Kenji", "Amara", "Oliver", "Emma", "Noah",
    "Chloe", "Mateo", "Fatima", "Liam", "Aisha", "Ethan", "Yuki", "Daniel", "Elena", "Samuel", "Hannah",
];
const LAST_NAMES: [&str; 24] = [
    "Doe", "Smith", "Garcia", "Khan", "Zhang", "Patel", "Silva", "Rossi", "Tanaka", "Okafor", "Brown", "Muller",
    "Novak", "Dubois", "Lopez", "Haddad", "Murphy", "Bello", "Clarke", "Sato", "Cohen", "Petrov", "Adeyemi", "Larsen",
];
const TITLES: [&str; 12] = [
    "Head of Marketing",
    "VP Marketing",
    "Marketing Operations Manager",
    "CMO",
    "Growth Lead",
    "Customer Success Director",
    "VP Sales",
    "Revenue Operations Manager",
    "CTO",
    "Product Manager",
    "Data Analyst",
    "Chief Executive Officer",
];
const PAGES: [(&str, &str); 8] = [
    ("/", "Home"),
    ("/product", "Product"),
    ("/pricing", "Pricing"),
    ("/customers", "Customers"),
    ("/integrations", "Integrations"),
    ("/about", "About us"),
    ("/security", "Security"),
    ("/docs/getting-started", "Getting started"),
];
const BLOG_POSTS: [(&str, &str); 8] = [
    ("/blog/measuring-retention-spend", "Measuring retention spend"),
    ("/blog/cac-payback-explained", "CAC payback, explained"),
    ("/blog/net-revenue-retention", "What is net revenue retention?"),
    ("/blog/early-churn-signals", "Five early churn signals"),
    ("/blog/b2b-attribution", "B2B attribution without the guesswork"),
    ("/blog/customer-marketing-budget", "Sizing a customer marketing budget"),
    ("/blog/expansion-revenue", "The expansion revenue playbook"),
    ("/blog/advocacy-programmes", "Building an advocacy programme"),
];
const RESOURCES: [(&str, &str); 5] = [
    ("/resources/retention-benchmark-report", "Retention benchmark report"),
    ("/resources/lifecycle-marketing-guide", "Lifecycle marketing guide"),
    ("/resources/roi-calculator", "ROI calculator"),
    ("/resources/customer-marketing-playbook", "Customer marketing playbook"),
    ("/resources/state-of-b2b-retention", "State of B2B retention"),
];
const WEBINAR_TOPICS: [&str; 6] = [
    "Quarterly product update",
    "Retention analytics masterclass",
    "From lead to advocate",
    "Budgeting for customer marketing",
    "Automation best practices",
    "Reporting deep dive",
];
const MEETUP_CITIES: [&str; 6] = ["London", "New York", "Berlin", "Singapore", "Austin", "Toronto"];
const SEVERITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
const SUPPORT_TOPICS: [&str; 6] = ["billing", "integration", "performance", "access", "reporting", "bug"];
const NURTURE_SUBJECTS: [&str; 5] = [
    "Your retention benchmark",
    "How teams like yours measure lifecycle spend",
    "See it in action: 15-minute tour",
    "Customer story: cutting churn by a third",
    "Pricing questions? We can help",
];
const ONBOARDING_SUBJECTS: [&str; 4] =
    ["Welcome aboard: your first week", "Tips: set up your first report", "Invite your team", "Connect your CRM"];
const CS_SUBJECTS: [&str; 4] =
    ["New in this release", "Your quarterly business review", "Best practices from top customers", "Renewal reminder"];
const CONTENT: [(&str, &str); 6] = [
    ("Case study: Northwind doubles retention ROI", "case_study"),
    ("Video: lifecycle dashboards in 5 minutes", "video"),
    ("Guide: engagement scoring", "guide"),
    ("Report: state of customer marketing", "report"),
    ("Checklist: onboarding a new account", "guide"),
    ("Podcast: the cost of churn", "podcast"),
];
const CHURN_REASONS: [&str; 5] =
    ["budget cuts", "switched vendor", "not using it", "company acquired", "missing features"];
const REVIEW_SITES: [&str; 3] = ["G2", "Capterra", "TrustRadius"];
const COMMUNITY_TOPICS: [&str; 5] = [
    "Show and tell: our QBR dashboard",
    "Tip: cohort filters",
    "Feature idea",
    "Integration recipe",
    "Ask me anything",
];
const LOGIN_METHODS: [&str; 3] = ["password", "sso", "google"];

// ---------------------------------------------------------------------------------------------------------------
// Events in memory (one account at a time).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Page,
    Identify,
    Group,
    Track,
    Alias,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Page => "page",
            Kind::Identify => "identify",
            Kind::Group => "group",
            Kind::Track => "track",
            Kind::Alias => "alias",
        }
    }
}

/// A property, trait or money value.
#[derive(Debug)]
enum Val {
    Str(String),
    Static(&'static str),
    Int(i64),
    /// Hundredths of a major unit, already rounded to the currency's precision; written as a JSON number.
    Money(i64),
}

impl Serialize for Val {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Val::Str(v) => s.serialize_str(v),
            Val::Static(v) => s.serialize_str(v),
            Val::Int(v) => s.serialize_i64(*v),
            Val::Money(h) if h % 100 == 0 => s.serialize_i64(h / 100),
            Val::Money(h) => s.serialize_f64(*h as f64 / 100.0),
        }
    }
}

type Props = Vec<(&'static str, Val)>;

struct PropsRef<'a>(&'a [(&'static str, Val)]);

impl Serialize for PropsRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

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

#[derive(Debug)]
struct Ev {
    ts: i64,
    seq: u32,
    kind: Kind,
    user: Option<usize>,
    anon: Option<usize>,
    /// Track: event name. Page: page name.
    name: &'static str,
    /// Properties (page, track) or traits (identify, group).
    props: Props,
    /// Track events of a contact after its group call carry `context.groupId`.
    ctx_group: bool,
}

struct Line<'a> {
    ev: &'a Ev,
    sim: &'a Sim<'a>,
    id: &'a str,
    times: &'a [(&'static str, String)],
}

struct GroupContext<'a>(&'a str);

impl Serialize for GroupContext<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("groupId", self.0)?;
        m.end()
    }
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ev = self.ev;
        let contacts = &self.sim.contacts;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", ev.kind.as_str())?;
        m.serialize_entry("messageId", self.id)?;
        for (field, value) in self.times {
            m.serialize_entry(field, value)?;
        }
        if let Some(u) = ev.user {
            m.serialize_entry("userId", &contacts[u].user_id)?;
        }
        if let Some(a) = ev.anon {
            m.serialize_entry("anonymousId", &contacts[a].anon_id)?;
        }
        match ev.kind {
            Kind::Page => {
                m.serialize_entry("name", ev.name)?;
                m.serialize_entry("properties", &PropsRef(&ev.props))?;
            }
            Kind::Track => {
                m.serialize_entry("event", ev.name)?;
                m.serialize_entry("properties", &PropsRef(&ev.props))?;
            }
            Kind::Identify => m.serialize_entry("traits", &PropsRef(&ev.props))?,
            Kind::Group => {
                m.serialize_entry("groupId", &self.sim.group_id)?;
                m.serialize_entry("traits", &PropsRef(&ev.props))?;
            }
            Kind::Alias => {
                if let Some(u) = ev.user {
                    m.serialize_entry("previousId", &contacts[u].anon_id)?;
                }
            }
        }
        if ev.ctx_group {
            m.serialize_entry("context", &GroupContext(&self.sim.group_id))?;
        }
        m.end()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The world: what all accounts share.

#[derive(Debug)]
struct World {
    seed: u64,
    currency: String,
    exponent: u32,
    accounts: u32,
    months: u32,
    /// Window in days, `lo..hi`.
    lo: i32,
    hi: i32,
    /// Release day of each of `VERSIONS`, oldest first.
    releases: [i32; 6],
}

impl World {
    fn new(opts: &GenerateOptions, first: Day, currency: &Currency) -> World {
        let lo = first.0;
        let hi = opts.end.0;
        let span = (hi - lo).max(1);
        // A release every ~160 days; the newest ("4.2") a third of the way into the window.
        let mut releases = [0; 6];
        for (k, r) in releases.iter_mut().enumerate() {
            *r = lo + span / 3 - (5 - k as i32) * 160;
        }
        World {
            seed: opts.seed,
            currency: currency.code().to_owned(),
            exponent: currency.exponent(),
            accounts: opts.accounts,
            months: opts.months,
            lo,
            hi,
            releases,
        }
    }

    /// Rounds hundredths of a major unit to what the currency can express.
    fn round_money(&self, hundredths: i64) -> i64 {
        match self.exponent {
            0 => (hundredths + 50).div_euclid(100) * 100,
            1 => (hundredths + 5).div_euclid(10) * 10,
            _ => hundredths,
        }
    }

    /// Hundredths of a major unit as integer minor units of the currency.
    fn to_minor(&self, hundredths: i64) -> i64 {
        match self.exponent {
            0 => (hundredths + 50).div_euclid(100),
            1 => (hundredths + 5).div_euclid(10),
            2 => hundredths,
            e => hundredths.saturating_mul(10i64.saturating_pow(e - 2)),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// One account's story.

const NEVER: i32 = i32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
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
    fn is_customer(self) -> bool {
        !matches!(self, Fate::Prospect | Fate::Lead)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlanKind {
    /// Self-serve monthly subscription.
    Monthly,
    /// Annual subscription bought online.
    Annual,
    /// Sales-led annual contract.
    Enterprise,
}

impl PlanKind {
    fn as_str(self) -> &'static str {
        match self {
            PlanKind::Monthly => "monthly",
            PlanKind::Annual => "annual",
            PlanKind::Enterprise => "enterprise",
        }
    }
}

/// Where a visitor came from on the first visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
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
struct Plan {
    fate: Fate,
    /// Bought before the window (the installed base); its story starts mid-way.
    installed: bool,
    arrival: i32,
    lead: i32,
    demo: i32,
    purchase: i32,
    cancel: i32,
    reactivate: i32,
    advocacy: i32,
    kind: PlanKind,
    /// "Subscription Cancelled" or "Account Churned".
    churn_event: &'static str,
    /// Annual contract value, hundredths of a major unit.
    acv: i64,
    /// Monthly price, hundredths.
    monthly: i64,
    e0: f64,
    decline_on: i32,
    decline_until: i32,
    floor: f64,
    e_re: f64,
}

impl Plan {
    /// Latent engagement (0..1) on a day of the customer life.
    fn engagement(&self, d: i32) -> f64 {
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

    fn stage(&self, d: i32) -> Stage {
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

    /// The subscription running on day `d`: start day, kind and price per period.
    fn subscription(&self, d: i32) -> (i32, PlanKind) {
        if d >= self.reactivate { (self.reactivate, PlanKind::Monthly) } else { (self.purchase, self.kind) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Prospect,
    Lead,
    Customer,
    Lapsed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Joins {
    Never,
    /// Leaves details through a lead form; the event named.
    Lead(&'static str),
    /// Invited to the product by a colleague after the purchase.
    Invited,
}

#[derive(Debug)]
struct Contact {
    first: &'static str,
    last: &'static str,
    title: &'static str,
    user_id: String,
    anon_id: String,
    email: String,
    /// Days of anonymous visits before identification.
    visits: Vec<i32>,
    joins: Joins,
    identify_day: i32,
    /// How often this contact logs in compared with the main contact.
    login_factor: f64,
    /// A passer-by unrelated to the account's story: one page view, gone.
    drive_by: bool,
    /// Nurture responsiveness as a lead, decaying.
    nurture: f64,
    seen: bool,
    identified: bool,
    /// Time of the contact's group call (`i64::MAX` before it).
    group_ts: i64,
}

struct Sim<'a> {
    w: &'a World,
    rng: Rng,
    number: u32,
    group_id: String,
    company: String,
    industry: &'static str,
    employees: u32,
    bucket: usize,
    source: Source,
    plan: Plan,
    contacts: Vec<Contact>,
    evs: Vec<Ev>,
    seq: u32,
    version: Option<usize>,
    modules: u8,
    orders: u32,
    next_renewal: i32,
    advisory: bool,
}

fn weekday(d: i32) -> i32 {
    // 1970-01-01 was a Thursday; 0 is Monday.
    (d + 3).rem_euclid(7)
}

fn ymd(d: i32) -> (i32, u32, u32) {
    Day(d).ymd()
}

fn quarter(month: u32) -> u32 {
    (month - 1) / 3 + 1
}

impl<'a> Sim<'a> {
    fn new(w: &'a World, number: u32) -> Sim<'a> {
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

        let mut contacts = Vec::with_capacity(n_contacts);
        for k in 0..n_contacts {
            let first = rng.pick(&FIRST_NAMES);
            let last = rng.pick(&LAST_NAMES);
            contacts.push(Contact {
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
            });
        }
        let mut sim = Sim {
            w,
            rng,
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
        // Most of a site's visitors glance at one page and never return; they become prospects of their own.
        for _ in 0..sim.rng.weighted(&[35, 30, 20, 15]) {
            let day = sim.rng.range(w.lo, w.hi - 1);
            let anon_id = sim.rng.uuid();
            sim.contacts.push(Contact {
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
            });
        }
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

    /// Who visits when, who becomes a lead, who is invited.
    fn plan_contacts(&mut self) {
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

    // -- emitting ------------------------------------------------------------------------------------------------

    fn push(&mut self, ts: i64, kind: Kind, who: Who, name: &'static str, props: Props) -> bool {
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

    fn track(&mut self, ts: i64, who: Who, event: &'static str, props: Props) {
        self.push(ts, Kind::Track, who, event, props);
    }

    /// A random time on day `d`, weighted to office hours; leaves room for a few minutes of follow-ups.
    fn clock(&mut self, d: i32) -> i64 {
        let hour = if self.rng.chance(0.8) { self.rng.range(8, 17) } else { self.rng.range(6, 21) };
        i64::from(d) * MS_PER_DAY + i64::from(hour) * 3_600_000 + self.rng.below(3_600_000) as i64
    }

    fn money(&self, hundredths: i64) -> Val {
        Val::Money(self.w.round_money(hundredths))
    }

    fn page(&mut self, ts: i64, c: usize, known: bool, path: &str, title: &'static str) {
        let mut props: Props = vec![
            ("path", Val::Str(path.to_owned())),
            ("url", Val::Str(format!("{SITE}{path}"))),
            ("title", Val::Static(title)),
        ];
        if !self.contacts[c].seen {
            self.contacts[c].seen = true;
            if c == 0 {
                self.add_utm(ts, &mut props);
            }
        }
        let who = if known { Who::Browser(c) } else { Who::Anon(c) };
        self.push(ts, Kind::Page, who, title, props);
    }

    fn add_utm(&mut self, ts: i64, props: &mut Props) {
        let (y, m, _) = ymd(Timestamp(ts).day().0);
        let q = quarter(m);
        let (source, medium, campaign) = match self.source {
            Source::Direct => return,
            Source::SearchBrand => ("google", "cpc", format!("q{q}-brand")),
            Source::SearchGeneric => ("google", "cpc", format!("q{q}-generic")),
            Source::Social => ("linkedin", "paid-social", format!("q{q}-abm")),
            Source::Partner => ("partner", "referral", "partner-referrals".to_owned()),
            Source::TradeShow => ("tradeshow", "event", format!("saas-expo-{y}")),
            Source::Content => ("syndication", "content", "content-hub".to_owned()),
        };
        props.push(("utm_source", Val::Static(source)));
        props.push(("utm_medium", Val::Static(medium)));
        props.push(("utm_campaign", Val::Str(campaign)));
    }

    /// A browsing session of 1–4 pages; returns the time of the last page.
    fn session(&mut self, d: i32, c: usize, known: bool, evaluating: bool) -> i64 {
        let mut ts = self.clock(d);
        // Casual visitors mostly bounce; evaluators read several pages.
        let pages = 1 + self.rng.weighted(if evaluating { &[25, 25, 20, 15, 15] } else { &[55, 25, 12, 6, 2] });
        let mut previous = "";
        for i in 0..pages {
            let (path, title) = if evaluating {
                match self.rng.weighted(&[30, 25, 15, 10, 10, 10]) {
                    0 => PAGES[2],
                    1 => PAGES[1],
                    2 => PAGES[3],
                    3 => PAGES[4],
                    4 => PAGES[6],
                    _ => PAGES[7],
                }
            } else if i == 0 {
                match self.rng.weighted(&[35, 45, 12, 8]) {
                    0 => PAGES[0],
                    1 => self.rng.pick(&BLOG_POSTS),
                    2 => PAGES[1],
                    _ => PAGES[2],
                }
            } else {
                match self.rng.weighted(&[40, 10, 10, 10, 10, 10, 5, 5]) {
                    0 => self.rng.pick(&BLOG_POSTS),
                    1 => PAGES[0],
                    2 => PAGES[3],
                    3 => PAGES[5],
                    4 => PAGES[4],
                    5 => PAGES[1],
                    6 => PAGES[2],
                    _ => PAGES[6],
                }
            };
            if path == previous {
                continue;
            }
            previous = path;
            self.page(ts, c, known, path, title);
            ts += i64::from(self.rng.range(20, 180)) * 1000;
        }
        ts
    }

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

    fn group(&mut self, ts: i64, c: usize) {
        let traits: Props = vec![
            ("name", Val::Str(self.company.clone())),
            ("industry", Val::Static(self.industry)),
            ("employees", Val::Int(i64::from(self.employees))),
        ];
        self.push(ts, Kind::Group, Who::Server(c), "", traits);
        self.contacts[c].group_ts = ts;
    }

    // -- the story -----------------------------------------------------------------------------------------------

    fn run(&mut self) {
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

    /// A contact leaves details (lead form) or is invited by a colleague.
    fn join(&mut self, d: i32, c: usize) {
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
            }
        }
    }

    /// Shortly before buying, the main contact asks for a demo (or a trial after a demo).
    fn demo(&mut self, d: i32) {
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

    fn purchase_event(&mut self, ts: i64, kind: PlanKind) {
        self.orders += 1;
        let currency = Val::Str(self.w.currency.clone());
        let (event, mut props): (&'static str, Props) = match kind {
            PlanKind::Monthly => ("Subscription Started", vec![("revenue", self.money(self.plan.monthly))]),
            PlanKind::Annual => ("Order Completed", vec![("revenue", self.money(self.plan.acv))]),
            PlanKind::Enterprise => ("Contract Signed", vec![("revenue", self.money(self.plan.acv))]),
        };
        props.push(("currency", currency));
        props.push(("plan", Val::Static(kind.as_str())));
        if event == "Order Completed" {
            props.push(("order_id", Val::Str(format!("ord-{:04}-{}", self.number, self.orders))));
        } else if event == "Contract Signed" {
            props.push(("term_months", Val::Int(12)));
        }
        self.track(ts, Who::Server(0), event, props);
    }

    fn purchase(&mut self, d: i32) {
        if !self.contacts[0].identified {
            return;
        }
        let kind = self.plan.kind;
        let t = self.clock(d);
        if kind != PlanKind::Enterprise {
            self.page(t, 0, true, "/pricing", "Pricing");
            self.page(t + 60_000, 0, true, "/checkout", "Checkout");
        }
        self.group(t + 120_000, 0);
        for c in 1..self.contacts.len() {
            if self.contacts[c].identified && self.contacts[c].identify_day < d {
                self.group(t + 121_000 + c as i64 * 1_000, c);
            }
        }
        self.purchase_event(t + 180_000, kind);
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
        self.next_renewal = self.renewal_after(d, kind);
    }

    /// Day of the renewal following one on `d`: 30 days for monthly plans; annual renewals are signed a little
    /// ahead of the anniversary, so consecutive purchases are always less than a year apart.
    fn renewal_after(&mut self, d: i32, kind: PlanKind) -> i32 {
        match kind {
            PlanKind::Monthly => d + 30,
            PlanKind::Annual | PlanKind::Enterprise => d + 365 - self.rng.range(3, 25),
        }
    }

    /// Licenses the next module (core first); nothing when all are licensed.
    fn license(&mut self, ts: i64, c: usize) {
        let free: Vec<usize> = (0..MODULES.len()).filter(|i| self.modules & (1 << i) == 0).collect();
        if free.is_empty() {
            return;
        }
        let i = if self.modules == 0 { 0 } else { self.rng.pick(&free) };
        self.modules |= 1 << i;
        self.track(ts, Who::Server(c), "Module Licensed", vec![("module", Val::Static(MODULES[i]))]);
    }

    fn cancel(&mut self, d: i32) {
        let ts = self.clock(d);
        let reason = self.rng.pick(&CHURN_REASONS);
        let event = self.plan.churn_event;
        let props = vec![("reason", Val::Static(reason)), ("plan", Val::Static(self.plan.kind.as_str()))];
        self.track(ts, Who::Server(0), event, props);
        self.next_renewal = NEVER;
    }

    fn reactivation(&mut self, d: i32) {
        let t = self.clock(d);
        self.page(t, 0, true, "/pricing", "Pricing");
        self.page(t + 50_000, 0, true, "/checkout", "Checkout");
        self.purchase_event(t + 120_000, PlanKind::Monthly);
        self.next_renewal = self.renewal_after(d, PlanKind::Monthly);
    }

    /// Nurture: identified contacts of a not-yet-customer open e-mails, read content, come back to the site.
    fn lead_day(&mut self, d: i32) {
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

    fn content_viewed(&mut self, d: i32, c: usize) {
        let ts = self.clock(d);
        let (title, kind) = self.rng.pick(&CONTENT);
        let props = vec![("title", Val::Static(title)), ("content_type", Val::Static(kind))];
        self.track(ts, Who::Browser(c), "Content Viewed", props);
    }

    fn sign_in(&mut self, d: i32, c: usize) {
        let ts = self.clock(d);
        let method = self.rng.pick(&LOGIN_METHODS);
        self.track(ts, Who::Browser(c), "Signed In", vec![("method", Val::Static(method))]);
    }

    /// Whether contact `c` belonged to the account before day `d` began.
    fn member(&self, c: usize, d: i32) -> bool {
        self.contacts[c].group_ts < i64::from(d) * MS_PER_DAY
    }

    fn customer_day(&mut self, d: i32) {
        let p = self.plan;
        let (start, kind) = p.subscription(d);
        if d <= start || !self.member(0, d) {
            return;
        }
        let e = p.engagement(d);
        let workday = weekday(d) < 5;
        let since = d - start;
        for c in 0..self.contacts.len() {
            if !self.member(c, d) {
                continue;
            }
            let lf = self.contacts[c].login_factor;
            // Engaged users log in on about a quarter of working days; the disengaged hardly ever.
            let login = 0.3 * e * e * lf * if workday { 1.0 } else { 0.1 };
            if self.rng.chance(login) {
                self.sign_in(d, c);
            }
            let onboarding = since <= 21;
            let email = if onboarding { 0.07 } else { 0.004 + 0.012 * e };
            if self.rng.chance(email) {
                let ts = self.clock(d);
                let (campaign, subject) = if onboarding {
                    ("onboarding", self.rng.pick(&ONBOARDING_SUBJECTS))
                } else {
                    ("customer-success", self.rng.pick(&CS_SUBJECTS))
                };
                let props = vec![("campaign", Val::Static(campaign)), ("subject", Val::Static(subject))];
                self.track(ts, Who::Server(c), "Email Opened", props);
            }
            if self.rng.chance(0.012 * e) {
                self.content_viewed(d, c);
            }
            if workday && self.rng.chance(0.003 + 0.001 * self.bucket as f64 + 0.012 * e * e) {
                let ts = self.clock(d);
                let severity = SEVERITIES[self.rng.weighted(&[40, 35, 20, 5])];
                let topic = self.rng.pick(&SUPPORT_TOPICS);
                let props = vec![("severity", Val::Static(severity)), ("category", Val::Static(topic))];
                self.track(ts, Who::Browser(c), "Support Case Opened", props);
            }
            if self.rng.chance(0.002 * e) {
                let ts = self.clock(d);
                let city = self.rng.pick(&MEETUP_CITIES);
                let props =
                    vec![("name", Val::Str(format!("Regional Meetup {city}"))), ("type", Val::Static("meetup"))];
                self.track(ts, Who::Server(c), "Event Attended", props);
            }
        }
        if d >= self.next_renewal {
            self.renew(d, kind);
        }
        if since % 30 == 15 {
            self.report_version(d, e);
            if self.rng.chance(0.15 * e * e) {
                let ts = self.clock(d);
                self.license(ts, 0);
            }
        }
        if since % 91 == 45 {
            self.survey(d, e);
        }
        if p.fate == Fate::Advocate && d >= p.advocacy && (d == p.advocacy || self.rng.chance(0.02)) {
            self.advocate(d);
        }
    }

    fn renew(&mut self, d: i32, kind: PlanKind) {
        let ts = self.clock(d);
        let (event, revenue) = match kind {
            PlanKind::Monthly => ("Subscription Renewed", self.plan.monthly),
            PlanKind::Annual => ("Subscription Renewed", self.plan.acv),
            PlanKind::Enterprise => ("Contract Renewed", self.plan.acv),
        };
        let props = vec![
            ("revenue", self.money(revenue)),
            ("currency", Val::Str(self.w.currency.clone())),
            ("plan", Val::Static(kind.as_str())),
        ];
        self.track(ts, Who::Server(0), event, props);
        self.next_renewal = self.renewal_after(d, kind);
    }

    /// Product telemetry: new installs run a recent release; engaged accounts upgrade soon after a release.
    fn report_version(&mut self, d: i32, e: f64) {
        let latest = self.w.releases.iter().rposition(|r| *r <= d).unwrap_or(0);
        let v = match self.version {
            None => {
                // New installs run a recent release; the installed base is as current as it is engaged.
                let behind = match (self.plan.installed, e) {
                    (true, e) if e >= 0.7 => 0,
                    (true, e) if e >= 0.5 => self.rng.range(0, 1),
                    (true, _) => self.rng.range(1, 3),
                    (false, e) if e < 0.5 => self.rng.range(0, 1),
                    (false, _) => 0,
                };
                latest.saturating_sub(behind as usize)
            }
            Some(v) if v < latest && self.rng.chance(0.03 + 0.6 * e * e) => {
                if e > 0.7 {
                    latest
                } else {
                    v + 1
                }
            }
            Some(v) => v,
        };
        self.version = Some(v);
        let ts = self.clock(d);
        self.track(ts, Who::Server(0), "Version Reported", vec![("version", Val::Static(VERSIONS[v]))]);
    }

    /// Quarterly NPS survey to the main contact; engaged accounts answer more often and score higher.
    fn survey(&mut self, d: i32, e: f64) {
        let (y, m, _) = ymd(d);
        let survey = format!("nps-{y}-q{}", quarter(m));
        let ts = self.clock(d);
        let props = vec![("survey_id", Val::Str(survey.clone())), ("channel", Val::Static("email"))];
        self.track(ts, Who::Server(0), "Survey Sent", props);
        if self.rng.chance(0.1 + 0.8 * e * e) {
            let later = self.rng.range(0, 5);
            let ts = if later == 0 { ts + i64::from(self.rng.range(5, 120)) * 60_000 } else { self.clock(d + later) };
            let mut nps = (e * 10.0 + 0.5) as i32 + self.rng.range(-1, 1);
            if self.plan.fate == Fate::Advocate {
                nps = nps.max(9);
            }
            let props = vec![("survey_id", Val::Str(survey)), ("nps", Val::Int(i64::from(nps.clamp(0, 10))))];
            self.track(ts, Who::Browser(0), "Survey Responded", props);
        }
    }

    fn advocate(&mut self, d: i32) {
        let members: Vec<usize> = (0..self.contacts.len()).filter(|c| self.member(*c, d)).collect();
        let c = if self.rng.chance(0.6) || members.is_empty() { 0 } else { self.rng.pick(&members) };
        let ts = self.clock(d);
        let mut choice = self.rng.weighted(&[25, 20, 20, 30, 5]);
        if choice == 4 && self.advisory {
            choice = 3;
        }
        match choice {
            0 => {
                let props = vec![("type", Val::Static("reference call"))];
                self.track(ts, Who::Server(c), "Reference Given", props);
            }
            1 => {
                let word = self.rng.pick(&COMPANY_WORDS);
                let props = vec![("referred_company", Val::Str(format!("{word} Partners")))];
                self.track(ts, Who::Server(c), "Referral Made", props);
            }
            2 => {
                let site = self.rng.pick(&REVIEW_SITES);
                let rating = self.rng.range(4, 5);
                let props = vec![("platform", Val::Static(site)), ("rating", Val::Int(i64::from(rating)))];
                self.track(ts, Who::Server(c), "Review Posted", props);
            }
            3 => {
                let topic = self.rng.pick(&COMMUNITY_TOPICS);
                self.track(ts, Who::Browser(c), "Community Post Created", vec![("topic", Val::Static(topic))]);
            }
            _ => {
                self.advisory = true;
                let (y, _, _) = ymd(d);
                let props = vec![("board", Val::Str(format!("Customer Advisory Board {y}")))];
                self.track(ts, Who::Server(c), "Advisory Board Joined", props);
            }
        }
    }

    /// After cancelling: almost silent, an occasional look at the site.
    fn lapsed_day(&mut self, d: i32) {
        if self.rng.chance(0.004) {
            self.session(d, 0, true, true);
        }
    }

    /// Company calendar: the monthly newsletter (6th), the monthly webinar (15th), the customer summit
    /// (October 14th) and the trade show (March and September 20th).
    fn calendar(&mut self, d: i32) {
        let (y, m, dom) = ymd(d);
        if !matches!(dom, 6 | 14 | 15 | 20) {
            return;
        }
        let p = self.plan;
        let stage = p.stage(d);
        let e = p.engagement(d);
        for c in 0..self.contacts.len() {
            let ct = &self.contacts[c];
            if !ct.identified || d <= ct.identify_day {
                continue;
            }
            let customer = stage == Stage::Customer && self.member(c, d);
            let lead = stage == Stage::Lead;
            let act = ct.nurture;
            match dom {
                6 => {
                    let open = if customer {
                        0.15 + 0.6 * e
                    } else if lead {
                        0.1 + 0.4 * act
                    } else {
                        0.04
                    };
                    if self.rng.chance(open) {
                        let ts = self.clock(d);
                        let props = vec![("issue", Val::Str(format!("{y:04}-{m:02}")))];
                        self.track(ts, Who::Server(c), "Newsletter Opened", props);
                    }
                }
                15 => {
                    let attend = if customer {
                        0.03 + 0.3 * e * e
                    } else if lead {
                        0.01 + 0.06 * act
                    } else {
                        0.0
                    };
                    if self.rng.chance(attend) {
                        let ts = self.clock(d);
                        let topic = WEBINAR_TOPICS[(m as usize + y as usize) % WEBINAR_TOPICS.len()];
                        let props = vec![("name", Val::Str(format!("Webinar: {topic}")))];
                        self.track(ts, Who::Server(c), "Webinar Attended", props);
                    }
                }
                14 if m == 10 => {
                    let attend = if customer {
                        0.5 * e * e
                    } else if lead {
                        0.01
                    } else {
                        0.0
                    };
                    if self.rng.chance(attend) {
                        let ts = self.clock(d);
                        let props = vec![
                            ("name", Val::Str(format!("Customer Summit {y}"))),
                            ("type", Val::Static("conference")),
                        ];
                        self.track(ts, Who::Server(c), "Event Attended", props);
                    }
                }
                20 if m == 3 || m == 9 => {
                    let attend = if customer {
                        0.03
                    } else if lead {
                        0.01 + 0.03 * act
                    } else {
                        0.0
                    };
                    if self.rng.chance(attend) {
                        let ts = self.clock(d);
                        let props =
                            vec![("name", Val::Str(format!("SaaS Expo {y}"))), ("type", Val::Static("trade show"))];
                        self.track(ts, Who::Server(c), "Event Attended", props);
                    }
                }
                _ => {}
            }
        }
    }
}

fn pick_lead_event(rng: &mut Rng, first: bool) -> &'static str {
    const EVENTS: [&str; 6] =
        ["Signed Up", "Lead Captured", "Form Submitted", "Content Downloaded", "Demo Requested", "Trial Started"];
    let weights: [u32; 6] = if first { [20, 20, 15, 20, 15, 10] } else { [25, 5, 20, 30, 20, 0] };
    EVENTS[rng.weighted(&weights)]
}

/// Draws an account's fate and fits its key days into the window.
///
/// 45% stay prospects, 25% become leads who never buy, 15% buy during the window (37.5% of leads) and 15% are
/// the installed base: customers who bought before the window and are billed monthly throughout it.
fn draw_plan(rng: &mut Rng, lo: i32, hi: i32, bucket: usize) -> Plan {
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
    let kind = match fate {
        _ if installed => PlanKind::Monthly,
        Fate::Reactivated => PlanKind::Monthly,
        Fate::Lapsed => match rng.below(100) {
            0..=49 => PlanKind::Monthly,
            50..=64 => PlanKind::Annual,
            _ => PlanKind::Enterprise,
        },
        _ => match bucket {
            0 if rng.chance(0.7) => PlanKind::Monthly,
            1 if rng.chance(0.4) => PlanKind::Monthly,
            0 | 1 => PlanKind::Annual,
            2 if rng.chance(0.6) => PlanKind::Annual,
            2 => PlanKind::Enterprise,
            _ if rng.chance(0.8) => PlanKind::Enterprise,
            _ => PlanKind::Annual,
        },
    };
    let churn_event = if kind == PlanKind::Enterprise || (installed && bucket >= 2 && rng.chance(0.7)) {
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
        kind,
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

// ---------------------------------------------------------------------------------------------------------------
// Spend ledger.

#[derive(Debug, Clone, Copy)]
enum CampaignName {
    /// `q{quarter}-{suffix}`.
    Quarterly(&'static str),
    /// `{prefix}-{year}`.
    Yearly(&'static str),
    Fixed(&'static str),
}

#[derive(Debug, Clone, Copy)]
struct SpendLine {
    slug: &'static str,
    channel: &'static str,
    campaign: CampaignName,
    purpose: &'static str,
    acquisition_pct: Option<u32>,
    /// Share of the monthly budget, in percent.
    weight: u32,
    /// Month (1–12) when a seasonal line spends most, with the multiplier there and elsewhere (averaging 1).
    season: Option<(&'static [u32], f64, f64)>,
}

/// Roughly 71% of the money goes to acquisition once the mixed lines are split, as is typical.
const SPEND_LINES: [SpendLine; 11] = [
    SpendLine {
        slug: "search-brand",
        channel: "search-ads",
        campaign: CampaignName::Quarterly("brand"),
        purpose: "acquisition",
        acquisition_pct: None,
        weight: 12,
        season: None,
    },
    SpendLine {
        slug: "search-generic",
        channel: "search-ads",
        campaign: CampaignName::Quarterly("generic"),
        purpose: "acquisition",
        acquisition_pct: None,
        weight: 19,
        season: None,
    },
    SpendLine {
        slug: "social",
        channel: "social-ads",
        campaign: CampaignName::Quarterly("abm"),
        purpose: "acquisition",
        acquisition_pct: None,
        weight: 14,
        season: None,
    },
    SpendLine {
        slug: "trade-shows",
        channel: "trade-shows",
        campaign: CampaignName::Yearly("saas-expo"),
        purpose: "acquisition",
        acquisition_pct: None,
        weight: 12,
        season: Some((&[3, 9], 2.2, 0.76)),
    },
    SpendLine {
        slug: "partners",
        channel: "partner-referrals",
        campaign: CampaignName::Fixed("partner-referrals"),
        purpose: "acquisition",
        acquisition_pct: None,
        weight: 8,
        season: None,
    },
    SpendLine {
        slug: "customer-success",
        channel: "customer-success",
        campaign: CampaignName::Fixed("customer-success-programme"),
        purpose: "retention",
        acquisition_pct: None,
        weight: 11,
        season: None,
    },
    SpendLine {
        slug: "newsletter",
        channel: "newsletter",
        campaign: CampaignName::Fixed("customer-newsletter"),
        purpose: "retention",
        acquisition_pct: None,
        weight: 3,
        season: None,
    },
    SpendLine {
        slug: "community",
        channel: "community",
        campaign: CampaignName::Fixed("community"),
        purpose: "retention",
        acquisition_pct: None,
        weight: 4,
        season: None,
    },
    SpendLine {
        slug: "user-conference",
        channel: "user-conference",
        campaign: CampaignName::Yearly("customer-summit"),
        purpose: "retention",
        acquisition_pct: None,
        weight: 5,
        season: Some((&[10], 3.2, 0.8)),
    },
    SpendLine {
        slug: "content",
        channel: "content-marketing",
        campaign: CampaignName::Fixed("content-hub"),
        purpose: "mixed",
        acquisition_pct: Some(60),
        weight: 8,
        season: None,
    },
    SpendLine {
        slug: "webinars",
        channel: "webinars",
        campaign: CampaignName::Fixed("webinar-series"),
        purpose: "mixed",
        acquisition_pct: Some(40),
        weight: 4,
        season: None,
    },
];

/// One row per month per campaign; returns the rows written. Nothing but the header when there are no accounts.
fn write_spend(w: &World, out: &mut dyn Write) -> io::Result<u32> {
    out.write_all(SPEND_HEADER.as_bytes())?;
    out.write_all(b"\n")?;
    if w.accounts == 0 {
        return Ok(0);
    }
    let mut rng = Rng::stream(w.seed, u64::MAX);
    // About 1,400 major units per account over the window, spread over its months.
    let monthly_budget = f64::from(w.accounts) * 140_000.0 / f64::from(w.months);
    let (lo, hi) = (Day(w.lo), Day(w.hi));
    let mut rows = 0u32;
    let mut month = lo.month_start();
    let mut line = String::new();
    while month < hi {
        let next = month.add_months(1);
        let from = month.max(lo);
        let to = next.min(hi);
        let share = f64::from(to.days_since(from)) / f64::from(next.days_since(month));
        let (y, m, _) = month.ymd();
        for s in &SPEND_LINES {
            let season = match s.season {
                Some((months, peak, rest)) => {
                    if months.contains(&m) {
                        peak
                    } else {
                        rest
                    }
                }
                None => 1.0,
            };
            let jitter = rng.between(0.85, 1.15);
            let hundredths = (monthly_budget * f64::from(s.weight) / 100.0 * season * jitter * share).round() as i64;
            let amount = w.to_minor(hundredths.max(1));
            let campaign = match s.campaign {
                CampaignName::Quarterly(suffix) => format!("q{}-{suffix}", quarter(m)),
                CampaignName::Yearly(prefix) => format!("{prefix}-{y}"),
                CampaignName::Fixed(name) => name.to_owned(),
            };
            let pct = s.acquisition_pct.map(|p| p.to_string()).unwrap_or_default();
            line.clear();
            use std::fmt::Write as _;
            let _ = writeln!(
                line,
                "sp-{y:04}-{m:02}-{},{from},{to},{},{campaign},{amount},{},{},{pct}",
                s.slug, s.channel, w.currency, s.purpose
            );
            out.write_all(line.as_bytes())?;
            rows += 1;
        }
        month = next;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::{BTreeMap, BTreeSet, HashSet};
    use std::error::Error;

    type TestResult = Result<(), Box<dyn Error>>;

    fn opts(seed: u64, accounts: u32, months: u32) -> Result<GenerateOptions, Box<dyn Error>> {
        Ok(GenerateOptions {
            seed,
            accounts,
            months,
            end: Day::parse("2026-07-01")?,
            currency: "USD".into(),
            time_shape: TimeShape::Timestamp,
        })
    }

    struct Output {
        events: Vec<u8>,
        spend: Vec<u8>,
        summary: GenerateSummary,
    }

    fn run(o: &GenerateOptions) -> Result<Output, Box<dyn Error>> {
        let (mut events, mut spend) = (Vec::new(), Vec::new());
        let summary = generate(o, &mut events, &mut spend)?;
        Ok(Output { events, spend, summary })
    }

    fn parse_lines(bytes: &[u8]) -> Result<Vec<Value>, Box<dyn Error>> {
        let text = std::str::from_utf8(bytes)?;
        text.lines().map(|l| serde_json::from_str(l).map_err(Into::into)).collect()
    }

    fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
        path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str)
    }

    /// Account number from a messageId `g{seed}-{account}-{n}`.
    fn account_of(v: &Value) -> Option<u32> {
        str_at(v, &["messageId"])?.split('-').nth(1)?.parse().ok()
    }

    const PURCHASE: [&str; 3] = ["Order Completed", "Subscription Started", "Contract Signed"];
    const RENEWAL: [&str; 2] = ["Subscription Renewed", "Contract Renewed"];
    const CHURN: [&str; 2] = ["Subscription Cancelled", "Account Churned"];
    const ADVOCACY: [&str; 5] =
        ["Reference Given", "Referral Made", "Review Posted", "Community Post Created", "Advisory Board Joined"];

    #[test]
    fn same_options_same_bytes_other_seed_other_bytes() -> TestResult {
        let a = run(&opts(7, 60, 6)?)?;
        let b = run(&opts(7, 60, 6)?)?;
        assert!(!a.events.is_empty());
        assert_eq!(a.events, b.events);
        assert_eq!(a.spend, b.spend);
        assert_eq!(a.summary, b.summary);
        let c = run(&opts(8, 60, 6)?)?;
        assert_ne!(a.events, c.events);
        assert_ne!(a.spend, c.spend);
        Ok(())
    }

    #[test]
    fn messages_are_well_formed_segment_calls() -> TestResult {
        let o = opts(3, 200, 12)?;
        let out = run(&o)?;
        let lines = parse_lines(&out.events)?;
        assert_eq!(lines.len() as u64, out.summary.events);
        assert_eq!(out.summary.first_day, Day::parse("2025-07-01")?);
        assert_eq!(out.summary.last_day, Day::parse("2026-06-30")?);
        let (lo, hi) = (out.summary.first_day.start(), o.end.start());
        let mut ids = HashSet::new();
        let mut users = HashSet::new();
        for v in &lines {
            let kind = str_at(v, &["type"]).ok_or("type")?;
            let id = str_at(v, &["messageId"]).ok_or("messageId")?;
            assert!(id.starts_with("g3-"), "{id}");
            assert!(ids.insert(id.to_owned()), "duplicate {id}");
            let ts = Timestamp::parse_rfc3339(str_at(v, &["timestamp"]).ok_or("timestamp")?)?;
            assert!(lo <= ts && ts < hi, "{v}");
            assert!(v.get("sentAt").is_none());
            let user = str_at(v, &["userId"]);
            assert!(user.is_some() || str_at(v, &["anonymousId"]).is_some(), "{v}");
            if let Some(u) = user {
                users.insert(u.to_owned());
            }
            match kind {
                "page" => assert!(str_at(v, &["properties", "path"]).is_some_and(|p| p.starts_with('/'))),
                "identify" => {
                    let email = str_at(v, &["traits", "email"]).ok_or("email")?;
                    assert!(email.contains('@') && email.ends_with(".example"), "{email}");
                    assert!(str_at(v, &["anonymousId"]).is_some() && user.is_some());
                }
                "group" => {
                    assert!(str_at(v, &["groupId"]).is_some_and(|g| g.starts_with("acct-")));
                    assert!(v.pointer("/traits/employees").and_then(Value::as_u64).is_some());
                }
                "track" => {
                    let event = str_at(v, &["event"]).ok_or("event")?;
                    if let Some(r) = v.pointer("/properties/revenue") {
                        assert!(r.is_number() && r.as_f64().is_some_and(|x| x > 0.0), "{v}");
                        let text = r.to_string();
                        let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
                        assert!(decimals <= 2, "{text}");
                        assert_eq!(str_at(v, &["properties", "currency"]), Some("USD"));
                        assert!(PURCHASE.contains(&event) || RENEWAL.contains(&event), "{event}");
                    }
                    if PURCHASE.contains(&event) || RENEWAL.contains(&event) {
                        assert!(v.pointer("/properties/revenue").is_some(), "{v}");
                    }
                    if event == "Order Completed" {
                        assert!(str_at(v, &["properties", "order_id"]).is_some());
                    }
                    if let Some(g) = v.pointer("/context/groupId") {
                        assert!(g.as_str().is_some_and(|g| g.starts_with("acct-")));
                    }
                }
                "alias" => assert!(str_at(v, &["previousId"]).is_some() && user.is_some()),
                other => panic!("unexpected type {other}"),
            }
        }
        assert_eq!(users.len() as u32, out.summary.users);
        Ok(())
    }

    #[test]
    fn track_events_carry_the_group_only_after_the_group_call() -> TestResult {
        let out = run(&opts(11, 150, 12)?)?;
        let mut grouped: BTreeMap<String, String> = BTreeMap::new();
        let mut with_context = 0;
        for v in parse_lines(&out.events)? {
            let user = str_at(&v, &["userId"]).map(str::to_owned);
            match str_at(&v, &["type"]) {
                Some("group") => {
                    let (u, g) = (user.ok_or("group without user")?, str_at(&v, &["groupId"]).ok_or("groupId")?);
                    grouped.insert(u, g.to_owned());
                }
                Some("track") => {
                    let expected = user.as_ref().and_then(|u| grouped.get(u)).map(String::as_str);
                    assert_eq!(str_at(&v, &["context", "groupId"]), expected, "{v}");
                    with_context += usize::from(expected.is_some());
                }
                _ => {}
            }
        }
        assert!(with_context > 100);
        Ok(())
    }

    #[test]
    fn spend_ledger_is_valid_and_mostly_acquisition() -> TestResult {
        let o = opts(5, 200, 12)?;
        let out = run(&o)?;
        let text = String::from_utf8(out.spend)?;
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(SPEND_HEADER));
        let (mut acquisition, mut total) = (0.0, 0.0);
        let mut ids = HashSet::new();
        let mut rows = 0;
        for line in lines {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 9, "{line}");
            assert!(ids.insert(f[0].to_owned()), "duplicate id {line}");
            assert!(f[0].starts_with("sp-20"), "{line}");
            let (from, to) = (Day::parse(f[1])?, Day::parse(f[2])?);
            assert!(from < to, "{line}");
            assert!(out.summary.first_day <= from && to <= o.end, "{line}");
            assert!(!f[3].is_empty() && !f[4].is_empty());
            let amount: i64 = f[5].parse()?;
            assert!(amount > 0, "{line}");
            assert_eq!(f[6], "USD");
            let share = match f[7] {
                "acquisition" => {
                    assert_eq!(f[8], "");
                    1.0
                }
                "retention" => {
                    assert_eq!(f[8], "");
                    0.0
                }
                "mixed" => {
                    let pct: u32 = f[8].parse()?;
                    assert!(pct <= 100);
                    f64::from(pct) / 100.0
                }
                other => panic!("purpose {other}"),
            };
            acquisition += share * amount as f64;
            total += amount as f64;
            rows += 1;
        }
        assert_eq!(rows, out.summary.spend_entries);
        assert_eq!(rows, 12 * SPEND_LINES.len() as u32);
        assert!(text.contains("sp-2026-01-search-brand,2026-01-01,2026-02-01,search-ads,q1-brand,"));
        let share = acquisition / total;
        assert!((0.65..=0.8).contains(&share), "acquisition share {share}");
        // Scales with accounts.
        let small = run(&opts(5, 20, 12)?)?;
        let sum = |b: &[u8]| -> i64 {
            String::from_utf8_lossy(b).lines().skip(1).filter_map(|l| l.split(',').nth(5)?.parse::<i64>().ok()).sum()
        };
        let (big_total, small_total) = (sum(text.as_bytes()), sum(&small.spend));
        assert!(big_total > 8 * small_total && big_total < 12 * small_total, "{big_total} vs {small_total}");
        Ok(())
    }

    #[test]
    fn partial_months_and_odd_windows() -> TestResult {
        let o = GenerateOptions { end: Day::parse("2026-03-31")?, ..opts(1, 30, 1)? };
        let out = run(&o)?;
        assert_eq!(out.summary.first_day, Day::parse("2026-02-28")?);
        let text = String::from_utf8(out.spend)?;
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(rows.len(), 2 * SPEND_LINES.len());
        assert!(rows[0].starts_with("sp-2026-02-search-brand,2026-02-28,2026-03-01,"), "{}", rows[0]);
        for v in parse_lines(&out.events)? {
            let ts = Timestamp::parse_rfc3339(str_at(&v, &["timestamp"]).ok_or("timestamp")?)?;
            assert!(out.summary.first_day.start() <= ts && ts < o.end.start());
        }
        Ok(())
    }

    #[test]
    fn bad_options_are_refused() -> TestResult {
        let (mut e, mut s) = (Vec::new(), Vec::new());
        for bad in [opts(1, 5, 0)?, opts(1, 5, 1201)?, GenerateOptions { currency: "dollars".into(), ..opts(1, 5, 3)? }]
        {
            let err = generate(&bad, &mut e, &mut s).err().ok_or("accepted")?;
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        }
        let none = run(&opts(1, 0, 3)?)?;
        assert!(none.events.is_empty());
        assert_eq!(String::from_utf8(none.spend)?, format!("{SPEND_HEADER}\n"));
        Ok(())
    }

    #[test]
    fn whole_unit_currencies_get_whole_revenue() -> TestResult {
        let o = GenerateOptions { currency: "jpy".into(), ..opts(2, 80, 12)? };
        let out = run(&o)?;
        let mut seen = 0;
        for v in parse_lines(&out.events)? {
            if let Some(r) = v.pointer("/properties/revenue") {
                assert!(r.is_u64(), "{r}");
                assert_eq!(str_at(&v, &["properties", "currency"]), Some("JPY"));
                seen += 1;
            }
        }
        assert!(seen > 0);
        Ok(())
    }

    /// The lifecycle really moves: every stage of the product is populated in a year of 200 accounts.
    #[test]
    fn a_year_of_200_accounts_covers_the_lifecycle() -> TestResult {
        let o = opts(42, 200, 12)?;
        let out = run(&o)?;
        let lines = parse_lines(&out.events)?;
        let mut names = BTreeSet::new();
        let mut types = BTreeSet::new();
        let mut by_account: BTreeMap<u32, Vec<&Value>> = BTreeMap::new();
        for v in &lines {
            types.insert(str_at(v, &["type"]).ok_or("type")?.to_owned());
            if let Some(e) = str_at(v, &["event"]) {
                names.insert(e.to_owned());
            }
            by_account.entry(account_of(v).ok_or("messageId")?).or_default().push(v);
        }
        for t in ["page", "identify", "group", "track", "alias"] {
            assert!(types.contains(t), "no {t} call");
        }
        let families: [&[&str]; 13] = [
            &["Signed Up", "Lead Captured", "Form Submitted", "Content Downloaded", "Demo Requested", "Trial Started"],
            &PURCHASE,
            &RENEWAL,
            &CHURN,
            &["Module Licensed"],
            &["Version Reported"],
            &["Support Case Opened"],
            &["Webinar Attended", "Event Attended"],
            &["Survey Sent"],
            &["Survey Responded"],
            &["Newsletter Opened", "Email Opened", "Content Viewed"],
            &ADVOCACY,
            &["Signed In"],
        ];
        for family in families {
            assert!(family.iter().any(|n| names.contains(*n)), "no event of {family:?}");
        }

        let end = o.end.start().0;
        let day_ms = MS_PER_DAY;
        let mut stages: BTreeMap<&str, u32> = BTreeMap::new();
        for events in by_account.values() {
            let mut purchases = Vec::new();
            let mut renewals = 0;
            let mut churned_at = None;
            let mut reactivated = false;
            let mut identified = false;
            let mut advocacy = false;
            let mut last_login = None;
            // Purchase, Renewal and Churn in time order, to find "bought, renewed, cancelled, bought again".
            let mut story = String::new();
            for v in events {
                let ts = Timestamp::parse_rfc3339(str_at(v, &["timestamp"]).ok_or("timestamp")?)?.0;
                identified |= v.get("userId").is_some();
                let Some(e) = str_at(v, &["event"]) else { continue };
                if PURCHASE.contains(&e) {
                    story.push('P');
                    reactivated |= churned_at.is_some();
                    churned_at = None;
                    purchases.push(ts);
                } else if RENEWAL.contains(&e) {
                    story.push('R');
                    renewals += 1;
                    // The installed base shows up by its renewals (it bought before the window).
                    if purchases.is_empty() {
                        purchases.push(ts);
                    }
                } else if CHURN.contains(&e) {
                    story.push('C');
                    churned_at = Some(ts);
                } else if ADVOCACY.contains(&e) {
                    advocacy = true;
                } else if e == "Signed In" {
                    last_login = Some(ts);
                }
            }
            let stage = match purchases.first() {
                None if identified => "lead",
                None => "prospect",
                Some(_) if churned_at.is_some() => "lapsed",
                Some(first) if !reactivated && end - first < 90 * day_ms => "new customer",
                Some(_) if last_login.is_none_or(|l| end - l > 45 * day_ms) => "disengaged customer",
                Some(_) => "active customer",
            };
            *stages.entry(stage).or_default() += 1;
            if reactivated {
                *stages.entry("reactivated").or_default() += 1;
            }
            let full_circle = story
                .find('P')
                .and_then(|p| story[p..].find('R').map(|r| p + r))
                .and_then(|r| story[r..].find('C').map(|c| r + c).and_then(|c| story[c..].find('P')));
            if full_circle.is_some() {
                *stages.entry("bought, renewed, cancelled, bought again").or_default() += 1;
            }
            if advocacy {
                *stages.entry("advocate").or_default() += 1;
            }
            if renewals > 0 {
                *stages.entry("renewed").or_default() += 1;
            }
        }
        for stage in [
            "prospect",
            "lead",
            "new customer",
            "active customer",
            "disengaged customer",
            "lapsed",
            "reactivated",
            "advocate",
            "renewed",
            "bought, renewed, cancelled, bought again",
        ] {
            assert!(stages.get(stage).is_some_and(|n| *n > 0), "no {stage}: {stages:?}");
        }
        Ok(())
    }

    #[test]
    fn engaged_customers_run_newer_versions_and_score_higher_nps() -> TestResult {
        let out = run(&opts(9, 300, 18)?)?;
        let mut latest_version: BTreeMap<u32, String> = BTreeMap::new();
        let mut logins: BTreeMap<u32, u32> = BTreeMap::new();
        let mut nps: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
        for v in parse_lines(&out.events)? {
            let a = account_of(&v).ok_or("messageId")?;
            match str_at(&v, &["event"]) {
                Some("Version Reported") => {
                    latest_version.insert(a, str_at(&v, &["properties", "version"]).ok_or("version")?.to_owned());
                }
                Some("Signed In") => *logins.entry(a).or_default() += 1,
                Some("Survey Responded") => {
                    let n = v.pointer("/properties/nps").and_then(Value::as_i64).ok_or("nps")?;
                    assert!((0..=10).contains(&n));
                    nps.entry(a).or_default().push(n);
                }
                _ => {}
            }
        }
        let mut ranked: Vec<(u32, u32)> = latest_version.keys().map(|a| (*logins.get(a).unwrap_or(&0), *a)).collect();
        ranked.sort_unstable();
        let half = ranked.len() / 2;
        assert!(half >= 5);
        let avg = |xs: &[(u32, u32)], f: &dyn Fn(u32) -> Option<f64>| {
            let v: Vec<f64> = xs.iter().filter_map(|(_, a)| f(*a)).collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        let version =
            |a: u32| latest_version.get(&a).and_then(|v| VERSIONS.iter().position(|x| x == v)).map(|i| i as f64);
        let score = |a: u32| nps.get(&a).and_then(|v| v.last()).map(|n| *n as f64);
        let (low, high) = ranked.split_at(half);
        assert!(avg(high, &version) > avg(low, &version), "versions");
        assert!(avg(high, &score) > avg(low, &score), "nps");
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        #[test]
        fn any_small_window_stays_inside_it(seed in 0u64..1000, accounts in 0u32..25, months in 1u32..30,
                                           end in 11_000i32..25_000) {
            let o = GenerateOptions { seed, accounts, months, end: Day(end), currency: "EUR".into(), time_shape: TimeShape::default() };
            let (mut e, mut s) = (Vec::new(), Vec::new());
            let summary = generate(&o, &mut e, &mut s).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let lo = summary.first_day.start();
            let text = String::from_utf8_lossy(&e);
            let mut ids = HashSet::new();
            for line in text.lines() {
                let v: Value = serde_json::from_str(line).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
                let ts = str_at(&v, &["timestamp"]).map(Timestamp::parse_rfc3339);
                proptest::prop_assert!(matches!(ts, Some(Ok(t)) if lo <= t && t < o.end.start()), "{}", line);
                proptest::prop_assert!(ids.insert(str_at(&v, &["messageId"]).unwrap_or_default().to_owned()));
            }
            proptest::prop_assert_eq!(ids.len() as u64, summary.events);
            proptest::prop_assert!(summary.first_day < o.end);
        }
    }
}
