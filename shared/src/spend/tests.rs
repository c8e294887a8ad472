use super::*;
use crate::money::MAX_ABS_MINOR;
use crate::money::div_round;
use proptest::prelude::*;
use serde_json::Value;
use serde_json::json;

fn day(s: &str) -> Day {
    Day::parse(s).unwrap()
}

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn entry(channel: &str, campaign: &str, from: &str, to: &str, amount: i64, purpose: Purpose) -> SpendEntry {
    let mut e = SpendEntry {
        id: String::new(),
        from: day(from),
        to: day(to),
        channel: channel.to_owned(),
        campaign: campaign.to_owned(),
        amount_minor: amount,
        currency: usd(),
        purpose,
    };
    e.id = e.derived_id();
    e
}

fn split(acquisition_minor: i64, retention_minor: i64) -> Split {
    Split { acquisition_minor, retention_minor }
}

#[test]
fn thirty_day_entry_over_ten_days() {
    let e = entry("google", "", "2026-04-01", "2026-05-01", 300_000, Purpose::Acquisition);
    assert_eq!(e.prorated(day("2026-04-11"), day("2026-04-21")), split(100_000, 0));
    // Window sticking out on both sides: only the 30 days of the entry count.
    assert_eq!(e.prorated(day("2026-03-01"), day("2026-06-01")), split(300_000, 0));
    // Half in: 2026-04-26..2026-05-01 is 5 days = 50_000.
    assert_eq!(e.prorated(day("2026-04-26"), day("2026-05-10")), split(50_000, 0));
}

#[test]
fn thirty_one_days_of_100_telescope() {
    let e = entry("meta", "", "2026-01-01", "2026-02-01", 100, Purpose::Retention);
    // Day k gets floor(100(k+1)/31) - floor(100k/31); worked by hand, e.g. k=4: 16 - 12 = 4, k=30: 100 - 96 = 4.
    let want = [3, 3, 3, 3, 4, 3, 3, 3, 4, 3, 3, 3, 3, 4, 3, 3, 3, 4, 3, 3, 3, 3, 4, 3, 3, 3, 4, 3, 3, 3, 4];
    let start = day("2026-01-01");
    let got: Vec<i64> = (0..31).map(|k| e.prorated(start.plus(k), start.plus(k + 1)).retention_minor).collect();
    assert_eq!(got, want);
    assert_eq!(got.iter().sum::<i64>(), 100);
    assert_eq!(e.prorated(start, start.plus(5)), split(0, 16));
    assert_eq!(e.prorated(start.plus(5), start.plus(31)), split(0, 84));
    for k in 0..31 {
        assert_eq!(e.prorated(start.plus(k), start.plus(k + 1)).acquisition_minor, 0);
    }
}

#[test]
fn mixed_rounds_half_away_from_zero() {
    let m = |amount, pct| {
        let e = entry("x", "", "2026-01-01", "2026-01-02", amount, Purpose::Mixed { acquisition_pct: pct });
        (e.acquisition_total_minor(), e.retention_total_minor())
    };
    assert_eq!(m(1001, 60), (601, 400)); // 600.6 -> 601
    assert_eq!(m(1, 50), (1, 0)); // 0.5 -> 1
    assert_eq!(m(3, 50), (2, 1)); // 1.5 -> 2
    assert_eq!(m(1005, 10), (101, 904)); // 100.5 -> 101
    assert_eq!(m(1004, 10), (100, 904)); // 100.4 -> 100
    assert_eq!(m(777, 0), (0, 777));
    assert_eq!(m(777, 100), (777, 0));
    assert_eq!(m(0, 60), (0, 0));
    // A hand-built percentage above 100 is capped so retention never goes negative.
    assert_eq!(m(10, 250), (10, 0));
    let a = entry("x", "", "2026-01-01", "2026-01-02", 999, Purpose::Acquisition);
    assert_eq!((a.acquisition_total_minor(), a.retention_total_minor()), (999, 0));
    let r = entry("x", "", "2026-01-01", "2026-01-02", 999, Purpose::Retention);
    assert_eq!((r.acquisition_total_minor(), r.retention_total_minor()), (0, 999));
}

#[test]
fn mixed_parts_prorate_separately() {
    let e = entry("x", "", "2026-04-01", "2026-05-01", 1001, Purpose::Mixed { acquisition_pct: 60 });
    let p = |a: &str, b: &str| e.prorated(day(a), day(b));
    // acquisition 601: floor(6010/30)=200, floor(12020/30)=400; retention 400: floor(4000/30)=133, floor(8000/30)=266.
    assert_eq!(p("2026-04-01", "2026-04-11"), split(200, 133));
    assert_eq!(p("2026-04-11", "2026-04-21"), split(200, 133));
    assert_eq!(p("2026-04-21", "2026-05-01"), split(201, 134));
}

