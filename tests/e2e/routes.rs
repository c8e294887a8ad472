//! Every route's happy path on the real Worker, plus CORS and gzip ingest.

use crate::harness::{ADMIN_TOKEN, Site, basic, request, server};
use serde_json::{Value, json};
use std::io::Write;

/// A small site whose figures are known by hand (all in October 2026).
pub fn small_dataset() -> Vec<Value> {
    vec![
        json!({"type":"page","anonymousId":"v-1","messageId":"sd-1","timestamp":"2026-10-02T10:00:00Z",
               "properties":{"path":"/pricing"}}),
        json!({"type":"identify","userId":"lead-1","anonymousId":"v-2","messageId":"sd-2",
               "timestamp":"2026-10-03T10:00:00Z","traits":{"email":"lead@example.com"}}),
        json!({"type":"identify","userId":"buyer-1","messageId":"sd-3","timestamp":"2026-10-03T11:00:00Z",
               "traits":{"email":"buyer@example.com","name":"Bea Buyer"}}),
        json!({"type":"track","userId":"buyer-1","event":"Order Completed","messageId":"sd-4",
               "timestamp":"2026-10-05T10:00:00Z","properties":{"revenue":1200.5,"currency":"USD"}}),
        json!({"type":"group","userId":"acme-u","groupId":"acme","messageId":"sd-5",
               "timestamp":"2026-10-04T10:00:00Z","traits":{"name":"Acme Corp"}}),
        json!({"type":"track","userId":"acme-u","event":"Order Completed","messageId":"sd-6",
               "timestamp":"2026-10-06T10:00:00Z","properties":{"revenue":300}}),
    ]
}

pub fn small_spend() -> Value {
    json!([
        {"id":"oct-search","from":"2026-10-01","to":"2026-11-01","channel":"search","campaign":"q4-ads",
         "amount_minor":300000,"currency":"USD","purpose":"acquisition"},
        {"id":"oct-news","from":"2026-10-01","to":"2026-11-01","channel":"email","campaign":"newsletter",
         "amount_minor":100000,"currency":"USD","purpose":"retention"}
    ])
}

pub fn assert_json_error(r: &crate::harness::Resp, status: u16, code: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    assert_eq!(r.code().as_deref(), Some(code), "{what}: {}", r.text());
    assert!(r.json()["error"]["message"].is_string(), "{what}: no message in {}", r.text());
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")), "{what}: content-type");
}

#[test]
fn health_unknown_routes_and_wrong_methods() {
    let s = server();
    let r = request("GET", &s.url("/health"), &[], None);
    assert_eq!((r.status, r.json()), (200, json!({"status":"ok"})));
    assert_eq!(request("HEAD", &s.url("/health"), &[], None).status, 200);
    let admin = format!("Bearer {ADMIN_TOKEN}");
    let h = [("authorization", admin.as_str())];
    for path in ["/nope", "/v1", "/v1/nothing", "/v1/sites", "/v1/sites/x/bogus", "/v1/sites/x/reports/bogus"] {
        assert_json_error(&request("GET", &s.url(path), &h, None), 404, "not_found", &format!("GET {path}"));
    }
    for (method, path) in [
        ("POST", "/health"),
        ("GET", "/v1/batch"),
        ("PUT", "/v1/track"),
        ("DELETE", "/v1/sites/x"),
        ("PUT", "/v1/sites/x/rollup"),
        ("POST", "/v1/sites/x/stats"),
        ("DELETE", "/v1/sites/x/reports/budget"),
        ("PATCH", "/v1/sites/x/spend"),
        ("POST", "/v1/sites/x/accounts"),
    ] {
        assert_json_error(
            &request(method, &s.url(path), &h, Some(b"{}")),
            405,
            "method_not_allowed",
            &format!("{method} {path}"),
        );
    }
}

