//! One account in full: stage, score with its complete breakdown (every indicator's measurement,
//! normalised value, weight and points), trend, and the playbook actions with their reasons.

use super::accounts_table::{Names, account_name, band_chip, indicator_name, trend_view};
use super::error_panel::error_panel;
use super::loading::loading;
use super::stages::stage_label;
use crate::format::{self, at, count, fixed, order};
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

fn body(d: &AccountDetail, names: &Names, currency: Option<&Currency>) -> Html {
    let s = &d.summary;
    let stage = format!(
        "{}{}{}",
        stage_label(s.stage),
        if s.reactivated { " (reactivated)" } else { "" },
        if s.advocate { " · advocate" } else { "" }
    );
    let meta: [(&str, Html); 8] = [
        ("Stage", html! { stage }),
        (
            "Score",
            html! { <><span class="dt-score">{ format::count_opt(s.score.map(u64::from)) }</span>{ band_chip(s.band) }</> },
        ),
        ("Trend (30 d)", trend_view(s.trend)),
        (
            "Revenue to date",
            html! { currency.map_or_else(|| s.revenue_minor.to_string(), |c| format::money(s.revenue_minor, c)) },
        ),
        ("Customer since", html! { format::date_opt(s.first_purchase) }),
        ("Last purchase", html! { format::date_opt(s.last_purchase) }),
        ("Last seen", html! { format::date_opt(s.last_seen) }),
        ("Active days (window)", html! { count(d.activity_days_in_window as u64) }),
    ];
    // Biggest shortfall first: what pulls the score down.
    let keys: Vec<f64> = d.breakdown.iter().map(|b| -b.shortfall).collect();
    let rows = order(&keys).into_iter().map(|i| {
        let b = &d.breakdown[i];
        html! {
            <tr>
                <th scope="row">{ indicator_name(names, &b.id) }</th>
                <td class="dt-num">{ raw(b.raw) }</td>
                <td class="dt-nowrap">
                    if let Some(n) = b.normalised {
                        <span class="dt-mini" aria-hidden="true"><span style={format!("width:{}", at(n.clamp(0.0, 1.0) * 100.0))}></span></span>{ fixed(n, 2) }
                    } else {
                        { "no data" }
                    }
                </td>
                <td class="dt-num">{ fixed(b.weight, 1) }</td>
                <td class="dt-num">{ fixed(b.contribution, 1) }</td>
                <td class="dt-num">{ fixed(b.shortfall, 1) }</td>
            </tr>
        }
    });
    html! {
        <>
            <dl class="dt-meta">
                { for meta.into_iter().map(|(label, value)| html! { <div><dt>{ label }</dt><dd>{ value }</dd></div> }) }
            </dl>
            if !d.modules.is_empty() {
                <p class="dt-small"><span class="dt-muted">{ "Modules: " }</span>{ for d.modules.iter().map(|m| html! { <span class="dt-chip">{ m }</span> }) }</p>
            }
            <div class="dt-split">
                <div>
                    <h4 class="dt-h4">{ "Score breakdown" }</h4>
                    <div class="dt-scroll">
                        <table class="dt-table">
                            <caption class="dt-sr">{ "Every engagement indicator of this account, biggest shortfall first" }</caption>
                            <thead><tr>
                                { for ["Indicator", "Measured", "Normalised", "Weight", "Points", "Lost"].iter().enumerate().map(|(i, h)|
                                    html! { <th scope="col" class={(i != 0 && i != 2).then_some("dt-num")}>{ *h }</th> }) }
                            </tr></thead>
                            <tbody>{ for rows }</tbody>
                        </table>
                    </div>
                </div>
                <div>
                    <h4 class="dt-h4">{ "Playbook actions" }</h4>
                    if d.summary.actions.is_empty() {
                        <p class="dt-muted">{ "No playbook action applies to this account." }</p>
                    } else {
                        <ol class="dt-actions">
                            { for d.summary.actions.iter().map(|a| html! {
                                <li><strong>{ &a.title }</strong>{ " " }<span class="dt-chip">{ &a.channel }</span><span class="dt-why">{ &a.why }</span></li>
                            }) }
                        </ol>
                    }
                </div>
            </div>
        </>
    }
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
        Remote::Ready(d) => (account_name(&d.summary), body(d, names, currency)),
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