#[test]
fn outside_the_period_is_zero() {
    let e = entry("x", "", "2026-04-01", "2026-05-01", 300_000, Purpose::Mixed { acquisition_pct: 50 });
    assert_eq!(e.prorated(day("2026-03-01"), day("2026-04-01")), Split::default()); // ends where it starts
    assert_eq!(e.prorated(day("2026-05-01"), day("2026-06-01")), Split::default()); // `to` is exclusive
    assert_eq!(e.prorated(day("2025-01-01"), day("2025-12-31")), Split::default());
    assert_eq!(e.prorated(day("2026-04-20"), day("2026-04-10")), Split::default()); // reversed period
    assert_eq!(e.prorated(day("2026-04-10"), day("2026-04-10")), Split::default()); // empty period
    let inverted = SpendEntry { to: e.from, ..e.clone() };
    assert_eq!(inverted.prorated(day("2000-01-01"), day("2100-01-01")), Split::default());
}

#[test]
fn allocation_breakdown_and_order() {
    let entries = vec![
        // 31 days, 15 in the period: floor(3100*15/31) = 1500.
        entry("google", "brand", "2026-01-01", "2026-02-01", 3100, Purpose::Acquisition),
        // 10 days, 5 in the period: 500.
        entry("google", "generic", "2026-01-11", "2026-01-21", 1000, Purpose::Retention),
        // 2001 at 50%: acquisition 1001 (1000.5 rounds up), retention 1000; last 5 of 10 days in the period:
        // acquisition 1001 - floor(5005/10) = 501, retention 1000 - 500 = 500.
        entry("meta", "lookalike", "2025-12-27", "2026-01-06", 2001, Purpose::Mixed { acquisition_pct: 50 }),
        entry("meta", "", "2026-01-01", "2026-01-16", 1200, Purpose::Acquisition),
        entry("meta", "zero", "2026-01-01", "2026-01-16", 0, Purpose::Acquisition),
        entry("tiktok", "later", "2026-02-01", "2026-03-01", 5000, Purpose::Acquisition),
    ];
    let got = allocate(&entries, day("2026-01-01"), day("2026-01-16"));
    let camp = |campaign: &str, a: i64, r: i64| CampaignSpend {
        campaign: campaign.to_owned(),
        acquisition_minor: a,
        retention_minor: r,
        total_minor: a + r,
    };
    let want = SpendAllocation {
        acquisition_minor: 3201,
        retention_minor: 1000,
        total_minor: 4201,
        channels: vec![
            ChannelSpend {
                channel: "meta".into(),
                acquisition_minor: 1701,
                retention_minor: 500,
                total_minor: 2201,
                campaigns: vec![camp("", 1200, 0), camp("lookalike", 501, 500)],
            },
            ChannelSpend {
                channel: "google".into(),
                acquisition_minor: 1500,
                retention_minor: 500,
                total_minor: 2000,
                campaigns: vec![camp("brand", 1500, 0), camp("generic", 0, 500)],
            },
        ],
    };
    assert_eq!(got, want);
    assert_eq!(allocate(&entries, day("2027-01-01"), day("2027-02-01")), SpendAllocation::default());
    assert_eq!(allocate(&[], day("2026-01-01"), day("2026-02-01")), SpendAllocation::default());
}

