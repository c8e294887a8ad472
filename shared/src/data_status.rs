//! Whether a report's figures include every accepted event, and if not, why: `data_status` on every report.
//!
//! A report is computed from the rolled-up state plus the raw batches accepted since the last rollup (the
//! tail). It is complete when every pending batch was folded in and every one could be read. A failed rollup
//! does not by itself make a report incomplete (its tail may still cover everything), but it is always shown,
//! since the tail then grows until the rollup works again. An executive must never read partial figures
//! without a notice, so the notice's wording is decided here, once, for the Worker, the CLI and the widget.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The outcome of the last rollup of a site, as stored by the shell after each run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollupRun {
    /// When the run ended.
    pub at: Timestamp,
    /// `None` when it stored its result; else what stopped it (a run that fails stores nothing).
    pub error: Option<String>,
    /// Raw batches still waiting after the run (it stops at its per-run limit; the next run continues).
    #[serde(default)]
    pub more: bool,
}

/// `data_status` of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataStatus {
    /// Every accepted event is in the figures.
    pub complete: bool,
    /// Receive time (RFC 3339) of the newest batch in the rolled-up state (`null` before the first rollup).
    pub rolled_up_to: Option<String>,
    /// When the batches accepted since the rollup were listed (RFC 3339; `null` offline). `complete` speaks of
    /// the batches accepted before then: a site's reports share one listing for a few seconds, and KV lists a
    /// new batch within about a minute of its write.
    #[serde(default)]
    pub listed_at: Option<String>,
    /// Accepted batches not yet rolled up.
    pub pending_batches: u64,
    /// How many of those the report folded in itself.
    pub pending_included: u64,
    /// Stored batches that could not be read (each is left out of the figures).
    pub unreadable_batches: u64,
    /// The last rollup's error, if it failed.
    pub last_rollup_error: Option<String>,
    /// When the last rollup ran, RFC 3339 (`null` before the first).
    pub last_rollup_at: Option<String>,
    /// A sentence for readers when something is missing or the rollup is failing; `null` otherwise.
    pub notice: Option<String>,
}

impl DataStatus {
    /// A report computed from a complete source with no rollup (the CLI over files).
    pub fn offline() -> DataStatus {
        DataStatus::new(None, 0, 0, 0, None)
    }

    pub fn new(
        rolled_up_to: Option<Timestamp>,
        pending_batches: u64,
        pending_included: u64,
        unreadable_batches: u64,
        last_run: Option<&RollupRun>,
    ) -> DataStatus {
        let pending_included = pending_included.min(pending_batches);
        let complete = pending_included == pending_batches && unreadable_batches == 0;
        let last_rollup_error = last_run.and_then(|r| r.error.clone());
        let mut parts = Vec::new();
        if pending_included < pending_batches {
            parts.push(format!(
                "These figures are incomplete: {} of {} recently received event batches are not included yet.",
                pending_batches - pending_included,
                pending_batches
            ));
        }
        if unreadable_batches > 0 {
            parts.push(format!("{unreadable_batches} stored event batches could not be read and are left out."));
        }
        if let Some(e) = &last_rollup_error {
            parts.push(format!("The last rollup failed ({e}); recent events wait until it succeeds."));
        }
        DataStatus {
            complete,
            rolled_up_to: rolled_up_to.map(Timestamp::to_rfc3339),
            listed_at: None,
            pending_batches,
            pending_included,
            unreadable_batches,
            last_rollup_error,
            last_rollup_at: last_run.map(|r| r.at.to_rfc3339()),
            notice: (!parts.is_empty()).then(|| parts.join(" ")),
        }
    }

    /// The same status, saying when its batches were listed.
    pub fn listed_at(self, at: Timestamp) -> DataStatus {
        DataStatus { listed_at: Some(at.to_rfc3339()), ..self }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn complete_only_when_nothing_is_missing() {
        let failed = RollupRun { at: Timestamp(5), error: Some("state too large".into()), more: false };
        let ok = RollupRun { at: Timestamp(5), error: None, more: false };
        /// (pending, included, unreadable, last run, complete, words the notice contains)
        type Case<'a> = (u64, u64, u64, Option<&'a RollupRun>, bool, &'a [&'a str]);
        let cases: [Case; 6] = [
            (0, 0, 0, None, true, &[]),
            (3, 3, 0, Some(&ok), true, &[]),
            (3840, 500, 0, Some(&failed), false, &["3340 of 3840", "state too large"]),
            (10, 10, 0, Some(&failed), true, &["rollup failed"]),
            (0, 0, 2, Some(&ok), false, &["2 stored event batches"]),
            (1, 7, 0, None, true, &[]),
        ];
        for (i, (pending, included, unreadable, run, complete, words)) in cases.into_iter().enumerate() {
            let s = DataStatus::new(Some(Timestamp(1)), pending, included, unreadable, run);
            assert_eq!(s.complete, complete, "case {i}");
            assert_eq!(s.notice.is_some(), !words.is_empty(), "case {i}: {:?}", s.notice);
            for w in words {
                assert!(s.notice.as_deref().unwrap_or("").contains(w), "case {i}: {:?} lacks {w}", s.notice);
            }
        }
        let json = serde_json::to_value(DataStatus::offline()).unwrap();
        assert_eq!(json["complete"], serde_json::json!(true));
        assert_eq!(json["last_rollup_error"], serde_json::Value::Null);
    }

    proptest! {
        /// Incomplete exactly when a pending or unreadable batch is left out; never a notice-less gap.
        #[test]
        fn incomplete_iff_something_is_left_out(pending in 0u64..10_000, included in 0u64..10_000, unreadable in 0u64..3) {
            let s = DataStatus::new(None, pending, included, unreadable, None);
            prop_assert_eq!(s.complete, included >= pending && unreadable == 0);
            prop_assert_eq!(s.complete, s.notice.is_none());
        }
    }
}