#[test]
fn site_config_create_read_update_rotate() {
    let s = server();
    let site = s.create_site("routes-config", json!({"currency":"EUR","allowed_origins":["https://intranet.example"]}));
    assert!(site.write_key.starts_with("wk_") && site.read_token.starts_with("rt_"), "{site:?}");
    assert!(site.secret_key.starts_with("sk_") && site.secret_key.len() == 35, "{site:?}");

    let got = site.admin("GET", "", None);
    assert_eq!(got.status, 200, "{}", got.text());
    let v = got.json();
    assert_eq!(v["write_key"], json!(site.write_key));
    assert_eq!(v["currency"], json!("EUR"));
    assert_eq!(v["allowed_origins"], json!(["https://intranet.example"]));
    assert!(v.get("read_token").is_none(), "GET must not show the read token: {v}");
    assert!(!v.to_string().contains(&site.read_token), "GET leaks the read token");
    assert!(!v.to_string().contains(&site.secret_key[3..]), "GET leaks the secret write key");
    assert_eq!(v["has_secret_write_key"], json!(true));

    // Update: 200, same write key, no read token, new settings kept.
    let up = site.admin(
        "PUT",
        "",
        Some(&json!({"currency":"EUR","allowed_origins":["https://a.example","https://b.example/"],
                     "settings":{"lifecycle":{"lapse_days":200,"new_customer_days":60,"consideration_pageviews":2}}})),
    );
    assert_eq!(up.status, 200, "{}", up.text());
    let v = up.json();
    assert_eq!(v["write_key"], json!(site.write_key));
    assert!(v.get("read_token").is_none(), "update must not issue a read token: {v}");
    assert!(v.get("secret_write_key").is_none(), "update must not issue a secret key: {v}");
    let v = site.admin("GET", "", None).json();
    assert_eq!(v["allowed_origins"], json!(["https://a.example", "https://b.example"]));
    assert_eq!(v["settings"]["lifecycle"]["lapse_days"], json!(200));
    // An empty update keeps everything.
    assert_eq!(site.admin("PUT", "", Some(&json!({}))).status, 200);
    assert_eq!(site.admin("GET", "", None).json()["settings"]["lifecycle"]["lapse_days"], json!(200));
    assert_eq!(site.read("reports/lifecycle?as_of=2026-10-10")["total"], json!(0));

    // Rotation: new credentials, the old ones stop working.
    let rot = s.admin("PUT", &format!("{}?rotate=true", site.route("")), Some(&json!({})));
    assert_eq!(rot.status, 200, "{}", rot.text());
    let v = rot.json();
    let new_key = v["write_key"].as_str().unwrap().to_owned();
    let new_read = v["read_token"].as_str().unwrap().to_owned();
    let new_secret = v["secret_write_key"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, site.secret_key);
    assert_ne!(new_key, site.write_key);
    assert_ne!(new_read, site.read_token);
    let msg = json!({"type":"track","userId":"u","event":"Signed Up","timestamp":"2026-10-01T00:00:00Z"});
    let old = site.ingest("track", &msg);
    assert_json_error(&old, 401, "invalid_write_key", "old secret key after rotation");
    let old_public = Site { secret_key: site.write_key.clone(), ..site.clone() }.ingest("track", &msg);
    assert_json_error(&old_public, 401, "invalid_write_key", "old write key after rotation");
    assert_json_error(&site.read_raw("reports/lifecycle", &site.read_token), 401, "invalid_token", "old read token");
    let rotated = Site { write_key: new_key, secret_key: new_secret, read_token: new_read, ..site };
    assert_eq!(rotated.ingest("track", &msg).status, 200);
    let public = Site { secret_key: rotated.write_key.clone(), ..rotated.clone() };
    assert_eq!(public.ingest("track", &msg).status, 200);
    assert_eq!(rotated.read_raw("reports/lifecycle", &rotated.read_token).status, 200);
}

/// A body for each ingest path: `/v1/track` and `/v1/t` both take a track message, and so on.
pub fn body_for_path(path: &str, n: usize) -> Value {
    let ts = "2026-10-07T12:00:00Z";
    let id = format!("path-{path}-{n}");
    match path {
        "batch" | "b" => json!({"batch":[
            {"type":"track","userId":"p-user","event":"Logged In","timestamp":ts,"messageId":format!("{id}-a")},
            {"type":"page","userId":"p-user","timestamp":ts,"messageId":format!("{id}-b"),"properties":{"path":"/docs"}}
        ]}),
        "track" | "t" => json!({"userId":"p-user","event":"Webinar Attended","timestamp":ts,"messageId":id}),
        "identify" | "i" => json!({"userId":"p-user","traits":{"plan":"pro"},"timestamp":ts,"messageId":id}),
        "page" | "p" => {
            json!({"userId":"p-user","name":"Docs","properties":{"path":"/docs"},"timestamp":ts,"messageId":id})
        }
        "screen" | "s" => json!({"userId":"p-user","name":"Home","timestamp":ts,"messageId":id}),
        "group" | "g" => {
            json!({"userId":"p-user","groupId":"p-group","traits":{"name":"Paths Ltd"},"timestamp":ts,"messageId":id})
        }
        "alias" | "a" => json!({"userId":"p-user","previousId":"p-anon","timestamp":ts,"messageId":id}),
        other => panic!("no body for {other}"),
    }
}

