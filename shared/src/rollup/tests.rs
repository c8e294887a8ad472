use super::*;
use crate::testkit::*;
use proptest::prelude::*;
use serde_json::json;

#[test]
fn anonymous_history_merges_into_the_identified_account_once() {
    let ms = [
        msg(
            json!({"type":"page","anonymousId":"v1","messageId":"1","timestamp":"2026-01-01T10:00:00Z","properties":{"path":"/"}}),
        ),
        msg(
            json!({"type":"page","anonymousId":"v1","messageId":"2","timestamp":"2026-01-02T10:00:00Z","properties":{"path":"/pricing"}}),
        ),
        msg(
            json!({"type":"identify","anonymousId":"v1","userId":"u1","messageId":"3","timestamp":"2026-01-03T10:00:00Z","traits":{"email":"A@x.io"}}),
        ),
        msg(
            json!({"type":"group","userId":"u1","groupId":"acme","messageId":"4","timestamp":"2026-01-04T10:00:00Z","traits":{"name":"Acme"}}),
        ),
        msg(
            json!({"type":"track","userId":"u1","event":"Order Completed","messageId":"5","timestamp":"2026-01-05T10:00:00Z","properties":{"revenue":100}}),
        ),
    ];
    let s = fold_all(&ms);
    let accounts = s.accounts();
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    let a = &accounts[0];
    assert_eq!(a.key, "g:acme");
    assert_eq!(a.name.as_deref(), Some("Acme"));
    let total = |sig: Signal| a.days.values().map(|c| c.count(sig)).sum::<u32>();
    assert_eq!(total(Signal::Activity), 5);
    assert_eq!(total(Signal::PageView), 2);
    assert_eq!(total(Signal::ConsiderationPage), 1);
    assert_eq!(total(Signal::Lead), 1);
    assert_eq!(total(Signal::Purchase), 1);
    assert_eq!(a.days.values().map(|c| c.revenue_minor).sum::<i64>(), 10_000);
    assert_eq!(s.account_of("a:v1"), "g:acme");
    // The raw e-mail address is gone; its salted digest remains.
    assert!(ms[2].traits.get("email").is_none());
    assert_eq!(ms[2].traits.get("email_sha256").and_then(Value::as_str).map(str::len), Some(64));
}

#[test]
fn alias_links_previous_ids_and_cycles_terminate() {
    let ms = [
        msg(
            json!({"type":"track","userId":"old","event":"Signed In","messageId":"1","timestamp":"2026-01-01T10:00:00Z"}),
        ),
        msg(
            json!({"type":"alias","previousId":"old","userId":"new","messageId":"2","timestamp":"2026-01-02T10:00:00Z"}),
        ),
        msg(
            json!({"type":"alias","previousId":"new","userId":"old","messageId":"3","timestamp":"2026-01-03T10:00:00Z"}),
        ),
    ];
    let s = fold_all(&ms);
    let a = s.account_of("u:old");
    assert!(a == "u:new" || a == "u:old");
    assert_eq!(
        s.accounts().iter().map(|a| a.days.values().map(|c| c.count(Signal::Activity)).sum::<u32>()).sum::<u32>(),
        3
    );
}

#[test]
fn duplicates_count_once_and_erasure_forgets() {
    let m = msg(
        json!({"type":"track","userId":"u1","event":"Order Completed","messageId":"same","timestamp":"2026-01-05T10:00:00Z","properties":{"revenue":5}}),
    );
    let classifier = Classifier::new(&EventMapping::default());
    let mut s = RollupState::default();
    assert!(s.fold(&m, &classifier));
    let once = s.clone();
    assert!(!s.fold(&m, &classifier));
    assert_eq!(s, once);
    s.erase_account("u:u1");
    assert!(s.identities.is_empty() && s.seen.is_empty());
}

#[test]
fn prune_keeps_the_window() {
    let m1 = msg_at(
        json!({"type":"track","userId":"u","event":"x","messageId":"a","timestamp":"2026-01-01T00:00:00Z"}),
        "2026-01-01T00:00:00Z",
    );
    let m2 = msg_at(
        json!({"type":"track","userId":"u","event":"x","messageId":"b","timestamp":"2026-01-03T00:00:00Z"}),
        "2026-01-03T00:00:00Z",
    );
    let mut s = fold_all(&[m1, m2]);
    s.prune_seen(ts("2026-01-04T00:00:00Z"), 48);
    assert_eq!(s.seen.keys().cloned().collect::<Vec<_>>(), vec!["b".to_owned()]);
}

