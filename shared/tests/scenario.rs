//! The worked scenario: five accounts and a visitor over two quarters, through the same path the Worker and
//! the CLI take (validate → fold → resolve accounts → report). The whole budget report is a snapshot; the
//! figures that matter are also asserted here, each with its hand computation.
//!
//! Current period: Q3 2026, [2026-07-01, 2026-10-01), 92 days. Previous: [2026-03-31, 2026-07-01).
//!
//! Accounts (all USD):
//! - acme: first purchase 2025-11-01 ($20,000), renewal 2026-08-01 ($5,000)   → existing, retained
//! - initech: first purchase 2025-12-01 ($3,000), cancelled 2026-08-20        → existing, not retained
//! - umbrella: first purchase 2026-05-10 ($8,000)                              → new in the previous period
//! - globex: anonymous visits, then first purchase 2026-07-15 ($4,000)         → new in Q3
//! - lead u-lead: identified with e-mail 2026-07-20; visitor anon-1: /pricing  → funnel only
//!
//! Spend:
//! - search (acquisition) Q3: 3,000,000; search (acquisition) Q2 [04-01, 07-01): 2,000,000
//! - newsletter (retention) [04-01, 10-01) 183 days, 1,830,000: Q3 gets 1,830,000 − ⌊1,830,000·91/183⌋ = 920,000
//! - content (mixed 60 %) [04-01, 10-01), 600,000 → 360,000 acquisition, 240,000 retention;
//!   Q3 gets 360,000 − ⌊360,000·91/183⌋ = 180,984 and 240,000 − ⌊240,000·91/183⌋ = 120,656.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use daytwo_shared::config::Settings;
use daytwo_shared::message::{IngestContext, Receipt, parse_value};
use daytwo_shared::money::Currency;
use daytwo_shared::report::{Period, VerdictKind, budget_report, evaluate, lifecycle_report};
use daytwo_shared::rollup::{Classifier, RollupState};
use daytwo_shared::spend::parse_spend_csv;
use daytwo_shared::time::{Day, Timestamp};
use serde_json::{Value, json};

fn day(s: &str) -> Day {
    Day::parse(s).expect("date")
}

fn events() -> Vec<Value> {
    let t = |d: &str| format!("{d}T10:00:00Z");
    let track = |id: &str, user: &str, group: &str, event: &str, d: &str, props: Value| json!({"type":"track","messageId":id,"userId":user,"context":{"groupId":group},"event":event,"timestamp":t(d),"properties":props});
    let group = |id: &str, user: &str, group: &str, name: &str, d: &str| json!({"type":"group","messageId":id,"userId":user,"groupId":group,"traits":{"name":name},"timestamp":t(d)});
    vec![
        group("acme-g", "ann", "acme", "Acme Corp", "2025-10-20"),
        track("acme-1", "ann", "acme", "Order Completed", "2025-11-01", json!({"revenue": 20000})),
        track("acme-2", "ann", "acme", "Subscription Renewed", "2026-08-01", json!({"revenue": 5000.00})),
        track("acme-3", "ann", "acme", "Webinar Attended", "2026-09-10", json!({})),
        group("ini-g", "bob", "initech", "Initech", "2025-11-20"),
        track("ini-1", "bob", "initech", "Order Completed", "2025-12-01", json!({"revenue": "3000"})),
        track("ini-2", "bob", "initech", "Subscription Cancelled", "2026-08-20", json!({})),
        group("umb-g", "cat", "umbrella", "Umbrella", "2026-05-01"),
        track("umb-1", "cat", "umbrella", "Contract Signed", "2026-05-10", json!({"revenue": 8000})),
        json!({"type":"page","messageId":"glx-p1","anonymousId":"v-glx","timestamp":t("2026-06-20"),"properties":{"path":"/"}}),
        json!({"type":"page","messageId":"glx-p2","anonymousId":"v-glx","timestamp":t("2026-07-02"),"properties":{"path":"/pricing"}}),
        json!({"type":"identify","messageId":"glx-i","anonymousId":"v-glx","userId":"dan","timestamp":t("2026-07-05"),"traits":{"email":"dan@globex.example"}}),
        group("glx-g", "dan", "globex", "Globex", "2026-07-14"),
        track("glx-1", "dan", "globex", "Order Completed", "2026-07-15", json!({"revenue": 4000, "currency": "USD"})),
        // A retry of the purchase: same messageId, counted once.
        track("glx-1", "dan", "globex", "Order Completed", "2026-07-15", json!({"revenue": 4000, "currency": "USD"})),
        json!({"type":"identify","messageId":"lead-i","userId":"u-lead","timestamp":t("2026-07-20"),"traits":{"email":"eve@lead.example"}}),
        json!({"type":"page","messageId":"anon-p","anonymousId":"anon-1","timestamp":t("2026-08-03"),"properties":{"path":"/pricing"}}),
    ]
}