pub const INGEST_PATHS: [&str; 14] =
    ["batch", "track", "identify", "page", "screen", "group", "alias", "b", "t", "i", "p", "s", "g", "a"];

#[test]
fn ingest_on_every_path_basic_auth_and_body_write_key() {
    let s = server();
    let site = s.create_site("routes-ingest", json!({}));
    for path in INGEST_PATHS {
        let r = site.ingest(path, &body_for_path(path, 1));
        assert_eq!((r.status, r.json()), (200, json!({"success":true})), "POST /v1/{path}: {}", r.text());
    }
    // analytics-next style: text/plain, write key in the body, no Authorization header.
    for path in INGEST_PATHS {
        let mut body = body_for_path(path, 2);
        body["writeKey"] = json!(site.write_key);
        let r = request(
            "POST",
            &s.url(&format!("/v1/{path}")),
            &[("content-type", "text/plain")],
            Some(body.to_string().as_bytes()),
        );
        assert_eq!((r.status, r.json()), (200, json!({"success":true})), "text/plain /v1/{path}: {}", r.text());
    }
    // The type may be repeated in the body when it matches the path.
    let mut typed = body_for_path("track", 3);
    typed["type"] = json!("track");
    assert_eq!(site.ingest("t", &typed).status, 200);

    let stats = site.stats();
    assert_eq!(stats["raw_keys"], json!(29), "one raw key per accepted request: {stats}");
    assert_eq!(stats["pending_raw_keys"], json!(29), "{stats}");
    let out = site.rollup();
    assert_eq!(out["raw_keys_read"], json!(29), "{out}");
    // 12 single-message paths + 2 batch paths of 2 messages, twice, plus one.
    assert_eq!(out["messages_folded"], json!(33), "{out}");
    assert_eq!(out["duplicates_ignored"], json!(0), "{out}");
    let stats = site.stats();
    assert_eq!((stats["pending_raw_keys"].clone(), stats["rolled_up_messages"].clone()), (json!(0), json!(33)));
    let group = site.read("accounts/p-group?as_of=2026-10-08");
    assert_eq!(group["name"], json!("Paths Ltd"), "{group}");
}

