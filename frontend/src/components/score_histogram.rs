//! The distribution of engagement scores in ten buckets.

use super::card::card;
use super::column_chart::column_chart;
use daytwo_shared::report::EngagementReport;
use yew::prelude::*;

pub fn score_histogram(r: &EngagementReport) -> Html {
    let columns: Vec<(String, u64, &'static str)> = r
        .histogram
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let label = if i == 9 { "90–100".to_owned() } else { format!("{}–{}", i * 10, i * 10 + 9) };
            // Buckets under 40 are Disengaged; 60–69 straddles Neutral and Engaged, so only those are marked.
            (label, *n, if i < 4 { "k-disengaged" } else { "k-hist" })
        })
        .collect();
    card(
        "Score distribution",
        "customers per score bucket",
        column_chart("Paying customers per engagement score bucket", &columns, &["Score", "Customers"]),
    )
}
