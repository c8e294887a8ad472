//! The engagement indicators across customers: the average normalised value of each, weakest first.

use super::bar_chart::{BarChart, BarRow, Segment, write_bar_chart};
use super::card::open_card;
use crate::format::{count, fixed, order, pct0};
use crate::markup::Markup;
use daytwo_shared::report::EngagementReport;
use yew::Html;

pub fn indicators(r: &EngagementReport) -> Html {
    let list: Vec<_> = r.indicators.iter().filter(|i| i.average_normalised.is_some()).collect();
    if list.is_empty() {
        return Html::default();
    }
    let keys: Vec<f64> = list.iter().map(|i| i.average_normalised.unwrap_or(0.0)).collect();
    let list: Vec<_> = order(&keys).into_iter().map(|k| list[k]).collect();
    let rows: Vec<BarRow> = list
        .iter()
        .map(|i| BarRow {
            label: i.name.clone(),
            segments: vec![Segment {
                value: i.average_normalised.unwrap_or(0.0),
                class: "k-hist",
                title: format!("{}: {}", i.name, pct0(i.average_normalised)),
                inside: None,
            }],
            value: format!("{} · weight {}", pct0(i.average_normalised), fixed(i.weight, 1)),
        })
        .collect();
    let table: Vec<Vec<String>> = list
        .iter()
        .map(|i| vec![i.name.clone(), pct0(i.average_normalised), fixed(i.weight, 1), count(i.measured)])
        .collect();
    let chart = BarChart {
        title: "Average value of each engagement indicator across customers",
        rows: &rows,
        max: Some(1.0),
        label_width: 34.0,
        value_width: 24.0,
        legend: &[],
        table_head: &["Indicator", "Average", "Weight", "Customers measured"],
        table_rows: &table,
    };
    Markup::with(|m| {
        open_card(m, "Engagement indicators, weakest first", "average across scored customers (100% = ideal)");
        write_bar_chart(m, &chart);
        m.close("section");
    })
}
