//! When did an event happen? The one rule for live requests and for files.
//!
//! A Segment message can carry four times: `timestamp` (the client's event time, or a backfill's),
//! `originalTimestamp`, `sentAt` (the client's clock when the request left) and `receivedAt` (the server's
//! clock when it arrived). Segment corrects a client's clock skew as
//! `timestamp = receivedAt − (sentAt − originalTimestamp)`, and its archives and warehouse rows then carry
//! the corrected `timestamp` beside the three others. The rule here, in order:
//!
//! 1. `timestamp` and `originalTimestamp` both present: Segment already corrected this line (a client
//!    sends one or the other). `timestamp` is final; correcting again would move it twice.
//! 2. Otherwise the client's time is `timestamp`, else `originalTimestamp`.
//! 3. With a client time, a `sentAt` and a receive time, the skew `receivedAt − sentAt` is added, but only
//!    when it could be a clock's error: within `max_clock_skew_hours` (default 48 h, more than any time-zone
//!    mistake). A larger gap is a replay (a request recorded and sent again months later, an archive
//!    re-posted): its `timestamp` is kept as it is, since moving a year of history to "now" is the one
//!    certain error.
//! 4. Without a client time: the receive time (Segment's rule); in a file without `receivedAt`, `sentAt`.
//!
//! The receive time of a live request is the Worker's clock ([`Receipt::Live`]). A file is not a live
//! request ([`Receipt::File`]): its receive time is each message's own `receivedAt` when it has one, else
//! there is none, and no correction happens. The clock is never used as a file's receive time: a report
//! over a year-old export must not move every event to the day it runs.

use crate::time::Timestamp;

/// Where the receive time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// A live request, received at this instant (the caller's clock).
    Live(Timestamp),
    /// A file (export, archive, warehouse dump): each message's own `receivedAt`, if any.
    File,
}

/// The time fields of one message, parsed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeFields {
    pub timestamp: Option<Timestamp>,
    pub original_timestamp: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    /// The message's own `receivedAt` (only used for [`Receipt::File`]).
    pub received_at: Option<Timestamp>,
}

/// What was done to the client's time, for tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// No `sentAt` or no receive time: the client's time as sent.
    None,
    /// `timestamp` beside `originalTimestamp`: already corrected upstream.
    AlreadyCorrected,
    /// The skew (ms) that was added.
    Skew(i64),
    /// The gap (ms) was too large to be a clock's error: kept as sent.
    Replay(i64),
    /// No client time: the receive time (or `sentAt`) stands in.
    FromReceipt,
}

/// The resolved times of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub event_time: Timestamp,
    /// When the message was received, if known (a file without `receivedAt` has none).
    pub received_at: Option<Timestamp>,
    pub correction: Correction,
}

/// A message with no time at all, in a file (a live request always has its receive time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no timestamp, originalTimestamp, sentAt or receivedAt: the event's time is unknown")]
pub struct UnknownTime;

