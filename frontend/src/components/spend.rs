//! Spend by channel (chart) and by campaign (table), split into acquisition and retention.

use super::bar_chart::{BarChart, BarRow, Segment, bar_chart};
use super::empty_state::empty_state;
use crate::format::{self, money, pct};
use daytwo_shared::report::BudgetReport;
use yew::prelude::*;

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
    let campaign_rows = c.channels.iter().map(|ch| {
        html! {
            <>
                <tr data-channel={ch.channel.clone()}>
                    <th scope="rowgroup">{ ch.channel.clone() }</th>
                    <td class="dt-num">{ money(ch.acquisition_minor, cur) }</td>
                    <td class="dt-num">{ money(ch.retention_minor, cur) }</td>
                    <td class="dt-num"><strong>{ money(ch.total_minor, cur) }</strong></td>
                    <td class="dt-num">{ pct(share(ch.total_minor)) }</td>
                </tr>
                { for ch.campaigns.iter().map(|cp| html! {
                    <tr class="dt-sub-row">
                        <td>{ if cp.campaign.is_empty() { "(no campaign)".to_owned() } else { cp.campaign.clone() } }</td>
                        <td class="dt-num">{ money(cp.acquisition_minor, cur) }</td>
                        <td class="dt-num">{ money(cp.retention_minor, cur) }</td>
                        <td class="dt-num">{ money(cp.total_minor, cur) }</td>
                        <td class="dt-num">{ pct(share(cp.total_minor)) }</td>
                    </tr>
                }) }
            </>
        }
    });
    html! {
        <div class="dt-stack">
            <section class="dt-card" aria-labelledby="dt-channels-title">
                <div class="dt-card-head">
                    <h3 id="dt-channels-title">{ "Spend by channel" }</h3>
                    <span class="dt-card-note">{ format!("{} in total: {} acquisition ({}), {} retention ({})",
                        money(total, cur), money(c.acquisition.spend_minor, cur), pct(c.acquisition.share),
                        money(c.retention.spend_minor, cur), pct(c.retention.share)) }</span>
                </div>
                { bar_chart(&BarChart {
                    title: "Spend by channel, split into acquisition and retention",
                    rows: &rows,
                    max: None,
                    label_width: 26.0,
                    value_width: 20.0,
                    legend: &[("k-acq", "Acquisition"), ("k-ret", "Retention")],
                    table_head: &["Channel", "Acquisition", "Retention", "Total", "Share"],
                    table_rows: &table,
                }) }
            </section>
            <section class="dt-card" aria-labelledby="dt-campaigns-title">
                <div class="dt-card-head">
                    <h3 id="dt-campaigns-title">{ "Spend by campaign" }</h3>
                    <span class="dt-card-note">{ format!("{} · mixed entries are split by their acquisition share", format::period(c.period)) }</span>
                </div>
                <div class="dt-scroll">
                    <table class="dt-table">
                        <caption class="dt-sr">{ "Spend by channel and campaign" }</caption>
                        <thead><tr>
                            <th scope="col">{ "Channel / campaign" }</th>
                            <th scope="col" class="dt-num">{ "Acquisition" }</th>
                            <th scope="col" class="dt-num">{ "Retention" }</th>
                            <th scope="col" class="dt-num">{ "Total" }</th>
                            <th scope="col" class="dt-num">{ "Share of spend" }</th>
                        </tr></thead>
                        <tbody>
                            { for campaign_rows }
                            <tr class="dt-total">
                                <td>{ "Total" }</td>
                                <td class="dt-num">{ money(c.acquisition.spend_minor, cur) }</td>
                                <td class="dt-num">{ money(c.retention.spend_minor, cur) }</td>
                                <td class="dt-num">{ money(total, cur) }</td>
                                <td class="dt-num">{ pct(share(total)) }</td>
                            </tr>
                        </tbody>
                    </table>
                </div>
            </section>
        </div>
    }
}
