//! Segment Tracking API messages: parsing, validation and sanitising (docs/design.md §4).
//!
//! `parse_body` turns a request body into validated [`Message`]s or one [`IngestError`] naming the offending
//! field (`batch[3].timestamp`). A batch is accepted or rejected whole. Sanitising happens here, before
//! anything is stored: e-mail traits become salted SHA-256 digests, event times are skew-corrected.

mod body;

use crate::config::IngestSettings;
pub use crate::event_time::Receipt;
use crate::event_time::{self, TimeFields};
use crate::money::{Currency, MoneyError, json_to_minor};
pub use crate::privacy::email_digest;
use crate::privacy::{Scrubber, is_email_key};
use crate::time::Timestamp;
pub use body::Body;
use body::{Fields, Parsed, Slot, json_len};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Segment's limit for one message, in bytes of JSON.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
/// Segment's limit for one request body, in bytes.
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
/// Longest id or event name kept (longer ones are refused, never truncated).
pub const MAX_ID_CHARS: usize = 256;

/// The message types of the Segment spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Track,
    Identify,
    Page,
    Screen,
    Group,
    Alias,
}

impl MessageType {
    pub fn parse(s: &str) -> Option<MessageType> {
        Some(match s {
            "track" => MessageType::Track,
            "identify" => MessageType::Identify,
            "page" => MessageType::Page,
            "screen" => MessageType::Screen,
            "group" => MessageType::Group,
            "alias" => MessageType::Alias,
            _ => return None,
        })
    }

    /// The type an ingest path implies: `/v1/track` and analytics-next's `/v1/t` both mean Track.
    /// `None` for `batch`/`b` and unknown paths.
    pub fn from_path_segment(seg: &str) -> Option<MessageType> {
        Some(match seg {
            "track" | "t" => MessageType::Track,
            "identify" | "i" => MessageType::Identify,
            "page" | "p" => MessageType::Page,
            "screen" | "s" => MessageType::Screen,
            "group" | "g" => MessageType::Group,
            "alias" | "a" => MessageType::Alias,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Track => "track",
            MessageType::Identify => "identify",
            MessageType::Page => "page",
            MessageType::Screen => "screen",
            MessageType::Group => "group",
            MessageType::Alias => "alias",
        }
    }
}

/// A validated, sanitised message: what is stored and what the rollup folds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    #[serde(rename = "type")]
    pub kind: MessageType,
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<String>,
    /// `groupId` of a group call, or `context.groupId` / top-level `groupId` of any other call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Event time after clock-skew correction.
    #[serde(with = "rfc3339")]
    pub timestamp: Timestamp,
    #[serde(with = "rfc3339")]
    pub received_at: Timestamp,
    /// `properties.revenue` converted to minor units at ingest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub properties: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub traits: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub context: Map<String, Value>,
    /// Which of the site's write keys brought the message: set from the key the Worker checked (a file the
    /// CLI reads is the operator's own: `Secret`), never from the message's JSON (`RESERVED`). Stored only
    /// when secret, so batches stored before the secret key existed read as public, which they were.
    #[serde(default, skip_serializing_if = "KeyKind::is_public")]
    pub via: KeyKind,
    /// Unknown fields are kept, not refused.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The site's two write keys. The public one (`wk_…`) is in the tracking snippet, so any visitor has it; the
/// secret one (`sk_…`) stays on the site's servers (Segment's server libraries, the billing system,
/// `daytwo import`). Figures that only the secret key may move: `config::TrustSettings`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    #[default]
    Public,
    Secret,
}

impl KeyKind {
    pub fn is_public(&self) -> bool {
        *self == KeyKind::Public
    }
}

/// The stored names of `Message`'s own fields. A client's unknown top-level fields are kept in `extra`, which
/// is stored flattened beside them: one of these names there would be read back as the field itself (a
/// `revenueMinor` past validation, a `via` claiming the secret key), so they are dropped from `extra`.
const RESERVED: [&str; 15] = [
    "type",
    "messageId",
    "userId",
    "anonymousId",
    "groupId",
    "previousId",
    "event",
    "name",
    "timestamp",
    "receivedAt",
    "revenueMinor",
    "properties",
    "traits",
    "context",
    "via",
];

