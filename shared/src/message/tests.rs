use super::*;
use crate::testkit::ts;
use serde_json::json;

fn ctx_with<'a>(
    currency: &'a Currency,
    settings: &'a IngestSettings,
    path_type: Option<MessageType>,
) -> IngestContext<'a> {
    IngestContext {
        receipt: Receipt::Live(ts("2026-10-10T12:00:00Z")),
        email_salt: "site-salt",
        currency,
        settings,
        path_type,
        via: KeyKind::Public,
    }
}

fn parse(body: &str, path: Option<MessageType>) -> Result<Batch, IngestError> {
    let (c, s) = (Currency::default(), IngestSettings::default());
    parse_body(body.as_bytes(), &ctx_with(&c, &s, path))
}

/// Fields a client adds at the top level are kept, except those that would be read back from storage as
/// the message's own: which key brought it (`via`) and a revenue that skipped validation (`revenueMinor`).
#[test]
fn a_client_cannot_claim_the_secret_key_or_smuggle_revenue() {
    let body = r#"{"type":"track","userId":"u","event":"Order Completed","via":"secret",
        "revenueMinor":999999,"receivedAt":"2020-01-01T00:00:00Z","properties":{"revenue":5},"custom":1}"#;
    let (c, s) = (Currency::default(), IngestSettings::default());
    for via in [KeyKind::Public, KeyKind::Secret] {
        let ctx = IngestContext { via, ..ctx_with(&c, &s, None) };
        let m = parse_body(body.as_bytes(), &ctx).unwrap_or_else(|e| panic!("{e}")).messages.remove(0);
        let stored = serde_json::to_string(&m).unwrap_or_else(|e| panic!("{e}"));
        let back: Message = serde_json::from_str(&stored).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((back.via, back.revenue_minor, back.received_at), (via, Some(500), ctx_received()), "{stored}");
        assert_eq!(back.extra.get("custom"), Some(&json!(1)), "{stored}");
    }
}

fn ctx_received() -> Timestamp {
    ts("2026-10-10T12:00:00Z")
}

