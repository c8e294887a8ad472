//! The OpenAPI description (`docs/openapi.json`) against the real Worker: every route is called (its success
//! and its main errors) and every answer must be in the description: its status documented for that path and
//! method, its content type one the status lists, its JSON body valid against the schema (`$ref`s resolved
//! into `#/components`, formats checked). `GET /openapi.json` must serve the committed file byte for byte.
//! That the description's operations are exactly the route table's rows is a test of the Worker's own
//! (`worker/src/openapi.rs`), which runs without a server.

use crate::harness::{ADMIN_TOKEN, Resp, Site, basic, request, root, server};
use crate::routes::{small_dataset, small_spend};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Mutex;

/// The committed description and what the test has checked against it.
struct Description {
    doc: Value,
    /// `(METHOD, path template, status)` of every answer checked.
    seen: Mutex<BTreeSet<(String, String, u16)>>,
}

impl Description {
    fn load() -> Description {
        let text = std::fs::read_to_string(root().join("docs/openapi.json")).expect("docs/openapi.json");
        Description { doc: serde_json::from_str(&text).expect("docs/openapi.json is JSON"), seen: Mutex::default() }
    }

    /// Follows a `$ref` inside the document.
    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v["$ref"].as_str() {
            Some(r) => self.doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling {r}")),
            None => v,
        }
    }

    /// Validates `instance` against `schema` (a schema of the document), with the document's components in
    /// reach of its `$ref`s; returns every error, one per line.
    fn errors(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let rooted = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": self.doc["components"],
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&rooted)
            .unwrap_or_else(|e| panic!("schema {schema} does not compile: {e}"));
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }

    /// Checks one real answer to `method` on `template` (a path of the description) and returns its JSON body
    /// (`Null` for CSV or no body).
    fn check(&self, method: &str, template: &str, r: &Resp) -> Value {
        let what = format!("{method} {template} → {}", r.status);
        let op = &self.doc["paths"][template][method.to_ascii_lowercase()];
        assert!(op.is_object(), "{what}: the description has no such operation");
        let documented = op["responses"].get(r.status.to_string()).or_else(|| op["responses"].get("default"));
        let answer = self.resolve(documented.unwrap_or_else(|| {
            panic!("{what}: status not in the description (body: {})", r.text());
        }));
        self.seen.lock().unwrap().insert((method.to_owned(), template.to_owned(), r.status));
        let Some(content) = answer["content"].as_object() else {
            assert!(r.body.is_empty(), "{what}: a body the description does not have: {}", r.text());
            return Value::Null;
        };
        let header = r.header("content-type").unwrap_or_else(|| panic!("{what}: no content-type"));
        let media = header.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let Some(described) = content.get(&media) else {
            panic!("{what}: content-type {header} is not one of {:?}", content.keys().collect::<Vec<_>>());
        };
        if media != "application/json" {
            assert!(std::str::from_utf8(&r.body).is_ok(), "{what}: {media} body is not UTF-8");
            return Value::Null;
        }
        let body: Value =
            serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", r.text()));
        let errors = self.errors(&described["schema"], &body);
        assert!(errors.is_empty(), "{what}: the body is not as described:\n{}\nbody: {body}", errors.join("\n"));
        body
    }

    /// Checks `body` against one named schema of the components (a report kind within `Report`'s `anyOf`).
    fn check_schema(&self, name: &str, body: &Value) {
        let errors = self.errors(&json!({"$ref": format!("#/components/schemas/{name}")}), body);
        assert!(errors.is_empty(), "not a {name}:\n{}\nbody: {body}", errors.join("\n"));
    }

    /// An answer to a path or method the API does not have: 404 or 405 with the error body.
    fn check_unrouted(&self, what: &str, r: &Resp, status: u16) {
        assert_eq!(r.status, status, "{what}: {}", r.text());
        self.check_schema("Error", &r.json());
    }
}

