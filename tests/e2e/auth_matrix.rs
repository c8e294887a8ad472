//! The auth matrix: every route family × every kind of credential → the expected status and error code.
//! Table-driven; every cell is checked and every mismatch is reported by its cell's name.

use crate::harness::{ADMIN_TOKEN, Resp, Site, basic, embed_token, request, server, unix_now};
use crate::routes::{INGEST_PATHS, body_for_path};
use serde_json::json;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cred {
    None,
    /// `Authorization: Basic %%%` (not base64; and not a Bearer token).
    Malformed,
    /// A well-formed header with a token nobody issued.
    Garbage,
    WriteKey,
    ReadToken,
    EmbedToken,
    ExpiredEmbed,
    OtherSiteRead,
    OtherSiteEmbed,
    OtherSiteWriteKey,
    Admin,
}

const CREDS: [Cred; 11] = [
    Cred::None,
    Cred::Malformed,
    Cred::Garbage,
    Cred::WriteKey,
    Cred::ReadToken,
    Cred::EmbedToken,
    Cred::ExpiredEmbed,
    Cred::OtherSiteRead,
    Cred::OtherSiteEmbed,
    Cred::OtherSiteWriteKey,
    Cred::Admin,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    /// `POST /v1/{batch,…}`: the write key travels as the HTTP Basic user.
    Ingest,
    /// Admin routes of an existing site.
    Admin,
    /// Read routes of an existing site.
    Read,
    /// Admin routes of a site that does not exist.
    AdminUnknownSite,
    /// Read routes of a site that does not exist.
    ReadUnknownSite,
}

