//! The Segment wire format of a generated message: its kind, its property values, how it carries its time
//! ([`TimeShape`]), and its serialisation into one NDJSON line.
//!
//! Messages are built in memory as [`Ev`]s, which name contacts by index, and serialised by [`Line`], which looks
//! up their ids: the simulation never formats JSON, and the field order here is the byte order of the output.

use super::sim::Contact;
use daytwo_shared::time::Timestamp;
use serde::ser::{Serialize, SerializeMap, Serializer};

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
    pub(super) fn fields(self, t: i64) -> Vec<(&'static str, String)> {
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

/// The Segment call a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Page,
    Identify,
    Group,
    Track,
    Alias,
}

impl Kind {
    /// The call's `type` on the wire.
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
pub(super) enum Val {
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

/// A message's properties or traits, in the order they are written.
pub(super) type Props = Vec<(&'static str, Val)>;

/// Serialises [`Props`] as a JSON object, keeping their order.
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

/// One message of an account, in memory until the account's story is over and its messages are sorted.
#[derive(Debug)]
pub(super) struct Ev {
    /// Event time, ms since the epoch.
    pub(super) ts: i64,
    /// Order of recording: breaks ties between messages of the same millisecond.
    pub(super) seq: u32,
    pub(super) kind: Kind,
    /// Index of the contact whose `userId` the message carries.
    pub(super) user: Option<usize>,
    /// Index of the contact whose `anonymousId` the message carries.
    pub(super) anon: Option<usize>,
    /// Track: event name. Page: page name.
    pub(super) name: &'static str,
    /// Properties (page, track) or traits (identify, group).
    pub(super) props: Props,
    /// Track events of a contact after its group call carry `context.groupId`.
    pub(super) ctx_group: bool,
}

/// A message as written: an [`Ev`] with its account's ids, its `messageId` and its time fields.
pub(super) struct Line<'a> {
    pub(super) ev: &'a Ev,
    /// The account's contacts, whom `ev` names by index.
    pub(super) contacts: &'a [Contact],
    pub(super) group_id: &'a str,
    pub(super) id: &'a str,
    pub(super) times: &'a [(&'static str, String)],
}

/// The `context` of a track call made after the contact's group call.
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
        let contacts = self.contacts;
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
                m.serialize_entry("groupId", self.group_id)?;
                m.serialize_entry("traits", &PropsRef(&ev.props))?;
            }
            Kind::Alias => {
                if let Some(u) = ev.user {
                    m.serialize_entry("previousId", &contacts[u].anon_id)?;
                }
            }
        }
        if ev.ctx_group {
            m.serialize_entry("context", &GroupContext(self.group_id))?;
        }
        m.end()
    }
}
