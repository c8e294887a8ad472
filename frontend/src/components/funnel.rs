//! The prospect funnel of the period (docs/design.md §3.2) with the conversion rate of each step.

use super::bar_chart::{BarChart, BarRow, Segment, write_bar_chart};
use super::card::open_card;
use super::empty_state::write_empty_state;
use crate::format::{self, count, pct};
use crate::markup::Markup;
use daytwo_shared::report::FunnelReport;
use yew::Html;

/// Funnel steps: (name, accounts, conversion from the previous step).
pub fn funnel_steps(f: &FunnelReport) -> [(&'static str, u64, Option<f64>); 4] {
    let c = &f.conversion;
    [
        ("Awareness", f.awareness, None),
        ("Consideration", f.consideration, c.awareness_to_consideration),
        ("Lead", f.lead, c.consideration_to_lead),
        ("Purchase", f.purchase, c.lead_to_purchase),
    ]
}

/// The funnel of the period.
pub fn funnel(f: &FunnelReport) -> Html {
    let mut m = Markup::default();
    open_card(&mut m, "Prospect funnel", &format::period(f.period));
    if f.awareness == 0 {
        write_empty_state(
            &mut m,
            "No prospects in this period",
            "No account that was not yet a customer was active in this period.",
        );
        m.close("section");
        return m.html();
    }
    let steps = funnel_steps(f);
    let rows: Vec<BarRow> = steps
        .iter()
        .map(|(name, n, conv)| BarRow {
            label: (*name).into(),
            segments: vec![Segment {
                value: *n as f64,
                class: "k-funnel",
                title: format!("{name}: {}", count(*n)),
                inside: None,
            }],
            value: if *name == "Awareness" {
                count(*n)
            } else {
                format!("{} · {} from previous", count(*n), pct(*conv))
            },
        })
        .collect();
    let table: Vec<Vec<String>> = steps
        .iter()
        .map(|(name, n, conv)| {
            vec![(*name).into(), count(*n), if *name == "Awareness" { String::new() } else { pct(*conv) }]
        })
        .collect();
    let chart = BarChart {
        title: "Prospect funnel: accounts reaching each step, with the conversion from the step before",
        rows: &rows,
        max: None,
        label_width: 20.0,
        value_width: 36.0,
        legend: &[],
        table_head: &["Step", "Accounts", "Conversion from previous step"],
        table_rows: &table,
    };
    write_bar_chart(&mut m, &chart);
    let overall = format!("Overall conversion from awareness to purchase: {}.", pct(f.conversion.overall));
    m.element("p", &[("class", Some("dt-card-note")), ("data-fact", Some("overall_conversion"))], &overall);
    m.close("section");
    m.html()
}
