//! Vertical column chart in SVG (the engagement score histogram), with a table alternative.

use super::data_table::data_table;
use crate::format::at;
use yew::prelude::*;

const PLOT: i64 = 120;
const BASE: i64 = 138;

/// `columns`: (label under the column, value, colour class); `table_head`: [label column, value column].
pub fn column_chart(title: &str, columns: &[(String, u64, &'static str)], table_head: &[&'static str]) -> Html {
    let step = 100.0 / columns.len().max(1) as f64;
    let max = columns.iter().map(|c| c.1).max().unwrap_or(0).max(1) as i64;
    let rows: Vec<Vec<String>> = columns.iter().map(|(l, v, _)| vec![l.clone(), v.to_string()]).collect();
    let aria =
        format!("{title}. {}", rows.iter().map(|r| format!("{}: {}", r[0], r[1])).collect::<Vec<_>>().join(", "));
    let cols = columns.iter().enumerate().map(|(i, (label, v, class))| {
        let h = (*v as i64 * PLOT / max).max(i64::from(*v > 0) * 2);
        let x = i as f64 * step;
        html! {
            <g>
                <rect class={*class} x={at(x + step * 0.14)} y={(BASE - h).to_string()} width={at(step * 0.72)} height={h.to_string()} rx="3" />
                <text class="dt-val" x={at(x + step / 2.0)} y={(BASE - h - 5).to_string()} text-anchor="middle">{ v.to_string() }</text>
                <text class="dt-axis" x={at(x + step / 2.0)} y={(BASE + 16).to_string()} text-anchor="middle">{ label }</text>
            </g>
        }
    });
    html! {
        <figure>
            <svg class="dt-chart" role="img" aria-label={aria} width="100%" height="162">
                <line x1="0" x2="100%" y1="138" y2="138" stroke="currentColor" stroke-opacity="0.15" />
                { for cols }
            </svg>
            <details class="dt-alt">
                <summary>{ "Show as table" }</summary>
                { data_table(title, table_head, &rows) }
            </details>
        </figure>
    }
}
