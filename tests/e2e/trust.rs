//! Figures no visitor can forge (issue "Privacy and trust", item 3). The public write key is in every page's
//! snippet, so anyone can post an `Order Completed` with it; the secret key (`sk_…`) stays on the site's
//! servers. Revenue and lifecycle events remember which key brought them: the budget report shows how much
//! revenue came with the public key, and with `trust.lifecycle_events_need_secret_key` only the secret key's
//! purchases, renewals, churns and revenue count, on every report path (read model, full fold, tail,
//! account detail). A secret key sent from a browser is refused, and a client cannot claim it in the JSON.

use crate::harness::{Site, basic, request, rfc3339, server, unix_now};
use crate::routes::assert_json_error;
use serde_json::{Value, json};

fn order(user: &str, id: &str, revenue: f64, days_ago: i64, extra: Value) -> Value {
    let mut m = json!({"type": "track", "userId": user, "event": "Order Completed", "messageId": id,
        "timestamp": rfc3339(unix_now() as i64 - days_ago * 86_400), "properties": {"revenue": revenue}});
    if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
        m.extend(extra.clone());
    }
    m
}

/// `POST /v1/batch` with `key` as Basic user and the extra headers given.
fn post(site: &Site, key: &str, messages: &[Value], headers: &[(&str, &str)]) -> crate::harness::Resp {
    let auth = basic(key);
    let mut h = vec![("authorization", auth.as_str()), ("content-type", "application/json")];
    h.extend_from_slice(headers);
    let body = json!({ "batch": messages }).to_string();
    request("POST", &site.server.url("/v1/batch"), &h, Some(body.as_bytes()))
}

/// The budget report's revenue figures, by the read model and by a full fold (an explicit period): both must
/// agree. Returns (total revenue, revenue via the public key, counted).
fn budget(site: &Site, when: &str) -> (i64, i64, bool) {
    let default = site.read("reports/budget");
    let period = &default["period"];
    let explicit = site.read(&format!(
        "reports/budget?from={}&to={}",
        period["from"].as_str().unwrap(),
        period["to"].as_str().unwrap()
    ));
    let figures = |v: &Value| {
        (
            v["total_revenue_minor"].as_i64().unwrap(),
            v["public_key_revenue_minor"].as_i64().unwrap(),
            v["public_key_revenue_counted"].as_bool().unwrap(),
        )
    };
    assert_eq!(figures(&default), figures(&explicit), "{when}: read model and full fold differ");
    figures(&default)
}

fn stage(site: &Site, user: &str) -> Value {
    site.read(&format!("accounts/{user}"))["stage"].clone()
}

#[test]
fn only_the_secret_key_moves_revenue_when_the_site_says_so_and_the_report_shows_the_public_share() {
    let s = server();
    let site = s.create_site("trust-keys", json!({"currency": "USD", "allowed_origins": ["https://shop.example"]}));

    // A visitor forges an order with the public key, from the shop's page; the billing backend sends a real one.
    let forged = order("forger", "t-forged", 100.0, 3, json!({}));
    let shop = [("origin", "https://shop.example")];
    assert_eq!(post(&site, &site.write_key, &[forged], &shop).status, 200);
    // A client claiming the secret key inside the JSON changes nothing: it still came with the public key.
    let claimed = order("claimer", "t-claimed", 40.0, 3, json!({"via": "secret", "revenueMinor": 99_999_999}));
    assert_eq!(post(&site, &site.write_key, &[claimed], &[]).status, 200);
    let real = order("buyer", "t-real", 250.0, 2, json!({}));
    assert_eq!(post(&site, &site.secret_key, &[real], &[]).status, 200);
    // The secret key from a browser: refused, nothing stored.
    let leaked = order("leak", "t-leak", 1.0, 1, json!({}));
    let r = post(&site, &site.secret_key, &[leaked], &shop);
    assert_json_error(&r, 403, "secret_key_in_browser", "secret key with an Origin");
    // A secret key is no read credential either.
    assert_json_error(&site.read_raw("reports/budget", &site.secret_key), 403, "write_key_cannot_read", "secret key");
    site.rollup();
    assert_eq!(site.stats()["raw_keys"], json!(3), "{}", site.stats());

    // Default: everything counts, and the report says how much came with the public key.
    assert_eq!(budget(&site, "trusting both keys"), (39_000, 14_000, true));
    assert_eq!(stage(&site, "forger"), json!("new_customer"));

    // A public order after the rollup (the report's tail) is counted the same way.
    let later = order("late", "t-late", 7.0, 1, json!({}));
    assert_eq!(post(&site, &site.write_key, &[later], &[]).status, 200);
    assert_eq!(budget(&site, "with a public order in the tail"), (39_700, 14_700, true));

    // The site trusts only its secret key: the public orders leave revenue and stages, and stay visible.
    let up = site.admin("PUT", "", Some(&json!({"settings": {"trust": {"lifecycle_events_need_secret_key": true}}})));
    assert_eq!(up.status, 200, "{}", up.text());
    assert_eq!(budget(&site, "secret key only, before a rollup"), (25_000, 14_700, false));
    site.rollup();
    assert_eq!(budget(&site, "secret key only, from the rebuilt read model"), (25_000, 14_700, false));
    let path = site.read_raw("reports/budget", &site.read_token);
    assert_eq!(path.header("x-daytwo-read-model"), Some("index"), "the default report after a rollup");
    for user in ["forger", "claimer", "late"] {
        let detail = site.read(&format!("accounts/{user}"));
        assert_ne!(detail["stage"], json!("new_customer"), "{user}: {detail}");
        assert_eq!(detail["revenue_minor"], json!(0), "{user}: {detail}");
    }
    assert_eq!(stage(&site, "buyer"), json!("new_customer"));
    let lifecycle = site.read("reports/lifecycle");
    assert_eq!(lifecycle["stages"]["new_customer"], json!(1), "{lifecycle}");

    // And back: nothing was lost, the public orders count again.
    let up = site.admin("PUT", "", Some(&json!({"settings": {"trust": {"lifecycle_events_need_secret_key": false}}})));
    assert_eq!(up.status, 200, "{}", up.text());
    assert_eq!(budget(&site, "trusting both keys again"), (39_700, 14_700, true));
}
