//! A customer's days: logins, e-mails, content, support cases and meetups as engaged as the account is, plus
//! renewals when due, product telemetry, quarterly NPS surveys and an advocate's references and reviews.

use super::{Sim, Who};
use crate::generate::catalogue::{
    COMMUNITY_TOPICS, COMPANY_WORDS, CS_SUBJECTS, MEETUP_CITIES, ONBOARDING_SUBJECTS, REVIEW_SITES, SEVERITIES,
    SUPPORT_TOPICS, VERSIONS,
};
use crate::generate::plan::Fate;
use crate::generate::wire::Val;
use crate::generate::world::{quarter, weekday, ymd};

impl Sim<'_> {
    /// A customer's day; nothing until the day after the purchase and the main contact's group call.
    pub(super) fn customer_day(&mut self, d: i32) {
        let p = self.plan;
        let (start, billing) = p.subscription(d);
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
            self.renew(d, billing);
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

    /// An advocate's act: a reference, a referral, a review, a community post or (once) the advisory board.
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
}
