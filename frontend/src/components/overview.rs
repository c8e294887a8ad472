//! Overview: the verdict, the key figures with their change against the previous period, the spend vs
//! revenue split chart, and the full comparison table.

use super::bar_chart::{BarChart, BarRow, Segment, write_bar_chart};
use super::card::open_card;
use super::data_table::write_data_table;
use super::kpi::{Kpi, Polarity, write_kpis};
use super::verdict_card::{EXPLORE, write_verdict_card};
use crate::format::{
    self, count, count_delta, money, money_delta, money_opt, pct, pct0, per_unit, points_delta, times, times_delta,
};
use crate::markup::{Markup, action};
use daytwo_shared::money::Currency;
use daytwo_shared::report::{BudgetFigures, BudgetReport};
use yew::prelude::*;

/// The split chart's rows: spend by purpose and revenue by kind of customer, each as 100 %.
pub fn split_rows(f: &BudgetFigures, cur: &Currency) -> Vec<BarRow> {
    let (a, r) = (&f.acquisition, &f.retention);
    let seg = |share: Option<f64>, class, name: &str, minor: i64| Segment {
        value: share.unwrap_or(0.0),
        class,
        title: format!("{name}: {} ({})", money(minor, cur), pct(share)),
        inside: Some(pct0(share)),
    };
    vec![
        BarRow {
            label: "Spend".into(),
            segments: vec![
                seg(a.share, "k-acq", "Acquisition", a.spend_minor),
                seg(r.share, "k-ret", "Retention", r.spend_minor),
            ],
            value: money(f.total_spend_minor, cur),
        },
        BarRow {
            label: "Revenue".into(),
            segments: vec![
                seg(a.revenue_share, "k-new", "New customers", a.revenue_minor),
                seg(r.revenue_share, "k-old", "Existing customers", r.revenue_minor),
            ],
            value: money(f.total_revenue_minor, cur),
        },
    ]
}

/// The comparison table (metric, this period, previous, change): on screen and in the CSV export.
pub fn comparison_rows(report: &BudgetReport) -> Vec<Vec<String>> {
    let (c, p, d, cur) = (&report.current, &report.previous, &report.deltas, &report.currency);
    let m = |v: i64| money(v, cur);
    let mo = |v: Option<i64>| money_opt(v, cur);
    vec![
        vec![
            "Acquisition spend".into(),
            m(c.acquisition.spend_minor),
            m(p.acquisition.spend_minor),
            money_delta(Some(d.acquisition_spend_minor), cur),
        ],
        vec![
            "Retention spend".into(),
            m(c.retention.spend_minor),
            m(p.retention.spend_minor),
            money_delta(Some(d.retention_spend_minor), cur),
        ],
        vec![
            "Acquisition share of spend".into(),
            pct(c.acquisition.share),
            pct(p.acquisition.share),
            points_delta(d.acquisition_share),
        ],
        vec![
            "New customers".into(),
            count(c.acquisition.new_customers),
            count(p.acquisition.new_customers),
            count_delta(d.new_customers),
        ],
        vec![
            "Customer acquisition cost (CAC)".into(),
            mo(c.acquisition.cac_minor),
            mo(p.acquisition.cac_minor),
            money_delta(d.cac_minor, cur),
        ],
        vec![
            "Customers at start".into(),
            count(c.retention.customers_at_start),
            count(p.retention.customers_at_start),
            count_delta(d.customers_at_start),
        ],
        vec![
            "Customers retained".into(),
            count(c.retention.retained),
            count(p.retention.retained),
            count_delta(d.retained),
        ],
        vec![
            "Retention rate".into(),
            pct(c.retention.retention_rate),
            pct(p.retention.retention_rate),
            points_delta(d.retention_rate),
        ],
        vec![
            "Cost per retained customer".into(),
            mo(c.retention.cost_per_retained_minor),
            mo(p.retention.cost_per_retained_minor),
            money_delta(d.cost_per_retained_minor, cur),
        ],
        vec![
            "Revenue from new customers".into(),
            m(c.acquisition.revenue_minor),
            m(p.acquisition.revenue_minor),
            money_delta(Some(d.revenue_new_minor), cur),
        ],
        vec![
            "Revenue from existing customers".into(),
            m(c.retention.revenue_minor),
            m(p.retention.revenue_minor),
            money_delta(Some(d.revenue_existing_minor), cur),
        ],
        vec![
            "Total revenue".into(),
            m(c.total_revenue_minor),
            m(p.total_revenue_minor),
            money_delta(Some(d.total_revenue_minor), cur),
        ],
        vec![
            // Any visitor's browser holds the public key: revenue it brought can be forged.
            if report.public_key_revenue_counted {
                "of which sent with the public write key".into()
            } else {
                "Left out: revenue sent with the public write key".into()
            },
            m(c.public_key_revenue_minor),
            m(p.public_key_revenue_minor),
            money_delta(None, cur),
        ],
        vec![
            format!("Return per {} of acquisition spend", cur.code()),
            per_unit(c.acquisition.return_per_dollar),
            per_unit(p.acquisition.return_per_dollar),
            signed_unit(d.acquisition_return_per_dollar),
        ],
        vec![
            format!("Return per {} of retention spend", cur.code()),
            per_unit(c.retention.return_per_dollar),
            per_unit(p.retention.return_per_dollar),
            signed_unit(d.retention_return_per_dollar),
        ],
        vec!["Lifetime value (LTV)".into(), mo(c.ltv_minor), mo(p.ltv_minor), money_delta(d.ltv_minor, cur)],
        vec!["LTV:CAC".into(), times(c.ltv_to_cac), times(p.ltv_to_cac), times_delta(d.ltv_to_cac)],
    ]
}

