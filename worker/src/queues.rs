//! Cloudflare Queues: ingest through a queue (wrangler.toml's `INGEST = "queue"`) and the cron's fan-out.
//!
//! - **Events.** The ingest handler validates a request as always, then sends its messages to `daytwo-events`
//!   in chunks under Queues' 128 KB message limit, and answers 200 once the queue has them (no KV write on the
//!   request path). The consumer receives up to 100 queue messages at a time and writes, per site, one raw KV key
//!   `raw/{site}/{day}/{ms}-{rand}-{bytes}` (split only past [`MAX_RAW_VALUE_BYTES`]), the same keys direct ingest
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
use crate::http;
use crate::store::{self, Store};
use daytwo_shared::message::Message;
use serde::Deserialize;
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
#[derive(Deserialize)]
struct QueuedEvents {
    site: String,
    messages: Vec<Message>,
}

/// Serialises each message once and groups the JSON texts into runs whose joined size stays under `limit`
/// (a run holds at least one message; a message is at most 32 KB). The one splitting rule for queue bodies
/// and raw values.
fn json_runs(messages: &[Message], limit: usize) -> ApiResult<Vec<Vec<String>>> {
    let mut runs: Vec<Vec<String>> = Vec::new();
    let mut size = 0;
    for m in messages {
        let text = serde_json::to_string(m).map_err(|e| ApiError::internal("serialise message", e))?;
        match runs.last_mut() {
            Some(run) if size + text.len() < limit => {
                size += text.len() + 1;
                run.push(text);
            }
            _ => {
                size = text.len() + 1;
                runs.push(vec![text]);
            }
        }
    }
    Ok(runs)
}

/// The queue bodies of a request: `{"site":…,"messages":[…]}`, each under the queue's message limit.
fn chunk_bodies(site: &str, messages: &[Message]) -> ApiResult<Vec<String>> {
    let site = serde_json::to_string(site).map_err(|e| ApiError::internal("serialise site", e))?;
    Ok(json_runs(messages, MAX_QUEUE_BODY_BYTES)?
        .into_iter()
        .map(|run| format!("{{\"site\":{site},\"messages\":[{}]}}", run.join(",")))
        .collect())
}

/// Sends a request's validated messages to the events queue. An error leaves the client to retry (Segment's
/// libraries retry any 5xx); chunks already sent are then counted once by the rollup's dedup.
pub async fn enqueue(queue: &Queue, site: &str, messages: Vec<Message>) -> ApiResult<()> {
    let bodies = chunk_bodies(site, &messages)?;
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
        let runs = json_runs(&messages, MAX_RAW_VALUE_BYTES).map_err(|e| worker::Error::RustError(e.message))?;
        for run in runs {
            let text = format!("[{}]", run.join(","));
            let random = random_hex(6).map_err(|e| worker::Error::RustError(e.message))?;
            let key = store::raw_batch_key(&site, http::now(), &random, text.len());
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
    let Ok(sites) = store.site_ids().await else { return };
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
                roll_up_site(env, None, store, &site).await;
            }
        }
    }
}

/// The `daytwo-rollups` consumer: rolls each named site up; a run that stopped at its limit goes back in
/// the queue for the next invocation.
pub async fn consume_rollups(batch: MessageBatch<String>, env: &Env, store: &Store) -> worker::Result<()> {
    let queue = env.queue("ROLLUPS").ok();
    for m in batch.messages()? {
        roll_up_site(env, queue.as_ref(), store, m.body()).await;
    }
    batch.ack_all();
    Ok(())
}

async fn roll_up_site(env: &Env, queue: Option<&Queue>, store: &Store, site_id: &str) {
    match store.site(site_id).await {
        // Failures are logged and recorded for reports and stats by the site's object.
        Ok(Some(site)) => {
            if crate::site_object::roll_up(env, store, &site).await
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
        let bodies = chunk_bodies("s", &messages).unwrap_or_else(|e| panic!("{}", e.message));
        assert!(bodies.len() >= 5, "{} bodies", bodies.len());
        let mut back = Vec::new();
        for b in &bodies {
            assert!(b.len() <= MAX_QUEUE_BODY_BYTES + 64, "{}", b.len());
            let q: QueuedEvents = serde_json::from_str(b).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(q.site, "s");
            back.extend(q.messages);
        }
        assert_eq!(back, messages);
        assert!(chunk_bodies("s", &[]).unwrap_or_else(|e| panic!("{}", e.message)).is_empty());
        // The raw values the consumer writes split by the same rule and read back whole.
        let runs = json_runs(&messages, 100_000).unwrap_or_else(|e| panic!("{}", e.message));
        assert!(runs.len() >= 5 && runs.iter().all(|r| r.iter().map(String::len).sum::<usize>() < 100_000));
        let back: Vec<Message> = runs
            .iter()
            .flat_map(|r| serde_json::from_str::<Vec<Message>>(&format!("[{}]", r.join(","))).unwrap_or_default())
            .collect();
        assert_eq!(back, messages);
    }
}
