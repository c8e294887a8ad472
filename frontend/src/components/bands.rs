//! Engagement of paying customers: how many are Engaged, Neutral or Disengaged, and the average score.

use super::bar_chart::{BarChart, BarRow, Segment, bar_chart};
use super::card::card;
use super::empty_state::empty_state;
use crate::format::{self, count, fixed, pct};
use daytwo_shared::report::EngagementReport;
use yew::prelude::*;

const TITLE: &str = "Engagement of paying customers";

pub fn bands(r: &EngagementReport) -> Html {
    if r.customers == 0 {
        return card(
            TITLE,
            "",
            empty_state(
                "No paying customers to score",
                "Engagement is scored for new, active and at-risk customers; there were none on this day.",
            ),
        );
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
    card(
        TITLE,
        &format!("{} customers on {}", count(r.customers), format::date(r.as_of)),
        html! {
            <>
                <p class="dt-kpi-value" data-fact="average_score">
                    { r.average_score.map_or_else(|| format::NONE.to_owned(), |v| fixed(v, 1)) }
                    <span class="dt-card-note">{ " average score out of 100" }</span>
                </p>
                { bar_chart(&chart) }
                <p class="dt-card-note">{ "Engaged: score 65 or more; Neutral: 40 to 64; Disengaged: under 40." }</p>
            </>
        },
    )
}