fn signed_unit(x: Option<f64>) -> String {
    match x {
        Some(v) if v > 0.0 && per_unit(Some(v)) != "0.00" => format!("+{}", per_unit(Some(v))),
        _ => per_unit(x),
    }
}

/// The overview of a budget report; `on_explore` opens the what-if view.
pub fn overview(r: &BudgetReport, on_explore: &Callback<()>) -> Html {
    let (c, d, cur) = (&r.current, &r.deltas, &r.currency);
    let (a, t) = (&c.acquisition, &c.retention);
    let md = |v: Option<i64>, pol| Some((v.map(|x| x as f64), money_delta(v, cur), pol));
    let tiles = [
        Kpi {
            id: "acquisition_spend",
            label: "Acquisition spend",
            value: money(a.spend_minor, cur),
            delta: md(Some(d.acquisition_spend_minor), Polarity::Neutral),
            note: format!("{} of spend", pct(a.share)),
        },
        Kpi {
            id: "retention_spend",
            label: "Retention spend",
            value: money(t.spend_minor, cur),
            delta: md(Some(d.retention_spend_minor), Polarity::Neutral),
            note: format!("{} of spend", pct(t.share)),
        },
        Kpi {
            id: "revenue_new",
            label: "Revenue, new customers",
            value: money(a.revenue_minor, cur),
            delta: md(Some(d.revenue_new_minor), Polarity::UpIsGood),
            note: format!("{} of revenue", pct(a.revenue_share)),
        },
        Kpi {
            id: "revenue_existing",
            label: "Revenue, existing customers",
            value: money(t.revenue_minor, cur),
            delta: md(Some(d.revenue_existing_minor), Polarity::UpIsGood),
            note: format!("{} of revenue", pct(t.revenue_share)),
        },
        Kpi {
            id: "cac",
            label: "Customer acquisition cost",
            value: money_opt(a.cac_minor, cur),
            delta: md(d.cac_minor, Polarity::UpIsBad),
            note: format!("{} new customers", count(a.new_customers)),
        },
        Kpi {
            id: "retention_rate",
            label: "Retention rate",
            value: pct(t.retention_rate),
            delta: Some((d.retention_rate, points_delta(d.retention_rate), Polarity::UpIsGood)),
            note: format!("{} of {} customers kept", count(t.retained), count(t.customers_at_start)),
        },
        Kpi {
            id: "ltv",
            label: "Lifetime value",
            value: money_opt(c.ltv_minor, cur),
            delta: md(d.ltv_minor, Polarity::UpIsGood),
            note: "Revenue per customer acquired so far".into(),
        },
        Kpi {
            id: "ltv_to_cac",
            label: "LTV:CAC",
            value: times(c.ltv_to_cac),
            delta: Some((d.ltv_to_cac, times_delta(d.ltv_to_cac), Polarity::UpIsGood)),
            note: "3× or more is a common target".into(),
        },
    ];
    let rows = split_rows(c, cur);
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let mut cells = vec![row.label.clone()];
            cells.extend(row.segments.iter().map(|s| s.title.clone()));
            cells.push(row.value.clone());
            cells
        })
        .collect();
    let chart = BarChart {
        title: "Spend by purpose and revenue by kind of customer, as shares",
        rows: &rows,
        max: Some(1.0),
        label_width: 18.0,
        value_width: 30.0,
        legend: &LEGEND,
        table_head: &["", "Acquisition / new", "Retention / existing", "Total"],
        table_rows: &table_rows,
    };
    let mut m = Markup::default();
    write_verdict_card(&mut m, r, |m| {
        m.open("figure", &[("class", Some("dt-figure"))]);
        m.element("h4", &[("class", Some("dt-h4"))], "Where the money goes, and where it comes from");
        write_bar_chart(m, &chart);
        let note = format!(
            "{} new customers at a CAC of {}; {} of {} customers retained ({}).",
            count(a.new_customers),
            money_opt(a.cac_minor, cur),
            count(t.retained),
            count(t.customers_at_start),
            pct(t.retention_rate)
        );
        m.element("p", &[("class", Some("dt-card-note"))], &note).close("figure");
    });
    write_kpis(&mut m, &tiles, "vs previous");
    let note = format!("{} vs {}", format::period(c.period), format::period(r.previous.period));
    open_card(&mut m, "Compared with the previous period", &note);
    let (caption, head) = (
        "This period compared with the previous period of equal length",
        ["Metric", "This period", "Previous", "Change"],
    );
    write_data_table(&mut m, caption, &head, &comparison_rows(r));
    m.close("section");
    // The one control, the verdict's "Try other splits", is handled here by its `data-act`.
    let explore = on_explore.clone();
    let onclick = move |e: MouseEvent| {
        if action(&e).as_deref() == Some(EXPLORE) {
            explore.emit(());
        }
    };
    html! { <div class="dt-stack" {onclick}>{ m.html() }</div> }
}

/// The colour key of the split charts.
pub const LEGEND: [(&str, &str); 2] = [
    ("k-acq", "Acquisition spend / new customers' revenue"),
    ("k-ret", "Retention spend / existing customers' revenue"),
];
