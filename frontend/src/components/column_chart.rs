//! Vertical column chart in SVG (the engagement score histogram), with a table alternative.

use super::data_table::write_data_table;
use crate::format::at;
use crate::markup::Markup;

const PLOT: i64 = 120;
const BASE: i64 = 138;

/// `columns`: (label under the column, value, colour class); `table_head`: [label column, value column].
pub fn write_column_chart(
    m: &mut Markup,
    title: &str,
    columns: &[(String, u64, &'static str)],
    table_head: &[&'static str],
) {
    let step = 100.0 / columns.len().max(1) as f64;
    let max = columns.iter().map(|c| c.1).max().unwrap_or(0).max(1) as i64;
    let rows: Vec<Vec<String>> = columns.iter().map(|(l, v, _)| vec![l.clone(), v.to_string()]).collect();
    let aria =
        format!("{title}. {}", rows.iter().map(|r| format!("{}: {}", r[0], r[1])).collect::<Vec<_>>().join(", "));
    let svg = [
        ("class", Some("dt-chart")),
        ("role", Some("img")),
        ("aria-label", Some(&aria[..])),
        ("width", Some("100%")),
        ("height", Some("162")),
    ];
    m.open("figure", &[]).open("svg", &svg);
    let line = [
        ("x1", Some("0")),
        ("x2", Some("100%")),
        ("y1", Some("138")),
        ("y2", Some("138")),
        ("stroke", Some("currentColor")),
        ("stroke-opacity", Some("0.15")),
    ];
    m.open("line", &line).close("line");
    for (i, (label, v, class)) in columns.iter().enumerate() {
        let h = (*v as i64 * PLOT / max).max(i64::from(*v > 0) * 2);
        let x = i as f64 * step;
        let mid = at(x + step / 2.0);
        let rect = [
            ("class", Some(*class)),
            ("x", Some(&at(x + step * 0.14)[..])),
            ("y", Some(&(BASE - h).to_string()[..])),
            ("width", Some(&at(step * 0.72)[..])),
            ("height", Some(&h.to_string()[..])),
            ("rx", Some("3")),
        ];
        m.open("g", &[]).open("rect", &rect).close("rect");
        let value_y = (BASE - h - 5).to_string();
        let value = [
            ("class", Some("dt-val")),
            ("x", Some(&mid[..])),
            ("y", Some(&value_y[..])),
            ("text-anchor", Some("middle")),
        ];
        m.element("text", &value, &v.to_string());
        let axis_y = (BASE + 16).to_string();
        let axis = [
            ("class", Some("dt-axis")),
            ("x", Some(&mid[..])),
            ("y", Some(&axis_y[..])),
            ("text-anchor", Some("middle")),
        ];
        m.element("text", &axis, label).close("g");
    }
    m.close("svg").open("details", &[("class", Some("dt-alt"))]).element("summary", &[], "Show as table");
    write_data_table(m, title, table_head, &rows);
    m.close("details").close("figure");
}
