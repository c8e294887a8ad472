//! The Worker's map of its API (docs/design.md §6): one row per method and path, with who may call it and
//! what answers it. `fetch` resolves every request here ([`resolve`]), so matching, 404 and 405 (naming the
//! methods the path takes), CORS preflights and the credential a request must carry all follow from
//! [`ROUTES`]; nothing else in the Worker lists routes.
//!
//! Paths are written as the API docs write them. A placeholder matches one path segment, percent-decoded
//! (an account id may hold an encoded `/`): `{site}` and `{id}` any segment (the site id's syntax is checked
//! after the method, as a 400), `{type}` an ingest path (`batch`, `track`…, or analytics-next's one-letter
//! `b`, `t`…) and `{report}` a report `shared` computes (`budget`, `lifecycle`, `funnel`, `engagement`).

use daytwo_shared::message::MessageType;
use daytwo_shared::query::ReportKind;
use worker::Method;

use crate::error::ApiError;

/// The API. The access rule is the constructor (`public`, `write_key`, `admin`, `read`; see [`Access`]) and
/// the handler its last argument: a row cannot pair a handler with a credential it was not written for.
pub const ROUTES: &[Route] = {
    use AdminHandler::*;
    use PublicHandler::*;
    use ReadHandler::*;
    use WriteKeyHandler::*;
    &[
        public(GET, "/health", Health),
        public(HEAD, "/health", Health),
        public(GET, "/openapi.json", OpenApi),
        write_key(POST, "/v1/{type}", Ingest),
        admin(GET, "/v1/sites/{site}", GetSite),
        admin(PUT, "/v1/sites/{site}", PutSite),
        admin(GET, "/v1/sites/{site}/spend", GetSpend),
        admin(POST, "/v1/sites/{site}/spend", PostSpend),
        admin(DELETE, "/v1/sites/{site}/spend/{id}", DeleteSpend),
        admin(POST, "/v1/sites/{site}/rollup", Rollup),
        admin(POST, "/v1/sites/{site}/embed-tokens", MintEmbedToken),
        admin(POST, "/v1/sites/{site}/embed-tokens/revoke", RevokeEmbedTokens),
        admin(GET, "/v1/sites/{site}/stats", Stats),
        admin(DELETE, "/v1/sites/{site}/accounts/{id}", EraseAccount),
        admin(DELETE, "/v1/sites/{site}/people/{id}", ErasePerson),
        read(GET, "/v1/sites/{site}/reports/{report}", Report),
        read(GET, "/v1/sites/{site}/accounts", AccountList),
        read(GET, "/v1/sites/{site}/accounts/{id}", Account),
    ]
};

const GET: Method = Method::Get;
const HEAD: Method = Method::Head;
const POST: Method = Method::Post;
const PUT: Method = Method::Put;
const DELETE: Method = Method::Delete;

/// One row of [`ROUTES`].
#[derive(Debug)]
pub struct Route {
    pub method: Method,
    /// As the API docs write it: `/v1/sites/{site}/accounts/{id}`.
    pub path: &'static str,
    pub access: Access,
}

