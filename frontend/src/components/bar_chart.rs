//! Horizontal (optionally stacked) bar chart in SVG, with an accessible name and a table alternative.
//!
//! Geometry is in percentages of the chart's width, so labels keep their size at any width: labels in the
//! left column, bars in the middle, the value after each bar.

use super::data_table::data_table;
use crate::format::at;
use yew::prelude::*;

/// One coloured part of a bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub value: f64,
    /// Colour class (`k-acq`, `k-active`, …).
    pub class: &'static str,
    /// What it is, for the tooltip and the accessible name ("Acquisition: USD 1,000.00").
    pub title: String,
    /// Text drawn inside the segment when it is wide enough ("73%").
    pub inside: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BarRow {
    pub label: String,
    pub segments: Vec<Segment>,
    /// Drawn after the bar ("12 · 40.0%").
    pub value: String,
}

/// A bar chart: its rows, scale, layout, legend and table alternative.
#[derive(Clone, Debug, PartialEq)]
pub struct BarChart<'a> {
    /// What the chart shows; the start of its accessible name.
    pub title: &'a str,
    pub rows: &'a [BarRow],
    /// Full scale; `None`: the largest row total.
    pub max: Option<f64>,
    /// Share of the width given to labels, and to the values after the bars, in percent.
    pub label_width: f64,
    pub value_width: f64,
    /// Colour keys shown under the chart.
    pub legend: &'a [(&'static str, &'static str)],
    /// The table alternative.
    pub table_head: &'a [&'static str],
    pub table_rows: &'a [Vec<String>],
}

const ROW_H: i32 = 34;
const BAR_H: i32 = 20;

/// The chart's accessible name: its title, then every row's figures.
pub fn aria_label(title: &str, rows: &[BarRow]) -> String {
    let mut s = title.to_owned();
    for r in rows {
        s.push_str(". ");
        s.push_str(&r.label);
        s.push_str(": ");
        if r.segments.len() > 1 {
            s.push_str(&r.segments.iter().map(|g| g.title.as_str()).collect::<Vec<_>>().join(", "));
        } else {
            s.push_str(&r.value);
        }
    }
    s
}

pub fn bar_chart(c: &BarChart<'_>) -> Html {
    let total = |r: &BarRow| r.segments.iter().map(|s| s.value.max(0.0)).sum::<f64>();
    let max = c.max.unwrap_or_else(|| c.rows.iter().map(total).fold(0.0, f64::max));
    let (x0, width) = (c.label_width, 100.0 - c.label_width - c.value_width);
    let rows = c.rows.iter().enumerate().map(|(i, row)| {
        let y = i as i32 * ROW_H;
        let bar_y = (y + (ROW_H - BAR_H) / 2).to_string();
        let text_y = (y + ROW_H / 2 + 4).to_string();
        let mut end = x0;
        let segments = row.segments.iter().filter(|s| s.value > 0.0 && max > 0.0).map(|s| {
            let w = s.value / max * width;
            let x = end;
            end += w;
            html! {
                <>
                    <rect class={s.class} x={at(x)} y={bar_y.clone()} width={at(w)} height="20" rx="3"><title>{ &s.title }</title></rect>
                    if let Some(t) = s.inside.as_ref().filter(|_| w >= 7.0) {
                        <text class="dt-in" x={at(x + w / 2.0)} y={text_y.clone()} text-anchor="middle">{ t }</text>
                    }
                </>
            }
        });
        html! {
            <g>
                <text x="0" y={text_y.clone()}>{ &row.label }</text>
                <rect class="dt-track" x={at(x0)} y={bar_y.clone()} width={at(width)} height="20" rx="3" />
                { for segments }
                <text class="dt-val" x={at(x0 + width)} dx="10" y={text_y}>{ &row.value }</text>
            </g>
        }
    });
    html! {
        <figure>
            <svg class="dt-chart" role="img" aria-label={aria_label(c.title, c.rows)} width="100%" height={(ROW_H * c.rows.len() as i32).to_string()}>
                { for rows }
            </svg>
            if !c.legend.is_empty() {
                <ul class="dt-legend" aria-hidden="true">
                    { for c.legend.iter().map(|(class, label)| html! { <li><i class={*class}></i>{ *label }</li> }) }
                </ul>
            }
            <details class="dt-alt">
                <summary>{ "Show as table" }</summary>
                { data_table(c.title, c.table_head, c.table_rows) }
            </details>
        </figure>
    }
}
