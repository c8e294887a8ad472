//! No personal data at rest (issue "Privacy and trust", item 1): e-mail addresses under any key, e-mail-shaped
//! ids and free text, query strings and IP addresses are scrubbed at ingest; afterwards no file of the local
//! KV folder holds an address that was sent. An account sent with an address as its id is found (and erased)
//! by that address.

use crate::harness::{request, server};
use serde_json::json;
use std::path::Path;

/// Every file under `dir`, recursively, except Miniflare's local request traces (`observability/`: the
/// platform's log of request URLs, which holds the address this test itself puts in a lookup URL; Workers Logs
/// are off in wrangler.toml, and a deployment that turns them on should know that URLs are logged).
pub(crate) fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.file_name().is_some_and(|n| n == "observability") {
            continue;
        }
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn no_file_of_the_kv_folder_holds_a_sent_address() {
    let s = server();
    let site = s.create_site("privacy", json!({"currency": "USD"}));
    let address = "grace.private-7781@hopper.example";
    let encoded = address.replace('@', "%40");
    let ip = "198.51.100.77";
    site.send_batch(&[
        json!({"type": "identify", "userId": address, "anonymousId": "v-1", "timestamp": "2026-10-02T10:00:00Z",
               "traits": {"Email": address, "profile": {"emailAddress": address}, "name": "Grace"},
               "context": {"ip": ip, "page": {"url": format!("https://shop.example/signup?email={encoded}&utm_source=ads"),
                           "referrer": format!("https://mail.example/?to={address}")}}}),
        json!({"type": "track", "userId": address, "event": "Order Completed", "properties": {"revenue": 99,
               "note": format!("invoice sent to {address}"), "url": format!("https://shop.example/done#{address}")},
               "context": {"ip": ip}, "timestamp": "2026-10-03T10:00:00Z"}),
        json!({"type": "page", "anonymousId": "v-1", "properties": {"path": format!("/u/{encoded}"),
               "search": format!("?email={encoded}")}, "timestamp": "2026-10-02T09:00:00Z"}),
    ]);
    site.rollup();
    // The account is found by the address it was sent with, and shown by its digest.
    let detail = site.read(&format!("accounts/{encoded}?as_of=2026-10-31"));
    let id = detail["account"]["id"].as_str().or(detail["id"].as_str()).unwrap_or_default().to_owned();
    assert!(detail.to_string().contains("email_sha256:"), "{detail}");
    assert!(!detail.to_string().contains(address), "{detail}");
    let life = site.read("reports/lifecycle?as_of=2026-10-31");
    assert_eq!(life["stages"]["new_customer"], json!(1), "{life}");

    let mut all = Vec::new();
    files(&s.state_dir(), &mut all);
    assert!(all.len() > 3, "the KV folder {} holds {} files", s.state_dir().display(), all.len());
    // The rolled-up state is at rest too: the sites' Durable Object databases are among the files searched.
    assert!(
        all.iter().any(|f| f.to_string_lossy().contains("daytwo-SiteState")),
        "no Durable Object database under {}",
        s.state_dir().display()
    );
    let needles = [address.as_bytes(), encoded.as_bytes(), ip.as_bytes(), b"grace.private-7781".as_slice()];
    for f in &all {
        let bytes = std::fs::read(f).unwrap_or_default();
        for n in needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n)),
                "{} holds {:?} (account {id})",
                f.display(),
                String::from_utf8_lossy(n)
            );
        }
    }
    // Erasure by the address works too.
    let r = site.admin("DELETE", &format!("accounts/{encoded}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = request(
        "GET",
        &s.url(&site.route(&format!("accounts/{encoded}"))),
        &[("authorization", &format!("Bearer {}", site.read_token))],
        None,
    );
    assert_eq!(r.status, 404, "{}", r.text());
}

/// Revocable embeds (issue "Privacy and trust", item 4): after `POST …/embed-tokens/revoke`, every embed token
/// minted before answers 401 `token_revoked` while new ones work; rotating the site's credentials revokes too;
/// another site's tokens are untouched.
#[test]
fn embed_tokens_are_revoked_by_revoke_and_by_rotation() {
    let s = server();
    let site = s.create_site("revocable", json!({"currency": "USD"}));
    let other = s.create_site("revocable-other", json!({"currency": "USD"}));
    let mint = |site: &crate::harness::Site| {
        let r = site.admin("POST", "embed-tokens", Some(&json!({"ttl_seconds": 3600})));
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["token"].as_str().unwrap_or_default().to_owned()
    };
    let status = |site: &crate::harness::Site, token: &str| {
        let r = site.read_raw("reports/lifecycle", token);
        (r.status, r.code())
    };
    let (before, other_token) = (mint(&site), mint(&other));
    // Tokens minted by hand in the original format (generation 0) work until a revocation.
    let handmade = crate::harness::embed_token(&site.id, crate::harness::unix_now() + 600);
    assert_eq!(status(&site, &before), (200, None));
    assert_eq!(status(&site, &handmade), (200, None));
    // Only an admin may revoke.
    assert_eq!(site.read_raw("embed-tokens/revoke", &before).status, 405, "GET is not the revoke route's method");
    let r = request(
        "POST",
        &s.url(&site.route("embed-tokens/revoke")),
        &[("authorization", &format!("Bearer {before}"))],
        None,
    );
    assert_eq!(r.status, 403, "an embed token revoked tokens: {}", r.text());
    let r = site.admin("POST", "embed-tokens/revoke", None);
    assert_eq!(r.status, 200, "{}", r.text());
    for t in [&before, &handmade] {
        assert_eq!(status(&site, t), (401, Some("token_revoked".into())), "a token minted before the revocation");
    }
    let after = mint(&site);
    assert_eq!(status(&site, &after), (200, None), "a token minted after the revocation");
    assert_eq!(status(&other, &other_token), (200, None), "another site's tokens are untouched");
    // Rotating the site's credentials revokes its embed tokens too.
    let r = s.admin("PUT", &format!("{}?rotate=true", site.route("")), Some(&json!({})));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(status(&site, &after), (401, Some("token_revoked".into())), "rotation revokes");
    assert_eq!(status(&site, &mint(&site)), (200, None));
}
