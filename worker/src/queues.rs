//! Cloudflare Queues: ingest through a queue (wrangler.toml's `INGEST = "queue"`) and the cron's fan-out.
//!
//! - **Events.** The ingest handler validates a request as always, then sends its messages to `daytwo-events`
//!   in chunks under Queues' 128 KB message limit, and answers 200 once the queue has them (no KV write on the
//!   request path). The consumer receives up to 100 queue messages at a time and writes, per site, one raw KV key
//!   `raw/{site}/{day}/{ms}-{rand}` (split only past [`MAX_RAW_VALUE_BYTES`]), the same keys direct ingest
//!   writes, so the rollup and reports do not know which path an event took. A consumer batch that fails is
//!   redelivered whole; a redelivery after a partial write writes some messages twice, and the rollup's
//!   `messageId` dedup counts them once (as it does a client's retry).
//! - **Rollups.** The cron sends one `daytwo-rollups` message per site; the consumer (`max_batch_size = 1`)
//!   rolls one site up per invocation, so one large site cannot starve the rest or exhaust one invocation's
//!   1,000 KV operations, and a run that stops at its limit (`more`) sends its site again.
//!
//! Bodies travel as JSON strings (a `serde_json::Value` sent to a queue arrives as `{}`: TOOLCHAIN).

use crate::auth::random_hex;
use crate::error::{ApiError, ApiResult};
use crate::store::{self, Store};
use crate::{http, rollup};
use daytwo_shared::message::Message;
use serde::{Deserialize, Serialize};
use worker::{Env, MessageBatch, Queue};

pub const EVENTS_QUEUE: &str = "daytwo-events";
pub const ROLLUPS_QUEUE: &str = "daytwo-rollups";
/// Largest queue message body we send: under Queues' 128 KB limit with room for the envelope.
const MAX_QUEUE_BODY_BYTES: usize = 96 * 1024;
/// Largest raw value the consumer writes (a consumer batch of 100 full messages is ~10 MB).
const MAX_RAW_VALUE_BYTES: usize = 4 * 1024 * 1024;

/// Where accepted events go.
pub enum IngestSink {
    /// One raw KV key per request.
    Kv,
    /// The `EVENTS` queue.
    Queue(Queue),
}

impl IngestSink {
    /// Queue when wrangler.toml (or the local env file) says `INGEST = "queue"` and the binding exists.
    pub fn from_env(env: &Env) -> ApiResult<IngestSink> {
        let mode = env.var("INGEST").map(|v| v.to_string()).unwrap_or_default();
        if mode.trim() != "queue" {
            return Ok(IngestSink::Kv);
        }
        env.queue("EVENTS").map(IngestSink::Queue).map_err(|e| ApiError::internal("EVENTS queue binding", e))
    }
}

/// One queue message: a slice of one request's validated messages.
#[derive(Serialize, Deserialize)]
struct QueuedEvents {
    site: String,
    messages: Vec<Message>,
}

/// Splits messages into queue bodies under the size limit (a message is at most 32 KB, so each fits).
fn chunk_bodies(site: &str, messages: Vec<Message>) -> ApiResult<Vec<String>> {
    let mut bodies = Vec::new();
    let mut chunk: Vec<Message> = Vec::new();
    let mut size = 0;
    let flush = |chunk: &mut Vec<Message>, bodies: &mut Vec<String>| -> ApiResult<()> {
        if !chunk.is_empty() {
            let body = QueuedEvents { site: site.to_owned(), messages: std::mem::take(chunk) };
            bodies.push(serde_json::to_string(&body).map_err(|e| ApiError::internal("serialise queue body", e))?);
        }
        Ok(())
    };
    for m in messages {
        let len = serde_json::to_string(&m).map(|s| s.len()).unwrap_or(0) + 1;
        if size + len > MAX_QUEUE_BODY_BYTES {
            flush(&mut chunk, &mut bodies)?;
            size = 0;
        }
        size += len;
        chunk.push(m);
    }
    flush(&mut chunk, &mut bodies)?;
    Ok(bodies)
}

/// Sends a request's validated messages to the events queue. An error leaves the client to retry (Segment's
/// libraries retry any 5xx); chunks already sent are then counted once by the rollup's dedup.
pub async fn enqueue(queue: &Queue, site: &str, messages: Vec<Message>) -> ApiResult<()> {
    let bodies = chunk_bodies(site, messages)?;
    // Queues takes at most 100 messages and 256 KB per send_batch: two bodies of up to 96 KB per call.
    for pair in bodies.chunks(2) {
        queue.send_batch(pair.to_vec()).await.map_err(|e| ApiError::internal("events queue", e))?;
    }
    Ok(())
}

