//! Signals: what an event means to the lifecycle and engagement models.
//!
//! Events are classified once, at rollup time, into a small fixed set of signals counted per account per day.
//! The mapping from event names to signals is site configuration (`EventMapping`), so a site whose SDK says
//! "Purchase" instead of "Order Completed" only changes config.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One meaning an event can carry. The discriminant indexes the per-day counter array.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Any message at all (activity).
    Activity,
    /// `page` and `screen` calls.
    PageView,
    /// A page view of a consideration page (pricing, product…).
    ConsiderationPage,
    /// Identified with contact details, or a lead event.
    Lead,
    Purchase,
    Renewal,
    Churn,
    ModuleLicensed,
    VersionReported,
    SupportCase,
    Webinar,
    EventAttended,
    SurveySent,
    SurveyResponded,
    ContentEngaged,
    ContentDownloaded,
    Advocacy,
    Login,
}

impl Signal {
    pub const ALL: [Signal; 18] = [
        Signal::Activity,
        Signal::PageView,
        Signal::ConsiderationPage,
        Signal::Lead,
        Signal::Purchase,
        Signal::Renewal,
        Signal::Churn,
        Signal::ModuleLicensed,
        Signal::VersionReported,
        Signal::SupportCase,
        Signal::Webinar,
        Signal::EventAttended,
        Signal::SurveySent,
        Signal::SurveyResponded,
        Signal::ContentEngaged,
        Signal::ContentDownloaded,
        Signal::Advocacy,
        Signal::Login,
    ];
    pub const COUNT: usize = Signal::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }

    /// Purchases and renewals both prove a paying customer.
    pub fn is_revenue(self) -> bool {
        matches!(self, Signal::Purchase | Signal::Renewal)
    }
}

/// Site configuration: which track event names carry which signals, and which pages show consideration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventMapping {
    /// Event name → signals. Matching ignores case and surrounding whitespace.
    pub events: BTreeMap<String, Vec<Signal>>,
    /// A page whose path starts with one of these counts as a consideration page.
    pub consideration_paths: Vec<String>,
    /// Property names that carry the module, version and NPS values.
    pub module_property: String,
    pub version_property: String,
    pub nps_property: String,
}

impl Default for EventMapping {
    fn default() -> Self {
        use Signal::*;
        let mut events = BTreeMap::new();
        let mut add = |names: &[&str], signals: &[Signal]| {
            for n in names {
                events.insert((*n).to_owned(), signals.to_vec());
            }
        };
        add(&["Signed Up", "Lead Captured", "Form Submitted", "Demo Requested", "Trial Started"], &[Lead]);
        add(&["Content Downloaded"], &[Lead, ContentEngaged, ContentDownloaded]);
        add(&["Order Completed", "Subscription Started", "Contract Signed"], &[Purchase]);
        add(&["Subscription Renewed", "Contract Renewed"], &[Renewal]);
        add(&["Subscription Cancelled", "Account Churned"], &[Churn]);
        add(&["Module Licensed"], &[ModuleLicensed]);
        add(&["Version Reported"], &[VersionReported]);
        add(&["Support Case Opened"], &[SupportCase]);
        add(&["Webinar Attended"], &[Webinar]);
        add(&["Event Attended"], &[EventAttended]);
        add(&["Survey Sent"], &[SurveySent]);
        add(&["Survey Responded", "NPS Submitted"], &[SurveyResponded]);
        add(&["Newsletter Opened", "Email Opened", "Content Viewed"], &[ContentEngaged]);
        add(
            &["Reference Given", "Referral Made", "Review Posted", "Community Post Created", "Advisory Board Joined"],
            &[Advocacy],
        );
        add(&["Signed In", "Logged In"], &[Login]);
        EventMapping {
            events,
            consideration_paths: ["/pricing", "/plans", "/product", "/products", "/request-demo", "/book-a-demo"]
                .map(String::from)
                .to_vec(),
            module_property: "module".into(),
            version_property: "version".into(),
            nps_property: "nps".into(),
        }
    }
}

