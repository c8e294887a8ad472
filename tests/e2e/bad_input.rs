//! The bad-input corpus: every case gets a 4xx with the JSON error body (status, code and, where it names
//! one, the field), and stores nothing: the site's stats, config and spend ledger are the same before and after.

use crate::harness::{ADMIN_TOKEN, Resp, Site, basic, now_rfc3339, request, rfc3339, server, unix_now};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::Write as _;

#[derive(Debug, Clone)]
struct Case {
    name: String,
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

impl Case {
    fn status(mut self, status: u16) -> Case {
        self.status = status;
        self
    }

    fn header(mut self, k: &str, v: &str) -> Case {
        self.headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }

    fn without(mut self, k: &str) -> Case {
        self.headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
        self
    }

    fn with_body(mut self, body: &[u8]) -> Case {
        self.body = Some(body.to_vec());
        self
    }

    fn at(mut self, method: &'static str, path: &str) -> Case {
        self.method = method;
        self.path = path.to_owned();
        self
    }

    fn run(&self) -> Resp {
        let url = server().url(&self.path);
        let h: Vec<(&str, &str)> = self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        request(self.method, &url, &h, self.body.as_deref())
    }
}

/// A valid message, to show that one bad message rejects the whole batch.
fn good() -> Value {
    json!({"type":"track","userId":"ok-user","event":"Logged In","timestamp":"2026-10-01T00:00:00Z","messageId":"good-1"})
}

/// A one-message batch with `patch` merged into a valid track message.
fn msg(patch: Value) -> Vec<u8> {
    let mut m = json!({"type":"track","userId":"u-bad","event":"Order Completed","timestamp":"2026-10-01T00:00:00Z"});
    if let (Some(obj), Value::Object(p)) = (m.as_object_mut(), patch) {
        for (k, v) in p {
            if v.is_null() {
                obj.remove(&k);
            } else {
                obj.insert(k, v);
            }
        }
    }
    json!({"batch":[m]}).to_string().into_bytes()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// What must not change: stats (less the rollup's timestamps), the site's config and its spend ledger.
fn snapshot(site: &Site) -> Value {
    let mut stats = site.stats();
    stats.as_object_mut().unwrap().remove("rolled_at");
    // The runtime's memory, not stored data: a large refused body grows it.
    stats.as_object_mut().unwrap().remove("wasm_memory_bytes");
    // The last rollup's outcome may be re-recorded (erasure rolls up first); its time is not stored data.
    if let Some(run) = stats["last_rollup"].as_object_mut() {
        run.remove("at");
    }
    let config = site.admin("GET", "", None);
    let spend = site.admin("GET", "spend", None);
    assert_eq!((config.status, spend.status), (200, 200));
    json!({"stats": stats, "config": config.json(), "spend": spend.json()})
}

fn iso_in_hours(h: i64) -> String {
    rfc3339(unix_now() as i64 + h * 3600)
}

#[test]
fn bad_input_corpus_is_refused_and_stores_nothing() {
    let s = server();
    let site = s.create_site("bad-input", json!({"currency":"USD","allowed_origins":["https://shop.example"]}));
    site.send_batch(&[good()]);
    let spend = json!([{"id":"keep","from":"2026-10-01","to":"2026-11-01","channel":"search","campaign":"c",
                        "amount_minor":5000,"currency":"USD","purpose":"acquisition"}]);
    assert_eq!(site.admin("POST", "spend", Some(&spend)).status, 200);
    site.rollup();

    let basic_auth = basic(&site.write_key);
    let admin = format!("Bearer {ADMIN_TOKEN}");
    let read = format!("Bearer {}", site.read_token);
    // Constructors: ingest to /v1/batch (Basic auth, JSON), admin JSON, admin CSV, read GET.
    let ingest = |name: &str, body: Vec<u8>, code: &'static str, field: Option<&'static str>| Case {
        name: name.to_owned(),
        method: "POST",
        path: "/v1/batch".into(),
        headers: vec![("authorization".into(), basic_auth.clone()), ("content-type".into(), "application/json".into())],
        body: Some(body),
        status: 400,
        code,
        field,
    };
    let admin_json = |name: &str, method: &'static str, rest: &str, body: &str, code, field| Case {
        name: name.to_owned(),
        method,
        path: site.route(rest),
        headers: vec![("authorization".into(), admin.clone()), ("content-type".into(), "application/json".into())],
        body: Some(body.as_bytes().to_vec()),
        status: 400,
        code,
        field,
    };
    let spend_csv = |name: &str, body: &[u8], code, field| {
        admin_json(name, "POST", "spend", "", code, field).header("content-type", "text/csv").with_body(body)
    };
    let query = |name: &str, rest: &str, field: &'static str| Case {
        name: name.to_owned(),
        method: "GET",
        path: site.route(rest),
        headers: vec![("authorization".into(), read.clone())],
        body: None,
        status: 400,
        code: "invalid_query",
        field: Some(field),
    };

