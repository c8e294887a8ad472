//! Spend by channel (chart) and by campaign (table), split into acquisition and retention.

use super::bar_chart::{BarChart, BarRow, Segment, write_bar_chart};
use super::data_table::{close_table, open_table};
use super::empty_state::empty_state;
use crate::format::{self, money, pct};
use crate::markup::Markup;
use daytwo_shared::report::BudgetReport;
use yew::Html;

pub fn spend(r: &BudgetReport) -> Html {
    let (c, cur) = (&r.current, &r.currency);
    if c.channels.is_empty() {
        return empty_state(
            "No spend recorded for this period",
            "Record spend entries (channel, campaign, purpose) in the Daytwo spend ledger to see the split by channel.",
        );
    }
    let total = c.total_spend_minor;
    let share = |v: i64| c.share_of_spend(v);
    let rows: Vec<BarRow> = c
        .channels
        .iter()
        .map(|ch| BarRow {
            label: ch.channel.clone(),
            segments: vec![
                Segment {
                    value: ch.acquisition_minor as f64,
                    class: "k-acq",
                    title: format!("Acquisition {}", money(ch.acquisition_minor, cur)),
                    inside: None,
                },
                Segment {
                    value: ch.retention_minor as f64,
                    class: "k-ret",
                    title: format!("Retention {}", money(ch.retention_minor, cur)),
                    inside: None,
                },
            ],
            value: money(ch.total_minor, cur),
        })
        .collect();
    let table: Vec<Vec<String>> = c
        .channels
        .iter()
        .map(|ch| {
            vec![
                ch.channel.clone(),
                money(ch.acquisition_minor, cur),
                money(ch.retention_minor, cur),
                money(ch.total_minor, cur),
                pct(share(ch.total_minor)),
            ]
        })
        .collect();
    let chart = BarChart {
        title: "Spend by channel, split into acquisition and retention",
        rows: &rows,
        max: None,
        label_width: 26.0,
        value_width: 20.0,
        legend: &[("k-acq", "Acquisition"), ("k-ret", "Retention")],
        table_head: &["Channel", "Acquisition", "Retention", "Total", "Share"],
        table_rows: &table,
    };
    let channels_note = format!(
        "{} in total: {} acquisition ({}), {} retention ({})",
        money(total, cur),
        money(c.acquisition.spend_minor, cur),
        pct(c.acquisition.share),
        money(c.retention.spend_minor, cur),
        pct(c.retention.share)
    );
    // Static, so written as markup (`crate::markup`).
    let mut m = Markup::default();
    m.open("div", &[("class", Some("dt-stack"))]);
    m.open("section", &[("class", Some("dt-card")), ("aria-labelledby", Some("dt-channels-title"))]);
    m.open("div", &[("class", Some("dt-card-head"))]);
    m.element("h3", &[("id", Some("dt-channels-title"))], "Spend by channel");
    m.element("span", &[("class", Some("dt-card-note"))], &channels_note).close("div");
    write_bar_chart(&mut m, &chart);
    m.close("section");
    m.open("section", &[("class", Some("dt-card")), ("aria-labelledby", Some("dt-campaigns-title"))]);
    m.open("div", &[("class", Some("dt-card-head"))]).element(
        "h3",
        &[("id", Some("dt-campaigns-title"))],
        "Spend by campaign",
    );
    let note = format!("{} · mixed entries are split by their acquisition share", format::period(c.period));
    m.element("span", &[("class", Some("dt-card-note"))], &note).close("div");
    let head = ["Channel / campaign", "Acquisition", "Retention", "Total", "Share of spend"];
    open_table(&mut m, "Spend by channel and campaign", &head);
    let figures = |m: &mut Markup, minors: [i64; 3], strong: bool| {
        for (i, v) in minors.into_iter().enumerate() {
            m.open("td", &[("class", Some("dt-num"))]);
            if strong && i == 2 {
                m.element("strong", &[], &money(v, cur));
            } else {
                m.text(&money(v, cur));
            }
            m.close("td");
        }
        m.element("td", &[("class", Some("dt-num"))], &pct(share(minors[2])));
    };
    for ch in &c.channels {
        m.open("tr", &[("data-channel", Some(&ch.channel))]).element("th", &[("scope", Some("rowgroup"))], &ch.channel);
        figures(&mut m, [ch.acquisition_minor, ch.retention_minor, ch.total_minor], true);
        m.close("tr");
        for cp in &ch.campaigns {
            let name = if cp.campaign.is_empty() { "(no campaign)" } else { &cp.campaign };
            m.open("tr", &[("class", Some("dt-sub-row"))]).element("td", &[], name);
            figures(&mut m, [cp.acquisition_minor, cp.retention_minor, cp.total_minor], false);
            m.close("tr");
        }
    }
    m.open("tr", &[("class", Some("dt-total"))]).element("td", &[], "Total");
    figures(&mut m, [c.acquisition.spend_minor, c.retention.spend_minor, total], false);
    m.close("tr");
    close_table(&mut m);
    m.close("section").close("div");
    m.html()
}