mod rfc3339 {
    use super::*;
    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

impl Message {
    /// Whether the message carries an e-mail address (hashed) in its traits: the "contact" of a Lead.
    pub fn has_contact(&self) -> bool {
        let hashed = |m: &Map<String, Value>| m.keys().any(|k| k.strip_suffix("_sha256").is_some_and(is_email_key));
        hashed(&self.traits) || self.context.get("traits").and_then(Value::as_object).is_some_and(hashed)
    }

    /// A page view's path, from `properties.path` or `properties.url`.
    pub fn page_path(&self) -> Option<String> {
        if let Some(p) = self.properties.get("path").and_then(Value::as_str) {
            return Some(p.to_owned());
        }
        let url = self.properties.get("url").and_then(Value::as_str)?;
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
        Some(path.split(['?', '#']).next().unwrap_or("/").to_owned())
    }

    /// A display name from traits (`name`, then `company`), if any.
    pub fn display_name(&self) -> Option<&str> {
        ["name", "company"].iter().find_map(|k| self.traits.get(*k).and_then(Value::as_str)).filter(|s| !s.is_empty())
    }
}

/// Why a request body was refused. Every variant maps to a 4xx status and a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IngestError {
    #[error("request body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("{field} is larger than {limit} bytes")]
    MessageTooLarge { field: String, limit: usize },
    #[error("request body is empty")]
    EmptyBody,
    #[error("request body is not valid UTF-8")]
    InvalidUtf8,
    #[error("request body is not valid JSON: {detail}")]
    MalformedJson { detail: String },
    #[error("{field}: {message}")]
    Invalid { field: String, code: &'static str, message: String },
}

impl IngestError {
    fn invalid(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> IngestError {
        IngestError::Invalid { field: field.into(), code, message: message.into() }
    }

    /// Stable machine-readable code for the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            IngestError::BodyTooLarge { .. } => "batch_too_large",
            IngestError::MessageTooLarge { .. } => "message_too_large",
            IngestError::EmptyBody => "empty_body",
            IngestError::InvalidUtf8 => "invalid_utf8",
            IngestError::MalformedJson { .. } => "malformed_json",
            IngestError::Invalid { code, .. } => code,
        }
    }

    /// The offending field, as a path into the body (`batch[3].timestamp`).
    pub fn field(&self) -> Option<&str> {
        match self {
            IngestError::MessageTooLarge { field, .. } | IngestError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// 413 for size limits, 400 for everything else (Segment SDKs never retry a 400).
    pub fn status(&self) -> u16 {
        match self {
            IngestError::BodyTooLarge { .. } | IngestError::MessageTooLarge { .. } => 413,
            _ => 400,
        }
    }
}

/// What validation needs to know that is not in the body.
#[derive(Debug, Clone)]
pub struct IngestContext<'a> {
    /// Where the receive time comes from: the Worker's clock for a live request, each message's own
    /// `receivedAt` for a file (see [`crate::event_time`]).
    pub receipt: Receipt,
    /// The site's secret salt for e-mail digests.
    pub email_salt: &'a str,
    pub currency: &'a Currency,
    pub settings: &'a IngestSettings,
    /// The type implied by the path (`/v1/track`, `/v1/t`); `None` for batch endpoints.
    pub path_type: Option<MessageType>,
    /// The write key the request came with (a file read by the CLI: `Secret`).
    pub via: KeyKind,
}

/// A validated request body.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub messages: Vec<Message>,
    /// `writeKey` from the body, if the client sent it there (analytics-next, `sendBeacon`).
    pub write_key: Option<String>,
}

/// Parses and validates a whole request body. All or nothing.
pub fn parse_body(body: &[u8], ctx: &IngestContext<'_>) -> Result<Batch, IngestError> {
    validate_body(parse_json(body)?, body.len(), ctx)
}

/// How many times longer than its text a message's compact JSON can be. Strings and keys never grow (an escape
/// written out was one at least as long in the text, and anything not escaped is copied), whitespace goes,
/// and a duplicate key keeps one value. Numbers can grow: a float's text is at least 3 bytes (`1e5`) and its
/// written form at most 24 (`-2.2250738585072014e-308`); an integer's digits are written as they came, or, past
/// 64 bits (20 digits or more), as a float of at most 24. So a message parsed from at most
/// `MAX_MESSAGE_BYTES / MAX_GROWTH` bytes of text is within the limit without counting (property test
/// `tests::compact_json_grows_at_most_max_growth_times`).
const MAX_GROWTH: usize = 8;