    let big = "x".repeat(40_000);
    let one = r#"{"type":"track","userId":"u","event":"Logged In","timestamp":"2026-10-01T00:00:00Z"}"#;
    let huge_batch = format!("{{\"batch\":[{}]}}", vec![one; 7_000].join(","));
    let deep_arrays = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let deep_props = format!(
        r#"{{"batch":[{{"type":"track","userId":"u","event":"x","properties":{}1{}}}]}}"#,
        r#"{"a":"#.repeat(300),
        "}".repeat(300)
    );
    let mut bomb_src = b"{\"batch\":[".to_vec();
    bomb_src.extend(std::iter::repeat_n(b' ', 3_000_000));
    bomb_src.extend(b"]}");
    let valid_gz = gzip(&msg(json!({})));
    let header = "id,from,to,channel,campaign,amount_minor,currency,purpose,acquisition_pct\n";
    let entry = |patch: Value| {
        let mut e = json!({"from":"2026-10-01","to":"2026-11-01","channel":"search","campaign":"c",
                           "amount_minor":100,"currency":"USD","purpose":"acquisition"});
        if let (Some(obj), Value::Object(p)) = (e.as_object_mut(), patch) {
            for (k, v) in p {
                if v.is_null() {
                    obj.remove(&k);
                } else {
                    obj.insert(k, v);
                }
            }
        }
        e
    };
    let spend_json =
        |name: &str, entries: Value, code, field| admin_json(name, "POST", "spend", &entries.to_string(), code, field);
    let long_site = "s".repeat(65);