/// The `daytwo-events` consumer: one raw key per site per consumer batch.
pub async fn consume_events(batch: MessageBatch<String>, store: &Store) -> worker::Result<()> {
    let mut by_site: std::collections::BTreeMap<String, Vec<Message>> = std::collections::BTreeMap::new();
    for m in batch.messages()? {
        match serde_json::from_str::<QueuedEvents>(m.body()) {
            Ok(q) => by_site.entry(q.site).or_default().extend(q.messages),
            // Only this Worker sends to the queue; an unreadable body is logged, never retried forever.
            Err(e) => worker::console_error!("unreadable {EVENTS_QUEUE} message: {e}"),
        }
    }
    for (site, messages) in by_site {
        let mut parts: Vec<Vec<Message>> = vec![Vec::new()];
        let mut size = 0;
        for m in messages {
            let len = serde_json::to_string(&m).map(|s| s.len()).unwrap_or(0) + 1;
            if size + len > MAX_RAW_VALUE_BYTES && parts.last().is_some_and(|p| !p.is_empty()) {
                parts.push(Vec::new());
                size = 0;
            }
            size += len;
            if let Some(p) = parts.last_mut() {
                p.push(m);
            }
        }
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            let text = serde_json::to_string(&part).map_err(|e| worker::Error::RustError(e.to_string()))?;
            let key =
                store::raw_key(&site, http::now(), &random_hex(6).map_err(|e| worker::Error::RustError(e.message))?);
            store
                .put_text(&key, text, Some(store::RAW_TTL_SECONDS))
                .await
                .map_err(|e| worker::Error::RustError(e.message))?;
        }
    }
    batch.ack_all();
    Ok(())
}

/// The cron: one rollup message per site, or (no `ROLLUPS` binding) every site in this invocation.
pub async fn fan_out(env: &Env, store: &Store) {
    let Ok(keys) = store.list_all("site/").await else { return };
    let sites: Vec<String> = keys.iter().map(|k| k.trim_start_matches("site/").to_owned()).collect();
    match env.queue("ROLLUPS") {
        Ok(queue) => {
            for chunk in sites.chunks(100) {
                if let Err(e) = queue.send_batch(chunk.to_vec()).await {
                    worker::console_error!("fan-out to {ROLLUPS_QUEUE} failed: {e}");
                }
            }
        }
        Err(_) => {
            for site in sites {
                roll_up_site(None, store, &site).await;
            }
        }
    }
}

/// The `daytwo-rollups` consumer: rolls each named site up; a run that stopped at its limit goes back in
/// the queue for the next invocation.
pub async fn consume_rollups(batch: MessageBatch<String>, env: &Env, store: &Store) -> worker::Result<()> {
    let queue = env.queue("ROLLUPS").ok();
    for m in batch.messages()? {
        roll_up_site(queue.as_ref(), store, m.body()).await;
    }
    batch.ack_all();
    Ok(())
}

async fn roll_up_site(queue: Option<&Queue>, store: &Store, site_id: &str) {
    match store.site(site_id).await {
        // Failures are logged and recorded for reports and stats by `run_and_record`.
        Ok(Some(site)) => {
            if let Ok(outcome) = rollup::run_and_record(store, &site, http::now()).await
                && outcome.more
                && let Some(q) = queue
                && let Err(e) = q.send(site_id.to_owned()).await
            {
                worker::console_error!("re-enqueueing the rollup of {site_id} failed: {e}");
            }
        }
        Ok(None) => {}
        Err(e) => worker::console_error!("reading site {site_id} failed: {}", e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(i: usize, pad: usize) -> Message {
        serde_json::from_value(serde_json::json!({
            "type": "track", "messageId": format!("m{i}"), "userId": "u", "event": "x",
            "timestamp": "2026-10-01T00:00:00Z", "receivedAt": "2026-10-01T00:00:00Z",
            "properties": {"pad": "x".repeat(pad)}
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A 500 KB request becomes several bodies, each under the limit, holding every message once, in order.
    #[test]
    fn bodies_stay_under_the_queue_limit_and_keep_every_message() {
        let messages: Vec<Message> = (0..40).map(|i| message(i, 12_000)).collect();
        let bodies = chunk_bodies("s", messages.clone()).unwrap_or_else(|e| panic!("{}", e.message));
        assert!(bodies.len() >= 5, "{} bodies", bodies.len());
        let mut back = Vec::new();
        for b in &bodies {
            assert!(b.len() <= MAX_QUEUE_BODY_BYTES + 64, "{}", b.len());
            let q: QueuedEvents = serde_json::from_str(b).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(q.site, "s");
            back.extend(q.messages);
        }
        assert_eq!(back, messages);
        assert!(chunk_bodies("s", Vec::new()).unwrap_or_else(|e| panic!("{}", e.message)).is_empty());
    }
}