/// A request with optional bearer token, headers and body.
fn call(method: &str, path: &str, token: Option<&str>, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut h: Vec<(&str, &str)> = headers.to_vec();
    if let Some(a) = &auth {
        h.push(("authorization", a));
    }
    request(method, &server().url(path), &h, body)
}

fn json_body(v: &Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[test]
fn openapi_json_serves_the_committed_file() {
    let d = Description::load();
    let r = call("GET", "/openapi.json", None, &[], None);
    d.check("GET", "/openapi.json", &r);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let committed = std::fs::read(root().join("docs/openapi.json")).unwrap();
    assert!(r.body == committed, "GET /openapi.json differs from docs/openapi.json: rebuild the Worker");
    d.check_unrouted("PUT /openapi.json", &call("PUT", "/openapi.json", None, &[], Some(b"{}")), 405);
    d.check_unrouted("POST /openapi.json", &call("POST", "/openapi.json", None, &[], Some(b"{}")), 405);
}

#[test]
fn every_route_answers_as_described() {
    let d = Description::load();
    let s = server();
    let admin = Some(ADMIN_TOKEN);

    // Public.
    assert_eq!(d.check("GET", "/health", &call("GET", "/health", None, &[], None)), json!({"status": "ok"}));
    d.check("HEAD", "/health", &call("HEAD", "/health", None, &[], None));

    // Sites: create, update, rotate, and what each refuses.
    let site_t = "/v1/sites/{site}";
    let put = |id: &str, token: Option<&str>, body: &Value| {
        call("PUT", &format!("/v1/sites/{id}"), token, &[JSON], Some(&json_body(body)))
    };
    let created =
        put("openapi-conf", admin, &json!({"currency": "USD", "allowed_origins": ["https://intranet.example"]}));
    assert_eq!(created.status, 201, "{}", created.text());
    let v = d.check("PUT", site_t, &created);
    let field = |v: &Value, k: &str| v[k].as_str().unwrap().to_owned();
    d.check("PUT", site_t, &put("openapi-conf", admin, &json!({"settings": {"lifecycle": {"lapse_days": 200}}})));
    let rotated = call("PUT", "/v1/sites/openapi-conf?rotate=true", admin, &[JSON], Some(b"{}"));
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let r = d.check("PUT", site_t, &rotated);
    assert_ne!(field(&r, "write_key"), field(&v, "write_key"));
    let site = Site {
        id: "openapi-conf".into(),
        write_key: field(&r, "write_key"),
        secret_key: field(&r, "secret_write_key"),
        read_token: field(&r, "read_token"),
        server: s,
    };
    let other = s.create_site("openapi-conf-other", json!({}));
    for (status, r) in [
        (409, put("openapi-conf", admin, &json!({"currency": "EUR"}))),
        (400, put("openapi-conf", admin, &json!({"colour": "blue"}))),
        (400, put("openapi-conf", admin, &json!({"settings": {"lifecycle": {"lapse_days": 0}}}))),
        (400, put("Bad%20Site", admin, &json!({}))),
        (401, put("openapi-conf", None, &json!({}))),
        (401, put("openapi-conf", Some("not-a-token"), &json!({}))),
        (403, put("openapi-conf", Some(&site.read_token), &json!({}))),
        (413, call("PUT", "/v1/sites/openapi-conf", admin, &[JSON], Some(&vec![b' '; 1024 * 1024 + 1]))),
    ] {
        assert_eq!(r.status, status, "PUT site: {}", r.text());
        d.check("PUT", site_t, &r);
    }
    d.check("GET", site_t, &call("GET", "/v1/sites/openapi-conf", admin, &[], None));
    assert_eq!(
        d.check("GET", site_t, &call("GET", "/v1/sites/openapi-none", admin, &[], None))["error"]["code"],
        "site_not_found"
    );

    // Ingest: every way in, and what it refuses.
    let ingest_t = "/v1/{type}";
    let auth = basic(&site.secret_key);
    let send = |path: &str, headers: &[(&str, &str)], body: &[u8]| request("POST", &s.url(path), headers, Some(body));
    let batch = json_body(&json!({"batch": small_dataset()}));
    assert_eq!(
        d.check("POST", ingest_t, &send("/v1/batch", &[("authorization", &auth), JSON], &batch)),
        json!({"success": true})
    );
    let one = json!({"userId": "oa-user", "event": "Logged In", "timestamp": "2026-10-07T12:00:00Z", "writeKey": site.write_key});
    d.check("POST", ingest_t, &send("/v1/t", &[("content-type", "text/plain")], &json_body(&one)));
    let big = json_body(
        &json!({"batch": [{"type": "track", "userId": "u", "event": "x", "properties": {"pad": "x".repeat(600_000)}}]}),
    );
    for (status, r) in [
        (400, send("/v1/batch", &[("authorization", &auth), JSON], b"{not json")),
        (400, send("/v1/track", &[("authorization", &auth), JSON], &json_body(&json!({"userId": "u"})))),
        (401, send("/v1/batch", &[JSON], &batch)),
        (401, send("/v1/batch", &[("authorization", &basic("wk_00000000000000000000000000000000")), JSON], &batch)),
        (
            403,
            send(
                "/v1/p",
                &[("authorization", &basic(&site.write_key)), ("origin", "https://evil.example")],
                &json_body(&one),
            ),
        ),
        (404, send("/v1/nope", &[("authorization", &auth), JSON], &batch)),
        (413, send("/v1/batch", &[("authorization", &auth), JSON], &big)),
        (415, send("/v1/batch", &[("authorization", &auth), JSON, ("content-encoding", "br")], &batch)),
    ] {
        assert_eq!(r.status, status, "ingest: {}", r.text());
        d.check("POST", ingest_t, &r);
    }

    // The spend ledger.
    let spend_t = "/v1/sites/{site}/spend";
    let spend = "/v1/sites/openapi-conf/spend";
    d.check("POST", spend_t, &call("POST", spend, admin, &[JSON], Some(&json_body(&small_spend()))));
    let csv = b"id,from,to,channel,campaign,amount_minor,currency,purpose,acquisition_pct\ncsv-1,2026-10-01,2026-10-15,social,launch,7000,USD,mixed,40\n";
    d.check("POST", spend_t, &call("POST", spend, admin, &[("content-type", "text/csv")], Some(csv)));
    for (status, r) in [
        (
            400,
            call("POST", spend, admin, &[JSON], Some(&json_body(&json!([{"from": "2026-10-05", "to": "2026-10-01"}])))),
        ),
        (404, call("POST", "/v1/sites/openapi-none/spend", admin, &[JSON], Some(&json_body(&small_spend())))),
    ] {
        assert_eq!(r.status, status, "POST spend: {}", r.text());
        d.check("POST", spend_t, &r);
    }
    let ledger = d.check("GET", spend_t, &call("GET", spend, admin, &[], None));
    assert_eq!(ledger["entries"].as_array().map(Vec::len), Some(3), "{ledger}");
    let r = call("GET", &format!("{spend}?format=csv"), admin, &[], None);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("text/csv")));
    d.check("GET", spend_t, &r);
    let entry_t = "/v1/sites/{site}/spend/{id}";
    d.check("DELETE", entry_t, &call("DELETE", &format!("{spend}/csv-1"), admin, &[], None));
    assert_eq!(
        d.check("DELETE", entry_t, &call("DELETE", &format!("{spend}/csv-1"), admin, &[], None))["error"]["code"],
        "spend_not_found"
    );

    // Rollup, stats, embed tokens.
    let rollup_t = "/v1/sites/{site}/rollup";
    let out = d.check("POST", rollup_t, &call("POST", "/v1/sites/openapi-conf/rollup", admin, &[], None));
    assert_eq!(out["messages_folded"], json!(7), "{out}");
    d.check("POST", rollup_t, &call("POST", "/v1/sites/openapi-none/rollup", admin, &[], None));
    d.check("POST", rollup_t, &call("POST", "/v1/sites/openapi-conf/rollup", Some(&site.write_key), &[], None));
    let stats_t = "/v1/sites/{site}/stats";
    d.check("GET", stats_t, &call("GET", "/v1/sites/openapi-conf/stats", admin, &[], None));
    d.check("GET", stats_t, &call("GET", "/v1/sites/openapi-conf/stats", None, &[], None));
    let mint_t = "/v1/sites/{site}/embed-tokens";
    let mint =
        |body: &Value| call("POST", "/v1/sites/openapi-conf/embed-tokens", admin, &[JSON], Some(&json_body(body)));
    let embed = d.check("POST", mint_t, &mint(&json!({"ttl_seconds": 600})));
    let embed = embed["token"].as_str().unwrap().to_owned();
    assert_eq!(d.check("POST", mint_t, &mint(&json!({"ttl_seconds": 5})))["error"]["code"], "invalid_ttl");
    d.check("POST", mint_t, &call("POST", "/v1/sites/openapi-none/embed-tokens", admin, &[], None));

    // Reads: every report in JSON and CSV, the account list and one account, with each kind of token.
    let report_t = "/v1/sites/{site}/reports/{report}";
    let read =
        |path: &str, token: Option<&str>| call("GET", &format!("/v1/sites/openapi-conf/{path}"), token, &[], None);
    let rt = Some(site.read_token.as_str());
    for (report, query, schema) in [
        ("budget", "from=2026-10-01&to=2026-11-01", "BudgetReport"),
        ("lifecycle", "as_of=2026-10-10", "LifecycleReport"),
        ("funnel", "from=2026-10-01&to=2026-11-01", "FunnelReport"),
        ("engagement", "as_of=2026-10-10", "EngagementReport"),
    ] {
        let body = d.check("GET", report_t, &read(&format!("reports/{report}?{query}"), rt));
        d.check_schema(schema, &body);
        d.check("GET", report_t, &read(&format!("reports/{report}?{query}&format=csv"), Some(&embed)));
    }
    let budget = d.check("GET", report_t, &read("reports/budget?from=2026-10-01&to=2026-11-01", admin));
    assert_eq!(budget["acquisition"]["spend_minor"], json!(300000), "{budget}");
    // The budget's CSV tables (the widget's exports): the comparison and a what-if, each its own file.
    let csv_of = |query: &str| {
        let r = read(&format!("reports/budget?from=2026-10-01&to=2026-11-01&format=csv{query}"), Some(&embed));
        d.check("GET", report_t, &r);
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        r.text()
    };
    assert!(csv_of("&table=comparison").starts_with("metric,this_period,previous_period,change\r\n"));
    let what_if = csv_of("&table=what_if&move_bp=-2500");
    assert!(what_if.starts_with("figure,now,after_move\r\n"), "{what_if}");
    assert_eq!(csv_of(""), csv_of("&table=spend"));
    for (status, r) in [
        (400, read("reports/budget?from=2026-13-01", rt)),
        (400, read("reports/budget?format=csv&table=what_if", rt)),
        (400, read("reports/budget?table=comparison", rt)),
        (400, call("GET", "/v1/sites/Bad%20Site/reports/budget", rt, &[], None)),
        (401, read("reports/lifecycle", None)),
        (401, read("reports/lifecycle", Some("not-a-token"))),
        (403, read("reports/lifecycle", Some(&other.read_token))),
        (403, read("reports/lifecycle", Some(&site.write_key))),
        (404, read("reports/bogus", rt)),
        (404, call("GET", "/v1/sites/openapi-none/reports/budget", admin, &[], None)),
    ] {
        assert_eq!(r.status, status, "report: {}", r.text());
        d.check("GET", report_t, &r);
    }
    let list_t = "/v1/sites/{site}/accounts";
    let page = d.check("GET", list_t, &read("accounts?as_of=2026-10-10&sort=name&limit=2", rt));
    assert_eq!(page["next_cursor"], json!("2"), "{page}");
    d.check("GET", list_t, &read("accounts?as_of=2026-10-10&stage=new_customer&format=csv", rt));
    d.check("GET", list_t, &read("accounts?limit=0", rt));
    d.check("GET", list_t, &read("accounts", None));
    let account_t = "/v1/sites/{site}/accounts/{id}";
    let acme = d.check("GET", account_t, &read("accounts/acme?as_of=2026-10-10", rt));
    assert_eq!(acme["id"], json!("g:acme"), "{acme}");
    d.check("GET", account_t, &read("accounts/u%3Abuyer-1?as_of=2026-10-10", Some(&embed)));
    assert_eq!(d.check("GET", account_t, &read("accounts/nobody", rt))["error"]["code"], "account_not_found");
    assert_eq!(d.check("GET", account_t, &read("accounts/acme?format=csv", rt))["error"]["field"], "format");
    d.check("GET", account_t, &read("accounts/acme", Some(&other.read_token)));

    // Revocation: earlier embed tokens answer 401 `token_revoked`.
    let revoke_t = "/v1/sites/{site}/embed-tokens/revoke";
    d.check("POST", revoke_t, &call("POST", "/v1/sites/openapi-conf/embed-tokens/revoke", admin, &[], None));
    d.check("POST", revoke_t, &call("POST", "/v1/sites/openapi-none/embed-tokens/revoke", admin, &[], None));
    assert_eq!(d.check("GET", report_t, &read("reports/lifecycle", Some(&embed)))["error"]["code"], "token_revoked");

    // Erasure.
    let person_t = "/v1/sites/{site}/people/{id}";
    d.check("DELETE", person_t, &call("DELETE", "/v1/sites/openapi-conf/people/lead-1", admin, &[], None));
    assert_eq!(
        d.check("DELETE", person_t, &call("DELETE", "/v1/sites/openapi-conf/people/lead-1", admin, &[], None))["error"]
            ["code"],
        "person_not_found"
    );
    d.check("DELETE", account_t, &call("DELETE", "/v1/sites/openapi-conf/accounts/acme", admin, &[], None));
    assert_eq!(
        d.check("DELETE", account_t, &call("DELETE", "/v1/sites/openapi-conf/accounts/acme", admin, &[], None))["error"]
            ["code"],
        "account_not_found"
    );
    d.check(
        "DELETE",
        account_t,
        &call("DELETE", "/v1/sites/openapi-conf/accounts/acme", Some(&site.read_token), &[], None),
    );

    // What the API does not have: 404 and 405 with the error body, as the description's introduction says.
    for (method, path, status) in [
        ("GET", "/nope", 404),
        ("GET", "/v1/sites/openapi-conf/bogus", 404),
        ("POST", "/health", 405),
        ("GET", "/v1/batch", 405),
        ("PATCH", "/v1/sites/openapi-conf/spend", 405),
        ("OPTIONS", "/v1/sites/openapi-conf/stats", 405),
    ] {
        d.check_unrouted(&format!("{method} {path}"), &call(method, path, admin, &[], None), status);
    }

    // A CORS preflight is no operation: on an ingest path without `Origin` (no browser asked), a bare 204.
    let r = call("OPTIONS", "/v1/batch", None, &[JSON], Some(b"{}"));
    assert_eq!((r.status, r.body.len()), (204, 0), "OPTIONS /v1/batch without Origin: {}", r.text());

    // Every operation of the description answered with success at least once here.
    let seen = d.seen.lock().unwrap().clone();
    for (path, item) in d.doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys().filter(|k| *k != "parameters") {
            let method = method.to_ascii_uppercase();
            let ok = seen.iter().any(|(m, p, st)| *m == method && p == path && (200..300).contains(st));
            assert!(ok || path == "/openapi.json", "{method} {path}: no success checked");
        }
    }
    eprintln!("openapi: {} (operation, status) pairs checked against the description", seen.len());
}
