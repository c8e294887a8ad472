//! `GET /openapi.json`: the OpenAPI 3.1 description of the API, served as committed (`docs/openapi.json`).
//!
//! The document is a static asset (`cargo xtask build-assets` copies it to `assets/openapi.json`), not part of
//! the Worker's code: compiled in, its 118 KB were 11.1 KB gzip of the bundle, the Worker's cold start, on every
//! request for a document a few tools read. `wrangler.toml` sends `/openapi.json` to the Worker first
//! (`run_worker_first`), which reads the file through the `ASSETS` binding and answers as it always did: the
//! same bytes, `application/json`, and the headers every answer of the Worker carries.
//!
//! The description is written by hand and kept true by tests: here, that its operations are exactly the rows
//! of [`ROUTES`](crate::routes::ROUTES) (a route added without documentation fails); in the end-to-end suite
//! (`tests/e2e/openapi.rs`), that every real answer of the Worker has a documented status, content type and
//! body; and on demand by schemathesis (`cargo xtask fuzz-api`).

use crate::error::{ApiError, ApiResult};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Env, Response};

/// The static assets' binding (`[assets]` in wrangler.toml).
const ASSETS_BINDING: &str = "ASSETS";
/// The description among the static assets (the binding serves by path; the host is not looked at).
const ASSET_URL: &str = "https://assets.invalid/openapi.json";

/// The description as a response, byte for byte. `application/json` without a charset: JSON is UTF-8 by
/// definition (RFC 8259), and tools that fetch a description compare the media type.
pub async fn response(env: &Env) -> ApiResult<Response> {
    let assets = env.assets(ASSETS_BINDING).map_err(|e| ApiError::internal("assets binding", e))?;
    // The binding's own `fetch(url)`, not `Fetcher::fetch`: that one compiles in the `RequestInit` conversion
    // (every option and `cf` property; with `site_object::call`'s, 4.6 KB gzip of the bundle) even given none.
    let unavailable = |e: JsValue| ApiError::internal("openapi.json asset", e.as_string().unwrap_or_default());
    let fetcher: worker::worker_sys::Fetcher = JsValue::from(assets).unchecked_into();
    let answer = JsFuture::from(fetcher.fetch_with_str(ASSET_URL).map_err(unavailable)?).await.map_err(unavailable)?;
    let mut asset = Response::from(answer.unchecked_into::<worker::web_sys::Response>());
    if asset.status_code() != 200 {
        // Not built (`cargo xtask build-assets`) or not deployed: the description is missing, not the route.
        return Err(ApiError::internal("openapi.json asset", asset.status_code()));
    }
    let bytes = asset.bytes().await.map_err(|e| ApiError::internal("openapi.json asset", e))?;
    let r = Response::from_bytes(bytes).map_err(|e| ApiError::internal("response", e))?;
    r.headers().set("content-type", "application/json").map_err(|e| ApiError::internal("header", e))?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use crate::routes::ROUTES;
    use serde_json::Value;
    use std::collections::BTreeSet;

    /// The committed description, which `cargo xtask build-assets` copies into the assets.
    const DOCUMENT: &str = include_str!("../../docs/openapi.json");

    fn document() -> Value {
        serde_json::from_str(DOCUMENT).unwrap_or_else(|e| panic!("docs/openapi.json is not JSON: {e}"))
    }

    /// `(METHOD, path)` of every operation the description has.
    fn operations(doc: &Value) -> BTreeSet<(String, String)> {
        let paths = doc["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .expect("path item")
                    .keys()
                    .filter(|k| HTTP_METHODS.contains(&k.as_str()))
                    .map(move |method| (method.to_ascii_uppercase(), path.clone()))
            })
            .collect()
    }

    const HTTP_METHODS: [&str; 8] = ["get", "head", "post", "put", "patch", "delete", "options", "trace"];

    /// Every row of the route table is an operation of the description, and nothing else is: a route added
    /// (or removed) without its documentation fails here.
    #[test]
    fn the_description_has_exactly_the_routes_of_the_table() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let table: BTreeSet<(String, String)> =
            ROUTES.iter().map(|r| (r.method.as_ref().to_owned(), r.path.to_owned())).collect();
        assert_eq!(operations(&doc), table);
    }

    /// Each operation declares every placeholder of its path (at path or operation level), a security rule,
    /// and only 2xx-5xx statuses, each with a description.
    #[test]
    fn every_operation_is_complete() {
        let doc = document();
        let params = doc["components"]["parameters"].as_object().expect("components.parameters");
        let resolve = |p: &Value| -> Value {
            match p["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/parameters/")) {
                Some(name) => params.get(name).cloned().unwrap_or_else(|| panic!("no parameter {name}")),
                None => p.clone(),
            }
        };
        for (path, item) in doc["paths"].as_object().expect("paths") {
            let placeholders: BTreeSet<&str> =
                path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
            for (method, op) in item.as_object().expect("path item") {
                if !HTTP_METHODS.contains(&method.as_str()) {
                    continue;
                }
                let declared: BTreeSet<String> = item["parameters"]
                    .as_array()
                    .into_iter()
                    .chain(op["parameters"].as_array())
                    .flatten()
                    .map(resolve)
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
                    .collect();
                let wanted: BTreeSet<String> = placeholders.iter().map(|s| (*s).to_owned()).collect();
                assert_eq!(declared, wanted, "{method} {path}: path parameters");
                assert!(op["security"].is_array(), "{method} {path}: no security rule");
                let responses = op["responses"].as_object().expect("responses");
                assert!(!responses.is_empty(), "{method} {path}: no responses");
                for (status, answer) in responses {
                    assert!(status.len() == 3 && ('2'..='5').contains(&status.chars().next().unwrap_or('0')));
                    let answer = match answer["$ref"].as_str() {
                        Some(r) => &doc["components"]["responses"][r.trim_start_matches("#/components/responses/")],
                        None => answer,
                    };
                    assert!(answer["description"].is_string(), "{method} {path} {status}: no description");
                }
            }
        }
    }

    /// Every `$ref` points at something the document holds.
    #[test]
    fn every_reference_resolves() {
        fn walk(v: &Value, doc: &Value, refs: &mut usize) {
            match v {
                Value::Object(o) => {
                    if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external reference {r}"));
                        assert!(doc.pointer(pointer).is_some(), "dangling reference {r}");
                        *refs += 1;
                    }
                    o.values().for_each(|x| walk(x, doc, refs));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, doc, refs)),
                _ => {}
            }
        }
        let doc = document();
        let mut refs = 0;
        walk(&doc, &doc, &mut refs);
        assert!(refs > 50, "{refs} references");
    }
}
