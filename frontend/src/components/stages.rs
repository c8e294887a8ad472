//! Lifecycle: accounts per stage on the as-of day (chart and table).

use super::bar_chart::{BarChart, BarRow, Segment, write_bar_chart};
use super::card::open_card;
use super::empty_state::write_empty_state;
use crate::format::{self, count, pct};
use crate::markup::Markup;
use daytwo_shared::lifecycle::Stage;
use daytwo_shared::report::LifecycleReport;
use yew::Html;

pub fn stage_label(s: Stage) -> &'static str {
    match s {
        Stage::Prospect => "Prospect",
        Stage::Lead => "Lead",
        Stage::NewCustomer => "New customer",
        Stage::Active => "Active customer",
        Stage::AtRisk => "At risk",
        Stage::Lapsed => "Lapsed",
    }
}

pub fn stage_rows(r: &LifecycleReport) -> Vec<BarRow> {
    Stage::ALL
        .iter()
        .map(|s| {
            let n = r.stages.get(*s);
            BarRow {
                label: stage_label(*s).into(),
                segments: vec![Segment {
                    value: n as f64,
                    class: match s {
                        Stage::Prospect => "k-prospect",
                        Stage::Lead => "k-lead",
                        Stage::NewCustomer => "k-new_customer",
                        Stage::Active => "k-active",
                        Stage::AtRisk => "k-at_risk",
                        Stage::Lapsed => "k-lapsed",
                    },
                    title: format!("{}: {}", stage_label(*s), count(n)),
                    inside: None,
                }],
                value: format!("{} · {}", count(n), pct(r.share(*s))),
            }
        })
        .collect()
}

/// Accounts per stage on the report's day.
pub fn stages(r: &LifecycleReport) -> Html {
    let mut m = Markup::default();
    if r.total == 0 {
        open_card(&mut m, "Accounts by lifecycle stage", "");
        write_empty_state(&mut m, "No accounts yet", "No account had been seen by the end of this period.");
        m.close("section");
        return m.html();
    }
    let rows = stage_rows(r);
    let table: Vec<Vec<String>> =
        Stage::ALL.iter().map(|s| vec![stage_label(*s).into(), count(r.stages.get(*s)), pct(r.share(*s))]).collect();
    let title = format!("Accounts by lifecycle stage on {}", format::date(r.as_of));
    let chart = BarChart {
        title: &title,
        rows: &rows,
        max: None,
        label_width: 24.0,
        value_width: 22.0,
        legend: &[],
        table_head: &["Stage", "Accounts", "Share"],
        table_rows: &table,
    };
    open_card(
        &mut m,
        "Accounts by lifecycle stage",
        &format!("{} accounts on {}", count(r.total), format::date(r.as_of)),
    );
    write_bar_chart(&mut m, &chart);
    let also = format!(
        "Also: {} reactivated (bought again after lapsing, counted as active or at risk) and {} advocates (references, referrals, reviews, community).",
        count(r.reactivated),
        count(r.advocates)
    );
    m.element("p", &[("class", Some("dt-card-note"))], &also).close("section");
    m.html()
}
