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
//!
//! One file per concern: `rng` (the PRNG), `catalogue` (word lists), `world` (what all accounts share), `plan`
//! (an account's fate and key days), `sim` (playing one account's story into messages), `wire` (the Segment
//! format the messages are written in), `spend` (the spend ledger). This file is the entry point: options,
//! summary and the loop that writes one account after another.

mod catalogue;
mod plan;
mod rng;
mod sim;
mod spend;
#[cfg(test)]
mod tests;
mod wire;
mod world;

pub use wire::TimeShape;

use daytwo_shared::money::Currency;
use daytwo_shared::time::Day;
use sim::Sim;
use std::io::{self, Write};
use wire::Line;
use world::World;

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
    /// In-app events (`Dashboard Viewed`, `Record Created`…) a minute apart after each sign-in: the product usage
    /// a site that sends it adds, so a bench can reach a busy site's volume (the default history has about 12
    /// sign-ins per account a year and 3.8M events at 100,000 accounts; 6 takes it past 10M). Drawn from a stream
    /// of their own: the rest of the history is the same with or without them.
    pub in_app: u32,
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

/// Longest window, in calendar months: a hundred years, far past any realistic demo.
const MAX_MONTHS: u32 = 1200;

/// Writes the synthetic site: Segment messages as NDJSON to `events`, the spend ledger as CSV to `spend`.
///
/// Events get one `write_all` per account, the spend ledger in one write (wrap files in a `BufWriter`). Fails
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
            serde_json::to_writer(
                &mut buf,
                &Line { ev, contacts: &sim.contacts, group_id: &sim.group_id, id: &id, times: &times },
            )?;
            buf.push(b'\n');
        }
        events.write_all(&buf)?;
        summary.events += sim.evs.len() as u64;
        summary.users += sim.contacts.iter().filter(|c| c.identified).count() as u32;
    }
    summary.spend_entries = spend::write_spend(&world, spend)?;
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
