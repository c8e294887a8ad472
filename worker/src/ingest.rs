//! Segment-compatible ingest (docs/design.md §4): validate through `shared`, then one KV write per accepted request
//! (and a read of the write key's record when this isolate has not read it in the last 30 s, `key_cache`).

use crate::auth::{basic_user, random_hex};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, origin};
use crate::queues::{self, IngestSink};
use crate::store::{self, Store};
use daytwo_shared::message::{
    IngestContext, IngestError, KeyKind, MAX_BATCH_BYTES, MessageType, Receipt, parse_json, validate_body,
};
use daytwo_shared::site_rules::origin_may_send;
use serde_json::json;
use worker::{Request, Response};

/// Decodes `Content-Encoding: gzip` (some SDKs compress), refusing anything that inflates past the limit.
fn decode(body: Vec<u8>, encoding: Option<&str>) -> ApiResult<Vec<u8>> {
    match encoding.map(|e| e.trim().to_ascii_lowercase()) {
        None => Ok(body),
        Some(e) if e.is_empty() || e == "identity" => Ok(body),
        Some(e) if e == "gzip" || e == "x-gzip" => {
            let out = crate::gzip::decode(&body, MAX_BATCH_BYTES + 1)
                .map_err(|_| ApiError::bad_request("invalid_encoding", "the gzip body cannot be decoded"))?;
            if out.len() > MAX_BATCH_BYTES {
                return Err(IngestError::BodyTooLarge { limit: MAX_BATCH_BYTES }.into());
            }
            Ok(out)
        }
        Some(other) => {
            Err(ApiError::new(415, "unsupported_encoding", format!("Content-Encoding {other} is not supported")))
        }
    }
}

/// `POST /v1/{batch,track,…}` and analytics-next's `/v1/{b,t,…}`.
pub async fn handle(mut req: Request, store: &Store, sink: &IngestSink, path_segment: &str) -> ApiResult<Response> {
    let path_type = MessageType::from_path_segment(path_segment);
    let browser_origin = origin(&req);
    let basic_key = basic_user(&req)?;
    let encoding = req.headers().get("content-encoding").ok().flatten();
    // Twice the limit on the wire: a batch just under it may arrive with whitespace `parse_json` accepts.
    let raw = http::body(&mut req, MAX_BATCH_BYTES * 2, || IngestError::BodyTooLarge { limit: MAX_BATCH_BYTES }.into())
        .await?;
    let body = decode(raw, encoding.as_deref())?;
    let parsed = parse_json(&body)?;
    let key = match (basic_key, parsed.write_key()) {
        (Some(k), _) => k,
        (None, Some(k)) => k.to_owned(),
        (None, None) => {
            return Err(ApiError::unauthorized(
                "missing_write_key",
                "send the write key as Basic auth user or as writeKey",
            ));
        }
    };
    let now = http::now();
    let site = crate::key_cache::ingest_record(store, &key, now)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid_write_key", "unknown write key"))?;
    if browser_origin.is_some() && site.via == KeyKind::Secret {
        // A secret key in a browser is a leaked one: refused, so it is noticed before it is copied further.
        return Err(ApiError::forbidden(
            "secret_key_in_browser",
            "the secret write key is for servers; pages send events with the public write key",
        ));
    }
    if let Some(o) = &browser_origin
        && !origin_may_send(&site.allowed_origins, o)
    {
        return Err(ApiError::forbidden("origin_not_allowed", format!("origin {o} may not send events to this site")));
    }
    let ctx = IngestContext {
        receipt: Receipt::Live(now),
        email_salt: &site.email_salt,
        currency: &site.currency,
        settings: &site.ingest,
        path_type,
        via: site.via,
    };
    let batch = validate_body(parsed, body.len(), &ctx)?;
    match sink {
        IngestSink::Kv => {
            let text = serde_json::to_string(&batch.messages).map_err(|e| ApiError::internal("serialise batch", e))?;
            let key = store::raw_batch_key(&site.site, now, &random_hex(6)?, text.len());
            store.put_text(&key, text, Some(store::RAW_TTL_SECONDS)).await?;
        }
        IngestSink::Queue(queue) => queues::enqueue(queue, &site.site, batch.messages).await?,
    }
    // CORS headers are added by the route (`lib.rs`), to this answer and to errors alike.
    http::json(200, &json!({"success": true}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn refused(body: Vec<u8>, encoding: &str) -> (u16, &'static str) {
        match decode(body, Some(encoding)) {
            Ok(out) => panic!("{encoding}: accepted {} bytes", out.len()),
            Err(e) => (e.status, e.code),
        }
    }

    #[test]
    fn gzip_bodies_round_trip() {
        let body = br#"{"batch":[{"type":"track","userId":"u","event":"Logged In"}]}"#.to_vec();
        for encoding in ["gzip", "x-gzip", " GZip "] {
            assert_eq!(decode(gzip(&body), Some(encoding)).unwrap(), body, "{encoding}");
        }
        // No encoding, or the identity one: the body as sent.
        for encoding in [None, Some(""), Some("identity"), Some("Identity")] {
            assert_eq!(decode(body.clone(), encoding).unwrap(), body, "{encoding:?}");
        }
    }

    #[test]
    fn corrupt_gzip_is_a_bad_request() {
        let whole = gzip(&[b'x'; 10_000]);
        for corrupt in [b"definitely not gzip".to_vec(), whole[..whole.len() / 2].to_vec(), Vec::new()] {
            assert_eq!(refused(corrupt, "gzip"), (400, "invalid_encoding"));
        }
    }

    /// A body may inflate to the batch limit and not a byte more, however small it is on the wire.
    #[test]
    fn gzip_inflates_up_to_the_batch_limit() {
        let at_limit = gzip(&vec![b' '; MAX_BATCH_BYTES]);
        assert!(at_limit.len() < 10_000, "{} bytes compressed", at_limit.len());
        assert_eq!(decode(at_limit, Some("gzip")).unwrap().len(), MAX_BATCH_BYTES);
        assert_eq!(refused(gzip(&vec![b' '; MAX_BATCH_BYTES + 1]), "gzip"), (413, "batch_too_large"));
        assert_eq!(refused(gzip(&vec![b' '; 3_000_000]), "gzip"), (413, "batch_too_large"));
    }

    #[test]
    fn other_encodings_are_unsupported() {
        for encoding in ["br", "deflate", "gzip, br", "compress"] {
            assert_eq!(refused(b"{}".to_vec(), encoding), (415, "unsupported_encoding"), "{encoding}");
        }
        let e = decode(Vec::new(), Some("br")).err().unwrap();
        assert_eq!(e.message, "Content-Encoding br is not supported");
    }
}