/// A small message universe with few ids, so duplicates, links and shared days are common.
fn arb_message() -> impl Strategy<Value = Message> {
    let kinds = prop_oneof![
        Just("page"),
        Just("identify"),
        Just("group"),
        Just("alias"),
        Just("Order Completed"),
        Just("Subscription Renewed"),
        Just("Subscription Cancelled"),
        Just("Survey Responded"),
        Just("Version Reported"),
        Just("Module Licensed"),
        Just("Webinar Attended"),
    ];
    (0u8..40, kinds, 0u8..4, 0u8..3, 0u8..3, 0i64..20, 0u32..100_000, 0u8..11).prop_map(
        |(id, kind, user, anon, group, day, revenue, nps)| {
            let t = Timestamp(ts("2026-01-01T00:00:00Z").0 + day * 86_400_000 + i64::from(id) * 1000);
            let mut v = json!({
                "messageId": format!("m{id}"),
                "userId": format!("u{user}"),
                "anonymousId": format!("a{anon}"),
                "timestamp": t.to_rfc3339(),
            });
            match kind {
                "page" | "identify" => {
                    v["type"] = json!(kind);
                    v["properties"] = json!({"path": "/pricing"});
                    v["traits"] = json!({"email": "x@y.z"});
                }
                "group" => {
                    v["type"] = json!("group");
                    v["groupId"] = json!(format!("g{group}"));
                    v["traits"] = json!({"name": format!("G{group}")});
                }
                "alias" => {
                    v["type"] = json!("alias");
                    v["previousId"] = json!(format!("a{anon}"));
                }
                event => {
                    v["type"] = json!("track");
                    v["event"] = json!(event);
                    v["properties"] =
                        json!({"revenue": f64::from(revenue) / 100.0, "nps": nps, "version": "4.1", "module": "crm"});
                }
            }
            // The messageId decides the content, as for a real retry.
            let _ = (user, anon);
            msg(v)
        },
    )
}