/// Who may call a route, holding the handler that answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; no cross-origin calls.
    Public(PublicHandler),
    /// A site's public or secret write key, as the HTTP Basic user or in the body (so the handler checks it,
    /// once the body is read). A page on any origin may call and read the answer; whether the site takes
    /// events from that origin is the handler's to say.
    WriteKey(WriteKeyHandler),
    /// The admin token; no cross-origin calls.
    Admin(AdminHandler),
    /// The site's read token, a live embed token of the site, or the admin token; cross-origin calls from the
    /// site's `allowed_origins`.
    Read(ReadHandler),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicHandler {
    Health,
    /// The OpenAPI description of this table (`openapi::DOCUMENT`).
    OpenApi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKeyHandler {
    /// Segment ingest (`ingest::handle`).
    Ingest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminHandler {
    GetSite,
    PutSite,
    GetSpend,
    PostSpend,
    DeleteSpend,
    Rollup,
    MintEmbedToken,
    RevokeEmbedTokens,
    Stats,
    EraseAccount,
    ErasePerson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadHandler {
    Report,
    AccountList,
    Account,
}

const fn public(method: Method, path: &'static str, handler: PublicHandler) -> Route {
    Route { method, path, access: Access::Public(handler) }
}

const fn write_key(method: Method, path: &'static str, handler: WriteKeyHandler) -> Route {
    Route { method, path, access: Access::WriteKey(handler) }
}

const fn admin(method: Method, path: &'static str, handler: AdminHandler) -> Route {
    Route { method, path, access: Access::Admin(handler) }
}

const fn read(method: Method, path: &'static str, handler: ReadHandler) -> Route {
    Route { method, path, access: Access::Read(handler) }
}

/// Which pages on other origins a route lets in (CORS), from the most closed to the most open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CrossOrigin {
    /// None: a preflight is answered 403.
    Refused,
    /// The origins the site lists (`site_rules::origin_may_read`).
    SiteOrigins,
    /// Any origin.
    AnyOrigin,
}

impl Access {
    /// Whom the route lets in from another origin; `None`: it answers no preflight (`OPTIONS` is then a
    /// method it does not take).
    pub fn cross_origin(self) -> Option<CrossOrigin> {
        match self {
            Access::Public(_) => None,
            Access::WriteKey(_) => Some(CrossOrigin::AnyOrigin),
            Access::Admin(_) => Some(CrossOrigin::Refused),
            Access::Read(_) => Some(CrossOrigin::SiteOrigins),
        }
    }
}

/// What a request resolved to.
#[derive(Debug)]
pub enum Resolved {
    /// The row of the request's method and path.
    Call(&'static Route, Matched),
    /// An `OPTIONS` request on a path whose rows take cross-origin calls: a CORS preflight, answered as the
    /// most open of them lets in (`accounts/{id}` is read by pages of the site's origins, though erasing is
    /// admin only).
    Preflight(CrossOrigin, Matched),
}

/// The path's placeholders and every row of its path.
#[derive(Debug)]
pub struct Matched {
    pub params: Params,
    rows: Vec<&'static Route>,
}

impl Matched {
    /// The methods a page on another origin is told it may use on this path: those of its rows that let it
    /// in as `cross_origin` does, and `OPTIONS` (`GET, OPTIONS` for reports, `POST, OPTIONS` for ingest).
    pub fn cors_methods(&self, cross_origin: CrossOrigin) -> String {
        let methods = self.rows.iter().filter(|r| r.access.cross_origin() == Some(cross_origin)).map(|r| &r.method);
        format!("{}, OPTIONS", method_list(methods))
    }
}

/// The segments a path's placeholders matched, by placeholder name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    /// The segment `{name}` matched. Empty for a name the row's path does not have: every handler reads only
    /// its own path's placeholders (`tests::the_table_is_well_formed`).
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v.as_str())
    }
}

/// The route of `method` on `path`: 404 `not_found` when no row has the path, a preflight for `OPTIONS`
/// where the path's rows take cross-origin calls, else 405 `method_not_allowed` naming the path's methods.
pub fn resolve(method: &Method, path: &str) -> Result<Resolved, ApiError> {
    let segments = segments(path);
    let mut found: Vec<(&'static Route, Params)> =
        ROUTES.iter().filter_map(|route| Some((route, match_path(route.path, &segments)?))).collect();
    let rows: Vec<&'static Route> = found.iter().map(|(route, _)| *route).collect();
    let chosen = found.iter().position(|(route, _)| route.method == *method);
    // The placeholders of the request's row, or (a preflight, a 405) of the path's first.
    let Some((route, params)) = (!found.is_empty()).then(|| found.swap_remove(chosen.unwrap_or(0))) else {
        return Err(ApiError::not_found("not_found", "no such route"));
    };
    let matched = Matched { params, rows };
    if chosen.is_some() {
        return Ok(Resolved::Call(route, matched));
    }
    match matched.rows.iter().filter_map(|r| r.access.cross_origin()).max() {
        Some(cross_origin) if *method == Method::Options => Ok(Resolved::Preflight(cross_origin, matched)),
        _ => Err(method_not_allowed(&method_list(matched.rows.iter().map(|r| &r.method)))),
    }
}

/// 405 naming the methods a route takes.
pub fn method_not_allowed(methods: &str) -> ApiError {
    ApiError::new(405, "method_not_allowed", format!("this route accepts {methods}"))
}

/// `methods` once each, in the usual order (GET, POST, PUT, PATCH, DELETE), as a 405 or CORS list names
/// them. `HEAD` is left out: it is `GET` without a body, and only `/health` takes it.
fn method_list<'a>(methods: impl Iterator<Item = &'a Method>) -> String {
    const ORDER: [Method; 5] = [Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete];
    let methods: Vec<&Method> = methods.collect();
    ORDER.iter().filter(|m| methods.contains(m)).map(AsRef::as_ref).collect::<Vec<&str>>().join(", ")
}

