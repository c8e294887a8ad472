//! What-if: a slider moves spend between acquisition and retention; the projected figures and the verdict
//! are recomputed live in the browser by the domain's own `what_if` (no round trip), so they are the
//! Worker's numbers for that move.

use super::bar_chart::{BarChart, BarRow, Segment, bar_chart};
use super::empty_state::empty_state;
use super::kpi::{Kpi, Polarity, kpis};
use super::overview::LEGEND;
use crate::format::{
    self, money, money_delta, money_opt, pct, pct0, per_unit, verdict_class, verdict_phrase, verdict_title,
};
use daytwo_shared::money::{Currency, div_round};
use daytwo_shared::report::{BudgetReport, Purpose, WhatIf, what_if};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The slider's range in whole percent of total spend: (−retention share, +acquisition share).
pub fn slider_range(r: &BudgetReport) -> (i32, i32) {
    let c = &r.current;
    let total = c.total_spend_minor;
    if total <= 0 {
        return (0, 0);
    }
    let lo = -((c.retention.spend_minor.max(0) as f64 / total as f64 * 100.0).floor() as i32);
    let hi = (c.acquisition.spend_minor.max(0) as f64 / total as f64 * 100.0).floor() as i32;
    (lo, hi)
}

/// Minor units moved for a slider position (positive: from acquisition to retention).
pub fn moved_minor(r: &BudgetReport, pct: i32) -> i64 {
    div_round(r.current.total_spend_minor.saturating_mul(i64::from(pct)), 100).unwrap_or(0)
}

/// The projection for a slider position.
pub fn projection(r: &BudgetReport, pct: i32) -> WhatIf {
    what_if(&r.current, moved_minor(r, pct), r.verdict.tolerance_points)
}

/// The slider position the verdict's own what-if suggests.
pub fn suggested_pct(r: &BudgetReport) -> i32 {
    let w = &r.verdict.what_if;
    let p = (w.moved_pct_of_total.unwrap_or(0.0) * 100.0).round() as i32;
    if w.from_purpose == Purpose::Acquisition { p } else { -p }
}

/// How the projection reads: "Acquisition would take 63.0% of spend while …: balanced."
pub fn projected_sentence(w: &WhatIf, tolerance: f64) -> String {
    let tail = match w.verdict_kind {
        daytwo_shared::report::VerdictKind::Balanced => {
            format!("balanced within {} points", format::fixed(tolerance, 0))
        }
        k => verdict_phrase(k).to_owned(),
    };
    format!(
        "Acquisition would take {} of spend while new customers would bring {} of revenue: {tail}.",
        pct(w.acquisition_share),
        pct(w.new_revenue_share)
    )
}

fn movement(w: &WhatIf, cur: &Currency) -> String {
    if w.moved_minor == 0 {
        return "Current split (nothing moved)".into();
    }
    let (from, to) = match w.from_purpose {
        Purpose::Acquisition => ("acquisition", "retention"),
        Purpose::Retention => ("retention", "acquisition"),
    };
    format!("Move {} ({} of spend) from {from} to {to}", money(w.moved_minor, cur), pct(w.moved_pct_of_total))
}

