//! A body (or a file's line) read once into the fields validation wants.
//!
//! Parsing a message into a `serde_json::Value` builds a map of its top level (a key string and a tree node
//! per field) only for validation to take it apart again: a tenth of a report's time from a file. Here the
//! parser's own visitor puts each top-level value straight into its slot ([`Fields`]), keys borrowed from the
//! text; only the values (and the client's unknown fields) are `Value`s. What comes out is exactly what the
//! map would have held: a duplicate key keeps its last value, as in a map; its size is counted from the slots
//! ([`Fields::serialized_len`]), and [`Fields::into_map`] gives the map back for the one thing that needs the
//! message whole, the id digest of a message without `messageId` (`content_id`). Syntax errors are the
//! parser's own, the same as for a `Value` (property test `tests::a_body_reads_as_its_value`, and the ingest
//! fuzz target).

use super::RESERVED;
use serde::de::value::SeqAccessDeserializer;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// A parsed body: an object's fields in their slots, or any other JSON value (refused by validation, which
/// names what it wanted).
#[derive(Debug)]
pub struct Body(pub(super) Parsed);

#[derive(Debug)]
pub(super) enum Parsed {
    Object(Box<Fields>),
    /// The top level's `batch`, when it is an array: its messages.
    Items(Vec<Parsed>),
    Other(Value),
}

/// The fields validation reads, each in its [`Slot`], and the rest: `rest` holds the client's other fields
/// (kept as the message's `extra`), `reserved` the stored names only Daytwo may set (`revenueMinor`, `via`:
/// dropped), and `batch` the body's batch (only ever set at the top level; in a message it is a field like
/// any other).
#[derive(Debug, Default)]
pub(super) struct Fields {
    named: [Option<Value>; Slot::ALL.len()],
    pub batch: Option<Parsed>,
    pub reserved: Map<String, Value>,
    pub rest: Map<String, Value>,
}

/// The top-level fields validation reads, and the key each is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    Type,
    MessageId,
    UserId,
    AnonymousId,
    GroupId,
    PreviousId,
    Event,
    Name,
    Properties,
    Traits,
    Context,
    Timestamp,
    SentAt,
    ReceivedAt,
    WriteKey,
}

impl Slot {
    pub const ALL: [Slot; 15] = [
        Slot::Type,
        Slot::MessageId,
        Slot::UserId,
        Slot::AnonymousId,
        Slot::GroupId,
        Slot::PreviousId,
        Slot::Event,
        Slot::Name,
        Slot::Properties,
        Slot::Traits,
        Slot::Context,
        Slot::Timestamp,
        Slot::SentAt,
        Slot::ReceivedAt,
        Slot::WriteKey,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Slot::Type => "type",
            Slot::MessageId => "messageId",
            Slot::UserId => "userId",
            Slot::AnonymousId => "anonymousId",
            Slot::GroupId => "groupId",
            Slot::PreviousId => "previousId",
            Slot::Event => "event",
            Slot::Name => "name",
            Slot::Properties => "properties",
            Slot::Traits => "traits",
            Slot::Context => "context",
            Slot::Timestamp => "timestamp",
            Slot::SentAt => "sentAt",
            Slot::ReceivedAt => "receivedAt",
            Slot::WriteKey => "writeKey",
        }
    }

    /// The slot of a key (the inverse of [`Slot::key`], tested).
    pub fn of(key: &str) -> Option<Slot> {
        Some(match key {
            "type" => Slot::Type,
            "messageId" => Slot::MessageId,
            "userId" => Slot::UserId,
            "anonymousId" => Slot::AnonymousId,
            "groupId" => Slot::GroupId,
            "previousId" => Slot::PreviousId,
            "event" => Slot::Event,
            "name" => Slot::Name,
            "properties" => Slot::Properties,
            "traits" => Slot::Traits,
            "context" => Slot::Context,
            "timestamp" => Slot::Timestamp,
            "sentAt" => Slot::SentAt,
            "receivedAt" => Slot::ReceivedAt,
            "writeKey" => Slot::WriteKey,
            _ => return None,
        })
    }
}

impl Fields {
    pub fn get(&self, slot: Slot) -> Option<&Value> {
        self.named[slot as usize].as_ref()
    }

    pub fn take(&mut self, slot: Slot) -> Option<Value> {
        self.named[slot as usize].take()
    }

    /// Puts one field where it belongs; a later one of the same key replaces it, as in a map.
    fn put(&mut self, key: Cow<'_, str>, value: Value) {
        if let Some(slot) = Slot::of(&key) {
            self.named[slot as usize] = Some(value);
        } else if RESERVED.contains(&key.as_ref()) {
            self.reserved.insert(key.into_owned(), value);
        } else {
            self.rest.insert(key.into_owned(), value);
        }
    }