    let cases: Vec<Case> = vec![
        // Body framing and syntax.
        ingest("empty body", vec![], "empty_body", None),
        ingest("whitespace body", b"  \n\t ".to_vec(), "empty_body", None),
        ingest("truncated JSON", br#"{"batch":["#.to_vec(), "malformed_json", None),
        ingest("trailing garbage", format!("{{\"batch\":[{one}]}} trailing").into_bytes(), "malformed_json", None),
        ingest("top-level array", b"[1,2]".to_vec(), "invalid_body", None),
        ingest("top-level string", br#""text""#.to_vec(), "invalid_body", None),
        ingest("top-level null", b"null".to_vec(), "invalid_body", None),
        ingest("5000 nested arrays", deep_arrays.into_bytes(), "malformed_json", None),
        ingest("300 nested objects in properties", deep_props.into_bytes(), "malformed_json", None),
        ingest("NaN literal", br#"{"batch":[{"type":"track","userId":"u","event":"x","properties":{"revenue":NaN}}]}"#.to_vec(), "malformed_json", None),
        ingest("number beyond f64 as userId", br#"{"batch":[{"type":"track","userId":1e400,"event":"x"}]}"#.to_vec(), "malformed_json", None),
        ingest("invalid UTF-8", b"{\"batch\":[{\"type\":\"track\",\"userId\":\"\xff\xfe\",\"event\":\"x\"}]}".to_vec(), "invalid_utf8", None),
        ingest("form-encoded body", b"type=track&userId=u".to_vec(), "malformed_json", None)
            .header("content-type", "application/x-www-form-urlencoded"),
        // Shape of the batch and its messages.
        ingest("batch is a string", br#"{"batch":"nope"}"#.to_vec(), "invalid_type", Some("batch")),
        ingest("empty batch", br#"{"batch":[]}"#.to_vec(), "empty_batch", Some("batch")),
        ingest("batch item is a number", br#"{"batch":[1]}"#.to_vec(), "invalid_message", Some("batch[0]")),
        ingest("no userId nor anonymousId", msg(json!({"userId":null})), "missing_id", Some("batch[0].userId")),
        ingest("empty ids", msg(json!({"userId":"","anonymousId":""})), "missing_id", Some("batch[0].userId")),
        ingest("unknown type", msg(json!({"type":"warp"})), "unknown_type", Some("batch[0].type")),
        ingest("missing type", msg(json!({"type":null})), "missing_type", Some("batch[0].type")),
        ingest("numeric type", msg(json!({"type":7})), "unknown_type", Some("batch[0].type")),
        ingest("numeric userId", msg(json!({"userId":42})), "invalid_id", Some("batch[0].userId")),
        ingest("array anonymousId", msg(json!({"userId":null,"anonymousId":["a"]})), "invalid_id", Some("batch[0].anonymousId")),
        ingest("300-character userId", msg(json!({"userId":"u".repeat(300)})), "invalid_id", Some("batch[0].userId")),
        ingest("track without event", msg(json!({"event":null})), "missing_event", Some("batch[0].event")),
        ingest("numeric event", msg(json!({"event":5})), "invalid_event", Some("batch[0].event")),
        ingest("300-character event", msg(json!({"event":"e".repeat(300)})), "invalid_event", Some("batch[0].event")),
        ingest("group without groupId", msg(json!({"type":"group","event":null})), "missing_group_id", Some("batch[0].groupId")),
        ingest("alias without previousId", msg(json!({"type":"alias","event":null})), "missing_id", Some("batch[0].previousId")),
        ingest("properties is an array", msg(json!({"properties":[1]})), "invalid_type", Some("batch[0].properties")),
        ingest("traits is a string", msg(json!({"type":"identify","traits":"vip"})), "invalid_type", Some("batch[0].traits")),
        ingest("numeric context.groupId", msg(json!({"context":{"groupId":9}})), "invalid_id", Some("batch[0].context.groupId")),
        ingest("writeKey in body is a number", br#"{"writeKey":5,"batch":[{"type":"page","anonymousId":"a"}]}"#.to_vec(), "invalid_type", Some("writeKey")),
        ingest(
            "second message bad, first good",
            json!({"batch":[good(), {"type":"track","userId":"u","event":"x","timestamp":"yesterday"}]}).to_string().into_bytes(),
            "invalid_timestamp",
            Some("batch[1].timestamp"),
        ),
        // Time.
        ingest("numeric timestamp", msg(json!({"timestamp":12})), "invalid_timestamp", Some("batch[0].timestamp")),
        ingest("timestamp not RFC 3339", msg(json!({"timestamp":"01/10/2026"})), "invalid_timestamp", Some("batch[0].timestamp")),
        ingest("timestamp in 1969", msg(json!({"timestamp":"1969-12-31T00:00:00Z"})), "timestamp_out_of_range", Some("batch[0].timestamp")),
        ingest("timestamp just before 2000", msg(json!({"timestamp":"1999-12-31T23:59:59Z"})), "timestamp_out_of_range", Some("batch[0].timestamp")),
        ingest("timestamp in 9999", msg(json!({"timestamp":"9999-12-31T00:00:00Z"})), "timestamp_out_of_range", Some("batch[0].timestamp")),
        ingest("timestamp 48 h ahead", msg(json!({"timestamp":iso_in_hours(48)})), "timestamp_out_of_range", Some("batch[0].timestamp")),
        ingest("numeric sentAt", msg(json!({"sentAt":12})), "invalid_timestamp", Some("batch[0].sentAt")),
        // A skew within the correction window (here 10 h) that pushes the event past the future limit. (A
        // `sentAt` years stale is a replay, not a skew: accepted with its own timestamp, see time_shapes.rs.)
        ingest(
            "a 10-hour skew pushes the event 30 h into the future",
            json!({"sentAt":iso_in_hours(-10),"batch":[{"type":"page","anonymousId":"a","timestamp":iso_in_hours(20)}]}).to_string().into_bytes(),
            "timestamp_out_of_range",
            Some("batch[0].timestamp"),
        ),
        // Money.
        ingest("revenue is a word", msg(json!({"properties":{"revenue":"lots"}})), "invalid_revenue", Some("batch[0].properties.revenue")),
        ingest("revenue is an object", msg(json!({"properties":{"revenue":{"v":1}}})), "invalid_revenue", Some("batch[0].properties.revenue")),
        ingest("revenue is a boolean", msg(json!({"properties":{"revenue":true}})), "invalid_revenue", Some("batch[0].properties.revenue")),
        ingest("negative revenue", msg(json!({"properties":{"revenue":-5}})), "negative_revenue", Some("batch[0].properties.revenue")),
        ingest("revenue 1e300", msg(json!({"properties":{"revenue":1e300}})), "revenue_out_of_range", Some("batch[0].properties.revenue")),
        ingest(
            "revenue 10^23",
            br#"{"batch":[{"type":"track","userId":"u","event":"Order Completed","properties":{"revenue":99999999999999999999999}}]}"#.to_vec(),
            "revenue_out_of_range",
            Some("batch[0].properties.revenue"),
        ),
        ingest("revenue in another currency", msg(json!({"properties":{"revenue":5,"currency":"EUR"}})), "currency_mismatch", Some("batch[0].properties.currency")),
        // Size.
        ingest("message over 32 KB", msg(json!({"properties":{"blob":big}})), "message_too_large", Some("batch[0]")).status(413),
        ingest("batch over 500 KB", huge_batch.into_bytes(), "batch_too_large", None).status(413),
        // Credentials and origin.
        ingest("no write key", msg(json!({})), "missing_write_key", None).without("authorization").status(401),
        ingest("unknown write key", msg(json!({})), "invalid_write_key", None).header("authorization", &basic("wk_unknown")).status(401),
        ingest("Basic credentials not base64", msg(json!({})), "malformed_authorization", None)
            .header("authorization", "Basic %%%")
            .status(401),
        ingest("unknown writeKey in a text/plain body", br#"{"writeKey":"wk_nope","type":"page","anonymousId":"a"}"#.to_vec(), "invalid_write_key", None)
            .without("authorization")
            .header("content-type", "text/plain")
            .at("POST", "/v1/p")
            .status(401),
        ingest("browser origin not allowed", msg(json!({})), "origin_not_allowed", None).header("origin", "https://evil.example").status(403),
        // Encodings.
        ingest("gzip header on garbage", b"definitely not gzip".to_vec(), "invalid_encoding", None).header("content-encoding", "gzip"),
        ingest("truncated gzip", valid_gz[..valid_gz.len() / 2].to_vec(), "invalid_encoding", None).header("content-encoding", "gzip"),
        ingest("gzip bomb (3 MB inflated)", gzip(&bomb_src), "batch_too_large", None).header("content-encoding", "gzip").status(413),
        ingest("gzip of invalid JSON", gzip(b"{\"batch\":[}"), "malformed_json", None).header("content-encoding", "gzip"),
        ingest("brotli is not supported", msg(json!({})), "unsupported_encoding", None).header("content-encoding", "br").status(415),
        // Paths and methods.
        ingest("type does not match the path", msg(json!({})), "type_mismatch", Some("type"))
            .with_body(br#"{"type":"page","userId":"u"}"#)
            .at("POST", "/v1/track"),
        ingest("batch sent to a single-message path", msg(json!({})), "unexpected_batch", Some("batch")).at("POST", "/v1/t"),
        ingest("GET on an ingest path", vec![], "method_not_allowed", None).at("GET", "/v1/batch").status(405),
        ingest("PUT on an ingest path", msg(json!({})), "method_not_allowed", None).at("PUT", "/v1/track").status(405),
        ingest("unknown ingest path", msg(json!({})), "not_found", None).at("POST", "/v1/bogus").status(404),
        // Spend ledger: JSON.
        admin_json("spend: malformed JSON", "POST", "spend", "[{", "malformed_json", None),
        admin_json("spend: a number", "POST", "spend", "5", "invalid_json", None),
        spend_json("spend: negative amount", json!([entry(json!({"amount_minor":-1}))]), "negative_amount", Some("[0].amount_minor")),
        spend_json("spend: amount as a string", json!([entry(json!({"amount_minor":"12.50"}))]), "invalid_amount", Some("[0].amount_minor")),
        spend_json("spend: fractional amount", json!([entry(json!({"amount_minor":12.5}))]), "invalid_amount", Some("[0].amount_minor")),
        spend_json(
            "spend: amount beyond i64",
            json!([entry(json!({"amount_minor": u64::MAX}))]),
            "amount_out_of_range",
            Some("[0].amount_minor"),
        ),
        admin_json("spend: unknown site", "POST", "spend", &spend.to_string(), "site_not_found", None)
            .at("POST", "/v1/sites/bad-input-nosuch/spend")
            .status(404),
        admin_json("stats: unknown site", "GET", "stats", "", "site_not_found", None)
            .at("GET", "/v1/sites/bad-input-nosuch/stats")
            .status(404),
        spend_json("spend: other currency", json!([entry(json!({"currency":"EUR"}))]), "currency_mismatch", Some("[0].currency")),
        spend_json("spend: bad date", json!([entry(json!({"from":"2026-02-30"}))]), "invalid_date", Some("[0].from")),
        spend_json("spend: to before from", json!([entry(json!({"to":"2026-09-01"}))]), "empty_range", Some("[0].to")),
        spend_json("spend: unknown purpose", json!([entry(json!({"purpose":"brand"}))]), "invalid_purpose", Some("[0].purpose")),
        spend_json("spend: mixed without share", json!([entry(json!({"purpose":"mixed"}))]), "missing_field", Some("[0].acquisition_pct")),
        spend_json("spend: missing channel", json!([entry(json!({"channel":null}))]), "missing_field", Some("[0].channel")),
        spend_json("spend: second entry bad", json!([entry(json!({"id":"fine"})), entry(json!({"amount_minor":"x"}))]), "invalid_amount", Some("[1].amount_minor")),
        spend_json("spend: duplicate ids", json!([entry(json!({"id":"d"})), entry(json!({"id":"d"}))]), "duplicate_id", Some("[1].id")),
        // Spend ledger: CSV.
        spend_csv("spend CSV: empty", b"", "invalid_csv", None),
        spend_csv("spend CSV: wrong header", b"foo,bar\n1,2\n", "missing_field", Some("from")),
        spend_csv("spend CSV: bad amount", format!("{header}a,2026-10-01,2026-11-01,search,c,abc,USD,acquisition,\n").as_bytes(), "invalid_amount", Some("amount_minor")),
        spend_csv("spend CSV: duplicate id", format!("{header}x,2026-10-01,2026-11-01,s,c,1,USD,acquisition,\nx,2026-10-01,2026-11-01,s,c,1,USD,acquisition,\n").as_bytes(), "duplicate_id", Some("id")),
        spend_csv("spend CSV: invalid UTF-8", b"id,from\n\xff\xfe,2026-10-01\n", "invalid_utf8", None),
        admin_json("spend: delete unknown id", "DELETE", "spend/nope", "", "spend_not_found", None).status(404),
        // Site config.
        admin_json("site: unknown field", "PUT", "", r#"{"colour":"red"}"#, "unknown_field", Some("colour")),
        admin_json("site: lapse_days 0", "PUT", "", r#"{"settings":{"lifecycle":{"lapse_days":0}}}"#, "invalid_settings", Some("lifecycle.lapse_days")),
        admin_json("site: unknown settings key", "PUT", "", r#"{"settings":{"bogus":1}}"#, "invalid_settings", Some("settings")),
        admin_json("site: settings not an object", "PUT", "", r#"{"settings":5}"#, "invalid_settings", Some("settings")),
        admin_json("site: currency change", "PUT", "", r#"{"currency":"EUR"}"#, "currency_locked", Some("currency")).status(409),
        admin_json("site: origins not a list", "PUT", "", r#"{"allowed_origins":"https://x.example"}"#, "invalid_origins", Some("allowed_origins")),
        admin_json("site: origin not http(s)", "PUT", "", r#"{"allowed_origins":["ftp://x.example"]}"#, "invalid_origins", Some("allowed_origins[0]")),
        admin_json("site: body not JSON", "PUT", "", "{currency:USD}", "malformed_json", None),
        admin_json("site: body an array", "PUT", "", "[]", "invalid_body", None),
        admin_json("site: new site with bad currency", "PUT", "", r#"{"currency":"DOLLARS"}"#, "invalid_currency", Some("currency"))
            .at("PUT", "/v1/sites/bad-input-new"),
        admin_json("site: id with a space", "PUT", "", "{}", "invalid_site", Some("site")).at("PUT", "/v1/sites/Bad%20Site"),
        admin_json("site: id of 65 characters", "PUT", "", "{}", "invalid_site", Some("site"))
            .at("PUT", &format!("/v1/sites/{long_site}")),
        admin_json("embed: ttl 10 s", "POST", "embed-tokens", r#"{"ttl_seconds":10}"#, "invalid_ttl", Some("ttl_seconds")),
        admin_json("embed: ttl a string", "POST", "embed-tokens", r#"{"ttl_seconds":"x"}"#, "invalid_ttl", Some("ttl_seconds")),
        admin_json("embed: ttl 35 days", "POST", "embed-tokens", r#"{"ttl_seconds":3000000}"#, "invalid_ttl", Some("ttl_seconds")),
        admin_json("erasure: unknown account", "DELETE", "accounts/nobody", "", "account_not_found", None).status(404),
        // Report queries.
        query("query: month 13", "reports/budget?from=2026-13-01", "from"),
        query("query: to is a word", "reports/budget?to=tomorrow", "to"),
        query("query: empty period", "reports/funnel?from=2026-10-01&to=2026-10-01", "from"),
        query("query: period over ten years", "reports/budget?from=2000-01-01&to=2026-10-01", "from"),
        query("query: as_of not a date", "reports/lifecycle?as_of=x", "as_of"),
        query("query: unknown format", "reports/engagement?format=xml", "format"),
        query("query: unknown stage", "accounts?stage=vip", "stage"),
        query("query: unknown band", "accounts?band=hot", "band"),
        query("query: unknown sort", "accounts?sort=random", "sort"),
        query("query: limit 0", "accounts?limit=0", "limit"),
        query("query: limit 9999", "accounts?limit=9999", "limit"),
        query("query: bad cursor", "accounts?cursor=abc", "cursor"),
        query("query: repeated from", "reports/budget?from=2026-01-01&from=2026-01-02", "from"),
        query("query: one account as CSV", "accounts/ok-user?format=csv", "format"),
    ];
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());

    let mut failures = String::new();
    let mut before = snapshot(&site);
    for case in &cases {
        let r = case.run();
        let after = snapshot(&site);
        let err = r.json()["error"].clone();
        let mut problems = Vec::new();
        if r.status != case.status {
            problems.push(format!("status {} (expected {})", r.status, case.status));
        }
        if err["code"] != json!(case.code) {
            problems.push(format!("code {} (expected {})", err["code"], case.code));
        }
        if let Some(field) = case.field
            && err["field"] != json!(field)
        {
            problems.push(format!("field {} (expected {field})", err["field"]));
        }
        if !err["message"].is_string() {
            problems.push("no error.message".into());
        }
        if !r.header("content-type").is_some_and(|c| c.starts_with("application/json")) {
            problems.push(format!("content-type {:?}", r.header("content-type")));
        }
        if after != before {
            problems.push(format!("state changed:\n    before {before}\n    after  {after}"));
        }
        if !problems.is_empty() {
            let _ = writeln!(
                failures,
                "  [{}] {} {}: {}; body {}",
                case.name,
                case.method,
                case.path,
                problems.join(", "),
                r.text().chars().take(200).collect::<String>()
            );
        }
        before = after;
    }
    assert!(failures.is_empty(), "bad-input cases that failed (of {}):\n{failures}", cases.len());
    // The refused new site was not created, and the site still works.
    let r = server().admin("GET", "/v1/sites/bad-input-new", None);
    assert_eq!((r.status, r.code().as_deref()), (404, Some("site_not_found")));
    site.send_batch(&[json!({"type":"page","anonymousId":"after","timestamp":now_rfc3339()})]);
    assert_eq!(site.stats()["raw_keys"], json!(2));
    eprintln!("bad input: {} cases refused, nothing stored", cases.len());
}
