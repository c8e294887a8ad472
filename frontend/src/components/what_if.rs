//! What-if: a slider moves spend between acquisition and retention; the projected figures and the verdict
//! are recomputed live in the browser by the domain's own `what_if` (no round trip), so they are the
//! Worker's numbers for that move.

use super::bar_chart::{BarChart, BarRow, Segment, write_bar_chart};
use super::empty_state::empty_state;
use super::kpi::{Kpi, Polarity, write_kpis};
use super::overview::LEGEND;
use crate::format::{
    self, money, money_delta, money_opt, pct, pct0, per_unit, verdict_class, verdict_phrase, verdict_title,
};
use crate::markup::Markup;
use daytwo_shared::money::Currency;
use daytwo_shared::report::{BasisPoints, BudgetReport, Side, WhatIf, what_if_at, what_if_bounds};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The projection at a slider position (basis points of total spend, positive: acquisition → retention):
/// the domain's own what-if, so the verdict's suggestion and the slider at its position agree.
pub fn projection(r: &BudgetReport, position: BasisPoints) -> WhatIf {
    what_if_at(&r.current, position, r.verdict.tolerance_points)
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
        Side::Acquisition => ("acquisition", "retention"),
        Side::Retention => ("retention", "acquisition"),
    };
    format!("Move {} ({} of spend) from {from} to {to}", money(w.moved_minor, cur), pct(w.moved_pct_of_total))
}

/// What an arrow key and a page key move the slider by: 1 % and 10 % of total spend.
const KEY_STEP_BP: BasisPoints = 100;
const PAGE_STEP_BP: BasisPoints = 1000;

/// A position as a percentage of total spend ("12.5%").
fn position_pct(position: BasisPoints) -> String {
    pct(Some(f64::from(position) / 10_000.0))
}