    /// A message's map sorted into slots (`batch` is a field like any other in a message).
    pub fn from_map(map: Map<String, Value>) -> Fields {
        let mut f = Fields::default();
        for (key, value) in map {
            f.put(Cow::Owned(key), value);
        }
        f
    }

    /// The map the fields came from (without a top-level `batch`, which no message has).
    pub fn into_map(self) -> Map<String, Value> {
        let mut map = self.rest;
        map.extend(self.reserved);
        for (slot, value) in Slot::ALL.into_iter().zip(self.named) {
            if let Some(v) = value {
                map.insert(slot.key().to_owned(), v);
            }
        }
        map
    }

    /// Bytes of the message written as compact JSON (what `json_len` counts of its map), counted from the
    /// slots: a map's text is its entries' `"key":value` and a comma between each, in braces, whatever their
    /// order.
    pub fn serialized_len(&self) -> usize {
        let named = Slot::ALL.iter().filter_map(|s| Some((s.key(), self.get(*s)?)));
        let others = self.rest.iter().chain(&self.reserved).map(|(k, v)| (k.as_str(), v));
        let (mut total, mut entries) = (2usize, 0usize);
        for (key, value) in named.chain(others) {
            total = total.saturating_add(json_len(key)).saturating_add(1).saturating_add(json_len(value));
            entries += 1;
        }
        total.saturating_add(entries.saturating_sub(1))
    }
}

/// Bytes of `value` written as compact JSON, counted without building the text (the size check runs on every
/// message of a long body: building and freeing a string each time was a tenth of a report's time from a file).
pub(super) fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    serde_json::to_writer(&mut n, value).map_or(usize::MAX, |()| n.0)
}

impl Parsed {
    /// A value already parsed, as [`ParsedSeed`] reads it from text: a body (whose `batch` holds messages)
    /// or a message.
    fn from_value(value: Value, level: Level) -> Parsed {
        let Value::Object(mut map) = value else { return Parsed::Other(value) };
        // A body's `batch` holds its messages; in a message it is a field like any other.
        let batch = if level == Level::Body { map.remove("batch") } else { None };
        let mut f = Fields::from_map(map);
        f.batch = batch.map(|b| match b {
            Value::Array(items) => {
                Parsed::Items(items.into_iter().map(|v| Parsed::from_value(v, Level::Message)).collect())
            }
            other => Parsed::Other(other),
        });
        Parsed::Object(Box::new(f))
    }
}

impl Body {
    /// A body from JSON text.
    pub fn from_text(text: &str) -> Result<Body, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = ParsedSeed(Level::Body).deserialize(&mut de)?;
        de.end()?;
        Ok(Body(parsed))
    }

    /// A body already parsed as a `Value` (`parse_value`: tests, `testkit`, the fuzz targets).
    pub fn from_value(value: Value) -> Body {
        Body(Parsed::from_value(value, Level::Body))
    }

    /// The `writeKey` the body carries, if it is an object with a string `writeKey`.
    pub fn write_key(&self) -> Option<&str> {
        match &self.0 {
            Parsed::Object(f) => f.get(Slot::WriteKey).and_then(Value::as_str),
            Parsed::Items(_) | Parsed::Other(_) => None,
        }
    }
}

/// What a [`ParsedSeed`] reads: a body, a message, or a body's `batch`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Body,
    Message,
    Batch,
}

/// Reads an object into [`Fields`] (a body's `batch` into `Items` when it is an array), anything else into
/// the `Value` it is, built by `Value`'s own visitor, so the syntax errors are the same.
struct ParsedSeed(Level);

impl<'de> DeserializeSeed<'de> for ParsedSeed {
    type Value = Parsed;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Parsed, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ParsedSeed {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Parsed, A::Error> {
        let mut f = Fields::default();
        while let Some(key) = access.next_key_seed(KeySeed)? {
            if self.0 == Level::Body && key == "batch" {
                f.batch = Some(access.next_value_seed(ParsedSeed(Level::Batch))?);
            } else {
                let value = access.next_value::<Value>()?;
                f.put(key, value);
            }
        }
        Ok(Parsed::Object(Box::new(f)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Parsed, A::Error> {
        if self.0 != Level::Batch {
            return Value::deserialize(SeqAccessDeserializer::new(seq)).map(Parsed::Other);
        }
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element_seed(ParsedSeed(Level::Message))? {
            items.push(item);
        }
        Ok(Parsed::Items(items))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Parsed, E> {
        Ok(Parsed::Other(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Parsed, E> {
        Ok(Parsed::Other(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Parsed, E> {
        Ok(Parsed::Other(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Parsed, E> {
        Ok(Parsed::Other(Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Parsed, E> {
        Ok(Parsed::Other(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Parsed, E> {
        Ok(Parsed::Other(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Parsed, E> {
        Ok(Parsed::Other(Value::Null))
    }
}

/// A key, borrowed from the text when it has no escapes (nearly always), so known keys cost no allocation.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}