/// Messages with the same id get the same content (a retry re-sends the same message).
fn consistent(ms: Vec<Message>) -> Vec<Message> {
    let mut first: BTreeMap<String, Message> = BTreeMap::new();
    ms.into_iter().map(|m| first.entry(m.message_id.clone()).or_insert(m).clone()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn merge_is_associative_commutative_and_counts_duplicates_once(
        ms in prop::collection::vec(arb_message(), 0..40),
        cut1 in 0usize..40, cut2 in 0usize..40, overlap in 0usize..10,
    ) {
        let ms = consistent(ms);
        let n = ms.len();
        let (c1, c2) = (cut1.min(n), cut2.min(n));
        let (lo, hi) = (c1.min(c2), c1.max(c2));
        // Three overlapping slices: duplicates appear across states as well as within them.
        let a = fold_all(&ms[..hi.min(n)]);
        let b = fold_all(&ms[lo.saturating_sub(overlap)..]);
        let c = fold_all(&ms[lo..hi]);
        let whole = fold_all(&ms);

        let mut ab = a.clone(); ab.merge(&b);
        let mut ba = b.clone(); ba.merge(&a);
        prop_assert_eq!(&ab, &ba);
        prop_assert_eq!(&ab, &whole);

        let mut ab_c = ab.clone(); ab_c.merge(&c);
        let mut bc = b.clone(); bc.merge(&c);
        let mut a_bc = a.clone(); a_bc.merge(&bc);
        prop_assert_eq!(&ab_c, &a_bc);
        prop_assert_eq!(&ab_c, &whole);

        let mut aa = a.clone(); aa.merge(&a);
        prop_assert_eq!(&aa, &a);
    }

    #[test]
    fn fold_order_does_not_matter_and_refolding_changes_nothing(
        ms in prop::collection::vec(arb_message(), 0..40),
        seed in any::<u64>(),
    ) {
        let ms = consistent(ms);
        let forward = fold_all(&ms);
        let mut shuffled = ms.clone();
        // Deterministic shuffle from the seed.
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(&fold_all(&shuffled), &forward);
        let twice: Vec<Message> = ms.iter().chain(ms.iter()).cloned().collect();
        prop_assert_eq!(&fold_all(&twice), &forward);
        // Accounts never double count: total activity equals the distinct messages.
        let distinct = ms.iter().map(|m| &m.message_id).collect::<BTreeSet<_>>().len() as u64;
        let activity: u64 = forward.accounts().iter().flat_map(|a| a.days.values()).map(|c| u64::from(c.count(Signal::Activity))).sum();
        prop_assert_eq!(activity, distinct);
        let daily: u64 = forward.daily.values().map(|d| d.messages).sum();
        prop_assert_eq!(daily, distinct);
    }

    /// Erasing a person inside an account that stays: taking their folded messages back out leaves the
    /// counts, revenue and site totals of never having folded them.
    #[test]
    fn unfolding_messages_equals_never_folding_them(
        ms in prop::collection::vec(arb_message(), 0..40),
        mask in any::<u64>(),
    ) {
        let ms = consistent(ms);
        let classifier = Classifier::new(&crate::config::Settings::default().mapping);
        let ids: Vec<&String> = ms.iter().map(|m| &m.message_id).collect::<BTreeSet<_>>().into_iter().collect();
        let removed: BTreeSet<&String> = ids.iter().enumerate().filter(|(i, _)| mask >> (i % 64) & 1 == 1).map(|(_, id)| *id).collect();
        let mut unfolded = fold_all(&ms);
        let mut done = BTreeSet::new();
        for m in ms.iter().filter(|m| removed.contains(&m.message_id)) {
            if done.insert(&m.message_id) {
                unfolded.unfold(m, &classifier);
            }
        }
        let kept: Vec<Message> = ms.iter().filter(|m| !removed.contains(&m.message_id)).cloned().collect();
        let never = fold_all(&kept);
        let additive = |s: &RollupState| -> BTreeMap<String, BTreeMap<Day, ([u32; Signal::COUNT], i64)>> {
            s.identities.iter().map(|(k, r)| {
                (k.clone(), r.days.iter().map(|(d, c)| (*d, (c.counts, c.revenue_minor))).collect())
            }).collect()
        };
        prop_assert_eq!(additive(&unfolded), additive(&never));
        prop_assert_eq!(&unfolded.daily, &never.daily);
    }

    #[test]
    fn state_survives_a_json_roundtrip(ms in prop::collection::vec(arb_message(), 0..20)) {
        let s = fold_all(&consistent(ms));
        let text = serde_json::to_string(&s).unwrap_or_default();
        let back: RollupState = serde_json::from_str(&text).unwrap_or_default();
        prop_assert_eq!(back, s);
    }
}

/// Reports over `state` with `trust`, as JSON, for every kind (the public-key revenue fields left out
/// where `strip` says so: they say what came through the public key, which differs by construction).
fn every_report(state: &RollupState, trust: bool, strip: bool) -> Vec<Value> {
    use crate::query::{Rendered, ReportKind, compute, parse_query};
    let mut settings = crate::config::Settings::default();
    settings.trust.lifecycle_events_need_secret_key = trust;
    let pairs: Vec<(String, String)> = [("from", "2026-01-05"), ("to", "2026-01-19"), ("as_of", "2026-01-25")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let q = parse_query(&pairs, crate::time::Day::parse("2026-01-25").unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let accounts = state.accounts();
    [ReportKind::Budget, ReportKind::Funnel, ReportKind::Lifecycle, ReportKind::Engagement, ReportKind::Accounts]
        .into_iter()
        .map(|kind| {
            let Rendered::Json(mut v) = compute(kind, &accounts, &[], &settings, &Default::default(), &q) else {
                panic!("json asked")
            };
            if strip && let Some(o) = v.as_object_mut() {
                o.remove("public_key_revenue_minor");
                o.remove("public_key_revenue_counted");
                if let Some(p) = o.get_mut("previous").and_then(Value::as_object_mut) {
                    p.remove("public_key_revenue_minor");
                }
            }
            v
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// A site that trusts only its secret key reports exactly what it would if the public key's purchases,
    /// renewals and churns had been plain events without revenue; a site that trusts both reports what it
    /// would if every event had come with the secret key. Either way the budget report says how much of
    /// the period's revenue the public key brought.
    #[test]
    fn only_the_secret_key_moves_lifecycle_and_revenue_when_the_site_says_so(
        ms in prop::collection::vec(arb_message(), 0..40),
        public_ids in any::<u64>(),
    ) {
        let ms: Vec<Message> = consistent(ms)
            .into_iter()
            .map(|mut m| {
                let id: u32 = m.message_id[1..].parse().unwrap_or(0);
                m.via = if public_ids & (1 << id) != 0 { KeyKind::Public } else { KeyKind::Secret };
                m
            })
            .collect();
        let classifier = Classifier::new(&EventMapping::default());
        let lifecycle = |m: &Message| PublicShare::SIGNALS.iter().any(|s| has(classifier.signals(m), *s));
        let all_secret: Vec<Message> = ms.iter().cloned().map(|mut m| { m.via = KeyKind::Secret; m }).collect();
        let forged_as_plain: Vec<Message> = ms
            .iter()
            .cloned()
            .map(|mut m| {
                if m.via == KeyKind::Public && lifecycle(&m) {
                    m.event = Some("Forged Event".to_owned());
                    m.revenue_minor = None;
                }
                m.via = KeyKind::Secret;
                m
            })
            .collect();
        let state = fold_all(&ms);
        prop_assert_eq!(every_report(&state, true, true), every_report(&fold_all(&forged_as_plain), true, true));
        prop_assert_eq!(every_report(&state, false, true), every_report(&fold_all(&all_secret), false, true));

        // The figure itself: revenue of public purchases and renewals dated in the period.
        let (from, to) = (crate::time::Day::parse("2026-01-05").unwrap_or_default(), crate::time::Day::parse("2026-01-19").unwrap_or_default());
        let mut once = BTreeSet::new();
        let expected: i64 = ms
            .iter()
            .filter(|m| once.insert(m.message_id.clone()))
            .filter(|m| m.via == KeyKind::Public && (from..to).contains(&m.timestamp.day()))
            .filter(|m| has(classifier.signals(m), Signal::Purchase) || has(classifier.signals(m), Signal::Renewal))
            .map(|m| m.revenue_minor.unwrap_or(0))
            .sum();
        for trust in [true, false] {
            let budget = &every_report(&state, trust, false)[0];
            prop_assert_eq!(budget["public_key_revenue_minor"].as_i64(), Some(expected));
            prop_assert_eq!(budget["public_key_revenue_counted"].as_bool(), Some(!trust));
        }
    }
}
