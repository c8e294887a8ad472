//! Engagement of paying customers: how many are Engaged, Neutral or Disengaged, and the average score.

use super::bar_chart::{BarChart, BarRow, Segment, write_bar_chart};
use super::card::open_card;
use super::empty_state::write_empty_state;
use crate::format::{self, count, fixed, pct};
use crate::markup::Markup;
use daytwo_shared::report::EngagementReport;

const TITLE: &str = "Engagement of paying customers";

/// Writes the card of the engagement bands.
pub fn write_bands(m: &mut Markup, r: &EngagementReport) {
    if r.customers == 0 {
        open_card(m, TITLE, "");
        write_empty_state(
            m,
            "No paying customers to score",
            "Engagement is scored for new, active and at-risk customers; there were none on this day.",
        );
        m.close("section");
        return;
    }
    let share = |n: u64| r.share_of_customers(n);
    let bands = [
        ("Engaged", r.bands.engaged, "k-engaged"),
        ("Neutral", r.bands.neutral, "k-neutral"),
        ("Disengaged", r.bands.disengaged, "k-disengaged"),
    ];
    let rows: Vec<BarRow> = bands
        .iter()
        .map(|(name, n, class)| BarRow {
            label: (*name).into(),
            segments: vec![Segment { value: *n as f64, class, title: format!("{name}: {}", count(*n)), inside: None }],
            value: format!("{} · {}", count(*n), pct(share(*n))),
        })
        .collect();
    let table: Vec<Vec<String>> =
        bands.iter().map(|(name, n, _)| vec![(*name).into(), count(*n), pct(share(*n))]).collect();
    let chart = BarChart {
        title: "Paying customers by engagement band",
        rows: &rows,
        max: None,
        label_width: 24.0,
        value_width: 22.0,
        legend: &[],
        table_head: &["Band", "Customers", "Share"],
        table_rows: &table,
    };
    open_card(m, TITLE, &format!("{} customers on {}", count(r.customers), format::date(r.as_of)));
    let average = r.average_score.map_or_else(|| format::NONE.to_owned(), |v| fixed(v, 1));
    m.open("p", &[("class", Some("dt-kpi-value")), ("data-fact", Some("average_score"))]).text(&average);
    m.element("span", &[("class", Some("dt-card-note"))], " average score out of 100").close("p");
    write_bar_chart(m, &chart);
    let bands = "Engaged: score 65 or more; Neutral: 40 to 64; Disengaged: under 40.";
    m.element("p", &[("class", Some("dt-card-note"))], bands).close("section");
}
