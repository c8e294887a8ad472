//! The company calendar, the same for every account: the monthly newsletter and webinar, the yearly customer
//! summit and the twice-yearly trade show, attended as the contact's stage and engagement make likely.

use super::{Sim, Who};
use crate::generate::catalogue::WEBINAR_TOPICS;
use crate::generate::plan::Stage;
use crate::generate::wire::Val;
use crate::generate::world::ymd;

impl Sim<'_> {
    /// Company calendar: the monthly newsletter (6th), the monthly webinar (15th), the customer summit
    /// (October 14th) and the trade show (March and September 20th).
    pub(super) fn calendar(&mut self, d: i32) {
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