#[test]
fn allocation_ties_sort_by_name() {
    let entries = vec![
        entry("b", "y", "2026-01-01", "2026-01-02", 100, Purpose::Acquisition),
        entry("b", "x", "2026-01-01", "2026-01-02", 100, Purpose::Retention),
        entry("a", "z", "2026-01-01", "2026-01-02", 200, Purpose::Acquisition),
        // Same channel and campaign twice: merged.
        entry("c", "w", "2026-01-01", "2026-01-02", 150, Purpose::Acquisition),
        entry("c", "w", "2026-01-01", "2026-01-03", 100, Purpose::Retention),
    ];
    let got = allocate(&entries, day("2026-01-01"), day("2026-01-02"));
    let names: Vec<&str> = got.channels.iter().map(|c| c.channel.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let b: Vec<&str> = got.channels[1].campaigns.iter().map(|c| c.campaign.as_str()).collect();
    assert_eq!(b, ["x", "y"]);
    assert_eq!(
        got.channels[2].campaigns,
        vec![CampaignSpend { campaign: "w".into(), acquisition_minor: 150, retention_minor: 50, total_minor: 200 }]
    );
    assert_eq!(got.total_minor, 600);
}

#[test]
fn serialization_shapes() {
    let mut e = entry("google", "brand", "2026-01-01", "2026-02-01", 1001, Purpose::Mixed { acquisition_pct: 60 });
    e.id = "s1".into();
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"id": "s1", "from": "2026-01-01", "to": "2026-02-01", "channel": "google", "campaign": "brand",
               "amount_minor": 1001, "currency": "USD", "purpose": "mixed", "acquisition_pct": 60})
    );
    e.purpose = Purpose::Retention;
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"id": "s1", "from": "2026-01-01", "to": "2026-02-01", "channel": "google", "campaign": "brand",
               "amount_minor": 1001, "currency": "USD", "purpose": "retention"})
    );
    let alloc = allocate(&[e], day("2026-01-01"), day("2026-01-02"));
    assert_eq!(
        serde_json::to_value(&alloc).unwrap(),
        json!({"acquisition_minor": 0, "retention_minor": 32, "total_minor": 32, "channels": [
            {"channel": "google", "acquisition_minor": 0, "retention_minor": 32, "total_minor": 32, "campaigns": [
                {"campaign": "brand", "acquisition_minor": 0, "retention_minor": 32, "total_minor": 32}]}]})
    );
}