/// The first step of `parse_body`: size limit, UTF-8 and JSON syntax, judged by content, not `Content-Type`.
/// The Worker needs the parsed body before validation to find a `writeKey` sent inside it.
pub fn parse_json(body: &[u8]) -> Result<Body, IngestError> {
    if body.len() > MAX_BATCH_BYTES {
        return Err(IngestError::BodyTooLarge { limit: MAX_BATCH_BYTES });
    }
    let text = std::str::from_utf8(body).map_err(|_| IngestError::InvalidUtf8)?;
    if text.trim().is_empty() {
        return Err(IngestError::EmptyBody);
    }
    Body::from_text(text).map_err(|e| IngestError::MalformedJson { detail: e.to_string() })
}

/// Validates an already parsed body (a message, or `{"batch": [...]}`).
pub fn parse_value(value: Value, ctx: &IngestContext<'_>) -> Result<Batch, IngestError> {
    validate_body(Body::from_value(value), usize::MAX, ctx)
}

/// Validates a body parsed from `text_len` bytes of text: no message in a short text can be over
/// [`MAX_MESSAGE_BYTES`], so its size is not counted ([`MAX_GROWTH`]; counting it was a twentieth of a
/// report's time from a file).
pub fn validate_body(body: Body, text_len: usize, ctx: &IngestContext<'_>) -> Result<Batch, IngestError> {
    let may_be_too_large = text_len.saturating_mul(MAX_GROWTH) > MAX_MESSAGE_BYTES;
    let Parsed::Object(mut top) = body.0 else {
        return Err(IngestError::invalid("", "invalid_body", "body must be a JSON object"));
    };
    let write_key = match top.take(Slot::WriteKey) {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k),
        Some(_) => return Err(IngestError::invalid("writeKey", "invalid_type", "writeKey must be a string")),
    };
    let batch_sent_at = match top.get(Slot::SentAt) {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_time(v, "sentAt")?),
    };
    let messages = match (ctx.path_type, top.batch.take()) {
        (None, Some(Parsed::Items(items))) => {
            if items.is_empty() {
                return Err(IngestError::invalid("batch", "empty_batch", "batch must hold at least one message"));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                out.push(validate_message(item, &format!("batch[{i}]"), None, batch_sent_at, may_be_too_large, ctx)?);
            }
            out
        }
        (None, Some(Parsed::Object(_) | Parsed::Other(_))) => {
            return Err(IngestError::invalid("batch", "invalid_type", "batch must be an array of messages"));
        }
        (None, None) => {
            // analytics-next may post a single message to the batch path; accept it as one message.
            vec![validate_message(Parsed::Object(top), "", None, None, may_be_too_large, ctx)?]
        }
        (Some(t), None) => vec![validate_message(Parsed::Object(top), "", Some(t), None, may_be_too_large, ctx)?],
        (Some(_), Some(_)) => {
            return Err(IngestError::invalid("batch", "unexpected_batch", "send batches to /v1/batch"));
        }
    };
    Ok(Batch { messages, write_key })
}

/// The id a message without `messageId` gets: a digest of its content as received, so an id-less retry of the
/// same content dedups too.
pub fn content_id(message: &Map<String, Value>) -> String {
    let canonical = serde_json::to_string(message).unwrap_or_default();
    format!("dt-{}", &hex(&Sha256::digest(canonical.as_bytes()))[..32])
}