const SPEND: &str = "id,from,to,channel,campaign,amount_minor,currency,purpose,acquisition_pct
sp-search-q3,2026-07-01,2026-10-01,search,brand,3000000,USD,acquisition,
sp-search-q2,2026-04-01,2026-07-01,search,brand,2000000,USD,acquisition,
sp-news,2026-04-01,2026-10-01,email,newsletter,1830000,USD,retention,
sp-content,2026-04-01,2026-10-01,content,blog,600000,USD,mixed,60
";

fn state(settings: &Settings, currency: &Currency) -> RollupState {
    let classifier = Classifier::new(&settings.mapping);
    let mut state = RollupState::default();
    for e in events() {
        let received = Timestamp::parse_rfc3339(e["timestamp"].as_str().expect("ts")).expect("ts");
        let ctx = IngestContext {
            receipt: Receipt::Live(received),
            email_salt: "scenario",
            currency,
            settings: &settings.ingest,
            path_type: None,
            via: daytwo_shared::message::KeyKind::Secret,
        };
        for m in parse_value(e, &ctx).expect("valid").messages {
            state.fold(&m, &classifier);
        }
    }
    state
}

#[test]
fn budget_report_of_the_worked_scenario() {
    let settings = Settings::default();
    let currency = Currency::default();
    let accounts = state(&settings, &currency).accounts();
    let ledger = parse_spend_csv(SPEND, &currency).expect("spend");
    let period = Period { from: day("2026-07-01"), to: day("2026-10-01") };
    let r = budget_report(&accounts, &ledger, &settings, &currency, period);
    let (a, t) = (&r.current.acquisition, &r.current.retention);

    // Spend: 3,000,000 + 180,984 acquisition; 920,000 + 120,656 retention.
    assert_eq!((a.spend_minor, t.spend_minor), (3_180_984, 1_040_656));
    // One new customer (globex, 07-15): CAC is all acquisition spend; its $4,000 is new revenue.
    assert_eq!((a.new_customers, a.cac_minor, a.revenue_minor), (1, Some(3_180_984), 400_000));
    // Customers on 06-30: acme, initech, umbrella. On 09-30 initech has cancelled: 2 of 3 retained.
    assert_eq!((t.customers_at_start, t.retained), (3, 2));
    assert_eq!(t.cost_per_retained_minor, Some(520_328)); // 1,040,656 / 2
    assert_eq!(t.revenue_minor, 500_000); // acme's renewal
    // LTV: (2,500,000 + 300,000 + 800,000 + 400,000) / 4 customers ever = 1,000,000.
    assert_eq!(r.current.ltv_minor, Some(1_000_000));
    // Acquisition share 3,180,984 / 4,221,640 = 75.3 %; new revenue 400,000 / 900,000 = 44.4 %:
    // 30.9 points above the 15-point tolerance.
    assert_eq!(r.verdict.kind, VerdictKind::OverweightAcquisition);
    // What-if: move 10 % of 4,221,640 = 422,164 to retention. Acquisition revenue falls by
    // 422,164 · 400,000 / 3,180,984 = 53,085.96 → 53,086; retention revenue rises by 422,164 · 500,000 / 1,040,656 = 202,835.5 → 202,836.
    let w = &r.verdict.what_if;
    assert_eq!(w.moved_minor, 422_164);
    assert_eq!((w.acquisition_revenue_minor, w.retention_revenue_minor), (Some(346_914), Some(702_836)));
    assert_eq!(w.revenue_delta_minor, Some(149_750));
    // Funnel: globex, u-lead and anon-1 were in play; anon-1 saw pricing; u-lead and globex are leads; globex bought.
    let f = &r.current.funnel;
    assert_eq!((f.awareness, f.consideration, f.lead, f.purchase), (3, 3, 2, 1));
    // Previous period: umbrella was new (800,000); acme and initech were retained (2 of 2).
    let p = &r.previous;
    assert_eq!((p.acquisition.new_customers, p.acquisition.revenue_minor), (1, 800_000));
    assert_eq!((p.retention.customers_at_start, p.retention.retained), (2, 2));
    assert_eq!((p.acquisition.spend_minor, p.retention.spend_minor), (2_179_016, 1_029_344));

    // The widget parses this JSON back into shared's types to run the what-if locally: it must round-trip.
    let json = serde_json::to_value(&r).expect("serialise");
    let back: daytwo_shared::report::BudgetReport = serde_json::from_value(json).expect("deserialise");
    assert_eq!(back, r);
    insta::assert_json_snapshot!("budget_q3_2026", r);
}

#[test]
fn lifecycle_of_the_worked_scenario() {
    let settings = Settings::default();
    let currency = Currency::default();
    let accounts = state(&settings, &currency).accounts();
    let as_of = day("2026-09-30");
    let r = lifecycle_report(&evaluate(&accounts, &settings, as_of), as_of);
    let s = &r.stages;
    // globex bought 77 days ago (new); umbrella 143 days ago and acme are past the new window; initech
    // cancelled; u-lead is a lead; anon-1 a prospect.
    assert_eq!((s.prospect, s.lead, s.new_customer, s.lapsed), (1, 1, 1, 1));
    assert_eq!(s.active + s.at_risk, 2);
    assert_eq!(r.total, 6);
    insta::assert_json_snapshot!("lifecycle_2026_09_30", r);
}