type Expect = (u16, Option<&'static str>);

/// What each credential must get on each family. `ok` is the route's success status.
fn expected(family: Family, cred: Cred, ok: u16) -> Expect {
    use Cred as C;
    use Family as F;
    match (family, cred) {
        (F::Ingest, C::None) => (401, Some("missing_write_key")),
        (F::Ingest, C::Malformed) => (401, Some("malformed_authorization")),
        (F::Ingest, C::WriteKey | C::OtherSiteWriteKey) => (ok, None),
        (F::Ingest, _) => (401, Some("invalid_write_key")),

        (_, C::None | C::Malformed) => (401, Some("missing_token")),
        (_, C::Garbage) => (401, Some("invalid_token")),
        (_, C::ExpiredEmbed) => (401, Some("token_expired")),

        (F::Admin, C::Admin) => (ok, None),
        (F::AdminUnknownSite, C::Admin) => (404, Some("site_not_found")),
        (F::Admin | F::AdminUnknownSite, _) => (403, Some("admin_only")),

        (F::Read, C::Admin | C::ReadToken | C::EmbedToken) => (ok, None),
        (F::Read, C::WriteKey | C::OtherSiteWriteKey) => (403, Some("write_key_cannot_read")),
        (F::Read, _) => (403, Some("wrong_site")),

        (F::ReadUnknownSite, C::Admin) => (404, Some("site_not_found")),
        (F::ReadUnknownSite, _) => (403, Some("wrong_site")),
    }
}

struct Route {
    family: Family,
    method: &'static str,
    path: String,
    body: Option<String>,
    ok: u16,
}

struct Creds {
    site: Site,
    other: Site,
    embed: String,
    other_embed: String,
    expired: String,
}

impl Creds {
    fn token(&self, cred: Cred) -> Option<String> {
        Some(match cred {
            Cred::None | Cred::Malformed => return None,
            Cred::Garbage => "not-a-real-token-4d1f0c".into(),
            Cred::WriteKey => self.site.write_key.clone(),
            Cred::ReadToken => self.site.read_token.clone(),
            Cred::EmbedToken => self.embed.clone(),
            Cred::ExpiredEmbed => self.expired.clone(),
            Cred::OtherSiteRead => self.other.read_token.clone(),
            Cred::OtherSiteEmbed => self.other_embed.clone(),
            Cred::OtherSiteWriteKey => self.other.write_key.clone(),
            Cred::Admin => ADMIN_TOKEN.into(),
        })
    }

    /// The Authorization header a client with this credential sends to this family.
    fn header(&self, family: Family, cred: Cred) -> Option<String> {
        if cred == Cred::Malformed {
            return Some("Basic %%%not-base64%%%".into());
        }
        let token = self.token(cred)?;
        Some(if family == Family::Ingest { basic(&token) } else { format!("Bearer {token}") })
    }
}

fn call(creds: &Creds, route: &Route, cred: Cred) -> Resp {
    let auth = creds.header(route.family, cred);
    let mut headers: Vec<(&str, &str)> = vec![("content-type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    request(route.method, &creds.site.server.url(&route.path), &headers, route.body.as_deref().map(str::as_bytes))
}

fn routes(site: &str) -> Vec<Route> {
    let mut out = Vec::new();
    for (i, p) in INGEST_PATHS.iter().enumerate() {
        let body = body_for_path(p, 100 + i).to_string();
        out.push(Route { family: Family::Ingest, method: "POST", path: format!("/v1/{p}"), body: Some(body), ok: 200 });
    }
    let spend = json!([{"id":"m-1","from":"2026-10-01","to":"2026-11-01","channel":"search","campaign":"c",
                        "amount_minor":1000,"currency":"USD","purpose":"acquisition"}])
    .to_string();
    let admin = |method, rest: &str, body: Option<String>, ok| Route {
        family: Family::Admin,
        method,
        path: if rest.is_empty() { format!("/v1/sites/{site}") } else { format!("/v1/sites/{site}/{rest}") },
        body,
        ok,
    };
    out.extend([
        admin("PUT", "", Some("{}".into()), 200),
        admin("GET", "", None, 200),
        admin("POST", "spend", Some(spend), 200),
        admin("GET", "spend", None, 200),
        admin("GET", "spend?format=csv", None, 200),
        admin("DELETE", "spend/m-del", None, 200),
        admin("POST", "rollup", None, 200),
        admin("POST", "embed-tokens", Some(r#"{"ttl_seconds":120}"#.into()), 201),
        admin("GET", "stats", None, 200),
        admin("DELETE", "accounts/erase-me", None, 200),
    ]);
    for rest in [
        "reports/budget?from=2026-10-01&to=2026-11-01",
        "reports/lifecycle?as_of=2026-10-10",
        "reports/funnel?from=2026-10-01&to=2026-11-01",
        "reports/engagement?as_of=2026-10-10",
        "reports/budget?from=2026-10-01&to=2026-11-01&format=csv",
        "reports/lifecycle?format=csv",
        "accounts",
        "accounts?format=csv&stage=lead",
        "accounts/keep-me?as_of=2026-10-10",
    ] {
        out.push(Route {
            family: Family::Read,
            method: "GET",
            path: format!("/v1/sites/{site}/{rest}"),
            body: None,
            ok: 200,
        });
    }
    let unknown = "matrix-nosuch";
    for (method, rest) in [("GET", "stats"), ("POST", "rollup"), ("GET", "spend"), ("DELETE", "accounts/x")] {
        out.push(Route {
            family: Family::AdminUnknownSite,
            method,
            path: format!("/v1/sites/{unknown}/{rest}"),
            body: None,
            ok: 0,
        });
    }
    for rest in ["reports/budget", "accounts", "accounts/x"] {
        out.push(Route {
            family: Family::ReadUnknownSite,
            method: "GET",
            path: format!("/v1/sites/{unknown}/{rest}"),
            body: None,
            ok: 0,
        });
    }
    out
}

#[test]
fn auth_matrix() {
    let s = server();
    let site = s.create_site("matrix", json!({}));
    let other = s.create_site("matrix-other", json!({}));
    site.send_batch(&[
        json!({"type":"identify","userId":"keep-me","traits":{"email":"k@example.com"},"timestamp":"2026-10-02T00:00:00Z"}),
        json!({"type":"identify","userId":"erase-me","traits":{"email":"e@example.com"},"timestamp":"2026-10-02T00:00:00Z"}),
    ]);
    let del = json!([{"id":"m-del","from":"2026-10-01","to":"2026-11-01","channel":"search","campaign":"c",
                      "amount_minor":1,"currency":"USD","purpose":"retention"}]);
    assert_eq!(site.admin("POST", "spend", Some(&del)).status, 200);
    let mint = |s: &Site| {
        let r = s.admin("POST", "embed-tokens", Some(&json!({"ttl_seconds":3600})));
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["token"].as_str().unwrap().to_owned()
    };
    let creds = Creds {
        embed: mint(&site),
        other_embed: mint(&other),
        expired: embed_token("matrix", unix_now() - 3600),
        site,
        other,
    };
    let routes = routes("matrix");
    let mut failures = String::new();
    let mut cells = 0;
    for route in &routes {
        for cred in CREDS {
            let (status, code) = expected(route.family, cred, route.ok);
            let r = call(&creds, route, cred);
            cells += 1;
            let got_code = r.code();
            let json_error = status < 300 || r.json()["error"]["message"].is_string();
            if r.status != status || got_code.as_deref() != code || !json_error {
                let _ = writeln!(
                    failures,
                    "  {} {} [{:?} route] with {cred:?}: expected {status} {code:?}, got {} {:?}: {}",
                    route.method,
                    route.path,
                    route.family,
                    r.status,
                    got_code,
                    r.text().chars().take(160).collect::<String>()
                );
            }
        }
    }
    assert!(failures.is_empty(), "auth matrix: mismatching cells (of {cells}):\n{failures}");
    assert_eq!(cells, routes.len() * CREDS.len());
    // The write-key cells really ingested, each into its own key's site.
    let n = INGEST_PATHS.len() as u64;
    assert_eq!(creds.site.stats()["raw_keys"].as_u64(), Some(1 + n));
    assert_eq!(creds.other.stats()["raw_keys"].as_u64(), Some(n));
}
