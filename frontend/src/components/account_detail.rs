//! One account in full: stage, score with its complete breakdown (every indicator's measurement,
//! normalised value, weight and points), trend, and the playbook actions with their reasons.

use super::accounts_table::{Names, account_name, indicator_name, write_score, write_trend};
use super::error_panel::error_panel;
use super::loading::loading;
use super::stages::stage_label;
use crate::format::{self, at, count, fixed, order};
use crate::markup::Markup;
use crate::services::api::Config;
use crate::state::Remote;
use daytwo_shared::money::Currency;
use daytwo_shared::report::AccountDetail;
use yew::prelude::*;

fn raw(v: Option<f64>) -> String {
    match v {
        None => format::NONE.to_owned(),
        Some(x) if (x - x.round()).abs() < 1e-9 => fixed(x, 0),
        Some(x) => fixed(x, 2),
    }
}

/// The account's facts, score breakdown and playbook actions: static, so written as markup ([`Markup`]).
fn write_body(m: &mut Markup, d: &AccountDetail, names: &Names, currency: Option<&Currency>) {
    let s = &d.summary;
    let stage = format!(
        "{}{}{}",
        stage_label(s.stage),
        if s.reactivated { " (reactivated)" } else { "" },
        if s.advocate { " · advocate" } else { "" }
    );
    let revenue = currency.map_or_else(|| s.revenue_minor.to_string(), |c| format::money(s.revenue_minor, c));
    let texts = [
        ("Revenue to date", revenue),
        ("Customer since", format::date_opt(s.first_purchase)),
        ("Last purchase", format::date_opt(s.last_purchase)),
        ("Last seen", format::date_opt(s.last_seen)),
        ("Active days (window)", count(d.activity_days_in_window as u64)),
    ];
    let fact = |m: &mut Markup, label: &str| {
        m.open("div", &[]).element("dt", &[], label).open("dd", &[]);
    };
    m.open("dl", &[("class", Some("dt-meta"))]);
    fact(m, "Stage");
    m.text(&stage).close("dd").close("div");
    fact(m, "Score");
    write_score(m, s.score, s.band);
    m.close("dd").close("div");
    fact(m, "Trend (30 d)");
    write_trend(m, s.trend);
    m.close("dd").close("div");
    for (label, value) in &texts {
        fact(m, label);
        m.text(value).close("dd").close("div");
    }
    m.close("dl");
    if !d.modules.is_empty() {
        m.open("p", &[("class", Some("dt-small"))]).element("span", &[("class", Some("dt-muted"))], "Modules: ");
        for module in &d.modules {
            m.element("span", &[("class", Some("dt-chip"))], module);
        }
        m.close("p");
    }
    m.open("div", &[("class", Some("dt-split"))]).open("div", &[]);
    m.element("h4", &[("class", Some("dt-h4"))], "Score breakdown");
    m.open("div", &[("class", Some("dt-scroll"))]).open("table", &[("class", Some("dt-table"))]);
    m.element(
        "caption",
        &[("class", Some("dt-sr"))],
        "Every engagement indicator of this account, biggest shortfall first",
    );
    m.open("thead", &[]).open("tr", &[]);
    for (i, h) in ["Indicator", "Measured", "Normalised", "Weight", "Points", "Lost"].iter().enumerate() {
        m.element("th", &[("scope", Some("col")), ("class", (i != 0 && i != 2).then_some("dt-num"))], h);
    }
    m.close("tr").close("thead").open("tbody", &[]);
    // Biggest shortfall first: what pulls the score down.
    let keys: Vec<f64> = d.breakdown.iter().map(|b| -b.shortfall).collect();
    for i in order(&keys) {
        let b = &d.breakdown[i];
        m.open("tr", &[]).element("th", &[("scope", Some("row"))], &indicator_name(names, &b.id));
        m.element("td", &[("class", Some("dt-num"))], &raw(b.raw));
        m.open("td", &[("class", Some("dt-nowrap"))]);
        if let Some(n) = b.normalised {
            let width = format!("width:{}", at(n.clamp(0.0, 1.0) * 100.0));
            m.open("span", &[("class", Some("dt-mini")), ("aria-hidden", Some("true"))]);
            m.open("span", &[("style", Some(&width))]).close("span").close("span").text(&fixed(n, 2));
        } else {
            m.text("no data");
        }
        m.close("td");
        for v in [b.weight, b.contribution, b.shortfall] {
            m.element("td", &[("class", Some("dt-num"))], &fixed(v, 1));
        }
        m.close("tr");
    }
    m.close("tbody").close("table").close("div").close("div").open("div", &[]);
    m.element("h4", &[("class", Some("dt-h4"))], "Playbook actions");
    if d.summary.actions.is_empty() {
        m.element("p", &[("class", Some("dt-muted"))], "No playbook action applies to this account.");
    } else {
        m.open("ol", &[("class", Some("dt-actions"))]);
        for a in &d.summary.actions {
            m.open("li", &[]).element("strong", &[], &a.title).text(" ");
            m.element("span", &[("class", Some("dt-chip"))], &a.channel);
            m.element("span", &[("class", Some("dt-why"))], &a.why).close("li");
        }
        m.close("ol");
    }
    m.close("div").close("div");
}

/// The drill-down card. `heading` gets the focus when the account has loaded (the app's effect).
pub fn account_detail(
    detail: &Remote<AccountDetail>,
    names: &Names,
    currency: Option<&Currency>,
    config: &Config,
    heading: &NodeRef,
    on_close: &Callback<()>,
    on_retry: &Callback<()>,
) -> Html {
    let close = on_close.clone();
    let (title, content) = match detail {
        Remote::Loading => ("Account".to_owned(), loading("Loading the account…")),
        Remote::Failed(e) => ("Account".to_owned(), error_panel(e, config, Some(on_retry))),
        Remote::Ready(d) => (account_name(&d.summary), Markup::with(|m| write_body(m, d, names, currency))),
    };
    html! {
        <section class="dt-card dt-detail" id="dt-account-detail" aria-labelledby="dt-detail-title">
            <div class="dt-card-head">
                <h3 id="dt-detail-title" tabindex="-1" ref={heading.clone()}>{ title }</h3>
                <button type="button" class="dt-btn" onclick={move |_| close.emit(())}>{ "Close" }</button>
            </div>
            { content }
        </section>
    }
}