/// Makes one line of an events file (a message, or `{"batch":[…]}`) ready to be sent again, as
/// `daytwo import` does, so that the receiver computes exactly what an offline report computes from the
/// file: each message's time is resolved the file's way ([`Receipt::File`]) and written as its final
/// `timestamp`, the fields that would correct it again (`sentAt`, `receivedAt`, `originalTimestamp`) are
/// dropped, and its id is fixed (an id-less message gets the [`content_id`] the offline report gives it).
/// Everything else is left for the receiver to validate.
pub fn prepare_replay(line: Value, max_clock_skew_hours: i64) -> Result<Vec<Value>, IngestError> {
    let Value::Object(mut top) = line else {
        return Err(IngestError::invalid("", "invalid_body", "a line must be a JSON object"));
    };
    let (items, batch_sent_at, prefix): (Vec<Value>, Option<Timestamp>, bool) = match top.remove("batch") {
        Some(Value::Array(items)) => {
            let sent = match top.get("sentAt") {
                None | Some(Value::Null) => None,
                Some(v) => Some(parse_time(v, "sentAt")?),
            };
            (items, sent, true)
        }
        Some(_) => return Err(IngestError::invalid("batch", "invalid_type", "batch must be an array of messages")),
        None => (vec![Value::Object(top)], None, false),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let prefix = if prefix { format!("batch[{i}]") } else { String::new() };
        let Value::Object(mut m) = item else {
            return Err(IngestError::invalid(prefix, "invalid_message", "a message must be a JSON object"));
        };
        let id = match m.get("messageId") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => content_id(&m),
        };
        let resolved = resolve_times(&mut m, &prefix, batch_sent_at, Receipt::File, max_clock_skew_hours)?;
        m.remove("originalTimestamp");
        m.insert("messageId".into(), Value::String(id));
        m.insert("timestamp".into(), Value::String(resolved.event_time.to_rfc3339()));
        out.push(Value::Object(m));
    }
    Ok(out)
}

/// Reads a message's time fields and resolves its event time ([`event_time::resolve`]). Removes `timestamp`,
/// `sentAt` and `receivedAt` (the event time replaces them); `originalTimestamp` is left to the caller. A
/// `receivedAt` counts only in a file: a live request is stamped by the caller.
fn resolve_times(
    m: &mut Map<String, Value>,
    prefix: &str,
    batch_sent_at: Option<Timestamp>,
    receipt: Receipt,
    max_clock_skew_hours: i64,
) -> Result<event_time::Resolved, IngestError> {
    let received = m.remove("receivedAt");
    let timestamp = m.remove("timestamp");
    let sent_at = m.remove("sentAt");
    let raw = RawTimes {
        timestamp: timestamp.as_ref(),
        original_timestamp: m.get("originalTimestamp"),
        sent_at: sent_at.as_ref(),
        received_at: received.as_ref(),
    };
    resolve_raw_times(&raw, prefix, batch_sent_at, receipt, max_clock_skew_hours)
}

/// A message's time fields as received, not yet parsed.
#[derive(Debug, Clone, Copy)]
struct RawTimes<'a> {
    timestamp: Option<&'a Value>,
    original_timestamp: Option<&'a Value>,
    sent_at: Option<&'a Value>,
    received_at: Option<&'a Value>,
}

/// Parses the time fields (in this order, so the first bad one is the one named) and resolves the event time.
fn resolve_raw_times(
    raw: &RawTimes<'_>,
    prefix: &str,
    batch_sent_at: Option<Timestamp>,
    receipt: Receipt,
    max_clock_skew_hours: i64,
) -> Result<event_time::Resolved, IngestError> {
    let time = |v: Option<&Value>, key: &str| match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => parse_time(v, &at(prefix, key)).map(Some),
    };
    let fields = TimeFields {
        timestamp: time(raw.timestamp, "timestamp")?,
        original_timestamp: time(raw.original_timestamp, "originalTimestamp")?,
        sent_at: time(raw.sent_at, "sentAt")?.or(batch_sent_at),
        received_at: if receipt == Receipt::File { time(raw.received_at, "receivedAt")? } else { None },
    };
    event_time::resolve(&fields, receipt, max_clock_skew_hours)
        .map_err(|e| IngestError::invalid(at(prefix, "timestamp"), "missing_timestamp", e.to_string()))
}

fn at(prefix: &str, field: &str) -> String {
    if prefix.is_empty() { field.to_owned() } else { format!("{prefix}.{field}") }
}

fn parse_time(v: &Value, field: &str) -> Result<Timestamp, IngestError> {
    let s = v.as_str().ok_or_else(|| IngestError::invalid(field, "invalid_timestamp", "must be an RFC 3339 string"))?;
    Timestamp::parse_rfc3339(s).map_err(|e| IngestError::invalid(field, "invalid_timestamp", e.to_string()))
}

/// An optional string field: absent and null are `None`; anything else but a non-empty string is refused.
fn opt_string(
    value: Option<Value>,
    key: &str,
    prefix: &str,
    code: &'static str,
) -> Result<Option<String>, IngestError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        // No more characters than bytes: only a long string needs counting.
        Some(Value::String(s)) if s.len() <= MAX_ID_CHARS || s.chars().count() <= MAX_ID_CHARS => Ok(Some(s)),
        Some(Value::String(_)) => {
            Err(IngestError::invalid(at(prefix, key), code, format!("must be at most {MAX_ID_CHARS} characters")))
        }
        Some(_) => Err(IngestError::invalid(at(prefix, key), code, "must be a string")),
    }
}