/// A request path's segments: split on `/` (leading and trailing ones ignored), then each percent-decoded on
/// its own, so an encoded `/` stays inside its segment. A segment that does not decode to UTF-8 is kept as
/// sent.
pub fn segments(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .map(|s| urlencoding::decode(s).map_or_else(|_| s.to_owned(), |c| c.into_owned()))
        .collect()
}

/// The placeholders of `pattern` if `segments` are its path.
fn match_path(pattern: &'static str, segments: &[String]) -> Option<Params> {
    let parts: Vec<&'static str> = pattern.trim_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (part, segment) in parts.into_iter().zip(segments) {
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if accepts(name, segment) => params.push((name, segment.clone())),
            Some(_) => return None,
            None if part == segment => {}
            None => return None,
        }
    }
    Some(Params(params))
}

/// Whether placeholder `{name}` matches `segment`. `{type}` and `{report}` take the names `shared` parses, so
/// a new report or message type is routed once `shared` knows it.
fn accepts(name: &str, segment: &str) -> bool {
    match name {
        "type" => matches!(segment, "batch" | "b") || MessageType::from_path_segment(segment).is_some(),
        "report" => ReportKind::from_path(segment).is_some(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: Method, path: &str) -> (&'static Route, Matched) {
        match resolve(&method, path) {
            Ok(Resolved::Call(route, matched)) => (route, matched),
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    fn error(method: Method, path: &str) -> ApiError {
        match resolve(&method, path) {
            Err(e) => e,
            Ok(other) => panic!("{method} {path}: {other:?}"),
        }
    }

    /// Every documented path reaches its row, with its placeholders; and every row is reached.
    #[test]
    fn every_documented_path_finds_its_row() {
        use AdminHandler as A;
        use ReadHandler as R;
        let ingest = Access::WriteKey(WriteKeyHandler::Ingest);
        type Case = (Method, String, Access, Vec<(&'static str, &'static str)>);
        let mut cases: Vec<Case> = vec![
            (GET, "/health".into(), Access::Public(PublicHandler::Health), vec![]),
            (HEAD, "/health".into(), Access::Public(PublicHandler::Health), vec![]),
            (GET, "/openapi.json".into(), Access::Public(PublicHandler::OpenApi), vec![]),
            (GET, "/v1/sites/acme".into(), Access::Admin(A::GetSite), vec![("site", "acme")]),
            (PUT, "/v1/sites/acme".into(), Access::Admin(A::PutSite), vec![("site", "acme")]),
            (GET, "/v1/sites/acme/spend".into(), Access::Admin(A::GetSpend), vec![("site", "acme")]),
            (POST, "/v1/sites/acme/spend/".into(), Access::Admin(A::PostSpend), vec![("site", "acme")]),
            (DELETE, "/v1/sites/acme/spend/oct-1".into(), Access::Admin(A::DeleteSpend), vec![("id", "oct-1")]),
            (POST, "/v1/sites/acme/rollup".into(), Access::Admin(A::Rollup), vec![("site", "acme")]),
            (POST, "/v1/sites/acme/embed-tokens".into(), Access::Admin(A::MintEmbedToken), vec![]),
            (POST, "/v1/sites/acme/embed-tokens/revoke".into(), Access::Admin(A::RevokeEmbedTokens), vec![]),
            (GET, "/v1/sites/acme/stats".into(), Access::Admin(A::Stats), vec![("site", "acme")]),
            (DELETE, "/v1/sites/acme/accounts/g%3Aacme".into(), Access::Admin(A::EraseAccount), vec![("id", "g:acme")]),
            (DELETE, "/v1/sites/acme/people/u-1".into(), Access::Admin(A::ErasePerson), vec![("id", "u-1")]),
            (GET, "/v1/sites/acme/accounts".into(), Access::Read(R::AccountList), vec![("site", "acme")]),
            (
                GET,
                "/v1/sites/acme/accounts/team%2Falpha%20beta".into(),
                Access::Read(R::Account),
                vec![("site", "acme"), ("id", "team/alpha beta")],
            ),
            // A site id is matched as sent: its syntax is checked after the method (400 `invalid_site`).
            (PUT, "/v1/sites/Bad%20Site".into(), Access::Admin(A::PutSite), vec![("site", "Bad Site")]),
            (GET, "//v1/sites/acme/stats//".into(), Access::Admin(A::Stats), vec![("site", "acme")]),
        ];
        for report in ["budget", "lifecycle", "funnel", "engagement"] {
            let path = format!("/v1/sites/acme/reports/{report}");
            cases.push((GET, path, Access::Read(R::Report), vec![("site", "acme"), ("report", report)]));
        }
        for kind in
            ["batch", "track", "identify", "page", "screen", "group", "alias", "b", "t", "i", "p", "s", "g", "a"]
        {
            cases.push((POST, format!("/v1/{kind}"), ingest, vec![("type", kind)]));
        }
        let mut reached = Vec::new();
        for (method, path, access, params) in cases {
            let (route, matched) = call(method.clone(), &path);
            assert_eq!((&route.method, route.access), (&method, access), "{method} {path}");
            for (name, value) in params {
                assert_eq!(matched.params.get(name), value, "{method} {path}: {{{name}}}");
            }
            reached.push(route.path.to_owned() + " " + route.method.as_ref());
        }
        for route in ROUTES {
            let row = route.path.to_owned() + " " + route.method.as_ref();
            assert!(reached.contains(&row), "no test reaches {row}");
        }
    }

    /// A path the table has, with a method it does not: 405 naming the path's methods.
    #[test]
    fn wrong_methods_answer_405_with_the_path_methods() {
        for (method, path, allowed) in [
            (POST, "/health", "GET"),
            (Method::Options, "/health", "GET"),
            (HEAD, "/openapi.json", "GET"),
            (Method::Options, "/openapi.json", "GET"),
            (GET, "/v1/batch", "POST"),
            (PUT, "/v1/track", "POST"),
            (DELETE, "/v1/sites/x", "GET, PUT"),
            (PUT, "/v1/sites/x/rollup", "POST"),
            (POST, "/v1/sites/x/stats", "GET"),
            (DELETE, "/v1/sites/x/reports/budget", "GET"),
            (Method::Patch, "/v1/sites/x/spend", "GET, POST"),
            (GET, "/v1/sites/x/spend/e-1", "DELETE"),
            (POST, "/v1/sites/x/accounts", "GET"),
            (PUT, "/v1/sites/x/accounts/u-1", "GET, DELETE"),
            (GET, "/v1/sites/x/people/u-1", "DELETE"),
            (GET, "/v1/sites/x/embed-tokens/revoke", "POST"),
            (GET, "/v1/sites/x/embed-tokens", "POST"),
        ] {
            let e = error(method.clone(), path);
            assert_eq!((e.status, e.code), (405, "method_not_allowed"), "{method} {path}");
            assert_eq!(e.message, format!("this route accepts {allowed}"), "{method} {path}");
        }
    }

    /// A path no row has: 404, whatever the method.
    #[test]
    fn unknown_paths_answer_404() {
        for path in [
            "",
            "/",
            "/nope",
            "/health/x",
            "/HEALTH",
            "/openapi",
            "/openapi.json/x",
            "/v1/openapi.json",
            "/v1",
            "/v1/nothing",
            "/v1/batch/x",
            "/v1//batch",
            "/v1/sites",
            "/v1/sites/",
            "/v1/sites/x/bogus",
            "/v1/sites/x/reports",
            "/v1/sites/x/reports/bogus",
            "/v1/sites/x/reports/accounts",
            "/v1/sites/x/spend/e-1/x",
            "/v1/sites/x/accounts/a/b",
            "/v1/sites/x/people",
            "/v1/sites/x/embed-tokens/revoke/x",
        ] {
            for method in [GET, POST, Method::Options] {
                let e = error(method.clone(), path);
                assert_eq!(
                    (e.status, e.code, e.message.as_str()),
                    (404, "not_found", "no such route"),
                    "{method} {path}"
                );
            }
        }
    }

    /// `OPTIONS` is a preflight where a row takes cross-origin calls, answered as the most open row lets in.
    #[test]
    fn preflights_follow_who_may_call() {
        for (path, cross_origin, methods) in [
            ("/v1/batch", CrossOrigin::AnyOrigin, "POST, OPTIONS"),
            ("/v1/p", CrossOrigin::AnyOrigin, "POST, OPTIONS"),
            ("/v1/sites/x/reports/funnel", CrossOrigin::SiteOrigins, "GET, OPTIONS"),
            ("/v1/sites/x/accounts", CrossOrigin::SiteOrigins, "GET, OPTIONS"),
            ("/v1/sites/x/accounts/u-1", CrossOrigin::SiteOrigins, "GET, OPTIONS"),
            ("/v1/sites/x", CrossOrigin::Refused, "GET, PUT, OPTIONS"),
            ("/v1/sites/x/stats", CrossOrigin::Refused, "GET, OPTIONS"),
            ("/v1/sites/x/people/u-1", CrossOrigin::Refused, "DELETE, OPTIONS"),
        ] {
            match resolve(&Method::Options, path) {
                Ok(Resolved::Preflight(got, matched)) => {
                    assert_eq!(got, cross_origin, "{path}");
                    assert_eq!(matched.cors_methods(got), methods, "{path}");
                }
                other => panic!("OPTIONS {path}: {other:?}"),
            }
        }
        // A call's CORS headers name the methods of its own kind of row only.
        let (route, matched) = call(GET, "/v1/sites/x/accounts/u-1");
        assert_eq!(route.access.cross_origin(), Some(CrossOrigin::SiteOrigins));
        assert_eq!(matched.cors_methods(CrossOrigin::SiteOrigins), "GET, OPTIONS");
        assert_eq!(matched.cors_methods(CrossOrigin::Refused), "DELETE, OPTIONS");
    }

    #[test]
    fn segments_are_decoded_one_by_one() {
        assert_eq!(segments("/v1/sites/a%2Fb/accounts/x%20y/"), ["v1", "sites", "a/b", "accounts", "x y"]);
        assert_eq!(segments("/"), [""]);
        // Not UTF-8 once decoded, or not an escape at all: kept as sent.
        assert_eq!(segments("/a/%E9/%zz"), ["a", "%E9", "%zz"]);
    }

    /// No two rows share a method and path; every placeholder is one `accepts` knows; every handler finds
    /// the placeholders it reads in its own path.
    #[test]
    fn the_table_is_well_formed() {
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(a.path.starts_with('/') && !a.path.ends_with('/'), "{}", a.path);
            for b in &ROUTES[i + 1..] {
                assert!(a.method != b.method || a.path != b.path, "{} {} twice", a.method, a.path);
            }
            let names: Vec<&str> = a.path.split('/').filter_map(|p| p.strip_prefix('{')?.strip_suffix('}')).collect();
            assert!(names.iter().all(|n| ["site", "id", "type", "report"].contains(n)), "{}: {names:?}", a.path);
            let needs: &[&str] = match a.access {
                Access::Public(_) => &[],
                Access::WriteKey(_) => &["type"],
                Access::Admin(AdminHandler::DeleteSpend | AdminHandler::EraseAccount | AdminHandler::ErasePerson)
                | Access::Read(ReadHandler::Account) => &["site", "id"],
                Access::Read(ReadHandler::Report) => &["site", "report"],
                Access::Admin(_) | Access::Read(_) => &["site"],
            };
            assert_eq!(names, needs, "{} {}", a.method, a.path);
        }
    }

    /// `{type}` and `{report}` take exactly the names the API docs list.
    #[test]
    fn placeholder_names_are_the_documented_ones() {
        let ingest =
            ["batch", "track", "identify", "page", "screen", "group", "alias", "b", "t", "i", "p", "s", "g", "a"];
        for kind in ingest {
            assert!(accepts("type", kind), "{kind}");
        }
        for kind in ["", "x", "Batch", "tracks", "accounts", "budget", "sites"] {
            assert!(!accepts("type", kind), "{kind}");
        }
        for report in ["budget", "lifecycle", "funnel", "engagement"] {
            assert!(accepts("report", report), "{report}");
        }
        for report in ["", "accounts", "cohorts", "Budget", "batch"] {
            assert!(!accepts("report", report), "{report}");
        }
    }
}