/// The what-if view at slider position `moved_pct` (whole percent of total spend, positive: acquisition →
/// retention); `on_move` receives new positions.
pub fn what_if_view(r: &BudgetReport, moved_pct: i32, on_move: &Callback<i32>) -> Html {
    let (c, cur) = (&r.current, &r.currency);
    if c.total_spend_minor <= 0 {
        return empty_state(
            "No spend to move",
            "This period has no recorded spend, so there is nothing to reallocate.",
        );
    }
    let (lo, hi) = slider_range(r);
    let pos = moved_pct.clamp(lo, hi);
    let w = projection(r, pos);
    let tolerance = r.verdict.tolerance_points;
    let cb = on_move.clone();
    let oninput = move |e: InputEvent| {
        if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
            cb.emit(input.value().parse().unwrap_or(0));
        }
    };
    let suggested = suggested_pct(r);
    let (reset, suggest) = (on_move.reform(|_: MouseEvent| 0), on_move.reform(move |_: MouseEvent| suggested));
    let rev_delta = w.revenue_delta_minor;
    let kpi_delta =
        |now: i64, then: Option<i64>, pol| then.map(|t| (Some((t - now) as f64), money_delta(Some(t - now), cur), pol));
    let seg = |share: Option<f64>, class, name: &str| Segment {
        value: share.unwrap_or(0.0),
        class,
        title: format!("{name} {}", pct(share)),
        inside: Some(pct0(share)),
    };
    let other = |s: Option<f64>| s.map(|v| 1.0 - v);
    let chart_rows = vec![
        BarRow {
            label: "Spend now".into(),
            segments: vec![
                seg(c.acquisition.share, "k-acq", "Acquisition"),
                seg(c.retention.share, "k-ret", "Retention"),
            ],
            value: money(c.total_spend_minor, cur),
        },
        BarRow {
            label: "Spend after".into(),
            segments: vec![
                seg(w.acquisition_share, "k-acq", "Acquisition"),
                seg(other(w.acquisition_share), "k-ret", "Retention"),
            ],
            value: money(w.acquisition_spend_minor + w.retention_spend_minor, cur),
        },
        BarRow {
            label: "Revenue now".into(),
            segments: vec![
                seg(c.acquisition.revenue_share, "k-new", "New customers"),
                seg(c.retention.revenue_share, "k-old", "Existing customers"),
            ],
            value: money(c.total_revenue_minor, cur),
        },
        BarRow {
            label: "Revenue after".into(),
            segments: vec![
                seg(w.new_revenue_share, "k-new", "New customers"),
                seg(other(w.new_revenue_share), "k-old", "Existing customers"),
            ],
            value: match (w.acquisition_revenue_minor, w.retention_revenue_minor) {
                (Some(a), Some(b)) => money(a + b, cur),
                _ => format::NONE.to_owned(),
            },
        },
    ];
    let tiles = [
        Kpi {
            id: "wi_acquisition_spend",
            label: "Acquisition spend",
            value: money(w.acquisition_spend_minor, cur),
            delta: kpi_delta(c.acquisition.spend_minor, Some(w.acquisition_spend_minor), Polarity::Neutral),
            note: format!("{} of spend", pct(w.acquisition_share)),
        },
        Kpi {
            id: "wi_retention_spend",
            label: "Retention spend",
            value: money(w.retention_spend_minor, cur),
            delta: kpi_delta(c.retention.spend_minor, Some(w.retention_spend_minor), Polarity::Neutral),
            note: format!("{} of spend", pct(other(w.acquisition_share))),
        },
        Kpi {
            id: "wi_revenue_new",
            label: "Revenue, new customers",
            value: money_opt(w.acquisition_revenue_minor, cur),
            delta: kpi_delta(c.acquisition.revenue_minor, w.acquisition_revenue_minor, Polarity::UpIsGood),
            note: format!("at {} per {} spent", per_unit(c.acquisition.return_per_dollar), cur.code()),
        },
        Kpi {
            id: "wi_revenue_existing",
            label: "Revenue, existing customers",
            value: money_opt(w.retention_revenue_minor, cur),
            delta: kpi_delta(c.retention.revenue_minor, w.retention_revenue_minor, Polarity::UpIsGood),
            note: format!("at {} per {} spent", per_unit(c.retention.return_per_dollar), cur.code()),
        },
        Kpi {
            id: "wi_revenue_delta",
            label: "Change in total revenue",
            value: money_delta(rev_delta, cur),
            delta: None,
            note: format!("new customers' share of revenue: {}", pct(w.new_revenue_share)),
        },
    ];
    let table_rows = chart_rows
        .iter()
        .map(|row| {
            vec![row.label.clone(), row.segments[0].title.clone(), row.segments[1].title.clone(), row.value.clone()]
        })
        .collect::<Vec<_>>();
    html! {
        <div class="dt-stack">
            <section class="dt-card" aria-labelledby="dt-whatif-title">
                <div class="dt-card-head">
                    <h3 id="dt-whatif-title">{ "Move budget between acquisition and retention" }</h3>
                    <span class="dt-card-note">{ format!("{} · projections at each side's measured return per {}", format::period(c.period), cur.code()) }</span>
                </div>
                <div class="dt-slider">
                    <label for="dt-move" class="dt-move" data-whatif="movement">{ movement(&w, cur) }</label>
                    <input id="dt-move" class="dt-range" type="range" min={lo.to_string()} max={hi.to_string()} step="1"
                        value={pos.to_string()} aria-valuetext={movement(&w, cur)} {oninput} />
                    <div class="dt-scale" aria-hidden="true">
                        <span>{ format!("← more to acquisition (up to {}%)", -lo) }</span>
                        <span>{ format!("more to retention (up to {hi}%) →") }</span>
                    </div>
                </div>
                <div class="dt-row">
                    <button type="button" class="dt-btn" onclick={reset} disabled={pos == 0}>{ "Reset" }</button>
                    if suggested != 0 {
                        <button type="button" class="dt-btn" onclick={suggest}>{ format!("Use the verdict's suggestion ({}%)", suggested.abs()) }</button>
                    }
                </div>
            </section>
            <section class={classes!("dt-verdict", verdict_class(w.verdict_kind))} aria-live="polite" data-whatif-verdict={format::verdict_code(w.verdict_kind)}>
                <span class="dt-badge">{ format!("Projected: {}", verdict_title(w.verdict_kind)) }</span>
                <p class="dt-verdict-msg" data-whatif="sentence">{ projected_sentence(&w, tolerance) }</p>
                <p class="dt-card-note">{ format!("Now: {}", r.verdict.message) }</p>
            </section>
            { kpis(&tiles, "vs now") }
            <section class="dt-card" aria-labelledby="dt-whatif-chart-title">
                <div class="dt-card-head"><h3 id="dt-whatif-chart-title">{ "Split now and after the move" }</h3></div>
                { bar_chart(&BarChart {
                    title: "Spend and revenue split now and after the move, as shares",
                    rows: &chart_rows,
                    max: Some(1.0),
                    label_width: 18.0,
                    value_width: 26.0,
                    legend: &LEGEND,
                    table_head: &["", "Acquisition / new", "Retention / existing", "Total"],
                    table_rows: &table_rows,
                }) }
                <p class="dt-card-note">{ "A linear estimate: each side keeps its measured return per unit of spend. Not a forecast; use it to size the question." }</p>
            </section>
        </div>
    }
}