#[test]
fn bad_bodies_name_code_and_field() {
    let big = "a".repeat(40_000);
    let huge_batch =
        format!("{{\"batch\":[{}]}}", vec![r#"{"type":"track","userId":"u","event":"x"}"#; 20_000].join(","));
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let cases: Vec<(String, Option<MessageType>, &str, Option<&str>)> = vec![
        ("".into(), None, "empty_body", None),
        ("{\"batch\":[".into(), None, "malformed_json", None),
        ("[1,2]".into(), None, "invalid_body", Some("")),
        ("\"text\"".into(), None, "invalid_body", Some("")),
        (deep, None, "malformed_json", None),
        (r#"{"batch":"nope"}"#.into(), None, "invalid_type", Some("batch")),
        (r#"{"batch":[]}"#.into(), None, "empty_batch", Some("batch")),
        (r#"{"batch":[1]}"#.into(), None, "invalid_message", Some("batch[0]")),
        (r#"{"batch":[{"type":"track","event":"x","messageId":"b1"}]}"#.into(), None, "missing_id", Some("batch[0].userId")),
        (r#"{"batch":[{"type":"warp","userId":"u"}]}"#.into(), None, "unknown_type", Some("batch[0].type")),
        (r#"{"batch":[{"userId":"u"}]}"#.into(), None, "missing_type", Some("batch[0].type")),
        (r#"{"batch":[{"type":7,"userId":"u"}]}"#.into(), None, "unknown_type", Some("batch[0].type")),
        (r#"{"batch":[{"type":"track","userId":42,"event":"x"}]}"#.into(), None, "invalid_id", Some("batch[0].userId")),
        (r#"{"batch":[{"type":"track","anonymousId":["a"],"event":"x"}]}"#.into(), None, "invalid_id", Some("batch[0].anonymousId")),
        (r#"{"batch":[{"type":"track","userId":"u"}]}"#.into(), None, "missing_event", Some("batch[0].event")),
        (r#"{"batch":[{"type":"track","userId":"u","event":5}]}"#.into(), None, "invalid_event", Some("batch[0].event")),
        (r#"{"batch":[{"type":"group","userId":"u"}]}"#.into(), None, "missing_group_id", Some("batch[0].groupId")),
        (r#"{"batch":[{"type":"alias","userId":"u"}]}"#.into(), None, "missing_id", Some("batch[0].previousId")),
        (
            r#"{"batch":[{"type":"track","userId":"u","event":"x"},{"type":"track","userId":"u","event":"x","timestamp":"yesterday"}]}"#.into(),
            None,
            "invalid_timestamp",
            Some("batch[1].timestamp"),
        ),
        (r#"{"batch":[{"type":"track","userId":"u","event":"x","timestamp":"1969-12-31T00:00:00Z"}]}"#.into(), None, "timestamp_out_of_range", Some("batch[0].timestamp")),
        (r#"{"batch":[{"type":"track","userId":"u","event":"x","timestamp":"9999-12-31T00:00:00Z"}]}"#.into(), None, "timestamp_out_of_range", Some("batch[0].timestamp")),
        (r#"{"batch":[{"type":"track","userId":"u","event":"x","sentAt":12}]}"#.into(), None, "invalid_timestamp", Some("batch[0].sentAt")),
        (r#"{"batch":[{"type":"track","userId":"u","event":"Order Completed","properties":{"revenue":"lots"}}]}"#.into(), None, "invalid_revenue", Some("batch[0].properties.revenue")),
        (r#"{"batch":[{"type":"track","userId":"u","event":"Order Completed","properties":{"revenue":-5}}]}"#.into(), None, "negative_revenue", Some("batch[0].properties.revenue")),
        (r#"{"batch":[{"type":"track","userId":"u","event":"Order Completed","properties":{"revenue":1e300}}]}"#.into(), None, "revenue_out_of_range", Some("batch[0].properties.revenue")),
        (r#"{"batch":[{"type":"track","userId":"u","event":"Order Completed","properties":{"revenue":{"v":1}}}]}"#.into(), None, "invalid_revenue", Some("batch[0].properties.revenue")),
        (r#"{"batch":[{"type":"track","userId":"u","event":"Order Completed","properties":{"revenue":5,"currency":"EUR"}}]}"#.into(), None, "currency_mismatch", Some("batch[0].properties.currency")),
        (r#"{"batch":[{"type":"track","userId":"u","event":"x","properties":[1]}]}"#.into(), None, "invalid_type", Some("batch[0].properties")),
        (r#"{"batch":[{"type":"identify","userId":"u","traits":"vip"}]}"#.into(), None, "invalid_type", Some("batch[0].traits")),
        (r#"{"batch":[{"type":"track","userId":"u","event":"x","context":{"groupId":9}}]}"#.into(), None, "invalid_id", Some("batch[0].context.groupId")),
        (format!(r#"{{"batch":[{{"type":"track","userId":"u","event":"{}"}}]}}"#, "e".repeat(300)), None, "invalid_event", Some("batch[0].event")),
        (format!(r#"{{"batch":[{{"type":"track","userId":"u","event":"x","properties":{{"p":"{big}"}}}}]}}"#), None, "message_too_large", Some("batch[0]")),
        (huge_batch, None, "batch_too_large", None),
        (r#"{"writeKey":5,"type":"track","userId":"u","event":"x"}"#.into(), Some(MessageType::Track), "invalid_type", Some("writeKey")),
        (r#"{"type":"page","userId":"u"}"#.into(), Some(MessageType::Track), "type_mismatch", Some("type")),
        (r#"{"batch":[{"type":"track","userId":"u","event":"x"}]}"#.into(), Some(MessageType::Track), "unexpected_batch", Some("batch")),
    ];
    for (body, path, code, field) in cases {
        match parse(&body, path) {
            Ok(b) => panic!("accepted {}: {b:?}", &body[..body.len().min(80)]),
            Err(e) => {
                assert_eq!(e.code(), code, "{}: {e}", &body[..body.len().min(80)]);
                assert_eq!(e.field(), field, "{}", &body[..body.len().min(80)]);
            }
        }
    }
    assert_eq!(
        parse_body(
            b"{\"batch\":[{\"type\":\"track\",\"userId\":\"\xff\"}]}",
            &ctx_with(&Currency::default(), &IngestSettings::default(), None)
        )
        .map_err(|e| e.code()),
        Err("invalid_utf8")
    );
}

#[test]
fn good_messages_are_sanitised() {
    let b = parse(
        r#"{"writeKey":"wk","sentAt":"2026-10-10T11:59:00Z","batch":[
            {"type":"identify","userId":"u1","anonymousId":"a1","messageId":"m1","timestamp":"2026-10-10T11:00:00Z",
             "traits":{"email":" Jane@Example.com ","name":"Jane"},"context":{"traits":{"email":"x@y.z"}},"custom":{"kept":true}},
            {"type":"track","userId":"u1","event":"Order Completed","originalTimestamp":"2026-10-09T00:00:00Z",
             "properties":{"revenue":1200.5,"currency":"usd"},"context":{"groupId":"acme"}},
            {"type":"page","anonymousId":"a1","properties":{"url":"https://x.io/pricing?utm=1"}}
        ]}"#,
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.write_key.as_deref(), Some("wk"));
    let [identify, track, page] = &b.messages[..] else { panic!("three messages") };
    // Clock skew: the batch was sent at 11:59 but received at 12:00, so the event moves one minute later.
    assert_eq!(identify.timestamp, ts("2026-10-10T11:01:00Z"));
    assert_eq!(identify.traits.get("email"), None);
    assert_eq!(
        identify.traits.get("email_sha256").and_then(Value::as_str),
        Some(email_digest("jane@example.com", "site-salt").as_str())
    );
    assert_ne!(email_digest("jane@example.com", "site-salt"), email_digest("jane@example.com", "other-salt"));
    assert!(identify.context.get("traits").and_then(|t| t.get("email")).is_none());
    assert!(identify.has_contact());
    assert_eq!(identify.extra.get("custom"), Some(&json!({"kept": true})));
    assert_eq!(track.revenue_minor, Some(120_050));
    assert_eq!(track.group_id.as_deref(), Some("acme"));
    assert_eq!(track.timestamp, ts("2026-10-09T00:01:00Z"));
    assert!(track.message_id.starts_with("dt-"));
    // No timestamp at all: the receive time.
    assert_eq!(page.timestamp, ts("2026-10-10T12:00:00Z"));
    assert_eq!(page.page_path().as_deref(), Some("/pricing"));
    // Stored form round-trips.
    let stored = serde_json::to_value(identify).unwrap_or_default();
    assert_eq!(serde_json::from_value::<Message>(stored).ok().as_ref(), Some(identify));
}

proptest::proptest! {
    /// Whatever arrives, validation answers Ok or a typed error; it never panics.
    #[test]
    fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300), text in "\\PC{0,200}") {
        let (c, s) = (Currency::default(), IngestSettings::default());
        let ctx = ctx_with(&c, &s, None);
        let _ = parse_body(&bytes, &ctx);
        let _ = parse_body(text.as_bytes(), &ctx);
        let wrapped = format!(r#"{{"batch":[{{"type":"track","userId":"u","event":"e","timestamp":{text:?},"properties":{{"revenue":{text:?}}}}}]}}"#);
        let _ = parse_body(wrapped.as_bytes(), &ctx);
    }
}

#[test]
fn single_message_paths_and_ids() {
    let t = parse(r#"{"writeKey":"k","userId":"u","event":"Signed Up"}"#, Some(MessageType::Track))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((t.messages[0].kind, t.write_key.as_deref()), (MessageType::Track, Some("k")));
    // The same id-less body twice gets the same derived messageId, so a retry dedups.
    let again = parse(r#"{"writeKey":"k","userId":"u","event":"Signed Up"}"#, Some(MessageType::Track))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.messages[0].message_id, again.messages[0].message_id);
    let single_on_batch = parse(r#"{"type":"page","anonymousId":"a"}"#, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(single_on_batch.messages.len(), 1);
    for (seg, kind) in [
        ("t", MessageType::Track),
        ("identify", MessageType::Identify),
        ("s", MessageType::Screen),
        ("a", MessageType::Alias),
    ] {
        assert_eq!(MessageType::from_path_segment(seg), Some(kind));
    }
    assert_eq!(MessageType::from_path_segment("b"), None);
}

/// `prepare_replay` resolves each message's time the file's way and fixes its id, so the receiver, whose
/// clock is "now", stores what an offline report of the same line computes.
#[test]
fn replayed_lines_keep_their_time_and_id() {
    let currency = Currency::default();
    let settings = IngestSettings::default();
    let file = IngestContext { receipt: Receipt::File, ..ctx_with(&currency, &settings, None) };
    let live =
        IngestContext { receipt: Receipt::Live(ts("2027-03-01T00:00:00Z")), ..ctx_with(&currency, &settings, None) };
    let lines = [
        // A batch whose sentAt is the batch's, a slow clock with receivedAt, an archived line, no id.
        json!({"sentAt": "2026-01-01T10:00:00Z", "batch": [
            {"type": "track", "userId": "u", "event": "a", "timestamp": "2026-01-01T09:00:00Z",
             "receivedAt": "2026-01-01T11:00:00Z"},
            {"type": "track", "userId": "u", "event": "b", "timestamp": "2026-01-02T00:00:00Z",
             "originalTimestamp": "2026-01-01T00:00:00Z", "sentAt": "2026-01-01T00:00:01Z",
             "receivedAt": "2026-01-02T00:00:01Z", "messageId": "kept"}
        ]}),
        json!({"type": "page", "anonymousId": "a", "originalTimestamp": "2026-02-03T04:05:06Z", "sentAt": "2026-02-03T04:05:06Z"}),
    ];
    for line in lines {
        let offline = parse_value(line.clone(), &file).unwrap().messages;
        let replayed = prepare_replay(line, settings.max_clock_skew_hours).unwrap();
        let received = parse_value(json!({ "batch": replayed }), &live).unwrap().messages;
        assert_eq!(offline.len(), received.len());
        for (o, r) in offline.iter().zip(&received) {
            assert_eq!((o.timestamp, &o.message_id), (r.timestamp, &r.message_id));
        }
    }
    let first = prepare_replay(
        json!({"type":"track","userId":"u","event":"a","timestamp":"2026-01-01T09:00:00Z",
        "sentAt":"2026-01-01T10:00:00Z","receivedAt":"2026-01-01T11:00:00Z"}),
        48,
    )
    .unwrap();
    assert_eq!(first[0]["timestamp"], json!("2026-01-01T10:00:00.000Z"));
    assert!(first[0].get("sentAt").is_none() && first[0].get("receivedAt").is_none());
    let undated = prepare_replay(json!({"type": "track", "userId": "u", "event": "a"}), 48);
    assert_eq!(undated.map_err(|e| e.code()), Err("missing_timestamp"));
}

proptest::proptest! {
    /// No stored byte sequence contains an e-mail address that was in the input: ids, traits under any
    /// e-mail key, free text, URLs (plain or `%40`-encoded), context and unknown fields alike. The same
    /// address as a `userId` always gives the same account id.
    #[test]
    fn no_stored_message_holds_an_input_address(
        local in "[a-z0-9][a-z0-9._+-]{0,10}", domain in "[a-z0-9]{1,8}", tld in "(com|org|io|de)", slot in 0usize..8,
    ) {
        let e = format!("{local}@{domain}.{tld}");
        let enc = e.replace('@', "%40");
        let v = json!({
            "type": "track", "event": "Order Completed", "userId": e, "anonymousId": format!("anon-{e}"),
            "messageId": format!("m-{e}"), "groupId": if slot % 2 == 0 { e.clone() } else { "acme".into() },
            "traits": {"Email": e, "contact": {"workEmail": e.to_uppercase()}},
            "properties": {"url": format!("https://x.io/a?email={enc}&utm_content={e}"), "note": format!("by {e}"),
                           "referrer": format!("https://m.io/{e}?x=1#{e}")},
            "context": {"ip": "198.51.100.23", "page": {"search": format!("?q={enc}"), "path": "/p"},
                        "traits": {"email": e}},
            "custom": [e.clone(), {"nested": e.clone()}],
            "timestamp": "2026-10-10T11:00:00Z"
        });
        let currency = Currency::default();
        let settings = IngestSettings::default();
        let b = parse_value(v, &ctx_with(&currency, &settings, None)).unwrap();
        let stored = serde_json::to_string(&b.messages).unwrap().to_lowercase();
        proptest::prop_assert!(!stored.contains(&e), "{} in {}", e, stored);
        proptest::prop_assert!(!stored.contains(&enc), "{} in {}", enc, stored);
        proptest::prop_assert!(!stored.contains("198.51.100"), "{}", stored);
        let m = &b.messages[0];
        proptest::prop_assert!(m.has_contact());
        let again = parse_value(json!({"type": "identify", "userId": e, "timestamp": "2026-10-10T11:00:00Z"}),
            &ctx_with(&currency, &settings, None)).unwrap();
        proptest::prop_assert_eq!(&again.messages[0].user_id, &m.user_id);
    }
}

proptest::proptest! {
    /// The size check counts exactly the bytes the compact JSON text would have.
    #[test]
    fn the_counted_size_is_the_compact_texts_length(text in "\\PC{0,60}", n in proptest::num::i64::ANY, x in -1e9f64..1e9) {
        let v = json!({"type": "track", "event": text, "properties": {"n": n, "x": x, "list": [text, null, true]}});
        proptest::prop_assert_eq!(json_len(&v), v.to_string().len());
    }
}

/// JSON text built to grow as much as it can when parsed and written compactly: short float forms that print
/// long, integers past 64 bits, every kind of escape, whitespace, duplicate keys, nesting.
fn growing_json_text() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let number = prop_oneof![
        Just("1e5".to_owned()),
        Just("9e15".to_owned()),
        Just("1E-7".to_owned()),
        Just("-0".to_owned()),
        Just("5e-324".to_owned()),
        Just("-2.2250738585072014e-308".to_owned()),
        "[0-9]{19,30}",
        "-?[1-9][0-9]{0,2}(\\.[0-9]{1,2})?([eE][-+]?[0-9]{1,3})?",
    ];
    let string =
        "(\\\\u00[01][0-9a-f]|\\\\u[0-9a-f]{4}|\\\\[nrtbf\"\\\\/]|[a-z é€😀]){0,6}".prop_map(|s| format!("\"{s}\""));
    let leaf = prop_oneof![number, string.clone(), Just("true".to_owned()), Just("null".to_owned())];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        let ws = "[ \\n\\t]{0,2}";
        prop_oneof![
            proptest::collection::vec((inner.clone(), ws), 0..4).prop_map(|items| {
                let parts: Vec<String> = items.into_iter().map(|(v, w)| format!("{w}{v}{w}")).collect();
                format!("[{}]", parts.join(","))
            }),
            proptest::collection::vec((string.clone(), inner, ws), 0..4).prop_map(|fields| {
                let parts: Vec<String> = fields.into_iter().map(|(k, v, w)| format!("{w}{k}{w}:{w}{v}")).collect();
                format!("{{{}}}", parts.join(","))
            }),
        ]
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    /// The bound that lets a short text skip the size count (`MAX_GROWTH`) holds for any JSON text.
    #[test]
    fn compact_json_grows_at_most_max_growth_times(text in growing_json_text()) {
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            proptest::prop_assert!(
                json_len(&v) <= MAX_GROWTH * text.len(),
                "{} bytes of text became {}: {}", text.len(), json_len(&v), text
            );
        }
    }
}

/// A message whose text is short enough to skip the count cannot pass the limit; one that is long enough is
/// counted, batch or not.
#[test]
fn a_message_over_the_limit_is_refused_whatever_its_text_length() {
    let currency = Currency::default();
    let settings = IngestSettings::default();
    let ctx = ctx_with(&currency, &settings, None);
    let big = "x".repeat(MAX_MESSAGE_BYTES);
    let message = json!({"type": "track", "userId": "u", "event": "E", "properties": {"p": big}});
    let text = message.to_string();
    let err = parse_body(text.as_bytes(), &ctx).unwrap_err();
    assert_eq!(err.code(), "message_too_large");
    let batch = json!({"batch": [message]}).to_string();
    assert_eq!(parse_body(batch.as_bytes(), &ctx).unwrap_err().field(), Some("batch[0]"));
    // The largest growth a short text can have: floats of 3 bytes written as 18.
    let floats = vec!["9e15"; MAX_MESSAGE_BYTES / MAX_GROWTH / 5].join(",");
    let text = format!(r#"{{"type":"track","userId":"u","event":"E","properties":{{"f":[{floats}]}}}}"#);
    let written = json_len(&serde_json::from_str::<Value>(&text).unwrap());
    assert!(written > text.len() * 3, "{written} from {}", text.len());
    assert!(written <= MAX_GROWTH * text.len());
}

/// JSON text shaped like what clients send: objects whose keys are the fields validation reads, the stored
/// names only Daytwo may set, `batch`, `writeKey` and others, repeated at times; values that pass and values
/// that do not; a batch of such messages; and any JSON at all.
fn message_like_text() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let key = prop_oneof![
        proptest::sample::select(
            RESERVED
                .iter()
                .chain(&["sentAt", "writeKey", "batch", "originalTimestamp", "custom"])
                .copied()
                .collect::<Vec<_>>(),
        )
        .prop_map(|k| format!("\"{k}\"")),
        Just("\"type\\u0020\"".to_owned()),
        Just("\"user\\u0049d\"".to_owned()),
    ];
    let value = prop_oneof![
        proptest::sample::select(vec![
            "\"track\"",
            "\"identify\"",
            "\"group\"",
            "\"alias\"",
            "\"page\"",
            "\"u1\"",
            "\"\"",
            "\"E\"",
            "\"2026-10-10T11:00:00Z\"",
            "\"2026-10-10T13:00:00+02:00\"",
            "\"soon\"",
            "null",
            "1",
            "[]",
            "{}",
            "{\"email\":\"jo@example.com\",\"name\":\"Jo\"}",
            "{\"revenue\":5,\"currency\":\"USD\"}",
            "{\"groupId\":\"g1\",\"ip\":\"198.51.100.7\"}",
            "{\"path\":\"/pricing?e=jo@example.com\"}",
        ])
        .prop_map(str::to_owned),
        growing_json_text(),
    ];
    // A valid message first, most of the time, then fields that add to it or replace some of it.
    let base = proptest::sample::select(vec![
        "",
        r#""type":"track","event":"Signed Up","userId":"u1","messageId":"m1","timestamp":"2026-10-10T11:00:00Z","#,
        r#""type":"identify","anonymousId":"a1","traits":{"email":"jo@example.com"},"#,
        r#""type":"group","groupId":"g1","userId":"u1","receivedAt":"2026-10-10T11:30:00Z","#,
        r#""type":"page","anonymousId":"a1","properties":{"url":"https://x.io/p?q=1"},"sentAt":"2026-10-10T11:59:00Z","#,
    ]);
    let object = (base, proptest::collection::vec((key, value), 0..5)).prop_map(|(base, fields)| {
        let parts: Vec<String> = fields.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
        format!("{{{base}{}}}", parts.join(",")).replace(",}", "}")
    });
    prop_oneof![
        4 => object.clone(),
        2 => (proptest::collection::vec(object.clone(), 0..4), object).prop_map(|(items, top)| {
            let top = top.trim_start_matches('{').to_owned();
            let sep = if top == "}" { "" } else { "," };
            format!("{{\"batch\":[{}]{sep}{top}", items.join(","))
        }),
        1 => growing_json_text(),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
    /// A body read straight into its fields is the body read as a `Value`: the same syntax errors, the same
    /// messages or the same refusal, for each kind of request and for a file.
    #[test]
    fn a_body_reads_as_its_value(text in message_like_text()) {
        let (currency, settings) = (Currency::default(), IngestSettings::default());
        let value = serde_json::from_str::<Value>(&text);
        let body = Body::from_text(&text);
        match (&value, &body) {
            (Err(a), Err(b)) => proptest::prop_assert_eq!(a.to_string(), b.to_string()),
            (Ok(v), Ok(b)) => {
                proptest::prop_assert_eq!(b.write_key(), v.get("writeKey").and_then(Value::as_str));
                for path in [None, Some(MessageType::Track)] {
                    for receipt in [Receipt::Live(ts("2026-10-10T12:00:00Z")), Receipt::File] {
                        for text_len in [text.len(), usize::MAX] {
                            let ctx = IngestContext { receipt, ..ctx_with(&currency, &settings, path) };
                            let read = validate_body(Body::from_text(&text).unwrap(), text_len, &ctx);
                            let from_value = validate_body(Body::from_value(v.clone()), text_len, &ctx);
                            proptest::prop_assert_eq!(read, from_value);
                        }
                    }
                }
            }
            _ => proptest::prop_assert!(false, "{:?} against {:?}", value, body),
        }
    }

    /// Sorting a message into slots loses nothing, and the slots count the bytes its map would write.
    #[test]
    fn fields_hold_their_map(text in message_like_text()) {
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&text) {
            let fields = body::Fields::from_map(map.clone());
            proptest::prop_assert_eq!(fields.serialized_len(), json_len(&Value::Object(map.clone())));
            proptest::prop_assert_eq!(fields.into_map(), map);
        }
    }
}

#[test]
fn every_slot_is_read_from_its_own_key() {
    for (i, slot) in body::Slot::ALL.into_iter().enumerate() {
        assert_eq!(slot as usize, i);
        assert_eq!(body::Slot::of(slot.key()), Some(slot));
        assert!(RESERVED.contains(&slot.key()) || slot.key() == "sentAt" || slot.key() == "writeKey", "{slot:?}");
    }
}

/// Ids are limited in characters, not bytes: 256 of any width pass, 257 do not.
#[test]
fn ids_are_limited_in_characters() {
    for c in ["x", "é", "😀"] {
        for (n, ok) in [(MAX_ID_CHARS, true), (MAX_ID_CHARS + 1, false)] {
            let id = c.repeat(n);
            let body = json!({"type": "track", "userId": id, "event": "E"}).to_string();
            let result = parse(&body, None);
            assert_eq!(result.is_ok(), ok, "{n} × {c}: {result:?}");
            if !ok {
                assert_eq!(result.err().map(|e| e.code()), Some("invalid_id"));
            }
        }
    }
}
