//! `daytwo import`: sends NDJSON event files and a spend CSV to a running Worker through its public API, as an
//! SDK and an admin would (Segment batches with Basic auth; spend as `text/csv`).
//!
//! A file is not a live request: each message's time is resolved the file's way (as `daytwo report` does) and
//! sent as its final `timestamp`, without the `sentAt`/`receivedAt` that would make the Worker correct it
//! again against today's clock ([`daytwo_shared::message::prepare_replay`]). So what the Worker stores equals
//! what `daytwo report` computes from the same files.

use crate::input;
use daytwo_shared::config::IngestSettings;
use daytwo_shared::message::prepare_replay;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug)]
pub struct ImportArgs {
    pub url: String,
    pub write_key: String,
    pub events: Vec<PathBuf>,
    pub spend: Option<PathBuf>,
    pub site: Option<String>,
    pub admin_token: Option<String>,
    pub batch_size: usize,
}

/// Stays well under Segment's 500 KB batch limit.
const MAX_BATCH_BYTES: usize = 400 * 1024;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn basic(key: &str) -> String {
    use std::fmt::Write;
    // RFC 4648 base64 of "key:"; written out to keep the CLI's dependencies small.
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{key}:").into_bytes();
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let _ = out.write_char(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

/// POSTs with retries on network errors and 5xx (as Segment SDKs do); 4xx is final.
fn post(agent: &ureq::Agent, url: &str, auth: &str, content_type: &str, body: &str) -> Result<String, String> {
    let mut delay = Duration::from_millis(200);
    for attempt in 1..=5 {
        let res = agent.post(url).header("authorization", auth).header("content-type", content_type).send(body);
        match res {
            Ok(mut r) => {
                let status = r.status().as_u16();
                let text = r.body_mut().read_to_string().unwrap_or_default();
                if status < 300 {
                    return Ok(text);
                }
                if status < 500 || attempt == 5 {
                    return Err(format!("{url} answered {status}: {text}"));
                }
            }
            Err(e) if attempt == 5 => return Err(format!("{url}: {e}")),
            Err(_) => {}
        }
        std::thread::sleep(delay);
        delay *= 2;
    }
    Err(format!("{url}: gave up"))
}

pub fn run(a: &ImportArgs) -> Result<(), String> {
    let agent = agent();
    let base = a.url.trim_end_matches('/');
    if !a.events.is_empty() {
        if let Some(note) = public_key_note(&a.write_key) {
            eprintln!("{note}");
        }
        let auth = basic(&a.write_key);
        let skew_hours = IngestSettings::default().max_clock_skew_hours;
        let (mut batch, mut bytes, mut sent, mut requests) = (Vec::<Value>::new(), 0usize, 0u64, 0u64);
        let mut flush = |batch: &mut Vec<Value>, bytes: &mut usize| -> Result<(), String> {
            if batch.is_empty() {
                return Ok(());
            }
            let body = json!({"batch": std::mem::take(batch)}).to_string();
            *bytes = 0;
            post(&agent, &format!("{base}/v1/batch"), &auth, "application/json", &body)?;
            requests += 1;
            Ok(())
        };
        input::for_each_line(&a.events, |path, n, line| {
            let at = || format!("{}: line {n}", input::display(path));
            let v: Value = serde_json::from_str(line).map_err(|e| format!("{}: {e}", at()))?;
            let items = prepare_replay(v, skew_hours).map_err(|e| format!("{}: {e} ({})", at(), e.code()))?;
            for item in items {
                let size = item.to_string().len();
                if !batch.is_empty() && (batch.len() >= a.batch_size || bytes + size > MAX_BATCH_BYTES) {
                    flush(&mut batch, &mut bytes)?;
                }
                bytes += size;
                batch.push(item);
                sent += 1;
            }
            Ok(())
        })?;
        flush(&mut batch, &mut bytes)?;
        println!("imported {sent} messages in {requests} requests");
    }
    if let Some(path) = &a.spend {
        let (Some(site), Some(token)) = (&a.site, &a.admin_token) else {
            return Err("importing spend needs --site and --admin-token".into());
        };
        let csv = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let out = post(&agent, &format!("{base}/v1/sites/{site}/spend"), &format!("Bearer {token}"), "text/csv", &csv)?;
        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        println!("spend: stored {} entries (ledger now {})", v["stored"], v["ledger_size"]);
    }
    Ok(())
}

/// A file imported with the public write key counts as sent from a browser: its revenue shows as the public
/// key's, and a site that trusts only its secret key leaves its purchases out.
fn public_key_note(write_key: &str) -> Option<String> {
    write_key.starts_with("wk_").then(|| {
        "note: importing with the public write key (wk_…): the Worker marks these events as sent by the public \
         key (the budget report's public_key_revenue_minor; not counted where settings.trust.\
         lifecycle_events_need_secret_key is set). Give the site's secret key (sk_…) for your own files."
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::{basic, public_key_note};

    #[test]
    fn importing_with_the_public_key_says_what_it_means() {
        assert!(public_key_note("wk_0123").is_some_and(|n| n.contains("sk_")));
        assert_eq!(public_key_note("sk_0123"), None);
    }

    #[test]
    fn basic_auth_is_rfc_base64() {
        assert_eq!(basic("wk_1"), "Basic d2tfMTo=");
        assert_eq!(basic("ab"), "Basic YWI6");
        assert_eq!(basic("abcd"), "Basic YWJjZDo=");
    }
}
