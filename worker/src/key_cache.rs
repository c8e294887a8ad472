//! Write-key records this isolate read lately, so that ingest, whose one KV read per request is the record of
//! the key it was sent with, reads it once per key per [`RECORD_TTL_MS`] instead of on every request.
//!
//! Why this staleness is acceptable: KV itself serves a read from its edge cache for up to 60 s after a write
//! elsewhere (Cloudflare documents changes taking up to 60 s to reach other locations), so a site's change
//! (a rotated key, new allowed origins, new ingest settings) already reaches ingest everywhere only within
//! about a minute. An isolate that keeps a record 30 s more adds at most that. The isolate that carries the
//! admin change forgets the site's records at once ([`forget_site`], called by the admin route), which is the
//! only isolate there is in `wrangler dev`; a record read while a change to its site was under way is not
//! kept. Unknown keys are never kept: a new site's key works at once, and a flood of made-up keys
//! costs reads as before (they never reach KV unless they fit a key's format, `Store::ingest_record`).

use crate::error::ApiResult;
use crate::store::{IngestRecord, Store};
use daytwo_shared::time::Timestamp;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// How long an isolate keeps a write key's record.
pub const RECORD_TTL_MS: i64 = 30_000;

/// At most this many records are kept; past it the cache starts over (an isolate serves a handful of sites).
const MAX_RECORDS: usize = 1_024;

thread_local! {
    /// Write key → (when read, its record), shared with the requests that use it rather than copied to each.
    static RECORDS: RefCell<HashMap<String, (Timestamp, Rc<IngestRecord>)>> = RefCell::new(HashMap::new());
    /// Site → when this isolate last saw its record change: a record read since then is not kept.
    static CHANGED: RefCell<HashMap<String, Timestamp>> = RefCell::new(HashMap::new());
}

/// The record of `write_key` as KV held it at most [`RECORD_TTL_MS`] ago.
pub async fn ingest_record(store: &Store, write_key: &str, now: Timestamp) -> ApiResult<Option<Rc<IngestRecord>>> {
    let kept = RECORDS.with(|r| {
        let r = r.borrow();
        r.get(write_key).filter(|(at, _)| (0..RECORD_TTL_MS).contains(&(now.0 - at.0))).map(|(_, rec)| Rc::clone(rec))
    });
    if kept.is_some() {
        return Ok(kept);
    }
    let record = store.ingest_record(write_key).await?.map(Rc::new);
    if let Some(rec) = &record {
        // The clock moves only across I/O: a change stamped with this read's own time may have come after it.
        let changed_since = CHANGED.with(|c| c.borrow().get(&rec.site).is_some_and(|at| *at >= now));
        if !changed_since {
            RECORDS.with(|r| {
                let mut r = r.borrow_mut();
                if r.len() >= MAX_RECORDS {
                    r.clear();
                }
                r.insert(write_key.to_owned(), (now, Rc::clone(rec)));
            });
        }
    }
    Ok(record)
}

/// Forgets the kept records of `site`, whose keys or ingest settings are changing through this isolate (called
/// once the change is answered, whatever its outcome).
pub fn forget_site(site: &str, now: Timestamp) {
    RECORDS.with(|r| r.borrow_mut().retain(|_, (_, rec)| rec.site != site));
    CHANGED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_RECORDS {
            c.retain(|_, at| now.0 - at.0 < RECORD_TTL_MS);
        }
        c.insert(site.to_owned(), now);
    });
}
