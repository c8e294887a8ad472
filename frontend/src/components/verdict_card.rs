//! The verdict: "are you overweight in acquisition?", with the numbers behind it, its what-if and the
//! seed's reference figures as context.

use crate::format::{fixed, money, money_delta, pct, points, verdict_class, verdict_phrase, verdict_title};
use crate::markup::Markup;
use daytwo_shared::config::Reference;
use daytwo_shared::money::Currency;
use daytwo_shared::report::{BudgetReport, WhatIf};

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

/// The action of the card's "Try other splits" button (`data-act`, handled by the view that holds the card).
pub const EXPLORE: &str = "explore";

/// Writes the verdict card, with `figure` (the split chart) beside it.
pub fn write_verdict_card(m: &mut Markup, r: &BudgetReport, figure: impl FnOnce(&mut Markup)) {
    let v = &r.verdict;
    let facts = [
        ("acquisition_share", "Acquisition share of spend", pct(v.acquisition_spend_share)),
        ("new_revenue_share", "New customers' share of revenue", pct(v.new_revenue_share)),
        ("difference", "Difference", points(v.difference_points)),
        ("tolerance", "Tolerance", format!("±{} pts", fixed(v.tolerance_points, 0))),
    ];
    let class = format!("dt-verdict {}", verdict_class(v.kind));
    let section = [
        ("class", Some(&class[..])),
        ("aria-labelledby", Some("dt-verdict-title")),
        ("data-verdict", Some(v.kind.as_str())),
    ];
    m.open("section", &section).open("div", &[("class", Some("dt-split"))]).open("div", &[]);
    m.element("h3", &[("id", Some("dt-verdict-title")), ("class", Some("dt-badge"))], verdict_title(v.kind));
    m.element("p", &[("class", Some("dt-verdict-msg"))], &v.message);
    m.open("dl", &[("class", Some("dt-facts"))]);
    for (id, label, value) in &facts {
        m.open("div", &[]).element("dt", &[], label).element("dd", &[("data-fact", Some(id))], value).close("div");
    }
    m.close("dl").open("p", &[("class", Some("dt-whatif-line"))]).element("strong", &[], "What if? ");
    m.text(&what_if_sentence(&v.what_if, &r.currency)).text(" ");
    let button = [("type", Some("button")), ("class", Some("dt-link dt-noprint")), ("data-act", Some(EXPLORE))];
    m.element("button", &button, "Try other splits →").close("p");
    m.element("p", &[("class", Some("dt-ref"))], &reference_sentence(&v.reference)).close("div");
    figure(m);
    m.close("div").close("section");
}
