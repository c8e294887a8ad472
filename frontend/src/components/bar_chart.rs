//! Horizontal (optionally stacked) bar chart in SVG, with an accessible name and a table alternative.
//!
//! Geometry is in percentages of the chart's width, so labels keep their size at any width: labels in the
//! left column, bars in the middle, the value after each bar.

use super::data_table::write_data_table;
use crate::format::at;
use crate::markup::Markup;

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

/// Writes the chart, its legend and its table alternative as one `<figure>`.
pub fn write_bar_chart(m: &mut Markup, c: &BarChart<'_>) {
    let total = |r: &BarRow| r.segments.iter().map(|s| s.value.max(0.0)).sum::<f64>();
    let max = c.max.unwrap_or_else(|| c.rows.iter().map(total).fold(0.0, f64::max));
    let (x0, width) = (c.label_width, 100.0 - c.label_width - c.value_width);
    let height = (ROW_H * c.rows.len() as i32).to_string();
    let aria = aria_label(c.title, c.rows);
    m.open("figure", &[]).open(
        "svg",
        &[
            ("class", Some("dt-chart")),
            ("role", Some("img")),
            ("aria-label", Some(&aria)),
            ("width", Some("100%")),
            ("height", Some(&height)),
        ],
    );
    for (i, row) in c.rows.iter().enumerate() {
        let y = i as i32 * ROW_H;
        let bar_y = (y + (ROW_H - BAR_H) / 2).to_string();
        let text_y = (y + ROW_H / 2 + 4).to_string();
        let bar = |m: &mut Markup, class: &str, x: f64, w: f64| {
            m.open(
                "rect",
                &[
                    ("class", Some(class)),
                    ("x", Some(&at(x))),
                    ("y", Some(&bar_y)),
                    ("width", Some(&at(w))),
                    ("height", Some("20")),
                    ("rx", Some("3")),
                ],
            );
        };
        m.open("g", &[]).element("text", &[("x", Some("0")), ("y", Some(&text_y))], &row.label);
        bar(m, "dt-track", x0, width);
        m.close("rect");
        let mut end = x0;
        for s in row.segments.iter().filter(|s| s.value > 0.0 && max > 0.0) {
            let w = s.value / max * width;
            let x = end;
            end += w;
            bar(m, s.class, x, w);
            m.element("title", &[], &s.title).close("rect");
            if let Some(t) = s.inside.as_ref().filter(|_| w >= 7.0) {
                let attrs = [
                    ("class", Some("dt-in")),
                    ("x", Some(&at(x + w / 2.0)[..])),
                    ("y", Some(&text_y[..])),
                    ("text-anchor", Some("middle")),
                ];
                m.element("text", &attrs, t);
            }
        }
        let attrs =
            [("class", Some("dt-val")), ("x", Some(&at(x0 + width)[..])), ("dx", Some("10")), ("y", Some(&text_y[..]))];
        m.element("text", &attrs, &row.value).close("g");
    }
    m.close("svg");
    if !c.legend.is_empty() {
        m.open("ul", &[("class", Some("dt-legend")), ("aria-hidden", Some("true"))]);
        for (class, label) in c.legend {
            m.open("li", &[]).open("i", &[("class", Some(class))]).close("i").text(label).close("li");
        }
        m.close("ul");
    }
    m.open("details", &[("class", Some("dt-alt"))]).element("summary", &[], "Show as table");
    write_data_table(m, c.title, c.table_head, c.table_rows);
    m.close("details").close("figure");
}
