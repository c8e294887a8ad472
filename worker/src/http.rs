//! Small HTTP helpers: JSON and CSV responses, CORS headers, query strings, the clock.

use crate::error::{ApiError, ApiResult};
use daytwo_shared::time::Timestamp;
use futures_util::StreamExt;
use serde::Serialize;
use worker::{Request, Response};

/// The request's body, refused with `too_large` past `limit` bytes. A body with a `Content-Length` within the
/// limit is read in one call: the runtime frames the body by that length, so it cannot be longer (and reading
/// it as a stream cost about a sixth of an ingest request's CPU in the isolate: a reader, a promise and a
/// microtask per chunk). A body without one (chunked) is read a chunk at a time and refused as soon as it
/// passes the limit, so it is never buffered past it and a client that keeps sending gets its 413 without the
/// Worker waiting for the end.
pub async fn body(req: &mut Request, limit: usize, too_large: impl FnOnce() -> ApiError) -> ApiResult<Vec<u8>> {
    let unreadable = || ApiError::bad_request("unreadable_body", "the request body could not be read");
    let declared = req.headers().get("content-length").ok().flatten().and_then(|l| l.trim().parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    if declared.is_some() {
        let buffer = req.inner().array_buffer().map_err(|_| unreadable())?;
        let buffer = worker::wasm_bindgen_futures::JsFuture::from(buffer).await.map_err(|_| unreadable())?;
        let bytes = worker::js_sys::Uint8Array::new(&buffer).to_vec();
        return if bytes.len() > limit { Err(too_large()) } else { Ok(bytes) };
    }
    let mut stream = req.stream().map_err(|_| unreadable())?;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| unreadable())?;
        if out.len() + chunk.len() > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

pub fn json<T: Serialize>(status: u16, value: &T) -> ApiResult<Response> {
    let text = serde_json::to_string(value).map_err(|e| ApiError::internal("serialise", e))?;
    let r = Response::ok(text).map_err(|e| ApiError::internal("response", e))?.with_status(status);
    r.headers().set("content-type", "application/json; charset=utf-8").map_err(|e| ApiError::internal("header", e))?;
    Ok(r)
}

pub fn csv(text: String, filename: &str) -> ApiResult<Response> {
    let r = Response::ok(text).map_err(|e| ApiError::internal("response", e))?;
    let h = r.headers();
    h.set("content-type", "text/csv; charset=utf-8").map_err(|e| ApiError::internal("header", e))?;
    h.set("content-disposition", &format!("attachment; filename=\"{filename}\""))
        .map_err(|e| ApiError::internal("header", e))?;
    Ok(r)
}

/// The request's `Origin` header, if a browser sent one. `Origin: null` (sandboxed frames, `file:` pages, some
/// redirects) is a browser origin too, not an absent one: it is returned as `"null"`.
pub fn origin(req: &Request) -> Option<String> {
    req.headers().get("origin").ok().flatten().filter(|o| !o.is_empty())
}

/// Adds the CORS headers that let `origin` read this response (never for the opaque `null` origin).
pub fn allow_origin(resp: &mut Response, origin: &str, methods: &str) {
    if origin == "null" {
        return;
    }
    let h = resp.headers_mut();
    let _ = h.set("access-control-allow-origin", origin);
    let _ = h.set("access-control-allow-methods", methods);
    let _ = h.set("access-control-allow-headers", "authorization, content-type, content-encoding");
    let _ = h.set("access-control-max-age", "600");
    let _ = h.append("vary", "Origin");
}

pub fn preflight(origin: &str, methods: &str) -> ApiResult<Response> {
    let mut r = no_content()?;
    allow_origin(&mut r, origin, methods);
    Ok(r)
}

/// 204 with no body (the platform refuses a 204 that has one).
pub fn no_content() -> ApiResult<Response> {
    Ok(Response::empty().map_err(|e| ApiError::internal("response", e))?.with_status(204))
}

/// Decoded query pairs.
///
/// The runtime hands the request's URL over already parsed and serialised by the WHATWG URL parser, so its
/// query is what follows the first `?` up to the first `#` (either character anywhere else is percent-encoded), and
/// `form_urlencoded::parse` is what `url::Url::query_pairs` runs on it. Reading it here instead of through
/// `Request::url()` leaves the whole URL parser (`url`, `idna`) out of the bundle (22 KB gzip).
pub fn query_pairs(req: &Request) -> ApiResult<Vec<(String, String)>> {
    Ok(query_pairs_of(&req.inner().url()))
}

/// The decoded query pairs of a serialised URL.
fn query_pairs_of(url: &str) -> Vec<(String, String)> {
    let before_fragment = url.split_once('#').map_or(url, |(u, _)| u);
    let query = before_fragment.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The standard header a response's phases travel in (`name;dur=ms`, comma-separated; browsers show it).
pub const SERVER_TIMING: &str = "server-timing";

pub fn now() -> Timestamp {
    Timestamp(worker::Date::now().as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::query_pairs_of;

    /// The pairs are exactly what `url::Url::query_pairs` gave for the same serialised URL (what
    /// `Request::url()` parsed before), including empty, repeated, `+`, percent-encoded and invalid UTF-8 parts.
    #[test]
    fn query_pairs_agree_with_the_url_parser() {
        let urls = [
            "https://d.example/v1/sites/acme/reports/budget",
            "https://d.example/v1/sites/acme/reports/budget?",
            "https://d.example/v1/sites/acme/reports/budget?format=csv&as_of=2026-01-31",
            "https://d.example/r?a=1&a=2&&b&=c&d=",
            "https://d.example/r?q=a+b%20c%2Bd&x=%E2%82%AC&bad=%FF%FE&pct=%zz&%",
            "https://d.example/r?q=1#frag",
            "https://d.example/r#frag?not=query",
            "https://d.example/%3Fpath?real=1",
            "https://user:p%3Fw@d.example:8787/r?x=%3F?y",
            "http://127.0.0.1:8787/v1/sites/s/accounts?sort=name&limit=10&band=engaged",
        ];
        for u in urls {
            let parsed = url::Url::parse(u).unwrap_or_else(|e| panic!("{u}: {e}"));
            assert_eq!(parsed.as_str(), u, "test URLs are written as the runtime serialises them");
            let expected: Vec<(String, String)> =
                parsed.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            assert_eq!(query_pairs_of(u), expected, "{u}");
        }
    }
}
