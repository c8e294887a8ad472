//! Ingest parsing and validation (`daytwo_shared::message::parse_body`), as the Worker and the CLI call it.
//!
//! The first byte chooses the context (which write key, the path's type or a batch path, a live request or a
//! file, the IP policy); the rest is the request body. Properties:
//! - never a panic;
//! - a refusal has one of the documented codes, with 413 exactly for the size limits and 400 otherwise;
//! - an accepted body gives one message per item, of the path's type, with the request's key (`via`), an
//!   id, a user or visitor, revenue within the money range and an event time within the accepted range;
//! - no e-mail address survives in anything stored (scrubbing it again changes nothing);
//! - the body read straight into its fields is the body read as a `Value`: the same messages or the same refusal;
//! - each message is stored as JSON and read back as the same message (the Worker's raw batches);
//! - and the stored message, validated again as a file's line with the same key, is the same message (unless
//!   scrubbing made it longer than a limit: an address's token is longer than a short address).

#![no_main]

use daytwo_shared::config::IngestSettings;
use daytwo_shared::message::{
    Body, IngestContext, IngestError, KeyKind, MAX_BATCH_BYTES, MAX_ID_CHARS, MAX_MESSAGE_BYTES, Message, MessageType,
    Receipt, parse_body, parse_value, validate_body,
};
use daytwo_shared::money::{Currency, MAX_ABS_MINOR};
use daytwo_shared::privacy::{IpPolicy, stored_id};
use daytwo_shared::time::Timestamp;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const SALT: &str = "fuzz-salt";
/// 2026-10-10T12:00:00Z, the live request's receive time.
const NOW: Timestamp = Timestamp(1_791_633_600_000);

/// Every code `IngestError::code` may give.
const CODES: [&str; 26] = [
    "batch_too_large",
    "currency_mismatch",
    "empty_batch",
    "empty_body",
    "invalid_body",
    "invalid_event",
    "invalid_id",
    "invalid_message",
    "invalid_message_id",
    "invalid_revenue",
    "invalid_timestamp",
    "invalid_type",
    "invalid_utf8",
    "malformed_json",
    "message_too_large",
    "missing_event",
    "missing_group_id",
    "missing_id",
    "missing_timestamp",
    "missing_type",
    "negative_revenue",
    "revenue_out_of_range",
    "timestamp_out_of_range",
    "type_mismatch",
    "unexpected_batch",
    "unknown_type",
];

const PATH_TYPES: [Option<MessageType>; 7] = [
    None,
    Some(MessageType::Track),
    Some(MessageType::Identify),
    Some(MessageType::Page),
    Some(MessageType::Screen),
    Some(MessageType::Group),
    Some(MessageType::Alias),
];

fn check_error(e: &IngestError) {
    let code = e.code();
    assert!(CODES.contains(&code), "undocumented code {code}: {e}");
    let size = matches!(code, "batch_too_large" | "message_too_large");
    assert_eq!(e.status(), if size { 413 } else { 400 }, "{code}");
    assert!(!e.to_string().is_empty());
}

/// Every string in a stored value, keys included, is free of e-mail addresses: scrubbing it changes nothing.
fn assert_scrubbed(v: &Value, at: &str) {
    match v {
        Value::String(s) => assert_eq!(stored_id(s, SALT), *s, "an e-mail address survives at {at}"),
        Value::Array(items) => items.iter().for_each(|i| assert_scrubbed(i, at)),
        Value::Object(map) => {
            for (k, v) in map {
                assert_eq!(stored_id(k, SALT), *k, "an e-mail address survives in a key at {at}");
                assert_scrubbed(v, &format!("{at}.{k}"));
            }
        }
        _ => {}
    }
}

/// Whether scrubbing may have pushed the message past a limit that validation enforces.
fn past_a_limit(m: &Message, stored: &str) -> bool {
    let ids = [&m.message_id]
        .into_iter()
        .chain([&m.user_id, &m.anonymous_id, &m.group_id, &m.previous_id, &m.event, &m.name].into_iter().flatten());
    stored.len() > MAX_MESSAGE_BYTES || ids.into_iter().any(|s| s.chars().count() > MAX_ID_CHARS)
}