impl EventMapping {
    /// Signals of a track event, by name.
    pub fn track_signals(&self, event: &str) -> &[Signal] {
        let wanted = event.trim();
        self.events.iter().find(|(name, _)| name.trim().eq_ignore_ascii_case(wanted)).map_or(&[], |(_, s)| s.as_slice())
    }

    /// Whether a page path shows consideration: a configured path matches whole segments anywhere in the
    /// page's path, so `/pricing` matches `/pricing`, `/pricing/enterprise` and `/en/pricing`, but not
    /// `/pricing-history` or `/blog/pricing-tips`.
    pub fn is_consideration_path(&self, path: &str) -> bool {
        self.consideration_matcher().matches(path)
    }

    /// The configured consideration paths, split once: a fold asks for every page view.
    pub fn consideration_matcher(&self) -> ConsiderationPaths {
        let wanted = self
            .consideration_paths
            .iter()
            .map(|c| path_segments(c).map(str::to_ascii_lowercase).collect::<Vec<_>>())
            .filter(|want| !want.is_empty())
            .collect();
        ConsiderationPaths { wanted }
    }
}

/// A path's non-empty segments, before any query or fragment.
fn path_segments(path: &str) -> impl Iterator<Item = &str> {
    path.split(['?', '#']).next().unwrap_or("").split('/').filter(|s| !s.is_empty())
}

/// [`EventMapping::is_consideration_path`] with the configured paths split and lower-cased once.
#[derive(Debug, Clone)]
pub struct ConsiderationPaths {
    /// Each configured path's lower-cased segments; paths without any are left out (they match nothing).
    wanted: Vec<Vec<String>>,
}

impl ConsiderationPaths {
    pub fn matches(&self, path: &str) -> bool {
        if self.wanted.is_empty() {
            return false;
        }
        let page: Vec<&str> = path_segments(path).collect();
        self.wanted
            .iter()
            .any(|want| page.windows(want.len()).any(|w| w.iter().zip(want).all(|(p, c)| p.eq_ignore_ascii_case(c))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_mapping_classifies_the_catalogue() {
        let m = EventMapping::default();
        assert_eq!(m.track_signals("Order Completed"), &[Signal::Purchase]);
        assert_eq!(m.track_signals("  order completed "), &[Signal::Purchase]);
        assert_eq!(
            m.track_signals("Content Downloaded"),
            &[Signal::Lead, Signal::ContentEngaged, Signal::ContentDownloaded]
        );
        assert!(m.track_signals("Button Clicked").is_empty());
        assert!(m.is_consideration_path("/Pricing/enterprise"));
        assert!(m.is_consideration_path("/pricing"));
        assert!(m.is_consideration_path("/en/pricing?plan=pro"));
        assert!(m.is_consideration_path("/demo/shop/pricing"));
        assert!(!m.is_consideration_path("/blog/pricing-tips"));
        assert!(!m.is_consideration_path("/pricing-history"));
        assert!(!m.is_consideration_path("/demo/shop/"));
        assert!(!m.is_consideration_path("/"));
        for (i, s) in Signal::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
        }
    }

    /// The definition the matcher replaced: every path split and lower-cased on each call.
    fn by_definition(configured: &[String], path: &str) -> bool {
        let segments = |p: &str| -> Vec<String> {
            p.split(['?', '#'])
                .next()
                .unwrap_or("")
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_ascii_lowercase)
                .collect()
        };
        let page = segments(path);
        configured.iter().any(|c| {
            let want = segments(c);
            !want.is_empty() && page.windows(want.len()).any(|w| w == want.as_slice())
        })
    }

    proptest::proptest! {
        /// Splitting the configured paths once answers as splitting them on every call did.
        #[test]
        fn the_matcher_answers_as_the_definition(
            configured in proptest::collection::vec("[/aAbB?#é]{0,8}", 0..4),
            path in "[/aAbB?#é]{0,12}",
        ) {
            let mapping = EventMapping { consideration_paths: configured.clone(), ..EventMapping::default() };
            proptest::prop_assert_eq!(mapping.is_consideration_path(&path), by_definition(&configured, &path));
        }
    }
}