#[test]
fn derived_ids() {
    let e = entry("google", "brand", "2026-01-01", "2026-02-01", 1000, Purpose::Acquisition);
    assert_eq!(e.id.len(), 19);
    assert!(e.id.starts_with("sp_") && e.id[3..].bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    let a = entry("a|b", "c", "2026-01-01", "2026-02-01", 1000, Purpose::Acquisition);
    let b = entry("a", "b|c", "2026-01-01", "2026-02-01", 1000, Purpose::Acquisition);
    assert_ne!(a.id, b.id);
    let m = entry("google", "brand", "2026-01-01", "2026-02-01", 1000, Purpose::Mixed { acquisition_pct: 100 });
    assert_ne!(e.id, m.id);
    // Same entry, differently written: same id.
    let body = json!([
        {"from": "2026-01-01", "to": "2026-02-01", "channel": " google ", "campaign": "brand",
         "amount_minor": 1000, "currency": "usd", "purpose": "Acquisition"},
    ]);
    assert_eq!(parse_spend_json(&body, &usd()).unwrap(), vec![e.clone()]);
    let csv = "channel,campaign,from,to,amount_minor,currency,purpose,id\ngoogle,brand,2026-01-01,2026-02-01,1000,USD,acquisition,\n";
    assert_eq!(parse_spend_csv(csv, &usd()).unwrap(), vec![e]);
}

#[test]
fn json_accepts_and_normalises() {
    let body = json!([
        {"id": "a-1", "from": "2026-01-01", "to": "2036-01-09", "channel": "google", "amount_minor": 0,
         "currency": "USD", "purpose": "acquisition", "acquisition_pct": 100, "note": "ignored"},
        {"id": "a.2", "from": "2026-01-01", "to": "2026-01-02", "channel": "c".repeat(100), "campaign": "d".repeat(200),
         "amount_minor": MAX_ABS_MINOR, "currency": "USD", "purpose": "RETENTION", "acquisition_pct": 0},
        {"id": null, "from": "2026-01-01", "to": "2026-01-02", "channel": "x", "campaign": null,
         "amount_minor": 5, "currency": "USD", "purpose": " mixed ", "acquisition_pct": 0},
        {"id": "", "from": "2026-01-01", "to": "2026-01-02", "channel": "日本語", "campaign": "  ",
         "amount_minor": 5, "currency": "USD", "purpose": "retention", "acquisition_pct": null},
    ]);
    let got = parse_spend_json(&body, &usd()).unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!((got[0].id.as_str(), got[0].campaign.as_str(), got[0].days()), ("a-1", "", 3660));
    assert_eq!((got[1].purpose, got[1].amount_minor), (Purpose::Retention, MAX_ABS_MINOR));
    assert_eq!(got[2].purpose, Purpose::Mixed { acquisition_pct: 0 });
    assert_eq!(got[2].id, got[2].derived_id());
    assert_eq!((got[3].channel.as_str(), got[3].campaign.as_str()), ("日本語", ""));
    assert_eq!(got[3].id, got[3].derived_id());
    let one = json!({"from": "2026-01-01", "to": "2026-01-02", "channel": "x", "amount_minor": 5,
                     "currency": "USD", "purpose": "acquisition"});
    assert_eq!(parse_spend_json(&one, &usd()).unwrap().len(), 1);
    assert_eq!(parse_spend_json(&json!([]), &usd()).unwrap(), vec![]);
}

fn valid_json() -> Value {
    json!({"from": "2026-01-01", "to": "2026-02-01", "channel": "google", "campaign": "brand",
           "amount_minor": 1000, "currency": "USD", "purpose": "acquisition"})
}

/// A two-entry array whose second entry is the valid one with `changes` applied (`"<remove>"` deletes a key).
fn with(changes: &[(&str, Value)]) -> Value {
    let mut bad = valid_json();
    for (k, v) in changes {
        if let Some(obj) = bad.as_object_mut() {
            if *v == json!("<remove>") {
                obj.remove(*k);
            } else {
                obj.insert((*k).to_owned(), v.clone());
            }
        }
    }
    let mut first = valid_json();
    first["id"] = json!("first");
    json!([first, bad])
}

#[test]
fn json_bad_input_table() {
    let gone = || json!("<remove>");
    let cases: Vec<(Value, &str, Option<&str>)> = vec![
        (json!(42), "invalid_json", None),
        (json!("text"), "invalid_json", None),
        (json!(null), "invalid_json", None),
        (json!([1]), "invalid_json", Some("[0]")),
        (json!([valid_json(), [valid_json()]]), "invalid_json", Some("[1]")),
        (with(&[("from", gone())]), "missing_field", Some("[1].from")),
        (with(&[("from", json!(null))]), "missing_field", Some("[1].from")),
        (with(&[("from", json!("2026-02-30"))]), "invalid_date", Some("[1].from")),
        (with(&[("from", json!("2026-1-1"))]), "invalid_date", Some("[1].from")),
        (with(&[("from", json!(20260101))]), "invalid_date", Some("[1].from")),
        (with(&[("to", json!(""))]), "missing_field", Some("[1].to")),
        (with(&[("to", json!("01/02/2026"))]), "invalid_date", Some("[1].to")),
        (with(&[("to", json!("2026-01-01"))]), "empty_range", Some("[1].to")),
        (with(&[("to", json!("2025-12-01"))]), "empty_range", Some("[1].to")),
        (with(&[("to", json!("2036-01-10"))]), "range_too_long", Some("[1].to")),
        (with(&[("channel", gone())]), "missing_field", Some("[1].channel")),
        (with(&[("channel", json!("   "))]), "missing_field", Some("[1].channel")),
        (with(&[("channel", json!(5))]), "invalid_channel", Some("[1].channel")),
        (with(&[("channel", json!("c".repeat(101)))]), "invalid_channel", Some("[1].channel")),
        (with(&[("channel", json!("a\u{0}b"))]), "invalid_channel", Some("[1].channel")),
        (with(&[("campaign", json!("d".repeat(201)))]), "invalid_campaign", Some("[1].campaign")),
        (with(&[("campaign", json!(true))]), "invalid_campaign", Some("[1].campaign")),
        (with(&[("campaign", json!("two\nlines"))]), "invalid_campaign", Some("[1].campaign")),
        (with(&[("amount_minor", gone())]), "missing_field", Some("[1].amount_minor")),
        (with(&[("amount_minor", json!(10.5))]), "invalid_amount", Some("[1].amount_minor")),
        (with(&[("amount_minor", json!(1000.0))]), "invalid_amount", Some("[1].amount_minor")),
        (with(&[("amount_minor", json!("1000"))]), "invalid_amount", Some("[1].amount_minor")),
        (with(&[("amount_minor", json!([1000]))]), "invalid_amount", Some("[1].amount_minor")),
        (with(&[("amount_minor", json!(-1))]), "negative_amount", Some("[1].amount_minor")),
        (with(&[("amount_minor", json!(MAX_ABS_MINOR + 1))]), "amount_out_of_range", Some("[1].amount_minor")),
        (with(&[("amount_minor", json!(u64::MAX))]), "amount_out_of_range", Some("[1].amount_minor")),
        (with(&[("currency", gone())]), "missing_field", Some("[1].currency")),
        (with(&[("currency", json!("US"))]), "invalid_currency", Some("[1].currency")),
        (with(&[("currency", json!(840))]), "invalid_currency", Some("[1].currency")),
        (with(&[("currency", json!("EUR"))]), "currency_mismatch", Some("[1].currency")),
        (with(&[("purpose", gone())]), "missing_field", Some("[1].purpose")),
        (with(&[("purpose", json!("brand"))]), "invalid_purpose", Some("[1].purpose")),
        (with(&[("purpose", json!(1))]), "invalid_purpose", Some("[1].purpose")),
        (with(&[("purpose", json!("mixed"))]), "missing_field", Some("[1].acquisition_pct")),
        (
            with(&[("purpose", json!("mixed")), ("acquisition_pct", json!(101))]),
            "invalid_acquisition_pct",
            Some("[1].acquisition_pct"),
        ),
        (
            with(&[("purpose", json!("mixed")), ("acquisition_pct", json!(-1))]),
            "invalid_acquisition_pct",
            Some("[1].acquisition_pct"),
        ),
        (
            with(&[("purpose", json!("mixed")), ("acquisition_pct", json!(50.5))]),
            "invalid_acquisition_pct",
            Some("[1].acquisition_pct"),
        ),
        (
            with(&[("purpose", json!("mixed")), ("acquisition_pct", json!("60"))]),
            "invalid_acquisition_pct",
            Some("[1].acquisition_pct"),
        ),
        (with(&[("acquisition_pct", json!(50))]), "invalid_acquisition_pct", Some("[1].acquisition_pct")),
        (
            with(&[("purpose", json!("retention")), ("acquisition_pct", json!(100))]),
            "invalid_acquisition_pct",
            Some("[1].acquisition_pct"),
        ),
        (with(&[("id", json!("has space"))]), "invalid_id", Some("[1].id")),
        (with(&[("id", json!("x".repeat(65)))]), "invalid_id", Some("[1].id")),
        (with(&[("id", json!("é"))]), "invalid_id", Some("[1].id")),
        (with(&[("id", json!(7))]), "invalid_id", Some("[1].id")),
        (with(&[("id", json!("first"))]), "duplicate_id", Some("[1].id")),
        // The same entry twice without ids: same derived id.
        (json!([valid_json(), valid_json()]), "duplicate_id", Some("[1].id")),
        // A single object has no index in its paths.
        (
            {
                let mut v = valid_json();
                v["amount_minor"] = json!(-5);
                v
            },
            "negative_amount",
            Some("amount_minor"),
        ),
        (json!(vec![valid_json(); MAX_ENTRIES + 1]), "too_many_entries", None),
    ];
    for (body, code, field) in cases {
        match parse_spend_json(&body, &usd()) {
            Ok(v) => panic!("accepted {body}: {v:?}"),
            Err(e) => {
                assert_eq!((e.code(), e.field().as_deref(), e.row()), (code, field, None), "{e}");
                assert!(!e.to_string().is_empty());
            }
        }
    }
}

const HEADER: &str = "id,from,to,channel,campaign,amount_minor,currency,purpose,acquisition_pct";

#[test]
fn csv_accepts_messy_but_valid_input() {
    let text = "\u{feff}Channel, FROM ,to,amount_minor,currency,purpose,acquisition_pct,notes\r\n\
                \r\n\
                \" google , ads\",2026-01-01,2026-02-01, 1000 ,usd,Mixed,60,whatever\r\n\
                ,,,,,,,\r\n\
                meta,2026-01-01,2026-01-02,007,USD,acquisition\r\n";
    let got = parse_spend_csv(text, &usd()).unwrap();
    let mut a = entry("google , ads", "", "2026-01-01", "2026-02-01", 1000, Purpose::Mixed { acquisition_pct: 60 });
    a.id = a.derived_id();
    let b = entry("meta", "", "2026-01-01", "2026-01-02", 7, Purpose::Acquisition);
    assert_eq!(got, vec![a, b]);
    assert_eq!(parse_spend_csv(HEADER, &usd()).unwrap(), vec![]);
}

#[test]
fn csv_bad_input_table() {
    let ok = "2026-01-01,2026-02-01,google,brand,1000,USD,acquisition,";
    let cases: Vec<(String, &str, Option<usize>, Option<&str>)> = vec![
        (String::new(), "invalid_csv", None, None),
        ("\n\n  \n".into(), "invalid_csv", None, None),
        (
            "from,to,channel,currency,purpose\n2026-01-01,2026-02-01,g,USD,acquisition\n".into(),
            "missing_field",
            Some(1),
            Some("amount_minor"),
        ),
        (format!("{HEADER},amount_minor\n"), "invalid_csv", Some(1), None),
        (
            format!("{HEADER}\na,{ok}\nb,2026-01-01,2026-02-01,g,,-5,USD,retention,\n"),
            "negative_amount",
            Some(3),
            Some("amount_minor"),
        ),
        (
            format!("{HEADER}\na,{ok}\n\n\nb,2026-01-01,2026-02-01,g,,12.50,USD,retention,\n"),
            "invalid_amount",
            Some(5),
            Some("amount_minor"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-02-01,g,,1e3,USD,retention,\n"),
            "invalid_amount",
            Some(2),
            Some("amount_minor"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-02-01,g,,\"1,000\",USD,retention,\n"),
            "invalid_amount",
            Some(2),
            Some("amount_minor"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-02-01,g,,-,USD,retention,\n"),
            "invalid_amount",
            Some(2),
            Some("amount_minor"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-02-01,g,,,USD,retention,\n"),
            "missing_field",
            Some(2),
            Some("amount_minor"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-02-01,g,,99999999999999999999999999999999999,USD,retention,\n"),
            "amount_out_of_range",
            Some(2),
            Some("amount_minor"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-02-01,g,,1000000000000001,USD,retention,\n"),
            "amount_out_of_range",
            Some(2),
            Some("amount_minor"),
        ),
        (format!("{HEADER}\na,{ok},extra\n"), "invalid_csv", Some(2), None),
        (format!("{HEADER}\na,2026-01-01,2026-01-01,g,,1,USD,retention,\n"), "empty_range", Some(2), Some("to")),
        (format!("{HEADER}\na,2026-01-01,2026-13-01,g,,1,USD,retention,\n"), "invalid_date", Some(2), Some("to")),
        (format!("{HEADER}\na,,2026-01-02,g,,1,USD,retention,\n"), "missing_field", Some(2), Some("from")),
        (format!("{HEADER}\na,2026-01-01,2026-01-02, ,,1,USD,retention,\n"), "missing_field", Some(2), Some("channel")),
        // A multi-line campaign is refused at the line its record starts on.
        (
            format!("{HEADER}\na,{ok}\nb,2026-01-01,2026-01-02,g,\"two\nlines\",1,USD,retention,\n"),
            "invalid_campaign",
            Some(3),
            Some("campaign"),
        ),
        // Line numbers stay physical after a quoted multi-line cell in an ignored column.
        (
            format!("{HEADER},notes\na,{ok},\"x\ny\"\nb,2026-01-01,2026-01-02,g,,-1,USD,retention,,\n"),
            "negative_amount",
            Some(4),
            Some("amount_minor"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,EUR,retention,\n"),
            "currency_mismatch",
            Some(2),
            Some("currency"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,dollars,retention,\n"),
            "invalid_currency",
            Some(2),
            Some("currency"),
        ),
        (format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,brand,\n"), "invalid_purpose", Some(2), Some("purpose")),
        (
            format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,mixed,\n"),
            "missing_field",
            Some(2),
            Some("acquisition_pct"),
        ),
        (
            "from,to,channel,amount_minor,currency,purpose\n2026-01-01,2026-01-02,g,1,USD,mixed\n".into(),
            "missing_field",
            Some(2),
            Some("acquisition_pct"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,mixed,sixty\n"),
            "invalid_acquisition_pct",
            Some(2),
            Some("acquisition_pct"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,mixed,60%\n"),
            "invalid_acquisition_pct",
            Some(2),
            Some("acquisition_pct"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,mixed,101\n"),
            "invalid_acquisition_pct",
            Some(2),
            Some("acquisition_pct"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,mixed,-1\n"),
            "invalid_acquisition_pct",
            Some(2),
            Some("acquisition_pct"),
        ),
        (
            format!("{HEADER}\na,2026-01-01,2026-01-02,g,,1,USD,acquisition,0\n"),
            "invalid_acquisition_pct",
            Some(2),
            Some("acquisition_pct"),
        ),
        (format!("{HEADER}\na b,{ok}\n"), "invalid_id", Some(2), Some("id")),
        (format!("{HEADER}\n'=cmd,{ok}\n"), "invalid_id", Some(2), Some("id")),
        (format!("{HEADER}\n'abc,{ok}\n"), "invalid_id", Some(2), Some("id")),
        (
            format!("{HEADER}\na,{ok}\nb,{ok}\na,2026-01-01,2026-01-02,g,,1,USD,retention,\n"),
            "duplicate_id",
            Some(4),
            Some("id"),
        ),
        (format!("{HEADER}\n,{ok}\n,{ok}\n"), "duplicate_id", Some(3), Some("id")),
    ];
    let cases = cases.into_iter().chain([
        // Blank and whitespace-only lines still count as lines, with CRLF too.
        (
            format!("\r\n\r\n{HEADER}\r\n   \r\na,2026-01-01,2026-01-02,g,,-1,USD,retention,\r\n"),
            "negative_amount",
            Some(5),
            Some("amount_minor"),
        ),
        ("\nfrom,to\n".to_owned(), "missing_field", Some(2), Some("channel")),
    ]);
    for (text, code, row, field) in cases {
        match parse_spend_csv(&text, &usd()) {
            Ok(v) => panic!("accepted {text:?}: {v:?}"),
            Err(e) => {
                assert_eq!((e.code(), e.row(), e.field().as_deref()), (code, row, field), "{text:?}: {e}");
                assert!(!e.to_string().is_empty());
            }
        }
    }
}

#[test]
fn csv_too_many_entries() {
    let mut text = format!("{HEADER}\n");
    for i in 0..=MAX_ENTRIES {
        text.push_str(&format!("e{i},2026-01-01,2026-01-02,g,,1,USD,retention,\n"));
    }
    let e = parse_spend_csv(&text, &usd()).unwrap_err();
    assert_eq!((e.code(), e.row(), e.field()), ("too_many_entries", Some(MAX_ENTRIES + 2), None));
}

#[test]
fn csv_defuses_formulas() {
    let mut e = entry("=HYPERLINK(\"x\")", "-20% off", "2026-01-01", "2026-01-02", 5, Purpose::Acquisition);
    e.id = "-x1".into();
    let mut plain = entry("@home", "+1", "2026-01-01", "2026-01-02", 6, Purpose::Retention);
    plain.id = "p".into();
    let text = to_csv(&[e.clone(), plain]);
    assert_eq!(
        text,
        format!(
            "{HEADER}\r\n'-x1,2026-01-01,2026-01-02,\"'=HYPERLINK(\"\"x\"\")\",'-20% off,5,USD,acquisition,\r\n\
                 p,2026-01-01,2026-01-02,'@home,'+1,6,USD,retention,\r\n"
        )
    );
    let back = parse_spend_csv(&text, &usd()).unwrap();
    // The id comes back intact; labels keep the apostrophe, as documented.
    assert_eq!(back[0].id, "-x1");
    assert_eq!(back[0].channel, "'=HYPERLINK(\"x\")");
    assert_eq!(back[0].campaign, "'-20% off");
    assert_eq!((back[1].channel.as_str(), back[1].campaign.as_str()), ("'@home", "'+1"));
    assert_ne!(back[0], e);
}

/// Found by the spend_csv fuzz target (`fuzz/`): a channel of `MAX_CHANNEL_CHARS` starting like a formula was
/// written with its protective apostrophe, one character over the limit, and `to_csv`'s own output was refused.
#[test]
fn labels_at_their_limit_read_back_with_their_apostrophe() {
    let channel = format!("-{}", "c".repeat(MAX_CHANNEL_CHARS - 1));
    let campaign = format!("={}", "p".repeat(MAX_CAMPAIGN_CHARS - 1));
    let e = entry(&channel, &campaign, "2026-01-01", "2026-02-01", 5, Purpose::Acquisition);
    let back = parse_spend_csv(&to_csv(std::slice::from_ref(&e)), &usd()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((back[0].channel.clone(), back[0].campaign.clone()), (format!("'{channel}"), format!("'{campaign}")));
    // Written and read again, it stays as it is.
    assert_eq!(parse_spend_csv(&to_csv(&back), &usd()).unwrap_or_else(|e| panic!("{e}")), back);
    // The apostrophe is free only before a formula character: a name one over the limit is still refused.
    for over in [format!("'{}", "c".repeat(MAX_CHANNEL_CHARS)), format!("-{}", "c".repeat(MAX_CHANNEL_CHARS))] {
        let text = format!("{HEADER}\r\n,2026-01-01,2026-02-01,{over},,5,USD,acquisition,\r\n");
        let err = parse_spend_csv(&text, &usd()).unwrap_err();
        assert_eq!(err.code(), "invalid_channel", "{over}");
    }
}

fn purpose_strategy() -> impl Strategy<Value = Purpose> {
    prop_oneof![
        Just(Purpose::Acquisition),
        Just(Purpose::Retention),
        (0u8..=100).prop_map(|acquisition_pct| Purpose::Mixed { acquisition_pct }),
    ]
}

/// Valid entries; labels never start with a formula character (the round-trip precondition).
fn entry_strategy() -> impl Strategy<Value = SpendEntry> {
    (
        proptest::option::of("[A-Za-z0-9_.-]{1,64}"),
        -719_000i32..2_900_000,
        1i32..=3660,
        "[A-Za-z0-9é日][A-Za-z0-9é日 ,;'\"|_=+@-]{0,30}",
        "([A-Za-z0-9é日][A-Za-z0-9é日 ,;'\"|_=+@-]{0,30})?",
        0..=MAX_ABS_MINOR,
        purpose_strategy(),
    )
        .prop_map(|(id, start, days, channel, campaign, amount_minor, purpose)| {
            let mut e = SpendEntry {
                id: id.unwrap_or_default(),
                from: Day(start),
                to: Day(start + days),
                channel: channel.trim().to_owned(),
                campaign: campaign.trim().to_owned(),
                amount_minor,
                currency: usd(),
                purpose,
            };
            if e.id.is_empty() {
                e.id = e.derived_id();
            }
            e
        })
}

fn unique_entries() -> impl Strategy<Value = Vec<SpendEntry>> {
    proptest::collection::vec(entry_strategy(), 0..20).prop_map(|mut v| {
        let mut seen = std::collections::HashSet::new();
        v.retain(|e| seen.insert(e.id.clone()));
        v
    })
}

proptest! {
    #[test]
    fn prorating_any_partition_sums_exactly(
        e in entry_strategy(),
        before in 0i32..400,
        after in 0i32..400,
        cuts in proptest::collection::vec(0.0f64..1.0, 0..12),
    ) {
        let lo = e.from.0 - before;
        let hi = e.to.0 + after;
        let mut bounds: Vec<i32> = cuts.iter().map(|c| lo + (c * f64::from(hi - lo)) as i32).collect();
        bounds.push(lo);
        bounds.push(hi);
        bounds.sort_unstable();
        let (acq_total, ret_total) = (e.acquisition_total_minor(), e.retention_total_minor());
        let (mut acq, mut ret) = (0i64, 0i64);
        for w in bounds.windows(2) {
            let s = e.prorated(Day(w[0]), Day(w[1]));
            prop_assert!(s.acquisition_minor >= 0 && s.acquisition_minor <= acq_total);
            prop_assert!(s.retention_minor >= 0 && s.retention_minor <= ret_total);
            acq += s.acquisition_minor;
            ret += s.retention_minor;
        }
        prop_assert_eq!(acq, acq_total);
        prop_assert_eq!(ret, ret_total);
    }

    #[test]
    fn parts_sum_to_amount(amount in 0..=MAX_ABS_MINOR, purpose in purpose_strategy()) {
        let e = SpendEntry { amount_minor: amount, purpose, ..entry("x", "", "2026-01-01", "2026-01-02", 0, purpose) };
        prop_assert_eq!(e.acquisition_total_minor() + e.retention_total_minor(), amount);
        let pct = i64::from(purpose.acquisition_pct());
        prop_assert_eq!(Some(e.acquisition_total_minor()), div_round(amount * pct, 100));
        prop_assert!(e.retention_total_minor() >= 0);
    }

    #[test]
    fn allocations_over_a_partition_sum_to_the_ledger(
        entries in unique_entries(),
        cuts in proptest::collection::vec(-719_000i32..2_904_000, 0..6),
    ) {
        let mut bounds = cuts;
        bounds.push(-719_000);
        bounds.push(2_904_000);
        bounds.sort_unstable();
        let (mut acq, mut total) = (0i64, 0i64);
        for w in bounds.windows(2) {
            let a = allocate(&entries, Day(w[0]), Day(w[1]));
            prop_assert_eq!(a.total_minor, a.acquisition_minor + a.retention_minor);
            prop_assert_eq!(a.total_minor, a.channels.iter().map(|c| c.total_minor).sum::<i64>());
            for c in &a.channels {
                prop_assert!(c.total_minor > 0);
                prop_assert_eq!(c.total_minor, c.campaigns.iter().map(|x| x.total_minor).sum::<i64>());
            }
            prop_assert!(a.channels.windows(2).all(|p| p[0].total_minor >= p[1].total_minor));
            acq += a.acquisition_minor;
            total += a.total_minor;
        }
        prop_assert_eq!(acq, entries.iter().map(SpendEntry::acquisition_total_minor).sum::<i64>());
        prop_assert_eq!(total, entries.iter().map(|e| e.amount_minor).sum::<i64>());
    }

    #[test]
    fn csv_roundtrips(entries in unique_entries()) {
        prop_assert_eq!(parse_spend_csv(&to_csv(&entries), &usd()), Ok(entries));
    }

    #[test]
    fn json_roundtrips(entries in unique_entries()) {
        let body = serde_json::to_value(&entries).unwrap();
        prop_assert_eq!(parse_spend_json(&body, &usd()), Ok(entries));
    }
}