#[test]
fn gzip_bodies_are_decoded() {
    let s = server();
    let site = s.create_site("routes-gzip", json!({}));
    let body = json!({"batch":[
        {"type":"identify","userId":"gz-1","traits":{"email":"gz@example.com"},"timestamp":"2026-10-03T10:00:00Z","messageId":"gz-a"},
        {"type":"track","userId":"gz-1","event":"Order Completed","properties":{"revenue":19.99},"timestamp":"2026-10-04T10:00:00Z","messageId":"gz-b"}
    ]});
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(body.to_string().as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let auth = basic(&site.write_key);
    for encoding in ["gzip", "x-gzip"] {
        let r = request(
            "POST",
            &s.url("/v1/batch"),
            &[("authorization", &auth), ("content-type", "application/json"), ("content-encoding", encoding)],
            Some(&gz),
        );
        assert_eq!((r.status, r.json()), (200, json!({"success":true})), "{encoding}: {}", r.text());
    }
    site.rollup();
    let acct = site.read("accounts/gz-1?as_of=2026-10-10");
    assert_eq!((acct["stage"].clone(), acct["revenue_minor"].clone()), (json!("new_customer"), json!(1999)), "{acct}");
    assert_eq!(site.stats()["rolled_up_messages"], json!(2), "the second copy is a retry");
}

#[test]
fn spend_ledger_post_get_csv_delete() {
    let s = server();
    let site = s.create_site("routes-spend", json!({"currency":"USD"}));
    let r = site.admin("POST", "spend", Some(&small_spend()));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"stored":2,"ids":["oct-search","oct-news"],"ledger_size":2}));
    // One object (no id: the Worker names it), then CSV with a mixed entry.
    let r = site.admin(
        "POST",
        "spend",
        Some(&json!({"from":"2026-09-01","to":"2026-10-01","channel":"events","campaign":"expo",
                     "amount_minor":50000,"currency":"USD","purpose":"mixed","acquisition_pct":40})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let generated_id = r.json()["ids"][0].as_str().unwrap().to_owned();
    assert_eq!(r.json()["ledger_size"], json!(3));
    let csv = "id,from,to,channel,campaign,amount_minor,currency,purpose,acquisition_pct\n\
               csv-1,2026-10-01,2026-10-15,social,launch,7000,USD,acquisition,\n\
               oct-news,2026-10-01,2026-11-01,email,newsletter,120000,USD,retention,\n";
    let admin = format!("Bearer {ADMIN_TOKEN}");
    let r = request(
        "POST",
        &s.url(&site.route("spend")),
        &[("authorization", &admin), ("content-type", "text/csv")],
        Some(csv.as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["ledger_size"], json!(4), "oct-news is upserted, not added: {}", r.text());

    let ledger = site.admin("GET", "spend", None).json();
    assert_eq!(ledger["currency"], json!("USD"));
    let entries = ledger["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "{ledger}");
    let news = entries.iter().find(|e| e["id"] == "oct-news").unwrap();
    assert_eq!(news["amount_minor"], json!(120000), "upsert replaced the amount");
    let r = request("GET", &s.url(&format!("{}?format=csv", site.route("spend"))), &[("authorization", &admin)], None);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap_or("").starts_with("text/csv"), "{:?}", r.headers);
    let text = r.text();
    assert_eq!(text.lines().next(), Some("id,from,to,channel,campaign,amount_minor,currency,purpose,acquisition_pct"));
    assert_eq!(text.lines().count(), 5, "{text}");

    let d = site.admin("DELETE", &format!("spend/{generated_id}"), None);
    assert_eq!(d.status, 200, "{}", d.text());
    let again = site.admin("DELETE", &format!("spend/{generated_id}"), None);
    assert_eq!((again.status, again.code().as_deref()), (404, Some("spend_not_found")));
    assert_eq!(site.stats()["spend_entries"], json!(3));
    let b = site.read("reports/budget?from=2026-10-01&to=2026-11-01");
    assert_eq!(b["acquisition"]["spend_minor"], json!(307000), "{b}");
    assert_eq!(b["retention"]["spend_minor"], json!(120000), "{b}");
}

/// Loads the small dataset and its spend into a fresh site and rolls it up.
pub fn small_site(id: &str, config: Value) -> Site {
    let site = server().create_site(id, config);
    site.send_batch(&small_dataset());
    assert_eq!(site.admin("POST", "spend", Some(&small_spend())).status, 200);
    site
}

#[test]
fn reports_json_and_csv() {
    let site = small_site("routes-read", json!({"currency":"USD"}));
    // Before the rollup the tail carries the batch; after it the rollup does.
    let before = site.read("reports/lifecycle?as_of=2026-10-10");
    assert_eq!(before["data_status"]["pending_batches"], json!(1), "{before}");
    assert_eq!(before["data_status"]["pending_included"], json!(1), "{before}");
    assert_eq!(before["data_status"]["complete"], json!(true), "{before}");
    assert_eq!(before["data_status"]["rolled_up_to"], Value::Null, "{before}");
    let out = site.rollup();
    assert_eq!(out["messages_folded"], json!(6), "{out}");
    let life = site.read("reports/lifecycle?as_of=2026-10-10");
    assert_eq!(life["data_status"]["pending_batches"], json!(0), "{life}");
    assert_eq!(life["data_status"]["complete"], json!(true), "{life}");
    assert_eq!(life["data_status"]["last_rollup_error"], Value::Null, "{life}");
    assert!(life["data_status"]["rolled_up_to"].is_string(), "{life}");
    assert!(life["data_status"]["notice"].is_null(), "{life}");
    assert_eq!(life["as_of"], json!("2026-10-10"));
    assert_eq!(life["stages"], json!({"prospect":1,"lead":1,"new_customer":2,"active":0,"at_risk":0,"lapsed":0}));
    let mut without_tail = before.clone();
    without_tail.as_object_mut().unwrap().remove("data_status");
    let mut life_without = life.clone();
    life_without.as_object_mut().unwrap().remove("data_status");
    assert_eq!(without_tail, life_without, "tail and rollup give the same report");

    let b = site.read("reports/budget?from=2026-10-01&to=2026-11-01");
    assert_eq!(b["period"], json!({"from":"2026-10-01","to":"2026-11-01"}));
    assert_eq!(b["currency"], json!("USD"));
    assert_eq!(b["acquisition"]["spend_minor"], json!(300000));
    assert_eq!(b["retention"]["spend_minor"], json!(100000));
    assert_eq!(b["acquisition"]["new_customers"], json!(2));
    assert_eq!(b["acquisition"]["cac_minor"], json!(150000));
    assert_eq!(b["acquisition"]["revenue_minor"], json!(150050));
    assert!(b["verdict"]["kind"].is_string() && b["previous"].is_object(), "{b}");

    let f = site.read("reports/funnel?from=2026-10-01&to=2026-11-01");
    assert_eq!(f["purchase"], json!(2), "{f}");
    assert!(f["awareness"].as_u64() >= Some(2), "{f}");
    let e = site.read("reports/engagement?as_of=2026-10-10");
    assert_eq!(e["customers"], json!(2), "{e}");
    assert_eq!(e["histogram"].as_array().map(Vec::len), Some(10), "{e}");

    for (rest, header) in [
        ("reports/lifecycle?as_of=2026-10-10&format=csv", Some("stage,accounts")),
        ("reports/budget?from=2026-10-01&to=2026-11-01&format=csv", None),
        ("reports/funnel?from=2026-10-01&to=2026-11-01&format=csv", None),
        ("reports/engagement?as_of=2026-10-10&format=csv", None),
        ("accounts?as_of=2026-10-10&format=csv", None),
    ] {
        let r = site.read_raw(rest, &site.read_token);
        assert_eq!(r.status, 200, "{rest}: {}", r.text());
        assert!(r.header("content-type").unwrap_or("").starts_with("text/csv"), "{rest}: {:?}", r.headers);
        let text = r.text();
        let first = text.lines().next().unwrap_or("");
        assert!(first.contains(','), "{rest}: no CSV header in {text}");
        if let Some(h) = header {
            assert_eq!(first, h, "{rest}");
        }
        assert!(text.lines().count() >= 2, "{rest}: no rows in {text}");
    }

    // Account list: filters, sort, paging.
    let all = site.read("accounts?as_of=2026-10-10");
    assert_eq!(all["total"], json!(4), "{all}");
    let customers = site.read("accounts?as_of=2026-10-10&stage=new_customer&sort=revenue");
    let ids: Vec<&str> = customers["accounts"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["u:buyer-1", "g:acme"], "{customers}");
    let p1 = site.read("accounts?as_of=2026-10-10&sort=name&limit=3");
    assert_eq!((p1["accounts"].as_array().map(Vec::len), p1["next_cursor"].clone()), (Some(3), json!("3")), "{p1}");
    let p2 = site.read("accounts?as_of=2026-10-10&sort=name&limit=3&cursor=3");
    assert_eq!((p2["accounts"].as_array().map(Vec::len), p2["next_cursor"].clone()), (Some(1), Value::Null), "{p2}");
    let engaged = site.read("accounts?as_of=2026-10-10&band=engaged");
    assert_eq!(engaged["total"], json!(0), "{engaged}");

    // One account, by bare id and by key.
    for id in ["acme", "g:acme"] {
        let a = site.read(&format!("accounts/{id}?as_of=2026-10-10"));
        assert_eq!(a["id"], json!("g:acme"), "{a}");
        assert_eq!(a["name"], json!("Acme Corp"), "{a}");
        assert_eq!(a["stage"], json!("new_customer"), "{a}");
        assert_eq!(a["revenue_minor"], json!(30000), "{a}");
        assert!(a["breakdown"].as_array().is_some_and(|b| !b.is_empty()), "{a}");
        assert!(a["actions"].as_array().is_some_and(|b| !b.is_empty()), "{a}");
    }
    let lead = site.read("accounts/lead-1?as_of=2026-10-10");
    assert_eq!(lead["stage"], json!("lead"), "{lead}");
    assert!(!lead.to_string().contains("lead@example.com"), "raw e-mail must never be stored: {lead}");
    let missing = site.read_raw("accounts/nobody?as_of=2026-10-10", &site.read_token);
    assert_eq!((missing.status, missing.code().as_deref()), (404, Some("account_not_found")));
}

#[test]
fn rollup_stats_embed_tokens_and_erasure() {
    let site = small_site("routes-admin", json!({}));
    let stats = site.stats();
    assert_eq!(stats["raw_keys"], json!(1), "{stats}");
    assert_eq!(stats["pending_raw_keys"], json!(1), "{stats}");
    assert_eq!(stats["spend_entries"], json!(2), "{stats}");
    let out = site.rollup();
    assert_eq!(out["site"], json!("routes-admin"));
    assert_eq!((out["raw_keys_read"].clone(), out["messages_folded"].clone()), (json!(1), json!(6)), "{out}");
    assert!(out["checkpoint"].as_str().is_some_and(|c| c.starts_with("raw/routes-admin/")), "{out}");
    assert_eq!(out["more"], json!(false));
    let again = site.rollup();
    assert_eq!(again["messages_folded"], json!(0), "a second rollup folds nothing new: {again}");
    let stats = site.stats();
    assert_eq!(stats["rolled_up_messages"], json!(6), "{stats}");
    assert_eq!(stats["dedup_index"], json!(6), "{stats}");
    assert_eq!(stats["checkpoint"], out["checkpoint"], "{stats}");

    // Embed tokens: minted, scoped, expiring.
    let r = site.admin("POST", "embed-tokens", Some(&json!({"ttl_seconds":600})));
    assert_eq!(r.status, 201, "{}", r.text());
    let t = r.json();
    assert_eq!((t["site"].clone(), t["ttl_seconds"].clone()), (json!("routes-admin"), json!(600)));
    let token = t["token"].as_str().unwrap();
    assert!(token.starts_with("et1.routes-admin."), "{token}");
    assert!(t["expires_at"].as_str().is_some_and(|e| e.len() >= 20), "{t}");
    assert_eq!(site.read_raw("reports/lifecycle?as_of=2026-10-10", token).status, 200);
    let default_ttl = site.admin("POST", "embed-tokens", None);
    assert_eq!((default_ttl.status, default_ttl.json()["ttl_seconds"].clone()), (201, json!(3600)));

    // Erasure removes the account and its raw messages.
    let e = site.admin("DELETE", "accounts/lead-1", None);
    assert_eq!(e.status, 200, "{}", e.text());
    let v = e.json();
    assert_eq!(v["erased"], json!("u:lead-1"), "{v}");
    assert!(v["identities"].as_u64() >= Some(1), "{v}");
    assert_eq!(v["raw_messages_removed"], json!(1), "{v}");
    let gone = site.read_raw("accounts/lead-1?as_of=2026-10-10", &site.read_token);
    assert_eq!((gone.status, gone.code().as_deref()), (404, Some("account_not_found")));
    let again = site.admin("DELETE", "accounts/lead-1", None);
    assert_eq!((again.status, again.code().as_deref()), (404, Some("account_not_found")));
    let life = site.read("reports/lifecycle?as_of=2026-10-10");
    assert_eq!(life["stages"]["lead"], json!(0), "{life}");
    assert_eq!(life["stages"]["new_customer"], json!(2), "{life}");
    // A rollup after erasure does not bring it back from raw data.
    site.rollup();
    assert_eq!(site.read("reports/lifecycle?as_of=2026-10-10")["stages"]["lead"], json!(0));
}

#[test]
fn cors_preflight_and_origin_checks() {
    let s = server();
    let site = small_site("routes-cors", json!({"allowed_origins":["https://intranet.example"]}));
    let report = s.url(&site.route("reports/budget"));
    let pre = |origin: &str, url: &str| {
        request(
            "OPTIONS",
            url,
            &[
                ("origin", origin),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "authorization"),
            ],
            None,
        )
    };
    let ok = pre("https://intranet.example", &report);
    assert_eq!(ok.status, 204, "{}", ok.text());
    assert_eq!(ok.header("access-control-allow-origin"), Some("https://intranet.example"));
    assert!(ok.header("access-control-allow-headers").unwrap_or("").to_lowercase().contains("authorization"));
    assert!(ok.header("access-control-allow-methods").unwrap_or("").contains("GET"));
    for path in ["reports/lifecycle", "reports/funnel", "reports/engagement", "accounts", "accounts/acme"] {
        let r = pre("https://intranet.example", &s.url(&site.route(path)));
        assert_eq!(r.status, 204, "preflight {path}: {}", r.text());
    }
    let evil = pre("https://evil.example", &report);
    assert_eq!((evil.status, evil.code().as_deref()), (403, Some("origin_not_allowed")));
    assert_eq!(evil.header("access-control-allow-origin"), None);
    let admin_route = pre("https://intranet.example", &s.url(&site.route("stats")));
    assert_eq!(admin_route.status, 403, "admin routes take no cross-origin calls: {}", admin_route.text());
    // A site without allowed origins answers no preflight.
    let closed = small_site("routes-cors-closed", json!({}));
    let r = pre("https://intranet.example", &s.url(&closed.route("reports/budget")));
    assert_eq!(r.status, 403, "{}", r.text());

    // The actual GET carries the CORS header for an allowed origin only.
    let bearer = format!("Bearer {}", site.read_token);
    let get = |origin: &str| request("GET", &report, &[("authorization", &bearer), ("origin", origin)], None);
    assert_eq!(get("https://intranet.example").header("access-control-allow-origin"), Some("https://intranet.example"));
    assert_eq!(get("https://evil.example").header("access-control-allow-origin"), None);

    // Ingest from a browser: only listed origins may send; server SDKs send no Origin.
    let auth = basic(&site.write_key);
    let body = json!({"type":"page","anonymousId":"cors-v","timestamp":"2026-10-02T00:00:00Z"}).to_string();
    let send = |origin: Option<&str>| {
        let mut h = vec![("authorization", auth.as_str()), ("content-type", "text/plain")];
        if let Some(o) = origin {
            h.push(("origin", o));
        }
        request("POST", &s.url("/v1/p"), &h, Some(body.as_bytes()))
    };
    let allowed = send(Some("https://intranet.example"));
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    assert_eq!(allowed.header("access-control-allow-origin"), Some("https://intranet.example"));
    assert_eq!(send(None).status, 200);
    let denied = send(Some("https://evil.example"));
    assert_eq!((denied.status, denied.code().as_deref()), (403, Some("origin_not_allowed")));
    // `Origin: null` (a sandboxed frame, a file: page) is a browser origin, not an absent one.
    let raw_before = site.stats()["raw_keys"].clone();
    let null = send(Some("null"));
    assert_eq!((null.status, null.code().as_deref()), (403, Some("origin_not_allowed")), "{}", null.text());
    assert_eq!(null.header("access-control-allow-origin"), None);
    assert_eq!(site.stats()["raw_keys"], raw_before, "a refused Origin: null stored something");
    assert_eq!(get("null").header("access-control-allow-origin"), None);
    let ingest_pre = pre("https://intranet.example", &s.url("/v1/batch"));
    assert!(matches!(ingest_pre.status, 200 | 204), "ingest preflight: {}", ingest_pre.text());
}

#[test]
fn identity_merging_original_timestamp_and_clock_skew() {
    let site = server().create_site("routes-identity", json!({}));
    site.send_batch(&[
        json!({"type":"page","anonymousId":"m-anon-1","messageId":"mi-1","timestamp":"2026-10-01T10:00:00Z",
               "properties":{"path":"/pricing"}}),
        json!({"type":"alias","previousId":"m-anon-1","userId":"m-user-1","messageId":"mi-2",
               "timestamp":"2026-10-02T10:00:00Z"}),
        json!({"type":"identify","userId":"m-user-1","messageId":"mi-3","timestamp":"2026-10-02T11:00:00Z",
               "traits":{"email":"m1@example.com"}}),
        // No `timestamp`: `originalTimestamp` is the event time.
        json!({"type":"track","userId":"m-user-1","event":"Order Completed","messageId":"mi-4",
               "originalTimestamp":"2026-10-03T10:00:00Z","properties":{"revenue":5}}),
    ]);
    // The client's clock is a day behind: sentAt is "now" by its clock, so the event moves a day later.
    let skewed_now = crate::harness::rfc3339(crate::harness::unix_now() as i64 - 86_400);
    let r = site.ingest(
        "batch",
        &json!({"sentAt": skewed_now, "batch":[{"type":"page","userId":"m-user-2","messageId":"mi-5",
                 "timestamp":"2026-10-05T10:00:00Z","properties":{"path":"/blog"}}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    site.rollup();
    let life = site.read("reports/lifecycle?as_of=2026-10-10");
    assert_eq!(life["total"], json!(2), "the visitor merged into the user it was aliased to: {life}");
    assert_eq!(life["stages"]["new_customer"], json!(1), "{life}");
    let u1 = site.read("accounts/m-user-1?as_of=2026-10-10");
    assert_eq!(u1["first_seen"], json!("2026-10-01"), "anonymous history counts for the account: {u1}");
    assert_eq!(u1["first_purchase"], json!("2026-10-03"), "originalTimestamp: {u1}");
    assert_eq!(u1["revenue_minor"], json!(500), "{u1}");
    let u2 = site.read("accounts/m-user-2?as_of=2026-10-10");
    assert_eq!(u2["first_seen"], json!("2026-10-06"), "timestamp + (receivedAt - sentAt): {u2}");
}

#[test]
fn erasing_a_group_account_removes_its_members_messages() {
    let site = small_site("routes-erase-group", json!({}));
    let e = site.admin("DELETE", "accounts/acme", None);
    assert_eq!(e.status, 200, "{}", e.text());
    assert_eq!(e.json()["erased"], json!("g:acme"));
    assert_eq!(e.json()["raw_messages_removed"], json!(2), "the group call and the member's order: {}", e.text());
    for q in ["accounts/acme?as_of=2026-10-10", "accounts/acme-u?as_of=2026-10-10"] {
        let r = site.read_raw(q, &site.read_token);
        assert_eq!((r.status, r.code().as_deref()), (404, Some("account_not_found")), "{q}: {}", r.text());
    }
    site.rollup();
    let b = site.read("reports/budget?from=2026-10-01&to=2026-11-01");
    assert_eq!(b["acquisition"]["new_customers"], json!(1), "{b}");
    assert_eq!(b["acquisition"]["revenue_minor"], json!(120050), "{b}");
    assert_eq!(site.read("reports/lifecycle?as_of=2026-10-10")["total"], json!(3));
}

#[test]
fn empty_site_reports_and_edge_values() {
    let s = server();
    // A 64-character id is the longest allowed.
    let id = format!("edge-{}", "e".repeat(59));
    let site = s.create_site(&id, json!({}));
    for rest in [
        "reports/budget?from=2026-10-01&to=2026-11-01",
        "reports/lifecycle?as_of=2026-10-10",
        "reports/funnel?from=2026-10-01&to=2026-11-01",
        "reports/engagement?as_of=2026-10-10",
        "accounts?as_of=2026-10-10",
    ] {
        let v = site.read(rest);
        assert!(!v.to_string().contains("NaN") && !v.to_string().contains("inf"), "{rest}: {v}");
        let csv = site.read_raw(&format!("{rest}&format=csv"), &site.read_token);
        assert_eq!(csv.status, 200, "{rest} CSV: {}", csv.text());
    }
    let b = site.read("reports/budget?from=2026-10-01&to=2026-11-01");
    // Undefined ratios are null, never NaN or infinity.
    assert_eq!(b["acquisition"]["cac_minor"], Value::Null, "{b}");
    assert_eq!(b["acquisition"]["share"], Value::Null, "{b}");
    assert_eq!(b["retention"]["retention_rate"], Value::Null, "{b}");
    assert_eq!(b["ltv_to_cac"], Value::Null, "{b}");
    assert_eq!(site.read("accounts?as_of=2026-10-10")["total"], json!(0));
    assert_eq!(site.read("reports/lifecycle?as_of=2026-10-10")["total"], json!(0));
    assert_eq!(site.rollup()["messages_folded"], json!(0));

    // The embed-token TTL bounds are inclusive.
    for ttl in [60, 2_592_000] {
        let r = site.admin("POST", "embed-tokens", Some(&json!({ "ttl_seconds": ttl })));
        assert_eq!((r.status, r.json()["ttl_seconds"].clone()), (201, json!(ttl)), "{}", r.text());
    }

    // Ids with URL-special characters are reachable percent-encoded.
    site.send_batch(&[json!({"type":"identify","userId":"team/alpha beta","messageId":"edge-1",
                              "timestamp":"2026-10-02T00:00:00Z","traits":{"email":"t@example.com"}})]);
    let a = site.read("accounts/team%2Falpha%20beta?as_of=2026-10-10");
    assert_eq!((a["id"].clone(), a["stage"].clone()), (json!("u:team/alpha beta"), json!("lead")), "{a}");
    let a = site.read("accounts/u%3Ateam%2Falpha%20beta?as_of=2026-10-10");
    assert_eq!(a["id"], json!("u:team/alpha beta"), "{a}");
}
