//! Browsing the site: page views (with the first visit's UTM parameters) and sessions of a few pages, for
//! anonymous visitors, evaluating leads and lapsed customers alike.

use super::{Sim, Who};
use crate::generate::catalogue::{BLOG_POSTS, PAGES, SITE};
use crate::generate::plan::Source;
use crate::generate::wire::{Kind, Props, Val};
use crate::generate::world::{quarter, ymd};
use daytwo_shared::time::Timestamp;

impl Sim<'_> {
    /// A page view of contact `c`, anonymous or (`known`) identified; the main contact's first one carries the
    /// account's UTM parameters.
    pub(super) fn page(&mut self, ts: i64, c: usize, known: bool, path: &str, title: &'static str) {
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

    /// The UTM parameters of the account's source, campaigns named by quarter or year as the spend ledger names them.
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
    pub(super) fn session(&mut self, d: i32, c: usize, known: bool, evaluating: bool) -> i64 {
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
}