fn opt_object(value: Option<Value>, key: &str, prefix: &str) -> Result<Map<String, Value>, IngestError> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o),
        Some(_) => Err(IngestError::invalid(at(prefix, key), "invalid_type", "must be an object")),
    }
}

fn validate_message(
    parsed: Parsed,
    prefix: &str,
    path_type: Option<MessageType>,
    batch_sent_at: Option<Timestamp>,
    may_be_too_large: bool,
    ctx: &IngestContext<'_>,
) -> Result<Message, IngestError> {
    let too_large = match &parsed {
        _ if !may_be_too_large => false,
        Parsed::Object(f) => f.serialized_len() > MAX_MESSAGE_BYTES,
        Parsed::Items(_) => false,
        Parsed::Other(v) => json_len(v) > MAX_MESSAGE_BYTES,
    };
    if too_large {
        return Err(IngestError::MessageTooLarge {
            field: if prefix.is_empty() { "message".into() } else { prefix.into() },
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let Parsed::Object(mut f) = parsed else {
        return Err(IngestError::invalid(prefix, "invalid_message", "a message must be a JSON object"));
    };
    // Derived from the content before anything is removed, so an id-less retry dedups too; only for a message
    // that has no id (a digest of the whole message is the costliest step of validating one).
    let fallback_id = match f.get(Slot::MessageId) {
        Some(Value::String(id)) if !id.is_empty() => None,
        _ => {
            let map = f.into_map();
            let id = content_id(&map);
            *f = Fields::from_map(map);
            Some(id)
        }
    };
    let kind = match (f.take(Slot::Type), path_type) {
        (None | Some(Value::Null), Some(t)) => t,
        (Some(Value::String(s)), path) => {
            let t = MessageType::parse(&s).ok_or_else(|| {
                IngestError::invalid(at(prefix, "type"), "unknown_type", format!("unknown message type {s:?}"))
            })?;
            if path.is_some_and(|p| p != t) {
                return Err(IngestError::invalid(
                    at(prefix, "type"),
                    "type_mismatch",
                    "type does not match the endpoint",
                ));
            }
            t
        }
        (None | Some(Value::Null), None) => {
            return Err(IngestError::invalid(at(prefix, "type"), "missing_type", "type is required"));
        }
        (Some(_), _) => return Err(IngestError::invalid(at(prefix, "type"), "unknown_type", "type must be a string")),
    };
    let message_id = match opt_string(f.take(Slot::MessageId), "messageId", prefix, "invalid_message_id")? {
        Some(id) => id,
        // Always computed above for a message whose id is absent, null or empty.
        None => fallback_id.unwrap_or_default(),
    };
    let user_id = opt_string(f.take(Slot::UserId), "userId", prefix, "invalid_id")?;
    let anonymous_id = opt_string(f.take(Slot::AnonymousId), "anonymousId", prefix, "invalid_id")?;
    let mut group_id = opt_string(f.take(Slot::GroupId), "groupId", prefix, "invalid_id")?;
    let previous_id = opt_string(f.take(Slot::PreviousId), "previousId", prefix, "invalid_id")?;
    let event = opt_string(f.take(Slot::Event), "event", prefix, "invalid_event")?;
    let name = opt_string(f.take(Slot::Name), "name", prefix, "invalid_type")?;
    let properties = opt_object(f.take(Slot::Properties), "properties", prefix)?;
    let traits = opt_object(f.take(Slot::Traits), "traits", prefix)?;
    let context = opt_object(f.take(Slot::Context), "context", prefix)?;

    if user_id.is_none() && anonymous_id.is_none() {
        return Err(IngestError::invalid(at(prefix, "userId"), "missing_id", "userId or anonymousId is required"));
    }
    match kind {
        MessageType::Track if event.is_none() => {
            return Err(IngestError::invalid(at(prefix, "event"), "missing_event", "a track call needs an event name"));
        }
        MessageType::Group if group_id.is_none() => {
            return Err(IngestError::invalid(
                at(prefix, "groupId"),
                "missing_group_id",
                "a group call needs a groupId",
            ));
        }
        MessageType::Alias if previous_id.is_none() || user_id.is_none() => {
            return Err(IngestError::invalid(
                at(prefix, "previousId"),
                "missing_id",
                "an alias call needs previousId and userId",
            ));
        }
        _ => {}
    }
    if group_id.is_none() {
        match context.get("groupId") {
            None | Some(Value::Null) => {}
            Some(Value::String(g)) if !g.is_empty() && g.chars().count() <= MAX_ID_CHARS => group_id = Some(g.clone()),
            Some(_) => {
                return Err(IngestError::invalid(at(prefix, "context.groupId"), "invalid_id", "must be a string"));
            }
        }
    }

    // Event time: timestamp, else originalTimestamp, else the receive time; then Segment's skew correction.
    let timestamp_sent = f.get(Slot::Timestamp).is_some_and(|v| !v.is_null());
    let raw_times = RawTimes {
        timestamp: f.get(Slot::Timestamp),
        original_timestamp: f.rest.get("originalTimestamp"),
        sent_at: f.get(Slot::SentAt),
        received_at: f.get(Slot::ReceivedAt),
    };
    let resolved =
        resolve_raw_times(&raw_times, prefix, batch_sent_at, ctx.receipt, ctx.settings.max_clock_skew_hours)?;
    let event_time = resolved.event_time;
    let oldest = ctx.settings.oldest_event.start();
    let too_new = resolved.received_at.is_some_and(|received| {
        event_time > Timestamp(received.0.saturating_add(ctx.settings.max_future_hours.saturating_mul(3_600_000)))
    });
    if event_time < oldest || too_new {
        let field = if timestamp_sent { "timestamp" } else { "sentAt" };
        let limit = match resolved.received_at {
            Some(received) => format!(
                "{} .. {}",
                ctx.settings.oldest_event,
                Timestamp(received.0.saturating_add(ctx.settings.max_future_hours.saturating_mul(3_600_000)))
            ),
            None => format!("{} ..", ctx.settings.oldest_event),
        };
        return Err(IngestError::invalid(
            at(prefix, field),
            "timestamp_out_of_range",
            format!("event time {event_time} is outside {limit}"),
        ));
    }
    // Without a known receive time (a file with no `receivedAt`), the event time stands in: it only ages the
    // dedup index.
    let received_at = resolved.received_at.unwrap_or(event_time);
    let revenue_minor = match properties.get("revenue") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let minor = json_to_minor(v, ctx.currency.exponent()).map_err(|e| {
                let code = match e {
                    MoneyError::OutOfRange => "revenue_out_of_range",
                    _ => "invalid_revenue",
                };
                IngestError::invalid(at(prefix, "properties.revenue"), code, format!("revenue {e}"))
            })?;
            if minor < 0 {
                return Err(IngestError::invalid(
                    at(prefix, "properties.revenue"),
                    "negative_revenue",
                    "revenue must not be negative",
                ));
            }
            Some(minor)
        }
    };
    if revenue_minor.is_some() {
        match properties.get("currency") {
            None | Some(Value::Null) => {}
            Some(Value::String(c)) if c.trim().eq_ignore_ascii_case(ctx.currency.code()) => {}
            Some(_) => {
                return Err(IngestError::invalid(
                    at(prefix, "properties.currency"),
                    "currency_mismatch",
                    format!("this site reports in {}; convert before sending", ctx.currency),
                ));
            }
        }
    }

    // Personal data never reaches storage (see `privacy`): addresses, query strings, IPs.
    let scrub = Scrubber { salt: ctx.email_salt, keep_params: &ctx.settings.keep_query_params, ip: ctx.settings.ip };
    let id = |v: Option<String>| v.map(|s| scrub.text_owned(s));
    Ok(Message {
        kind,
        message_id: scrub.text_owned(message_id),
        user_id: id(user_id),
        anonymous_id: id(anonymous_id),
        group_id: id(group_id),
        previous_id: id(previous_id),
        event: id(event),
        name: id(name),
        timestamp: event_time,
        received_at,
        revenue_minor,
        properties: scrub.map(properties),
        traits: scrub.map(traits),
        context: scrub.map(context),
        via: ctx.via,
        extra: scrub.map(std::mem::take(&mut f.rest)),
    })
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests;