/// Applies the rule of this module's documentation.
pub fn resolve(f: &TimeFields, receipt: Receipt, max_clock_skew_hours: i64) -> Result<Resolved, UnknownTime> {
    let received_at = match receipt {
        Receipt::Live(now) => Some(now),
        Receipt::File => f.received_at,
    };
    let (event_time, correction) = match (f.timestamp, f.original_timestamp) {
        (Some(t), Some(_)) => (t, Correction::AlreadyCorrected),
        (Some(t), None) | (None, Some(t)) => match (f.sent_at, received_at) {
            (Some(sent), Some(received)) => {
                let skew = received.0.saturating_sub(sent.0);
                if skew.unsigned_abs() <= max_clock_skew_hours.max(0).unsigned_abs().saturating_mul(3_600_000) {
                    (Timestamp(t.0.saturating_add(skew)), Correction::Skew(skew))
                } else {
                    (t, Correction::Replay(skew))
                }
            }
            _ => (t, Correction::None),
        },
        (None, None) => (received_at.or(f.sent_at).ok_or(UnknownTime)?, Correction::FromReceipt),
    };
    Ok(Resolved { event_time, received_at, correction })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    const H: i64 = 3_600_000;

    fn t(h: i64) -> Option<Timestamp> {
        Some(Timestamp(1_790_000_000_000 + h * H))
    }

    /// (fields, receipt, event time in hours from the base, correction)
    #[test]
    fn the_rule_case_by_case() {
        let live = |h: i64| Receipt::Live(t(h).unwrap());
        let cases: Vec<(TimeFields, Receipt, i64, Correction)> = vec![
            // A client whose clock is an hour behind: corrected by the hour.
            (TimeFields { timestamp: t(-1), sent_at: t(-1), ..Default::default() }, live(0), 0, Correction::Skew(H)),
            // The same from RudderStack-style originalTimestamp.
            (
                TimeFields { original_timestamp: t(-1), sent_at: t(-1), ..Default::default() },
                live(0),
                0,
                Correction::Skew(H),
            ),
            // No sentAt: nothing to correct against.
            (TimeFields { timestamp: t(-5), ..Default::default() }, live(0), -5, Correction::None),
            // A replay: sent 30 days before receipt; the timestamp stands.
            (
                TimeFields { timestamp: t(-24 * 30), sent_at: t(-24 * 30), ..Default::default() },
                live(0),
                -24 * 30,
                Correction::Replay(24 * 30 * H),
            ),
            // No client time: the receive time.
            (TimeFields::default(), live(3), 3, Correction::FromReceipt),
            // A file: its own receivedAt is the receive time.
            (
                TimeFields { timestamp: t(-1), sent_at: t(-1), received_at: t(0), ..Default::default() },
                Receipt::File,
                0,
                Correction::Skew(H),
            ),
            // A file without receivedAt: no correction, whatever sentAt says.
            (
                TimeFields { timestamp: t(-1), sent_at: t(-9000), ..Default::default() },
                Receipt::File,
                -1,
                Correction::None,
            ),
            // Segment's archive: timestamp already corrected beside originalTimestamp.
            (
                TimeFields { timestamp: t(0), original_timestamp: t(-1), sent_at: t(-1), received_at: t(0) },
                Receipt::File,
                0,
                Correction::AlreadyCorrected,
            ),
            (
                TimeFields { timestamp: t(0), original_timestamp: t(-1), sent_at: t(-1), received_at: None },
                live(7),
                0,
                Correction::AlreadyCorrected,
            ),
            // A file line with only sentAt.
            (TimeFields { sent_at: t(2), ..Default::default() }, Receipt::File, 2, Correction::FromReceipt),
        ];
        for (i, (fields, receipt, hours, correction)) in cases.into_iter().enumerate() {
            let r = resolve(&fields, receipt, 48).unwrap();
            assert_eq!(r.event_time, t(hours).unwrap(), "case {i}");
            assert_eq!(r.correction, correction, "case {i}");
        }
        assert_eq!(resolve(&TimeFields::default(), Receipt::File, 48), Err(UnknownTime));
    }

    #[test]
    fn the_window_is_inclusive_and_symmetric() {
        let base = TimeFields { timestamp: t(0), sent_at: t(0), ..Default::default() };
        for (received, corrected) in [(48, true), (-48, true), (49, false), (-49, false)] {
            let r = resolve(&base, Receipt::Live(t(received).unwrap()), 48).unwrap();
            assert_eq!(matches!(r.correction, Correction::Skew(_)), corrected, "received {received} h");
        }
        // A window of 0 corrects nothing but an exact match.
        let r = resolve(&base, Receipt::Live(t(1).unwrap()), 0).unwrap();
        assert_eq!(r.event_time, t(0).unwrap());
    }

    proptest! {
        /// Segment's own formula, for every skew within the window: the corrected time is
        /// receivedAt − (sentAt − originalTimestamp), and a file with receivedAt agrees with a live request.
        #[test]
        fn matches_segments_formula(event in 0i64..4_000_000_000_000, skew in -48 * H..=48 * H, latency in 0i64..60_000) {
            let original = Timestamp(event - skew);
            let sent = Timestamp(event - skew + latency);
            let received = Timestamp(event + latency);
            let fields = TimeFields { original_timestamp: Some(original), sent_at: Some(sent), ..Default::default() };
            let live = resolve(&fields, Receipt::Live(received), 48).unwrap();
            prop_assert_eq!(live.event_time.0, received.0 - (sent.0 - original.0));
            let file = resolve(&TimeFields { received_at: Some(received), ..fields }, Receipt::File, 48).unwrap();
            prop_assert_eq!(file.event_time, live.event_time);
            // The archived line (corrected timestamp beside the originals) resolves to the same time.
            let archived = TimeFields { timestamp: Some(live.event_time), received_at: Some(received), ..fields };
            prop_assert_eq!(resolve(&archived, Receipt::File, 48).unwrap().event_time, live.event_time);
        }

        /// Never panics, whatever the times (saturating arithmetic at the extremes).
        #[test]
        fn total(a in any::<i64>(), b in any::<i64>(), c in any::<i64>(), w in any::<i64>()) {
            let f = TimeFields { timestamp: Some(Timestamp(a)), sent_at: Some(Timestamp(b)), ..Default::default() };
            let _ = resolve(&f, Receipt::Live(Timestamp(c)), w);
        }
    }
}