/// The what-if view at slider `position` (basis points of total spend, positive: acquisition → retention);
/// `on_move` receives new positions.
pub fn what_if_view(r: &BudgetReport, position: BasisPoints, on_move: &Callback<BasisPoints>) -> Html {
    let (c, cur) = (&r.current, &r.currency);
    if c.total_spend_minor <= 0 {
        return empty_state(
            "No spend to move",
            "This period has no recorded spend, so there is nothing to reallocate.",
        );
    }
    let (lo, hi) = what_if_bounds(c);
    let w = projection(r, position);
    let pos = w.position_bp;
    let tolerance = r.verdict.tolerance_points;
    let cb = on_move.clone();
    let oninput = move |e: InputEvent| {
        if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
            cb.emit(input.value().parse().unwrap_or(0));
        }
    };
    // The slider holds every basis point (so the verdict's 12.5 % is a position), but the keyboard moves it
    // by whole percent of spend, as a reader expects of a percentage slider.
    let keys = on_move.clone();
    let onkeydown = move |e: KeyboardEvent| {
        let step = match e.key().as_str() {
            "ArrowRight" | "ArrowUp" => KEY_STEP_BP,
            "ArrowLeft" | "ArrowDown" => -KEY_STEP_BP,
            "PageUp" => PAGE_STEP_BP,
            "PageDown" => -PAGE_STEP_BP,
            "Home" => lo - pos,
            "End" => hi - pos,
            _ => return,
        };
        e.prevent_default();
        keys.emit((pos + step).clamp(lo, hi));
    };
    let suggested = r.verdict.what_if.position_bp;
    let (reset, suggest) = (on_move.reform(|_: MouseEvent| 0), on_move.reform(move |_: MouseEvent| suggested));
    let rev_delta = w.revenue_delta_minor;
    let change = w.changes_from(c);
    let kpi_delta = |delta: Option<i64>, pol| delta.map(|d| (Some(d as f64), money_delta(Some(d), cur), pol));
    let seg = |share: Option<f64>, class, name: &str| Segment {
        value: share.unwrap_or(0.0),
        class,
        title: format!("{name} {}", pct(share)),
        inside: Some(pct0(share)),
    };
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
                seg(w.retention_share(), "k-ret", "Retention"),
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
                seg(w.existing_revenue_share(), "k-old", "Existing customers"),
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
            delta: kpi_delta(Some(change.acquisition_spend_minor), Polarity::Neutral),
            note: format!("{} of spend", pct(w.acquisition_share)),
        },
        Kpi {
            id: "wi_retention_spend",
            label: "Retention spend",
            value: money(w.retention_spend_minor, cur),
            delta: kpi_delta(Some(change.retention_spend_minor), Polarity::Neutral),
            note: format!("{} of spend", pct(w.retention_share())),
        },
        Kpi {
            id: "wi_revenue_new",
            label: "Revenue, new customers",
            value: money_opt(w.acquisition_revenue_minor, cur),
            delta: kpi_delta(change.revenue_new_minor, Polarity::UpIsGood),
            note: format!("at {} per {} spent", per_unit(c.acquisition.return_per_dollar), cur.code()),
        },
        Kpi {
            id: "wi_revenue_existing",
            label: "Revenue, existing customers",
            value: money_opt(w.retention_revenue_minor, cur),
            delta: kpi_delta(change.revenue_existing_minor, Polarity::UpIsGood),
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
    // The figures after the move, static between two moves, are written as markup.
    let mut figures = Markup::default();
    write_kpis(&mut figures, &tiles, "vs now");
    let chart_section = [("class", Some("dt-card")), ("aria-labelledby", Some("dt-whatif-chart-title"))];
    figures.open("section", &chart_section).open("div", &[("class", Some("dt-card-head"))]);
    figures.element("h3", &[("id", Some("dt-whatif-chart-title"))], "Split now and after the move").close("div");
    write_bar_chart(
        &mut figures,
        &BarChart {
            title: "Spend and revenue split now and after the move, as shares",
            rows: &chart_rows,
            max: Some(1.0),
            label_width: 18.0,
            value_width: 26.0,
            legend: &LEGEND,
            table_head: &["", "Acquisition / new", "Retention / existing", "Total"],
            table_rows: &table_rows,
        },
    );
    let estimate = "A linear estimate: each side keeps its measured return per unit of spend. Not a forecast; use it to size the question.";
    figures.element("p", &[("class", Some("dt-card-note"))], estimate).close("section");
    let head = Markup::with(|m| {
        m.open("div", &[("class", Some("dt-card-head"))]);
        m.element("h3", &[("id", Some("dt-whatif-title"))], "Move budget between acquisition and retention");
        let note =
            format!("{} · projections at each side's measured return per {}", format::period(c.period), cur.code());
        m.element("span", &[("class", Some("dt-card-note"))], &note).close("div");
    });
    let scale = Markup::with(|m| {
        m.open("div", &[("class", Some("dt-scale")), ("aria-hidden", Some("true"))]);
        m.element("span", &[], &format!("← more to acquisition (up to {})", position_pct(-lo)));
        m.element("span", &[], &format!("more to retention (up to {}) →", position_pct(hi))).close("div");
    });
    let projected = Markup::with(|m| {
        m.element("span", &[("class", Some("dt-badge"))], &format!("Projected: {}", verdict_title(w.verdict_kind)));
        let sentence = projected_sentence(&w, tolerance);
        m.element("p", &[("class", Some("dt-verdict-msg")), ("data-whatif", Some("sentence"))], &sentence);
        m.element("p", &[("class", Some("dt-card-note"))], &format!("Now: {}", r.verdict.message));
    });
    html! {
        <div class="dt-stack">
            <section class="dt-card" aria-labelledby="dt-whatif-title">
                { head }
                <div class="dt-slider">
                    <label for="dt-move" class="dt-move" data-whatif="movement">{ movement(&w, cur) }</label>
                    <input id="dt-move" class="dt-range" type="range" min={lo.to_string()} max={hi.to_string()} step="1"
                        value={pos.to_string()} aria-valuetext={movement(&w, cur)} {oninput} {onkeydown} />
                    { scale }
                </div>
                <div class="dt-row">
                    <button type="button" class="dt-btn" onclick={reset} disabled={pos == 0}>{ "Reset" }</button>
                    if suggested != 0 {
                        <button type="button" class="dt-btn" onclick={suggest}>{ format!("Use the verdict's suggestion ({})", position_pct(suggested.abs())) }</button>
                    }
                </div>
            </section>
            // The live region stays in place; what it says is replaced, which is announced.
            <section class={classes!("dt-verdict", verdict_class(w.verdict_kind))} aria-live="polite" data-whatif-verdict={w.verdict_kind.as_str()}>
                { projected }
            </section>
            { figures.html() }
        </div>
    }
}
