//! The verdict: "are you overweight in acquisition?", with the numbers behind it, its what-if and the
//! seed's reference figures as context.

use crate::format::{fixed, money, money_delta, pct, points, verdict_class, verdict_phrase, verdict_title};
use daytwo_shared::config::Reference;
use daytwo_shared::money::Currency;
use daytwo_shared::report::{BudgetReport, WhatIf};
use yew::prelude::*;

/// The what-if in one sentence.
pub fn what_if_sentence(w: &WhatIf, currency: &Currency) -> String {
    if w.moved_minor == 0 {
        return "There is no spend to move in this period.".into();
    }
    let delta = match w.revenue_delta_minor {
        Some(_) => format!("change revenue by {}", money_delta(w.revenue_delta_minor, currency)),
        None => "change revenue by an amount that cannot be measured (one side had no spend)".into(),
    };
    format!(
        "Moving {} ({} of spend) from {} to {}, at each side's measured return per {}, would {delta} and leave the split {}.",
        money(w.moved_minor, currency),
        pct(w.moved_pct_of_total),
        w.from_purpose.as_str(),
        w.to_purpose.as_str(),
        currency.code(),
        verdict_phrase(w.verdict_kind),
    )
}

/// "an existing customer buys with 60–80% probability, a prospect with 5–20%".
pub fn reference_sentence(r: &Reference) -> String {
    let range = |p: [f64; 2]| format!("{}–{}%", fixed(p[0] * 100.0, 0), fixed(p[1] * 100.0, 0));
    format!(
        "For context: an existing customer buys with {} probability, a prospect with {} ({}).",
        range(r.existing_customer_purchase_probability),
        range(r.prospect_purchase_probability),
        r.source
    )
}

/// The verdict card, with `figure` (the split chart) beside it; `on_explore` opens the what-if view.
pub fn verdict_card(r: &BudgetReport, on_explore: &Callback<()>, figure: Html) -> Html {
    let v = &r.verdict;
    let explore = on_explore.clone();
    let facts = [
        ("acquisition_share", "Acquisition share of spend", pct(v.acquisition_spend_share)),
        ("new_revenue_share", "New customers' share of revenue", pct(v.new_revenue_share)),
        ("difference", "Difference", points(v.difference_points)),
        ("tolerance", "Tolerance", format!("±{} pts", fixed(v.tolerance_points, 0))),
    ];
    html! {
        <section class={classes!("dt-verdict", verdict_class(v.kind))} aria-labelledby="dt-verdict-title" data-verdict={v.kind.as_str()}>
          <div class="dt-split">
           <div>
            <h3 id="dt-verdict-title" class="dt-badge">{ verdict_title(v.kind) }</h3>
            <p class="dt-verdict-msg">{ &v.message }</p>
            <dl class="dt-facts">
                { for facts.into_iter().map(|(id, label, value)| html! { <div><dt>{ label }</dt><dd data-fact={id}>{ value }</dd></div> }) }
            </dl>
            <p class="dt-whatif-line">
                <strong>{ "What if? " }</strong>{ what_if_sentence(&v.what_if, &r.currency) }{ " " }
                <button type="button" class="dt-link dt-noprint" onclick={move |_| explore.emit(())}>{ "Try other splits →" }</button>
            </p>
            <p class="dt-ref">{ reference_sentence(&v.reference) }</p>
           </div>
           { figure }
          </div>
        </section>
    }
}
