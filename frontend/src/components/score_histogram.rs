//! The distribution of engagement scores in ten buckets.

use super::card::open_card;
use super::column_chart::write_column_chart;
use crate::markup::Markup;
use daytwo_shared::report::EngagementReport;

/// Writes the card of the score distribution.
pub fn write_score_histogram(m: &mut Markup, r: &EngagementReport) {
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
    open_card(m, "Score distribution", "customers per score bucket");
    write_column_chart(m, "Paying customers per engagement score bucket", &columns, &["Score", "Customers"]);
    m.close("section");
}