fn check_message(m: &Message, ctx: &IngestContext<'_>, settings: &IngestSettings) {
    if let Some(t) = ctx.path_type {
        assert_eq!(m.kind, t);
    }
    assert_eq!(m.via, ctx.via);
    assert!(!m.message_id.is_empty());
    assert!(m.user_id.is_some() || m.anonymous_id.is_some());
    for id in [&m.user_id, &m.anonymous_id, &m.group_id, &m.previous_id, &m.event, &m.name].into_iter().flatten() {
        assert!(!id.is_empty());
    }
    match m.kind {
        MessageType::Track => assert!(m.event.is_some()),
        MessageType::Group => assert!(m.group_id.is_some()),
        MessageType::Alias => assert!(m.previous_id.is_some() && m.user_id.is_some()),
        _ => {}
    }
    assert!(m.revenue_minor.is_none_or(|r| (0..=MAX_ABS_MINOR).contains(&r)), "{:?}", m.revenue_minor);
    assert!(m.timestamp >= settings.oldest_event.start(), "{}", m.timestamp);
    if let Receipt::Live(now) = ctx.receipt {
        assert_eq!(m.received_at, now);
        assert!(m.timestamp.0 <= now.0 + settings.max_future_hours * 3_600_000, "{}", m.timestamp);
    }

    let stored = serde_json::to_string(m).unwrap_or_else(|e| panic!("not serialisable: {e}"));
    let back: Message =
        serde_json::from_str(&stored).unwrap_or_else(|e| panic!("stored form unreadable: {e}\n{stored}"));
    assert_eq!(&back, m, "stored form reads back differently: {stored}");

    let value: Value = serde_json::from_str(&stored).unwrap_or_default();
    assert_scrubbed(&value, "message");

    // Validated again as a file's line (inside a batch, so that a kept top-level field named `batch` stays
    // a field), with the same key.
    let again = IngestContext { receipt: Receipt::File, path_type: None, ..ctx.clone() };
    match parse_value(json!({ "batch": [value] }), &again) {
        Ok(b) => assert_eq!(b.messages.as_slice(), std::slice::from_ref(m), "re-validation changed it: {stored}"),
        Err(e) if past_a_limit(m, &stored) => check_error(&e),
        Err(e) => panic!("the stored message does not validate again: {e} ({})\n{stored}", e.code()),
    }
}

fn check(data: &[u8]) {
    let Some((&head, body)) = data.split_first() else { return };
    let currency = Currency::default();
    let settings = IngestSettings {
        ip: if head & 0x80 == 0 { IpPolicy::Drop } else { IpPolicy::Truncate },
        keep_query_params: vec!["ref".to_owned()],
        ..IngestSettings::default()
    };
    let ctx = IngestContext {
        receipt: if head & 0x40 == 0 { Receipt::Live(NOW) } else { Receipt::File },
        email_salt: SALT,
        currency: &currency,
        settings: &settings,
        path_type: PATH_TYPES[usize::from(head >> 1 & 0x1f) % PATH_TYPES.len()],
        via: if head & 1 == 0 { KeyKind::Public } else { KeyKind::Secret },
    };
    let parsed = parse_body(body, &ctx);
    // The body read straight into its fields (`Body`) is the body read as a `Value`: the same messages or the
    // same refusal (a syntax error's text aside: the other path never sees it).
    if let Some(value) = std::str::from_utf8(body).ok().and_then(|t| serde_json::from_str::<Value>(t).ok())
        && body.len() <= MAX_BATCH_BYTES
    {
        assert_eq!(parsed, validate_body(Body::from_value(value), body.len(), &ctx));
    }
    let batch = match parsed {
        Ok(batch) => batch,
        Err(e) => {
            check_error(&e);
            return;
        }
    };
    assert!(body.len() <= MAX_BATCH_BYTES);
    let sent: Value = serde_json::from_slice(body).unwrap_or_default();
    let items = match (ctx.path_type, sent.get("batch")) {
        (None, Some(Value::Array(items))) => items.len(),
        _ => 1,
    };
    assert_eq!(batch.messages.len(), items);
    assert_eq!(batch.write_key.as_deref(), sent.get("writeKey").and_then(Value::as_str));
    for m in &batch.messages {
        check_message(m, &ctx, &settings);
    }
}

fuzz_target!(|data: &[u8]| check(data));
